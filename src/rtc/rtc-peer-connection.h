/* rtc-peer-connection.h: a WebRTC peer connection carrying data channels only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage (everything on the thread-default context at construction, the
 * connection's home context; signals are emitted there):
 *
 *   Offerer                                   Answerer
 *   pc = rtc_peer_connection_new (config)     pc = rtc_peer_connection_new (config)
 *   ch = rtc_peer_connection_create_data_channel (pc, "data", "", &error)
 *   rtc_peer_connection_create_offer_async ()
 *     → _finish () gives the offer SDP
 *   send the offer ─────────────────────────→ rtc_peer_connection_set_remote_description
 *                                               (pc, RTC_SDP_TYPE_OFFER, sdp, &error)
 *                                             rtc_peer_connection_create_answer_async ()
 *                                               → _finish () gives the answer SDP
 *   set_remote_description (ANSWER) ←──────── send the answer
 *   Candidates: each side sends what "local-candidate" gives ("candidate:..."),
 *   the other calls rtc_peer_connection_add_remote_candidate(); candidates
 *   that arrive before the remote description are kept until it comes.
 *   Or, without trickle: wait for "gathering-done" and send
 *   rtc_peer_connection_get_local_description(), which then lists every
 *   candidate and a=end-of-candidates.
 *   "notify::connection-state" → CONNECTED; ch emits "open"; the answerer
 *   gets the channel through "data-channel" (already open).
 *   rtc_peer_connection_close () ends it cleanly (the peer's channels and
 *   connection close); rtc_peer_connection_abort (), or dropping the last
 *   reference without close(), aborts the association (the peer's channels
 *   close under them, its connection fails).
 *
 * Roles: the offerer's ICE agent is controlling; the answerer is the DTLS
 * client (a=setup:active), the offerer offers actpass and is the server
 * unless the answer says passive. The peer's certificate must match the
 * a=fingerprint of its description (else FAILED with
 * RTC_ERROR_FINGERPRINT_MISMATCH).
 *
 * Certificates: RtcConfiguration.certificate, when set, is used instead of
 * one generated for the connection; RtcConfiguration.peer_fingerprint pins
 * the peer's (a description naming another is refused by
 * rtc_peer_connection_set_remote_description()).
 */
#pragma once

#include <gio/gio.h>

#include "rtc-configuration.h"
#include "rtc-data-channel.h"
#include "rtc-ice-transport.h"
#include "rtc-sdp.h"

G_BEGIN_DECLS

typedef enum
{
  RTC_PEER_CONNECTION_STATE_NEW,
  RTC_PEER_CONNECTION_STATE_CONNECTING,
  RTC_PEER_CONNECTION_STATE_CONNECTED,
  RTC_PEER_CONNECTION_STATE_FAILED, /* final; rtc_peer_connection_get_error() tells why */
  RTC_PEER_CONNECTION_STATE_CLOSED, /* final */
} RtcPeerConnectionState;


#define RTC_TYPE_PEER_CONNECTION (rtc_peer_connection_get_type ())
G_DECLARE_FINAL_TYPE (RtcPeerConnection, rtc_peer_connection, RTC, PEER_CONNECTION, GObject)

/* @config may be NULL (defaults). It is copied. */
RtcPeerConnection *rtc_peer_connection_new (const RtcConfiguration *config);

/* Both return the local SDP at once, without waiting for candidates
 * (they follow through "local-candidate"). The certificate is generated in
 * a worker thread on first use. */
void rtc_peer_connection_create_offer_async (RtcPeerConnection *self,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
char *rtc_peer_connection_create_offer_finish (RtcPeerConnection *self,
                                               GAsyncResult *result,
                                               GError **error);
/* Needs the remote offer first. */
void rtc_peer_connection_create_answer_async (RtcPeerConnection *self,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
char *rtc_peer_connection_create_answer_finish (RtcPeerConnection *self,
                                                GAsyncResult *result,
                                                GError **error);

/* The local SDP with every candidate gathered so far (and
 * a=end-of-candidates once gathering is done); NULL before an offer or
 * answer was created. */
char *rtc_peer_connection_get_local_description (RtcPeerConnection *self);

gboolean rtc_peer_connection_set_remote_description (RtcPeerConnection *self,
                                                     RtcSdpType type,
                                                     const char *sdp,
                                                     GError **error);

/* "candidate:..." with or without "a="; an empty string or
 * "end-of-candidates" marks the end of the peer's candidates. */
gboolean rtc_peer_connection_add_remote_candidate (RtcPeerConnection *self,
                                                   const char *candidate,
                                                   GError **error);

/* The peer's certificate fingerprint ("AB:CD:…") as its description gives
 * it (DTLS refuses a peer that does not hold that certificate), or NULL
 * before the remote description. */
char *rtc_peer_connection_get_remote_fingerprint (RtcPeerConnection *self);
/* Ours, or NULL before the certificate exists. */
char *rtc_peer_connection_get_local_fingerprint (RtcPeerConnection *self);

RtcPeerConnectionState rtc_peer_connection_get_connection_state (RtcPeerConnection *self);
const GError *rtc_peer_connection_get_error (RtcPeerConnection *self);
gboolean rtc_peer_connection_is_gathering_done (RtcPeerConnection *self);

/* The ICE transport under the connection (as RTCIceTransport in the W3C
 * API), or NULL before a description is set. Owned by the connection. */
RtcIceTransport *rtc_peer_connection_get_ice_transport (RtcPeerConnection *self);

/* A reliable ordered channel, opened (DCEP) as soon as SCTP connects; it may
 * be created and even written to before. Returns a new reference. */
RtcDataChannel *rtc_peer_connection_create_data_channel (RtcPeerConnection *self,
                                                         const char *label,
                                                         const char *protocol,
                                                         GError **error);

/* The largest SCTP packet the connection sends (RTC_SCTP_PACKET_SIZE, or
 * more on a path a probe showed to carry more; see RtcConfiguration
 * .fixed_packet_size), or 0 before SCTP starts. */
guint rtc_peer_connection_get_sctp_packet_size (RtcPeerConnection *self);
/* How many SCTP associations (lanes) the connection runs: 1 until the
 * remote description is set, then the smaller of both sides'
 * RtcConfiguration.sctp_lanes (a peer that does not say: 1). Lane 0
 * carries the channels of create_data_channel() and "data-channel"; each
 * other lane carries one channel, given by "lane-channel". */
guint rtc_peer_connection_get_sctp_lanes (RtcPeerConnection *self);

/* ICE restart (RFC 8445 section 9) on a CONNECTED connection, for a path
 * that changed (an address gone, another network): a new ICE transport
 * with new credentials gathers anew and checks the peer's new candidates
 * while the old one keeps carrying what it can (silence on it no longer
 * ends the connection). When the new one connects it carries DTLS from
 * then on, without a new handshake: SCTP and the channels go on, and
 * "ice-restart-ended" is emitted (TRUE). The restart gives up ("ice-restart-ended"
 * with FALSE; the old path decides again) when the new transport fails or has not connected
 * within 15 s (or RtcConfiguration.ice_timeout_ms when shorter); the caller
 * may then start another, which gathers anew. The exchange of the new
 * parameters is the caller's (both sides restart; the ICE roles stay):
 * on "ice-restart-ready" (always from the main loop) it sends ours
 * (rtc_peer_connection_get_restart_parameters()) and it hands over the
 * peer's (rtc_peer_connection_set_remote_restart()). A second call gives
 * up the restart under way and starts another. */
gboolean rtc_peer_connection_restart_ice (RtcPeerConnection *self, GError **error);
/* Our new ICE username fragment and password (never log @pwd) and the
 * candidates gathered so far ("candidate:…"); FALSE when no restart runs. */
gboolean rtc_peer_connection_get_restart_parameters (RtcPeerConnection *self,
                                                     char **ufrag,
                                                     char **pwd,
                                                     GStrv *candidates);
/* The peer's side of a restart: all its candidates at once. Starts ours
 * first when none runs (the peer restarted first). */
gboolean rtc_peer_connection_set_remote_restart (RtcPeerConnection *self,
                                                 const char *ufrag,
                                                 const char *pwd,
                                                 const char *const *candidates,
                                                 GError **error);
/* An ICE restart is under way. */
gboolean rtc_peer_connection_is_restarting_ice (RtcPeerConnection *self);
/* Restarts that connected so far. */
guint rtc_peer_connection_get_ice_restarts (RtcPeerConnection *self);

void rtc_peer_connection_close (RtcPeerConnection *self);
/* Ends the connection at once, never cleanly: an SCTP ABORT (what is queued
 * or in flight is dropped), no stream reset, SHUTDOWN or DTLS close_notify.
 * The peer's data channels close under them with an error, as do ours. For
 * a transfer whose receiver would take a clean close for its end. The state
 * becomes CLOSED. */
void rtc_peer_connection_abort (RtcPeerConnection *self);

G_END_DECLS
