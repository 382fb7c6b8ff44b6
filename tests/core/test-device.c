/* test-device.c: the device certificate, the paired devices file, the
 * invitation link and the proof
 *
 * Run without a session bus, so the device key takes the fallback (key.pem,
 * 0600) and no keyring of the user's is touched; the device key in a
 * keyring, and without a Secret Service, is tested in test-secrets.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup-device.h"
#include "backup-error.h"
#include "backup-pairing.h"
#include "backup-profile.h"
#include "rtc-error.h"

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

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-device-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static guint
mode_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

/* --- the certificate --- */

static void
test_certificate_pem (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) generated = NULL;
  g_autoptr (RtcCertificate) loaded = NULL;
  g_autoptr (RtcCertificate) other = NULL;
  g_autoptr (RtcCertificate) mixed = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *other_cert = NULL;
  g_autofree char *other_key = NULL;
  g_autofree char *fp1 = NULL;
  g_autofree char *fp2 = NULL;

  generated = rtc_certificate_generate_full (3650, "test", &error);
  g_assert_no_error (error);
  g_assert_true (rtc_certificate_export_pem (generated, &cert, &key, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (cert, "-----BEGIN CERTIFICATE-----"));
  g_assert_true (g_str_has_prefix (key, "-----BEGIN PRIVATE KEY-----"));

  loaded = rtc_certificate_new_from_pem (cert, strlen (cert), key, strlen (key), &error);
  g_assert_no_error (error);
  fp1 = rtc_certificate_get_fingerprint_string (generated);
  fp2 = rtc_certificate_get_fingerprint_string (loaded);
  g_assert_cmpstr (fp1, ==, fp2);
  g_assert_nonnull (rtc_certificate_get_credentials (loaded));

  /* A key that is not the certificate's, and garbage. */
  other = rtc_certificate_generate (&error);
  g_assert_no_error (error);
  g_assert_true (rtc_certificate_export_pem (other, &other_cert, &other_key, &error));
  mixed = rtc_certificate_new_from_pem (cert, strlen (cert), other_key, strlen (other_key),
                                        &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
  g_assert_null (mixed);
  g_clear_error (&error);
  g_assert_null (rtc_certificate_new_from_pem ("nothing", 7, key, strlen (key), &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
  g_clear_error (&error);

  explicit_bzero (key, strlen (key));
  explicit_bzero (other_key, strlen (other_key));
}

static void
test_device_certificate (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *folder = g_build_filename (dir, "a", "device", NULL);
  g_autofree char *key = g_build_filename (folder, "key.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) first = NULL;
  g_autoptr (RtcCertificate) again = NULL;
  g_autoptr (RtcCertificate) refused = NULL;
  g_autofree char *fp1 = NULL;
  g_autofree char *fp2 = NULL;

  /* Not created unless asked. */
  g_assert_null (backup_device_load_certificate (folder, FALSE, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  first = backup_device_load_certificate (folder, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (key), ==, 0600);
  g_assert_cmpuint (mode_of (folder), ==, 0700);
  again = backup_device_load_certificate (folder, TRUE, &error);
  g_assert_no_error (error);
  fp1 = rtc_certificate_get_fingerprint_string (first);
  fp2 = rtc_certificate_get_fingerprint_string (again);
  g_assert_cmpstr (fp1, ==, fp2);

  /* A key that others may read is refused, and left as it is. */
  g_assert_cmpint (g_chmod (key, 0640), ==, 0);
  refused = backup_device_load_certificate (folder, TRUE, &error);
  g_assert_null (refused);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_assert_null (strchr (error->message, '\n'));
  g_clear_error (&error);
  g_assert_cmpuint (mode_of (key), ==, 0640);

  /* A damaged one is refused, not replaced. */
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  g_assert_true (g_file_set_contents (key, "garbage", -1, NULL));
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  g_assert_null (backup_device_load_certificate (folder, TRUE, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_clear_error (&error);

  remove_tree (dir);
}

/* --- names --- */

static void
test_names (void)
{
  const char *good[] = { "laptop", "Anna’s PC", "ノート", "a", "x-y_z.1 2", NULL };
  const char *bad[] = { "", " lead", "trail ", "a[b", "b]", "tab\there", "nl\n", "esc\x1b",
                        "bidi\u202e", "\xff", NULL };
  g_autofree char *long_name = g_strnfill (BACKUP_DEVICE_MAX_NAME + 1, 'x');
  g_autofree char *default_name = backup_device_default_name ();

  for (guint i = 0; good[i] != NULL; i++)
    g_assert_true (backup_device_check_name (good[i], NULL));
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (backup_device_check_name (bad[i], &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
    }
  g_assert_false (backup_device_check_name (long_name, NULL));
  long_name[BACKUP_DEVICE_MAX_NAME] = '\0';
  g_assert_true (backup_device_check_name (long_name, NULL));
  g_assert_true (backup_device_check_name (default_name, NULL));
}

/* --- the paired devices file --- */

#define FP_A "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
#define FP_B "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"

static void
test_devices_file (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *folder = g_build_filename (dir, "device", NULL);
  g_autofree char *file = g_build_filename (folder, "paired.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (BackupDevice) a = backup_device_new ("laptop", "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
                                                  "/srv/sig", "device-0123");
  g_autoptr (BackupDevice) b = backup_device_new ("laptop", FP_B, "https://sig.example/",
                                                  "device-4567");
  g_autoptr (BackupDevice) found = NULL;
  g_autofree char *name_a = NULL;
  g_autofree char *name_b = NULL;
  g_autofree char *name_a2 = NULL;

  /* None at first. */
  devices = backup_device_list (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
  g_clear_pointer (&devices, g_ptr_array_unref);
  g_assert_null (backup_device_find (folder, "laptop", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  name_a = backup_device_add (folder, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name_a, ==, "laptop");
  g_assert_cmpuint (mode_of (file), ==, 0600);
  /* Another device of that name gets another name. */
  name_b = backup_device_add (folder, b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name_b, ==, "laptop 2");
  /* The same device again replaces itself. */
  g_free (a->signaling);
  a->signaling = g_strdup ("/srv/other");
  name_a2 = backup_device_add (folder, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name_a2, ==, "laptop");

  devices = backup_device_list (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 2);
  g_clear_pointer (&devices, g_ptr_array_unref);
  found = backup_device_find (folder, "laptop", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found->fingerprint, ==, FP_A);
  g_assert_cmpstr (found->signaling, ==, "/srv/other");
  g_assert_cmpstr (found->session_id, ==, "device-0123");
  g_assert_cmpint (found->paired, >, 0);
  g_clear_pointer (&found, backup_device_free);

  /* No secret is in the file. */
  {
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
    g_assert_null (strstr (contents, "secret"));
  }

  g_assert_true (backup_device_remove (folder, "laptop", &error));
  g_assert_no_error (error);
  g_assert_false (backup_device_remove (folder, "laptop", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  found = backup_device_find (folder, "laptop 2", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found->fingerprint, ==, FP_B);
  g_clear_pointer (&found, backup_device_free);
  g_assert_cmpuint (mode_of (file), ==, 0600);

  /* A file open to others is refused. */
  g_assert_cmpint (g_chmod (file, 0644), ==, 0);
  g_assert_null (backup_device_list (folder, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_clear_error (&error);

  /* A damaged one too. */
  g_assert_true (g_file_set_contents (file, "[Device x]\nfingerprint=12\n", -1, NULL));
  g_assert_cmpint (g_chmod (file, 0600), ==, 0);
  g_assert_null (backup_device_list (folder, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_clear_error (&error);

  remove_tree (dir);
}

/* Each device may have its own policy for the versions received from it;
 * it survives pairing again, and a damaged one is refused. */
static void
test_devices_policy (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *folder = g_build_filename (dir, "device", NULL);
  g_autofree char *file = g_build_filename (folder, "paired.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupDevice) a = backup_device_new ("desk", FP_A, "/srv/sig", "device-0123");
  g_autoptr (BackupDevice) b = backup_device_new ("nas", FP_B, "/srv/sig", "device-4567");
  g_autoptr (BackupDevice) found = NULL;
  g_autoptr (BackupDevice) copy = NULL;
  BackupRetention policy = { .last = 3, .daily = 7, .monthly = 12 };
  BackupRetention too_many = { .daily = 40 };
  g_autofree char *name = NULL;
  const char *damaged[] = {
    "keep-daily=3\n",                /* a rule without versions */
    "versions=0\n",                  /* out of range */
    "versions=70000\n",
    "versions=5\nkeep-daily=-1\n",
    "versions=5\nkeep-daily=six\n",
    "versions=5\nkeep-weekly=9\n", /* more than the versions allow */
  };

  g_free (backup_device_add (folder, a, &error));
  g_assert_no_error (error);
  g_free (backup_device_add (folder, b, &error));
  g_assert_no_error (error);

  /* None at first: the receiver's own policy applies. */
  found = backup_device_find (folder, "desk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 0);
  g_assert_false (backup_retention_is_set (&found->retention));
  g_clear_pointer (&found, backup_device_free);

  g_assert_true (backup_device_set_policy (folder, "desk", 20, &policy, &error));
  g_assert_no_error (error);
  found = backup_device_find (folder, "desk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 20);
  g_assert_cmpuint (found->retention.last, ==, 3);
  g_assert_cmpuint (found->retention.hourly, ==, 0);
  g_assert_cmpuint (found->retention.daily, ==, 7);
  g_assert_cmpuint (found->retention.weekly, ==, 0);
  g_assert_cmpuint (found->retention.monthly, ==, 12);
  copy = backup_device_copy (found);
  g_assert_cmpuint (copy->versions, ==, 20);
  g_assert_cmpuint (copy->retention.monthly, ==, 12);
  g_clear_pointer (&found, backup_device_free);
  /* The other device is untouched. */
  found = backup_device_find (folder, "nas", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 0);
  g_clear_pointer (&found, backup_device_free);

  /* Pairing again with the device keeps its policy. */
  name = backup_device_add (folder, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "desk");
  found = backup_device_find (folder, "desk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 20);
  g_assert_cmpuint (found->retention.daily, ==, 7);
  g_clear_pointer (&found, backup_device_free);

  /* A policy the versions cannot hold, or for no device, is refused and
   * changes nothing. */
  g_assert_false (backup_device_set_policy (folder, "desk", 5, &too_many, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (backup_device_set_policy (folder, "desk", 70000, &policy, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (backup_device_set_policy (folder, "phone", 20, &policy, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  found = backup_device_find (folder, "desk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 20);
  g_clear_pointer (&found, backup_device_free);

  /* Removing it goes back to the receiver's. */
  g_assert_true (backup_device_set_policy (folder, "desk", 0, NULL, &error));
  g_assert_no_error (error);
  found = backup_device_find (folder, "desk", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->versions, ==, 0);
  g_assert_false (backup_retention_is_set (&found->retention));
  g_clear_pointer (&found, backup_device_free);
  {
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
    g_assert_null (strstr (contents, "versions"));
    g_assert_null (strstr (contents, "keep-"));
  }

  for (gsize i = 0; i < G_N_ELEMENTS (damaged); i++)
    {
      g_autofree char *text = g_strdup_printf ("[Device desk]\nfingerprint=%s\nsignaling=/s\n"
                                               "session-id=device-1\n%s",
                                               FP_A, damaged[i]);

      g_assert_true (g_file_set_contents_full (file, text, -1, G_FILE_SET_CONTENTS_NONE, 0600,
                                               NULL));
      g_assert_null (backup_device_list (folder, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }

  remove_tree (dir);
}

/* --- links --- */

static BackupDeviceLink *
make_link (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) certificate = rtc_certificate_generate (&error);

  g_assert_no_error (error);
  return backup_device_link_new ("https://sig.example:8443/a b?x=1&y", certificate,
                                 "Anna’s laptop & co");
}

static void
test_link_round_trip (void)
{
  g_autoptr (BackupDeviceLink) link = make_link ();
  g_autoptr (BackupDeviceLink) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = backup_device_link_format (link);
  g_autofree char *pairing = NULL;
  g_autofree char *backup = NULL;
  g_autofree char *fingerprint = NULL;

  g_assert_true (g_str_has_prefix (text, "distributed-backup:pair?v=1&signaling="));
  /* One line of URI characters. */
  for (const char *p = text; *p != '\0'; p++)
    g_assert_true (g_ascii_isalnum (*p) || strchr (":/?&=%-_.~", *p) != NULL);

  parsed = backup_device_link_parse (text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (parsed->signaling, ==, link->signaling);
  g_assert_cmpstr (parsed->name, ==, link->name);
  g_assert_cmpmem (parsed->secret, sizeof parsed->secret, link->secret, sizeof link->secret);
  g_assert_cmpmem (parsed->fingerprint, sizeof parsed->fingerprint, link->fingerprint,
                   sizeof link->fingerprint);

  /* The session ids: valid, the same on both sides, different from each
   * other and from one link to another. */
  pairing = backup_device_link_get_pairing_session (parsed);
  backup = backup_device_link_get_backup_session (parsed);
  g_assert_true (backup_pairing_check_session_id (pairing, NULL));
  g_assert_true (backup_pairing_check_session_id (backup, NULL));
  g_assert_true (g_str_has_prefix (pairing, "pair-"));
  g_assert_true (g_str_has_prefix (backup, "device-"));
  {
    g_autofree char *pairing2 = backup_device_link_get_pairing_session (link);
    g_autofree char *backup2 = backup_device_link_get_backup_session (link);
    g_autoptr (BackupDeviceLink) other = make_link ();
    g_autofree char *backup3 = backup_device_link_get_backup_session (other);

    g_assert_cmpstr (pairing, ==, pairing2);
    g_assert_cmpstr (backup, ==, backup2);
    g_assert_cmpstr (backup, !=, backup3);
    g_assert_cmpstr (pairing + 5, !=, backup + 7);
  }

  /* The colon form of the fingerprint and keys in any order. */
  fingerprint = backup_device_link_get_fingerprint (link);
  {
    g_autofree char *escaped = g_uri_escape_string (fingerprint, NULL, FALSE);
    g_autofree char *secret_part = g_strdup (strstr (text, "&secret="));
    g_autofree char *reordered = NULL;
    g_autoptr (BackupDeviceLink) again = NULL;

    *strstr (secret_part + 1, "&") = '\0';
    reordered = g_strdup_printf ("distributed-backup:pair?name=x%s&signaling=%%2Ftmp&fingerprint=%s",
                                 secret_part, escaped);
    again = backup_device_link_parse (reordered, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (again->fingerprint, 32, link->fingerprint, 32);
    g_assert_cmpstr (again->signaling, ==, "/tmp");
    g_assert_cmpstr (again->name, ==, "x");
  }
}

static void
test_link_errors (void)
{
  const char *fp = "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899";
  const char *secret = "AAECAwQFBgcICQoLDA0ODw";
  struct
  {
    const char *text;
    const char *message;
  } cases[] = {
    { "", "must start" },
    { "hello", "must start" },
    { "https://example.com/pair?x=1", "must start" },
    { "distributed-backup:", "must start" },
    { "distributed-backup:join?v=1", "must start" },
    { "distributed-backup://host/pair?v=1", "must start" },
    { "distributed-backup:pair?v=1&signaling=%2Ftmp&secret=%s&fingerprint=%s", "“name” is missing" },
    { "distributed-backup:pair?v=1&signaling=%2Ftmp&fingerprint=%s&name=a", "“secret” is missing" },
    { "distributed-backup:pair?v=1&secret=%s&fingerprint=%s&name=a", "“signaling” is missing" },
    { "distributed-backup:pair?v=2&signaling=%2Ftmp&secret=%s&fingerprint=%s&name=a", "later version" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=%s&name=a&name=b", "twice" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=abc&name=a", "fingerprint" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=short&fingerprint=%s&name=a", "secret" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=%s&name=%ZZ", "URI" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=%s&name=a%00b", "percent" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=%s&name=a%0Ab", "name" },
    { "distributed-backup:pair?signaling=ftp%3A%2F%2Fx&secret=%s&fingerprint=%s&name=a", "" },
    { "distributed-backup:pair?signaling=%2Ftmp&secret=%s&fingerprint=%s&name=a#frag", "must start" },
    { "distributed-backup:pair?signaling&secret=%s&fingerprint=%s&name=a", "KEY=VALUE" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GString) text = g_string_new (cases[i].text);
      g_autoptr (BackupDeviceLink) link = NULL;

      /* %s stands for a valid secret, then a valid fingerprint. */
      for (guint n = 0; strstr (text->str, "=%s") != NULL; n++)
        {
          gssize at = strstr (text->str, "=%s") - text->str;
          const char *value = g_str_has_prefix (text->str + at - 6, "secret") ? secret : fp;

          g_string_erase (text, at + 1, 2);
          g_string_insert (text, at + 1, value);
        }
      link = backup_device_link_parse (text->str, &error);
      g_assert_null (link);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s → %s", text->str, error->message);
      g_assert_true (g_str_has_prefix (error->message, "Invalid invitation link: "));
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_assert_null (strchr (error->message, '\n'));
      /* The secret is never repeated. */
      g_assert_null (strstr (error->message, secret));
    }

  /* The valid one these were made from. */
  {
    g_autofree char *ok = g_strdup_printf (
        "distributed-backup:pair?v=1&signaling=%%2Ftmp&secret=%s&fingerprint=%s&name=a", secret, fp);
    g_autoptr (BackupDeviceLink) link = backup_device_link_parse (ok, NULL);

    g_assert_nonnull (link);
    for (guint i = 0; i < BACKUP_DEVICE_SECRET_LEN; i++)
      g_assert_cmpuint (link->secret[i], ==, i);
  }
  /* A secret with bits set past its end is not canonical. */
  {
    g_autofree char *bad = g_strdup_printf (
        "distributed-backup:pair?signaling=%%2Ftmp&secret=AAECAwQFBgcICQoLDA0ODx&fingerprint=%s&name=a",
        fp);

    g_assert_null (backup_device_link_parse (bad, NULL));
  }
}

/* --- the proof --- */

static void
test_proof (void)
{
  guint8 secret[BACKUP_DEVICE_SECRET_LEN] = { 1, 2, 3 };
  guint8 other_secret[BACKUP_DEVICE_SECRET_LEN] = { 1, 2, 4 };
  guint8 fp_i[32] = { 0xaa }, fp_j[32] = { 0xbb };
  guint8 proof[BACKUP_DEVICE_PROOF_LEN];
  guint8 again[BACKUP_DEVICE_PROOF_LEN];

  backup_device_compute_proof (secret, fp_i, fp_j, "inviter", "joiner", proof);
  backup_device_compute_proof (secret, fp_i, fp_j, "inviter", "joiner", again);
  g_assert_cmpmem (proof, sizeof proof, again, sizeof again);
  g_assert_true (backup_device_check_proof (secret, fp_i, fp_j, "inviter", "joiner", proof));

  /* Everything it covers matters. */
  g_assert_false (backup_device_check_proof (other_secret, fp_i, fp_j, "inviter", "joiner", proof));
  g_assert_false (backup_device_check_proof (secret, fp_j, fp_i, "inviter", "joiner", proof));
  g_assert_false (backup_device_check_proof (secret, fp_i, fp_i, "inviter", "joiner", proof));
  g_assert_false (backup_device_check_proof (secret, fp_i, fp_j, "joiner", "inviter", proof));
  g_assert_false (backup_device_check_proof (secret, fp_i, fp_j, "inviter", "joine", proof));
  /* Names cannot slide into each other. */
  g_assert_false (backup_device_check_proof (secret, fp_i, fp_j, "inviterj", "oiner", proof));
  proof[31] ^= 1;
  g_assert_false (backup_device_check_proof (secret, fp_i, fp_j, "inviter", "joiner", proof));

  g_assert_true (backup_device_equal_secure ((const guint8 *) "abc", (const guint8 *) "abc", 3));
  g_assert_false (backup_device_equal_secure ((const guint8 *) "abc", (const guint8 *) "abd", 3));
}

/* --- the profile of a paired device --- */

static void
test_profile (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcCertificate) certificate = rtc_certificate_generate (&error);
  g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
  g_autoptr (BackupDevice) device = backup_device_new ("nas", FP_A, "/tmp", "device-42");
  g_autoptr (GFile) destination = g_file_new_for_path (g_get_tmp_dir ());
  g_autoptr (RtcConfiguration) config = NULL;
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (BackupProfile) loaded = NULL;
  g_autofree char *data = NULL;

  backup_profile_set_destination (profile, destination);
  backup_profile_set_device_name (profile, "nas");
  g_assert_false (backup_profile_validate (profile, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  backup_profile_set_device (profile, device, certificate);
  g_assert_true (backup_profile_validate (profile, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (backup_profile_get_session_id (profile), ==, "device-42");
  config = backup_profile_get_rtc_configuration (profile);
  g_assert_true (config->certificate == certificate);
  g_assert_cmpstr (config->peer_fingerprint, ==, FP_A);

  /* A fingerprint that is not one, or one without a certificate. */
  backup_profile_set_peer_fingerprint (profile, "12:34");
  g_assert_false (backup_profile_validate (profile, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  backup_profile_set_peer_fingerprint (profile, FP_A);
  backup_profile_set_certificate (profile, NULL);
  g_assert_false (backup_profile_validate (profile, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Saved as "device", without the session id and signaling it gives. */
  backup_profile_save (profile, key_file, "Profile");
  data = g_key_file_to_data (key_file, NULL, NULL);
  g_assert_nonnull (strstr (data, "device=nas"));
  g_assert_null (strstr (data, "session-id"));
  g_assert_null (strstr (data, "signaling"));
  loaded = backup_profile_load (key_file, "Profile", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (backup_profile_get_device_name (loaded), ==, "nas");
  g_clear_object (&loaded);

  g_key_file_set_string (key_file, "Profile", "session-id", "x");
  g_assert_null (backup_profile_load (key_file, "Profile", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The original mode has no certificate and pins nothing. */
  {
    g_autoptr (BackupProfile) plain = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
    g_autoptr (RtcConfiguration) plain_config = NULL;

    backup_profile_set_session_id (plain, "91c04021-045a-40ad-a4b0-0596cd604d8e");
    plain_config = backup_profile_get_rtc_configuration (plain);
    g_assert_null (plain_config->certificate);
    g_assert_null (plain_config->peer_fingerprint);
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *home = NULL;
  int status;

  home = g_dir_make_tmp ("test-device-home-XXXXXX", NULL);
  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/device/certificate-pem", test_certificate_pem);
  g_test_add_func ("/device/certificate", test_device_certificate);
  g_test_add_func ("/device/names", test_names);
  g_test_add_func ("/device/devices-file", test_devices_file);
  g_test_add_func ("/device/devices-policy", test_devices_policy);
  g_test_add_func ("/device/link-round-trip", test_link_round_trip);
  g_test_add_func ("/device/link-errors", test_link_errors);
  g_test_add_func ("/device/proof", test_proof);
  g_test_add_func ("/device/profile", test_profile);

  status = g_test_run ();
  remove_tree (home);
  return status;
}
