/* test-archiver.c: BackupArchiver against real trees and real zip tools
 *
 * The double zip is written to real files and opened with 7-Zip (7zz),
 * bsdtar and Info-ZIP unzip; the extracted tree is compared byte for byte
 * with the source. The /archiver/big/ cases (more than 65,535 entries, an
 * entry past 4 GiB) are slow and run in the 'slow' suite only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "backup-archiver.h"
#include "backup-error.h"
#include "backup-zip-cipher.h"
#include "backup-zip-output.h"
#include "backup-zip-random.h"

#define PASSWORD1 "inner pässword 1"
#define PASSWORD2 "outer-password-2"
#define SOURCE_NAME "My Data ü"
#define BASE_MTIME 1600000000

/* ------------------------------------------------------------------------ */
/* An output stream that fails after a number of bytes, and can be slow */

#define TEST_TYPE_FAIL_STREAM (test_fail_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestFailStream, test_fail_stream, TEST, FAIL_STREAM, GOutputStream)

struct _TestFailStream
{
  GOutputStream parent_instance;
  gint64 fail_after; /* -1: never */
  gulong delay_usec;
  gint64 written; /* atomically read by the test */
};

G_DEFINE_FINAL_TYPE (TestFailStream, test_fail_stream, G_TYPE_OUTPUT_STREAM)

static gssize
test_fail_stream_write_fn (GOutputStream *stream, const void *buffer, gsize count,
                           GCancellable *cancellable, GError **error)
{
  TestFailStream *self = TEST_FAIL_STREAM (stream);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (self->delay_usec > 0)
    g_usleep (self->delay_usec);
  if (self->fail_after >= 0 && self->written + (gint64)count > self->fail_after)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "No space left on device");
      return -1;
    }
  g_atomic_pointer_add (&self->written, count);
  return count;
}

static void
test_fail_stream_class_init (TestFailStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = test_fail_stream_write_fn;
}

static void
test_fail_stream_init (TestFailStream *self)
{
  self->fail_after = -1;
}

static TestFailStream *
test_fail_stream_new (gint64 fail_after, gulong delay_usec)
{
  TestFailStream *self = g_object_new (TEST_TYPE_FAIL_STREAM, NULL);

  self->fail_after = fail_after;
  self->delay_usec = delay_usec;
  return self;
}

/* ------------------------------------------------------------------------ */
/* Helpers */

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("test-archiver-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  int status;
  GError *error = NULL;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
}

static void
write_file (const char *path, const void *data, gsize len, mode_t mode, gint64 mtime)
{
  struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
  GError *error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  g_assert_no_errno (chmod (path, mode));
  g_assert_no_errno (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW));
}

static void
set_mtime (const char *path, gint64 mtime)
{
  struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };

  g_assert_no_errno (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW));
}

static guint8 *
random_bytes (gsize len)
{
  guint8 *data = g_malloc (len);
  guint32 *words = (guint32 *)data;

  for (gsize i = 0; i < len / 4; i++)
    words[i] = g_random_int ();
  return data;
}

/* The source tree of the functional tests; returns its path. */
static char *
make_source_tree (const char *tmp)
{
  char *root = g_build_filename (tmp, SOURCE_NAME, NULL);
  g_autofree char *sub = g_build_filename (root, "sub dir", NULL);
  g_autofree char *deeper = g_build_filename (sub, "deeper", NULL);
  g_autofree char *empty = g_build_filename (root, "empty", NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree guint8 *random = random_bytes (1024 * 1024);
  char *p;

  g_assert_no_errno (g_mkdir_with_parents (deeper, 0755));
  g_assert_no_errno (g_mkdir (empty, 0700));

  for (int i = 0; i < 3000; i++)
    g_string_append_printf (text, "line %d of a compressible text file\n", i);

  p = g_build_filename (root, "a.txt", NULL);
  write_file (p, text->str, text->len, 0644, BASE_MTIME + 1);
  g_free (p);
  p = g_build_filename (sub, "secret.txt", NULL);
  write_file (p, "only for me\n", 12, 0600, BASE_MTIME + 2);
  g_free (p);
  p = g_build_filename (deeper, "run me.sh", NULL);
  write_file (p, "#!/bin/sh\necho hi\n", 18, 0755, BASE_MTIME + 3);
  g_free (p);
  p = g_build_filename (root, "empty file", NULL);
  write_file (p, "", 0, 0644, BASE_MTIME + 4);
  g_free (p);
  p = g_build_filename (root, "ünïcødé ✓ 文件.txt", NULL);
  write_file (p, "ünïcødé\n", strlen ("ünïcødé\n"), 0640, BASE_MTIME + 5);
  g_free (p);
  p = g_build_filename (sub, "random.bin", NULL);
  write_file (p, random, 1024 * 1024, 0644, BASE_MTIME + 6);
  g_free (p);

  p = g_build_filename (root, "link to file", NULL);
  g_assert_no_errno (symlink ("a.txt", p));
  set_mtime (p, BASE_MTIME + 7);
  g_free (p);
  p = g_build_filename (root, "link-to-dir", NULL);
  g_assert_no_errno (symlink ("sub dir/deeper", p));
  set_mtime (p, BASE_MTIME + 8);
  g_free (p);

  set_mtime (deeper, BASE_MTIME + 10);
  set_mtime (sub, BASE_MTIME + 11);
  set_mtime (empty, BASE_MTIME + 12);
  set_mtime (root, BASE_MTIME + 13);
  return root;
}

/* Runs a command; returns TRUE when it exited with status 0. */
static gboolean
run (const char *const *argv, const char *cwd, char **out)
{
  g_autofree char *std_out = NULL;
  g_autofree char *std_err = NULL;
  GError *error = NULL;
  int status;
  gboolean ok;

  g_spawn_sync (cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &std_out, &std_err,
                &status, &error);
  g_assert_no_error (error);
  ok = g_spawn_check_wait_status (status, NULL);
  if (!ok)
    g_test_message ("%s failed: %s%s", argv[0], std_out, std_err);
  if (out != NULL)
    *out = g_steal_pointer (&std_out);
  return ok;
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
  GArray *progress; /* of gint64 */
  gint64 total_seen;
} WriteResult;

static void
write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  WriteResult *res = user_data;

  res->ok = backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &res->error);
  res->done = TRUE;
}

static void
progress_cb (BackupArchiver *archiver, gint64 bytes_done, gint64 total_bytes, gpointer user_data)
{
  WriteResult *res = user_data;

  g_assert_false (res->done);
  g_array_append_val (res->progress, bytes_done);
  res->total_seen = total_bytes;
}

static gboolean
archive_to_stream (BackupArchiver *archiver, GOutputStream *out, GCancellable *cancellable,
                   GArray **progress, GError **error)
{
  WriteResult res = { 0 };
  gulong handler;

  res.progress = g_array_new (FALSE, FALSE, sizeof (gint64));
  handler = g_signal_connect (archiver, "progress", G_CALLBACK (progress_cb), &res);
  backup_archiver_write_async (archiver, out, G_PRIORITY_DEFAULT, cancellable, write_done_cb, &res);
  while (!res.done)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (archiver, handler);

  if (progress != NULL)
    *progress = g_steal_pointer (&res.progress);
  else
    g_array_unref (res.progress);
  if (!res.ok)
    g_propagate_error (error, res.error);
  return res.ok;
}

static gboolean
archive_to_file (BackupArchiver *archiver, const char *path, GArray **progress, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out = NULL;
  gboolean ok;

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (out == NULL)
    return FALSE;
  ok = archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, progress, error);
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static BackupArchiver *
new_archiver (const char *source, const char *p1, const char *p2)
{
  g_autoptr (GFile) dir = g_file_new_for_path (source);

  return backup_archiver_new (dir, "backup.zip", p1, p2);
}

static void
scan_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  WriteResult *res = user_data;

  res->ok = backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &res->error);
  res->done = TRUE;
}

static void
scan_ok (BackupArchiver *archiver)
{
  WriteResult res = { 0 };

  backup_archiver_scan_async (archiver, G_PRIORITY_DEFAULT, NULL, scan_done_cb, &res);
  while (!res.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (res.error);
  g_assert_true (res.ok);
}

/* The "Path = " values of `7zz l -slt` (the first one is the archive). */
static GPtrArray *
list_7zz (const char *archive, const char *password, const char *key)
{
  g_autofree char *pw = g_strconcat ("-p", password, NULL);
  const char *argv[] = { "7zz", "l", "-slt", "-bd", pw, archive, NULL };
  g_autofree char *out = NULL;
  GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = g_strconcat (key, " = ", NULL);
  gboolean seen_separator = FALSE;

  g_assert_true (run (argv, NULL, &out));
  /* Line by line with strchr(): g_strsplit() is quadratic under ASan on
   * the megabytes that 70,000 entries give. */
  for (char *line = out, *next; line != NULL; line = next)
    {
      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      /* Entries follow the "----------" line. */
      if (g_str_has_prefix (line, "----------"))
        seen_separator = TRUE;
      else if (seen_separator && g_str_has_prefix (line, prefix))
        g_ptr_array_add (values, g_strdup (line + strlen (prefix)));
    }
  return values;
}

static void
extract_7zz (const char *archive, const char *password, const char *dest)
{
  g_autofree char *pw = g_strconcat ("-p", password, NULL);
  g_autofree char *o = g_strconcat ("-o", dest, NULL);
  const char *argv[] = { "7zz", "x", "-y", "-bd", "-snld", pw, o, archive, NULL };

  g_assert_true (run (argv, NULL, NULL));
}

static void
extract_bsdtar (const char *archive, const char *password, const char *dest)
{
  const char *argv[]
      = { "bsdtar", "-x", "-p", "-f", archive, "-C", dest, "--passphrase", password, NULL };

  g_assert_no_errno (g_mkdir_with_parents (dest, 0755));
  if (*password == '\0')
    argv[7] = NULL;
  g_assert_true (run (argv, NULL, NULL));
}

static void
extract_unzip (const char *archive, const char *password, const char *dest)
{
  const char *argv[] = { "unzip", "-q", "-o", "-P", password, archive, "-d", dest, NULL };

  g_assert_true (run (argv, NULL, NULL));
}

typedef enum
{
  CHECK_DIR_MTIME = 1 << 0,
} CompareFlags;

/* Asserts that dst holds exactly what src holds. Returns the entry count. */
static guint
compare_trees (const char *src, const char *dst, CompareFlags flags)
{
  g_autoptr (GDir) dir = g_dir_open (src, 0, NULL);
  g_autoptr (GDir) other = g_dir_open (dst, 0, NULL);
  const char *name;
  guint count = 0, other_count = 0;

  g_assert_nonnull (dir);
  g_assert_nonnull (other);
  while (g_dir_read_name (other) != NULL)
    other_count++;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *a = g_build_filename (src, name, NULL);
      g_autofree char *b = g_build_filename (dst, name, NULL);
      struct stat sa, sb;

      count++;
      g_assert_no_errno (lstat (a, &sa));
      if (lstat (b, &sb) != 0)
        g_error ("%s is missing from the extracted tree", b);
      g_assert_cmpuint (sa.st_mode & S_IFMT, ==, sb.st_mode & S_IFMT);

      if (S_ISLNK (sa.st_mode))
        {
          g_autofree char *ta = g_file_read_link (a, NULL);
          g_autofree char *tb = g_file_read_link (b, NULL);

          g_assert_cmpstr (ta, ==, tb);
          continue;
        }

      g_assert_cmpuint (sa.st_mode & 07777, ==, sb.st_mode & 07777);
      if (S_ISREG (sa.st_mode))
        {
          g_autofree char *ca = NULL, *cb = NULL;
          gsize la, lb;

          g_assert_cmpint (sa.st_mtim.tv_sec, ==, sb.st_mtim.tv_sec);
          g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
          g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
          g_assert_cmpmem (ca, la, cb, lb);
        }
      else if (S_ISDIR (sa.st_mode))
        {
          compare_trees (a, b, flags);
          if (flags & CHECK_DIR_MTIME)
            g_assert_cmpint (sa.st_mtim.tv_sec, ==, sb.st_mtim.tv_sec);
        }
    }

  g_assert_cmpuint (count, ==, other_count);
  return count;
}

/* ------------------------------------------------------------------------ */
/* Tests */

static void
test_new_destroy (void)
{
  g_autoptr (GFile) dir = g_file_new_for_path ("/some/where/My Folder");
  BackupArchiver *archiver = backup_archiver_new (dir, "out.zip", "a", "b");
  g_autoptr (GFile) got = NULL;
  BackupZipEncryption encryption;
  gint64 total;

  g_assert_cmpstr (backup_archiver_get_inner_name (archiver), ==, "My Folder.zip");
  g_assert_cmpstr (backup_archiver_get_outer_name (archiver), ==, "out.zip");
  g_assert_true (g_file_equal (backup_archiver_get_source_dir (archiver), dir));
  g_object_get (archiver, "encryption", &encryption, "total-bytes", &total, "source-dir", &got,
                NULL);
  g_assert_cmpint (encryption, ==, BACKUP_ZIP_ENCRYPTION_AES256);
  g_assert_cmpint (total, ==, 0);
  g_assert_true (g_file_equal (got, dir));
  backup_archiver_set_encryption (archiver, BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);
  g_assert_cmpint (backup_archiver_get_encryption (archiver), ==, BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);
  g_assert_finalize_object (archiver);
}

/* Sum of the sizes of the regular files below root, and the entry count. */
static gint64
tree_size (const char *root, guint *n_entries)
{
  g_autoptr (GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;
  gint64 total = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);
      struct stat st;

      g_assert_no_errno (lstat (path, &st));
      (*n_entries)++;
      if (S_ISREG (st.st_mode))
        total += st.st_size;
      else if (S_ISDIR (st.st_mode))
        total += tree_size (path, n_entries);
    }
  return total;
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la, lb;

  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  g_assert_cmpmem (ca, la, cb, lb);
}

/* Checks the outer level holds exactly one entry, the inner archive. */
static void
assert_outer_listing (const char *outer, const char *password, const char *method)
{
  g_autoptr (GPtrArray) paths = list_7zz (outer, password, "Path");
  g_autoptr (GPtrArray) methods = list_7zz (outer, password, "Method");

  g_assert_cmpuint (paths->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (paths, 0), ==, SOURCE_NAME ".zip");
  g_assert_cmpstr (g_ptr_array_index (methods, 0), ==, method);
}

static const char *
method_of (const char *archive, const char *password, const char *path)
{
  static char result[64];
  g_autoptr (GPtrArray) paths = list_7zz (archive, password, "Path");
  g_autoptr (GPtrArray) methods = list_7zz (archive, password, "Method");

  g_assert_cmpuint (paths->len, ==, methods->len);
  for (guint i = 0; i < paths->len; i++)
    if (g_strcmp0 (g_ptr_array_index (paths, i), path) == 0)
      {
        g_strlcpy (result, g_ptr_array_index (methods, i), sizeof result);
        return result;
      }
  g_error ("%s not listed in %s", path, archive);
  return NULL;
}

static void
test_aes256_roundtrip (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o7 = g_build_filename (tmp, "outer-7zz", NULL);
  g_autofree char *ob = g_build_filename (tmp, "outer-bsdtar", NULL);
  g_autofree char *inner7 = g_build_filename (o7, SOURCE_NAME ".zip", NULL);
  g_autofree char *innerb = g_build_filename (ob, SOURCE_NAME ".zip", NULL);
  g_autofree char *i7 = g_build_filename (tmp, "inner-7zz", NULL);
  g_autofree char *ib = g_build_filename (tmp, "inner-bsdtar", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (GArray) progress = NULL;
  g_autoptr (GError) error = NULL;
  const char *wrong_outer[] = { "7zz", "t", "-bd", "-pwrong", outer, NULL };
  const char *wrong_outer_p1[] = { "7zz", "t", "-bd", "-p" PASSWORD1, outer, NULL };
  const char *wrong_inner[] = { "7zz", "t", "-bd", "-pwrong", inner7, NULL };
  const char *wrong_inner_bsdtar[]
      = { "bsdtar", "-x", "-O", "-f", innerb, "--passphrase", "wrong", NULL };
  guint n_entries = 0;
  gint64 total = tree_size (source, &n_entries);

  scan_ok (archiver);
  g_assert_cmpint (backup_archiver_get_total_bytes (archiver), ==, total);
  g_assert_cmpint (backup_archiver_get_n_entries (archiver), ==, n_entries);
  g_assert_cmpuint (n_entries, ==, 11);

  g_assert_true (archive_to_file (archiver, outer, &progress, &error));
  g_assert_no_error (error);

  /* Progress: monotonic, ends at total-bytes. */
  g_assert_cmpuint (progress->len, >=, 1);
  for (guint i = 1; i < progress->len; i++)
    g_assert_cmpint (g_array_index (progress, gint64, i - 1), <=,
                     g_array_index (progress, gint64, i));
  g_assert_cmpint (g_array_index (progress, gint64, progress->len - 1), ==, total);
  g_assert_cmpint (backup_archiver_get_bytes_done (archiver), ==, total);

  /* Outer level: one stored AES-256 entry, opened by both tools. */
  assert_outer_listing (outer, PASSWORD2, "AES-256 Store");
  extract_7zz (outer, PASSWORD2, o7);
  extract_bsdtar (outer, PASSWORD2, ob);
  assert_same_file (inner7, innerb);
  g_assert_false (run (wrong_outer, NULL, NULL));
  g_assert_false (run (wrong_outer_p1, NULL, NULL));

  /* Inner level: text deflated, random data stored, links and folders kept. */
  g_assert_cmpstr (method_of (inner7, PASSWORD1, "a.txt"), ==, "AES-256 Deflate");
  g_assert_cmpstr (method_of (inner7, PASSWORD1, "sub dir/random.bin"), ==, "AES-256 Store");
  g_assert_false (run (wrong_inner, NULL, NULL));
  g_assert_false (run (wrong_inner_bsdtar, NULL, NULL));

  extract_bsdtar (innerb, PASSWORD1, ib);
  compare_trees (source, ib, CHECK_DIR_MTIME);
  extract_7zz (inner7, PASSWORD1, i7);
  compare_trees (source, i7, 0);

  rm_rf (tmp);
}

static void
test_aes128_and_rewrite (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o7 = g_build_filename (tmp, "outer", NULL);
  g_autofree char *inner = g_build_filename (o7, SOURCE_NAME ".zip", NULL);
  g_autofree char *i7 = g_build_filename (tmp, "inner", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (GError) error = NULL;

  /* The first write scans by itself; the second one sees the new setting. */
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (backup_archiver_get_n_entries (archiver), ==, 11);
  backup_archiver_set_encryption (archiver, BACKUP_ZIP_ENCRYPTION_AES128);
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);

  assert_outer_listing (outer, PASSWORD2, "AES-128 Store");
  extract_7zz (outer, PASSWORD2, o7);
  g_assert_cmpstr (method_of (inner, PASSWORD1, "a.txt"), ==, "AES-128 Deflate");
  extract_7zz (inner, PASSWORD1, i7);
  compare_trees (source, i7, 0);
  rm_rf (tmp);
}

static void
test_zipcrypto (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o = g_build_filename (tmp, "outer", NULL);
  g_autofree char *inner = g_build_filename (o, SOURCE_NAME ".zip", NULL);
  g_autofree char *i = g_build_filename (tmp, "inner", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (GError) error = NULL;
  const char *wrong[] = { "unzip", "-t", "-P", "wrong", outer, NULL };

  backup_archiver_set_encryption (archiver, BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);

  assert_outer_listing (outer, PASSWORD2, "ZipCrypto Store");
  g_assert_false (run (wrong, NULL, NULL));
  extract_unzip (outer, PASSWORD2, o);
  extract_unzip (inner, PASSWORD1, i);
  compare_trees (source, i, 0);
  rm_rf (tmp);
}

static void
test_no_password (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o = g_build_filename (tmp, "outer", NULL);
  g_autofree char *inner = g_build_filename (o, SOURCE_NAME ".zip", NULL);
  g_autofree char *i = g_build_filename (tmp, "inner", NULL);
  g_autofree char *i2 = g_build_filename (tmp, "inner2", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, "", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) encrypted = NULL;

  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);

  assert_outer_listing (outer, "", "Store");
  extract_unzip (outer, "", o);
  encrypted = list_7zz (inner, "", "Encrypted");
  for (guint n = 0; n < encrypted->len; n++)
    g_assert_cmpstr (g_ptr_array_index (encrypted, n), ==, "-");
  g_assert_cmpstr (method_of (inner, "", "a.txt"), ==, "Deflate");
  extract_unzip (inner, "", i);
  compare_trees (source, i, 0);
  extract_bsdtar (inner, "", i2);
  compare_trees (source, i2, CHECK_DIR_MTIME);

  /* One level encrypted, the other not. */
  g_clear_object (&archiver);
  archiver = new_archiver (source, PASSWORD1, "");
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);
  assert_outer_listing (outer, "", "Store");
  rm_rf (o);
  extract_bsdtar (outer, "", o);
  g_assert_cmpstr (method_of (inner, PASSWORD1, "a.txt"), ==, "AES-256 Deflate");
  rm_rf (tmp);
}

static void
cancel_on_progress_cb (BackupArchiver *archiver, gint64 bytes_done, gint64 total_bytes,
                       gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean
zip_thread_running (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", name, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, "backup-zip"))
        return TRUE;
    }
  return FALSE;
}

static void
test_cancel (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = g_build_filename (tmp, "src", NULL);
  g_autofree char *big = g_build_filename (source, "big.bin", NULL);
  g_autofree guint8 *random = random_bytes (16 * 1024 * 1024);
  g_autoptr (BackupArchiver) archiver = NULL;
  g_autoptr (TestFailStream) out = test_fail_stream_new (-1, 20000);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  gint64 written;

  g_assert_no_errno (g_mkdir (source, 0755));
  write_file (big, random, 16 * 1024 * 1024, 0644, BASE_MTIME);
  archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_signal_connect_object (archiver, "progress", G_CALLBACK (cancel_on_progress_cb), cancellable,
                           G_CONNECT_DEFAULT);

  g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (zip_thread_running ());

  /* Nothing is written after the operation returned. */
  written = g_atomic_pointer_get (&out->written);
  g_assert_cmpint (written, <, 16 * 1024 * 1024);
  g_usleep (100000);
  g_assert_cmpint (g_atomic_pointer_get (&out->written), ==, written);

  /* Cancelled before it starts. */
  g_clear_error (&error);
  g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  rm_rf (tmp);
}

static void
test_output_fails (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (GError) error = NULL;

  const gint64 fail_after[] = { 0, 1, 65536, 512 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (fail_after); i++)
    {
      g_autoptr (TestFailStream) out = test_fail_stream_new (fail_after[i], 0);

      g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, NULL, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE);
      g_assert_nonnull (strstr (error->message, SOURCE_NAME ".zip"));
      g_assert_nonnull (strstr (error->message, "No space left"));
      g_assert_false (zip_thread_running ());
      g_clear_error (&error);
    }
  rm_rf (tmp);
}

/* A real full filesystem: a 1 MiB tmpfs (needs root to mount). */
static void
test_full_tmpfs (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *mnt = g_build_filename (tmp, "full", NULL);
  g_autofree char *outer = g_build_filename (mnt, "backup.zip", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (GError) error = NULL;

  if (getuid () != 0)
    {
      g_test_skip ("mounting a tmpfs needs root");
      rm_rf (tmp);
      return;
    }
  g_assert_no_errno (g_mkdir (mnt, 0755));
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=512k") != 0)
    {
      g_test_skip ("cannot mount a tmpfs here");
      rm_rf (tmp);
      return;
    }

  g_assert_false (archive_to_file (archiver, outer, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, SOURCE_NAME ".zip"));

  g_assert_no_errno (umount (mnt));
  rm_rf (tmp);
}

static void
test_unreadable (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *source = g_strdup (g_getenv ("ARCHIVER_TEST_SOURCE"));
      g_autoptr (BackupArchiver) archiver = NULL;
      g_autoptr (TestFailStream) out = test_fail_stream_new (-1, 0);
      g_autoptr (GError) error = NULL;

      /* Root reads everything: become nobody to meet a permission error. */
      if (getuid () == 0)
        {
          g_assert_no_errno (setgid (65534));
          g_assert_no_errno (setuid (65534));
        }
      archiver = new_archiver (source, PASSWORD1, PASSWORD2);
      g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, NULL, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
      g_print ("%s\n", error->message);
      return;
    }
  else
    {
      g_autofree char *tmp = make_tmp_dir ();
      g_autofree char *source = make_source_tree (tmp);
      g_autofree char *secret = g_build_filename (source, "sub dir", "secret.txt", NULL);
      const char *argv[] = { "chmod", "-R", "a+rX", tmp, NULL };

      g_assert_true (run (argv, NULL, NULL));
      g_assert_no_errno (chmod (secret, 0));
      g_setenv ("ARCHIVER_TEST_SOURCE", source, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      g_test_trap_assert_stdout ("*Could not open*secret.txt*Permission denied*");
      rm_rf (tmp);
    }
}

/* A file deleted or resized after the scan fails the write, naming it. */
static void
test_changed_after_scan (void)
{
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = make_source_tree (tmp);
  g_autofree char *secret = g_build_filename (source, "sub dir", "secret.txt", NULL);
  g_autofree char *script = g_build_filename (source, "sub dir", "deeper", "run me.sh", NULL);
  g_autoptr (BackupArchiver) archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_autoptr (TestFailStream) out = test_fail_stream_new (-1, 0);
  g_autoptr (GError) error = NULL;
  WriteResult busy = { 0 };

  scan_ok (archiver);
  g_assert_no_errno (g_unlink (secret));
  g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "secret.txt"));
  g_clear_error (&error);

  scan_ok (archiver);
  write_file (script, "#!/bin/sh\necho longer now\n", 26, 0755, BASE_MTIME);
  g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "run me.sh"));
  g_clear_error (&error);

  /* One write at a time. */
  {
    g_autoptr (TestFailStream) out2 = test_fail_stream_new (-1, 0);

    backup_archiver_write_async (archiver, G_OUTPUT_STREAM (out), G_PRIORITY_DEFAULT, NULL,
                                 write_done_cb, &busy);
    g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out2), NULL, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
    while (!busy.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_no_error (busy.error);
    g_assert_true (busy.ok);
  }

  /* A missing source folder. */
  g_clear_object (&archiver);
  g_clear_error (&error);
  archiver = new_archiver (secret, PASSWORD1, PASSWORD2);
  g_assert_false (archive_to_stream (archiver, G_OUTPUT_STREAM (out), NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "secret.txt"));
  rm_rf (tmp);
}

/* ------------------------------------------------------------------------ */
/* The zip writer's own pieces */

/* 40,000 bytes, encrypted in uneven pieces across the 16 KiB key stream
 * refills. The expected values come from an independent implementation
 * (Python: hashlib's PBKDF2 and HMAC, AES-ECB of the counter blocks from the
 * cryptography package). */
static void
test_aes_known_answer (void)
{
  static const struct
  {
    BackupZipEncryption encryption;
    gsize salt_len;
    const char *verifier;
    const char *head;   /* ciphertext [0, 32) */
    const char *around; /* ciphertext [16376, 16400) */
    const char *mac;
  } cases[] = {
    { BACKUP_ZIP_ENCRYPTION_AES256, 16, "\xd1\x1f",
      "\xa9\xc7\xe2\x9d\x88\xdb\x5f\x2c\xab\x90\x4b\x29\x0a\x3f\xba\x80\xcf\xb7\x0e\x58\xb8\x6d"
      "\x04\x4b\xf0\xa4\x10\x53\x93\xbf\xcd\xb6",
      "\xb9\xa6\xb8\xf4\xe1\x8b\xa9\x43\xfa\xa9\x2b\x15\x44\x3d\x7f\x85\x2e\x06\xd7\x48\x79\xc0"
      "\xe4\x04",
      "\x74\xb5\xe5\xf8\x00\x39\xa2\xc6\x7a\x5e" },
    { BACKUP_ZIP_ENCRYPTION_AES128, 8, "\x9f\x78",
      "\x01\xfc\x95\x66\x4b\x73\x87\x5d\xec\x0c\x17\xd9\x4f\x61\xa9\xcd\x18\x17\xe1\x10\x4a\x24"
      "\x9a\x90\xac\xa2\xe7\x5e\x06\xf4\x3b\x2b",
      "\x19\xa7\x97\xb2\xed\x41\x40\xd1\xb2\xf8\x88\x76\x00\x85\x29\x74\x25\x38\x66\x50\xeb\xa7"
      "\x8f\x4f",
      "\x7b\x2a\xec\x92\x9d\xf6\x84\x6b\x18\x04" },
  };
  const char *password = "pässword";
  const gsize pieces[] = { 1, 15, 17, 16384, 3, 20000 };
  const gsize len = 40000;

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree guint8 *data = g_malloc (len);
      g_autofree BackupZipAes *aes = g_new0 (BackupZipAes, 1);
      guint8 salt[16], verifier[2], mac[10];
      gsize done = 0;

      for (gsize i = 0; i < len; i++)
        data[i] = (i * 7) & 0xff;
      for (guint i = 0; i < sizeof salt; i++)
        salt[i] = i;

      g_assert_cmpuint (backup_zip_aes_salt_len (cases[c].encryption), ==, cases[c].salt_len);
      backup_zip_aes_init (aes, cases[c].encryption, (const guint8 *)password, strlen (password),
                           salt, verifier);
      g_assert_cmpmem (verifier, 2, cases[c].verifier, 2);
      for (guint i = 0; done < len; i++)
        {
          gsize n = MIN (i < G_N_ELEMENTS (pieces) ? pieces[i] : len, len - done);

          backup_zip_aes_encrypt (aes, data + done, n);
          done += n;
        }
      backup_zip_aes_finish (aes, mac);
      g_assert_cmpmem (data, 32, cases[c].head, 32);
      g_assert_cmpmem (data + 16376, 24, cases[c].around, 24);
      g_assert_cmpmem (mac, 10, cases[c].mac, 10);
    }

  /* A password longer than a SHA-1 block is hashed first (HMAC). */
  {
    g_autofree BackupZipAes *aes = g_new0 (BackupZipAes, 1);
    g_autoptr (GString) s = g_string_new (NULL);
    guint8 salt[16], verifier[2], mac[10];
    guint8 data[5] = "hello";

    for (int i = 0; i < 8; i++)
      g_string_append (s, "long password ");
    g_string_truncate (s, 100);
    for (guint i = 0; i < sizeof salt; i++)
      salt[i] = i;
    backup_zip_aes_init (aes, BACKUP_ZIP_ENCRYPTION_AES256, (const guint8 *)s->str, s->len, salt,
                         verifier);
    backup_zip_aes_encrypt (aes, data, sizeof data);
    backup_zip_aes_finish (aes, mac);
    g_assert_cmpmem (verifier, 2, "\x45\x5e", 2);
    g_assert_cmpmem (data, 5, "\x7f\xa3\x34\x25\x48", 5);
    g_assert_cmpmem (mac, 10, "\x65\x08\x16\x0d\xd9\x7c\x8d\xe5\x80\xbc", 10);
  }
}

/* The traditional cipher against the textbook algorithm (Python, with
 * zlib.crc32 for the key updates). */
static void
test_zipcrypto_known_answer (void)
{
  static const char expected[]
      = "\xc3\x54\x4a\x02\x24\x4e\x68\x48\x8d\xd4\x50\x87\x0d\xea\xc0\x29\x59\x9a\xc2\xa6\xf6\x4d"
        "\xc8\x4f\x38\x57\x45\x1b\x7a\x2d\xbf\xc9\x55\xa0\x2d\x1f\x37\xaa\xf3\xed\xb9\xe6\xbe\xed"
        "\xb3\xa9\x6a\x27";
  const char *password = "pässword";
  BackupZipTraditional zc;
  guint8 data[48];

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (i * 7) & 0xff;
  backup_zip_traditional_init (&zc, (const guint8 *)password, strlen (password));
  backup_zip_traditional_encrypt (&zc, data, 5);
  backup_zip_traditional_encrypt (&zc, data + 5, sizeof data - 5);
  g_assert_cmpmem (data, sizeof data, expected, sizeof data);
}

typedef struct
{
  GByteArray *bytes;
  guint8 *buffer;
  /* Deferred AES applied at each flush, as the outer thread does. */
  GArray *deferred;
  BackupZipAes *aes;
  BackupZipEncryption encryption;
  const char *password;
} MemorySink;

static guint8 *
memory_flush (guint8 *buffer, gsize len, gpointer user_data)
{
  MemorySink *sink = user_data;

  g_assert_true (buffer == sink->buffer);
  for (guint i = 0; sink->deferred != NULL && i < sink->deferred->len; i++)
    backup_zip_deferred_apply (sink->aes, sink->encryption, sink->password, buffer,
                               &g_array_index (sink->deferred, BackupZipDeferred, i));
  if (sink->deferred != NULL)
    g_array_set_size (sink->deferred, 0);
  g_byte_array_append (sink->bytes, buffer, len);
  return buffer;
}

static void
memory_defer (const BackupZipDeferred *op, gpointer user_data)
{
  MemorySink *sink = user_data;

  g_array_append_val (sink->deferred, *op);
}

/* A small archive written by BackupZipOutput with derived salts: a
 * deflated, a stored and a size-unknown (Zip64) entry, a folder, a link. */
static GBytes *
write_small_archive (BackupZipEncryption encryption, const char *password, gboolean deferred,
                     gsize buffer_size)
{
  static const guint8 key[BACKUP_ZIP_RANDOM_KEY_LEN] = { 1, 2, 3 };
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree guint8 *buffer = g_malloc (buffer_size);
  g_autofree BackupZipAes *aes = g_new0 (BackupZipAes, 1);
  MemorySink sink = { g_byte_array_new (), buffer, NULL, aes, encryption, password };
  g_autoptr (BackupZipOutput) zip = NULL;
  guint8 noise[5000];
  BackupZipOutputEntry dir = { "dir", S_IFDIR | 0755, BASE_MTIME, 1000, 1000, 0, 0, NULL };
  BackupZipOutputEntry link = { "dir/link", S_IFLNK | 0777, BASE_MTIME, 0, 0, 0, 0, "../a.txt" };
  BackupZipOutputEntry a
      = { "a.txt", S_IFREG | 0644, BASE_MTIME, 0, 0, 0, BACKUP_ZIP_METHOD_DEFLATE, NULL };
  BackupZipOutputEntry b = { "dir/nöise.bin",
                             S_IFREG | 0600,
                             BASE_MTIME + 1,
                             0,
                             0,
                             sizeof noise,
                             BACKUP_ZIP_METHOD_STORE,
                             NULL };
  BackupZipOutputEntry c
      = { "unknown size", S_IFREG | 0644, BASE_MTIME + 2, 0, 0, -1, BACKUP_ZIP_METHOD_STORE, NULL };

  for (int i = 0; i < 500; i++)
    g_string_append_printf (text, "line %d\n", i);
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8)(i * 2654435761u >> 13);
  a.size = text->len;
  g_assert_cmpint (a.size, <, 4500);

  backup_zip_random_begin (key, "test");
  zip = backup_zip_output_new (encryption, password, buffer, buffer_size, memory_flush, &sink);
  if (deferred)
    {
      sink.deferred = g_array_new (FALSE, FALSE, sizeof (BackupZipDeferred));
      /* a.txt deferred, the other two encrypted at once. */
      backup_zip_output_defer_aes (zip, 4500, memory_defer, &sink);
    }
  g_assert_true (backup_zip_output_add_entry (zip, &dir));
  g_assert_true (backup_zip_output_add_entry (zip, &link));
  g_assert_true (backup_zip_output_add_entry (zip, &a));
  g_assert_true (backup_zip_output_write (zip, (const guint8 *)text->str, 100));
  g_assert_true (backup_zip_output_write (zip, (const guint8 *)text->str + 100, text->len - 100));
  g_assert_true (backup_zip_output_end_entry (zip));
  g_assert_true (backup_zip_output_add_entry (zip, &b));
  g_assert_true (backup_zip_output_write (zip, noise, sizeof noise));
  g_assert_true (backup_zip_output_end_entry (zip));
  g_assert_true (backup_zip_output_add_entry (zip, &c));
  g_assert_true (backup_zip_output_write (zip, noise, 1234));
  g_assert_true (backup_zip_output_end_entry (zip));
  g_assert_true (backup_zip_output_close (zip));
  g_assert_cmpuint (backup_zip_output_get_offset (zip), ==, sink.bytes->len);
  backup_zip_random_end ();
  if (sink.deferred != NULL)
    g_array_unref (sink.deferred);
  return g_byte_array_free_to_bytes (sink.bytes);
}

static void
save_bytes (const char *path, GBytes *bytes)
{
  GError *error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static void
test_small_archive (void)
{
  static const struct
  {
    BackupZipEncryption encryption;
    const char *password;
    const char *method; /* of dir/nöise.bin */
  } cases[] = {
    { BACKUP_ZIP_ENCRYPTION_AES256, PASSWORD1, "AES-256 Store" },
    { BACKUP_ZIP_ENCRYPTION_AES128, PASSWORD1, "AES-128 Store" },
    { BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO, PASSWORD1, "ZipCrypto Store" },
    { BACKUP_ZIP_ENCRYPTION_AES256, "", "Store" },
  };
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *path = g_build_filename (tmp, "small.zip", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) zip
          = write_small_archive (cases[i].encryption, cases[i].password, FALSE, 64 * 1024);
      g_autoptr (GBytes) again
          = write_small_archive (cases[i].encryption, cases[i].password, FALSE, 64 * 1024);
      g_autoptr (GBytes) deferred
          = write_small_archive (cases[i].encryption, cases[i].password, TRUE, 64 * 1024);
      g_autoptr (GBytes) tiny
          = write_small_archive (cases[i].encryption, cases[i].password, TRUE, 19);
      g_autofree char *x7 = g_build_filename (tmp, "x7", NULL);
      g_autofree char *xb = g_build_filename (tmp, "xb", NULL);
      g_autofree char *noise7 = g_build_filename (x7, "dir", "nöise.bin", NULL);
      g_autofree char *noiseb = g_build_filename (xb, "dir", "nöise.bin", NULL);
      g_autofree char *link = g_build_filename (xb, "dir", "link", NULL);
      g_autofree char *target = NULL;
      g_autofree char *pw = g_strconcat ("-p", cases[i].password, NULL);
      const char *test7[] = { "7zz", "t", "-bd", pw, path, NULL };
      const char *wrong7[] = { "7zz", "t", "-bd", "-pwrong", path, NULL };
      const char *testu[] = { "unzip", "-tq", "-P", cases[i].password, path, NULL };
      g_autoptr (GPtrArray) sizes = NULL;

      /* Derived salts: the same bytes again; deferred AES and any buffer
       * size give the same bytes too. */
      g_assert_true (g_bytes_equal (zip, again));
      g_assert_true (g_bytes_equal (zip, deferred));
      g_assert_true (g_bytes_equal (zip, tiny));

      save_bytes (path, zip);
      g_assert_true (run (test7, NULL, NULL));
      if (*cases[i].password != '\0')
        g_assert_false (run (wrong7, NULL, NULL));
      if (cases[i].encryption == BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO || *cases[i].password == '\0')
        g_assert_true (run (testu, NULL, NULL));
      g_assert_cmpstr (method_of (path, cases[i].password, "dir/nöise.bin"), ==, cases[i].method);
      sizes = list_7zz (path, cases[i].password, "Size");
      g_assert_cmpuint (sizes->len, ==, 5);
      g_assert_cmpstr (g_ptr_array_index (sizes, 4), ==, "1234");

      extract_7zz (path, cases[i].password, x7);
      extract_bsdtar (path, cases[i].password, xb);
      assert_same_file (noise7, noiseb);
      target = g_file_read_link (link, NULL);
      g_assert_cmpstr (target, ==, "../a.txt");
      rm_rf (x7);
      rm_rf (xb);
    }
  rm_rf (tmp);
}

static guint8 *
counting_flush (guint8 *buffer, gsize len, gpointer user_data)
{
  g_byte_array_append (user_data, buffer, len);
  return buffer;
}

/* 70,000 entries: the Zip64 end records, written in memory. */
static void
test_zip64_many_entries (void)
{
  const guint n = 70000;
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *path = g_build_filename (tmp, "many.zip", NULL);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree guint8 *buffer = g_malloc (256 * 1024);
  g_autoptr (BackupZipOutput) zip = NULL;
  g_autofree char *listing = NULL;
  const char *list[] = { "bsdtar", "-t", "-f", path, NULL };
  const char *test7[] = { "7zz", "t", "-bd", path, NULL };
  guint lines = 0;
  const guint8 *end;

  zip = backup_zip_output_new (BACKUP_ZIP_ENCRYPTION_AES256, "", buffer, 256 * 1024, counting_flush,
                               bytes);
  for (guint i = 0; i < n; i++)
    {
      char name[32], data[16];
      int len = g_snprintf (data, sizeof data, "%u\n", i);
      BackupZipOutputEntry e
          = { name, S_IFREG | 0644, BASE_MTIME, 0, 0, len, BACKUP_ZIP_METHOD_STORE, NULL };

      g_snprintf (name, sizeof name, "d%02u/f%05u", i / 1000, i);
      g_assert_true (backup_zip_output_add_entry (zip, &e));
      g_assert_true (backup_zip_output_write (zip, (const guint8 *)data, len));
      g_assert_true (backup_zip_output_end_entry (zip));
    }
  g_assert_true (backup_zip_output_close (zip));

  /* End of central directory, after the Zip64 record and its locator. */
  g_assert_cmpuint (bytes->len, >, 22 + 20 + 56);
  end = bytes->data + bytes->len - 22;
  g_assert_cmpmem (end, 4, "PK\5\6", 4);
  g_assert_cmpuint (end[10] | end[11] << 8, ==, 0xffff);
  g_assert_cmpmem (end - 20, 4, "PK\6\7", 4);
  g_assert_cmpmem (end - 20 - 56, 4, "PK\6\6", 4);

  g_assert_true (g_file_set_contents (path, (const char *)bytes->data, bytes->len, NULL));
  g_assert_true (run (test7, NULL, NULL));
  g_assert_true (run (list, NULL, &listing));
  for (const char *p = listing; *p; p++)
    lines += *p == '\n';
  g_assert_cmpuint (lines, ==, n);
  g_assert_nonnull (strstr (listing, "d69/f69999\n"));
  rm_rf (tmp);
}

/* ------------------------------------------------------------------------ */
/* Big cases (suite 'slow') */

/* Many small files are slow to create on some disks: use a private tmpfs
 * when root, else /dev/shm when it is writable, else the temporary folder. */
static char *
make_fast_tmp_dir (gboolean *mounted)
{
  char *dir = make_tmp_dir ();

  *mounted = FALSE;
  if (getuid () == 0 && mount ("tmpfs", dir, "tmpfs", 0, "size=1g,mode=0700") == 0)
    {
      *mounted = TRUE;
      return dir;
    }
  if (access ("/dev/shm", W_OK) == 0)
    {
      g_autofree char *tmpl = g_strdup ("/dev/shm/test-archiver-XXXXXX");

      if (g_mkdtemp (tmpl) != NULL)
        {
          g_assert_no_errno (g_rmdir (dir));
          g_free (dir);
          return g_steal_pointer (&tmpl);
        }
    }
  return dir;
}

static gboolean
have_space (const char *dir, guint64 bytes)
{
  struct statvfs sv;

  g_assert_no_errno (statvfs (dir, &sv));
  return (guint64)sv.f_bavail * sv.f_frsize >= bytes;
}

/* More than 65,535 entries: the zip64 end of central directory. The inner
 * level is not encrypted here: WinZip AES derives a key per entry
 * (PBKDF2, 1000 rounds), which would make this case slow for no gain. */
static void
test_big_many_entries (void)
{
  gboolean mounted;
  g_autofree char *tmp = make_fast_tmp_dir (&mounted);
  g_autofree char *source = g_build_filename (tmp, "many", NULL);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o = g_build_filename (tmp, "outer", NULL);
  g_autofree char *inner = g_build_filename (o, "many.zip", NULL);
  g_autoptr (BackupArchiver) archiver = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autofree char *listing = NULL;
  const char *bsdtar_list[] = { "bsdtar", "-t", "-f", inner, NULL };
  const char *test_inner[] = { "7zz", "t", "-bd", inner, NULL };
  const guint n_dirs = 70, per_dir = 1000;
  guint lines = 0;

  g_assert_no_errno (g_mkdir (source, 0755));
  for (guint d = 0; d < n_dirs; d++)
    {
      g_autofree char *sub = g_strdup_printf ("%s/d%02u", source, d);
      int dfd;

      g_assert_no_errno (g_mkdir (sub, 0755));
      dfd = open (sub, O_RDONLY | O_DIRECTORY);
      g_assert_cmpint (dfd, >=, 0);
      for (guint f = 0; f < per_dir; f++)
        {
          char name[16], content[32];
          int fd;
          int len;

          g_snprintf (name, sizeof name, "f%04u", f);
          len = g_snprintf (content, sizeof content, "%u/%u\n", d, f);
          fd = openat (dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
          g_assert_cmpint (fd, >=, 0);
          g_assert_cmpint (write (fd, content, len), ==, len);
          close (fd);
        }
      close (dfd);
    }

  archiver = new_archiver (source, "", PASSWORD2);
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (backup_archiver_get_n_entries (archiver), ==, n_dirs * (per_dir + 1));

  extract_7zz (outer, PASSWORD2, o);
  paths = list_7zz (inner, "", "Path");
  g_assert_cmpuint (paths->len, ==, n_dirs * (per_dir + 1));
  g_assert_cmpstr (g_ptr_array_index (paths, paths->len - 1), ==, "d69/f0999");
  g_assert_true (run (bsdtar_list, NULL, &listing));
  for (const char *p = listing; *p; p++)
    lines += *p == '\n';
  g_assert_cmpuint (lines, ==, n_dirs * (per_dir + 1));
  g_assert_true (run (test_inner, NULL, NULL));
  if (mounted)
    g_assert_no_errno (umount (tmp));
  rm_rf (tmp);
}

/* An entry of 4.5 GiB: Zip64 sizes. The file is sparse with random blocks
 * before and after the 4 GiB mark, so it costs little disk and deflates to
 * a few MiB, yet a wrong offset or size would change its hash. */
static void
test_big_zip64 (void)
{
  const gint64 size = G_GINT64_CONSTANT (4831838208); /* 4.5 GiB */
  const gint64 offsets[] = { 1024 * 1024, G_GINT64_CONSTANT (4294967296) - 4096, size - 65536 };
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = g_build_filename (tmp, "huge", NULL);
  g_autofree char *file = g_build_filename (source, "sparse.bin", NULL);
  g_autofree char *outer = g_build_filename (tmp, "backup.zip", NULL);
  g_autofree char *o = g_build_filename (tmp, "outer", NULL);
  g_autofree char *inner = g_build_filename (o, "huge.zip", NULL);
  g_autoptr (BackupArchiver) archiver = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sizes = NULL;
  g_autofree char *src_hash = NULL, *zip_hash = NULL;
  g_autofree char *cmd_src = NULL, *cmd_zip = NULL;
  const char *sh_src[] = { "sh", "-c", NULL, NULL };
  const char *sh_zip[] = { "sh", "-c", NULL, NULL };
  int fd;

  if (!have_space (tmp, 64 * 1024 * 1024))
    {
      g_test_skip ("not enough space in the temporary folder");
      rm_rf (tmp);
      return;
    }

  g_assert_no_errno (g_mkdir (source, 0755));
  fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (ftruncate (fd, size));
  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autofree guint8 *block = random_bytes (65536);

      g_assert_cmpint (pwrite (fd, block, 65536, offsets[i]), ==, 65536);
    }
  close (fd);

  archiver = new_archiver (source, PASSWORD1, PASSWORD2);
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (backup_archiver_get_total_bytes (archiver), ==, size);

  extract_7zz (outer, PASSWORD2, o);
  sizes = list_7zz (inner, PASSWORD1, "Size");
  g_assert_cmpuint (sizes->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (sizes, 0), ==, "4831838208");

  cmd_src = g_strdup_printf ("sha256sum < '%s'", file);
  cmd_zip = g_strdup_printf ("7zz x -so -p'%s' '%s' sparse.bin | sha256sum", PASSWORD1, inner);
  sh_src[2] = cmd_src;
  sh_zip[2] = cmd_zip;
  g_assert_true (run (sh_src, NULL, &src_hash));
  g_assert_true (run (sh_zip, NULL, &zip_hash));
  g_assert_cmpuint (strlen (src_hash), >, 64);
  g_assert_cmpstr (src_hash, ==, zip_hash);
  rm_rf (tmp);
}

static guint64
mem_available (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    return 0;
  line = strstr (meminfo, "MemAvailable:");
  return line != NULL ? g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024 : 0;
}

/* Both levels past 4 GiB: the sparse file starts with random data, so it is
 * stored, and the inner archive, and so the outer entry, exceed 4 GiB. The
 * outer archive goes to a tmpfs (a slow disk would dominate the test); the
 * levels are not encrypted, which keeps this to CRC and copies. 7-Zip tests
 * the outer archive; the inner one is read as a stream by bsdtar. */
static void
test_big_zip64_outer (void)
{
  const gint64 size = G_GINT64_CONSTANT (4831838208); /* 4.5 GiB */
  const gint64 offsets[] = { 0, G_GINT64_CONSTANT (4294967296) - 4096, size - 65536 };
  g_autofree char *tmp = make_tmp_dir ();
  g_autofree char *source = g_build_filename (tmp, "huge", NULL);
  g_autofree char *file = g_build_filename (source, "sparse.bin", NULL);
  g_autofree char *mnt = g_build_filename (tmp, "mnt", NULL);
  g_autofree char *outer = g_build_filename (mnt, "backup.zip", NULL);
  g_autoptr (BackupArchiver) archiver = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sizes = NULL;
  g_autofree char *src_hash = NULL, *zip_hash = NULL;
  g_autofree char *cmd_src = NULL, *cmd_zip = NULL;
  const char *sh_src[] = { "sh", "-c", NULL, NULL };
  const char *sh_zip[] = { "sh", "-c", NULL, NULL };
  const char *test_outer[] = { "7zz", "t", "-bd", outer, NULL };
  int fd;

  if (getuid () != 0 || mem_available () < G_GINT64_CONSTANT (7) * 1024 * 1024 * 1024)
    {
      g_test_skip ("needs root and 7 GiB of free memory for a tmpfs");
      rm_rf (tmp);
      return;
    }
  g_assert_no_errno (g_mkdir (mnt, 0700));
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=5g,mode=0700") != 0)
    {
      g_test_skip ("cannot mount a tmpfs here");
      rm_rf (tmp);
      return;
    }

  g_assert_no_errno (g_mkdir (source, 0755));
  fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (ftruncate (fd, size));
  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autofree guint8 *block = random_bytes (65536);

      g_assert_cmpint (pwrite (fd, block, 65536, offsets[i]), ==, 65536);
    }
  close (fd);

  archiver = new_archiver (source, "", "");
  g_assert_true (archive_to_file (archiver, outer, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (run (test_outer, NULL, NULL));
  sizes = list_7zz (outer, "", "Size");
  g_assert_cmpuint (sizes->len, ==, 1);
  g_assert_cmpint (g_ascii_strtoll (g_ptr_array_index (sizes, 0), NULL, 10), >, size);

  cmd_src = g_strdup_printf ("sha256sum < '%s'", file);
  cmd_zip = g_strdup_printf ("7zz x -so '%s' huge.zip | bsdtar -x -O -f - sparse.bin | sha256sum",
                             outer);
  sh_src[2] = cmd_src;
  sh_zip[2] = cmd_zip;
  g_assert_true (run (sh_src, NULL, &src_hash));
  g_assert_true (run (sh_zip, NULL, &zip_hash));
  g_assert_cmpuint (strlen (src_hash), >, 64);
  g_assert_cmpstr (src_hash, ==, zip_hash);

  g_assert_no_errno (umount (mnt));
  rm_rf (tmp);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* As root, the tmpfs mounts of these tests go into a private mount
   * namespace: they vanish with the process, even if a test aborts. */
  if (getuid () == 0 && unshare (CLONE_NEWNS) == 0)
    mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);

  g_test_add_func ("/archiver/new-destroy", test_new_destroy);
  g_test_add_func ("/archiver/aes256-roundtrip", test_aes256_roundtrip);
  g_test_add_func ("/archiver/aes128-and-rewrite", test_aes128_and_rewrite);
  g_test_add_func ("/archiver/zipcrypto", test_zipcrypto);
  g_test_add_func ("/archiver/no-password", test_no_password);
  g_test_add_func ("/archiver/cancel", test_cancel);
  g_test_add_func ("/archiver/output-fails", test_output_fails);
  g_test_add_func ("/archiver/full-tmpfs", test_full_tmpfs);
  g_test_add_func ("/archiver/unreadable", test_unreadable);
  g_test_add_func ("/archiver/changed-after-scan", test_changed_after_scan);
  g_test_add_func ("/archiver/aes-known-answer", test_aes_known_answer);
  g_test_add_func ("/archiver/zipcrypto-known-answer", test_zipcrypto_known_answer);
  g_test_add_func ("/archiver/small-archive", test_small_archive);
  g_test_add_func ("/archiver/zip64-many-entries", test_zip64_many_entries);
  g_test_add_func ("/archiver-big/many-entries", test_big_many_entries);
  g_test_add_func ("/archiver-big/zip64", test_big_zip64);
  g_test_add_func ("/archiver-big/zip64-outer", test_big_zip64_outer);

  return g_test_run ();
}
