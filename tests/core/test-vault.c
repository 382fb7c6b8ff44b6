/* test-vault.c: the password file (both formats), its key and its writes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup-error.h"
#include "backup-vault.h"

#define LEGACY_KEY_HEX "4145532d3132382d6b65792d31323334" /* AES-128-key-1234 */
#define LEGACY_IV_HEX "49562d31323334353637383930313233"  /* IV-1234567890123 */

static char *config_home;

static void remove_tree (const char *path);

/* The tests share one private XDG_CONFIG_HOME; each starts without a default
 * key file. */
static void
reset_default_key (void)
{
  g_autofree char *dir = g_build_filename (config_home, "distributed-backup", NULL);

  remove_tree (dir);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static char *
make_tmpdir (void)
{
  GError *error = NULL;
  char *dir;

  reset_default_key ();
  dir = g_dir_make_tmp ("test-vault-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static GBytes *
read_bytes (const char *path)
{
  GError *error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
write_bytes (const char *path, const void *data, gsize len)
{
  GError *error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
assert_round_trip (const char *path, const char *key_file, const char *p1, const char *p2)
{
  GError *error = NULL;
  g_autofree char *r1 = NULL;
  g_autofree char *r2 = NULL;

  backup_vault_read (path, key_file, &r1, &r2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r1, ==, p1);
  g_assert_cmpstr (r2, ==, p2);
}

/* Reading @path fails with @code, and the output arguments stay untouched. */
static void
assert_read_fails (const char *path, const char *key_file, int code, const char *substring)
{
  GError *error = NULL;
  char *r1 = (char *) "untouched";
  char *r2 = (char *) "untouched";

  g_assert_false (backup_vault_read (path, key_file, &r1, &r2, &error));
  g_assert_error (error, BACKUP_ERROR, code);
  if (substring != NULL && strstr (error->message, substring) == NULL)
    g_error ("“%s” does not contain “%s”", error->message, substring);
  g_assert_cmpstr (r1, ==, "untouched");
  g_assert_cmpstr (r2, ==, "untouched");
  g_clear_error (&error);
}

static void
write_ok (const char *path, const char *p1, const char *p2, const char *key_file)
{
  GError *error = NULL;

  g_assert_true (backup_vault_write (path, p1, p2, key_file, &error));
  g_assert_no_error (error);
}

static void
test_round_trip (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *long1 = g_strnfill (BACKUP_VAULT_MAX_PASSWORD, 'x');
  g_autofree char *long2 = g_strnfill (BACKUP_VAULT_MAX_PASSWORD, 'y');
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  const char *pairs[][2] = {
    { "qwerty", "asdfgh" },
    { "", "" },
    { "", "outer only" },
    { "inner only", "" },
    { "pässwörd ✓", "tab\tand space " },
    { "exactly-14-byt", "" }, /* 16 bytes of plaintext: a whole block of padding */
    { long1, long2 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      const guint8 *data;
      gsize len;
      g_autoptr (GBytes) bytes = NULL;

      write_ok (path, pairs[i][0], pairs[i][1], NULL);
      bytes = read_bytes (path);
      data = g_bytes_get_data (bytes, &len);
      g_assert_cmpuint (len % 16, ==, 8);
      g_assert_cmpuint (len, >=, 72);
      g_assert_cmpmem (data, 8, "DBVAULT\x01", 8);
      /* No password appears in the clear. */
      if (strlen (pairs[i][0]) > 3)
        g_assert_null (memmem (data, len, pairs[i][0], strlen (pairs[i][0])));
      assert_round_trip (path, NULL, pairs[i][0], pairs[i][1]);
    }

  /* 255 + 255 bytes: the largest file. */
  first = read_bytes (path);
  g_assert_cmpuint (g_bytes_get_size (first), ==, 8 + 16 + 528 + 32);

  /* A random IV: the same passwords never give the same file. */
  write_ok (path, long1, long2, NULL);
  second = read_bytes (path);
  g_assert_false (g_bytes_equal (first, second));

  g_unlink (path);
  remove_tree (dir);
}

static void
test_too_long (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *too_long = g_strnfill (BACKUP_VAULT_MAX_PASSWORD + 1, 'z');
  GError *error = NULL;

  g_assert_false (backup_vault_write (path, too_long, "b", NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "255"));
  g_clear_error (&error);

  g_assert_false (backup_vault_write (path, "a", too_long, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Password 2"));
  g_clear_error (&error);

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_false (backup_vault_write ("", "a", "b", NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A directory is not a password file. */
  g_assert_false (backup_vault_write (dir, "a", "b", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  assert_read_fails (dir, NULL, BACKUP_ERROR_IO, NULL);

  /* Neither is a FIFO, and reading one does not block. */
  {
    g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    assert_read_fails (fifo, NULL, BACKUP_ERROR_CORRUPT, "not a regular file");
    g_assert_false (backup_vault_write (path, "a", "b", fifo, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);
  }

  remove_tree (dir);
}

static void
test_modes (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *key_dir = g_build_filename (g_get_user_config_dir (), "distributed-backup",
                                               NULL);
  g_autofree char *key_path = g_build_filename (key_dir, "vault.key", NULL);
  g_autofree char *resolved = backup_vault_dup_key_path (NULL);
  g_autoptr (GBytes) key1 = NULL;
  g_autoptr (GBytes) key2 = NULL;
  mode_t old_umask = umask (0);

  /* Even with a permissive umask everything is private. */
  g_assert_cmpstr (resolved, ==, key_path);
  g_assert_false (g_file_test (key_path, G_FILE_TEST_EXISTS));

  write_ok (path, "qwerty", "asdfgh", NULL);
  umask (old_umask);

  g_assert_cmpuint (file_mode (path), ==, 0600);
  g_assert_cmpuint (file_mode (key_path), ==, 0600);
  g_assert_cmpuint (file_mode (key_dir), ==, 0700);
  key1 = read_bytes (key_path);
  g_assert_cmpuint (g_bytes_get_size (key1), ==, 32);

  /* Replacing an existing 0664 file (as the original wrote them) gives 0600,
   * and the key is reused, not recreated. */
  g_assert_cmpint (g_chmod (path, 0664), ==, 0);
  write_ok (path, "new1", "new2", NULL);
  g_assert_cmpuint (file_mode (path), ==, 0600);
  key2 = read_bytes (key_path);
  g_assert_true (g_bytes_equal (key1, key2));
  assert_round_trip (path, NULL, "new1", "new2");

  /* No temporary file is left behind. */
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    guint count = 0;

    while (g_dir_read_name (d) != NULL)
      count++;
    g_assert_cmpuint (count, ==, 1);
  }
  {
    g_autoptr (GDir) d = g_dir_open (key_dir, 0, NULL);
    guint count = 0;

    while (g_dir_read_name (d) != NULL)
      count++;
    g_assert_cmpuint (count, ==, 1);
  }

  remove_tree (dir);
}

static void
test_key_selection (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *env_key = g_build_filename (dir, "env.key", NULL);
  g_autofree char *arg_key = g_build_filename (dir, "sub", "arg.key", NULL);
  g_autofree char *default_key = backup_vault_dup_key_path (NULL);
  g_autofree char *resolved = NULL;

  /* The argument wins over the environment, which wins over the default. */
  g_setenv (BACKUP_VAULT_KEY_ENV, env_key, TRUE);
  resolved = backup_vault_dup_key_path (NULL);
  g_assert_cmpstr (resolved, ==, env_key);
  g_clear_pointer (&resolved, g_free);
  resolved = backup_vault_dup_key_path (arg_key);
  g_assert_cmpstr (resolved, ==, arg_key);

  write_ok (path, "env", "key", NULL);
  g_assert_true (g_file_test (env_key, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (default_key, G_FILE_TEST_EXISTS));
  assert_round_trip (path, NULL, "env", "key");
  assert_round_trip (path, env_key, "env", "key");

  /* Another key cannot read it. */
  write_ok (path, "arg", "key", arg_key);
  g_assert_true (g_file_test (arg_key, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (file_mode (arg_key), ==, 0600);
  assert_round_trip (path, arg_key, "arg", "key");
  assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "written with another key");

  g_unsetenv (BACKUP_VAULT_KEY_ENV);
  /* The default key does not exist: reading never creates it. */
  assert_read_fails (path, NULL, BACKUP_ERROR_NOT_FOUND, "does not exist");
  g_assert_false (g_file_test (default_key, G_FILE_TEST_EXISTS));

  /* Created by a write, it is a third key. */
  write_ok (path, "default", "key", NULL);
  g_assert_true (g_file_test (default_key, G_FILE_TEST_IS_REGULAR));
  assert_round_trip (path, NULL, "default", "key");
  assert_read_fails (path, env_key, BACKUP_ERROR_CORRUPT, "written with another key");
  assert_read_fails (path, arg_key, BACKUP_ERROR_CORRUPT, "written with another key");

  remove_tree (dir);
}

static void
test_bad_key_file (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *key = g_build_filename (dir, "vault.key", NULL);
  guint8 secret[40];
  GError *error = NULL;

  memset (secret, 0x5a, sizeof secret);
  write_ok (path, "a", "b", key);

  /* Group- or world-readable: refused, with the fix in the message. */
  g_assert_cmpint (g_chmod (key, 0640), ==, 0);
  g_assert_false (backup_vault_write (path, "c", "d", key, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_assert_nonnull (strstr (error->message, "chmod 600"));
  g_clear_error (&error);
  assert_read_fails (path, key, BACKUP_ERROR_PERMISSION, "chmod 600");
  g_assert_cmpint (g_chmod (key, 0604), ==, 0);
  assert_read_fails (path, key, BACKUP_ERROR_PERMISSION, "chmod 600");
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  /* The failed write left the file as it was. */
  assert_round_trip (path, key, "a", "b");

  /* Wrong sizes. */
  for (gsize size = 0; size <= sizeof secret; size += 8)
    {
      if (size == 32)
        continue;
      g_unlink (key);
      write_bytes (key, secret, size);
      g_assert_cmpint (g_chmod (key, 0600), ==, 0);
      assert_read_fails (path, key, BACKUP_ERROR_CORRUPT, "32 bytes");
      g_assert_false (backup_vault_write (path, "c", "d", key, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
      g_clear_error (&error);
    }

  /* A directory as key file. */
  g_unlink (key);
  g_assert_cmpint (g_mkdir (key, 0700), ==, 0);
  assert_read_fails (path, key, BACKUP_ERROR_CORRUPT, "regular file");
  g_rmdir (key);

  /* A 32-byte key supplied by the user works, and is used as given. */
  write_bytes (key, secret, 32);
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  write_ok (path, "user", "key", key);
  assert_round_trip (path, key, "user", "key");
  {
    g_autoptr (GBytes) bytes = read_bytes (key);

    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), 32, secret, 32);
  }

  remove_tree (dir);
}

static GBytes *
openssl_legacy (const void *plaintext, gsize len, gboolean nopad)
{
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GBytes) input = g_bytes_new (plaintext, len);
  g_autoptr (GBytes) output = NULL;
  GError *error = NULL;

  if (nopad)
    process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                &error, "openssl", "enc", "-aes-128-cbc", "-nopad", "-K",
                                LEGACY_KEY_HEX, "-iv", LEGACY_IV_HEX, NULL);
  else
    process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                &error, "openssl", "enc", "-aes-128-cbc", "-K", LEGACY_KEY_HEX,
                                "-iv", LEGACY_IV_HEX, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate (process, input, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_steal_pointer (&output);
}

static GBytes *
legacy_plaintext (const char *p1, const char *p2)
{
  GByteArray *array = g_byte_array_new ();
  guint8 len1 = strlen (p1), len2 = strlen (p2);

  g_byte_array_append (array, &len1, 1);
  g_byte_array_append (array, (const guint8 *) p1, len1);
  g_byte_array_append (array, &len2, 1);
  g_byte_array_append (array, (const guint8 *) p2, len2);
  return g_byte_array_free_to_bytes (array);
}

static gboolean
have_openssl (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");

  if (openssl == NULL)
    g_test_skip ("openssl is not installed");
  return openssl != NULL;
}

static void
test_legacy_vector (void)
{
  static const guint8 vector[] = { 0xb1, 0xb5, 0x98, 0x0e, 0x9f, 0xfc, 0x4b, 0xb4,
                                   0xcf, 0x5c, 0x1b, 0xc1, 0x7d, 0x0d, 0x6c, 0xf6 };
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *default_key = backup_vault_dup_key_path (NULL);

  write_bytes (path, vector, sizeof vector);
  assert_round_trip (path, NULL, "qwerty", "asdfgh");
  /* The legacy format needs no key and creates none. */
  g_assert_false (g_file_test (default_key, G_FILE_TEST_EXISTS));

  /* One flipped bit anywhere: garbage in the padding or the lengths. */
  for (gsize i = 0; i < sizeof vector; i++)
    {
      guint8 copy[sizeof vector];

      memcpy (copy, vector, sizeof vector);
      copy[i] ^= 0x01;
      write_bytes (path, copy, sizeof copy);
      assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
    }

  remove_tree (dir);
}

static void
test_legacy_openssl (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *long1 = g_strnfill (255, 'L');
  g_autofree char *long2 = g_strnfill (255, 'M');
  g_autofree char *aligned = g_strnfill (30, 'A'); /* 1 + 30 + 1 + 0 = 32 bytes */
  const char *pairs[][2] = {
    { "qwerty", "asdfgh" },
    { "", "" },
    { "", "second" },
    { "first", "" },
    { "seven77", "seven77" }, /* 16 bytes of plaintext */
    { aligned, "" },
    { long1, long2 },
    { long1, "" },
    { "ünïcødé", "€uro" },
  };

  if (!have_openssl ())
    return;
  dir = make_tmpdir ();
  path = g_build_filename (dir, "passwords.txt", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr (GBytes) plaintext = legacy_plaintext (pairs[i][0], pairs[i][1]);
      g_autoptr (GBytes) ciphertext = openssl_legacy (g_bytes_get_data (plaintext, NULL),
                                                      g_bytes_get_size (plaintext), FALSE);

      g_assert_cmpuint (g_bytes_get_size (ciphertext) % 16, ==, 0);
      write_bytes (path, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));
      assert_round_trip (path, NULL, pairs[i][0], pairs[i][1]);
    }

  /* The seed's vector is what openssl gives. */
  {
    g_autoptr (GBytes) plaintext = legacy_plaintext ("qwerty", "asdfgh");
    g_autoptr (GBytes) ciphertext = openssl_legacy (g_bytes_get_data (plaintext, NULL),
                                                    g_bytes_get_size (plaintext), FALSE);
    g_autofree char *hex = NULL;
    GString *s = g_string_new (NULL);

    for (gsize i = 0; i < g_bytes_get_size (ciphertext); i++)
      g_string_append_printf (s, "%02x", ((const guint8 *) g_bytes_get_data (ciphertext, NULL))[i]);
    hex = g_string_free (s, FALSE);
    g_assert_cmpstr (hex, ==, "b1b5980e9ffc4bb4cf5c1bc17d0d6cf6");
  }

  /* Well padded, but lengths that do not fill the plaintext exactly. */
  {
    static const char *bad[] = {
      "\x03" "abc" "\x02" "de" "X",   /* one byte too many */
      "\x03" "abc" "\x03" "de",       /* one byte short */
      "\x09" "abc",                   /* first length past the end */
      "\x03" "abc",                   /* no second length */
      "\x01",                         /* a single byte */
      "",                             /* nothing but padding */
      "\x01" "a" "\x01" "b" "\0",     /* a trailing NUL byte too many */
    };
    static const gsize bad_len[] = { 8, 7, 4, 4, 1, 0, 5 };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (GBytes) ciphertext = openssl_legacy (bad[i], bad_len[i], FALSE);

        write_bytes (path, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));
        assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
      }
  }

  /* A NUL inside a password is refused (no C string could hold it). */
  {
    static const char with_nul[] = "\x03" "a\0c" "\x01" "d";
    g_autoptr (GBytes) ciphertext = openssl_legacy (with_nul, 6, FALSE);

    write_bytes (path, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));
    assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, NULL);
  }

  /* Exact lengths, but invalid PKCS#7 padding (one block each, no padding
   * added by openssl). */
  {
    static const guint8 bad_padding[][16] = {
      /* 1 + 6 + 1 + 6 bytes, then padding 0 */
      { 6, 'q', 'w', 'e', 'r', 't', 'y', 6, 'a', 's', 'd', 'f', 'g', 'h', 0x00, 0x00 },
      /* inconsistent padding bytes */
      { 6, 'q', 'w', 'e', 'r', 't', 'y', 6, 'a', 's', 'd', 'f', 'g', 'h', 0x03, 0x02 },
      /* padding 17 */
      { 6, 'q', 'w', 'e', 'r', 't', 'y', 6, 'a', 's', 'd', 'f', 'g', 'h', 0x11, 0x11 },
      /* valid padding 2, but the lengths fill only 13 of 14 bytes */
      { 6, 'q', 'w', 'e', 'r', 't', 'y', 5, 'a', 's', 'd', 'f', 'g', 0x03, 0x02, 0x02 },
      /* padding 16 claimed by a block that is not all padding */
      { 0, 0, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad_padding); i++)
      {
        g_autoptr (GBytes) ciphertext = openssl_legacy (bad_padding[i], 16, TRUE);

        g_assert_cmpuint (g_bytes_get_size (ciphertext), ==, 16);
        write_bytes (path, g_bytes_get_data (ciphertext, NULL), g_bytes_get_size (ciphertext));
        assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
      }
  }

  remove_tree (dir);
}

static void
test_tampered (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autoptr (GBytes) original = NULL;
  const guint8 *data;
  gsize len;
  /* magic, version, IV, first and last ciphertext blocks, MAC */
  gsize offsets[] = { 0, 6, 8, 23, 24, 0, 0, 0, 0 };

  write_ok (path, "a password of some length", "and another, a bit longer", NULL);
  original = read_bytes (path);
  data = g_bytes_get_data (original, &len);
  g_assert_cmpuint (len, ==, 8 + 16 + 64 + 32);
  offsets[5] = len - 32 - 1;
  offsets[6] = len - 32;
  offsets[7] = len - 16;
  offsets[8] = len - 1;

  for (gsize i = 0; i < G_N_ELEMENTS (offsets); i++)
    for (guint bit = 0; bit < 8; bit += 7)
      {
        g_autofree guint8 *copy = g_memdup2 (data, len);

        copy[offsets[i]] ^= 1u << bit;
        write_bytes (path, copy, len);
        assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, NULL);
      }

  /* Another version byte is named as such. */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);

    copy[7] = 2;
    write_bytes (path, copy, len);
    assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "format 2");
  }

  /* Every byte of the ciphertext and the MAC. */
  for (gsize i = 8; i < len; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);

      copy[i] ^= 0x80;
      write_bytes (path, copy, len);
      assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "written with another key");
    }

  /* Truncated at many lengths, or extended. */
  for (gsize cut = 0; cut < len; cut++)
    {
      write_bytes (path, data, cut);
      assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
    }
  {
    g_autofree guint8 *longer = g_malloc0 (len + 16);

    memcpy (longer, data, len);
    write_bytes (path, longer, len + 16);
    assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
    write_bytes (path, longer, len + 1);
    assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
  }

  /* Intact, it still reads. */
  write_bytes (path, data, len);
  assert_round_trip (path, NULL, "a password of some length", "and another, a bit longer");

  remove_tree (dir);
}

static void
test_foreign (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "foreign", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
  const char *text = "This is a text file, not a password file at all.\n"
                     "It has two lines and sixty-four bytes of text...\n";
  const gsize sizes[] = { 1, 15, 16, 32, 64, 72, 88, 100, 528, 584, 4096 };

  write_bytes (path, "", 0);
  assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");

  write_bytes (path, text, strlen (text));
  assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");
  write_bytes (path, text, 64);
  assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "not a valid password file");

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint round = 0; round < 4; round++)
      {
        g_autofree guint8 *random = g_malloc (sizes[i]);

        for (gsize j = 0; j < sizes[i]; j++)
          random[j] = g_rand_int_range (rand, 0, 256);
        /* Half of them with a valid header: the MAC must stop them. */
        if (round % 2 == 1 && sizes[i] >= 8)
          memcpy (random, "DBVAULT\x01", 8);
        write_bytes (path, random, sizes[i]);
        assert_read_fails (path, NULL, round % 2 == 1 && sizes[i] >= 72 && sizes[i] % 16 == 8
                                         ? BACKUP_ERROR_NOT_FOUND /* no key in this test */
                                         : BACKUP_ERROR_CORRUPT,
                           NULL);
      }

  assert_read_fails (missing, NULL, BACKUP_ERROR_NOT_FOUND, "missing");

  remove_tree (dir);
}

static void
test_foreign_with_key (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "foreign", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);

  /* Create the key, then feed files with a valid header and random rest. */
  write_ok (path, "x", "y", NULL);
  for (gsize size = 72; size <= 584; size += 16)
    {
      g_autofree guint8 *random = g_malloc (size);

      for (gsize j = 0; j < size; j++)
        random[j] = g_rand_int_range (rand, 0, 256);
      memcpy (random, "DBVAULT\x01", 8);
      write_bytes (path, random, size);
      assert_read_fails (path, NULL, BACKUP_ERROR_CORRUPT, "written with another key");
    }

  remove_tree (dir);
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint count = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    count++;
  return count;
}

static void
test_atomic (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *key = g_build_filename (dir, "key", "vault.key", NULL);
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  GError *error = NULL;
  int status;
  pid_t pid;

  write_ok (path, "old1", "old2", key);
  before = read_bytes (path);

  /* A write that fails half-way (the file size limit makes write() fail
   * with EFBIG after 40 bytes) leaves the old file and no temporary. */
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit limit = { 40, 40 };
      GError *child_error = NULL;
      gboolean ok;

      signal (SIGXFSZ, SIG_IGN);
      setrlimit (RLIMIT_FSIZE, &limit);
      ok = backup_vault_write (path, "new1", "new2", key, &child_error);
      if (ok)
        _exit (10);
      if (!g_error_matches (child_error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE))
        _exit (11);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  after = read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_cmpuint (count_entries (dir), ==, 2); /* passwords.txt and key/ */
  assert_round_trip (path, key, "old1", "old2");

  /* A directory that does not exist. */
  {
    g_autofree char *nowhere = g_build_filename (dir, "nowhere", "passwords.txt", NULL);

    g_assert_false (backup_vault_write (nowhere, "a", "b", key, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  /* A read-only directory (permissions do not stop root). */
  if (geteuid () != 0)
    {
      g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
      g_assert_false (backup_vault_write (path, "new1", "new2", key, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
      g_clear_error (&error);
      g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
      g_clear_pointer (&after, g_bytes_unref);
      after = read_bytes (path);
      g_assert_true (g_bytes_equal (before, after));
      g_assert_cmpuint (count_entries (dir), ==, 2);
    }

  remove_tree (dir);
}

/* Several processes creating the key at once end up sharing one key: a
 * key is never replaced once it exists. */
static void
test_concurrent_key_creation (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *key = g_build_filename (dir, "keys", "vault.key", NULL);
  pid_t children[8];
  int barrier[2];
  char byte;

  /* The children start together when the parent closes the pipe. */
  g_assert_cmpint (pipe (barrier), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      children[i] = fork ();
      g_assert_cmpint (children[i], >=, 0);
      if (children[i] == 0)
        {
          g_autofree char *path = g_strdup_printf ("%s/passwords-%u.txt", dir, i);

          close (barrier[1]);
          if (read (barrier[0], &byte, 1) != 0)
            _exit (2);
          _exit (backup_vault_write (path, "same", "key", key, NULL) ? 0 : 1);
        }
    }
  close (barrier[0]);
  close (barrier[1]);
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      int status;

      g_assert_cmpint (waitpid (children[i], &status, 0), ==, children[i]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/passwords-%u.txt", dir, i);

      assert_round_trip (path, key, "same", "key");
    }
  {
    g_autofree char *keys = g_build_filename (dir, "keys", NULL);

    g_assert_cmpuint (count_entries (keys), ==, 1);
  }

  remove_tree (dir);
}

typedef struct
{
  GMainLoop *loop;
  GError *error;
  char *password1;
  char *password2;
  gboolean done;
} AsyncData;

static void
write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncData *data = user_data;

  g_assert_null (source);
  backup_vault_write_finish (result, &data->error);
  data->done = TRUE;
  g_main_loop_quit (data->loop);
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncData *data = user_data;

  backup_vault_read_finish (result, &data->password1, &data->password2, &data->error);
  data->done = TRUE;
  g_main_loop_quit (data->loop);
}

static void
test_async (void)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *garbage = g_build_filename (dir, "garbage", NULL);
  AsyncData data = { 0 };

  data.loop = g_main_loop_new (NULL, FALSE);

  backup_vault_write_async (path, "async1", "async2", NULL, NULL, write_done, &data);
  g_assert_false (data.done); /* never completes synchronously */
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);

  data.done = FALSE;
  backup_vault_read_async (path, NULL, NULL, read_done, &data);
  g_main_loop_run (data.loop);
  g_assert_no_error (data.error);
  g_assert_cmpstr (data.password1, ==, "async1");
  g_assert_cmpstr (data.password2, ==, "async2");
  g_clear_pointer (&data.password1, backup_vault_password_free);
  g_clear_pointer (&data.password2, backup_vault_password_free);

  write_bytes (garbage, "garbage", 7);
  data.done = FALSE;
  backup_vault_read_async (garbage, NULL, NULL, read_done, &data);
  g_main_loop_run (data.loop);
  g_assert_error (data.error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
  g_assert_null (data.password1);
  g_clear_error (&data.error);

  /* Cancelled before it starts. */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    data.done = FALSE;
    backup_vault_read_async (path, NULL, cancellable, read_done, &data);
    g_main_loop_run (data.loop);
    g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&data.error);
  }

  g_main_loop_unref (data.loop);
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_unsetenv (BACKUP_VAULT_KEY_ENV);
  config_home = g_dir_make_tmp ("test-vault-config-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_assert_cmpstr (g_get_user_config_dir (), ==, config_home);

  g_test_add_func ("/vault/round-trip", test_round_trip);
  g_test_add_func ("/vault/too-long", test_too_long);
  g_test_add_func ("/vault/modes", test_modes);
  g_test_add_func ("/vault/key-selection", test_key_selection);
  g_test_add_func ("/vault/bad-key-file", test_bad_key_file);
  g_test_add_func ("/vault/legacy/vector", test_legacy_vector);
  g_test_add_func ("/vault/legacy/openssl", test_legacy_openssl);
  g_test_add_func ("/vault/tampered", test_tampered);
  g_test_add_func ("/vault/foreign", test_foreign);
  g_test_add_func ("/vault/foreign-with-key", test_foreign_with_key);
  g_test_add_func ("/vault/atomic", test_atomic);
  g_test_add_func ("/vault/concurrent-key-creation", test_concurrent_key_creation);
  g_test_add_func ("/vault/async", test_async);

  status = g_test_run ();
  remove_tree (config_home);
  g_free (config_home);
  return status;
}
