/* backup-cli-s3.c: versions kept in S3 for --restore, --list and --verify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-cli-s3.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-s3-store.h"

/* The longest file name a download may have. */
#define NAME_MAX_BYTES 255

struct _BackupCliS3Object
{
  char *location; /* as given */
  char *bucket;
  char *key;    /* the object; NULL when the location names a prefix */
  char *prefix; /* what is listed: "" or ending with '/' */

  /* Found by locate. */
  gboolean listing;
  GPtrArray *versions; /* BackupCliS3Version */
  BackupS3ObjectInfo *info;
  char *name;
  gint64 time; /* of the version, µs, or G_MININT64 */
  gboolean is_zip;

  /* The download. */
  char *download_dir;
  char *download;
  gboolean sha256_checked;
  GMutex lock; /* guards received */
  guint64 received;
};

void
backup_cli_s3_version_free (BackupCliS3Version *version)
{
  if (version == NULL)
    return;
  g_free (version->key);
  g_free (version->name);
  g_free (version->origin);
  g_free (version);
}

BackupCliS3Object *
backup_cli_s3_object_new (const char *location, GError **error)
{
  g_autofree char *bucket = NULL;
  g_autofree char *prefix = NULL;
  BackupCliS3Object *object;

  g_return_val_if_fail (location != NULL, NULL);

  if (!backup_s3_parse_location (location, &bucket, &prefix, error))
    return NULL;
  object = g_new0 (BackupCliS3Object, 1);
  g_mutex_init (&object->lock);
  object->location = g_strdup (location);
  object->bucket = g_steal_pointer (&bucket);
  object->time = G_MININT64;
  /* The prefix comes back with one '/' added, unless the location had it. */
  if (*prefix != '\0' && !g_str_has_suffix (location, "/"))
    object->key = g_strndup (prefix, strlen (prefix) - 1);
  object->prefix = g_steal_pointer (&prefix);
  return object;
}

void
backup_cli_s3_object_free (BackupCliS3Object *object)
{
  if (object == NULL)
    return;
  backup_cli_s3_object_remove_download (object);
  g_free (object->location);
  g_free (object->bucket);
  g_free (object->key);
  g_free (object->prefix);
  g_clear_pointer (&object->versions, g_ptr_array_unref);
  g_clear_pointer (&object->info, backup_s3_object_info_free);
  g_free (object->name);
  g_mutex_clear (&object->lock);
  g_free (object);
}

/* --- listing ------------------------------------------------------------- */

/* The part of a version's key before its name. */
static gsize
store_prefix_len (const BackupCliS3Version *version)
{
  return strlen (version->key) - strlen (strrchr (version->key, '/')) - strlen (version->name);
}

/* By receiver (prefix) and name, then the newest first. */
static gint
compare_versions (gconstpointer a, gconstpointer b)
{
  const BackupCliS3Version *va = *(BackupCliS3Version *const *)a;
  const BackupCliS3Version *vb = *(BackupCliS3Version *const *)b;
  gsize la = store_prefix_len (va);
  gsize lb = store_prefix_len (vb);
  int order = strncmp (va->key, vb->key, MIN (la, lb));

  if (order == 0 && la != lb)
    order = la < lb ? -1 : 1;
  if (order == 0)
    order = strcmp (va->name, vb->name);
  if (order == 0 && va->time != vb->time)
    order = va->time > vb->time ? -1 : 1;
  if (order == 0)
    order = -strcmp (va->key, vb->key);
  return order;
}

/* Every version under @prefix, in the order of compare_versions(). */
static GPtrArray *
list_versions (BackupCliS3Object *object, BackupS3Client *client, const char *prefix,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) objects = NULL;
  g_autoptr (GPtrArray) versions
      = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_cli_s3_version_free);

  objects = backup_s3_client_list_all_objects (client, object->bucket, prefix, cancellable, error);
  if (objects == NULL)
    return NULL;
  for (guint i = 0; i < objects->len; i++)
    {
      const BackupS3ObjectInfo *info = g_ptr_array_index (objects, i);
      BackupCliS3Version *version = g_new0 (BackupCliS3Version, 1);

      if (!backup_s3_store_parse_version_key (info->key, &version->name, &version->time,
                                              &version->origin))
        {
          backup_cli_s3_version_free (version);
          continue;
        }
      version->key = g_strdup (info->key);
      version->size = info->size;
      g_ptr_array_add (versions, version);
    }
  g_ptr_array_sort (versions, compare_versions);
  return g_steal_pointer (&versions);
}

/* --- locating ------------------------------------------------------------ */

typedef struct
{
  guint8 bytes[4];
  gsize len;
} Peek;

/* Stops the download once the first bytes are in. */
static gboolean
peek_cb (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  Peek *peek = user_data;
  gsize n = MIN (length, sizeof peek->bytes - peek->len);

  memcpy (peek->bytes + peek->len, data, n);
  peek->len += n;
  if (peek->len < sizeof peek->bytes)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "enough");
  return FALSE;
}

/* As backup_restore_is_zip() decides from the first bytes of a file. */
static gboolean
starts_like_zip (const Peek *peek)
{
  const guint8 *p = peek->bytes;

  return peek->len == 4 && p[0] == 'P' && p[1] == 'K'
         && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6) || (p[2] == 7 && p[3] == 8));
}

static gboolean
peek_object (BackupCliS3Object *object, BackupS3Client *client, GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GError) cause = NULL;
  Peek peek = { { 0 }, 0 };

  if (!backup_s3_client_get_object (client, object->bucket, object->key, peek_cb, &peek,
                                    cancellable, &cause)
      && !g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&cause), _("Cannot read %s: "),
                                  object->location);
      return FALSE;
    }
  object->is_zip = starts_like_zip (&peek);
  return TRUE;
}

/* A HEAD that is refused has no body to say why: the refusal of a listing
 * of the same key names its reason (wrong keys, or no permission). */
static GError *
explain_refusal (BackupCliS3Object *object, BackupS3Client *client, GError *cause,
                 GCancellable *cancellable)
{
  g_autoptr (GPtrArray) page = NULL;
  GError *listing_error = NULL;

  if (!g_error_matches (cause, BACKUP_S3_ERROR, BACKUP_S3_ERROR_ACCESS_DENIED))
    return cause;
  page = backup_s3_client_list_objects (client, object->bucket, object->key, NULL, 1, NULL,
                                        cancellable, &listing_error);
  if (page == NULL && listing_error->domain == BACKUP_S3_ERROR)
    {
      g_error_free (cause);
      return listing_error;
    }
  g_clear_error (&listing_error);
  return cause;
}

static gboolean
check_file_name (BackupCliS3Object *object, GError **error)
{
  gsize len = strlen (object->name);

  if (len == 0 || len > NAME_MAX_BYTES || g_str_equal (object->name, ".")
      || g_str_equal (object->name, ".."))
    {
      g_autofree char *shown = backup_display_name (object->name, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                   _("Cannot restore %s: “%s” is not a file name"), object->location, shown);
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_cli_s3_object_locate (BackupCliS3Object *object, BackupS3Client *client, gboolean list,
                             gboolean peek, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (object != NULL, FALSE);
  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (client), FALSE);

  if (object->key == NULL && !list)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("%s names a prefix, not a version: give the key of one (--list %s shows "
                      "them)"),
                   object->location, object->location);
      return FALSE;
    }

  if (object->key != NULL)
    {
      object->info
          = backup_s3_client_head_object (client, object->bucket, object->key, cancellable, &cause);
      if (object->info != NULL)
        {
          if (!backup_s3_store_parse_version_key (object->key, &object->name, &object->time, NULL))
            {
              const char *slash = strrchr (object->key, '/');

              object->name = g_strdup (slash != NULL ? slash + 1 : object->key);
              if (object->info->last_modified != NULL)
                object->time = g_date_time_to_unix (object->info->last_modified) * G_USEC_PER_SEC;
            }
          if (!check_file_name (object, error))
            return FALSE;
          return !peek || peek_object (object, client, cancellable, error);
        }
      if (!g_error_matches (cause, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NOT_FOUND))
        {
          cause = explain_refusal (object, client, g_steal_pointer (&cause), cancellable);
          g_propagate_prefixed_error (error, g_steal_pointer (&cause), _("Cannot read %s: "),
                                      object->location);
          return FALSE;
        }

      /* No such object: perhaps the versions of a name, or a receiver's
       * prefix, given without its '/'.  (A missing bucket shows here too:
       * a HEAD cannot tell it from a missing key, a listing can.) */
      g_clear_error (&cause);
      dir = g_strconcat (object->key, "/", NULL);
      object->versions = list_versions (object, client, dir, cancellable, &cause);
      if (object->versions == NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&cause), _("Cannot read %s: "),
                                      object->location);
          return FALSE;
        }
      if (!list && object->versions->len > 0)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "%s is not a version but holds %u: give its key (--list %s/ "
                                    "shows it)",
                                    "%s is not a version but holds %u: give the key of one "
                                    "(--list %s/ shows them)",
                                    object->versions->len),
                       object->location, object->versions->len, object->location);
          return FALSE;
        }
      if (object->versions->len == 0)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                       list ? _("%s: no such object, and no versions under it")
                            : _("%s: no such object"),
                       object->location);
          return FALSE;
        }
      g_free (object->prefix);
      object->prefix = g_steal_pointer (&dir);
      object->listing = TRUE;
      return TRUE;
    }

  object->versions = list_versions (object, client, object->prefix, cancellable, &cause);
  if (object->versions == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&cause), _("Cannot read %s: "),
                                  object->location);
      return FALSE;
    }
  object->listing = TRUE;
  return TRUE;
}

const char *
backup_cli_s3_object_get_bucket (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, NULL);
  return object->bucket;
}

gboolean
backup_cli_s3_object_is_listing (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, FALSE);
  return object->listing;
}

GPtrArray *
backup_cli_s3_object_get_versions (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, NULL);
  return object->versions;
}

char *
backup_cli_s3_object_describe_prefix (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, NULL);
  return g_strdup_printf ("s3://%s/%s", object->bucket, object->prefix);
}

guint64
backup_cli_s3_object_get_size (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, 0);
  return object->info != NULL ? object->info->size : 0;
}

const char *
backup_cli_s3_object_get_name (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, NULL);
  return object->name;
}

gboolean
backup_cli_s3_object_is_zip (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, FALSE);
  return object->is_zip;
}

/* --- downloading --------------------------------------------------------- */

typedef struct
{
  BackupCliS3Object *object;
  int fd;
  GChecksum *sha256;
  guint64 written;
} Sink;

static gboolean
set_write_error (BackupCliS3Object *object, int errsv, GError **error)
{
  g_autofree char *dir = backup_display_name (g_get_tmp_dir (), -1);
  g_autofree char *size = g_format_size (object->info->size);

  if (errsv == ENOSPC || errsv == EDQUOT || errsv == EFBIG)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE,
                 _("No room in %s for the download of %s (%s): set TMPDIR to a folder with more "
                    "free space"),
                 dir, object->location, size);
  else
    g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                 _("Cannot write the download of %s in %s: %s"), object->location, dir,
                 g_strerror (errsv));
  return FALSE;
}

static gboolean
sink_cb (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  Sink *sink = user_data;
  BackupCliS3Object *object = sink->object;

  if (sink->written + length > object->info->size)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("%s changed while it was downloaded (it grew): try again"), object->location);
      return FALSE;
    }
  g_checksum_update (sink->sha256, data, length);
  while (length > 0)
    {
      gssize n = write (sink->fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_write_error (object, errno, error);
      data += n;
      length -= n;
      sink->written += n;
    }
  g_mutex_lock (&object->lock);
  object->received = sink->written;
  g_mutex_unlock (&object->lock);
  return TRUE;
}

/* The SHA-256 of the whole object that the service keeps, if any: a
 * checksum of parts ("…-N") says nothing about the whole. */
static gboolean
check_sha256 (BackupCliS3Object *object, GChecksum *sha256, GError **error)
{
  const char *kept = object->info->checksum_sha256;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autofree guchar *expected = NULL;
  gsize expected_len = 0;

  if (kept == NULL || *kept == '\0' || strchr (kept, '-') != NULL)
    return TRUE;
  expected = g_base64_decode (kept, &expected_len);
  if (expected_len != sizeof digest)
    return TRUE;
  g_checksum_get_digest (sha256, digest, &digest_len);
  if (memcmp (digest, expected, sizeof digest) != 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The download of %s does not match the SHA-256 the S3 service keeps for "
                      "it: try again"),
                   object->location);
      return FALSE;
    }
  object->sha256_checked = TRUE;
  return TRUE;
}

static gboolean
download_to (BackupCliS3Object *object, BackupS3Client *client, int fd, GCancellable *cancellable,
             GError **error)
{
  g_autoptr (GChecksum) sha256 = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (BackupS3ObjectInfo) now = NULL;
  g_autoptr (GError) cause = NULL;
  Sink sink = { object, fd, sha256, 0 };
  guint64 size = object->info->size;

  /* Room for the whole object first, where the file system can say so. */
  if (size > 0 && fallocate (fd, 0, 0, (off_t)size) < 0
      && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG))
    return set_write_error (object, errno, error);

  if (!backup_s3_client_get_object (client, object->bucket, object->key, sink_cb, &sink,
                                    cancellable, &cause))
    {
      if (cause->domain == BACKUP_S3_ERROR)
        g_prefix_error (&cause, _("Cannot download %s: "), object->location);
      g_propagate_error (error, g_steal_pointer (&cause));
      return FALSE;
    }
  if (sink.written != size)
    {
      g_autofree char *got = g_format_size (sink.written);
      g_autofree char *all = g_format_size (size);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The download of %s stopped after %s of %s: try again"), object->location,
                   got, all);
      return FALSE;
    }
  if (!check_sha256 (object, sha256, error))
    return FALSE;

  /* The same object from start to end: a new version under this key
   * while it was read would have mixed two. */
  now = backup_s3_client_head_object (client, object->bucket, object->key, cancellable, &cause);
  if (now == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&cause), _("Cannot download %s: "),
                                  object->location);
      return FALSE;
    }
  if (g_strcmp0 (now->etag, object->info->etag) != 0 || now->size != size)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("%s changed while it was downloaded: try again"), object->location);
      return FALSE;
    }

  if (object->time != G_MININT64)
    {
      struct timespec times[2];

      times[0].tv_sec = times[1].tv_sec = object->time / G_USEC_PER_SEC;
      times[0].tv_nsec = times[1].tv_nsec = (object->time % G_USEC_PER_SEC) * 1000;
      if (object->time < 0)
        times[0].tv_nsec = times[1].tv_nsec = 0;
      futimens (fd, times);
    }
  return TRUE;
}

gboolean
backup_cli_s3_object_download (BackupCliS3Object *object, BackupS3Client *client,
                               GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) cause = NULL;
  int fd;
  gboolean ok;

  g_return_val_if_fail (object != NULL && object->info != NULL && object->name != NULL, FALSE);
  g_return_val_if_fail (object->download == NULL, FALSE);
  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (client), FALSE);

  /* A folder of mode 0700 of our own, so that the file can have the
   * received name. */
  object->download_dir = g_dir_make_tmp ("distributed-backup-XXXXXX", &cause);
  if (object->download_dir == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                   _("Cannot make a folder for the download of %s: %s"), object->location,
                   cause->message);
      return FALSE;
    }
  object->download = g_build_filename (object->download_dir, object->name, NULL);
  fd = open (object->download, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod (fd, 0600) < 0)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      set_write_error (object, errsv, error);
      backup_cli_s3_object_remove_download (object);
      return FALSE;
    }
  g_debug ("S3: downloading %s/%s into %s", object->bucket, object->key, object->download_dir);

  ok = download_to (object, client, fd, cancellable, error);
  if (close (fd) < 0 && ok)
    ok = set_write_error (object, errno, error);
  if (!ok)
    backup_cli_s3_object_remove_download (object);
  return ok;
}

guint64
backup_cli_s3_object_get_received (BackupCliS3Object *object)
{
  guint64 received;

  g_return_val_if_fail (object != NULL, 0);

  g_mutex_lock (&object->lock);
  received = object->received;
  g_mutex_unlock (&object->lock);
  return received;
}

const char *
backup_cli_s3_object_get_download (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, NULL);
  return object->download;
}

gboolean
backup_cli_s3_object_sha256_checked (BackupCliS3Object *object)
{
  g_return_val_if_fail (object != NULL, FALSE);
  return object->sha256_checked;
}

void
backup_cli_s3_object_remove_download (BackupCliS3Object *object)
{
  g_return_if_fail (object != NULL);

  if (object->download != NULL && g_unlink (object->download) < 0 && errno != ENOENT)
    g_message ("Cannot remove the download %s: %s", object->download, g_strerror (errno));
  if (object->download_dir != NULL && g_rmdir (object->download_dir) < 0 && errno != ENOENT)
    g_message ("Cannot remove the folder %s: %s", object->download_dir, g_strerror (errno));
  g_clear_pointer (&object->download, g_free);
  g_clear_pointer (&object->download_dir, g_free);
}
