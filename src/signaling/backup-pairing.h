/* backup-pairing.h: two peers of a session find each other and exchange
 * their session descriptions through a signaling store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "backup-signaling-store.h"

G_BEGIN_DECLS

typedef enum
{
  BACKUP_PAIRING_ROLE_NONE,
  BACKUP_PAIRING_ROLE_OFFERER,  /* creates the offer and the data channel */
  BACKUP_PAIRING_ROLE_ANSWERER, /* answers */
} BackupPairingRole;


#define BACKUP_PAIRING_DEFAULT_TIMEOUT 120
#define BACKUP_PAIRING_MAX_SESSION_ID 128

/* A session id is 1 to 128 letters, digits, "-", "_" or "." and does not
 * start with "." (it becomes part of file names and URLs). */
gboolean backup_pairing_check_session_id (const char *session_id, GError **error);

#define BACKUP_TYPE_PAIRING (backup_pairing_get_type ())

G_DECLARE_FINAL_TYPE (BackupPairing, backup_pairing, BACKUP, PAIRING, GObject)

BackupPairing *backup_pairing_new (BackupSignalingStore *store,
                                   const char *session_id);

const char *backup_pairing_get_session_id (BackupPairing *self);
const char *backup_pairing_get_instance_id (BackupPairing *self);
const char *backup_pairing_get_remote_instance_id (BackupPairing *self);
BackupPairingRole backup_pairing_get_role (BackupPairing *self);
BackupSignalingStore *backup_pairing_get_store (BackupPairing *self);

guint backup_pairing_get_timeout (BackupPairing *self);
void backup_pairing_set_timeout (BackupPairing *self,
                                 guint seconds);
void backup_pairing_set_poll_interval (BackupPairing *self,
                                       guint min_ms,
                                       guint max_ms);

/* Checks a peer's session description before the pairing commits to that
 * peer; on failure it sets @error and returns FALSE. */
typedef gboolean (*BackupPairingCheckFunc) (const char *type,
                                            const char *sdp,
                                            gpointer user_data,
                                            GError **error);

/* A description that @func refuses is skipped with one message, as if it
 * had never been sent, and the pairing goes on waiting for a good one. */
void backup_pairing_set_description_check (BackupPairing *self,
                                           BackupPairingCheckFunc func,
                                           gpointer user_data,
                                           GDestroyNotify notify);

void backup_pairing_start_async (BackupPairing *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
BackupPairingRole backup_pairing_start_finish (BackupPairing *self,
                                               GAsyncResult *result,
                                               GError **error);

void backup_pairing_send_description (BackupPairing *self,
                                      const char *type,
                                      const char *sdp,
                                      JsonObject *extensions);
void backup_pairing_send_candidate (BackupPairing *self,
                                    const char *candidate);
JsonObject *backup_pairing_get_remote_extensions (BackupPairing *self);
guint backup_pairing_get_n_pending_sends (BackupPairing *self);

void backup_pairing_close_async (BackupPairing *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean backup_pairing_close_finish (BackupPairing *self,
                                      GAsyncResult *result,
                                      GError **error);

G_END_DECLS
