/* signaling-test-util.c: blocking wrappers over BackupSignalingStore for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "signaling-test-util.h"

void
test_store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Iterates the thread-default context until the result arrived (120 s at most). */
GAsyncResult *
test_wait_result (GAsyncResult **slot)
{
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (context, TRUE);
    }
  return *slot;
}

char *
test_store_upload (BackupSignalingStore *store, const char *name, const char *text, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  backup_signaling_store_upload_async (store, name, bytes, NULL, test_store_result_cb, &result);
  return backup_signaling_store_upload_finish (store, test_wait_result (&result), error);
}

GPtrArray *
test_store_list (BackupSignalingStore *store, const char *pattern, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  backup_signaling_store_list_async (store, pattern, NULL, test_store_result_cb, &result);
  return backup_signaling_store_list_finish (store, test_wait_result (&result), error);
}

GBytes *
test_store_download (BackupSignalingStore *store, const char *key, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  backup_signaling_store_download_async (store, key, NULL, test_store_result_cb, &result);
  return backup_signaling_store_download_finish (store, test_wait_result (&result), error);
}

gboolean
test_store_delete (BackupSignalingStore *store, const char *key, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  backup_signaling_store_delete_async (store, key, NULL, test_store_result_cb, &result);
  return backup_signaling_store_delete_finish (store, test_wait_result (&result), error);
}

char *
test_make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("signaling-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

guint
test_count_dir_entries (const char *path, gboolean include_hidden)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (include_hidden || name[0] != '.')
      n++;
  return n;
}

/* Worker threads of finished tasks drop their references a moment after
 * the result arrived: wait for that before asserting finalization. */
void
test_wait_last_ref (gpointer object)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&G_OBJECT (object)->ref_count) > 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (1000);
    }
}
