/* backup-zip-output.h: writes one zip archive as a stream
 *
 * Entries are written one after the other: local header, data (stored or
 * deflated, then encrypted), data descriptor when the sizes or the CRC are
 * known only at the end; then the central directory. Zip64 structures are
 * used where a size, an offset or the number of entries needs them. The
 * archive is written into a buffer that the caller's flush function takes
 * whenever it is full, so nothing is ever seeked back to.
 *
 * An output is used by one worker thread; with deferred AES (below), the
 * encryption of its entries runs in the thread that takes its buffers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "backup-zip-cipher.h"
#include "backup-zip-encryption.h"

G_BEGIN_DECLS

typedef struct _BackupZipOutput BackupZipOutput;

/* Takes the @len bytes of @buffer, the output's current buffer, and
 * returns the buffer to fill next (of the same size: @buffer itself when
 * its bytes were copied out), or NULL after a failure, which the callee
 * recorded: the output then stops. */
typedef guint8 *(*BackupZipFlushFunc) (guint8 *buffer, gsize len, gpointer user_data);

typedef enum
{
  BACKUP_ZIP_METHOD_STORE,
  BACKUP_ZIP_METHOD_DEFLATE,
} BackupZipMethod;

typedef struct
{
  const char *name; /* UTF-8, '/'-separated, without a trailing '/' */
  guint32 mode;     /* st_mode: the type decides how the entry is written */
  gint64 mtime;     /* seconds */
  guint32 uid;
  guint32 gid;
  gint64 size;             /* regular files: the size announced; -1: unknown */
  BackupZipMethod method;  /* regular files only */
  const char *link_target; /* symbolic links only */
} BackupZipOutputEntry;

/* @password NULL or "": no encryption. @buffer (@buffer_size bytes) is the
 * first buffer to fill; the output does not own it. */
BackupZipOutput *backup_zip_output_new (BackupZipEncryption encryption, const char *password,
                                        guint8 *buffer, gsize buffer_size, BackupZipFlushFunc flush,
                                        gpointer user_data);
void backup_zip_output_free (BackupZipOutput *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupZipOutput, backup_zip_output_free)

/* WinZip AES entries are AE-2 (CRC 0) unless @with_crc, which makes the
 * stored ones AE-1: their CRC lets a streaming reader tell the true data
 * descriptor from the same bytes met by chance in the encrypted data. */
void backup_zip_output_set_aes_stored_crc (BackupZipOutput *out, gboolean with_crc);

/* Deferred AES: for each AES entry announced smaller than @max_size, the
 * output writes the salt and leaves the rest (password verifier,
 * encryption, authentication code) to be done later, in order, by
 * backup_zip_deferred_apply() on the flushed buffers, maybe in another
 * thread. @func receives the operations of the current buffer, each within
 * it; offsets are from the start of that buffer. Larger entries are
 * encrypted at once, as without deferral; the bytes are the same. */
typedef enum
{
  BACKUP_ZIP_DEFERRED_BEGIN, /* salt, then room for the verifier */
  BACKUP_ZIP_DEFERRED_DATA,  /* plaintext to encrypt in place */
  BACKUP_ZIP_DEFERRED_END,   /* room for the authentication code */
} BackupZipDeferredKind;

typedef struct
{
  BackupZipDeferredKind kind;
  gsize offset;
  gsize len;
} BackupZipDeferred;

typedef void (*BackupZipDeferFunc) (const BackupZipDeferred *op, gpointer user_data);

void backup_zip_output_defer_aes (BackupZipOutput *out, gint64 max_size, BackupZipDeferFunc func,
                                  gpointer user_data);

/* Applies @op to @buffer, the buffer it was recorded for. @aes carries the
 * state of the entry from one operation to the next. */
void backup_zip_deferred_apply (BackupZipAes *aes, BackupZipEncryption encryption,
                                const char *password, guint8 *buffer, const BackupZipDeferred *op);

/* All return FALSE once the flush function failed. A regular file's data
 * follows its header through backup_zip_output_write(), then
 * backup_zip_output_end_entry(); other entries are whole after their
 * header. */
gboolean backup_zip_output_add_entry (BackupZipOutput *out, const BackupZipOutputEntry *entry);
gboolean backup_zip_output_write (BackupZipOutput *out, const guint8 *data, gsize len);
gboolean backup_zip_output_end_entry (BackupZipOutput *out);

/* The whole data of a deflated entry at once, deflated already (a raw
 * deflate stream at backup_zip_output_deflate_level()), instead of
 * backup_zip_output_write(). */
gboolean backup_zip_output_write_deflated (BackupZipOutput *out, const guint8 *data, gsize len,
                                           const guint8 *deflated, gsize deflated_len);

int backup_zip_output_deflate_level (void);

/* The central directory and the end records; then the last flush. */
gboolean backup_zip_output_close (BackupZipOutput *out);

/* Bytes written so far, flushed or not. */
guint64 backup_zip_output_get_offset (BackupZipOutput *out);

G_END_DECLS
