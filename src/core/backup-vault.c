/* backup-vault.c: the password file of encryption mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the legacy and the current formats, the per-user key and the
 * atomic 0600 write are one small security boundary, best read together.
 *
 * The formats are described in backup-vault.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "backup-error.h"
#include "backup-vault.h"

#define MAGIC "DBVAULT"
#define MAGIC_LEN 7
#define VERSION 0x01
#define HEADER_LEN (MAGIC_LEN + 1)
#define IV_LEN 16
#define BLOCK_LEN 16
#define MAC_LEN 32
#define SUBKEY_LEN 32
/* len(p1) p1 len(p2) p2 */
#define MAX_PLAINTEXT (2 + 2 * BACKUP_VAULT_MAX_PASSWORD)
/* ... padded: always at least one byte of padding. */
#define MAX_PADDED ((MAX_PLAINTEXT / BLOCK_LEN + 1) * BLOCK_LEN)
#define MIN_FILE_LEN (HEADER_LEN + IV_LEN + BLOCK_LEN + MAC_LEN)
#define MAX_FILE_LEN (HEADER_LEN + IV_LEN + MAX_PADDED + MAC_LEN)

#define HKDF_SALT "distributed-backup vault 1"
#define HKDF_INFO_ENCRYPTION "encryption"
#define HKDF_INFO_AUTHENTICATION "authentication"

/* The original tool's key and IV, compiled into it. */
#define LEGACY_KEY "AES-128-key-1234"
#define LEGACY_IV "IV-1234567890123"

typedef struct
{
  guint8 encryption[SUBKEY_LEN];
  guint8 authentication[SUBKEY_LEN];
} VaultKeys;

static void
wipe (void *data, gsize len)
{
  if (data != NULL && len > 0)
    gnutls_memset (data, 0, len);
}

void
backup_vault_password_free (char *password)
{
  if (password == NULL)
    return;
  wipe (password, strlen (password));
  g_free (password);
}

static void G_GNUC_PRINTF (3, 0)
set_errno_error_valist (GError **error, int errsv, const char *format, va_list args)
{
  g_autofree char *what = g_strdup_vprintf (format, args);

  g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv), "%s: %s", what,
               g_strerror (errsv));
}

static void G_GNUC_PRINTF (3, 4)
set_errno_error (GError **error, int errsv, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  set_errno_error_valist (error, errsv, format, args);
  va_end (args);
}

static void
set_corrupt_error (GError **error, const char *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
               _("“%s” is not a valid password file or was written with another key"), display);
}

static gboolean
check_gnutls (int ret, GError **error)
{
  if (ret >= 0)
    return TRUE;
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _("Cryptographic operation failed: %s"),
               gnutls_strerror (ret));
  return FALSE;
}

char *
backup_vault_dup_key_path (const char *key_file)
{
  const char *env;

  if (key_file != NULL && key_file[0] != '\0')
    return g_strdup (key_file);

  env = g_getenv (BACKUP_VAULT_KEY_ENV);
  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  return g_build_filename (g_get_user_config_dir (), "distributed-backup", "vault.key", NULL);
}

/* Reads up to @len bytes, stopping early only at the end of the file.
 * Returns the number of bytes read, or -1 with errno set. */
static gssize
read_full (int fd, guint8 *buffer, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = read (fd, buffer + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += n;
    }

  return done;
}

static gboolean
write_full (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

static void
sync_directory (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

/* Writes @data to a new temporary file in @dir (mode 0600) and syncs it.
 * Returns the temporary file's path. */
static char *
write_temporary (const char *dir,
                 const char *prefix,
                 const guint8 *data,
                 gsize len,
                 const char *final_path,
                 GError **error)
{
  g_autofree char *template = g_strdup_printf ("%s%s.%s-XXXXXX", dir, G_DIR_SEPARATOR_S, prefix);
  g_autofree char *display = g_filename_display_name (final_path);
  int fd;

  fd = g_mkstemp_full (template, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot write “%s”"), display);
      return NULL;
    }

  if (!write_full (fd, data, len) || fsync (fd) < 0)
    {
      int errsv = errno;

      close (fd);
      g_unlink (template);
      set_errno_error (error, errsv, _("Cannot write “%s”"), display);
      return NULL;
    }

  if (close (fd) < 0)
    {
      int errsv = errno;

      g_unlink (template);
      set_errno_error (error, errsv, _("Cannot write “%s”"), display);
      return NULL;
    }

  return g_steal_pointer (&template);
}

static gboolean
create_key (const char *key_path, guint8 key[BACKUP_VAULT_KEY_SIZE], GError **error)
{
  g_autofree char *dir = g_path_get_dirname (key_path);
  g_autofree char *display = g_filename_display_name (key_path);
  g_autofree char *temporary = NULL;
  int ret;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      set_errno_error (error, errno, _("Cannot create the directory of the key file “%s”"),
                       display);
      return FALSE;
    }

  ret = gnutls_rnd (GNUTLS_RND_KEY, key, BACKUP_VAULT_KEY_SIZE);
  if (!check_gnutls (ret, error))
    return FALSE;

  temporary = write_temporary (dir, "vault-key", key, BACKUP_VAULT_KEY_SIZE, key_path, error);
  if (temporary == NULL)
    {
      wipe (key, BACKUP_VAULT_KEY_SIZE);
      return FALSE;
    }

  /* link() never replaces a key another process created meanwhile. */
  if (link (temporary, key_path) < 0)
    {
      int errsv = errno;

      g_unlink (temporary);
      wipe (key, BACKUP_VAULT_KEY_SIZE);
      if (errsv == EEXIST)
        return FALSE; /* without error: the caller loads the existing key */
      set_errno_error (error, errsv, _("Cannot create the key file “%s”"), display);
      return FALSE;
    }

  g_unlink (temporary);
  sync_directory (dir);
  g_debug ("Created a new vault key file");
  return TRUE;
}

static gboolean
load_key (const char *key_path,
          gboolean create,
          guint8 key[BACKUP_VAULT_KEY_SIZE],
          GError **error)
{
  g_autofree char *display = g_filename_display_name (key_path);
  guint8 extra;
  struct stat st;
  gssize n;
  int fd;

  for (guint attempt = 0;; attempt++)
    {
      GError *local_error = NULL;

      fd = open (key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
      if (fd >= 0)
        break;
      if (errno != ENOENT || !create || attempt > 0)
        {
          if (errno == ENOENT)
            g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                         _("The key file “%s” does not exist: the password file was written "
                           "with another key (see --vault-key)"),
                         display);
          else
            set_errno_error (error, errno, _("Cannot read the key file “%s”"), display);
          return FALSE;
        }
      if (create_key (key_path, key, &local_error))
        return TRUE;
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      /* Created by another process meanwhile: read it. */
    }

  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;

      close (fd);
      set_errno_error (error, errsv, _("Cannot read the key file “%s”"), display);
      return FALSE;
    }

  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The key file “%s” is not a regular file"), display);
      return FALSE;
    }

  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                   _("The key file “%s” is accessible by other users; make it private with "
                     "“chmod 600 %s”"),
                   display, display);
      return FALSE;
    }

  if (st.st_size != BACKUP_VAULT_KEY_SIZE)
    {
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The key file “%s” must hold exactly %d bytes, not %lld"),
                   display, BACKUP_VAULT_KEY_SIZE, (long long) st.st_size);
      return FALSE;
    }

  n = read_full (fd, key, BACKUP_VAULT_KEY_SIZE);
  if (n == BACKUP_VAULT_KEY_SIZE && read_full (fd, &extra, 1) == 0)
    {
      close (fd);
      return TRUE;
    }

  {
    int errsv = errno;

    close (fd);
    wipe (key, BACKUP_VAULT_KEY_SIZE);
    if (n < 0)
      set_errno_error (error, errsv, _("Cannot read the key file “%s”"), display);
    else
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The key file “%s” must hold exactly %d bytes"), display,
                   BACKUP_VAULT_KEY_SIZE);
    return FALSE;
  }
}

static gboolean
derive_keys (const guint8 secret[BACKUP_VAULT_KEY_SIZE], VaultKeys *keys, GError **error)
{
  guint8 prk[32];
  gnutls_datum_t ikm = { (unsigned char *) secret, BACKUP_VAULT_KEY_SIZE };
  gnutls_datum_t salt = { (unsigned char *) HKDF_SALT, sizeof HKDF_SALT - 1 };
  gnutls_datum_t prk_datum = { prk, sizeof prk };
  gnutls_datum_t info_encryption = { (unsigned char *) HKDF_INFO_ENCRYPTION,
                                     sizeof HKDF_INFO_ENCRYPTION - 1 };
  gnutls_datum_t info_authentication = { (unsigned char *) HKDF_INFO_AUTHENTICATION,
                                         sizeof HKDF_INFO_AUTHENTICATION - 1 };
  int ret;

  ret = gnutls_hkdf_extract (GNUTLS_MAC_SHA256, &ikm, &salt, prk);
  if (ret >= 0)
    ret = gnutls_hkdf_expand (GNUTLS_MAC_SHA256, &prk_datum, &info_encryption,
                              keys->encryption, SUBKEY_LEN);
  if (ret >= 0)
    ret = gnutls_hkdf_expand (GNUTLS_MAC_SHA256, &prk_datum, &info_authentication,
                              keys->authentication, SUBKEY_LEN);
  wipe (prk, sizeof prk);
  if (ret < 0)
    wipe (keys, sizeof *keys);

  return check_gnutls (ret, error);
}

static gboolean
load_keys (const char *key_file, gboolean create, VaultKeys *keys, GError **error)
{
  g_autofree char *key_path = backup_vault_dup_key_path (key_file);
  guint8 secret[BACKUP_VAULT_KEY_SIZE];
  gboolean ok;

  if (!load_key (key_path, create, secret, error))
    return FALSE;
  ok = derive_keys (secret, keys, error);
  wipe (secret, sizeof secret);
  return ok;
}

static gboolean
cbc (gnutls_cipher_algorithm_t algorithm,
     gboolean encrypt,
     const guint8 *key,
     gsize key_len,
     const guint8 *iv,
     const guint8 *input,
     guint8 *output,
     gsize len,
     GError **error)
{
  gnutls_cipher_hd_t handle = NULL;
  gnutls_datum_t key_datum = { (unsigned char *) key, key_len };
  gnutls_datum_t iv_datum = { (unsigned char *) iv, IV_LEN };
  int ret;

  ret = gnutls_cipher_init (&handle, algorithm, &key_datum, &iv_datum);
  if (!check_gnutls (ret, error))
    return FALSE;
  if (encrypt)
    ret = gnutls_cipher_encrypt2 (handle, input, len, output, len);
  else
    ret = gnutls_cipher_decrypt2 (handle, input, len, output, len);
  gnutls_cipher_deinit (handle);

  return check_gnutls (ret, error);
}

/* Checks the PKCS#7 padding and the layout len(p1) p1 len(p2) p2 of
 * @plaintext; the lengths must fill it exactly. */
static gboolean
parse_plaintext (const guint8 *plaintext, gsize len, char **password1, char **password2)
{
  guint padding;
  gsize content, len1, len2;

  if (len == 0 || len % BLOCK_LEN != 0)
    return FALSE;

  padding = plaintext[len - 1];
  if (padding < 1 || padding > BLOCK_LEN)
    return FALSE;
  for (gsize i = len - padding; i < len; i++)
    if (plaintext[i] != padding)
      return FALSE;

  content = len - padding;
  if (content < 2)
    return FALSE;
  len1 = plaintext[0];
  if (1 + len1 + 1 > content)
    return FALSE;
  len2 = plaintext[1 + len1];
  if (1 + len1 + 1 + len2 != content)
    return FALSE;

  if (memchr (plaintext + 1, '\0', len1) != NULL
      || memchr (plaintext + 2 + len1, '\0', len2) != NULL)
    return FALSE;

  *password1 = g_strndup ((const char *) plaintext + 1, len1);
  *password2 = g_strndup ((const char *) plaintext + 2 + len1, len2);
  return TRUE;
}

static gboolean
check_password (const char *password, guint number, GError **error)
{
  gsize len;

  g_return_val_if_fail (password != NULL, FALSE);

  len = strlen (password);
  if (len > BACKUP_VAULT_MAX_PASSWORD)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("Password %u is %zu bytes long; a password file holds at "
                     "most %d bytes per password"),
                   number, len, BACKUP_VAULT_MAX_PASSWORD);
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_vault_write (const char *path,
                    const char *password1,
                    const char *password2,
                    const char *key_file,
                    GError **error)
{
  guint8 plaintext[MAX_PADDED];
  guint8 file[MAX_FILE_LEN];
  VaultKeys keys;
  g_autofree char *display = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *temporary = NULL;
  gsize len1, len2, content, padded, file_len;
  guint8 *iv = file + HEADER_LEN;
  guint8 *ciphertext = iv + IV_LEN;
  gboolean ok;
  int ret;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (password1 != NULL, FALSE);
  g_return_val_if_fail (password2 != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display = g_filename_display_name (path);
  if (path[0] == '\0')
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("The password file name is empty"));
      return FALSE;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      set_errno_error (error, EISDIR, _("Cannot write “%s”"), display);
      return FALSE;
    }
  if (!check_password (password1, 1, error) || !check_password (password2, 2, error))
    return FALSE;

  if (!load_keys (key_file, TRUE, &keys, error))
    return FALSE;

  len1 = strlen (password1);
  len2 = strlen (password2);
  content = 2 + len1 + len2;
  padded = (content / BLOCK_LEN + 1) * BLOCK_LEN;
  plaintext[0] = len1;
  memcpy (plaintext + 1, password1, len1);
  plaintext[1 + len1] = len2;
  memcpy (plaintext + 2 + len1, password2, len2);
  memset (plaintext + content, padded - content, padded - content);

  memcpy (file, MAGIC, MAGIC_LEN);
  file[MAGIC_LEN] = VERSION;
  ret = gnutls_rnd (GNUTLS_RND_RANDOM, iv, IV_LEN);
  ok = check_gnutls (ret, error)
       && cbc (GNUTLS_CIPHER_AES_256_CBC, TRUE, keys.encryption, SUBKEY_LEN, iv, plaintext,
               ciphertext, padded, error);
  wipe (plaintext, sizeof plaintext);
  if (ok)
    {
      ret = gnutls_hmac_fast (GNUTLS_MAC_SHA256, keys.authentication, SUBKEY_LEN, file,
                              HEADER_LEN + IV_LEN + padded, ciphertext + padded);
      ok = check_gnutls (ret, error);
    }
  wipe (&keys, sizeof keys);
  if (!ok)
    return FALSE;

  file_len = HEADER_LEN + IV_LEN + padded + MAC_LEN;
  dir = g_path_get_dirname (path);
  temporary = write_temporary (dir, "passfile", file, file_len, path, error);
  if (temporary == NULL)
    return FALSE;

  if (g_rename (temporary, path) < 0)
    {
      int errsv = errno;

      g_unlink (temporary);
      set_errno_error (error, errsv, _("Cannot write “%s”"), display);
      return FALSE;
    }
  sync_directory (dir);

  g_debug ("Wrote a password file (format %d)", VERSION);
  return TRUE;
}

static gboolean
read_new_format (const char *path,
                 const char *key_file,
                 const guint8 *file,
                 gsize file_len,
                 char **password1,
                 char **password2,
                 GError **error)
{
  guint8 plaintext[MAX_PADDED];
  guint8 mac[MAC_LEN];
  VaultKeys keys;
  gsize padded;
  gboolean ok;
  int ret;

  if (file[MAGIC_LEN] != VERSION)
    {
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("“%s” is a password file of format %u, which this version cannot read"),
                   display, file[MAGIC_LEN]);
      return FALSE;
    }

  if (file_len < MIN_FILE_LEN || file_len > MAX_FILE_LEN
      || (file_len - HEADER_LEN - IV_LEN - MAC_LEN) % BLOCK_LEN != 0)
    {
      set_corrupt_error (error, path);
      return FALSE;
    }
  padded = file_len - HEADER_LEN - IV_LEN - MAC_LEN;

  if (!load_keys (key_file, FALSE, &keys, error))
    return FALSE;

  ret = gnutls_hmac_fast (GNUTLS_MAC_SHA256, keys.authentication, SUBKEY_LEN, file,
                          file_len - MAC_LEN, mac);
  if (!check_gnutls (ret, error))
    {
      wipe (&keys, sizeof keys);
      return FALSE;
    }
  if (gnutls_memcmp (mac, file + file_len - MAC_LEN, MAC_LEN) != 0)
    {
      wipe (&keys, sizeof keys);
      set_corrupt_error (error, path);
      return FALSE;
    }

  ok = cbc (GNUTLS_CIPHER_AES_256_CBC, FALSE, keys.encryption, SUBKEY_LEN, file + HEADER_LEN,
            file + HEADER_LEN + IV_LEN, plaintext, padded, error);
  wipe (&keys, sizeof keys);
  if (ok && !parse_plaintext (plaintext, padded, password1, password2))
    {
      set_corrupt_error (error, path);
      ok = FALSE;
    }
  wipe (plaintext, sizeof plaintext);
  return ok;
}

static gboolean
read_legacy_format (const char *path,
                    const guint8 *file,
                    gsize file_len,
                    char **password1,
                    char **password2,
                    GError **error)
{
  guint8 plaintext[MAX_PADDED];
  gboolean ok;

  if (file_len == 0 || file_len > MAX_PADDED || file_len % BLOCK_LEN != 0)
    {
      set_corrupt_error (error, path);
      return FALSE;
    }

  ok = cbc (GNUTLS_CIPHER_AES_128_CBC, FALSE, (const guint8 *) LEGACY_KEY, 16,
            (const guint8 *) LEGACY_IV, file, plaintext, file_len, error);
  if (ok && !parse_plaintext (plaintext, file_len, password1, password2))
    {
      set_corrupt_error (error, path);
      ok = FALSE;
    }
  wipe (plaintext, sizeof plaintext);
  if (ok)
    g_debug ("Read a password file of the original format");
  return ok;
}

gboolean
backup_vault_read (const char *path,
                   const char *key_file,
                   char **password1,
                   char **password2,
                   GError **error)
{
  /* One byte more than the largest valid file, to see that a file is too long. */
  guint8 file[MAX_FILE_LEN + 1];
  g_autofree char *display = NULL;
  char *p1 = NULL, *p2 = NULL;
  struct stat st;
  gssize n;
  gboolean ok;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (password1 != NULL, FALSE);
  g_return_val_if_fail (password2 != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display = g_filename_display_name (path);
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot read the password file “%s”"), display);
      return FALSE;
    }
  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;

      close (fd);
      set_errno_error (error, errsv, _("Cannot read the password file “%s”"), display);
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      close (fd);
      set_errno_error (error, EISDIR, _("Cannot read the password file “%s”"), display);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("Cannot read the password file “%s”: not a regular file"), display);
      return FALSE;
    }

  n = read_full (fd, file, sizeof file);
  if (n < 0)
    {
      int errsv = errno;

      close (fd);
      set_errno_error (error, errsv, _("Cannot read the password file “%s”"), display);
      return FALSE;
    }
  close (fd);

  if (n > MAX_FILE_LEN)
    {
      set_corrupt_error (error, path);
      return FALSE;
    }

  if (n >= HEADER_LEN && memcmp (file, MAGIC, MAGIC_LEN) == 0)
    ok = read_new_format (path, key_file, file, n, &p1, &p2, error);
  else
    ok = read_legacy_format (path, file, n, &p1, &p2, error);
  wipe (file, sizeof file);

  if (!ok)
    return FALSE;

  *password1 = p1;
  *password2 = p2;
  return TRUE;
}

/* Asynchronous wrappers: the work (key creation, fsync) runs in a worker thread. */

typedef struct
{
  char *path;
  char *password1;
  char *password2;
  char *key_file;
} VaultTaskData;

static void
vault_task_data_free (VaultTaskData *data)
{
  g_free (data->path);
  g_clear_pointer (&data->password1, backup_vault_password_free);
  g_clear_pointer (&data->password2, backup_vault_password_free);
  g_free (data->key_file);
  g_free (data);
}

static void
write_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  VaultTaskData *data = task_data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (backup_vault_write (data->path, data->password1, data->password2, data->key_file, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
backup_vault_write_async (const char *path,
                          const char *password1,
                          const char *password2,
                          const char *key_file,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  VaultTaskData *data;

  g_return_if_fail (path != NULL);
  g_return_if_fail (password1 != NULL);
  g_return_if_fail (password2 != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_vault_write_async);
  data = g_new0 (VaultTaskData, 1);
  data->path = g_strdup (path);
  data->password1 = g_strdup (password1);
  data->password2 = g_strdup (password2);
  data->key_file = g_strdup (key_file);
  g_task_set_task_data (task, data, (GDestroyNotify) vault_task_data_free);
  g_task_run_in_thread (task, write_worker);
}

gboolean
backup_vault_write_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_vault_write_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
read_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  VaultTaskData *data = task_data;
  GError *error = NULL;
  VaultTaskData *result;

  if (g_task_return_error_if_cancelled (task))
    return;

  result = g_new0 (VaultTaskData, 1);
  if (backup_vault_read (data->path, data->key_file, &result->password1, &result->password2,
                         &error))
    g_task_return_pointer (task, result, (GDestroyNotify) vault_task_data_free);
  else
    {
      vault_task_data_free (result);
      g_task_return_error (task, error);
    }
}

void
backup_vault_read_async (const char *path,
                         const char *key_file,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  VaultTaskData *data;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_vault_read_async);
  data = g_new0 (VaultTaskData, 1);
  data->path = g_strdup (path);
  data->key_file = g_strdup (key_file);
  g_task_set_task_data (task, data, (GDestroyNotify) vault_task_data_free);
  g_task_run_in_thread (task, read_worker);
}

gboolean
backup_vault_read_finish (GAsyncResult *result,
                          char **password1,
                          char **password2,
                          GError **error)
{
  VaultTaskData *passwords;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_vault_read_async,
                        FALSE);
  g_return_val_if_fail (password1 != NULL, FALSE);
  g_return_val_if_fail (password2 != NULL, FALSE);

  passwords = g_task_propagate_pointer (G_TASK (result), error);
  if (passwords == NULL)
    return FALSE;

  *password1 = g_steal_pointer (&passwords->password1);
  *password2 = g_steal_pointer (&passwords->password2);
  vault_task_data_free (passwords);
  return TRUE;
}
