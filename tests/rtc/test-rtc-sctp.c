/* test-rtc-sctp.c: RtcSctpTransport over the in-process transport pair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-error.h"
#include "rtc-memory-transport.h"
#include "rtc-sctp-transport.h"

typedef struct
{
  guint16 stream;
  guint32 ppid;
  GBytes *data;
} Received;

typedef struct
{
  RtcMemoryTransport *mem_a;
  RtcMemoryTransport *mem_b;
  RtcSctpTransport *a;
  RtcSctpTransport *b;
  GQueue received; /* Received, on b */
  GChecksum *checksum; /* of everything received on b, when set */
  gsize received_bytes;
  guint received_count;
  gboolean writable;
  GArray *resets_a;
  GArray *resets_b;
  GError *stream_error_b;
} Fixture;

static void
received_free (Received *r)
{
  g_bytes_unref (r->data);
  g_free (r);
}

static void
message_cb (RtcSctpTransport *sctp, guint stream, guint ppid, GBytes *data, Fixture *f)
{
  f->received_count++;
  f->received_bytes += g_bytes_get_size (data);
  if (f->checksum != NULL)
    {
      gsize length;
      const guint8 *bytes = g_bytes_get_data (data, &length);

      g_checksum_update (f->checksum, bytes, length);
    }
  else
    {
      Received *r = g_new0 (Received, 1);

      r->stream = stream;
      r->ppid = ppid;
      r->data = g_bytes_ref (data);
      g_queue_push_tail (&f->received, r);
    }
}

static void
writable_cb (RtcSctpTransport *sctp, Fixture *f)
{
  f->writable = TRUE;
}

static void
reset_cb (RtcSctpTransport *sctp, guint stream, GArray *array)
{
  guint16 s = stream;

  g_array_append_val (array, s);
}

/* Leaves the stream to the transport, which resets it. */
static gboolean
stream_error_cb (RtcSctpTransport *sctp, guint stream, GError *error, Fixture *f)
{
  g_clear_error (&f->stream_error_b);
  f->stream_error_b = g_error_copy (error);
  return FALSE;
}

static void
iterate_until (gboolean *flag, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!*flag)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static gboolean
states_are (Fixture *f, RtcTransportState a, RtcTransportState b)
{
  return rtc_transport_get_state (RTC_TRANSPORT (f->a)) == a
         && rtc_transport_get_state (RTC_TRANSPORT (f->b)) == b;
}

static void
wait_states (Fixture *f, RtcTransportState a, RtcTransportState b, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!states_are (f, a, b))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (100);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_queue_init (&f->received);
  f->resets_a = g_array_new (FALSE, FALSE, sizeof (guint16));
  f->resets_b = g_array_new (FALSE, FALSE, sizeof (guint16));
  rtc_memory_transport_new_pair (&f->mem_a, &f->mem_b);
  f->a = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_a), TRUE, 5000, 5000);
  f->b = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_b), FALSE, 5000, 5000);
  g_signal_connect (f->b, "message", G_CALLBACK (message_cb), f);
  g_signal_connect (f->a, "writable", G_CALLBACK (writable_cb), f);
  g_signal_connect (f->a, "stream-reset", G_CALLBACK (reset_cb), f->resets_a);
  g_signal_connect (f->b, "stream-reset", G_CALLBACK (reset_cb), f->resets_b);
  g_signal_connect (f->b, "stream-error", G_CALLBACK (stream_error_cb), f);
}

static void
fixture_connect (Fixture *f)
{
  rtc_memory_transport_connect (f->mem_a);
  wait_states (f, RTC_TRANSPORT_STATE_CONNECTED, RTC_TRANSPORT_STATE_CONNECTED, 10);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->a);
  g_assert_finalize_object (f->b);
  g_assert_finalize_object (f->mem_a);
  g_assert_finalize_object (f->mem_b);
  g_queue_clear_full (&f->received, (GDestroyNotify) received_free);
  g_array_unref (f->resets_a);
  g_array_unref (f->resets_b);
  g_clear_error (&f->stream_error_b);
  if (f->checksum != NULL)
    g_checksum_free (f->checksum);
  /* Let aborted associations go. */
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Sends, waiting for "writable" whenever the association is full. */
static void
send_paced (Fixture *f, guint16 stream, guint32 ppid, const guint8 *data, gsize length)
{
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      RtcSctpSendResult result;

      f->writable = FALSE;
      result = rtc_sctp_transport_send (f->a, stream, ppid, FALSE, data, length, &error);
      g_assert_no_error (error);
      if (result == RTC_SCTP_SEND_OK)
        return;
      g_assert_cmpint (result, ==, RTC_SCTP_SEND_WOULD_BLOCK);
      iterate_until (&f->writable, 30);
    }
}

static void
wait_received (Fixture *f, guint count, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (f->received_count < count)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static guint8 *
pattern (gsize length, guint seed)
{
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) (i * 31 + seed + (i >> 8));
  return data;
}

static void
test_new_destroy (void)
{
  RtcMemoryTransport *a, *b;
  RtcSctpTransport *sctp;

  rtc_memory_transport_new_pair (&a, &b);
  sctp = rtc_sctp_transport_new (RTC_TRANSPORT (a), TRUE, 5000, 5000);
  g_assert_cmpint (rtc_transport_get_state (RTC_TRANSPORT (sctp)), ==, RTC_TRANSPORT_STATE_NEW);
  g_assert_finalize_object (sctp);
  g_assert_finalize_object (a);
  g_assert_finalize_object (b);
}

static void
test_connect (Fixture *f, gconstpointer data)
{
  g_assert_true (states_are (f, RTC_TRANSPORT_STATE_NEW, RTC_TRANSPORT_STATE_NEW));
  fixture_connect (f);
}

static void
test_message_sizes (Fixture *f, gconstpointer data)
{
  static const gsize sizes[]
      = { 1, 2, 100, 1150, 1200, 4096, 65535, 65536, 100000, 131073, 262144 };

  fixture_connect (f);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *payload = pattern (sizes[i], i);

      send_paced (f, i, 53, payload, sizes[i]);
    }
  wait_received (f, G_N_ELEMENTS (sizes), 20);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      Received *r = g_queue_pop_head (&f->received);
      g_autofree guint8 *payload = pattern (sizes[i], i);
      gsize length;
      const guint8 *bytes = g_bytes_get_data (r->data, &length);

      g_assert_cmpuint (r->stream, ==, i);
      g_assert_cmpuint (r->ppid, ==, 53);
      g_assert_cmpmem (bytes, length, payload, sizes[i]);
      received_free (r);
    }
}

static void
transfer_checked (Fixture *f, gsize total, gsize message_size, const char *what)
{
  g_autoptr (GChecksum) sent = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *chunk = g_malloc (message_size);
  guint count = 0;
  gint64 start = g_get_monotonic_time ();
  double seconds;

  f->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  for (gsize offset = 0; offset < total; offset += message_size)
    {
      gsize length = MIN (message_size, total - offset);

      for (gsize i = 0; i < length; i++)
        chunk[i] = (guint8) ((offset + i) * 7 + ((offset + i) >> 12));
      g_checksum_update (sent, chunk, length);
      send_paced (f, 1, 53, chunk, length);
      count++;
    }
  wait_received (f, count, 60);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("%s: %" G_GSIZE_FORMAT " bytes in %.2f s (%.1f MB/s)", what, total, seconds,
                  total / seconds / 1e6);

  g_assert_cmpuint (f->received_bytes, ==, total);
  g_assert_cmpstr (g_checksum_get_string (f->checksum), ==, g_checksum_get_string (sent));
}

static void
test_bulk (Fixture *f, gconstpointer data)
{
  fixture_connect (f);
  transfer_checked (f, 20 * 1024 * 1024, 64 * 1024, "20 MiB over memory");
}

static void
test_loss (Fixture *f, gconstpointer data)
{
  rtc_memory_transport_set_drop_every (f->mem_a, 100);
  rtc_memory_transport_set_drop_every (f->mem_b, 100);
  fixture_connect (f);
  transfer_checked (f, 4 * 1024 * 1024, 16 * 1024, "4 MiB with 1 % loss");
}

static void
test_stream_reset (Fixture *f, gconstpointer data)
{
  static const guint8 byte = 42;
  gint64 deadline;

  fixture_connect (f);
  send_paced (f, 3, 53, &byte, 1);
  wait_received (f, 1, 10);
  rtc_sctp_transport_reset_stream (f->a, 3);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (f->resets_b->len == 0)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  g_assert_cmpuint (g_array_index (f->resets_b, guint16, 0), ==, 3);

  /* The stream can be used again after the reset. */
  send_paced (f, 3, 53, &byte, 1);
  wait_received (f, 2, 10);
}

static void
test_simultaneous_reset (Fixture *f, gconstpointer data)
{
  gint64 deadline;

  fixture_connect (f);
  /* Both ends reset the same and other streams at once. */
  rtc_sctp_transport_reset_stream (f->a, 5);
  rtc_sctp_transport_reset_stream (f->b, 5);
  rtc_sctp_transport_reset_stream (f->a, 7);
  rtc_sctp_transport_reset_stream (f->b, 9);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (f->resets_a->len < 2 || f->resets_b->len < 2)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static void
test_oversized (Fixture *f, gconstpointer data)
{
  g_autofree guint8 *big = pattern (100000, 1);
  g_autofree guint8 *huge = pattern (300000, 2);
  static const guint8 small[] = "after";
  gint64 deadline;

  rtc_sctp_transport_set_max_message_sizes (f->b, 65536, 65536);
  fixture_connect (f);

  send_paced (f, 1, 53, big, 100000);   /* whole delivery, refused */
  send_paced (f, 2, 53, huge, 300000);  /* partial delivery, refused midway */
  send_paced (f, 4, 51, small, sizeof small);
  wait_received (f, 1, 10);

  {
    Received *r = g_queue_pop_head (&f->received);

    g_assert_cmpuint (r->stream, ==, 4);
    g_assert_cmpmem (g_bytes_get_data (r->data, NULL), g_bytes_get_size (r->data), small,
                     sizeof small);
    received_free (r);
  }
  g_assert_error (f->stream_error_b, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE);

  /* b resets the streams it refused: a sees both. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (f->resets_a->len < 2)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
}

static gboolean
corrupt_filter (guint8 *data, gsize length, gpointer user_data)
{
  guint *counter = user_data;

  if (++*counter % 13 == 0 && length > 20)
    data[length / 2] ^= 0x5a;
  return TRUE;
}

static void
test_garbage (Fixture *f, gconstpointer data)
{
  guint counter = 0;
  static const guint8 junk[] = { 0x13, 0x88, 0x13, 0x88, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef,
                                 0, 0, 0, 0, 1, 2, 3 };
  g_autofree guint8 *random = g_malloc (1000);

  fixture_connect (f);
  for (gsize i = 0; i < 1000; i++)
    random[i] = g_random_int ();

  /* Short, random and checksum-less packets straight into b. */
  rtc_transport_deliver (RTC_TRANSPORT (f->mem_b), junk, 1);
  rtc_transport_deliver (RTC_TRANSPORT (f->mem_b), junk, sizeof junk);
  rtc_transport_deliver (RTC_TRANSPORT (f->mem_b), random, 1000);
  rtc_transport_deliver (RTC_TRANSPORT (f->mem_a), random, 12);

  /* And one packet in 13 corrupted on the way. */
  rtc_memory_transport_set_filter (f->mem_a, corrupt_filter, &counter);
  transfer_checked (f, 1024 * 1024, 8192, "1 MiB with corrupted packets");
  g_assert_true (states_are (f, RTC_TRANSPORT_STATE_CONNECTED, RTC_TRANSPORT_STATE_CONNECTED));
  rtc_memory_transport_set_filter (f->mem_a, NULL, NULL);
}

static void
test_close (Fixture *f, gconstpointer data)
{
  fixture_connect (f);
  rtc_transport_close (RTC_TRANSPORT (f->a));
  wait_states (f, RTC_TRANSPORT_STATE_CLOSED, RTC_TRANSPORT_STATE_CLOSED, 10);
}

static void
test_abort (Fixture *f, gconstpointer data)
{
  RtcSctpTransport *c;
  static const guint8 byte = 1;
  g_autoptr (GError) error = NULL;

  fixture_connect (f);
  /* Destroying one end aborts the association: the other fails at once. */
  c = g_steal_pointer (&f->a);
  g_assert_finalize_object (c);
  while (rtc_transport_get_state (RTC_TRANSPORT (f->b)) == RTC_TRANSPORT_STATE_CONNECTED)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (rtc_transport_get_state (RTC_TRANSPORT (f->b)), ==, RTC_TRANSPORT_STATE_FAILED);
  g_assert_error (rtc_transport_get_error (RTC_TRANSPORT (f->b)), RTC_ERROR, RTC_ERROR_SCTP_FAILED);
  g_assert_cmpint (rtc_sctp_transport_send (f->b, 0, 53, FALSE, &byte, 1, &error), ==,
                   RTC_SCTP_SEND_ERROR);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_STATE);

  f->a = rtc_sctp_transport_new (RTC_TRANSPORT (f->mem_a), TRUE, 5000, 5000);
}

typedef struct
{
  gsize largest;
  guint count;
  guint above; /* packets larger than @limit */
  gsize limit;
} PacketSizes;

static gboolean
packet_size_filter (guint8 *data, gsize length, gpointer user_data)
{
  PacketSizes *sizes = user_data;

  sizes->largest = MAX (sizes->largest, length);
  sizes->count++;
  if (length > sizes->limit)
    sizes->above++;
  return TRUE;
}

/* An association set up with large packets sends them (a 16,000-byte path
 * MTU, as on loopback) and keeps within the size; the peer, with the default
 * size, sends no more than 1,200 bytes of path MTU. Told that the path takes
 * less (a new pair), it sends smaller packets from then on, never larger
 * again. usrsctp 0.9.5 still sends a few packets at the size the
 * association was set up with (about one in fifty here), which the IP
 * layer fragments if it must. */
static void
test_packet_size (Fixture *f, gconstpointer data)
{
  PacketSizes sent = { 0, 0, 0, 16000 + 12 };
  PacketSizes back = { 0, 0, 0, RTC_SCTP_PACKET_SIZE + 12 };

  g_clear_object (&f->a);
  g_clear_object (&f->b);
  f->a = rtc_sctp_transport_new_full (RTC_TRANSPORT (f->mem_a), TRUE, 5000, 5000, 0, 16000);
  f->b = rtc_sctp_transport_new_full (RTC_TRANSPORT (f->mem_b), FALSE, 5000, 5000, 0, 0);
  g_signal_connect (f->b, "message", G_CALLBACK (message_cb), f);
  g_signal_connect (f->a, "writable", G_CALLBACK (writable_cb), f);
  g_assert_cmpuint (rtc_sctp_transport_get_packet_size (f->a), ==, 16000);
  g_assert_cmpuint (rtc_sctp_transport_get_packet_size (f->b), ==, RTC_SCTP_PACKET_SIZE);
  rtc_memory_transport_set_filter (f->mem_a, packet_size_filter, &sent);
  rtc_memory_transport_set_filter (f->mem_b, packet_size_filter, &back);
  fixture_connect (f);

  transfer_checked (f, 2 * 1024 * 1024, 64 * 1024, "2 MiB in packets of 16,000 bytes");
  g_test_message ("largest packets: %" G_GSIZE_FORMAT " sent, %" G_GSIZE_FORMAT " back",
                  sent.largest, back.largest);
  /* usrsctp adds its 12-byte common header to the path MTU it is given. */
  g_assert_cmpuint (sent.largest, >, 12000);
  g_assert_cmpuint (sent.above, ==, 0);
  g_assert_cmpuint (back.above, ==, 0);

  rtc_sctp_transport_lower_packet_size (f->a, 1300);
  rtc_sctp_transport_lower_packet_size (f->a, 9000);
  g_assert_cmpuint (rtc_sctp_transport_get_packet_size (f->a), ==, 1300);
  sent = (PacketSizes) { 0, 0, 0, 1300 + 12 };
  g_clear_pointer (&f->checksum, g_checksum_free);
  f->received_bytes = 0;
  f->received_count = 0;
  transfer_checked (f, 2 * 1024 * 1024, 64 * 1024, "2 MiB after lowering to 1,300");
  g_test_message ("after lowering: %u of %u packets above 1,312 bytes", sent.above, sent.count);
  g_assert_cmpuint (sent.count, >, 1600);
  g_assert_cmpuint (sent.above * 10, <, sent.count);
  g_assert_cmpuint (sent.largest, <=, 16000 + 12);
  /* The counts live on this stack; tear-down still sends (ABORT). */
  rtc_memory_transport_set_filter (f->mem_a, NULL, NULL);
  rtc_memory_transport_set_filter (f->mem_b, NULL, NULL);
}

/* Packets carrying a chunk of @type, among those a filter saw. */
typedef struct
{
  guint8 type;
  guint count;
} ChunkCount;

static gboolean
chunk_count_filter (guint8 *data, gsize length, gpointer user_data)
{
  ChunkCount *counted = user_data;

  /* The 12-byte common header, then chunks of type, flags, length. */
  for (gsize at = 12; at + 4 <= length;)
    {
      gsize chunk_length = ((gsize) data[at + 2] << 8) | data[at + 3];

      if (data[at] == counted->type)
        {
          counted->count++;
          break;
        }
      if (chunk_length < 4)
        break;
      at += (chunk_length + 3) & ~(gsize) 3;
    }
  return TRUE;
}

/* Counts the packets of DATA from a and of SACKs from b while 2 MiB go
 * from a to b. */
static void
count_acknowledgements (Fixture *f, ChunkCount *data_packets, ChunkCount *sack_packets)
{
  *data_packets = (ChunkCount) { 0, 0 };
  *sack_packets = (ChunkCount) { 3, 0 };
  rtc_memory_transport_set_filter (f->mem_a, chunk_count_filter, data_packets);
  rtc_memory_transport_set_filter (f->mem_b, chunk_count_filter, sack_packets);
  transfer_checked (f, 2 * 1024 * 1024, 64 * 1024, "2 MiB");
  rtc_memory_transport_set_filter (f->mem_a, NULL, NULL);
  rtc_memory_transport_set_filter (f->mem_b, NULL, NULL);
  g_test_message ("%u packets of DATA, %u of SACKs", data_packets->count, sack_packets->count);
}

/* On a long path (40 ms each way) the receiving association acknowledges
 * every packet, once it has measured the round trip: a delayed SACK there
 * makes usrsctp's sender retransmit chunks that were not lost, and start
 * again from a window of one packet (rtc-sctp-transport.c). */
static void
test_prompt_sack (Fixture *f, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  ChunkCount data_packets, sack_packets;

  rtc_memory_transport_set_delay (f->mem_a, 40);
  rtc_memory_transport_set_delay (f->mem_b, 40);
  fixture_connect (f);
  g_assert_cmpuint (rtc_sctp_transport_get_sack_frequency (f->b), ==, 2);
  while (rtc_sctp_transport_get_sack_frequency (f->b) != 1)
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }

  count_acknowledgements (f, &data_packets, &sack_packets);
  g_assert_cmpuint (data_packets.count, >, 1600);
  g_assert_cmpuint (sack_packets.count * 10, >=, data_packets.count * 9);
}

/* Where the round trip is short, every second packet: half the SACKs. */
static void
test_delayed_sack (Fixture *f, gconstpointer data)
{
  ChunkCount data_packets, sack_packets;

  fixture_connect (f);
  count_acknowledgements (f, &data_packets, &sack_packets);
  g_assert_cmpuint (rtc_sctp_transport_get_sack_frequency (f->b), ==, 2);
  g_assert_cmpuint (data_packets.count, >, 1600);
  g_assert_cmpuint (sack_packets.count * 4, <=, data_packets.count * 3);
}

static void
test_lower_failure (Fixture *f, gconstpointer data)
{
  fixture_connect (f);
  rtc_transport_close (RTC_TRANSPORT (f->mem_a));
  g_assert_cmpint (rtc_transport_get_state (RTC_TRANSPORT (f->a)), ==, RTC_TRANSPORT_STATE_CLOSED);
  g_assert_cmpint (rtc_transport_get_state (RTC_TRANSPORT (f->b)), ==, RTC_TRANSPORT_STATE_CLOSED);
}

#define ADD(name, func) \
  g_test_add ("/rtc/sctp/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/sctp/new-destroy", test_new_destroy);
  ADD ("connect", test_connect);
  ADD ("message-sizes", test_message_sizes);
  ADD ("bulk", test_bulk);
  ADD ("loss", test_loss);
  ADD ("stream-reset", test_stream_reset);
  ADD ("simultaneous-reset", test_simultaneous_reset);
  ADD ("oversized", test_oversized);
  ADD ("garbage", test_garbage);
  ADD ("close", test_close);
  ADD ("abort", test_abort);
  ADD ("lower-closed", test_lower_failure);
  ADD ("packet-size", test_packet_size);
  ADD ("prompt-sack", test_prompt_sack);
  ADD ("delayed-sack", test_delayed_sack);

  return g_test_run ();
}
