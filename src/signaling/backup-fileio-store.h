/* backup-fileio-store.h: signaling files on a FILE.io-compatible server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-signaling-store.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_FILEIO_STORE (backup_fileio_store_get_type ())

G_DECLARE_FINAL_TYPE (BackupFileioStore, backup_fileio_store, BACKUP, FILEIO_STORE, GObject)

BackupFileioStore *backup_fileio_store_new (const char *base_url,
                                            const char *api_key,
                                            GError **error);
const char *backup_fileio_store_get_base_url (BackupFileioStore *self);
void backup_fileio_store_set_max_backoff (BackupFileioStore *self,
                                          guint seconds);
void backup_fileio_store_set_tls_database (BackupFileioStore *self,
                                           GTlsDatabase *database);

G_END_DECLS
