/* backup-scheduler.h: runs the schedules of schedules.conf when they are due
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupScheduler loads the schedules (backup-schedule.h) and what their
 * last runs did, works out when each is due next, sleeps on its BackupClock
 * until the earliest, and runs the due ones one at a time, in the order of
 * their due times (then of the file), through a run function: the default
 * one builds a sender BackupProfile from the schedule and runs it with a
 * BackupRunner; tests plug in their own.
 *
 * When a schedule is due: at the first due time after the start of its
 * last run that was not cancelled by stopping the scheduler (for a
 * schedule that never ran: after it was created). A due time that passed
 * while nothing ran (the machine was off or asleep, the clock jumped) is
 * therefore run once, at once, and not once for each period missed.
 *
 * A failed run is tried again after 1 minute, then 2, 4, … up to an hour,
 * but never later than the next regular due time; "schedule-failed" is
 * emitted for the first failure of a streak only, and a success ends the
 * streak. What each run did is written to the state file after it.
 *
 * The default run function: the schedule's paired device
 * (backup_profile_load_device()) or its profile file (the [Profile] group,
 * as `--config` reads it, without its secrets), the source, and for a
 * folder the archive name (the folder's name) and, when the schedule names
 * a password file, the two passwords read from it with the vault key the
 * command line uses (backup-vault.h; no passwords: the archive is not
 * encrypted). What only the front end knows (ICE servers, the API key of
 * a FILE.io server) it adds in a handler of "prepare-profile". Loading the
 * device and the passwords reads small files on the calling thread.
 */
#pragma once

#include <gio/gio.h>

#include "backup-clock.h"
#include "backup-profile.h"
#include "backup-schedule.h"

G_BEGIN_DECLS

/* The back-off after failures: the first retry, and the longest wait. */
#define BACKUP_SCHEDULER_RETRY_FIRST_S 60
#define BACKUP_SCHEDULER_RETRY_MAX_S 3600

#define BACKUP_TYPE_SCHEDULER (backup_scheduler_get_type ())

G_DECLARE_FINAL_TYPE (BackupScheduler, backup_scheduler, BACKUP, SCHEDULER, GObject)

/* Runs @schedule (valid until the callback) and calls @callback with
 * @callback_data on the thread-default context. */
typedef void (*BackupSchedulerRunFunc) (BackupScheduler *scheduler, const BackupSchedule *schedule,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer callback_data, gpointer user_data);
/* The bytes sent, or FALSE with the error (G_IO_ERROR_CANCELLED when
 * cancelled). */
typedef gboolean (*BackupSchedulerRunFinishFunc) (BackupScheduler *scheduler, GAsyncResult *result,
                                                  guint64 *bytes, gpointer user_data,
                                                  GError **error);

/* @clock NULL: the system's; @config_path and @state_path NULL: the
 * defaults. Nothing is read before backup_scheduler_start(). */
BackupScheduler *backup_scheduler_new (BackupClock *clock, const char *config_path,
                                       const char *state_path);

BackupClock *backup_scheduler_get_clock (BackupScheduler *self);
/* The zone of the schedules' times (NULL: the local one). */
void backup_scheduler_set_time_zone (BackupScheduler *self, GTimeZone *tz);

/* Replaces the run function (the default: backup_scheduler_default_run and
 * backup_scheduler_default_run_finish). Not while a run is under way. */
void backup_scheduler_set_run_func (BackupScheduler *self, BackupSchedulerRunFunc run,
                                    BackupSchedulerRunFinishFunc finish, gpointer user_data,
                                    GDestroyNotify destroy);

/* Loads the schedules and the state and starts waking up; a schedule that
 * is due (also a missed run) starts at once. Errors are those of
 * backup_schedule_list(). */
gboolean backup_scheduler_start (BackupScheduler *self, GError **error);
/* Stops waking up and cancels the run under way (which stays due: it is
 * run at the next start). */
void backup_scheduler_stop (BackupScheduler *self);
/* Reads the schedules file again (after a change): new schedules are
 * added, changed ones take their new values, removed ones are forgotten
 * (a run of one is cancelled). On error, the schedules stay as they were. */
gboolean backup_scheduler_reload (BackupScheduler *self, GError **error);

/* Cancels the run under way, if any; it counts as done (cancelled). */
void backup_scheduler_cancel_run (BackupScheduler *self);

/* The schedules, in the order of the file (copies: free with
 * g_ptr_array_unref()). */
GPtrArray *backup_scheduler_dup_schedules (BackupScheduler *self);
/* What the last runs of @id did (copied into @state: clear it with
 * backup_schedule_state_clear()); FALSE for an unknown id. */
gboolean backup_scheduler_get_state (BackupScheduler *self, const char *id,
                                     BackupScheduleState *state);
/* When @id runs next: its due time (in the past while it waits for another
 * run to end), or 0 while it runs, when it is disabled or unknown. */
gint64 backup_scheduler_get_next_run (BackupScheduler *self, const char *id);
/* The id of the schedule running, or NULL. */
const char *backup_scheduler_get_running (BackupScheduler *self);

/* Runs @id as soon as nothing else runs (at once when nothing does), also
 * when it is disabled or not due; a run that ends well serves the due times
 * up to its start, as a run on time does. Already running or waiting to
 * run: nothing changes. Errors: BACKUP_ERROR_NOT_FOUND for an unknown id,
 * BACKUP_ERROR_FAILED when the scheduler is not started. */
gboolean backup_scheduler_run_now (BackupScheduler *self, const char *id, GError **error);

/* The schedules file and the zone given to the scheduler (the zone: never
 * NULL, the local one by default). */
const char *backup_scheduler_get_config_path (BackupScheduler *self);
GTimeZone *backup_scheduler_get_time_zone (BackupScheduler *self);

/* The default run function (see the top). */
void backup_scheduler_default_run (BackupScheduler *self, const BackupSchedule *schedule,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer callback_data, gpointer user_data);
gboolean backup_scheduler_default_run_finish (BackupScheduler *self, GAsyncResult *result,
                                              guint64 *bytes, gpointer user_data, GError **error);
/* The profile the default run function would run for @schedule, before
 * "prepare-profile". Errors: those of backup_profile_load_device(),
 * backup_profile_load() and backup_vault_read(). */
BackupProfile *backup_scheduler_make_profile (const BackupSchedule *schedule, GError **error);

G_END_DECLS
