/* fake-channel.h: a BackupChannel the test drives, for the tests of what
 * runs over one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * No transport under it: the test opens it, delivers the peer's messages,
 * closes it cleanly or loses it, sets what it buffers, and reads what was
 * sent on it from its fields. test-session-transfer.c runs a BackupSession
 * on one; test-bonded-channel.c bonds several into a BackupBondedChannel.
 *
 * The fields are the test's to read and set:
 *   open              what is_open() says; send fails while FALSE
 *   close_called      close() was called
 *   close_at_once     close() closes at once (as a channel with nothing
 *                     queued); otherwise the answering close is the test's
 *                     to deliver with fake_close_cleanly()
 *   fail_send         a send on the open channel fails (G_IO_ERROR_FAILED)
 *   queue_sends       a send adds its size to buffered, as on a real
 *                     channel; otherwise buffered is the test's alone
 *   buffered          what get_buffered_amount() says
 *   threshold         what set_buffered_amount_low_threshold() last set
 *   max_message_size  what get_max_message_size() says (0: no limit)
 *   close_error       what get_close_error() says; set by fake_lose()
 *   sent              every message sent, in order (FakeSent *)
 */
#pragma once

#include <gio/gio.h>

#include "backup-channel.h"

G_BEGIN_DECLS

#define FAKE_TYPE_CHANNEL (fake_channel_get_type ())
G_DECLARE_FINAL_TYPE (FakeChannel, fake_channel, FAKE, CHANNEL, GObject)

typedef struct
{
  GBytes *data;
  gboolean is_string;
} FakeSent;

struct _FakeChannel
{
  GObject parent_instance;

  gboolean open;
  gboolean close_called;
  gboolean close_at_once;
  gboolean fail_send;
  gboolean queue_sends;
  guint64 buffered;
  guint64 threshold;
  guint64 max_message_size;
  GError *close_error;
  GPtrArray *sent; /* of FakeSent */
};

/* Opens the channel: "open". */
void fake_open (FakeChannel *self);
/* The association acknowledged data: @buffered (no more than before), and
 * "buffered-amount-low" by the W3C rule, when it crosses down to the
 * threshold. */
void fake_set_buffered (FakeChannel *self, guint64 buffered);
/* The peer sent a message: "message". */
void fake_deliver (FakeChannel *self, GBytes *data, gboolean is_string);
void fake_deliver_data (FakeChannel *self, const void *data, gsize length, gboolean is_string);
/* The peer reset its stream (or answered ours): "closed", no error. */
void fake_close_cleanly (FakeChannel *self);
/* The association ended under the channel: "error", then "closed". */
void fake_lose (FakeChannel *self);

G_END_DECLS
