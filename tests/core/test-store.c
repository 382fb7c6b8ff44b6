/* test-store.c: BackupStore and BackupReception on real files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-reception.h"
#include "store-test-util.h"

typedef struct
{
  char *dir;
  GFile *file;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("backup-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->file = g_file_new_for_path (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  store_test_remove_tree (f->dir);
  g_clear_object (&f->file);
  g_free (f->dir);
}

static void
assert_listing (Fixture *f, const char *expected)
{
  g_autofree char *listing = store_test_list (f->dir);

  g_assert_cmpstr (listing, ==, expected);
}

static void
test_new_destroy (Fixture *f, gconstpointer data)
{
  BackupStore *store = backup_store_new (f->file, 3);
  g_autoptr (GFile) directory = NULL;
  guint versions = 0;

  g_assert_true (backup_store_get_directory (store) == f->file);
  g_assert_cmpuint (backup_store_get_versions (store), ==, 3);
  g_object_get (store, "directory", &directory, "versions", &versions, NULL);
  g_assert_true (directory == f->file);
  g_assert_cmpuint (versions, ==, 3);

  g_assert_finalize_object (store);
}

static void
test_reception_new_destroy (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 1);
  g_autoptr (GError) error = NULL;
  BackupReception *reception;
  g_autofree char *name = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *part_path = NULL;
  GStatBuf st;

  reception = backup_store_begin (store, "file.bin", strlen ("file.bin"), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (backup_reception_get_name (reception), ==, "file.bin");
  g_object_get (reception, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "file.bin");
  g_assert_cmpuint (backup_reception_get_bytes_written (reception), ==, 0);

  /* One hidden temporary file, private to the user. */
  listing = store_test_list (f->dir);
  g_assert_true (g_str_has_prefix (listing, ".file.bin."));
  g_assert_true (g_str_has_suffix (listing, ".part"));
  g_assert_true (g_str_has_suffix (listing, ".recv.part"));
  g_assert_cmpuint (strlen (listing), ==, strlen (".file.bin.XXXXXX.recv.part"));
  part_path = g_build_filename (f->dir, listing, NULL);
  g_assert_cmpint (g_lstat (part_path, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  g_assert_true (backup_reception_write (reception, "abc", 3, &error));
  g_assert_cmpuint (backup_reception_get_bytes_written (reception), ==, 3);

  /* Dropped without commit or abort: the temporary file goes away. */
  g_assert_finalize_object (reception);
  assert_listing (f, "");
}

static void
test_rotation (Fixture *f, gconstpointer data)
{
  guint versions = GPOINTER_TO_UINT (data);
  g_autoptr (BackupStore) store = backup_store_new (f->file, versions);
  static const char *const contents[] = { "first", "second", "third", "fourth" };

  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      store_test_receive (store, "name", contents[i]);
      /* After each reception: name is the newest, name.k the k-th older. */
      for (guint k = 0; k < versions && k <= i; k++)
        {
          g_autofree char *file = k == 0 ? g_strdup ("name") : g_strdup_printf ("name.%u", k);

          store_test_assert_contents (f->dir, file, contents[i - k]);
        }
    }

  switch (versions)
    {
    case 1:
      assert_listing (f, "name");
      break;
    case 2:
      assert_listing (f, "name,name.1");
      break;
    case 3:
      assert_listing (f, "name,name.1,name.2");
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
test_seed_example (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 2);

  store_test_receive (store, "backup.zip", "one");
  store_test_receive (store, "backup.zip", "two");
  store_test_receive (store, "backup.zip", "three");

  store_test_assert_contents (f->dir, "backup.zip", "three");
  store_test_assert_contents (f->dir, "backup.zip.1", "two");
  assert_listing (f, "backup.zip,backup.zip.1");
}

static void
test_rotation_other_names (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 2);

  /* Versions of other names, and old versions past the current setting
   * (left by an earlier, larger one), are handled as expected. */
  store_test_write (f->dir, "other", "other");
  store_test_write (f->dir, "other.1", "other.1");
  store_test_write (f->dir, "name", "v0");
  store_test_write (f->dir, "name.1", "v1");
  store_test_write (f->dir, "name.2", "v2");
  store_test_write (f->dir, "name.3", "v3");
  store_test_write (f->dir, "name.5", "v5");

  store_test_receive (store, "name", "new");

  store_test_assert_contents (f->dir, "name", "new");
  store_test_assert_contents (f->dir, "name.1", "v0");
  store_test_assert_contents (f->dir, "other", "other");
  store_test_assert_contents (f->dir, "other.1", "other.1");
  /* name.5 is not part of a consecutive series and is left alone. */
  assert_listing (f, "name,name.1,name.5,other,other.1");
}

static void
commit_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_commit_async (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 2);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_strnfill (1024 * 1024, 'z');

  store_test_write (f->dir, "data", "old");

  g_main_context_push_thread_default (context);
  reception = backup_store_begin (store, "data", 4, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 4; i++)
    g_assert_true (backup_reception_write (reception, big, strlen (big), &error));
  backup_reception_commit_async (reception, NULL, commit_done, &result);
  /* The result arrives on this thread's default context only. */
  g_assert_null (result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  g_assert_true (backup_reception_commit_finish (reception, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (backup_reception_get_bytes_written (reception), ==, 4 * 1024 * 1024);
  store_test_assert_contents (f->dir, "data.1", "old");
  assert_listing (f, "data,data.1");

  /* Finished: writing, committing again and aborting do nothing. */
  g_assert_false (backup_reception_write (reception, "x", 1, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (backup_reception_commit (reception, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
  g_clear_error (&error);
  backup_reception_abort (reception);
  assert_listing (f, "data,data.1");
  {
    g_autofree char *path = g_build_filename (f->dir, "data", NULL);
    GStatBuf st;

    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, 4 * 1024 * 1024);
  }
}

static void
test_output_stream (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 1);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;
  GOutputStream *stream;
  gsize written;

  reception = backup_store_begin (store, "s", 1, &error);
  g_assert_no_error (error);
  g_assert_true (backup_reception_write (reception, "head-", 5, &error));
  stream = backup_reception_get_output_stream (reception);
  g_assert_true (G_IS_OUTPUT_STREAM (stream));
  g_assert_true (g_output_stream_write_all (stream, "body-", 5, &written, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (backup_reception_write (reception, "tail", 4, &error));
  g_assert_cmpuint (backup_reception_get_bytes_written (reception), ==, 14);
  g_assert_true (backup_reception_commit (reception, NULL, &error));
  g_assert_no_error (error);
  store_test_assert_contents (f->dir, "s", "head-body-tail");

  /* The stream is closed with the reception. */
  g_assert_true (g_output_stream_is_closed (stream));
}

/* Existing versions before each abort case. */
static void
write_versions (Fixture *f)
{
  store_test_write (f->dir, "name", "newest");
  store_test_write (f->dir, "name.1", "older");
  store_test_write (f->dir, "name.2", "oldest");
}

static void
assert_versions_intact (Fixture *f)
{
  store_test_assert_contents (f->dir, "name", "newest");
  store_test_assert_contents (f->dir, "name.1", "older");
  store_test_assert_contents (f->dir, "name.2", "oldest");
  assert_listing (f, "name,name.1,name.2");
}

typedef enum
{
  ABORT_BEFORE_WRITE,
  ABORT_MID_WRITE,
  ABORT_AFTER_DATA,
  ABORT_BY_UNREF,
  ABORT_COMMIT_CANCELLED,
  ABORT_COMMIT_ASYNC_CANCELLED,
} AbortStep;

static void
test_abort (Fixture *f, gconstpointer data)
{
  AbortStep step = GPOINTER_TO_UINT (data);
  g_autoptr (BackupStore) store = backup_store_new (f->file, 3);
  BackupReception *reception;
  g_autoptr (GError) error = NULL;
  g_autofree char *chunk = g_strnfill (65536, 'n');

  write_versions (f);
  reception = backup_store_begin (store, "name", 4, &error);
  g_assert_no_error (error);

  if (step >= ABORT_MID_WRITE)
    g_assert_true (backup_reception_write (reception, chunk, 65536, &error));
  if (step >= ABORT_AFTER_DATA)
    g_assert_true (backup_reception_write (reception, chunk, 1000, &error));
  g_assert_no_error (error);

  switch (step)
    {
    case ABORT_BEFORE_WRITE:
    case ABORT_MID_WRITE:
    case ABORT_AFTER_DATA:
      backup_reception_abort (reception);
      assert_versions_intact (f);
      /* Aborting twice, or writing after, changes nothing. */
      backup_reception_abort (reception);
      g_assert_false (backup_reception_write (reception, "x", 1, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
      g_clear_error (&error);
      g_assert_false (backup_reception_commit (reception, NULL, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
      break;
    case ABORT_BY_UNREF:
      break;
    case ABORT_COMMIT_CANCELLED:
      {
        g_autoptr (GCancellable) cancellable = g_cancellable_new ();

        g_cancellable_cancel (cancellable);
        g_assert_false (backup_reception_commit (reception, cancellable, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      }
      break;
    case ABORT_COMMIT_ASYNC_CANCELLED:
      {
        g_autoptr (GCancellable) cancellable = g_cancellable_new ();
        g_autoptr (GAsyncResult) result = NULL;

        g_cancellable_cancel (cancellable);
        backup_reception_commit_async (reception, cancellable, commit_done, &result);
        while (result == NULL)
          g_main_context_iteration (NULL, TRUE);
        g_assert_false (backup_reception_commit_finish (reception, result, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      }
      break;
    }

  if (step == ABORT_COMMIT_ASYNC_CANCELLED)
    {
      /* The worker thread may drop its reference to the task (and so to
       * the reception) a moment after the callback ran. */
      gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

      g_object_add_weak_pointer (G_OBJECT (reception), (gpointer *) &reception);
      g_object_unref (reception);
      while (reception != NULL && g_get_monotonic_time () < deadline)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      g_assert_null (reception);
    }
  else
    {
      g_assert_finalize_object (reception);
    }
  assert_versions_intact (f);
}

static void
test_commit_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 3);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir_1 = g_build_filename (f->dir, "name.1", NULL);

  /* A directory where a version must go: nothing may move. */
  store_test_write (f->dir, "name", "newest");
  store_test_write (f->dir, "name.2", "oldest");
  g_assert_cmpint (g_mkdir (dir_1, 0700), ==, 0);

  reception = backup_store_begin (store, "name", 4, &error);
  g_assert_no_error (error);
  g_assert_true (backup_reception_write (reception, "new", 3, &error));
  g_assert_false (backup_reception_commit (reception, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, f->dir));

  store_test_assert_contents (f->dir, "name", "newest");
  store_test_assert_contents (f->dir, "name.2", "oldest");
  g_assert_true (g_file_test (dir_1, G_FILE_TEST_IS_DIR));
  assert_listing (f, "name,name.1,name.2");

  /* The reception is finished: abort does nothing more. */
  backup_reception_abort (reception);
  assert_listing (f, "name,name.1,name.2");
}

typedef struct
{
  const char *name;
  gsize len;
} HostileName;

static void
test_hostile_names (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 1);
  g_autofree char *long_name = g_strnfill (256, 'a');
  g_autofree char *longest = g_strnfill (255, 'b');
  g_autofree char *too_long_for_versions = g_strnfill (254, 'c');
  g_autofree char *fits_versions = g_strnfill (253, 'd');
  const HostileName hostile[] = {
    { "../x", 4 },
    { "a/b", 3 },
    { ".", 1 },
    { "..", 2 },
    { "", 0 },
    { long_name, 256 },
    { "a\0b", 3 },
    { "\0", 1 },
    { "/etc/passwd", 11 },
    { "/", 1 },
    { "x/", 2 },
    { ".backup.zip.Ab3dE9.part", 23 },
    { ".backup.zip.Ab3dE9.recv.part", 28 },
    { ".backup.zip.Ab3dE9.link.part", 28 },
  };
  static const char *const fine[] = { "file.txt", "..x", "...", ".hidden", "a b",
                                      "\xc3\xa9t\xc3\xa9", "x.part", "\\", "-rf",
                                      ".x.Ab3dE9.lock.part", "x.Ab3dE9.recv.part" };

  store_test_write (f->dir, "keep", "keep");

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BackupReception) reception = NULL;

      g_assert_false (backup_store_check_name_len (hostile[i].name, hostile[i].len, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
      g_test_message ("%s", error->message);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);

      reception = backup_store_begin (store, hostile[i].name, hostile[i].len, &error);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
      g_assert_null (reception);
      assert_listing (f, "keep");
    }

  /* The NUL-terminated variant sees the whole string. */
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (backup_store_check_name ("..", &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
    g_clear_error (&error);
    g_assert_false (backup_store_check_name (long_name, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
    g_clear_error (&error);
    g_assert_true (backup_store_check_name (longest, &error));
    g_assert_no_error (error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (fine); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (backup_store_check_name (fine[i], &error));
      g_assert_no_error (error);
      store_test_receive (store, fine[i], fine[i]);
      store_test_assert_contents (f->dir, fine[i], fine[i]);
    }
  store_test_receive (store, longest, "longest");
  store_test_assert_contents (f->dir, longest, "longest");

  /* With versions, NAME.k must fit in 255 bytes too. */
  {
    g_autoptr (BackupStore) store3 = backup_store_new (f->file, 3);
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupReception) reception = NULL;

    reception = backup_store_begin (store3, too_long_for_versions, 254, &error);
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
    g_assert_null (reception);
    store_test_receive (store3, fits_versions, "1");
    store_test_receive (store3, fits_versions, "2");
    store_test_receive (store3, fits_versions, "3");
    store_test_assert_contents (f->dir, fits_versions, "3");
  }
}

/* A refused name is shown escaped in the error, cut at 64 bytes between
 * two characters. */
static void
test_names_shown_escaped (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) name = g_string_new ("\x1b]0;title\x07\n");
  g_autoptr (GError) error = NULL;

  /* 13 bytes, then two-byte characters: the 64-byte limit cuts one. */
  g_string_append (name, "xy");
  for (guint i = 0; i < 40; i++)
    g_string_append (name, "\xc3\xa9");
  g_string_append (name, "/");

  g_assert_false (backup_store_check_name_len (name->str, name->len, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_test_message ("%s", error->message);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_null (strchr (error->message, '\x1b'));
  g_assert_null (strchr (error->message, '\x07'));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_nonnull (strstr (error->message, "\\x1b]0;title\\x07\\x0axy\xc3\xa9"));
  /* 25 whole characters, then the mark of the cut: no half character. */
  g_assert_nonnull (strstr (error->message, "y\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9…"));
  g_assert_null (strstr (error->message, "\\xc3"));
  g_assert_null (strstr (error->message, "\xef\xbf\xbd"));
}

static void
test_destination_missing (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_autofree char *file = g_build_filename (f->dir, "file", NULL);
  g_autoptr (GFile) missing_file = g_file_new_for_path (missing);
  g_autoptr (GFile) file_file = g_file_new_for_path (file);
  g_autoptr (BackupStore) store1 = backup_store_new (missing_file, 1);
  g_autoptr (BackupStore) store2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupReception) reception = NULL;

  reception = backup_store_begin (store1, "x", 1, &error);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_null (reception);
  g_clear_error (&error);

  store_test_write (f->dir, "file", "not a directory");
  store2 = backup_store_new (file_file, 1);
  reception = backup_store_begin (store2, "x", 1, &error);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_null (reception);
  assert_listing (f, "file");
  store_test_assert_contents (f->dir, "file", "not a directory");
}

static void
test_destination_not_writable (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupReception) reception = NULL;

  store_test_write (f->dir, "name", "kept");
  g_assert_cmpint (g_chmod (f->dir, 0500), ==, 0);
  reception = backup_store_begin (store, "name", 4, &error);
  g_chmod (f->dir, 0700);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, f->dir));
  g_assert_null (reception);
  assert_listing (f, "name");
  store_test_assert_contents (f->dir, "name", "kept");
}

static void
set_age (const char *dir, const char *name, gint64 seconds)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct timespec times[2];

  clock_gettime (CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static void
test_stale_parts (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupReception) live = NULL;
  g_autofree char *subdir = g_build_filename (f->dir, ".d.Abc123.part", NULL);
  g_autofree char *link_path = g_build_filename (f->dir, ".l.Abc123.part", NULL);
  guint removed = 99;

  store_test_write (f->dir, ".old.Abc123.part", "crash leftover");
  set_age (f->dir, ".old.Abc123.part", 7200);
  store_test_write (f->dir, ".new.Xyz789.part", "recent");
  set_age (f->dir, ".new.Xyz789.part", 60);
  /* Not ours: other patterns, a directory, a symbolic link. */
  store_test_write (f->dir, ".old.part", "x");
  store_test_write (f->dir, "old.Abc123.part", "x");
  store_test_write (f->dir, ".old.Abc12.part", "x");
  store_test_write (f->dir, ".old.Abc1234.part", "x");
  store_test_write (f->dir, ".old.Abc-12.part", "x");
  store_test_write (f->dir, "name", "x");
  set_age (f->dir, ".old.part", 7200);
  set_age (f->dir, "old.Abc123.part", 7200);
  set_age (f->dir, ".old.Abc12.part", 7200);
  set_age (f->dir, ".old.Abc1234.part", 7200);
  set_age (f->dir, ".old.Abc-12.part", 7200);
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  g_assert_cmpint (symlink ("name", link_path), ==, 0);
  set_age (f->dir, ".l.Abc123.part", 7200);
  set_age (f->dir, ".d.Abc123.part", 7200);

  g_assert_true (backup_store_remove_stale_parts (store, G_TIME_SPAN_HOUR, &removed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  assert_listing (f, ".d.Abc123.part,.l.Abc123.part,.new.Xyz789.part,.old.Abc-12.part,"
                     ".old.Abc12.part,.old.Abc1234.part,.old.part,name,old.Abc123.part");

  /* A live reception's file is recent: kept with a sensible age. */
  live = backup_store_begin (store, "live", 4, &error);
  g_assert_no_error (error);
  g_assert_true (backup_store_remove_stale_parts (store, 30 * G_TIME_SPAN_SECOND, &removed,
                                                  &error));
  g_assert_cmpuint (removed, ==, 1);
  g_assert_true (backup_store_remove_stale_parts (store, 0, NULL, &error));
  g_assert_no_error (error);
  backup_reception_abort (live);
  assert_listing (f, ".d.Abc123.part,.l.Abc123.part,.old.Abc-12.part,.old.Abc12.part,"
                     ".old.Abc1234.part,.old.part,name,old.Abc123.part");

  /* A missing directory is an error. */
  {
    g_autoptr (GFile) missing = g_file_get_child (f->file, "missing");
    g_autoptr (BackupStore) store2 = backup_store_new (missing, 1);

    g_assert_false (backup_store_remove_stale_parts (store2, 0, NULL, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  }
}

/* The one temporary file in @dir, or NULL. */
static char *
find_data_part (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".part"))
      {
        g_assert_null (found);
        found = g_strdup (name);
      }
  return found;
}

/* In this process: the file of a reception under way stays, whatever the
 * limit of age; one that nobody holds goes at once, however recent. */
static void
test_stale_parts_owner (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 2);
  g_autoptr (BackupReception) live = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *live_part = NULL;
  g_autofree char *expected = NULL;
  guint removed = 99;

  store_test_write (f->dir, "name", "newest");
  store_test_write (f->dir, "name.1", "older");
  store_test_write (f->dir, "live", "previous");
  live = backup_store_begin (store, "live", 4, &error);
  g_assert_no_error (error);
  g_assert_true (backup_reception_write (live, "new data", 8, &error));
  live_part = find_data_part (f->dir);
  g_assert_nonnull (live_part);

  /* Left by receivers that are gone: nobody holds them. */
  store_test_write (f->dir, ".name.Dead01.recv.part", "abandoned");
  store_test_write (f->dir, ".other.Dead02.recv.part", "abandoned");
  /* Of earlier versions (no lock): only the age counts. */
  store_test_write (f->dir, ".name.Legacy.part", "recent");
  /* A second name of a version, as a commit makes for a moment. */
  store_test_write (f->dir, ".name.Link01.link.part", "recent");

  g_assert_true (backup_store_remove_stale_parts (store, 24 * G_TIME_SPAN_HOUR, &removed,
                                                  &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 2);
  expected = g_strdup_printf ("%s,.name.Legacy.part,.name.Link01.link.part,live,name,name.1",
                              live_part);
  assert_listing (f, expected);

  /* Scanning again changes nothing, and the reception goes on. */
  g_assert_true (backup_store_remove_stale_parts (store, G_TIME_SPAN_HOUR, &removed, &error));
  g_assert_cmpuint (removed, ==, 0);
  assert_listing (f, expected);
  g_assert_true (backup_reception_write (live, " and more", 9, &error));
  g_assert_true (backup_reception_commit (live, NULL, &error));
  g_assert_no_error (error);
  store_test_assert_contents (f->dir, "live", "new data and more");
  store_test_assert_contents (f->dir, "live.1", "previous");
  store_test_assert_contents (f->dir, "name", "newest");
  store_test_assert_contents (f->dir, "name.1", "older");
  assert_listing (f, ".name.Legacy.part,.name.Link01.link.part,live,live.1,name,name.1");

  /* Past the limit of age, every kind goes. */
  g_assert_true (backup_store_remove_stale_parts (store, 0, &removed, &error));
  g_assert_cmpuint (removed, ==, 2);
  assert_listing (f, "live,live.1,name,name.1");
}

/* 0 when a lock like the one of a scan of stale files can be taken on
 * @name in @dir, else the errno value. */
static int
try_lock (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  int errsv = 0;

  g_assert_cmpint (fd, >=, 0);
  if (fcntl (fd, F_OFD_SETLK, &lock) != 0)
    errsv = errno;
  close (fd);
  return errsv;
}

/* A reception holds the lock on its file from its start to its end, and
 * gives it up then. */
static void
test_stale_parts_lock_held (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = backup_store_new (f->file, 1);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (BackupReception) aborted = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *part = NULL;
  int errsv;

  reception = backup_store_begin (store, "held", 4, &error);
  g_assert_no_error (error);
  part = find_data_part (f->dir);
  errsv = try_lock (f->dir, part);
  g_assert_true (errsv == EAGAIN || errsv == EACCES);

  g_assert_true (backup_reception_write (reception, "data", 4, &error));
  errsv = try_lock (f->dir, part);
  g_assert_true (errsv == EAGAIN || errsv == EACCES);

  g_assert_true (backup_reception_commit (reception, NULL, &error));
  g_assert_no_error (error);
  store_test_assert_contents (f->dir, "held", "data");
  assert_listing (f, "held");
  /* The file in place is nobody's any more. */
  g_assert_cmpint (try_lock (f->dir, "held"), ==, 0);

  /* Nor is an aborted one's, kept open elsewhere. */
  aborted = backup_store_begin (store, "gone", 4, &error);
  g_assert_no_error (error);
  g_clear_pointer (&part, g_free);
  part = find_data_part (f->dir);
  {
    g_autofree char *path = g_build_filename (f->dir, part, NULL);
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int fd = open (path, O_WRONLY | O_CLOEXEC);

    g_assert_cmpint (fd, >=, 0);
    backup_reception_abort (aborted);
    assert_listing (f, "held");
    g_assert_cmpint (fcntl (fd, F_OFD_SETLK, &lock), ==, 0);
    close (fd);
  }
}

#define SUBPROCESS_DIR_ENV "TEST_STORE_SUBPROCESS_DIR"

/* Each test below runs itself again as a subprocess (the other receiver),
 * on a directory it passes in the environment. */
static void
run_in_subprocess (Fixture *f)
{
  g_setenv (SUBPROCESS_DIR_ENV, f->dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (SUBPROCESS_DIR_ENV);
  g_test_trap_assert_passed ();
}

/* The file of a receiver that has exited goes at once. */
static void
test_stale_parts_owner_exited (void)
{
  Fixture fixture, *f = &fixture;
  g_autoptr (BackupStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dead_part = NULL;
  guint removed = 99;

  if (g_test_subprocess ())
    {
      /* Begins a reception and ends as a killed receiver would, without
       * aborting it or dropping it. */
      g_autoptr (GFile) dir = g_file_new_for_path (g_getenv (SUBPROCESS_DIR_ENV));
      BackupStore *child_store = backup_store_new (dir, 2);
      BackupReception *reception = backup_store_begin (child_store, "name", 4, &error);

      g_assert_no_error (error);
      g_assert_true (backup_reception_write (reception, "partial", 7, &error));
      g_assert_no_error (error);
      _exit (0);
    }

  fixture_setup (f, NULL);
  store = backup_store_new (f->file, 2);
  store_test_write (f->dir, "name", "newest");
  store_test_write (f->dir, "name.1", "older");

  run_in_subprocess (f);
  dead_part = find_data_part (f->dir);
  g_assert_nonnull (dead_part);
  store_test_assert_contents (f->dir, dead_part, "partial");

  g_assert_true (backup_store_remove_stale_parts (store, 24 * G_TIME_SPAN_HOUR, &removed,
                                                  &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  assert_listing (f, "name,name.1");
  store_test_assert_contents (f->dir, "name", "newest");
  store_test_assert_contents (f->dir, "name.1", "older");

  g_clear_object (&store);
  fixture_teardown (f, NULL);
}

/* The file of a live receiver (this process) stays while another process
 * scans the directory. */
static void
test_stale_parts_owner_alive (void)
{
  Fixture fixture, *f = &fixture;
  g_autoptr (BackupStore) store = NULL;
  g_autoptr (BackupReception) live = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *live_part = NULL;
  g_autofree char *after = NULL;
  guint removed = 99;

  if (g_test_subprocess ())
    {
      g_autoptr (GFile) dir = g_file_new_for_path (g_getenv (SUBPROCESS_DIR_ENV));
      g_autoptr (BackupStore) child_store = backup_store_new (dir, 2);

      g_assert_true (backup_store_remove_stale_parts (child_store, 24 * G_TIME_SPAN_HOUR,
                                                      &removed, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (removed, ==, 0);
      return;
    }

  fixture_setup (f, NULL);
  store = backup_store_new (f->file, 2);
  store_test_write (f->dir, "name", "newest");
  live = backup_store_begin (store, "name", 4, &error);
  g_assert_no_error (error);
  g_assert_true (backup_reception_write (live, "fresh", 5, &error));
  live_part = find_data_part (f->dir);
  g_assert_nonnull (live_part);

  run_in_subprocess (f);
  after = find_data_part (f->dir);
  g_assert_cmpstr (after, ==, live_part);
  store_test_assert_contents (f->dir, live_part, "fresh");

  g_assert_true (backup_reception_commit (live, NULL, &error));
  g_assert_no_error (error);
  store_test_assert_contents (f->dir, "name", "fresh");
  store_test_assert_contents (f->dir, "name.1", "newest");
  assert_listing (f, "name,name.1");

  g_clear_object (&live);
  g_clear_object (&store);
  fixture_teardown (f, NULL);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);


#define ADD(path, func, data)                                                                   \
  g_test_add ("/store/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("new-destroy", test_new_destroy, NULL);
  ADD ("reception/new-destroy", test_reception_new_destroy, NULL);
  ADD ("rotation/seed-example", test_seed_example, NULL);
  ADD ("rotation/versions-1", test_rotation, GUINT_TO_POINTER (1));
  ADD ("rotation/versions-2", test_rotation, GUINT_TO_POINTER (2));
  ADD ("rotation/versions-3", test_rotation, GUINT_TO_POINTER (3));
  ADD ("rotation/other-names", test_rotation_other_names, NULL);
  ADD ("commit/async", test_commit_async, NULL);
  ADD ("commit/output-stream", test_output_stream, NULL);
  ADD ("abort/before-write", test_abort, GUINT_TO_POINTER (ABORT_BEFORE_WRITE));
  ADD ("abort/mid-write", test_abort, GUINT_TO_POINTER (ABORT_MID_WRITE));
  ADD ("abort/after-data", test_abort, GUINT_TO_POINTER (ABORT_AFTER_DATA));
  ADD ("abort/unref", test_abort, GUINT_TO_POINTER (ABORT_BY_UNREF));
  ADD ("abort/commit-cancelled", test_abort, GUINT_TO_POINTER (ABORT_COMMIT_CANCELLED));
  ADD ("abort/commit-async-cancelled", test_abort,
       GUINT_TO_POINTER (ABORT_COMMIT_ASYNC_CANCELLED));
  ADD ("abort/commit-fails", test_commit_fails, NULL);
  ADD ("names/hostile", test_hostile_names, NULL);
  ADD ("names/shown-escaped", test_names_shown_escaped, NULL);
  ADD ("destination/missing", test_destination_missing, NULL);
  /* As root, permissions do not apply: the store-fullfs test covers an
   * unwritable destination there with a read-only filesystem. */
  if (geteuid () != 0)
    ADD ("destination/not-writable", test_destination_not_writable, NULL);
  ADD ("stale-parts", test_stale_parts, NULL);
  ADD ("stale-parts/owner", test_stale_parts_owner, NULL);
  ADD ("stale-parts/lock-held", test_stale_parts_lock_held, NULL);
  g_test_add_func ("/store/stale-parts/owner-exited", test_stale_parts_owner_exited);
  g_test_add_func ("/store/stale-parts/owner-alive", test_stale_parts_owner_alive);

#undef ADD

  return g_test_run ();
}
