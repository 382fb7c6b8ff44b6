/* backup-retention.h: which received versions a retention policy keeps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A policy in the manner of restic's "forget" (borg "prune"):
 *
 * - keep-last N: the N newest versions;
 * - keep-hourly H, keep-daily D, keep-weekly W, keep-monthly M: walking
 *   from the newest version to the oldest, the newest version of each of
 *   the last H hours (D days, W weeks, M months) that have a version.
 *   Hours, days and months are those of the wall clock in a time zone
 *   (the local one, in the store); weeks are ISO 8601 weeks (Monday to
 *   Sunday, numbered in their ISO year).  A period is counted once for
 *   each run of consecutive versions that fall in it;
 * - a version is kept when any rule keeps it; a rule of 0 is off;
 * - the version named NAME (the one received last) is always kept;
 * - at most @max_versions versions are kept (the -v of the original
 *   tool): the newest of those the rules keep.  Without any rule, the
 *   @max_versions newest versions are kept, which is -v alone.
 *
 * Nothing here touches a file: backup_retention_select() is a pure
 * function of the versions' times, so that the store applies it, and tests
 * check it, on any history.  Its answer does not depend on the current
 * time, and applying it again to what it kept, alone or with a newer
 * version, keeps the same versions: pruning after every backup gives what
 * one prune of the whole history would give.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest count of one rule (as -v, a 16-bit number). */
#define BACKUP_RETENTION_MAX 65535

typedef struct
{
  guint last;    /* keep-last */
  guint hourly;  /* keep-hourly */
  guint daily;   /* keep-daily */
  guint weekly;  /* keep-weekly */
  guint monthly; /* keep-monthly */
} BackupRetention;

/* Why a version is kept; 0 means it goes. */
typedef enum
{
  BACKUP_RETENTION_REASON_NONE = 0,
  BACKUP_RETENTION_REASON_NEWEST = 1 << 0,   /* it is NAME, the last received */
  BACKUP_RETENTION_REASON_LAST = 1 << 1,
  BACKUP_RETENTION_REASON_HOURLY = 1 << 2,
  BACKUP_RETENTION_REASON_DAILY = 1 << 3,
  BACKUP_RETENTION_REASON_WEEKLY = 1 << 4,
  BACKUP_RETENTION_REASON_MONTHLY = 1 << 5,
  BACKUP_RETENTION_REASON_VERSIONS = 1 << 6, /* no rule: within -v */
} BackupRetentionReason;

/* TRUE when at least one rule is on. @retention may be NULL. */
gboolean backup_retention_is_set (const BackupRetention *retention);

/* The largest count of the rules (0 when none is on). */
guint backup_retention_get_max_count (const BackupRetention *retention);

/* Checks a policy with the bound @max_versions (1 to 65535): every count
 * at most BACKUP_RETENTION_MAX, and none above @max_versions, since that
 * rule could never be kept.  Errors are BACKUP_ERROR_INVALID_ARGUMENT and
 * name the rule as its profile key ("keep-daily"). */
gboolean backup_retention_check (const BackupRetention *retention,
                                 guint max_versions,
                                 GError **error);

/* Decides the fate of @n_versions versions: @times[i] is the time of the
 * i-th one in the numbering (0 is NAME, 1 NAME.1…), in microseconds since
 * the epoch; the order of time decides which is newer, the numbering only
 * between equal times.  @reasons[i] is set to why it is kept, or 0.
 * Returns how many are kept.  @zone is the time zone of hours, days and
 * months (NULL: UTC). */
guint backup_retention_select (const BackupRetention *retention,
                               guint max_versions,
                               const gint64 *times,
                               guint n_versions,
                               GTimeZone *zone,
                               BackupRetentionReason *reasons);

/* "last, daily", for a listing ("" for 0).  Not translated: the words are
 * those of the options. */
char *backup_retention_describe (BackupRetentionReason reasons);

G_END_DECLS
