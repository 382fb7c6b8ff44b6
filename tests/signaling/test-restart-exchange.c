/* test-restart-exchange.c: two BackupRestartExchange over one signaling
 * folder, as the two sides of a session whose path broke
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "signaling/backup-directory-store.h"
#include "signaling/backup-restart-exchange.h"
#include "signaling-test-util.h"

#define SESSION "lab-1"
#define ALICE "a1b2c3d4-0000-4111-8222-933344445555"
#define BOB "f0e1d2c3-0000-4111-8222-933344446666"
#define PWD "abcdefghijklmnopqrstuvwx"

typedef struct
{
  char *dir;
  BackupSignalingStore *store;
  BackupRestartExchange *alice;
  BackupRestartExchange *bob;
  GPtrArray *to_alice; /* "generation ufrag candidates…" of each message */
  GPtrArray *to_bob;
} Fixture;

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

#define WAIT_UNTIL(cond, timeout_s)                                                  \
  G_STMT_START                                                                       \
  {                                                                                  \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_s) * G_USEC_PER_SEC;       \
    guint wake_ = g_timeout_add (50, wake_cb, NULL);                                 \
    while (!(cond))                                                                  \
      {                                                                              \
        g_main_context_iteration (NULL, TRUE);                                       \
        if (g_get_monotonic_time () > deadline_)                                     \
          g_error ("timed out waiting for %s", #cond);                               \
      }                                                                              \
    g_source_remove (wake_);                                                         \
  }                                                                                  \
  G_STMT_END

static void
received_cb (BackupRestartExchange *exchange, BackupSignalingMessage *message, GPtrArray *into)
{
  g_autofree char *list = g_strjoinv ("|", message->candidates);

  g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_RESTART);
  g_assert_cmpstr (message->ice_pwd, ==, PWD);
  g_ptr_array_add (into, g_strdup_printf ("%u %s %s", message->generation, message->ice_ufrag,
                                          list));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = test_make_temp_dir ();
  f->store = BACKUP_SIGNALING_STORE (backup_directory_store_new (f->dir, &error));
  g_assert_no_error (error);
  f->alice = backup_restart_exchange_new (f->store, SESSION, ALICE, BOB);
  f->bob = backup_restart_exchange_new (f->store, SESSION, BOB, ALICE);
  f->to_alice = g_ptr_array_new_with_free_func (g_free);
  f->to_bob = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->alice, "received", G_CALLBACK (received_cb), f->to_alice);
  g_signal_connect (f->bob, "received", G_CALLBACK (received_cb), f->to_bob);
}

/* Closes @exchange and waits until it is done (our file removed). */
static void
close_exchange (BackupRestartExchange *exchange)
{
  GAsyncResult *result = NULL;

  backup_restart_exchange_close_async (exchange, test_store_result_cb, &result);
  backup_restart_exchange_close_finish (exchange, test_wait_result (&result));
  g_object_unref (result);
  test_wait_last_ref (exchange);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->alice != NULL)
    close_exchange (f->alice);
  if (f->bob != NULL)
    close_exchange (f->bob);
  g_clear_object (&f->store);
  g_ptr_array_unref (f->to_alice);
  g_ptr_array_unref (f->to_bob);
  test_remove_tree (f->dir);
  g_free (f->dir);
}

static guint
count_files (Fixture *f)
{
  return test_count_dir_entries (f->dir, FALSE);
}

/* Each side's restart reaches the other once, and only while it polls;
 * the download consumes the file. */
static void
test_exchange (Fixture *f, gconstpointer data)
{
  const char *const alice_candidates[] = { "candidate:1 1 UDP 2015364095 10.0.0.1 4000 typ host",
                                           NULL };
  const char *const bob_candidates[] = { "candidate:1 1 UDP 2015364095 10.0.0.2 5000 typ host",
                                         "candidate:2 1 UDP 2015364095 10.0.0.3 5001 typ host",
                                         NULL };

  backup_restart_exchange_send (f->alice, 1, "aaaa", PWD, alice_candidates);
  WAIT_UNTIL (count_files (f) == 1, 10);
  /* Bob does not poll yet: the file waits. */
  for (int i = 0; i < 30; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (f->to_bob->len, ==, 0);

  backup_restart_exchange_set_polling (f->bob, TRUE);
  WAIT_UNTIL (f->to_bob->len == 1, 10);
  g_assert_cmpstr (g_ptr_array_index (f->to_bob, 0), ==,
                   "1 aaaa candidate:1 1 UDP 2015364095 10.0.0.1 4000 typ host");
  WAIT_UNTIL (count_files (f) == 0, 10);

  backup_restart_exchange_set_polling (f->alice, TRUE);
  backup_restart_exchange_send (f->bob, 1, "bbbb", PWD, bob_candidates);
  WAIT_UNTIL (f->to_alice->len == 1, 10);
  g_assert_cmpstr (g_ptr_array_index (f->to_alice, 0), ==,
                   "1 bbbb candidate:1 1 UDP 2015364095 10.0.0.2 5000 typ host|"
                   "candidate:2 1 UDP 2015364095 10.0.0.3 5001 typ host");
  /* Nobody reads their own file. */
  g_assert_cmpuint (f->to_bob->len, ==, 1);
}

/* The generation of the only restart file in the store, or 0. */
static guint
stored_generation (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, SESSION "_restart_" ALICE "-for-" BOB ".json",
                                            NULL);
  g_autofree char *text = NULL;
  gsize length;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (BackupSignalingMessage) message = NULL;

  if (count_files (f) != 1 || !g_file_get_contents (path, &text, &length, NULL))
    return 0;
  bytes = g_bytes_new (text, length);
  message = backup_signaling_message_parse (bytes, NULL);
  return message != NULL ? message->generation : 0;
}

/* A new generation replaces the writer's earlier file, so a side that
 * looks late reads only the latest; close removes what is left. */
static void
test_replace_and_close (Fixture *f, gconstpointer data)
{
  backup_restart_exchange_send (f->alice, 1, "aaa1", PWD, NULL);
  WAIT_UNTIL (stored_generation (f) == 1, 10);
  backup_restart_exchange_send (f->alice, 2, "aaa2", PWD, NULL);
  backup_restart_exchange_send (f->alice, 3, "aaa3", PWD, NULL);
  WAIT_UNTIL (stored_generation (f) == 3, 10);
  for (int i = 0; i < 20; i++)
    {
      g_usleep (5000);
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_cmpuint (stored_generation (f), ==, 3);

  backup_restart_exchange_set_polling (f->bob, TRUE);
  WAIT_UNTIL (f->to_bob->len == 1, 10);
  g_assert_cmpstr (g_ptr_array_index (f->to_bob, 0), ==, "3 aaa3 ");
  WAIT_UNTIL (count_files (f) == 0, 10);

  /* Close removes an upload nobody read. */
  backup_restart_exchange_set_polling (f->bob, FALSE);
  backup_restart_exchange_send (f->alice, 4, "aaa4", PWD, NULL);
  WAIT_UNTIL (stored_generation (f) == 4, 10);
  close_exchange (f->alice);
  g_clear_object (&f->alice);
  g_assert_cmpuint (count_files (f), ==, 0);
}

/* Files addressed to someone else, pairing files and broken restart files
 * stay where they are; the broken one is skipped with a message. */
static void
test_foreign_files (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *k1 = NULL, *k2 = NULL, *k3 = NULL;

  k1 = test_store_upload (f->store, SESSION "_restart_" ALICE "-for-someone.json",
                          "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  k2 = test_store_upload (f->store, SESSION "_sdp_" ALICE "-for-" BOB ".json",
                          "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  k3 = test_store_upload (f->store, SESSION "_restart_" ALICE "-for-" BOB ".json",
                          "{\"type\":\"restart\",\"payload\":\"e30=\"}", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (count_files (f), ==, 3);
  g_test_expect_message ("Signaling", G_LOG_LEVEL_MESSAGE, "Skipping a restart file*");
  backup_restart_exchange_set_polling (f->bob, TRUE);
  /* The broken file is consumed (downloaded) and skipped. */
  WAIT_UNTIL (count_files (f) == 2, 10);
  /* The download's result (and the message) comes after the file went. */
  {
    gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;

    while (g_get_monotonic_time () < until)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (2000);
      }
  }
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->to_bob->len, ==, 0);
  g_assert_cmpuint (count_files (f), ==, 2);
}

#define ADD(name, func)                                                                            \
  g_test_add ("/signaling/restart-exchange/" name, Fixture, NULL, fixture_set_up, func,           \
              fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("exchange", test_exchange);
  ADD ("replace-and-close", test_replace_and_close);
  ADD ("foreign-files", test_foreign_files);

  return g_test_run ();
}
