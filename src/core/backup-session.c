/* backup-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <unistd.h>

#include "backup-core-enum-types.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-frame.h"
#include "backup-pairing.h"
#include "backup-reception.h"
#include "backup-session.h"
#include "backup-signaling-error.h"
#include "backup-transfer-machine.h"
#include "rtc-data-channel.h"
#include "rtc-error.h"
#include "rtc-peer-connection.h"
#include "rtc-sdp.h"

/* Pacing of the sender on the channel's buffered amount. */
#define HIGH_WATER (1024 * 1024)
#define LOW_WATER (256 * 1024)
/* Content message size with a peer of this program. */
#define CHUNK_SIZE (64 * 1024)
/* How long gathering may take before the SDP is sent anyway (the rest is
 * trickled). */
#define GATHER_WAIT_MS 3000
/* How long to wait for the last steps once the data is through. */
#define FINISH_TIMEOUT_S 60

typedef enum
{
  MODE_SEND,
  MODE_RECEIVE,
} Mode;


struct _BackupSession
{
  GObject parent_instance;

  Mode mode;
  BackupSignalingStore *signaling;
  char *session_id;
  RtcConfiguration *rtc_config;
  guint timeout;

  /* Sender. */
  GFile *source;
  char *outer_name;
  char *password1;
  char *password2;
  BackupZipEncryption encryption;

  /* Receiver. */
  BackupStore *store;

  /* One run. */
  GTask *task;
  GCancellable *cancellable;
  gulong cancelled_id;
  BackupSessionState state;
  BackupPairing *pairing;
  gboolean pairing_closed;
  RtcPeerConnection *pc;
  RtcDataChannel *channel;
  gboolean is_offerer;
  gboolean description_created;
  gboolean description_sent;
  guint gather_timeout_id;
  guint finish_timeout_id;
  gboolean peer_is_legacy;
  char *file_name;
  guint64 bytes_done;
  gint64 total_bytes;
  gnutls_hash_hd_t hash;
  guint8 digest[BACKUP_FRAME_SHA256_LEN]; /* of the whole content, once known */
  GError *failure;
  gboolean completing;

  /* Sender run. */
  GInputStream *input;
  BackupArchiver *archiver;
  gboolean archiver_done;
  gboolean input_eof;
  gboolean reading;
  guint64 sent;
  BackupSenderState sender;

  /* Receiver run. */
  BackupReceiverState receiver;
  gboolean stop_requested; /* cancelled while the commit could not stop */
  BackupReception *reception;
  BackupLegacyParser *legacy;
  gboolean extended;
};

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

static void session_fail (BackupSession *self, GError *error);
static void session_succeed (BackupSession *self);
static gboolean send_frame (BackupSession *self, BackupFrame *frame, GError **error);
static void sender_pump (BackupSession *self);

static void
set_state (BackupSession *self, BackupSessionState state)
{
  if (self->state == state)
    return;

  g_debug ("session %s: state %d → %d", self->session_id, self->state, state);
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
report_progress (BackupSession *self, guint64 done)
{
  self->bytes_done = done;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
  g_signal_emit (self, signals[PROGRESS], 0, self->bytes_done, self->total_bytes);
}

static void
set_total (BackupSession *self, gint64 total)
{
  self->total_bytes = total;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_BYTES]);
}

static void
set_file_name (BackupSession *self, const char *name)
{
  g_free (self->file_name);
  self->file_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_NAME]);
}

static char *
hex_digest (const guint8 *digest)
{
  GString *out = g_string_sized_new (BACKUP_FRAME_SHA256_LEN * 2);

  for (guint i = 0; i < BACKUP_FRAME_SHA256_LEN; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Tear-down                                                                */

static void
clear_timeouts (BackupSession *self)
{
  g_clear_handle_id (&self->gather_timeout_id, g_source_remove);
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
}

static void
release_transport (BackupSession *self)
{
  if (self->channel != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->channel, self);
      g_clear_object (&self->channel);
    }
  if (self->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->pc, self);
      rtc_peer_connection_close (self->pc);
      g_clear_object (&self->pc);
    }
}

static void
release_run (BackupSession *self)
{
  clear_timeouts (self);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->reception != NULL)
    {
      if (self->receiver != BACKUP_RECEIVER_STORED && self->receiver != BACKUP_RECEIVER_DONE)
        backup_reception_abort (self->reception);
      g_clear_object (&self->reception);
    }
  g_clear_pointer (&self->legacy, backup_legacy_parser_free);
  g_clear_object (&self->input);
  g_clear_object (&self->archiver);
  if (self->hash != NULL)
    {
      gnutls_hash_deinit (self->hash, NULL);
      self->hash = NULL;
    }
  if (self->pairing != NULL)
    g_signal_handlers_disconnect_by_data (self->pairing, self);
  release_transport (self);
}

static void
complete (BackupSession *self)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;

  if (self->cancelled_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->cancellable);
  g_clear_object (&self->pairing);

  if (self->failure != NULL)
    {
      set_state (self, BACKUP_SESSION_STATE_FAILED);
      g_task_return_error (task, g_steal_pointer (&self->failure));
    }
  else
    {
      set_state (self, BACKUP_SESSION_STATE_DONE);
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

  if (self->completing)
    complete (self);
}

/* Deletes what we left in the signaling store and stops polling it. */
static void
close_pairing (BackupSession *self)
{
  if (self->pairing == NULL || self->pairing_closed)
    return;

  self->pairing_closed = TRUE;
  g_signal_handlers_disconnect_by_data (self->pairing, self);
  backup_pairing_close_async (self->pairing, NULL, pairing_closed_cb, g_object_ref (self));
}

static void
finish_run_now (BackupSession *self)
{
  release_run (self);
  if (self->pairing != NULL && !self->pairing_closed)
    close_pairing (self); /* completes from its callback */
  else
    complete (self);
}

static void
finish_run (BackupSession *self)
{
  if (self->completing)
    return;

  self->completing = TRUE;
  /* A commit in a worker thread is never abandoned: the result is known
   * (stored or not) before the run completes. */
  if (self->mode == MODE_RECEIVE && self->receiver == BACKUP_RECEIVER_COMMITTING)
    return;
  finish_run_now (self);
}

/* Ends the run with @error (taken). */
static void
fail_run (BackupSession *self, GError *error)
{
  if (self->completing || self->task == NULL)
    {
      g_error_free (error);
      return;
    }

  g_debug ("session %s failed: %s", self->session_id, error->message);
  g_clear_error (&self->failure);
  self->failure = error;

  /* Tell a peer of this program why, so that it does not wait. */
  if (self->channel != NULL && !self->peer_is_legacy
      && rtc_data_channel_get_ready_state (self->channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    {
      g_autoptr (BackupFrame) frame = backup_frame_new (BACKUP_FRAME_ERROR);

      frame->message = g_strdup (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                   ? _("the backup was cancelled")
                                   : error->message);
      send_frame (self, frame, NULL);
    }

  finish_run (self);
}

/* Carries out what the transfer's state machine decided; @error (taken)
 * is why, for FAIL. */
static void
session_act (BackupSession *self, BackupTransferAction action, GError *error)
{
  switch (action)
    {
    case BACKUP_TRANSFER_ACTION_FAIL:
      fail_run (self, g_steal_pointer (&error));
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

static BackupTransferAction
receiver_step (BackupSession *self, BackupReceiverEvent event)
{
  BackupReceiverState before = self->receiver;
  BackupTransferAction action = backup_receiver_step (&self->receiver, event, !self->extended);

  if (self->receiver != before)
    g_debug ("session %s: receiver %s → %s", self->session_id,
             backup_receiver_state_to_string (before),
             backup_receiver_state_to_string (self->receiver));
  return action;
}

static BackupTransferAction
sender_step (BackupSession *self, BackupSenderEvent event)
{
  BackupSenderState before = self->sender;
  BackupTransferAction action = backup_sender_step (&self->sender, event, self->peer_is_legacy);

  if (self->sender != before)
    g_debug ("session %s: sender %s → %s", self->session_id,
             backup_sender_state_to_string (before), backup_sender_state_to_string (self->sender));
  return action;
}

/* Something went wrong: the peer, the network, the local side or the user
 * (cancellation). The state machine says whether it still matters. */
static void
session_fail (BackupSession *self, GError *error)
{
  BackupTransferAction action;

  if (self->completing || self->task == NULL)
    {
      g_error_free (error);
      return;
    }
  if (self->mode == MODE_RECEIVE)
    action = receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE);
  else
    action = sender_step (self, BACKUP_SENDER_EVENT_FAILURE);
  session_act (self, action, error);
}

static void
session_succeed (BackupSession *self)
{
  if (self->completing || self->task == NULL)
    return;

  finish_run (self);
}

static gboolean
finish_timeout_cb (gpointer user_data)
{
  BackupSession *self = user_data;

  self->finish_timeout_id = 0;
  /* Receiver: stored and acknowledged, the sender's close went missing.
   * Sender: no acknowledgement or close came. */
  session_act (self,
               self->mode == MODE_RECEIVE
                 ? receiver_step (self, BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT)
                 : sender_step (self, BACKUP_SENDER_EVENT_CLOSE_TIMEOUT),
               g_error_new (BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
                            _("The peer did not confirm the end of the transfer")));
  return G_SOURCE_REMOVE;
}

static void
arm_finish_timeout (BackupSession *self)
{
  g_clear_handle_id (&self->finish_timeout_id, g_source_remove);
  self->finish_timeout_id = g_timeout_add_seconds (FINISH_TIMEOUT_S, finish_timeout_cb, self);
}

/* ------------------------------------------------------------------------ */
/* Sender                                                                   */

static gsize
chunk_size (BackupSession *self)
{
  guint64 max = rtc_data_channel_get_max_message_size (self->channel);
  gsize chunk = self->peer_is_legacy ? BACKUP_FRAME_LEGACY_CHUNK : CHUNK_SIZE;

  if (max != 0 && max < chunk)
    chunk = (gsize) max;
  return chunk;
}

static gboolean
send_frame (BackupSession *self, BackupFrame *frame, GError **error)
{
  g_autoptr (GBytes) bytes = backup_frame_encode (frame);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  return rtc_data_channel_send_text (self->channel, text, error);
}

static void
sender_finish (BackupSession *self)
{
  g_autoptr (GError) error = NULL;

  if (sender_step (self, BACKUP_SENDER_EVENT_SOURCE_END) != BACKUP_TRANSFER_ACTION_SEND_END)
    return;
  set_state (self, BACKUP_SESSION_STATE_FINISHING);
  gnutls_hash_output (self->hash, self->digest);

  if (self->peer_is_legacy)
    {
      /* The original receiver stores what it got when the channel closes;
       * the channel closes once the queue has drained. */
      rtc_data_channel_close (self->channel);
    }
  else
    {
      g_autoptr (BackupFrame) end = backup_frame_new (BACKUP_FRAME_END);

      end->bytes = self->sent;
      memcpy (end->sha256, self->digest, sizeof self->digest);
      if (!send_frame (self, end, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
      g_debug ("sent end: %" G_GUINT64_FORMAT " bytes", self->sent);
    }
  arm_finish_timeout (self);
}

static void
sender_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  self->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (self->completing || self->task == NULL)
    return;
  if (bytes == NULL)
    {
      g_prefix_error (&error, _("Could not read %s: "), self->file_name);
      session_fail (self, g_steal_pointer (&error));
      return;
    }

  if (g_bytes_get_size (bytes) == 0)
    {
      self->input_eof = TRUE;
      if (self->archiver == NULL || self->archiver_done)
        sender_finish (self);
      return;
    }

  gnutls_hash (self->hash, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (!rtc_data_channel_send_bytes (self->channel, bytes, &error))
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  self->sent += g_bytes_get_size (bytes);
  if (self->archiver == NULL)
    report_progress (self, self->sent);

  sender_pump (self);
}

static void
sender_pump (BackupSession *self)
{
  if (self->reading || self->input_eof || self->completing
      || self->sender != BACKUP_SENDER_SENDING)
    return;
  if (rtc_data_channel_get_buffered_amount (self->channel) >= HIGH_WATER)
    return; /* resumed by buffered-amount-low */

  self->reading = TRUE;
  g_input_stream_read_bytes_async (self->input, chunk_size (self), G_PRIORITY_DEFAULT,
                                   self->cancellable, sender_read_cb, g_object_ref (self));
}

static void
archiver_progress_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupSession *self = user_data;

  report_progress (self, (guint64) backup_archiver_get_bytes_done (BACKUP_ARCHIVER (object)));
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
  if (self->completing || self->task == NULL)
    return;

  self->archiver_done = TRUE;
  if (self->input_eof)
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
                                G_FILE_QUERY_INFO_NONE, self->cancellable, error);
      if (info == NULL)
        return FALSE;
      stream = g_file_read (self->source, self->cancellable, error);
      if (stream == NULL)
        return FALSE;
      set_total (self, g_file_info_get_size (info));
      self->input = G_INPUT_STREAM (g_steal_pointer (&stream));
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
      self->input = g_unix_input_stream_new (fds[0], TRUE);
      out = g_unix_output_stream_new (fds[1], TRUE);

      self->archiver = backup_archiver_new (self->source, self->outer_name,
                                            self->password1, self->password2);
      backup_archiver_set_encryption (self->archiver, self->encryption);
      g_signal_connect_object (self->archiver, "notify::bytes-done",
                               G_CALLBACK (archiver_progress_cb), self, 0);
      backup_archiver_write_async (self->archiver, out, G_PRIORITY_DEFAULT, self->cancellable,
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
  if (self->completing || self->task == NULL)
    return;
  set_total (self, backup_archiver_get_total_bytes (BACKUP_ARCHIVER (object)));
}

static void
sender_start (BackupSession *self)
{
  g_autoptr (GError) error = NULL;

  set_state (self, BACKUP_SESSION_STATE_TRANSFERRING);
  if (gnutls_hash_init (&self->hash, GNUTLS_DIG_SHA256) < 0)
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
  if (self->archiver != NULL)
    {
      g_autoptr (BackupArchiver) scanner = backup_archiver_new (self->source, self->outer_name,
                                                                self->password1, self->password2);
      backup_archiver_scan_async (scanner, G_PRIORITY_DEFAULT, self->cancellable,
                                  archiver_scanned_cb, g_object_ref (self));
    }

  if (self->peer_is_legacy)
    {
      /* The original receiver reads exactly one byte, then exactly the name. */
      gsize name_len = strlen (self->file_name);
      guint8 length_byte = (guint8) name_len;
      g_autoptr (GBytes) length_bytes = g_bytes_new (&length_byte, 1);
      g_autoptr (GBytes) name_bytes = g_bytes_new (self->file_name, name_len);

      if (!rtc_data_channel_send_bytes (self->channel, length_bytes, &error)
          || !rtc_data_channel_send_bytes (self->channel, name_bytes, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
    }
  else
    {
      g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);

      header->name = g_strdup (self->file_name);
      header->size = self->archiver != NULL ? -1 : self->total_bytes;
      header->kind = self->archiver != NULL ? BACKUP_FRAME_KIND_ZIP : BACKUP_FRAME_KIND_FILE;
      if (!send_frame (self, header, &error))
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
    }

  sender_pump (self);
}

static void
sender_on_control (BackupSession *self, BackupFrame *frame)
{
  switch (frame->type)
    {
    case BACKUP_FRAME_ACK:
      if (self->sender == BACKUP_SENDER_FINISHING
          && (frame->bytes != self->sent
              || memcmp (frame->sha256, self->digest, sizeof self->digest) != 0))
        {
          session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                           _("The receiver stored something else than "
                                             "what was sent (%llu bytes of %llu)"),
                                           (unsigned long long) frame->bytes,
                                           (unsigned long long) self->sent));
          return;
        }
      {
        BackupTransferAction action = sender_step (self, BACKUP_SENDER_EVENT_ACK);

        /* Close the channel; the receiver finishes when it sees the close. */
        if (action == BACKUP_TRANSFER_ACTION_SUCCEED)
          {
            g_debug ("acknowledged by the peer");
            rtc_data_channel_close (self->channel);
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

/* ------------------------------------------------------------------------ */
/* Receiver                                                                 */

static gboolean
receiver_begin (BackupSession *self, const char *name, gsize length, GError **error)
{
  g_autofree char *display = backup_display_name (name, (gssize) length);

  self->reception = backup_store_begin (self->store, name, length, error);
  if (self->reception == NULL)
    return FALSE;
  set_file_name (self, display);
  receiver_step (self, BACKUP_RECEIVER_EVENT_BEGIN);
  set_state (self, BACKUP_SESSION_STATE_TRANSFERRING);
  return TRUE;
}

static gboolean
receiver_write (BackupSession *self, const guint8 *data, gsize length, GError **error)
{
  if (!backup_reception_write (self->reception, data, length, error))
    return FALSE;
  gnutls_hash (self->hash, data, length);
  report_progress (self, self->bytes_done + length);
  return TRUE;
}

static gboolean
legacy_name_cb (const char *name, gsize length, gpointer user_data, GError **error)
{
  return receiver_begin (user_data, name, length, error);
}

static gboolean
legacy_content_cb (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  return receiver_write (user_data, data, length, error);
}

static const BackupLegacyParserFuncs legacy_funcs = { legacy_name_cb, legacy_content_cb };

static void
receiver_acknowledge (BackupSession *self)
{
  g_autoptr (BackupFrame) ack = backup_frame_new (BACKUP_FRAME_ACK);
  g_autoptr (GError) error = NULL;

  ack->bytes = self->bytes_done;
  memcpy (ack->sha256, self->digest, sizeof self->digest);
  if (!send_frame (self, ack, &error))
    {
      /* Stored safely all the same: the sender will report a failure. */
      session_act (self, receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE),
                   g_steal_pointer (&error));
      return;
    }
  /* Finish when the sender closes the channel, or after a while; at once
   * when the run was cancelled meanwhile. */
  if (self->stop_requested)
    session_act (self, receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE), NULL);
  else
    arm_finish_timeout (self);
}

static void
committed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  BackupTransferAction action;

  if (!backup_reception_commit_finish (BACKUP_RECEPTION (object), result, &error))
    {
      /* Not stored: every earlier version is as it was. */
      action = receiver_step (self, BACKUP_RECEIVER_EVENT_COMMIT_FAILED);
      if (self->completing)
        finish_run_now (self);
      else
        session_act (self, action, g_steal_pointer (&error));
      return;
    }
  action = receiver_step (self, BACKUP_RECEIVER_EVENT_COMMIT_DONE);
  if (self->completing)
    {
      /* Stored while the run was being torn down (disposed). */
      finish_run_now (self);
      return;
    }
  if (self->task == NULL)
    return;

  g_debug ("stored %s", self->file_name);
  if (action == BACKUP_TRANSFER_ACTION_ACKNOWLEDGE)
    receiver_acknowledge (self);
  else
    session_act (self, action, NULL);
}

static void
receiver_commit (BackupSession *self)
{
  set_state (self, BACKUP_SESSION_STATE_FINISHING);
  backup_reception_commit_async (self->reception, self->cancellable, committed_cb,
                                 g_object_ref (self));
}

static void
receiver_on_end (BackupSession *self, BackupFrame *frame)
{
  g_autofree char *ours = NULL;
  g_autofree char *theirs = NULL;
  BackupTransferAction action;

  if (self->receiver != BACKUP_RECEIVER_RECEIVING)
    {
      session_act (self, receiver_step (self, BACKUP_RECEIVER_EVENT_END_VERIFIED),
                   g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                        _("The peer sent an unexpected end message")));
      return;
    }

  if (frame->bytes != self->bytes_done)
    {
      session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                       _("Received %llu bytes of %s, but the sender sent %llu"),
                                       (unsigned long long) self->bytes_done, self->file_name,
                                       (unsigned long long) frame->bytes));
      return;
    }

  gnutls_hash_output (self->hash, self->digest);
  if (memcmp (self->digest, frame->sha256, sizeof self->digest) != 0)
    {
      ours = hex_digest (self->digest);
      theirs = hex_digest (frame->sha256);
      session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                       _("%s is corrupt: SHA-256 %s, expected %s"),
                                       self->file_name, ours, theirs));
      return;
    }
  action = receiver_step (self, BACKUP_RECEIVER_EVENT_END_VERIFIED);
  if (action == BACKUP_TRANSFER_ACTION_COMMIT)
    receiver_commit (self);
  else
    session_act (self, action,
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The peer sent an unexpected end message")));
}

static void
receiver_on_message (BackupSession *self, GBytes *data, gboolean is_string)
{
  g_autoptr (GError) error = NULL;
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  if (self->receiver >= BACKUP_RECEIVER_COMMITTING)
    {
      g_debug ("ignoring a message after the end of the file");
      return;
    }
  if (self->reception == NULL && self->legacy == NULL && !self->extended)
    {
      /* The first message tells which protocol the sender speaks. */
      if (!self->peer_is_legacy && is_string)
        self->extended = TRUE;
      else
        self->legacy = backup_legacy_parser_new (&legacy_funcs, self);
    }

  if (self->legacy != NULL)
    {
      if (!backup_legacy_parser_feed (self->legacy, bytes, length, &error))
        session_fail (self, g_steal_pointer (&error));
      return;
    }

  if (!is_string)
    {
      BackupTransferAction action = receiver_step (self, BACKUP_RECEIVER_EVENT_DATA);

      if (action != BACKUP_TRANSFER_ACTION_NONE)
        {
          session_act (self, action,
                       g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                            _("The peer sent data out of place")));
          return;
        }
      if (!receiver_write (self, bytes, length, &error))
        session_fail (self, g_steal_pointer (&error));
      return;
    }

  {
    g_autoptr (BackupFrame) frame = backup_frame_decode (bytes, length, &error);

    if (frame == NULL)
      {
        session_fail (self, g_steal_pointer (&error));
        return;
      }
    switch (frame->type)
      {
      case BACKUP_FRAME_HEADER:
        if (self->receiver != BACKUP_RECEIVER_WAITING)
          {
            session_act (self, receiver_step (self, BACKUP_RECEIVER_EVENT_BEGIN),
                         g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                              _("The peer sent a second header")));
            return;
          }
        if (frame->size >= 0)
          set_total (self, frame->size);
        if (!receiver_begin (self, frame->name, strlen (frame->name), &error))
          session_fail (self, g_steal_pointer (&error));
        return;

      case BACKUP_FRAME_END:
        receiver_on_end (self, frame);
        return;

      case BACKUP_FRAME_ERROR:
        {
          g_autofree char *message = backup_display_name (frame->message, -1);

          session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                           _("The sender failed: %s"), message));
        }
        return;

      case BACKUP_FRAME_ACK:
      default:
        session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                                 _("The peer sent an unexpected message")));
        return;
      }
  }
}

/* The sender closed the data channel cleanly (it reset its stream). */
static void
receiver_on_channel_closed (BackupSession *self)
{
  BackupTransferAction action = receiver_step (self, BACKUP_RECEIVER_EVENT_CLEAN_CLOSE);

  if (action == BACKUP_TRANSFER_ACTION_COMMIT)
    {
      receiver_commit (self);
      return;
    }
  session_act (self, action,
               g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                    _("The sender closed the connection before the end of the "
                                      "file; nothing was stored")));
}

/* The connection ended under the data channel before it was closed. */
static void
session_transport_lost (BackupSession *self, const GError *error)
{
  GError *reported;

  if (self->mode == MODE_RECEIVE && self->receiver == BACKUP_RECEIVER_RECEIVING)
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

static void
receiver_start (BackupSession *self)
{
  if (gnutls_hash_init (&self->hash, GNUTLS_DIG_SHA256) < 0)
    session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                             "SHA-256 is not available"));
}

/* ------------------------------------------------------------------------ */
/* Data channel                                                             */

static void
channel_message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  BackupSession *self = user_data;

  if (self->completing)
    return;

  if (self->mode == MODE_RECEIVE)
    {
      receiver_on_message (self, data, is_string);
      return;
    }

  if (!is_string || self->peer_is_legacy)
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
      sender_step (self, BACKUP_SENDER_EVENT_OPEN);
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
  if (self->completing)
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
  session_act (self, sender_step (self, BACKUP_SENDER_EVENT_CLEAN_CLOSE),
               g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                    _("The receiver closed the connection before confirming "
                                      "the backup")));
}

static void
channel_error_cb (RtcDataChannel *channel, GError *error, gpointer user_data)
{
  session_transport_lost (user_data, error);
}

static void
adopt_channel (BackupSession *self, RtcDataChannel *channel)
{
  if (self->channel != NULL)
    {
      g_debug ("ignoring a second data channel '%s'", rtc_data_channel_get_label (channel));
      return;
    }

  self->channel = g_object_ref (channel);
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

/* ------------------------------------------------------------------------ */
/* Peer connection and signaling                                            */

static void
pc_data_channel_cb (RtcPeerConnection *pc, RtcDataChannel *channel, gpointer user_data)
{
  adopt_channel (user_data, channel);
}

static void
pc_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupSession *self = user_data;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  switch (rtc_peer_connection_get_connection_state (pc))
    {
    case RTC_PEER_CONNECTION_STATE_FAILED:
      {
        const GError *error = rtc_peer_connection_get_error (pc);
        g_autoptr (GError) failed = NULL;

        if (error == NULL)
          error = failed = g_error_new_literal (RTC_ERROR, RTC_ERROR_FAILED,
                                                _("The connection failed"));
        session_transport_lost (self, error);
        break;
      }

    case RTC_PEER_CONNECTION_STATE_CLOSED:
      /* Never the end of a file: that is the data channel's close. */
      if (!self->completing)
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                          _("The peer closed the connection"));

          session_transport_lost (self, error);
        }
      break;

    case RTC_PEER_CONNECTION_STATE_NEW:
    case RTC_PEER_CONNECTION_STATE_CONNECTING:
    case RTC_PEER_CONNECTION_STATE_CONNECTED:
    default:
      break;
    }
}

static JsonObject *
our_extensions (void)
{
  JsonObject *ext = json_object_new ();

  json_object_set_int_member (ext, BACKUP_FRAME_EXTENSION, BACKUP_FRAME_PROTOCOL_VERSION);
  return ext;
}

static void
send_description (BackupSession *self)
{
  g_autofree char *sdp = NULL;
  g_autoptr (JsonObject) ext = NULL;
  const char *type;

  if (self->description_sent || !self->description_created || self->pc == NULL)
    return;

  self->description_sent = TRUE;
  g_clear_handle_id (&self->gather_timeout_id, g_source_remove);
  sdp = rtc_peer_connection_get_local_description (self->pc);
  type = self->is_offerer ? "offer" : "answer";
  ext = our_extensions ();
  backup_pairing_send_description (self->pairing, type, sdp, ext);
}

static void
pc_local_candidate_cb (RtcPeerConnection *pc, const char *candidate, gpointer user_data)
{
  BackupSession *self = user_data;

  /* Candidates found after the description went out are trickled. */
  if (self->description_sent && !self->pairing_closed)
    backup_pairing_send_candidate (self->pairing, candidate);
}

static void
pc_gathering_done_cb (RtcPeerConnection *pc, gpointer user_data)
{
  send_description (user_data);
}

static gboolean
gather_timeout_cb (gpointer user_data)
{
  BackupSession *self = user_data;

  self->gather_timeout_id = 0;
  g_debug ("gathering is slow: sending the candidates found so far");
  send_description (self);
  return G_SOURCE_REMOVE;
}

static void
description_created (BackupSession *self)
{
  self->description_created = TRUE;
  if (rtc_peer_connection_is_gathering_done (self->pc))
    {
      send_description (self);
      return;
    }
  g_clear_handle_id (&self->gather_timeout_id, g_source_remove);
  self->gather_timeout_id = g_timeout_add (GATHER_WAIT_MS, gather_timeout_cb, self);
}

/* The offer or the answer is ready (create_offer_async or
 * create_answer_async; the role tells which). */
static void
local_description_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  if (self->is_offerer)
    sdp = rtc_peer_connection_create_offer_finish (pc, result, &error);
  else
    sdp = rtc_peer_connection_create_answer_finish (pc, result, &error);
  if (sdp == NULL)
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->completing || self->pc == NULL)
    return;
  description_created (self);
}

static void
remote_description_cb (BackupPairing *pairing,
                       const char *type,
                       const char *sdp,
                       gpointer user_data)
{
  BackupSession *self = user_data;
  g_autoptr (GError) error = NULL;
  RtcSdpType sdp_type;
  JsonObject *ext;

  if (self->pc == NULL || self->completing)
    return;

  ext = backup_pairing_get_remote_extensions (pairing);
  self->peer_is_legacy = ext == NULL || !json_object_has_member (ext, BACKUP_FRAME_EXTENSION);
  g_debug ("remote %s from a %s peer", type, self->peer_is_legacy ? "legacy" : "current");

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      session_fail (self, g_error_new (RTC_ERROR, RTC_ERROR_INVALID_SDP,
                                       _("The peer sent a session description of unknown type "
                                         "“%s”"), type));
      return;
    }
  if (!rtc_peer_connection_set_remote_description (self->pc, sdp_type, sdp, &error))
    {
      g_prefix_error (&error, _("The peer's session description was refused: "));
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (sdp_type == RTC_SDP_TYPE_OFFER)
    rtc_peer_connection_create_answer_async (self->pc, self->cancellable, local_description_cb,
                                             g_object_ref (self));
}

/* What the peer connection would refuse is no offer or answer at all: a
 * stray or hostile file in the store must not end the pairing. */
static gboolean
check_remote_description (const char *type, const char *sdp, gpointer user_data, GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;
  RtcSdpType sdp_type;

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "a session description of unknown type “%s”", type);
      return FALSE;
    }
  desc = rtc_sdp_parse_as (sdp_type, sdp, error);
  return desc != NULL;
}

static void
remote_candidate_cb (BackupPairing *pairing, const char *candidate, gpointer user_data)
{
  BackupSession *self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->pc == NULL || self->completing)
    return;
  if (!rtc_peer_connection_add_remote_candidate (self->pc, candidate, &error))
    g_debug ("ignoring a remote candidate: %s", error->message);
}

static void
pairing_failed_cb (BackupPairing *pairing, GError *error, gpointer user_data)
{
  BackupSession *self = user_data;

  /* Once connected, signaling no longer matters. */
  if (self->channel != NULL
      && rtc_data_channel_get_ready_state (self->channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    return;
  session_fail (self, g_error_copy (error));
}

static void
pairing_started_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  BackupPairingRole role;

  role = backup_pairing_start_finish (BACKUP_PAIRING (object), result, &error);
  if (role == BACKUP_PAIRING_ROLE_NONE)
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->completing || self->task == NULL)
    return;

  g_debug ("paired as %s", role == BACKUP_PAIRING_ROLE_OFFERER ? "offerer" : "answerer");
  self->is_offerer = role == BACKUP_PAIRING_ROLE_OFFERER;
  set_state (self, BACKUP_SESSION_STATE_CONNECTING);
  if (role == BACKUP_PAIRING_ROLE_OFFERER)
    {
      g_autoptr (RtcDataChannel) channel = NULL;

      channel = rtc_peer_connection_create_data_channel (self->pc, "data", "", &error);
      if (channel == NULL)
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
      adopt_channel (self, channel);
      rtc_peer_connection_create_offer_async (self->pc, self->cancellable, local_description_cb,
                                              g_object_ref (self));
    }
  /* The answerer waits for the offer (remote_description_cb). */
}

static gboolean
on_cancelled_idle (gpointer user_data)
{
  BackupSession *self = user_data;

  self->stop_requested = TRUE;
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
  g_source_attach (source, g_task_get_context (self->task));
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
  g_return_if_fail (self->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_session_run_async);

  /* Reset the state of a previous run. */
  self->is_offerer = FALSE;
  self->description_created = FALSE;
  self->description_sent = FALSE;
  self->pairing_closed = FALSE;
  self->completing = FALSE;
  self->peer_is_legacy = FALSE;
  self->archiver_done = self->input_eof = self->reading = FALSE;
  self->sender = BACKUP_SENDER_WAITING;
  self->stop_requested = FALSE;
  self->extended = FALSE;
  self->receiver = BACKUP_RECEIVER_WAITING;
  self->sent = 0;
  self->bytes_done = 0;
  self->total_bytes = -1;
  g_clear_error (&self->failure);

  self->task = g_steal_pointer (&task);
  self->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_handler),
                                                self, NULL);

  if (self->mode == MODE_SEND)
    {
      g_autofree char *basename = g_file_get_basename (self->source);

      set_file_name (self, self->outer_name != NULL ? self->outer_name : basename);
      if (strlen (self->file_name) > 255)
        {
          session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                                           _("The name “%s” is longer than 255 bytes"),
                                           self->file_name));
          return;
        }
    }

  {
    g_autoptr (RtcConfiguration) config = rtc_configuration_copy (self->rtc_config);

    /* A peer may fetch our description late (the original tool polls every
     * few seconds and backs off): the connection has as long as pairing. */
    if (config->ice_timeout_ms == 0)
      config->ice_timeout_ms
          = (self->timeout > 0 ? self->timeout : BACKUP_PAIRING_DEFAULT_TIMEOUT) * 1000;
    self->pc = rtc_peer_connection_new (config);
  }
  g_signal_connect (self->pc, "notify::connection-state", G_CALLBACK (pc_state_cb), self);
  g_signal_connect (self->pc, "data-channel", G_CALLBACK (pc_data_channel_cb), self);
  g_signal_connect (self->pc, "local-candidate", G_CALLBACK (pc_local_candidate_cb), self);
  g_signal_connect (self->pc, "gathering-done", G_CALLBACK (pc_gathering_done_cb), self);

  self->pairing = backup_pairing_new (self->signaling, self->session_id);
  backup_pairing_set_timeout (self->pairing, self->timeout);
  backup_pairing_set_description_check (self->pairing, check_remote_description, NULL, NULL);
  g_signal_connect (self->pairing, "remote-description", G_CALLBACK (remote_description_cb),
                    self);
  g_signal_connect (self->pairing, "remote-candidate", G_CALLBACK (remote_candidate_cb), self);
  g_signal_connect (self->pairing, "failed", G_CALLBACK (pairing_failed_cb), self);

  set_state (self, BACKUP_SESSION_STATE_PAIRING);
  backup_pairing_start_async (self->pairing, self->cancellable, pairing_started_cb,
                              g_object_ref (self));
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
  g_clear_object (&self->pairing);
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
  g_clear_error (&self->failure);

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

  return self->peer_is_legacy;
}
