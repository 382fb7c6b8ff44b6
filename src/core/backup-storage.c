/* backup-storage.c: where a receiver keeps its versions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-storage.h"

G_DEFINE_INTERFACE (BackupStorageWriter, backup_storage_writer, G_TYPE_OBJECT)

static void
backup_storage_writer_default_init (BackupStorageWriterInterface *iface)
{
}

const char *
backup_storage_writer_get_name (BackupStorageWriter *self)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), NULL);

  return BACKUP_STORAGE_WRITER_GET_IFACE (self)->get_name (self);
}

gboolean
backup_storage_writer_write (BackupStorageWriter *self, const void *data, gsize len, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return BACKUP_STORAGE_WRITER_GET_IFACE (self)->write (self, data, len, error);
}

guint64
backup_storage_writer_get_bytes_written (BackupStorageWriter *self)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), 0);

  return BACKUP_STORAGE_WRITER_GET_IFACE (self)->get_bytes_written (self);
}

void
backup_storage_writer_set_origin (BackupStorageWriter *self, const char *origin)
{
  g_return_if_fail (BACKUP_IS_STORAGE_WRITER (self));

  BACKUP_STORAGE_WRITER_GET_IFACE (self)->set_origin (self, origin);
}

void
backup_storage_writer_commit_async (BackupStorageWriter *self, const guint8 *expected_sha256,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_STORAGE_WRITER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  BACKUP_STORAGE_WRITER_GET_IFACE (self)->commit_async (self, expected_sha256, cancellable,
                                                        callback, user_data);
}

gboolean
backup_storage_writer_commit_finish (BackupStorageWriter *self, GAsyncResult *result,
                                     GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  return BACKUP_STORAGE_WRITER_GET_IFACE (self)->commit_finish (self, result, error);
}

void
backup_storage_writer_abort (BackupStorageWriter *self)
{
  g_return_if_fail (BACKUP_IS_STORAGE_WRITER (self));

  BACKUP_STORAGE_WRITER_GET_IFACE (self)->abort (self);
}

gboolean
backup_storage_writer_is_resumable (BackupStorageWriter *self)
{
  BackupStorageWriterInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);

  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  return iface->is_resumable != NULL && iface->is_resumable (self);
}

guint64
backup_storage_writer_get_resume_offset (BackupStorageWriter *self)
{
  BackupStorageWriterInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), 0);

  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  return iface->get_resume_offset != NULL ? iface->get_resume_offset (self) : 0;
}

gboolean
backup_storage_writer_restart (BackupStorageWriter *self, GError **error)
{
  BackupStorageWriterInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  return iface->restart != NULL ? iface->restart (self, error) : TRUE;
}

gboolean
backup_storage_writer_keep (BackupStorageWriter *self)
{
  BackupStorageWriterInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);

  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  if (iface->keep != NULL)
    return iface->keep (self);
  iface->abort (self);
  return FALSE;
}

void
backup_storage_writer_read_kept_async (BackupStorageWriter *self, BackupStorageReadFunc func,
                                       gpointer func_data, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  BackupStorageWriterInterface *iface;

  g_return_if_fail (BACKUP_IS_STORAGE_WRITER (self));
  g_return_if_fail (func != NULL);

  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  if (iface->read_kept_async != NULL)
    {
      iface->read_kept_async (self, func, func_data, cancellable, callback, user_data);
      return;
    }
  g_task_report_new_error (self, callback, user_data, backup_storage_writer_read_kept_async,
                           G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "This storage keeps nothing to resume");
}

gboolean
backup_storage_writer_read_kept_finish (BackupStorageWriter *self, GAsyncResult *result,
                                        GError **error)
{
  BackupStorageWriterInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE_WRITER (self), FALSE);

  if (g_async_result_is_tagged (result, backup_storage_writer_read_kept_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  iface = BACKUP_STORAGE_WRITER_GET_IFACE (self);
  return iface->read_kept_finish (self, result, error);
}

/* --- BackupStorage ------------------------------------------------------- */

G_DEFINE_INTERFACE (BackupStorage, backup_storage, G_TYPE_OBJECT)

static void
backup_storage_default_init (BackupStorageInterface *iface)
{
}

char *
backup_storage_describe (BackupStorage *self)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), NULL);

  return BACKUP_STORAGE_GET_IFACE (self)->describe (self);
}

gboolean
backup_storage_check_name (BackupStorage *self, const char *name, gsize name_len, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);
  g_return_val_if_fail (name != NULL || name_len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return BACKUP_STORAGE_GET_IFACE (self)->check_name (self, name, name_len, error);
}

BackupStorageWriter *
backup_storage_begin (BackupStorage *self, const char *name, gsize name_len, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), NULL);
  g_return_val_if_fail (name != NULL || name_len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return BACKUP_STORAGE_GET_IFACE (self)->begin (self, name, name_len, error);
}

BackupStorageWriter *
backup_storage_begin_resumable (BackupStorage *self, const char *name, gsize name_len,
                                const char *id, GError **error)
{
  BackupStorageInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE (self), NULL);
  g_return_val_if_fail (name != NULL || name_len == 0, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = BACKUP_STORAGE_GET_IFACE (self);
  if (iface->begin_resumable == NULL)
    {
      g_debug ("this storage cannot resume: a plain reception");
      return iface->begin (self, name, name_len, error);
    }
  return iface->begin_resumable (self, name, name_len, id, error);
}

gboolean
backup_storage_supports_resume (BackupStorage *self)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);

  return BACKUP_STORAGE_GET_IFACE (self)->begin_resumable != NULL;
}

gboolean
backup_storage_remove_stale_parts (BackupStorage *self, GTimeSpan min_age, guint *n_removed,
                                   GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return BACKUP_STORAGE_GET_IFACE (self)->remove_stale_parts (self, min_age, n_removed, cancellable,
                                                              error);
}

guint
backup_storage_get_versions (BackupStorage *self)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), 0);

  return BACKUP_STORAGE_GET_IFACE (self)->get_versions (self);
}

void
backup_storage_set_retention (BackupStorage *self, const BackupRetention *retention)
{
  g_return_if_fail (BACKUP_IS_STORAGE (self));

  BACKUP_STORAGE_GET_IFACE (self)->set_retention (self, retention);
}

gboolean
backup_storage_get_retention (BackupStorage *self, BackupRetention *retention)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);
  g_return_val_if_fail (retention != NULL, FALSE);

  return BACKUP_STORAGE_GET_IFACE (self)->get_retention (self, retention);
}

gboolean
backup_storage_prune (BackupStorage *self, const char *name, gboolean dry_run,
                      GPtrArray **versions_out, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return BACKUP_STORAGE_GET_IFACE (self)->prune (self, name, dry_run, versions_out, cancellable,
                                                 error);
}

BackupStorage *
backup_storage_open_child (BackupStorage *self, const char *name, guint versions,
                           GError **error)
{
  BackupStorageInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (versions <= BACKUP_STORE_MAX_VERSIONS, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = BACKUP_STORAGE_GET_IFACE (self);
  if (iface->open_child == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "This storage has no storage of its own per device");
      return NULL;
    }
  if (!backup_storage_check_name (self, name, strlen (name), error))
    return NULL;
  return iface->open_child (self, name, versions, error);
}

gboolean
backup_storage_measure (BackupStorage *self, guint64 *bytes, GCancellable *cancellable,
                        GError **error)
{
  BackupStorageInterface *iface;

  g_return_val_if_fail (BACKUP_IS_STORAGE (self), FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = BACKUP_STORAGE_GET_IFACE (self);
  if (iface->measure == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "This storage cannot measure what it keeps");
      return FALSE;
    }
  return iface->measure (self, bytes, cancellable, error);
}
