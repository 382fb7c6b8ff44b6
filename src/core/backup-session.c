/* backup-session.c: one backup run, its data channel and its end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Connecting, the sender and the receiver are in files of their own (see
 * backup-session-private.h); what stays here is the run's life: its start,
 * the data channel's events, the end and the object.
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
#include "rtc-data-channel.h"
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
session_set_state (BackupSession *self, BackupSessionState state)
{
  if (self->state == state)
    return;

  g_debug ("session %s: state %d → %d", self->session_id, self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
session_report_progress (BackupSession *self, guint64 done)
{
  self->bytes_done = done;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
  g_signal_emit (self, signals[PROGRESS], 0, self->bytes_done, self->total_bytes);
}

void
session_set_total (BackupSession *self, gint64 total)
{
  self->total_bytes = total;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_BYTES]);
}

void
session_set_file_name (BackupSession *self, const char *name)
{
  g_free (self->file_name);
  self->file_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_NAME]);
}

char *
session_hex_digest (const guint8 *digest)
{
  GString *out = g_string_sized_new (BACKUP_FRAME_SHA256_LEN * 2);

  for (guint i = 0; i < BACKUP_FRAME_SHA256_LEN; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

static SessionRun *
session_run_new (void)
{
  SessionRun *run = g_new0 (SessionRun, 1);

  run->sender = BACKUP_SENDER_WAITING;
  run->receiver = BACKUP_RECEIVER_WAITING;
  return run;
}

/* Once release_run() let go of its transports, streams and files. */
static void
session_run_free (SessionRun *run)
{
  g_assert (run->task == NULL && run->pc == NULL && run->reception == NULL);
  g_clear_object (&run->pairing);
  g_clear_object (&run->cancellable);
  g_clear_error (&run->failure);
  g_free (run);
}

/* ------------------------------------------------------------------------ */
/* Tear-down                                                                */

static void
clear_timeouts (BackupSession *self)
{
  g_clear_handle_id (&self->run->gather_timeout_id, g_source_remove);
  g_clear_handle_id (&self->run->finish_timeout_id, g_source_remove);
}

static void
release_transport (BackupSession *self)
{
  if (self->run->channel != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->run->channel, self);
      g_clear_object (&self->run->channel);
    }
  if (self->run->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->run->pc, self);
      rtc_peer_connection_close (self->run->pc);
      g_clear_object (&self->run->pc);
    }
}

static void
release_run (BackupSession *self)
{
  clear_timeouts (self);
  if (self->run->cancellable != NULL)
    g_cancellable_cancel (self->run->cancellable);
  if (self->run->reception != NULL)
    {
      if (self->run->receiver != BACKUP_RECEIVER_STORED
          && self->run->receiver != BACKUP_RECEIVER_DONE)
        backup_reception_abort (self->run->reception);
      g_clear_object (&self->run->reception);
    }
  g_clear_pointer (&self->run->legacy, backup_legacy_parser_free);
  g_clear_object (&self->run->input);
  g_clear_object (&self->run->archiver);
  if (self->run->hash != NULL)
    {
      gnutls_hash_deinit (self->run->hash, NULL);
      self->run->hash = NULL;
    }
  if (self->run->pairing != NULL)
    g_signal_handlers_disconnect_by_data (self->run->pairing, self);
  release_transport (self);
}

static void
complete (BackupSession *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->run->task);

  if (task == NULL)
    return;

  if (self->run->cancelled_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), self->run->cancelled_id);
  self->run->cancelled_id = 0;
  g_clear_object (&self->run->cancellable);
  g_clear_object (&self->run->pairing);

  if (self->run->failure != NULL)
    {
      session_set_state (self, BACKUP_SESSION_STATE_FAILED);
      g_task_return_error (task, g_steal_pointer (&self->run->failure));
    }
  else
    {
      session_set_state (self, BACKUP_SESSION_STATE_DONE);
      g_task_return_boolean (task, TRUE);
    }
}

static void
pairing_closed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_pairing_close_finish (BACKUP_PAIRING (object), result, &error))
    g_debug ("cleaning up the signaling store: %s", error->message);

  if (self->run->completing)
    complete (self);
}

/* Deletes what we left in the signaling store and stops polling it. */
static void
close_pairing (BackupSession *self)
{
  if (self->run->pairing == NULL || self->run->pairing_closed)
    return;

  self->run->pairing_closed = TRUE;
  g_signal_handlers_disconnect_by_data (self->run->pairing, self);
  backup_pairing_close_async (self->run->pairing, NULL, pairing_closed_cb, g_object_ref (self));
}

void
session_finish_run_now (BackupSession *self)
{
  release_run (self);
  if (self->run->pairing != NULL && !self->run->pairing_closed)
    close_pairing (self); /* completes from its callback */
  else
    complete (self);
}

static void
finish_run (BackupSession *self)
{
  if (self->run->completing)
    return;

  self->run->completing = TRUE;
  /* A commit in a worker thread is never abandoned: the result is known
   * (stored or not) before the run completes. */
  if (self->mode == MODE_RECEIVE && self->run->receiver == BACKUP_RECEIVER_COMMITTING)
    return;
  session_finish_run_now (self);
}

/* Ends the run with @error (taken). */
void
session_fail_run (BackupSession *self, GError *error)
{
  if (self->run->completing || self->run->task == NULL)
    {
      g_error_free (error);
      return;
    }

  g_debug ("session %s failed: %s", self->session_id, error->message);
  g_clear_error (&self->run->failure);
  self->run->failure = error;

  /* Tell a peer of this program why, so that it does not wait. */
  if (self->run->channel != NULL && !self->run->peer_is_legacy
      && rtc_data_channel_get_ready_state (self->run->channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    {
      g_autoptr (BackupFrame) frame = backup_frame_new (BACKUP_FRAME_ERROR);

      frame->message = g_strdup (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                   ? _("the backup was cancelled")
                                   : error->message);
      session_send_frame (self, frame, NULL);
    }

  finish_run (self);
}

/* Carries out what the transfer's state machine decided; @error (taken)
 * is why, for FAIL. */
void
session_act (BackupSession *self, BackupTransferAction action, GError *error)
{
  switch (action)
    {
    case BACKUP_TRANSFER_ACTION_FAIL:
      session_fail_run (self, g_steal_pointer (&error));
      break;
    case BACKUP_TRANSFER_ACTION_SUCCEED:
      session_succeed (self);
      break;
    case BACKUP_TRANSFER_ACTION_IGNORE:
      if (error != NULL)
        g_debug ("session %s: no longer matters: %s", self->session_id, error->message);
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
session_receiver_step (BackupSession *self, BackupReceiverEvent event)
{
  BackupReceiverState before = self->run->receiver;
  BackupTransferAction action = backup_receiver_step (&self->run->receiver, event, !self->run->extended);

  if (self->run->receiver != before)
    g_debug ("session %s: receiver %s → %s", self->session_id,
             backup_receiver_state_to_string (before),
             backup_receiver_state_to_string (self->run->receiver));
  return action;
}

BackupTransferAction
session_sender_step (BackupSession *self, BackupSenderEvent event)
{
  BackupSenderState before = self->run->sender;
  BackupTransferAction action = backup_sender_step (&self->run->sender, event, self->run->peer_is_legacy);

  if (self->run->sender != before)
    g_debug ("session %s: sender %s → %s", self->session_id,
             backup_sender_state_to_string (before), backup_sender_state_to_string (self->run->sender));
  return action;
}

/* Something went wrong: the peer, the network, the local side or the user
 * (cancellation). The state machine says whether it still matters. */
void
session_fail (BackupSession *self, GError *error)
{
  BackupTransferAction action;

  if (self->run->completing || self->run->task == NULL)
    {
      g_error_free (error);
      return;
    }
  if (self->mode == MODE_RECEIVE)
    action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE);
  else
    action = session_sender_step (self, BACKUP_SENDER_EVENT_FAILURE);
  session_act (self, action, error);
}

void
session_succeed (BackupSession *self)
{
  if (self->run->completing || self->run->task == NULL)
    return;

  finish_run (self);
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  BackupSession *self = user_data;

  self->run->finish_timeout_id = 0;
  /* Receiver: stored and acknowledged, the sender's close went missing.
   * Sender: no acknowledgement or close came. */
  session_act (self,
               self->mode == MODE_RECEIVE
                 ? session_receiver_step (self, BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT)
                 : session_sender_step (self, BACKUP_SENDER_EVENT_CLOSE_TIMEOUT),
               g_error_new (BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
                            _("The peer did not confirm the end of the transfer")));
  return G_SOURCE_REMOVE;
}

void
session_arm_finish_timeout (BackupSession *self)
{
  g_clear_handle_id (&self->run->finish_timeout_id, g_source_remove);
  self->run->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, self);
}

gboolean
session_send_frame (BackupSession *self, BackupFrame *frame, GError **error)
{
  g_autoptr (GBytes) bytes = backup_frame_encode (frame);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  return rtc_data_channel_send_text (self->run->channel, text, error);
}

/* The connection ended under the data channel before it was closed. */
void
session_transport_lost (BackupSession *self, const GError *error)
{
  GError *reported;

  if (self->mode == MODE_RECEIVE && self->run->receiver == BACKUP_RECEIVER_RECEIVING)
    {
      g_autofree char *size = g_format_size (self->bytes_done);

      reported = g_error_new (error->domain, error->code,
                              _("The transfer of %s was interrupted after %s (%s); nothing "
                                "was stored"),
                              self->file_name, size, error->message);
    }
  else
    reported = g_error_copy (error);
  session_fail (self, reported);
}

/* ------------------------------------------------------------------------ */
/* Data channel                                                             */

static void
channel_message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  BackupSession *self = user_data;

  if (self->run->completing)
    return;

  if (self->mode == MODE_RECEIVE)
    {
      receiver_on_message (self, data, is_string);
      return;
    }

  if (!is_string || self->run->peer_is_legacy)
    {
      session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The receiver sent unexpected data")));
      return;
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupFrame) frame = backup_frame_decode (g_bytes_get_data (data, NULL),
                                                         g_bytes_get_size (data), &error);
    if (frame == NULL)
      session_fail (self, g_steal_pointer (&error));
    else
      sender_on_control (self, frame);
  }
}

static void
channel_low_cb (RtcDataChannel *channel, gpointer user_data)
{
  sender_pump (user_data);
}

static void
channel_open_cb (RtcDataChannel *channel, gpointer user_data)
{
  BackupSession *self = user_data;

  g_debug ("data channel open");
  /* Signaling has done its job: clean the store and stop polling it. */
  close_pairing (self);
  if (self->mode == MODE_SEND)
    {
      session_sender_step (self, BACKUP_SENDER_EVENT_OPEN);
      sender_start (self);
    }
  else
    receiver_start (self);
}

static void
channel_closed_cb (RtcDataChannel *channel, gpointer user_data)
{
  BackupSession *self = user_data;

  g_debug ("data channel closed");
  if (self->run->completing)
    return;

  if (rtc_data_channel_get_close_error (channel) != NULL)
    {
      /* "error" reported it already, unless the run ignored it. */
      session_transport_lost (self, rtc_data_channel_get_close_error (channel));
      return;
    }
  if (self->mode == MODE_RECEIVE)
    {
      receiver_on_channel_closed (self);
      return;
    }
  {
    gboolean all_sent = self->run->sender == BACKUP_SENDER_FINISHING;

    session_act (self, session_sender_step (self, BACKUP_SENDER_EVENT_CLEAN_CLOSE),
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      all_sent ? _("The receiver closed the connection before "
                                                   "confirming the backup")
                                               : _("The receiver closed the connection before "
                                                   "the end of the transfer")));
  }
}

static void
channel_error_cb (RtcDataChannel *channel, GError *error, gpointer user_data)
{
  session_transport_lost (user_data, error);
}

void
session_adopt_channel (BackupSession *self, RtcDataChannel *channel)
{
  if (self->run->channel != NULL)
    {
      g_debug ("ignoring a second data channel '%s'", rtc_data_channel_get_label (channel));
      return;
    }

  self->run->channel = g_object_ref (channel);
  rtc_data_channel_set_buffered_amount_low_threshold (channel, LOW_WATER);
  g_signal_connect (channel, "message", G_CALLBACK (channel_message_cb), self);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (channel_low_cb), self);
  g_signal_connect (channel, "closed", G_CALLBACK (channel_closed_cb), self);
  g_signal_connect (channel, "error", G_CALLBACK (channel_error_cb), self);
  if (rtc_data_channel_get_ready_state (channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    channel_open_cb (channel, self);
  else
    g_signal_connect (channel, "open", G_CALLBACK (channel_open_cb), self);
}

static gboolean
on_cancelled_idle (gpointer user_data)
{
  BackupSession *self = user_data;

  self->run->stop_requested = TRUE;
  session_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                           _("The backup was cancelled")));
  return G_SOURCE_REMOVE;
}

static void
cancelled_handler (GCancellable *cancellable, gpointer user_data)
{
  BackupSession *self = user_data;
  GSource *source = g_idle_source_new ();

  /* Above the transfer's own sources, which would otherwise keep a default
   * idle waiting until the end of the transfer. */
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, on_cancelled_idle, g_object_ref (self), g_object_unref);
  g_source_attach (source, g_task_get_context (self->run->task));
  g_source_unref (source);
}

void
backup_session_run_async (BackupSession *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BACKUP_IS_SESSION (self));
  g_return_if_fail (self->run->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_session_run_async);

  /* A fresh run: what the last one left (all released) goes. */
  g_clear_pointer (&self->run, session_run_free);
  self->run = session_run_new ();
  self->bytes_done = 0;
  self->total_bytes = -1;

  self->run->task = g_steal_pointer (&task);
  self->run->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    self->run->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_handler),
                                                self, NULL);

  if (self->mode == MODE_SEND)
    {
      g_autofree char *basename = g_file_get_basename (self->source);

      session_set_file_name (self, self->outer_name != NULL ? self->outer_name : basename);
      if (strlen (self->file_name) > 255)
        {
          session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                                           _("The name “%s” is longer than 255 bytes"),
                                           self->file_name));
          return;
        }
    }

  session_connect (self);
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

  release_run (self);
  g_clear_object (&self->run->pairing);
  g_clear_object (&self->signaling);
  g_clear_object (&self->store);
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
  g_free (self->file_name);
  wipe_string (&self->password1);
  wipe_string (&self->password2);
  g_clear_pointer (&self->rtc_config, rtc_configuration_free);
  g_clear_pointer (&self->run, session_run_free);

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
  self->run = session_run_new ();
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
backup_session_new_receiver (BackupSignalingStore *signaling,
                             const char *session_id,
                             const RtcConfiguration *rtc_config,
                             BackupStore *store)
{
  BackupSession *self;

  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (signaling), NULL);
  g_return_val_if_fail (session_id != NULL, NULL);
  g_return_val_if_fail (BACKUP_IS_STORE (store), NULL);

  self = session_new (MODE_RECEIVE, signaling, session_id, rtc_config);
  self->store = g_object_ref (store);
  return self;
}

void
backup_session_set_timeout (BackupSession *self, guint seconds)
{
  g_return_if_fail (BACKUP_IS_SESSION (self));

  self->timeout = seconds;
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

  return self->run->peer_is_legacy;
}
