/* rtc-certificate.h: a self-signed DTLS certificate (ECDSA P-256)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * WebRTC peers authenticate each other by the SHA-256 fingerprint of their
 * certificate, exchanged in the session description; the certificate itself
 * is self-signed and short-lived. An RtcCertificate is immutable once created
 * and may be shared by several DTLS transports (and threads).
 *
 * A long-lived identity (one certificate kept by an application and pinned
 * by its peers) is generated with rtc_certificate_generate_full(), saved
 * with rtc_certificate_export_pem() and read back with
 * rtc_certificate_new_from_pem().
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

/* A key and certificate valid for @validity_days from now (and a month
 * back, for peers with a slow clock), named @common_name (NULL: a random
 * name). rtc_certificate_generate() is this with a year and no name.
 * Blocking. */
RtcCertificate *rtc_certificate_generate_full (guint validity_days,
                                               const char *common_name,
                                               GError **error);

/* A key and certificate read from PEM (the private key unencrypted, PKCS#8
 * or the algorithm's own form; ECDSA P-256 only). The key must be the
 * certificate's. Errors are RTC_ERROR_FAILED. */
RtcCertificate *rtc_certificate_new_from_pem (const char *certificate_pem,
                                              gsize certificate_len,
                                              const char *key_pem,
                                              gsize key_len,
                                              GError **error);

/* The certificate and its private key as PEM (the key is a secret: wipe it
 * with explicit_bzero() before freeing it). */
gboolean rtc_certificate_export_pem (RtcCertificate *self,
                                     char **certificate_pem,
                                     char **key_pem,
                                     GError **error);

/* SHA-256 of the DER encoding of the certificate. */
void rtc_certificate_get_fingerprint (RtcCertificate *self,
                                      guint8 out[RTC_CERTIFICATE_FINGERPRINT_LEN]);

/* "AB:CD:..." (upper-case hex, colon-separated), as in a=fingerprint:sha-256. */
char *rtc_certificate_get_fingerprint_string (RtcCertificate *self);

/* Credentials holding the key and certificate, owned by @self. */
gnutls_certificate_credentials_t rtc_certificate_get_credentials (RtcCertificate *self);

G_END_DECLS
