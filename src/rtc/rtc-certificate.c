/* rtc-certificate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "rtc-certificate.h"
#include "rtc-error.h"

#include <string.h>

/* Validity: from a month back (peers with a slow clock) to a year ahead. */
#define VALIDITY_BEFORE_SECONDS (30 * 24 * 3600)
#define VALIDITY_AFTER_SECONDS (365 * 24 * 3600)

struct _RtcCertificate
{
  GObject parent_instance;

  gnutls_certificate_credentials_t credentials;
  gnutls_x509_crt_t crt;
  gnutls_x509_privkey_t key; /* deinit wipes it */
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
  g_clear_pointer (&self->crt, gnutls_x509_crt_deinit);
  g_clear_pointer (&self->key, gnutls_x509_privkey_deinit);

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

/* The certificate of @crt and @key (both kept by the new object). */
static RtcCertificate *
certificate_new (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, GError **error)
{
  g_autoptr (RtcCertificate) self = g_object_new (RTC_TYPE_CERTIFICATE, NULL);
  gnutls_datum_t der = { NULL, 0 };
  int ret;

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

  self->crt = crt;
  self->key = key;
  return g_steal_pointer (&self);
}

RtcCertificate *
rtc_certificate_generate_full (guint validity_days, const char *common_name, GError **error)
{
  RtcCertificate *self;
  g_auto (RtcX509Privkey) key = NULL;
  g_auto (RtcX509Crt) crt = NULL;
  guint8 serial[16];
  char random_name[24];
  const char *name = common_name;
  time_t now = time (NULL);

  g_return_val_if_fail (validity_days > 0, NULL);
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
  if (name == NULL || name[0] == '\0')
    {
      g_snprintf (random_name, sizeof random_name, "rtc-%02x%02x%02x%02x",
                  serial[1], serial[2], serial[3], serial[4]);
      name = random_name;
    }

  if (!check_gnutls (gnutls_x509_crt_set_version (crt, 3), "version", error)
      || !check_gnutls (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "serial", error)
      || !check_gnutls (gnutls_x509_crt_set_activation_time (crt, now - VALIDITY_BEFORE_SECONDS),
                        "activation time", error)
      || !check_gnutls (gnutls_x509_crt_set_expiration_time (
                          crt, now + (time_t) validity_days * 24 * 3600),
                        "expiration time", error)
      || !check_gnutls (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                       name, strlen (name)),
                        "name", error)
      || !check_gnutls (gnutls_x509_crt_set_issuer_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                              name, strlen (name)),
                        "issuer", error)
      || !check_gnutls (gnutls_x509_crt_set_key (crt, key), "public key", error)
      || !check_gnutls (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature",
                        error))
    return NULL;

  self = certificate_new (crt, key, error);
  if (self != NULL)
    crt = NULL, key = NULL; /* kept by self */
  return self;
}

RtcCertificate *
rtc_certificate_generate (GError **error)
{
  return rtc_certificate_generate_full (VALIDITY_AFTER_SECONDS / (24 * 3600), NULL, error);
}

static gboolean
pem_error (GError **error, const char *what, int ret)
{
  g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED, "Cannot read the %s: %s", what,
               gnutls_strerror (ret));
  return FALSE;
}

RtcCertificate *
rtc_certificate_new_from_pem (const char *certificate_pem,
                              gsize certificate_len,
                              const char *key_pem,
                              gsize key_len,
                              GError **error)
{
  RtcCertificate *self;
  g_auto (RtcX509Privkey) key = NULL;
  g_auto (RtcX509Crt) crt = NULL;
  gnutls_datum_t data;
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
  guint8 key_id[64], crt_id[64];
  size_t key_id_len = sizeof key_id, crt_id_len = sizeof crt_id;
  int ret;

  g_return_val_if_fail (certificate_pem != NULL && key_pem != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (certificate_len > G_MAXUINT32 || key_len > G_MAXUINT32)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED, "The PEM data is too large");
      return NULL;
    }

  if (!check_gnutls (gnutls_x509_crt_init (&crt), "certificate", error)
      || !check_gnutls (gnutls_x509_privkey_init (&key), "key", error))
    return NULL;

  data.data = (unsigned char *) certificate_pem;
  data.size = certificate_len;
  ret = gnutls_x509_crt_import (crt, &data, GNUTLS_X509_FMT_PEM);
  if (ret < 0)
    {
      pem_error (error, "certificate", ret);
      return NULL;
    }
  data.data = (unsigned char *) key_pem;
  data.size = key_len;
  ret = gnutls_x509_privkey_import2 (key, &data, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
  if (ret < 0)
    {
      pem_error (error, "private key", ret);
      return NULL;
    }

  if (gnutls_x509_privkey_get_pk_algorithm (key) != GNUTLS_PK_ECDSA
      || gnutls_x509_privkey_export_ecc_raw (key, &curve, NULL, NULL, NULL) < 0
      || curve != GNUTLS_ECC_CURVE_SECP256R1)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED,
                           "The private key is not an ECDSA P-256 key");
      return NULL;
    }
  if (gnutls_x509_privkey_get_key_id (key, GNUTLS_KEYID_USE_SHA256, key_id, &key_id_len) < 0
      || gnutls_x509_crt_get_key_id (crt, GNUTLS_KEYID_USE_SHA256, crt_id, &crt_id_len) < 0
      || key_id_len != crt_id_len || memcmp (key_id, crt_id, key_id_len) != 0)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED,
                           "The private key is not the certificate's");
      return NULL;
    }

  self = certificate_new (crt, key, error);
  if (self != NULL)
    crt = NULL, key = NULL; /* kept by self */
  return self;
}

gboolean
rtc_certificate_export_pem (RtcCertificate *self,
                            char **certificate_pem,
                            char **key_pem,
                            GError **error)
{
  gnutls_datum_t crt = { NULL, 0 };
  gnutls_datum_t key = { NULL, 0 };

  g_return_val_if_fail (RTC_IS_CERTIFICATE (self), FALSE);
  g_return_val_if_fail (certificate_pem != NULL && key_pem != NULL, FALSE);

  if (!check_gnutls (gnutls_x509_crt_export2 (self->crt, GNUTLS_X509_FMT_PEM, &crt),
                     "certificate export", error))
    return FALSE;
  if (!check_gnutls (gnutls_x509_privkey_export2_pkcs8 (self->key, GNUTLS_X509_FMT_PEM, NULL,
                                                       GNUTLS_PKCS_PLAIN, &key),
                     "key export", error))
    {
      gnutls_free (crt.data);
      return FALSE;
    }
  *certificate_pem = g_strndup ((const char *) crt.data, crt.size);
  *key_pem = g_strndup ((const char *) key.data, key.size);
  gnutls_free (crt.data);
  explicit_bzero (key.data, key.size);
  gnutls_free (key.data);
  return TRUE;
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
