/* backup-retention.c: which received versions a retention policy keeps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-error.h"
#include "backup-retention.h"

typedef enum
{
  PERIOD_HOUR,
  PERIOD_DAY,
  PERIOD_WEEK,
  PERIOD_MONTH,
} Period;

gboolean
backup_retention_is_set (const BackupRetention *retention)
{
  return retention != NULL
         && (retention->last > 0 || retention->hourly > 0 || retention->daily > 0
             || retention->weekly > 0 || retention->monthly > 0);
}

guint
backup_retention_get_max_count (const BackupRetention *retention)
{
  if (retention == NULL)
    return 0;
  return MAX (MAX (MAX (retention->last, retention->hourly), MAX (retention->daily,
                                                                   retention->weekly)),
              retention->monthly);
}

gboolean
backup_retention_check (const BackupRetention *retention, guint max_versions, GError **error)
{
  const struct
  {
    const char *key;
    guint count;
  } rules[] = {
    { "keep-last", retention->last },     { "keep-hourly", retention->hourly },
    { "keep-daily", retention->daily },   { "keep-weekly", retention->weekly },
    { "keep-monthly", retention->monthly },
  };

  g_return_val_if_fail (retention != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      if (rules[i].count > BACKUP_RETENTION_MAX)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("%s is %u: keep at most %u"), rules[i].key, rules[i].count,
                       BACKUP_RETENTION_MAX);
          return FALSE;
        }
      if (rules[i].count > max_versions)
        {
          /* TRANSLATORS: "keep-daily is 7, but at most 3 versions are kept"; the
           * versions are those of -v (the "versions" key of a profile). */
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("%s is %u, but at most %u versions are kept (versions, -v): raise "
                         "the versions or leave them out"),
                       rules[i].key, rules[i].count, max_versions);
          return FALSE;
        }
    }
  return TRUE;
}

/* A number that differs between two periods, and grows with time (the
 * wall clock of @zone may repeat an hour, never go back further). */
static gint64
period_key (gint64 time_us, Period period, GTimeZone *zone)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC
                                                             - (time_us % G_USEC_PER_SEC < 0));
  g_autoptr (GDateTime) local = NULL;
  int year, month, day;

  if (utc == NULL)
    return G_MININT64;
  local = g_date_time_to_timezone (utc, zone);
  if (local == NULL)
    return G_MININT64;
  g_date_time_get_ymd (local, &year, &month, &day);

  switch (period)
    {
    case PERIOD_HOUR:
      return ((gint64) year * 10000 + month * 100 + day) * 100 + g_date_time_get_hour (local);
    case PERIOD_DAY:
      return (gint64) year * 10000 + month * 100 + day;
    case PERIOD_WEEK:
      return (gint64) g_date_time_get_week_numbering_year (local) * 100
             + g_date_time_get_week_of_year (local);
    case PERIOD_MONTH:
      return (gint64) year * 100 + month;
    default:
      g_assert_not_reached ();
    }
}

typedef struct
{
  const gint64 *times;
} OrderData;

/* Newest first; between equal times, the lower number first. */
static gint
compare_newest_first (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const OrderData *data = user_data;
  guint i = *(const guint *) a;
  guint j = *(const guint *) b;

  if (data->times[i] != data->times[j])
    return data->times[i] > data->times[j] ? -1 : 1;
  return i < j ? -1 : (i > j ? 1 : 0);
}

guint
backup_retention_select (const BackupRetention *retention,
                         guint max_versions,
                         const gint64 *times,
                         guint n_versions,
                         GTimeZone *zone,
                         BackupRetentionReason *reasons)
{
  static const BackupRetention none = { 0 };
  g_autoptr (GTimeZone) utc = NULL;
  g_autofree guint *order = NULL;
  OrderData data = { times };
  static const struct
  {
    Period period;
    BackupRetentionReason reason;
  } periods[] = {
    { PERIOD_HOUR, BACKUP_RETENTION_REASON_HOURLY },
    { PERIOD_DAY, BACKUP_RETENTION_REASON_DAILY },
    { PERIOD_WEEK, BACKUP_RETENTION_REASON_WEEKLY },
    { PERIOD_MONTH, BACKUP_RETENTION_REASON_MONTHLY },
  };
  guint counts[G_N_ELEMENTS (periods)];
  guint kept = 0;

  g_return_val_if_fail (times != NULL || n_versions == 0, 0);
  g_return_val_if_fail (reasons != NULL || n_versions == 0, 0);
  g_return_val_if_fail (max_versions >= 1, 0);

  if (retention == NULL)
    retention = &none;
  if (zone == NULL)
    zone = utc = g_time_zone_new_utc ();
  if (n_versions == 0)
    return 0;

  counts[0] = retention->hourly;
  counts[1] = retention->daily;
  counts[2] = retention->weekly;
  counts[3] = retention->monthly;

  order = g_new (guint, n_versions);
  for (guint i = 0; i < n_versions; i++)
    {
      order[i] = i;
      reasons[i] = BACKUP_RETENTION_REASON_NONE;
    }
  g_qsort_with_data (order, n_versions, sizeof *order, compare_newest_first, &data);

  if (!backup_retention_is_set (retention))
    for (guint i = 0; i < n_versions; i++)
      reasons[i] |= BACKUP_RETENTION_REASON_VERSIONS;

  for (guint k = 0; k < n_versions && k < retention->last; k++)
    reasons[order[k]] |= BACKUP_RETENTION_REASON_LAST;

  for (guint p = 0; p < G_N_ELEMENTS (periods); p++)
    {
      guint left = counts[p];
      gint64 last_key = 0;
      gboolean any = FALSE;

      for (guint k = 0; k < n_versions && left > 0; k++)
        {
          gint64 key = period_key (times[order[k]], periods[p].period, zone);

          if (any && key == last_key)
            continue;
          reasons[order[k]] |= periods[p].reason;
          last_key = key;
          any = TRUE;
          left--;
        }
    }

  /* NAME stays whatever its time says; then the newest others up to the
   * bound. */
  reasons[0] |= BACKUP_RETENTION_REASON_NEWEST;
  kept = 1;
  for (guint k = 0; k < n_versions; k++)
    {
      guint i = order[k];

      if (i == 0 || reasons[i] == BACKUP_RETENTION_REASON_NONE)
        continue;
      if (kept < max_versions)
        kept++;
      else
        reasons[i] = BACKUP_RETENTION_REASON_NONE;
    }
  return kept;
}

char *
backup_retention_describe (BackupRetentionReason reasons)
{
  static const struct
  {
    BackupRetentionReason reason;
    const char *word;
  } words[] = {
    { BACKUP_RETENTION_REASON_NEWEST, "newest" },   { BACKUP_RETENTION_REASON_LAST, "last" },
    { BACKUP_RETENTION_REASON_HOURLY, "hourly" },   { BACKUP_RETENTION_REASON_DAILY, "daily" },
    { BACKUP_RETENTION_REASON_WEEKLY, "weekly" },   { BACKUP_RETENTION_REASON_MONTHLY, "monthly" },
    { BACKUP_RETENTION_REASON_VERSIONS, "versions" },
  };
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (reasons & words[i].reason)
      {
        if (text->len > 0)
          g_string_append (text, ", ");
        g_string_append (text, words[i].word);
      }
  return g_string_free (text, FALSE);
}
