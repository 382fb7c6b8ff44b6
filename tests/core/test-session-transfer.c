/* test-session-transfer.c: the sender and the receiver of BackupSession,
 * driven through a fake channel, every failure in every state
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The state machines alone are tested in test-transfer-machine.c, and whole
 * backups over real connections in test-session.c and the process tests.
 * Here the session's two roles run on a channel the test controls: it opens
 * it, delivers the peer's messages, closes it cleanly or loses it, and sees
 * everything the session sends. Each case brings a role to one state,
 * delivers one event there, and checks the result of the run, what the
 * session told its peer, and (receiver) what the store holds: the new
 * version only after a verified end, the earlier one untouched otherwise.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "backup-channel.h"
#include "backup-directory-store.h"
#include "backup-error.h"
#include "backup-frame.h"
#include "backup-session-private.h"
#include "backup-session.h"
#include "backup-signaling-open.h"
#include "backup-store.h"
#include "fake-channel.h"
#include "store-test-util.h"

/* ------------------------------------------------------------------------ */
/* The channel the test drives (fake-channel.h), in the session's frames    */

/* The peer sent @frame. */
static void
fake_deliver_frame (FakeChannel *self, const BackupFrame *frame)
{
  g_autoptr (GBytes) bytes = backup_frame_encode (frame);

  fake_deliver (self, bytes, TRUE);
}

/* The control message of type @type the session sent last, or NULL. */
static BackupFrame *
fake_last_frame (FakeChannel *self, BackupFrameType type)
{
  for (guint i = self->sent->len; i > 0; i--)
    {
      FakeSent *sent = g_ptr_array_index (self->sent, i - 1);
      g_autoptr (BackupFrame) frame = NULL;
      gsize length;
      const guint8 *data;

      if (!sent->is_string)
        continue;
      data = g_bytes_get_data (sent->data, &length);
      frame = backup_frame_decode (data, length, NULL);
      if (frame != NULL && frame->type == type)
        return g_steal_pointer (&frame);
    }
  return NULL;
}

static gboolean
fake_has_sent (FakeChannel *self, BackupFrameType type)
{
  g_autoptr (BackupFrame) frame = fake_last_frame (self, type);

  return frame != NULL;
}

/* The binary messages the session sent, joined. */
static GByteArray *
fake_sent_binary (FakeChannel *self)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < self->sent->len; i++)
    {
      FakeSent *sent = g_ptr_array_index (self->sent, i);
      gsize length;
      const guint8 *data = g_bytes_get_data (sent->data, &length);

      if (!sent->is_string)
        g_byte_array_append (out, data, (guint) length);
    }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

#define CONTENT_SIZE (200 * 1024) /* several of the sender's chunks */
#define OLD_VERSION "the version received before"

typedef struct
{
  char *root;
  char *dest;
  GBytes *content;
  guint8 digest[BACKUP_FRAME_SHA256_LEN];
  BackupSignalingStore *signaling;
  BackupSession *session;
  FakeChannel *channel;
  GCancellable *cancellable;
  gboolean finished;
  gboolean ok;
  GError *error;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *content = g_malloc (CONTENT_SIZE);
  g_autofree char *signaling_dir = NULL;

  f->root = g_dir_make_tmp ("test-session-transfer-XXXXXX", &error);
  g_assert_no_error (error);
  f->dest = g_build_filename (f->root, "dest", NULL);
  signaling_dir = g_build_filename (f->root, "signaling", NULL);
  g_assert_cmpint (g_mkdir (f->dest, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (signaling_dir, 0700), ==, 0);
  /* Never used: the transfer runs on the fake channel. */
  f->signaling = backup_signaling_open (signaling_dir, NULL, NULL, &error);
  g_assert_no_error (error);

  for (gsize i = 0; i < CONTENT_SIZE; i++)
    content[i] = (guint8) g_test_rand_int_range (0, 256);
  f->content = g_bytes_new_take (g_steal_pointer (&content), CONTENT_SIZE);
  g_assert_cmpint (gnutls_hash_fast (GNUTLS_DIG_SHA256, g_bytes_get_data (f->content, NULL),
                                     CONTENT_SIZE, f->digest), ==, 0);
  store_test_write (f->dest, "data.bin", OLD_VERSION);

  f->channel = g_object_new (FAKE_TYPE_CHANNEL, NULL);
  f->cancellable = g_cancellable_new ();
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *signaling_dir = g_build_filename (f->root, "signaling", NULL);
  g_autofree char *source = g_build_filename (f->root, "data.bin", NULL);
  g_autoptr (GDir) dir = g_dir_open (f->dest, 0, NULL);
  const char *name;

  g_clear_object (&f->session);
  g_clear_object (&f->channel);
  g_clear_object (&f->signaling);
  g_clear_object (&f->cancellable);
  g_clear_error (&f->error);
  g_bytes_unref (f->content);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dest, name, NULL);

      g_remove (path);
    }
  g_rmdir (f->dest);
  g_rmdir (signaling_dir);
  g_remove (source);
  g_rmdir (f->root);
  g_free (f->dest);
  g_free (f->root);
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->ok = backup_session_run_finish (BACKUP_SESSION (object), result, &f->error);
  f->finished = TRUE;
}

static gboolean
give_up_cb (gpointer user_data)
{
  g_error ("the run did not get where the test expected within 20 s");
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @done (a condition over the fixture). */
#define SPIN_UNTIL(f, cond)                                                  \
  G_STMT_START                                                               \
  {                                                                          \
    guint give_up = g_timeout_add_seconds (20, give_up_cb, NULL);            \
    while (!(cond))                                                          \
      g_main_context_iteration (NULL, TRUE);                                 \
    g_source_remove (give_up);                                               \
  }                                                                          \
  G_STMT_END

/* Lets whatever the last event started run its course (the store's commit
 * runs in a worker thread). */
static void
settle (Fixture *f)
{
  for (int i = 0; i < 20 && !f->finished; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (5000);
    }
}

static void
start_sender (Fixture *f, gboolean legacy)
{
  g_autofree char *path = g_build_filename (f->root, "data.bin", NULL);
  g_autoptr (GFile) source = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (f->content, NULL), CONTENT_SIZE, &error);
  g_assert_no_error (error);
  f->session = backup_session_new_sender (f->signaling, "fake", NULL, source, NULL, NULL, NULL,
                                          BACKUP_ZIP_ENCRYPTION_AES256);
  backup_session_transfer_async (f->session, BACKUP_CHANNEL (f->channel), legacy ? 0 : 1,
                                 f->cancellable,
                                 run_done_cb, f);
}

/* @legacy: the peer is the original tool, as its signaling tells. */
static void
start_receiver (Fixture *f, gboolean legacy)
{
  g_autoptr (GFile) dest = g_file_new_for_path (f->dest);
  g_autoptr (BackupStore) store = backup_store_new (dest, 2);

  f->session = backup_session_new_receiver (f->signaling, "fake", NULL, store);
  backup_session_transfer_async (f->session, BACKUP_CHANNEL (f->channel), legacy ? 0 : 1,
                                 f->cancellable,
                                 run_done_cb, f);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

typedef enum
{
  EVENT_LOST,        /* the association ended under the channel */
  EVENT_CLEAN_CLOSE, /* the peer closed the channel */
  EVENT_PEER_ERROR,  /* the peer reported a failure */
  EVENT_GARBAGE,     /* a message that is no control message */
  EVENT_CANCEL,      /* the user cancelled */
} Event;

static void
deliver_event (Fixture *f, Event event)
{
  switch (event)
    {
    case EVENT_LOST:
      fake_lose (f->channel);
      break;
    case EVENT_CLEAN_CLOSE:
      fake_close_cleanly (f->channel);
      break;
    case EVENT_PEER_ERROR:
      {
        g_autoptr (BackupFrame) frame = backup_frame_new (BACKUP_FRAME_ERROR);

        frame->message = g_strdup ("disk on fire");
        fake_deliver_frame (f->channel, frame);
        break;
      }
    case EVENT_GARBAGE:
      fake_deliver_data (f->channel, "{\"type\":", 8, TRUE);
      break;
    case EVENT_CANCEL:
      g_cancellable_cancel (f->cancellable);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* What the run must end with after an event. */
typedef enum
{
  EXPECT_FAIL,
  EXPECT_SUCCEED,
  EXPECT_NOTHING, /* the event does not matter: the run goes on */
} Expect;

static void
assert_outcome (Fixture *f, Event event, Expect expect, const char *message)
{
  if (expect == EXPECT_NOTHING)
    {
      settle (f);
      g_assert_false (f->finished);
      return;
    }
  SPIN_UNTIL (f, f->finished);
  if (expect == EXPECT_SUCCEED)
    {
      g_assert_no_error (f->error);
      g_assert_true (f->ok);
      g_assert_cmpint (backup_session_get_state (f->session), ==, BACKUP_SESSION_STATE_DONE);
      return;
    }
  g_assert_false (f->ok);
  g_assert_nonnull (f->error);
  if (event == EVENT_CANCEL)
    g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (message != NULL && strstr (f->error->message, message) == NULL)
    g_error ("“%s” does not say “%s”", f->error->message, message);
  g_assert_cmpint (backup_session_get_state (f->session), ==, BACKUP_SESSION_STATE_FAILED);
}

/* A peer of this program is told why a run it still waits on failed. */
static void
assert_peer_told (Fixture *f, Event event)
{
  g_autoptr (BackupFrame) frame = fake_last_frame (f->channel, BACKUP_FRAME_ERROR);

  if (event == EVENT_LOST || event == EVENT_CLEAN_CLOSE)
    {
      g_assert_null (frame); /* nobody to tell */
      return;
    }
  g_assert_nonnull (frame);
  if (event == EVENT_CANCEL)
    g_assert_cmpstr (frame->message, ==, "the backup was cancelled");
}

/* ------------------------------------------------------------------------ */
/* Receiver                                                                  */

typedef enum
{
  RECEIVER_AT_WAITING,   /* open, nothing received */
  RECEIVER_AT_RECEIVING, /* header and part of the content */
  RECEIVER_AT_STORED,    /* verified end, stored, acknowledged */
} ReceiverAt;

typedef struct
{
  const char *path;
  gboolean legacy;
  ReceiverAt at;
  Event event;
  Expect expect;
  const char *message; /* in the run's error, for EXPECT_FAIL */
} ReceiverCase;

static void
send_header (Fixture *f)
{
  g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);

  header->name = g_strdup ("data.bin");
  header->size = CONTENT_SIZE;
  header->kind = BACKUP_FRAME_KIND_FILE;
  fake_deliver_frame (f->channel, header);
}

static void
send_content (Fixture *f, gsize from, gsize to)
{
  const guint8 *data = g_bytes_get_data (f->content, NULL);

  for (gsize at = from; at < to; at += 16 * 1024)
    fake_deliver_data (f->channel, data + at, MIN (16 * 1024, to - at), FALSE);
}

static void
send_end (Fixture *f, guint64 bytes, const guint8 *digest)
{
  g_autoptr (BackupFrame) end = backup_frame_new (BACKUP_FRAME_END);

  end->bytes = bytes;
  memcpy (end->sha256, digest, BACKUP_FRAME_SHA256_LEN);
  fake_deliver_frame (f->channel, end);
}

static void
receiver_reach (Fixture *f, gboolean legacy, ReceiverAt at)
{
  start_receiver (f, legacy);
  fake_open (f->channel);
  if (at == RECEIVER_AT_WAITING)
    return;

  if (legacy)
    {
      guint8 length = 8;

      fake_deliver_data (f->channel, &length, 1, FALSE);
      fake_deliver_data (f->channel, "data.bin", 8, FALSE);
    }
  else
    send_header (f);
  send_content (f, 0, CONTENT_SIZE / 2);
  g_assert_cmpint (backup_session_get_state (f->session), ==, BACKUP_SESSION_STATE_TRANSFERRING);
  if (at == RECEIVER_AT_RECEIVING)
    return;

  g_assert_false (legacy); /* the original framing ends with the close */
  send_content (f, CONTENT_SIZE / 2, CONTENT_SIZE);
  send_end (f, CONTENT_SIZE, f->digest);
  {
    g_autoptr (BackupFrame) ack = NULL;

    SPIN_UNTIL (f, (ack = fake_last_frame (f->channel, BACKUP_FRAME_ACK)) != NULL || f->finished);
    g_assert_nonnull (ack);
    g_assert_cmpuint (ack->bytes, ==, CONTENT_SIZE);
    g_assert_cmpmem (ack->sha256, sizeof ack->sha256, f->digest, sizeof f->digest);
  }
}

static void
assert_stored (Fixture *f, gboolean stored)
{
  g_autofree char *list = store_test_list (f->dest);

  if (!stored)
    {
      /* The earlier version as it was, and no partial file. */
      g_assert_cmpstr (list, ==, "data.bin");
      store_test_assert_contents (f->dest, "data.bin", OLD_VERSION);
      return;
    }
  g_assert_cmpstr (list, ==, "data.bin,data.bin.1");
  store_test_assert_contents (f->dest, "data.bin.1", OLD_VERSION);
  {
    g_autofree char *path = g_build_filename (f->dest, "data.bin", NULL);
    g_autofree char *contents = NULL;
    gsize length;

    g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
    g_assert_cmpmem (contents, length, g_bytes_get_data (f->content, NULL), CONTENT_SIZE);
  }
}

static void
test_receiver_case (Fixture *f, gconstpointer data)
{
  const ReceiverCase *c = data;

  receiver_reach (f, c->legacy, c->at);
  deliver_event (f, c->event);
  assert_outcome (f, c->event, c->expect, c->message);
  if (c->expect == EXPECT_NOTHING)
    {
      /* Stored already: the sender's close ends the run. */
      fake_close_cleanly (f->channel);
      assert_outcome (f, EVENT_CLEAN_CLOSE, EXPECT_SUCCEED, NULL);
    }
  if (c->expect == EXPECT_FAIL && !c->legacy)
    assert_peer_told (f, c->event);
  assert_stored (f, f->ok);
}

/* The whole file in the original framing: stored when the sender closes. */
static void
test_receiver_legacy_complete (Fixture *f, gconstpointer data)
{
  receiver_reach (f, TRUE, RECEIVER_AT_RECEIVING);
  send_content (f, CONTENT_SIZE / 2, CONTENT_SIZE);
  fake_close_cleanly (f->channel);
  assert_outcome (f, EVENT_CLEAN_CLOSE, EXPECT_SUCCEED, NULL);
  g_assert_cmpuint (f->channel->sent->len, ==, 0); /* the original tool hears nothing */
  assert_stored (f, TRUE);
}

static void
test_receiver_wrong_end (Fixture *f, gconstpointer data)
{
  guint8 wrong[BACKUP_FRAME_SHA256_LEN];
  gboolean count = GPOINTER_TO_INT (data);

  receiver_reach (f, FALSE, RECEIVER_AT_RECEIVING);
  send_content (f, CONTENT_SIZE / 2, CONTENT_SIZE);
  memcpy (wrong, f->digest, sizeof wrong);
  wrong[0] ^= 1;
  if (count)
    send_end (f, CONTENT_SIZE + 1, f->digest);
  else
    send_end (f, CONTENT_SIZE, wrong);
  assert_outcome (f, EVENT_PEER_ERROR, EXPECT_FAIL, count ? "but the sender sent" : "is corrupt");
  g_assert_error (f->error, BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH);
  assert_peer_told (f, EVENT_PEER_ERROR);
  assert_stored (f, FALSE);
}

/* The store cannot put the file in place: the run fails, the sender hears
 * why, and every earlier version is as it was. */
static void
test_receiver_commit_failed (Fixture *f, gconstpointer data)
{
  g_autofree char *blocker = g_build_filename (f->dest, "data.bin.1", NULL);
  g_autofree char *inside = g_build_filename (blocker, "keep", NULL);
  g_autofree char *list = NULL;

  /* Something that is no version, where the rotation must go. */
  g_assert_cmpint (g_mkdir (blocker, 0700), ==, 0);
  g_assert_true (g_file_set_contents (inside, "not a version", -1, NULL));

  receiver_reach (f, FALSE, RECEIVER_AT_RECEIVING);
  send_content (f, CONTENT_SIZE / 2, CONTENT_SIZE);
  send_end (f, CONTENT_SIZE, f->digest);
  assert_outcome (f, EVENT_PEER_ERROR, EXPECT_FAIL, NULL);
  assert_peer_told (f, EVENT_PEER_ERROR);
  g_assert_false (fake_has_sent (f->channel, BACKUP_FRAME_ACK));
  list = store_test_list (f->dest);
  g_assert_cmpstr (list, ==, "data.bin,data.bin.1");
  store_test_assert_contents (f->dest, "data.bin", OLD_VERSION);
  store_test_assert_contents (blocker, "keep", "not a version");
  g_remove (inside);
  g_rmdir (blocker);
}

static const ReceiverCase receiver_cases[] = {
  { "/transfer/receiver/waiting/lost", FALSE, RECEIVER_AT_WAITING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/receiver/waiting/clean-close", FALSE, RECEIVER_AT_WAITING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before the end of the file" },
  { "/transfer/receiver/waiting/peer-error", FALSE, RECEIVER_AT_WAITING, EVENT_PEER_ERROR,
    EXPECT_FAIL, "The sender failed: disk on fire" },
  { "/transfer/receiver/waiting/garbage", FALSE, RECEIVER_AT_WAITING, EVENT_GARBAGE, EXPECT_FAIL,
    NULL },
  { "/transfer/receiver/waiting/cancel", FALSE, RECEIVER_AT_WAITING, EVENT_CANCEL, EXPECT_FAIL,
    NULL },
  { "/transfer/receiver/receiving/lost", FALSE, RECEIVER_AT_RECEIVING, EVENT_LOST, EXPECT_FAIL,
    "was interrupted after 102.4\u00a0kB" },
  { "/transfer/receiver/receiving/clean-close", FALSE, RECEIVER_AT_RECEIVING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before the end of the file; nothing was stored" },
  { "/transfer/receiver/receiving/peer-error", FALSE, RECEIVER_AT_RECEIVING, EVENT_PEER_ERROR,
    EXPECT_FAIL, "The sender failed: disk on fire" },
  { "/transfer/receiver/receiving/garbage", FALSE, RECEIVER_AT_RECEIVING, EVENT_GARBAGE,
    EXPECT_FAIL, NULL },
  { "/transfer/receiver/receiving/cancel", FALSE, RECEIVER_AT_RECEIVING, EVENT_CANCEL,
    EXPECT_FAIL, NULL },
  /* Stored and acknowledged: nothing that ends the connection now changes
   * that. */
  { "/transfer/receiver/stored/lost", FALSE, RECEIVER_AT_STORED, EVENT_LOST, EXPECT_SUCCEED,
    NULL },
  { "/transfer/receiver/stored/clean-close", FALSE, RECEIVER_AT_STORED, EVENT_CLEAN_CLOSE,
    EXPECT_SUCCEED, NULL },
  { "/transfer/receiver/stored/peer-error", FALSE, RECEIVER_AT_STORED, EVENT_PEER_ERROR,
    EXPECT_NOTHING, NULL },
  { "/transfer/receiver/stored/garbage", FALSE, RECEIVER_AT_STORED, EVENT_GARBAGE,
    EXPECT_NOTHING, NULL },
  { "/transfer/receiver/stored/cancel", FALSE, RECEIVER_AT_STORED, EVENT_CANCEL, EXPECT_SUCCEED,
    NULL },
  /* The original framing. */
  { "/transfer/receiver/legacy/waiting/lost", TRUE, RECEIVER_AT_WAITING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/receiver/legacy/waiting/clean-close", TRUE, RECEIVER_AT_WAITING,
    EVENT_CLEAN_CLOSE, EXPECT_FAIL, "before the end of the file" },
  { "/transfer/receiver/legacy/receiving/lost", TRUE, RECEIVER_AT_RECEIVING, EVENT_LOST,
    EXPECT_FAIL, "was interrupted after 102.4\u00a0kB" },
  { "/transfer/receiver/legacy/receiving/cancel", TRUE, RECEIVER_AT_RECEIVING, EVENT_CANCEL,
    EXPECT_FAIL, NULL },
};

/* ------------------------------------------------------------------------ */
/* Sender                                                                    */

typedef enum
{
  SENDER_AT_WAITING,   /* the channel is not open yet */
  SENDER_AT_SENDING,   /* header sent, the channel's buffer is full */
  SENDER_AT_FINISHING, /* everything and the end sent (original framing: closing) */
} SenderAt;

typedef struct
{
  const char *path;
  gboolean legacy;
  SenderAt at;
  Event event;
  Expect expect;
  const char *message;
} SenderCase;

static void
sender_reach (Fixture *f, gboolean legacy, SenderAt at)
{
  start_sender (f, legacy);
  if (at == SENDER_AT_WAITING)
    return;

  /* A full buffer holds the sender after its header. */
  f->channel->buffered = HIGH_WATER;
  fake_open (f->channel);
  if (!legacy)
    {
      g_autoptr (BackupFrame) header = fake_last_frame (f->channel, BACKUP_FRAME_HEADER);

      g_assert_nonnull (header);
      g_assert_cmpstr (header->name, ==, "data.bin");
      g_assert_cmpint (header->size, ==, CONTENT_SIZE);
    }
  settle (f);
  g_assert_false (f->finished);
  if (at == SENDER_AT_SENDING)
    return;

  f->channel->buffered = 0;
  g_signal_emit_by_name (f->channel, "buffered-amount-low");
  if (legacy)
    SPIN_UNTIL (f, f->channel->close_called || f->finished);
  else
    {
      g_autoptr (BackupFrame) end = NULL;

      SPIN_UNTIL (f, (end = fake_last_frame (f->channel, BACKUP_FRAME_END)) != NULL || f->finished);
      g_assert_nonnull (end);
      g_assert_cmpuint (end->bytes, ==, CONTENT_SIZE);
      g_assert_cmpmem (end->sha256, sizeof end->sha256, f->digest, sizeof f->digest);
    }
  g_assert_false (f->finished);

  /* Every byte went out, once, in order (after the original framing's
   * length byte and name). */
  {
    g_autoptr (GByteArray) sent = fake_sent_binary (f->channel);
    gsize skip = legacy ? 1 + strlen ("data.bin") : 0;

    g_assert_cmpuint (sent->len, ==, skip + CONTENT_SIZE);
    g_assert_cmpmem (sent->data + skip, CONTENT_SIZE, g_bytes_get_data (f->content, NULL),
                     CONTENT_SIZE);
    if (legacy)
      {
        g_assert_cmpint (sent->data[0], ==, 8);
        g_assert_cmpmem (sent->data + 1, 8, "data.bin", 8);
      }
  }
}

static void
deliver_ack (Fixture *f, guint64 bytes, gboolean right_hash)
{
  g_autoptr (BackupFrame) ack = backup_frame_new (BACKUP_FRAME_ACK);

  ack->bytes = bytes;
  memcpy (ack->sha256, f->digest, sizeof ack->sha256);
  if (!right_hash)
    ack->sha256[5] ^= 0x40;
  fake_deliver_frame (f->channel, ack);
}

static void
test_sender_case (Fixture *f, gconstpointer data)
{
  const SenderCase *c = data;

  sender_reach (f, c->legacy, c->at);
  deliver_event (f, c->event);
  assert_outcome (f, c->event, c->expect, c->message);
  if (c->expect == EXPECT_FAIL && !c->legacy && c->at != SENDER_AT_WAITING
      && c->event != EVENT_PEER_ERROR)
    assert_peer_told (f, c->event);
}

/* The receiver stored it: the sender closes the channel and succeeds. */
static void
test_sender_acknowledged (Fixture *f, gconstpointer data)
{
  sender_reach (f, FALSE, SENDER_AT_FINISHING);
  deliver_ack (f, CONTENT_SIZE, TRUE);
  assert_outcome (f, EVENT_CLEAN_CLOSE, EXPECT_SUCCEED, NULL);
  g_assert_true (f->channel->close_called);
}

/* The original receiver stores on the close: its answering reset is the
 * receipt. */
static void
test_sender_legacy_closed (Fixture *f, gconstpointer data)
{
  sender_reach (f, TRUE, SENDER_AT_FINISHING);
  fake_close_cleanly (f->channel);
  assert_outcome (f, EVENT_CLEAN_CLOSE, EXPECT_SUCCEED, NULL);
  /* No control message ever went to the original tool. */
  for (guint i = 0; i < f->channel->sent->len; i++)
    g_assert_false (((FakeSent *) g_ptr_array_index (f->channel->sent, i))->is_string);
}

static void
test_sender_wrong_ack (Fixture *f, gconstpointer data)
{
  gboolean count = GPOINTER_TO_INT (data);

  sender_reach (f, FALSE, SENDER_AT_FINISHING);
  deliver_ack (f, count ? CONTENT_SIZE - 1 : CONTENT_SIZE, count);
  assert_outcome (f, EVENT_PEER_ERROR, EXPECT_FAIL, "stored something else than what was sent");
  g_assert_error (f->error, BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH);
}

static void
test_sender_early_ack (Fixture *f, gconstpointer data)
{
  sender_reach (f, FALSE, SENDER_AT_SENDING);
  deliver_ack (f, CONTENT_SIZE, TRUE);
  assert_outcome (f, EVENT_PEER_ERROR, EXPECT_FAIL, "acknowledged too early");
  assert_peer_told (f, EVENT_GARBAGE);
}

static const SenderCase sender_cases[] = {
  { "/transfer/sender/waiting/lost", FALSE, SENDER_AT_WAITING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/sender/waiting/clean-close", FALSE, SENDER_AT_WAITING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before the end of the transfer" },
  { "/transfer/sender/waiting/cancel", FALSE, SENDER_AT_WAITING, EVENT_CANCEL, EXPECT_FAIL, NULL },
  { "/transfer/sender/sending/lost", FALSE, SENDER_AT_SENDING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/sender/sending/clean-close", FALSE, SENDER_AT_SENDING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before the end of the transfer" },
  { "/transfer/sender/sending/peer-error", FALSE, SENDER_AT_SENDING, EVENT_PEER_ERROR,
    EXPECT_FAIL, "The receiver failed: disk on fire" },
  { "/transfer/sender/sending/garbage", FALSE, SENDER_AT_SENDING, EVENT_GARBAGE, EXPECT_FAIL,
    NULL },
  { "/transfer/sender/sending/cancel", FALSE, SENDER_AT_SENDING, EVENT_CANCEL, EXPECT_FAIL, NULL },
  { "/transfer/sender/finishing/lost", FALSE, SENDER_AT_FINISHING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/sender/finishing/clean-close", FALSE, SENDER_AT_FINISHING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before confirming the backup" },
  { "/transfer/sender/finishing/peer-error", FALSE, SENDER_AT_FINISHING, EVENT_PEER_ERROR,
    EXPECT_FAIL, "The receiver failed: disk on fire" },
  { "/transfer/sender/finishing/garbage", FALSE, SENDER_AT_FINISHING, EVENT_GARBAGE, EXPECT_FAIL,
    NULL },
  { "/transfer/sender/finishing/cancel", FALSE, SENDER_AT_FINISHING, EVENT_CANCEL, EXPECT_FAIL,
    NULL },
  /* The original framing: nothing but the clean close is a receipt. */
  { "/transfer/sender/legacy/sending/lost", TRUE, SENDER_AT_SENDING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/sender/legacy/sending/clean-close", TRUE, SENDER_AT_SENDING, EVENT_CLEAN_CLOSE,
    EXPECT_FAIL, "before the end of the transfer" },
  { "/transfer/sender/legacy/sending/garbage", TRUE, SENDER_AT_SENDING, EVENT_GARBAGE,
    EXPECT_FAIL, "The receiver sent unexpected data" },
  { "/transfer/sender/legacy/finishing/lost", TRUE, SENDER_AT_FINISHING, EVENT_LOST, EXPECT_FAIL,
    "association was lost" },
  { "/transfer/sender/legacy/finishing/cancel", TRUE, SENDER_AT_FINISHING, EVENT_CANCEL,
    EXPECT_FAIL, NULL },
};

/* A session runs again after a failed run, with nothing carried over. */
static void
test_runs_are_fresh (Fixture *f, gconstpointer data)
{
  g_autoptr (FakeChannel) second = g_object_new (FAKE_TYPE_CHANNEL, NULL);

  receiver_reach (f, FALSE, RECEIVER_AT_RECEIVING);
  fake_lose (f->channel);
  assert_outcome (f, EVENT_LOST, EXPECT_FAIL, "interrupted");
  g_clear_error (&f->error);
  f->finished = FALSE;

  backup_session_transfer_async (f->session, BACKUP_CHANNEL (second), 1, NULL, run_done_cb, f);
  g_assert_cmpuint (backup_session_get_bytes_done (f->session), ==, 0);
  fake_open (second);
  g_set_object (&f->channel, second);
  send_header (f);
  send_content (f, 0, CONTENT_SIZE);
  send_end (f, CONTENT_SIZE, f->digest);
  SPIN_UNTIL (f, fake_has_sent (f->channel, BACKUP_FRAME_ACK));
  fake_close_cleanly (f->channel);
  assert_outcome (f, EVENT_CLEAN_CLOSE, EXPECT_SUCCEED, NULL);
  g_assert_cmpuint (backup_session_get_bytes_done (f->session), ==, CONTENT_SIZE);
  assert_stored (f, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (receiver_cases); i++)
    g_test_add (receiver_cases[i].path, Fixture, &receiver_cases[i], fixture_set_up,
                test_receiver_case, fixture_tear_down);
  g_test_add ("/transfer/receiver/legacy/complete", Fixture, NULL, fixture_set_up,
              test_receiver_legacy_complete, fixture_tear_down);
  g_test_add ("/transfer/receiver/committing/commit-failed", Fixture, NULL, fixture_set_up,
              test_receiver_commit_failed, fixture_tear_down);
  g_test_add ("/transfer/receiver/receiving/wrong-hash", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_receiver_wrong_end, fixture_tear_down);
  g_test_add ("/transfer/receiver/receiving/wrong-count", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_receiver_wrong_end, fixture_tear_down);

  for (gsize i = 0; i < G_N_ELEMENTS (sender_cases); i++)
    g_test_add (sender_cases[i].path, Fixture, &sender_cases[i], fixture_set_up,
                test_sender_case, fixture_tear_down);
  g_test_add ("/transfer/sender/finishing/ack", Fixture, NULL, fixture_set_up,
              test_sender_acknowledged, fixture_tear_down);
  g_test_add ("/transfer/sender/finishing/wrong-hash", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_sender_wrong_ack, fixture_tear_down);
  g_test_add ("/transfer/sender/finishing/wrong-count", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_sender_wrong_ack, fixture_tear_down);
  g_test_add ("/transfer/sender/sending/early-ack", Fixture, NULL, fixture_set_up,
              test_sender_early_ack, fixture_tear_down);
  g_test_add ("/transfer/sender/legacy/finishing/clean-close", Fixture, NULL, fixture_set_up,
              test_sender_legacy_closed, fixture_tear_down);

  g_test_add ("/transfer/runs-are-fresh", Fixture, NULL, fixture_set_up, test_runs_are_fresh,
              fixture_tear_down);
  return g_test_run ();
}
