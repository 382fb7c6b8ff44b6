/* backup-directory-store.h: signaling files in a local or shared folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-signaling-store.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_DIRECTORY_STORE (backup_directory_store_get_type ())

G_DECLARE_FINAL_TYPE (BackupDirectoryStore, backup_directory_store, BACKUP, DIRECTORY_STORE, GObject)

BackupDirectoryStore *backup_directory_store_new (const char *path,
                                                  GError **error);
const char *backup_directory_store_get_path (BackupDirectoryStore *self);
void backup_directory_store_set_expiry (BackupDirectoryStore *self,
                                        guint seconds);

G_END_DECLS
