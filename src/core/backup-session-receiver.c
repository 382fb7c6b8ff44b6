/* backup-session-receiver.c: the receiver's side of the data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tells the framing from the first message, writes the content through a
 * BackupStorageWriter, and commits only at the end of the file (see
 * backup-transfer-machine.h).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-device.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-session-private.h"

static gboolean
receiver_begin (SessionRun *run, const char *name, gsize length, const char *id, GError **error)
{
  g_autofree char *display = backup_display_name (name, (gssize) length);

  if (id != NULL)
    run->reception = backup_storage_begin_resumable (run->session->store, name, length, id, error);
  else
    run->reception = backup_storage_begin (run->session->store, name, length, error);
  if (run->reception == NULL)
    return FALSE;
  session_set_file_name (run, display);
  session_receiver_step (run, BACKUP_RECEIVER_EVENT_BEGIN);
  session_set_state (run, BACKUP_SESSION_STATE_TRANSFERRING);
  return TRUE;
}

/* @size: the backup's size, which does not fit; QUOTA_GREW_PAST: a backup
 * of unknown size that grew past the quota; QUOTA_FULL: one of unknown size
 * when the versions kept already fill it. */
#define QUOTA_GREW_PAST (-1)
#define QUOTA_FULL (-2)

static GError *quota_error (SessionRun *run, gint64 size);

static gboolean
receiver_write (SessionRun *run, const guint8 *data, gsize length, GError **error)
{
  if (run->has_quota && (run->received > run->quota_left || length > run->quota_left - run->received))
    {
      g_propagate_error (error, quota_error (run, QUOTA_GREW_PAST));
      return FALSE;
    }
  if (!backup_storage_writer_write (run->reception, data, length, error))
    return FALSE;
  gnutls_hash (run->hash, data, length);
  run->received += length;
  session_report_progress (run, run->received);
  return TRUE;
}

static gboolean receiver_admit_now (SessionRun *run, gint64 size, GError **error);

static gboolean
legacy_name_cb (const char *name, gsize length, gpointer user_data, GError **error)
{
  return receiver_admit_now (user_data, -1, error)
         && receiver_begin (user_data, name, length, NULL, error);
}

static gboolean
legacy_content_cb (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  return receiver_write (user_data, data, length, error);
}

static const BackupLegacyParserFuncs legacy_funcs = { legacy_name_cb, legacy_content_cb };

static void
receiver_acknowledge (SessionRun *run)
{
  g_autoptr (BackupFrame) ack = backup_frame_new (BACKUP_FRAME_ACK);
  g_autoptr (GError) error = NULL;

  ack->bytes = run->received;
  memcpy (ack->sha256, run->digest, sizeof run->digest);
  if (!session_send_frame (run, ack, &error))
    {
      /* Stored safely all the same: the sender will report a failure. */
      session_act (run, session_receiver_step (run, BACKUP_RECEIVER_EVENT_FAILURE),
                   g_steal_pointer (&error));
      return;
    }
  /* Finish when the sender closes the channel, or after a while; at once
   * when the run was cancelled meanwhile. */
  if (run->stop_requested)
    session_act (run, session_receiver_step (run, BACKUP_RECEIVER_EVENT_FAILURE), NULL);
  else
    session_arm_finish_timeout (run);
}

static void
committed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  BackupTransferAction action;

  if (!backup_storage_writer_commit_finish (BACKUP_STORAGE_WRITER (object), result, &error))
    {
      /* Not stored: every earlier version is as it was. */
      action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_COMMIT_FAILED);
      if (run->completing)
        session_finish_run_now (run);
      else
        session_act (run, action, g_steal_pointer (&error));
      return;
    }
  action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_COMMIT_DONE);
  if (run->completing)
    {
      /* Stored while the run was being torn down (disposed). */
      session_finish_run_now (run);
      return;
    }
  if (run->returned)
    return;

  g_debug ("stored %s", run->session->file_name);
  if (action == BACKUP_TRANSFER_ACTION_ACKNOWLEDGE)
    receiver_acknowledge (run);
  else
    session_act (run, action, NULL);
}

/* @expected_sha256: the sender's hash of the content, already checked
 * against what arrived, or NULL when the protocol carries none. */
static void
receiver_commit (SessionRun *run, const guint8 *expected_sha256)
{
  session_set_state (run, BACKUP_SESSION_STATE_FINISHING);
  backup_storage_writer_commit_async (run->reception, expected_sha256, run->cancellable,
                                      committed_cb, g_object_ref (run->task));
}

static void
receiver_on_end (SessionRun *run, BackupFrame *frame)
{
  g_autofree char *ours = NULL;
  g_autofree char *theirs = NULL;
  BackupTransferAction action;

  if (run->receiver != BACKUP_RECEIVER_RECEIVING)
    {
      session_act (run, session_receiver_step (run, BACKUP_RECEIVER_EVENT_END_VERIFIED),
                   g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                        _("The peer sent an unexpected end message")));
      return;
    }

  if (frame->bytes != run->received)
    {
      session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                       _("Received %llu bytes of %s, but the sender sent %llu"),
                                       (unsigned long long) run->received, run->session->file_name,
                                       (unsigned long long) frame->bytes));
      return;
    }

  gnutls_hash_output (run->hash, run->digest);
  if (memcmp (run->digest, frame->sha256, sizeof run->digest) != 0)
    {
      ours = session_hex_digest (run->digest);
      theirs = session_hex_digest (frame->sha256);
      session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                                       _("%s is corrupt: SHA-256 %s, expected %s"),
                                       run->session->file_name, ours, theirs));
      return;
    }
  action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_END_VERIFIED);
  if (action == BACKUP_TRANSFER_ACTION_COMMIT)
    receiver_commit (run, frame->sha256);
  else
    session_act (run, action,
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The peer sent an unexpected end message")));
}

/* --- resuming (protocol version 2) ---------------------------------------- */

static void
receiver_send_offset (SessionRun *run, const guint8 *prefix_sha256)
{
  g_autoptr (BackupFrame) offset = backup_frame_new (BACKUP_FRAME_OFFSET);
  g_autoptr (GError) error = NULL;

  offset->bytes = run->offered;
  memcpy (offset->sha256, prefix_sha256, sizeof offset->sha256);
  offset->from = backup_device_default_name ();
  if (!session_send_frame (run, offset, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  run->offset_sent = TRUE;
  g_debug ("offered to resume at %" G_GUINT64_FORMAT " bytes", run->offered);
}

static void
hash_kept_block (const guint8 *data, gsize length, gpointer user_data)
{
  gnutls_hash ((gnutls_hash_hd_t) user_data, data, length);
}

typedef struct
{
  GTask *task; /* the run's */
  gnutls_hash_hd_t hash;
} KeptHash;

static void
kept_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  KeptHash *kh = user_data;
  g_autoptr (GTask) task = kh->task;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  gnutls_hash_hd_t hash = kh->hash;
  gnutls_hash_hd_t copy;
  guint8 prefix[BACKUP_FRAME_SHA256_LEN];

  g_free (kh);
  if (!backup_storage_writer_read_kept_finish (BACKUP_STORAGE_WRITER (object), result, &error)
      || run->completing || run->returned || BACKUP_STORAGE_WRITER (object) != run->reception)
    {
      gnutls_hash_deinit (hash, NULL);
      if (error != NULL && !run->completing && !run->returned)
        session_fail (run, g_steal_pointer (&error));
      return;
    }

  /* The kept bytes are the start of the content's hash. */
  copy = gnutls_hash_copy (hash);
  if (copy == NULL)
    {
      gnutls_hash_deinit (hash, NULL);
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 state cannot be copied"));
      return;
    }
  gnutls_hash_deinit (copy, prefix);
  gnutls_hash_deinit (run->hash, NULL);
  run->hash = hash;
  receiver_send_offset (run, prefix);
}

/* A header with an id: offer what an interrupted transfer of it kept. */
static void
receiver_offer (SessionRun *run)
{
  guint8 empty[BACKUP_FRAME_SHA256_LEN];
  KeptHash *kh;

  run->awaiting_resume = TRUE;
  run->offered = backup_storage_writer_get_resume_offset (run->reception);
  if (run->offered == 0)
    {
      gnutls_hash_fast (GNUTLS_DIG_SHA256, NULL, 0, empty);
      receiver_send_offset (run, empty);
      return;
    }

  kh = g_new0 (KeptHash, 1);
  if (gnutls_hash_init (&kh->hash, GNUTLS_DIG_SHA256) < 0)
    {
      g_free (kh);
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                               "SHA-256 is not available"));
      return;
    }
  kh->task = g_object_ref (run->task);
  backup_storage_writer_read_kept_async (run->reception, hash_kept_block, kh->hash,
                                         run->cancellable, kept_read_cb, kh);
}

static void
receiver_on_resume (SessionRun *run, BackupFrame *frame)
{
  g_autoptr (GError) error = NULL;

  if (!run->awaiting_resume || !run->offset_sent
      || (frame->bytes != run->offered && frame->bytes != 0))
    {
      session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                               _("The peer sent an unexpected resume message")));
      return;
    }
  run->awaiting_resume = FALSE;

  if (frame->bytes == 0 && run->offered > 0)
    {
      /* The sender's content does not start with what was kept. */
      g_debug ("the kept %" G_GUINT64_FORMAT " bytes do not match: starting over", run->offered);
      if (!backup_storage_writer_restart (run->reception, &error))
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
    }
  run->received = frame->bytes;
  session_set_resumed (run, frame->bytes);
  session_report_progress (run, run->received);
}

/* --- a receiver of several senders: slots and quota ------------------------- */

static GError *
quota_error (SessionRun *run, gint64 size)
{
  g_autofree char *quota = g_format_size (run->session->quota);
  g_autofree char *used = g_format_size (run->quota_used);

  if (size >= 0)
    {
      g_autofree char *needed = g_format_size ((guint64) size);

      /* TRANSLATORS: the %s are sizes, e.g. "1.2 GB" */
      return g_error_new (BACKUP_ERROR, BACKUP_ERROR_NO_SPACE,
                          _("Not stored: this backup (%s) does not fit in the receiver's quota "
                            "of %s, of which the versions kept take %s"),
                          needed, quota, used);
    }
  if (size == QUOTA_FULL)
    /* TRANSLATORS: the %s are sizes, e.g. "1.2 GB" */
    return g_error_new (BACKUP_ERROR, BACKUP_ERROR_NO_SPACE,
                        _("Not stored: the versions kept already fill the receiver's quota of %s "
                          "(they take %s)"),
                        quota, used);
  return g_error_new (BACKUP_ERROR, BACKUP_ERROR_NO_SPACE,
                      _("Not stored: this backup grew past the receiver's quota of %s, of "
                        "which the versions kept take %s"),
                      quota, used);
}

/* @used: what the storage's versions take. */
static gboolean
receiver_check_quota (SessionRun *run, guint64 used, gint64 size, GError **error)
{
  guint64 quota = run->session->quota;

  run->has_quota = TRUE;
  run->quota_used = used;
  run->quota_left = used < quota ? quota - used : 0;
  if ((size >= 0 && (guint64) size > run->quota_left) || run->quota_left == 0)
    {
      /* A backup of unknown size (a zipped folder) when nothing is left. */
      g_propagate_error (error, quota_error (run, size >= 0 ? size : QUOTA_FULL));
      return FALSE;
    }
  return TRUE;
}

static GError *
busy_error (SessionRun *run)
{
  guint slots = backup_admission_get_max_slots (run->session->admission);

  return g_error_new (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                      g_dngettext (GETTEXT_PACKAGE,
                                   "The receiver is busy with %u other backup: try again later",
                                   "The receiver is busy with %u other backups: try again later",
                                   slots),
                      slots);
}

/* A sender that does not wait for an offer (the original framing, or
 * protocol version 1): a slot now or never, the storage measured here. */
static gboolean
receiver_admit_now (SessionRun *run, gint64 size, GError **error)
{
  BackupAdmission *admission = run->session->admission;
  guint64 used = 0;

  if (admission != NULL && !run->admitted)
    {
      if (!backup_admission_try_acquire (admission))
        {
          g_propagate_error (error, busy_error (run));
          return FALSE;
        }
      run->admitted = TRUE;
    }
  if (run->session->quota == 0)
    return TRUE;
  return backup_storage_measure (run->session->store, &used, run->cancellable, error)
         && receiver_check_quota (run, used, size, error);
}

/* The header's reception begins. */
static void
receiver_accept_header (SessionRun *run, BackupFrame *frame)
{
  g_autoptr (GError) error = NULL;

  if (!receiver_begin (run, frame->name, strlen (frame->name), frame->id, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (frame->from != NULL)
    {
      backup_storage_writer_set_origin (run->reception, frame->from);
      session_set_peer_name (run, frame->from);
    }
  if (frame->id != NULL)
    receiver_offer (run);
}

static void
measure_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  guint64 *used = g_new0 (guint64, 1);

  if (!backup_storage_measure (task_data, used, cancellable, &error))
    {
      g_free (used);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, used, g_free);
}

static void
measured_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  g_autofree guint64 *used = g_task_propagate_pointer (G_TASK (result), &error);
  g_autoptr (BackupFrame) frame = NULL;

  if (run->completing || run->returned)
    return;
  frame = g_steal_pointer (&run->pending_header);
  if (used == NULL || !receiver_check_quota (run, *used, frame->size, &error))
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  receiver_accept_header (run, frame);
}

/* Slot taken: the quota next, off this thread. */
static void
receiver_measure (SessionRun *run)
{
  g_autoptr (GTask) measure = NULL;

  if (run->session->quota == 0)
    {
      g_autoptr (BackupFrame) frame = g_steal_pointer (&run->pending_header);

      receiver_accept_header (run, frame);
      return;
    }
  measure = g_task_new (NULL, run->cancellable, measured_cb, g_object_ref (run->task));
  g_task_set_source_tag (measure, measure_worker);
  g_task_set_task_data (measure, g_object_ref (run->session->store), g_object_unref);
  g_task_run_in_thread (measure, measure_worker);
}

static void
admitted_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  BackupAdmission *admission = BACKUP_ADMISSION (object);

  if (!backup_admission_acquire_finish (admission, result, NULL))
    return; /* the run ended meanwhile */
  if (run->completing || run->returned)
    {
      backup_admission_release (admission);
      return;
    }
  run->admitted = TRUE;
  g_debug ("session %s: admitted (%u of %u slots taken)", run->session->session_id,
           backup_admission_get_active (admission), backup_admission_get_max_slots (admission));
  receiver_measure (run);
}

/* A sender of protocol version 2 waits for the offer: so may we. */
static void
receiver_admit (SessionRun *run)
{
  BackupAdmission *admission = run->session->admission;

  if (admission == NULL || backup_admission_try_acquire (admission))
    {
      run->admitted = admission != NULL;
      receiver_measure (run);
      return;
    }
  g_debug ("session %s: every slot (%u) is taken, %u waiting before this one",
           run->session->session_id, backup_admission_get_max_slots (admission),
           backup_admission_get_waiting (admission));
  backup_admission_acquire_async (admission, run->cancellable, admitted_cb,
                                  g_object_ref (run->task));
}

void
receiver_on_message (SessionRun *run, GBytes *data, gboolean is_string)
{
  g_autoptr (GError) error = NULL;
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);

  if (run->receiver >= BACKUP_RECEIVER_COMMITTING)
    {
      g_debug ("ignoring a message after the end of the file");
      return;
    }
  if (run->reception == NULL && run->legacy == NULL && !run->extended)
    {
      /* The first message tells which protocol the sender speaks. */
      if (!run->peer_is_legacy && is_string)
        run->extended = TRUE;
      else
        run->legacy = backup_legacy_parser_new (&legacy_funcs, run);
    }

  if (run->legacy != NULL)
    {
      if (!backup_legacy_parser_feed (run->legacy, bytes, length, &error))
        session_fail (run, g_steal_pointer (&error));
      return;
    }

  if (!is_string)
    {
      BackupTransferAction action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_DATA);

      if (action != BACKUP_TRANSFER_ACTION_NONE || run->awaiting_resume
          || run->pending_header != NULL)
        {
          session_act (run, action == BACKUP_TRANSFER_ACTION_NONE ? BACKUP_TRANSFER_ACTION_FAIL
                                                                 : action,
                       g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                            _("The peer sent data out of place")));
          return;
        }
      if (!receiver_write (run, bytes, length, &error))
        session_fail (run, g_steal_pointer (&error));
      return;
    }

  {
    g_autoptr (BackupFrame) frame = backup_frame_decode (bytes, length, &error);

    if (frame == NULL)
      {
        session_fail (run, g_steal_pointer (&error));
        return;
      }
    switch (frame->type)
      {
      case BACKUP_FRAME_HEADER:
        if (run->receiver != BACKUP_RECEIVER_WAITING || run->pending_header != NULL)
          {
            session_act (run, session_receiver_step (run, BACKUP_RECEIVER_EVENT_BEGIN),
                         g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                              _("The peer sent a second header")));
            return;
          }
        if (frame->size >= 0)
          session_set_total (run, frame->size);
        if (frame->id != NULL && (run->session->admission != NULL || run->session->quota > 0))
          {
            /* The sender waits for the offer: take a slot and measure
             * the storage first. */
            run->pending_header = g_steal_pointer (&frame);
            receiver_admit (run);
            return;
          }
        if (!receiver_admit_now (run, frame->size, &error))
          {
            session_fail (run, g_steal_pointer (&error));
            return;
          }
        receiver_accept_header (run, frame);
        return;

      case BACKUP_FRAME_END:
        if (run->awaiting_resume || run->pending_header != NULL)
          {
            session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                                     _("The peer sent an unexpected end message")));
            return;
          }
        receiver_on_end (run, frame);
        return;

      case BACKUP_FRAME_RESUME:
        receiver_on_resume (run, frame);
        return;

      case BACKUP_FRAME_ERROR:
        {
          g_autofree char *message = backup_display_name (frame->message, -1);

          /* Not a broken protocol: what arrived so far may resume. */
          session_fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                           _("The sender failed: %s"), message));
        }
        return;

      case BACKUP_FRAME_ACK:
      case BACKUP_FRAME_OFFSET:
      default:
        session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                                 _("The peer sent an unexpected message")));
        return;
      }
  }
}

/* The sender closed the data channel cleanly (it reset its stream). */
void
receiver_on_channel_closed (SessionRun *run)
{
  BackupTransferAction action = session_receiver_step (run, BACKUP_RECEIVER_EVENT_CLEAN_CLOSE);

  if (action == BACKUP_TRANSFER_ACTION_COMMIT)
    {
      receiver_commit (run, NULL);
      return;
    }
  session_act (run, action,
               g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                    _("The sender closed the connection before the end of the "
                                      "file; nothing was stored")));
}


void
receiver_start (SessionRun *run)
{
  if (gnutls_hash_init (&run->hash, GNUTLS_DIG_SHA256) < 0)
    session_fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                             "SHA-256 is not available"));
}
