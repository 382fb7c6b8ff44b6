/* test-retention.c: retention policies, the version index, and prunes
 * interrupted at every step
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store runs on a clock of the test's own: a synthetic history of 60
 * versions over 90 days, in bursts within hours, is committed one version
 * at a time (a prune after each), and what stays is compared with a
 * reference written here independently (group the versions by period,
 * take the periods of the newest versions, keep the newest of each).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-profile.h"
#include "backup-reception.h"
#include "backup-store-private.h"
#include "store-test-util.h"

#define NAME "backup.zip"
#define N_HISTORY 60

typedef struct
{
  char *dir;
  GFile *file;
  gint64 now; /* the store's clock, µs */
  GTimeZone *zone;
  /* The step hook: fails every step from @fail_at on (a process that has
   * died does nothing more); counts the steps and records their names. */
  gint fail_at; /* -1: never */
  guint steps;
  GPtrArray *step_names;
} Fixture;

static GDateTime *
fixture_clock (gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_utc (f->now / G_USEC_PER_SEC);

  return g_date_time_add (seconds, f->now % G_USEC_PER_SEC);
}

static gboolean
fixture_step (const char *step, gpointer user_data)
{
  Fixture *f = user_data;

  if (f->fail_at >= 0 && f->steps >= (guint) f->fail_at)
    return FALSE;
  f->steps++;
  g_ptr_array_add (f->step_names, g_strdup (step));
  return TRUE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("backup-retention-XXXXXX", &error);
  g_assert_no_error (error);
  f->file = g_file_new_for_path (f->dir);
  f->zone = g_time_zone_new_utc ();
  f->fail_at = -1;
  f->step_names = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  store_test_remove_tree (f->dir);
  g_clear_object (&f->file);
  g_clear_pointer (&f->zone, g_time_zone_unref);
  g_ptr_array_unref (f->step_names);
  g_free (f->dir);
}

static BackupStore *
fixture_store (Fixture *f, const BackupRetention *retention, guint versions)
{
  BackupStore *store = backup_store_new (f->file, versions);

  backup_store_set_retention (store, retention);
  _backup_store_set_clock (store, fixture_clock, f);
  _backup_store_set_time_zone (store, f->zone);
  _backup_store_set_step_hook (store, fixture_step, f);
  return store;
}

static void
hook_reset (Fixture *f, gint fail_at)
{
  f->fail_at = fail_at;
  f->steps = 0;
  g_ptr_array_set_size (f->step_names, 0);
}

/* --- The history -------------------------------------------------------- */

/* 60 versions over 90 days from Monday 20 November 2023 (across a year
 * and an ISO year), in bursts of 1 to 6 versions a few minutes to two
 * hours apart, oldest first.  Deterministic. */
static gint64 *
make_history (void)
{
  g_autoptr (GDateTime) start = g_date_time_new_utc (2023, 11, 20, 6, 0, 0);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20231120);
  gint64 *times = g_new (gint64, N_HISTORY);
  gint64 t = g_date_time_to_unix (start) * G_USEC_PER_SEC;
  guint n = 0;

  while (n < N_HISTORY)
    {
      guint burst = (guint) g_rand_int_range (rand, 1, 7);

      /* The next burst: 0 to 4 days later (90 days in all, about). */
      t += (gint64) g_rand_int_range (rand, 20 * 3600, 110 * 3600) * G_USEC_PER_SEC / 2;
      for (guint b = 0; b < burst && n < N_HISTORY; b++)
        {
          t += (gint64) g_rand_int_range (rand, 5 * 60, 2 * 3600) * G_USEC_PER_SEC;
          times[n++] = t;
        }
    }
  return times;
}

static char *
content_of (guint i)
{
  return g_strdup_printf ("version %02u\n", i);
}

/* The reference: which of @times[0..n) (oldest first) a policy keeps. */
static char *
period_of (gint64 time, const char *format, GTimeZone *zone)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = g_date_time_to_timezone (utc, zone);

  return g_date_time_format (local, format);
}

static void
reference_periods (const gint64 *times, guint n, guint count, const char *format,
                   GTimeZone *zone, gboolean *keep)
{
  g_autoptr (GHashTable) newest = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) picks = g_ptr_array_new ();

  /* The newest version of each period... */
  for (guint i = 0; i < n; i++)
    {
      char *period = period_of (times[i], format, zone);
      gpointer found;

      if (g_hash_table_lookup_extended (newest, period, NULL, &found)
          && times[GPOINTER_TO_UINT (found)] >= times[i])
        g_free (period);
      else
        g_hash_table_insert (newest, period, GUINT_TO_POINTER (i));
    }
  /* ...for the @count periods of the newest versions. */
  for (guint i = n; i-- > 0;)
    {
      g_autofree char *period = period_of (times[i], format, zone);
      guint pick = GPOINTER_TO_UINT (g_hash_table_lookup (newest, period));

      if (pick == i && picks->len < count)
        g_ptr_array_add (picks, GUINT_TO_POINTER (i));
    }
  for (guint i = 0; i < picks->len; i++)
    keep[GPOINTER_TO_UINT (g_ptr_array_index (picks, i))] = TRUE;
}

static gboolean *
reference_keep (const BackupRetention *r, guint versions, const gint64 *times, guint n,
                GTimeZone *zone)
{
  gboolean *keep = g_new0 (gboolean, n);
  guint kept = 0;

  if (n == 0)
    return keep;
  for (guint i = n; i-- > 0 && n - i <= r->last;)
    keep[i] = TRUE;
  reference_periods (times, n, r->hourly, "%Y-%m-%d %H", zone, keep);
  reference_periods (times, n, r->daily, "%Y-%m-%d", zone, keep);
  reference_periods (times, n, r->weekly, "%G-W%V", zone, keep);
  reference_periods (times, n, r->monthly, "%Y-%m", zone, keep);
  if (!backup_retention_is_set (r))
    for (guint i = 0; i < n; i++)
      keep[i] = TRUE;
  keep[n - 1] = TRUE;
  /* The bound: the newest kept. */
  for (guint i = n; i-- > 0;)
    if (keep[i] && ++kept > versions)
      keep[i] = FALSE;
  return keep;
}

/* The contents NAME, NAME.1 … should have: the kept ones, newest first. */
static GPtrArray *
expected_contents (const gboolean *keep, guint n)
{
  GPtrArray *contents = g_ptr_array_new_with_free_func (g_free);

  for (guint i = n; i-- > 0;)
    if (keep[i])
      g_ptr_array_add (contents, content_of (i));
  return contents;
}

/* The contents of NAME, NAME.1 … up to the first gap; asserts that no
 * other visible file is there. */
static GPtrArray *
stored_contents (Fixture *f)
{
  GPtrArray *contents = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *entry;

  for (guint k = 0;; k++)
    {
      g_autofree char *file = k == 0 ? g_strdup (NAME) : g_strdup_printf (NAME ".%u", k);
      g_autofree char *path = g_build_filename (f->dir, file, NULL);
      char *data = NULL;

      if (!g_file_get_contents (path, &data, NULL, NULL))
        break;
      g_ptr_array_add (contents, data);
    }

  /* Nothing past the numbering: no gap was left. */
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      guint64 number = 0;

      if (entry[0] == '.')
        continue;
      if (g_str_equal (entry, NAME))
        continue;
      g_assert_true (g_str_has_prefix (entry, NAME "."));
      g_assert_true (g_ascii_string_to_unsigned (entry + strlen (NAME "."), 10, 1, G_MAXUINT,
                                                 &number, NULL));
      g_assert_cmpuint (number, <, contents->len);
    }
  return contents;
}

static guint
count_stored (Fixture *f)
{
  g_autoptr (GPtrArray) got = stored_contents (f);

  return got->len;
}

static void
assert_contents (GPtrArray *got, GPtrArray *expected)
{
  g_autoptr (GString) a = g_string_new (NULL);
  g_autoptr (GString) b = g_string_new (NULL);

  for (guint i = 0; i < got->len; i++)
    g_string_append (a, g_ptr_array_index (got, i));
  for (guint i = 0; i < expected->len; i++)
    g_string_append (b, g_ptr_array_index (expected, i));
  g_assert_cmpstr (a->str, ==, b->str);
}

static void
commit_version (Fixture *f, BackupStore *store, const gint64 *times, guint i)
{
  g_autofree char *content = content_of (i);

  f->now = times[i];
  store_test_receive (store, NAME, content);
}

static void
assert_no_parts (Fixture *f)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *entry;

  while ((entry = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_suffix (entry, ".part"));
}

/* --- The policy alone ---------------------------------------------------- */

static gint64
utc_us (int year, int month, int day, int hour, int minute)
{
  g_autoptr (GDateTime) t = g_date_time_new_utc (year, month, day, hour, minute, 0);

  return g_date_time_to_unix (t) * G_USEC_PER_SEC;
}

/* Small histories worked out by hand. */
static void
test_select_by_hand (void)
{
  /* Numbering order (newest first): 0 is NAME. */
  const gint64 times[] = {
    utc_us (2024, 3, 10, 18, 30), /* 0: Sun 10 March, 18h */
    utc_us (2024, 3, 10, 18, 5),  /* 1: same hour */
    utc_us (2024, 3, 10, 9, 0),   /* 2: same day, 9h */
    utc_us (2024, 3, 9, 23, 59),  /* 3: Sat 9 */
    utc_us (2024, 3, 4, 8, 0),    /* 4: Mon 4 (same ISO week as 9 and 10) */
    utc_us (2024, 3, 3, 8, 0),    /* 5: Sun 3 (the week before) */
    utc_us (2024, 2, 29, 12, 0),  /* 6: February */
    utc_us (2024, 1, 15, 12, 0),  /* 7: January */
  };
  const struct
  {
    BackupRetention policy;
    guint versions;
    const char *kept; /* one letter per version: k kept, . removed */
  } cases[] = {
    { { .last = 3 }, 100, "kkk....." },
    { { .hourly = 2 }, 100, "k.k....." },
    { { .hourly = 4 }, 100, "k.kkk..." },
    { { .daily = 2 }, 100, "k..k...." },
    { { .daily = 4 }, 100, "k..kkk.." },
    { { .weekly = 2 }, 100, "k....k.." },
    { { .weekly = 3 }, 100, "k....k.k" },
    { { .monthly = 2 }, 100, "k.....k." },
    { { .monthly = 5 }, 100, "k.....kk" },
    { { .last = 2, .monthly = 3 }, 100, "kk....kk" },
    { { .daily = 3, .weekly = 3 }, 100, "k..kkk.k" },
    /* The bound keeps the newest of what the rules keep. */
    { { .daily = 3, .weekly = 3 }, 3, "k..kk..." },
    /* -v alone. */
    { { 0 }, 2, "kk......" },
    { { 0 }, 100, "kkkkkkkk" },
  };
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      BackupRetentionReason reasons[G_N_ELEMENTS (times)];
      char got[G_N_ELEMENTS (times) + 1];
      guint kept, expected = 0;

      kept = backup_retention_select (&cases[c].policy, cases[c].versions, times,
                                      G_N_ELEMENTS (times), utc, reasons);
      for (guint i = 0; i < G_N_ELEMENTS (times); i++)
        {
          got[i] = reasons[i] != 0 ? 'k' : '.';
          expected += cases[c].kept[i] == 'k';
        }
      got[G_N_ELEMENTS (times)] = '\0';
      g_test_message ("case %u", c);
      g_assert_cmpstr (got, ==, cases[c].kept);
      g_assert_cmpuint (kept, ==, expected);
    }

  /* NAME stays even when its time is older (a clock set back). */
  {
    const gint64 skewed[] = { utc_us (2024, 1, 1, 0, 0), utc_us (2024, 3, 1, 0, 0) };
    BackupRetentionReason reasons[2];
    BackupRetention last1 = { .last = 1 };
    g_autofree char *why = NULL;

    g_assert_cmpuint (backup_retention_select (&last1, 100, skewed, 2, utc, reasons), ==, 2);
    g_assert_cmpint (reasons[0], ==, BACKUP_RETENTION_REASON_NEWEST);
    g_assert_cmpint (reasons[1], ==, BACKUP_RETENTION_REASON_LAST);
    g_assert_cmpuint (backup_retention_select (&last1, 1, skewed, 2, utc, reasons), ==, 1);
    g_assert_cmpint (reasons[1], ==, 0);
    why = backup_retention_describe (BACKUP_RETENTION_REASON_LAST | BACKUP_RETENTION_REASON_DAILY);
    g_assert_cmpstr (why, ==, "last, daily");
  }
}

/* Local time: a day is the local calendar day, not UTC's. */
static void
test_select_local_time (void)
{
  g_autoptr (GTimeZone) tokyo = g_time_zone_new_identifier ("Asia/Tokyo");
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  /* 16:00 and 14:00 UTC on 1 March: 1:00 and 23:00 in Tokyo (UTC+9). */
  const gint64 times[] = { utc_us (2024, 3, 1, 16, 0), utc_us (2024, 3, 1, 14, 0) };
  BackupRetention daily = { .daily = 2 };
  BackupRetentionReason reasons[2];

  if (tokyo == NULL)
    {
      g_test_skip ("no time zone data");
      return;
    }
  g_assert_cmpuint (backup_retention_select (&daily, 100, times, 2, utc, reasons), ==, 1);
  g_assert_cmpuint (backup_retention_select (&daily, 100, times, 2, tokyo, reasons), ==, 2);
}

static void
test_check (void)
{
  BackupRetention r = { .daily = 7, .weekly = 4 };
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_retention_check (&r, 7, &error));
  g_assert_no_error (error);
  g_assert_false (backup_retention_check (&r, 6, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "keep-daily"));
  g_assert_cmpuint (backup_retention_get_max_count (&r), ==, 7);
  g_assert_false (backup_retention_is_set (NULL));
  g_assert_true (backup_retention_is_set (&r));
}

/* --- The store, a whole history ------------------------------------------ */

typedef struct
{
  const char *label;
  BackupRetention policy;
  guint versions;
  const char *zone; /* NULL: UTC */
} HistoryCase;

static const HistoryCase history_cases[] = {
  { "last", { .last = 5 }, 65535, NULL },
  { "hourly", { .hourly = 10 }, 65535, NULL },
  { "daily", { .daily = 7 }, 65535, NULL },
  { "weekly", { .weekly = 4 }, 65535, NULL },
  { "monthly", { .monthly = 3 }, 65535, NULL },
  { "daily-weekly-monthly", { .daily = 7, .weekly = 4, .monthly = 6 }, 65535, NULL },
  { "all", { .last = 3, .hourly = 5, .daily = 3, .weekly = 2, .monthly = 2 }, 65535, NULL },
  { "bounded", { .daily = 10, .weekly = 8 }, 12, NULL },
  { "local-time", { .hourly = 6, .daily = 5, .weekly = 3 }, 65535, "America/New_York" },
};

static void
test_history (Fixture *f, gconstpointer data)
{
  const HistoryCase *c = data;
  g_autofree gint64 *times = make_history ();
  g_autoptr (BackupStore) store = NULL;
  g_autofree gboolean *keep = NULL;
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GPtrArray) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *index_path = g_build_filename (f->dir, "." NAME ".versions", NULL);
  gint64 one_shot[N_HISTORY];
  BackupRetentionReason reasons[N_HISTORY];
  guint n_kept = 0;

  if (c->zone != NULL)
    {
      g_clear_pointer (&f->zone, g_time_zone_unref);
      f->zone = g_time_zone_new_identifier (c->zone);
      if (f->zone == NULL)
        {
          f->zone = g_time_zone_new_utc ();
          g_test_skip ("no time zone data");
          return;
        }
    }
  store = fixture_store (f, &c->policy, c->versions);

  /* One version at a time, pruned after each. */
  for (guint i = 0; i < N_HISTORY; i++)
    {
      commit_version (f, store, times, i);

      /* After each: what the reference keeps of the history so far. */
      g_clear_pointer (&keep, g_free);
      keep = reference_keep (&c->policy, c->versions, times, i + 1, f->zone);
      g_clear_pointer (&got, g_ptr_array_unref);
      g_clear_pointer (&expected, g_ptr_array_unref);
      got = stored_contents (f);
      expected = expected_contents (keep, i + 1);
      assert_contents (got, expected);
    }
  for (guint i = 0; i < N_HISTORY; i++)
    n_kept += keep[i];
  /* The policies do remove something, and keep more than one version. */
  g_assert_cmpuint (n_kept, >, 1);
  g_assert_cmpuint (n_kept, <, N_HISTORY);
  assert_no_parts (f);
  g_assert_true (g_file_test (index_path, G_FILE_TEST_IS_REGULAR));

  /* One prune of the whole history decides the same. */
  for (guint i = 0; i < N_HISTORY; i++)
    one_shot[i] = times[N_HISTORY - 1 - i];
  backup_retention_select (&c->policy, c->versions, one_shot, N_HISTORY, f->zone, reasons);
  for (guint i = 0; i < N_HISTORY; i++)
    g_assert_cmpint (reasons[i] != 0, ==, keep[N_HISTORY - 1 - i]);

  /* Each version has the time of its commit, in the listing and as its
   * modification time; a prune now changes nothing. */
  g_assert_true (backup_store_prune (store, NAME, TRUE, &report, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->len, ==, n_kept);
  for (guint k = 0, i = N_HISTORY; k < report->len; k++)
    {
      BackupStoreVersion *v = g_ptr_array_index (report, k);
      g_autofree char *path = g_build_filename (f->dir, v->file, NULL);
      struct stat st;

      while (!keep[--i])
        ;
      g_assert_cmpuint (v->number, ==, k);
      g_assert_cmpint (v->time, ==, times[i]);
      g_assert_cmpstr (v->new_file, ==, v->file);
      g_assert_cmpint (v->reasons, !=, 0);
      g_assert_cmpint (stat (path, &st), ==, 0);
      g_assert_cmpint ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000, ==,
                       times[i]);
    }
}

/* --- The index ----------------------------------------------------------- */

/* One modification time for all, as a copy that did not keep them gives. */
static void
set_mtime_now (const char *dir, const char *file)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  const struct timespec times[2] = { { 1700000000, 0 }, { 1700000000, 0 } };

  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

/* A lost or damaged index loses nothing: the times come back from the
 * files; an intact one outlives modification times that changed. */
static void
test_index_lost (Fixture *f, gconstpointer data)
{
  const BackupRetention policy = { .daily = 5, .weekly = 3 };
  g_autofree gint64 *times = make_history ();
  g_autoptr (BackupStore) store = fixture_store (f, &policy, 65535);
  g_autofree char *index_path = g_build_filename (f->dir, "." NAME ".versions", NULL);
  g_autofree gboolean *keep = NULL;
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) expected = NULL;
  g_autoptr (GError) error = NULL;
  const char *damages[] = {
    NULL, /* removed */
    "this is not JSON",
    "{\"name\": \"another.zip\", \"versions\": []}",
    "{\"name\": \"" NAME "\", \"versions\": [{\"number\": 0, \"time\": \"nonsense\"}]}",
    "[]",
  };

  for (guint i = 0; i < N_HISTORY; i++)
    {
      commit_version (f, store, times, i);
      if (i % 10 == 9 && i + 1 < N_HISTORY)
        {
          const char *damage = damages[(i / 10) % G_N_ELEMENTS (damages)];

          if (damage == NULL)
            g_assert_cmpint (g_unlink (index_path), ==, 0);
          else
            {
              g_file_set_contents (index_path, damage, -1, &error);
              g_assert_no_error (error);
            }
        }
    }
  keep = reference_keep (&policy, 65535, times, N_HISTORY, f->zone);
  got = stored_contents (f);
  expected = expected_contents (keep, N_HISTORY);
  assert_contents (got, expected);
  g_assert_cmpuint (got->len, >, 3);

  /* Every modification time changes (a copy that did not keep them, a
   * touch): the index still knows the times, and a prune keeps all. */
  for (guint k = 0; k < got->len; k++)
    {
      g_autofree char *file = k == 0 ? g_strdup (NAME) : g_strdup_printf (NAME ".%u", k);

      set_mtime_now (f->dir, file);
    }
  g_assert_true (backup_store_prune (store, NULL, FALSE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, g_ptr_array_unref);
  got = stored_contents (f);
  assert_contents (got, expected);

  /* Without the index either, the times are those of the files: all now,
   * so one day, one week: only NAME stays.  (This is the case the index
   * is there for.) */
  g_assert_cmpint (g_unlink (index_path), ==, 0);
  g_assert_true (backup_store_prune (store, NULL, FALSE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, g_ptr_array_unref);
  got = stored_contents (f);
  g_assert_cmpuint (got->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (got, 0), ==, g_ptr_array_index (expected, 0));

  /* A received name may not take the form of an index. */
  g_assert_false (backup_store_check_name ("." NAME ".versions", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
}

/* --- Interrupted at every step ------------------------------------------- */

/* What a crash may leave: no gap in the numbering, NAME the newest, and
 * every version of @must there. */
static void
assert_safe_state (Fixture *f, GPtrArray *must)
{
  g_autoptr (GPtrArray) got = stored_contents (f);

  g_assert_cmpuint (got->len, >, 0);
  g_assert_cmpstr (g_ptr_array_index (got, 0), ==, g_ptr_array_index (must, 0));
  for (guint i = 0; i < must->len; i++)
    g_assert_true (g_ptr_array_find_with_equal_func (got, g_ptr_array_index (must, i),
                                                     g_str_equal, NULL));
}

/* A start-up (the scan of stale files, which repairs), then no version is
 * under two numbers. */
static void
restart (Fixture *f, BackupStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) got = NULL;

  hook_reset (f, -1);
  g_assert_true (backup_store_remove_stale_parts (store, 0, NULL, &error));
  g_assert_no_error (error);
  assert_no_parts (f);
  got = stored_contents (f);
  for (guint i = 0; i + 1 < got->len; i++)
    for (guint j = i + 1; j < got->len; j++)
      g_assert_cmpstr (g_ptr_array_index (got, i), !=, g_ptr_array_index (got, j));
}

/* A fresh folder holding the first @n versions of the history. */
static void
build_history (Fixture *f, BackupStore *store, const gint64 *times, guint n)
{
  store_test_remove_tree (f->dir);
  g_assert_cmpint (g_mkdir (f->dir, 0700), ==, 0);
  hook_reset (f, -1);
  for (guint i = 0; i < n; i++)
    commit_version (f, store, times, i);
}

/* 20 versions kept whole, then a stricter policy applied by a prune that
 * stops before step k, for every k. */
static void
test_interrupted_prune (Fixture *f, gconstpointer data)
{
  const BackupRetention keep_all = { .last = 1000 };
  const BackupRetention policy = { .last = 2, .daily = 3, .weekly = 2 };
  g_autofree gint64 *times = make_history ();
  g_autofree gboolean *keep = reference_keep (&policy, 65535, times, 20, f->zone);
  g_autoptr (GPtrArray) expected = expected_contents (keep, 20);
  guint total;

  /* How many steps an uninterrupted prune takes. */
  {
    g_autoptr (BackupStore) store = fixture_store (f, &keep_all, 65535);
    g_autoptr (GError) error = NULL;

    build_history (f, store, times, 20);
    g_assert_cmpuint (count_stored (f), ==, 20);
    backup_store_set_retention (store, &policy);
    hook_reset (f, -1);
    g_assert_true (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
    g_assert_no_error (error);
    total = f->steps;
    /* Moves, removals and the index. */
    g_assert_cmpuint (total, >, 20 - expected->len);
  }

  for (guint k = 0; k < total; k++)
    {
      g_autoptr (BackupStore) store = fixture_store (f, &keep_all, 65535);
      g_autoptr (GPtrArray) got = NULL;
      g_autoptr (GError) error = NULL;

      build_history (f, store, times, 20);
      backup_store_set_retention (store, &policy);
      hook_reset (f, (gint) k);
      g_assert_false (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_IO);
      g_clear_error (&error);
      g_assert_cmpuint (f->steps, ==, k);
      assert_safe_state (f, expected);

      restart (f, store);
      assert_safe_state (f, expected);
      g_assert_true (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
      g_assert_no_error (error);
      got = stored_contents (f);
      assert_contents (got, expected);
      assert_no_parts (f);
    }
}

/* The process of a prune dies (SIGKILL) before a step: after a link and
 * before its rename, before a move, a removal, the index.  Its lock goes
 * with it; the next start removes the second name the link left. */
static gboolean
kill_at_step (const char *step, gpointer user_data)
{
  Fixture *f = user_data;

  if (f->steps >= (guint) f->fail_at)
    kill (getpid (), SIGKILL);
  f->steps++;
  return TRUE;
}

static void
test_killed_prune (Fixture *f, gconstpointer data)
{
  const BackupRetention keep_all = { .last = 1000 };
  const BackupRetention policy = { .last = 2, .daily = 3, .weekly = 2 };
  g_autofree gint64 *times = make_history ();
  g_autofree gboolean *keep = reference_keep (&policy, 65535, times, 20, f->zone);
  g_autoptr (GPtrArray) expected = expected_contents (keep, 20);
  g_autoptr (GPtrArray) steps = g_ptr_array_new_with_free_func (g_free);
  const char *const kinds[] = { "link", "move", "unlink", "index" };

  if (g_test_subprocess ())
    {
      /* The child: the folder and the step come from the parent (not its
       * own, which a killed process would leave behind). */
      g_autoptr (GFile) dir = g_file_new_for_path (g_getenv ("RETENTION_TEST_DIR"));
      g_autoptr (BackupStore) store = backup_store_new (dir, 65535);

      g_rmdir (f->dir);
      backup_store_set_retention (store, &policy);
      _backup_store_set_time_zone (store, f->zone);
      f->fail_at = atoi (g_getenv ("RETENTION_TEST_STEP"));
      f->steps = 0;
      _backup_store_set_step_hook (store, kill_at_step, f);
      backup_store_prune (store, NAME, FALSE, NULL, NULL, NULL);
      return;
    }

  /* The steps of an uninterrupted prune. */
  {
    g_autoptr (BackupStore) store = fixture_store (f, &keep_all, 65535);
    g_autoptr (GError) error = NULL;

    build_history (f, store, times, 20);
    backup_store_set_retention (store, &policy);
    hook_reset (f, -1);
    g_assert_true (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
    g_assert_no_error (error);
    g_ptr_array_extend (steps, f->step_names, (GCopyFunc) (void (*) (void)) g_strdup, NULL);
  }

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (BackupStore) store = fixture_store (f, &keep_all, 65535);
      g_autoptr (GPtrArray) got = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *step_text = NULL;
      guint k;

      for (k = 0; k < steps->len; k++)
        if (g_str_equal (g_ptr_array_index (steps, k), kinds[i]))
          break;
      g_assert_cmpuint (k, <, steps->len);
      /* The middle one of its kind, when there are several. */
      for (guint j = k + 1; j < steps->len && g_str_equal (g_ptr_array_index (steps, j), kinds[i])
                            && j < k + 2;
           j++)
        k = j;

      build_history (f, store, times, 20);
      step_text = g_strdup_printf ("%u", k);
      g_setenv ("RETENTION_TEST_DIR", f->dir, TRUE);
      g_setenv ("RETENTION_TEST_STEP", step_text, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_failed ();
      g_unsetenv ("RETENTION_TEST_DIR");
      g_unsetenv ("RETENTION_TEST_STEP");

      /* Killed after the link of a move: its second name is there. */
      if (g_str_equal (kinds[i], "link"))
        {
          g_autofree char *listing = store_test_list (f->dir);

          g_assert_nonnull (strstr (listing, ".link.part"));
        }
      assert_safe_state (f, expected);

      restart (f, store);
      assert_safe_state (f, expected);
      backup_store_set_retention (store, &policy);
      g_assert_true (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
      g_assert_no_error (error);
      got = stored_contents (f);
      assert_contents (got, expected);
    }
}

/* A commit (shift, install, prune) that stops before step k, for every k. */
static void
test_interrupted_commit (Fixture *f, gconstpointer data)
{
  const BackupRetention policy = { .last = 2, .daily = 3, .weekly = 2 };
  const guint n = 16;
  g_autofree gint64 *times = make_history ();
  g_autofree gboolean *keep_before = reference_keep (&policy, 65535, times, n, f->zone);
  g_autofree gboolean *keep_after = reference_keep (&policy, 65535, times, n + 1, f->zone);
  g_autoptr (GPtrArray) before = expected_contents (keep_before, n);
  g_autoptr (GPtrArray) after = expected_contents (keep_after, n + 1);
  g_autofree char *new_content = content_of (n);
  gint install_step = -1;
  guint total;

  /* The steps of an uninterrupted commit. */
  {
    g_autoptr (BackupStore) store = fixture_store (f, &policy, 65535);
    g_autoptr (GPtrArray) got = NULL;

    build_history (f, store, times, n);
    got = stored_contents (f);
    assert_contents (got, before);
    hook_reset (f, -1);
    commit_version (f, store, times, n);
    total = f->steps;
    for (guint s = 0; s < f->step_names->len; s++)
      if (g_str_equal (g_ptr_array_index (f->step_names, s), "install"))
        install_step = (gint) s;
    g_assert_cmpint (install_step, >, 0);
    g_assert_cmpuint (total, >, (guint) install_step + 1);
  }

  for (guint k = 0; k < total; k++)
    {
      g_autoptr (BackupStore) store = fixture_store (f, &policy, 65535);
      g_autoptr (BackupReception) reception = NULL;
      g_autoptr (GPtrArray) got = NULL;
      g_autoptr (GError) error = NULL;
      gboolean done, installed;

      build_history (f, store, times, n);
      f->now = times[n];
      reception = backup_store_begin (store, NAME, strlen (NAME), &error);
      g_assert_no_error (error);
      g_assert_true (backup_reception_write (reception, new_content, strlen (new_content),
                                             &error));
      hook_reset (f, (gint) k);
      /* Stopped once the new file is in place: the commit stands, and
       * says that the prune failed. */
      if ((gint) k > install_step)
        g_test_expect_message ("Backup", G_LOG_LEVEL_WARNING, "*could not be pruned*");
      done = backup_reception_commit (reception, NULL, &error);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (f->steps, ==, k);

      got = stored_contents (f);
      installed = g_str_equal (g_ptr_array_index (got, 0), new_content);
      g_assert_cmpint (installed, ==, (gint) k > install_step);
      g_assert_cmpint (done, ==, installed);
      if (!done)
        g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_IO);
      g_clear_error (&error);
      assert_safe_state (f, installed ? after : before);

      restart (f, store);
      assert_safe_state (f, installed ? after : before);
      g_assert_true (backup_store_prune (store, NAME, FALSE, NULL, NULL, &error));
      g_assert_no_error (error);
      g_clear_pointer (&got, g_ptr_array_unref);
      got = stored_contents (f);
      assert_contents (got, installed ? after : before);
    }
}

/* --- Dry run and every name ---------------------------------------------- */

static void
test_dry_run (Fixture *f, gconstpointer data)
{
  const BackupRetention keep_all = { .last = 100 };
  const BackupRetention policy = { .daily = 2 };
  g_autofree gint64 *times = make_history ();
  g_autoptr (BackupStore) store = fixture_store (f, &keep_all, 65535);
  g_autoptr (GPtrArray) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *listing_after = NULL;
  g_autofree gboolean *keep = reference_keep (&policy, 65535, times, 8, f->zone);
  guint kept = 0;

  for (guint i = 0; i < 8; i++)
    commit_version (f, store, times, i);
  listing = store_test_list (f->dir);

  backup_store_set_retention (store, &policy);
  g_assert_true (backup_store_prune (store, NULL, TRUE, &report, NULL, &error));
  g_assert_no_error (error);
  listing_after = store_test_list (f->dir);
  g_assert_cmpstr (listing_after, ==, listing);
  g_assert_cmpuint (count_stored (f), ==, 8);

  g_assert_cmpuint (report->len, ==, 8);
  for (guint k = 0; k < report->len; k++)
    {
      BackupStoreVersion *v = g_ptr_array_index (report, k);
      g_autofree char *expected_new = NULL;

      g_assert_cmpstr (v->name, ==, NAME);
      g_assert_cmpuint (v->number, ==, k);
      g_assert_cmpint (v->time, ==, times[7 - k]);
      g_assert_cmpint (v->reasons != 0, ==, keep[7 - k]);
      if (keep[7 - k])
        {
          expected_new = kept == 0 ? g_strdup (NAME) : g_strdup_printf (NAME ".%u", kept);
          g_assert_cmpstr (v->new_file, ==, expected_new);
          kept++;
        }
      else
        g_assert_null (v->new_file);
    }
  g_assert_cmpuint (kept, <, 8);

  /* The same prune for real. */
  g_clear_pointer (&report, g_ptr_array_unref);
  g_assert_true (backup_store_prune (store, NULL, FALSE, &report, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_stored (f), ==, kept);
}

/* Every name of a folder: "A.K" is a version of "A" only without a gap
 * before it; an index whose name is gone goes. */
static void
test_prune_all_names (Fixture *f, gconstpointer data)
{
  const BackupRetention policy = { .last = 1 };
  const BackupRetention two = { .last = 2 };
  g_autoptr (BackupStore) store = fixture_store (f, &policy, 65535);
  g_autoptr (GPtrArray) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  store_test_write (f->dir, "a", "a0");
  store_test_write (f->dir, "a.1", "a1");
  store_test_write (f->dir, "a.2", "a2");
  store_test_write (f->dir, "a.7", "a7"); /* after a gap: a name of its own */
  store_test_write (f->dir, "b", "b0");
  store_test_write (f->dir, "c.5", "c5"); /* no "c": a name */
  store_test_write (f->dir, "c.5.1", "c51");
  store_test_write (f->dir, ".gone.versions", "{}");
  store_test_write (f->dir, ".x.AbC123.recv.part", "temporary");

  g_assert_true (backup_store_prune (store, NULL, TRUE, &report, NULL, &error));
  g_assert_no_error (error);
  /* a, a.1, a.2; a.7; b; c.5, c.5.1 */
  g_assert_cmpuint (report->len, ==, 7);
  g_clear_pointer (&report, g_ptr_array_unref);

  g_assert_true (backup_store_prune (store, NULL, FALSE, &report, NULL, &error));
  g_assert_no_error (error);
  listing = store_test_list (f->dir);
  /* One version each: no index is needed (and none was there). */
  g_assert_cmpstr (listing, ==, ".x.AbC123.recv.part,a,a.7,b,c.5");
  store_test_assert_contents (f->dir, "a", "a0");
  store_test_assert_contents (f->dir, "c.5", "c5");

  /* Two versions kept: their times go in an index. */
  store_test_write (f->dir, "b.1", "b1");
  backup_store_set_retention (store, &two);
  g_assert_true (backup_store_prune (store, "b", FALSE, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&listing, g_free);
  listing = store_test_list (f->dir);
  g_assert_cmpstr (listing, ==, ".b.versions,.x.AbC123.recv.part,a,a.7,b,b.1,c.5");
}

/* Without a policy nothing changes: no index, plain rotation. */
static void
test_no_policy (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = fixture_store (f, NULL, 2);
  g_autofree char *listing = NULL;
  BackupRetention r;

  g_assert_false (backup_store_get_retention (store, &r));
  store_test_receive (store, NAME, "one");
  store_test_receive (store, NAME, "two");
  store_test_receive (store, NAME, "three");
  listing = store_test_list (f->dir);
  g_assert_cmpstr (listing, ==, NAME "," NAME ".1");
  g_assert_cmpuint (f->steps, ==, 0);
}

/* --- The profile's keys -------------------------------------------------- */

static BackupProfile *
load_profile (const char *text, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();

  g_assert_true (g_key_file_load_from_data (key_file, text, -1, G_KEY_FILE_NONE, NULL));
  return backup_profile_load (key_file, "Profile", error);
}

static void
test_profile_keys (void)
{
  const BackupRetention policy = { .last = 2, .hourly = 3, .daily = 7, .weekly = 4,
                                   .monthly = 12 };
  g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
  g_autoptr (BackupProfile) loaded = NULL;
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GFile) destination = g_file_new_for_path ("/srv/backups");
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  BackupRetention got;

  g_assert_false (backup_profile_get_retention (profile, &got));
  backup_profile_set_session_id (profile, "retention");
  backup_profile_set_destination (profile, destination);
  backup_profile_set_versions (profile, 30);
  backup_profile_set_retention (profile, &policy);
  g_assert_true (backup_profile_validate (profile, &error));
  g_assert_no_error (error);

  /* Saved and loaded back. */
  backup_profile_save (profile, key_file, "Profile");
  text = g_key_file_to_data (key_file, NULL, NULL);
  g_assert_nonnull (strstr (text, "keep-daily=7\n"));
  g_assert_nonnull (strstr (text, "keep-monthly=12\n"));
  loaded = load_profile (text, &error);
  g_assert_no_error (error);
  g_assert_true (backup_profile_get_retention (loaded, &got));
  g_assert_cmpmem (&got, sizeof got, &policy, sizeof policy);
  g_assert_cmpuint (backup_profile_get_versions (loaded), ==, 30);
  g_clear_object (&loaded);

  /* A rule above the versions is refused. */
  backup_profile_set_versions (profile, 5);
  g_assert_false (backup_profile_validate (profile, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "keep-daily"));
  g_clear_error (&error);

  /* A policy without versions: no bound but the largest; 0 is off. */
  loaded = load_profile ("[Profile]\nrole=receive\nsession-id=x\ndestination=/srv\n"
                         "keep-daily=7\nkeep-weekly=0\n",
                         &error);
  g_assert_no_error (error);
  g_assert_true (backup_profile_get_retention (loaded, &got));
  g_assert_cmpuint (got.daily, ==, 7);
  g_assert_cmpuint (got.weekly, ==, 0);
  g_assert_cmpuint (backup_profile_get_versions (loaded), ==, BACKUP_STORE_MAX_VERSIONS);
  g_assert_true (backup_profile_validate (loaded, &error));
  g_clear_object (&loaded);

  /* Without a policy, versions keep their default. */
  loaded = load_profile ("[Profile]\nrole=receive\nsession-id=x\ndestination=/srv\n", &error);
  g_assert_no_error (error);
  g_assert_false (backup_profile_get_retention (loaded, &got));
  g_assert_cmpuint (backup_profile_get_versions (loaded), ==, 1);
  g_clear_object (&loaded);

  /* Bad values. */
  g_assert_null (load_profile ("[Profile]\nrole=receive\nkeep-hourly=lots\n", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "keep-hourly"));
  g_clear_error (&error);
  g_assert_null (load_profile ("[Profile]\nrole=receive\nkeep-last=65536\n", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/retention/select/by-hand", test_select_by_hand);
  g_test_add_func ("/retention/select/local-time", test_select_local_time);
  g_test_add_func ("/retention/check", test_check);
  g_test_add_func ("/retention/profile", test_profile_keys);
  for (guint i = 0; i < G_N_ELEMENTS (history_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/retention/history/%s", history_cases[i].label);

      g_test_add (path, Fixture, &history_cases[i], fixture_setup, test_history,
                  fixture_teardown);
    }
  g_test_add ("/retention/index/lost", Fixture, NULL, fixture_setup, test_index_lost,
              fixture_teardown);
  g_test_add ("/retention/interrupted/prune", Fixture, NULL, fixture_setup,
              test_interrupted_prune, fixture_teardown);
  g_test_add ("/retention/interrupted/commit", Fixture, NULL, fixture_setup,
              test_interrupted_commit, fixture_teardown);
  g_test_add ("/retention/interrupted/killed", Fixture, NULL, fixture_setup, test_killed_prune,
              fixture_teardown);
  g_test_add ("/retention/prune/dry-run", Fixture, NULL, fixture_setup, test_dry_run,
              fixture_teardown);
  g_test_add ("/retention/prune/all-names", Fixture, NULL, fixture_setup,
              test_prune_all_names, fixture_teardown);
  g_test_add ("/retention/no-policy", Fixture, NULL, fixture_setup, test_no_policy,
              fixture_teardown);

  return g_test_run ();
}
