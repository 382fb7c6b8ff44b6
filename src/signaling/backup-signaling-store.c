/* backup-signaling-store.c: a store of small files shared by two peers
 *
 * Operations: upload a named file (the store gives back its key), list the
 * files whose name contains a pattern in creation order, download a file
 * (which consumes it) and delete one. "changed" is emitted when the store may
 * hold new files, by stores that can tell; the others are polled.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-signaling-store.h"

G_DEFINE_BOXED_TYPE (BackupSignalingEntry, backup_signaling_entry,
                     backup_signaling_entry_copy, backup_signaling_entry_free)

BackupSignalingEntry *
backup_signaling_entry_new (const char *key,
                            const char *name,
                            gint64 created)
{
  BackupSignalingEntry *entry = g_new0 (BackupSignalingEntry, 1);

  entry->key = g_strdup (key);
  entry->name = g_strdup (name);
  entry->created = created;
  return entry;
}

BackupSignalingEntry *
backup_signaling_entry_copy (const BackupSignalingEntry *entry)
{
  return backup_signaling_entry_new (entry->key, entry->name, entry->created);
}

void
backup_signaling_entry_free (BackupSignalingEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->key);
  g_free (entry->name);
  g_free (entry);
}

G_DEFINE_INTERFACE (BackupSignalingStore, backup_signaling_store, G_TYPE_OBJECT)

enum
{
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static guint
default_get_poll_interval (BackupSignalingStore *self)
{
  return 1000;
}

static guint
default_get_backoff (BackupSignalingStore *self)
{
  return 0;
}

static void
backup_signaling_store_default_init (BackupSignalingStoreInterface *iface)
{
  iface->get_poll_interval = default_get_poll_interval;
  iface->get_backoff = default_get_backoff;

  /**
   * BackupSignalingStore::changed:
   *
   * The store may hold new files. Emitted on the store's home context.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_INTERFACE (iface),
                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
}

void
backup_signaling_store_emit_changed (BackupSignalingStore *self)
{
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (self));

  g_signal_emit (self, signals[CHANGED], 0);
}

#define IFACE(self) BACKUP_SIGNALING_STORE_GET_IFACE (self)

void
backup_signaling_store_upload_async (BackupSignalingStore *self,
                                     const char *name,
                                     GBytes *contents,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (self));
  g_return_if_fail (name != NULL && contents != NULL);

  IFACE (self)->upload_async (self, name, contents, cancellable, callback, user_data);
}

/* Returns: (transfer full): the key of the new file */
char *
backup_signaling_store_upload_finish (BackupSignalingStore *self,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), NULL);

  return IFACE (self)->upload_finish (self, result, error);
}

void
backup_signaling_store_list_async (BackupSignalingStore *self,
                                   const char *pattern,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (self));
  g_return_if_fail (pattern != NULL);

  IFACE (self)->list_async (self, pattern, cancellable, callback, user_data);
}

/* Returns: (transfer container) (element-type BackupSignalingEntry): the
 * files whose name contains the pattern, oldest first */
GPtrArray *
backup_signaling_store_list_finish (BackupSignalingStore *self,
                                    GAsyncResult *result,
                                    GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), NULL);

  return IFACE (self)->list_finish (self, result, error);
}

void
backup_signaling_store_download_async (BackupSignalingStore *self,
                                       const char *key,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (self));
  g_return_if_fail (key != NULL);

  IFACE (self)->download_async (self, key, cancellable, callback, user_data);
}

/* The file is gone from the store once downloaded. */
GBytes *
backup_signaling_store_download_finish (BackupSignalingStore *self,
                                        GAsyncResult *result,
                                        GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), NULL);

  return IFACE (self)->download_finish (self, result, error);
}

void
backup_signaling_store_delete_async (BackupSignalingStore *self,
                                     const char *key,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (self));
  g_return_if_fail (key != NULL);

  IFACE (self)->delete_async (self, key, cancellable, callback, user_data);
}

/* A file that is already gone fails with BACKUP_SIGNALING_ERROR_NOT_FOUND. */
gboolean
backup_signaling_store_delete_finish (BackupSignalingStore *self,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), FALSE);

  return IFACE (self)->delete_finish (self, result, error);
}

/* The interval, in milliseconds, at which polling this store makes sense. */
guint
backup_signaling_store_get_poll_interval (BackupSignalingStore *self)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), 1000);

  return IFACE (self)->get_poll_interval (self);
}

/* How long, in milliseconds, the store asks its users to wait before the
 * next request (a server that said "too many requests"), or 0. */
guint
backup_signaling_store_get_backoff (BackupSignalingStore *self)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (self), 0);

  return IFACE (self)->get_backoff (self);
}
