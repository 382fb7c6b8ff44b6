/* backup-reception.h: one file being received into a BackupStore
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A reception writes into a temporary file (".NAME.XXXXXX.recv.part", mode
 * 0600) in the destination directory, and holds a lock on it until it ends,
 * so that backup_store_remove_stale_parts() in this or another process
 * leaves it alone while it lives.  Nothing visible under NAME changes until
 * backup_reception_commit() succeeds: it syncs the data, rotates the older
 * versions, renames the temporary file into place and syncs the directory.
 * backup_reception_abort(), a failed write, a failed commit, or dropping
 * the last reference before commit remove the temporary file and leave
 * every existing version exactly as it was.
 *
 * A reception is used from one thread at a time; commit_async does its
 * blocking work in a worker thread and reports on the thread-default
 * main context of the caller.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_RECEPTION (backup_reception_get_type ())

G_DECLARE_FINAL_TYPE (BackupReception, backup_reception, BACKUP, RECEPTION, GObject)

/* The received name (one path component, as checked by the store). */
const char *backup_reception_get_name (BackupReception *self);

/* Appends @len bytes.  Small blocking writes; on failure (BACKUP_ERROR_NO_SPACE,
 * BACKUP_ERROR_PERMISSION, BACKUP_ERROR_IO) the temporary file is removed at
 * once and the reception cannot be used any more. */
gboolean backup_reception_write (BackupReception *self,
                                 const void *data,
                                 gsize len,
                                 GError **error);

/* A stream writing to the same temporary file, for g_output_stream_splice()
 * and friends.  Its errors are in the G_IO_ERROR domain.  Owned by @self;
 * do not close it. */
GOutputStream *backup_reception_get_output_stream (BackupReception *self);

guint64 backup_reception_get_bytes_written (BackupReception *self);

/* Blocking: fsync, rotate versions, rename into place, fsync the directory. */
gboolean backup_reception_commit (BackupReception *self,
                                  GCancellable *cancellable,
                                  GError **error);

void backup_reception_commit_async (BackupReception *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean backup_reception_commit_finish (BackupReception *self,
                                         GAsyncResult *result,
                                         GError **error);

/* The device the content came from (as its sender names itself), kept
 * with the version (an extended attribute, where the filesystem has them)
 * and reported by backup_store_prune() as BackupStoreVersion.origin. */
void backup_reception_set_origin (BackupReception *self, const char *origin);

/* Resuming (see backup_store_begin_resumable()). A resumable reception's
 * temporary file is named by the backup's id; it may start with bytes an
 * interrupted transfer of that id kept (the resume offset), and writes go
 * after them. */
gboolean backup_reception_is_resumable (BackupReception *self);
guint64 backup_reception_get_resume_offset (BackupReception *self);

/* Drops the kept bytes: the content starts over. */
gboolean backup_reception_restart (BackupReception *self, GError **error);

/* Ends an interrupted reception: a resumable one keeps its file for the
 * next transfer of the same backup (TRUE); any other is aborted (FALSE). */
gboolean backup_reception_keep (BackupReception *self);

/* Reads the kept bytes (the first resume-offset bytes) in a worker thread,
 * handing each block to @func there. */
typedef void (*BackupReceptionReadFunc) (const guint8 *data, gsize length, gpointer user_data);
void backup_reception_read_kept_async (BackupReception *self,
                                       BackupReceptionReadFunc func,
                                       gpointer func_data,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean backup_reception_read_kept_finish (BackupReception *self,
                                            GAsyncResult *result,
                                            GError **error);

/* Closes and removes the temporary file.  Does nothing after a commit or a
 * previous abort. */
void backup_reception_abort (BackupReception *self);

G_END_DECLS
