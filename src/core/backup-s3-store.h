/* backup-s3-store.h: the receiver's versions in S3-compatible object storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupS3Store keeps the versions of each received NAME as objects of
 * one bucket (the receiver's -d s3://BUCKET/PREFIX), one object per
 * version:
 *
 *   PREFIX NAME "/" YYYYMMDD "T" HHMMSS "." UUUUUU "Z-" ORIGIN
 *
 * PREFIX is empty or ends with '/'; the time (UTC, to the microsecond) is
 * when the reception began, so keys sort by age; ORIGIN is the device the
 * sender named itself, reduced to [A-Za-z0-9._-] (others become '_', at
 * most 64 bytes), or "unknown".  Keys under PREFIX NAME/ that do not have
 * this form are not versions: they are never listed nor removed.
 *
 * A reception (a BackupStorageWriter) hashes what it gets (SHA-256) and
 * hands the data, one part at a time (8 MiB unless set), to a thread of
 * its own that uploads it into a multipart upload; writes wait when two
 * parts are already on their way, so a reception holds at most three
 * parts in memory.  A content that fits in one part goes up with one PUT
 * at commit.  Nothing is visible until the commit, which checks the
 * sender's SHA-256 first and only then completes the upload; any failure,
 * a mismatch, an abort or dropping the reception aborts the multipart
 * upload, so nothing partial ever becomes a version.  After a commit the
 * retention policy (or the bound of @versions) removes old keys of that
 * name.  Receptions cannot resume.
 *
 * backup_storage_remove_stale_parts() aborts the multipart uploads under
 * PREFIX started more than a day ago (see backup_s3_store_set_stale_age()),
 * which receivers that crashed leave behind; uploads under way are younger.
 *
 * Threads: as BackupStorage says; the S3 requests run in the reception's
 * thread, the commit's worker thread, or the caller's thread for the
 * blocking calls.
 */
#pragma once

#include <gio/gio.h>

#include "backup-s3.h"
#include "backup-storage.h"

G_BEGIN_DECLS

/* The default size of the parts of a reception. */
#define BACKUP_S3_STORE_PART_SIZE (8 * 1024 * 1024)
/* Multipart uploads older than this are stale. */
#define BACKUP_S3_STORE_STALE_AGE (24 * G_TIME_SPAN_HOUR)

#define BACKUP_TYPE_S3_STORE (backup_s3_store_get_type ())
G_DECLARE_FINAL_TYPE (BackupS3Store, backup_s3_store, BACKUP, S3_STORE, GObject)

/* @prefix: "" or ending with '/' (as backup_s3_parse_location() gives it).
 * @versions: 1 to BACKUP_STORE_MAX_VERSIONS. */
BackupS3Store *backup_s3_store_new (BackupS3Client *client, const char *bucket, const char *prefix,
                                    guint versions);
/* @location: "s3://BUCKET[/PREFIX]".  Errors: BACKUP_S3_ERROR_INVALID_ARGUMENT. */
BackupS3Store *backup_s3_store_new_for_location (BackupS3Client *client, const char *location,
                                                 guint versions, GError **error);

BackupS3Client *backup_s3_store_get_client (BackupS3Store *self);
const char *backup_s3_store_get_bucket (BackupS3Store *self);
const char *backup_s3_store_get_prefix (BackupS3Store *self);

/* Settings; set them before the first reception.  @part_size: at least
 * BACKUP_S3_MIN_PART_SIZE. */
void backup_s3_store_set_part_size (BackupS3Store *self, gsize part_size);
void backup_s3_store_set_stale_age (BackupS3Store *self, GTimeSpan age);

/* The time of new versions and of the stale sweep, in µs since the epoch
 * (NULL: the real time), and the zone of the periods of the retention
 * policy (NULL: the local one).  For tests. */
typedef gint64 (*BackupS3StoreClock) (gpointer user_data);
void backup_s3_store_set_clock (BackupS3Store *self, BackupS3StoreClock clock, gpointer user_data);
void backup_s3_store_set_time_zone (BackupS3Store *self, GTimeZone *zone);

/* Waits up to @timeout µs for the aborts of multipart uploads that dropped
 * or aborted receptions left to worker threads (of any store); TRUE when
 * none is left.  For a process about to exit. */
gboolean backup_s3_store_wait_aborts (GTimeSpan timeout);

/* The key of a version of @name begun at @time (µs) from @origin (NULL:
 * unknown). */
char *backup_s3_store_version_key (BackupS3Store *self, const char *name, gint64 time,
                                   const char *origin);

/* The received name, time (µs) and origin of a version from its key (under
 * any prefix); FALSE when @key does not have the form of a version.  @name,
 * @time and @origin may be NULL. */
gboolean backup_s3_store_parse_version_key (const char *key, char **name, gint64 *time,
                                            char **origin);

G_END_DECLS
