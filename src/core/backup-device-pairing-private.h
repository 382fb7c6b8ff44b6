/* backup-device-pairing-private.h: for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-device-pairing.h"

G_BEGIN_DECLS

/* backup_device_pair_async() in the pairing session @session_id instead of
 * the link's (NULL: the link's): what someone who read the signaling store
 * but does not hold the link's secret could do. */
void backup_device_pair_in_session_async (BackupDevicePairingRole role,
                                          const BackupDeviceLink *link,
                                          const char *session_id,
                                          const char *own_name,
                                          BackupSignalingStore *signaling,
                                          const RtcConfiguration *config,
                                          const char *folder,
                                          guint timeout,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);

G_END_DECLS
