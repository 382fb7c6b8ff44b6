/* fake-channel.c: a BackupChannel the test drives (see fake-channel.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "fake-channel.h"

static void fake_channel_iface_init (BackupChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FakeChannel, fake_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_CHANNEL, fake_channel_iface_init))

static void
sent_free (gpointer data)
{
  FakeSent *sent = data;

  g_bytes_unref (sent->data);
  g_free (sent);
}

static const char *
fake_get_label (BackupChannel *channel)
{
  return "data";
}

static gboolean
fake_is_open (BackupChannel *channel)
{
  return FAKE_CHANNEL (channel)->open;
}

static guint64
fake_get_max_message_size (BackupChannel *channel)
{
  return FAKE_CHANNEL (channel)->max_message_size;
}

static guint64
fake_get_buffered_amount (BackupChannel *channel)
{
  return FAKE_CHANNEL (channel)->buffered;
}

static void
fake_set_low_threshold (BackupChannel *channel, guint64 threshold)
{
  FAKE_CHANNEL (channel)->threshold = threshold;
}

static gboolean
fake_send (FakeChannel *self, GBytes *data, gboolean is_string, GError **error)
{
  FakeSent *sent;

  if (!self->open)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the fake channel is closed");
      return FALSE;
    }
  if (self->fail_send)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the fake channel refused it");
      return FALSE;
    }
  sent = g_new (FakeSent, 1);
  sent->data = g_bytes_ref (data);
  sent->is_string = is_string;
  g_ptr_array_add (self->sent, sent);
  if (self->queue_sends)
    self->buffered += g_bytes_get_size (data);
  return TRUE;
}

static gboolean
fake_send_bytes (BackupChannel *channel, GBytes *data, GError **error)
{
  return fake_send (FAKE_CHANNEL (channel), data, FALSE, error);
}

static gboolean
fake_send_text (BackupChannel *channel, const char *text, GError **error)
{
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));

  return fake_send (FAKE_CHANNEL (channel), data, TRUE, error);
}

static void
fake_close (BackupChannel *channel)
{
  FakeChannel *self = FAKE_CHANNEL (channel);

  self->close_called = TRUE;
  /* Otherwise the peer's answering reset is the test's to deliver. */
  if (self->close_at_once)
    fake_close_cleanly (self);
}

static const GError *
fake_get_close_error (BackupChannel *channel)
{
  return FAKE_CHANNEL (channel)->close_error;
}

static void
fake_channel_iface_init (BackupChannelInterface *iface)
{
  iface->get_label = fake_get_label;
  iface->is_open = fake_is_open;
  iface->get_max_message_size = fake_get_max_message_size;
  iface->get_buffered_amount = fake_get_buffered_amount;
  iface->set_buffered_amount_low_threshold = fake_set_low_threshold;
  iface->send_bytes = fake_send_bytes;
  iface->send_text = fake_send_text;
  iface->close = fake_close;
  iface->get_close_error = fake_get_close_error;
}

static void
fake_channel_finalize (GObject *object)
{
  FakeChannel *self = FAKE_CHANNEL (object);

  g_ptr_array_unref (self->sent);
  g_clear_error (&self->close_error);
  G_OBJECT_CLASS (fake_channel_parent_class)->finalize (object);
}

static void
fake_channel_class_init (FakeChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_channel_finalize;
}

static void
fake_channel_init (FakeChannel *self)
{
  self->sent = g_ptr_array_new_with_free_func (sent_free);
}

void
fake_open (FakeChannel *self)
{
  self->open = TRUE;
  g_signal_emit_by_name (self, "open");
}

void
fake_set_buffered (FakeChannel *self, guint64 buffered)
{
  gboolean was_above = self->buffered > self->threshold;

  g_assert_cmpuint (buffered, <=, self->buffered);
  self->buffered = buffered;
  if (was_above && buffered <= self->threshold)
    g_signal_emit_by_name (self, "buffered-amount-low");
}

void
fake_deliver (FakeChannel *self, GBytes *data, gboolean is_string)
{
  g_signal_emit_by_name (self, "message", data, is_string);
}

void
fake_deliver_data (FakeChannel *self, const void *data, gsize length, gboolean is_string)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, length);

  fake_deliver (self, bytes, is_string);
}

void
fake_close_cleanly (FakeChannel *self)
{
  self->open = FALSE;
  g_signal_emit_by_name (self, "closed");
}

void
fake_lose (FakeChannel *self)
{
  self->open = FALSE;
  self->close_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                           "The SCTP association was lost");
  g_signal_emit_by_name (self, "error", self->close_error);
  g_signal_emit_by_name (self, "closed");
}
