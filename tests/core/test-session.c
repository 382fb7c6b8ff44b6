/* test-session.c: whole backups between two sessions in one process, over
 * real ICE/DTLS/SCTP on 127.0.0.1 and a directory signaling store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "backup-directory-store.h"
#include "backup-error.h"
#include "backup-session.h"
#include "backup-signaling-open.h"
#include "backup-store.h"

typedef struct
{
  char *root;
  char *signaling_dir;
  char *dest;
  BackupSignalingStore *signaling;
  RtcConfiguration *rtc;
  GMainLoop *loop;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("test-session-XXXXXX", &error);
  g_assert_no_error (error);
  f->signaling_dir = g_build_filename (f->root, "signaling", NULL);
  f->dest = g_build_filename (f->root, "dest", NULL);
  g_assert_cmpint (g_mkdir (f->signaling_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (f->dest, 0700), ==, 0);
  f->signaling = backup_signaling_open (f->signaling_dir, NULL, NULL, &error);
  g_assert_no_error (error);
  f->rtc = rtc_configuration_new ();
  f->rtc->local_addresses = g_strsplit ("127.0.0.1", ",", -1);
  f->rtc->ice_timeout_ms = 10000;
  f->loop = g_main_loop_new (NULL, FALSE);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->signaling);
  g_clear_pointer (&f->rtc, rtc_configuration_free);
  g_clear_pointer (&f->loop, g_main_loop_unref);
  remove_tree (f->root);
  g_free (f->root);
  g_free (f->signaling_dir);
  g_free (f->dest);
}

typedef struct
{
  Fixture *f;
  guint pending;
  gboolean sender_ok, receiver_ok;
  GError *sender_error, *receiver_error;
  GCancellable *cancel_sender;
  guint64 cancel_after;
} Pair;

static void
done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Pair *pair = user_data;
  BackupSession *session = BACKUP_SESSION (object);
  gboolean is_sender = g_object_get_data (object, "sender") != NULL;
  GError *error = NULL;
  gboolean ok = backup_session_run_finish (session, result, &error);

  if (is_sender)
    {
      pair->sender_ok = ok;
      pair->sender_error = error;
    }
  else
    {
      pair->receiver_ok = ok;
      pair->receiver_error = error;
    }
  if (--pair->pending == 0)
    g_main_loop_quit (pair->f->loop);
}

static void
progress_cb (BackupSession *session, guint64 done, gint64 total, gpointer user_data)
{
  Pair *pair = user_data;

  if (pair->cancel_sender != NULL && done >= pair->cancel_after)
    g_cancellable_cancel (pair->cancel_sender);
}

static void
run_pair (Fixture *f, BackupSession *sender, BackupSession *receiver, Pair *pair,
          gboolean receiver_first)
{
  pair->f = f;
  pair->pending = 2;
  g_object_set_data (G_OBJECT (sender), "sender", GINT_TO_POINTER (1));
  g_signal_connect (sender, "progress", G_CALLBACK (progress_cb), pair);

  if (receiver_first)
    {
      backup_session_run_async (receiver, NULL, done_cb, pair);
      backup_session_run_async (sender, pair->cancel_sender, done_cb, pair);
    }
  else
    {
      backup_session_run_async (sender, pair->cancel_sender, done_cb, pair);
      backup_session_run_async (receiver, NULL, done_cb, pair);
    }
  g_main_loop_run (f->loop);
}

static char *
write_random_file (Fixture *f, const char *name, gsize size)
{
  g_autofree guint8 *data = g_malloc (size);
  char *path = g_build_filename (f->root, name, NULL);
  g_autoptr (GError) error = NULL;

  gnutls_rnd (GNUTLS_RND_NONCE, data, size);
  g_file_set_contents (path, (const char *) data, (gssize) size, &error);
  g_assert_no_error (error);
  return path;
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize la, lb;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  g_assert_cmpmem (da, la, db, lb);
}

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
send_file (Fixture *f, const char *path, guint versions, gboolean receiver_first, Pair *pair)
{
  g_autoptr (GFile) source = g_file_new_for_path (path);
  g_autoptr (GFile) dest = g_file_new_for_path (f->dest);
  g_autoptr (BackupStore) store = backup_store_new (dest, versions);
  g_autoptr (BackupSession) sender = NULL;
  g_autoptr (BackupSession) receiver = NULL;
  g_autofree char *id = g_uuid_string_random ();

  sender = backup_session_new_sender (f->signaling, id, f->rtc, source, NULL, NULL, NULL,
                                      BACKUP_ZIP_ENCRYPTION_AES256);
  receiver = backup_session_new_receiver (f->signaling, id, f->rtc, store);
  backup_session_set_timeout (sender, 30);
  backup_session_set_timeout (receiver, 30);
  run_pair (f, sender, receiver, pair, receiver_first);
  g_assert_cmpint (backup_session_get_state (sender), ==,
                   pair->sender_ok ? BACKUP_SESSION_STATE_DONE : BACKUP_SESSION_STATE_FAILED);
}

static void
test_file_both_orders (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_random_file (f, "notes.bin", 3 * 1024 * 1024 + 17);
  g_autofree char *stored = g_build_filename (f->dest, "notes.bin", NULL);

  for (int order = 0; order < 2; order++)
    {
      Pair pair = { 0 };

      send_file (f, path, 1, order == 0, &pair);
      g_assert_no_error (pair.sender_error);
      g_assert_no_error (pair.receiver_error);
      g_assert_true (pair.sender_ok && pair.receiver_ok);
      assert_same_file (path, stored);
      /* versions = 1: only the newest; the signaling folder is left empty. */
      g_assert_cmpuint (count_entries (f->dest), ==, 1);
      g_assert_cmpuint (count_entries (f->signaling_dir), ==, 0);
    }
}

static void
test_empty_file (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_random_file (f, "empty", 0);
  g_autofree char *stored = g_build_filename (f->dest, "empty", NULL);
  Pair pair = { 0 };

  send_file (f, path, 1, TRUE, &pair);
  g_assert_no_error (pair.sender_error);
  g_assert_no_error (pair.receiver_error);
  assert_same_file (path, stored);
}

static void
test_versions_and_cancel (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->root, "disk.img", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "disk.img", NULL);
  g_autofree char *stored1 = g_build_filename (f->dest, "disk.img.1", NULL);
  g_autofree char *v1 = NULL, *v2 = NULL;
  gsize l1, l2;

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *tmp = write_random_file (f, "disk.img", 2 * 1024 * 1024);
      Pair pair = { 0 };

      send_file (f, path, 2, TRUE, &pair);
      g_assert_no_error (pair.sender_error);
      g_assert_no_error (pair.receiver_error);
    }
  g_assert_true (g_file_get_contents (stored, &v2, &l2, NULL));
  g_assert_true (g_file_get_contents (stored1, &v1, &l1, NULL));
  g_assert_cmpuint (count_entries (f->dest), ==, 2);

  /* A third backup cancelled half-way changes no version. */
  {
    g_autofree char *tmp = write_random_file (f, "disk.img", 64 * 1024 * 1024);
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autofree char *now2 = NULL, *now1 = NULL;
    gsize n2, n1;
    Pair pair = { 0 };

    pair.cancel_sender = cancellable;
    pair.cancel_after = 2 * 1024 * 1024;
    send_file (f, path, 2, TRUE, &pair);
    g_assert_false (pair.sender_ok);
    g_assert_error (pair.sender_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_false (pair.receiver_ok);
    g_assert_nonnull (pair.receiver_error);
    g_clear_error (&pair.sender_error);
    g_clear_error (&pair.receiver_error);

    g_assert_true (g_file_get_contents (stored, &now2, &n2, NULL));
    g_assert_true (g_file_get_contents (stored1, &now1, &n1, NULL));
    g_assert_cmpmem (now2, n2, v2, l2);
    g_assert_cmpmem (now1, n1, v1, l1);
    /* The versions, and what arrived, hidden, for the backup to resume. */
    g_assert_cmpuint (count_entries (f->dest), ==, 3);
    {
      g_autoptr (GDir) dir = g_dir_open (f->dest, 0, NULL);
      const char *name;
      guint kept = 0;

      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_prefix (name, ".disk.img.") && g_str_has_suffix (name, ".resume.part"))
          kept++;
      g_assert_cmpuint (kept, ==, 1);
    }
    g_assert_cmpuint (count_entries (f->signaling_dir), ==, 0);
  }
}

static void
test_zipped_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *folder = g_build_filename (f->root, "Documents", NULL);
  g_autofree char *sub = g_build_filename (folder, "sub", NULL);
  g_autofree char *file = g_build_filename (sub, "a.txt", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "docs.zip", NULL);
  g_autoptr (GFile) source = g_file_new_for_path (folder);
  g_autoptr (GFile) dest = g_file_new_for_path (f->dest);
  g_autoptr (BackupStore) store = backup_store_new (dest, 1);
  g_autoptr (BackupSession) sender = NULL;
  g_autoptr (BackupSession) receiver = NULL;
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *argv_out = NULL;
  g_autoptr (GError) error = NULL;
  Pair pair = { 0 };
  int status;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  g_file_set_contents (file, "hello backup\n", -1, &error);
  g_assert_no_error (error);

  sender = backup_session_new_sender (f->signaling, id, f->rtc, source, "docs.zip", "qwerty",
                                      "asdfgh", BACKUP_ZIP_ENCRYPTION_AES256);
  receiver = backup_session_new_receiver (f->signaling, id, f->rtc, store);
  run_pair (f, sender, receiver, &pair, FALSE);
  g_assert_no_error (pair.sender_error);
  g_assert_no_error (pair.receiver_error);
  g_assert_true (g_file_test (stored, G_FILE_TEST_IS_REGULAR));

  /* The outer level opens with password 2 and holds the inner archive. */
  {
    const char *argv[] = { "7zz", "l", "-pasdfgh", stored, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, &argv_out, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (argv_out, "Documents.zip"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/session/file-both-orders", Fixture, NULL, fixture_set_up, test_file_both_orders,
              fixture_tear_down);
  g_test_add ("/session/empty-file", Fixture, NULL, fixture_set_up, test_empty_file,
              fixture_tear_down);
  g_test_add ("/session/versions-and-cancel", Fixture, NULL, fixture_set_up,
              test_versions_and_cancel, fixture_tear_down);
  g_test_add ("/session/zipped-folder", Fixture, NULL, fixture_set_up, test_zipped_folder,
              fixture_tear_down);

  return g_test_run ();
}
