/* rtc-data-channel-private.h: what RtcChannelRouter uses of RtcDataChannel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "rtc-data-channel.h"
#include "rtc-dcep.h"
#include "rtc-sctp-transport.h"

G_BEGIN_DECLS

/* A channel opened by the peer (state OPEN, bound to @stream). */
RtcDataChannel *rtc_data_channel_new_remote (RtcSctpTransport *sctp,
                                             guint16 stream,
                                             const RtcDcepOpen *open);
/* Binds a local channel to @stream and sends its DATA_CHANNEL_OPEN. */
gboolean rtc_data_channel_attach (RtcDataChannel *self,
                                  RtcSctpTransport *sctp,
                                  guint16 stream,
                                  GError **error);

void rtc_data_channel_handle_ack (RtcDataChannel *self);
void rtc_data_channel_handle_message (RtcDataChannel *self, guint32 ppid, GBytes *data);
/* The peer reset its outgoing stream. */
void rtc_data_channel_handle_remote_reset (RtcDataChannel *self);
/* Our outgoing reset was performed. */
void rtc_data_channel_handle_local_reset_done (RtcDataChannel *self);
/* The peer acknowledged @bytes the channel handed to SCTP (charged to the
 * oldest data of the association first: an estimate per channel, exact
 * once nothing is left in flight). */
void rtc_data_channel_handle_acked (RtcDataChannel *self, guint64 bytes);
/* SCTP has room again: hand it queued messages. */
void rtc_data_channel_flush (RtcDataChannel *self);
/* The association is gone (@error NULL: closed cleanly). Emits "error"
 * when @error is set, then "closed". */
void rtc_data_channel_detach (RtcDataChannel *self, const GError *error);
/* An error on the channel's stream (a message we refuse): emits "error". */
void rtc_data_channel_handle_error (RtcDataChannel *self, const GError *error);

G_END_DECLS
