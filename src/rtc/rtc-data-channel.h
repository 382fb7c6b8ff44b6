/* rtc-data-channel.h: a WebRTC data channel (RFC 8831, opened with DCEP, RFC 8832)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A channel is reliable and ordered unless created otherwise. It lives on the
 * home context of the association it runs over; signals are emitted there.
 *
 * Sending never blocks and never fails for lack of room: messages wait in the
 * channel's queue, counted by "buffered-amount", until SCTP accepts them. The
 * queue is bounded only by the sender: pace on "buffered-amount" (for
 * example stop above 1 MiB) and resume on "buffered-amount-low" (emitted when
 * the amount drops to "buffered-amount-low-threshold" or below).
 *
 * Channels announced by RtcPeerConnection::data-channel are already open.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  RTC_DATA_CHANNEL_STATE_CONNECTING,
  RTC_DATA_CHANNEL_STATE_OPEN,
  RTC_DATA_CHANNEL_STATE_CLOSING,
  RTC_DATA_CHANNEL_STATE_CLOSED,
} RtcDataChannelState;


#define RTC_TYPE_DATA_CHANNEL (rtc_data_channel_get_type ())
G_DECLARE_FINAL_TYPE (RtcDataChannel, rtc_data_channel, RTC, DATA_CHANNEL, GObject)

/* A channel that is not yet bound to an association (state CONNECTING); see
 * rtc_peer_connection_create_data_channel() and
 * rtc_sctp_transport_open_channel(). */
RtcDataChannel *rtc_data_channel_new (const char *label, const char *protocol, gboolean ordered);

const char *rtc_data_channel_get_label (RtcDataChannel *self);
const char *rtc_data_channel_get_protocol (RtcDataChannel *self);
/* The SCTP stream id, or -1 while not yet bound. */
int rtc_data_channel_get_id (RtcDataChannel *self);
gboolean rtc_data_channel_get_ordered (RtcDataChannel *self);
RtcDataChannelState rtc_data_channel_get_ready_state (RtcDataChannel *self);
guint64 rtc_data_channel_get_buffered_amount (RtcDataChannel *self);
guint64 rtc_data_channel_get_buffered_amount_low_threshold (RtcDataChannel *self);
void rtc_data_channel_set_buffered_amount_low_threshold (RtcDataChannel *self, guint64 threshold);
/* The largest message the peer accepts (0: no limit), once bound. */
guint64 rtc_data_channel_get_max_message_size (RtcDataChannel *self);

/* Queue one binary message (PPID 53; an empty one is sent as PPID 57 with one
 * zero byte). Fails with RTC_ERROR_MESSAGE_TOO_LARGE above the peer's
 * max-message-size and RTC_ERROR_CLOSED once closing. Allowed while
 * CONNECTING: the message goes out when the channel opens. */
gboolean rtc_data_channel_send_bytes (RtcDataChannel *self, GBytes *data, GError **error);
/* Same for a UTF-8 string (PPID 51, empty: 56). */
gboolean rtc_data_channel_send_text (RtcDataChannel *self, const char *text, GError **error);

/* Closes after every queued message was handed to SCTP, by resetting the
 * stream; the peer's channel then closes too. "closed" follows once the
 * stream is reset both ways (the peer answers our reset with its own), or
 * RTC_DATA_CHANNEL_CLOSE_WAIT_MS after ours if the peer's never comes, so
 * that the association is not torn down under the peer's answer. */
void rtc_data_channel_close (RtcDataChannel *self);

#define RTC_DATA_CHANNEL_CLOSE_WAIT_MS 2000

/* Why the channel closed: NULL when it was closed cleanly (by either side
 * resetting its stream, or by closing our own peer connection); the error
 * when the association ended under it (the peer closed DTLS, aborted or shut
 * down SCTP, or the path was lost), which "error" reported first. A peer's
 * clean close is the only end of a stream of unknown length. */
const GError *rtc_data_channel_get_close_error (RtcDataChannel *self);

G_END_DECLS
