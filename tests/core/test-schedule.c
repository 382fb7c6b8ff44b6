/* test-schedule.c: scheduled backups: the clock, the due times of each kind
 * of schedule (also across clock changes of Europe/Berlin), the spec, the
 * schedules and state files, and the scheduler on a manual clock with a
 * fake run function (when it fires, one run at a time, missed runs, the
 * back-off of failures, the state across schedulers, removals), then once
 * with the real run function sending a file over 127.0.0.1 to a receiver
 * in this process.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backup-clock.h"
#include "backup-device.h"
#include "backup-error.h"
#include "backup-profile.h"
#include "backup-runner.h"
#include "backup-schedule.h"
#include "backup-scheduler.h"

static const char *const loopback[] = { "127.0.0.1", NULL };

/* The tests share one private XDG_CONFIG_HOME and XDG_STATE_HOME under
 * @home; each test that uses them starts with neither holding anything of
 * this program. */
static char *home;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_remove (path);
}

static void
reset_dirs (void)
{
  g_autofree char *config = g_build_filename (g_get_user_config_dir (), "distributed-backup", NULL);
  g_autofree char *state = g_build_filename (g_get_user_state_dir (), "distributed-backup", NULL);

  g_assert_true (g_str_has_prefix (config, home));
  g_assert_true (g_str_has_prefix (state, home));
  remove_tree (config);
  remove_tree (state);
}

/* µs since the epoch of a time in @tz (NULL: UTC). */
static gint64
at_tz (GTimeZone *tz, int year, int month, int day, int hour, int minute, int second)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) time
      = g_date_time_new (tz != NULL ? tz : utc, year, month, day, hour, minute, second);

  g_assert_nonnull (time);
  return g_date_time_to_unix (time) * G_USEC_PER_SEC;
}

static gint64
at (int year, int month, int day, int hour, int minute, int second)
{
  return at_tz (NULL, year, month, day, hour, minute, second);
}

static GTimeZone *
berlin (void)
{
  GTimeZone *tz = g_time_zone_new_identifier ("Europe/Berlin");

  if (tz == NULL)
    g_test_skip ("no tzdata for Europe/Berlin");
  return tz;
}

static BackupScheduleWhen
when_of (const char *spec)
{
  BackupScheduleWhen when = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_schedule_when_parse (spec, &when, &error));
  g_assert_no_error (error);
  return when;
}

/* @tz NULL: UTC. */
static void
assert_next (const char *spec, GTimeZone *tz, gint64 after, gint64 expected)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  BackupScheduleWhen when = when_of (spec);
  gint64 next = backup_schedule_when_next_after (&when, tz != NULL ? tz : utc, after);

  if (next != expected)
    {
      g_autoptr (GDateTime) a = g_date_time_new_from_unix_utc (after / G_USEC_PER_SEC);
      g_autoptr (GDateTime) n = g_date_time_new_from_unix_utc (next / G_USEC_PER_SEC);
      g_autoptr (GDateTime) e = g_date_time_new_from_unix_utc (expected / G_USEC_PER_SEC);
      g_autofree char *as = g_date_time_format_iso8601 (a);
      g_autofree char *ns = g_date_time_format_iso8601 (n);
      g_autofree char *es = g_date_time_format_iso8601 (e);

      g_error ("%s after %s: %s, expected %s", spec, as, ns, es);
    }
}

/* --- the clock ------------------------------------------------------------ */

static void
record_wakeup (BackupClock *clock, gint64 now, gpointer user_data)
{
  GArray *calls = user_data;

  g_array_append_val (calls, now);
}

static void
add_during_wakeup (BackupClock *clock, gint64 now, gpointer user_data)
{
  GArray *calls = user_data;

  g_array_append_val (calls, now);
  /* Due already: called in the same advance. */
  backup_clock_add_wakeup (clock, now - 1, record_wakeup, calls, NULL);
}

static void
test_clock_manual (void)
{
  g_autoptr (BackupClock) clock = backup_clock_new_manual (1000 * G_USEC_PER_SEC);
  g_autoptr (GArray) calls = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint removed;

  g_assert_true (backup_clock_is_manual (clock));
  g_assert_cmpint (backup_clock_get_now (clock), ==, 1000 * G_USEC_PER_SEC);
  backup_clock_add_wakeup (clock, 1010 * G_USEC_PER_SEC, record_wakeup, calls, NULL);
  backup_clock_add_wakeup (clock, 1005 * G_USEC_PER_SEC, record_wakeup, calls, NULL);
  removed = backup_clock_add_wakeup (clock, 1007 * G_USEC_PER_SEC, record_wakeup, calls, NULL);
  backup_clock_add_wakeup (clock, 1020 * G_USEC_PER_SEC, add_during_wakeup, calls, NULL);
  backup_clock_remove_wakeup (clock, removed);
  backup_clock_remove_wakeup (clock, 12345);

  backup_clock_advance (clock, 4);
  g_assert_cmpuint (calls->len, ==, 0);
  /* Past two of them at once: both, earliest first, with the time now. */
  backup_clock_advance (clock, 10);
  g_assert_cmpuint (calls->len, ==, 2);
  g_assert_cmpint (g_array_index (calls, gint64, 0), ==, 1014 * G_USEC_PER_SEC);
  g_assert_cmpint (g_array_index (calls, gint64, 1), ==, 1014 * G_USEC_PER_SEC);
  backup_clock_set_now (clock, 1020 * G_USEC_PER_SEC);
  g_assert_cmpuint (calls->len, ==, 4);
  backup_clock_advance (clock, 3600);
  g_assert_cmpuint (calls->len, ==, 4);
}

static void
quit_wakeup (BackupClock *clock, gint64 now, gpointer user_data)
{
  *(gint64 *)user_data = now;
}

static void
test_clock_system (void)
{
  g_autoptr (BackupClock) clock = backup_clock_new_system ();
  gint64 start = g_get_real_time ();
  gint64 called = 0;

  g_assert_false (backup_clock_is_manual (clock));
  g_assert_cmpint (ABS (backup_clock_get_now (clock) - start), <, 10 * G_USEC_PER_SEC);
  /* A time already past: at the next look, from the context. */
  backup_clock_add_wakeup (clock, start - G_USEC_PER_SEC, quit_wakeup, &called, NULL);
  g_assert_cmpint (called, ==, 0);
  while (called == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (called, >=, start);
}

/* --- due times ------------------------------------------------------------ */

static void
test_when_parse (void)
{
  static const struct
  {
    const char *spec;
    const char *canonical;
  } good[] = {
    { "hourly:15", "hourly:15" },
    { "hourly:5", "hourly:05" },
    { "hourly:00", "hourly:00" },
    { "daily:21:30", "daily:21:30" },
    { "daily:9:05", "daily:09:05" },
    { "daily:00:00", "daily:00:00" },
    { "weekly:mon:09:00", "weekly:mon:09:00" },
    { "weekly:SUN:23:59", "weekly:sun:23:59" },
  };
  static const struct
  {
    const char *spec;
    const char *message;
  } bad[] = {
    { "", "“” is not a schedule: write hourly:MM, daily:HH:MM or weekly:DAY:HH:MM" },
    { "monthly:1", "is not a schedule: write" },
    { "hourly", "is not a schedule: write" },
    { "daily:21", "is not a schedule: write" },
    { "daily:21:30:00", "is not a schedule: write" },
    { "hourly:60", "“hourly:60” is not a schedule: “60” is not a minute (00 to 59)" },
    { "hourly:-1", "“-1” is not a minute" },
    { "hourly:", "“” is not a minute" },
    { "hourly:123", "“123” is not a minute" },
    { "daily:24:00", "“daily:24:00” is not a schedule: “24” is not an hour (0 to 23)" },
    { "daily:21:5", "“5” is not a minute" },
    { "daily:2x:00", "“2x” is not an hour" },
    { "daily: 1:00", "“ 1” is not an hour" },
    { "weekly:mo:09:00",
      "“weekly:mo:09:00” is not a schedule: “mo” is not a day of the week (mon, tue, wed, thu, "
      "fri, sat or sun)" },
    { "weekly:mon:9:60", "“60” is not a minute" },
    { "Daily:10:00", "is not a schedule: write" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      BackupScheduleWhen when = when_of (good[i].spec);
      g_autofree char *formatted = backup_schedule_when_format (&when);

      g_assert_cmpstr (formatted, ==, good[i].canonical);
    }
  g_assert_cmpint (when_of ("weekly:wed:07:08").weekday, ==, G_DATE_WEDNESDAY);
  g_assert_cmpint (when_of ("weekly:wed:07:08").hour, ==, 7);
  g_assert_cmpint (when_of ("weekly:wed:07:08").minute, ==, 8);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      BackupScheduleWhen when = { BACKUP_SCHEDULE_DAILY, 1, 2, 0 };
      g_autoptr (GError) error = NULL;

      g_assert_false (backup_schedule_when_parse (bad[i].spec, &when, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, bad[i].message) == NULL)
        g_error ("%s: %s", bad[i].spec, error->message);
      /* Untouched on error. */
      g_assert_cmpuint (when.hour, ==, 1);
    }
}

static void
test_when_hourly (void)
{
  g_autoptr (GTimeZone) tz = berlin ();
  g_autoptr (GTimeZone) kolkata = g_time_zone_new_identifier ("Asia/Kolkata");

  if (tz == NULL)
    return;
  assert_next ("hourly:15", NULL, at (2026, 1, 5, 10, 14, 59), at (2026, 1, 5, 10, 15, 0));
  assert_next ("hourly:15", NULL, at (2026, 1, 5, 10, 15, 0), at (2026, 1, 5, 11, 15, 0));
  assert_next ("hourly:15", NULL, at (2026, 1, 5, 10, 15, 0) - 1, at (2026, 1, 5, 10, 15, 0));
  assert_next ("hourly:00", NULL, at (2026, 12, 31, 23, 30, 0), at (2027, 1, 1, 0, 0, 0));
  /* Spring forward (Berlin, 2026-03-29 02:00 → 03:00): 01:15, then 03:15. */
  assert_next ("hourly:15", tz, at_tz (tz, 2026, 3, 29, 1, 15, 0),
               at_tz (tz, 2026, 3, 29, 3, 15, 0));
  /* Fall back (2026-10-25 03:00 → 02:00): 02:15 happens twice, an hour
   * apart, and an hourly schedule runs at both. */
  assert_next ("hourly:15", tz, at (2026, 10, 24, 23, 15, 0), at (2026, 10, 25, 0, 15, 0));
  assert_next ("hourly:15", tz, at (2026, 10, 25, 0, 15, 0), at (2026, 10, 25, 1, 15, 0));
  /* A zone half an hour off: minute 15 of its own clock. */
  if (kolkata != NULL)
    assert_next ("hourly:15", kolkata, at (2026, 1, 5, 10, 0, 0), at (2026, 1, 5, 10, 45, 0));
}

static void
test_when_daily (void)
{
  g_autoptr (GTimeZone) tz = berlin ();
  BackupScheduleWhen when;

  if (tz == NULL)
    return;
  assert_next ("daily:21:30", NULL, at (2026, 1, 5, 10, 0, 0), at (2026, 1, 5, 21, 30, 0));
  assert_next ("daily:21:30", NULL, at (2026, 1, 5, 21, 30, 0), at (2026, 1, 6, 21, 30, 0));
  assert_next ("daily:00:00", NULL, at (2026, 2, 28, 0, 0, 0), at (2026, 3, 1, 0, 0, 0));
  assert_next ("daily:21:30", tz, at (2026, 1, 5, 10, 0, 0), at (2026, 1, 5, 20, 30, 0));
  /* Summer time: 21:30 is 19:30 UTC. */
  assert_next ("daily:21:30", tz, at (2026, 7, 1, 19, 30, 0), at (2026, 7, 2, 19, 30, 0));

  /* Spring forward: 02:30 does not exist on 2026-03-29; it runs once, at
   * 03:00 (01:00 UTC), then at 02:30 the next day. */
  assert_next ("daily:02:30", tz, at_tz (tz, 2026, 3, 28, 2, 30, 0), at (2026, 3, 29, 1, 0, 0));
  assert_next ("daily:02:30", tz, at (2026, 3, 29, 1, 0, 0), at_tz (tz, 2026, 3, 30, 2, 30, 0));
  assert_next ("daily:02:30", tz, at (2026, 3, 29, 0, 59, 59), at (2026, 3, 29, 1, 0, 0));
  /* 03:00 itself that day is the same instant. */
  assert_next ("daily:03:00", tz, at (2026, 3, 28, 12, 0, 0), at (2026, 3, 29, 1, 0, 0));

  /* Fall back: 02:30 happens twice on 2026-10-25; it runs at the first
   * (00:30 UTC), not at the second (01:30 UTC). */
  assert_next ("daily:02:30", tz, at (2026, 10, 24, 12, 0, 0), at (2026, 10, 25, 0, 30, 0));
  assert_next ("daily:02:30", tz, at (2026, 10, 25, 0, 30, 0), at (2026, 10, 26, 1, 30, 0));

  /* The last due time. */
  when = when_of ("daily:02:30");
  g_assert_cmpint (backup_schedule_when_last_at (&when, tz, at (2026, 10, 26, 1, 30, 0)), ==,
                   at (2026, 10, 26, 1, 30, 0));
  g_assert_cmpint (backup_schedule_when_last_at (&when, tz, at (2026, 10, 26, 1, 29, 59)), ==,
                   at (2026, 10, 25, 0, 30, 0));
  g_assert_cmpint (backup_schedule_when_last_at (&when, tz, at (2026, 3, 29, 12, 0, 0)), ==,
                   at (2026, 3, 29, 1, 0, 0));
}

static void
test_when_weekly (void)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GTimeZone) tz = berlin ();
  BackupScheduleWhen when = when_of ("hourly:20");

  if (tz == NULL)
    return;
  /* 2026-01-05 is a Monday. */
  assert_next ("weekly:mon:09:00", NULL, at (2026, 1, 4, 12, 0, 0), at (2026, 1, 5, 9, 0, 0));
  assert_next ("weekly:mon:09:00", NULL, at (2026, 1, 5, 9, 0, 0), at (2026, 1, 12, 9, 0, 0));
  assert_next ("weekly:sun:09:00", NULL, at (2026, 1, 5, 9, 0, 0), at (2026, 1, 11, 9, 0, 0));
  assert_next ("weekly:fri:23:59", NULL, at (2026, 1, 9, 23, 59, 1), at (2026, 1, 16, 23, 59, 0));
  /* Across the change of 2026-03-29 (a Sunday), in Berlin's time. */
  assert_next ("weekly:sun:02:30", tz, at (2026, 3, 25, 0, 0, 0), at (2026, 3, 29, 1, 0, 0));
  assert_next ("weekly:mon:09:00", tz, at (2026, 3, 26, 0, 0, 0), at (2026, 3, 30, 7, 0, 0));
  assert_next ("weekly:mon:09:00", tz, at (2026, 3, 20, 0, 0, 0), at (2026, 3, 23, 8, 0, 0));

  g_assert_cmpint (backup_schedule_when_last_at (&when, utc, at (2026, 1, 5, 10, 19, 59)), ==,
                   at (2026, 1, 5, 9, 20, 0));
  when = when_of ("weekly:mon:09:00");
  g_assert_cmpint (backup_schedule_when_last_at (&when, utc, at (2026, 1, 11, 23, 0, 0)), ==,
                   at (2026, 1, 5, 9, 0, 0));
}

/* --- files ---------------------------------------------------------------- */

static BackupSchedule *
make_schedule (const char *id, const char *spec, gint64 created)
{
  BackupScheduleWhen when = when_of (spec);
  BackupSchedule *schedule = backup_schedule_new (NULL, "/srv/data", "Receiver", &when);

  schedule->id = g_strdup (id);
  schedule->created = created;
  return schedule;
}

static void
test_schedules_file (void)
{
  g_autofree char *path = backup_schedule_get_default_path ();
  g_autoptr (BackupSchedule) a = make_schedule ("a", "daily:21:30", at (2026, 1, 5, 8, 0, 0));
  g_autoptr (BackupSchedule) b = make_schedule (NULL, "weekly:tue:07:00", 0);
  g_autoptr (BackupSchedule) found = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *id_a = NULL;
  g_autofree char *id_b = NULL;
  g_autofree char *data = NULL;
  GStatBuf st;

  reset_dirs ();
  g_assert_true (g_str_has_suffix (path, "/distributed-backup/schedules.conf"));
  list = backup_schedule_list (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  a->name = g_strdup ("Photos");
  a->password_file = g_strdup ("/home/me/passwords.bin");
  id_a = backup_schedule_add (NULL, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id_a, ==, "a");
  g_clear_pointer (&b->device, g_free);
  b->profile = g_strdup ("/home/me/.config/distributed-backup/laptop.conf");
  b->enabled = FALSE;
  id_b = backup_schedule_add (NULL, b, &error);
  g_assert_no_error (error);
  g_assert_true (backup_schedule_check_id (id_b, NULL));

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  list = backup_schedule_list (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  found = backup_schedule_copy (g_ptr_array_index (list, 0));
  g_assert_cmpstr (found->id, ==, "a");
  g_assert_cmpstr (found->name, ==, "Photos");
  g_assert_cmpstr (found->source, ==, "/srv/data");
  g_assert_cmpstr (found->device, ==, "Receiver");
  g_assert_null (found->profile);
  g_assert_cmpstr (found->password_file, ==, "/home/me/passwords.bin");
  g_assert_cmpint (found->when.kind, ==, BACKUP_SCHEDULE_DAILY);
  g_assert_cmpuint (found->when.hour, ==, 21);
  g_assert_cmpuint (found->when.minute, ==, 30);
  g_assert_true (found->enabled);
  g_assert_cmpint (found->created, ==, at (2026, 1, 5, 8, 0, 0));
  g_clear_pointer (&found, backup_schedule_free);

  found = backup_schedule_find (NULL, id_b, &error);
  g_assert_no_error (error);
  g_assert_null (found->device);
  g_assert_cmpstr (found->profile, ==, b->profile);
  g_assert_false (found->enabled);
  g_assert_cmpint (found->when.weekday, ==, G_DATE_TUESDAY);
  g_assert_cmpint (found->created, >, 0);

  /* Changed, then removed. */
  found->when = when_of ("hourly:07");
  g_assert_true (backup_schedule_update (NULL, found, &error));
  g_assert_no_error (error);
  g_clear_pointer (&found, backup_schedule_free);
  found = backup_schedule_find (NULL, id_b, &error);
  g_assert_cmpint (found->when.kind, ==, BACKUP_SCHEDULE_HOURLY);
  g_assert_true (backup_schedule_remove (NULL, "a", &error));
  g_assert_no_error (error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = backup_schedule_list (NULL, &error);
  g_assert_cmpuint (list->len, ==, 1);

  /* Refusals. */
  g_assert_null (backup_schedule_find (NULL, "a", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "There is no schedule “a”");
  g_clear_error (&error);
  g_assert_false (backup_schedule_remove (NULL, "a", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (backup_schedule_update (NULL, a, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (backup_schedule_add (NULL, found, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (backup_schedule_remove (NULL, "a b", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_free (a->source);
  a->source = g_strdup ("relative/path");
  g_assert_null (backup_schedule_add (NULL, a, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (a->source);
  a->source = g_strdup ("/srv/data");
  a->profile = g_strdup ("/p.conf");
  g_assert_null (backup_schedule_add (NULL, a, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A broken file: the group is named. */
  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  g_assert_true (g_file_set_contents (path, "[Schedule x]\nsource=/a\ndevice=D\nwhen=daily:25:00\n",
                                      -1, NULL));
  g_assert_null (backup_schedule_list (NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "The schedule “x” in"));
  g_assert_nonnull (strstr (error->message, "“25” is not an hour"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "not a key file\n", -1, NULL));
  g_assert_null (backup_schedule_list (NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "[Schedule y]\nsource=/a\ndevice=D\n", -1, NULL));
  g_assert_null (backup_schedule_list (NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_clear_error (&error);
}

static void
test_state_file (void)
{
  g_autofree char *path = backup_schedule_get_default_state_path ();
  g_autoptr (GHashTable) states = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) loaded = NULL;
  g_autoptr (GError) error = NULL;
  BackupScheduleState a = { at (2026, 1, 5, 12, 0, 0),      at (2026, 1, 5, 12, 3, 0),
                            BACKUP_SCHEDULE_OUTCOME_FAILED, 123456789012,
                            (char *)"No peer\n2",           3,
                            at (2026, 1, 5, 12, 7, 0),      at (2026, 1, 5, 12, 0, 0) };
  BackupScheduleState b = { 1, 2, BACKUP_SCHEDULE_OUTCOME_CANCELLED, 0, NULL, 0, 0, 0 };
  const BackupScheduleState *got;
  GStatBuf st;

  reset_dirs ();
  g_assert_true (g_str_has_suffix (path, "/distributed-backup/schedules-state.conf"));
  loaded = backup_schedule_state_load (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (loaded), ==, 0);
  g_clear_pointer (&loaded, g_hash_table_unref);

  g_hash_table_insert (states, (char *)"a", &a);
  g_hash_table_insert (states, (char *)"b-2", &b);
  g_assert_true (backup_schedule_state_save (NULL, states, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  loaded = backup_schedule_state_load (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (loaded), ==, 2);
  got = g_hash_table_lookup (loaded, "a");
  g_assert_cmpint (got->last_start, ==, a.last_start);
  g_assert_cmpint (got->last_end, ==, a.last_end);
  g_assert_cmpint (got->outcome, ==, BACKUP_SCHEDULE_OUTCOME_FAILED);
  g_assert_cmpuint (got->bytes, ==, a.bytes);
  g_assert_cmpstr (got->error, ==, a.error);
  g_assert_cmpuint (got->failures, ==, 3);
  g_assert_cmpint (got->next_retry, ==, a.next_retry);
  g_assert_cmpint (got->served, ==, a.served);
  got = g_hash_table_lookup (loaded, "b-2");
  g_assert_cmpint (got->outcome, ==, BACKUP_SCHEDULE_OUTCOME_CANCELLED);
  g_assert_null (got->error);
  g_assert_cmpstr (backup_schedule_outcome_to_string (got->outcome), ==, "cancelled");

  g_assert_true (g_file_set_contents (path, "[State a]\nlast-start=x\n", -1, NULL));
  g_clear_pointer (&loaded, g_hash_table_unref);
  g_assert_null (backup_schedule_state_load (NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
}

/* --- the scheduler with a fake run function ------------------------------- */

typedef struct
{
  BackupClock *clock;
  BackupScheduler *scheduler;
  GQueue pending; /* GTask of runs not finished */
  GPtrArray *started;
  GPtrArray *finished;
  GPtrArray *failed;
  guint changed;
  gint64 last_start_time;
} Fake;

static void
fake_run (BackupScheduler *scheduler, const BackupSchedule *schedule, GCancellable *cancellable,
          GAsyncReadyCallback callback, gpointer callback_data, gpointer user_data)
{
  Fake *f = user_data;
  GTask *task = g_task_new (scheduler, cancellable, callback, callback_data);

  g_task_set_task_data (task, g_strdup (schedule->id), g_free);
  g_queue_push_tail (&f->pending, task);
}

static gboolean
fake_finish (BackupScheduler *scheduler, GAsyncResult *result, guint64 *bytes, gpointer user_data,
             GError **error)
{
  gssize value = g_task_propagate_int (G_TASK (result), error);

  if (value < 0)
    return FALSE;
  *bytes = (guint64)value;
  return TRUE;
}

static void
spin (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Ends the oldest run: @bytes sent, or failed with @message. */
static void
finish_run (Fake *f, const char *id, gssize bytes, const char *message)
{
  g_autoptr (GTask) task = g_queue_pop_head (&f->pending);

  g_assert_nonnull (task);
  g_assert_cmpstr (g_task_get_task_data (task), ==, id);
  if (g_task_return_error_if_cancelled (task))
    ;
  else if (message != NULL)
    g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_TIMEOUT, "%s", message);
  else
    g_task_return_int (task, bytes);
  spin ();
}

static void
started_cb (BackupScheduler *scheduler, const char *id, gpointer user_data)
{
  Fake *f = user_data;

  g_assert_cmpstr (backup_scheduler_get_running (scheduler), ==, id);
  g_assert_cmpint (backup_scheduler_get_next_run (scheduler, id), ==, 0);
  g_ptr_array_add (f->started, g_strdup (id));
  f->last_start_time = backup_clock_get_now (f->clock);
}

static void
finished_cb (BackupScheduler *scheduler, const char *id, const GError *error, gpointer user_data)
{
  Fake *f = user_data;

  g_assert_null (backup_scheduler_get_running (scheduler));
  g_ptr_array_add (f->finished,
                   g_strdup_printf ("%s:%s", id,
                                    error == NULL ? "ok"
                                    : g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                        ? "cancelled"
                                        : error->message));
}

static void
failed_cb (BackupScheduler *scheduler, const char *id, const GError *error, gpointer user_data)
{
  Fake *f = user_data;

  g_assert_nonnull (error);
  g_ptr_array_add (f->failed, g_strdup_printf ("%s:%s", id, error->message));
}

static void
changed_cb (BackupScheduler *scheduler, const char *id, gpointer user_data)
{
  ((Fake *)user_data)->changed++;
}

static void
fake_new_scheduler (Fake *f)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  g_clear_object (&f->scheduler);
  f->scheduler = backup_scheduler_new (f->clock, NULL, NULL);
  backup_scheduler_set_time_zone (f->scheduler, utc);
  backup_scheduler_set_run_func (f->scheduler, fake_run, fake_finish, f, NULL);
  g_signal_connect (f->scheduler, "schedule-started", G_CALLBACK (started_cb), f);
  g_signal_connect (f->scheduler, "schedule-finished", G_CALLBACK (finished_cb), f);
  g_signal_connect (f->scheduler, "schedule-failed", G_CALLBACK (failed_cb), f);
  g_signal_connect (f->scheduler, "schedule-changed", G_CALLBACK (changed_cb), f);
}

static void
fake_set_up (Fake *f, gconstpointer data)
{
  reset_dirs ();
  f->clock = backup_clock_new_manual (at (2026, 1, 5, 8, 0, 0));
  g_queue_init (&f->pending);
  f->started = g_ptr_array_new_with_free_func (g_free);
  f->finished = g_ptr_array_new_with_free_func (g_free);
  f->failed = g_ptr_array_new_with_free_func (g_free);
  fake_new_scheduler (f);
}

static void
fake_tear_down (Fake *f, gconstpointer data)
{
  g_assert_true (g_queue_is_empty (&f->pending));
  backup_scheduler_stop (f->scheduler);
  g_clear_object (&f->scheduler);
  g_clear_object (&f->clock);
  g_ptr_array_unref (f->started);
  g_ptr_array_unref (f->finished);
  g_ptr_array_unref (f->failed);
}

static void
add (const char *id, const char *spec, gint64 created)
{
  g_autoptr (BackupSchedule) schedule = make_schedule (id, spec, created);
  g_autoptr (GError) error = NULL;
  g_autofree char *added = backup_schedule_add (NULL, schedule, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (added, ==, id);
}

static void
start (Fake *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_scheduler_start (f->scheduler, &error));
  g_assert_no_error (error);
}

static void
advance_to (Fake *f, gint64 time)
{
  g_assert_cmpint (time, >=, backup_clock_get_now (f->clock));
  backup_clock_set_now (f->clock, time);
  spin ();
}

static void
assert_state (Fake *f, const char *id, BackupScheduleOutcome outcome, guint failures)
{
  BackupScheduleState state = { 0 };

  g_assert_true (backup_scheduler_get_state (f->scheduler, id, &state));
  g_assert_cmpint (state.outcome, ==, outcome);
  g_assert_cmpuint (state.failures, ==, failures);
  backup_schedule_state_clear (&state);
}

static void
test_fires_on_time (Fake *f, gconstpointer data)
{
  BackupScheduleState state = { 0 };
  g_autoptr (GPtrArray) schedules = NULL;

  add ("daily", "daily:12:00", at (2026, 1, 5, 8, 0, 0));
  start (f);
  schedules = backup_scheduler_dup_schedules (f->scheduler);
  g_assert_cmpuint (schedules->len, ==, 1);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "daily"), ==,
                   at (2026, 1, 5, 12, 0, 0));
  assert_state (f, "daily", BACKUP_SCHEDULE_OUTCOME_NONE, 0);

  /* Not early. */
  advance_to (f, at (2026, 1, 5, 11, 59, 59));
  g_assert_cmpuint (f->started->len, ==, 0);
  advance_to (f, at (2026, 1, 5, 12, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 1);
  g_assert_cmpint (f->last_start_time, ==, at (2026, 1, 5, 12, 0, 0));

  advance_to (f, at (2026, 1, 5, 12, 0, 30));
  finish_run (f, "daily", 1234, NULL);
  g_assert_cmpuint (f->finished->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->finished, 0), ==, "daily:ok");
  g_assert_cmpuint (f->failed->len, ==, 0);
  g_assert_true (backup_scheduler_get_state (f->scheduler, "daily", &state));
  g_assert_cmpint (state.outcome, ==, BACKUP_SCHEDULE_OUTCOME_OK);
  g_assert_cmpint (state.last_start, ==, at (2026, 1, 5, 12, 0, 0));
  g_assert_cmpint (state.last_end, ==, at (2026, 1, 5, 12, 0, 30));
  g_assert_cmpuint (state.bytes, ==, 1234);
  g_assert_null (state.error);
  backup_schedule_state_clear (&state);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "daily"), ==,
                   at (2026, 1, 6, 12, 0, 0));
  g_assert_cmpuint (f->changed, >=, 2);

  /* A day later, once more. */
  advance_to (f, at (2026, 1, 6, 11, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 1);
  advance_to (f, at (2026, 1, 6, 13, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 2);
  finish_run (f, "daily", 1, NULL);
}

static void
test_one_at_a_time (Fake *f, gconstpointer data)
{
  add ("a", "daily:12:00", at (2026, 1, 5, 8, 0, 0));
  add ("b", "hourly:00", at (2026, 1, 5, 8, 30, 0));
  add ("c", "weekly:mon:11:00", at (2026, 1, 5, 8, 0, 0));
  start (f);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "b"), ==, at (2026, 1, 5, 9, 0, 0));
  advance_to (f, at (2026, 1, 5, 9, 0, 0));
  finish_run (f, "b", 1, NULL);
  advance_to (f, at (2026, 1, 5, 10, 0, 0));
  finish_run (f, "b", 1, NULL);
  g_assert_cmpuint (f->started->len, ==, 2);

  /* c at 11:00 runs past 12:00: a and b wait for it, then a, then b. */
  advance_to (f, at (2026, 1, 5, 11, 0, 0));
  finish_run (f, "b", 1, NULL); /* b's 11:00 came first (earlier in the file) */
  g_assert_cmpuint (f->started->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (f->started, 3), ==, "c");
  advance_to (f, at (2026, 1, 5, 12, 5, 0));
  g_assert_cmpuint (f->started->len, ==, 4);
  g_assert_cmpuint (g_queue_get_length (&f->pending), ==, 1);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "a"), ==,
                   at (2026, 1, 5, 12, 0, 0));
  finish_run (f, "c", 1, NULL);
  g_assert_cmpuint (f->started->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (f->started, 4), ==, "a");
  g_assert_cmpstr (backup_scheduler_get_running (f->scheduler), ==, "a");
  finish_run (f, "a", 1, NULL);
  g_assert_cmpuint (f->started->len, ==, 6);
  g_assert_cmpstr (g_ptr_array_index (f->started, 5), ==, "b");
  finish_run (f, "b", 1, NULL);
  g_assert_null (backup_scheduler_get_running (f->scheduler));
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "b"), ==,
                   at (2026, 1, 5, 13, 0, 0));
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "c"), ==,
                   at (2026, 1, 12, 11, 0, 0));
}

static void
test_missed_run (Fake *f, gconstpointer data)
{
  g_autoptr (GHashTable) states = g_hash_table_new (g_str_hash, g_str_equal);
  BackupScheduleState last = { at (2026, 1, 5, 8, 30, 0),
                               at (2026, 1, 5, 8, 31, 0),
                               BACKUP_SCHEDULE_OUTCOME_OK,
                               10,
                               NULL,
                               0,
                               0,
                               at (2026, 1, 5, 8, 30, 0) };

  /* The machine was off from 8:31 to 14:10: five runs missed, one made. */
  add ("hourly", "hourly:30", at (2026, 1, 5, 8, 0, 0));
  add ("new", "daily:14:00", at (2026, 1, 5, 14, 5, 0)); /* created after its time */
  add ("off", "hourly:00", at (2026, 1, 5, 8, 0, 0));
  g_hash_table_insert (states, (char *)"hourly", &last);
  g_assert_true (backup_schedule_state_save (NULL, states, NULL));
  {
    g_autoptr (BackupSchedule) off = backup_schedule_find (NULL, "off", NULL);

    off->enabled = FALSE;
    g_assert_true (backup_schedule_update (NULL, off, NULL));
  }
  backup_clock_set_now (f->clock, at (2026, 1, 5, 14, 10, 0));
  start (f);
  g_assert_cmpuint (f->started->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->started, 0), ==, "hourly");
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "new"), ==,
                   at (2026, 1, 6, 14, 0, 0));
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "off"), ==, 0);
  advance_to (f, at (2026, 1, 5, 14, 12, 0));
  finish_run (f, "hourly", 5, NULL);
  g_assert_cmpuint (f->started->len, ==, 1);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 14, 30, 0));
  advance_to (f, at (2026, 1, 5, 14, 29, 0));
  g_assert_cmpuint (f->started->len, ==, 1);
  advance_to (f, at (2026, 1, 5, 14, 30, 0));
  g_assert_cmpuint (f->started->len, ==, 2);
  finish_run (f, "hourly", 5, NULL);

  /* Asleep for five hours while running: the clock jumps, one run. */
  advance_to (f, at (2026, 1, 5, 19, 50, 0));
  g_assert_cmpuint (f->started->len, ==, 3);
  finish_run (f, "hourly", 5, NULL);
  g_assert_cmpuint (f->started->len, ==, 3);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 20, 30, 0));
}

static void
test_backoff (Fake *f, gconstpointer data)
{
  BackupScheduleState state = { 0 };
  static const int retries[][2] = { { 12, 1 }, { 12, 3 }, { 12, 7 }, { 12, 15 }, { 12, 31 } };

  add ("daily", "daily:18:00", at (2026, 1, 5, 8, 0, 0));
  add ("hourly", "hourly:00", at (2026, 1, 5, 8, 0, 0));
  start (f);

  /* hourly fails at 9:00 and again: 1, 2, 4, 8, 16 minutes, then the
   * next regular run (10:00) comes before 32 minutes. */
  advance_to (f, at (2026, 1, 5, 9, 0, 0));
  finish_run (f, "hourly", -1, "No peer");
  g_assert_cmpuint (f->failed->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->failed, 0), ==, "hourly:No peer");
  for (guint i = 0; i < G_N_ELEMENTS (retries); i++)
    {
      gint64 retry = at (2026, 1, 5, 9, retries[i][1], 0);

      g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==, retry);
      advance_to (f, retry - G_USEC_PER_SEC);
      g_assert_cmpuint (f->started->len, ==, i + 1);
      advance_to (f, retry);
      g_assert_cmpuint (f->started->len, ==, i + 2);
      finish_run (f, "hourly", -1, "No peer again");
    }
  g_assert_cmpuint (f->failed->len, ==, 1);
  g_assert_cmpuint (f->finished->len, ==, 6);
  g_assert_true (backup_scheduler_get_state (f->scheduler, "hourly", &state));
  g_assert_cmpint (state.outcome, ==, BACKUP_SCHEDULE_OUTCOME_FAILED);
  g_assert_cmpuint (state.failures, ==, 6);
  g_assert_cmpstr (state.error, ==, "No peer again");
  g_assert_cmpint (state.next_retry, ==, at (2026, 1, 5, 10, 0, 0));
  backup_schedule_state_clear (&state);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 10, 0, 0));

  /* The streak goes on at 10:00 (no second notice; the wait would be an
   * hour: the next regular run comes first), then ends at 11:00. */
  advance_to (f, at (2026, 1, 5, 10, 0, 0));
  finish_run (f, "hourly", -1, "Still no peer");
  g_assert_cmpuint (f->failed->len, ==, 1);
  assert_state (f, "hourly", BACKUP_SCHEDULE_OUTCOME_FAILED, 7);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 11, 0, 0));
  advance_to (f, at (2026, 1, 5, 11, 0, 0));
  advance_to (f, at (2026, 1, 5, 11, 0, 10));
  finish_run (f, "hourly", 77, NULL);
  assert_state (f, "hourly", BACKUP_SCHEDULE_OUTCOME_OK, 0);
  g_assert_true (backup_scheduler_get_state (f->scheduler, "hourly", &state));
  g_assert_cmpint (state.next_retry, ==, 0);
  g_assert_null (state.error);
  g_assert_cmpuint (state.bytes, ==, 77);
  backup_schedule_state_clear (&state);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 12, 0, 0));

  /* A new streak is told again; the back-off starts over. */
  advance_to (f, at (2026, 1, 5, 12, 0, 0));
  finish_run (f, "hourly", -1, "Gone");
  g_assert_cmpuint (f->failed->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->failed, 1), ==, "hourly:Gone");
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==,
                   at (2026, 1, 5, 12, 1, 0));

  /* Disabled: no retry. */
  {
    g_autoptr (BackupSchedule) hourly = backup_schedule_find (NULL, "hourly", NULL);

    hourly->enabled = FALSE;
    g_assert_true (backup_schedule_update (NULL, hourly, NULL));
    g_assert_true (backup_scheduler_reload (f->scheduler, NULL));
    g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "hourly"), ==, 0);
  }

  /* A daily schedule's retries: capped at an hour. */
  advance_to (f, at (2026, 1, 5, 18, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 10);
  for (guint i = 0; i < 8; i++)
    {
      gint64 next;

      finish_run (f, "daily", -1, "Down");
      next = backup_scheduler_get_next_run (f->scheduler, "daily");
      g_assert_cmpint (next - backup_clock_get_now (f->clock), ==,
                       MIN ((gint64)60 << i, 3600) * G_USEC_PER_SEC);
      advance_to (f, next);
    }
  g_assert_cmpuint (f->failed->len, ==, 3);
  finish_run (f, "daily", 1, NULL);
}

static void
test_state_kept (Fake *f, gconstpointer data)
{
  BackupScheduleState state = { 0 };

  add ("a", "daily:12:00", at (2026, 1, 5, 8, 0, 0));
  add ("b", "daily:13:00", at (2026, 1, 5, 8, 0, 0));
  start (f);
  advance_to (f, at (2026, 1, 5, 12, 0, 0));
  advance_to (f, at (2026, 1, 5, 12, 10, 0));
  finish_run (f, "a", 4096, NULL);
  advance_to (f, at (2026, 1, 5, 13, 0, 0));
  finish_run (f, "b", -1, "Refused");
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "b"), ==,
                   at (2026, 1, 5, 13, 1, 0));

  /* The program ends and starts again half a minute later. */
  backup_scheduler_stop (f->scheduler);
  advance_to (f, at (2026, 1, 5, 13, 0, 30));
  fake_new_scheduler (f);
  start (f);
  g_assert_cmpuint (f->started->len, ==, 2);
  g_assert_true (backup_scheduler_get_state (f->scheduler, "a", &state));
  g_assert_cmpint (state.outcome, ==, BACKUP_SCHEDULE_OUTCOME_OK);
  g_assert_cmpint (state.last_start, ==, at (2026, 1, 5, 12, 0, 0));
  g_assert_cmpint (state.last_end, ==, at (2026, 1, 5, 12, 10, 0));
  g_assert_cmpuint (state.bytes, ==, 4096);
  backup_schedule_state_clear (&state);
  g_assert_true (backup_scheduler_get_state (f->scheduler, "b", &state));
  g_assert_cmpint (state.outcome, ==, BACKUP_SCHEDULE_OUTCOME_FAILED);
  g_assert_cmpuint (state.failures, ==, 1);
  g_assert_cmpstr (state.error, ==, "Refused");
  backup_schedule_state_clear (&state);
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "a"), ==,
                   at (2026, 1, 6, 12, 0, 0));
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "b"), ==,
                   at (2026, 1, 5, 13, 1, 0));
  /* The retry is kept, and the streak: no second notice. */
  advance_to (f, at (2026, 1, 5, 13, 1, 0));
  g_assert_cmpuint (f->started->len, ==, 3);
  finish_run (f, "b", -1, "Refused");
  g_assert_cmpuint (f->failed->len, ==, 1);
  assert_state (f, "b", BACKUP_SCHEDULE_OUTCOME_FAILED, 2);

  /* Stopped while running: due again at the next start. */
  advance_to (f, at (2026, 1, 5, 13, 3, 0));
  g_assert_cmpuint (f->started->len, ==, 4);
  backup_scheduler_stop (f->scheduler);
  finish_run (f, "b", 0, NULL);
  g_assert_cmpstr (g_ptr_array_index (f->finished, f->finished->len - 1), ==, "b:cancelled");
  assert_state (f, "b", BACKUP_SCHEDULE_OUTCOME_CANCELLED, 2);
  fake_new_scheduler (f);
  start (f);
  g_assert_cmpuint (f->started->len, ==, 5);
  finish_run (f, "b", 9, NULL);
  assert_state (f, "b", BACKUP_SCHEDULE_OUTCOME_OK, 0);
}

static void
test_remove (Fake *f, gconstpointer data)
{
  g_autoptr (GHashTable) states = NULL;

  add ("a", "daily:12:00", at (2026, 1, 5, 8, 0, 0));
  add ("b", "daily:12:00", at (2026, 1, 5, 8, 0, 0));
  add ("c", "daily:14:00", at (2026, 1, 5, 8, 0, 0));
  start (f);

  /* c removed while it waits: it never runs. */
  g_assert_true (backup_schedule_remove (NULL, "c", NULL));
  g_assert_true (backup_scheduler_reload (f->scheduler, NULL));
  g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "c"), ==, 0);

  /* b removed while it waits for a to end. */
  advance_to (f, at (2026, 1, 5, 12, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 1);
  g_assert_true (backup_schedule_remove (NULL, "b", NULL));
  g_assert_true (backup_scheduler_reload (f->scheduler, NULL));
  finish_run (f, "a", 1, NULL);
  g_assert_cmpuint (f->started->len, ==, 1);
  g_assert_null (backup_scheduler_get_running (f->scheduler));

  /* a removed while it runs: cancelled, and forgotten. */
  advance_to (f, at (2026, 1, 6, 12, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 2);
  g_assert_true (backup_schedule_remove (NULL, "a", NULL));
  g_assert_true (backup_scheduler_reload (f->scheduler, NULL));
  g_assert_null (backup_scheduler_get_running (f->scheduler));
  finish_run (f, "a", 1, NULL);
  g_assert_cmpstr (g_ptr_array_index (f->finished, 1), ==, "a:cancelled");
  g_assert_false (backup_scheduler_get_state (f->scheduler, "a", &(BackupScheduleState){ 0 }));
  advance_to (f, at (2026, 1, 20, 0, 0, 0));
  g_assert_cmpuint (f->started->len, ==, 2);
  states = backup_schedule_state_load (NULL, NULL);
  g_assert_cmpuint (g_hash_table_size (states), ==, 0);

  /* Added while running: picked up by a reload. */
  add ("d", "hourly:10", at (2026, 1, 20, 0, 0, 0));
  g_assert_true (backup_scheduler_reload (f->scheduler, NULL));
  advance_to (f, at (2026, 1, 20, 0, 10, 0));
  g_assert_cmpuint (f->started->len, ==, 3);
  finish_run (f, "d", 1, NULL);

  /* A broken file leaves the schedules as they were. */
  {
    g_autofree char *path = backup_schedule_get_default_path ();
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_set_contents (path, "[Schedule d]\nwhen=never\n", -1, NULL));
    g_assert_false (backup_scheduler_reload (f->scheduler, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
    g_assert_cmpint (backup_scheduler_get_next_run (f->scheduler, "d"), ==,
                     at (2026, 1, 20, 1, 10, 0));
  }
}

/* --- the real run function ------------------------------------------------ */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} Wait;

static void
receiver_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;

  w->ok = backup_runner_run_finish (BACKUP_RUNNER (object), result, &w->error);
  w->done = TRUE;
}

static void
real_finished_cb (BackupScheduler *scheduler, const char *id, const GError *error,
                  gpointer user_data)
{
  Wait *w = user_data;

  w->ok = error == NULL;
  w->error = error != NULL ? g_error_copy (error) : NULL;
  w->done = TRUE;
}

static void
prepare_profile_cb (BackupScheduler *scheduler, const char *id, BackupProfile *profile,
                    gpointer user_data)
{
  g_assert_cmpstr (id, ==, "real");
  backup_profile_set_ice_addresses (profile, loopback);
  backup_profile_set_timeout (profile, 30);
}

static void
test_real_runner (void)
{
  g_autofree char *root = g_dir_make_tmp ("test-schedule-XXXXXX", NULL);
  g_autofree char *signaling = g_build_filename (root, "signaling", NULL);
  g_autofree char *dest = g_build_filename (root, "dest", NULL);
  g_autofree char *source = g_build_filename (root, "data.bin", NULL);
  g_autofree char *stored = g_build_filename (dest, "data.bin", NULL);
  g_autofree char *sender_fp = NULL;
  g_autofree char *receiver_fp = NULL;
  g_autofree char *added = NULL;
  g_autofree char *got = NULL;
  g_autofree guint8 *data = NULL;
  g_autoptr (RtcCertificate) sender_certificate = NULL;
  g_autoptr (RtcCertificate) receiver_certificate = NULL;
  g_autoptr (BackupDevice) receiver_device = NULL;
  g_autoptr (BackupDevice) sender_device = NULL;
  g_autoptr (BackupProfile) receiver_profile = NULL;
  g_autoptr (BackupRunner) receiver = NULL;
  g_autoptr (BackupClock) clock = backup_clock_new_manual (at (2026, 1, 5, 8, 0, 0));
  g_autoptr (BackupScheduler) scheduler = NULL;
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GFile) dest_file = g_file_new_for_path (dest);
  g_autoptr (GError) error = NULL;
  BackupScheduleWhen when = when_of ("daily:12:00");
  BackupScheduleState state = { 0 };
  Wait ws = { 0 }, wr = { 0 };
  const gsize size = 256 * 1024 + 3;
  gsize length = 0;

  reset_dirs ();
  g_assert_cmpint (g_mkdir (signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (dest, 0700), ==, 0);
  data = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8)(i * 7 + 3);
  g_assert_true (g_file_set_contents (source, (const char *)data, (gssize)size, NULL));

  /* This device (the default folder of the test's own XDG dirs) is paired
   * with a receiver whose certificate lives only in memory. */
  sender_certificate = backup_device_load_certificate (NULL, TRUE, &error);
  g_assert_no_error (error);
  receiver_certificate = rtc_certificate_generate (&error);
  g_assert_no_error (error);
  sender_fp = rtc_certificate_get_fingerprint_string (sender_certificate);
  receiver_fp = rtc_certificate_get_fingerprint_string (receiver_certificate);
  receiver_device = backup_device_new ("Receiver", receiver_fp, signaling, "scheduled-1");
  g_free (backup_device_add (NULL, receiver_device, &error));
  g_assert_no_error (error);
  sender_device = backup_device_new ("Sender", sender_fp, signaling, "scheduled-1");

  receiver_profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
  backup_profile_set_device (receiver_profile, sender_device, receiver_certificate);
  backup_profile_set_destination (receiver_profile, dest_file);
  backup_profile_set_ice_addresses (receiver_profile, loopback);
  backup_profile_set_timeout (receiver_profile, 30);

  schedule = backup_schedule_new ("Data", source, "Receiver", &when);
  schedule->id = g_strdup ("real");
  schedule->created = at (2026, 1, 5, 8, 0, 0);
  added = backup_schedule_add (NULL, schedule, &error);
  g_assert_no_error (error);

  scheduler = backup_scheduler_new (clock, NULL, NULL);
  backup_scheduler_set_time_zone (scheduler, utc);
  g_signal_connect (scheduler, "prepare-profile", G_CALLBACK (prepare_profile_cb), NULL);
  g_signal_connect (scheduler, "schedule-finished", G_CALLBACK (real_finished_cb), &ws);
  g_assert_true (backup_scheduler_start (scheduler, &error));
  g_assert_no_error (error);

  receiver = backup_runner_new (receiver_profile);
  backup_runner_run_async (receiver, NULL, receiver_done_cb, &wr);
  backup_clock_set_now (clock, at (2026, 1, 5, 12, 0, 0));
  g_assert_cmpstr (backup_scheduler_get_running (scheduler), ==, "real");
  while (!ws.done || !wr.done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_no_error (wr.error);
  g_assert_no_error (ws.error);
  g_assert_true (ws.ok && wr.ok);
  g_assert_true (g_file_get_contents (stored, &got, &length, NULL));
  g_assert_cmpmem (got, length, data, size);
  g_assert_true (backup_scheduler_get_state (scheduler, "real", &state));
  g_assert_cmpint (state.outcome, ==, BACKUP_SCHEDULE_OUTCOME_OK);
  g_assert_cmpuint (state.bytes, ==, size);
  backup_schedule_state_clear (&state);
  g_assert_cmpint (backup_scheduler_get_next_run (scheduler, "real"), ==,
                   at (2026, 1, 6, 12, 0, 0));

  /* A folder without a paired device fails at once, and is told. */
  backup_scheduler_stop (scheduler);
  {
    g_autoptr (BackupSchedule) missing = backup_schedule_find (NULL, "real", NULL);
    g_autoptr (BackupProfile) profile = NULL;

    g_free (missing->device);
    missing->device = g_strdup ("Nobody");
    profile = backup_scheduler_make_profile (missing, &error);
    g_assert_null (profile);
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_free (missing->source);
    missing->source = g_strdup (root);
    g_free (missing->device);
    missing->device = g_strdup ("Receiver");
    profile = backup_scheduler_make_profile (missing, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (backup_profile_get_archive_name (profile), ==, strrchr (root, '/') + 1);
  }

  g_remove (stored);
  g_remove (source);
  g_rmdir (dest);
  g_rmdir (signaling);
  g_rmdir (root);
}

int
main (int argc, char **argv)
{
  g_autofree char *config = NULL;
  g_autofree char *state = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  home = g_dir_make_tmp ("test-schedule-home-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (home, "config", NULL);
  state = g_build_filename (home, "state", NULL);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  g_assert_cmpstr (g_get_user_config_dir (), ==, config);
  g_assert_cmpstr (g_get_user_state_dir (), ==, state);

  g_test_add_func ("/schedule/clock/manual", test_clock_manual);
  g_test_add_func ("/schedule/clock/system", test_clock_system);
  g_test_add_func ("/schedule/when/parse", test_when_parse);
  g_test_add_func ("/schedule/when/hourly", test_when_hourly);
  g_test_add_func ("/schedule/when/daily", test_when_daily);
  g_test_add_func ("/schedule/when/weekly", test_when_weekly);
  g_test_add_func ("/schedule/file/schedules", test_schedules_file);
  g_test_add_func ("/schedule/file/state", test_state_file);
  g_test_add ("/schedule/scheduler/fires-on-time", Fake, NULL, fake_set_up, test_fires_on_time,
              fake_tear_down);
  g_test_add ("/schedule/scheduler/one-at-a-time", Fake, NULL, fake_set_up, test_one_at_a_time,
              fake_tear_down);
  g_test_add ("/schedule/scheduler/missed-run", Fake, NULL, fake_set_up, test_missed_run,
              fake_tear_down);
  g_test_add ("/schedule/scheduler/backoff", Fake, NULL, fake_set_up, test_backoff, fake_tear_down);
  g_test_add ("/schedule/scheduler/state-kept", Fake, NULL, fake_set_up, test_state_kept,
              fake_tear_down);
  g_test_add ("/schedule/scheduler/remove", Fake, NULL, fake_set_up, test_remove, fake_tear_down);
  g_test_add_func ("/schedule/scheduler/real-runner", test_real_runner);
  status = g_test_run ();
  remove_tree (home);
  g_free (home);
  return status;
}
