/* rtc-sdp.h: session descriptions for data-channel-only WebRTC
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only what a data channel needs: one application m-section carrying
 * ICE credentials, a SHA-256 DTLS fingerprint, the DTLS role (a=setup),
 * the mid, the SCTP port and max-message-size, and candidates.
 *
 * Parsing is strict about what we need and tolerant of what pion, aiortc
 * and browsers add: both the current form
 *   m=application 9 UDP/DTLS/SCTP webrtc-datachannel + a=sctp-port:5000
 * and the old form
 *   m=application PORT DTLS/SCTP 5000 + a=sctpmap:5000 webrtc-datachannel 65535
 * are understood; session-level ice-ufrag/ice-pwd/fingerprint/setup apply
 * when the media level has none; unknown lines are ignored; \r\n and \n
 * line ends are both accepted.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RTC_SDP_DEFAULT_SCTP_PORT 5000
/* RFC 8841: when a=max-message-size is absent the peer accepts 64 KiB. */
#define RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE 65536
#define RTC_SDP_FINGERPRINT_LEN 32 /* SHA-256 */
#define RTC_SDP_MAX_DATAGRAM 65507
#define RTC_SDP_MAX_SCTP_LANES 16

typedef enum
{
  RTC_SDP_TYPE_OFFER,
  RTC_SDP_TYPE_ANSWER,
} RtcSdpType;

typedef enum
{
  RTC_DTLS_SETUP_ACTPASS,
  RTC_DTLS_SETUP_ACTIVE,  /* we are the DTLS client */
  RTC_DTLS_SETUP_PASSIVE, /* we are the DTLS server */
} RtcDtlsSetup;

typedef struct
{
  char *ice_ufrag;
  char *ice_pwd;
  gboolean ice_lite;
  guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN]; /* SHA-256 of the peer's certificate (DER) */
  RtcDtlsSetup setup;
  char *mid;              /* "0" when the peer gave none */
  guint16 sctp_port;      /* RTC_SDP_DEFAULT_SCTP_PORT when absent */
  guint64 max_message_size; /* 0 means "no limit" (a=max-message-size:0) */
  gboolean legacy_sctpmap;  /* the peer used the old DTLS/SCTP + a=sctpmap form */
  /* a=x-sctp-lanes (this program's own): how many SCTP associations, on
   * consecutive ports from sctp_port, may run over the one DTLS transport.
   * 1 when absent, as from every other implementation. */
  guint sctp_lanes;
  /* a=x-max-datagram (this program's own): the largest UDP payload the
   * peer reads, so larger packets may be tried on a path that carries
   * them. 0 when absent. */
  guint max_datagram;
  GPtrArray *candidates;  /* (element-type utf8): "candidate:..." lines, no "a=", no CRLF,
                           * component 1 only */
  gboolean end_of_candidates;
} RtcSdpDescription;

RtcSdpDescription *rtc_sdp_description_new (void);
void rtc_sdp_description_free (RtcSdpDescription *desc);

/* Parses a whole SDP. Fails with RTC_ERROR_INVALID_SDP unless it has a
 * data-channel application m-section (the first one is used), ICE
 * credentials, a sha-256 fingerprint and a valid setup value. */
RtcSdpDescription *rtc_sdp_parse (const char *text, gssize length, GError **error);
/* rtc_sdp_parse(), and the rules of a description of @type: an answer says
 * a=setup:active or a=setup:passive. What a peer connection accepts as its
 * remote description, so a peer can check a description before it commits
 * to the peer that sent it. */
RtcSdpDescription *rtc_sdp_parse_as (RtcSdpType type, const char *text, GError **error);
/* The same check for a description whose type is given as text ("offer",
 * "answer"), as signaling carries it: TRUE when a peer connection would
 * take it. */
gboolean rtc_sdp_check_as (const char *type, const char *text, GError **error);

/* Writes an SDP with \r\n line ends: v=, o= (random session id), s=-, t=0 0,
 * a=group:BUNDLE <mid>, a=msid-semantic: WMS, then
 * m=application 9 UDP/DTLS/SCTP webrtc-datachannel, c=IN IP4 0.0.0.0,
 * ice-ufrag/pwd, a=ice-options:trickle, fingerprint:sha-256, setup, mid,
 * sctp-port, max-message-size (when nonzero), x-sctp-lanes (when above 1),
 * x-max-datagram (when nonzero), then each candidate as
 * "a=candidate:..." and a=end-of-candidates when set. */
char *rtc_sdp_generate (const RtcSdpDescription *desc);

/* Normalizes one candidate as signaled by a peer: accepts "candidate:..." with or
 * without the "a=" prefix and with trailing whitespace/CRLF; checks the fields
 * (foundation, component 1..256, transport udp/tcp, priority, address, port
 * 0..65535, "typ" host/srflx/prflx/relay). Returns the "candidate:..." text
 * without "a=" and without line end, and the component in @component.
 * Fails with RTC_ERROR_INVALID_CANDIDATE. */
char *rtc_sdp_normalize_candidate (const char *line, guint *component, GError **error);

/* "AB:CD:..." (upper-case hex) for 32 bytes, and back (case-insensitive). */
char *rtc_sdp_fingerprint_to_string (const guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN]);
gboolean rtc_sdp_fingerprint_from_string (const char *text,
                                          guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN],
                                          GError **error);

const char *rtc_sdp_type_to_string (RtcSdpType type); /* "offer" / "answer" */
gboolean rtc_sdp_type_from_string (const char *text, RtcSdpType *type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtcSdpDescription, rtc_sdp_description_free)

G_END_DECLS
