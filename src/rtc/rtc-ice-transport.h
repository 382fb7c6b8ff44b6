/* rtc-ice-transport.h: ICE (RFC 8445, trickle) over libnice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One stream with one component (data channels are bundled and rtcp-muxed).
 * The transport lives on its home context, like every RtcTransport; the
 * NiceAgent runs there too.
 *
 * States: CONNECTING once connectivity checks can start (local gathering
 * started and remote credentials known), CONNECTED as soon as a pair works
 * (data flows from there), FAILED with RTC_ERROR_TIMEOUT when no pair
 * connected within RtcConfiguration.ice_timeout_ms of the first remote
 * candidate or incoming check (of the start of the checks while neither
 * has come), FAILED with
 * RTC_ERROR_TIMEOUT when the peer falls silent after CONNECTED, FAILED with
 * RTC_ERROR_ICE_FAILED when no local candidate can be gathered, CLOSED after
 * rtc_transport_close().
 *
 * Liveness: after CONNECTED, a peer from which nothing arrived for 30 s is
 * taken as gone (FAILED with RTC_ERROR_TIMEOUT), so a peer that vanished is
 * detected within RTC_ICE_CONSENT_BOUND_MS; the layers above keep an idle
 * path busy (SCTP heartbeats). Consent checks of the peer are answered.
 *
 * Sending never blocks: a packet the socket cannot take at once is dropped
 * (the layers above retransmit). The sockets get RtcConfiguration
 * .socket_buffer_size bytes of send and receive buffer (4 MiB by default;
 * beyond net.core.[rw]mem_max only with CAP_NET_ADMIN).
 *
 * RtcConfiguration.relay_only: only relayed candidates are announced (with
 * raddr 0.0.0.0, so the host address stays private) and libnice's
 * "force-relay" keeps every check and packet on the TURN relay.
 */
#pragma once

#include "rtc-configuration.h"
#include "rtc-transport.h"

G_BEGIN_DECLS

/* Upper bound for detecting a vanished peer after CONNECTED (30 s of
 * silence plus the 1 s check interval, with a margin). */
#define RTC_ICE_CONSENT_BOUND_MS 34000
/* Silence after CONNECTED that makes the transport emit "stalled" once a
 * second: the layers above send at least every 2 s (SCTP heartbeats), so
 * the path is broken or the peer gone, and an ICE restart may find a new
 * path (the peer connection's). */
#define RTC_ICE_STALL_MS 5000

#define RTC_TYPE_ICE_TRANSPORT (rtc_ice_transport_get_type ())
G_DECLARE_FINAL_TYPE (RtcIceTransport, rtc_ice_transport, RTC, ICE_TRANSPORT, RtcTransport)

RtcIceTransport *rtc_ice_transport_new (const RtcConfiguration *config, gboolean controlling);

/* Our ICE username fragment and password (for the SDP). Never log @pwd. */
void rtc_ice_transport_get_local_credentials (RtcIceTransport *self, char **ufrag, char **pwd);

/* Starts gathering local candidates (STUN and TURN names are resolved
 * asynchronously first). Emits "local-candidate" for each candidate
 * ("candidate:..." without "a=" and without line end) and "gathering-done"
 * once at the end. Fails (RTC_ERROR_FAILED) on a configuration that cannot
 * work at all: an invalid local address, an unparsable STUN or TURN server,
 * relay_only without a TURN server. STUN servers: "host:port" or
 * "stun:host:port" (libnice uses the first that resolves). */
gboolean rtc_ice_transport_gather (RtcIceTransport *self, GError **error);
gboolean rtc_ice_transport_is_gathering_done (RtcIceTransport *self);

void rtc_ice_transport_set_remote_credentials (RtcIceTransport *self,
                                               const char *ufrag,
                                               const char *pwd);

/* Accepts "candidate:..." or "a=candidate:...", with or without a trailing
 * line end. Candidates of another component than 1, mDNS ".local" hosts,
 * TCP candidates and link-local IPv6 without scope are ignored (returns TRUE
 * without adding anything); a line that cannot be parsed is an error
 * (RTC_ERROR_INVALID_CANDIDATE). */
gboolean rtc_ice_transport_add_remote_candidate (RtcIceTransport *self,
                                                 const char *candidate,
                                                 GError **error);

/* The peer will send no more candidates (end-of-candidates). */
void rtc_ice_transport_set_remote_gathering_done (RtcIceTransport *self);

void rtc_ice_transport_set_controlling (RtcIceTransport *self, gboolean controlling);
gboolean rtc_ice_transport_get_controlling (RtcIceTransport *self);

/* The selected pair for logs, e.g. "127.0.0.1:5000 host <-> 127.0.0.1:6000 host",
 * or NULL before one is selected. Also the "selected-pair" property. */
char *rtc_ice_transport_dup_selected_pair (RtcIceTransport *self);

/* TRUE while the transport reads the nominated pair's socket itself, in
 * batches, instead of through libnice (see rtc-ice-transport.c). */
gboolean rtc_ice_transport_is_receiving_directly (RtcIceTransport *self);

/* The UDP payload every path is taken to carry (a DTLS record of a
 * 1200-byte SCTP packet fits), and the largest we read from a peer (what
 * a=x-max-datagram says). */
#define RTC_ICE_BASE_DATAGRAM 1280
#define RTC_ICE_MAX_RECEIVE_DATAGRAM 65507

/* The largest datagram the peer reads, from its a=x-max-datagram (0: it
 * said nothing, so nothing larger than RTC_ICE_BASE_DATAGRAM is tried).
 * Call before the transport connects. */
void rtc_ice_transport_set_peer_max_datagram (RtcIceTransport *self, guint size);
/* The largest datagram known to reach the peer on the selected pair
 * (RTC_ICE_BASE_DATAGRAM until a probe shows more; see the "path-mtu"
 * property, notified when a probe ends). */
guint rtc_ice_transport_get_path_mtu (RtcIceTransport *self);
/* No probe runs or is still to come for the selected pair. */
gboolean rtc_ice_transport_is_path_mtu_settled (RtcIceTransport *self);

/* While held, silence does not fail the transport ("stalled" goes on):
 * an ICE restart that may replace it is under way. Releasing lets the
 * next liveness tick decide on the whole silence so far. */
void rtc_ice_transport_hold_liveness (RtcIceTransport *self, gboolean hold);

G_END_DECLS
