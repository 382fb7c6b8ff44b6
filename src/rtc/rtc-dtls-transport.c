/* rtc-dtls-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GnuTLS runs non-blocking on the home context only: datagrams from the
 * lower transport are queued and GnuTLS pulls them from that queue inside
 * gnutls_handshake() / gnutls_record_recv(); what it pushes goes straight to
 * the lower transport. The retransmission timer follows
 * gnutls_dtls_get_timeout().
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "rtc-dtls-transport.h"
#include "rtc-error.h"

#define DEFAULT_HANDSHAKE_TIMEOUT_MS 30000
#define MAX_EARLY_PACKETS 32
#define MAX_QUEUED_PACKETS 512
#define RECORD_BUFFER_SIZE 65536
/* RFC 6347 4.1: content type, version, epoch, sequence number, length. */
#define RECORD_HEADER_SIZE 13

/* DTLS 1.2 only; ECDHE with ECDSA (our certificates) first, AES-GCM first.
 * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is what Chromium, Firefox, pion and
 * aiortc all offer. */
#define PRIORITY                                                                                   \
  "SECURE128:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                           \
  "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC:"           \
  "-MAC-ALL:+AEAD:+SHA1:+SHA256:-COMP-ALL:+COMP-NULL"

/* DTLS-SRTP protection profiles (RFC 5764 use_srtp extension), offered as a
 * client and accepted as a server. No SRTP ever flows on a data channel, but
 * pion/webrtc v3 configures these profiles on every DTLS session and refuses
 * one where none was negotiated: as a client it answers a ServerHello without
 * use_srtp with a fatal insufficient_security alert, and as a server it
 * completes the handshake and then tears the whole connection down when the
 * ClientHello offered none. Browsers and aiortc always offer use_srtp too.
 * AES128_CM_HMAC_SHA1_80 is the profile every WebRTC peer supports. */
#define SRTP_PROFILES "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32"

struct _RtcDtlsTransport
{
  RtcTransport parent_instance;

  RtcTransport *lower;
  gulong lower_state_handler;
  RtcCertificate *certificate;
  gboolean client;
  guint8 remote_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];

  gnutls_session_t session;
  gboolean handshake_started;
  gboolean handshake_done;
  gboolean fingerprint_mismatch;
  gboolean closed;
  guint handshake_timeout_ms;

  GQueue early;    /* GBytes received before the handshake started */
  GQueue incoming; /* GBytes waiting for GnuTLS to pull them */

  GSource *retransmit_source;
  GSource *handshake_timeout_source;
  guint8 *record_buffer;
};

G_DEFINE_FINAL_TYPE (RtcDtlsTransport, rtc_dtls_transport, RTC_TYPE_TRANSPORT)

static void process (RtcDtlsTransport *self);

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static gboolean
is_final (RtcDtlsTransport *self)
{
  RtcTransportState state = rtc_transport_get_state (RTC_TRANSPORT (self));

  return state == RTC_TRANSPORT_STATE_FAILED || state == RTC_TRANSPORT_STATE_CLOSED;
}

static void
stop (RtcDtlsTransport *self)
{
  clear_source (&self->retransmit_source);
  clear_source (&self->handshake_timeout_source);
  g_queue_clear_full (&self->early, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->incoming, (GDestroyNotify) g_bytes_unref);
}

static void
fail (RtcDtlsTransport *self, RtcError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
fail (RtcDtlsTransport *self, RtcError code, const char *format, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  if (is_final (self))
    return;

  va_start (args, format);
  error = g_error_new_valist (RTC_ERROR, code, format, args);
  va_end (args);

  g_debug ("DTLS transport %p failed: %s", self, error->message);
  stop (self);
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_FAILED, error);
}

static void
fail_gnutls (RtcDtlsTransport *self, int ret)
{
  if (self->fingerprint_mismatch)
    fail (self, RTC_ERROR_FINGERPRINT_MISMATCH,
          "The DTLS peer certificate does not match the fingerprint of the session description");
  else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
    fail (self, RTC_ERROR_DTLS_FAILED, "The DTLS peer sent a fatal alert: %s",
          gnutls_alert_get_name (gnutls_alert_get (self->session)));
  else
    fail (self, RTC_ERROR_DTLS_FAILED, "DTLS failed: %s", gnutls_strerror (ret));
}

/* --- GnuTLS transport functions --- */

static ssize_t
push_func (gnutls_transport_ptr_t user_data, const void *data, size_t length)
{
  RtcDtlsTransport *self = user_data;
  g_autoptr (GError) error = NULL;

  /* A datagram that cannot be sent is lost, as on a network: GnuTLS
   * retransmits handshake flights, the layers above their data. */
  if (!rtc_transport_send (self->lower, data, length, &error))
    g_debug ("DTLS transport %p: datagram dropped: %s", self, error->message);

  return length;
}

static ssize_t
pull_func (gnutls_transport_ptr_t user_data, void *data, size_t length)
{
  RtcDtlsTransport *self = user_data;
  g_autoptr (GBytes) packet = g_queue_pop_head (&self->incoming);
  const guint8 *bytes;
  gsize size;

  /* GnuTLS asks for room for its largest record; a datagram larger than that
   * cannot be valid, and a truncated one would leave a partial record behind
   * (see lower_receive_cb): drop it. */
  while (packet != NULL && g_bytes_get_size (packet) > length)
    {
      g_debug ("DTLS transport %p: dropping a datagram of %" G_GSIZE_FORMAT " bytes", self,
               g_bytes_get_size (packet));
      g_bytes_unref (packet);
      packet = g_queue_pop_head (&self->incoming);
    }

  if (packet == NULL)
    {
      gnutls_transport_set_errno (self->session, EAGAIN);
      return -1;
    }

  bytes = g_bytes_get_data (packet, &size);
  memcpy (data, bytes, size);
  return size;
}

static int
pull_timeout_func (gnutls_transport_ptr_t user_data, unsigned int ms)
{
  RtcDtlsTransport *self = user_data;

  /* Never blocks: the caller comes back when a datagram or the timer fires. */
  return g_queue_is_empty (&self->incoming) ? 0 : 1;
}

static int
verify_func (gnutls_session_t session)
{
  RtcDtlsTransport *self = gnutls_session_get_ptr (session);
  const gnutls_datum_t *certificates;
  unsigned int n_certificates = 0;
  guint8 digest[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 difference = 0;

  certificates = gnutls_certificate_get_peers (session, &n_certificates);
  if (certificates == NULL || n_certificates == 0)
    {
      g_debug ("DTLS transport %p: the peer sent no certificate", self);
      return GNUTLS_E_NO_CERTIFICATE_FOUND;
    }

  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, certificates[0].data, certificates[0].size, digest) < 0)
    return GNUTLS_E_CERTIFICATE_ERROR;

  for (guint i = 0; i < sizeof digest; i++)
    difference |= digest[i] ^ self->remote_fingerprint[i];

  if (difference != 0)
    {
      self->fingerprint_mismatch = TRUE;
      return GNUTLS_E_CERTIFICATE_ERROR;
    }

  g_debug ("DTLS transport %p: peer certificate matches the fingerprint", self);
  return 0;
}

/* --- handshake --- */

static gboolean
retransmit_cb (gpointer user_data)
{
  RtcDtlsTransport *self = user_data;

  g_clear_pointer (&self->retransmit_source, g_source_unref);
  process (self);
  return G_SOURCE_REMOVE;
}

static gboolean
handshake_timeout_cb (gpointer user_data)
{
  RtcDtlsTransport *self = user_data;

  g_clear_pointer (&self->handshake_timeout_source, g_source_unref);
  if (!self->handshake_done)
    fail (self, RTC_ERROR_TIMEOUT, "The DTLS handshake timed out");
  return G_SOURCE_REMOVE;
}

static void
arm_retransmit_timer (RtcDtlsTransport *self)
{
  unsigned int timeout_ms = gnutls_dtls_get_timeout (self->session);

  clear_source (&self->retransmit_source);
  /* 0 means nothing to retransmit (a server waiting for a ClientHello): wait
   * for a datagram instead of spinning. */
  if (timeout_ms == 0)
    return;

  self->retransmit_source = g_timeout_source_new (timeout_ms);
  g_source_set_callback (self->retransmit_source, retransmit_cb, self, NULL);
  g_source_attach (self->retransmit_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
}

static gboolean
continue_handshake (RtcDtlsTransport *self)
{
  int ret = gnutls_handshake (self->session);

  if (ret == GNUTLS_E_SUCCESS)
    {
      g_autofree char *description = gnutls_session_get_desc (self->session);

      self->handshake_done = TRUE;
      clear_source (&self->retransmit_source);
      clear_source (&self->handshake_timeout_source);
      g_debug ("DTLS transport %p: handshake done (%s)", self, description);
      rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTED, NULL);
      return TRUE;
    }

  if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal (ret))
    {
      arm_retransmit_timer (self);
      return FALSE;
    }

  gnutls_alert_send_appropriate (self->session, ret);
  fail_gnutls (self, ret);
  return FALSE;
}

static void
read_records (RtcDtlsTransport *self)
{
  while (!is_final (self))
    {
      ssize_t ret = gnutls_record_recv (self->session, self->record_buffer, RECORD_BUFFER_SIZE);

      if (ret > 0)
        {
          rtc_transport_deliver (RTC_TRANSPORT (self), self->record_buffer, ret);
          continue;
        }

      if (ret == 0)
        {
          g_debug ("DTLS transport %p: close_notify received", self);
          stop (self);
          rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED, NULL);
          return;
        }

      if (ret == GNUTLS_E_REHANDSHAKE)
        {
          g_debug ("DTLS transport %p: renegotiation refused", self);
          gnutls_alert_send (self->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
          continue;
        }

      if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        {
          if (g_queue_is_empty (&self->incoming))
            return;
          continue;
        }

      if (gnutls_error_is_fatal (ret))
        {
          fail_gnutls (self, ret);
          return;
        }

      /* A record GnuTLS discarded (bad MAC, replay, warning alert). */
      g_debug ("DTLS transport %p: record dropped: %s", self, gnutls_strerror (ret));
      if (g_queue_is_empty (&self->incoming) && gnutls_record_check_pending (self->session) == 0)
        return;
    }
}

static void
process (RtcDtlsTransport *self)
{
  g_autoptr (RtcDtlsTransport) hold = g_object_ref (self);

  if (is_final (self) || !self->handshake_started)
    return;

  if (!self->handshake_done && !continue_handshake (self))
    return;

  read_records (self);
}

static void
start_handshake (RtcDtlsTransport *self)
{
  GBytes *packet;

  if (self->handshake_started || is_final (self))
    return;

  self->handshake_started = TRUE;
  g_debug ("DTLS transport %p: starting the handshake as %s", self,
           self->client ? "client" : "server");
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTING, NULL);

  /* Our own timer ends the handshake; GnuTLS retransmits from 1 s on. */
  gnutls_dtls_set_timeouts (self->session, 1000, self->handshake_timeout_ms + 1000);
  self->handshake_timeout_source = g_timeout_source_new (self->handshake_timeout_ms);
  g_source_set_callback (self->handshake_timeout_source, handshake_timeout_cb, self, NULL);
  g_source_attach (self->handshake_timeout_source,
                   rtc_transport_get_context (RTC_TRANSPORT (self)));

  while ((packet = g_queue_pop_head (&self->early)) != NULL)
    g_queue_push_tail (&self->incoming, packet);

  process (self);
}

/* --- lower transport --- */

/* Bytes taken by the whole DTLS records at the start of @data: a datagram
 * holds one or more records (OpenSSL packs the records of a flight into one)
 * and must end on a record boundary. RFC 7983: every record starts with a
 * content type in 20..63. */
static gsize
complete_records_length (const guint8 *data, gsize length)
{
  gsize offset = 0;

  while (length - offset >= RECORD_HEADER_SIZE)
    {
      const guint8 *header = data + offset;
      gsize record = RECORD_HEADER_SIZE + ((gsize) header[11] << 8 | header[12]);

      if (header[0] < 20 || header[0] > 63 || record > length - offset)
        break;
      offset += record;
    }

  return offset;
}

static void
lower_receive_cb (RtcTransport *lower, const guint8 *data, gsize length, gpointer user_data)
{
  RtcDtlsTransport *self = user_data;
  GQueue *queue;
  gsize usable;

  /* RFC 7983: DTLS records start with a content type in 20..63. */
  if (length == 0 || data[0] < 20 || data[0] > 63)
    {
      g_debug ("DTLS transport %p: dropping a non-DTLS datagram", self);
      return;
    }

  /* GnuTLS reads a record that claims more bytes than its datagram holds on
   * into the next datagram, and parses the bytes of both as one record: the
   * records that follow are misaligned and lost, and a handshake message
   * built from them can fail the whole session with
   * GNUTLS_E_UNEXPECTED_PACKET_LENGTH ("Error decoding the received TLS
   * packet"). RFC 6347 4.1.2.7 says to discard invalid records, so a cut-off
   * or malformed record and whatever follows it in its datagram are dropped
   * here: every datagram handed to GnuTLS ends on a record boundary. */
  usable = complete_records_length (data, length);
  if (usable == 0)
    {
      g_debug ("DTLS transport %p: dropping a datagram without a whole record", self);
      return;
    }
  if (usable < length)
    g_debug ("DTLS transport %p: dropping %" G_GSIZE_FORMAT " bytes of a cut-off record", self,
             length - usable);
  length = usable;

  if (is_final (self))
    return;

  queue = self->handshake_started ? &self->incoming : &self->early;
  if (g_queue_get_length (queue) >= (self->handshake_started ? MAX_QUEUED_PACKETS
                                                             : MAX_EARLY_PACKETS))
    {
      g_debug ("DTLS transport %p: queue full, datagram dropped", self);
      return;
    }
  g_queue_push_tail (queue, g_bytes_new (data, length));

  if (self->handshake_started)
    process (self);
}

static void
lower_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcDtlsTransport *self = user_data;
  const GError *error;

  switch (rtc_transport_get_state (self->lower))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      start_handshake (self);
      break;

    case RTC_TRANSPORT_STATE_FAILED:
      error = rtc_transport_get_error (self->lower);
      fail (self, error->domain == RTC_ERROR ? error->code : RTC_ERROR_FAILED,
            "The transport under DTLS failed: %s", error->message);
      break;

    case RTC_TRANSPORT_STATE_CLOSED:
      if (!is_final (self))
        {
          stop (self);
          rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED, NULL);
        }
      break;

    default:
      break;
    }
}

/* --- RtcTransport --- */

static gboolean
rtc_dtls_transport_send (RtcTransport *transport, const guint8 *data, gsize length,
                         GError **error)
{
  RtcDtlsTransport *self = RTC_DTLS_TRANSPORT (transport);
  RtcTransportState state = rtc_transport_get_state (transport);
  ssize_t ret;

  if (state != RTC_TRANSPORT_STATE_CONNECTED)
    {
      g_set_error_literal (error, RTC_ERROR,
                           state == RTC_TRANSPORT_STATE_CLOSED ? RTC_ERROR_CLOSED
                                                               : RTC_ERROR_INVALID_STATE,
                           "DTLS transport not connected");
      return FALSE;
    }

  if (length > gnutls_dtls_get_data_mtu (self->session))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE,
                   "A DTLS record holds at most %u bytes, not %" G_GSIZE_FORMAT,
                   gnutls_dtls_get_data_mtu (self->session), length);
      return FALSE;
    }

  ret = gnutls_record_send (self->session, data, length);
  if (ret < 0 && ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_DTLS_FAILED, "Cannot send a DTLS record: %s",
                   gnutls_strerror (ret));
      if (gnutls_error_is_fatal (ret))
        fail_gnutls (self, ret);
      return FALSE;
    }

  return TRUE;
}

static void
rtc_dtls_transport_close (RtcTransport *transport)
{
  RtcDtlsTransport *self = RTC_DTLS_TRANSPORT (transport);

  if (is_final (self))
    return;

  if (self->handshake_done)
    {
      /* One datagram, not waiting for the answer (GNUTLS_SHUT_WR). */
      int ret = gnutls_bye (self->session, GNUTLS_SHUT_WR);

      if (ret < 0)
        g_debug ("DTLS transport %p: close_notify not sent: %s", self, gnutls_strerror (ret));
    }

  stop (self);
  rtc_transport_set_state (transport, RTC_TRANSPORT_STATE_CLOSED, NULL);
}

static void
rtc_dtls_transport_dispose (GObject *object)
{
  RtcDtlsTransport *self = RTC_DTLS_TRANSPORT (object);

  stop (self);
  if (self->lower != NULL)
    {
      g_clear_signal_handler (&self->lower_state_handler, self->lower);
      rtc_transport_set_receive_func (self->lower, NULL, NULL, NULL);
      g_clear_object (&self->lower);
    }
  g_clear_object (&self->certificate);

  G_OBJECT_CLASS (rtc_dtls_transport_parent_class)->dispose (object);
}

static void
rtc_dtls_transport_finalize (GObject *object)
{
  RtcDtlsTransport *self = RTC_DTLS_TRANSPORT (object);

  g_clear_pointer (&self->session, gnutls_deinit);
  g_clear_pointer (&self->record_buffer, g_free);

  G_OBJECT_CLASS (rtc_dtls_transport_parent_class)->finalize (object);
}

static void
rtc_dtls_transport_class_init (RtcDtlsTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RtcTransportClass *transport_class = RTC_TRANSPORT_CLASS (klass);

  object_class->dispose = rtc_dtls_transport_dispose;
  object_class->finalize = rtc_dtls_transport_finalize;
  transport_class->send = rtc_dtls_transport_send;
  transport_class->close = rtc_dtls_transport_close;
}

static void
rtc_dtls_transport_init (RtcDtlsTransport *self)
{
  g_queue_init (&self->early);
  g_queue_init (&self->incoming);
  self->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  self->record_buffer = g_malloc (RECORD_BUFFER_SIZE);
}

static gboolean
setup_session (RtcDtlsTransport *self, GError **error)
{
  const char *error_position = NULL;
  int ret;

  ret = gnutls_init (&self->session, GNUTLS_DATAGRAM | GNUTLS_NONBLOCK
                                       | (self->client ? GNUTLS_CLIENT : GNUTLS_SERVER));
  if (ret < 0)
    goto failed;

  gnutls_session_set_ptr (self->session, self);
  ret = gnutls_priority_set_direct (self->session, PRIORITY, &error_position);
  if (ret < 0)
    goto failed;
  ret = gnutls_srtp_set_profile_direct (self->session, SRTP_PROFILES, &error_position);
  if (ret < 0)
    goto failed;
  ret = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE,
                                rtc_certificate_get_credentials (self->certificate));
  if (ret < 0)
    goto failed;

  if (!self->client)
    gnutls_certificate_server_set_request (self->session, GNUTLS_CERT_REQUIRE);
  gnutls_session_set_verify_function (self->session, verify_func);

  gnutls_transport_set_ptr (self->session, self);
  gnutls_transport_set_push_function (self->session, push_func);
  gnutls_transport_set_pull_function (self->session, pull_func);
  gnutls_transport_set_pull_timeout_function (self->session, pull_timeout_func);
  gnutls_dtls_set_mtu (self->session, RTC_DTLS_MTU);

  return TRUE;

failed:
  g_set_error (error, RTC_ERROR, RTC_ERROR_DTLS_FAILED, "Cannot set up DTLS: %s",
               gnutls_strerror (ret));
  return FALSE;
}

RtcDtlsTransport *
rtc_dtls_transport_new (RtcTransport *lower,
                        RtcCertificate *certificate,
                        gboolean client,
                        const guint8 *remote_fingerprint)
{
  RtcDtlsTransport *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (RTC_IS_TRANSPORT (lower), NULL);
  g_return_val_if_fail (RTC_IS_CERTIFICATE (certificate), NULL);
  g_return_val_if_fail (remote_fingerprint != NULL, NULL);

  self = g_object_new (RTC_TYPE_DTLS_TRANSPORT, NULL);
  self->lower = g_object_ref (lower);
  self->certificate = g_object_ref (certificate);
  self->client = !!client;
  memcpy (self->remote_fingerprint, remote_fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);

  if (!setup_session (self, &error))
    {
      rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_FAILED, error);
      return self;
    }

  rtc_transport_set_receive_func (lower, lower_receive_cb, self, NULL);
  self->lower_state_handler = g_signal_connect (lower, "notify::state",
                                                G_CALLBACK (lower_state_cb), self);

  switch (rtc_transport_get_state (lower))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
    case RTC_TRANSPORT_STATE_FAILED:
    case RTC_TRANSPORT_STATE_CLOSED:
      lower_state_cb (G_OBJECT (lower), NULL, self);
      break;

    default:
      break;
    }

  return self;
}

/* An ICE restart: records go on over @lower (CONNECTED) from now on, and
 * the old lower transport is let go (its state no longer matters here).
 * The session and its records are untouched: DTLS over UDP never depended
 * on the addresses under it. */
void
rtc_dtls_transport_replace_lower (RtcDtlsTransport *self, RtcTransport *lower)
{
  g_return_if_fail (RTC_IS_DTLS_TRANSPORT (self));
  g_return_if_fail (RTC_IS_TRANSPORT (lower));
  g_return_if_fail (rtc_transport_get_state (lower) == RTC_TRANSPORT_STATE_CONNECTED);

  if (lower == self->lower)
    return;
  g_clear_signal_handler (&self->lower_state_handler, self->lower);
  rtc_transport_set_receive_func (self->lower, NULL, NULL, NULL);
  g_set_object (&self->lower, lower);
  rtc_transport_set_receive_func (lower, lower_receive_cb, self, NULL);
  self->lower_state_handler = g_signal_connect (lower, "notify::state",
                                                G_CALLBACK (lower_state_cb), self);
}

RtcTransport *
rtc_dtls_transport_get_lower (RtcDtlsTransport *self)
{
  g_return_val_if_fail (RTC_IS_DTLS_TRANSPORT (self), NULL);

  return self->lower;
}

gboolean
rtc_dtls_transport_get_client (RtcDtlsTransport *self)
{
  g_return_val_if_fail (RTC_IS_DTLS_TRANSPORT (self), FALSE);

  return self->client;
}

void
rtc_dtls_transport_raise_mtu (RtcDtlsTransport *self, guint size)
{
  g_return_if_fail (RTC_IS_DTLS_TRANSPORT (self));

  /* GnuTLS keeps the MTU in 16 bits; the data of a record is held to
   * 16 KiB by rtc_dtls_transport_get_record_capacity(). */
  size = MIN (size, G_MAXUINT16);
  if (self->session != NULL && size > gnutls_dtls_get_mtu (self->session))
    gnutls_dtls_set_mtu (self->session, size);
}

guint
rtc_dtls_transport_get_record_capacity (RtcDtlsTransport *self)
{
  g_return_val_if_fail (RTC_IS_DTLS_TRANSPORT (self), 0);

  if (self->session == NULL)
    return RTC_DTLS_MAX_PAYLOAD;
  /* RFC 6347 §4.1: at most 2^14 bytes of data in a record. */
  return MIN (gnutls_dtls_get_data_mtu (self->session), 16384);
}

void
rtc_dtls_transport_set_handshake_timeout (RtcDtlsTransport *self, guint timeout_ms)
{
  g_return_if_fail (RTC_IS_DTLS_TRANSPORT (self));
  g_return_if_fail (!self->handshake_started);

  self->handshake_timeout_ms = MAX (timeout_ms, 1);
}
