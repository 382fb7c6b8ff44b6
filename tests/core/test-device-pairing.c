/* test-device-pairing.c: two devices pair through a folder store, over
 * real sockets on 127.0.0.1; a joiner without the secret is refused by the
 * inviter, and a joiner that meets another device than the link's refuses
 * it; nothing is stored by a refused pairing. The same with a verification
 * code, as on the local network (the store stands for the inviter's
 * server): both see one code, each user may refuse it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "backup-device-pairing-private.h"
#include "backup-directory-store.h"
#include "backup-error.h"
#include "backup-nearby.h"
#include "rtc-error.h"

#define TIMEOUT_S 20

typedef struct
{
  char *root;
  char *sigdir;
  char *folder_a; /* the inviter's devices */
  char *folder_b; /* the joiner's */
  BackupSignalingStore *store;
  RtcCertificate *cert_a;
  RtcCertificate *cert_b;
} Fixture;

typedef struct
{
  BackupDevice *device;
  GError *error;
  gboolean done;
} Result;

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("test-device-pairing-XXXXXX", &error);
  g_assert_no_error (error);
  f->sigdir = g_build_filename (f->root, "signaling", NULL);
  f->folder_a = g_build_filename (f->root, "a", NULL);
  f->folder_b = g_build_filename (f->root, "b", NULL);
  g_assert_cmpint (g_mkdir (f->sigdir, 0700), ==, 0);
  f->store = BACKUP_SIGNALING_STORE (backup_directory_store_new (f->sigdir, &error));
  g_assert_no_error (error);
  f->cert_a = backup_device_load_certificate (f->folder_a, TRUE, &error);
  g_assert_no_error (error);
  f->cert_b = backup_device_load_certificate (f->folder_b, TRUE, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  /* Closing runs still hold the store for a moment. */
  while (G_OBJECT (f->store)->ref_count > 1 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_test_message ("store references: %u", G_OBJECT (f->store)->ref_count);
  g_assert_finalize_object (f->store);
  g_clear_object (&f->cert_a);
  g_clear_object (&f->cert_b);
  remove_tree (f->root);
  g_free (f->root);
  g_free (f->sigdir);
  g_free (f->folder_a);
  g_free (f->folder_b);
}

static RtcConfiguration *
config_for (RtcCertificate *certificate)
{
  RtcConfiguration *config = rtc_configuration_new ();
  const char *addresses[] = { "127.0.0.1", NULL };

  config->local_addresses = g_strdupv ((GStrv) addresses);
  config->certificate = g_object_ref (certificate);
  return config;
}

static void
done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Result *r = user_data;

  r->device = backup_device_pair_finish (result, &r->error);
  r->done = TRUE;
  g_main_context_wakeup (NULL);
}

static void
wait_for (Result *a, Result *b)
{
  gint64 deadline = g_get_monotonic_time () + 2 * TIMEOUT_S * G_USEC_PER_SEC;

  while (!(a->done && (b == NULL || b->done)))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->device, backup_device_free);
  g_clear_error (&r->error);
}

static guint
count_devices (const char *folder)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = backup_device_list (folder, &error);

  g_assert_no_error (error);
  return devices->len;
}

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Lets the closing runs clean up the store. */
static void
settle (void)
{
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupDeviceLink) link = backup_device_link_new (f->sigdir, f->cert_a, "Alpha");
  g_autofree char *text = backup_device_link_format (link);
  g_autoptr (BackupDeviceLink) opened = backup_device_link_parse (text, NULL);
  g_autoptr (RtcConfiguration) config_a = config_for (f->cert_a);
  g_autoptr (RtcConfiguration) config_b = config_for (f->cert_b);
  g_autofree char *fp_a = rtc_certificate_get_fingerprint_string (f->cert_a);
  g_autofree char *fp_b = rtc_certificate_get_fingerprint_string (f->cert_b);
  g_autofree char *session = backup_device_link_get_backup_session (link);
  g_autoptr (BackupDevice) stored_a = NULL;
  g_autoptr (BackupDevice) stored_b = NULL;
  Result inviter = { 0 }, joiner = { 0 };

  g_assert_nonnull (opened);
  backup_device_pair_async (BACKUP_DEVICE_PAIRING_INVITER, link, "Alpha", f->store, config_a,
                            f->folder_a, TIMEOUT_S, NULL, done_cb, &inviter);
  backup_device_pair_async (BACKUP_DEVICE_PAIRING_JOINER, opened, "Beta", f->store, config_b,
                            f->folder_b, TIMEOUT_S, NULL, done_cb, &joiner);
  wait_for (&inviter, &joiner);
  g_assert_no_error (inviter.error);
  g_assert_no_error (joiner.error);

  /* Each stored the other, with the same session id and signaling. */
  g_assert_cmpstr (inviter.device->name, ==, "Beta");
  g_assert_cmpstr (inviter.device->fingerprint, ==, fp_b);
  g_assert_cmpstr (joiner.device->name, ==, "Alpha");
  g_assert_cmpstr (joiner.device->fingerprint, ==, fp_a);
  stored_a = backup_device_find (f->folder_a, "Beta", NULL);
  stored_b = backup_device_find (f->folder_b, "Alpha", NULL);
  g_assert_nonnull (stored_a);
  g_assert_nonnull (stored_b);
  g_assert_cmpstr (stored_a->session_id, ==, session);
  g_assert_cmpstr (stored_b->session_id, ==, session);
  g_assert_cmpstr (stored_a->signaling, ==, f->sigdir);
  g_assert_cmpstr (stored_b->signaling, ==, f->sigdir);

  settle ();
  g_assert_cmpuint (count_files (f->sigdir), ==, 0);
  result_clear (&inviter);
  result_clear (&joiner);
}

/* Someone who read the store (the pairing session id) but not the link. */
static void
test_wrong_secret (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupDeviceLink) link = backup_device_link_new (f->sigdir, f->cert_a, "Alpha");
  g_autofree char *text = backup_device_link_format (link);
  g_autoptr (BackupDeviceLink) forged = backup_device_link_parse (text, NULL);
  g_autofree char *observed = backup_device_link_get_pairing_session (link);
  g_autoptr (RtcConfiguration) config_a = config_for (f->cert_a);
  g_autoptr (RtcConfiguration) config_b = config_for (f->cert_b);
  Result inviter = { 0 }, joiner = { 0 };

  forged->secret[0] ^= 0x5a;
  backup_device_pair_async (BACKUP_DEVICE_PAIRING_INVITER, link, "Alpha", f->store, config_a,
                            f->folder_a, TIMEOUT_S, NULL, done_cb, &inviter);
  backup_device_pair_in_session_async (BACKUP_DEVICE_PAIRING_JOINER, forged, observed, "Mallory",
                                       f->store, config_b, f->folder_b, TIMEOUT_S, NULL, done_cb,
                                       &joiner);
  wait_for (&inviter, &joiner);
  g_assert_error (inviter.error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (inviter.error->message, "secret"));
  g_assert_error (joiner.error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_cmpuint (count_devices (f->folder_a), ==, 0);
  g_assert_cmpuint (count_devices (f->folder_b), ==, 0);
  settle ();
  result_clear (&inviter);
  result_clear (&joiner);
}

/* A device that answers in the link's session with another certificate
 * (it read the store, or the link's fingerprint was changed). */
static void
test_wrong_inviter (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupDeviceLink) link = backup_device_link_new (f->sigdir, f->cert_a, "Alpha");
  g_autofree char *text = backup_device_link_format (link);
  g_autoptr (BackupDeviceLink) opened = backup_device_link_parse (text, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) impostor = rtc_certificate_generate (&error);
  g_autoptr (RtcConfiguration) config_i = config_for (impostor);
  g_autoptr (RtcConfiguration) config_b = config_for (f->cert_b);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *fp_a = rtc_certificate_get_fingerprint_string (f->cert_a);
  g_autofree char *fp_i = rtc_certificate_get_fingerprint_string (impostor);
  Result inviter = { 0 }, joiner = { 0 };

  /* The impostor knows the session (and, at worst, the secret). */
  backup_device_pair_async (BACKUP_DEVICE_PAIRING_INVITER, link, "Alpha", f->store, config_i,
                            f->folder_a, TIMEOUT_S, cancellable, done_cb, &inviter);
  backup_device_pair_async (BACKUP_DEVICE_PAIRING_JOINER, opened, "Beta", f->store, config_b,
                            f->folder_b, TIMEOUT_S, NULL, done_cb, &joiner);
  wait_for (&joiner, NULL);
  g_assert_error (joiner.error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH);
  g_assert_nonnull (strstr (joiner.error->message, "Alpha"));
  g_assert_nonnull (strstr (joiner.error->message, fp_a));
  g_assert_nonnull (strstr (joiner.error->message, fp_i));
  g_cancellable_cancel (cancellable);
  wait_for (&inviter, NULL);
  g_assert_nonnull (inviter.error);
  g_assert_cmpuint (count_devices (f->folder_a), ==, 0);
  g_assert_cmpuint (count_devices (f->folder_b), ==, 0);
  settle ();
  result_clear (&inviter);
  result_clear (&joiner);
}

/* Cancelled while waiting for the other device: the store is cleaned. */
static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupDeviceLink) link = backup_device_link_new (f->sigdir, f->cert_a, "Alpha");
  g_autoptr (RtcConfiguration) config_a = config_for (f->cert_a);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Result inviter = { 0 };

  backup_device_pair_async (BACKUP_DEVICE_PAIRING_INVITER, link, "Alpha", f->store, config_a,
                            f->folder_a, TIMEOUT_S, cancellable, done_cb, &inviter);
  while (count_files (f->sigdir) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  wait_for (&inviter, NULL);
  g_assert_error (inviter.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (count_files (f->sigdir), ==, 0);
  result_clear (&inviter);
}

/* --- with a verification code --- */

typedef struct
{
  Result result;
  gboolean answer;       /* what the user says */
  char *code;            /* what was shown */
  char *name;
  char *fingerprint;
  BackupPairingQuestion *question;
} Asked;

static gboolean
answer_idle_cb (gpointer user_data)
{
  Asked *asked = user_data;

  backup_pairing_question_answer (g_steal_pointer (&asked->question), asked->answer);
  return G_SOURCE_REMOVE;
}

/* The user reads the code, then answers (a moment later, as people do). */
static void
code_cb (BackupPairingQuestion *question, const char *code, const char *name,
         const char *fingerprint, gpointer user_data)
{
  Asked *asked = user_data;

  g_assert_null (asked->code);
  asked->code = g_strdup (code);
  asked->name = g_strdup (name);
  asked->fingerprint = g_strdup (fingerprint);
  asked->question = question;
  g_timeout_add (50, answer_idle_cb, asked);
}

static void
asked_clear (Asked *asked)
{
  result_clear (&asked->result);
  g_free (asked->code);
  g_free (asked->name);
  g_free (asked->fingerprint);
}

/* Runs a pairing on the local network: A invites with the certificate
 * @inviter (A's own, or another device's posing as A: A's announcement, A's
 * pairing session); B joins, expecting A's certificate. */
static void
pair_nearby (Fixture *f, RtcCertificate *inviter, Asked *a, Asked *b)
{
  g_autoptr (BackupDeviceLink) own = backup_device_link_new (BACKUP_NEARBY_LOCATION, f->cert_a,
                                                             "Alpha");
  g_autoptr (BackupDeviceLink) seen = g_new0 (BackupDeviceLink, 1);
  g_autoptr (RtcConfiguration) config_a = config_for (inviter);
  g_autoptr (RtcConfiguration) config_b = config_for (f->cert_b);

  seen->signaling = g_strdup (BACKUP_NEARBY_LOCATION);
  seen->name = g_strdup ("Alpha");
  rtc_certificate_get_fingerprint (f->cert_a, seen->fingerprint);
  backup_device_pair_nearby_async (BACKUP_DEVICE_PAIRING_INVITER, own, "Alpha", f->store,
                                   config_a, f->folder_a, TIMEOUT_S, code_cb, a, NULL, done_cb,
                                   &a->result);
  backup_device_pair_nearby_async (BACKUP_DEVICE_PAIRING_JOINER, seen, "Beta", f->store,
                                   config_b, f->folder_b, TIMEOUT_S, code_cb, b, NULL, done_cb,
                                   &b->result);
  wait_for (&a->result, &b->result);
}

static void
test_nearby_confirmed (Fixture *f, gconstpointer data)
{
  g_autofree char *fp_a = rtc_certificate_get_fingerprint_string (f->cert_a);
  g_autofree char *fp_b = rtc_certificate_get_fingerprint_string (f->cert_b);
  g_autoptr (BackupDevice) stored_a = NULL;
  g_autoptr (BackupDevice) stored_b = NULL;
  Asked a = { .answer = TRUE }, b = { .answer = TRUE };

  pair_nearby (f, f->cert_a, &a, &b);
  g_assert_no_error (a.result.error);
  g_assert_no_error (b.result.error);

  /* One code, six digits, on both; each was told who the other is. */
  g_assert_nonnull (a.code);
  g_assert_cmpuint (strlen (a.code), ==, 6);
  g_assert_true (strspn (a.code, "0123456789") == 6);
  g_assert_cmpstr (a.code, ==, b.code);
  g_assert_cmpstr (a.name, ==, "Beta");
  g_assert_cmpstr (a.fingerprint, ==, fp_b);
  g_assert_cmpstr (b.name, ==, "Alpha");
  g_assert_cmpstr (b.fingerprint, ==, fp_a);

  /* Stored on both, with the local network as signaling and one session
   * id, which the secret sent on the channel gave the joiner. */
  stored_a = backup_device_find (f->folder_a, "Beta", NULL);
  stored_b = backup_device_find (f->folder_b, "Alpha", NULL);
  g_assert_nonnull (stored_a);
  g_assert_nonnull (stored_b);
  g_assert_cmpstr (stored_a->fingerprint, ==, fp_b);
  g_assert_cmpstr (stored_b->fingerprint, ==, fp_a);
  g_assert_cmpstr (stored_a->signaling, ==, BACKUP_NEARBY_LOCATION);
  g_assert_cmpstr (stored_b->signaling, ==, BACKUP_NEARBY_LOCATION);
  g_assert_true (g_str_has_prefix (stored_a->session_id, "device-"));
  g_assert_cmpstr (stored_a->session_id, ==, stored_b->session_id);

  settle ();
  g_assert_cmpuint (count_files (f->sigdir), ==, 0);
  asked_clear (&a);
  asked_clear (&b);
}

/* Either user refusing the code stores nothing on either side. */
static void
test_nearby_refused (Fixture *f, gconstpointer data)
{
  gboolean inviter_refuses = GPOINTER_TO_INT (data);
  Asked a = { .answer = !inviter_refuses }, b = { .answer = inviter_refuses };

  pair_nearby (f, f->cert_a, &a, &b);
  g_assert_error (a.result.error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_error (b.result.error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_cmpstr (a.code, ==, b.code);
  g_assert_cmpuint (count_devices (f->folder_a), ==, 0);
  g_assert_cmpuint (count_devices (f->folder_b), ==, 0);
  asked_clear (&a);
  asked_clear (&b);
}

/* A device posing as the one announced: the joiner refuses its
 * certificate before any code is shown. */
static void
test_nearby_wrong_device (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) other = rtc_certificate_generate (&error);
  Asked a = { .answer = TRUE }, b = { .answer = TRUE };

  g_assert_no_error (error);
  pair_nearby (f, other, &a, &b);
  g_assert_nonnull (a.result.error);
  g_assert_error (b.result.error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH);
  g_assert_null (a.code);
  g_assert_null (b.code);
  g_assert_cmpuint (count_devices (f->folder_a), ==, 0);
  g_assert_cmpuint (count_devices (f->folder_b), ==, 0);
  asked_clear (&a);
  asked_clear (&b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/device-pairing/round-trip", Fixture, NULL, fixture_set_up, test_round_trip,
              fixture_tear_down);
  g_test_add ("/device-pairing/wrong-secret", Fixture, NULL, fixture_set_up, test_wrong_secret,
              fixture_tear_down);
  g_test_add ("/device-pairing/wrong-inviter", Fixture, NULL, fixture_set_up, test_wrong_inviter,
              fixture_tear_down);
  g_test_add ("/device-pairing/cancel", Fixture, NULL, fixture_set_up, test_cancel,
              fixture_tear_down);
  g_test_add ("/device-pairing/nearby/confirmed", Fixture, NULL, fixture_set_up,
              test_nearby_confirmed, fixture_tear_down);
  g_test_add ("/device-pairing/nearby/refused-by-inviter", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_nearby_refused, fixture_tear_down);
  g_test_add ("/device-pairing/nearby/refused-by-joiner", Fixture, GINT_TO_POINTER (FALSE),
              fixture_set_up, test_nearby_refused, fixture_tear_down);
  g_test_add ("/device-pairing/nearby/wrong-device", Fixture, NULL, fixture_set_up,
              test_nearby_wrong_device, fixture_tear_down);
  return g_test_run ();
}
