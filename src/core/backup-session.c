/* backup-session.c: one backup run, its data channel and its end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Connecting, the sender and the receiver are in files of their own (see
 * backup-session-private.h); what stays here is the run's life: its start,
 * the data channel's events, the end and the object. One file: each of
 * these decides when the run completes, and the rules of completing
 * (release, tell the peer, return once) are only readable together.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "backup-core-enum-types.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-frame.h"
#include "backup-pairing.h"
#include "backup-reception.h"
#include "backup-session-private.h"
#include "backup-transfer-machine.h"
#include "rtc-error.h"
#include "rtc-peer-connection.h"

G_DEFINE_FINAL_TYPE (BackupSession, backup_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_BYTES_DONE,
  PROP_TOTAL_BYTES,
  PROP_FILE_NAME,
  PROP_RESUMED_BYTES,
  PROP_RECONNECTING,
  N_PROPS
};

enum
{
  PROGRESS,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];


void
session_set_state (SessionRun *run, BackupSessionState state)
{
  BackupSession *self = run->session;

  if (self->state == state)
    return;

  g_debug ("session %s: state %d → %d", self->session_id, self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
session_set_reconnecting (SessionRun *run, gboolean reconnecting)
{
  BackupSession *self = run->session;

  if (self->reconnecting == !!reconnecting)
    return;
  self->reconnecting = !!reconnecting;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECONNECTING]);
}

void
session_report_progress (SessionRun *run, guint64 done)
{
  BackupSession *self = run->session;

  /* Data moves again: over a new path, or the old one came back. */
  session_set_reconnecting (run, FALSE);
  self->bytes_done = done;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
  g_signal_emit (self, signals[PROGRESS], 0, self->bytes_done, self->total_bytes);
}

void
session_set_total (SessionRun *run, gint64 total)
{
  run->session->total_bytes = total;
  g_object_notify_by_pspec (G_OBJECT (run->session), properties[PROP_TOTAL_BYTES]);
}

void
session_set_file_name (SessionRun *run, const char *name)
{
  g_free (run->session->file_name);
  run->session->file_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (run->session), properties[PROP_FILE_NAME]);
}

void
session_set_resumed (SessionRun *run, guint64 resumed)
{
  run->resumed = resumed;
  if (run->session->resumed_bytes == resumed)
    return;
  run->session->resumed_bytes = resumed;
  g_object_notify_by_pspec (G_OBJECT (run->session), properties[PROP_RESUMED_BYTES]);
}

void
session_set_peer_name (SessionRun *run, const char *name)
{
  g_free (run->session->peer_name);
  run->session->peer_name = g_strdup (name);
}

const char *
backup_session_get_peer_name (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), NULL);

  return self->peer_name;
}

gboolean
session_error_is_interruption (const GError *error)
{
  if (error == NULL)
    return TRUE; /* torn down while receiving */
  if (error->domain != BACKUP_ERROR)
    return TRUE; /* the transport, a timeout, a cancellation */
  switch (error->code)
    {
    case BACKUP_ERROR_TIMEOUT:
    case BACKUP_ERROR_FAILED:
      return TRUE;
    default:
      /* The peer broke the protocol or sent other content, or the store
       * refused: nothing of it is worth keeping. */
      return FALSE;
    }
}

gboolean
backup_session_get_reconnecting (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), FALSE);

  return self->reconnecting;
}

guint64
backup_session_get_resumed_bytes (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), 0);

  return self->resumed_bytes;
}

char *
session_hex_digest (const guint8 *digest)
{
  GString *out = g_string_sized_new (BACKUP_FRAME_SHA256_LEN * 2);

  for (guint i = 0; i < BACKUP_FRAME_SHA256_LEN; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

/* With its task: release_run() let go of its transports, streams and
 * files before the run returned. */
static void
session_run_free (SessionRun *run)
{
  g_assert (run->pc == NULL && run->channel == NULL && run->reception == NULL);
  g_free (run->resume_key);
  backup_resume_ticket_clear (&run->ticket);
  g_clear_object (&run->pairing);
  g_clear_object (&run->cancellable);
  g_clear_error (&run->failure);
  g_free (run);
}

/* ------------------------------------------------------------------------ */
/* Tear-down                                                                */

static void
clear_timeouts (SessionRun *run)
{
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  g_clear_handle_id (&run->finish_timeout_id, g_source_remove);
}

/* The original receiver has no end message: a clean close of the channel
 * or the connection (a stream reset, SCTP SHUTDOWN, DTLS close_notify) is
 * the end of the file to it, and it stores what it got. A send in that
 * framing that did not succeed (cancelled, failed, whether or not the
 * channel's close was already asked for: a graceful close would still cut
 * what is in flight) must end with an abort, which the original takes for
 * an error and stores nothing of. In this program's framing the end message
 * and the acknowledgement decide, and a clean close tells the peer no more
 * than the error frame did. */
static gboolean
must_abort (SessionRun *run)
{
  return run->session->mode == MODE_SEND && run->peer_is_legacy && run->failure != NULL;
}

static void
release_transport (SessionRun *run)
{
  session_restart_release (run);
  g_clear_object (&run->primary);
  g_clear_object (&run->bonded);
  if (run->channel != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->channel, run);
      g_clear_object (&run->channel);
    }
  if (run->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->pc, run);
      if (must_abort (run))
        {
          g_debug ("session %s: aborting the connection: the original receiver must not take "
                   "the interruption for the end of the file", run->session->session_id);
          rtc_peer_connection_abort (run->pc);
        }
      else
        rtc_peer_connection_close (run->pc);
      g_clear_object (&run->pc);
    }
}

static void
release_run (SessionRun *run)
{
  clear_timeouts (run);
  if (run->cancellable != NULL)
    g_cancellable_cancel (run->cancellable);
  if (run->source_cancellable != NULL)
    g_cancellable_cancel (run->source_cancellable);
  g_clear_object (&run->source_cancellable);
  if (run->reception != NULL)
    {
      if (run->receiver == BACKUP_RECEIVER_STORED || run->receiver == BACKUP_RECEIVER_DONE)
        ;
      /* An interrupted transfer keeps what arrived (a failed commit has
       * already removed it). */
      else if (session_error_is_interruption (run->failure))
        backup_storage_writer_keep (run->reception);
      else
        backup_storage_writer_abort (run->reception);
      g_clear_object (&run->reception);
    }
  g_clear_pointer (&run->legacy, backup_legacy_parser_free);
  g_clear_pointer (&run->pending_header, backup_frame_free);
  if (run->admitted)
    {
      run->admitted = FALSE;
      backup_admission_release (run->session->admission);
    }
  g_clear_object (&run->input);
  if (run->archiver != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->archiver, run);
      g_clear_object (&run->archiver);
    }
  if (run->hash != NULL)
    {
      gnutls_hash_deinit (run->hash, NULL);
      run->hash = NULL;
    }
  if (run->pairing != NULL)
    g_signal_handlers_disconnect_by_data (run->pairing, run);
  release_transport (run);
}

void
session_complete (SessionRun *run)
{
  BackupSession *self = run->session;
  g_autoptr (GTask) task = NULL;

  if (run->returned || run->restarts_closing)
    return;

  run->returned = TRUE;
  task = g_object_ref (run->task);
  if (run->cancelled_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), run->cancelled_id);
  run->cancelled_id = 0;
  g_clear_object (&run->cancellable);
  g_clear_object (&run->pairing);

  /* The session is free for its next run before anyone hears of this one. */
  self->peer_is_legacy = run->peer_is_legacy;
  if (self->task == task)
    g_clear_object (&self->task);

  if (run->failure != NULL)
    {
      session_set_state (run, BACKUP_SESSION_STATE_FAILED);
      g_task_return_error (task, g_steal_pointer (&run->failure));
    }
  else
    {
      session_set_state (run, BACKUP_SESSION_STATE_DONE);
      g_task_return_boolean (task, TRUE);
    }
}

static void
pairing_closed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;

  if (!backup_pairing_close_finish (BACKUP_PAIRING (object), result, &error))
    g_debug ("cleaning up the signaling store: %s", error->message);

  if (run->completing)
    session_complete (run);
}

/* Deletes what we left in the signaling store and stops polling it. */
static void
close_pairing (SessionRun *run)
{
  if (run->pairing == NULL || run->pairing_closed)
    return;

  run->pairing_closed = TRUE;
  g_signal_handlers_disconnect_by_data (run->pairing, run);
  backup_pairing_close_async (run->pairing, NULL, pairing_closed_cb, g_object_ref (run->task));
}

void
session_finish_run_now (SessionRun *run)
{
  release_run (run);
  if (run->pairing != NULL && !run->pairing_closed)
    close_pairing (run); /* completes from its callback */
  else
    session_complete (run);
}

static void
finish_run (SessionRun *run)
{
  if (run->completing)
    return;

  run->completing = TRUE;
  /* A commit in a worker thread is never abandoned: the result is known
   * (stored or not) before the run completes. */
  if (run->session->mode == MODE_RECEIVE && run->receiver == BACKUP_RECEIVER_COMMITTING)
    return;
  session_finish_run_now (run);
}

/* Ends the run with @error (taken). */
void
session_fail_run (SessionRun *run, GError *error)
{
  if (run->completing || run->returned)
    {
      g_error_free (error);
      return;
    }

  g_debug ("session %s failed: %s", run->session->session_id, error->message);
  g_clear_error (&run->failure);
  run->failure = error;

  /* Tell a peer of this program why, so that it does not wait. */
  if (run->channel != NULL && !run->peer_is_legacy && backup_channel_is_open (run->channel))
    {
      g_autoptr (BackupFrame) frame = backup_frame_new (BACKUP_FRAME_ERROR);

      frame->message = g_strdup (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                   ? _("the backup was cancelled")
                                   : error->message);
      session_send_frame (run, frame, NULL);
    }

  finish_run (run);
}

/* Carries out what the transfer's state machine decided; @error (taken)
 * is why, for FAIL. */
void
session_act (SessionRun *run, BackupTransferAction action, GError *error)
{
  switch (action)
    {
    case BACKUP_TRANSFER_ACTION_FAIL:
      session_fail_run (run, g_steal_pointer (&error));
      break;
    case BACKUP_TRANSFER_ACTION_SUCCEED:
      session_succeed (run);
      break;
    case BACKUP_TRANSFER_ACTION_IGNORE:
      if (error != NULL)
        g_debug ("session %s: no longer matters: %s", run->session->session_id, error->message);
      break;
    case BACKUP_TRANSFER_ACTION_NONE:
    case BACKUP_TRANSFER_ACTION_COMMIT:
    case BACKUP_TRANSFER_ACTION_ACKNOWLEDGE:
    case BACKUP_TRANSFER_ACTION_SEND_END:
    default:
      /* The callers of the transfer's steps handle these. */
      g_assert_not_reached ();
    }
  g_clear_error (&error);
}

BackupTransferAction
session_receiver_step (SessionRun *run, BackupReceiverEvent event)
{
  BackupReceiverState before = run->receiver;
  BackupTransferAction action = backup_receiver_step (&run->receiver, event, !run->extended);

  if (run->receiver != before)
    g_debug ("session %s: receiver %s → %s", run->session->session_id,
             backup_receiver_state_to_string (before),
             backup_receiver_state_to_string (run->receiver));
  return action;
}

BackupTransferAction
session_sender_step (SessionRun *run, BackupSenderEvent event)
{
  BackupSenderState before = run->sender;
  BackupTransferAction action = backup_sender_step (&run->sender, event, run->peer_is_legacy);

  if (run->sender != before)
    g_debug ("session %s: sender %s → %s", run->session->session_id,
             backup_sender_state_to_string (before), backup_sender_state_to_string (run->sender));
  return action;
}

/* Something went wrong: the peer, the network, the local side or the user
 * (cancellation). The state machine says whether it still matters. */
void
session_fail (SessionRun *run, GError *error)
{
  BackupTransferAction action;

  if (run->completing || run->returned)
    {
      g_error_free (error);
      return;
    }
  if (run->session->mode == MODE_RECEIVE)
    action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_FAILURE);
  else
    action = session_sender_step (run, BACKUP_SENDER_EVENT_FAILURE);
  session_act (run, action, error);
}

void
session_succeed (SessionRun *run)
{
  if (run->completing || run->returned)
    return;

  finish_run (run);
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  SessionRun *run = user_data;

  run->finish_timeout_id = 0;
  /* Receiver: stored and acknowledged, the sender's close went missing.
   * Sender: no acknowledgement or close came. */
  session_act (run,
               run->session->mode == MODE_RECEIVE
                 ? session_receiver_step (run, BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT)
                 : session_sender_step (run, BACKUP_SENDER_EVENT_CLOSE_TIMEOUT),
               g_error_new (BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
                            _("The peer did not confirm the end of the transfer")));
  return G_SOURCE_REMOVE;
}

void
session_arm_finish_timeout (SessionRun *run)
{
  g_clear_handle_id (&run->finish_timeout_id, g_source_remove);
  run->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, run);
}

gboolean
session_send_frame (SessionRun *run, BackupFrame *frame, GError **error)
{
  g_autoptr (GBytes) bytes = backup_frame_encode (frame);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  return backup_channel_send_text (run->channel, text, error);
}

/* The connection ended under the data channel before it was closed. */
void
session_transport_lost (SessionRun *run, const GError *error)
{
  GError *reported;

  if (run->session->mode == MODE_RECEIVE && run->receiver == BACKUP_RECEIVER_RECEIVING
      && run->reception != NULL && backup_storage_writer_is_resumable (run->reception))
    {
      g_autofree char *size = g_format_size (run->received);

      reported = g_error_new (error->domain, error->code,
                              _("The transfer of %s was interrupted after %s (%s); what "
                                "arrived is kept, and the transfer resumes there when the "
                                "same backup is sent again within a day"),
                              run->session->file_name, size, error->message);
    }
  else if (run->session->mode == MODE_RECEIVE && run->receiver == BACKUP_RECEIVER_RECEIVING)
    {
      g_autofree char *size = g_format_size (run->received);

      reported = g_error_new (error->domain, error->code,
                              _("The transfer of %s was interrupted after %s (%s); nothing "
                                "was stored"),
                              run->session->file_name, size, error->message);
    }
  else
    reported = g_error_copy (error);
  session_fail (run, reported);
}

/* ------------------------------------------------------------------------ */
/* Data channel                                                             */

static void
channel_message_cb (BackupChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  SessionRun *run = user_data;

  if (run->completing)
    return;

  if (run->session->mode == MODE_RECEIVE)
    {
      receiver_on_message (run, data, is_string);
      return;
    }

  if (!is_string || run->peer_is_legacy)
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                              _("The receiver sent unexpected data")));
      return;
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupFrame) frame = backup_frame_decode (g_bytes_get_data (data, NULL),
                                                         g_bytes_get_size (data), &error);
    if (frame == NULL)
      session_fail (run, g_steal_pointer (&error));
    else
      sender_on_control (run, frame);
  }
}

static void
channel_low_cb (BackupChannel *channel, gpointer user_data)
{
  sender_pump (user_data);
}

static void
channel_open_cb (BackupChannel *channel, gpointer user_data)
{
  SessionRun *run = user_data;

  g_debug ("data channel open");
  /* Signaling has done its job, unless the path breaks: clean the store
   * and stop polling it. */
  session_restart_setup (run);
  close_pairing (run);
  if (run->session->mode == MODE_SEND)
    {
      session_sender_step (run, BACKUP_SENDER_EVENT_OPEN);
      sender_start (run);
    }
  else
    receiver_start (run);
}

static void
channel_closed_cb (BackupChannel *channel, gpointer user_data)
{
  SessionRun *run = user_data;

  g_debug ("data channel closed");
  if (run->completing)
    return;

  if (backup_channel_get_close_error (channel) != NULL)
    {
      /* "error" reported it already, unless the run ignored it. */
      session_transport_lost (run, backup_channel_get_close_error (channel));
      return;
    }
  if (run->session->mode == MODE_RECEIVE)
    {
      receiver_on_channel_closed (run);
      return;
    }
  {
    gboolean all_sent = run->sender == BACKUP_SENDER_FINISHING;

    session_act (run, session_sender_step (run, BACKUP_SENDER_EVENT_CLEAN_CLOSE),
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      all_sent ? _("The receiver closed the connection before "
                                                   "confirming the backup")
                                               : _("The receiver closed the connection before "
                                                   "the end of the transfer")));
  }
}

static void
channel_error_cb (BackupChannel *channel, GError *error, gpointer user_data)
{
  session_transport_lost (user_data, error);
}

void
session_adopt_channel (SessionRun *run, BackupChannel *channel)
{
  if (run->channel != NULL)
    {
      g_debug ("ignoring a second data channel '%s'", backup_channel_get_label (channel));
      return;
    }

  run->channel = g_object_ref (channel);
  backup_channel_set_buffered_amount_low_threshold (channel, LOW_WATER);
  g_signal_connect (channel, "message", G_CALLBACK (channel_message_cb), run);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (channel_low_cb), run);
  g_signal_connect (channel, "closed", G_CALLBACK (channel_closed_cb), run);
  g_signal_connect (channel, "error", G_CALLBACK (channel_error_cb), run);
  if (backup_channel_is_open (channel))
    channel_open_cb (channel, run);
  else
    g_signal_connect (channel, "open", G_CALLBACK (channel_open_cb), run);
}

/* ------------------------------------------------------------------------ */
/* A run                                                                    */

static gboolean
on_cancelled_idle (gpointer user_data)
{
  SessionRun *run = session_run_from_task (user_data);

  if (run->returned)
    return G_SOURCE_REMOVE;
  run->stop_requested = TRUE;
  session_fail (run, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                          _("The backup was cancelled")));
  return G_SOURCE_REMOVE;
}

/* Any thread: the caller's cancellable. */
static void
cancelled_handler (GCancellable *cancellable, gpointer user_data)
{
  SessionRun *run = user_data;
  GSource *source = g_idle_source_new ();

  /* Above the transfer's own sources, which would otherwise keep a default
   * idle waiting until the end of the transfer. */
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, on_cancelled_idle, g_object_ref (run->task), g_object_unref);
  g_source_attach (source, g_task_get_context (run->task));
  g_source_unref (source);
}

/* A fresh run as the data of a new task; NULL when it failed at once (the
 * task returns the error). */
static SessionRun *
session_start_run (BackupSession *self,
                   GCancellable *cancellable,
                   GAsyncReadyCallback callback,
                   gpointer user_data)
{
  SessionRun *run = g_new0 (SessionRun, 1);

  run->session = self;
  run->sender = BACKUP_SENDER_WAITING;
  run->receiver = BACKUP_RECEIVER_WAITING;
  run->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (run->task, backup_session_run_async);
  g_task_set_task_data (run->task, run, (GDestroyNotify) session_run_free);
  /* A cancellation that came too late to matter (the file is stored) does
   * not turn the result into one: the state machine decides. */
  g_task_set_check_cancellable (run->task, FALSE);
  self->task = run->task; /* the reference g_task_new() gave */
  self->bytes_done = 0;
  self->total_bytes = -1;
  self->resumed_bytes = 0;
  self->reconnecting = FALSE;
  g_clear_pointer (&self->peer_name, g_free);
  self->peer_is_legacy = FALSE;

  run->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    run->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_handler), run,
                                               NULL);

  if (self->mode == MODE_SEND)
    {
      g_autofree char *basename = g_file_get_basename (self->source);

      session_set_file_name (run, self->outer_name != NULL ? self->outer_name : basename);
      if (strlen (self->file_name) > 255)
        {
          session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                                          _("The name “%s” is longer than 255 bytes"),
                                          self->file_name));
          return NULL;
        }
    }
  return run;
}

void
backup_session_run_async (BackupSession *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  SessionRun *run;

  g_return_if_fail (BACKUP_IS_SESSION (self));
  g_return_if_fail (self->task == NULL);

  run = session_start_run (self, cancellable, callback, user_data);
  if (run != NULL)
    session_connect (run);
}

void
backup_session_transfer_async (BackupSession *self,
                               BackupChannel *channel,
                               guint peer_protocol,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  SessionRun *run;

  g_return_if_fail (BACKUP_IS_SESSION (self));
  g_return_if_fail (BACKUP_IS_CHANNEL (channel));
  g_return_if_fail (self->task == NULL);

  run = session_start_run (self, cancellable, callback, user_data);
  if (run == NULL)
    return;
  run->peer_is_legacy = peer_protocol == 0;
  run->peer_protocol = peer_protocol;
  session_set_state (run, BACKUP_SESSION_STATE_CONNECTING);
  session_adopt_channel (run, channel);
}

gboolean
backup_session_run_finish (BackupSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
backup_session_dispose (GObject *object)
{
  BackupSession *self = BACKUP_SESSION (object);

  /* A run holds the session until it returns; only an explicit dispose
   * gets here during one. */
  if (self->task != NULL)
    {
      SessionRun *run = session_run_from_task (self->task);

      run->completing = TRUE;
      release_run (run);
    }
  g_clear_object (&self->signaling);
  g_clear_object (&self->store);
  g_clear_object (&self->admission);
  g_clear_object (&self->source);

  G_OBJECT_CLASS (backup_session_parent_class)->dispose (object);
}

static void
wipe_string (char **str)
{
  if (*str != NULL)
    {
      gnutls_memset (*str, 0, strlen (*str));
      g_clear_pointer (str, g_free);
    }
}

static void
backup_session_finalize (GObject *object)
{
  BackupSession *self = BACKUP_SESSION (object);

  g_free (self->session_id);
  g_free (self->outer_name);
  g_free (self->peer_name);
  g_free (self->file_name);
  wipe_string (&self->password1);
  wipe_string (&self->password2);
  g_clear_pointer (&self->rtc_config, rtc_configuration_free);
  g_clear_object (&self->task);

  G_OBJECT_CLASS (backup_session_parent_class)->finalize (object);
}

static void
backup_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupSession *self = BACKUP_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_BYTES_DONE:
      g_value_set_uint64 (value, self->bytes_done);
      break;
    case PROP_TOTAL_BYTES:
      g_value_set_int64 (value, self->total_bytes);
      break;
    case PROP_FILE_NAME:
      g_value_set_string (value, self->file_name);
      break;
    case PROP_RESUMED_BYTES:
      g_value_set_uint64 (value, self->resumed_bytes);
      break;
    case PROP_RECONNECTING:
      g_value_set_boolean (value, self->reconnecting);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_session_class_init (BackupSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_session_dispose;
  object_class->finalize = backup_session_finalize;
  object_class->get_property = backup_session_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, BACKUP_TYPE_SESSION_STATE,
                       BACKUP_SESSION_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BYTES_DONE] =
    g_param_spec_uint64 ("bytes-done", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOTAL_BYTES] =
    g_param_spec_int64 ("total-bytes", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FILE_NAME] =
    g_param_spec_string ("file-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RESUMED_BYTES] =
    g_param_spec_uint64 ("resumed-bytes", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECONNECTING] =
    g_param_spec_boolean ("reconnecting", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupSession::progress:
   * @done: bytes of the source consumed (sender) or received (receiver)
   * @total: total bytes, or -1 when unknown
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_INT64);
}

static void
backup_session_init (BackupSession *self)
{
  self->total_bytes = -1;
  self->timeout = BACKUP_PAIRING_DEFAULT_TIMEOUT;
}

static BackupSession *
session_new (Mode mode,
             BackupSignalingStore *signaling,
             const char *session_id,
             const RtcConfiguration *rtc_config)
{
  BackupSession *self = g_object_new (BACKUP_TYPE_SESSION, NULL);

  self->mode = mode;
  self->signaling = g_object_ref (signaling);
  self->session_id = g_strdup (session_id);
  self->rtc_config = rtc_config != NULL ? rtc_configuration_copy (rtc_config)
                                        : rtc_configuration_new ();
  return self;
}

BackupSession *
backup_session_new_sender (BackupSignalingStore *signaling,
                           const char *session_id,
                           const RtcConfiguration *rtc_config,
                           GFile *source,
                           const char *outer_name,
                           const char *password1,
                           const char *password2,
                           BackupZipEncryption encryption)
{
  BackupSession *self;

  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (signaling), NULL);
  g_return_val_if_fail (session_id != NULL, NULL);
  g_return_val_if_fail (G_IS_FILE (source), NULL);

  self = session_new (MODE_SEND, signaling, session_id, rtc_config);
  self->source = g_object_ref (source);
  self->outer_name = g_strdup (outer_name);
  self->password1 = g_strdup (password1 != NULL ? password1 : "");
  self->password2 = g_strdup (password2 != NULL ? password2 : "");
  self->encryption = encryption;
  return self;
}

BackupSession *
backup_session_new_receiver_for_storage (BackupSignalingStore *signaling,
                                         const char *session_id,
                                         const RtcConfiguration *rtc_config,
                                         BackupStorage *storage)
{
  BackupSession *self;

  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (signaling), NULL);
  g_return_val_if_fail (session_id != NULL, NULL);
  g_return_val_if_fail (BACKUP_IS_STORAGE (storage), NULL);

  self = session_new (MODE_RECEIVE, signaling, session_id, rtc_config);
  self->store = g_object_ref (storage);
  return self;
}

BackupSession *
backup_session_new_receiver (BackupSignalingStore *signaling,
                             const char *session_id,
                             const RtcConfiguration *rtc_config,
                             BackupStore *store)
{
  g_return_val_if_fail (BACKUP_IS_STORE (store), NULL);

  return backup_session_new_receiver_for_storage (signaling, session_id, rtc_config,
                                                  BACKUP_STORAGE (store));
}

void
backup_session_set_timeout (BackupSession *self, guint seconds)
{
  g_return_if_fail (BACKUP_IS_SESSION (self));

  self->timeout = seconds;
}

void
backup_session_set_admission (BackupSession *self, BackupAdmission *admission)
{
  g_return_if_fail (BACKUP_IS_SESSION (self));
  g_return_if_fail (admission == NULL || BACKUP_IS_ADMISSION (admission));
  g_return_if_fail (self->task == NULL);

  g_set_object (&self->admission, admission);
}

void
backup_session_set_quota (BackupSession *self, guint64 bytes)
{
  g_return_if_fail (BACKUP_IS_SESSION (self));
  g_return_if_fail (self->task == NULL);

  self->quota = bytes;
}

BackupSessionState
backup_session_get_state (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), BACKUP_SESSION_STATE_IDLE);

  return self->state;
}

guint64
backup_session_get_bytes_done (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), 0);

  return self->bytes_done;
}

gint64
backup_session_get_total_bytes (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), -1);

  return self->total_bytes;
}

const char *
backup_session_get_file_name (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), NULL);

  return self->file_name;
}

gboolean
backup_session_get_peer_is_legacy (BackupSession *self)
{
  g_return_val_if_fail (BACKUP_IS_SESSION (self), FALSE);

  return self->task != NULL ? session_run_from_task (self->task)->peer_is_legacy
                            : self->peer_is_legacy;
}
