/* backup-restart-exchange.h: the ICE restarts of a connected session,
 * through the signaling store that paired it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-signaling-message.h"
#include "backup-signaling-store.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_RESTART_EXCHANGE (backup_restart_exchange_get_type ())

G_DECLARE_FINAL_TYPE (BackupRestartExchange, backup_restart_exchange, BACKUP, RESTART_EXCHANGE,
                      GObject)

/* Between two instances of this program that paired with addressed names
 * (backup_pairing_get_instance_id(), _get_remote_instance_id()). */
BackupRestartExchange *backup_restart_exchange_new (BackupSignalingStore *store,
                                                    const char *session,
                                                    const char *instance,
                                                    const char *peer);

/* Uploads our side of restart @generation, replacing our previous one. */
void backup_restart_exchange_send (BackupRestartExchange *self,
                                   guint generation,
                                   const char *ufrag,
                                   const char *pwd,
                                   const char *const *candidates);

/* While polling, the store is looked at about once a second for the
 * peer's restarts ("received", with a BackupSignalingMessage of kind
 * RESTART that the handler must not keep). */
void backup_restart_exchange_set_polling (BackupRestartExchange *self, gboolean polling);

/* Stops polling and removes our last upload from the store; completes
 * when it is gone (or could not be removed: never an error). */
void backup_restart_exchange_close_async (BackupRestartExchange *self,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
void backup_restart_exchange_close_finish (BackupRestartExchange *self,
                                           GAsyncResult *result);

G_END_DECLS
