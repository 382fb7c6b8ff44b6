/* backup-receiver-pool.h: one receiver for every paired device
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupReceiverPool serves every device paired with this one at once,
 * from one receiver's profile (its signaling options, ICE servers and
 * addresses, versions, policy, quota, and its destination folder or
 * storage). Each paired device gets a BackupRunner that keeps listening,
 * with the device's session id, signaling and pinned certificate, into a
 * storage of its own inside the destination (backup_storage_open_child():
 * the folder, or the prefix, named after the device; see
 * backup_receiver_pool_folder_name()), with the device's own policy when it
 * has one and the profile's quota. The runners share one BackupAdmission
 * (the most transfers at once; others wait) and, for devices of the local
 * network, one signaling server announced through Avahi.
 *
 * The pool follows the paired devices file: a device paired while it runs
 * is served at once, a device forgotten is dropped (a transfer of it under
 * way is cancelled, keeping what arrived to resume), a device paired again
 * (new session id or signaling) is served anew. A device whose runner stops
 * on a failure that waiting does not mend (its signaling server refuses the
 * API key, say) is tried again every minute; the others go on meanwhile.
 */
#pragma once

#include "backup-admission.h"
#include "backup-profile.h"
#include "backup-session.h"

G_BEGIN_DECLS

/* Seconds before a device whose runner stopped is tried again. */
#define BACKUP_RECEIVER_POOL_RESTART_S 60

#define BACKUP_TYPE_RECEIVER_POOL (backup_receiver_pool_get_type ())
G_DECLARE_FINAL_TYPE (BackupReceiverPool, backup_receiver_pool, BACKUP, RECEIVER_POOL, GObject)

/* @profile: a receiver's (its session id, signaling and device are not
 * used but for the API key, trust and ICE settings); @devices_folder: where
 * this device's identity and paired devices are (NULL: the default);
 * @max_transfers: 1 to BACKUP_ADMISSION_MAX. */
BackupReceiverPool *backup_receiver_pool_new (BackupProfile *profile,
                                              const char *devices_folder,
                                              guint max_transfers);

BackupAdmission *backup_receiver_pool_get_admission (BackupReceiverPool *self);
/* The names of the devices served now (NULL-terminated, free with
 * g_strfreev()). */
char **backup_receiver_pool_list_devices (BackupReceiverPool *self);

/* The folder or prefix component for the device named @name: the name,
 * with "/" and "\" as "_", and "_" before a leading "."; the device's
 * fingerprint without colons when that is not a valid received name. */
char *backup_receiver_pool_folder_name (const char *name, const char *fingerprint);

/* Serves until @cancellable is cancelled (G_IO_ERROR_CANCELLED, once every
 * runner has cleaned up), or fails at once when it cannot start: no device
 * identity (BACKUP_ERROR_NOT_FOUND), an unreadable devices file, a
 * destination that cannot be used. Blocking file reads at the start.
 *
 * Signals, on the caller's context: device-added (name), device-removed
 * (name), device-failed (name, error: its runner stopped, tried again
 * later), session-started (name, session), session-finished (name,
 * session, error or NULL). */
void backup_receiver_pool_run_async (BackupReceiverPool *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean backup_receiver_pool_run_finish (BackupReceiverPool *self,
                                          GAsyncResult *result,
                                          GError **error);

G_END_DECLS
