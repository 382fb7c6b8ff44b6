/* test-pairing-object.c: BackupPairing in one process, two instances over a
 * directory store in a temporary folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "signaling/backup-directory-store.h"
#include "signaling/backup-pairing.h"
#include "signaling/backup-signaling-error.h"
#include "signaling-test-util.h"

typedef struct
{
  BackupSignalingStore *store;
  BackupPairing *pairing;
  GAsyncResult *start_result;
  GAsyncResult *close_result;
  BackupPairingRole role;
  char *remote_type;
  char *remote_sdp;
  GPtrArray *candidates;
  GError *failure;
} Side;

static void
on_remote_description (BackupPairing *pairing, const char *type, const char *sdp, Side *side)
{
  g_assert_null (side->remote_type);
  side->remote_type = g_strdup (type);
  side->remote_sdp = g_strdup (sdp);
  if (g_str_equal (type, "offer"))
    {
      g_autoptr (JsonObject) ext = json_object_new ();

      json_object_set_boolean_member (ext, "answered", TRUE);
      backup_pairing_send_description (pairing, "answer", "v=0\r\ns=answer\r\n", ext);
      backup_pairing_send_candidate (pairing, "a=candidate:9 1 udp 1 127.0.0.1 9 typ host\r\n");
    }
}

static void
on_remote_candidate (BackupPairing *pairing, const char *candidate, Side *side)
{
  /* never before the description */
  g_assert_nonnull (side->remote_type);
  g_ptr_array_add (side->candidates, g_strdup (candidate));
}

static void
on_failed (BackupPairing *pairing, const GError *error, Side *side)
{
  side->failure = g_error_copy (error);
}

static void
side_init (Side *side, const char *dir, const char *session)
{
  g_autoptr (GError) error = NULL;

  memset (side, 0, sizeof *side);
  side->store = BACKUP_SIGNALING_STORE (backup_directory_store_new (dir, &error));
  g_assert_no_error (error);
  side->pairing = backup_pairing_new (side->store, session);
  side->candidates = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (side->pairing, "remote-description", G_CALLBACK (on_remote_description), side);
  g_signal_connect (side->pairing, "remote-candidate", G_CALLBACK (on_remote_candidate), side);
  g_signal_connect (side->pairing, "failed", G_CALLBACK (on_failed), side);
}

static void
side_close_and_free (Side *side)
{
  g_autoptr (GError) error = NULL;

  backup_pairing_close_async (side->pairing, NULL, test_store_result_cb, &side->close_result);
  g_assert_true (backup_pairing_close_finish (side->pairing, test_wait_result (&side->close_result), &error));
  g_assert_no_error (error);

  g_clear_object (&side->start_result);
  g_clear_object (&side->close_result);
  test_wait_last_ref (side->pairing);
  g_assert_finalize_object (side->pairing);
  test_wait_last_ref (side->store);
  g_assert_finalize_object (side->store);
  g_free (side->remote_type);
  g_free (side->remote_sdp);
  g_ptr_array_unref (side->candidates);
  g_clear_error (&side->failure);
}

static void
test_new_destroy (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GError) error = NULL;
  BackupSignalingStore *store = BACKUP_SIGNALING_STORE (backup_directory_store_new (dir, &error));
  BackupPairing *pairing;
  g_autofree char *session = NULL;
  guint timeout = 0;

  g_assert_no_error (error);
  pairing = backup_pairing_new (store, "S1");
  g_assert_cmpstr (backup_pairing_get_session_id (pairing), ==, "S1");
  g_assert_true (g_uuid_string_is_valid (backup_pairing_get_instance_id (pairing)));
  g_assert_cmpint (backup_pairing_get_role (pairing), ==, BACKUP_PAIRING_ROLE_NONE);
  g_assert_cmpuint (backup_pairing_get_timeout (pairing), ==, BACKUP_PAIRING_DEFAULT_TIMEOUT);
  g_assert_null (backup_pairing_get_remote_instance_id (pairing));
  g_assert_null (backup_pairing_get_remote_extensions (pairing));
  g_assert_true (backup_pairing_get_store (pairing) == store);
  backup_pairing_set_timeout (pairing, 7);
  g_object_get (pairing, "session-id", &session, "timeout", &timeout, NULL);
  g_assert_cmpstr (session, ==, "S1");
  g_assert_cmpuint (timeout, ==, 7);

  g_assert_finalize_object (pairing);
  g_assert_finalize_object (store);
  test_remove_tree (dir);
}

static void
test_pair (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autofree char *session = g_uuid_string_random ();
  g_autoptr (GError) error = NULL;
  Side a, b;
  Side *offerer, *answerer;
  JsonObject *ext;

  side_init (&a, dir, session);
  side_init (&b, dir, session);

  backup_pairing_start_async (a.pairing, NULL, test_store_result_cb, &a.start_result);
  /* a waits with its ping before b comes */
  while (test_count_dir_entries (dir, FALSE) == 0)
    g_main_context_iteration (NULL, TRUE);
  backup_pairing_start_async (b.pairing, NULL, test_store_result_cb, &b.start_result);

  b.role = backup_pairing_start_finish (b.pairing, test_wait_result (&b.start_result), &error);
  g_assert_no_error (error);
  a.role = backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (a.role, ==, BACKUP_PAIRING_ROLE_ANSWERER);
  g_assert_cmpint (b.role, ==, BACKUP_PAIRING_ROLE_OFFERER);
  g_assert_cmpint (backup_pairing_get_role (a.pairing), ==, BACKUP_PAIRING_ROLE_ANSWERER);
  g_assert_cmpstr (backup_pairing_get_remote_instance_id (b.pairing), ==,
                   backup_pairing_get_instance_id (a.pairing));
  offerer = &b;
  answerer = &a;

  /* candidates sent before the description still come after it */
  backup_pairing_send_description (offerer->pairing, "offer", "v=0\r\ns=offer\r\n", NULL);

  /* between two peers of ours, files are addressed to the partner (the
   * upload runs in a worker thread: look before the main loop runs again) */
  {
    g_autofree char *addressed = g_strdup_printf ("%s_sdp_%s-for-%s.json", session,
                                                  backup_pairing_get_instance_id (offerer->pairing),
                                                  backup_pairing_get_instance_id (answerer->pairing));
    g_autofree char *path = g_build_filename (dir, addressed, NULL);
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (!g_file_test (path, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
      g_usleep (1000);
    g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  backup_pairing_send_candidate (offerer->pairing, "candidate:1 1 udp 1 127.0.0.1 1 typ host");
  backup_pairing_send_candidate (offerer->pairing, "candidate:2 1 udp 1 127.0.0.1 2 typ host");

  while (offerer->candidates->len < 1 || answerer->candidates->len < 2)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (answerer->remote_type, ==, "offer");
  g_assert_cmpstr (answerer->remote_sdp, ==, "v=0\r\ns=offer\r\n");
  g_assert_cmpstr (g_ptr_array_index (answerer->candidates, 0), ==, "candidate:1 1 udp 1 127.0.0.1 1 typ host");
  g_assert_cmpstr (g_ptr_array_index (answerer->candidates, 1), ==, "candidate:2 1 udp 1 127.0.0.1 2 typ host");
  g_assert_cmpstr (backup_pairing_get_remote_instance_id (answerer->pairing), ==,
                   backup_pairing_get_instance_id (offerer->pairing));
  g_assert_cmpstr (offerer->remote_type, ==, "answer");
  g_assert_cmpstr (offerer->remote_sdp, ==, "v=0\r\ns=answer\r\n");
  g_assert_cmpstr (g_ptr_array_index (offerer->candidates, 0), ==, "candidate:9 1 udp 1 127.0.0.1 9 typ host");
  ext = backup_pairing_get_remote_extensions (offerer->pairing);
  g_assert_nonnull (ext);
  g_assert_true (json_object_get_boolean_member (ext, "answered"));
  g_assert_cmpuint (json_object_get_size (backup_pairing_get_remote_extensions (answerer->pairing)), ==, 0);
  g_assert_null (a.failure);
  g_assert_null (b.failure);

  side_close_and_free (&a);
  side_close_and_free (&b);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

static void
test_timeout (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GError) error = NULL;
  Side a;

  side_init (&a, dir, "lonely");
  backup_pairing_set_timeout (a.pairing, 1);
  backup_pairing_start_async (a.pairing, NULL, test_store_result_cb, &a.start_result);
  a.role = backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error);
  g_assert_cmpint (a.role, ==, BACKUP_PAIRING_ROLE_NONE);
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "No peer showed up for session lonely within 1 s");
  /* our ping is still there until we close */
  g_assert_cmpuint (test_count_dir_entries (dir, FALSE), ==, 1);

  side_close_and_free (&a);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

static void
test_close_while_waiting (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GError) error = NULL;
  Side a;

  side_init (&a, dir, "waiting");
  backup_pairing_start_async (a.pairing, NULL, test_store_result_cb, &a.start_result);
  while (test_count_dir_entries (dir, FALSE) == 0)
    g_main_context_iteration (NULL, TRUE);

  backup_pairing_close_async (a.pairing, NULL, test_store_result_cb, &a.close_result);
  g_assert_cmpint (backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error),
                   ==, BACKUP_PAIRING_ROLE_NONE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (backup_pairing_close_finish (a.pairing, test_wait_result (&a.close_result), &error));
  g_assert_no_error (error);
  g_clear_object (&a.close_result);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);

  side_close_and_free (&a);
  test_remove_tree (dir);
}

static void
test_cancel_start (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  Side a;

  side_init (&a, dir, "cancelled");
  backup_pairing_start_async (a.pairing, cancellable, test_store_result_cb, &a.start_result);
  while (test_count_dir_entries (dir, FALSE) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error),
                   ==, BACKUP_PAIRING_ROLE_NONE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  side_close_and_free (&a);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

static void
test_no_description (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  g_autoptr (GError) error = NULL;
  Side a, b;

  side_init (&a, dir, "silent");
  side_init (&b, dir, "silent");
  backup_pairing_set_timeout (a.pairing, 2);
  backup_pairing_start_async (a.pairing, NULL, test_store_result_cb, &a.start_result);
  while (test_count_dir_entries (dir, FALSE) == 0)
    g_main_context_iteration (NULL, TRUE);
  backup_pairing_start_async (b.pairing, NULL, test_store_result_cb, &b.start_result);
  g_assert_cmpint (backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error),
                   ==, BACKUP_PAIRING_ROLE_ANSWERER);
  g_assert_no_error (error);

  /* the offerer never sends its description: the answerer gives up */
  while (a.failure == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (a.failure, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_TIMEOUT);
  g_assert_cmpstr (a.failure->message, ==, "The peer of session silent sent no session description within 2 s");
  g_assert_null (a.remote_type);

  side_close_and_free (&a);
  side_close_and_free (&b);
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

static void
test_bad_session (void)
{
  g_autofree char *dir = test_make_temp_dir ();
  const char *bad[] = { "../etc", "a b", "x/y", ".hidden", "" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      Side a;

      if (*bad[i] == '\0')
        continue; /* refused by backup_pairing_new itself */
      side_init (&a, dir, bad[i]);
      backup_pairing_start_async (a.pairing, NULL, test_store_result_cb, &a.start_result);
      g_assert_cmpint (backup_pairing_start_finish (a.pairing, test_wait_result (&a.start_result), &error),
                       ==, BACKUP_PAIRING_ROLE_NONE);
      g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "cannot be a session id"));
      side_close_and_free (&a);
    }
  g_assert_cmpuint (test_count_dir_entries (dir, TRUE), ==, 0);
  test_remove_tree (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signaling/pairing/new-destroy", test_new_destroy);
  g_test_add_func ("/signaling/pairing/pair", test_pair);
  g_test_add_func ("/signaling/pairing/timeout", test_timeout);
  g_test_add_func ("/signaling/pairing/close-while-waiting", test_close_while_waiting);
  g_test_add_func ("/signaling/pairing/cancel-start", test_cancel_start);
  g_test_add_func ("/signaling/pairing/no-description", test_no_description);
  g_test_add_func ("/signaling/pairing/bad-session", test_bad_session);

  return g_test_run ();
}
