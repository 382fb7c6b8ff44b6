/* backup-storage.h: where a receiver keeps its versions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * BackupStorage is what a receiving session and the runner need from a
 * destination, whatever keeps the data: a folder (BackupStore) or a bucket
 * of S3-compatible object storage (BackupS3Store).
 *
 * - backup_storage_begin() checks a received name and starts one
 *   reception, a BackupStorageWriter.  Nothing under that name changes
 *   until the writer's commit succeeds; an abort, a failed write or commit,
 *   or dropping the last reference before commit leave every existing
 *   version as it was.
 * - backup_storage_begin_resumable() does the same for a backup that may
 *   resume; a storage that cannot resume gives a plain writer (whose
 *   backup_storage_writer_is_resumable() is FALSE), which the protocol
 *   handles as "nothing kept".
 * - After each commit the storage applies its retention policy (or keeps
 *   @versions versions) to the versions of that name.
 * - backup_storage_remove_stale_parts() removes what crashed receptions
 *   left behind.
 *
 * begin and the writer's write, abort and the resume calls are short and
 * may run on the main thread (a writer that would block on the network
 * hands its data to a thread of its own); commit is asynchronous;
 * remove_stale_parts and prune block and are meant for a worker thread.
 */
#pragma once

#include <gio/gio.h>

#include "backup-retention.h"
#include "backup-store.h"

G_BEGIN_DECLS

/* --- one reception ---------------------------------------------------------- */

#define BACKUP_TYPE_STORAGE_WRITER (backup_storage_writer_get_type ())
G_DECLARE_INTERFACE (BackupStorageWriter, backup_storage_writer, BACKUP, STORAGE_WRITER, GObject)

/* The SHA-256 of the whole content, for commit. */
#define BACKUP_STORAGE_SHA256_LEN 32

/* Reads kept bytes in a worker thread (see read_kept_async). */
typedef void (*BackupStorageReadFunc) (const guint8 *data, gsize length, gpointer user_data);

struct _BackupStorageWriterInterface
{
  GTypeInterface g_iface;

  const char *(*get_name) (BackupStorageWriter *self);
  gboolean (*write) (BackupStorageWriter *self, const void *data, gsize len, GError **error);
  guint64 (*get_bytes_written) (BackupStorageWriter *self);
  void (*set_origin) (BackupStorageWriter *self, const char *origin);
  void (*commit_async) (BackupStorageWriter *self, const guint8 *expected_sha256,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
  gboolean (*commit_finish) (BackupStorageWriter *self, GAsyncResult *result, GError **error);
  void (*abort) (BackupStorageWriter *self);

  /* Resuming; all optional (NULL: the writer cannot resume). */
  gboolean (*is_resumable) (BackupStorageWriter *self);
  guint64 (*get_resume_offset) (BackupStorageWriter *self);
  gboolean (*restart) (BackupStorageWriter *self, GError **error);
  gboolean (*keep) (BackupStorageWriter *self);
  void (*read_kept_async) (BackupStorageWriter *self, BackupStorageReadFunc func,
                           gpointer func_data, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*read_kept_finish) (BackupStorageWriter *self, GAsyncResult *result, GError **error);
};

/* The received name. */
const char *backup_storage_writer_get_name (BackupStorageWriter *self);

/* Appends @len bytes.  On failure the reception is aborted and cannot be
 * used any more. */
gboolean backup_storage_writer_write (BackupStorageWriter *self, const void *data, gsize len,
                                      GError **error);
guint64 backup_storage_writer_get_bytes_written (BackupStorageWriter *self);

/* The device the content came from, kept with the version. */
void backup_storage_writer_set_origin (BackupStorageWriter *self, const char *origin);

/* Makes the content a version.  @expected_sha256 (BACKUP_STORAGE_SHA256_LEN
 * bytes, or NULL when the protocol carries none) is the sender's hash of
 * the whole content: a writer that hashes what it keeps refuses a
 * mismatch with BACKUP_ERROR_HASH_MISMATCH and keeps nothing; one that
 * does not (the folder's, whose caller checked what it wrote) ignores it.
 * A failed commit keeps nothing and leaves every version as it was. */
void backup_storage_writer_commit_async (BackupStorageWriter *self, const guint8 *expected_sha256,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean backup_storage_writer_commit_finish (BackupStorageWriter *self, GAsyncResult *result,
                                              GError **error);

/* Drops what was written.  Does nothing after a commit or an abort. */
void backup_storage_writer_abort (BackupStorageWriter *self);

/* Resuming: see backup_reception_is_resumable() and friends.  A writer
 * that cannot resume: not resumable, offset 0, restart does nothing,
 * keep aborts and returns FALSE, read_kept fails with
 * G_IO_ERROR_NOT_SUPPORTED. */
gboolean backup_storage_writer_is_resumable (BackupStorageWriter *self);
guint64 backup_storage_writer_get_resume_offset (BackupStorageWriter *self);
gboolean backup_storage_writer_restart (BackupStorageWriter *self, GError **error);
gboolean backup_storage_writer_keep (BackupStorageWriter *self);
void backup_storage_writer_read_kept_async (BackupStorageWriter *self, BackupStorageReadFunc func,
                                            gpointer func_data, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
gboolean backup_storage_writer_read_kept_finish (BackupStorageWriter *self, GAsyncResult *result,
                                                 GError **error);

/* --- a destination ---------------------------------------------------------- */

#define BACKUP_TYPE_STORAGE (backup_storage_get_type ())
G_DECLARE_INTERFACE (BackupStorage, backup_storage, BACKUP, STORAGE, GObject)

struct _BackupStorageInterface
{
  GTypeInterface g_iface;

  char *(*describe) (BackupStorage *self);
  gboolean (*check_name) (BackupStorage *self, const char *name, gsize name_len, GError **error);
  BackupStorageWriter *(*begin) (BackupStorage *self, const char *name, gsize name_len,
                                 GError **error);
  /* Optional: NULL falls back to begin. */
  BackupStorageWriter *(*begin_resumable) (BackupStorage *self, const char *name, gsize name_len,
                                           const char *id, GError **error);
  gboolean (*remove_stale_parts) (BackupStorage *self, GTimeSpan min_age, guint *n_removed,
                                  GCancellable *cancellable, GError **error);
  guint (*get_versions) (BackupStorage *self);
  void (*set_retention) (BackupStorage *self, const BackupRetention *retention);
  gboolean (*get_retention) (BackupStorage *self, BackupRetention *retention);
  gboolean (*prune) (BackupStorage *self, const char *name, gboolean dry_run,
                     GPtrArray **versions_out, GCancellable *cancellable, GError **error);
  /* Optional (NULL: not supported). */
  BackupStorage *(*open_child) (BackupStorage *self, const char *name, guint versions,
                                GError **error);
  gboolean (*measure) (BackupStorage *self, guint64 *bytes, GCancellable *cancellable,
                       GError **error);
};

/* Where the versions go, for messages: a path, or s3://BUCKET/PREFIX. */
char *backup_storage_describe (BackupStorage *self);

/* Checks a received name (its first @name_len bytes) as begin would,
 * without starting anything.  Errors: BACKUP_ERROR_INVALID_NAME. */
gboolean backup_storage_check_name (BackupStorage *self, const char *name, gsize name_len,
                                    GError **error);

BackupStorageWriter *backup_storage_begin (BackupStorage *self, const char *name, gsize name_len,
                                           GError **error);
/* @id: 32 lower-case hex digits. */
BackupStorageWriter *backup_storage_begin_resumable (BackupStorage *self, const char *name,
                                                     gsize name_len, const char *id,
                                                     GError **error);
gboolean backup_storage_supports_resume (BackupStorage *self);

/* Blocking.  @n_removed may be NULL. */
gboolean backup_storage_remove_stale_parts (BackupStorage *self, GTimeSpan min_age,
                                            guint *n_removed, GCancellable *cancellable,
                                            GError **error);

guint backup_storage_get_versions (BackupStorage *self);
void backup_storage_set_retention (BackupStorage *self, const BackupRetention *retention);
gboolean backup_storage_get_retention (BackupStorage *self, BackupRetention *retention);

/* Blocking: as backup_store_prune(); @versions_out receives
 * BackupStoreVersion elements (file: the version's file or key). */
gboolean backup_storage_prune (BackupStorage *self, const char *name, gboolean dry_run,
                               GPtrArray **versions_out, GCancellable *cancellable, GError **error);

/* A storage of its own for one sender (a paired device) inside this one:
 * the folder's subfolder @name (created when missing), or the prefix
 * PREFIX @name "/" of a bucket.  @name is checked as a received name
 * (BACKUP_ERROR_INVALID_NAME); a storage that has no children fails with
 * G_IO_ERROR_NOT_SUPPORTED.  It keeps @versions versions (0: as many as
 * this one) and this one's policy.  Blocking (it may create a folder). */
BackupStorage *backup_storage_open_child (BackupStorage *self, const char *name, guint versions,
                                          GError **error);

/* The bytes that the versions kept take (not what receptions under way or
 * kept to resume hold), for a quota.  Blocking. */
gboolean backup_storage_measure (BackupStorage *self, guint64 *bytes, GCancellable *cancellable,
                                 GError **error);

G_END_DECLS
