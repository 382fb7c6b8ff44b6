/* test-admission.c: BackupAdmission, the slots of a receiver of several
 * senders; backup_parse_size(); the folder store's children and measure.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup-admission.h"
#include "backup-error.h"
#include "backup-profile.h"
#include "backup-receiver-pool.h"
#include "backup-storage.h"
#include "backup-store.h"

typedef struct
{
  GPtrArray *order; /* names, in the order they got a slot */
  guint cancelled;
} Log;

typedef struct
{
  Log *log;
  const char *name;
} Waiter;

static void
acquired_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Waiter *waiter = user_data;
  g_autoptr (GError) error = NULL;

  if (backup_admission_acquire_finish (BACKUP_ADMISSION (object), result, &error))
    g_ptr_array_add (waiter->log->order, (gpointer) waiter->name);
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      waiter->log->cancelled++;
    }
}

static void
iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Slots go first come, first served; a cancelled waiter leaves the queue;
 * try_acquire never jumps it. */
static void
test_admission_order (void)
{
  g_autoptr (BackupAdmission) admission = backup_admission_new (2);
  g_autoptr (GCancellable) cancel_b = g_cancellable_new ();
  Log log = { g_ptr_array_new (), 0 };
  Waiter a = { &log, "a" }, b = { &log, "b" }, c = { &log, "c" }, d = { &log, "d" };

  g_assert_true (backup_admission_try_acquire (admission));
  backup_admission_acquire_async (admission, NULL, acquired_cb, &a);
  iterate ();
  g_assert_cmpuint (log.order->len, ==, 1);
  g_assert_cmpuint (backup_admission_get_active (admission), ==, 2);

  backup_admission_acquire_async (admission, cancel_b, acquired_cb, &b);
  backup_admission_acquire_async (admission, NULL, acquired_cb, &c);
  backup_admission_acquire_async (admission, NULL, acquired_cb, &d);
  iterate ();
  g_assert_cmpuint (backup_admission_get_waiting (admission), ==, 3);
  g_assert_false (backup_admission_try_acquire (admission));

  g_cancellable_cancel (cancel_b);
  iterate ();
  g_assert_cmpuint (log.cancelled, ==, 1);
  g_assert_cmpuint (backup_admission_get_waiting (admission), ==, 2);

  backup_admission_release (admission);
  iterate ();
  g_assert_cmpuint (log.order->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (log.order, 1), ==, "c");
  /* A slot freed while someone waits goes to the waiter. */
  g_assert_false (backup_admission_try_acquire (admission));
  backup_admission_release (admission);
  iterate ();
  g_assert_cmpstr (g_ptr_array_index (log.order, 2), ==, "d");
  g_assert_cmpuint (backup_admission_get_waiting (admission), ==, 0);
  g_assert_cmpuint (backup_admission_get_active (admission), ==, 2);
  backup_admission_release (admission);
  backup_admission_release (admission);
  g_assert_cmpuint (backup_admission_get_active (admission), ==, 0);
  g_assert_true (backup_admission_try_acquire (admission));
  backup_admission_release (admission);
  g_ptr_array_unref (log.order);
}

/* Disposing the admission tells every waiter. */
static void
test_admission_dispose (void)
{
  BackupAdmission *admission = backup_admission_new (1);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Log log = { g_ptr_array_new (), 0 };
  Waiter a = { &log, "a" };

  g_assert_true (backup_admission_try_acquire (admission));
  backup_admission_acquire_async (admission, cancellable, acquired_cb, &a);
  g_object_run_dispose (G_OBJECT (admission));
  iterate ();
  g_assert_cmpuint (log.cancelled, ==, 1);
  /* Cancelling afterwards touches nothing. */
  g_cancellable_cancel (cancellable);
  iterate ();
  g_object_unref (admission);
  g_ptr_array_unref (log.order);
}

static void
test_parse_size (void)
{
  const struct
  {
    const char *text;
    guint64 bytes;
  } good[] = {
    { "1", 1 },
    { "500", 500 },
    { "3M", 3000000 },
    { "3m", 3000000 },
    { "2.5G", G_GUINT64_CONSTANT (2500000000) },
    { "1GiB", G_GUINT64_CONSTANT (1073741824) },
    { "10 KiB", 10240 },
    { "2T", G_GUINT64_CONSTANT (2000000000000) },
    { "7MB", 7000000 },
  };
  const char *bad[] = { "", "G", "-1", "0", "0.1", "1X", "1 GB extra", "1e400", " ", "0x10" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      guint64 bytes = 0;
      g_autoptr (GError) error = NULL;

      g_assert_true (backup_parse_size (good[i].text, &bytes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, good[i].bytes);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      guint64 bytes = 0;
      g_autoptr (GError) error = NULL;

      g_assert_false (backup_parse_size (bad[i], &bytes, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
    }
}

static void
write_file (const char *dir, const char *name, gsize size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *data = g_malloc0 (size);

  g_assert_true (g_file_set_contents (path, data, size, NULL));
}

/* A device's folder: made private, measured without what is under way. */
static void
test_folder_child (void)
{
  g_autofree char *root = g_dir_make_tmp ("test-admission-XXXXXX", NULL);
  g_autoptr (GFile) dir = g_file_new_for_path (root);
  g_autoptr (BackupStore) store = backup_store_new (dir, 3);
  g_autoptr (BackupStorage) child = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *child_dir = g_build_filename (root, "laptop", NULL);
  GStatBuf st;
  guint64 used = 1;

  child = backup_storage_open_child (BACKUP_STORAGE (store), "../x", 0, &error);
  g_assert_null (child);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_clear_error (&error);

  child = backup_storage_open_child (BACKUP_STORAGE (store), "laptop", 5, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (child_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpuint (backup_storage_get_versions (child), ==, 5);

  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_cmpuint (used, ==, 0);
  write_file (child_dir, "a.bin", 1000);
  write_file (child_dir, "a.bin.1", 250);
  write_file (child_dir, ".a.bin.0123.resume.part", 5000);
  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (used, ==, 1250);
  /* The parent counts its own files only. */
  write_file (root, "b.bin", 7);
  g_assert_true (backup_storage_measure (BACKUP_STORAGE (store), &used, NULL, &error));
  g_assert_cmpuint (used, ==, 7);

  /* Opening it again keeps what is there. */
  g_clear_object (&child);
  child = backup_storage_open_child (BACKUP_STORAGE (store), "laptop", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backup_storage_get_versions (child), ==, 3);
  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_cmpuint (used, ==, 1250);

  {
    g_autofree char *command = g_strdup_printf ("rm -rf '%s'", root);

    g_assert_cmpint (system (command), ==, 0);
  }
}

static void
test_folder_names (void)
{
  const char *fp = "AB:CD:EF";
  struct
  {
    const char *name;
    const char *folder;
  } cases[] = {
    { "laptop", "laptop" },         { "Anna’s PC", "Anna’s PC" }, { "a/b", "a_b" },
    { ".hidden", "_.hidden" },      { "..", "_.." },              { "c:\\x", "c:_x" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *folder = backup_receiver_pool_folder_name (cases[i].name, fp);

      g_assert_cmpstr (folder, ==, cases[i].folder);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/admission/order", test_admission_order);
  g_test_add_func ("/admission/dispose", test_admission_dispose);
  g_test_add_func ("/admission/parse-size", test_parse_size);
  g_test_add_func ("/admission/folder-child", test_folder_child);
  g_test_add_func ("/admission/folder-names", test_folder_names);
  return g_test_run ();
}
