/* backup-schedule.h: what to back up where and when, and how it last went
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A schedule backs up one source (a file, or a folder sent as an archive
 * named after it) to one paired device (backup-device.h) or as one
 * profile file says (a [Profile] group as `--config` reads it), at a time
 * of the local time zone:
 *
 *   hourly:MM          every hour at minute MM
 *   daily:HH:MM        every day at HH:MM
 *   weekly:DAY:HH:MM   every week on DAY (mon, tue, wed, thu, fri, sat, sun)
 *
 * A time of day skipped by a clock change (02:30 when the clocks go from
 * 02:00 to 03:00) is due at the first time after it that exists (03:00), a
 * time that happens twice (when the clocks go back) at its first
 * occurrence: each day has exactly one due time for a daily schedule. An
 * hourly schedule is due at each instant whose local minute is MM.
 *
 * Files (each written to a temporary file, synced and renamed into place,
 * mode 0600, the folder 0700):
 *
 *   $XDG_CONFIG_HOME/distributed-backup/schedules.conf
 *       one group [Schedule ID] per schedule: name, source, device or
 *       profile, password-file, when, enabled, created; changed under a
 *       lock (.schedules.lock beside it)
 *   $XDG_STATE_HOME/distributed-backup/schedules-state.conf
 *       one group [State ID] per schedule that ran: what its last run did
 *       (written by the scheduler only)
 *
 * Every time is in µs since the epoch (UTC); 0 is "never".
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_SCHEDULE_MAX_ID 64

typedef enum
{
  BACKUP_SCHEDULE_HOURLY,
  BACKUP_SCHEDULE_DAILY,
  BACKUP_SCHEDULE_WEEKLY,
} BackupScheduleKind;

typedef struct
{
  BackupScheduleKind kind;
  guint hour;           /* 0 to 23; daily and weekly */
  guint minute;         /* 0 to 59 */
  GDateWeekday weekday; /* weekly */
} BackupScheduleWhen;

/* Parses "hourly:MM", "daily:HH:MM" or "weekly:DAY:HH:MM" (see above; the
 * hour may have one digit). Errors are BACKUP_ERROR_INVALID_ARGUMENT and
 * say what is wrong. */
gboolean backup_schedule_when_parse (const char *spec, BackupScheduleWhen *when, GError **error);
/* The canonical spec: "hourly:05", "daily:21:30", "weekly:mon:09:00". */
char *backup_schedule_when_format (const BackupScheduleWhen *when);

/* The first due time strictly after @after in @tz (NULL: local). */
gint64 backup_schedule_when_next_after (const BackupScheduleWhen *when, GTimeZone *tz,
                                        gint64 after);
/* The last due time at or before @at in @tz (NULL: local). */
gint64 backup_schedule_when_last_at (const BackupScheduleWhen *when, GTimeZone *tz, gint64 at);

typedef struct
{
  char *id;            /* the group's name: letters, digits, "-", "_" */
  char *name;          /* shown to the user; the source's name when NULL */
  char *source;        /* an absolute path: a file or a folder */
  char *device;        /* a paired device's name, or NULL */
  char *profile;       /* a profile file (absolute path), or NULL */
  char *password_file; /* a folder's two passwords (backup-vault.h), or NULL */
  BackupScheduleWhen when;
  gboolean enabled;
  gint64 created; /* due times before it are not missed runs */
} BackupSchedule;

#define BACKUP_TYPE_SCHEDULE (backup_schedule_get_type ())
GType backup_schedule_get_type (void) G_GNUC_CONST;

/* An enabled schedule with these values (copied), created now. */
BackupSchedule *backup_schedule_new (const char *name, const char *source, const char *device,
                                     const BackupScheduleWhen *when);
BackupSchedule *backup_schedule_copy (const BackupSchedule *schedule);
void backup_schedule_free (BackupSchedule *schedule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupSchedule, backup_schedule_free)

/* backup_schedule_when_next_after() of @schedule's time. */
gint64 backup_schedule_next_after (const BackupSchedule *schedule, GTimeZone *tz, gint64 after);

/* Checks an id, and a schedule as one to store: a valid id (when set), an
 * absolute source, exactly one of device (a valid device name) and
 * profile (an absolute path), an absolute password file when set. Errors
 * are BACKUP_ERROR_INVALID_ARGUMENT. */
gboolean backup_schedule_check_id (const char *id, GError **error);
gboolean backup_schedule_validate (const BackupSchedule *schedule, GError **error);

/* --- the schedules file --- */

/* $XDG_CONFIG_HOME/distributed-backup/schedules.conf */
char *backup_schedule_get_default_path (void);

/* The schedules of @path (NULL: the default), in the order of the file; an
 * absent file is no schedule. A file that is not a key file, or a group that
 * is not a valid schedule, is BACKUP_ERROR_CORRUPT naming the group. */
GPtrArray *backup_schedule_list (const char *path, GError **error);
/* The schedule of id @id, or NULL with BACKUP_ERROR_NOT_FOUND. */
BackupSchedule *backup_schedule_find (const char *path, const char *id, GError **error);
/* Stores @schedule as a new schedule; without an id it gets a fresh one, an
 * id taken is BACKUP_ERROR_INVALID_ARGUMENT. Returns the id. */
char *backup_schedule_add (const char *path, const BackupSchedule *schedule, GError **error);
/* Replaces the schedule of @schedule's id (BACKUP_ERROR_NOT_FOUND when
 * there is none). */
gboolean backup_schedule_update (const char *path, const BackupSchedule *schedule, GError **error);
/* Removes the schedule @id (BACKUP_ERROR_NOT_FOUND when there is none). */
gboolean backup_schedule_remove (const char *path, const char *id, GError **error);

/* --- what the last runs did --- */

typedef enum
{
  BACKUP_SCHEDULE_OUTCOME_NONE, /* never ran */
  BACKUP_SCHEDULE_OUTCOME_OK,
  BACKUP_SCHEDULE_OUTCOME_FAILED,
  BACKUP_SCHEDULE_OUTCOME_CANCELLED,
} BackupScheduleOutcome;

typedef struct
{
  gint64 last_start; /* of the last run */
  gint64 last_end;
  BackupScheduleOutcome outcome;
  guint64 bytes;     /* sent by the last run */
  char *error;       /* why the last run failed, or NULL */
  guint failures;    /* failed runs in a row */
  gint64 next_retry; /* while failing: when to try again */
  gint64 served;     /* start of the last run that was not cancelled:
                        the due times up to it are done */
} BackupScheduleState;

void backup_schedule_state_clear (BackupScheduleState *state);
void backup_schedule_state_copy (BackupScheduleState *dest, const BackupScheduleState *src);

const char *backup_schedule_outcome_to_string (BackupScheduleOutcome outcome);

/* $XDG_STATE_HOME/distributed-backup/schedules-state.conf */
char *backup_schedule_get_default_state_path (void);

/* The states of @path (NULL: the default) by id: a table of id (char *)
 * to BackupScheduleState *. An absent file is no state; a broken one is
 * BACKUP_ERROR_CORRUPT. */
GHashTable *backup_schedule_state_load (const char *path, GError **error);
/* Writes @states (as the table above) to @path (NULL: the default). */
gboolean backup_schedule_state_save (const char *path, GHashTable *states, GError **error);

G_END_DECLS
