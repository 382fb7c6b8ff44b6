/* backup-channel.h: what a transfer needs of a message channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sender and the receiver of a BackupSession speak to their peer through
 * this interface only: ordered, reliable messages (text or binary), a send
 * buffer to pace on, and a close that tells a clean end (either side closed
 * the channel) from a lost transport. BackupRtcChannel carries it over a
 * WebRTC data channel; the tests drive a session through a fake one
 * (tests/core/fake-channel.c), event by event.
 *
 * Signals, emitted on the channel's home context:
 *   open                 the channel can carry messages
 *   message (GBytes, gboolean is_string)
 *   buffered-amount-low  the send buffer fell to the low threshold
 *   error (GError)       the transport failed under the channel ("closed" follows)
 *   closed               the channel is closed; get_close_error() tells how
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_CHANNEL (backup_channel_get_type ())
G_DECLARE_INTERFACE (BackupChannel, backup_channel, BACKUP, CHANNEL, GObject)

struct _BackupChannelInterface
{
  GTypeInterface parent_iface;

  const char *(*get_label) (BackupChannel *self);
  gboolean (*is_open) (BackupChannel *self);
  guint64 (*get_max_message_size) (BackupChannel *self);
  guint64 (*get_buffered_amount) (BackupChannel *self);
  void (*set_buffered_amount_low_threshold) (BackupChannel *self, guint64 threshold);
  gboolean (*send_bytes) (BackupChannel *self, GBytes *data, GError **error);
  gboolean (*send_text) (BackupChannel *self, const char *text, GError **error);
  void (*close) (BackupChannel *self);
  const GError *(*get_close_error) (BackupChannel *self);
};

const char *backup_channel_get_label (BackupChannel *self);
gboolean backup_channel_is_open (BackupChannel *self);
/* The largest message the peer takes; 0: no limit. */
guint64 backup_channel_get_max_message_size (BackupChannel *self);
guint64 backup_channel_get_buffered_amount (BackupChannel *self);
void backup_channel_set_buffered_amount_low_threshold (BackupChannel *self, guint64 threshold);
gboolean backup_channel_send_bytes (BackupChannel *self, GBytes *data, GError **error);
gboolean backup_channel_send_text (BackupChannel *self, const char *text, GError **error);
/* Closes once everything queued is sent; "closed" follows. */
void backup_channel_close (BackupChannel *self);
/* NULL: closed cleanly by either side (or not closed yet). */
const GError *backup_channel_get_close_error (BackupChannel *self);

G_END_DECLS
