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

#include "backup-device.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-session-private.h"

static gboolean sender_skipped (SessionRun *run);
static void sender_restart_source (SessionRun *run);
static void archiver_written_cb (GObject *object, GAsyncResult *result, gpointer user_data);
static void archiver_progress_cb (GObject *object, GParamSpec *pspec, gpointer user_data);

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

  if (g_bytes_get_size (bytes) == 0 && run->skip_to > 0)
    {
      /* Shorter than what the receiver kept: not the same content. */
      sender_restart_source (run);
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      run->input_eof = TRUE;
      if (run->archiver == NULL || run->archiver_done)
        sender_finish (run);
      return;
    }

  if (run->skip_to > 0)
    {
      gsize length = g_bytes_get_size (bytes);
      gsize take = (gsize) MIN ((guint64) length, run->skip_to - run->sent);

      /* The receiver kept these bytes: hash them, send nothing. */
      gnutls_hash (run->hash, g_bytes_get_data (bytes, NULL), take);
      run->sent += take;
      session_report_progress (run, run->sent);
      if (run->sent < run->skip_to)
        {
          sender_pump (run);
          return;
        }
      if (!sender_skipped (run))
        return;
      if (take == length)
        {
          sender_pump (run);
          return;
        }
      {
        GBytes *rest = g_bytes_new_from_bytes (bytes, take, length - take);

        g_bytes_unref (bytes);
        bytes = rest;
      }
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
  if (run->reading || run->input_eof || run->completing || run->awaiting_offset
      || run->input == NULL || run->sender != BACKUP_SENDER_SENDING)
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
  gboolean ok = backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &error);

  if (BACKUP_ARCHIVER (object) != run->archiver)
    return; /* one that the source's restart replaced */
  if (!ok)
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

/* Starts run->archiver writing into a pipe that run->input reads. */
static gboolean
sender_start_archiver (SessionRun *run, GError **error)
{
  g_autoptr (GOutputStream) out = NULL;
  int fds[2];

  /* The archiver writes from its worker threads into a pipe; the session
   * reads the other end on its own context. The pipe bounds what is in
   * flight. */
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;
  (void) fcntl (fds[0], F_SETPIPE_SZ, 1024 * 1024);
  run->input = g_unix_input_stream_new (fds[0], TRUE);
  out = g_unix_output_stream_new (fds[1], TRUE);

  g_clear_object (&run->source_cancellable);
  run->source_cancellable = g_cancellable_new ();
  run->archiver_done = FALSE;
  backup_archiver_write_async (run->archiver, out, G_PRIORITY_DEFAULT, run->source_cancellable,
                               archiver_written_cb, g_object_ref (run->task));
  return TRUE;
}

static BackupArchiver *
sender_new_archiver (SessionRun *run)
{
  BackupArchiver *archiver = backup_archiver_new (run->session->source, run->session->outer_name,
                                                  run->session->password1,
                                                  run->session->password2);

  backup_archiver_set_encryption (archiver, run->session->encryption);
  if (run->resume_key != NULL)
    backup_archiver_set_reproducible (archiver, run->ticket.secret, run->ticket.created);
  g_signal_connect (archiver, "notify::bytes-done", G_CALLBACK (archiver_progress_cb), run);
  return archiver;
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
      return TRUE;
    }

  if (run->archiver == NULL)
    run->archiver = sender_new_archiver (run);
  return sender_start_archiver (run, error);
}

/* The content does not start with what the receiver kept: tell it, and
 * send everything from the start. */
static void
sender_restart_source (SessionRun *run)
{
  g_autoptr (BackupFrame) resume = backup_frame_new (BACKUP_FRAME_RESUME);
  g_autoptr (GError) error = NULL;

  g_debug ("the receiver's %" G_GUINT64_FORMAT " kept bytes are not this content: "
           "starting over", run->skip_to);
  run->skip_to = 0;
  resume->bytes = 0;
  if (!session_send_frame (run, resume, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  gnutls_hash_deinit (run->hash, NULL);
  run->hash = NULL;
  if (gnutls_hash_init (&run->hash, GNUTLS_DIG_SHA256) < 0)
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 is not available"));
      return;
    }
  run->sent = 0;
  run->input_eof = FALSE;
  g_clear_object (&run->input);
  if (run->archiver != NULL)
    {
      /* The old archiver stops; its result is ignored. */
      g_cancellable_cancel (run->source_cancellable);
      g_signal_handlers_disconnect_by_data (run->archiver, run);
      g_clear_object (&run->archiver);
    }
  if (!sender_open_source (run, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  session_report_progress (run, 0);
  sender_pump (run);
}

/* The first skip_to bytes are hashed: resume after them if the receiver
 * kept the same. FALSE when the source starts over instead. */
static gboolean
sender_skipped (SessionRun *run)
{
  g_autoptr (BackupFrame) resume = backup_frame_new (BACKUP_FRAME_RESUME);
  g_autoptr (GError) error = NULL;
  guint8 prefix[BACKUP_FRAME_SHA256_LEN];
  gnutls_hash_hd_t copy = gnutls_hash_copy (run->hash);

  if (copy == NULL)
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 state cannot be copied"));
      return FALSE;
    }
  gnutls_hash_deinit (copy, prefix);
  if (memcmp (prefix, run->skip_sha256, sizeof prefix) != 0)
    {
      sender_restart_source (run);
      return FALSE;
    }

  resume->bytes = run->skip_to;
  if (!session_send_frame (run, resume, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return FALSE;
    }
  g_debug ("resuming at %" G_GUINT64_FORMAT " bytes", run->skip_to);
  session_set_resumed (run, run->skip_to);
  run->skip_to = 0;
  return TRUE;
}

static void
sender_on_offset (SessionRun *run, BackupFrame *frame)
{
  g_autoptr (BackupFrame) resume = NULL;
  g_autoptr (GError) error = NULL;
  gint64 total = run->session->total_bytes;

  if (!run->awaiting_offset)
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The peer sent an unexpected message")));
      return;
    }
  run->awaiting_offset = FALSE;
  if (frame->from != NULL)
    session_set_peer_name (run, frame->from);

  if (frame->bytes > 0 && (run->archiver != NULL || total < 0 || frame->bytes <= (guint64) total))
    {
      /* Checked once the source has given as many bytes. */
      run->skip_to = frame->bytes;
      memcpy (run->skip_sha256, frame->sha256, sizeof run->skip_sha256);
    }
  else
    {
      resume = backup_frame_new (BACKUP_FRAME_RESUME);
      resume->bytes = 0;
      if (!session_send_frame (run, resume, &error))
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
    }
  sender_pump (run);
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

/* The header, after which content flows (or, with an id, after the
 * receiver's offset). */
static void
sender_send_header (SessionRun *run)
{
  g_autoptr (GError) error = NULL;

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
      if (run->resume_key != NULL)
        header->id = backup_frame_id_from_bytes (run->ticket.id);
      /* Where the version comes from, for the receiver's history. */
      if (run->peer_protocol >= BACKUP_FRAME_PROTOCOL_RESUME)
        header->from = backup_device_default_name ();
      if (!session_send_frame (run, header, &error))
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
      run->awaiting_offset = run->resume_key != NULL;
    }

  sender_pump (run);
}

/* --- what a resumable backup needs before its header ---------------------- */

typedef struct
{
  GFile *file; /* a file source, fingerprinted in the worker; or NULL */
  guint8 fingerprint[BACKUP_RESUME_FINGERPRINT_LEN];
  char *key;
  BackupResumeTicket ticket;
} TicketData;

static void
ticket_data_free (gpointer data)
{
  TicketData *td = data;

  g_clear_object (&td->file);
  g_free (td->key);
  backup_resume_ticket_clear (&td->ticket);
  g_free (td);
}

static void
ticket_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TicketData *td = task_data;
  g_autofree char *directory = backup_resume_default_directory ();
  GError *error = NULL;

  if (td->file != NULL && !backup_resume_file_fingerprint (td->file, td->fingerprint, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  backup_resume_ticket_get (directory, td->key, td->fingerprint, g_get_real_time () / G_USEC_PER_SEC,
                            BACKUP_RESUME_WINDOW, &td->ticket);
  g_task_return_boolean (task, TRUE);
}

static void
ticket_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  TicketData *td = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_prefix_error (&error, _("Could not read %s: "), run->session->file_name);
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->returned)
    return;

  run->ticket = td->ticket;
  run->resume_key = g_strdup (td->key);
  if (run->archiver != NULL)
    backup_archiver_set_reproducible (run->archiver, run->ticket.secret, run->ticket.created);
  if (!sender_open_source (run, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  sender_send_header (run);
}

static void
sender_get_ticket (SessionRun *run, const guint8 *fingerprint)
{
  g_autoptr (GTask) ticket = g_task_new (NULL, run->cancellable, ticket_cb,
                                         g_object_ref (run->task));
  TicketData *td = g_new0 (TicketData, 1);

  td->key = backup_resume_key (run->session->session_id, run->session->source,
                               run->session->outer_name);
  if (fingerprint != NULL)
    memcpy (td->fingerprint, fingerprint, sizeof td->fingerprint);
  else
    td->file = g_object_ref (run->session->source);
  g_task_set_task_data (ticket, td, ticket_data_free);
  g_task_run_in_thread (ticket, ticket_worker);
}

static void
resume_scanned_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  guint8 fingerprint[BACKUP_RESUME_FINGERPRINT_LEN];

  if (!backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->returned || BACKUP_ARCHIVER (object) != run->archiver)
    return;
  session_set_total (run, backup_archiver_get_total_bytes (run->archiver));
  backup_archiver_get_fingerprint (run->archiver, fingerprint);
  sender_get_ticket (run, fingerprint);
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

  if (!run->peer_is_legacy && run->peer_protocol >= BACKUP_FRAME_PROTOCOL_RESUME)
    {
      /* A resumable backup: the same content gets the same id. A folder
       * is scanned first, and the archive written from that scan. */
      if (run->session->outer_name != NULL)
        {
          run->archiver = sender_new_archiver (run);
          backup_archiver_scan_async (run->archiver, G_PRIORITY_DEFAULT, run->cancellable,
                                      resume_scanned_cb, g_object_ref (run->task));
        }
      else
        sender_get_ticket (run, NULL);
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
  sender_send_header (run);
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
            if (run->resume_key != NULL)
              {
                /* Done: the next backup of this source is a new one. */
                g_autofree char *directory = backup_resume_default_directory ();

                backup_resume_ticket_forget (directory, run->resume_key);
              }
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

    case BACKUP_FRAME_OFFSET:
      sender_on_offset (run, frame);
      return;

    case BACKUP_FRAME_HEADER:
    case BACKUP_FRAME_END:
    case BACKUP_FRAME_RESUME:
    default:
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The peer sent an unexpected message")));
      return;
    }
}
