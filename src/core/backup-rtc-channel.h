/* backup-rtc-channel.h: a BackupChannel over a WebRTC data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-channel.h"
#include "rtc-data-channel.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_RTC_CHANNEL (backup_rtc_channel_get_type ())
G_DECLARE_FINAL_TYPE (BackupRtcChannel, backup_rtc_channel, BACKUP, RTC_CHANNEL, GObject)

/* Forwards @channel's events until the wrapper is disposed. */
BackupChannel *backup_rtc_channel_new (RtcDataChannel *channel);

G_END_DECLS
