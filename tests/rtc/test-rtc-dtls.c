/* test-rtc-dtls.c: DTLS over an in-process transport pair and over real ICE
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "rtc-test-loop.h"
#include "rtc-certificate.h"
#include "rtc-dtls-transport.h"
#include "rtc-error.h"
#include "rtc-ice-transport.h"
#include "rtc-memory-transport.h"

#define N_RECORDS 1000
#define WAIT_MS 20000

static RtcCertificate *cert_a;
static RtcCertificate *cert_b;

typedef struct
{
  RtcMemoryTransport *mem_a;
  RtcMemoryTransport *mem_b;
  RtcDtlsTransport *a; /* client */
  RtcDtlsTransport *b; /* server */
  guint received_a;
  guint received_b;
  gboolean order_ok;
} Pair;

static RtcTransportState
state (gpointer transport)
{
  return rtc_transport_get_state (RTC_TRANSPORT (transport));
}

static gboolean
is_final_state (RtcTransportState s)
{
  return s == RTC_TRANSPORT_STATE_FAILED || s == RTC_TRANSPORT_STATE_CLOSED;
}

static gboolean
both_connected (gpointer data)
{
  Pair *pair = data;

  return state (pair->a) == RTC_TRANSPORT_STATE_CONNECTED
         && state (pair->b) == RTC_TRANSPORT_STATE_CONNECTED;
}

static gboolean
both_final (gpointer data)
{
  Pair *pair = data;

  return is_final_state (state (pair->a)) && is_final_state (state (pair->b));
}

static void
receive_cb (RtcTransport *transport, const guint8 *data, gsize length, gpointer user_data)
{
  Pair *pair = user_data;
  guint *counter = RTC_DTLS_TRANSPORT (transport) == pair->a ? &pair->received_a
                                                             : &pair->received_b;
  guint32 index;

  g_assert_cmpuint (length, >=, 4);
  memcpy (&index, data, 4);
  /* The memory transport neither reorders nor loses unless asked to. */
  if (index != *counter)
    pair->order_ok = FALSE;
  for (gsize i = 4; i < length; i++)
    if (data[i] != (guint8) (index + i))
      pair->order_ok = FALSE;
  (*counter)++;
}

static void
pair_init (Pair *pair, const guint8 *fingerprint_for_a, const guint8 *fingerprint_for_b)
{
  guint8 fp_a[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN];

  memset (pair, 0, sizeof *pair);
  pair->order_ok = TRUE;
  rtc_certificate_get_fingerprint (cert_a, fp_a);
  rtc_certificate_get_fingerprint (cert_b, fp_b);

  rtc_memory_transport_new_pair (&pair->mem_a, &pair->mem_b);
  /* a (client) checks b's certificate and the other way round. */
  pair->a = rtc_dtls_transport_new (RTC_TRANSPORT (pair->mem_a), cert_a, TRUE,
                                    fingerprint_for_a != NULL ? fingerprint_for_a : fp_b);
  pair->b = rtc_dtls_transport_new (RTC_TRANSPORT (pair->mem_b), cert_b, FALSE,
                                    fingerprint_for_b != NULL ? fingerprint_for_b : fp_a);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair->a), receive_cb, pair, NULL);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair->b), receive_cb, pair, NULL);
  g_assert_cmpint (state (pair->a), ==, RTC_TRANSPORT_STATE_NEW);
  g_assert_cmpint (state (pair->b), ==, RTC_TRANSPORT_STATE_NEW);
}

static void
pair_clear (Pair *pair)
{
  /* Let queued deliveries and timers drain. */
  rtc_test_spin (20);
  g_assert_finalize_object (pair->a);
  g_assert_finalize_object (pair->b);
  g_assert_finalize_object (pair->mem_a);
  g_assert_finalize_object (pair->mem_b);
}

static void
send_records (RtcDtlsTransport *transport, guint count, gsize size)
{
  guint8 buffer[RTC_DTLS_MAX_PAYLOAD];

  g_assert_cmpuint (size, <=, sizeof buffer);
  for (guint32 n = 0; n < count; n++)
    {
      g_autoptr (GError) error = NULL;

      memcpy (buffer, &n, 4);
      for (gsize i = 4; i < size; i++)
        buffer[i] = (guint8) (n + i);
      g_assert_true (rtc_transport_send (RTC_TRANSPORT (transport), buffer, size, &error));
      g_assert_no_error (error);
    }
}

static gboolean
all_received (gpointer data)
{
  Pair *pair = data;

  return pair->received_a == N_RECORDS && pair->received_b == N_RECORDS;
}

static gboolean
both_received_10 (gpointer data)
{
  Pair *pair = data;

  return pair->received_a == 10 && pair->received_b == 10;
}

static gboolean
b_received_10 (gpointer data)
{
  return ((Pair *) data)->received_b == 10;
}

static gboolean
b_received_4 (gpointer data)
{
  return ((Pair *) data)->received_b == 4;
}

static gboolean capture_active;

/* Keeps a copy of what a sends while capture_active, and drops it. */
static gboolean
capture_filter (guint8 *data, gsize length, gpointer user_data)
{
  if (!capture_active)
    return TRUE;
  g_ptr_array_add (user_data, g_bytes_new (data, length));
  return FALSE;
}

static void
test_certificate (void)
{
  g_autoptr (GError) error = NULL;
  RtcCertificate *certificate = rtc_certificate_generate (&error);
  guint8 fp[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 other[RTC_CERTIFICATE_FINGERPRINT_LEN];
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (rtc_certificate_get_credentials (certificate));
  rtc_certificate_get_fingerprint (certificate, fp);
  rtc_certificate_get_fingerprint (cert_a, other);
  g_assert_true (memcmp (fp, other, sizeof fp) != 0);

  text = rtc_certificate_get_fingerprint_string (certificate);
  g_assert_cmpuint (strlen (text), ==, 3 * RTC_CERTIFICATE_FINGERPRINT_LEN - 1);
  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", text, 0, 0));

  g_assert_finalize_object (certificate);
}

static void
generated_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RtcCertificate **out = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_null (source);
  *out = rtc_certificate_generate_finish (result, &error);
  g_assert_no_error (error);
}

static gboolean
pointer_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

static void
test_certificate_async (void)
{
  RtcCertificate *certificate = NULL;

  rtc_certificate_generate_async (NULL, generated_cb, &certificate);
  rtc_test_wait_until (pointer_set, &certificate, WAIT_MS);
  g_assert_true (RTC_IS_CERTIFICATE (certificate));
  g_assert_finalize_object (certificate);
}

static void
test_new_destroy (void)
{
  Pair pair;

  pair_init (&pair, NULL, NULL);
  g_assert_true (rtc_dtls_transport_get_lower (pair.a) == RTC_TRANSPORT (pair.mem_a));
  g_assert_true (rtc_dtls_transport_get_client (pair.a));
  g_assert_false (rtc_dtls_transport_get_client (pair.b));
  pair_clear (&pair);
}

static gboolean
closed_cb (gpointer data)
{
  return state (data) == RTC_TRANSPORT_STATE_CLOSED;
}

static void
test_handshake_and_data (void)
{
  Pair pair;
  g_autoptr (GError) error = NULL;
  guint8 too_big[RTC_DTLS_MTU];

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_connect (pair.mem_a);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CONNECTING);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTING);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);

  send_records (pair.a, N_RECORDS, 1200);
  send_records (pair.b, N_RECORDS, 100);
  rtc_test_wait_until (all_received, &pair, WAIT_MS);
  g_assert_true (pair.order_ok);

  memset (too_big, 0, sizeof too_big);
  g_assert_false (rtc_transport_send (RTC_TRANSPORT (pair.a), too_big, sizeof too_big, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);

  /* close_notify reaches the server, which goes CLOSED too. */
  rtc_transport_close (RTC_TRANSPORT (pair.a));
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CLOSED);
  rtc_test_wait_until (closed_cb, pair.b, WAIT_MS);
  g_assert_null (rtc_transport_get_error (RTC_TRANSPORT (pair.b)));
  /* The lower transport was not closed by it. */
  g_assert_cmpint (state (pair.mem_b), ==, RTC_TRANSPORT_STATE_CONNECTED);

  g_assert_false (rtc_transport_send (RTC_TRANSPORT (pair.a), too_big, 10, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_CLOSED);

  pair_clear (&pair);
}

static void
test_server_closes (void)
{
  Pair pair;

  pair_init (&pair, NULL, NULL);
  /* Lower already connected when the second DTLS side starts. */
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  rtc_transport_close (RTC_TRANSPORT (pair.b));
  rtc_test_wait_until (closed_cb, pair.a, WAIT_MS);
  pair_clear (&pair);
}

static void
test_fingerprint_mismatch (void)
{
  Pair pair;
  guint8 wrong[RTC_CERTIFICATE_FINGERPRINT_LEN];
  const GError *error;

  /* The client expects another certificate than the server's. */
  memset (wrong, 0x5a, sizeof wrong);
  pair_init (&pair, wrong, NULL);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_final, &pair, WAIT_MS);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_FAILED);
  error = rtc_transport_get_error (RTC_TRANSPORT (pair.a));
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_FAILED);
  pair_clear (&pair);

  /* The server expects another certificate than the client's. */
  pair_init (&pair, NULL, wrong);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_final, &pair, WAIT_MS);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_FAILED);
  error = rtc_transport_get_error (RTC_TRANSPORT (pair.b));
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_FAILED);
  g_assert_cmpint (pair.received_a + pair.received_b, ==, 0);
  pair_clear (&pair);
}

static void
send_raw (RtcMemoryTransport *transport, const guint8 *data, gsize length)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (rtc_transport_send (RTC_TRANSPORT (transport), data, length, &error));
  g_assert_no_error (error);
}

static void
send_garbage (RtcMemoryTransport *transport, guint32 seed)
{
  guint8 buffer[300];
  GRand *rand = g_rand_new_with_seed (seed);

  /* Not DTLS (RFC 7983 ranges of STUN, ZRTP, RTP), then DTLS-looking noise. */
  for (guint8 first = 0; first < 20; first++)
    {
      buffer[0] = first;
      send_raw (transport, buffer, 1 + first);
    }
  buffer[0] = 128;
  send_raw (transport, buffer, 100);
  send_raw (transport, buffer, 0);
  for (guint n = 0; n < 50; n++)
    {
      gsize length = g_rand_int_range (rand, 1, sizeof buffer);

      for (gsize i = 0; i < length; i++)
        buffer[i] = g_rand_int (rand);
      buffer[0] = g_rand_int_range (rand, 20, 64);
      send_raw (transport, buffer, length);
    }
  g_rand_free (rand);
}

static void
test_garbage (void)
{
  Pair pair;

  pair_init (&pair, NULL, NULL);
  /* Before the handshake: the server sees noise first, then a ClientHello. */
  rtc_memory_transport_connect (pair.mem_b);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CONNECTING);
  send_garbage (pair.mem_b, 1);
  send_garbage (pair.mem_a, 2);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);

  /* After it: records still flow. */
  send_garbage (pair.mem_a, 3);
  send_garbage (pair.mem_b, 4);
  send_records (pair.a, N_RECORDS, 64);
  send_records (pair.b, N_RECORDS, 64);
  send_garbage (pair.mem_a, 5);
  rtc_test_wait_until (all_received, &pair, WAIT_MS);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CONNECTED);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTED);
  pair_clear (&pair);
}

typedef struct
{
  gboolean active;
  guint count;
  gboolean truncate;
} Corrupter;

static gboolean
corrupt_filter (guint8 *data, gsize length, gpointer user_data)
{
  Corrupter *corrupter = user_data;

  if (!corrupter->active)
    return TRUE;

  corrupter->count++;
  if (corrupter->truncate)
    {
      /* Keep the header and a little: GnuTLS must refuse or drop it. */
      if (length > 20)
        data[11] ^= 0x40; /* the length field no longer matches */
      return TRUE;
    }
  if (length > 20)
    data[length / 2] ^= 0xff;
  return corrupter->count % 2 == 0;
}

static void
test_corrupted_records (void)
{
  Pair pair;
  Corrupter corrupter = { FALSE, 0, FALSE };

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_set_filter (pair.mem_a, corrupt_filter, &corrupter);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);

  /* Bit flips in records: their authentication fails; DTLS drops them. */
  corrupter.active = TRUE;
  send_records (pair.a, 100, 200);
  rtc_test_spin (100);
  g_assert_cmpuint (pair.received_b, ==, 0);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTED);

  /* Wrong record lengths. */
  corrupter.truncate = TRUE;
  send_records (pair.a, 100, 200);
  rtc_test_spin (100);
  g_assert_cmpuint (pair.received_b, ==, 0);
  g_assert_false (state (pair.b) == RTC_TRANSPORT_STATE_CLOSED);

  /* A record that claims more bytes than its datagram holds is dropped on
   * its own; the records after it are not misread, clean records pass. */
  corrupter.active = FALSE;
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTED);
  send_records (pair.a, 10, 200);
  rtc_test_wait_until (b_received_10, &pair, WAIT_MS);
  g_assert_cmpuint (pair.received_b, ==, 10);
  g_assert_true (pair.order_ok);
  rtc_memory_transport_set_filter (pair.mem_a, NULL, NULL);
  pair_clear (&pair);
}

/* A peer that reads its outgoing flights in fixed-size chunks (aiortc reads
 * OpenSSL's memory BIO 1500 bytes at a time) can send a datagram that ends in
 * the middle of a record. The server's first datagram (its ServerHello)
 * reaches the client cut off: the length field of its record is raised so
 * that it claims more bytes than the datagram holds, once. The client must
 * drop it and finish the handshake with the retransmitted flight. */
typedef struct
{
  guint cut;
} Cutter;

static gboolean
cut_filter (guint8 *data, gsize length, gpointer user_data)
{
  Cutter *cutter = user_data;
  gsize offset = 0;
  gsize last = 0;
  guint records = 0;

  if (cutter->cut > 0)
    return TRUE;

  /* 13-byte record headers, the length in the last two bytes. */
  while (length - offset >= 13)
    {
      gsize record = 13 + ((gsize) data[offset + 11] << 8 | data[offset + 12]);

      g_assert_cmpuint (record, <=, length - offset);
      last = offset;
      offset += record;
      records++;
    }
  g_assert_cmpuint (offset, ==, length);
  g_assert_cmpuint (records, >=, 1);

  data[last + 11] += 1; /* 256 bytes more than there are */
  cutter->cut++;
  return TRUE;
}

static void
test_record_cut_off (void)
{
  Pair pair;
  Cutter cutter = { 0 };

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_set_filter (pair.mem_b, cut_filter, &cutter);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  g_assert_cmpuint (cutter.cut, ==, 1);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CONNECTED);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTED);

  send_records (pair.a, 10, 1200);
  send_records (pair.b, 10, 1200);
  rtc_test_wait_until (both_received_10, &pair, WAIT_MS);
  g_assert_cmpuint (pair.received_a, ==, 10);
  g_assert_cmpuint (pair.received_b, ==, 10);
  g_assert_true (pair.order_ok);

  rtc_memory_transport_set_filter (pair.mem_b, NULL, NULL);
  pair_clear (&pair);
}

/* Several records in one datagram, the last of them cut off: the whole ones
 * are delivered, the cut-off one dropped, the session goes on. */
static void
test_records_packed (void)
{
  Pair pair;
  g_autoptr (GError) error = NULL;
  GPtrArray *datagrams = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GByteArray *packed = g_byte_array_new ();

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_set_filter (pair.mem_a, capture_filter, datagrams);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);

  /* Four records from a, captured instead of delivered: one datagram holds
   * the first three and the first half of the fourth. */
  capture_active = TRUE;
  send_records (pair.a, 4, 300);
  rtc_test_spin (20);
  capture_active = FALSE;
  g_assert_cmpuint (datagrams->len, ==, 4);
  for (guint i = 0; i < 3; i++)
    g_byte_array_append (packed, g_bytes_get_data (datagrams->pdata[i], NULL),
                         g_bytes_get_size (datagrams->pdata[i]));
  g_byte_array_append (packed, g_bytes_get_data (datagrams->pdata[3], NULL),
                       g_bytes_get_size (datagrams->pdata[3]) / 2);

  g_assert_true (rtc_transport_send (RTC_TRANSPORT (pair.mem_a), packed->data, packed->len,
                                     &error));
  g_assert_no_error (error);
  /* The next datagram must not be read as the rest of the cut-off record. */
  g_assert_true (rtc_transport_send (RTC_TRANSPORT (pair.mem_a),
                                     g_bytes_get_data (datagrams->pdata[3], NULL),
                                     g_bytes_get_size (datagrams->pdata[3]), &error));
  g_assert_no_error (error);
  rtc_test_wait_until (b_received_4, &pair, WAIT_MS);
  g_assert_cmpuint (pair.received_b, ==, 4);
  g_assert_true (pair.order_ok);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTED);

  rtc_memory_transport_set_filter (pair.mem_a, NULL, NULL);
  g_byte_array_unref (packed);
  g_ptr_array_unref (datagrams);
  pair_clear (&pair);
}

static guint64
handshake_datagrams (guint drop_every)
{
  Pair pair;
  guint64 sent;

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_set_drop_every (pair.mem_a, drop_every);
  rtc_memory_transport_set_drop_every (pair.mem_b, drop_every);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  sent = rtc_memory_transport_get_sent_packets (pair.mem_a)
         + rtc_memory_transport_get_sent_packets (pair.mem_b);

  /* The session works after the lossy handshake. */
  rtc_memory_transport_set_drop_every (pair.mem_a, 0);
  rtc_memory_transport_set_drop_every (pair.mem_b, 0);
  send_records (pair.a, N_RECORDS, 100);
  send_records (pair.b, N_RECORDS, 100);
  rtc_test_wait_until (all_received, &pair, WAIT_MS);
  pair_clear (&pair);
  return sent;
}

static void
test_handshake_loss (void)
{
  guint64 lossless = handshake_datagrams (0);
  guint64 lossy = handshake_datagrams (3);

  g_test_message ("handshake datagrams: %" G_GUINT64_FORMAT " without loss, %" G_GUINT64_FORMAT
                  " when every third is dropped",
                  lossless, lossy);
  /* Lost flights were retransmitted. */
  g_assert_cmpuint (lossy, >, lossless);
}

static void
test_handshake_loss_total (void)
{
  Pair pair;
  const GError *error;

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_set_drop_every (pair.mem_a, 1);
  rtc_dtls_transport_set_handshake_timeout (pair.a, 1500);
  rtc_dtls_transport_set_handshake_timeout (pair.b, 1500);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_final, &pair, WAIT_MS);
  error = rtc_transport_get_error (RTC_TRANSPORT (pair.a));
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_TIMEOUT);
  /* The server heard nothing: it timed out too, without spinning. */
  error = rtc_transport_get_error (RTC_TRANSPORT (pair.b));
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_TIMEOUT);
  g_assert_cmpuint (rtc_memory_transport_get_sent_packets (pair.mem_b), ==, 0);
  pair_clear (&pair);
}

static void
test_close_during_handshake (void)
{
  Pair pair;

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_connect (pair.mem_a);
  g_main_context_iteration (NULL, FALSE);
  rtc_transport_close (RTC_TRANSPORT (pair.a));
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CLOSED);
  rtc_transport_close (RTC_TRANSPORT (pair.b));
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CLOSED);
  rtc_test_spin (100);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CLOSED);
  pair_clear (&pair);
}

static void
test_lower_fails (void)
{
  Pair pair;

  pair_init (&pair, NULL, NULL);
  rtc_memory_transport_connect (pair.mem_a);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  rtc_transport_close (RTC_TRANSPORT (pair.mem_a));
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CLOSED);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CLOSED);
  pair_clear (&pair);
}

/* --- against a peer that negotiates like pion/webrtc v3 --- */

/* A bare GnuTLS endpoint offering what pion/dtls v2 offers: its cipher
 * suites, the curves X25519, P-256 and P-384, its signature schemes, and a
 * DTLS-SRTP profile, which pion/webrtc v3 puts on every DTLS session and
 * requires to be negotiated even when only data channels are used. */
#define PION_LIKE_PRIORITY                                                                         \
  "NONE:+VERS-DTLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:+AES-128-GCM:+AES-256-GCM:+AES-256-CBC:"             \
  "+AEAD:+SHA1:+COMP-NULL:+CTYPE-X509:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"            \
  "+SIGN-ECDSA-SHA256:+SIGN-ECDSA-SHA384:+SIGN-ECDSA-SHA512:+SIGN-RSA-SHA256:"                     \
  "+SIGN-RSA-SHA384:+SIGN-RSA-SHA512:+SIGN-EDDSA-ED25519"
#define PION_LIKE_SRTP_PROFILES "SRTP_AES128_CM_HMAC_SHA1_80"

typedef struct
{
  RtcMemoryTransport *mem;
  gnutls_session_t session;
  GQueue incoming;
  int result; /* of the handshake; GNUTLS_E_AGAIN while it runs */
  guint received;
  gboolean renegotiating;        /* a second handshake runs (as a client) */
  gboolean requesting_handshake; /* a HelloRequest waits for its answer (as a server) */
  guint refused;          /* no_renegotiation alerts received */
} RawPeer;

static ssize_t
raw_push (gnutls_transport_ptr_t user_data, const void *data, size_t length)
{
  RawPeer *raw = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (rtc_transport_send (RTC_TRANSPORT (raw->mem), data, length, &error));
  g_assert_no_error (error);
  return length;
}

static ssize_t
raw_pull (gnutls_transport_ptr_t user_data, void *data, size_t length)
{
  RawPeer *raw = user_data;
  g_autoptr (GBytes) packet = g_queue_pop_head (&raw->incoming);
  const guint8 *bytes;
  gsize size;

  if (packet == NULL)
    {
      gnutls_transport_set_errno (raw->session, EAGAIN);
      return -1;
    }
  bytes = g_bytes_get_data (packet, &size);
  size = MIN (size, length);
  memcpy (data, bytes, size);
  return size;
}

static int
raw_pull_timeout (gnutls_transport_ptr_t user_data, unsigned int ms)
{
  RawPeer *raw = user_data;

  return g_queue_is_empty (&raw->incoming) ? 0 : 1;
}

static void
raw_step (RawPeer *raw)
{
  guint8 buffer[RTC_DTLS_MAX_PAYLOAD];
  ssize_t ret;

  if (raw->requesting_handshake)
    {
      ret = gnutls_rehandshake (raw->session);
      if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        return;
      raw->requesting_handshake = FALSE;
      if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED
          && gnutls_alert_get (raw->session) == GNUTLS_A_NO_RENEGOTIATION)
        raw->refused++;
      else
        g_test_message ("gnutls_rehandshake: %s", gnutls_strerror (ret));
    }

  if (raw->result == GNUTLS_E_AGAIN)
    {
      ret = gnutls_handshake (raw->session);
      if (raw->renegotiating && ret == GNUTLS_E_WARNING_ALERT_RECEIVED
          && gnutls_alert_get (raw->session) == GNUTLS_A_NO_RENEGOTIATION)
        {
          /* Refused: the first session goes on. */
          raw->renegotiating = FALSE;
          raw->refused++;
          ret = 0;
        }
      else if (ret < 0 && !gnutls_error_is_fatal (ret))
        return;
      raw->result = ret;
      if (ret < 0)
        g_test_message ("the pion-like peer failed: %s", gnutls_strerror (ret));
    }

  while (raw->result == 0)
    {
      ret = gnutls_record_recv (raw->session, buffer, sizeof buffer);
      if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED
          && gnutls_alert_get (raw->session) == GNUTLS_A_NO_RENEGOTIATION)
        {
          raw->refused++;
          continue;
        }
      if (ret <= 0)
        break;
      g_assert_cmpmem (buffer, ret, "from us", 7);
      raw->received++;
    }
}

static void
raw_receive_cb (RtcTransport *transport, const guint8 *data, gsize length, gpointer user_data)
{
  RawPeer *raw = user_data;

  g_queue_push_tail (&raw->incoming, g_bytes_new (data, length));
  raw_step (raw);
}

static gboolean
raw_tick_cb (gpointer user_data)
{
  /* Retransmissions, should a flight need one. */
  raw_step (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
count_cb (gpointer data)
{
  return *(guint *) data > 0;
}

static void
count_receive_cb (RtcTransport *transport, const guint8 *data, gsize length, gpointer user_data)
{
  g_assert_cmpmem (data, length, "from pion", 9);
  (*(guint *) user_data)++;
}

typedef struct
{
  RawPeer *raw;
  RtcDtlsTransport *ours;
} PionLike;

static gboolean
refused_cb (gpointer data)
{
  return ((RawPeer *) data)->refused > 0;
}

static gboolean
count_at_least_2_cb (gpointer data)
{
  return *(guint *) data >= 2;
}

static gboolean
pion_like_done (gpointer data)
{
  PionLike *p = data;

  return p->raw->result != GNUTLS_E_AGAIN && state (p->ours) != RTC_TRANSPORT_STATE_CONNECTING;
}

/* pion/webrtc v3 fails a session whose DTLS handshake negotiated no SRTP
 * profile: as a client with an insufficient_security alert, as a server by
 * closing the connection after the handshake. We must offer use_srtp as a
 * client and answer it as a server. */
static void
test_pion_like (gconstpointer data)
{
  gboolean we_are_client = (GPOINTER_TO_INT (data) & 1) != 0;
  gboolean renegotiate = (GPOINTER_TO_INT (data) & 2) != 0;
  RtcMemoryTransport *mem_a;
  RtcMemoryTransport *mem_b;
  RtcDtlsTransport *ours;
  RawPeer raw = { 0 };
  PionLike p = { &raw, NULL };
  guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN];
  gnutls_srtp_profile_t profile = 0;
  g_autoptr (GError) error = NULL;
  guint received = 0;
  guint tick_id;
  unsigned int flags;
  int ret;

  rtc_certificate_get_fingerprint (cert_b, fp_b);
  rtc_memory_transport_new_pair (&mem_a, &mem_b);
  ours = rtc_dtls_transport_new (RTC_TRANSPORT (mem_a), cert_a, we_are_client, fp_b);
  rtc_transport_set_receive_func (RTC_TRANSPORT (ours), count_receive_cb, &received, NULL);
  p.ours = ours;

  raw.mem = mem_b;
  raw.result = GNUTLS_E_AGAIN;
  g_queue_init (&raw.incoming);
  flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK | (we_are_client ? GNUTLS_SERVER : GNUTLS_CLIENT);
  g_assert_cmpint (gnutls_init (&raw.session, flags), ==, 0);
  g_assert_cmpint (gnutls_priority_set_direct (raw.session, PION_LIKE_PRIORITY, NULL), ==, 0);
  ret = gnutls_srtp_set_profile_direct (raw.session, PION_LIKE_SRTP_PROFILES, NULL);
  g_assert_cmpint (ret, ==, 0);
  g_assert_cmpint (gnutls_credentials_set (raw.session, GNUTLS_CRD_CERTIFICATE,
                                           rtc_certificate_get_credentials (cert_b)),
                   ==, 0);
  if (we_are_client)
    gnutls_certificate_server_set_request (raw.session, GNUTLS_CERT_REQUIRE);
  gnutls_transport_set_ptr (raw.session, &raw);
  gnutls_transport_set_push_function (raw.session, raw_push);
  gnutls_transport_set_pull_function (raw.session, raw_pull);
  gnutls_transport_set_pull_timeout_function (raw.session, raw_pull_timeout);
  gnutls_dtls_set_mtu (raw.session, RTC_DTLS_MTU);
  rtc_transport_set_receive_func (RTC_TRANSPORT (mem_b), raw_receive_cb, &raw, NULL);
  tick_id = g_timeout_add (100, raw_tick_cb, &raw);

  rtc_memory_transport_connect (mem_a);
  raw_step (&raw);
  rtc_test_wait_until (pion_like_done, &p, WAIT_MS);
  g_assert_cmpint (raw.result, ==, 0);
  g_assert_cmpint (state (ours), ==, RTC_TRANSPORT_STATE_CONNECTED);

  /* What pion checks. */
  g_assert_cmpint (gnutls_srtp_get_selected_profile (raw.session, &profile), ==, 0);
  g_assert_cmpint (profile, ==, GNUTLS_SRTP_AES128_CM_HMAC_SHA1_80);
  /* And what it prefers: ECDHE with our ECDSA key, extended master secret. */
  g_assert_cmpint (gnutls_kx_get (raw.session), ==, GNUTLS_KX_ECDHE_ECDSA);
  g_assert_true (gnutls_session_ext_master_secret_status (raw.session));

  /* Application data both ways. */
  g_assert_cmpint (gnutls_record_send (raw.session, "from pion", 9), ==, 9);
  rtc_test_wait_until (count_cb, &received, WAIT_MS);
  g_assert_true (rtc_transport_send (RTC_TRANSPORT (ours), (const guint8 *) "from us", 7, &error));
  g_assert_no_error (error);
  rtc_test_wait_until (count_cb, &raw.received, WAIT_MS);
  g_assert_cmpuint (received, ==, 1);
  g_assert_cmpuint (raw.received, ==, 1);

  if (renegotiate)
    {
      /* DTLS renegotiation is refused with a no_renegotiation warning,
       * whichever side asks; the session goes on with its keys. */
      if (we_are_client)
        {
          raw.requesting_handshake = TRUE;
          raw_step (&raw);
        }
      else
        {
          raw.renegotiating = TRUE;
          raw.result = GNUTLS_E_AGAIN;
          raw_step (&raw);
        }
      rtc_test_wait_until (refused_cb, &raw, WAIT_MS);
      g_assert_cmpuint (raw.refused, ==, 1);
      g_assert_cmpint (raw.result, ==, 0);
      g_assert_cmpint (state (ours), ==, RTC_TRANSPORT_STATE_CONNECTED);

      g_assert_cmpint (gnutls_record_send (raw.session, "from pion", 9), ==, 9);
      rtc_test_wait_until (count_at_least_2_cb, &received, WAIT_MS);
      g_assert_true (
        rtc_transport_send (RTC_TRANSPORT (ours), (const guint8 *) "from us", 7, &error));
      g_assert_no_error (error);
      rtc_test_wait_until (count_at_least_2_cb, &raw.received, WAIT_MS);
      g_assert_cmpint (state (ours), ==, RTC_TRANSPORT_STATE_CONNECTED);
    }

  g_source_remove (tick_id);
  rtc_transport_set_receive_func (RTC_TRANSPORT (mem_b), NULL, NULL, NULL);
  g_queue_clear_full (&raw.incoming, (GDestroyNotify) g_bytes_unref);
  gnutls_deinit (raw.session);
  rtc_test_spin (20);
  g_assert_finalize_object (ours);
  g_assert_finalize_object (mem_a);
  g_assert_finalize_object (mem_b);
}

/* --- DTLS over two real ICE transports on 127.0.0.1 --- */

typedef struct
{
  RtcIceTransport *ice_a;
  RtcIceTransport *ice_b;
} IcePair;

static void
candidate_cb (RtcIceTransport *ice, const char *candidate, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (rtc_ice_transport_add_remote_candidate (RTC_ICE_TRANSPORT (user_data),
                                                         candidate, &error));
  g_assert_no_error (error);
}

static void
test_over_ice (void)
{
  g_autoptr (RtcConfiguration) config = rtc_configuration_new ();
  const char *addresses[] = { "127.0.0.1", NULL };
  RtcIceTransport *ice_a;
  RtcIceTransport *ice_b;
  g_autofree char *ufrag_a = NULL, *pwd_a = NULL, *ufrag_b = NULL, *pwd_b = NULL;
  guint8 fp_a[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN];
  g_autoptr (GError) error = NULL;
  Pair pair;

  config->local_addresses = g_strdupv ((GStrv) addresses);
  config->ice_timeout_ms = 10000;
  ice_a = rtc_ice_transport_new (config, TRUE);
  ice_b = rtc_ice_transport_new (config, FALSE);
  g_signal_connect (ice_a, "local-candidate", G_CALLBACK (candidate_cb), ice_b);
  g_signal_connect (ice_b, "local-candidate", G_CALLBACK (candidate_cb), ice_a);
  rtc_ice_transport_get_local_credentials (ice_a, &ufrag_a, &pwd_a);
  rtc_ice_transport_get_local_credentials (ice_b, &ufrag_b, &pwd_b);
  rtc_ice_transport_set_remote_credentials (ice_a, ufrag_b, pwd_b);
  rtc_ice_transport_set_remote_credentials (ice_b, ufrag_a, pwd_a);

  memset (&pair, 0, sizeof pair);
  pair.order_ok = TRUE;
  rtc_certificate_get_fingerprint (cert_a, fp_a);
  rtc_certificate_get_fingerprint (cert_b, fp_b);
  pair.a = rtc_dtls_transport_new (RTC_TRANSPORT (ice_a), cert_a, TRUE, fp_b);
  pair.b = rtc_dtls_transport_new (RTC_TRANSPORT (ice_b), cert_b, FALSE, fp_a);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair.a), receive_cb, &pair, NULL);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair.b), receive_cb, &pair, NULL);

  g_assert_true (rtc_ice_transport_gather (ice_a, &error));
  g_assert_true (rtc_ice_transport_gather (ice_b, &error));
  g_assert_no_error (error);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);

  /* With 4 MiB socket buffers nothing is lost on loopback. */
  send_records (pair.a, N_RECORDS, 1000);
  send_records (pair.b, N_RECORDS, 1000);
  rtc_test_wait_until (all_received, &pair, WAIT_MS);

  rtc_transport_close (RTC_TRANSPORT (pair.a));
  rtc_test_wait_until (closed_cb, pair.b, WAIT_MS);

  g_assert_finalize_object (pair.a);
  g_assert_finalize_object (pair.b);
  g_assert_finalize_object (ice_a);
  g_assert_finalize_object (ice_b);
  rtc_test_spin (50); /* the agents close asynchronously */
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  cert_a = rtc_certificate_generate (&error);
  g_assert_no_error (error);
  cert_b = rtc_certificate_generate (&error);
  g_assert_no_error (error);

  g_test_add_func ("/rtc/certificate/generate", test_certificate);
  g_test_add_func ("/rtc/certificate/generate-async", test_certificate_async);
  g_test_add_func ("/rtc/dtls/new-destroy", test_new_destroy);
  g_test_add_func ("/rtc/dtls/handshake-and-data", test_handshake_and_data);
  g_test_add_func ("/rtc/dtls/server-closes", test_server_closes);
  g_test_add_func ("/rtc/dtls/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func ("/rtc/dtls/garbage", test_garbage);
  g_test_add_func ("/rtc/dtls/corrupted-records", test_corrupted_records);
  g_test_add_func ("/rtc/dtls/handshake-loss", test_handshake_loss);
  g_test_add_func ("/rtc/dtls/record-cut-off", test_record_cut_off);
  g_test_add_func ("/rtc/dtls/records-packed", test_records_packed);
  g_test_add_func ("/rtc/dtls/handshake-timeout", test_handshake_loss_total);
  g_test_add_func ("/rtc/dtls/close-during-handshake", test_close_during_handshake);
  g_test_add_func ("/rtc/dtls/lower-closes", test_lower_fails);
  g_test_add_data_func ("/rtc/dtls/pion-like/we-are-server", GINT_TO_POINTER (0), test_pion_like);
  g_test_add_data_func ("/rtc/dtls/pion-like/we-are-client", GINT_TO_POINTER (1), test_pion_like);
  g_test_add_data_func ("/rtc/dtls/renegotiation-refused/peer-is-client", GINT_TO_POINTER (2),
                        test_pion_like);
  g_test_add_data_func ("/rtc/dtls/renegotiation-refused/peer-is-server", GINT_TO_POINTER (3),
                        test_pion_like);
  g_test_add_func ("/rtc/dtls/over-ice", test_over_ice);

  ret = g_test_run ();

  g_assert_finalize_object (cert_a);
  g_assert_finalize_object (cert_b);
  return ret;
}
