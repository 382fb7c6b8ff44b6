/* backup-cli-s3.h: versions kept in S3 for --restore, --list and --verify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A receiver into -d s3://BUCKET/PREFIX keeps each version as one object,
 * PREFIX NAME/<UTC time>Z-<origin> (see backup-s3-store.h).  The history
 * commands name one of them, or a prefix that holds some:
 *
 * - s3://BUCKET/KEY names the object KEY.  When there is no such object,
 *   --list takes it as the prefix KEY/ (the versions of a name, or a
 *   receiver's PREFIX), while --restore and --verify fail, saying how many
 *   versions KEY/ holds;
 * - s3://BUCKET/PREFIX/ (a trailing "/") and s3://BUCKET name a prefix,
 *   which only --list accepts.
 *
 * Listing a prefix reports every version under it, at any depth: its key,
 * received name, time, size and origin, grouped by name, the newest first.
 *
 * An object is downloaded, streamed, into a private folder of the
 * temporary folder ($TMPDIR): a file of mode 0600 named as the received
 * name (so that a plain file is restored under that name) with the time
 * of the version.  The download is complete only when it has as many bytes
 * as the object (and, when the service keeps a SHA-256 of the whole object,
 * the same SHA-256), and the object did not change meanwhile.  A failed or
 * cancelled download removes what it wrote; otherwise the caller removes
 * it with backup_cli_s3_object_remove_download() or by freeing the object.
 *
 * Threads: locate and download block on the network and the disk (run them
 * in a worker thread); backup_cli_s3_object_get_received() may be called
 * from any thread meanwhile.
 */
#pragma once

#include <gio/gio.h>

#include "backup-s3.h"

G_BEGIN_DECLS

/* One version found under a prefix. */
typedef struct
{
  char *key;
  char *name;  /* the received name */
  gint64 time; /* when its reception began, µs since the epoch */
  guint64 size;
  char *origin; /* the sending device, as the key holds it */
} BackupCliS3Version;

void backup_cli_s3_version_free (BackupCliS3Version *version);

typedef struct _BackupCliS3Object BackupCliS3Object;

/* Parses "s3://BUCKET[/KEY-OR-PREFIX]".  Errors: BACKUP_S3_ERROR_INVALID_ARGUMENT. */
BackupCliS3Object *backup_cli_s3_object_new (const char *location, GError **error);
/* Removes the download, if any. */
void backup_cli_s3_object_free (BackupCliS3Object *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupCliS3Object, backup_cli_s3_object_free)

/* Blocking: finds what the location names, as the top of this file says.
 * @list: the location is for --list (a prefix, or a missing object, is
 * listed).  @peek: also reads the first bytes of an object, for
 * backup_cli_s3_object_is_zip().  Errors: BACKUP_ERROR_NOT_FOUND (no such
 * object or no versions), BACKUP_ERROR_INVALID_ARGUMENT (a prefix given
 * to --restore or --verify), BACKUP_S3_ERROR (the service refused or could
 * not be reached), G_IO_ERROR_CANCELLED. */
gboolean backup_cli_s3_object_locate (BackupCliS3Object *object, BackupS3Client *client,
                                      gboolean list, gboolean peek, GCancellable *cancellable,
                                      GError **error);

const char *backup_cli_s3_object_get_bucket (BackupCliS3Object *object);

/* After locate: TRUE when the location was listed as a prefix. */
gboolean backup_cli_s3_object_is_listing (BackupCliS3Object *object);
/* The versions listed (BackupCliS3Version), by name, the newest first. */
GPtrArray *backup_cli_s3_object_get_versions (BackupCliS3Object *object);
/* The prefix listed, as s3://BUCKET/PREFIX. */
char *backup_cli_s3_object_describe_prefix (BackupCliS3Object *object);

/* After locate of an object: its size, the name it restores under, and,
 * with @peek, whether it starts like a zip. */
guint64 backup_cli_s3_object_get_size (BackupCliS3Object *object);
const char *backup_cli_s3_object_get_name (BackupCliS3Object *object);
gboolean backup_cli_s3_object_is_zip (BackupCliS3Object *object);

/* Blocking: downloads the object located.  Errors: BACKUP_ERROR_NO_SPACE,
 * BACKUP_ERROR_CORRUPT (an incomplete download, another SHA-256, an object
 * that changed), BACKUP_ERROR_IO, BACKUP_S3_ERROR, G_IO_ERROR_CANCELLED. */
gboolean backup_cli_s3_object_download (BackupCliS3Object *object, BackupS3Client *client,
                                        GCancellable *cancellable, GError **error);
/* Bytes downloaded so far; any thread. */
guint64 backup_cli_s3_object_get_received (BackupCliS3Object *object);
/* The downloaded file, or NULL. */
const char *backup_cli_s3_object_get_download (BackupCliS3Object *object);
/* TRUE when the download was checked against a SHA-256 the service keeps. */
gboolean backup_cli_s3_object_sha256_checked (BackupCliS3Object *object);
void backup_cli_s3_object_remove_download (BackupCliS3Object *object);

G_END_DECLS
