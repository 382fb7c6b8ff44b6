/* test-rtc-peer-connection.c: two RtcPeerConnection in one process over 127.0.0.1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-error.h"
#include "rtc-ice-transport.h"
#include "rtc-peer-connection.h"
#include "rtc-sctp-transport.h"

#define CHUNK (64 * 1024)
#define HIGH_WATER (1024 * 1024)
#define LOW_WATER (256 * 1024)

typedef struct
{
  RtcPeerConnection *a; /* offerer */
  RtcPeerConnection *b; /* answerer */
  RtcDataChannel *channel_a;  /* created by a */
  GPtrArray *channels_a; /* announced by "data-channel" */
  GPtrArray *channels_b;
  gboolean trickle;
  gboolean gathered_a;
  gboolean gathered_b;
  GAsyncResult *result;
  GQueue texts; /* char*, received on any watched channel */
  guint closed;

  /* bulk transfer a → b */
  guint64 total;
  guint64 sent;
  guint64 received;
  GChecksum *sent_sum;
  GChecksum *received_sum;
  guint64 peak_buffered;
} Fixture;

static RtcConfiguration *
make_config (guint timeout_ms)
{
  RtcConfiguration *config = rtc_configuration_new ();
  const char *addresses[] = { "127.0.0.1", NULL };

  g_strfreev (config->local_addresses);
  config->local_addresses = g_strdupv ((char **) addresses);
  config->ice_timeout_ms = timeout_ms;
  return config;
}

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates until *flag is set, failing the test after @timeout_s. */
#define WAIT_UNTIL(cond, timeout_s)                                                  \
  G_STMT_START                                                                       \
  {                                                                                  \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_s) * G_USEC_PER_SEC;       \
    guint wake_ = g_timeout_add (50, wake_cb, NULL);                                 \
    while (!(cond))                                                                  \
      {                                                                              \
        g_main_context_iteration (NULL, TRUE);                                       \
        if (g_get_monotonic_time () > deadline_)                                     \
          g_error ("timed out waiting for %s", #cond);                               \
      }                                                                              \
    g_source_remove (wake_);                                                         \
  }                                                                                  \
  G_STMT_END

static void
result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
}

static void
message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_string, Fixture *f)
{
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  if (is_string)
    {
      g_queue_push_tail (&f->texts, g_strndup ((const char *) bytes, length));
      return;
    }
  f->received += length;
  if (f->received_sum != NULL)
    g_checksum_update (f->received_sum, bytes, length);
}

static void
closed_cb (RtcDataChannel *channel, Fixture *f)
{
  f->closed++;
}

static void
watch (Fixture *f, RtcDataChannel *channel)
{
  g_signal_connect (channel, "message", G_CALLBACK (message_cb), f);
  g_signal_connect (channel, "closed", G_CALLBACK (closed_cb), f);
}

static void
data_channel_cb (RtcPeerConnection *pc, RtcDataChannel *channel, GPtrArray *array)
{
  Fixture *f = g_object_get_data (G_OBJECT (pc), "fixture");

  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_OPEN);
  watch (f, channel);
  g_ptr_array_add (array, g_object_ref (channel));
}

static void
candidate_cb (RtcPeerConnection *pc, const char *candidate, RtcPeerConnection *other)
{
  g_autoptr (GError) error = NULL;
  Fixture *f = g_object_get_data (G_OBJECT (pc), "fixture");

  g_assert_true (g_str_has_prefix (candidate, "candidate:"));
  if (!f->trickle)
    return;
  g_assert_true (rtc_peer_connection_add_remote_candidate (other, candidate, &error));
  g_assert_no_error (error);
}

static void
gathered_cb (RtcPeerConnection *pc, gboolean *flag)
{
  *flag = TRUE;
}

/* (Re)creates a and b with their own configurations. */
static void
set_up_peers (Fixture *f, const RtcConfiguration *config_a, const RtcConfiguration *config_b)
{
  g_clear_object (&f->a);
  g_clear_object (&f->b);
  f->a = rtc_peer_connection_new (config_a);
  f->b = rtc_peer_connection_new (config_b);
  g_object_set_data (G_OBJECT (f->a), "fixture", f);
  g_object_set_data (G_OBJECT (f->b), "fixture", f);
  g_signal_connect (f->a, "data-channel", G_CALLBACK (data_channel_cb), f->channels_a);
  g_signal_connect (f->b, "data-channel", G_CALLBACK (data_channel_cb), f->channels_b);
  g_signal_connect (f->a, "local-candidate", G_CALLBACK (candidate_cb), f->b);
  g_signal_connect (f->b, "local-candidate", G_CALLBACK (candidate_cb), f->a);
  g_signal_connect (f->a, "gathering-done", G_CALLBACK (gathered_cb), &f->gathered_a);
  g_signal_connect (f->b, "gathering-done", G_CALLBACK (gathered_cb), &f->gathered_b);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcConfiguration) config
      = make_config (GPOINTER_TO_UINT (data) != 0 ? GPOINTER_TO_UINT (data) : 10000);

  g_queue_init (&f->texts);
  f->channels_a = g_ptr_array_new_with_free_func (g_object_unref);
  f->channels_b = g_ptr_array_new_with_free_func (g_object_unref);
  set_up_peers (f, config, config);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->channel_a);
  g_ptr_array_unref (f->channels_a);
  g_ptr_array_unref (f->channels_b);
  if (f->a != NULL)
    g_assert_finalize_object (f->a);
  if (f->b != NULL)
    g_assert_finalize_object (f->b);
  g_queue_clear_full (&f->texts, g_free);
  g_clear_pointer (&f->sent_sum, g_checksum_free);
  g_clear_pointer (&f->received_sum, g_checksum_free);
  /* Let the transports finish closing. */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

static char *
create (Fixture *f, RtcPeerConnection *pc, gboolean offer)
{
  g_autoptr (GError) error = NULL;
  char *sdp;

  g_clear_object (&f->result);
  if (offer)
    rtc_peer_connection_create_offer_async (pc, NULL, result_cb, f);
  else
    rtc_peer_connection_create_answer_async (pc, NULL, result_cb, f);
  WAIT_UNTIL (f->result != NULL, 20);
  sdp = offer ? rtc_peer_connection_create_offer_finish (pc, f->result, &error)
              : rtc_peer_connection_create_answer_finish (pc, f->result, &error);
  g_clear_object (&f->result);
  g_assert_no_error (error);
  g_assert_nonnull (sdp);
  return sdp;
}

/* Offer/answer; candidates trickled, or listed in one full SDP each way.
 * @mangle_offer may change the offer on its way. */
static void
negotiate (Fixture *f, gboolean trickle, char *(*mangle_offer) (const char *sdp))
{
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = NULL;
  g_autofree char *answer = NULL;

  f->trickle = trickle;
  offer = create (f, f->a, TRUE);
  g_assert_nonnull (strstr (offer, "a=setup:actpass"));
  if (!trickle)
    {
      WAIT_UNTIL (f->gathered_a, 20);
      g_free (offer);
      offer = rtc_peer_connection_get_local_description (f->a);
      g_assert_nonnull (strstr (offer, "a=candidate:"));
      g_assert_nonnull (strstr (offer, "a=end-of-candidates"));
    }
  if (mangle_offer != NULL)
    {
      char *changed = mangle_offer (offer);

      g_free (offer);
      offer = changed;
    }
  g_assert_true (
      rtc_peer_connection_set_remote_description (f->b, RTC_SDP_TYPE_OFFER, offer, &error));
  g_assert_no_error (error);

  answer = create (f, f->b, FALSE);
  g_assert_nonnull (strstr (answer, "a=setup:active"));
  if (!trickle)
    {
      WAIT_UNTIL (f->gathered_b, 20);
      g_free (answer);
      answer = rtc_peer_connection_get_local_description (f->b);
      g_assert_nonnull (strstr (answer, "a=candidate:"));
    }
  g_assert_true (
      rtc_peer_connection_set_remote_description (f->a, RTC_SDP_TYPE_ANSWER, answer, &error));
  g_assert_no_error (error);
}

static gboolean
both_connected (Fixture *f)
{
  return rtc_peer_connection_get_connection_state (f->a) == RTC_PEER_CONNECTION_STATE_CONNECTED
         && rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_CONNECTED;
}

static void
connect_with_channel (Fixture *f, gboolean trickle)
{
  g_autoptr (GError) error = NULL;

  /* Created before the connection: opened when SCTP is up. */
  f->channel_a = rtc_peer_connection_create_data_channel (f->a, "data", "backup", &error);
  g_assert_no_error (error);
  watch (f, f->channel_a);
  negotiate (f, trickle, NULL);
  WAIT_UNTIL (both_connected (f), 20);
  WAIT_UNTIL (f->channels_b->len == 1, 10);
  g_assert_cmpint (rtc_data_channel_get_ready_state (f->channel_a), ==,
                   RTC_DATA_CHANNEL_STATE_OPEN);
}

static void
test_new_destroy (void)
{
  RtcPeerConnection *pc = rtc_peer_connection_new (NULL);

  g_assert_cmpint (rtc_peer_connection_get_connection_state (pc), ==,
                   RTC_PEER_CONNECTION_STATE_NEW);
  g_assert_null (rtc_peer_connection_get_local_description (pc));
  g_assert_finalize_object (pc);
}

static void
exchange_texts (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  RtcDataChannel *seen = g_ptr_array_index (f->channels_b, 0);
  g_autoptr (RtcDataChannel) from_b = NULL;
  char *text;

  g_assert_cmpstr (rtc_data_channel_get_label (seen), ==, "data");
  g_assert_cmpstr (rtc_data_channel_get_protocol (seen), ==, "backup");
  /* The answerer is the DTLS client: even ids; the offerer odd. */
  g_assert_cmpint (rtc_data_channel_get_id (f->channel_a) % 2, ==, 1);

  g_assert_true (rtc_data_channel_send_text (f->channel_a, "ping", &error));
  WAIT_UNTIL (f->texts.length == 1, 10);
  text = g_queue_pop_head (&f->texts);
  g_assert_cmpstr (text, ==, "ping");
  g_free (text);
  g_assert_true (rtc_data_channel_send_text (seen, "pong", &error));
  WAIT_UNTIL (f->texts.length == 1, 10);
  text = g_queue_pop_head (&f->texts);
  g_assert_cmpstr (text, ==, "pong");
  g_free (text);

  /* A channel opened by the answerer after the connection is up. */
  from_b = rtc_peer_connection_create_data_channel (f->b, "second", "", &error);
  g_assert_no_error (error);
  g_assert_cmpint (rtc_data_channel_get_id (from_b) % 2, ==, 0);
  WAIT_UNTIL (f->channels_a->len == 1, 10);
  g_assert_cmpstr (rtc_data_channel_get_label (g_ptr_array_index (f->channels_a, 0)), ==, "second");
  g_assert_true (rtc_data_channel_send_text (from_b, "hello", &error));
  WAIT_UNTIL (f->texts.length == 1, 10);
}

static void
test_trickle (Fixture *f, gconstpointer data)
{
  connect_with_channel (f, TRUE);
  exchange_texts (f);
}

static void
test_full_sdp (Fixture *f, gconstpointer data)
{
  connect_with_channel (f, FALSE);
  exchange_texts (f);
}

static void
pump (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  /* Pause above the high-water mark; "buffered-amount-low" resumes. */
  while (f->sent < f->total && rtc_data_channel_get_buffered_amount (f->channel_a) < HIGH_WATER)
    {
      guint8 *chunk = g_malloc (CHUNK);
      g_autoptr (GBytes) bytes = NULL;

      for (gsize i = 0; i < CHUNK; i += 8)
        {
          guint64 v = (f->sent + i) * 0x9E3779B97F4A7C15ull;

          memcpy (chunk + i, &v, 8);
        }
      g_checksum_update (f->sent_sum, chunk, CHUNK);
      bytes = g_bytes_new_take (chunk, CHUNK);
      if (!rtc_data_channel_send_bytes (f->channel_a, bytes, &error))
        return;
      f->sent += CHUNK;
      f->peak_buffered
          = MAX (f->peak_buffered, rtc_data_channel_get_buffered_amount (f->channel_a));
    }
}

static void
low_cb (RtcDataChannel *channel, Fixture *f)
{
  pump (f);
}

static void
start_bulk (Fixture *f, guint64 total)
{
  f->total = total;
  f->sent_sum = g_checksum_new (G_CHECKSUM_SHA256);
  f->received_sum = g_checksum_new (G_CHECKSUM_SHA256);
  rtc_data_channel_set_buffered_amount_low_threshold (f->channel_a, LOW_WATER);
  g_signal_connect (f->channel_a, "buffered-amount-low", G_CALLBACK (low_cb), f);
  pump (f);
}

static void
test_bulk (Fixture *f, gconstpointer data)
{
  gint64 start;
  double seconds;

  connect_with_channel (f, TRUE);
  start = g_get_monotonic_time ();
  start_bulk (f, 64 * 1024 * 1024);
  WAIT_UNTIL (f->received == f->total, 60);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("64 MiB over ICE+DTLS+SCTP on 127.0.0.1 (one process): %.2f s, %.1f MB/s, "
                  "peak buffered %" G_GUINT64_FORMAT, seconds, f->total / seconds / 1e6,
                  f->peak_buffered);
  g_assert_cmpuint (f->peak_buffered, <, HIGH_WATER + CHUNK);
  g_assert_cmpstr (g_checksum_get_string (f->received_sum), ==,
                   g_checksum_get_string (f->sent_sum));
  /* Loopback carries the largest DTLS record: each side probed it. */
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (rtc_peer_connection_get_ice_transport (f->a)),
                    ==, 16420);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (rtc_peer_connection_get_ice_transport (f->b)),
                    ==, 16420);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_packet_size (f->a), >, 16000);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_packet_size (f->b), >, 16000);
}

/* A peer that keeps its packets small (RtcConfiguration.fixed_packet_size,
 * as pion, aiortc, browsers and older versions, none of which says
 * a=x-max-datagram) is neither probed nor sent anything larger, and
 * probes nothing itself: both sides stay at RTC_SCTP_PACKET_SIZE, and
 * 8 MiB arrive intact. */
static void
test_fixed_packet_size (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcConfiguration) config_a = make_config (10000);
  g_autoptr (RtcConfiguration) config_b = make_config (10000);
  g_autofree char *offer = NULL;
  g_autofree char *answer = NULL;

  config_b->fixed_packet_size = TRUE;
  set_up_peers (f, config_a, config_b);
  connect_with_channel (f, TRUE);

  offer = rtc_peer_connection_get_local_description (f->a);
  answer = rtc_peer_connection_get_local_description (f->b);
  g_assert_nonnull (strstr (offer, "a=x-max-datagram:65507\r\n"));
  g_assert_null (strstr (answer, "x-max-datagram"));
  start_bulk (f, 8 * 1024 * 1024);
  WAIT_UNTIL (f->received == f->total, 60);
  g_assert_cmpstr (g_checksum_get_string (f->received_sum), ==,
                   g_checksum_get_string (f->sent_sum));
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (rtc_peer_connection_get_ice_transport (f->a)),
                    ==, RTC_ICE_BASE_DATAGRAM);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (rtc_peer_connection_get_ice_transport (f->b)),
                    ==, RTC_ICE_BASE_DATAGRAM);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_packet_size (f->a), ==, RTC_SCTP_PACKET_SIZE);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_packet_size (f->b), ==, RTC_SCTP_PACKET_SIZE);
}

static void
test_close (Fixture *f, gconstpointer data)
{
  connect_with_channel (f, TRUE);
  rtc_peer_connection_close (f->a);
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), ==,
                   RTC_PEER_CONNECTION_STATE_CLOSED);
  /* Both ends of the channel close; so does the peer. */
  WAIT_UNTIL (f->closed == 2, 10);
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_CLOSED,
              10);
}

static char *
wrong_fingerprint (const char *sdp)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "a=fingerprint:sha-256 "))
      {
        /* Flip the first hex digit. */
        char *digit = lines[i] + strlen ("a=fingerprint:sha-256 ");

        *digit = *digit == 'A' ? 'B' : 'A';
      }
  return g_strjoinv ("\r\n", lines);
}

static void
test_wrong_fingerprint (Fixture *f, gconstpointer data)
{
  const GError *error;

  negotiate (f, TRUE, wrong_fingerprint);
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_FAILED,
              20);
  error = rtc_peer_connection_get_error (f->b);
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH);
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), !=,
                   RTC_PEER_CONNECTION_STATE_CONNECTED);
}

static void
test_close_during_handshake (Fixture *f, gconstpointer data)
{
  negotiate (f, TRUE, NULL);
  rtc_peer_connection_close (f->a);
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), ==,
                   RTC_PEER_CONNECTION_STATE_CLOSED);
  /* The other side gives up within its timeout (3 s here). */
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_FAILED
                  || rtc_peer_connection_get_connection_state (f->b)
                         == RTC_PEER_CONNECTION_STATE_CLOSED,
              20);
}

static void
test_peer_destroyed (Fixture *f, gconstpointer data)
{
  RtcPeerConnection *b;
  gint64 start;

  connect_with_channel (f, TRUE);
  start_bulk (f, G_MAXUINT64 / 2);
  WAIT_UNTIL (f->received >= 4 * 1024 * 1024, 20);

  /* b vanishes without closing: a fails, quickly. */
  b = g_steal_pointer (&f->b);
  g_ptr_array_set_size (f->channels_b, 0);
  g_assert_finalize_object (b);
  start = g_get_monotonic_time ();
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->a) == RTC_PEER_CONNECTION_STATE_FAILED,
              20);
  g_test_message ("failure seen after %.2f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_nonnull (rtc_peer_connection_get_error (f->a));
  WAIT_UNTIL (rtc_data_channel_get_ready_state (f->channel_a) == RTC_DATA_CHANNEL_STATE_CLOSED, 5);
}

/* An abort in the middle of a transfer, even with the channel's clean close
 * already asked for (its stream reset waits for the data in flight): the
 * peer's channel closes under it, with an error, never cleanly (the original
 * tool would take a clean close for the end of a file). */
static void
test_abort (Fixture *f, gconstpointer data)
{
  RtcDataChannel *channel_b;
  const GError *error;

  connect_with_channel (f, TRUE);
  channel_b = g_ptr_array_index (f->channels_b, 0);
  start_bulk (f, 64 * 1024 * 1024);
  WAIT_UNTIL (f->received >= 1024 * 1024, 20);
  g_signal_handlers_disconnect_by_func (f->channel_a, low_cb, f);
  rtc_data_channel_close (f->channel_a);

  rtc_peer_connection_abort (f->a);
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), ==,
                   RTC_PEER_CONNECTION_STATE_CLOSED);
  /* Ours closes under it at once, with the abort as its error. */
  g_assert_cmpint (rtc_data_channel_get_ready_state (f->channel_a), ==,
                   RTC_DATA_CHANNEL_STATE_CLOSED);
  error = rtc_data_channel_get_close_error (f->channel_a);
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "aborted"));
  /* Idempotent, and close() after it changes nothing. */
  rtc_peer_connection_abort (f->a);
  rtc_peer_connection_close (f->a);

  /* The peer's closes under it, on the ABORT (well before its 12 s of
   * silence), and its connection fails. */
  WAIT_UNTIL (rtc_data_channel_get_ready_state (channel_b) == RTC_DATA_CHANNEL_STATE_CLOSED, 5);
  error = rtc_data_channel_get_close_error (channel_b);
  g_assert_nonnull (error);
  g_assert_error ((GError *) error, RTC_ERROR, RTC_ERROR_SCTP_FAILED);
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_FAILED,
              5);
  g_assert_cmpuint (f->received, <, f->total);
  g_assert_cmpuint (f->closed, ==, 2);
}

/* --- lanes: several SCTP associations over one DTLS transport --- */

static void
lane_channel_cb (RtcPeerConnection *pc, guint lane, RtcDataChannel *channel, GPtrArray *array)
{
  Fixture *f = g_object_get_data (G_OBJECT (pc), "fixture");

  g_assert_cmpuint (lane, >=, 1);
  g_assert_cmpuint (lane, <, rtc_peer_connection_get_sctp_lanes (pc));
  g_assert_cmpstr (rtc_data_channel_get_label (channel), ==, "lane");
  if (array->len < lane + 1)
    g_ptr_array_set_size (array, lane + 1);
  g_assert_null (g_ptr_array_index (array, lane));
  g_ptr_array_index (array, lane) = g_object_ref (channel);
  watch (f, channel);
}

static void
unref_lane (gpointer channel)
{
  if (channel != NULL)
    g_object_unref (channel);
}

static guint
count_open (GPtrArray *lanes)
{
  guint open = 0;

  for (guint i = 0; i < lanes->len; i++)
    {
      RtcDataChannel *channel = g_ptr_array_index (lanes, i);

      if (channel != NULL && rtc_data_channel_get_ready_state (channel) == RTC_DATA_CHANNEL_STATE_OPEN)
        open++;
    }
  return open;
}

static void
use_lanes (Fixture *f, guint lanes_a, guint lanes_b, GPtrArray *out_a, GPtrArray *out_b)
{
  g_autoptr (RtcConfiguration) config_a = make_config (10000);
  g_autoptr (RtcConfiguration) config_b = make_config (10000);

  config_a->sctp_lanes = lanes_a;
  config_b->sctp_lanes = lanes_b;
  set_up_peers (f, config_a, config_b);
  g_signal_connect (f->a, "lane-channel", G_CALLBACK (lane_channel_cb), out_a);
  g_signal_connect (f->b, "lane-channel", G_CALLBACK (lane_channel_cb), out_b);
}

static char *
check_offer_lanes (const char *sdp)
{
  g_assert_nonnull (strstr (sdp, "a=x-sctp-lanes:4\r\n"));
  return g_strdup (sdp);
}

/* a offers 4 lanes, b takes 3: three associations, a channel on each of
 * lanes 1 and 2 (opened by b, the DTLS client), each carrying messages both
 * ways, beside lane 0's "data"; then a clean close of everything. */
static void
test_lanes (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) lanes_a = g_ptr_array_new_with_free_func (unref_lane);
  g_autoptr (GPtrArray) lanes_b = g_ptr_array_new_with_free_func (unref_lane);
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;

  use_lanes (f, 4, 3, lanes_a, lanes_b);
  f->channel_a = rtc_peer_connection_create_data_channel (f->a, "data", "", &error);
  g_assert_no_error (error);
  watch (f, f->channel_a);
  negotiate (f, TRUE, check_offer_lanes);
  answer = rtc_peer_connection_get_local_description (f->b);
  g_assert_nonnull (strstr (answer, "a=x-sctp-lanes:3\r\n"));
  g_assert_cmpuint (rtc_peer_connection_get_sctp_lanes (f->a), ==, 3);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_lanes (f->b), ==, 3);

  WAIT_UNTIL (both_connected (f), 20);
  WAIT_UNTIL (f->channels_b->len == 1 && count_open (lanes_a) == 2 && count_open (lanes_b) == 2,
              10);
  g_assert_cmpuint (f->channels_a->len, ==, 0);

  for (guint lane = 1; lane < 3; lane++)
    {
      g_autofree char *from_a = g_strdup_printf ("a on lane %u", lane);
      g_autofree char *from_b = g_strdup_printf ("b on lane %u", lane);

      g_assert_true (rtc_data_channel_send_text (g_ptr_array_index (lanes_a, lane), from_a, &error));
      g_assert_no_error (error);
      g_assert_true (rtc_data_channel_send_text (g_ptr_array_index (lanes_b, lane), from_b, &error));
      g_assert_no_error (error);
    }
  g_assert_true (rtc_data_channel_send_text (f->channel_a, "a on lane 0", &error));
  g_assert_no_error (error);
  WAIT_UNTIL (g_queue_get_length (&f->texts) == 5, 10);
  for (const char *const *text = (const char *const[]) { "a on lane 0", "a on lane 1", "a on lane 2",
                                                         "b on lane 1", "b on lane 2", NULL };
       *text != NULL; text++)
    g_assert_nonnull (g_queue_find_custom (&f->texts, *text, (GCompareFunc) strcmp));

  /* Closing the channels first ends them cleanly on both sides. */
  rtc_data_channel_close (f->channel_a);
  for (guint lane = 1; lane < 3; lane++)
    rtc_data_channel_close (g_ptr_array_index (lanes_a, lane));
  WAIT_UNTIL (f->closed == 2 + 2 * 2, 10);
  for (guint lane = 1; lane < 3; lane++)
    {
      g_assert_null (rtc_data_channel_get_close_error (g_ptr_array_index (lanes_a, lane)));
      g_assert_null (rtc_data_channel_get_close_error (g_ptr_array_index (lanes_b, lane)));
    }
  rtc_peer_connection_close (f->a);
  WAIT_UNTIL (rtc_peer_connection_get_connection_state (f->b) == RTC_PEER_CONNECTION_STATE_CLOSED,
              10);
}

/* A peer that does not offer lanes (pion, aiortc, a browser, an older
 * version) gets one association and no lane attribute in the answer. */
static void
test_lanes_one_side (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) lanes_a = g_ptr_array_new_with_free_func (unref_lane);
  g_autoptr (GPtrArray) lanes_b = g_ptr_array_new_with_free_func (unref_lane);
  g_autofree char *offer = NULL;

  use_lanes (f, 4, 0, lanes_a, lanes_b);
  connect_with_channel (f, TRUE);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_lanes (f->a), ==, 1);
  g_assert_cmpuint (rtc_peer_connection_get_sctp_lanes (f->b), ==, 1);
  offer = rtc_peer_connection_get_local_description (f->b);
  g_assert_null (strstr (offer, "x-sctp-lanes"));
  exchange_texts (f);
  g_assert_cmpuint (lanes_a->len, ==, 0);
  g_assert_cmpuint (lanes_b->len, ==, 0);
}

/* What the session's signaling does for a restart, in one process: each
 * side's new credentials and candidates go to the other as soon as they
 * are ready. */
static void
restart_ready_cb (RtcPeerConnection *pc, RtcPeerConnection *other)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ufrag = NULL;
  g_autofree char *pwd = NULL;
  g_auto (GStrv) candidates = NULL;

  g_assert_true (rtc_peer_connection_get_restart_parameters (pc, &ufrag, &pwd, &candidates));
  g_assert_cmpuint (g_strv_length (candidates), >=, 1);
  g_assert_true (rtc_peer_connection_set_remote_restart (other, ufrag, pwd,
                                                         (const char *const *) candidates,
                                                         &error));
  g_assert_no_error (error);
}

static char *
local_ufrag (RtcPeerConnection *pc)
{
  g_autofree char *sdp = rtc_peer_connection_get_local_description (pc);
  const char *line = strstr (sdp, "a=ice-ufrag:");

  g_assert_nonnull (line);
  return g_strndup (line, strcspn (line, "\r\n"));
}

/* One side restarts ICE in the middle of a 32 MiB transfer: new
 * credentials, new sockets (a new selected pair), the same DTLS and SCTP.
 * Every byte arrives once and in order, and texts go both ways after. */
static void
test_ice_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcIceTransport) old_a = NULL;
  g_autofree char *old_pair_a = NULL;
  g_autofree char *new_pair_a = NULL;
  g_autofree char *old_ufrag_a = NULL;
  g_autofree char *new_ufrag_a = NULL;
  RtcDataChannel *seen;
  char *text;

  connect_with_channel (f, TRUE);
  old_a = g_object_ref (rtc_peer_connection_get_ice_transport (f->a));
  old_pair_a = rtc_ice_transport_dup_selected_pair (old_a);
  old_ufrag_a = local_ufrag (f->a);
  g_signal_connect (f->a, "ice-restart-ready", G_CALLBACK (restart_ready_cb), f->b);
  g_signal_connect (f->b, "ice-restart-ready", G_CALLBACK (restart_ready_cb), f->a);

  /* Not before the connection is up elsewhere: a new one is refused. */
  {
    g_autoptr (RtcPeerConnection) idle = rtc_peer_connection_new (NULL);

    g_assert_false (rtc_peer_connection_restart_ice (idle, &error));
    g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_STATE);
    g_clear_error (&error);
  }

  start_bulk (f, 32 * 1024 * 1024);
  WAIT_UNTIL (f->received >= 4 * 1024 * 1024, 30);
  /* b restarts when a's parameters reach it. */
  g_assert_true (rtc_peer_connection_restart_ice (f->a, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (rtc_peer_connection_get_ice_restarts (f->a) == 1
              && rtc_peer_connection_get_ice_restarts (f->b) == 1, 20);

  g_assert_true (rtc_peer_connection_get_ice_transport (f->a) != old_a);
  g_assert_cmpint (rtc_transport_get_state (RTC_TRANSPORT (old_a)), ==,
                   RTC_TRANSPORT_STATE_CLOSED);
  new_pair_a = rtc_ice_transport_dup_selected_pair (rtc_peer_connection_get_ice_transport (f->a));
  g_test_message ("before: %s; after: %s", old_pair_a, new_pair_a);
  g_assert_cmpstr (new_pair_a, !=, old_pair_a);
  new_ufrag_a = local_ufrag (f->a);
  g_assert_cmpstr (new_ufrag_a, !=, old_ufrag_a);

  WAIT_UNTIL (f->received == f->total, 60);
  g_assert_cmpstr (g_checksum_get_string (f->received_sum), ==,
                   g_checksum_get_string (f->sent_sum));
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), ==,
                   RTC_PEER_CONNECTION_STATE_CONNECTED);
  /* The new pair was probed as the first was. */
  WAIT_UNTIL (rtc_ice_transport_is_path_mtu_settled (rtc_peer_connection_get_ice_transport (f->b)),
              5);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (rtc_peer_connection_get_ice_transport (f->b)),
                    ==, 16420);

  seen = g_ptr_array_index (f->channels_b, 0);
  g_assert_true (rtc_data_channel_send_text (seen, "after", &error));
  WAIT_UNTIL (f->texts.length == 1, 10);
  text = g_queue_pop_head (&f->texts);
  g_assert_cmpstr (text, ==, "after");
  g_free (text);
}

static gboolean
restart_running (RtcPeerConnection *pc)
{
  g_autofree char *ufrag = NULL;
  g_autofree char *pwd = NULL;
  g_auto (GStrv) candidates = NULL;

  return rtc_peer_connection_get_restart_parameters (pc, &ufrag, &pwd, &candidates);
}

/* A restart the peer never answers gives up after the ICE timeout; the
 * old path goes on carrying the connection. */
static void
test_ice_restart_unanswered (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RtcIceTransport *old_a;
  gboolean ready = FALSE;
  char *text;

  connect_with_channel (f, TRUE);
  old_a = rtc_peer_connection_get_ice_transport (f->a);
  g_signal_connect (f->a, "ice-restart-ready", G_CALLBACK (gathered_cb), &ready);
  g_assert_true (rtc_peer_connection_restart_ice (f->a, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (ready, 10);
  g_assert_true (rtc_peer_connection_is_restarting_ice (f->a));
  WAIT_UNTIL (!restart_running (f->a), 10);
  g_assert_false (rtc_peer_connection_is_restarting_ice (f->a));
  g_assert_cmpuint (rtc_peer_connection_get_ice_restarts (f->a), ==, 0);
  g_assert_true (rtc_peer_connection_get_ice_transport (f->a) == old_a);
  g_assert_cmpint (rtc_peer_connection_get_connection_state (f->a), ==,
                   RTC_PEER_CONNECTION_STATE_CONNECTED);
  g_assert_true (rtc_data_channel_send_text (f->channel_a, "still", &error));
  WAIT_UNTIL (f->texts.length == 1, 10);
  text = g_queue_pop_head (&f->texts);
  g_assert_cmpstr (text, ==, "still");
  g_free (text);
}

#define ADD(name, func, timeout)                                                                   \
  g_test_add ("/rtc/peer-connection/" name, Fixture, GUINT_TO_POINTER (timeout), fixture_set_up,   \
              func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/peer-connection/new-destroy", test_new_destroy);
  ADD ("trickle", test_trickle, 0);
  ADD ("full-sdp", test_full_sdp, 0);
  ADD ("bulk", test_bulk, 0);
  ADD ("fixed-packet-size", test_fixed_packet_size, 0);
  ADD ("close", test_close, 0);
  ADD ("wrong-fingerprint", test_wrong_fingerprint, 0);
  ADD ("close-during-handshake", test_close_during_handshake, 3000);
  ADD ("peer-destroyed", test_peer_destroyed, 0);
  ADD ("abort", test_abort, 0);
  ADD ("lanes", test_lanes, 0);
  ADD ("lanes-one-side", test_lanes_one_side, 0);
  ADD ("ice-restart", test_ice_restart, 0);
  ADD ("ice-restart-unanswered", test_ice_restart_unanswered, 3000);

  return g_test_run ();
}
