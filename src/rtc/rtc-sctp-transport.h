/* rtc-sctp-transport.h: an SCTP association (usrsctp, AF_CONN) over a lower transport
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The association is set up as soon as the lower transport (normally DTLS)
 * is connected: both sides bind and connect to their SCTP ports (5000 unless
 * the SDP says otherwise), which is the simultaneous open WebRTC uses.
 *
 * It moves messages (stream, PPID, bytes) and knows nothing of data
 * channels: RtcChannelRouter runs them over it (DCEP, one channel per
 * stream), from its signals.
 *
 * Like every RtcTransport it lives on its home context; every signal is
 * emitted there, never from inside a usrsctp call.
 */
#pragma once

#include "rtc-transport.h"

G_BEGIN_DECLS

/* Packets that fit any path once DTLS, UDP, IP and TURN headers are added. */
#define RTC_SCTP_PACKET_SIZE 1200

/* Outgoing streams asked for at association set-up. */
#define RTC_SCTP_MAX_OUT_STREAMS 1024

typedef enum
{
  RTC_SCTP_SEND_OK,
  RTC_SCTP_SEND_WOULD_BLOCK, /* no room now: keep the message, retry on "writable" */
  RTC_SCTP_SEND_ERROR,
} RtcSctpSendResult;

#define RTC_TYPE_SCTP_TRANSPORT (rtc_sctp_transport_get_type ())
G_DECLARE_FINAL_TYPE (RtcSctpTransport, rtc_sctp_transport, RTC, SCTP_TRANSPORT, RtcTransport)

/* @dtls_client: TRUE when this side is the DTLS client; it then opens data
 * channels on even stream ids, the server on odd ones (RFC 8832). */
RtcSctpTransport *rtc_sctp_transport_new (RtcTransport *lower,
                                          gboolean dtls_client,
                                          guint16 local_port,
                                          guint16 remote_port);
/* The same with a smaller receive window (SO_RCVBUF) than the default 4 MiB
 * (0: the default), for associations that share a path with others. */
RtcSctpTransport *rtc_sctp_transport_new_with_window (RtcTransport *lower,
                                                      gboolean dtls_client,
                                                      guint16 local_port,
                                                      guint16 remote_port,
                                                      gsize receive_window);
/* The same with packets of up to @packet_size bytes instead of
 * RTC_SCTP_PACKET_SIZE (0: that), on a path known to carry them. The size
 * of an association's user-message fragments is fixed when it is set up. */
RtcSctpTransport *rtc_sctp_transport_new_full (RtcTransport *lower,
                                               gboolean dtls_client,
                                               guint16 local_port,
                                               guint16 remote_port,
                                               gsize receive_window,
                                               guint packet_size);
/* The largest packet the association sends. */
guint rtc_sctp_transport_get_packet_size (RtcSctpTransport *self);
/* The path takes no more than @packet_size bytes any longer: packets from
 * now on are at most that (never below RTC_SCTP_PACKET_SIZE). */
void rtc_sctp_transport_lower_packet_size (RtcSctpTransport *self, guint packet_size);
/* The association acknowledges every n-th packet it receives: 2, or 1 while
 * its smoothed RTT is long (rtc-sctp-transport.c, RTC_SCTP_PROMPT_SACK_RTT_MS). */
guint rtc_sctp_transport_get_sack_frequency (RtcSctpTransport *self);

/* @local: the largest message we accept (0: no limit beyond memory, which is
 * not recommended); @remote: the peer's a=max-message-size (0: no limit).
 * Call before the association is connected or at any time later. */
void rtc_sctp_transport_set_max_message_sizes (RtcSctpTransport *self,
                                               guint64 local,
                                               guint64 remote);
guint64 rtc_sctp_transport_get_remote_max_message_size (RtcSctpTransport *self);

/* Sends one whole message (1 byte or more) with SCTP explicit EOR.
 * RTC_SCTP_SEND_WOULD_BLOCK means the send buffer is full: nothing was
 * taken, the caller keeps the message and retries on "writable". */
RtcSctpSendResult rtc_sctp_transport_send (RtcSctpTransport *self,
                                           guint16 stream,
                                           guint32 ppid,
                                           gboolean unordered,
                                           const guint8 *data,
                                           gsize len,
                                           GError **error);

/* Resets our outgoing @stream (RFC 6525); the peer sees "stream-reset". The
 * request is retried while another reset is in progress. */
void rtc_sctp_transport_reset_stream (RtcSctpTransport *self, guint16 stream);
/* Like rtc_sctp_transport_reset_stream(), once usrsctp has no unsent or
 * unacknowledged user data on the association (SCTP_SENDER_DRY_EVENT), so
 * that everything sent before arrives before the reset. */
void rtc_sctp_transport_reset_stream_when_dry (RtcSctpTransport *self, guint16 stream);

/* TRUE on the DTLS client, whose data channels take even stream ids (the
 * server's take odd ones, RFC 8832). */
gboolean rtc_sctp_transport_is_dtls_client (RtcSctpTransport *self);
/* A send would block now: retry on "writable". */
gboolean rtc_sctp_transport_is_blocked (RtcSctpTransport *self);
/* rtc_transport_close() or rtc_sctp_transport_abort() was called. */
gboolean rtc_sctp_transport_is_closing (RtcSctpTransport *self);

/* Ends the association at once with an SCTP ABORT (never a SHUTDOWN or a
 * stream reset): what is queued or in flight is dropped, the peer's data
 * channels close under them with an error, and ours too (the state becomes
 * FAILED, RTC_ERROR_CLOSED). Unlike rtc_transport_close(), the peer cannot
 * take this for a clean end. Does nothing once CLOSED or FAILED. */
void rtc_sctp_transport_abort (RtcSctpTransport *self);

G_END_DECLS
