/* backup-restore.h: opens a received backup again
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A received backup is one of:
 *
 *   - a double zip: an outer zip (password 2) whose first entry is a zip
 *     (password 1), the form -z sends. The inner zip is streamed out of the
 *     outer one while it is read: one pass, constant memory, nothing but the
 *     restored entries is written. Should the stream fail on a stored entry
 *     whose size comes after its data (its data may hold a false end), the
 *     inner zip is copied, still encrypted, to a scratch file without a name
 *     (next to the destination, or in the temporary folder) and read again
 *     by its central directory; entries written already are kept;
 *   - a zip of one level (any zip whose first entry is not itself a zip): its
 *     entries are restored with password 2;
 *   - any other file, a plain received file: restoring copies it.
 *
 * An empty password means that level is not encrypted.
 *
 * Restoring never writes outside the destination folder: an entry whose
 * name is absolute or holds "..", a symbolic link whose target is absolute
 * or climbs out of the folder, an entry that would go through a symbolic
 * link, stop the restore with BACKUP_ERROR_INVALID_NAME before anything of
 * it is written. Only the leading components of a link target may be "..".
 * An existing file is never replaced unless @force is set; an existing
 * folder is merged into. File data goes to a hidden temporary file that
 * replaces the final name only once the entry has been read to its end and
 * its checksum (CRC-32 or AES authentication code) matched, so a damaged
 * entry leaves nothing behind. Modes (permission bits only: set-user-ID,
 * set-group-ID and sticky bits of files are dropped), modification times,
 * symbolic links and empty folders are restored; folders get their modes
 * and times once everything inside them is written. Runs of zeros are left
 * as holes.
 *
 * Errors: BACKUP_ERROR_BAD_PASSWORD (a password that does not open a level,
 * or an empty password for an encrypted level), BACKUP_ERROR_CORRUPT
 * (damaged, truncated or altered data; the message names the entry),
 * BACKUP_ERROR_INVALID_NAME (an entry that would leave the destination),
 * BACKUP_ERROR_FAILED (an unsupported entry, a folder where a file goes),
 * G_IO_ERROR_EXISTS (a file exists already and @force is not set; the
 * message names no option, the front end says how to replace it),
 * errno-based codes for the destination (BACKUP_ERROR_NO_SPACE also when the
 * scratch copy does not fit: the message says how much it needs),
 * G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  BACKUP_RESTORE_EXTRACT, /* restore into the destination */
  BACKUP_RESTORE_LIST,    /* read everything, report each entry */
  BACKUP_RESTORE_VERIFY,  /* read everything, check every checksum and name */
} BackupRestoreMode;

typedef enum
{
  BACKUP_RESTORE_KIND_UNKNOWN,
  BACKUP_RESTORE_KIND_DOUBLE_ZIP,
  BACKUP_RESTORE_KIND_ZIP,
  BACKUP_RESTORE_KIND_FILE, /* not a zip: a plain received file */
} BackupRestoreKind;

typedef struct
{
  const char *path;        /* as stored in the archive, '/'-separated */
  guint32 mode;            /* type and permission bits (st_mode) */
  guint64 size;            /* bytes of content read (regular files) */
  gint64 mtime;            /* seconds since the epoch, or G_MININT64 if unknown */
  const char *link_target; /* symbolic links only, else NULL */
} BackupRestoreEntry;

/* Called in the thread that runs the restore, once per entry after its
 * content was read (and, when extracting, written). */
typedef void (*BackupRestoreEntryFunc) (const BackupRestoreEntry *entry,
                                        gpointer                  user_data);

/* @done bytes of the archive file read out of @total. */
typedef void (*BackupRestoreProgressFunc) (guint64  done,
                                           guint64  total,
                                           gpointer user_data);

typedef struct
{
  BackupRestoreMode mode;
  const char *archive;     /* the received file */
  const char *destination; /* BACKUP_RESTORE_EXTRACT: a folder (created if missing) */
  const char *password1;   /* inner level; NULL or "" = not encrypted */
  const char *password2;   /* outer level; NULL or "" = not encrypted */
  gboolean force;          /* replace existing files */
  BackupRestoreEntryFunc entry_func;
  gpointer entry_data;
  BackupRestoreProgressFunc progress_func;
  gpointer progress_data;
} BackupRestoreParams;

typedef struct
{
  BackupRestoreKind kind;
  guint64 n_files;
  guint64 n_folders;
  guint64 n_links;
  guint64 n_bytes; /* content of the regular files */
} BackupRestoreSummary;

/* TRUE when @path starts like a zip archive (so passwords will be needed). */
gboolean backup_restore_is_zip (const char *path,
                                GError    **error);

/* Runs the restore in the calling thread (blocking: use a worker thread).
 * @progress_func is called in this thread at most ten times a second. */
gboolean backup_restore_run (const BackupRestoreParams *params,
                             BackupRestoreSummary      *summary,
                             GCancellable              *cancellable,
                             GError                   **error);

/* Runs the restore in a worker thread. @params is copied (strings
 * included). @params->entry_func is called in the worker thread;
 * @params->progress_func on the thread-default main context of the
 * caller, with the newest figures only. */
void backup_restore_run_async (const BackupRestoreParams *params,
                               GCancellable              *cancellable,
                               GAsyncReadyCallback        callback,
                               gpointer                   user_data);

gboolean backup_restore_run_finish (GAsyncResult         *result,
                                    BackupRestoreSummary *summary,
                                    GError              **error);

G_END_DECLS
