/* backup-channel.c: what a transfer needs of a message channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-channel.h"

G_DEFINE_INTERFACE (BackupChannel, backup_channel, G_TYPE_OBJECT)

static void
backup_channel_default_init (BackupChannelInterface *iface)
{
  g_signal_new ("open", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                G_TYPE_NONE, 0);
  g_signal_new ("message", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                NULL, G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_BOOLEAN);
  g_signal_new ("buffered-amount-low", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                NULL, NULL, G_TYPE_NONE, 0);
  g_signal_new ("error", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                G_TYPE_NONE, 1, G_TYPE_ERROR);
  g_signal_new ("closed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                G_TYPE_NONE, 0);
}

#define IFACE(self) BACKUP_CHANNEL_GET_IFACE (self)

const char *
backup_channel_get_label (BackupChannel *self)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), NULL);
  return IFACE (self)->get_label (self);
}

gboolean
backup_channel_is_open (BackupChannel *self)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), FALSE);
  return IFACE (self)->is_open (self);
}

guint64
backup_channel_get_max_message_size (BackupChannel *self)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), 0);
  return IFACE (self)->get_max_message_size (self);
}

guint64
backup_channel_get_buffered_amount (BackupChannel *self)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), 0);
  return IFACE (self)->get_buffered_amount (self);
}

void
backup_channel_set_buffered_amount_low_threshold (BackupChannel *self, guint64 threshold)
{
  g_return_if_fail (BACKUP_IS_CHANNEL (self));
  IFACE (self)->set_buffered_amount_low_threshold (self, threshold);
}

gboolean
backup_channel_send_bytes (BackupChannel *self, GBytes *data, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), FALSE);
  return IFACE (self)->send_bytes (self, data, error);
}

gboolean
backup_channel_send_text (BackupChannel *self, const char *text, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), FALSE);
  return IFACE (self)->send_text (self, text, error);
}

void
backup_channel_close (BackupChannel *self)
{
  g_return_if_fail (BACKUP_IS_CHANNEL (self));
  IFACE (self)->close (self);
}

const GError *
backup_channel_get_close_error (BackupChannel *self)
{
  g_return_val_if_fail (BACKUP_IS_CHANNEL (self), NULL);
  return IFACE (self)->get_close_error (self);
}
