/* backup-session-receiver.c: the receiver's side of the data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tells the framing from the first message, writes the content through a
 * BackupReception, and commits only at the end of the file (see
 * backup-transfer-machine.h).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-session-private.h"

static gboolean
receiver_begin (BackupSession *self, const char *name, gsize length, GError **error)
{
  g_autofree char *display = backup_display_name (name, (gssize) length);

  self->run->reception = backup_store_begin (self->store, name, length, error);
  if (self->run->reception == NULL)
    return FALSE;
  session_set_file_name (self, display);
  session_receiver_step (self, BACKUP_RECEIVER_EVENT_BEGIN);
  session_set_state (self, BACKUP_SESSION_STATE_TRANSFERRING);
  return TRUE;
}

static gboolean
receiver_write (BackupSession *self, const guint8 *data, gsize length, GError **error)
{
  if (!backup_reception_write (self->run->reception, data, length, error))
    return FALSE;
  gnutls_hash (self->run->hash, data, length);
  session_report_progress (self, self->bytes_done + length);
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
  memcpy (ack->sha256, self->run->digest, sizeof self->run->digest);
  if (!session_send_frame (self, ack, &error))
    {
      /* Stored safely all the same: the sender will report a failure. */
      session_act (self, session_receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE),
                   g_steal_pointer (&error));
      return;
    }
  /* Finish when the sender closes the channel, or after a while; at once
   * when the run was cancelled meanwhile. */
  if (self->run->stop_requested)
    session_act (self, session_receiver_step (self, BACKUP_RECEIVER_EVENT_FAILURE), NULL);
  else
    session_arm_finish_timeout (self);
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
      action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_COMMIT_FAILED);
      if (self->run->completing)
        session_finish_run_now (self);
      else
        session_act (self, action, g_steal_pointer (&error));
      return;
    }
  action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_COMMIT_DONE);
  if (self->run->completing)
    {
      /* Stored while the run was being torn down (disposed). */
      session_finish_run_now (self);
      return;
    }
  if (self->run->task == NULL)
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
  session_set_state (self, BACKUP_SESSION_STATE_FINISHING);
  backup_reception_commit_async (self->run->reception, self->run->cancellable, committed_cb,
                                 g_object_ref (self));
}

static void
receiver_on_end (BackupSession *self, BackupFrame *frame)
{
  g_autofree char *ours = NULL;
  g_autofree char *theirs = NULL;
  BackupTransferAction action;

  if (self->run->receiver != BACKUP_RECEIVER_RECEIVING)
    {
      session_act (self, session_receiver_step (self, BACKUP_RECEIVER_EVENT_END_VERIFIED),
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

  gnutls_hash_output (self->run->hash, self->run->digest);
  if (memcmp (self->run->digest, frame->sha256, sizeof self->run->digest) != 0)
    {
      ours = session_hex_digest (self->run->digest);
      theirs = session_hex_digest (frame->sha256);
      session_fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                       _("%s is corrupt: SHA-256 %s, expected %s"),
                                       self->file_name, ours, theirs));
      return;
    }
  action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_END_VERIFIED);
  if (action == BACKUP_TRANSFER_ACTION_COMMIT)
    receiver_commit (self);
  else
    session_act (self, action,
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The peer sent an unexpected end message")));
}

void
receiver_on_message (BackupSession *self, GBytes *data, gboolean is_string)
{
  g_autoptr (GError) error = NULL;
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  if (self->run->receiver >= BACKUP_RECEIVER_COMMITTING)
    {
      g_debug ("ignoring a message after the end of the file");
      return;
    }
  if (self->run->reception == NULL && self->run->legacy == NULL && !self->run->extended)
    {
      /* The first message tells which protocol the sender speaks. */
      if (!self->run->peer_is_legacy && is_string)
        self->run->extended = TRUE;
      else
        self->run->legacy = backup_legacy_parser_new (&legacy_funcs, self);
    }

  if (self->run->legacy != NULL)
    {
      if (!backup_legacy_parser_feed (self->run->legacy, bytes, length, &error))
        session_fail (self, g_steal_pointer (&error));
      return;
    }

  if (!is_string)
    {
      BackupTransferAction action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_DATA);

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
        if (self->run->receiver != BACKUP_RECEIVER_WAITING)
          {
            session_act (self, session_receiver_step (self, BACKUP_RECEIVER_EVENT_BEGIN),
                         g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                              _("The peer sent a second header")));
            return;
          }
        if (frame->size >= 0)
          session_set_total (self, frame->size);
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
void
receiver_on_channel_closed (BackupSession *self)
{
  BackupTransferAction action = session_receiver_step (self, BACKUP_RECEIVER_EVENT_CLEAN_CLOSE);

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


void
receiver_start (BackupSession *self)
{
  if (gnutls_hash_init (&self->run->hash, GNUTLS_DIG_SHA256) < 0)
    session_fail (self, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                             "SHA-256 is not available"));
}
