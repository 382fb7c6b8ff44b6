/* test-runner.c: BackupProfile checks and builds what a run needs, and
 * BackupRunner runs it: one backup, or one after another with a receiver
 * that keeps listening, over real ICE/DTLS/SCTP on 127.0.0.1 and a
 * directory signaling store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#include "backup-error.h"
#include "backup-profile.h"
#include "backup-runner.h"

static const char *const loopback[] = { "127.0.0.1", NULL };

typedef struct
{
  char *root;
  char *signaling;
  char *dest;
  char *source;
  GMainLoop *loop;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("test-runner-XXXXXX", &error);
  g_assert_no_error (error);
  f->signaling = g_build_filename (f->root, "signaling", NULL);
  f->dest = g_build_filename (f->root, "dest", NULL);
  f->source = g_build_filename (f->root, "data.bin", NULL);
  g_assert_cmpint (g_mkdir (f->signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (f->dest, 0700), ==, 0);
  f->loop = g_main_loop_new (NULL, FALSE);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_remove (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  remove_tree (f->root);
  g_clear_pointer (&f->loop, g_main_loop_unref);
  g_free (f->root);
  g_free (f->signaling);
  g_free (f->dest);
  g_free (f->source);
}

static BackupProfile *
make_profile (Fixture *f, BackupProfileRole role, const char *session_id)
{
  BackupProfile *profile = backup_profile_new (role);

  backup_profile_set_session_id (profile, session_id);
  backup_profile_set_signaling (profile, f->signaling);
  backup_profile_set_ice_addresses (profile, loopback);
  backup_profile_set_timeout (profile, 30);
  if (role == BACKUP_PROFILE_ROLE_SEND)
    {
      g_autoptr (GFile) source = g_file_new_for_path (f->source);

      backup_profile_set_source (profile, source);
    }
  else
    {
      g_autoptr (GFile) dest = g_file_new_for_path (f->dest);

      backup_profile_set_destination (profile, dest);
    }
  return profile;
}

static void
write_source (Fixture *f, gsize size, guint8 seed)
{
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 31 + seed);
  g_file_set_contents (f->source, (const char *) data, (gssize) size, &error);
  g_assert_no_error (error);
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *x = NULL;
  g_autofree char *y = NULL;
  gsize xl = 0, yl = 0;

  g_assert_true (g_file_get_contents (a, &x, &xl, NULL));
  g_assert_true (g_file_get_contents (b, &y, &yl, NULL));
  g_assert_cmpmem (x, xl, y, yl);
}

/* --- the profile ---------------------------------------------------------- */

static void
test_profile_validate (Fixture *f, gconstpointer data)
{
  static const char *const bad_turn[] = { "turn:nobody@127.0.0.1", NULL };
  static const char *const bad_stun[] = { "127.0.0.1:99999", NULL };
  static const char *const bad_address[] = { "localhost", NULL };
  g_autoptr (BackupProfile) sender = make_profile (f, BACKUP_PROFILE_ROLE_SEND, "s-1");
  g_autoptr (BackupProfile) receiver = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "s-1");
  g_autoptr (BackupProfile) empty = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
  GError *error = NULL;

  g_assert_true (backup_profile_validate (sender, &error));
  g_assert_no_error (error);
  g_assert_true (backup_profile_validate (receiver, &error));
  g_assert_no_error (error);

  /* Each check fails with the one error of the core layer for bad input. */
  g_assert_false (backup_profile_validate (empty, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  backup_profile_set_session_id (sender, ".hidden");
  g_assert_false (backup_profile_validate (sender, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  backup_profile_set_session_id (sender, "s-1");

  backup_profile_set_turn_servers (sender, bad_turn);
  g_assert_false (backup_profile_validate (sender, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  backup_profile_set_turn_servers (sender, NULL);

  backup_profile_set_stun_servers (sender, bad_stun);
  g_assert_false (backup_profile_validate (sender, &error));
  g_clear_error (&error);
  backup_profile_set_stun_servers (sender, NULL);

  backup_profile_set_ice_addresses (sender, bad_address);
  g_assert_false (backup_profile_validate (sender, &error));
  g_clear_error (&error);
  backup_profile_set_ice_addresses (sender, loopback);

  backup_profile_set_relay_only (sender, TRUE);
  g_assert_false (backup_profile_validate (sender, &error));
  g_clear_error (&error);
  backup_profile_set_relay_only (sender, FALSE);

  backup_profile_set_signaling (sender, "ftp://example.invalid/");
  g_assert_false (backup_profile_validate (sender, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  backup_profile_set_signaling (sender, f->signaling);

  backup_profile_set_archive_name (sender, "../escape.zip");
  g_assert_false (backup_profile_validate (sender, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  backup_profile_set_versions (receiver, 0);
  g_assert_false (backup_profile_validate (receiver, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  backup_profile_set_destination (receiver, NULL);
  backup_profile_set_versions (receiver, 3);
  g_assert_false (backup_profile_validate (receiver, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_finalize_object (g_steal_pointer (&sender));
}

static void
test_profile_builds (Fixture *f, gconstpointer data)
{
  static const char *const stun[] = { "127.0.0.1:3478", NULL };
  g_autoptr (BackupProfile) receiver = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "s-2");
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (BackupSession) session = NULL;
  g_autoptr (GError) error = NULL;

  backup_profile_set_stun_servers (receiver, stun);
  backup_profile_set_timeout (receiver, 45);
  rtc = backup_profile_get_rtc_configuration (receiver);
  g_assert_cmpstr (rtc->stun_servers[0], ==, "127.0.0.1:3478");
  g_assert_cmpstr (rtc->local_addresses[0], ==, "127.0.0.1");
  g_assert_null (rtc->turn_servers);
  /* The connection deadline is the timeout. */
  g_assert_cmpuint (rtc->ice_timeout_ms, ==, 45000);
  g_clear_pointer (&rtc, rtc_configuration_free);
  backup_profile_set_timeout (receiver, 0);
  rtc = backup_profile_get_rtc_configuration (receiver);
  g_assert_cmpuint (rtc->ice_timeout_ms, ==, 120000);

  signaling = backup_profile_open_signaling (receiver, &error);
  g_assert_no_error (error);
  session = backup_profile_create_session (receiver, signaling);
  g_assert_true (BACKUP_IS_SESSION (session));
  g_assert_cmpint (backup_session_get_state (session), ==, BACKUP_SESSION_STATE_IDLE);
  g_assert_finalize_object (g_steal_pointer (&session));
  g_assert_finalize_object (g_steal_pointer (&receiver));
}

static void
test_profile_key_file (Fixture *f, gconstpointer data)
{
  static const char *const turn[] = { "turn:u:p@127.0.0.1:3478?transport=tcp", NULL };
  g_autoptr (BackupProfile) sender = make_profile (f, BACKUP_PROFILE_ROLE_SEND, "kf-1");
  g_autoptr (BackupProfile) receiver = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "kf-1");
  g_autoptr (BackupProfile) loaded = NULL;
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (GFile) source = g_file_new_for_path (f->source);
  g_autofree char *text = NULL;
  GError *error = NULL;

  backup_profile_set_api_key (sender, "secret-api-key");
  backup_profile_set_passwords (sender, "secret-one", "secret-two");
  backup_profile_set_archive_name (sender, "docs.zip");
  backup_profile_set_zip_encryption (sender, BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);
  backup_profile_set_turn_servers (sender, turn);
  backup_profile_set_timeout (sender, 77);
  backup_profile_set_versions (receiver, 9);
  backup_profile_set_keep_listening (receiver, TRUE);
  backup_profile_save (sender, key_file, "laptop");
  backup_profile_save (receiver, key_file, "server");
  text = g_key_file_to_data (key_file, NULL, NULL);

  /* No secret is written. */
  g_assert_null (strstr (text, "secret"));

  loaded = backup_profile_load (key_file, "laptop", &error);
  g_assert_no_error (error);
  g_assert_cmpint (backup_profile_get_role (loaded), ==, BACKUP_PROFILE_ROLE_SEND);
  g_assert_cmpstr (backup_profile_get_session_id (loaded), ==, "kf-1");
  g_assert_cmpstr (backup_profile_get_signaling (loaded), ==, f->signaling);
  g_assert_cmpstr (backup_profile_get_archive_name (loaded), ==, "docs.zip");
  g_assert_cmpuint (backup_profile_get_timeout (loaded), ==, 77);
  g_assert_true (g_file_equal (backup_profile_get_source (loaded), source));
  rtc = backup_profile_get_rtc_configuration (loaded);
  g_assert_cmpstr (rtc->turn_servers[0], ==, turn[0]);
  g_assert_cmpstr (rtc->local_addresses[0], ==, "127.0.0.1");
  g_assert_true (backup_profile_validate (loaded, &error));
  g_assert_no_error (error);
  g_clear_object (&loaded);

  loaded = backup_profile_load (key_file, "server", &error);
  g_assert_no_error (error);
  g_assert_cmpint (backup_profile_get_role (loaded), ==, BACKUP_PROFILE_ROLE_RECEIVE);
  g_assert_cmpuint (backup_profile_get_versions (loaded), ==, 9);
  g_assert_true (backup_profile_get_keep_listening (loaded));
  g_clear_object (&loaded);

  /* Bad values are refused with the core layer's error for bad input. */
  g_key_file_set_string (key_file, "server", "versions", "seventy");
  g_assert_null (backup_profile_load (key_file, "server", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_key_file_set_string (key_file, "laptop", "zip-encryption", "rot13");
  g_assert_null (backup_profile_load (key_file, "laptop", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_key_file_set_string (key_file, "laptop", "role", "both");
  g_assert_null (backup_profile_load (key_file, "laptop", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (backup_profile_load (key_file, "missing", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

/* --- the runner ----------------------------------------------------------- */

typedef struct
{
  Fixture *f;
  guint pending;
  guint started, finished, succeeded;
  GError *error;
  gboolean ok;
  GCancellable *cancel_after_two;
  const char *plant_on_first_start; /* a file made, 2 days old, when the first session starts */
} Watch;

static void
started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  Watch *w = user_data;

  g_assert_true (backup_runner_get_session (runner) == session);
  w->started++;
  if (w->started == 1 && w->plant_on_first_start != NULL)
    {
      struct utimbuf old = { 0, 0 };

      g_assert_true (g_file_set_contents (w->plant_on_first_start, "kept", -1, NULL));
      old.actime = old.modtime = time (NULL) - 2 * 24 * 3600;
      g_assert_cmpint (g_utime (w->plant_on_first_start, &old), ==, 0);
    }
}

static void
finished_cb (BackupRunner *runner, BackupSession *session, const GError *error, gpointer data)
{
  Watch *w = data;

  w->finished++;
  if (error == NULL)
    w->succeeded++;
  if (w->cancel_after_two != NULL && w->succeeded == 2)
    g_cancellable_cancel (w->cancel_after_two);
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Watch *w = user_data;

  w->ok = backup_runner_run_finish (BACKUP_RUNNER (object), result, &w->error);
  if (--w->pending == 0)
    g_main_loop_quit (w->f->loop);
}

static BackupRunner *
start (Watch *w, BackupProfile *profile, GCancellable *cancellable)
{
  BackupRunner *runner = backup_runner_new (profile);

  g_signal_connect (runner, "session-started", G_CALLBACK (started_cb), w);
  g_signal_connect (runner, "session-finished", G_CALLBACK (finished_cb), w);
  backup_runner_run_async (runner, cancellable, run_done_cb, w);
  return runner;
}

static void
test_runner_once (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupProfile) sp = make_profile (f, BACKUP_PROFILE_ROLE_SEND, "once");
  g_autoptr (BackupProfile) rp = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "once");
  g_autofree char *stored = g_build_filename (f->dest, "data.bin", NULL);
  g_autofree char *stale = g_build_filename (f->dest, ".data.bin.AbC123.part", NULL);
  g_autoptr (BackupRunner) sender = NULL;
  g_autoptr (BackupRunner) receiver = NULL;
  Watch ws = { f, 1 }, wr = { f, 1 };
  struct utimbuf old = { 0, 0 };

  /* A partial file of an earlier version, two days old: removed at the
   * receiver's start. */
  g_assert_true (g_file_set_contents (stale, "partial", -1, NULL));
  g_assert_cmpint (g_utime (stale, &old), ==, 0);

  write_source (f, 3 * 1024 * 1024 + 17, 1);
  receiver = start (&wr, rp, NULL);
  sender = start (&ws, sp, NULL);
  while (ws.pending + wr.pending > 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_no_error (ws.error);
  g_assert_no_error (wr.error);
  g_assert_true (ws.ok && wr.ok);
  g_assert_cmpuint (ws.started, ==, 1);
  g_assert_cmpuint (wr.finished, ==, 1);
  g_assert_null (backup_runner_get_session (receiver));
  assert_same_file (f->source, stored);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
}

static void
test_runner_keep_listening (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupProfile) rp = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "many");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *stored = g_build_filename (f->dest, "data.bin", NULL);
  g_autofree char *stored_1 = g_build_filename (f->dest, "data.bin.1", NULL);
  g_autofree char *first = g_build_filename (f->root, "first.bin", NULL);
  g_autofree char *expired = g_build_filename (f->dest,
                                               ".old.bin.0123456789abcdef0123456789abcdef"
                                               ".resume.part", NULL);
  g_autoptr (BackupRunner) receiver = NULL;
  Watch wr = { f, 1 };

  /* What a transfer interrupted two days ago kept, found while the
   * receiver listens: gone before its next session. */
  wr.plant_on_first_start = expired;
  backup_profile_set_keep_listening (rp, TRUE);
  backup_profile_set_versions (rp, 2);
  wr.cancel_after_two = cancellable;
  receiver = start (&wr, rp, cancellable);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (BackupProfile) sp = make_profile (f, BACKUP_PROFILE_ROLE_SEND, "many");
      g_autoptr (BackupRunner) sender = NULL;
      Watch ws = { f, 1 };

      write_source (f, 1024 * 1024 + i, (guint8) (i + 7));
      if (i == 0)
        {
          g_autofree char *contents = NULL;
          gsize len = 0;

          g_assert_true (g_file_get_contents (f->source, &contents, &len, NULL));
          g_assert_true (g_file_set_contents (first, contents, (gssize) len, NULL));
        }
      sender = start (&ws, sp, NULL);
      while (ws.pending > 0)
        g_main_context_iteration (NULL, TRUE);
      g_assert_no_error (ws.error);
      g_assert_true (ws.ok);
    }

  /* Cancelled after its second backup: the run ends there. */
  while (wr.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wr.ok);
  g_assert_error (wr.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (wr.succeeded, ==, 2);
  g_assert_cmpuint (wr.started, >=, 2);
  assert_same_file (f->source, stored);
  assert_same_file (first, stored_1);
  g_assert_true (g_file_test (f->dest, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (expired, G_FILE_TEST_EXISTS));
  g_clear_error (&wr.error);
}

static void
test_runner_setup_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupProfile) rp = make_profile (f, BACKUP_PROFILE_ROLE_RECEIVE, "broken");
  g_autoptr (BackupRunner) receiver = NULL;
  Watch wr = { f, 1 };

  /* Invalid before anything starts: no session at all. */
  backup_profile_set_signaling (rp, "ftp://example.invalid/");
  backup_profile_set_keep_listening (rp, TRUE);
  receiver = start (&wr, rp, NULL);
  while (wr.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wr.ok);
  g_assert_error (wr.error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (wr.started, ==, 0);
  g_clear_error (&wr.error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/runner/profile/validate", Fixture, NULL, fixture_set_up, test_profile_validate,
              fixture_tear_down);
  g_test_add ("/runner/profile/builds", Fixture, NULL, fixture_set_up, test_profile_builds,
              fixture_tear_down);
  g_test_add ("/runner/profile/key-file", Fixture, NULL, fixture_set_up, test_profile_key_file,
              fixture_tear_down);
  g_test_add ("/runner/once", Fixture, NULL, fixture_set_up, test_runner_once,
              fixture_tear_down);
  g_test_add ("/runner/keep-listening", Fixture, NULL, fixture_set_up, test_runner_keep_listening,
              fixture_tear_down);
  g_test_add ("/runner/setup-failure", Fixture, NULL, fixture_set_up, test_runner_setup_failure,
              fixture_tear_down);
  return g_test_run ();
}
