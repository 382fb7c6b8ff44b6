/* backup-archiver.h: streams a directory as a double, password-protected zip
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "backup-zip-encryption.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_ARCHIVER (backup_archiver_get_type ())
G_DECLARE_FINAL_TYPE (BackupArchiver, backup_archiver, BACKUP, ARCHIVER, GObject)

BackupArchiver *backup_archiver_new (GFile *source_dir, const char *outer_name,
                                     const char *password1, const char *password2);

GFile *backup_archiver_get_source_dir (BackupArchiver *self);
const char *backup_archiver_get_outer_name (BackupArchiver *self);
const char *backup_archiver_get_inner_name (BackupArchiver *self);

BackupZipEncryption backup_archiver_get_encryption (BackupArchiver *self);
void backup_archiver_set_encryption (BackupArchiver *self, BackupZipEncryption encryption);

/* With @key (BACKUP_ZIP_RANDOM_KEY_LEN bytes; NULL: off), the next writes
 * derive their salts from it and date the outer entry @mtime (seconds):
 * the same tree gives the same archive, byte for byte, so that an
 * interrupted transfer can resume. @key must be fresh for each tree (see
 * backup-zip-random.h). */
void backup_archiver_set_reproducible (BackupArchiver *self, const guint8 *key, gint64 mtime);

/* After a scan, before the next write: SHA-256 over what the scan saw of
 * every entry (name, type, mode, size, times including ctime, inode,
 * owner, link target); two scans that give the same value saw an
 * unchanged tree. FALSE without a scanned tree. */
gboolean backup_archiver_get_fingerprint (BackupArchiver *self, guint8 out[32]);

gint64 backup_archiver_get_total_bytes (BackupArchiver *self);
gint64 backup_archiver_get_bytes_done (BackupArchiver *self);
gint64 backup_archiver_get_n_entries (BackupArchiver *self);

void backup_archiver_scan_async (BackupArchiver *self, int io_priority, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean backup_archiver_scan_finish (BackupArchiver *self, GAsyncResult *result, GError **error);

void backup_archiver_write_async (BackupArchiver *self, GOutputStream *out, int io_priority,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean backup_archiver_write_finish (BackupArchiver *self, GAsyncResult *result, GError **error);

G_END_DECLS
