/* test-discovery.c: the verification code, the announcement's TXT records,
 * and a discovery without an Avahi daemon
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The expected codes were computed apart from this program, with Python's
 * hmac module, from the description of backup-discovery.h:
 *
 *   import hmac, hashlib, struct
 *   label = b"distributed-backup verification code v1"
 *   def code(fa, na, fb, nb):
 *       (f1, n1), (f2, n2) = sorted([(fa, na), (fb, nb)])
 *       m = label + b"\0" + struct.pack(">I", len(na)) + f1 + n1 + f2 + n2
 *       d = hmac.new(label, m, hashlib.sha256).digest()
 *       return "%06d" % (int.from_bytes(d[:8], "big") % 10**6)
 *   fa = bytes(range(32)); fb = bytes(range(32, 64))
 *   na = bytes(0xa0 + i for i in range(16)); nb = bytes(0xb0 + i for i in range(16))
 *   code(fa, na, fb, nb)            → "180082"
 *   code(fa, b"", fb, b"")          → "428784"
 *   fs = bytes([0x55] * 32)
 *   code(fs, na, fs, nb)            → "210283" (same fingerprints: by nonce)
 *
 * The discovery itself, with real Avahi daemons, is tested by
 * tests/e2e/test-nearby.sh.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "backup-discovery.h"
#include "backup-error.h"

#define NONCE_LEN 16

typedef struct
{
  guint8 fp_a[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 nonce_a[NONCE_LEN];
  guint8 nonce_b[NONCE_LEN];
} Inputs;

static void
make_inputs (Inputs *in)
{
  for (guint i = 0; i < RTC_CERTIFICATE_FINGERPRINT_LEN; i++)
    {
      in->fp_a[i] = i;
      in->fp_b[i] = 32 + i;
    }
  for (guint i = 0; i < NONCE_LEN; i++)
    {
      in->nonce_a[i] = 0xa0 + i;
      in->nonce_b[i] = 0xb0 + i;
    }
}

static char *
code_of (const Inputs *in)
{
  return backup_device_compute_code (in->fp_a, in->fp_b, in->nonce_a, in->nonce_b, NONCE_LEN);
}

static void
test_code_vectors (void)
{
  Inputs in;
  g_autofree char *code = NULL;
  g_autofree char *swapped = NULL;
  g_autofree char *no_nonce = NULL;
  g_autofree char *same_fp = NULL;
  g_autofree char *same_fp_swapped = NULL;
  guint8 same[RTC_CERTIFICATE_FINGERPRINT_LEN];

  make_inputs (&in);
  code = code_of (&in);
  g_assert_cmpstr (code, ==, "180082");
  g_assert_cmpuint (strlen (code), ==, BACKUP_DISCOVERY_CODE_DIGITS);

  /* Symmetric: either device may be "a". */
  swapped = backup_device_compute_code (in.fp_b, in.fp_a, in.nonce_b, in.nonce_a, NONCE_LEN);
  g_assert_cmpstr (swapped, ==, code);

  no_nonce = backup_device_compute_code (in.fp_a, in.fp_b, NULL, NULL, 0);
  g_assert_cmpstr (no_nonce, ==, "428784");

  memset (same, 0x55, sizeof same);
  same_fp = backup_device_compute_code (same, same, in.nonce_a, in.nonce_b, NONCE_LEN);
  same_fp_swapped = backup_device_compute_code (same, same, in.nonce_b, in.nonce_a, NONCE_LEN);
  g_assert_cmpstr (same_fp, ==, "210283");
  g_assert_cmpstr (same_fp_swapped, ==, "210283");
}

/* Flipping any bit of any input changes the code (for these inputs: a
 * 6-digit code could collide by chance, one time in a million). */
static void
test_code_changes (void)
{
  Inputs in;
  g_autofree char *reference = NULL;
  guint8 *fields[] = { in.fp_a, in.fp_b, in.nonce_a, in.nonce_b };
  gsize sizes[] = { RTC_CERTIFICATE_FINGERPRINT_LEN, RTC_CERTIFICATE_FINGERPRINT_LEN, NONCE_LEN,
                    NONCE_LEN };
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *shorter = NULL;

  make_inputs (&in);
  reference = code_of (&in);
  g_hash_table_add (seen, g_strdup (reference));
  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    for (gsize byte = 0; byte < sizes[f]; byte++)
      for (guint bit = 0; bit < 8; bit++)
        {
          g_autofree char *code = NULL;

          fields[f][byte] ^= 1u << bit;
          code = code_of (&in);
          fields[f][byte] ^= 1u << bit;
          g_assert_cmpstr (code, !=, reference);
          g_assert_cmpuint (strlen (code), ==, 6);
          g_assert_true (strspn (code, "0123456789") == 6);
          g_hash_table_add (seen, g_steal_pointer (&code));
        }
  /* Distinct codes nearly everywhere, as a random function would give. */
  g_assert_cmpuint (g_hash_table_size (seen), >=, 1 + 8 * 96 - 2);
  g_hash_table_unref (seen);

  /* The nonces' length is part of the message. */
  shorter = backup_device_compute_code (in.fp_a, in.fp_b, in.nonce_a, in.nonce_b, NONCE_LEN - 1);
  g_assert_cmpstr (shorter, !=, reference);
}

static void
check_txt (const char *const *records, const char *expected_name, const char *expected_error)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  gboolean ok = backup_discovery_parse_txt (records, fingerprint, &name, &error);

  if (expected_name != NULL)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (name, ==, expected_name);
      for (guint i = 0; i < sizeof fingerprint; i++)
        g_assert_cmpuint (fingerprint[i], ==, 0xa0 + (i % 16));
    }
  else
    {
      g_assert_false (ok);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, expected_error));
      g_assert_null (name);
    }
}

#define FP_HEX "a0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeaf"

static void
test_txt (void)
{
  const char *good[] = { "v=1", "fp=" FP_HEX, "name=Kitchen PC", NULL };
  const char *reordered[] = { "name=Kitchen PC", "other=x", "fp=" FP_HEX, "v=1", "flag", NULL };
  g_autofree char *upper_hex = g_ascii_strup (FP_HEX, -1);
  g_autofree char *upper = g_strconcat ("fp=", upper_hex, NULL);
  const char *upper_case[] = { "v=1", upper, "name=Küche", NULL };
  const char *bad_version[] = { "v=2", "fp=" FP_HEX, "name=x", NULL };
  const char *no_version[] = { "fp=" FP_HEX, "name=x", NULL };
  const char *short_fp[] = { "v=1", "fp=a0a1", "name=x", NULL };
  const char *colons[] = { "v=1", "fp=A0:A1:A2:A3:A4:A5:A6:A7:A8:A9:AA:AB:AC:AD:AE:AF", "name=x",
                           NULL };
  const char *not_hex[] = { "v=1",
                            "fp=g0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
                            "name=x", NULL };
  const char *no_fp[] = { "v=1", "name=x", NULL };
  const char *no_name[] = { "v=1", "fp=" FP_HEX, NULL };
  const char *empty_name[] = { "v=1", "fp=" FP_HEX, "name=", NULL };
  const char *bracket_name[] = { "v=1", "fp=" FP_HEX, "name=[x]", NULL };
  const char *control_name[] = { "v=1", "fp=" FP_HEX, "name=a\tb", NULL };
  const char *twice[] = { "v=1", "fp=" FP_HEX, "name=x", "name=y", NULL };
  const char *empty[] = { NULL };

  check_txt (good, "Kitchen PC", NULL);
  check_txt (reordered, "Kitchen PC", NULL);
  check_txt (upper_case, "Küche", NULL);
  check_txt (bad_version, NULL, "version");
  check_txt (no_version, NULL, "“v”");
  check_txt (short_fp, NULL, "64 hexadecimal");
  check_txt (colons, NULL, "64 hexadecimal");
  check_txt (not_hex, NULL, "64 hexadecimal");
  check_txt (no_fp, NULL, "“fp”");
  check_txt (no_name, NULL, "“name”");
  check_txt (empty_name, NULL, "device name");
  check_txt (bracket_name, NULL, "device name");
  check_txt (control_name, NULL, "device name");
  check_txt (twice, NULL, "twice");
  check_txt (empty, NULL, "“v”");
}

static void
test_short_fingerprint (void)
{
  BackupNearbyDevice device = { 0 };
  g_autofree char *text = NULL;
  g_autoptr (BackupNearbyDevice) copy = NULL;

  for (guint i = 0; i < sizeof device.fingerprint_bytes; i++)
    device.fingerprint_bytes[i] = 0xa0 + i;
  device.name = (char *) "x";
  text = backup_nearby_device_get_short_fingerprint (&device);
  g_assert_cmpstr (text, ==, "A0:A1:A2:A3:A4:A5:A6:A7");
  copy = backup_nearby_device_copy (&device);
  g_assert_cmpstr (copy->name, ==, "x");
  g_assert_cmpmem (copy->fingerprint_bytes, 32, device.fingerprint_bytes, 32);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* No daemon (here: no system bus at all): not available, one clear error,
 * no failure; and the same after a stop. */
static void
test_no_daemon (void)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *dir = g_dir_make_tmp ("test-discovery-XXXXXX", NULL);
  g_autofree char *address = g_strdup_printf ("unix:path=%s/no-bus", dir);
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN] = { 1, 2, 3 };
  g_autoptr (BackupDiscovery) discovery = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  const GError *error;

  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  discovery = backup_discovery_new (fingerprint, "Test device");
  g_assert_false (backup_discovery_get_available (discovery));
  g_assert_nonnull (backup_discovery_get_error (discovery));

  backup_discovery_start (discovery);
  g_timeout_add (200, quit_cb, loop);
  g_main_loop_run (loop);
  g_assert_false (backup_discovery_get_available (discovery));
  error = backup_discovery_get_error (discovery);
  g_assert_error ((GError *) error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "the Avahi daemon is not running");
  g_assert_null (backup_discovery_get_announced_name (discovery));
  devices = backup_discovery_get_devices (discovery);
  g_assert_cmpuint (devices->len, ==, 0);

  backup_discovery_stop (discovery);
  g_assert_false (backup_discovery_get_available (discovery));
  g_assert_nonnull (backup_discovery_get_error (discovery));
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  /* The messages compared are the untranslated ones. */
  g_setenv ("LC_ALL", "C", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/discovery/code-vectors", test_code_vectors);
  g_test_add_func ("/discovery/code-changes", test_code_changes);
  g_test_add_func ("/discovery/txt", test_txt);
  g_test_add_func ("/discovery/short-fingerprint", test_short_fingerprint);
  g_test_add_func ("/discovery/no-daemon", test_no_daemon);
  return g_test_run ();
}
