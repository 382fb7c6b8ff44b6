/* backup-s3-store.c: the receiver's versions in S3-compatible object storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-error.h"
#include "backup-s3-store.h"
#include "backup-store.h"

/* The key of S3 holds at most 1024 bytes. */
#define KEY_MAX_BYTES 1024
#define ORIGIN_MAX_BYTES 64
/* "YYYYMMDDTHHMMSS.UUUUUUZ" */
#define STAMP_LEN 23
/* Parts waiting for the upload thread, besides the one it uploads. */
#define QUEUED_PARTS_MAX 1

struct _BackupS3Store
{
  GObject parent_instance;

  BackupS3Client *client;
  char *bucket;
  char *prefix;
  guint versions;
  gsize part_size;
  GTimeSpan stale_age;
  BackupS3StoreClock clock;
  gpointer clock_data;
  GTimeZone *zone;

  GMutex lock; /* guards retention */
  BackupRetention retention;
};

static void backup_s3_store_storage_init (BackupStorageInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupS3Store, backup_s3_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_STORAGE,
                                                      backup_s3_store_storage_init))

static gint64
store_now (BackupS3Store *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_real_time ();
}

static void
backup_s3_store_finalize (GObject *object)
{
  BackupS3Store *self = BACKUP_S3_STORE (object);

  g_clear_object (&self->client);
  g_free (self->bucket);
  g_free (self->prefix);
  g_clear_pointer (&self->zone, g_time_zone_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (backup_s3_store_parent_class)->finalize (object);
}

static void
backup_s3_store_class_init (BackupS3StoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = backup_s3_store_finalize;
}

static void
backup_s3_store_init (BackupS3Store *self)
{
  g_mutex_init (&self->lock);
  self->part_size = BACKUP_S3_STORE_PART_SIZE;
  self->stale_age = BACKUP_S3_STORE_STALE_AGE;
}

BackupS3Store *
backup_s3_store_new (BackupS3Client *client, const char *bucket, const char *prefix, guint versions)
{
  BackupS3Store *self;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (client), NULL);
  g_return_val_if_fail (bucket != NULL && *bucket != '\0', NULL);
  g_return_val_if_fail (prefix != NULL, NULL);
  g_return_val_if_fail (*prefix == '\0' || g_str_has_suffix (prefix, "/"), NULL);
  g_return_val_if_fail (versions >= 1 && versions <= BACKUP_STORE_MAX_VERSIONS, NULL);

  self = g_object_new (BACKUP_TYPE_S3_STORE, NULL);
  self->client = g_object_ref (client);
  self->bucket = g_strdup (bucket);
  self->prefix = g_strdup (prefix);
  self->versions = versions;
  return self;
}

BackupS3Store *
backup_s3_store_new_for_location (BackupS3Client *client, const char *location, guint versions,
                                  GError **error)
{
  g_autofree char *bucket = NULL;
  g_autofree char *prefix = NULL;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (client), NULL);
  g_return_val_if_fail (location != NULL, NULL);

  if (!backup_s3_parse_location (location, &bucket, &prefix, error))
    return NULL;
  return backup_s3_store_new (client, bucket, prefix, versions);
}

BackupS3Client *
backup_s3_store_get_client (BackupS3Store *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_STORE (self), NULL);
  return self->client;
}

const char *
backup_s3_store_get_bucket (BackupS3Store *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_STORE (self), NULL);
  return self->bucket;
}

const char *
backup_s3_store_get_prefix (BackupS3Store *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_STORE (self), NULL);
  return self->prefix;
}

void
backup_s3_store_set_part_size (BackupS3Store *self, gsize part_size)
{
  g_return_if_fail (BACKUP_IS_S3_STORE (self));
  g_return_if_fail (part_size >= BACKUP_S3_MIN_PART_SIZE);

  self->part_size = part_size;
}

void
backup_s3_store_set_stale_age (BackupS3Store *self, GTimeSpan age)
{
  g_return_if_fail (BACKUP_IS_S3_STORE (self));
  g_return_if_fail (age >= 0);

  self->stale_age = age;
}

void
backup_s3_store_set_clock (BackupS3Store *self, BackupS3StoreClock clock, gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_S3_STORE (self));

  self->clock = clock;
  self->clock_data = user_data;
}

void
backup_s3_store_set_time_zone (BackupS3Store *self, GTimeZone *zone)
{
  g_return_if_fail (BACKUP_IS_S3_STORE (self));

  g_clear_pointer (&self->zone, g_time_zone_unref);
  if (zone != NULL)
    self->zone = g_time_zone_ref (zone);
}

/* --- keys ---------------------------------------------------------------- */

static char *
origin_component (const char *origin)
{
  GString *out = g_string_new (NULL);
  const char *p = origin != NULL ? origin : "";
  gboolean utf8 = g_utf8_validate (p, -1, NULL);

  /* One '_' for each other character (each other byte when not UTF-8). */
  while (*p != '\0' && out->len < ORIGIN_MAX_BYTES)
    {
      if (g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-')
        g_string_append_c (out, *p);
      else
        g_string_append_c (out, '_');
      p = utf8 ? g_utf8_next_char (p) : p + 1;
    }
  if (out->len == 0)
    g_string_append (out, "unknown");
  return g_string_free (out, FALSE);
}

char *
backup_s3_store_version_key (BackupS3Store *self, const char *name, gint64 time, const char *origin)
{
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *from = NULL;

  g_return_val_if_fail (BACKUP_IS_S3_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  when = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_return_val_if_fail (when != NULL, NULL);
  stamp = g_date_time_format (when, "%Y%m%dT%H%M%S");
  from = origin_component (origin);
  return g_strdup_printf ("%s%s/%s.%06dZ-%s", self->prefix, name, stamp,
                          (int)(((time % G_USEC_PER_SEC) + G_USEC_PER_SEC) % G_USEC_PER_SEC), from);
}

static gboolean
parse_digits (const char *p, guint n, gint *value)
{
  *value = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return FALSE;
      *value = *value * 10 + (p[i] - '0');
    }
  return TRUE;
}

/* The time and origin of a version from the last component of its key. */
static gboolean
parse_leaf (const char *leaf, gint64 *time, char **origin)
{
  gint year, month, day, hour, minute, second, micro;
  g_autoptr (GDateTime) when = NULL;

  if (strlen (leaf) < STAMP_LEN + 2 || leaf[8] != 'T' || leaf[15] != '.' || leaf[22] != 'Z'
      || leaf[23] != '-' || strchr (leaf, '/') != NULL)
    return FALSE;
  if (!parse_digits (leaf, 4, &year) || !parse_digits (leaf + 4, 2, &month)
      || !parse_digits (leaf + 6, 2, &day) || !parse_digits (leaf + 9, 2, &hour)
      || !parse_digits (leaf + 11, 2, &minute) || !parse_digits (leaf + 13, 2, &second)
      || !parse_digits (leaf + 16, 6, &micro))
    return FALSE;
  when = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (when == NULL)
    return FALSE;
  *time = g_date_time_to_unix (when) * G_USEC_PER_SEC + micro;
  *origin = g_strdup (leaf + STAMP_LEN + 1);
  return TRUE;
}

gboolean
backup_s3_store_parse_version_key (const char *key, char **name, gint64 *time, char **origin)
{
  const char *slash;
  const char *start;
  gint64 when;
  char *from;

  g_return_val_if_fail (key != NULL, FALSE);

  slash = strrchr (key, '/');
  if (slash == NULL || slash == key || slash[-1] == '/')
    return FALSE;
  if (!parse_leaf (slash + 1, &when, &from))
    return FALSE;
  for (start = slash; start > key && start[-1] != '/'; start--)
    ;
  if (name != NULL)
    *name = g_strndup (start, slash - start);
  if (time != NULL)
    *time = when;
  if (origin != NULL)
    *origin = from;
  else
    g_free (from);
  return TRUE;
}

static gboolean
s3_check_name (BackupS3Store *self, const char *name, gsize name_len, GError **error)
{
  if (!backup_store_check_name_len (name, name_len, error))
    return FALSE;
  if (!g_utf8_validate (name, (gssize)name_len, NULL))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                           "S3: a received name must be UTF-8 to be a key");
      return FALSE;
    }
  for (gsize i = 0; i < name_len; i++)
    if ((guchar)name[i] < 0x20 || name[i] == 0x7f)
      {
        g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                             "S3: a received name must not hold control characters");
        return FALSE;
      }
  if (strlen (self->prefix) + name_len + 1 + STAMP_LEN + 1 + ORIGIN_MAX_BYTES > KEY_MAX_BYTES)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                           "S3: the received name is too long for a key under this prefix");
      return FALSE;
    }
  return TRUE;
}

/* --- versions and retention ---------------------------------------------- */

typedef struct
{
  char *key;
  gint64 time;
  guint64 size;
  char *origin;
} S3Version;

static void
s3_version_free (gpointer data)
{
  S3Version *version = data;

  g_free (version->key);
  g_free (version->origin);
  g_free (version);
}

static gint
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const S3Version *va = *(S3Version *const *)a;
  const S3Version *vb = *(S3Version *const *)b;

  if (va->time != vb->time)
    return va->time > vb->time ? -1 : 1;
  return -strcmp (va->key, vb->key);
}

/* The versions of @name, the newest first. */
static GPtrArray *
list_versions (BackupS3Store *self, const char *name, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_strdup_printf ("%s%s/", self->prefix, name);
  g_autoptr (GPtrArray) objects = NULL;
  g_autoptr (GPtrArray) versions = g_ptr_array_new_with_free_func (s3_version_free);

  objects = backup_s3_client_list_all_objects (self->client, self->bucket, dir, cancellable, error);
  if (objects == NULL)
    return NULL;
  for (guint i = 0; i < objects->len; i++)
    {
      const BackupS3ObjectInfo *info = g_ptr_array_index (objects, i);
      S3Version *version;
      gint64 time;
      char *origin;

      if (!g_str_has_prefix (info->key, dir)
          || !parse_leaf (info->key + strlen (dir), &time, &origin))
        continue;
      version = g_new0 (S3Version, 1);
      version->key = g_strdup (info->key);
      version->time = time;
      version->size = info->size;
      version->origin = origin;
      g_ptr_array_add (versions, version);
    }
  g_ptr_array_sort (versions, compare_newest_first);
  return g_steal_pointer (&versions);
}

static gboolean
prune_name (BackupS3Store *self, const char *name, gboolean dry_run, GPtrArray *report,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) versions = NULL;
  g_autoptr (GPtrArray) doomed = g_ptr_array_new ();
  g_autofree gint64 *times = NULL;
  g_autofree BackupRetentionReason *reasons = NULL;
  g_autoptr (GTimeZone) local = NULL;
  BackupRetention retention;

  versions = list_versions (self, name, cancellable, error);
  if (versions == NULL)
    return FALSE;
  if (versions->len == 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  retention = self->retention;
  g_mutex_unlock (&self->lock);

  times = g_new (gint64, versions->len);
  reasons = g_new0 (BackupRetentionReason, versions->len);
  for (guint i = 0; i < versions->len; i++)
    times[i] = ((S3Version *)g_ptr_array_index (versions, i))->time;
  if (self->zone == NULL)
    local = g_time_zone_new_local ();
  backup_retention_select (&retention, self->versions, times, versions->len,
                           self->zone != NULL ? self->zone : local, reasons);

  for (guint i = 0; i < versions->len; i++)
    {
      S3Version *version = g_ptr_array_index (versions, i);

      if (reasons[i] == 0)
        g_ptr_array_add (doomed, version->key);
      if (report != NULL)
        {
          BackupStoreVersion *entry = g_new0 (BackupStoreVersion, 1);

          entry->name = g_strdup (name);
          entry->file = g_strdup (version->key);
          entry->number = i;
          entry->new_file = reasons[i] != 0 ? g_strdup (version->key) : NULL;
          entry->time = version->time;
          entry->size = version->size;
          entry->reasons = reasons[i];
          entry->origin = g_strdup (version->origin);
          g_ptr_array_add (report, entry);
        }
    }
  if (dry_run || doomed->len == 0)
    return TRUE;
  g_debug ("S3: removing %u old versions of %s", doomed->len, name);
  g_ptr_array_add (doomed, NULL);
  return backup_s3_client_delete_objects (self->client, self->bucket,
                                          (const char *const *)doomed->pdata, cancellable, error);
}

/* Every received name under the prefix, sorted. */
static GPtrArray *
list_names (BackupS3Store *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) objects = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gsize prefix_len = strlen (self->prefix);

  objects = backup_s3_client_list_all_objects (self->client, self->bucket, self->prefix,
                                               cancellable, error);
  if (objects == NULL)
    return NULL;
  for (guint i = 0; i < objects->len; i++)
    {
      const BackupS3ObjectInfo *info = g_ptr_array_index (objects, i);
      const char *rest = info->key + prefix_len;
      const char *slash = strchr (rest, '/');
      g_autofree char *name = NULL;
      gint64 time;
      g_autofree char *origin = NULL;

      if (slash == NULL || slash == rest || !parse_leaf (slash + 1, &time, &origin))
        continue;
      name = g_strndup (rest, slash - rest);
      if (names->len == 0 || strcmp (g_ptr_array_index (names, names->len - 1), name) != 0)
        g_ptr_array_add (names, g_steal_pointer (&name));
    }
  return g_steal_pointer (&names);
}

static gboolean
s3_prune (BackupStorage *storage, const char *name, gboolean dry_run, GPtrArray **versions_out,
          GCancellable *cancellable, GError **error)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);
  g_autoptr (GPtrArray) report = NULL;
  g_autoptr (GPtrArray) names = NULL;

  if (versions_out != NULL)
    report = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_store_version_free);
  if (name != NULL)
    {
      if (!s3_check_name (self, name, strlen (name), error)
          || !prune_name (self, name, dry_run, report, cancellable, error))
        return FALSE;
    }
  else
    {
      names = list_names (self, cancellable, error);
      if (names == NULL)
        return FALSE;
      for (guint i = 0; i < names->len; i++)
        if (!prune_name (self, g_ptr_array_index (names, i), dry_run, report, cancellable, error))
          return FALSE;
    }
  if (versions_out != NULL)
    *versions_out = g_steal_pointer (&report);
  return TRUE;
}

/* --- the upload thread of a reception -------------------------------------- */

typedef struct
{
  gatomicrefcount ref;
  BackupS3Client *client;
  char *bucket;
  char *key; /* set before the first part is queued */

  GMutex lock;
  GCond cond;
  GQueue queue;     /* GBytes: parts waiting */
  gboolean closing; /* no more parts */
  GError *failure;  /* the first failure of the thread */
  GThread *thread;

  GCancellable *cancellable; /* cancelled by an abort */
  /* Owned by the thread while it runs. */
  char *upload_id;
  GPtrArray *parts; /* BackupS3Part */
} Upload;

static Upload *
upload_ref (Upload *upload)
{
  g_atomic_ref_count_inc (&upload->ref);
  return upload;
}

static void
upload_unref (Upload *upload)
{
  if (!g_atomic_ref_count_dec (&upload->ref))
    return;
  g_assert (upload->thread == NULL);
  g_queue_clear_full (&upload->queue, (GDestroyNotify)g_bytes_unref);
  g_clear_error (&upload->failure);
  g_clear_object (&upload->cancellable);
  g_clear_object (&upload->client);
  g_free (upload->bucket);
  g_free (upload->key);
  g_free (upload->upload_id);
  g_clear_pointer (&upload->parts, g_ptr_array_unref);
  g_mutex_clear (&upload->lock);
  g_cond_clear (&upload->cond);
  g_free (upload);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Upload, upload_unref)

static Upload *
upload_new (BackupS3Client *client, const char *bucket)
{
  Upload *upload = g_new0 (Upload, 1);

  g_atomic_ref_count_init (&upload->ref);
  upload->client = g_object_ref (client);
  upload->bucket = g_strdup (bucket);
  g_mutex_init (&upload->lock);
  g_cond_init (&upload->cond);
  g_queue_init (&upload->queue);
  upload->cancellable = g_cancellable_new ();
  upload->parts = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_s3_part_free);
  return upload;
}

static gboolean
upload_one_part (Upload *upload, GBytes *data, GError **error)
{
  BackupS3Part *part;

  if (upload->upload_id == NULL)
    {
      /* Not cancellable: a cancelled request may still have made the
       * upload, which then could not be aborted. */
      upload->upload_id = backup_s3_client_create_multipart_upload (upload->client, upload->bucket,
                                                                    upload->key, NULL, error);
      if (upload->upload_id == NULL)
        return FALSE;
    }
  part = backup_s3_client_upload_part (upload->client, upload->bucket, upload->key,
                                       upload->upload_id, upload->parts->len + 1, data,
                                       upload->cancellable, error);
  if (part == NULL)
    return FALSE;
  g_ptr_array_add (upload->parts, part);
  return TRUE;
}

static gpointer
upload_thread (gpointer data)
{
  Upload *upload = data;

  for (;;)
    {
      g_autoptr (GBytes) part = NULL;
      g_autoptr (GError) error = NULL;
      gboolean failed;

      g_mutex_lock (&upload->lock);
      while (g_queue_is_empty (&upload->queue) && !upload->closing)
        g_cond_wait (&upload->cond, &upload->lock);
      part = g_queue_pop_head (&upload->queue);
      failed = upload->failure != NULL;
      g_cond_broadcast (&upload->cond);
      g_mutex_unlock (&upload->lock);

      if (part == NULL)
        break;
      if (failed || upload_one_part (upload, part, &error))
        continue;
      g_mutex_lock (&upload->lock);
      if (upload->failure == NULL)
        upload->failure = g_steal_pointer (&error);
      g_cond_broadcast (&upload->cond);
      g_mutex_unlock (&upload->lock);
    }
  return NULL;
}

/* Queues a part, waiting while the queue is full.  FALSE with @error once
 * the thread failed. */
static gboolean
upload_push (Upload *upload, GBytes *part, GError **error)
{
  g_mutex_lock (&upload->lock);
  if (upload->thread == NULL)
    upload->thread = g_thread_new ("s3-upload", upload_thread, upload);
  while (upload->failure == NULL && g_queue_get_length (&upload->queue) >= QUEUED_PARTS_MAX)
    g_cond_wait (&upload->cond, &upload->lock);
  if (upload->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (upload->failure));
      g_mutex_unlock (&upload->lock);
      return FALSE;
    }
  g_queue_push_tail (&upload->queue, g_bytes_ref (part));
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);
  return TRUE;
}

/* Lets the thread finish the queued parts (or drop them after an abort)
 * and waits for it.  Returns the thread's failure, if any. */
static gboolean
upload_join (Upload *upload, GError **error)
{
  GThread *thread;

  g_mutex_lock (&upload->lock);
  upload->closing = TRUE;
  thread = g_steal_pointer (&upload->thread);
  g_cond_broadcast (&upload->cond);
  g_mutex_unlock (&upload->lock);
  if (thread != NULL)
    g_thread_join (thread);
  if (upload->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (upload->failure));
      return FALSE;
    }
  return TRUE;
}

/* Stops and joins the thread, and aborts the multipart upload, whatever
 * the state.  Blocking. */
static void
upload_discard (Upload *upload)
{
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (upload->cancellable);
  upload_join (upload, NULL);
  if (upload->upload_id == NULL)
    return;
  if (!backup_s3_client_abort_multipart_upload (upload->client, upload->bucket, upload->key,
                                                upload->upload_id, NULL, &error)
      && !g_error_matches (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_UPLOAD))
    g_message ("S3: the unfinished upload of %s stays until the stale sweep: %s", upload->key,
               error->message);
  else
    g_debug ("S3: upload of %s aborted", upload->key);
  g_clear_pointer (&upload->upload_id, g_free);
}

/* Aborts under way in worker threads, for backup_s3_store_wait_aborts(). */
static GMutex pending_lock;
static GCond pending_cond;
static guint pending_aborts;

static void
discard_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  upload_discard (task_data);
  g_mutex_lock (&pending_lock);
  pending_aborts--;
  g_cond_broadcast (&pending_cond);
  g_mutex_unlock (&pending_lock);
  g_task_return_boolean (task, TRUE);
}

gboolean
backup_s3_store_wait_aborts (GTimeSpan timeout)
{
  gint64 end = g_get_monotonic_time () + timeout;
  gboolean idle;

  g_mutex_lock (&pending_lock);
  while (pending_aborts > 0 && g_cond_wait_until (&pending_cond, &pending_lock, end))
    ;
  idle = pending_aborts == 0;
  g_mutex_unlock (&pending_lock);
  return idle;
}

/* Aborts in a worker thread: an abort never waits on the network. */
static void
upload_discard_in_thread (Upload *upload)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_cancellable_cancel (upload->cancellable);
  g_mutex_lock (&pending_lock);
  pending_aborts++;
  g_mutex_unlock (&pending_lock);
  g_task_set_source_tag (task, upload_discard_in_thread);
  g_task_set_task_data (task, upload_ref (upload), (GDestroyNotify)upload_unref);
  g_task_run_in_thread (task, discard_worker);
}

/* --- BackupS3Writer ---------------------------------------------------------- */

#define BACKUP_TYPE_S3_WRITER (backup_s3_writer_get_type ())
G_DECLARE_FINAL_TYPE (BackupS3Writer, backup_s3_writer, BACKUP, S3_WRITER, GObject)

typedef enum
{
  WRITER_OPEN,
  WRITER_COMMITTING,
  WRITER_COMMITTED,
  WRITER_ABORTED,
} WriterState;

struct _BackupS3Writer
{
  GObject parent_instance;

  BackupS3Store *store;
  char *name;
  char *origin;
  gint64 began;
  Upload *upload;
  GByteArray *current; /* the part being filled */
  GChecksum *sha256;
  guint64 bytes_written;
  gint state; /* WriterState; the commit worker sets it too */
};

static void backup_s3_writer_writer_init (BackupStorageWriterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupS3Writer, backup_s3_writer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_STORAGE_WRITER,
                                                      backup_s3_writer_writer_init))

static void
writer_discard (BackupS3Writer *self)
{
  g_atomic_int_set (&self->state, WRITER_ABORTED);
  g_clear_pointer (&self->current, g_byte_array_unref);
  upload_discard_in_thread (self->upload);
}

static void
backup_s3_writer_dispose (GObject *object)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (object);

  if (g_atomic_int_get (&self->state) == WRITER_OPEN)
    writer_discard (self);
  G_OBJECT_CLASS (backup_s3_writer_parent_class)->dispose (object);
}

static void
backup_s3_writer_finalize (GObject *object)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (object);

  g_clear_pointer (&self->upload, upload_unref);
  g_clear_pointer (&self->current, g_byte_array_unref);
  g_clear_pointer (&self->sha256, g_checksum_free);
  g_clear_object (&self->store);
  g_free (self->name);
  g_free (self->origin);

  G_OBJECT_CLASS (backup_s3_writer_parent_class)->finalize (object);
}

static void
backup_s3_writer_class_init (BackupS3WriterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_s3_writer_dispose;
  object_class->finalize = backup_s3_writer_finalize;
}

static void
backup_s3_writer_init (BackupS3Writer *self)
{
  self->sha256 = g_checksum_new (G_CHECKSUM_SHA256);
}

static void
writer_fix_key (BackupS3Writer *self)
{
  if (self->upload->key == NULL)
    self->upload->key
        = backup_s3_store_version_key (self->store, self->name, self->began, self->origin);
}

static const char *
s3_writer_get_name (BackupStorageWriter *writer)
{
  return BACKUP_S3_WRITER (writer)->name;
}

static gboolean
s3_writer_write (BackupStorageWriter *writer, const void *data, gsize len, GError **error)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (writer);
  const guint8 *p = data;
  gsize part_size = self->store->part_size;

  if (g_atomic_int_get (&self->state) != WRITER_OPEN)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, "S3: the reception of %s is over",
                   self->name);
      return FALSE;
    }
  g_checksum_update (self->sha256, p, len);
  while (len > 0)
    {
      gsize n = MIN (len, part_size - self->current->len);

      g_byte_array_append (self->current, p, n);
      p += n;
      len -= n;
      self->bytes_written += n;
      if (self->current->len == part_size)
        {
          g_autoptr (GBytes) part = g_byte_array_free_to_bytes (self->current);

          self->current = g_byte_array_sized_new (part_size);
          writer_fix_key (self);
          if (!upload_push (self->upload, part, error))
            {
              g_prefix_error (error, "Cannot store %s: ", self->name);
              writer_discard (self);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static guint64
s3_writer_get_bytes_written (BackupStorageWriter *writer)
{
  return BACKUP_S3_WRITER (writer)->bytes_written;
}

static void
s3_writer_set_origin (BackupStorageWriter *writer, const char *origin)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (writer);

  g_free (self->origin);
  self->origin = g_strdup (origin);
}

static void
s3_writer_abort (BackupStorageWriter *writer)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (writer);

  if (g_atomic_int_get (&self->state) != WRITER_OPEN)
    return;
  g_debug ("S3: reception of %s aborted", self->name);
  writer_discard (self);
}

typedef struct
{
  gboolean check;
  guint8 expected[BACKUP_STORAGE_SHA256_LEN];
} CommitData;

static char *
hex (const guint8 *digest)
{
  GString *out = g_string_sized_new (2 * BACKUP_STORAGE_SHA256_LEN);

  for (guint i = 0; i < BACKUP_STORAGE_SHA256_LEN; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

static void
cancel_upload_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

/* Makes the content an object; everything but success aborts the upload. */
static gboolean
commit_upload (BackupS3Writer *self, const CommitData *data, GCancellable *cancellable,
               GError **error)
{
  Upload *upload = self->upload;
  guint8 digest[BACKUP_STORAGE_SHA256_LEN];
  gsize digest_len = sizeof digest;
  g_autoptr (GBytes) last = g_byte_array_free_to_bytes (g_steal_pointer (&self->current));
  gboolean ok;

  g_checksum_get_digest (self->sha256, digest, &digest_len);
  if (data->check && memcmp (digest, data->expected, sizeof digest) != 0)
    {
      g_autofree char *ours = hex (digest);
      g_autofree char *theirs = hex (data->expected);

      upload_discard (upload);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH,
                   "S3: %s is corrupt: SHA-256 %s, expected %s; nothing was stored", self->name,
                   ours, theirs);
      return FALSE;
    }

  writer_fix_key (self);
  if (upload->thread == NULL)
    {
      /* It fits in one part: one PUT. */
      return backup_s3_client_put_object (upload->client, upload->bucket, upload->key, last, NULL,
                                          cancellable, error);
    }

  ok = (g_bytes_get_size (last) == 0 || upload_push (upload, last, error))
       && upload_join (upload, error);
  if (ok)
    ok = backup_s3_client_complete_multipart_upload (upload->client, upload->bucket, upload->key,
                                                     upload->upload_id, upload->parts, NULL,
                                                     cancellable, error);
  if (!ok)
    upload_discard (upload);
  return ok;
}

static void
commit_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  BackupS3Writer *self = source_object;
  GError *error = NULL;
  gulong handler = 0;
  gboolean ok;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_upload_cb),
                                     g_object_ref (self->upload->cancellable), g_object_unref);
  ok = commit_upload (self, task_data, cancellable, &error);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  if (!ok)
    {
      g_atomic_int_set (&self->state, WRITER_ABORTED);
      g_prefix_error (&error, "Cannot store %s: ", self->name);
      g_task_return_error (task, error);
      return;
    }
  g_debug ("S3: stored %s as %s", self->name, self->upload->key);
  g_atomic_int_set (&self->state, WRITER_COMMITTED);

  /* The version is in place: a retention that fails now loses nothing and
   * is done again after the next commit. */
  if (!prune_name (self->store, self->name, FALSE, NULL, NULL, &error))
    {
      g_message ("S3: old versions of %s stay: %s", self->name, error->message);
      g_clear_error (&error);
    }
  g_task_return_boolean (task, TRUE);
}

static void
s3_writer_commit_async (BackupStorageWriter *writer, const guint8 *expected_sha256,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  BackupS3Writer *self = BACKUP_S3_WRITER (writer);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  CommitData *data;

  g_task_set_source_tag (task, s3_writer_commit_async);
  if (g_atomic_int_get (&self->state) != WRITER_OPEN)
    {
      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                               "S3: the reception of %s is over", self->name);
      return;
    }
  g_atomic_int_set (&self->state, WRITER_COMMITTING);
  data = g_new0 (CommitData, 1);
  if (expected_sha256 != NULL)
    {
      data->check = TRUE;
      memcpy (data->expected, expected_sha256, sizeof data->expected);
    }
  g_task_set_task_data (task, data, g_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, commit_worker);
}

static gboolean
s3_writer_commit_finish (BackupStorageWriter *writer, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, writer), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == s3_writer_commit_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
backup_s3_writer_writer_init (BackupStorageWriterInterface *iface)
{
  iface->get_name = s3_writer_get_name;
  iface->write = s3_writer_write;
  iface->get_bytes_written = s3_writer_get_bytes_written;
  iface->set_origin = s3_writer_set_origin;
  iface->commit_async = s3_writer_commit_async;
  iface->commit_finish = s3_writer_commit_finish;
  iface->abort = s3_writer_abort;
}

/* --- BackupStorage ------------------------------------------------------- */

static char *
s3_describe (BackupStorage *storage)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);

  return g_strdup_printf ("s3://%s/%s", self->bucket, self->prefix);
}

static gboolean
s3_storage_check_name (BackupStorage *storage, const char *name, gsize name_len, GError **error)
{
  return s3_check_name (BACKUP_S3_STORE (storage), name, name_len, error);
}

static BackupStorageWriter *
s3_begin (BackupStorage *storage, const char *name, gsize name_len, GError **error)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);
  BackupS3Writer *writer;

  if (!s3_check_name (self, name, name_len, error))
    return NULL;
  writer = g_object_new (BACKUP_TYPE_S3_WRITER, NULL);
  writer->store = g_object_ref (self);
  writer->name = g_strndup (name, name_len);
  writer->began = store_now (self);
  writer->upload = upload_new (self->client, self->bucket);
  writer->current = g_byte_array_sized_new (self->part_size);
  return BACKUP_STORAGE_WRITER (writer);
}

static gboolean
s3_remove_stale_parts (BackupStorage *storage, GTimeSpan min_age, guint *n_removed,
                       GCancellable *cancellable, GError **error)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);
  g_autoptr (GPtrArray) uploads = NULL;
  GTimeSpan age = MAX (min_age, self->stale_age);
  gint64 now = store_now (self);
  guint removed = 0;

  uploads = backup_s3_client_list_multipart_uploads (self->client, self->bucket, self->prefix,
                                                     cancellable, error);
  if (uploads == NULL)
    return FALSE;
  for (guint i = 0; i < uploads->len; i++)
    {
      const BackupS3UploadInfo *info = g_ptr_array_index (uploads, i);
      g_autoptr (GError) cause = NULL;

      if (info->initiated == NULL
          || now
                     - (g_date_time_to_unix (info->initiated) * G_USEC_PER_SEC
                        + g_date_time_get_microsecond (info->initiated))
                 < age)
        continue;
      if (!backup_s3_client_abort_multipart_upload (self->client, self->bucket, info->key,
                                                    info->upload_id, cancellable, &cause))
        {
          if (g_error_matches (cause, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_UPLOAD))
            continue;
          g_propagate_error (error, g_steal_pointer (&cause));
          return FALSE;
        }
      g_debug ("S3: aborted the stale upload of %s", info->key);
      removed++;
    }
  if (n_removed != NULL)
    *n_removed = removed;
  return TRUE;
}

static guint
s3_get_versions (BackupStorage *storage)
{
  return BACKUP_S3_STORE (storage)->versions;
}

static void
s3_set_retention (BackupStorage *storage, const BackupRetention *retention)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);

  g_mutex_lock (&self->lock);
  if (retention != NULL)
    self->retention = *retention;
  else
    memset (&self->retention, 0, sizeof self->retention);
  g_mutex_unlock (&self->lock);
}

static gboolean
s3_get_retention (BackupStorage *storage, BackupRetention *retention)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);

  g_mutex_lock (&self->lock);
  *retention = self->retention;
  g_mutex_unlock (&self->lock);
  return backup_retention_is_set (retention);
}

/* The prefix PREFIX NAME "/": the versions of one device. */
static BackupStorage *
s3_open_child (BackupStorage *storage, const char *name, guint versions, GError **error)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);
  g_autofree char *prefix = g_strconcat (self->prefix, name, "/", NULL);
  BackupS3Store *child = backup_s3_store_new (self->client, self->bucket, prefix,
                                              versions != 0 ? versions : self->versions);

  g_mutex_lock (&self->lock);
  child->retention = self->retention;
  g_mutex_unlock (&self->lock);
  child->part_size = self->part_size;
  child->stale_age = self->stale_age;
  child->clock = self->clock;
  child->clock_data = self->clock_data;
  if (self->zone != NULL)
    child->zone = g_time_zone_ref (self->zone);
  return BACKUP_STORAGE (child);
}

/* Every object under PREFIX (uploads under way are not objects yet). */
static gboolean
s3_measure (BackupStorage *storage, guint64 *bytes, GCancellable *cancellable, GError **error)
{
  BackupS3Store *self = BACKUP_S3_STORE (storage);
  g_autoptr (GPtrArray) objects = NULL;
  guint64 total = 0;

  objects = backup_s3_client_list_all_objects (self->client, self->bucket, self->prefix,
                                               cancellable, error);
  if (objects == NULL)
    return FALSE;
  for (guint i = 0; i < objects->len; i++)
    total += ((const BackupS3ObjectInfo *) g_ptr_array_index (objects, i))->size;
  *bytes = total;
  return TRUE;
}

static void
backup_s3_store_storage_init (BackupStorageInterface *iface)
{
  iface->describe = s3_describe;
  iface->check_name = s3_storage_check_name;
  iface->begin = s3_begin;
  iface->remove_stale_parts = s3_remove_stale_parts;
  iface->get_versions = s3_get_versions;
  iface->set_retention = s3_set_retention;
  iface->get_retention = s3_get_retention;
  iface->prune = s3_prune;
  iface->open_child = s3_open_child;
  iface->measure = s3_measure;
}
