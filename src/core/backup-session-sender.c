/* backup-session-sender.c: the sender's side of the data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Streams the file, or the double zip that the archiver's threads write into
 * a pipe, paced on the channel's buffered amount, then ends it the way the
 * receiver's framing wants (see backup-transfer-machine.h).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <string.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-session-private.h"

static gsize
chunk_size (BackupSession *self)
{
  guint64 max = rtc_data_channel_get_max_message_size (self->run->channel);
  gsize chunk = self->run->peer_is_legacy ? BACKUP_FRAME_LEGACY_CHUNK : CHUNK_SIZE;

  if (max != 0 && max < chunk)
    chunk = (gsize) max;
  return chunk;
}


static void
sender_finish (BackupSession *self)
{
  g_autoptr (GError) error = NULL;

  if (session_sender_step (self, BACKUP_SENDER_EVENT_SOURCE_END) != BACKUP_TRANSFER_ACTION_SEND_END)
    return;
  session_set_state (self, BACKUP_SESSION_STATE_FINISHING);
  gnutls_hash_output (self->run->hash, self->run->digest);

  if (self->run->peer_is_legacy)
    {
      /* The original receiver stores what it got when the channel closes;
       * the channel closes once the queue has drained. */
      rtc_data_channel_close (self->run->channel);
    }
  else
    {
      g_autoptr (BackupFrame) end = backup_frame_new (BACKUP_FRAME_END);

      end->bytes = self->run->sent;
      memcpy (end->sha256, self->run->digest, sizeof self->run->digest);
      if (!session_send_frame (self, end, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
      g_debug ("sent end: %" G_GUINT64_FORMAT " bytes", self->run->sent);
    }
  session_arm_finish_timeout (self);
}

static void
sender_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  self->run->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (self->run->completing || self->run->task == NULL)
    return;
  if (bytes == NULL)
    {
      g_prefix_error (&error, _("Could not read %s: "), self->file_name);
      session_fail (self, g_steal_pointer (&error));
      return;
    }

  if (g_bytes_get_size (bytes) == 0)
    {
      self->run->input_eof = TRUE;
      if (self->run->archiver == NULL || self->run->archiver_done)
        sender_finish (self);
      return;
    }

  gnutls_hash (self->run->hash, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (!rtc_data_channel_send_bytes (self->run->channel, bytes, &error))
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  self->run->sent += g_bytes_get_size (bytes);
  if (self->run->archiver == NULL)
    session_report_progress (self, self->run->sent);

  sender_pump (self);
}

void
sender_pump (BackupSession *self)
{
  if (self->run->reading || self->run->input_eof || self->run->completing
      || self->run->sender != BACKUP_SENDER_SENDING)
    return;
  if (rtc_data_channel_get_buffered_amount (self->run->channel) >= HIGH_WATER)
    return; /* resumed by buffered-amount-low */

  self->run->reading = TRUE;
  g_input_stream_read_bytes_async (self->run->input, chunk_size (self), G_PRIORITY_DEFAULT,
                                   self->run->cancellable, sender_read_cb, g_object_ref (self));
}

static void
archiver_progress_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupSession *self = user_data;

  session_report_progress (self, (guint64) backup_archiver_get_bytes_done (BACKUP_ARCHIVER (object)));
}

static void
archiver_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &error))
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->run->completing || self->run->task == NULL)
    return;

  self->run->archiver_done = TRUE;
  if (self->run->input_eof)
    sender_finish (self);
}

static gboolean
sender_open_source (BackupSession *self, GError **error)
{
  if (self->outer_name == NULL)
    {
      g_autoptr (GFileInfo) info = NULL;
      g_autoptr (GFileInputStream) stream = NULL;

      info = g_file_query_info (self->source, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                G_FILE_QUERY_INFO_NONE, self->run->cancellable, error);
      if (info == NULL)
        return FALSE;
      stream = g_file_read (self->source, self->run->cancellable, error);
      if (stream == NULL)
        return FALSE;
      session_set_total (self, g_file_info_get_size (info));
      self->run->input = G_INPUT_STREAM (g_steal_pointer (&stream));
    }
  else
    {
      g_autoptr (GOutputStream) out = NULL;
      int fds[2];

      /* The archiver writes from its worker threads into a pipe; the
       * session reads the other end on its own context. The pipe bounds
       * what is in flight. */
      if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
        return FALSE;
      (void) fcntl (fds[0], F_SETPIPE_SZ, 1024 * 1024);
      self->run->input = g_unix_input_stream_new (fds[0], TRUE);
      out = g_unix_output_stream_new (fds[1], TRUE);

      self->run->archiver = backup_archiver_new (self->source, self->outer_name,
                                            self->password1, self->password2);
      backup_archiver_set_encryption (self->run->archiver, self->encryption);
      g_signal_connect_object (self->run->archiver, "notify::bytes-done",
                               G_CALLBACK (archiver_progress_cb), self, 0);
      backup_archiver_write_async (self->run->archiver, out, G_PRIORITY_DEFAULT, self->run->cancellable,
                                   archiver_written_cb, g_object_ref (self));
    }
  return TRUE;
}

static void
archiver_scanned_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &error))
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->run->completing || self->run->task == NULL)
    return;
  session_set_total (self, backup_archiver_get_total_bytes (BACKUP_ARCHIVER (object)));
}

void
sender_start (BackupSession *self)
{
  g_autoptr (GError) error = NULL;

  session_set_state (self, BACKUP_SESSION_STATE_TRANSFERRING);
  if (gnutls_hash_init (&self->run->hash, GNUTLS_DIG_SHA256) < 0)
    {
      session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 is not available"));
      return;
    }
  if (!sender_open_source (self, &error))
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->run->archiver != NULL)
    {
      g_autoptr (BackupArchiver) scanner = backup_archiver_new (self->source, self->outer_name,
                                                                self->password1, self->password2);
      backup_archiver_scan_async (scanner, G_PRIORITY_DEFAULT, self->run->cancellable,
                                  archiver_scanned_cb, g_object_ref (self));
    }

  if (self->run->peer_is_legacy)
    {
      /* The original receiver reads exactly one byte, then exactly the name. */
      gsize name_len = strlen (self->file_name);
      guint8 length_byte = (guint8) name_len;
      g_autoptr (GBytes) length_bytes = g_bytes_new (&length_byte, 1);
      g_autoptr (GBytes) name_bytes = g_bytes_new (self->file_name, name_len);

      if (!rtc_data_channel_send_bytes (self->run->channel, length_bytes, &error)
          || !rtc_data_channel_send_bytes (self->run->channel, name_bytes, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
    }
  else
    {
      g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);

      header->name = g_strdup (self->file_name);
      header->size = self->run->archiver != NULL ? -1 : self->total_bytes;
      header->kind = self->run->archiver != NULL ? BACKUP_FRAME_KIND_ZIP : BACKUP_FRAME_KIND_FILE;
      if (!session_send_frame (self, header, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
    }

  sender_pump (self);
}

void
sender_on_control (BackupSession *self, BackupFrame *frame)
{
  switch (frame->type)
    {
    case BACKUP_FRAME_ACK:
      if (self->run->sender == BACKUP_SENDER_FINISHING
          && (frame->bytes != self->run->sent
              || memcmp (frame->sha256, self->run->digest, sizeof self->run->digest) != 0))
        {
          session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                           _("The receiver stored something else than "
                                             "what was sent (%llu bytes of %llu)"),
                                           (unsigned long long) frame->bytes,
                                           (unsigned long long) self->run->sent));
          return;
        }
      {
        BackupTransferAction action = session_sender_step (self, BACKUP_SENDER_EVENT_ACK);

        /* Close the channel; the receiver finishes when it sees the close. */
        if (action == BACKUP_TRANSFER_ACTION_SUCCEED)
          {
            g_debug ("acknowledged by the peer");
            rtc_data_channel_close (self->run->channel);
          }
        session_act (self, action,
                     g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                          _("The peer acknowledged too early")));
      }
      return;

    case BACKUP_FRAME_ERROR:
      {
        g_autofree char *message = backup_display_name (frame->message, -1);

        session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                         _("The receiver failed: %s"), message));
      }
      return;

    case BACKUP_FRAME_HEADER:
    case BACKUP_FRAME_END:
    default:
      session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The peer sent an unexpected message")));
      return;
    }
}
