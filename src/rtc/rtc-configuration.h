/* rtc-configuration.h: settings shared by a peer connection and its ICE transport
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "rtc-certificate.h"

G_BEGIN_DECLS

#define RTC_TYPE_CONFIGURATION (rtc_configuration_get_type ())

typedef struct
{
  /* "host:port" or "stun:host:port"; names are resolved asynchronously. */
  GStrv stun_servers;
  /* "turn:user:password@host:port" or "turn:user:password@host:port?transport=tcp"
   * (user and password percent-decoded). */
  GStrv turn_servers;
  /* Local IP addresses ICE may use. Empty: every interface except loopback, as
   * libnice gathers by default. */
  GStrv local_addresses;
  /* Only relayed candidates (ICE transport policy "relay"). */
  gboolean relay_only;
  /* Time allowed to connect a candidate pair, counted from the first remote
   * candidate or incoming check (before one arrives, from the start of the
   * connectivity checks), and then again for DTLS and SCTP to come up; 0
   * means the default (30 s). */
  guint ice_timeout_ms;
  /* SO_RCVBUF / SO_SNDBUF for the ICE sockets; 0 means the default (4 MiB). */
  guint socket_buffer_size;
  /* Our a=max-message-size; 0 means the default (262144). */
  guint64 max_message_size;
  /* SCTP associations to offer or accept over the one DTLS transport, each
   * with its own congestion window (a=x-sctp-lanes, understood by this
   * program only; others always get one). 0 or 1: one. The peer connection
   * runs the smaller of the two sides' counts; the extra ones carry only the
   * channels of "lane-channel". */
  guint sctp_lanes;
  /* Keep every packet within RTC_ICE_BASE_DATAGRAM bytes, as versions
   * before path MTU discovery did: say no a=x-max-datagram and probe
   * nothing. Otherwise a peer that says it reads larger datagrams is sent
   * packets as large as a probe of the selected pair shows it carries. */
  gboolean fixed_packet_size;
  /* The certificate for DTLS (a reference), or NULL: a fresh one for each
   * peer connection. */
  RtcCertificate *certificate;
  /* The only SHA-256 fingerprint the peer may present ("AB:CD:…", any
   * case), or NULL: whatever its description says. A description with
   * another fingerprint is refused with RTC_ERROR_FINGERPRINT_MISMATCH. */
  char *peer_fingerprint;
} RtcConfiguration;

GType rtc_configuration_get_type (void) G_GNUC_CONST;

/* The one parser of the server URLs above (also used to check them before
 * any network activity). A STUN server: "HOST[:PORT]" or "stun:HOST[:PORT]".
 * A TURN server: "turn:USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]",
 * user and password percent-encoded, scheme and transport in any case. HOST
 * is a name, an IPv4 address or an IPv6 address in brackets; PORT defaults
 * to 3478. Errors are RTC_ERROR_FAILED; a TURN error never repeats
 * the URL, which holds a password. Out arguments may be NULL. */
#define RTC_CONFIGURATION_DEFAULT_SERVER_PORT 3478

gboolean rtc_configuration_parse_stun_server (const char *url,
                                              char **host,
                                              guint16 *port,
                                              GError **error);
gboolean rtc_configuration_parse_turn_server (const char *url,
                                              char **user,
                                              char **password,
                                              char **host,
                                              guint16 *port,
                                              gboolean *tcp,
                                              GError **error);
/* An entry of local_addresses: an IP address literal. */
gboolean rtc_configuration_check_local_address (const char *text, GError **error);
/* Every server and address above parses, relay_only has a TURN server, and
 * peer_fingerprint is one. */
gboolean rtc_configuration_validate (const RtcConfiguration *config, GError **error);

RtcConfiguration *rtc_configuration_new (void);
RtcConfiguration *rtc_configuration_copy (const RtcConfiguration *config);
void rtc_configuration_free (RtcConfiguration *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtcConfiguration, rtc_configuration_free)

G_END_DECLS
