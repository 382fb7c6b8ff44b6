/* backup-archiver.c: streams a directory as a double, password-protected zip
 *
 * The inner archive, named after the source folder plus ".zip", holds every
 * file, folder and symbolic link of the source with paths relative to it
 * (modes and modification times kept, empty folders kept, links stored as
 * links). The outer archive holds that inner archive as its only entry,
 * stored, since it is compressed already. Each level is encrypted with its
 * own password unless that password is empty.
 *
 * Home context: the thread-default main context at creation. Property
 * notifications and the ::progress signal are emitted there; async results
 * arrive on the context that was thread-default when the call was made.
 *
 * A regular file that disappears or changes size between the scan and the
 * moment it is archived fails the whole write with an error that names it:
 * a backup never silently misses a file. Sockets, FIFOs and device nodes are
 * skipped (they have no content to keep).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <string.h>

#include <glib/gi18n.h>

#include "backup-core-enum-types.h"
#include "backup-archiver.h"
#include "backup-error.h"
#include "backup-zip-random.h"
#include "backup-zip-writer.h"

#define PROGRESS_INTERVAL_USEC (G_USEC_PER_SEC / 10)

struct _BackupArchiver
{
  GObject parent_instance;

  GMainContext *home;
  GFile *source_dir;
  char *outer_name;
  char *inner_name;
  char *password1;
  char *password2;
  BackupZipEncryption encryption;

  guint8 *reproducible_key; /* BACKUP_ZIP_RANDOM_KEY_LEN bytes, or NULL */
  gint64 reproducible_mtime;

  BackupZipTree *tree; /* from the last scan, consumed by the next write */
  gint64 total_bytes;
  gint64 n_entries;
  gint64 bytes_done;
  guint write_serial; /* progress of older writes is dropped */
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (BackupArchiver, backup_archiver, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_SOURCE_DIR,
  PROP_OUTER_NAME,
  PROP_INNER_NAME,
  PROP_ENCRYPTION,
  PROP_TOTAL_BYTES,
  PROP_BYTES_DONE,
  PROP_N_ENTRIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
clear_secret (char **secret)
{
  if (*secret != NULL)
    {
      explicit_bzero (*secret, strlen (*secret));
      g_clear_pointer (secret, g_free);
    }
}

static void
backup_archiver_finalize (GObject *object)
{
  BackupArchiver *self = BACKUP_ARCHIVER (object);

  g_clear_pointer (&self->tree, backup_zip_tree_free);
  g_clear_object (&self->source_dir);
  g_clear_pointer (&self->outer_name, g_free);
  g_clear_pointer (&self->inner_name, g_free);
  clear_secret (&self->password1);
  clear_secret (&self->password2);
  backup_archiver_set_reproducible (self, NULL, 0);
  g_clear_pointer (&self->home, g_main_context_unref);

  G_OBJECT_CLASS (backup_archiver_parent_class)->finalize (object);
}

static void
backup_archiver_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupArchiver *self = BACKUP_ARCHIVER (object);

  switch (prop_id)
    {
    case PROP_SOURCE_DIR:
      g_value_set_object (value, self->source_dir);
      break;
    case PROP_OUTER_NAME:
      g_value_set_string (value, self->outer_name);
      break;
    case PROP_INNER_NAME:
      g_value_set_string (value, self->inner_name);
      break;
    case PROP_ENCRYPTION:
      g_value_set_enum (value, self->encryption);
      break;
    case PROP_TOTAL_BYTES:
      g_value_set_int64 (value, self->total_bytes);
      break;
    case PROP_BYTES_DONE:
      g_value_set_int64 (value, self->bytes_done);
      break;
    case PROP_N_ENTRIES:
      g_value_set_int64 (value, self->n_entries);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_archiver_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  BackupArchiver *self = BACKUP_ARCHIVER (object);

  switch (prop_id)
    {
    case PROP_SOURCE_DIR:
      self->source_dir = g_value_dup_object (value);
      break;
    case PROP_OUTER_NAME:
      self->outer_name = g_value_dup_string (value);
      break;
    case PROP_ENCRYPTION:
      backup_archiver_set_encryption (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_archiver_constructed (GObject *object)
{
  BackupArchiver *self = BACKUP_ARCHIVER (object);
  g_autofree char *base = NULL;

  G_OBJECT_CLASS (backup_archiver_parent_class)->constructed (object);

  g_return_if_fail (G_IS_FILE (self->source_dir));

  /* The original tool named the inner archive after the source folder. */
  base = g_file_get_basename (self->source_dir);
  if (base == NULL || g_strcmp0 (base, "/") == 0 || g_strcmp0 (base, ".") == 0)
    {
      g_free (base);
      base = g_strdup ("archive");
    }
  self->inner_name = g_strconcat (base, ".zip", NULL);
}

static void
backup_archiver_class_init (BackupArchiverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = backup_archiver_finalize;
  object_class->get_property = backup_archiver_get_property;
  object_class->set_property = backup_archiver_set_property;
  object_class->constructed = backup_archiver_constructed;

  properties[PROP_SOURCE_DIR]
      = g_param_spec_object ("source-dir", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OUTER_NAME]
      = g_param_spec_string ("outer-name", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INNER_NAME] = g_param_spec_string ("inner-name", NULL, NULL, NULL,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENCRYPTION] = g_param_spec_enum (
      "encryption", NULL, NULL, BACKUP_TYPE_ZIP_ENCRYPTION, BACKUP_ZIP_ENCRYPTION_AES256,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOTAL_BYTES] = g_param_spec_int64 ("total-bytes", NULL, NULL, 0, G_MAXINT64, 0,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BYTES_DONE] = g_param_spec_int64 ("bytes-done", NULL, NULL, 0, G_MAXINT64, 0,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ENTRIES] = g_param_spec_int64 ("n-entries", NULL, NULL, 0, G_MAXINT64, 0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupArchiver::progress:
   * @bytes_done: bytes of file content archived so far
   * @total_bytes: the sum of the sizes of the regular files
   *
   * Emitted on the home context at most ten times a second while writing,
   * and once more when the write succeeded.
   */
  signals[PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
}

static void
backup_archiver_init (BackupArchiver *self)
{
  self->home = g_main_context_ref_thread_default ();
  self->encryption = BACKUP_ZIP_ENCRYPTION_AES256;
}

/**
 * backup_archiver_new:
 * @source_dir: the folder to archive (a local path)
 * @outer_name: the name the receiver stores the outer archive under
 * @password1: password of the inner level, or "" for none
 * @password2: password of the outer level, or "" for none
 */
BackupArchiver *
backup_archiver_new (GFile *source_dir, const char *outer_name, const char *password1,
                     const char *password2)
{
  BackupArchiver *self;

  g_return_val_if_fail (G_IS_FILE (source_dir), NULL);
  g_return_val_if_fail (outer_name != NULL, NULL);

  self = g_object_new (BACKUP_TYPE_ARCHIVER, "source-dir", source_dir, "outer-name", outer_name,
                       NULL);
  self->password1 = g_strdup (password1 != NULL ? password1 : "");
  self->password2 = g_strdup (password2 != NULL ? password2 : "");
  return self;
}

GFile *
backup_archiver_get_source_dir (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), NULL);
  return self->source_dir;
}

const char *
backup_archiver_get_outer_name (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), NULL);
  return self->outer_name;
}

const char *
backup_archiver_get_inner_name (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), NULL);
  return self->inner_name;
}

BackupZipEncryption
backup_archiver_get_encryption (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), BACKUP_ZIP_ENCRYPTION_AES256);
  return self->encryption;
}

/* Takes effect at the next write. */
void
backup_archiver_set_encryption (BackupArchiver *self, BackupZipEncryption encryption)
{
  g_return_if_fail (BACKUP_IS_ARCHIVER (self));
  g_return_if_fail (encryption <= BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);

  if (self->encryption == encryption)
    return;
  self->encryption = encryption;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENCRYPTION]);
}

void
backup_archiver_set_reproducible (BackupArchiver *self, const guint8 *key, gint64 mtime)
{
  g_return_if_fail (BACKUP_IS_ARCHIVER (self));

  if (self->reproducible_key != NULL)
    {
      explicit_bzero (self->reproducible_key, BACKUP_ZIP_RANDOM_KEY_LEN);
      g_clear_pointer (&self->reproducible_key, g_free);
    }
  if (key != NULL)
    self->reproducible_key = g_memdup2 (key, BACKUP_ZIP_RANDOM_KEY_LEN);
  self->reproducible_mtime = mtime;
}

static void
hash_field (gnutls_hash_hd_t hash, const void *data, gsize length)
{
  guint64 be = GUINT64_TO_BE ((guint64) length);

  gnutls_hash (hash, &be, sizeof be);
  gnutls_hash (hash, data, length);
}

static void
hash_number (gnutls_hash_hd_t hash, gint64 value)
{
  guint64 be = GUINT64_TO_BE ((guint64) value);

  gnutls_hash (hash, &be, sizeof be);
}

gboolean
backup_archiver_get_fingerprint (BackupArchiver *self, guint8 out[32])
{
  gnutls_hash_hd_t hash;

  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), FALSE);

  if (self->tree == NULL || gnutls_hash_init (&hash, GNUTLS_DIG_SHA256) < 0)
    return FALSE;
  hash_field (hash, self->inner_name, strlen (self->inner_name));
  for (guint i = 0; i < self->tree->entries->len; i++)
    {
      const BackupZipEntry *entry = g_ptr_array_index (self->tree->entries, i);

      hash_field (hash, entry->path, strlen (entry->path));
      hash_number (hash, entry->mode);
      hash_number (hash, entry->size);
      hash_number (hash, entry->mtime);
      hash_number (hash, entry->mtime_nsec);
      hash_number (hash, entry->ctime);
      hash_number (hash, entry->ctime_nsec);
      hash_number (hash, (gint64) entry->inode);
      hash_number (hash, entry->uid);
      hash_number (hash, entry->gid);
      if (entry->link_target != NULL)
        hash_field (hash, entry->link_target, strlen (entry->link_target));
      else
        hash_number (hash, -1);
    }
  gnutls_hash_deinit (hash, out);
  return TRUE;
}

gint64
backup_archiver_get_total_bytes (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), 0);
  return self->total_bytes;
}

gint64
backup_archiver_get_bytes_done (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), 0);
  return self->bytes_done;
}

gint64
backup_archiver_get_n_entries (BackupArchiver *self)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), 0);
  return self->n_entries;
}

static void
set_totals (BackupArchiver *self, const BackupZipTree *tree)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->total_bytes != tree->total_bytes)
    {
      self->total_bytes = tree->total_bytes;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_BYTES]);
    }
  if (self->n_entries != (gint64)tree->entries->len)
    {
      self->n_entries = tree->entries->len;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ENTRIES]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static BackupZipTree *
scan_source (GFile *source_dir, GCancellable *cancellable, GError **error)
{
  g_autofree char *root = g_file_get_path (source_dir);

  if (root == NULL)
    {
      g_autofree char *uri = g_file_get_uri (source_dir);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a local folder"), uri);
      return NULL;
    }
  return backup_zip_tree_scan (root, cancellable, error);
}

/* ------------------------------------------------------------------------ */
/* Scan */

static void
scan_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GFile *source_dir = task_data;
  GError *error = NULL;
  BackupZipTree *tree = scan_source (source_dir, cancellable, &error);

  if (tree == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, tree, (GDestroyNotify)backup_zip_tree_free);
}

/**
 * backup_archiver_scan_async:
 *
 * Walks the source folder in a worker thread and sets #BackupArchiver:total-bytes
 * and #BackupArchiver:n-entries. The next write archives what this scan found;
 * a write without a scan before it scans first.
 */
void
backup_archiver_scan_async (BackupArchiver *self, int io_priority, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BACKUP_IS_ARCHIVER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_archiver_scan_async);
  g_task_set_priority (task, io_priority);
  g_task_set_task_data (task, g_object_ref (self->source_dir), g_object_unref);
  g_task_run_in_thread (task, scan_worker);
}

gboolean
backup_archiver_scan_finish (BackupArchiver *self, GAsyncResult *result, GError **error)
{
  BackupZipTree *tree;

  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_archiver_scan_async,
                        FALSE);

  tree = g_task_propagate_pointer (G_TASK (result), error);
  if (tree == NULL)
    return FALSE;

  set_totals (self, tree);
  g_clear_pointer (&self->tree, backup_zip_tree_free);
  self->tree = tree;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Write */

typedef struct
{
  GFile *source_dir;
  GOutputStream *out;
  BackupZipTree *tree;
  char *inner_name;
  char *password1;
  char *password2;
  BackupZipEncryption encryption;
  guint8 *reproducible_key;
  gint64 reproducible_mtime;
  int priority;
  guint serial;
  BackupArchiver *self; /* borrowed: the task holds a reference */
  gint64 last_progress_usec;
} WriteData;

static void
write_data_free (gpointer data)
{
  WriteData *wd = data;

  g_clear_object (&wd->source_dir);
  g_clear_object (&wd->out);
  g_clear_pointer (&wd->tree, backup_zip_tree_free);
  g_free (wd->inner_name);
  clear_secret (&wd->password1);
  clear_secret (&wd->password2);
  if (wd->reproducible_key != NULL)
    explicit_bzero (wd->reproducible_key, BACKUP_ZIP_RANDOM_KEY_LEN);
  g_free (wd->reproducible_key);
  g_free (wd);
}

typedef struct
{
  BackupArchiver *self;
  guint serial;
  gint64 bytes_done;
  gint64 total_bytes;
  gint64 n_entries;
  gboolean totals;
  gboolean final;
  gboolean done;
} ProgressEvent;

static void
progress_event_free (gpointer data)
{
  ProgressEvent *event = data;

  g_object_unref (event->self);
  g_free (event);
}

static gboolean
progress_event_dispatch (gpointer data)
{
  ProgressEvent *event = data;
  BackupArchiver *self = event->self;

  if (event->serial != self->write_serial)
    return G_SOURCE_REMOVE;

  if (event->done)
    {
      self->busy = FALSE;
      return G_SOURCE_REMOVE;
    }

  if (event->totals)
    {
      g_object_freeze_notify (G_OBJECT (self));
      if (self->total_bytes != event->total_bytes)
        {
          self->total_bytes = event->total_bytes;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_BYTES]);
        }
      if (self->n_entries != event->n_entries)
        {
          self->n_entries = event->n_entries;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ENTRIES]);
        }
      g_object_thaw_notify (G_OBJECT (self));
      return G_SOURCE_REMOVE;
    }

  if (event->bytes_done < self->bytes_done
      || (event->bytes_done == self->bytes_done && !event->final))
    return G_SOURCE_REMOVE;

  if (self->bytes_done != event->bytes_done)
    {
      self->bytes_done = event->bytes_done;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
    }
  g_signal_emit (self, signals[PROGRESS], 0, self->bytes_done, self->total_bytes);
  return G_SOURCE_REMOVE;
}

/* Any thread: queues an event for the home context. Events keep their
 * order because they share one priority with the task's result. */
static void
post_event (WriteData *wd, ProgressEvent event)
{
  ProgressEvent *copy = g_memdup2 (&event, sizeof event);
  GSource *source;

  copy->self = g_object_ref (wd->self);
  copy->serial = wd->serial;
  /* A source of the home context, never g_main_context_invoke(): that
   * would dispatch here, in the worker, whenever no thread holds the home
   * context at this moment. */
  source = g_idle_source_new ();
  g_source_set_priority (source, wd->priority);
  g_source_set_callback (source, progress_event_dispatch, copy, progress_event_free);
  g_source_set_static_name (source, "[backup] archiver progress");
  g_source_attach (source, wd->self->home);
  g_source_unref (source);
}

static void
write_progress_cb (gint64 bytes_done, gpointer user_data)
{
  WriteData *wd = user_data;
  gint64 now = g_get_monotonic_time ();

  if (now - wd->last_progress_usec < PROGRESS_INTERVAL_USEC)
    return;
  wd->last_progress_usec = now;
  post_event (wd, (ProgressEvent){ .bytes_done = bytes_done });
}

static void
write_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  WriteData *wd = task_data;
  BackupZipWriteParams params = { 0 };
  GError *error = NULL;

  if (wd->tree == NULL)
    {
      wd->tree = scan_source (wd->source_dir, cancellable, &error);
      if (wd->tree == NULL)
        {
          post_event (wd, (ProgressEvent){ .done = TRUE });
          g_task_return_error (task, error);
          return;
        }
      post_event (wd, (ProgressEvent){ .totals = TRUE,
                                       .total_bytes = wd->tree->total_bytes,
                                       .n_entries = wd->tree->entries->len });
    }

  params.tree = wd->tree;
  params.inner_name = wd->inner_name;
  params.password1 = wd->password1;
  params.password2 = wd->password2;
  params.encryption = wd->encryption;
  params.reproducible_key = wd->reproducible_key;
  params.outer_mtime = wd->reproducible_mtime;
  params.out = wd->out;
  params.cancellable = cancellable;
  params.progress = write_progress_cb;
  params.progress_data = wd;
  wd->last_progress_usec = g_get_monotonic_time ();

  if (!backup_zip_write (&params, &error))
    {
      post_event (wd, (ProgressEvent){ .done = TRUE });
      g_task_return_error (task, error);
      return;
    }

  post_event (wd, (ProgressEvent){ .bytes_done = wd->tree->total_bytes, .final = TRUE });
  post_event (wd, (ProgressEvent){ .done = TRUE });
  g_task_return_boolean (task, TRUE);
}

/**
 * backup_archiver_write_async:
 * @out: where the outer archive goes. It is written from a worker thread
 *   (GIO streams allow that as long as nobody else uses the stream meanwhile)
 *   and flushed, not closed, when the archive is complete.
 *
 * Writes the double zip. The operation fails with %G_IO_ERROR_CANCELLED when
 * @cancellable is cancelled, and with a #BACKUP_ERROR naming the file for
 * an unreadable source, a file changed while it was archived, or an output
 * that cannot be written. One write at a time.
 */
void
backup_archiver_write_async (BackupArchiver *self, GOutputStream *out, int io_priority,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  WriteData *wd;

  g_return_if_fail (BACKUP_IS_ARCHIVER (self));
  g_return_if_fail (G_IS_OUTPUT_STREAM (out));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_archiver_write_async);
  g_task_set_priority (task, io_priority);

  if (self->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _ ("The folder is already being archived"));
      return;
    }
  self->busy = TRUE;

  wd = g_new0 (WriteData, 1);
  wd->source_dir = g_object_ref (self->source_dir);
  wd->out = g_object_ref (out);
  wd->tree = g_steal_pointer (&self->tree);
  wd->inner_name = g_strdup (self->inner_name);
  wd->password1 = g_strdup (self->password1);
  wd->password2 = g_strdup (self->password2);
  wd->encryption = self->encryption;
  if (self->reproducible_key != NULL)
    wd->reproducible_key = g_memdup2 (self->reproducible_key, BACKUP_ZIP_RANDOM_KEY_LEN);
  wd->reproducible_mtime = self->reproducible_mtime;
  wd->priority = io_priority;
  wd->serial = ++self->write_serial;
  wd->self = self;
  g_task_set_task_data (task, wd, write_data_free);

  if (self->bytes_done != 0)
    {
      self->bytes_done = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_DONE]);
    }

  g_task_run_in_thread (task, write_worker);
}

gboolean
backup_archiver_write_finish (BackupArchiver *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_ARCHIVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_archiver_write_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
