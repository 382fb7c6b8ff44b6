/* backup-schedule.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Due times are worked out on "wall seconds": an instant plus the offset
 * of the time zone at that instant, which is what a clock on the wall
 * shows, counted from 1970-01-01 00:00. The due time of a day is the first
 * instant whose wall time is at least the schedule's time of that day: the
 * time itself on an ordinary day, its first occurrence when the clocks go
 * back, and the instant of the change when they skip it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backup-device.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-schedule.h"

#define APP_FOLDER "distributed-backup"
#define SCHEDULES_FILE "schedules.conf"
#define STATE_FILE "schedules-state.conf"
#define LOCK_FILE ".schedules.lock"
#define SCHEDULE_GROUP_PREFIX "Schedule "
#define STATE_GROUP_PREFIX "State "
#define DAY_S (24 * 3600)

static const char *const weekday_names[]
    = { NULL, "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

/* --- times ---------------------------------------------------------------- */

static gint64
floor_div (gint64 a, gint64 b)
{
  gint64 q = a / b;

  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The offset of @tz at the instant @t (seconds since the epoch). */
static gint64
offset_at (GTimeZone *tz, gint64 t)
{
  return g_time_zone_get_offset (tz, g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, t));
}

static gint64
wall_of (GTimeZone *tz, gint64 t)
{
  return t + offset_at (tz, t);
}

/* 1970-01-01 was a Thursday. */
static GDateWeekday
weekday_of_day (gint64 day)
{
  return (GDateWeekday)((((day % 7) + 7) % 7 + 3) % 7 + 1);
}

/* The first instant whose wall time is at least @wall (see the top). */
static gint64
first_instant_at_wall (GTimeZone *tz, gint64 wall)
{
  /* The offsets around: a day before and after cover any change of that
   * day. */
  gint64 offsets[3] = { offset_at (tz, wall - DAY_S - 3600), offset_at (tz, wall),
                        offset_at (tz, wall + DAY_S + 3600) };
  gint64 best = G_MAXINT64;
  gint64 lo = G_MAXINT64, hi = G_MININT64;

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      gint64 candidate = wall - offsets[i];

      if (offset_at (tz, candidate) == offsets[i])
        best = MIN (best, candidate);
      lo = MIN (lo, candidate);
      hi = MAX (hi, candidate);
    }
  if (best != G_MAXINT64)
    return best;

  /* Skipped: the change happened between the candidates; its instant is
   * the first one of the new offset. */
  {
    gint64 before = offset_at (tz, lo);

    while (hi - lo > 1)
      {
        gint64 mid = lo + (hi - lo) / 2;

        if (offset_at (tz, mid) == before)
          lo = mid;
        else
          hi = mid;
      }
    return hi;
  }
}

static gboolean
day_matches (const BackupScheduleWhen *when, gint64 day)
{
  return when->kind != BACKUP_SCHEDULE_WEEKLY || weekday_of_day (day) == when->weekday;
}

static gint64
due_of_day (const BackupScheduleWhen *when, GTimeZone *tz, gint64 day)
{
  return first_instant_at_wall (tz, day * DAY_S + when->hour * 3600 + when->minute * 60);
}

static GTimeZone *
ref_zone (GTimeZone *tz)
{
  return tz != NULL ? g_time_zone_ref (tz) : g_time_zone_new_local ();
}

gint64
backup_schedule_when_next_after (const BackupScheduleWhen *when, GTimeZone *tz, gint64 after)
{
  g_autoptr (GTimeZone) zone = NULL;
  gint64 after_s;

  g_return_val_if_fail (when != NULL, 0);

  zone = ref_zone (tz);
  after_s = floor_div (after, G_USEC_PER_SEC);
  if (when->kind == BACKUP_SCHEDULE_HOURLY)
    {
      /* Each minute from the next one, two hours at most (a skipped hour). */
      gint64 t = (floor_div (after, 60 * G_USEC_PER_SEC) + 1) * 60;

      for (guint i = 0; i <= 3 * 60; i++, t += 60)
        if (floor_div (wall_of (zone, t), 60) % 60 == when->minute)
          return t * G_USEC_PER_SEC;
      g_return_val_if_reached (0);
    }

  for (gint64 day = floor_div (wall_of (zone, after_s), DAY_S) - 1;; day++)
    {
      gint64 due;

      if (!day_matches (when, day))
        continue;
      due = due_of_day (when, zone, day);
      if (due * G_USEC_PER_SEC > after)
        return due * G_USEC_PER_SEC;
    }
}

gint64
backup_schedule_when_last_at (const BackupScheduleWhen *when, GTimeZone *tz, gint64 at)
{
  g_autoptr (GTimeZone) zone = NULL;
  gint64 at_s;

  g_return_val_if_fail (when != NULL, 0);

  zone = ref_zone (tz);
  at_s = floor_div (at, G_USEC_PER_SEC);
  if (when->kind == BACKUP_SCHEDULE_HOURLY)
    {
      gint64 t = floor_div (at, 60 * G_USEC_PER_SEC) * 60;

      for (guint i = 0; i <= 3 * 60; i++, t -= 60)
        if (floor_div (wall_of (zone, t), 60) % 60 == when->minute)
          return t * G_USEC_PER_SEC;
      g_return_val_if_reached (0);
    }

  for (gint64 day = floor_div (wall_of (zone, at_s), DAY_S) + 1;; day--)
    {
      gint64 due;

      if (!day_matches (when, day))
        continue;
      due = due_of_day (when, zone, day);
      if (due * G_USEC_PER_SEC <= at)
        return due * G_USEC_PER_SEC;
    }
}

/* --- the spec ------------------------------------------------------------- */

/* One or two ASCII digits, at most @max. */
static gboolean
parse_number (const char *text, guint max, guint *value)
{
  gsize length = strlen (text);

  if (length < 1 || length > 2 || !g_ascii_isdigit (text[0])
      || (length == 2 && !g_ascii_isdigit (text[1])))
    return FALSE;
  *value = (guint)g_ascii_strtoull (text, NULL, 10);
  return *value <= max;
}

static gboolean spec_error (GError **error, const char *spec, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* "“SPEC” is not a schedule: " and the reason. */
static gboolean
spec_error (GError **error, const char *spec, const char *format, ...)
{
  g_autofree char *shown_spec = backup_display_name (spec, -1);
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, _ ("“%s” is not a schedule: %s"),
               shown_spec, reason);
  return FALSE;
}

static gboolean
parse_time_of_day (const char *spec, const char *hour, const char *minute, BackupScheduleWhen *when,
                   GError **error)
{
  g_autofree char *shown_hour = backup_display_name (hour, -1);
  g_autofree char *shown_minute = backup_display_name (minute, -1);

  if (!parse_number (hour, 23, &when->hour))
    return spec_error (error, spec, _ ("“%s” is not an hour (0 to 23)"), shown_hour);
  if (strlen (minute) != 2 || !parse_number (minute, 59, &when->minute))
    return spec_error (error, spec, _ ("“%s” is not a minute (00 to 59)"), shown_minute);
  return TRUE;
}

gboolean
backup_schedule_when_parse (const char *spec, BackupScheduleWhen *when, GError **error)
{
  g_auto (GStrv) parts = NULL;
  BackupScheduleWhen parsed = { 0 };
  guint n;

  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (when != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  parts = g_strsplit (spec, ":", -1);
  n = g_strv_length (parts);
  if (n == 2 && strcmp (parts[0], "hourly") == 0)
    {
      g_autofree char *shown = backup_display_name (parts[1], -1);

      parsed.kind = BACKUP_SCHEDULE_HOURLY;
      if (!parse_number (parts[1], 59, &parsed.minute))
        return spec_error (error, spec, _ ("“%s” is not a minute (00 to 59)"), shown);
    }
  else if (n == 3 && strcmp (parts[0], "daily") == 0)
    {
      parsed.kind = BACKUP_SCHEDULE_DAILY;
      if (!parse_time_of_day (spec, parts[1], parts[2], &parsed, error))
        return FALSE;
    }
  else if (n == 4 && strcmp (parts[0], "weekly") == 0)
    {
      parsed.kind = BACKUP_SCHEDULE_WEEKLY;
      for (guint day = G_DATE_MONDAY; day <= G_DATE_SUNDAY; day++)
        if (g_ascii_strcasecmp (parts[1], weekday_names[day]) == 0)
          parsed.weekday = day;
      if (parsed.weekday == G_DATE_BAD_WEEKDAY)
        {
          g_autofree char *shown = backup_display_name (parts[1], -1);

          return spec_error (error, spec,
                             _ ("“%s” is not a day of the week (mon, tue, wed, thu, fri, sat or "
                                "sun)"),
                             shown);
        }
      if (!parse_time_of_day (spec, parts[2], parts[3], &parsed, error))
        return FALSE;
    }
  else
    {
      g_autofree char *shown = backup_display_name (spec, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a schedule: write hourly:MM, daily:HH:MM or weekly:DAY:HH:MM, "
                      "for example daily:21:30"),
                   shown);
      return FALSE;
    }
  *when = parsed;
  return TRUE;
}

char *
backup_schedule_when_format (const BackupScheduleWhen *when)
{
  g_return_val_if_fail (when != NULL, NULL);

  switch (when->kind)
    {
    case BACKUP_SCHEDULE_HOURLY:
      return g_strdup_printf ("hourly:%02u", when->minute);
    case BACKUP_SCHEDULE_DAILY:
      return g_strdup_printf ("daily:%02u:%02u", when->hour, when->minute);
    case BACKUP_SCHEDULE_WEEKLY:
      g_return_val_if_fail (when->weekday >= G_DATE_MONDAY && when->weekday <= G_DATE_SUNDAY, NULL);
      return g_strdup_printf ("weekly:%s:%02u:%02u", weekday_names[when->weekday], when->hour,
                              when->minute);
    default:
      g_return_val_if_reached (NULL);
    }
}

/* --- a schedule ----------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (BackupSchedule, backup_schedule, backup_schedule_copy, backup_schedule_free)

BackupSchedule *
backup_schedule_new (const char *name, const char *source, const char *device,
                     const BackupScheduleWhen *when)
{
  BackupSchedule *schedule = g_new0 (BackupSchedule, 1);

  g_return_val_if_fail (when != NULL, NULL);

  schedule->name = g_strdup (name);
  schedule->source = g_strdup (source);
  schedule->device = g_strdup (device);
  schedule->when = *when;
  schedule->enabled = TRUE;
  schedule->created = g_get_real_time ();
  return schedule;
}

BackupSchedule *
backup_schedule_copy (const BackupSchedule *schedule)
{
  BackupSchedule *copy;

  g_return_val_if_fail (schedule != NULL, NULL);

  copy = g_memdup2 (schedule, sizeof *schedule);
  copy->id = g_strdup (schedule->id);
  copy->name = g_strdup (schedule->name);
  copy->source = g_strdup (schedule->source);
  copy->device = g_strdup (schedule->device);
  copy->profile = g_strdup (schedule->profile);
  copy->password_file = g_strdup (schedule->password_file);
  return copy;
}

void
backup_schedule_free (BackupSchedule *schedule)
{
  if (schedule == NULL)
    return;
  g_free (schedule->id);
  g_free (schedule->name);
  g_free (schedule->source);
  g_free (schedule->device);
  g_free (schedule->profile);
  g_free (schedule->password_file);
  g_free (schedule);
}

gint64
backup_schedule_next_after (const BackupSchedule *schedule, GTimeZone *tz, gint64 after)
{
  g_return_val_if_fail (schedule != NULL, 0);

  return backup_schedule_when_next_after (&schedule->when, tz, after);
}

gboolean
backup_schedule_check_id (const char *id, GError **error)
{
  gsize length = id != NULL ? strlen (id) : 0;
  gboolean ok = length >= 1 && length <= BACKUP_SCHEDULE_MAX_ID;

  for (gsize i = 0; ok && i < length; i++)
    ok = g_ascii_isalnum (id[i]) || id[i] == '-' || id[i] == '_';
  if (!ok)
    {
      g_autofree char *shown = backup_display_name (id, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a schedule id: use 1 to 64 letters, digits, “-” or “_”"), shown);
    }
  return ok;
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
backup_schedule_validate (const BackupSchedule *schedule, GError **error)
{
  g_return_val_if_fail (schedule != NULL, FALSE);

  if (schedule->id != NULL && !backup_schedule_check_id (schedule->id, error))
    return FALSE;
  if (schedule->source == NULL || !g_path_is_absolute (schedule->source))
    return invalid (error, _ ("The source of a schedule must be an absolute path"));
  if ((schedule->device == NULL) == (schedule->profile == NULL))
    return invalid (error, _ ("A schedule backs up to a paired device or as a profile file says: "
                              "give one of them"));
  if (schedule->device != NULL && !backup_device_check_name (schedule->device, error))
    return FALSE;
  if (schedule->profile != NULL && !g_path_is_absolute (schedule->profile))
    return invalid (error, _ ("The profile file of a schedule must be an absolute path"));
  if (schedule->password_file != NULL && !g_path_is_absolute (schedule->password_file))
    return invalid (error, _ ("The password file of a schedule must be an absolute path"));
  if (schedule->when.kind > BACKUP_SCHEDULE_WEEKLY || schedule->when.hour > 23
      || schedule->when.minute > 59
      || (schedule->when.kind == BACKUP_SCHEDULE_WEEKLY
          && (schedule->when.weekday < G_DATE_MONDAY || schedule->when.weekday > G_DATE_SUNDAY)))
    return invalid (error, _ ("The time of a schedule is not one"));
  return TRUE;
}

/* --- files ---------------------------------------------------------------- */

char *
backup_schedule_get_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), APP_FOLDER, SCHEDULES_FILE, NULL);
}

char *
backup_schedule_get_default_state_path (void)
{
  return g_build_filename (g_get_user_state_dir (), APP_FOLDER, STATE_FILE, NULL);
}

/* @path's key file; an absent file is an empty one. */
static GKeyFile *
load_key_file (const char *path, gboolean state, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) cause = NULL;

  if (g_key_file_load_from_file (key_file, path, G_KEY_FILE_KEEP_COMMENTS, &cause))
    return g_steal_pointer (&key_file);
  if (g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return g_steal_pointer (&key_file);

  {
    g_autofree char *shown = g_filename_display_name (path);

    if (cause->domain == G_KEY_FILE_ERROR)
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   state ? _ ("“%s” is not a schedules state file: %s")
                         : _ ("“%s” is not a schedules file: %s"),
                   shown, cause->message);
    else
      g_set_error (error, BACKUP_ERROR,
                   cause->domain == G_FILE_ERROR && cause->code == G_FILE_ERROR_ACCES
                       ? BACKUP_ERROR_PERMISSION
                       : BACKUP_ERROR_IO,
                   _ ("Cannot read “%s”: %s"), shown, cause->message);
  }
  return NULL;
}

/* Writes @key_file to @path: a synced temporary file renamed into place,
 * 0600, the folder made 0700 when missing. */
static gboolean
save_key_file (const char *path, GKeyFile *key_file, GError **error)
{
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  g_autoptr (GError) cause = NULL;
  gsize length = 0;

  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (folder);

      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (saved),
                   _ ("Cannot create “%s”: %s"), shown, g_strerror (saved));
      return FALSE;
    }
  data = g_key_file_to_data (key_file, &length, NULL);
  if (!g_file_set_contents_full (path, data, (gssize)length, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &cause))
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _ ("Cannot write “%s”: %s"), shown,
                   cause->message);
      return FALSE;
    }
  return TRUE;
}

static char *
dup_path (const char *path)
{
  return path != NULL ? g_strdup (path) : backup_schedule_get_default_path ();
}

static char *
group_of (const char *id)
{
  return g_strconcat (SCHEDULE_GROUP_PREFIX, id, NULL);
}

static char *
get_optional_string (GKeyFile *key_file, const char *group, const char *key)
{
  char *value = g_key_file_get_string (key_file, group, key, NULL);

  if (value != NULL && *value == '\0')
    g_clear_pointer (&value, g_free);
  return value;
}

static BackupSchedule *
read_schedule (GKeyFile *key_file, const char *path, const char *group, GError **error)
{
  g_autoptr (BackupSchedule) schedule = g_new0 (BackupSchedule, 1);
  g_autoptr (GError) cause = NULL;
  g_autofree char *when = NULL;

  schedule->id = g_strdup (group + strlen (SCHEDULE_GROUP_PREFIX));
  schedule->name = get_optional_string (key_file, group, "name");
  schedule->source = get_optional_string (key_file, group, "source");
  schedule->device = get_optional_string (key_file, group, "device");
  schedule->profile = get_optional_string (key_file, group, "profile");
  schedule->password_file = get_optional_string (key_file, group, "password-file");
  schedule->enabled = TRUE;
  schedule->created = g_key_file_get_int64 (key_file, group, "created", NULL) * G_USEC_PER_SEC;
  when = g_key_file_get_string (key_file, group, "when", NULL);

  if (g_key_file_has_key (key_file, group, "enabled", NULL))
    schedule->enabled = g_key_file_get_boolean (key_file, group, "enabled", &cause);
  if (cause == NULL && when == NULL)
    g_set_error_literal (&cause, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                         _ ("The time of a schedule is missing (the key “when”)"));
  if (cause == NULL && backup_schedule_when_parse (when, &schedule->when, &cause))
    backup_schedule_validate (schedule, &cause);
  if (cause != NULL)
    {
      g_autofree char *shown_path = g_filename_display_name (path);
      g_autofree char *shown_id = backup_display_name (schedule->id, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _ ("The schedule “%s” in “%s” is not valid: %s"), shown_id, shown_path,
                   cause->message);
      return NULL;
    }
  return g_steal_pointer (&schedule);
}

static void
write_schedule (GKeyFile *key_file, const BackupSchedule *schedule)
{
  g_autofree char *group = group_of (schedule->id);
  g_autofree char *when = backup_schedule_when_format (&schedule->when);

  g_key_file_remove_group (key_file, group, NULL);
  if (schedule->name != NULL)
    g_key_file_set_string (key_file, group, "name", schedule->name);
  g_key_file_set_string (key_file, group, "source", schedule->source);
  if (schedule->device != NULL)
    g_key_file_set_string (key_file, group, "device", schedule->device);
  if (schedule->profile != NULL)
    g_key_file_set_string (key_file, group, "profile", schedule->profile);
  if (schedule->password_file != NULL)
    g_key_file_set_string (key_file, group, "password-file", schedule->password_file);
  g_key_file_set_string (key_file, group, "when", when);
  g_key_file_set_boolean (key_file, group, "enabled", schedule->enabled);
  g_key_file_set_int64 (key_file, group, "created", schedule->created / G_USEC_PER_SEC);
}

static GPtrArray *
list_key_file (GKeyFile *key_file, const char *path, GError **error)
{
  g_autoptr (GPtrArray) schedules
      = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_schedule_free);
  g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      BackupSchedule *schedule;

      if (!g_str_has_prefix (groups[i], SCHEDULE_GROUP_PREFIX))
        continue;
      schedule = read_schedule (key_file, path, groups[i], error);
      if (schedule == NULL)
        return NULL;
      g_ptr_array_add (schedules, schedule);
    }
  return g_steal_pointer (&schedules);
}

GPtrArray *
backup_schedule_list (const char *path, GError **error)
{
  g_autofree char *file = dup_path (path);
  g_autoptr (GKeyFile) key_file = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  key_file = load_key_file (file, FALSE, error);
  if (key_file == NULL)
    return NULL;
  return list_key_file (key_file, file, error);
}

BackupSchedule *
backup_schedule_find (const char *path, const char *id, GError **error)
{
  g_autoptr (GPtrArray) schedules = backup_schedule_list (path, error);
  g_autofree char *shown = NULL;

  g_return_val_if_fail (id != NULL, NULL);

  if (schedules == NULL)
    return NULL;
  for (guint i = 0; i < schedules->len; i++)
    {
      BackupSchedule *schedule = g_ptr_array_index (schedules, i);

      if (strcmp (schedule->id, id) == 0)
        return backup_schedule_copy (schedule);
    }
  shown = backup_display_name (id, -1);
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND, _ ("There is no schedule “%s”"), shown);
  return NULL;
}

/* An exclusive lock beside @path, held until the descriptor is closed. */
static int
lock_schedules (const char *path, GError **error)
{
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *lock = g_build_filename (folder, LOCK_FILE, NULL);
  int fd = -1;
  int saved;

  if (g_mkdir_with_parents (folder, 0700) == 0)
    {
      fd = g_open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd >= 0 && flock (fd, LOCK_EX) == 0)
        return fd;
    }
  saved = errno;
  if (fd >= 0)
    close (fd);
  {
    g_autofree char *shown = g_filename_display_name (lock);

    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _ ("Cannot lock “%s”: %s"), shown,
                 g_strerror (saved));
  }
  return -1;
}

typedef enum
{
  CHANGE_ADD,
  CHANGE_UPDATE,
  CHANGE_REMOVE,
} Change;

/* Reads, changes and writes the file under its lock. */
static gboolean
change_schedules (const char *path, Change change, const BackupSchedule *schedule, const char *id,
                  GError **error)
{
  g_autofree char *file = dup_path (path);
  g_autoptr (GKeyFile) key_file = NULL;
  g_autoptr (GPtrArray) schedules = NULL;
  g_autofree char *group = group_of (id);
  gboolean exists;
  gboolean ok = FALSE;
  int lock;

  lock = lock_schedules (file, error);
  if (lock < 0)
    return FALSE;

  key_file = load_key_file (file, FALSE, error);
  if (key_file == NULL || (schedules = list_key_file (key_file, file, error)) == NULL)
    goto out;

  exists = g_key_file_has_group (key_file, group);
  if (exists == (change == CHANGE_ADD))
    {
      g_autofree char *shown = backup_display_name (id, -1);

      if (exists)
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                     _ ("There is already a schedule “%s”"), shown);
      else
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND, _ ("There is no schedule “%s”"),
                     shown);
      goto out;
    }
  if (change == CHANGE_REMOVE)
    g_key_file_remove_group (key_file, group, NULL);
  else
    write_schedule (key_file, schedule);
  ok = save_key_file (file, key_file, error);

out:
  close (lock);
  return ok;
}

char *
backup_schedule_add (const char *path, const BackupSchedule *schedule, GError **error)
{
  g_autoptr (BackupSchedule) copy = NULL;
  g_autoptr (GPtrArray) existing = NULL;

  g_return_val_if_fail (schedule != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!backup_schedule_validate (schedule, error))
    return NULL;
  copy = backup_schedule_copy (schedule);
  if (copy->created == 0)
    copy->created = g_get_real_time ();
  if (copy->id == NULL)
    {
      /* A fresh id: 8 random hexadecimal digits not taken yet. */
      if ((existing = backup_schedule_list (path, error)) == NULL)
        return NULL;
      while (copy->id == NULL)
        {
          g_autofree char *id = g_strdup_printf ("%08x", g_random_int ());
          gboolean taken = FALSE;

          for (guint i = 0; i < existing->len; i++)
            taken |= strcmp (((BackupSchedule *)g_ptr_array_index (existing, i))->id, id) == 0;
          if (!taken)
            copy->id = g_steal_pointer (&id);
        }
    }
  if (!change_schedules (path, CHANGE_ADD, copy, copy->id, error))
    return NULL;
  return g_steal_pointer (&copy->id);
}

gboolean
backup_schedule_update (const char *path, const BackupSchedule *schedule, GError **error)
{
  g_return_val_if_fail (schedule != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (schedule->id == NULL)
    return backup_schedule_check_id (NULL, error);
  if (!backup_schedule_validate (schedule, error))
    return FALSE;
  return change_schedules (path, CHANGE_UPDATE, schedule, schedule->id, error);
}

gboolean
backup_schedule_remove (const char *path, const char *id, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!backup_schedule_check_id (id, error))
    return FALSE;
  return change_schedules (path, CHANGE_REMOVE, NULL, id, error);
}

/* --- the state ------------------------------------------------------------ */

static const char *const outcome_names[] = { "none", "ok", "failed", "cancelled" };

const char *
backup_schedule_outcome_to_string (BackupScheduleOutcome outcome)
{
  g_return_val_if_fail (outcome <= BACKUP_SCHEDULE_OUTCOME_CANCELLED, NULL);

  return outcome_names[outcome];
}

void
backup_schedule_state_clear (BackupScheduleState *state)
{
  g_return_if_fail (state != NULL);

  g_free (state->error);
  memset (state, 0, sizeof *state);
}

void
backup_schedule_state_copy (BackupScheduleState *dest, const BackupScheduleState *src)
{
  g_return_if_fail (dest != NULL && src != NULL);

  *dest = *src;
  dest->error = g_strdup (src->error);
}

static void
state_free (BackupScheduleState *state)
{
  backup_schedule_state_clear (state);
  g_free (state);
}

static gboolean
read_state (GKeyFile *key_file, const char *group, BackupScheduleState *state)
{
  g_autofree char *outcome = NULL;
  g_autoptr (GError) error = NULL;
  gint64 failures = 0;

  state->last_start = g_key_file_get_int64 (key_file, group, "last-start", &error);
  if (error == NULL)
    state->last_end = g_key_file_get_int64 (key_file, group, "last-end", &error);
  if (error == NULL)
    state->bytes = g_key_file_get_uint64 (key_file, group, "bytes", &error);
  if (error == NULL)
    failures = g_key_file_get_int64 (key_file, group, "failures", &error);
  if (error == NULL)
    state->next_retry = g_key_file_get_int64 (key_file, group, "next-retry", &error);
  if (error == NULL)
    state->served = g_key_file_get_int64 (key_file, group, "served", &error);
  if (error == NULL)
    outcome = g_key_file_get_string (key_file, group, "outcome", &error);
  if (error != NULL || failures < 0 || failures > G_MAXUINT)
    return FALSE;
  state->failures = (guint)failures;
  state->error = get_optional_string (key_file, group, "error");
  for (guint i = 0; i < G_N_ELEMENTS (outcome_names); i++)
    if (strcmp (outcome, outcome_names[i]) == 0)
      {
        state->outcome = i;
        return TRUE;
      }
  return FALSE;
}

GHashTable *
backup_schedule_state_load (const char *path, GError **error)
{
  g_autofree char *file
      = path != NULL ? g_strdup (path) : backup_schedule_get_default_state_path ();
  g_autoptr (GHashTable) states
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)state_free);
  g_autoptr (GKeyFile) key_file = NULL;
  g_auto (GStrv) groups = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  key_file = load_key_file (file, TRUE, error);
  if (key_file == NULL)
    return NULL;
  groups = g_key_file_get_groups (key_file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      const char *id = groups[i] + strlen (STATE_GROUP_PREFIX);
      BackupScheduleState *state;

      if (!g_str_has_prefix (groups[i], STATE_GROUP_PREFIX))
        continue;
      state = g_new0 (BackupScheduleState, 1);
      if (!backup_schedule_check_id (id, NULL) || !read_state (key_file, groups[i], state))
        {
          g_autofree char *shown = g_filename_display_name (file);
          g_autofree char *shown_group = backup_display_name (groups[i], -1);

          state_free (state);
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                       _ ("“%s” is not a schedules state file: the group “%s” is not valid"), shown,
                       shown_group);
          return NULL;
        }
      g_hash_table_replace (states, g_strdup (id), state);
    }
  return g_steal_pointer (&states);
}

gboolean
backup_schedule_state_save (const char *path, GHashTable *states, GError **error)
{
  g_autofree char *file
      = path != NULL ? g_strdup (path) : backup_schedule_get_default_state_path ();
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GList) ids = NULL;

  g_return_val_if_fail (states != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* In the order of the ids, so that the file does not churn. */
  ids = g_list_sort (g_hash_table_get_keys (states), (GCompareFunc)strcmp);
  g_key_file_set_comment (key_file, NULL, NULL,
                          " What the last run of each schedule did; times in µs since the epoch."
                          " Written by Distributed Backup.",
                          NULL);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      const BackupScheduleState *state = g_hash_table_lookup (states, l->data);
      g_autofree char *group = g_strconcat (STATE_GROUP_PREFIX, l->data, NULL);

      g_key_file_set_int64 (key_file, group, "last-start", state->last_start);
      g_key_file_set_int64 (key_file, group, "last-end", state->last_end);
      g_key_file_set_string (key_file, group, "outcome", outcome_names[state->outcome]);
      g_key_file_set_uint64 (key_file, group, "bytes", state->bytes);
      if (state->error != NULL)
        g_key_file_set_string (key_file, group, "error", state->error);
      g_key_file_set_int64 (key_file, group, "failures", state->failures);
      g_key_file_set_int64 (key_file, group, "next-retry", state->next_retry);
      g_key_file_set_int64 (key_file, group, "served", state->served);
    }
  return save_key_file (file, key_file, error);
}
