/* backup-device-pairing.h: two devices pair through an invitation link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The inviter makes a link (backup-device.h) and waits; the joiner opens it.
 * Both meet in the signaling store of the link under the pairing session id
 * derived from the secret, and connect a WebRTC data channel "pair" with
 * their device certificates (RtcConfiguration.certificate). The joiner pins
 * the inviter's fingerprint from the link, so it talks to the inviter or to
 * no one. On the channel (JSON text messages):
 *
 *   joiner → inviter  {"type": "pair", "version": 1, "name": JOINER,
 *                      "proof": HEX}
 *                     the proof of backup_device_compute_proof() over the
 *                     inviter's fingerprint (of the link), the joiner's (of
 *                     its DTLS certificate) and both names
 *   inviter → joiner  {"type": "accepted", "name": INVITER}, once the proof
 *                     is checked and the joiner stored; or
 *                     {"type": "refused", "reason": TEXT}, storing nothing
 *
 * The joiner then stores the inviter and closes the channel. Someone who
 * reads the signaling store but not the link can connect to the inviter but
 * cannot make the proof, and cannot pose as the inviter to the joiner.
 *
 * Both store the other with the link's signaling location and the backup
 * session id derived from the secret (backup_device_link_get_backup_session).
 */
#pragma once

#include <gio/gio.h>

#include "backup-device.h"
#include "backup-signaling-store.h"
#include "rtc-configuration.h"

G_BEGIN_DECLS

typedef enum
{
  BACKUP_DEVICE_PAIRING_INVITER,
  BACKUP_DEVICE_PAIRING_JOINER,
} BackupDevicePairingRole;

/* @config: ICE settings and this device's certificate (required).
 * @own_name: this device's name (the inviter's is the link's).
 * @folder: where the paired devices are kept (NULL: the default).
 * @timeout: seconds to wait for the other device (0: no limit).
 * The result is the device stored, its name as stored. Errors: the
 * signaling's, RTC_ERROR_FINGERPRINT_MISMATCH (the joiner met another
 * device than the link's), BACKUP_ERROR_PERMISSION (the proof was wrong),
 * BACKUP_ERROR_PROTOCOL, BACKUP_ERROR_TIMEOUT, the devices file's. */
void backup_device_pair_async (BackupDevicePairingRole role,
                               const BackupDeviceLink *link,
                               const char *own_name,
                               BackupSignalingStore *signaling,
                               const RtcConfiguration *config,
                               const char *folder,
                               guint timeout,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
BackupDevice *backup_device_pair_finish (GAsyncResult *result, GError **error);

G_END_DECLS
