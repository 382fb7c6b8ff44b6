/* backup-runner.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-nearby.h"
#include "backup-runner.h"
#include "backup-signaling-open.h"
#include "backup-store.h"
#include "rtc-error.h"

#define RETRY_FIRST_S 1
#define RETRY_MAX_S 60

struct _BackupRunner
{
  GObject parent_instance;

  BackupProfile *profile;
  BackupSession *session;
  BackupAdmission *admission;   /* given to each receiving session, or NULL */
  BackupNearbyHost *nearby_host; /* shared with other runners, or NULL */
};

G_DEFINE_FINAL_TYPE (BackupRunner, backup_runner, G_TYPE_OBJECT)

enum
{
  SESSION_STARTED,
  SESSION_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One run, the task data. */
typedef struct
{
  BackupSignalingStore *signaling;
  BackupNearbyHost *host; /* a receiver's, with a device of the local network */
  BackupSessionState furthest;
  guint retry_s;
  GSource *retry_source;  /* the wait before the next session */
  GSource *cancel_source; /* ends that wait when the run is cancelled */
} Run;

static void next_session (GTask *task);
static void sweep_then_start (GTask *task);

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
run_free (Run *run)
{
  clear_source (&run->retry_source);
  clear_source (&run->cancel_source);
  g_clear_object (&run->signaling);
  g_clear_object (&run->host);
  g_free (run);
}

static void start_session (GTask *task);

static void
session_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Run *run = user_data;
  BackupSessionState state = backup_session_get_state (BACKUP_SESSION (object));

  if (state != BACKUP_SESSION_STATE_FAILED && state > run->furthest)
    run->furthest = state;
}

/* Failures that waiting cannot mend: the user has to change something. */
static gboolean
is_setup_failure (const GError *error)
{
  return g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT)
         || g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND)
         || g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
}

static gboolean
retry_cb (gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);

  g_clear_pointer (&run->retry_source, g_source_unref);
  clear_source (&run->cancel_source);
  next_session (g_object_ref (task));
  return G_SOURCE_REMOVE;
}

static gboolean
retry_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);

  g_clear_pointer (&run->cancel_source, g_source_unref);
  clear_source (&run->retry_source);
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

/* A peer refused for its certificate is named by the paired device it
 * is not. */
static void
explain_mismatch (BackupRunner *self, GError **error)
{
  const char *device = backup_profile_get_device_name (self->profile);
  g_autofree char *shown = NULL;
  GError *explained;

  if (*error == NULL || device == NULL
      || !g_error_matches (*error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH))
    return;
  shown = backup_display_name (device, -1);
  explained = g_error_new (RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH,
                           _("Refused a peer that is not the paired device “%s”: %s"), shown,
                           (*error)->message);
  g_error_free (*error);
  *error = explained;
}

static void
session_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BackupRunner *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr (BackupSession) session = g_object_ref (BACKUP_SESSION (object));
  g_autoptr (GError) error = NULL;
  gboolean moved_data;

  backup_session_run_finish (session, result, &error);
  explain_mismatch (self, &error);
  g_signal_handlers_disconnect_by_func (session, session_state_cb, run);
  g_clear_object (&self->session);
  moved_data = run->furthest >= BACKUP_SESSION_STATE_TRANSFERRING;
  g_signal_emit (self, signals[SESSION_FINISHED], 0, session, error);

  /* One backup: its result, also when it was stored while being cancelled. */
  if (backup_profile_get_role (self->profile) != BACKUP_PROFILE_ROLE_RECEIVE
      || !backup_profile_get_keep_listening (self->profile)
      || (error != NULL && !moved_data && is_setup_failure (error)))
    {
      if (error != NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;
  if (error == NULL || moved_data)
    {
      run->retry_s = 0;
      next_session (g_steal_pointer (&task));
      return;
    }

  /* Nothing moved: wait before trying again, longer each time. */
  run->retry_s = run->retry_s == 0 ? RETRY_FIRST_S : MIN (run->retry_s * 2, RETRY_MAX_S);
  g_debug ("next session in %u s", run->retry_s);
  run->retry_source = g_timeout_source_new_seconds (run->retry_s);
  g_source_set_callback (run->retry_source, retry_cb, g_object_ref (task), g_object_unref);
  g_source_attach (run->retry_source, g_task_get_context (task));
  if (g_task_get_cancellable (task) != NULL)
    {
      run->cancel_source = g_cancellable_source_new (g_task_get_cancellable (task));
      g_source_set_callback (run->cancel_source, G_SOURCE_FUNC (retry_cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (run->cancel_source, g_task_get_context (task));
    }
}

static void
start_session (GTask *task)
{
  BackupRunner *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  run->furthest = BACKUP_SESSION_STATE_IDLE;
  self->session = backup_profile_create_session (self->profile, run->signaling);
  if (backup_profile_get_role (self->profile) == BACKUP_PROFILE_ROLE_RECEIVE)
    backup_session_set_admission (self->session, self->admission);
  g_signal_connect (self->session, "notify::state", G_CALLBACK (session_state_cb), run);
  g_signal_emit (self, signals[SESSION_STARTED], 0, self->session);
  backup_session_run_async (self->session, g_task_get_cancellable (task), session_done_cb, task);
}

static void
remove_stale_parts_worker (GTask *task, gpointer source_object, gpointer task_data,
                           GCancellable *cancellable)
{
  BackupStorage *storage = task_data;
  g_autoptr (GError) error = NULL;
  guint removed = 0;

  if (!backup_storage_remove_stale_parts (storage, BACKUP_RUNNER_STALE_PART_AGE, &removed,
                                          cancellable, &error))
    g_debug ("removing stale partial files: %s", error->message);
  else if (removed > 0)
    g_debug ("removed %u stale partial files", removed);
  g_task_return_boolean (task, TRUE);
}

static void
stale_parts_removed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;

  g_task_propagate_boolean (G_TASK (result), NULL);
  start_session (task);
}

/* One scan of the destination, off this thread, then the next session
 * (@task is taken). */
static void
sweep_then_start (GTask *task)
{
  BackupRunner *self = g_task_get_source_object (task);
  g_autoptr (GTask) scan = g_task_new (self, g_task_get_cancellable (task), stale_parts_removed_cb,
                                       task);

  g_task_set_source_tag (scan, remove_stale_parts_worker);
  g_task_set_task_data (scan, backup_profile_create_storage (self->profile), g_object_unref);
  g_task_run_in_thread (scan, remove_stale_parts_worker);
}

/* The next session of a receiver that keeps listening (@task is taken):
 * what expired meanwhile (parts kept to resume, after a day) goes first,
 * with one scan of the destination. */
static void
next_session (GTask *task)
{
  sweep_then_start (task);
}

/* --- a device of the local network (backup-nearby.h) --- */

static void
nearby_found_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BackupRunner *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr (BackupNearbyDevice) device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;

  device = backup_nearby_find_finish (result, &error);
  if (device == NULL)
    {
      const char *name = backup_profile_get_device_name (self->profile);

      if (name != NULL && g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_TIMEOUT))
        {
          g_autofree char *shown = backup_display_name (name, -1);
          guint timeout = backup_profile_get_timeout (self->profile);

          g_clear_error (&error);
          g_set_error (&error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                       _("The paired device “%s” is not on the local network: it did not "
                         "announce itself within %u s"),
                       shown, timeout);
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  url = backup_nearby_device_get_url (device);
  g_debug ("found %s at %s", device->fingerprint, url);
  run->signaling = backup_signaling_open (url, NULL, NULL, &error);
  if (run->signaling == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  start_session (g_steal_pointer (&task));
}

/* A receiver offers the signaling and announces it; a sender looks for the
 * device it pinned (@task is taken). */
static void
open_nearby (GTask *task)
{
  BackupRunner *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  RtcCertificate *certificate = backup_profile_get_certificate (self->profile);
  const char *peer = backup_profile_get_peer_fingerprint (self->profile);
  g_autoptr (RtcConfiguration) config = backup_profile_get_rtc_configuration (self->profile);
  g_autoptr (GError) error = NULL;
  guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];

  if (certificate == NULL || peer == NULL)
    {
      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                               _("The local network is reached with a paired device only"));
      g_object_unref (task);
      return;
    }
  if (backup_profile_get_role (self->profile) == BACKUP_PROFILE_ROLE_RECEIVE)
    {
      const char *address = config->local_addresses != NULL ? config->local_addresses[0] : NULL;

      if (self->nearby_host != NULL)
        run->host = g_object_ref (self->nearby_host);
      else
        run->host = backup_nearby_host_new (certificate, NULL, address, FALSE);
      if ((self->nearby_host == NULL && !backup_nearby_host_start (run->host, &error))
          || (run->signaling = backup_nearby_host_open_store (run->host, &error)) == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
          return;
        }
      sweep_then_start (task);
      return;
    }
  rtc_certificate_get_fingerprint (certificate, own);
  backup_nearby_find_async (peer, FALSE, own, backup_profile_get_timeout (self->profile),
                            g_task_get_cancellable (task), nearby_found_cb, task);
}

void
backup_runner_run_async (BackupRunner *self,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  Run *run;

  g_return_if_fail (BACKUP_IS_RUNNER (self));
  g_return_if_fail (self->session == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_runner_run_async);
  run = g_new0 (Run, 1);
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  if (!backup_profile_validate (self->profile, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (backup_nearby_is_location (backup_profile_get_signaling (self->profile)))
    {
      open_nearby (g_steal_pointer (&task));
      return;
    }
  if ((run->signaling = backup_profile_open_signaling (self->profile, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (backup_profile_get_role (self->profile) == BACKUP_PROFILE_ROLE_RECEIVE)
    {
      sweep_then_start (g_steal_pointer (&task));
      return;
    }
  start_session (g_steal_pointer (&task));
}

gboolean
backup_runner_run_finish (BackupRunner *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_RUNNER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

BackupProfile *
backup_runner_get_profile (BackupRunner *self)
{
  g_return_val_if_fail (BACKUP_IS_RUNNER (self), NULL);

  return self->profile;
}

BackupSession *
backup_runner_get_session (BackupRunner *self)
{
  g_return_val_if_fail (BACKUP_IS_RUNNER (self), NULL);

  return self->session;
}

void
backup_runner_set_admission (BackupRunner *self, BackupAdmission *admission)
{
  g_return_if_fail (BACKUP_IS_RUNNER (self));
  g_return_if_fail (admission == NULL || BACKUP_IS_ADMISSION (admission));

  g_set_object (&self->admission, admission);
}

void
backup_runner_set_nearby_host (BackupRunner *self, BackupNearbyHost *host)
{
  g_return_if_fail (BACKUP_IS_RUNNER (self));
  g_return_if_fail (host == NULL || BACKUP_IS_NEARBY_HOST (host));

  g_set_object (&self->nearby_host, host);
}

static void
backup_runner_dispose (GObject *object)
{
  BackupRunner *self = BACKUP_RUNNER (object);

  g_clear_object (&self->session);
  g_clear_object (&self->profile);
  g_clear_object (&self->admission);
  g_clear_object (&self->nearby_host);

  G_OBJECT_CLASS (backup_runner_parent_class)->dispose (object);
}

static void
backup_runner_class_init (BackupRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_runner_dispose;

  /**
   * BackupRunner::session-started:
   * @session: the session, about to run
   */
  signals[SESSION_STARTED] =
    g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, BACKUP_TYPE_SESSION);
  /**
   * BackupRunner::session-finished:
   * @session: the session
   * @error: (nullable): why it failed, or %NULL when it succeeded
   */
  signals[SESSION_FINISHED] =
    g_signal_new ("session-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, BACKUP_TYPE_SESSION, G_TYPE_ERROR);
}

static void
backup_runner_init (BackupRunner *self)
{
}

BackupRunner *
backup_runner_new (BackupProfile *profile)
{
  BackupRunner *self;

  g_return_val_if_fail (BACKUP_IS_PROFILE (profile), NULL);

  self = g_object_new (BACKUP_TYPE_RUNNER, NULL);
  self->profile = g_object_ref (profile);
  return self;
}
