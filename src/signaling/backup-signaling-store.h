/* backup-signaling-store.h: a store of small files shared by two peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One file of a store, as listed. */
typedef struct
{
  char *key;      /* what download and delete take */
  char *name;     /* the file name given at upload */
  gint64 created; /* creation time, microseconds since the epoch (0 if unknown) */
} BackupSignalingEntry;

#define BACKUP_TYPE_SIGNALING_ENTRY (backup_signaling_entry_get_type ())

GType backup_signaling_entry_get_type (void) G_GNUC_CONST;
BackupSignalingEntry *backup_signaling_entry_new (const char *key,
                                                  const char *name,
                                                  gint64 created);
BackupSignalingEntry *backup_signaling_entry_copy (const BackupSignalingEntry *entry);
void backup_signaling_entry_free (BackupSignalingEntry *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupSignalingEntry, backup_signaling_entry_free)

#define BACKUP_TYPE_SIGNALING_STORE (backup_signaling_store_get_type ())

G_DECLARE_INTERFACE (BackupSignalingStore, backup_signaling_store, BACKUP, SIGNALING_STORE, GObject)

struct _BackupSignalingStoreInterface
{
  GTypeInterface parent_iface;

  void (*upload_async) (BackupSignalingStore *self,
                        const char *name,
                        GBytes *contents,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
  char *(*upload_finish) (BackupSignalingStore *self,
                          GAsyncResult *result,
                          GError **error);
  void (*list_async) (BackupSignalingStore *self,
                      const char *pattern,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data);
  GPtrArray *(*list_finish) (BackupSignalingStore *self,
                             GAsyncResult *result,
                             GError **error);
  void (*download_async) (BackupSignalingStore *self,
                          const char *key,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
  GBytes *(*download_finish) (BackupSignalingStore *self,
                              GAsyncResult *result,
                              GError **error);
  void (*delete_async) (BackupSignalingStore *self,
                        const char *key,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
  gboolean (*delete_finish) (BackupSignalingStore *self,
                             GAsyncResult *result,
                             GError **error);
  guint (*get_poll_interval) (BackupSignalingStore *self);
  guint (*get_backoff) (BackupSignalingStore *self);
};

void backup_signaling_store_upload_async (BackupSignalingStore *self,
                                          const char *name,
                                          GBytes *contents,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
char *backup_signaling_store_upload_finish (BackupSignalingStore *self,
                                            GAsyncResult *result,
                                            GError **error);
void backup_signaling_store_list_async (BackupSignalingStore *self,
                                        const char *pattern,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
GPtrArray *backup_signaling_store_list_finish (BackupSignalingStore *self,
                                               GAsyncResult *result,
                                               GError **error);
void backup_signaling_store_download_async (BackupSignalingStore *self,
                                            const char *key,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
GBytes *backup_signaling_store_download_finish (BackupSignalingStore *self,
                                                GAsyncResult *result,
                                                GError **error);
void backup_signaling_store_delete_async (BackupSignalingStore *self,
                                          const char *key,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
gboolean backup_signaling_store_delete_finish (BackupSignalingStore *self,
                                               GAsyncResult *result,
                                               GError **error);
guint backup_signaling_store_get_poll_interval (BackupSignalingStore *self);
guint backup_signaling_store_get_backoff (BackupSignalingStore *self);
void backup_signaling_store_emit_changed (BackupSignalingStore *self);

G_END_DECLS
