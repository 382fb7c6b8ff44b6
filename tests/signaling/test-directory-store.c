/* test-directory-store.c: BackupDirectoryStore on real files in a temporary folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "signaling/backup-directory-store.h"
#include "signaling/backup-fileio-store.h"
#include "signaling/backup-signaling-error.h"
#include "signaling/backup-signaling-open.h"
#include "signaling-test-util.h"

static BackupSignalingStore *
new_store (const char *dir)
{
  g_autoptr (GError) error = NULL;
  BackupDirectoryStore *store = backup_directory_store_new (dir, &error);

  g_assert_no_error (error);
  return BACKUP_SIGNALING_STORE (store);
}

static void
test_new_destroy (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autofree char *sub = g_build_filename (dir, "a", "b", NULL);
  BackupSignalingStore *store = new_store (sub);
  GStatBuf st;

  /* the folder is created, private */
  g_assert_cmpint (g_stat (sub, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpstr (backup_directory_store_get_path (BACKUP_DIRECTORY_STORE (store)), ==, sub);
  g_assert_finalize_object (store);
  test_remove_tree (dir);
}

static void
test_operations (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (BackupSignalingStore) store = new_store (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) pings = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autofree char *k1 = NULL, *k2 = NULL, *k3 = NULL;
  BackupSignalingEntry *e;

  k1 = test_store_upload (store, "S_ping_one.json", "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  k2 = test_store_upload (store, "S_sdp_one.json", "second", &error);
  g_assert_no_error (error);
  k3 = test_store_upload (store, "T_ping_two.json", "third", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (k1, ==, "S_ping_one.json");

  /* no temporary file is left */
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 3);

  all = test_store_list (store, "S_", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 2);
  e = g_ptr_array_index (all, 0);
  g_assert_cmpstr (e->name, ==, "S_ping_one.json");
  g_assert_cmpstr (e->key, ==, k1);
  g_assert_cmpint (e->created, >, 0);
  e = g_ptr_array_index (all, 1);
  g_assert_cmpstr (e->name, ==, "S_sdp_one.json");

  pings = test_store_list (store, "_ping", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pings->len, ==, 2);

  /* download consumes */
  got = test_store_download (store, k2, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "second", 6);
  g_assert_null (test_store_download (store, k2, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* delete, then delete again */
  g_assert_true (test_store_delete (store, k1, &error));
  g_assert_no_error (error);
  g_assert_false (test_store_delete (store, k1, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* keys cannot leave the folder */
  g_assert_null (test_store_download (store, "../etc/passwd", &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (test_store_upload (store, "../x.json", "x", &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_true (test_store_delete (store, k3, &error));
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);

  g_clear_object (&store);
  test_remove_tree (dir);
}

static void
test_same_name (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (BackupSignalingStore) store = new_store (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  /* the original tool uploads one file per candidate, all with one name */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("candidate %u", i);
      g_autofree char *key = test_store_upload (store, "S_candidate_x.json", text, &error);

      g_assert_no_error (error);
    }

  list = test_store_list (store, "S_", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      BackupSignalingEntry *e = g_ptr_array_index (list, i);
      g_autofree char *expected = g_strdup_printf ("candidate %u", i);
      g_autoptr (GBytes) got = NULL;

      g_assert_cmpstr (e->name, ==, "S_candidate_x.json");
      got = test_store_download (store, e->key, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), expected, strlen (expected));
    }

  g_clear_object (&store);
  test_remove_tree (dir);
}

static void
on_changed (BackupSignalingStore *store, gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_monitor (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (BackupSignalingStore) store = new_store (dir);
  g_autofree char *path = g_build_filename (dir, "S_ping_other.json", NULL);
  g_autoptr (GError) error = NULL;
  guint count = 0;
  gint64 deadline;

  g_signal_connect (store, "changed", G_CALLBACK (on_changed), &count);

  /* a file written by someone else */
  g_file_set_contents (path, "{\"type\":\"ping\"}", -1, &error);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (count == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (count, >, 0);

  g_clear_object (&store);
  test_remove_tree (dir);
}

static void
test_expiry (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (BackupSignalingStore) store = new_store (dir);
  g_autofree char *old = g_build_filename (dir, "S_ping_old.json", NULL);
  g_autofree char *stale_tmp = g_build_filename (dir, ".upload-ABCDEF", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *key = NULL;
  struct utimbuf times = { .actime = time (NULL) - 3600, .modtime = time (NULL) - 3600 };

  g_file_set_contents (old, "{\"type\":\"ping\"}", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (stale_tmp, "half", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (utime (old, &times), ==, 0);
  g_assert_cmpint (utime (stale_tmp, &times), ==, 0);
  key = test_store_upload (store, "S_ping_new.json", "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);

  list = test_store_list (store, "S_", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((BackupSignalingEntry *) g_ptr_array_index (list, 0))->name, ==, "S_ping_new.json");
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stale_tmp, G_FILE_TEST_EXISTS));

  g_clear_object (&store);
  test_remove_tree (dir);
}

static void
test_leftovers (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autofree char *foreign = g_build_filename (dir, "S_ping_foreign.json", NULL);
  BackupSignalingStore *store = new_store (dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *k1 = NULL, *k2 = NULL;

  g_file_set_contents (foreign, "{\"type\":\"ping\"}", -1, &error);
  g_assert_no_error (error);
  k1 = test_store_upload (store, "S_ping_mine.json", "{\"type\":\"ping\"}", &error);
  k2 = test_store_upload (store, "S_sdp_mine.json", "x", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 3);

  /* what we wrote goes with us; what others wrote stays */
  test_wait_last_ref (store);
  g_assert_finalize_object (store);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 1);
  g_assert_true (g_file_test (foreign, G_FILE_TEST_EXISTS));

  test_remove_tree (dir);
}

typedef struct
{
  const char *dir;
  GPtrArray *keys;
  guint got;
} Reader;

static gpointer
reader_thread (gpointer user_data)
{
  Reader *reader = user_data;
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (BackupSignalingStore) store = NULL;

  g_main_context_push_thread_default (context);
  store = new_store (reader->dir);
  for (guint i = 0; i < reader->keys->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = test_store_download (store, g_ptr_array_index (reader->keys, i), &error);

      if (bytes != NULL)
        reader->got++;
      else
        g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
    }
  g_clear_object (&store);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_two_readers (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Reader a = { dir, keys, 0 }, b = { dir, keys, 0 };
  GThread *ta, *tb;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/S_candidate_%u.json", dir, i);

      g_file_set_contents (path, "x", -1, NULL);
      g_ptr_array_add (keys, g_path_get_basename (path));
    }

  ta = g_thread_new ("a", reader_thread, &a);
  tb = g_thread_new ("b", reader_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);

  /* every file went to exactly one reader */
  g_assert_cmpuint (a.got + b.got, ==, 200);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

static void
test_factory (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autofree char *uri = g_filename_to_uri (dir, NULL, NULL);
  g_autofree char *runtime_store = g_build_filename (g_getenv ("XDG_RUNTIME_DIR"), "distributed-backup", "signaling", NULL);
  g_autoptr (GError) error = NULL;
  BackupSignalingStore *store;

  store = backup_signaling_open (uri, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (BACKUP_IS_DIRECTORY_STORE (store));
  g_assert_cmpstr (backup_directory_store_get_path (BACKUP_DIRECTORY_STORE (store)), ==, dir);
  g_assert_finalize_object (store);

  store = backup_signaling_open (dir, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (BACKUP_IS_DIRECTORY_STORE (store));
  g_assert_finalize_object (store);

  store = backup_signaling_open ("http://127.0.0.1:9/base", "k", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (BACKUP_IS_FILEIO_STORE (store));
  g_assert_cmpstr (backup_fileio_store_get_base_url (BACKUP_FILEIO_STORE (store)), ==, "http://127.0.0.1:9/base/");
  g_assert_finalize_object (store);

  /* no URL but a key: FILE.io itself (nothing is contacted here) */
  store = backup_signaling_open (NULL, "key", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (BACKUP_IS_FILEIO_STORE (store));
  g_assert_cmpstr (backup_fileio_store_get_base_url (BACKUP_FILEIO_STORE (store)), ==, "https://file.io/");
  g_assert_finalize_object (store);

  /* neither: the folder in the runtime directory (set in main) */
  store = backup_signaling_open (NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (BACKUP_IS_DIRECTORY_STORE (store));
  g_assert_cmpstr (backup_directory_store_get_path (BACKUP_DIRECTORY_STORE (store)), ==,
                   runtime_store);
  g_assert_finalize_object (store);

  /* In a Flatpak: the application's folder of the runtime directory, which
   * the host shares. */
  {
    g_autofree char *app_store = g_build_filename (g_get_user_runtime_dir (), "app",
                                                   "io.example.Test", "signaling", NULL);

    g_setenv ("FLATPAK_ID", "io.example.Test", TRUE);
    store = backup_signaling_open (NULL, NULL, NULL, &error);
    g_unsetenv ("FLATPAK_ID");
    g_assert_no_error (error);
    g_assert_cmpstr (backup_directory_store_get_path (BACKUP_DIRECTORY_STORE (store)), ==,
                     app_store);
    g_assert_true (g_file_test (app_store, G_FILE_TEST_IS_DIR));
    g_assert_finalize_object (store);
  }

  store = backup_signaling_open ("ftp://example.invalid/", NULL, NULL, &error);
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL);
  g_assert_null (store);
  g_clear_error (&error);

  store = backup_signaling_open ("http://", NULL, NULL, &error);
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL);
  g_assert_null (store);
  g_clear_error (&error);

  test_remove_tree (dir);
}

int
main (int argc, char *argv[])
{
  g_autofree char *runtime = NULL;
  g_autofree char *base = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  /* test_factory expects the default store in $XDG_RUNTIME_DIR */
  base = test_make_temp_dir ();
  runtime = g_build_filename (base, "runtime", NULL);
  g_mkdir (runtime, 0700);
  g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);

  g_test_add_func ("/signaling/directory-store/new-destroy", test_new_destroy);
  g_test_add_func ("/signaling/directory-store/operations", test_operations);
  g_test_add_func ("/signaling/directory-store/same-name", test_same_name);
  g_test_add_func ("/signaling/directory-store/monitor", test_monitor);
  g_test_add_func ("/signaling/directory-store/expiry", test_expiry);
  g_test_add_func ("/signaling/directory-store/leftovers", test_leftovers);
  g_test_add_func ("/signaling/directory-store/two-readers", test_two_readers);
  g_test_add_func ("/signaling/directory-store/factory", test_factory);

  ret = g_test_run ();
  test_remove_tree (base);
  return ret;
}
