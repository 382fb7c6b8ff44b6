/* test-s3-store.c: BackupS3Store and BackupStore behind BackupStorage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The S3 store against the Ceph lab (run-s3-suite.sh sets S3_LAB_*; without
 * it the lab tests are skipped, unless CI=true, where they fail), and the
 * folder store through the same interface.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "backup-error.h"
#include "backup-s3-store.h"
#include "backup-storage.h"
#include "backup-store.h"
#include "s3-lab.h"

#define MIB (1024 * 1024)
#define PART (5 * MIB)
#define HOUR G_TIME_SPAN_HOUR
#define ID_A "0123456789abcdef0123456789abcdef"

static char *bucket; /* made once for the whole run */

static GBytes *
random_bytes (gsize size, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8)g_rand_int (rand);
  return g_bytes_new_take (data, size);
}

static void
sha256_of (GBytes *bytes, guint8 *digest)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = BACKUP_STORAGE_SHA256_LEN;

  g_checksum_update (checksum, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_checksum_get_digest (checksum, digest, &len);
}

/* A clock the test moves. */
static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static BackupS3Store *
lab_store (BackupS3Client *client, const char *test, guint versions)
{
  g_autofree char *prefix = g_strdup_printf ("%s-%08x/", test, g_random_int ());
  BackupS3Store *store = backup_s3_store_new (client, bucket, prefix, versions);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();

  backup_s3_store_set_part_size (store, PART);
  backup_s3_store_set_clock (store, fake_clock, NULL);
  backup_s3_store_set_time_zone (store, utc);
  fake_now = g_get_real_time ();
  return store;
}

static void
result_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static gboolean
commit_sync (BackupStorageWriter *writer, const guint8 *sha256, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  backup_storage_writer_commit_async (writer, sha256, NULL, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return backup_storage_writer_commit_finish (writer, result, error);
}

/* Writes @data in pieces of 64 KiB, as a data channel delivers it. */
static void
write_all (BackupStorageWriter *writer, GBytes *data)
{
  const guint8 *p = g_bytes_get_data (data, NULL);
  gsize size = g_bytes_get_size (data);
  g_autoptr (GError) error = NULL;

  for (gsize done = 0; done < size;)
    {
      gsize n = MIN (size - done, 64 * 1024 + 3);

      g_assert_true (backup_storage_writer_write (writer, p + done, n, &error));
      g_assert_no_error (error);
      done += n;
    }
  g_assert_cmpuint (backup_storage_writer_get_bytes_written (writer), ==, size);
}

static GPtrArray *
list_keys (BackupS3Client *client, BackupS3Store *store)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *objects = backup_s3_client_list_all_objects (
      client, bucket, backup_s3_store_get_prefix (store), NULL, &error);

  g_assert_no_error (error);
  return objects;
}

static guint
count_uploads (BackupS3Client *client, const char *prefix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) uploads
      = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);

  g_assert_no_error (error);
  return uploads->len;
}

/* An abort finishes in a worker thread: wait (bounded) until no upload is
 * left under @prefix. */
static void
assert_uploads_go (BackupS3Client *client, const char *prefix)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (count_uploads (client, prefix) > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (100 * 1000);
    }
}

static void
assert_object (BackupS3Client *client, const char *key, GBytes *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) got
      = backup_s3_client_get_object_bytes (client, bucket, key, 64 * MIB, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, expected));
}

static void
test_new_destroy (void)
{
  g_autoptr (GError) error = NULL;
  BackupS3Client *client = backup_s3_client_new ("http://127.0.0.1:9", NULL, &error);
  BackupS3Store *store;
  g_autofree char *where = NULL;
  g_autofree char *key = NULL;

  g_assert_no_error (error);
  store = backup_s3_store_new_for_location (client, "s3://bucket/some/prefix", 4, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (backup_s3_store_get_bucket (store), ==, "bucket");
  g_assert_cmpstr (backup_s3_store_get_prefix (store), ==, "some/prefix/");
  g_assert_cmpuint (backup_storage_get_versions (BACKUP_STORAGE (store)), ==, 4);
  g_assert_false (backup_storage_supports_resume (BACKUP_STORAGE (store)));
  where = backup_storage_describe (BACKUP_STORAGE (store));
  g_assert_cmpstr (where, ==, "s3://bucket/some/prefix/");

  /* 2026-12-06 14:30:00.000042 UTC; the origin reduced to a safe word. */
  key = backup_s3_store_version_key (
      store, "data.zip", G_GINT64_CONSTANT (1796567400) * G_USEC_PER_SEC + 42, "Zoë’s laptop/1");
  g_assert_cmpstr (key, ==, "some/prefix/data.zip/20261206T143000.000042Z-Zo__s_laptop_1");
  g_clear_pointer (&key, g_free);
  key = backup_s3_store_version_key (store, "x", 0, NULL);
  g_assert_cmpstr (key, ==, "some/prefix/x/19700101T000000.000000Z-unknown");

  g_assert_null (backup_s3_store_new_for_location (client, "file:///tmp", 1, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_finalize_object (store);
  g_assert_finalize_object (client);
}

static void
test_names (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupS3Client) client = backup_s3_client_new ("http://127.0.0.1:9", NULL, &error);
  g_autoptr (BackupS3Store) store = backup_s3_store_new (client, "b", "p/", 1);
  BackupStorage *storage = BACKUP_STORAGE (store);
  const char *refused[] = { "", ".", "..", "a/b", "\xff\xfe", "tab\there" };
  g_autofree char *long_name = g_strnfill (255, 'n');

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_assert_false (backup_storage_check_name (storage, refused[i], strlen (refused[i]), &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
      g_clear_error (&error);
      g_assert_null (backup_storage_begin (storage, refused[i], strlen (refused[i]), &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
      g_clear_error (&error);
    }
  g_assert_false (backup_storage_check_name (storage, "a\0b", 3, &error));
  g_clear_error (&error);
  g_assert_true (
      backup_storage_check_name (storage, "Zoë’s data.zip", strlen ("Zoë’s data.zip"), &error));
  g_assert_true (backup_storage_check_name (storage, long_name, 255, &error));
  g_assert_no_error (error);
}

static void
test_round_trip (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  gsize sizes[] = { 0, 1000, PART, 2 * PART + 777 };

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "round-trip", 10);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (BackupStorageWriter) writer = NULL;
      g_autoptr (GBytes) data = random_bytes (sizes[i], i + 1);
      g_autoptr (GPtrArray) keys = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *key = NULL;
      guint8 sha[BACKUP_STORAGE_SHA256_LEN];

      fake_now += HOUR;
      writer = backup_storage_begin (BACKUP_STORAGE (store), "data.zip", 8, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (backup_storage_writer_get_name (writer), ==, "data.zip");
      g_assert_false (backup_storage_writer_is_resumable (writer));
      backup_storage_writer_set_origin (writer, "laptop one");
      write_all (writer, data);

      /* Nothing is visible before the commit. */
      keys = list_keys (client, store);
      g_assert_cmpuint (keys->len, ==, i);

      sha256_of (data, sha);
      g_assert_true (commit_sync (writer, sha, &error));
      g_assert_no_error (error);

      key = backup_s3_store_version_key (store, "data.zip", fake_now, "laptop one");
      g_assert_true (g_str_has_suffix (key, "Z-laptop_one"));
      assert_object (client, key, data);
      g_assert_cmpuint (count_uploads (client, backup_s3_store_get_prefix (store)), ==, 0);

      /* Over: no more writes, no second commit; abort does nothing. */
      g_assert_false (backup_storage_writer_write (writer, "x", 1, &error));
      g_clear_error (&error);
      backup_storage_writer_abort (writer);
      assert_object (client, key, data);
    }
}

static void
test_abort (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (GBytes) data = random_bytes (2 * PART + 10, 7);
  const char *prefix;

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "abort", 3);
  prefix = backup_s3_store_get_prefix (store);

  /* Aborted after two parts went up. */
  {
    g_autoptr (BackupStorageWriter) writer = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) keys = NULL;

    writer = backup_storage_begin (BACKUP_STORAGE (store), "big", 3, &error);
    g_assert_no_error (error);
    write_all (writer, data);
    backup_storage_writer_abort (writer);
    backup_storage_writer_abort (writer);
    assert_uploads_go (client, prefix);
    keys = list_keys (client, store);
    g_assert_cmpuint (keys->len, ==, 0);
    g_assert_false (commit_sync (writer, NULL, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
  }

  /* Dropped without a commit, and "kept" by an interrupted transfer: a
   * storage that cannot resume keeps nothing. */
  {
    g_autoptr (BackupStorageWriter) writer = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) keys = NULL;

    writer = backup_storage_begin_resumable (BACKUP_STORAGE (store), "big", 3, ID_A, &error);
    g_assert_no_error (error);
    g_assert_false (backup_storage_writer_is_resumable (writer));
    g_assert_cmpuint (backup_storage_writer_get_resume_offset (writer), ==, 0);
    write_all (writer, data);
    g_assert_false (backup_storage_writer_keep (writer));
    g_clear_object (&writer);
    assert_uploads_go (client, prefix);

    writer = backup_storage_begin (BACKUP_STORAGE (store), "big", 3, &error);
    write_all (writer, data);
    g_clear_object (&writer);
    assert_uploads_go (client, prefix);
    keys = list_keys (client, store);
    g_assert_cmpuint (keys->len, ==, 0);
  }
}

static void
test_hash_mismatch (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  gsize sizes[] = { 1000, 2 * PART + 1 };

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "mismatch", 3);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (BackupStorageWriter) writer = NULL;
      g_autoptr (GBytes) data = random_bytes (sizes[i], 11 + i);
      g_autoptr (GPtrArray) keys = NULL;
      g_autoptr (GError) error = NULL;
      guint8 sha[BACKUP_STORAGE_SHA256_LEN];

      writer = backup_storage_begin (BACKUP_STORAGE (store), "data", 4, &error);
      write_all (writer, data);
      sha256_of (data, sha);
      sha[5] ^= 1;
      g_assert_false (commit_sync (writer, sha, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_HASH_MISMATCH);
      g_assert_nonnull (strstr (error->message, "is corrupt"));
      /* The commit aborted the upload before it returned. */
      g_assert_cmpuint (count_uploads (client, backup_s3_store_get_prefix (store)), ==, 0);
      keys = list_keys (client, store);
      g_assert_cmpuint (keys->len, ==, 0);
    }
}

static void
commit_version (BackupS3Store *store, const char *name, guint seed)
{
  g_autoptr (BackupStorageWriter) writer = NULL;
  g_autoptr (GBytes) data = random_bytes (100 + seed, seed);
  g_autoptr (GError) error = NULL;
  guint8 sha[BACKUP_STORAGE_SHA256_LEN];

  writer = backup_storage_begin (BACKUP_STORAGE (store), name, strlen (name), &error);
  g_assert_no_error (error);
  backup_storage_writer_set_origin (writer, "sender");
  write_all (writer, data);
  sha256_of (data, sha);
  g_assert_true (commit_sync (writer, sha, &error));
  g_assert_no_error (error);
}

static void
test_versions (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GPtrArray) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *stranger = NULL;
  gint64 times[5];

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "versions", 3);

  /* A key of the name's folder that is not a version stays. */
  stranger = g_strdup_printf ("%sdata/notes.txt", backup_s3_store_get_prefix (store));
  {
    g_autoptr (GBytes) note = g_bytes_new_static ("note", 4);
    g_assert_true (
        backup_s3_client_put_object (client, bucket, stranger, note, NULL, NULL, &error));
  }

  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      fake_now += HOUR;
      times[i] = fake_now;
      commit_version (store, "data", i + 1);
      commit_version (store, "other", 50 + i);
    }

  /* -v 3: the three newest of each name, and the stranger. */
  keys = list_keys (client, store);
  g_assert_cmpuint (keys->len, ==, 3 + 3 + 1);
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *key = backup_s3_store_version_key (store, "data", times[i], "sender");
      gboolean found = FALSE;

      for (guint k = 0; k < keys->len; k++)
        found |= g_strcmp0 (((BackupS3ObjectInfo *)g_ptr_array_index (keys, k))->key, key) == 0;
      g_assert_true (found == (i >= 2));
    }

  /* A policy: keep-last 1, the bound still 3. */
  backup_storage_set_retention (BACKUP_STORAGE (store), &(BackupRetention){ .last = 1 });
  g_assert_true (backup_storage_prune (BACKUP_STORAGE (store), NULL, TRUE, &report, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->len, ==, 6);
  for (guint i = 0; i < report->len; i++)
    {
      BackupStoreVersion *v = g_ptr_array_index (report, i);

      g_assert_cmpstr (v->name, ==, i < 3 ? "data" : "other");
      g_assert_cmpuint (v->number, ==, i % 3);
      g_assert_cmpint (v->time, ==, times[4 - i % 3]);
      g_assert_cmpstr (v->origin, ==, "sender");
      g_assert_true ((v->reasons != 0) == (i % 3 == 0));
      g_assert_true ((v->new_file != NULL) == (i % 3 == 0));
    }
  g_clear_pointer (&report, g_ptr_array_unref);
  g_assert_true (backup_storage_prune (BACKUP_STORAGE (store), "data", FALSE, NULL, NULL, &error));
  g_clear_pointer (&keys, g_ptr_array_unref);
  keys = list_keys (client, store);
  g_assert_cmpuint (keys->len, ==, 1 + 3 + 1);

  /* The next commit of "other" applies the policy to it. */
  fake_now += HOUR;
  commit_version (store, "other", 99);
  g_clear_pointer (&keys, g_ptr_array_unref);
  keys = list_keys (client, store);
  g_assert_cmpuint (keys->len, ==, 1 + 1 + 1);

  for (guint k = 0; k < keys->len; k++)
    g_assert_true (backup_s3_client_delete_object (
        client, bucket, ((BackupS3ObjectInfo *)g_ptr_array_index (keys, k))->key, NULL, &error));
}

static void
test_stale_sweep (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *inside = NULL;
  g_autofree char *outside = NULL;
  g_autofree char *inside_id = NULL;
  g_autofree char *outside_id = NULL;
  const char *prefix;
  guint removed = 99;

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "stale", 3);
  prefix = backup_s3_store_get_prefix (store);
  fake_now = g_get_real_time ();

  inside = g_strdup_printf ("%sdata/20260101T000000.000000Z-crashed", prefix);
  outside = g_strdup_printf ("not-%sdata", prefix);
  inside_id = backup_s3_client_create_multipart_upload (client, bucket, inside, NULL, &error);
  g_assert_no_error (error);
  outside_id = backup_s3_client_create_multipart_upload (client, bucket, outside, NULL, &error);
  g_assert_no_error (error);

  /* Young: an upload under way, kept (whatever the age asked). */
  g_assert_true (
      backup_storage_remove_stale_parts (BACKUP_STORAGE (store), 0, &removed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (count_uploads (client, prefix), ==, 1);

  /* A day and more later: gone; the one outside the prefix stays. */
  fake_now += BACKUP_S3_STORE_STALE_AGE + HOUR;
  g_assert_true (
      backup_storage_remove_stale_parts (BACKUP_STORAGE (store), HOUR, &removed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  g_assert_cmpuint (count_uploads (client, prefix), ==, 0);
  g_assert_cmpuint (count_uploads (client, outside), ==, 1);
  g_assert_true (
      backup_s3_client_abort_multipart_upload (client, bucket, outside, outside_id, NULL, &error));
  g_assert_no_error (error);
}

/* The folder store, through the same interface. */
static void
test_folder_store (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-s3-store-XXXXXX", &error);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  BackupStore *store = backup_store_new (folder, 2);
  BackupStorage *storage = BACKUP_STORAGE (store);
  g_autofree char *where = backup_storage_describe (storage);
  g_autofree char *newest = g_build_filename (dir, "data", NULL);
  g_autofree char *older = g_build_filename (dir, "data.1", NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (where, ==, dir);
  g_assert_true (backup_storage_supports_resume (storage));
  g_assert_cmpuint (backup_storage_get_versions (storage), ==, 2);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (BackupStorageWriter) writer = NULL;
      g_autoptr (GBytes) data = random_bytes (3000 + i, 30 + i);
      g_autofree char *contents = NULL;
      gsize length;
      guint8 sha[BACKUP_STORAGE_SHA256_LEN];

      writer = backup_storage_begin (storage, "data", 4, &error);
      g_assert_no_error (error);
      g_assert_true (BACKUP_IS_RECEPTION (writer));
      write_all (writer, data);
      sha256_of (data, sha);
      g_assert_true (commit_sync (writer, sha, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (newest, &contents, &length, NULL));
      g_assert_cmpmem (contents, length, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
    }
  g_assert_true (g_file_test (older, G_FILE_TEST_EXISTS));

  /* Resumable there: what an interrupted transfer wrote is kept. */
  {
    g_autoptr (BackupStorageWriter) writer = NULL;

    writer = backup_storage_begin_resumable (storage, "data", 4, ID_A, &error);
    g_assert_no_error (error);
    g_assert_true (backup_storage_writer_is_resumable (writer));
    g_assert_true (backup_storage_writer_write (writer, "abc", 3, &error));
    g_assert_true (backup_storage_writer_keep (writer));
    g_clear_object (&writer);
    writer = backup_storage_begin_resumable (storage, "data", 4, ID_A, &error);
    g_assert_cmpuint (backup_storage_writer_get_resume_offset (writer), ==, 3);
    backup_storage_writer_abort (writer);
  }
  g_assert_true (backup_storage_remove_stale_parts (storage, 0, NULL, NULL, &error));
  g_assert_no_error (error);

  g_assert_finalize_object (store);
  g_assert_no_errno (g_remove (older));
  g_assert_no_errno (g_remove (newest));
  g_assert_no_errno (g_rmdir (dir));
}

/* Days by the injected clock: keep-daily keeps the newest of each day. */
static void
test_daily (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) noon = g_date_time_new_utc (2026, 3, 1, 12, 0, 0);
  gint64 start = g_date_time_to_unix (noon) * G_USEC_PER_SEC;
  gint64 kept[3];

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "daily", BACKUP_STORE_MAX_VERSIONS);
  backup_storage_set_retention (BACKUP_STORAGE (store), &(BackupRetention){ .daily = 3 });
  /* Four days, two versions a day: the later of each of the last three stays. */
  for (guint day = 0; day < 4; day++)
    for (guint hour = 0; hour < 2; hour++)
      {
        fake_now = start + day * 24 * HOUR + hour * HOUR;
        commit_version (store, "db", day * 2 + hour + 1);
        if (day >= 1 && hour == 1)
          kept[day - 1] = fake_now;
      }
  keys = list_keys (client, store);
  g_assert_cmpuint (keys->len, ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *key = backup_s3_store_version_key (store, "db", kept[i], "sender");
      gboolean found = FALSE;

      for (guint k = 0; k < keys->len; k++)
        found |= g_strcmp0 (((BackupS3ObjectInfo *)g_ptr_array_index (keys, k))->key, key) == 0;
      g_assert_true (found);
    }
  for (guint k = 0; k < keys->len; k++)
    g_assert_true (backup_s3_client_delete_object (
        client, bucket, ((BackupS3ObjectInfo *)g_ptr_array_index (keys, k))->key, NULL, &error));
}

/* A device's prefix inside the store, and what its versions take. */
static void
test_child_measure (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (BackupStorage) child = NULL;
  g_autoptr (BackupStorageWriter) writer = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = random_bytes (3000, 7);
  g_autofree char *prefix = NULL;
  guint64 used = 1;

  if (!have_lab ())
    return;
  client = lab_client ();
  store = lab_store (client, "child", 2);
  g_assert_null (backup_storage_open_child (BACKUP_STORAGE (store), "a/b", 0, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_clear_error (&error);
  child = backup_storage_open_child (BACKUP_STORAGE (store), "laptop", 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backup_storage_get_versions (child), ==, 5);
  prefix = g_strdup_printf ("%slaptop/", backup_s3_store_get_prefix (store));
  g_assert_cmpstr (backup_s3_store_get_prefix (BACKUP_S3_STORE (child)), ==, prefix);

  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (used, ==, 0);
  commit_version (BACKUP_S3_STORE (child), "a", 1);
  commit_version (BACKUP_S3_STORE (child), "b", 2);
  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_cmpuint (used, ==, 101 + 102);
  /* An upload under way is not counted. */
  writer = backup_storage_begin (child, "c", 1, &error);
  g_assert_no_error (error);
  write_all (writer, data);
  g_assert_true (backup_storage_measure (child, &used, NULL, &error));
  g_assert_cmpuint (used, ==, 101 + 102);
  backup_storage_writer_abort (writer);
  /* The store above sees its device's versions too. */
  g_assert_true (backup_storage_measure (BACKUP_STORAGE (store), &used, NULL, &error));
  g_assert_cmpuint (used, ==, 101 + 102);

  keys = list_keys (client, BACKUP_S3_STORE (child));
  for (guint k = 0; k < keys->len; k++)
    g_assert_true (backup_s3_client_delete_object (
        client, bucket, ((BackupS3ObjectInfo *)g_ptr_array_index (keys, k))->key, NULL, &error));
}

int
main (int argc, char **argv)
{
  g_autoptr (BackupS3Client) client = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/s3/store/new-destroy", test_new_destroy);
  g_test_add_func ("/s3/store/names", test_names);
  g_test_add_func ("/s3/store/folder-store", test_folder_store);
  g_test_add_func ("/s3/store/round-trip", test_round_trip);
  g_test_add_func ("/s3/store/abort", test_abort);
  g_test_add_func ("/s3/store/hash-mismatch", test_hash_mismatch);
  g_test_add_func ("/s3/store/versions", test_versions);
  g_test_add_func ("/s3/store/stale-sweep", test_stale_sweep);
  g_test_add_func ("/s3/store/daily", test_daily);
  g_test_add_func ("/s3/store/child-measure", test_child_measure);

  if (g_getenv ("S3_LAB_ENDPOINT") != NULL)
    {
      g_autoptr (GError) error = NULL;

      client = lab_client ();
      bucket = g_strdup_printf ("test-s3-store-%08x", g_random_int ());
      if (!backup_s3_client_create_bucket (client, bucket, NULL, &error))
        g_error ("cannot create the test bucket: %s", error->message);
    }

  status = g_test_run ();

  if (client != NULL)
    {
      g_autoptr (GPtrArray) left
          = backup_s3_client_list_all_objects (client, bucket, NULL, NULL, NULL);

      if (left != NULL && left->len == 0)
        backup_s3_client_delete_bucket (client, bucket, NULL, NULL);
    }
  g_free (bucket);
  return status;
}
