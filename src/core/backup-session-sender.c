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
chunk_size (SessionRun *run)
{
  guint64 max = backup_channel_get_max_message_size (run->channel);
  gsize chunk = run->peer_is_legacy ? BACKUP_FRAME_LEGACY_CHUNK : CHUNK_SIZE;

  if (max != 0 && max < chunk)
    chunk = (gsize) max;
  return chunk;
}


static void
sender_finish (SessionRun *run)
{
  g_autoptr (GError) error = NULL;

  if (session_sender_step (run, BACKUP_SENDER_EVENT_SOURCE_END) != BACKUP_TRANSFER_ACTION_SEND_END)
    return;
  session_set_state (run, BACKUP_SESSION_STATE_FINISHING);
  gnutls_hash_output (run->hash, run->digest);

  if (run->peer_is_legacy)
    {
      /* The original receiver stores what it got when the channel closes;
       * the channel closes once the queue has drained. */
      backup_channel_close (run->channel);
    }
  else
    {
      g_autoptr (BackupFrame) end = backup_frame_new (BACKUP_FRAME_END);

      end->bytes = run->sent;
      memcpy (end->sha256, run->digest, sizeof run->digest);
      if (!session_send_frame (run, end, &error))
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
      g_debug ("sent end: %" G_GUINT64_FORMAT " bytes", run->sent);
    }
  session_arm_finish_timeout (run);
}

static void
sender_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  run->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (run->completing || run->returned)
    return;
  if (bytes == NULL)
    {
      g_prefix_error (&error, _("Could not read %s: "), run->session->file_name);
      session_fail (run, g_steal_pointer (&error));
      return;
    }

  if (g_bytes_get_size (bytes) == 0)
    {
      run->input_eof = TRUE;
      if (run->archiver == NULL || run->archiver_done)
        sender_finish (run);
      return;
    }

  gnutls_hash (run->hash, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (!backup_channel_send_bytes (run->channel, bytes, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  run->sent += g_bytes_get_size (bytes);
  if (run->archiver == NULL)
    session_report_progress (run, run->sent);

  sender_pump (run);
}

void
sender_pump (SessionRun *run)
{
  if (run->reading || run->input_eof || run->completing
      || run->sender != BACKUP_SENDER_SENDING)
    return;
  if (backup_channel_get_buffered_amount (run->channel) >= HIGH_WATER)
    return; /* resumed by buffered-amount-low */

  run->reading = TRUE;
  g_input_stream_read_bytes_async (run->input, chunk_size (run), G_PRIORITY_DEFAULT,
                                   run->cancellable, sender_read_cb, g_object_ref (run->task));
}

static void
archiver_progress_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  SessionRun *run = user_data;

  session_report_progress (run, (guint64) backup_archiver_get_bytes_done (BACKUP_ARCHIVER (object)));
}

static void
archiver_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;

  if (!backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->returned)
    return;

  run->archiver_done = TRUE;
  if (run->input_eof)
    sender_finish (run);
}

static gboolean
sender_open_source (SessionRun *run, GError **error)
{
  if (run->session->outer_name == NULL)
    {
      g_autoptr (GFileInfo) info = NULL;
      g_autoptr (GFileInputStream) stream = NULL;

      info = g_file_query_info (run->session->source, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                G_FILE_QUERY_INFO_NONE, run->cancellable, error);
      if (info == NULL)
        return FALSE;
      stream = g_file_read (run->session->source, run->cancellable, error);
      if (stream == NULL)
        return FALSE;
      session_set_total (run, g_file_info_get_size (info));
      run->input = G_INPUT_STREAM (g_steal_pointer (&stream));
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
      run->input = g_unix_input_stream_new (fds[0], TRUE);
      out = g_unix_output_stream_new (fds[1], TRUE);

      run->archiver = backup_archiver_new (run->session->source, run->session->outer_name,
                                            run->session->password1, run->session->password2);
      backup_archiver_set_encryption (run->archiver, run->session->encryption);
      g_signal_connect (run->archiver, "notify::bytes-done", G_CALLBACK (archiver_progress_cb),
                        run);
      backup_archiver_write_async (run->archiver, out, G_PRIORITY_DEFAULT, run->cancellable,
                                   archiver_written_cb, g_object_ref (run->task));
    }
  return TRUE;
}

static void
archiver_scanned_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;

  if (!backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->returned)
    return;
  session_set_total (run, backup_archiver_get_total_bytes (BACKUP_ARCHIVER (object)));
}

void
sender_start (SessionRun *run)
{
  g_autoptr (GError) error = NULL;

  session_set_state (run, BACKUP_SESSION_STATE_TRANSFERRING);
  if (gnutls_hash_init (&run->hash, GNUTLS_DIG_SHA256) < 0)
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 is not available"));
      return;
    }
  if (!sender_open_source (run, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->archiver != NULL)
    {
      g_autoptr (BackupArchiver) scanner = backup_archiver_new (run->session->source, run->session->outer_name,
                                                                run->session->password1, run->session->password2);
      backup_archiver_scan_async (scanner, G_PRIORITY_DEFAULT, run->cancellable,
                                  archiver_scanned_cb, g_object_ref (run->task));
    }

  if (run->peer_is_legacy)
    {
      /* The original receiver reads exactly one byte, then exactly the name. */
      gsize name_len = strlen (run->session->file_name);
      guint8 length_byte = (guint8) name_len;
      g_autoptr (GBytes) length_bytes = g_bytes_new (&length_byte, 1);
      g_autoptr (GBytes) name_bytes = g_bytes_new (run->session->file_name, name_len);

      if (!backup_channel_send_bytes (run->channel, length_bytes, &error)
          || !backup_channel_send_bytes (run->channel, name_bytes, &error))
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
    }
  else
    {
      g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);

      header->name = g_strdup (run->session->file_name);
      header->size = run->archiver != NULL ? -1 : run->session->total_bytes;
      header->kind = run->archiver != NULL ? BACKUP_FRAME_KIND_ZIP : BACKUP_FRAME_KIND_FILE;
      if (!session_send_frame (run, header, &error))
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
    }

  sender_pump (run);
}

void
sender_on_control (SessionRun *run, BackupFrame *frame)
{
  switch (frame->type)
    {
    case BACKUP_FRAME_ACK:
      if (run->sender == BACKUP_SENDER_FINISHING
          && (frame->bytes != run->sent
              || memcmp (frame->sha256, run->digest, sizeof run->digest) != 0))
        {
          session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                           _("The receiver stored something else than "
                                             "what was sent (%llu bytes of %llu)"),
                                           (unsigned long long) frame->bytes,
                                           (unsigned long long) run->sent));
          return;
        }
      {
        BackupTransferAction action = session_sender_step (run, BACKUP_SENDER_EVENT_ACK);

        /* Close the channel; the receiver finishes when it sees the close. */
        if (action == BACKUP_TRANSFER_ACTION_SUCCEED)
          {
            g_debug ("acknowledged by the peer");
            backup_channel_close (run->channel);
          }
        session_act (run, action,
                     g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                          _("The peer acknowledged too early")));
      }
      return;

    case BACKUP_FRAME_ERROR:
      {
        g_autofree char *message = backup_display_name (frame->message, -1);

        session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                         _("The receiver failed: %s"), message));
      }
      return;

    case BACKUP_FRAME_HEADER:
    case BACKUP_FRAME_END:
    default:
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The peer sent an unexpected message")));
      return;
    }
}
