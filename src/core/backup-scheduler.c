/* backup-scheduler.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each schedule is an Entry: the schedule, its state and its next due
 * time. tick() queues the entries that are due, starts the first of the
 * queue when nothing runs, and asks the clock for one wake-up at the
 * earliest due time of the others. The end of a run writes the state,
 * works out that entry's next due time and ticks again.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-error.h"
#include "backup-runner.h"
#include "backup-scheduler.h"
#include "backup-vault.h"

#define PROFILE_GROUP "Profile"

typedef struct
{
  BackupSchedule *schedule;
  BackupScheduleState state;
  gint64 first_seen; /* when neither a run nor the creation is known */
  gint64 next;       /* 0: not due (running, disabled) */
  guint index;       /* in the file, to order equal due times */
  gboolean queued;
  gboolean asked; /* queued by backup_scheduler_run_now() */
} Entry;

struct _BackupScheduler
{
  GObject parent_instance;

  BackupClock *clock;
  GTimeZone *tz;
  char *config_path;
  char *state_path;

  BackupSchedulerRunFunc run;
  BackupSchedulerRunFinishFunc finish;
  gpointer run_data;
  GDestroyNotify run_data_destroy;

  GPtrArray *entries; /* of Entry, in the order of the file */
  GQueue queue;       /* of Entry, due and waiting */
  Entry *running;     /* owned by entries, or alone once removed */
  gboolean running_removed;
  GCancellable *run_cancellable;
  gboolean stopping; /* the run is cancelled by stop(): it stays due */
  guint wakeup;
  gboolean started;
};

G_DEFINE_FINAL_TYPE (BackupScheduler, backup_scheduler, G_TYPE_OBJECT)

enum
{
  SCHEDULE_STARTED,
  SCHEDULE_FINISHED,
  SCHEDULE_FAILED,
  SCHEDULE_CHANGED,
  SCHEDULES_CHANGED,
  PREPARE_PROFILE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void tick (BackupScheduler *self);

static void
entry_free (Entry *entry)
{
  backup_schedule_free (entry->schedule);
  backup_schedule_state_clear (&entry->state);
  g_free (entry);
}

static void
entries_free_func (gpointer data)
{
  if (data != NULL)
    entry_free (data);
}

static Entry *
find_entry (BackupScheduler *self, const char *id)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry != NULL && strcmp (entry->schedule->id, id) == 0)
        return entry;
    }
  return NULL;
}

/* The next due time of @entry (see the header), or 0. */
static gint64
compute_next (BackupScheduler *self, Entry *entry)
{
  gint64 since;
  gint64 regular;

  if (!entry->schedule->enabled || entry == self->running)
    return 0;
  since = entry->state.served != 0        ? entry->state.served
          : entry->schedule->created != 0 ? entry->schedule->created
                                          : entry->first_seen;
  regular = backup_schedule_next_after (entry->schedule, self->tz, since);
  if (entry->state.failures > 0 && entry->state.next_retry != 0)
    return MIN (entry->state.next_retry, regular);
  return regular;
}

static void
save_state (BackupScheduler *self)
{
  g_autoptr (GHashTable) states = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry->state.last_start != 0)
        g_hash_table_insert (states, entry->schedule->id, &entry->state);
    }
  if (!backup_schedule_state_save (self->state_path, states, &error))
    g_warning ("Cannot keep what the scheduled backups did: %s", error->message);
}

/* --- running -------------------------------------------------------------- */

static gint
compare_due (gconstpointer a, gconstpointer b)
{
  const Entry *x = *(Entry *const *)a;
  const Entry *y = *(Entry *const *)b;

  if (x->next != y->next)
    return x->next < y->next ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupScheduler) self = user_data;
  Entry *entry = self->running;
  BackupScheduleState *state = &entry->state;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = g_strdup (entry->schedule->id);
  guint64 bytes = 0;
  gboolean removed = self->running_removed;
  gboolean first_failure;
  gint64 now = backup_clock_get_now (self->clock);

  if (!self->finish (self, result, &bytes, self->run_data, &error) && error == NULL)
    g_set_error_literal (&error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _ ("The backup failed"));

  self->running = NULL;
  self->running_removed = FALSE;
  g_clear_object (&self->run_cancellable);

  state->last_end = now;
  state->bytes = bytes;
  g_clear_pointer (&state->error, g_free);
  if (error == NULL)
    {
      state->outcome = BACKUP_SCHEDULE_OUTCOME_OK;
      state->served = state->last_start;
      state->failures = 0;
      state->next_retry = 0;
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped: due again at the next start. Cancelled otherwise: that
       * due time is done. */
      state->outcome = BACKUP_SCHEDULE_OUTCOME_CANCELLED;
      if (!self->stopping)
        state->served = state->last_start;
    }
  else
    {
      gint64 wait_s = BACKUP_SCHEDULER_RETRY_FIRST_S;
      gint64 regular;

      state->outcome = BACKUP_SCHEDULE_OUTCOME_FAILED;
      state->error = g_strdup (error->message);
      state->served = state->last_start;
      state->failures++;
      for (guint i = 1; i < state->failures && wait_s < BACKUP_SCHEDULER_RETRY_MAX_S; i++)
        wait_s *= 2;
      wait_s = MIN (wait_s, BACKUP_SCHEDULER_RETRY_MAX_S);
      regular = backup_schedule_next_after (entry->schedule, self->tz, state->served);
      state->next_retry = MIN (now + wait_s * G_USEC_PER_SEC, regular);
      g_debug ("schedule %s failed (%u in a row), again in %" G_GINT64_FORMAT " s", id,
               state->failures, (state->next_retry - now) / G_USEC_PER_SEC);
    }

  first_failure = state->outcome == BACKUP_SCHEDULE_OUTCOME_FAILED && state->failures == 1;
  self->stopping = FALSE;
  if (removed)
    entry_free (entry);
  else
    entry->next = compute_next (self, entry);
  save_state (self);

  g_signal_emit (self, signals[SCHEDULE_FINISHED], 0, id, error);
  if (!removed && first_failure)
    g_signal_emit (self, signals[SCHEDULE_FAILED], 0, id, error);
  if (!removed)
    g_signal_emit (self, signals[SCHEDULE_CHANGED], 0, id);
  tick (self);
}

static void
start_run (BackupScheduler *self, Entry *entry)
{
  g_autoptr (BackupSchedule) schedule = backup_schedule_copy (entry->schedule);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  entry->queued = FALSE;
  entry->asked = FALSE;
  self->running = entry;
  self->run_cancellable = g_object_ref (cancellable);
  entry->state.last_start = backup_clock_get_now (self->clock);
  entry->next = 0;
  g_debug ("schedule %s starts", schedule->id);

  g_signal_emit (self, signals[SCHEDULE_STARTED], 0, schedule->id);
  g_signal_emit (self, signals[SCHEDULE_CHANGED], 0, schedule->id);
  self->run (self, schedule, cancellable, run_done_cb, g_object_ref (self), self->run_data);
}

static void
wakeup_cb (BackupClock *clock, gint64 now, gpointer user_data)
{
  BackupScheduler *self = user_data;

  self->wakeup = 0;
  tick (self);
}

static void
tick (BackupScheduler *self)
{
  g_autoptr (GPtrArray) due = g_ptr_array_new ();
  gint64 now;
  gint64 earliest = 0;

  if (!self->started)
    return;
  now = backup_clock_get_now (self->clock);

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry->queued || entry == self->running || entry->next == 0)
        continue;
      if (entry->next <= now)
        g_ptr_array_add (due, entry);
      else if (earliest == 0 || entry->next < earliest)
        earliest = entry->next;
    }
  g_ptr_array_sort (due, compare_due);
  for (guint i = 0; i < due->len; i++)
    {
      Entry *entry = g_ptr_array_index (due, i);

      entry->queued = TRUE;
      g_queue_push_tail (&self->queue, entry);
    }

  if (self->wakeup != 0)
    backup_clock_remove_wakeup (self->clock, self->wakeup);
  self->wakeup = 0;
  if (earliest != 0)
    self->wakeup = backup_clock_add_wakeup (self->clock, earliest, wakeup_cb, self, NULL);

  if (self->running == NULL && !g_queue_is_empty (&self->queue))
    start_run (self, g_queue_pop_head (&self->queue));
}

/* --- loading -------------------------------------------------------------- */

static gboolean
load (BackupScheduler *self, GError **error)
{
  g_autoptr (GPtrArray) schedules = NULL;
  g_autoptr (GHashTable) states = NULL;
  g_autoptr (GError) state_error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  gint64 now = backup_clock_get_now (self->clock);

  schedules = backup_schedule_list (self->config_path, error);
  if (schedules == NULL)
    return FALSE;
  states = backup_schedule_state_load (self->state_path, &state_error);
  if (states == NULL)
    g_warning ("Forgetting what the scheduled backups did: %s", state_error->message);

  entries = g_ptr_array_new_with_free_func (entries_free_func);
  for (guint i = 0; i < schedules->len; i++)
    {
      BackupSchedule *schedule = g_ptr_array_index (schedules, i);
      Entry *entry = find_entry (self, schedule->id);
      BackupScheduleState *state;

      if (entry != NULL)
        {
          guint at = 0;

          /* Known: the new values, the state it has. */
          g_ptr_array_find (self->entries, entry, &at);
          g_ptr_array_index (self->entries, at) = NULL;
          backup_schedule_free (entry->schedule);
        }
      else
        {
          entry = g_new0 (Entry, 1);
          entry->first_seen = now;
          if (states != NULL && (state = g_hash_table_lookup (states, schedule->id)) != NULL)
            backup_schedule_state_copy (&entry->state, state);
        }
      entry->schedule = g_steal_pointer (&g_ptr_array_index (schedules, i));
      entry->index = i;
      g_ptr_array_add (entries, entry);
    }

  /* What is left is gone from the file. */
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry == NULL)
        continue;
      if (entry->queued)
        g_queue_remove (&self->queue, entry);
      if (entry == self->running)
        {
          g_debug ("schedule %s removed while it runs", entry->schedule->id);
          self->running_removed = TRUE;
          g_ptr_array_index (self->entries, i) = NULL;
          g_cancellable_cancel (self->run_cancellable);
        }
    }
  g_ptr_array_unref (self->entries);
  self->entries = g_steal_pointer (&entries);

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      entry->next = compute_next (self, entry);
      if (entry->asked)
        entry->next = now; /* asked for: stays in the queue */
      else if (entry->queued && (entry->next == 0 || entry->next > now))
        {
          entry->queued = FALSE;
          g_queue_remove (&self->queue, entry);
        }
    }
  return TRUE;
}

gboolean
backup_scheduler_reload (BackupScheduler *self, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!load (self, error))
    return FALSE;
  g_signal_emit (self, signals[SCHEDULES_CHANGED], 0);
  tick (self);
  return TRUE;
}

gboolean
backup_scheduler_start (BackupScheduler *self, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  if (!load (self, error))
    return FALSE;
  self->started = TRUE;
  g_signal_emit (self, signals[SCHEDULES_CHANGED], 0);
  tick (self);
  return TRUE;
}

void
backup_scheduler_stop (BackupScheduler *self)
{
  g_return_if_fail (BACKUP_IS_SCHEDULER (self));

  self->started = FALSE;
  if (self->wakeup != 0)
    backup_clock_remove_wakeup (self->clock, self->wakeup);
  self->wakeup = 0;
  while (!g_queue_is_empty (&self->queue))
    {
      Entry *entry = g_queue_pop_head (&self->queue);

      entry->queued = FALSE;
      if (entry->asked)
        {
          entry->asked = FALSE;
          entry->next = compute_next (self, entry);
        }
    }
  if (self->run_cancellable != NULL)
    {
      self->stopping = TRUE;
      g_cancellable_cancel (self->run_cancellable);
    }
}

void
backup_scheduler_cancel_run (BackupScheduler *self)
{
  g_return_if_fail (BACKUP_IS_SCHEDULER (self));

  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
}

/* --- what front ends show ------------------------------------------------- */

GPtrArray *
backup_scheduler_dup_schedules (BackupScheduler *self)
{
  GPtrArray *schedules;

  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), NULL);

  schedules = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_schedule_free);
  for (guint i = 0; i < self->entries->len; i++)
    g_ptr_array_add (schedules, backup_schedule_copy (
                                    ((Entry *)g_ptr_array_index (self->entries, i))->schedule));
  return schedules;
}

gboolean
backup_scheduler_get_state (BackupScheduler *self, const char *id, BackupScheduleState *state)
{
  Entry *entry;

  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (id != NULL && state != NULL, FALSE);

  entry = find_entry (self, id);
  if (entry == NULL)
    return FALSE;
  backup_schedule_state_copy (state, &entry->state);
  return TRUE;
}

gint64
backup_scheduler_get_next_run (BackupScheduler *self, const char *id)
{
  Entry *entry;

  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), 0);
  g_return_val_if_fail (id != NULL, 0);

  entry = find_entry (self, id);
  return entry != NULL ? entry->next : 0;
}

const char *
backup_scheduler_get_running (BackupScheduler *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), NULL);

  return self->running != NULL && !self->running_removed ? self->running->schedule->id : NULL;
}

gboolean
backup_scheduler_run_now (BackupScheduler *self, const char *id, GError **error)
{
  Entry *entry;

  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  entry = find_entry (self, id);
  if (entry == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND, _ ("No schedule has the id “%s”"),
                   id);
      return FALSE;
    }
  if (!self->started)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                           _ ("Scheduled backups are not running"));
      return FALSE;
    }
  if (entry == self->running || entry->queued)
    return TRUE;

  g_debug ("schedule %s asked to run now", id);
  entry->asked = TRUE;
  entry->queued = TRUE;
  entry->next = backup_clock_get_now (self->clock);
  g_queue_push_tail (&self->queue, entry);
  g_signal_emit (self, signals[SCHEDULE_CHANGED], 0, id);
  tick (self);
  return TRUE;
}

const char *
backup_scheduler_get_config_path (BackupScheduler *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), NULL);

  return self->config_path;
}

GTimeZone *
backup_scheduler_get_time_zone (BackupScheduler *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), NULL);

  return self->tz;
}

BackupClock *
backup_scheduler_get_clock (BackupScheduler *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), NULL);

  return self->clock;
}

void
backup_scheduler_set_time_zone (BackupScheduler *self, GTimeZone *tz)
{
  g_return_if_fail (BACKUP_IS_SCHEDULER (self));

  g_clear_pointer (&self->tz, g_time_zone_unref);
  self->tz = tz != NULL ? g_time_zone_ref (tz) : g_time_zone_new_local ();
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      entry->next = compute_next (self, entry);
    }
  tick (self);
}

void
backup_scheduler_set_run_func (BackupScheduler *self, BackupSchedulerRunFunc run,
                               BackupSchedulerRunFinishFunc finish, gpointer user_data,
                               GDestroyNotify destroy)
{
  g_return_if_fail (BACKUP_IS_SCHEDULER (self));
  g_return_if_fail (run != NULL && finish != NULL);
  g_return_if_fail (self->running == NULL);

  if (self->run_data_destroy != NULL)
    self->run_data_destroy (self->run_data);
  self->run = run;
  self->finish = finish;
  self->run_data = user_data;
  self->run_data_destroy = destroy;
}

/* --- the default run function --------------------------------------------- */

static gboolean
load_profile_file (const BackupSchedule *schedule, BackupProfile **profile, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) cause = NULL;
  g_autofree char *shown = g_filename_display_name (schedule->profile);

  if (!g_key_file_load_from_file (key_file, schedule->profile, G_KEY_FILE_NONE, &cause))
    {
      g_set_error (error, BACKUP_ERROR,
                   g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? BACKUP_ERROR_NOT_FOUND
                       : BACKUP_ERROR_INVALID_ARGUMENT,
                   _ ("Cannot read “%s”: %s"), shown, cause->message);
      return FALSE;
    }
  *profile = backup_profile_load (key_file, PROFILE_GROUP, error);
  if (*profile == NULL)
    return FALSE;
  if (backup_profile_get_role (*profile) != BACKUP_PROFILE_ROLE_SEND)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _ ("The profile “%s” of a schedule must send (role=send)"), shown);
      g_clear_object (profile);
      return FALSE;
    }
  if (backup_profile_get_device_name (*profile) != NULL
      && !backup_profile_load_device (*profile, backup_profile_get_device_name (*profile), NULL,
                                      error))
    {
      g_clear_object (profile);
      return FALSE;
    }
  return TRUE;
}

BackupProfile *
backup_scheduler_make_profile (const BackupSchedule *schedule, GError **error)
{
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (GFile) source = NULL;

  g_return_val_if_fail (schedule != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!backup_schedule_validate (schedule, error))
    return NULL;
  if (schedule->profile != NULL)
    {
      if (!load_profile_file (schedule, &profile, error))
        return NULL;
    }
  else
    {
      profile = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
      if (!backup_profile_load_device (profile, schedule->device, NULL, error))
        return NULL;
    }

  source = g_file_new_for_path (schedule->source);
  backup_profile_set_source (profile, source);
  if (g_file_test (schedule->source, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *name = g_path_get_basename (schedule->source);

      if (backup_profile_get_archive_name (profile) == NULL)
        backup_profile_set_archive_name (profile, name);
      if (schedule->password_file != NULL)
        {
          char *password1 = NULL;
          char *password2 = NULL;

          if (!backup_vault_read (schedule->password_file, NULL, &password1, &password2, error))
            return NULL;
          backup_profile_set_passwords (profile, password1, password2);
          backup_vault_password_free (password1);
          backup_vault_password_free (password2);
        }
    }
  return g_steal_pointer (&profile);
}

/* The task data of a default run. */
typedef struct
{
  BackupRunner *runner;
  guint64 bytes;
} DefaultRun;

static void
default_run_free (DefaultRun *run)
{
  if (run->runner != NULL)
    g_signal_handlers_disconnect_by_data (run->runner, run);
  g_clear_object (&run->runner);
  g_free (run);
}

static void
session_finished_cb (BackupRunner *runner, BackupSession *session, const GError *error,
                     gpointer user_data)
{
  DefaultRun *run = user_data;

  run->bytes = backup_session_get_bytes_done (session);
}

static void
runner_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_runner_run_finish (BACKUP_RUNNER (object), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
backup_scheduler_default_run (BackupScheduler *self, const BackupSchedule *schedule,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer callback_data, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (GError) error = NULL;
  DefaultRun *run;

  g_return_if_fail (BACKUP_IS_SCHEDULER (self));
  g_return_if_fail (schedule != NULL);

  task = g_task_new (self, cancellable, callback, callback_data);
  g_task_set_source_tag (task, backup_scheduler_default_run);
  run = g_new0 (DefaultRun, 1);
  g_task_set_task_data (task, run, (GDestroyNotify)default_run_free);

  profile = backup_scheduler_make_profile (schedule, &error);
  if (profile != NULL)
    g_signal_emit (self, signals[PREPARE_PROFILE], 0, schedule->id, profile);
  if (profile == NULL || !backup_profile_check_files (profile, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  run->runner = backup_runner_new (profile);
  g_signal_connect (run->runner, "session-finished", G_CALLBACK (session_finished_cb), run);
  backup_runner_run_async (run->runner, cancellable, runner_done_cb, g_steal_pointer (&task));
}

gboolean
backup_scheduler_default_run_finish (BackupScheduler *self, GAsyncResult *result, guint64 *bytes,
                                     gpointer user_data, GError **error)
{
  DefaultRun *run;

  g_return_val_if_fail (BACKUP_IS_SCHEDULER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_scheduler_default_run,
                        FALSE);

  run = g_task_get_task_data (G_TASK (result));
  if (bytes != NULL)
    *bytes = run->bytes;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- the object ----------------------------------------------------------- */

static void
backup_scheduler_dispose (GObject *object)
{
  BackupScheduler *self = BACKUP_SCHEDULER (object);

  /* A run holds a reference: none is under way here. */
  if (self->wakeup != 0 && self->clock != NULL)
    backup_clock_remove_wakeup (self->clock, self->wakeup);
  self->wakeup = 0;
  g_queue_clear (&self->queue);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_object (&self->clock);
  if (self->run_data_destroy != NULL)
    self->run_data_destroy (self->run_data);
  self->run_data_destroy = NULL;
  self->run_data = NULL;

  G_OBJECT_CLASS (backup_scheduler_parent_class)->dispose (object);
}

static void
backup_scheduler_finalize (GObject *object)
{
  BackupScheduler *self = BACKUP_SCHEDULER (object);

  g_clear_pointer (&self->tz, g_time_zone_unref);
  g_free (self->config_path);
  g_free (self->state_path);

  G_OBJECT_CLASS (backup_scheduler_parent_class)->finalize (object);
}

static void
backup_scheduler_class_init (BackupSchedulerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_scheduler_dispose;
  object_class->finalize = backup_scheduler_finalize;

  /**
   * BackupScheduler::schedule-started:
   * @id: the schedule's id
   */
  signals[SCHEDULE_STARTED]
      = g_signal_new ("schedule-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * BackupScheduler::schedule-finished:
   * @id: the schedule's id
   * @error: (nullable): why the run failed or was cancelled, %NULL when it
   *   succeeded
   *
   * After every run, also of a schedule removed meanwhile; the state is
   * written by then.
   */
  signals[SCHEDULE_FINISHED]
      = g_signal_new ("schedule-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
  /**
   * BackupScheduler::schedule-failed:
   * @id: the schedule's id
   * @error: why
   *
   * The first failure of a streak (what to notify the user of), after
   * "schedule-finished".
   */
  signals[SCHEDULE_FAILED]
      = g_signal_new ("schedule-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);
  /**
   * BackupScheduler::schedule-changed:
   * @id: the schedule's id
   *
   * Its state or next run changed (a run started or ended).
   */
  signals[SCHEDULE_CHANGED]
      = g_signal_new ("schedule-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * BackupScheduler::schedules-changed:
   *
   * The schedules were loaded again.
   */
  signals[SCHEDULES_CHANGED]
      = g_signal_new ("schedules-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 0);
  /**
   * BackupScheduler::prepare-profile:
   * @id: the schedule's id
   * @profile: the profile the default run function is about to run
   *
   * Where a front end adds what only it knows (ICE servers and addresses,
   * the API key, a timeout).
   */
  signals[PREPARE_PROFILE]
      = g_signal_new ("prepare-profile", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, BACKUP_TYPE_PROFILE);
}

static void
backup_scheduler_init (BackupScheduler *self)
{
  self->entries = g_ptr_array_new_with_free_func (entries_free_func);
  self->tz = g_time_zone_new_local ();
  self->run = backup_scheduler_default_run;
  self->finish = backup_scheduler_default_run_finish;
  g_queue_init (&self->queue);
}

BackupScheduler *
backup_scheduler_new (BackupClock *clock, const char *config_path, const char *state_path)
{
  BackupScheduler *self;

  g_return_val_if_fail (clock == NULL || BACKUP_IS_CLOCK (clock), NULL);

  self = g_object_new (BACKUP_TYPE_SCHEDULER, NULL);
  self->clock = clock != NULL ? g_object_ref (clock) : backup_clock_new_system ();
  self->config_path
      = config_path != NULL ? g_strdup (config_path) : backup_schedule_get_default_path ();
  self->state_path
      = state_path != NULL ? g_strdup (state_path) : backup_schedule_get_default_state_path ();
  return self;
}
