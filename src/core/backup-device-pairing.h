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

/* --- pairing on the local network, with a verification code ---
 *
 * The inviter hosts the signaling (backup-nearby.h) and the joiner found
 * it there; neither holds a secret of the other yet. On the channel "pair":
 *
 *   joiner → inviter  {"type": "pair-nearby", "version": 1, "name": JOINER,
 *                      "commit": HEX}   SHA-256 of the joiner's nonce
 *   inviter → joiner  {"type": "nonce", "name": INVITER, "nonce": HEX}
 *   joiner → inviter  {"type": "reveal", "nonce": HEX}
 *
 * (nonces of 16 random bytes). Both then show the verification code of
 * backup_device_compute_code() over the two certificate fingerprints the
 * DTLS handshake proved and the two nonces, and ask their user. The
 * commitment comes first so that a device in the middle, which has to
 * choose its nonce on one side before it learns the other's, matches the
 * two codes by chance only (one in a million). Each side then sends
 *
 *   {"type": "confirmed"}  or  {"type": "refused", "reason": TEXT}
 *
 * and once the inviter's user and the joiner confirmed, the inviter stores
 * the joiner and answers {"type": "accepted", "name": INVITER, "secret":
 * HEX}: the 16-byte secret of the two devices' backup session, sent on the
 * encrypted channel only. The joiner stores the inviter and closes. Both
 * store the other with the location BACKUP_NEARBY_LOCATION.
 */

/* Opaque: the question a pairing asks its user, valid until the pairing's
 * callback runs. */
typedef struct _BackupPairingQuestion BackupPairingQuestion;

/* Called once both verification codes are known: show @code ("123456"),
 * the other device's @name and @fingerprint, and answer with
 * backup_pairing_question_answer() on the pairing's main context. */
typedef void (*BackupPairingCodeFunc) (BackupPairingQuestion *question,
                                       const char *code,
                                       const char *name,
                                       const char *fingerprint,
                                       gpointer user_data);

void backup_pairing_question_answer (BackupPairingQuestion *question, gboolean confirmed);

/* As backup_device_pair_async(), on the local network. @link: the
 * inviter's own (backup_device_link_new() with BACKUP_NEARBY_LOCATION:
 * its fresh secret is the backup session's) or, for the joiner, the
 * inviter's fingerprint and name as announced (its secret is not used).
 * @signaling: the inviter's host's store. @code_func is called once; the
 * exchange then waits up to two minutes for both users. Errors as
 * backup_device_pair_async(); a code refused on either side is
 * BACKUP_ERROR_PERMISSION, nothing stored. */
void backup_device_pair_nearby_async (BackupDevicePairingRole role,
                                      const BackupDeviceLink *link,
                                      const char *own_name,
                                      BackupSignalingStore *signaling,
                                      const RtcConfiguration *config,
                                      const char *folder,
                                      guint timeout,
                                      BackupPairingCodeFunc code_func,
                                      gpointer code_data,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);

G_END_DECLS
