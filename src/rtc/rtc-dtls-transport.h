/* rtc-dtls-transport.h: DTLS 1.2 (RFC 6347) over a lower RtcTransport, GnuTLS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The handshake starts when the lower transport is CONNECTED (at once if it
 * already is). Both sides present a certificate and each checks the peer's
 * against the SHA-256 fingerprint from the session description: a mismatch
 * fails the transport with RTC_ERROR_FINGERPRINT_MISMATCH. Cipher suites:
 * ECDHE-ECDSA with AES-GCM first (what browsers, pion and aiortc offer).
 * The DTLS-SRTP extension (RFC 5764 use_srtp) is offered and answered with
 * SRTP_AES128_CM_HMAC_SHA1_80 although no SRTP flows: pion refuses a
 * session without a negotiated SRTP profile.
 * Renegotiation is refused. Datagrams that are not DTLS (RFC 7983: first
 * byte outside 20..63) are dropped, and so is a record cut off at the end of
 * a datagram (with anything after it): GnuTLS only ever sees datagrams made
 * of whole records.
 *
 * CONNECTED after the handshake; rtc_transport_send() sends one record of
 * application data (see RTC_DTLS_MAX_PAYLOAD); close() sends close_notify
 * and goes CLOSED; a received close_notify makes it CLOSED too; a fatal
 * alert, a record stream GnuTLS cannot process, a failed lower transport or
 * the handshake timeout (30 s) make it FAILED.
 */
#pragma once

#include "rtc-certificate.h"
#include "rtc-transport.h"

G_BEGIN_DECLS

/* Largest datagram handed to the lower transport. */
#define RTC_DTLS_MTU 1280
/* Application data every negotiated cipher suite fits in one record of
 * RTC_DTLS_MTU bytes; larger sends fail with RTC_ERROR_MESSAGE_TOO_LARGE. */
#define RTC_DTLS_MAX_PAYLOAD 1200

#define RTC_TYPE_DTLS_TRANSPORT (rtc_dtls_transport_get_type ())
G_DECLARE_FINAL_TYPE (RtcDtlsTransport, rtc_dtls_transport, RTC, DTLS_TRANSPORT, RtcTransport)

/* @lower is referenced; @remote_fingerprint is the SHA-256 of the peer's
 * certificate (RTC_CERTIFICATE_FINGERPRINT_LEN bytes). @client: we send the
 * ClientHello (a=setup:active). */
RtcDtlsTransport *rtc_dtls_transport_new (RtcTransport *lower,
                                          RtcCertificate *certificate,
                                          gboolean client,
                                          const guint8 *remote_fingerprint);

RtcTransport *rtc_dtls_transport_get_lower (RtcDtlsTransport *self);
/* Moves the records onto @lower, which must be CONNECTED (an ICE restart:
 * the handshake is not repeated). */
void rtc_dtls_transport_replace_lower (RtcDtlsTransport *self, RtcTransport *lower);
gboolean rtc_dtls_transport_get_client (RtcDtlsTransport *self);

/* Milliseconds a handshake may take before the transport fails (default
 * 30000). Must be called before the handshake starts. */
/* Raises the largest datagram handed to the lower transport above
 * RTC_DTLS_MTU, once the path is known to carry @size bytes (never
 * lowered: records already sent at a size may need sending again). */
void rtc_dtls_transport_raise_mtu (RtcDtlsTransport *self, guint size);
/* The most application data one record takes now. */
guint rtc_dtls_transport_get_record_capacity (RtcDtlsTransport *self);

void rtc_dtls_transport_set_handshake_timeout (RtcDtlsTransport *self, guint timeout_ms);

G_END_DECLS
