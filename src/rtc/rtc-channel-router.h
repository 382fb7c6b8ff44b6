/* rtc-channel-router.h: the data channels of one SCTP association
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One layer above RtcSctpTransport, which only moves messages on streams:
 * the router binds each data channel to a stream, runs DCEP (RFC 8832: a
 * DATA_CHANNEL_OPEN from the peer creates an RtcDataChannel, announced with
 * "data-channel"), and hands each channel its messages, resets,
 * acknowledgements and room to send. Channels end with the association:
 * cleanly when it is closed here, with an error when it ends under them.
 *
 * It lives on the association's home context.
 */
#pragma once

#include "rtc-data-channel.h"
#include "rtc-sctp-transport.h"

G_BEGIN_DECLS

#define RTC_TYPE_CHANNEL_ROUTER (rtc_channel_router_get_type ())
G_DECLARE_FINAL_TYPE (RtcChannelRouter, rtc_channel_router, RTC, CHANNEL_ROUTER, GObject)

RtcChannelRouter *rtc_channel_router_new (RtcSctpTransport *sctp);

/* Binds @channel (created with rtc_data_channel_new()) to a free stream id
 * of our parity and sends its DATA_CHANNEL_OPEN. Needs a connected
 * association. */
gboolean rtc_channel_router_open_channel (RtcChannelRouter *self,
                                          RtcDataChannel *channel,
                                          GError **error);

G_END_DECLS
