/* test-rtc-data-channel.c: data channels and DCEP over SCTP on the in-process pair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-channel-router.h"
#include "rtc-data-channel.h"
#include "rtc-dcep.h"
#include "rtc-error.h"
#include "rtc-memory-transport.h"
#include "rtc-sctp-transport.h"

typedef struct
{
  GBytes *data;
  gboolean is_string;
} Message;

typedef struct
{
  RtcMemoryTransport *mem_a;
  RtcMemoryTransport *mem_b;
  RtcSctpTransport *a; /* DTLS client: even ids */
  RtcSctpTransport *b;
  RtcChannelRouter *ra; /* the data channels over a */
  RtcChannelRouter *rb;
  GPtrArray *channels_a; /* announced by "data-channel" */
  GPtrArray *channels_b;
  GQueue messages; /* Message, on any channel we watch */
  gsize received_bytes;
  GChecksum *checksum;
  guint closed;
  guint opened;
  guint low;
} Fixture;

static void
message_free (Message *m)
{
  g_bytes_unref (m->data);
  g_free (m);
}

static void
channel_message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_string, Fixture *f)
{
  f->received_bytes += g_bytes_get_size (data);
  if (f->checksum != NULL)
    {
      g_checksum_update (f->checksum, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
      return;
    }
  Message *m = g_new0 (Message, 1);
  m->data = g_bytes_ref (data);
  m->is_string = is_string;
  g_queue_push_tail (&f->messages, m);
}

static void
channel_closed_cb (RtcDataChannel *channel, Fixture *f)
{
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_CLOSED);
  f->closed++;
}

static void
channel_open_cb (RtcDataChannel *channel, Fixture *f)
{
  f->opened++;
}

static void
channel_low_cb (RtcDataChannel *channel, Fixture *f)
{
  g_assert_cmpuint (rtc_data_channel_get_buffered_amount (channel), <=,
                    rtc_data_channel_get_buffered_amount_low_threshold (channel));
  f->low++;
}

static void
watch (Fixture *f, RtcDataChannel *channel)
{
  g_signal_connect (channel, "message", G_CALLBACK (channel_message_cb), f);
  g_signal_connect (channel, "closed", G_CALLBACK (channel_closed_cb), f);
  g_signal_connect (channel, "open", G_CALLBACK (channel_open_cb), f);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (channel_low_cb), f);
}

static void
data_channel_cb (RtcChannelRouter *router, RtcDataChannel *channel, GPtrArray *array)
{
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_OPEN);
  g_ptr_array_add (array, g_object_ref (channel));
}

static void
iterate_for (guint *counter, guint target, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (*counter < target)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_queue_init (&f->messages);
  f->channels_a = g_ptr_array_new_with_free_func (g_object_unref);
  f->channels_b = g_ptr_array_new_with_free_func (g_object_unref);
  rtc_memory_transport_new_pair (&f->mem_a, &f->mem_b);
  f->a = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_a), TRUE, 5000, 5000);
  f->b = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_b), FALSE, 5000, 5000);
  f->ra = rtc_channel_router_new (f->a);
  f->rb = rtc_channel_router_new (f->b);
  g_signal_connect (f->ra, "data-channel", G_CALLBACK (data_channel_cb), f->channels_a);
  g_signal_connect (f->rb, "data-channel", G_CALLBACK (data_channel_cb), f->channels_b);
  rtc_memory_transport_connect (f->mem_a);
  while (rtc_transport_get_state (RTC_TRANSPORT (f->a)) != RTC_TRANSPORT_STATE_CONNECTED
         || rtc_transport_get_state (RTC_TRANSPORT (f->b)) != RTC_TRANSPORT_STATE_CONNECTED)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_ptr_array_unref (f->channels_a);
  g_ptr_array_unref (f->channels_b);
  g_assert_finalize_object (f->ra);
  g_assert_finalize_object (f->rb);
  g_assert_finalize_object (f->a);
  g_assert_finalize_object (f->b);
  g_assert_finalize_object (f->mem_a);
  g_assert_finalize_object (f->mem_b);
  g_queue_clear_full (&f->messages, (GDestroyNotify) message_free);
  if (f->checksum != NULL)
    g_checksum_free (f->checksum);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

static RtcDataChannel *
open_channel (Fixture *f, RtcSctpTransport *from, const char *label, const char *protocol)
{
  g_autoptr (GError) error = NULL;
  RtcDataChannel *channel = rtc_data_channel_new (label, protocol, TRUE);

  watch (f, channel);
  g_assert_true (rtc_channel_router_open_channel (from == f->a ? f->ra : f->rb, channel, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_OPEN);
  return channel;
}

static void
wait_channel (GPtrArray *array, guint count)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (array->len < count)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static void
test_new_destroy (void)
{
  RtcDataChannel *channel = rtc_data_channel_new ("data", "proto", TRUE);

  g_assert_cmpstr (rtc_data_channel_get_label (channel), ==, "data");
  g_assert_cmpstr (rtc_data_channel_get_protocol (channel), ==, "proto");
  g_assert_cmpint (rtc_data_channel_get_id (channel), ==, -1);
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==,
                   RTC_DATA_CHANNEL_STATE_CONNECTING);
  g_assert_finalize_object (channel);
}

static void
test_open_both_ways (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) from_a = open_channel (f, f->a, "data", "backup");
  g_autoptr (RtcDataChannel) from_b = NULL;
  g_autoptr (RtcDataChannel) from_a2 = NULL;
  RtcDataChannel *seen;

  g_assert_cmpuint (f->opened, ==, 1);
  g_assert_cmpint (rtc_data_channel_get_id (from_a) % 2, ==, 0);
  wait_channel (f->channels_b, 1);
  seen = g_ptr_array_index (f->channels_b, 0);
  g_assert_cmpstr (rtc_data_channel_get_label (seen), ==, "data");
  g_assert_cmpstr (rtc_data_channel_get_protocol (seen), ==, "backup");
  g_assert_cmpint (rtc_data_channel_get_id (seen), ==, rtc_data_channel_get_id (from_a));
  g_assert_true (rtc_data_channel_get_ordered (seen));

  from_b = open_channel (f, f->b, "", "");
  g_assert_cmpint (rtc_data_channel_get_id (from_b) % 2, ==, 1);
  wait_channel (f->channels_a, 1);
  seen = g_ptr_array_index (f->channels_a, 0);
  g_assert_cmpstr (rtc_data_channel_get_label (seen), ==, "");
  g_assert_cmpint (rtc_data_channel_get_id (seen), ==, rtc_data_channel_get_id (from_b));

  from_a2 = open_channel (f, f->a, "second", "");
  g_assert_cmpint (rtc_data_channel_get_id (from_a2) % 2, ==, 0);
  g_assert_cmpint (rtc_data_channel_get_id (from_a2), !=, rtc_data_channel_get_id (from_a));
  wait_channel (f->channels_b, 2);
}

static void
data_channel_watch_cb (RtcChannelRouter *router, RtcDataChannel *channel, Fixture *f)
{
  watch (f, channel);
}

static void
test_message_types (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = NULL;
  g_autoptr (GBytes) binary = g_bytes_new ("\0\1\2", 3);
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  Message *m;

  g_signal_connect (f->rb, "data-channel", G_CALLBACK (data_channel_watch_cb), f);
  channel = open_channel (f, f->a, "data", "");
  /* Sent at once, before the peer's ACK. */
  g_assert_true (rtc_data_channel_send_text (channel, "héllo", &error));
  g_assert_true (rtc_data_channel_send_bytes (channel, binary, &error));
  g_assert_true (rtc_data_channel_send_text (channel, "", &error));
  g_assert_true (rtc_data_channel_send_bytes (channel, empty, &error));
  g_assert_no_error (error);

  while (f->messages.length < 4)
    g_main_context_iteration (NULL, TRUE);

  m = g_queue_pop_head (&f->messages);
  g_assert_true (m->is_string);
  g_assert_cmpmem (g_bytes_get_data (m->data, NULL), g_bytes_get_size (m->data), "héllo",
                   strlen ("héllo"));
  message_free (m);
  m = g_queue_pop_head (&f->messages);
  g_assert_false (m->is_string);
  g_assert_cmpmem (g_bytes_get_data (m->data, NULL), g_bytes_get_size (m->data), "\0\1\2", 3);
  message_free (m);
  m = g_queue_pop_head (&f->messages);
  g_assert_true (m->is_string);
  g_assert_cmpuint (g_bytes_get_size (m->data), ==, 0);
  message_free (m);
  m = g_queue_pop_head (&f->messages);
  g_assert_false (m->is_string);
  g_assert_cmpuint (g_bytes_get_size (m->data), ==, 0);
  message_free (m);
}

/* What pion does: a 4-byte ACK. And data right behind an OPEN. */
static void
test_pion_style (Fixture *f, gconstpointer data)
{
  static const guint8 pion_ack[] = { 0x02, 0, 0, 0 };
  static const guint8 hello[] = "hi";
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GBytes) open = NULL;
  g_autoptr (GError) error = NULL;
  RtcDcepOpen request = { RTC_DCEP_CHANNEL_RELIABLE, 0, 0, (char *) "raw", (char *) "" };
  RtcDataChannel *seen;

  wait_channel (f->channels_b, 1);
  /* b answers a second time, pion-style, on a's stream. */
  g_assert_cmpint (rtc_sctp_transport_send (f->b, rtc_data_channel_get_id (channel), RTC_PPID_DCEP,
                                            FALSE, pion_ack, sizeof pion_ack, &error),
                   ==, RTC_SCTP_SEND_OK);
  seen = g_ptr_array_index (f->channels_b, 0);
  watch (f, seen);
  g_assert_true (rtc_data_channel_send_text (channel, "after ack", &error));
  while (f->messages.length < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_OPEN);

  /* A raw OPEN on stream 3 from b, and a message right behind it. */
  open = rtc_dcep_build_open (&request);
  g_assert_cmpint (rtc_sctp_transport_send (f->b, 3, RTC_PPID_DCEP, FALSE,
                                            g_bytes_get_data (open, NULL), g_bytes_get_size (open),
                                            &error), ==, RTC_SCTP_SEND_OK);
  g_assert_cmpint (rtc_sctp_transport_send (f->b, 3, RTC_PPID_STRING, FALSE, hello, 2, &error),
                   ==, RTC_SCTP_SEND_OK);
  g_assert_no_error (error);
  wait_channel (f->channels_a, 1);
  seen = g_ptr_array_index (f->channels_a, 0);
  g_assert_cmpstr (rtc_data_channel_get_label (seen), ==, "raw");
  g_assert_cmpint (rtc_data_channel_get_id (seen), ==, 3);
}

static void
test_data_right_after_open (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = NULL;
  g_autoptr (GError) error = NULL;

  /* The handler connects in "data-channel": nothing sent behind the OPEN is lost. */
  g_signal_connect (f->rb, "data-channel", G_CALLBACK (data_channel_watch_cb), f);
  channel = open_channel (f, f->a, "data", "");
  for (int i = 0; i < 5; i++)
    g_assert_true (rtc_data_channel_send_text (channel, "x", &error));
  while (f->messages.length < 5)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_close (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *buffer = g_malloc0 (65536);
  g_autoptr (GBytes) chunk = g_bytes_new_take (g_steal_pointer (&buffer), 65536);
  RtcDataChannel *seen;

  wait_channel (f->channels_b, 1);
  seen = g_ptr_array_index (f->channels_b, 0);
  watch (f, seen);

  /* Everything queued before close() arrives, then both ends close. */
  for (int i = 0; i < 200; i++)
    g_assert_true (rtc_data_channel_send_bytes (channel, chunk, &error));
  rtc_data_channel_close (channel);
  g_assert_false (rtc_data_channel_send_bytes (channel, chunk, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_CLOSED);
  iterate_for (&f->closed, 2, 20);
  g_assert_cmpuint (f->received_bytes, ==, 200 * 65536);
  g_assert_cmpint (rtc_data_channel_get_ready_state (seen), ==, RTC_DATA_CHANNEL_STATE_CLOSED);
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_CLOSED);

  /* The association goes on: a new channel works. */
  {
    g_autoptr (RtcDataChannel) again = open_channel (f, f->a, "again", "");

    wait_channel (f->channels_b, 2);
  }
}

static void
test_close_both (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");

  wait_channel (f->channels_b, 1);
  watch (f, g_ptr_array_index (f->channels_b, 0));
  /* Both ends close at the same time. */
  rtc_data_channel_close (channel);
  rtc_data_channel_close (g_ptr_array_index (f->channels_b, 0));
  iterate_for (&f->closed, 2, 20);
}

static void
test_buffered_amount (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (GChecksum) sent = g_checksum_new (G_CHECKSUM_SHA256);
  const gsize message = 256 * 1024;
  guint64 peak = 0;

  rtc_sctp_transport_set_max_message_sizes (f->a, 262144, 262144);
  rtc_data_channel_set_buffered_amount_low_threshold (channel, 256 * 1024);
  wait_channel (f->channels_b, 1);
  watch (f, g_ptr_array_index (f->channels_b, 0));
  f->checksum = g_checksum_new (G_CHECKSUM_SHA256);

  /* 16 MiB at once: more than SCTP takes, the rest waits in the channel. */
  for (guint i = 0; i < 64; i++)
    {
      guint8 *buffer = g_malloc (message);
      g_autoptr (GBytes) bytes = NULL;

      memset (buffer, i, message);
      g_checksum_update (sent, buffer, message);
      bytes = g_bytes_new_take (buffer, message);
      g_assert_true (rtc_data_channel_send_bytes (channel, bytes, &error));
      peak = MAX (peak, rtc_data_channel_get_buffered_amount (channel));
    }
  g_assert_cmpuint (peak, >, 256 * 1024);
  iterate_for (&f->low, 1, 30);
  while (f->received_bytes < 64 * message)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (rtc_data_channel_get_buffered_amount (channel), ==, 0);
  g_assert_cmpstr (g_checksum_get_string (f->checksum), ==, g_checksum_get_string (sent));
}

typedef struct
{
  Fixture *f;
  RtcDataChannel *sender;
  gsize received_at_close;
  guint64 sender_buffered_at_close;
  gboolean seen_closed;
} CloseWatch;

static void
peer_closed_cb (RtcDataChannel *channel, CloseWatch *w)
{
  w->received_at_close = w->f->received_bytes;
  w->sender_buffered_at_close = rtc_data_channel_get_buffered_amount (w->sender);
  w->seen_closed = TRUE;
}

static void
test_close_after_bulk_with_loss (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (GChecksum) sent = g_checksum_new (G_CHECKSUM_SHA256);
  const gsize message = 65536;
  const guint count = 128; /* 8 MiB */
  CloseWatch w = { f, channel, 0, 0, FALSE };
  RtcDataChannel *seen;

  wait_channel (f->channels_b, 1);
  seen = g_ptr_array_index (f->channels_b, 0);
  watch (f, seen);
  g_signal_connect (seen, "closed", G_CALLBACK (peer_closed_cb), &w);
  f->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  rtc_memory_transport_set_drop_every (f->mem_a, 50);
  rtc_memory_transport_set_drop_every (f->mem_b, 50);

  for (guint i = 0; i < count; i++)
    {
      guint8 *buffer = g_malloc (message);
      g_autoptr (GBytes) bytes = NULL;

      for (gsize j = 0; j < message; j++)
        buffer[j] = (guint8) (i * 31 + j * 7);
      g_checksum_update (sent, buffer, message);
      bytes = g_bytes_new_take (buffer, message);
      g_assert_true (rtc_data_channel_send_bytes (channel, bytes, &error));
      g_assert_no_error (error);
    }
  /* Closed at once, most of it still queued or in flight. */
  rtc_data_channel_close (channel);
  iterate_for (&f->closed, 2, 60);

  /* The peer saw every byte before the close, and the reset went out only
   * once the sender had everything acknowledged. */
  g_assert_true (w.seen_closed);
  g_assert_cmpuint (w.received_at_close, ==, count * message);
  g_assert_cmpuint (w.sender_buffered_at_close, ==, 0);
  g_assert_cmpstr (g_checksum_get_string (f->checksum), ==, g_checksum_get_string (sent));
}

static void
test_buffered_amount_in_sctp (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) chunk = g_bytes_new_take (g_malloc0 (65536), 65536);
  const guint count = 32; /* 2 MiB: usrsctp takes it all */
  guint64 last;

  rtc_data_channel_set_buffered_amount_low_threshold (channel, 64 * 1024);
  wait_channel (f->channels_b, 1);
  watch (f, g_ptr_array_index (f->channels_b, 0));
  f->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  /* Let the DCEP exchange settle: nothing of the channel in flight. */
  while (rtc_data_channel_get_buffered_amount (channel) != 0)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < count; i++)
    g_assert_true (rtc_data_channel_send_bytes (channel, chunk, &error));
  /* usrsctp took every byte and none is acknowledged yet: all counted. */
  g_assert_cmpuint (rtc_data_channel_get_buffered_amount (channel), ==, count * 65536);
  g_assert_cmpuint (f->low, ==, 0);

  /* Acknowledgements bring it down, never up, to 0. */
  last = rtc_data_channel_get_buffered_amount (channel);
  while (rtc_data_channel_get_buffered_amount (channel) != 0)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpuint (rtc_data_channel_get_buffered_amount (channel), <=, last);
      last = rtc_data_channel_get_buffered_amount (channel);
    }
  g_assert_cmpuint (f->low, ==, 1);
  g_assert_cmpuint (f->received_bytes, ==, count * 65536);
}

static void
test_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) big = g_bytes_new_take (g_malloc0 (65537), 65537);
  g_autoptr (GBytes) fits = g_bytes_new_take (g_malloc0 (65536), 65536);

  /* The default remote limit is 64 KiB (no a=max-message-size). */
  g_assert_cmpuint (rtc_data_channel_get_max_message_size (channel), ==, 65536);
  g_assert_false (rtc_data_channel_send_bytes (channel, big, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);
  g_assert_true (rtc_data_channel_send_bytes (channel, fits, &error));
  g_assert_no_error (error);
}

static void
test_transport_lost (Fixture *f, gconstpointer data)
{
  g_autoptr (RtcDataChannel) channel = open_channel (f, f->a, "data", "");
  RtcSctpTransport *b;

  wait_channel (f->channels_b, 1);
  /* b goes away: a's association fails and its channel closes. */
  b = g_steal_pointer (&f->b);
  g_ptr_array_set_size (f->channels_b, 0);
  g_assert_finalize_object (g_steal_pointer (&f->rb));
  g_assert_finalize_object (b);
  iterate_for (&f->closed, 1, 10);
  g_assert_cmpint (rtc_data_channel_get_ready_state (channel), ==, RTC_DATA_CHANNEL_STATE_CLOSED);
  f->b = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_b), FALSE, 5000, 5000);
  f->rb = rtc_channel_router_new (f->b);
}

#define ADD(name, func) \
  g_test_add ("/rtc/data-channel/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/data-channel/new-destroy", test_new_destroy);
  ADD ("open-both-ways", test_open_both_ways);
  ADD ("message-types", test_message_types);
  ADD ("pion-style", test_pion_style);
  ADD ("data-right-after-open", test_data_right_after_open);
  ADD ("close", test_close);
  ADD ("close-both", test_close_both);
  ADD ("buffered-amount", test_buffered_amount);
  ADD ("close-after-bulk-with-loss", test_close_after_bulk_with_loss);
  ADD ("buffered-amount-in-sctp", test_buffered_amount_in_sctp);
  ADD ("too-large", test_too_large);
  ADD ("transport-lost", test_transport_lost);

  return g_test_run ();
}
