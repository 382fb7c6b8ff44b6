/* test-secrets.c: secrets kept in the keyring, or in a private file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-secrets keyring    inside dbus-run-session and tests/with-keyring.sh:
 *                         a real gnome-keyring-daemon holds the secrets
 * test-secrets no-service inside dbus-run-session with a bus on which
 *                         nothing can be activated: the private file
 * test-secrets no-bus     without any session bus: the private file
 *
 * Each mode checks where the secret went with the other tools: libsecret
 * itself for the keyring, stat() for the file.
 *
 * The device key (backup_device_load_certificate()) in each mode: in the
 * keyring, with only certificate.pem left in the device folder and no file
 * holding a private key; in key.pem (0600) without a Secret Service. It is
 * created once and read back the same, an old key.pem moves into the
 * keyring with its fingerprint, an identity partly lost is refused with
 * BACKUP_ERROR_CORRUPT, and threads creating it at once agree.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup-device.h"
#include "backup-error.h"
#include "backup-secrets.h"

#define KEY_1 "first-api-key-0123456789"
#define KEY_2 "second-api-key-abcdef"

static char *config_home;
static const char *mode;

static gboolean
expect_keyring (void)
{
  return g_str_equal (mode, "keyring");
}

static char *
fallback_path (void)
{
  return backup_secret_get_fallback_path (BACKUP_SECRET_API_KEY);
}

/* What libsecret itself finds for the API key (keyring mode). */
static char *
keyring_lookup (void)
{
  g_autoptr (GError) error = NULL;
  char *found = secret_password_lookup_sync (backup_secrets_get_schema (), NULL, &error, "kind",
                                             "api-key", NULL);
  char *copy;

  g_assert_no_error (error);
  copy = g_strdup (found);
  secret_password_free (found);
  return copy;
}

/* The secret where this mode keeps it, read without the module. */
static char *
kept_secret (void)
{
  g_autofree char *path = fallback_path ();
  g_autofree char *contents = NULL;

  if (expect_keyring ())
    {
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
      return keyring_lookup ();
    }
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  g_assert_true (g_str_has_suffix (contents, "\n"));
  contents[strcspn (contents, "\n")] = '\0';
  return g_steal_pointer (&contents);
}

static void
check_backend (BackupSecretsBackend backend)
{
  g_assert_cmpint (backend, ==,
                   expect_keyring () ? BACKUP_SECRETS_BACKEND_KEYRING : BACKUP_SECRETS_BACKEND_FILE);
}

static char *
lookup (void)
{
  g_autoptr (GError) error = NULL;
  BackupSecretsBackend backend = 99;
  char *secret = backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, 10000, &backend, NULL, &error);

  g_assert_no_error (error);
  check_backend (backend);
  return secret;
}

static void
store (const char *secret)
{
  g_autoptr (GError) error = NULL;
  BackupSecretsBackend backend = 99;

  gboolean done
      = backup_secret_store_sync (BACKUP_SECRET_API_KEY, secret, 10000, &backend, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (done);
  check_backend (backend);
}

/* Stores, reads back, replaces and clears, with the blocking calls. */
static void
test_store_lookup_clear (void)
{
  g_autoptr (GError) error = NULL;
  BackupSecretsBackend backend = 99;
  char *secret;
  char *kept;

  secret = lookup ();
  g_assert_null (secret);

  store (KEY_1);
  secret = lookup ();
  g_assert_cmpstr (secret, ==, KEY_1);
  backup_secret_free (secret);
  kept = kept_secret ();
  g_assert_cmpstr (kept, ==, KEY_1);
  g_free (kept);

  store (KEY_2);
  secret = lookup ();
  g_assert_cmpstr (secret, ==, KEY_2);
  backup_secret_free (secret);
  kept = kept_secret ();
  g_assert_cmpstr (kept, ==, KEY_2);
  g_free (kept);

  g_assert_true (backup_secret_clear_sync (BACKUP_SECRET_API_KEY, 10000, &backend, NULL, &error));
  g_assert_no_error (error);
  check_backend (backend);
  g_assert_null (lookup ());
  g_assert_null (kept_secret ());

  /* Clearing what is not there is no error; storing "" clears. */
  g_assert_true (backup_secret_clear_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error));
  g_assert_no_error (error);
  store (KEY_1);
  g_assert_nonnull ((kept = kept_secret ()));
  g_free (kept);
  store ("");
  g_assert_null (lookup ());
  g_assert_null (kept_secret ());
}

static void
async_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

/* The same with the asynchronous calls, on the default main context. */
static void
test_async (void)
{
  g_autoptr (GError) error = NULL;
  GAsyncResult *result = NULL;
  BackupSecretsBackend backend = 99;
  char *secret;
  char *kept;

  backup_secret_store_async (BACKUP_SECRET_API_KEY, KEY_1, NULL, async_cb, &result);
  g_assert_true (backup_secret_store_finish (wait_for (&result), &backend, &error));
  g_assert_no_error (error);
  check_backend (backend);
  g_clear_object (&result);
  kept = kept_secret ();
  g_assert_cmpstr (kept, ==, KEY_1);
  g_free (kept);

  backup_secret_store_async (BACKUP_SECRET_API_KEY, KEY_2, NULL, async_cb, &result);
  g_assert_true (backup_secret_store_finish (wait_for (&result), NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  backup_secret_lookup_async (BACKUP_SECRET_API_KEY, NULL, async_cb, &result);
  secret = backup_secret_lookup_finish (wait_for (&result), &backend, &error);
  g_assert_no_error (error);
  check_backend (backend);
  g_assert_cmpstr (secret, ==, KEY_2);
  backup_secret_free (secret);
  g_clear_object (&result);

  backup_secret_clear_async (BACKUP_SECRET_API_KEY, NULL, async_cb, &result);
  g_assert_true (backup_secret_clear_finish (wait_for (&result), &backend, &error));
  g_assert_no_error (error);
  check_backend (backend);
  g_clear_object (&result);

  backup_secret_lookup_async (BACKUP_SECRET_API_KEY, NULL, async_cb, &result);
  g_assert_null (backup_secret_lookup_finish (wait_for (&result), NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_null (kept_secret ());
}

/* A cancelled call reports the cancellation. */
static void
test_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  GAsyncResult *result = NULL;

  g_cancellable_cancel (cancellable);
  backup_secret_lookup_async (BACKUP_SECRET_API_KEY, cancellable, async_cb, &result);
  g_assert_null (backup_secret_lookup_finish (wait_for (&result), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&result);
  g_clear_error (&error);

  g_assert_false (
      backup_secret_store_sync (BACKUP_SECRET_API_KEY, KEY_1, 0, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The fallback file: 0600 in a 0700 folder, refused when other users can
 * open it or when it is a link, never naming the secret. */
static void
test_file_private (void)
{
  g_autofree char *path = fallback_path ();
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *elsewhere = g_build_filename (config_home, "elsewhere", NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;
  ino_t first;
  char *secret;

  store (KEY_1);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
  first = st.st_ino;
  g_assert_cmpint (g_stat (folder, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0700);

  /* Replaced by a new file (renamed over the old one), private as well. */
  store (KEY_2);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpuint (st.st_ino, !=, first);

  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  secret = backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error);
  g_assert_null (secret);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_null (strstr (error->message, KEY_2));
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_null (backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  secret = lookup ();
  g_assert_cmpstr (secret, ==, KEY_2);
  backup_secret_free (secret);

  /* A link is not followed. */
  g_assert_cmpint (g_rename (path, elsewhere), ==, 0);
  g_assert_cmpint (symlink (elsewhere, path), ==, 0);
  g_assert_null (backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_null (strstr (error->message, KEY_2));
  g_clear_error (&error);
  g_unlink (elsewhere);

  /* Clearing removes the file (the link here). */
  g_assert_true (backup_secret_clear_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpint (lstat (path, &st), ==, -1);

  /* A file written by hand, as for --apikey-file: its first line. */
  g_assert_true (g_file_set_contents_full (path, "  hand-written-key \r\nmore\n", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  secret = lookup ();
  g_assert_cmpstr (secret, ==, "hand-written-key");
  backup_secret_free (secret);
  g_assert_true (backup_secret_clear_sync (BACKUP_SECRET_API_KEY, 10000, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* A folder that cannot be created: the store fails with a message that
 * names the folder, not the secret. */
static void
test_file_unwritable (void)
{
  g_autofree char *path = fallback_path ();
  g_autofree char *folder = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_rmdir (folder), ==, 0);
  g_assert_true (g_file_set_contents (folder, "not a folder", -1, NULL));
  g_assert_false (
      backup_secret_store_sync (BACKUP_SECRET_API_KEY, KEY_1, 10000, NULL, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_IO);
  g_assert_null (strstr (error->message, KEY_1));
  g_assert_cmpint (g_unlink (folder), ==, 0);
}

/* A Secret Service that takes the calls and never answers: the blocking
 * lookup gives up after its timeout. */
static GDBusMessage *
swallow_filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
                gpointer user_data)
{
  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    {
      g_object_unref (message);
      return NULL;
    }
  return message;
}

static void
test_silent_service (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) service = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 start;
  char *secret;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  service = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (service, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.secrets", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_dbus_connection_add_filter (service, swallow_filter, NULL, NULL);

  start = g_get_monotonic_time ();
  secret = backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, 700, NULL, NULL, &error);
  g_assert_null (secret);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 600 * 1000);
  g_dbus_connection_close_sync (service, NULL, NULL);
}

/* --- the device key ------------------------------------------------------ */

static char *
device_folder (const char *name)
{
  return g_build_filename (config_home, name, "device", NULL);
}

/* What libsecret itself finds for the device key of @fingerprint. */
static char *
keyring_device_key (const char *fingerprint)
{
  g_autoptr (GError) error = NULL;
  char *found = secret_password_lookup_sync (backup_secrets_get_schema (), NULL, &error, "kind",
                                             "device-key", "fingerprint", fingerprint, NULL);
  char *copy;

  g_assert_no_error (error);
  copy = g_strdup (found);
  secret_password_free (found);
  return copy;
}

/* The device keys the keyring holds for @folder. */
static guint
keyring_device_items (const char *folder)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  GList *items;
  guint count;

  g_hash_table_insert (attributes, (gpointer) "kind", (gpointer) "device-key");
  g_hash_table_insert (attributes, (gpointer) "folder", (gpointer)folder);
  items = secret_service_search_sync (NULL, backup_secrets_get_schema (), attributes,
                                      SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  count = g_list_length (items);
  g_list_free_full (items, g_object_unref);
  return count;
}

/* Fails when a file under @path holds a private key. */
static void
assert_no_private_key_under (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;

      if (g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        assert_no_private_key_under (child);
      else if (g_file_get_contents (child, &contents, NULL, NULL)
               && strstr (contents, "PRIVATE KEY") != NULL)
        g_error ("%s holds a private key", child);
    }
}

static guint
mode_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static char *
load_fingerprint (const char *folder, gboolean create)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) certificate = backup_device_load_certificate (folder, create, &error);

  g_assert_no_error (error);
  g_assert_nonnull (certificate);
  return rtc_certificate_get_fingerprint_string (certificate);
}

/* Where this mode keeps the identity of @folder, created as @fingerprint. */
static void
check_device_files (const char *folder, const char *fingerprint)
{
  g_autofree char *key = g_build_filename (folder, "key.pem", NULL);
  g_autofree char *certificate = g_build_filename (folder, "certificate.pem", NULL);

  g_assert_cmpuint (mode_of (folder), ==, 0700);
  if (expect_keyring ())
    {
      g_autofree char *kept = keyring_device_key (fingerprint);

      g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
      g_assert_true (g_file_test (certificate, G_FILE_TEST_IS_REGULAR));
      g_assert_nonnull (kept);
      g_assert_nonnull (strstr (kept, "PRIVATE KEY"));
      g_assert_null (strstr (kept, "CERTIFICATE"));
      g_assert_cmpuint (keyring_device_items (folder), ==, 1);
      assert_no_private_key_under (config_home);
    }
  else
    {
      g_assert_cmpuint (mode_of (key), ==, 0600);
      g_assert_false (g_file_test (certificate, G_FILE_TEST_EXISTS));
    }
}

/* Created once, then read back the same; nothing secret in a file with a
 * keyring. */
static void
test_device_key_create (void)
{
  g_autofree char *folder = device_folder ("create");
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_autofree char *read_only = NULL;

  g_assert_null (backup_device_load_certificate (folder, FALSE, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  first = load_fingerprint (folder, TRUE);
  check_device_files (folder, first);
  again = load_fingerprint (folder, TRUE);
  g_assert_cmpstr (first, ==, again);
  read_only = load_fingerprint (folder, FALSE);
  g_assert_cmpstr (first, ==, read_only);
  check_device_files (folder, first);
}

/* A key.pem from before the keyring moves into it, keeping its
 * fingerprint; without a keyring it stays. */
static void
test_device_key_migrate (void)
{
  g_autofree char *folder = device_folder ("migrate");
  g_autofree char *key = g_build_filename (folder, "key.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) old = NULL;
  g_autofree char *cert_pem = NULL;
  char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autofree char *old_fingerprint = NULL;
  g_autofree char *loaded = NULL;
  g_autofree char *again = NULL;

  old = rtc_certificate_generate_full (BACKUP_DEVICE_CERTIFICATE_DAYS, "distributed-backup",
                                       &error);
  g_assert_no_error (error);
  g_assert_true (rtc_certificate_export_pem (old, &cert_pem, &key_pem, &error));
  old_fingerprint = rtc_certificate_get_fingerprint_string (old);
  both = g_strconcat (key_pem, cert_pem, NULL);
  explicit_bzero (key_pem, strlen (key_pem));
  g_free (key_pem);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (
      g_file_set_contents_full (key, both, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));

  loaded = load_fingerprint (folder, FALSE);
  g_assert_cmpstr (loaded, ==, old_fingerprint);
  check_device_files (folder, old_fingerprint);
  again = load_fingerprint (folder, TRUE);
  g_assert_cmpstr (again, ==, old_fingerprint);
  check_device_files (folder, old_fingerprint);
}

/* An identity partly lost (a certificate without its key, a key without
 * its certificate) is refused, never replaced. */
static void
test_device_key_half (void)
{
  g_autofree char *folder = device_folder ("half");
  g_autofree char *key = g_build_filename (folder, "key.pem", NULL);
  g_autofree char *certificate = g_build_filename (folder, "certificate.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *saved = NULL;

  if (!expect_keyring ())
    {
      /* A certificate.pem whose key is in a keyring out of reach. */
      g_autoptr (RtcCertificate) other = rtc_certificate_generate (&error);
      g_autofree char *cert_pem = NULL;
      char *key_pem = NULL;

      g_assert_no_error (error);
      g_assert_true (rtc_certificate_export_pem (other, &cert_pem, &key_pem, &error));
      explicit_bzero (key_pem, strlen (key_pem));
      g_free (key_pem);
      g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
      g_assert_true (g_file_set_contents (certificate, cert_pem, -1, &error));
      g_assert_null (backup_device_load_certificate (folder, TRUE, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_IO);
      g_assert_nonnull (strstr (error->message, certificate));
      g_assert_nonnull (strstr (error->message, "keyring"));
      g_clear_error (&error);
      g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
      return;
    }

  fingerprint = load_fingerprint (folder, TRUE);
  g_assert_true (g_file_get_contents (certificate, &saved, NULL, &error));

  /* The key without its certificate. */
  g_assert_cmpint (g_unlink (certificate), ==, 0);
  for (int create = 0; create < 2; create++)
    {
      g_assert_null (backup_device_load_certificate (folder, create, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, certificate));
      g_assert_nonnull (strstr (error->message, "pair again"));
      g_assert_null (strchr (error->message, '\n'));
      g_clear_error (&error);
    }
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (certificate, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (keyring_device_items (folder), ==, 1);

  /* The certificate without its key. */
  g_assert_true (g_file_set_contents (certificate, saved, -1, &error));
  g_assert_true (secret_password_clear_sync (backup_secrets_get_schema (), NULL, &error, "kind",
                                             "device-key", "fingerprint", fingerprint, NULL));
  g_assert_no_error (error);
  for (int create = 0; create < 2; create++)
    {
      g_assert_null (backup_device_load_certificate (folder, create, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, certificate));
      g_assert_nonnull (strstr (error->message, fingerprint));
      g_assert_nonnull (strstr (error->message, "pair again"));
      g_clear_error (&error);
    }
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (keyring_device_items (folder), ==, 0);

  /* Removing the certificate, as the message says, makes a new identity. */
  g_assert_cmpint (g_unlink (certificate), ==, 0);
  g_free (fingerprint);
  fingerprint = load_fingerprint (folder, TRUE);
  check_device_files (folder, fingerprint);
}

#define RACERS 4

static gpointer
race_thread (gpointer data)
{
  return load_fingerprint (data, TRUE);
}

/* Threads creating the identity at once end with one. */
static void
test_device_key_race (void)
{
  g_autofree char *folder = device_folder ("race");
  g_autoptr (GDir) dir = NULL;
  GThread *threads[RACERS];
  char *fingerprints[RACERS];
  const char *name;

  for (guint i = 0; i < RACERS; i++)
    threads[i] = g_thread_new ("racer", race_thread, folder);
  for (guint i = 0; i < RACERS; i++)
    fingerprints[i] = g_thread_join (threads[i]);
  for (guint i = 1; i < RACERS; i++)
    g_assert_cmpstr (fingerprints[i], ==, fingerprints[0]);
  check_device_files (folder, fingerprints[0]);
  g_autofree char *again = load_fingerprint (folder, FALSE);
  g_assert_cmpstr (again, ==, fingerprints[0]);
  /* No temporary file left. */
  dir = g_dir_open (folder, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, ".key.pem.")
                    || g_str_has_prefix (name, ".certificate.pem."));
  for (guint i = 0; i < RACERS; i++)
    g_free (fingerprints[i]);
}

/* A keyring that stays locked (no one to type its password): a new
 * identity goes to key.pem, one in the keyring is refused as locked. Last:
 * the keyring is not unlocked again. */
static void
test_device_key_locked (void)
{
  g_autofree char *kept_folder = device_folder ("locked-kept");
  g_autofree char *new_folder = device_folder ("locked-new");
  g_autofree char *key = g_build_filename (new_folder, "key.pem", NULL);
  g_autofree char *kept = NULL;
  g_autofree char *created = NULL;
  g_autofree char *again = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SecretService) service = NULL;
  g_autoptr (SecretCollection) collection = NULL;
  GList *objects;

  kept = load_fingerprint (kept_folder, TRUE);
  check_device_files (kept_folder, kept);

  service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  objects = g_list_append (NULL, collection);
  secret_service_lock_sync (service, objects, NULL, NULL, &error);
  g_list_free (objects);
  g_assert_no_error (error);
  g_assert_true (secret_collection_get_locked (collection));

  g_assert_null (backup_device_load_certificate (kept_folder, FALSE, &error));
  g_assert_nonnull (error);
  g_test_message ("locked: %s", error->message);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_clear_error (&error);

  created = load_fingerprint (new_folder, TRUE);
  g_assert_cmpuint (mode_of (key), ==, 0600);
  again = load_fingerprint (new_folder, TRUE);
  g_assert_cmpstr (created, ==, again);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  mode = argc > 1 ? argv[1] : "";

  config_home = g_dir_make_tmp ("test-secrets-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);

  if (g_str_equal (mode, "keyring"))
    {
      /* The test is run in the keyring's bus. */
      g_assert_nonnull (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));
      g_test_add_func ("/secrets/keyring/store-lookup-clear", test_store_lookup_clear);
      g_test_add_func ("/secrets/keyring/async", test_async);
      g_test_add_func ("/secrets/keyring/cancelled", test_cancelled);
      g_test_add_func ("/secrets/keyring/device-key/create", test_device_key_create);
      g_test_add_func ("/secrets/keyring/device-key/migrate", test_device_key_migrate);
      g_test_add_func ("/secrets/keyring/device-key/half", test_device_key_half);
      g_test_add_func ("/secrets/keyring/device-key/race", test_device_key_race);
      g_test_add_func ("/secrets/keyring/device-key/locked", test_device_key_locked);
    }
  else if (g_str_equal (mode, "no-service"))
    {
      g_assert_nonnull (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));
      g_test_add_func ("/secrets/no-service/store-lookup-clear", test_store_lookup_clear);
      g_test_add_func ("/secrets/no-service/async", test_async);
      g_test_add_func ("/secrets/no-service/cancelled", test_cancelled);
      g_test_add_func ("/secrets/no-service/private-file", test_file_private);
      g_test_add_func ("/secrets/no-service/unwritable", test_file_unwritable);
      g_test_add_func ("/secrets/no-service/device-key/create", test_device_key_create);
      g_test_add_func ("/secrets/no-service/device-key/migrate", test_device_key_migrate);
      g_test_add_func ("/secrets/no-service/device-key/half", test_device_key_half);
      g_test_add_func ("/secrets/no-service/device-key/race", test_device_key_race);
      /* Last: it leaves a name on the bus that answers nothing. */
      g_test_add_func ("/secrets/no-service/silent-service", test_silent_service);
    }
  else if (g_str_equal (mode, "no-bus"))
    {
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
      g_test_add_func ("/secrets/no-bus/store-lookup-clear", test_store_lookup_clear);
      g_test_add_func ("/secrets/no-bus/async", test_async);
      g_test_add_func ("/secrets/no-bus/private-file", test_file_private);
      g_test_add_func ("/secrets/no-bus/device-key/create", test_device_key_create);
      g_test_add_func ("/secrets/no-bus/device-key/migrate", test_device_key_migrate);
      g_test_add_func ("/secrets/no-bus/device-key/half", test_device_key_half);
      g_test_add_func ("/secrets/no-bus/device-key/race", test_device_key_race);
    }
  else
    g_error ("usage: test-secrets keyring|no-service|no-bus");

  status = g_test_run ();
  remove_tree (config_home);
  g_free (config_home);
  return status;
}
