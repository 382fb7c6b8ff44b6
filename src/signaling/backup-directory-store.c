/* backup-directory-store.c: signaling files in a local or shared folder
 *
 * Files keep their protocol names. A file is written under a hidden
 * temporary name and linked into place, so readers never see half a file
 * and an existing file of the same name is never replaced (a second file of
 * that name gets a "~N" suffix, which listing strips from the name). Listing
 * orders by modification time (nanoseconds), then name. Downloading first
 * renames the file to a hidden name of our own, so of two readers only one
 * gets it. Files older than the expiry are removed when seen. A file
 * monitor reports new files at once.
 *
 * Home context: the thread-default context at construction (the monitor's
 * "changed"); the file operations run in worker threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-directory-store.h"
#include "backup-signaling-error.h"

#define DEFAULT_EXPIRY_SECONDS (10 * 60)
#define MAX_FILE_SIZE (1024 * 1024)
#define MAX_DUPLICATES 1000

struct _BackupDirectoryStore
{
  GObject parent_instance;

  char *path;
  GFileMonitor *monitor;
  guint expiry;

  GMutex lock;
  GHashTable *ours; /* keys uploaded by us and not yet consumed */
};

static void backup_directory_store_iface_init (BackupSignalingStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupDirectoryStore, backup_directory_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_SIGNALING_STORE,
                                                      backup_directory_store_iface_init))

enum
{
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_errno_error (GError **error, int saved_errno, const char *what, const char *name)
{
  int code = saved_errno == ENOENT ? BACKUP_SIGNALING_ERROR_NOT_FOUND
                                   : BACKUP_SIGNALING_ERROR_FAILED;

  g_set_error (error, BACKUP_SIGNALING_ERROR, code, "Could not %s “%s”: %s",
               what, name, g_strerror (saved_errno));
}

static void
forget_key (BackupDirectoryStore *self, const char *key)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->ours, key);
  g_mutex_unlock (&self->lock);
}

static gboolean
is_valid_name (const char *name)
{
  return *name != '\0' && *name != '.' && strchr (name, '/') == NULL &&
         strlen (name) <= 200;
}

/* ---- upload ---- */

typedef struct
{
  char *name;
  GBytes *contents;
} UploadData;

static void
upload_data_free (UploadData *data)
{
  g_free (data->name);
  g_bytes_unref (data->contents);
  g_free (data);
}

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

static void
upload_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BackupDirectoryStore *self = source;
  UploadData *data = task_data;
  g_autofree char *tmp = g_build_filename (self->path, ".upload-XXXXXX", NULL);
  const guint8 *bytes;
  gsize len;
  int fd, saved_errno;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved_errno = errno;
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                               _("Could not create a file in “%s”: %s"), self->path,
                               g_strerror (saved_errno));
      return;
    }

  bytes = g_bytes_get_data (data->contents, &len);
  if (!write_all (fd, bytes, len) || close (fd) != 0)
    {
      saved_errno = errno;
      g_unlink (tmp);
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                               "Could not write “%s”: %s", data->name, g_strerror (saved_errno));
      return;
    }

  for (guint n = 1; n <= MAX_DUPLICATES; n++)
    {
      g_autofree char *key = n == 1 ? g_strdup (data->name)
                                    : g_strdup_printf ("%s~%u", data->name, n);
      g_autofree char *final = g_build_filename (self->path, key, NULL);
      int ret;

      ret = link (tmp, final);
      if (ret != 0 && errno != EEXIST)
        {
          /* A file system without hard links: check, then rename. */
          if (g_file_test (final, G_FILE_TEST_EXISTS))
            continue;
          ret = g_rename (tmp, final);
        }
      if (ret != 0)
        {
          saved_errno = errno;
          if (saved_errno == EEXIST)
            continue;
          g_unlink (tmp);
          g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                                   "Could not write “%s”: %s", data->name,
                                   g_strerror (saved_errno));
          return;
        }

      g_unlink (tmp);
      if (g_cancellable_is_cancelled (cancellable))
        {
          /* Nobody will know about this file: take it back. */
          g_unlink (final);
          g_task_return_error_if_cancelled (task);
          return;
        }

      g_mutex_lock (&self->lock);
      g_hash_table_add (self->ours, g_strdup (key));
      g_mutex_unlock (&self->lock);
      g_task_return_pointer (task, g_steal_pointer (&key), g_free);
      return;
    }

  g_unlink (tmp);
  g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                           "Too many files named “%s”", data->name);
}

static void
backup_directory_store_upload_async (BackupSignalingStore *store,
                                     const char *name,
                                     GBytes *contents,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (store, cancellable, callback, user_data);
  UploadData *data;

  g_task_set_source_tag (task, backup_directory_store_upload_async);
  if (!is_valid_name (name))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                               "“%s” is not a valid file name", name);
      return;
    }

  data = g_new0 (UploadData, 1);
  data->name = g_strdup (name);
  data->contents = g_bytes_ref (contents);
  g_task_set_task_data (task, data, (GDestroyNotify) upload_data_free);
  g_task_run_in_thread (task, upload_worker);
}

static char *
backup_directory_store_upload_finish (BackupSignalingStore *store,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- list ---- */

typedef struct
{
  BackupSignalingEntry *entry;
  gint64 mtime_ns;
} ListItem;

static int
compare_items (gconstpointer a, gconstpointer b)
{
  const ListItem *x = a, *y = b;

  if (x->mtime_ns != y->mtime_ns)
    return x->mtime_ns < y->mtime_ns ? -1 : 1;
  return strcmp (x->entry->key, y->entry->key);
}

static char *
name_of_key (const char *key)
{
  const char *tilde = strrchr (key, '~');

  if (tilde != NULL && tilde[1] != '\0' && strspn (tilde + 1, "0123456789") == strlen (tilde + 1))
    return g_strndup (key, tilde - key);
  return g_strdup (key);
}

static void
list_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BackupDirectoryStore *self = source;
  const char *pattern = task_data;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GArray) items = g_array_new (FALSE, FALSE, sizeof (ListItem));
  g_autoptr (GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_signaling_entry_free);
  g_autoptr (GError) error = NULL;
  gint64 now_ns = g_get_real_time () * 1000;
  gint64 expiry_ns = (gint64) self->expiry * G_GINT64_CONSTANT (1000000000);
  const char *name;

  dir = g_dir_open (self->path, 0, &error);
  if (dir == NULL)
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                               _("Could not list “%s”: %s"), self->path, error->message);
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->path, name, NULL);
      GStatBuf st;
      gint64 mtime_ns;
      ListItem item;

      if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;

      if (now_ns - mtime_ns > expiry_ns)
        {
          g_debug ("Removing expired signaling file “%s”", name);
          g_unlink (path);
          continue;
        }
      if (name[0] == '.')
        continue;

      item.entry = backup_signaling_entry_new (name, NULL, mtime_ns / 1000);
      item.entry->name = name_of_key (name);
      if (strstr (item.entry->name, pattern) == NULL)
        {
          backup_signaling_entry_free (item.entry);
          continue;
        }
      item.mtime_ns = mtime_ns;
      g_array_append_val (items, item);
    }

  g_array_sort (items, compare_items);
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (result, g_array_index (items, ListItem, i).entry);

  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) g_ptr_array_unref);
}

static void
backup_directory_store_list_async (BackupSignalingStore *store,
                                   const char *pattern,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (store, cancellable, callback, user_data);

  g_task_set_source_tag (task, backup_directory_store_list_async);
  g_task_set_task_data (task, g_strdup (pattern), g_free);
  g_task_run_in_thread (task, list_worker);
}

static GPtrArray *
backup_directory_store_list_finish (BackupSignalingStore *store,
                                    GAsyncResult *result,
                                    GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- download ---- */

static void
download_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BackupDirectoryStore *self = source;
  const char *key = task_data;
  g_autofree char *path = g_build_filename (self->path, key, NULL);
  g_autofree char *claim_name = NULL;
  g_autofree char *claim = NULL;
  g_autofree char *random = g_uuid_string_random ();
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  guint8 chunk[16384];
  gboolean too_large = FALSE;
  int fd;

  claim_name = g_strdup_printf (".claim-%s", random);
  claim = g_build_filename (self->path, claim_name, NULL);
  if (g_rename (path, claim) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND,
                                 "“%s” is gone", key);
      else
        {
          GError *error = NULL;

          set_errno_error (&error, saved_errno, "take", key);
          g_task_return_error (task, error);
        }
      return;
    }
  forget_key (self, key);

  fd = g_open (claim, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;
      GError *error = NULL;

      g_unlink (claim);
      set_errno_error (&error, saved_errno, "read", key);
      g_task_return_error (task, error);
      return;
    }

  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (buffer->len + n > MAX_FILE_SIZE)
        {
          too_large = TRUE;
          break;
        }
      g_byte_array_append (buffer, chunk, n);
    }
  close (fd);
  g_unlink (claim);

  if (too_large)
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                               "“%s” is larger than %u bytes", key, MAX_FILE_SIZE);
      return;
    }

  g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&buffer)),
                         (GDestroyNotify) g_bytes_unref);
}

static void
backup_directory_store_download_async (BackupSignalingStore *store,
                                       const char *key,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (store, cancellable, callback, user_data);

  g_task_set_source_tag (task, backup_directory_store_download_async);
  if (!is_valid_name (key))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND,
                               "No file “%s”", key);
      return;
    }
  g_task_set_task_data (task, g_strdup (key), g_free);
  g_task_run_in_thread (task, download_worker);
}

static GBytes *
backup_directory_store_download_finish (BackupSignalingStore *store,
                                        GAsyncResult *result,
                                        GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- delete ---- */

static void
delete_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BackupDirectoryStore *self = source;
  const char *key = task_data;
  g_autofree char *path = g_build_filename (self->path, key, NULL);

  if (g_unlink (path) != 0)
    {
      int saved_errno = errno;
      GError *error = NULL;

      if (saved_errno == ENOENT)
        forget_key (self, key);
      set_errno_error (&error, saved_errno, "delete", key);
      g_task_return_error (task, error);
      return;
    }
  forget_key (self, key);
  g_task_return_boolean (task, TRUE);
}

static void
backup_directory_store_delete_async (BackupSignalingStore *store,
                                     const char *key,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (store, cancellable, callback, user_data);

  g_task_set_source_tag (task, backup_directory_store_delete_async);
  if (!is_valid_name (key))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND,
                               "No file “%s”", key);
      return;
    }
  g_task_set_task_data (task, g_strdup (key), g_free);
  g_task_run_in_thread (task, delete_worker);
}

static gboolean
backup_directory_store_delete_finish (BackupSignalingStore *store,
                                      GAsyncResult *result,
                                      GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static guint
backup_directory_store_get_poll_interval (BackupSignalingStore *store)
{
  BackupDirectoryStore *self = BACKUP_DIRECTORY_STORE (store);

  /* The monitor makes most changes instant; polling covers the rest. */
  return self->monitor != NULL ? 250 : 100;
}

static void
backup_directory_store_iface_init (BackupSignalingStoreInterface *iface)
{
  iface->upload_async = backup_directory_store_upload_async;
  iface->upload_finish = backup_directory_store_upload_finish;
  iface->list_async = backup_directory_store_list_async;
  iface->list_finish = backup_directory_store_list_finish;
  iface->download_async = backup_directory_store_download_async;
  iface->download_finish = backup_directory_store_download_finish;
  iface->delete_async = backup_directory_store_delete_async;
  iface->delete_finish = backup_directory_store_delete_finish;
  iface->get_poll_interval = backup_directory_store_get_poll_interval;
}

/* ---- object ---- */

static void
on_monitor_changed (GFileMonitor *monitor,
                    GFile *file,
                    GFile *other_file,
                    GFileMonitorEvent event,
                    gpointer user_data)
{
  BackupDirectoryStore *self = user_data;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_RENAMED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      {
        g_autofree char *base = g_file_get_basename (other_file != NULL ? other_file : file);

        if (base != NULL && base[0] == '.')
          return;
        backup_signaling_store_emit_changed (BACKUP_SIGNALING_STORE (self));
      }
      break;
    default:
      break;
    }
}

static void
backup_directory_store_dispose (GObject *object)
{
  BackupDirectoryStore *self = BACKUP_DIRECTORY_STORE (object);

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }

  G_OBJECT_CLASS (backup_directory_store_parent_class)->dispose (object);
}

static void
backup_directory_store_finalize (GObject *object)
{
  BackupDirectoryStore *self = BACKUP_DIRECTORY_STORE (object);
  GHashTableIter iter;
  gpointer key;

  /* Nothing of ours stays behind. */
  g_hash_table_iter_init (&iter, self->ours);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autofree char *path = g_build_filename (self->path, key, NULL);

      g_debug ("Removing our leftover signaling file “%s”", (const char *) key);
      g_unlink (path);
    }

  g_hash_table_unref (self->ours);
  g_mutex_clear (&self->lock);
  g_free (self->path);

  G_OBJECT_CLASS (backup_directory_store_parent_class)->finalize (object);
}

static void
backup_directory_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupDirectoryStore *self = BACKUP_DIRECTORY_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_directory_store_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BackupDirectoryStore *self = BACKUP_DIRECTORY_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_directory_store_class_init (BackupDirectoryStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_directory_store_dispose;
  object_class->finalize = backup_directory_store_finalize;
  object_class->get_property = backup_directory_store_get_property;
  object_class->set_property = backup_directory_store_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_directory_store_init (BackupDirectoryStore *self)
{
  self->expiry = DEFAULT_EXPIRY_SECONDS;
  g_mutex_init (&self->lock);
  self->ours = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * backup_directory_store_new:
 * @path: the folder; created (mode 0700) when missing
 */
BackupDirectoryStore *
backup_directory_store_new (const char *path,
                            GError **error)
{
  g_autoptr (BackupDirectoryStore) self = NULL;
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                   _("Could not create the signaling folder “%s”: %s"), path,
                   g_strerror (saved_errno));
      return NULL;
    }

  self = g_object_new (BACKUP_TYPE_DIRECTORY_STORE, "path", path, NULL);

  file = g_file_new_for_path (path);
  self->monitor = g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &local_error);
  if (self->monitor == NULL)
    g_debug ("No monitor on “%s”, polling only: %s", path, local_error->message);
  else
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_monitor_changed), self);

  return g_steal_pointer (&self);
}

const char *
backup_directory_store_get_path (BackupDirectoryStore *self)
{
  g_return_val_if_fail (BACKUP_IS_DIRECTORY_STORE (self), NULL);

  return self->path;
}

/* Files older than @seconds are ignored and removed (default 10 minutes,
 * the lifetime the protocol gives its files). */
void
backup_directory_store_set_expiry (BackupDirectoryStore *self,
                                   guint seconds)
{
  g_return_if_fail (BACKUP_IS_DIRECTORY_STORE (self));

  self->expiry = seconds;
}
