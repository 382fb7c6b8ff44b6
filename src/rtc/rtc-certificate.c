/* rtc-certificate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "rtc-certificate.h"
#include "rtc-error.h"

/* Validity: from a month back (peers with a slow clock) to a year ahead. */
#define VALIDITY_BEFORE_SECONDS (30 * 24 * 3600)
#define VALIDITY_AFTER_SECONDS (365 * 24 * 3600)

struct _RtcCertificate
{
  GObject parent_instance;

  gnutls_certificate_credentials_t credentials;
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
};

G_DEFINE_FINAL_TYPE (RtcCertificate, rtc_certificate, G_TYPE_OBJECT)

typedef gnutls_x509_privkey_t RtcX509Privkey;
typedef gnutls_x509_crt_t RtcX509Crt;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (RtcX509Privkey, gnutls_x509_privkey_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (RtcX509Crt, gnutls_x509_crt_deinit, NULL)

static void
rtc_certificate_finalize (GObject *object)
{
  RtcCertificate *self = RTC_CERTIFICATE (object);

  g_clear_pointer (&self->credentials, gnutls_certificate_free_credentials);

  G_OBJECT_CLASS (rtc_certificate_parent_class)->finalize (object);
}

static void
rtc_certificate_class_init (RtcCertificateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rtc_certificate_finalize;
}

static void
rtc_certificate_init (RtcCertificate *self)
{
}

static gboolean
check_gnutls (int ret, const char *what, GError **error)
{
  if (ret >= 0)
    return TRUE;

  g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED,
               "Cannot create the DTLS certificate (%s): %s", what, gnutls_strerror (ret));
  return FALSE;
}

RtcCertificate *
rtc_certificate_generate (GError **error)
{
  g_autoptr (RtcCertificate) self = NULL;
  g_auto (RtcX509Privkey) key = NULL;
  g_auto (RtcX509Crt) crt = NULL;
  gnutls_datum_t der = { NULL, 0 };
  guint8 serial[16];
  char common_name[24];
  time_t now = time (NULL);
  int ret;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_gnutls (gnutls_x509_privkey_init (&key), "key", error)
      || !check_gnutls (gnutls_x509_privkey_generate2 (
                          key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                          0, NULL, 0),
                        "key generation", error)
      || !check_gnutls (gnutls_x509_crt_init (&crt), "certificate", error))
    return NULL;

  /* A positive serial number of 127 random bits (RFC 5280 allows 20 octets). */
  if (!check_gnutls (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "random", error))
    return NULL;
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  g_snprintf (common_name, sizeof common_name, "rtc-%02x%02x%02x%02x",
              serial[1], serial[2], serial[3], serial[4]);

  if (!check_gnutls (gnutls_x509_crt_set_version (crt, 3), "version", error)
      || !check_gnutls (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "serial", error)
      || !check_gnutls (gnutls_x509_crt_set_activation_time (crt, now - VALIDITY_BEFORE_SECONDS),
                        "activation time", error)
      || !check_gnutls (gnutls_x509_crt_set_expiration_time (crt, now + VALIDITY_AFTER_SECONDS),
                        "expiration time", error)
      || !check_gnutls (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                       common_name, strlen (common_name)),
                        "name", error)
      || !check_gnutls (gnutls_x509_crt_set_issuer_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                              common_name, strlen (common_name)),
                        "issuer", error)
      || !check_gnutls (gnutls_x509_crt_set_key (crt, key), "public key", error)
      || !check_gnutls (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature",
                        error))
    return NULL;

  self = g_object_new (RTC_TYPE_CERTIFICATE, NULL);

  ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der);
  if (!check_gnutls (ret, "export", error))
    return NULL;
  ret = gnutls_hash_fast (GNUTLS_DIG_SHA256, der.data, der.size, self->fingerprint);
  gnutls_free (der.data);
  if (!check_gnutls (ret, "fingerprint", error))
    return NULL;

  if (!check_gnutls (gnutls_certificate_allocate_credentials (&self->credentials), "credentials",
                     error)
      || !check_gnutls (gnutls_certificate_set_x509_key (self->credentials, &crt, 1, key),
                        "credentials", error))
    return NULL;

  return g_steal_pointer (&self);
}

static void
generate_worker (GTask *task, gpointer source_object, gpointer task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  RtcCertificate *certificate;

  if (g_task_return_error_if_cancelled (task))
    return;

  certificate = rtc_certificate_generate (&error);
  if (certificate == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, certificate, g_object_unref);
}

void
rtc_certificate_generate_async (GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, rtc_certificate_generate_async);
  g_task_run_in_thread (task, generate_worker);
}

RtcCertificate *
rtc_certificate_generate_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == rtc_certificate_generate_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
rtc_certificate_get_fingerprint (RtcCertificate *self,
                                 guint8 out[RTC_CERTIFICATE_FINGERPRINT_LEN])
{
  g_return_if_fail (RTC_IS_CERTIFICATE (self));
  g_return_if_fail (out != NULL);

  memcpy (out, self->fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);
}

char *
rtc_certificate_get_fingerprint_string (RtcCertificate *self)
{
  GString *text;

  g_return_val_if_fail (RTC_IS_CERTIFICATE (self), NULL);

  text = g_string_sized_new (3 * RTC_CERTIFICATE_FINGERPRINT_LEN);
  for (guint i = 0; i < RTC_CERTIFICATE_FINGERPRINT_LEN; i++)
    g_string_append_printf (text, i == 0 ? "%02X" : ":%02X", self->fingerprint[i]);

  return g_string_free (text, FALSE);
}

gnutls_certificate_credentials_t
rtc_certificate_get_credentials (RtcCertificate *self)
{
  g_return_val_if_fail (RTC_IS_CERTIFICATE (self), NULL);

  return self->credentials;
}
