/* test-bonded-channel.c: one ordered stream over several member channels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two BackupBondedChannels, a sender and a receiver, each over member
 * channels the test drives: it opens and closes them, sets what they
 * buffer, and carries what the sender's members sent to the receiver's
 * members in whatever order it likes. Each case checks what the bonded
 * channels emit: messages in sequence order whatever the arrival order, a
 * failure for every message out of the protocol, the buffered amount from
 * the oldest message not yet through, and "open" and "closed" once.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "backup-bonded-channel.h"
#include "backup-channel.h"
#include "backup-error.h"
#include "fake-channel.h"

#define N_MEMBERS 3
/* As in backup-bonded-channel.c: how much progress a member reports at a time. */
#define MEMBER_LOW_STEP (64 * 1024)

/* ------------------------------------------------------------------------ */
/* A member channel the test drives                                         */

/* A fake channel (fake-channel.h) whose sends it buffers, as a member's
 * data channel does. */
static FakeChannel *
member_new (void)
{
  FakeChannel *member = g_object_new (FAKE_TYPE_CHANNEL, NULL);

  member->queue_sends = TRUE;
  return member;
}

/* ------------------------------------------------------------------------ */
/* One end: a bonded channel over N_MEMBERS fakes, and what it emitted      */

typedef struct
{
  GBytes *data;
  gboolean is_string;
} Received;

typedef struct
{
  FakeChannel *fakes[N_MEMBERS];
  BackupChannel *bonded;
  guint opens;
  guint lows;
  guint errors;
  guint closes;
  GError *error; /* the one "error" carried */
  GPtrArray *received; /* of Received */
} End;

static void
received_free (gpointer data)
{
  Received *received = data;

  g_bytes_unref (received->data);
  g_free (received);
}

static void
open_cb (BackupChannel *channel, gpointer user_data)
{
  ((End *) user_data)->opens++;
}

static void
message_cb (BackupChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  End *end = user_data;
  Received *received = g_new (Received, 1);

  received->data = g_bytes_ref (data);
  received->is_string = is_string;
  g_ptr_array_add (end->received, received);
}

static void
low_cb (BackupChannel *channel, gpointer user_data)
{
  ((End *) user_data)->lows++;
}

static void
error_cb (BackupChannel *channel, GError *error, gpointer user_data)
{
  End *end = user_data;

  end->errors++;
  g_clear_error (&end->error);
  end->error = g_error_copy (error);
}

static void
closed_cb (BackupChannel *channel, gpointer user_data)
{
  ((End *) user_data)->closes++;
}

/* With @waiting, the members are the test's to set. */
static End *
end_new_full (gboolean open, gboolean waiting)
{
  End *end = g_new0 (End, 1);

  end->received = g_ptr_array_new_with_free_func (received_free);
  for (guint i = 0; i < N_MEMBERS; i++)
    {
      end->fakes[i] = member_new ();
      end->fakes[i]->open = open;
    }
  if (waiting)
    end->bonded = backup_bonded_channel_new_waiting (N_MEMBERS);
  else
    end->bonded = backup_bonded_channel_new ((BackupChannel *const *) end->fakes, N_MEMBERS);
  g_assert_nonnull (end->bonded);
  g_signal_connect (end->bonded, "open", G_CALLBACK (open_cb), end);
  g_signal_connect (end->bonded, "message", G_CALLBACK (message_cb), end);
  g_signal_connect (end->bonded, "buffered-amount-low", G_CALLBACK (low_cb), end);
  g_signal_connect (end->bonded, "error", G_CALLBACK (error_cb), end);
  g_signal_connect (end->bonded, "closed", G_CALLBACK (closed_cb), end);
  return end;
}

static End *
end_new (gboolean open)
{
  return end_new_full (open, FALSE);
}

static void
end_free (End *end)
{
  /* The bonded channel goes first: the members outlive it. */
  g_clear_object (&end->bonded);
  for (guint i = 0; i < N_MEMBERS; i++)
    g_clear_object (&end->fakes[i]);
  g_ptr_array_unref (end->received);
  g_clear_error (&end->error);
  g_free (end);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (End, end_free)

static void
end_close_members (End *end)
{
  for (guint i = 0; i < N_MEMBERS; i++)
    if (end->fakes[i]->open)
      fake_close_cleanly (end->fakes[i]);
}

/* ------------------------------------------------------------------------ */
/* Member messages                                                          */

typedef struct
{
  guint member;
  guint32 sequence;
  GBytes *data;
} Wire;

static void
wire_clear (gpointer data)
{
  g_bytes_unref (((Wire *) data)->data);
}

static guint32
sequence_of (GBytes *data)
{
  const guint8 *bytes = g_bytes_get_data (data, NULL);

  return ((guint32) bytes[0] << 24) | ((guint32) bytes[1] << 16) | ((guint32) bytes[2] << 8)
         | (guint32) bytes[3];
}

/* What the sender's members sent, each checked to be one binary message with
 * a header; the members forget it. */
static GArray *
end_take_wire (End *end)
{
  GArray *wire = g_array_new (FALSE, FALSE, sizeof (Wire));

  g_array_set_clear_func (wire, wire_clear);
  for (guint i = 0; i < N_MEMBERS; i++)
    {
      GPtrArray *sent = end->fakes[i]->sent;

      for (guint j = 0; j < sent->len; j++)
        {
          FakeSent *message = g_ptr_array_index (sent, j);
          Wire item = { i, 0, g_bytes_ref (message->data) };

          g_assert_false (message->is_string);
          g_assert_cmpuint (g_bytes_get_size (message->data), >=, BACKUP_BONDED_HEADER_SIZE);
          item.sequence = sequence_of (message->data);
          g_array_append_val (wire, item);
        }
      g_ptr_array_set_size (sent, 0);
    }
  return wire;
}

static gint
compare_sequence (gconstpointer a, gconstpointer b)
{
  guint32 x = ((const Wire *) a)->sequence;
  guint32 y = ((const Wire *) b)->sequence;

  return x < y ? -1 : x > y;
}

/* Delivers @wire to the receiver's members, each message to the member of
 * the same index it was sent on. */
static void
deliver_wire (End *receiver, GArray *wire)
{
  for (guint i = 0; i < wire->len; i++)
    {
      Wire *item = &g_array_index (wire, Wire, i);

      fake_deliver (receiver->fakes[item->member], item->data, FALSE);
    }
}

/* A member message as the protocol frames it. */
static GBytes *
frame (guint32 sequence, guint8 kind, const void *payload, gsize length)
{
  guint8 *data = g_malloc (BACKUP_BONDED_HEADER_SIZE + length);

  data[0] = (guint8) (sequence >> 24);
  data[1] = (guint8) (sequence >> 16);
  data[2] = (guint8) (sequence >> 8);
  data[3] = (guint8) sequence;
  data[4] = kind;
  if (length > 0)
    memcpy (data + BACKUP_BONDED_HEADER_SIZE, payload, length);
  return g_bytes_new_take (data, BACKUP_BONDED_HEADER_SIZE + length);
}

static void
deliver_frame (End *receiver, guint member, guint32 sequence, guint8 kind, const char *payload)
{
  g_autoptr (GBytes) data = frame (sequence, kind, payload, strlen (payload));

  fake_deliver (receiver->fakes[member], data, FALSE);
}

/* The @n messages test_in_order sends, and what arrives of them. */
static void
send_messages (End *sender, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("message %u", i);

      if (i % 3 == 0)
        {
          g_assert_true (backup_channel_send_text (sender->bonded, i == 0 ? "" : text, &error));
        }
      else
        {
          g_autoptr (GBytes) data = g_bytes_new (text, i == 1 ? 0 : strlen (text) + 1);

          g_assert_true (backup_channel_send_bytes (sender->bonded, data, &error));
        }
      g_assert_no_error (error);
    }
}

static void
assert_received (End *receiver, guint n)
{
  g_assert_cmpuint (receiver->received->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      Received *received = g_ptr_array_index (receiver->received, i);
      g_autofree char *text = g_strdup_printf ("message %u", i);
      gsize length;
      const char *data = g_bytes_get_data (received->data, &length);

      if (i % 3 == 0)
        {
          g_assert_true (received->is_string);
          if (i == 0)
            g_assert_cmpuint (length, ==, 0);
          else
            g_assert_cmpmem (data, length, text, strlen (text));
        }
      else
        {
          g_assert_false (received->is_string);
          if (i == 1)
            g_assert_cmpuint (length, ==, 0);
          else
            g_assert_cmpmem (data, length, text, strlen (text) + 1);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */

/* Messages of both kinds come out as they went in, over every member. */
static void
test_in_order (void)
{
  g_autoptr (End) sender = end_new (TRUE);
  g_autoptr (End) receiver = end_new (TRUE);
  g_autoptr (GArray) wire = NULL;
  guint used[N_MEMBERS] = { 0 };

  g_assert_cmpstr (backup_channel_get_label (sender->bonded), ==, "data");
  send_messages (sender, 30);
  wire = end_take_wire (sender);
  g_assert_cmpuint (wire->len, ==, 30);
  for (guint i = 0; i < wire->len; i++)
    used[g_array_index (wire, Wire, i).member]++;
  for (guint i = 0; i < N_MEMBERS; i++)
    g_assert_cmpuint (used[i], >, 0);

  g_array_sort (wire, compare_sequence);
  for (guint i = 0; i < wire->len; i++)
    g_assert_cmpuint (g_array_index (wire, Wire, i).sequence, ==, i);
  /* The first two, byte by byte: sequence, kind, and no payload. */
  {
    static const guint8 expected0[] = { 0, 0, 0, 0, 1 };
    static const guint8 expected1[] = { 0, 0, 0, 1, 0 };
    gsize length;
    const guint8 *data = g_bytes_get_data (g_array_index (wire, Wire, 0).data, &length);

    g_assert_cmpmem (data, length, expected0, sizeof expected0);
    data = g_bytes_get_data (g_array_index (wire, Wire, 1).data, &length);
    g_assert_cmpmem (data, length, expected1, sizeof expected1);
  }

  deliver_wire (receiver, wire);
  assert_received (receiver, 30);
  g_assert_cmpuint (receiver->errors, ==, 0);
  g_assert_cmpuint (receiver->closes, ==, 0);
}

/* Whatever order the members deliver in, the stream comes out in order. */
static void
test_shuffled (void)
{
  g_autoptr (End) sender = end_new (TRUE);
  g_autoptr (End) reversed = end_new (TRUE);
  g_autoptr (End) shuffled = end_new (TRUE);
  g_autoptr (GArray) wire = NULL;
  g_autoptr (GRand) rng = g_rand_new_with_seed (20240611);

  send_messages (sender, 40);
  wire = end_take_wire (sender);
  g_array_sort (wire, compare_sequence);

  /* Backwards: nothing until message 0, then everything. */
  for (guint i = wire->len; i > 1; i--)
    {
      Wire *item = &g_array_index (wire, Wire, i - 1);

      fake_deliver (reversed->fakes[item->member], item->data, FALSE);
    }
  g_assert_cmpuint (reversed->received->len, ==, 0);
  fake_deliver (reversed->fakes[g_array_index (wire, Wire, 0).member],
                g_array_index (wire, Wire, 0).data, FALSE);
  assert_received (reversed, 40);

  /* Shuffled, and on any member. */
  for (guint i = wire->len - 1; i > 0; i--)
    {
      guint j = (guint) g_rand_int_range (rng, 0, (gint32) i + 1);
      Wire swap = g_array_index (wire, Wire, i);

      g_array_index (wire, Wire, i) = g_array_index (wire, Wire, j);
      g_array_index (wire, Wire, j) = swap;
      g_array_index (wire, Wire, i).member = i % N_MEMBERS;
    }
  g_assert_cmpuint (g_array_index (wire, Wire, 0).sequence, !=, 0);
  deliver_wire (shuffled, wire);
  assert_received (shuffled, 40);
  g_assert_cmpuint (shuffled->errors, ==, 0);
}

typedef enum
{
  BAD_BEHIND,
  BAD_DUPLICATE_HELD,
  BAD_BEHIND_WRAPPED,
  BAD_TEXT,
  BAD_SHORT,
  BAD_KIND,
} Bad;

/* Each message out of the protocol fails the channel, which closes. */
static void
test_malformed (gconstpointer data)
{
  Bad bad = GPOINTER_TO_UINT (data);
  g_autoptr (End) receiver = end_new (TRUE);

  deliver_frame (receiver, 0, 0, 0, "first");
  g_assert_cmpuint (receiver->received->len, ==, 1);

  switch (bad)
    {
    case BAD_BEHIND:
      deliver_frame (receiver, 1, 0, 0, "first again");
      break;
    case BAD_DUPLICATE_HELD:
      deliver_frame (receiver, 1, 2, 0, "third");
      g_assert_cmpuint (receiver->errors, ==, 0);
      deliver_frame (receiver, 2, 2, 0, "third again");
      break;
    case BAD_BEHIND_WRAPPED:
      /* 2^32 - 1 is one behind 0, not far ahead. */
      deliver_frame (receiver, 1, G_MAXUINT32, 0, "before the first");
      break;
    case BAD_TEXT:
      {
        g_autoptr (GBytes) text = frame (1, 1, "text", 4);

        fake_deliver (receiver->fakes[1], text, TRUE);
      }
      break;
    case BAD_SHORT:
      {
        static const guint8 short_message[] = { 0, 0, 0, 1 };
        g_autoptr (GBytes) bytes = g_bytes_new_static (short_message, sizeof short_message);

        fake_deliver (receiver->fakes[1], bytes, FALSE);
      }
      break;
    case BAD_KIND:
      deliver_frame (receiver, 1, 1, 2, "what kind");
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_cmpuint (receiver->errors, ==, 1);
  g_assert_error (receiver->error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  g_assert_false (backup_channel_is_open (receiver->bonded));
  for (guint i = 0; i < N_MEMBERS; i++)
    g_assert_true (receiver->fakes[i]->close_called);

  /* Nothing more comes through, and nothing fails twice. */
  deliver_frame (receiver, 0, 1, 0, "second");
  deliver_frame (receiver, 0, 1, 0, "second");
  g_assert_cmpuint (receiver->received->len, ==, 1);
  g_assert_cmpuint (receiver->errors, ==, 1);

  /* "closed" when every member is. */
  fake_close_cleanly (receiver->fakes[0]);
  fake_close_cleanly (receiver->fakes[1]);
  g_assert_cmpuint (receiver->closes, ==, 0);
  fake_close_cleanly (receiver->fakes[2]);
  g_assert_cmpuint (receiver->closes, ==, 1);
  g_assert_error (backup_channel_get_close_error (receiver->bonded), BACKUP_ERROR,
                  BACKUP_ERROR_PROTOCOL);
}

/* Member messages of 1 MiB with a header. */
#define HELD_MESSAGE (1024 * 1024)

static void
deliver_big (End *receiver, const guint8 *payload, guint32 sequence)
{
  g_autoptr (GBytes) data = frame (sequence, 0, payload,
                                   HELD_MESSAGE - BACKUP_BONDED_HEADER_SIZE);

  fake_deliver (receiver->fakes[sequence % N_MEMBERS], data, FALSE);
}

/* Up to BACKUP_BONDED_MAX_HELD out of order is held; past it, failure. */
static void
test_held_limit (void)
{
  g_autoptr (End) receiver = end_new (TRUE);
  g_autofree guint8 *payload = g_malloc0 (HELD_MESSAGE);
  guint limit = BACKUP_BONDED_MAX_HELD / HELD_MESSAGE;

  /* Exactly the limit, then the missing message releases everything. */
  for (guint32 i = 1; i <= limit; i++)
    deliver_big (receiver, payload, i);
  g_assert_cmpuint (receiver->errors, ==, 0);
  g_assert_cmpuint (receiver->received->len, ==, 0);
  deliver_big (receiver, payload, 0);
  g_assert_cmpuint (receiver->received->len, ==, limit + 1);
  g_assert_cmpuint (receiver->errors, ==, 0);
  g_ptr_array_set_size (receiver->received, 0);

  /* The limit again, after a gap: one message more fails. */
  for (guint32 i = limit + 2; i <= 2 * limit + 1; i++)
    deliver_big (receiver, payload, i);
  g_assert_cmpuint (receiver->errors, ==, 0);
  deliver_big (receiver, payload, 2 * limit + 2);
  g_assert_cmpuint (receiver->errors, ==, 1);
  g_assert_error (receiver->error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (receiver->error->message, "out of bounds"));
  g_assert_cmpuint (receiver->received->len, ==, 0);

  end_close_members (receiver);
  g_assert_cmpuint (receiver->closes, ==, 1);
  g_assert_error (backup_channel_get_close_error (receiver->bonded), BACKUP_ERROR,
                  BACKUP_ERROR_PROTOCOL);
}

static guint
member_of_last_send (End *sender)
{
  guint found = N_MEMBERS;

  for (guint i = 0; i < N_MEMBERS; i++)
    if (sender->fakes[i]->sent->len > 0)
      {
        g_assert_cmpuint (found, ==, N_MEMBERS);
        found = i;
      }
  g_assert_cmpuint (found, <, N_MEMBERS);
  g_ptr_array_set_size (sender->fakes[found]->sent, 0);
  return found;
}

static void
send_one (End *sender, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_channel_send_text (sender->bonded, text, &error));
  g_assert_no_error (error);
}

/* Each message goes to the member with the least buffered, the lowest on a tie. */
static void
test_least_buffered (void)
{
  g_autoptr (End) sender = end_new (TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("x", 1);

  sender->fakes[0]->buffered = 300;
  sender->fakes[1]->buffered = 100;
  sender->fakes[2]->buffered = 100;
  send_one (sender, "a");
  g_assert_cmpuint (member_of_last_send (sender), ==, 1);
  g_assert_cmpuint (sender->fakes[1]->buffered, ==, 100 + BACKUP_BONDED_HEADER_SIZE + 1);
  send_one (sender, "b");
  g_assert_cmpuint (member_of_last_send (sender), ==, 2);

  sender->fakes[0]->buffered = 50;
  send_one (sender, "c");
  g_assert_cmpuint (member_of_last_send (sender), ==, 0);
  sender->fakes[0]->buffered = 1000;
  sender->fakes[1]->buffered = 999;
  sender->fakes[2]->buffered = 1000;
  send_one (sender, "d");
  g_assert_cmpuint (member_of_last_send (sender), ==, 1);

  /* A refused send takes no sequence number. */
  for (guint i = 0; i < N_MEMBERS; i++)
    sender->fakes[i]->buffered = 0;
  sender->fakes[0]->fail_send = TRUE;
  g_assert_false (backup_channel_send_bytes (sender->bonded, data, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 0);
  sender->fakes[0]->fail_send = FALSE;
  send_one (sender, "e");
  g_assert_cmpuint (
      sequence_of (((FakeSent *) g_ptr_array_index (sender->fakes[0]->sent, 0))->data), ==, 4);

  /* The largest message: the smallest member's limit less the header. */
  g_assert_cmpuint (backup_channel_get_max_message_size (sender->bonded), ==, 0);
  sender->fakes[1]->max_message_size = 1000;
  g_assert_cmpuint (backup_channel_get_max_message_size (sender->bonded), ==,
                    1000 - BACKUP_BONDED_HEADER_SIZE);
  sender->fakes[2]->max_message_size = 600;
  g_assert_cmpuint (backup_channel_get_max_message_size (sender->bonded), ==,
                    600 - BACKUP_BONDED_HEADER_SIZE);
}

#define PAYLOAD 1000
#define MESSAGE (PAYLOAD + BACKUP_BONDED_HEADER_SIZE)

static void
send_payload (End *sender, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *payload = g_malloc0 (size);
  g_autoptr (GBytes) data = g_bytes_new (payload, size);

  g_assert_true (backup_channel_send_bytes (sender->bonded, data, &error));
  g_assert_no_error (error);
}

/* The buffered amount spans from the oldest message not yet through, and
 * "buffered-amount-low" follows the members' progress down to nothing. */
static void
test_buffered_amount (void)
{
  g_autoptr (End) sender = end_new (TRUE);
  FakeChannel **fakes = sender->fakes;

  backup_channel_set_buffered_amount_low_threshold (sender->bonded, 2 * MESSAGE);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 0);

  send_payload (sender, PAYLOAD); /* A, on member 0 */
  send_payload (sender, PAYLOAD); /* B, on member 1 */
  send_payload (sender, PAYLOAD); /* C, on member 2 */
  for (guint i = 0; i < N_MEMBERS; i++)
    {
      g_assert_cmpuint (fakes[i]->buffered, ==, MESSAGE);
      g_assert_cmpuint (fakes[i]->threshold, ==, 0); /* less than a step: report the end */
    }
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 3 * MESSAGE);

  /* B through; A still holds the amount. */
  fake_set_buffered (fakes[1], 0);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 3 * MESSAGE);
  g_assert_cmpuint (sender->lows, ==, 0);

  send_payload (sender, PAYLOAD); /* D, on member 1 */
  g_assert_cmpuint (fakes[1]->buffered, ==, MESSAGE);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 4 * MESSAGE);

  /* A through: from C to D, at the threshold. */
  fake_set_buffered (fakes[0], 0);
  g_assert_cmpuint (sender->lows, ==, 1);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 2 * MESSAGE);

  /* D through: C still outstanding, and D after it; below already, no event. */
  fake_set_buffered (fakes[1], 0);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 2 * MESSAGE);
  g_assert_cmpuint (sender->lows, ==, 1);

  /* Half of C is not C. */
  fake_set_buffered (fakes[2], MESSAGE / 2);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 2 * MESSAGE);
  fake_set_buffered (fakes[2], 0);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 0);
  g_assert_cmpuint (sender->lows, ==, 1);

  /* Waiting for everything: the last member to drain wakes the sender,
   * although the others, at 0, say nothing more. */
  backup_channel_set_buffered_amount_low_threshold (sender->bonded, 0);
  send_payload (sender, PAYLOAD); /* E, member 0 */
  send_payload (sender, PAYLOAD); /* F, member 1 */
  send_payload (sender, PAYLOAD); /* G, member 2 */
  fake_set_buffered (fakes[2], 0);
  fake_set_buffered (fakes[1], 0);
  g_assert_cmpuint (sender->lows, ==, 1);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 3 * MESSAGE);
  fake_set_buffered (fakes[0], 0);
  g_assert_cmpuint (sender->lows, ==, 2);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 0);

  /* A big message: its member reports each step of progress. */
  backup_channel_set_buffered_amount_low_threshold (sender->bonded, 100 * 1024);
  send_payload (sender, 300 * 1024 - BACKUP_BONDED_HEADER_SIZE);
  g_assert_cmpuint (fakes[0]->buffered, ==, 300 * 1024);
  g_assert_cmpuint (fakes[0]->threshold, ==, 300 * 1024 - MEMBER_LOW_STEP);
  fake_set_buffered (fakes[0], 200 * 1024);
  g_assert_cmpuint (fakes[0]->threshold, ==, 200 * 1024 - MEMBER_LOW_STEP);
  g_assert_cmpuint (backup_channel_get_buffered_amount (sender->bonded), ==, 300 * 1024);
  g_assert_cmpuint (sender->lows, ==, 2);
  fake_set_buffered (fakes[0], 50 * 1024);
  g_assert_cmpuint (fakes[0]->threshold, ==, 0);
  g_assert_cmpuint (sender->lows, ==, 2); /* not through yet */
  fake_set_buffered (fakes[0], 0);
  g_assert_cmpuint (sender->lows, ==, 3);
}

/* A sender that sends more from "buffered-amount-low", as the session does. */
static void
send_more_cb (BackupChannel *channel, gpointer user_data)
{
  guint *left = user_data;

  if (*left > 0)
    {
      g_autoptr (GBytes) data = g_bytes_new_static ("more", 4);
      g_autoptr (GError) error = NULL;

      (*left)--;
      g_assert_true (backup_channel_send_bytes (channel, data, &error));
      g_assert_no_error (error);
    }
}

static void
test_send_from_low (void)
{
  g_autoptr (End) sender = end_new (TRUE);
  g_autoptr (End) receiver = end_new (TRUE);
  g_autoptr (GArray) wire = NULL;
  guint left = 5;

  g_signal_connect (sender->bonded, "buffered-amount-low", G_CALLBACK (send_more_cb), &left);
  send_payload (sender, PAYLOAD);
  /* Each drain wakes the sender, which sends one more. */
  for (guint round = 0; round < 10; round++)
    for (guint i = 0; i < N_MEMBERS; i++)
      if (sender->fakes[i]->buffered > 0)
        fake_set_buffered (sender->fakes[i], 0);
  g_assert_cmpuint (left, ==, 0);
  g_assert_cmpuint (sender->lows, ==, 6);

  wire = end_take_wire (sender);
  g_assert_cmpuint (wire->len, ==, 6);
  deliver_wire (receiver, wire);
  g_assert_cmpuint (receiver->received->len, ==, 6);
}

/* "open" once, when the last member opens. */
static void
test_open (void)
{
  g_autoptr (End) end = end_new (FALSE);
  g_autoptr (End) already = end_new (TRUE);
  g_autoptr (GError) error = NULL;

  g_assert_false (backup_channel_is_open (end->bonded));
  g_assert_false (backup_channel_send_text (end->bonded, "early", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  fake_open (end->fakes[2]);
  fake_open (end->fakes[0]);
  g_assert_cmpuint (end->opens, ==, 0);
  g_assert_false (backup_channel_is_open (end->bonded));
  fake_open (end->fakes[1]);
  g_assert_cmpuint (end->opens, ==, 1);
  g_assert_true (backup_channel_is_open (end->bonded));
  fake_open (end->fakes[1]);
  g_assert_cmpuint (end->opens, ==, 1);

  /* The failed send took no sequence number. */
  send_one (end, "first");
  g_assert_cmpuint (
      sequence_of (((FakeSent *) g_ptr_array_index (end->fakes[0]->sent, 0))->data), ==, 0);

  /* Open from the start: open at once, as an open data channel. */
  g_assert_true (backup_channel_is_open (already->bonded));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (already->opens, ==, 0);
}

/* Our close closes every member; "closed", clean, once they all are. */
static void
test_close_clean (void)
{
  g_autoptr (End) end = end_new (TRUE);
  g_autoptr (End) at_once = end_new (TRUE);
  g_autoptr (GError) error = NULL;

  backup_channel_close (end->bonded);
  g_assert_false (backup_channel_is_open (end->bonded));
  for (guint i = 0; i < N_MEMBERS; i++)
    g_assert_true (end->fakes[i]->close_called);
  g_assert_false (backup_channel_send_text (end->bonded, "late", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  fake_close_cleanly (end->fakes[1]);
  fake_close_cleanly (end->fakes[0]);
  g_assert_cmpuint (end->closes, ==, 0);
  fake_close_cleanly (end->fakes[2]);
  g_assert_cmpuint (end->closes, ==, 1);
  g_assert_no_error (backup_channel_get_close_error (end->bonded));
  fake_close_cleanly (end->fakes[2]);
  g_assert_cmpuint (end->closes, ==, 1);
  g_assert_cmpuint (end->errors, ==, 0);

  /* Members that close at once, from inside our close. */
  for (guint i = 0; i < N_MEMBERS; i++)
    at_once->fakes[i]->close_at_once = TRUE;
  backup_channel_close (at_once->bonded);
  g_assert_cmpuint (at_once->closes, ==, 1);
  g_assert_no_error (backup_channel_get_close_error (at_once->bonded));
}

/* The peer closes every member, cleanly: after the last, "closed"; with a
 * message still missing, a close error. */
static void
test_close_by_peer (gconstpointer data)
{
  gboolean gap = GPOINTER_TO_UINT (data);
  g_autoptr (End) receiver = end_new (TRUE);

  deliver_frame (receiver, 0, 0, 1, "zero");
  deliver_frame (receiver, 2, gap ? 2 : 1, 1, "one or two");
  g_assert_cmpuint (receiver->received->len, ==, gap ? 1 : 2);

  fake_close_cleanly (receiver->fakes[0]);
  /* The peer closes the others itself. */
  g_assert_false (receiver->fakes[1]->close_called);
  g_assert_false (receiver->fakes[2]->close_called);
  g_assert_cmpuint (receiver->closes, ==, 0);
  fake_close_cleanly (receiver->fakes[2]);
  fake_close_cleanly (receiver->fakes[1]);
  g_assert_cmpuint (receiver->closes, ==, 1);
  g_assert_cmpuint (receiver->errors, ==, 0);
  if (gap)
    {
      g_assert_error (backup_channel_get_close_error (receiver->bonded), BACKUP_ERROR,
                      BACKUP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (backup_channel_get_close_error (receiver->bonded)->message,
                                "incomplete"));
    }
  else
    g_assert_no_error (backup_channel_get_close_error (receiver->bonded));
}

/* A member lost: "error", the others closed, "closed" with its error. */
static void
test_member_lost (void)
{
  g_autoptr (End) end = end_new (TRUE);

  fake_lose (end->fakes[1]);
  g_assert_cmpuint (end->errors, ==, 1);
  g_assert_error (end->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_true (end->fakes[0]->close_called);
  g_assert_true (end->fakes[2]->close_called);
  g_assert_false (backup_channel_is_open (end->bonded));
  g_assert_cmpuint (end->closes, ==, 0);

  /* A second loss reports nothing more. */
  fake_lose (end->fakes[0]);
  g_assert_cmpuint (end->errors, ==, 1);
  fake_close_cleanly (end->fakes[2]);
  g_assert_cmpuint (end->closes, ==, 1);
  g_assert_error (backup_channel_get_close_error (end->bonded), G_IO_ERROR,
                  G_IO_ERROR_CONNECTION_CLOSED);
}

/* A member that fails without closing (a message it could not send) has
 * lost part of the stream: the same. */
static void
test_member_error (void)
{
  g_autoptr (End) end = end_new (TRUE);
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                                  "too large");

  g_signal_emit_by_name (end->fakes[0], "error", error);
  g_assert_cmpuint (end->errors, ==, 1);
  g_assert_error (end->error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  for (guint i = 0; i < N_MEMBERS; i++)
    g_assert_true (end->fakes[i]->close_called);
  g_assert_false (backup_channel_is_open (end->bonded));
  end_close_members (end);
  g_assert_cmpuint (end->closes, ==, 1);
  g_assert_error (backup_channel_get_close_error (end->bonded), G_IO_ERROR,
                  G_IO_ERROR_MESSAGE_TOO_LARGE);
}

/* A member closed with an error but no "error" before it. */
static void
test_member_closed_with_error (void)
{
  g_autoptr (End) end = end_new (TRUE);

  end->fakes[2]->open = FALSE;
  end->fakes[2]->close_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
  g_signal_emit_by_name (end->fakes[2], "closed");
  g_assert_true (end->fakes[0]->close_called);
  g_assert_true (end->fakes[1]->close_called);
  end_close_members (end);
  g_assert_cmpuint (end->closes, ==, 1);
  g_assert_error (backup_channel_get_close_error (end->bonded), G_IO_ERROR,
                  G_IO_ERROR_TIMED_OUT);
}

static void
set_member (End *end, guint position)
{
  backup_bonded_channel_set_member (BACKUP_BONDED_CHANNEL (end->bonded), position,
                                    BACKUP_CHANNEL (end->fakes[position]));
}

/* Members that come one by one: "open" once the last is there and open. */
static void
test_waiting (void)
{
  g_autoptr (End) end = end_new_full (FALSE, TRUE);
  g_autoptr (End) open_last = end_new_full (TRUE, TRUE);
  g_autoptr (End) closing = end_new_full (TRUE, TRUE);
  g_autoptr (End) relayed = end_new (TRUE);
  g_autoptr (FakeChannel) other = member_new ();
  g_autoptr (GArray) wire = NULL;

  g_assert_false (backup_channel_is_open (end->bonded));
  g_assert_cmpstr (backup_channel_get_label (end->bonded), ==, "");
  fake_open (end->fakes[1]);
  set_member (end, 1);
  set_member (end, 0);
  g_assert_cmpstr (backup_channel_get_label (end->bonded), ==, "data");
  fake_open (end->fakes[2]);
  set_member (end, 2);
  g_assert_cmpuint (end->opens, ==, 0);
  g_assert_false (backup_channel_is_open (end->bonded));
  fake_open (end->fakes[0]);
  g_assert_cmpuint (end->opens, ==, 1);
  g_assert_true (backup_channel_is_open (end->bonded));

  /* A place keeps its first member. */
  backup_bonded_channel_set_member (BACKUP_BONDED_CHANNEL (end->bonded), 1,
                                    BACKUP_CHANNEL (other));
  g_assert_cmpuint (G_OBJECT (other)->ref_count, ==, 1);

  /* It carries a stream like any other. */
  send_messages (end, 12);
  wire = end_take_wire (end);
  deliver_wire (relayed, wire);
  assert_received (relayed, 12);

  /* The last member open already: "open" from set_member(). */
  set_member (open_last, 2);
  set_member (open_last, 0);
  g_assert_cmpuint (open_last->opens, ==, 0);
  set_member (open_last, 1);
  g_assert_cmpuint (open_last->opens, ==, 1);

  /* Closed before every member came: the one that comes later is closed. */
  set_member (closing, 0);
  backup_channel_close (closing->bonded);
  g_assert_true (closing->fakes[0]->close_called);
  fake_close_cleanly (closing->fakes[0]);
  g_assert_cmpuint (closing->closes, ==, 1);
  g_assert_no_error (backup_channel_get_close_error (closing->bonded));
  set_member (closing, 1);
  g_assert_true (closing->fakes[1]->close_called);
  g_assert_cmpuint (G_OBJECT (closing->fakes[1])->ref_count, ==, 1);
  g_assert_cmpuint (closing->closes, ==, 1);
}

/* A member may carry the peer's first messages while another member is not
 * open yet here (each is its own association): they wait for "open", come
 * right after it in order, and count against the held limit meanwhile. */
static void
test_before_open (void)
{
  g_autoptr (End) end = end_new_full (FALSE, TRUE);
  /* As assert_received() wants them: an empty text, an empty binary. */
  g_autoptr (GBytes) first = frame (0, 1, "", 0);
  g_autoptr (GBytes) second = frame (1, 0, "", 0);
  g_autoptr (GBytes) again = frame (0, 1, "", 0);
  g_autoptr (End) twice = end_new_full (FALSE, TRUE);

  fake_open (end->fakes[0]);
  set_member (end, 0);
  fake_open (end->fakes[1]);
  set_member (end, 1);
  fake_deliver (end->fakes[1], second, FALSE);
  fake_deliver (end->fakes[0], first, FALSE);
  g_assert_cmpuint (end->received->len, ==, 0);
  g_assert_cmpuint (end->opens, ==, 0);
  set_member (end, 2);
  g_assert_cmpuint (end->received->len, ==, 0);
  fake_open (end->fakes[2]);
  g_assert_cmpuint (end->opens, ==, 1);
  assert_received (end, 2);
  g_assert_cmpuint (end->errors, ==, 0);

  /* The first one twice before "open" is a duplicate too. */
  fake_open (twice->fakes[0]);
  set_member (twice, 0);
  fake_deliver (twice->fakes[0], first, FALSE);
  fake_deliver (twice->fakes[0], again, FALSE);
  g_assert_cmpuint (twice->errors, ==, 1);
  g_assert_error (twice->error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
}

/* Members that outlive the bonded channel no longer reach it. */
static void
test_dispose (void)
{
  g_autoptr (End) end = end_new (FALSE);
  g_autoptr (GBytes) data = frame (0, 0, "x", 1);

  g_clear_object (&end->bonded);
  for (guint i = 0; i < N_MEMBERS; i++)
    {
      fake_open (end->fakes[i]);
      fake_deliver (end->fakes[i], data, FALSE);
      end->fakes[i]->buffered = 10;
      fake_set_buffered (end->fakes[i], 0);
    }
  fake_lose (end->fakes[0]);
  g_assert_cmpuint (end->opens + end->errors + end->closes + end->lows, ==, 0);
  g_assert_cmpuint (end->received->len, ==, 0);
  for (guint i = 0; i < N_MEMBERS; i++)
    g_assert_cmpuint (G_OBJECT (end->fakes[i])->ref_count, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bonded-channel/in-order", test_in_order);
  g_test_add_func ("/bonded-channel/shuffled", test_shuffled);
  g_test_add_data_func ("/bonded-channel/malformed/behind", GUINT_TO_POINTER (BAD_BEHIND),
                        test_malformed);
  g_test_add_data_func ("/bonded-channel/malformed/duplicate-held",
                        GUINT_TO_POINTER (BAD_DUPLICATE_HELD), test_malformed);
  g_test_add_data_func ("/bonded-channel/malformed/behind-wrapped",
                        GUINT_TO_POINTER (BAD_BEHIND_WRAPPED), test_malformed);
  g_test_add_data_func ("/bonded-channel/malformed/text", GUINT_TO_POINTER (BAD_TEXT),
                        test_malformed);
  g_test_add_data_func ("/bonded-channel/malformed/short", GUINT_TO_POINTER (BAD_SHORT),
                        test_malformed);
  g_test_add_data_func ("/bonded-channel/malformed/kind", GUINT_TO_POINTER (BAD_KIND),
                        test_malformed);
  g_test_add_func ("/bonded-channel/held-limit", test_held_limit);
  g_test_add_func ("/bonded-channel/least-buffered", test_least_buffered);
  g_test_add_func ("/bonded-channel/buffered-amount", test_buffered_amount);
  g_test_add_func ("/bonded-channel/send-from-low", test_send_from_low);
  g_test_add_func ("/bonded-channel/open", test_open);
  g_test_add_func ("/bonded-channel/close-clean", test_close_clean);
  g_test_add_data_func ("/bonded-channel/close-by-peer/complete", GUINT_TO_POINTER (FALSE),
                        test_close_by_peer);
  g_test_add_data_func ("/bonded-channel/close-by-peer/gap", GUINT_TO_POINTER (TRUE),
                        test_close_by_peer);
  g_test_add_func ("/bonded-channel/member-lost", test_member_lost);
  g_test_add_func ("/bonded-channel/member-error", test_member_error);
  g_test_add_func ("/bonded-channel/member-closed-with-error", test_member_closed_with_error);
  g_test_add_func ("/bonded-channel/waiting", test_waiting);
  g_test_add_func ("/bonded-channel/before-open", test_before_open);
  g_test_add_func ("/bonded-channel/dispose", test_dispose);
  return g_test_run ();
}
