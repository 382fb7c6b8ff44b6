/* backup-rtc-channel.c: a BackupChannel over a WebRTC data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-rtc-channel.h"

struct _BackupRtcChannel
{
  GObject parent_instance;

  RtcDataChannel *channel;
};

static void backup_rtc_channel_iface_init (BackupChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupRtcChannel, backup_rtc_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_CHANNEL,
                                                      backup_rtc_channel_iface_init))

#define CHANNEL(self) (BACKUP_RTC_CHANNEL (self)->channel)

static const char *
get_label (BackupChannel *self)
{
  return rtc_data_channel_get_label (CHANNEL (self));
}

static gboolean
is_open (BackupChannel *self)
{
  return rtc_data_channel_get_ready_state (CHANNEL (self)) == RTC_DATA_CHANNEL_STATE_OPEN;
}

static guint64
get_max_message_size (BackupChannel *self)
{
  return rtc_data_channel_get_max_message_size (CHANNEL (self));
}

static guint64
get_buffered_amount (BackupChannel *self)
{
  return rtc_data_channel_get_buffered_amount (CHANNEL (self));
}

static void
set_buffered_amount_low_threshold (BackupChannel *self, guint64 threshold)
{
  rtc_data_channel_set_buffered_amount_low_threshold (CHANNEL (self), threshold);
}

static gboolean
send_bytes (BackupChannel *self, GBytes *data, GError **error)
{
  return rtc_data_channel_send_bytes (CHANNEL (self), data, error);
}

static gboolean
send_text (BackupChannel *self, const char *text, GError **error)
{
  return rtc_data_channel_send_text (CHANNEL (self), text, error);
}

static void
close_channel (BackupChannel *self)
{
  rtc_data_channel_close (CHANNEL (self));
}

static const GError *
get_close_error (BackupChannel *self)
{
  return rtc_data_channel_get_close_error (CHANNEL (self));
}

static void
backup_rtc_channel_iface_init (BackupChannelInterface *iface)
{
  iface->get_label = get_label;
  iface->is_open = is_open;
  iface->get_max_message_size = get_max_message_size;
  iface->get_buffered_amount = get_buffered_amount;
  iface->set_buffered_amount_low_threshold = set_buffered_amount_low_threshold;
  iface->send_bytes = send_bytes;
  iface->send_text = send_text;
  iface->close = close_channel;
  iface->get_close_error = get_close_error;
}

static void
open_cb (RtcDataChannel *channel, gpointer user_data)
{
  g_signal_emit_by_name (user_data, "open");
}

static void
message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  g_signal_emit_by_name (user_data, "message", data, is_string);
}

static void
low_cb (RtcDataChannel *channel, gpointer user_data)
{
  g_signal_emit_by_name (user_data, "buffered-amount-low");
}

static void
error_cb (RtcDataChannel *channel, GError *error, gpointer user_data)
{
  g_signal_emit_by_name (user_data, "error", error);
}

static void
closed_cb (RtcDataChannel *channel, gpointer user_data)
{
  g_signal_emit_by_name (user_data, "closed");
}

static void
backup_rtc_channel_dispose (GObject *object)
{
  BackupRtcChannel *self = BACKUP_RTC_CHANNEL (object);

  if (self->channel != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->channel, self);
      g_clear_object (&self->channel);
    }
  G_OBJECT_CLASS (backup_rtc_channel_parent_class)->dispose (object);
}

static void
backup_rtc_channel_class_init (BackupRtcChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = backup_rtc_channel_dispose;
}

static void
backup_rtc_channel_init (BackupRtcChannel *self)
{
}

BackupChannel *
backup_rtc_channel_new (RtcDataChannel *channel)
{
  BackupRtcChannel *self;

  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (channel), NULL);

  self = g_object_new (BACKUP_TYPE_RTC_CHANNEL, NULL);
  self->channel = g_object_ref (channel);
  g_signal_connect (channel, "open", G_CALLBACK (open_cb), self);
  g_signal_connect (channel, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (low_cb), self);
  g_signal_connect (channel, "error", G_CALLBACK (error_cb), self);
  g_signal_connect (channel, "closed", G_CALLBACK (closed_cb), self);
  return BACKUP_CHANNEL (self);
}
