/* rtc-certificate.h: a self-signed DTLS certificate (ECDSA P-256)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * WebRTC peers authenticate each other by the SHA-256 fingerprint of their
 * certificate, exchanged in the session description; the certificate itself
 * is self-signed and short-lived. An RtcCertificate is immutable once created
 * and may be shared by several DTLS transports (and threads).
 */
#pragma once

#include <gio/gio.h>
#include <gnutls/gnutls.h>

G_BEGIN_DECLS

#define RTC_CERTIFICATE_FINGERPRINT_LEN 32 /* SHA-256 */

#define RTC_TYPE_CERTIFICATE (rtc_certificate_get_type ())
G_DECLARE_FINAL_TYPE (RtcCertificate, rtc_certificate, RTC, CERTIFICATE, GObject)

/* Generates a key and a certificate in a worker thread. */
void rtc_certificate_generate_async (GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
RtcCertificate *rtc_certificate_generate_finish (GAsyncResult *result, GError **error);

/* Blocking variant, for worker threads and tests. */
RtcCertificate *rtc_certificate_generate (GError **error);

/* SHA-256 of the DER encoding of the certificate. */
void rtc_certificate_get_fingerprint (RtcCertificate *self,
                                      guint8 out[RTC_CERTIFICATE_FINGERPRINT_LEN]);

/* "AB:CD:..." (upper-case hex, colon-separated), as in a=fingerprint:sha-256. */
char *rtc_certificate_get_fingerprint_string (RtcCertificate *self);

/* Credentials holding the key and certificate, owned by @self. */
gnutls_certificate_credentials_t rtc_certificate_get_credentials (RtcCertificate *self);

G_END_DECLS
