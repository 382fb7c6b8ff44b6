/* backup-device.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "backup-device.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-secrets.h"
#include "backup-signaling-open.h"
#include "rtc-sdp.h"

#define KEY_FILE_NAME "key.pem"
#define CERTIFICATE_FILE_NAME "certificate.pem"
#define KEY_LOCK_FILE_NAME ".key.lock"
#define PAIRED_FILE_NAME BACKUP_DEVICE_PAIRED_FILE_NAME
#define LOCK_FILE_NAME ".paired.lock"
#define GROUP_PREFIX "Device "
#define MAX_KEY_FILE_SIZE (64 * 1024)
#define MAX_PAIRED_FILE_SIZE (4 * 1024 * 1024)

/* The keys of a device's policy, in the order of BackupRetention's fields
 * after "versions" (the names of the profile keys and CLI options). */
static const char *const policy_keys[] = { "keep-last", "keep-hourly", "keep-daily",
                                           "keep-weekly", "keep-monthly" };

#define LABEL_PAIRING_SESSION "distributed-backup pairing session v1"
#define LABEL_BACKUP_SESSION "distributed-backup backup session v1"
#define LABEL_PROOF "distributed-backup pairing proof v1"

/* --- names and folders --- */

gboolean
backup_device_check_name (const char *name, GError **error)
{
  const char *p;
  glong length;

  g_return_val_if_fail (name != NULL, FALSE);

  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("A device name must be valid UTF-8"));
      return FALSE;
    }
  length = g_utf8_strlen (name, -1);
  if (length < 1 || length > BACKUP_DEVICE_MAX_NAME)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("A device name has 1 to %d characters"), BACKUP_DEVICE_MAX_NAME);
      return FALSE;
    }
  for (p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || c == '[' || c == ']'
          || g_unichar_type (c) == G_UNICODE_FORMAT || c == 0x2028 || c == 0x2029)
        {
          g_autofree char *shown = backup_display_name (name, -1);

          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("Invalid device name “%s”: no control characters, “[” or “]”"), shown);
          return FALSE;
        }
    }
  if (g_unichar_isspace (g_utf8_get_char (name))
      || g_unichar_isspace (g_utf8_get_char (g_utf8_prev_char (name + strlen (name)))))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("A device name cannot start or end with a space"));
      return FALSE;
    }
  return TRUE;
}

static char *
read_pretty_hostname (void)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/etc/machine-info", &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "PRETTY_HOSTNAME="))
      {
        const char *value = lines[i] + strlen ("PRETTY_HOSTNAME=");
        g_autofree char *unquoted = g_shell_unquote (value, NULL);

        if (unquoted != NULL)
          g_strstrip (unquoted);
        return g_steal_pointer (&unquoted);
      }
  return NULL;
}

char *
backup_device_default_name (void)
{
  g_autofree char *pretty = read_pretty_hostname ();
  const char *host = g_get_host_name ();

  if (pretty != NULL && backup_device_check_name (pretty, NULL))
    return g_steal_pointer (&pretty);
  if (host != NULL && backup_device_check_name (host, NULL))
    return g_strdup (host);
  return g_strdup ("device");
}

char *
backup_device_get_default_folder (void)
{
  return g_build_filename (g_get_user_config_dir (), "distributed-backup", "device", NULL);
}

static char *
folder_or_default (const char *folder)
{
  return folder != NULL ? g_strdup (folder) : backup_device_get_default_folder ();
}

/* Fails when other users may read or write the file of @fd. */
static gboolean
check_private (int fd, const char *path, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot read “%s”: %s"), shown,
                   g_strerror (saved));
      return FALSE;
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                   _("“%s” is open to other users (mode %04o): make it private with "
                     "“chmod 600 %s”"),
                   shown, (guint) (st.st_mode & 07777), shown);
      return FALSE;
    }
  return TRUE;
}

/* Reads a file (no link followed), or returns NULL with @missing set when
 * there is none; when @private, refuses one that other users may open. */
static char *
read_file (const char *path,
           gsize max,
           gsize *length,
           gboolean *missing,
           gboolean private,
           GError **error)
{
  g_autofree char *shown = g_filename_display_name (path);
  g_autoptr (GString) data = g_string_new (NULL);
  char buffer[4096];
  int fd;

  *missing = FALSE;
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        {
          *missing = TRUE;
          return NULL;
        }
      g_set_error (error, BACKUP_ERROR,
                   saved == EACCES || saved == ELOOP ? BACKUP_ERROR_PERMISSION : BACKUP_ERROR_IO,
                   _("Cannot read “%s”: %s"), shown, g_strerror (saved));
      return NULL;
    }
  if (private && !check_private (fd, path, error))
    {
      close (fd);
      return NULL;
    }
  for (;;)
    {
      gssize n = read (fd, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          explicit_bzero (data->str, data->len);
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot read “%s”: %s"), shown,
                       g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      g_string_append_len (data, buffer, n);
      if (data->len > max)
        {
          close (fd);
          explicit_bzero (data->str, data->len);
          explicit_bzero (buffer, sizeof buffer);
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT, _("“%s” is too large"), shown);
          return NULL;
        }
    }
  close (fd);
  explicit_bzero (buffer, sizeof buffer);
  *length = data->len;
  return g_string_free (g_steal_pointer (&data), FALSE);
}

static char *
read_private_file (const char *path, gsize max, gsize *length, gboolean *missing, GError **error)
{
  return read_file (path, max, length, missing, TRUE, error);
}

static void
free_secret_data (char *data, gsize length)
{
  if (data != NULL)
    {
      explicit_bzero (data, length);
      g_free (data);
    }
}

static gboolean
fsync_folder (const char *folder)
{
  int fd = g_open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd < 0)
    return FALSE;
  fsync (fd);
  close (fd);
  return TRUE;
}

static gboolean
make_folder (const char *folder, GError **error)
{
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (folder);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot create “%s”: %s"), shown,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Takes the lock of @name in @dir (created 0600); close the descriptor to
 * release it. */
static int
lock_in (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd;

  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || flock (fd, LOCK_EX) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (path);

      if (fd >= 0)
        close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot lock “%s”: %s"), shown,
                   g_strerror (saved));
      return -1;
    }
  return fd;
}

/* Writes @data to a new file of @mode at @path, unless one exists already:
 * the data go to a temporary file, synced, then linked to @path. Sets
 * @exists (and returns FALSE without an error) when @path was there. */
static gboolean
create_file (const char *folder,
             const char *path,
             const char *data,
             gsize length,
             mode_t mode,
             gboolean *exists,
             GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *pattern = g_strconcat (".", base, ".XXXXXX", NULL);
  g_autofree char *temp = g_build_filename (folder, pattern, NULL);
  g_autofree char *shown = g_filename_display_name (path);
  gsize done = 0;
  int saved = 0;
  int fd;

  *exists = FALSE;
  fd = g_mkstemp_full (temp, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      goto failed;
    }
  while (done < length)
    {
      gssize n = write (fd, data + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          close (fd);
          g_unlink (temp);
          goto failed;
        }
      done += n;
    }
  if (fchmod (fd, mode) != 0 || fsync (fd) != 0 || close (fd) != 0)
    {
      saved = errno;
      g_unlink (temp);
      goto failed;
    }
  if (link (temp, path) != 0)
    {
      saved = errno;
      g_unlink (temp);
      if (saved == EEXIST)
        {
          *exists = TRUE;
          return FALSE;
        }
      goto failed;
    }
  g_unlink (temp);
  fsync_folder (folder);
  return TRUE;

failed:
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot write “%s”: %s"), shown,
               g_strerror (saved));
  return FALSE;
}

static RtcCertificate *
certificate_from_data (const char *path, const char *data, gsize length, GError **error)
{
  g_autoptr (GError) cause = NULL;
  RtcCertificate *certificate;

  certificate = rtc_certificate_new_from_pem (data, length, data, length, &cause);
  if (certificate == NULL)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The device key “%s” cannot be used: %s"), shown, cause->message);
    }
  return certificate;
}

/* "AB:CD:…" of the first certificate in @pem. */
static char *
pem_fingerprint (const char *path, const char *pem, gsize length, GError **error)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t datum = { (unsigned char *)pem, (unsigned int)length };
  guint8 digest[RTC_CERTIFICATE_FINGERPRINT_LEN];
  size_t size = sizeof digest;
  GString *text;
  int ret;

  ret = gnutls_x509_crt_init (&crt);
  if (ret >= 0)
    ret = gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM);
  if (ret >= 0)
    ret = gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (ret < 0 || size != sizeof digest)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The device certificate “%s” cannot be used: %s"), shown,
                   ret < 0 ? gnutls_strerror (ret) : "SHA-256");
      return NULL;
    }
  text = g_string_new (NULL);
  for (gsize i = 0; i < size; i++)
    g_string_append_printf (text, "%s%02X", i > 0 ? ":" : "", digest[i]);
  return g_string_free (text, FALSE);
}

char *
backup_device_read_fingerprint (const char *folder, GError **error)
{
  g_autofree char *dir = folder_or_default (folder);
  g_autofree char *cert_path = g_build_filename (dir, CERTIFICATE_FILE_NAME, NULL);
  g_autofree char *key_path = g_build_filename (dir, KEY_FILE_NAME, NULL);
  g_autofree char *pem = NULL;
  gboolean missing = FALSE;
  gsize length = 0;
  char *fingerprint;

  pem = read_file (cert_path, MAX_KEY_FILE_SIZE, &length, &missing, FALSE, error);
  if (pem != NULL)
    return pem_fingerprint (cert_path, pem, length, error);
  if (!missing)
    return NULL;
  /* Without a keyring, key.pem holds the certificate too. */
  g_clear_error (error);
  pem = read_private_file (key_path, MAX_KEY_FILE_SIZE, &length, &missing, error);
  if (pem == NULL)
    {
      if (missing)
        {
          g_clear_error (error);
          g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                               _("This device has no certificate yet: it is made at the "
                                 "first pairing"));
        }
      return NULL;
    }
  fingerprint = pem_fingerprint (key_path, pem, length, error);
  free_secret_data (g_steal_pointer (&pem), length);
  return fingerprint;
}

/* The identity of key.pem (the fallback, or one kept before the keyring
 * was): @missing when there is none. */
static RtcCertificate *
load_key_file (const char *path, gboolean *missing, GError **error)
{
  RtcCertificate *certificate;
  gsize length = 0;
  char *data;

  data = read_private_file (path, MAX_KEY_FILE_SIZE, &length, missing, error);
  if (data == NULL)
    return NULL;
  certificate = certificate_from_data (path, data, length, error);
  free_secret_data (data, length);
  return certificate;
}

/* The identity of certificate.pem, its key read from the keyring:
 * @missing when there is no certificate.pem. */
static RtcCertificate *
load_keyring_identity (const char *cert_path, gboolean *missing, GError **error)
{
  g_autofree char *shown = g_filename_display_name (cert_path);
  g_autoptr (GError) cause = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *fingerprint = NULL;
  RtcCertificate *certificate;
  gsize length = 0;
  char *key;

  pem = read_file (cert_path, MAX_KEY_FILE_SIZE, &length, missing, FALSE, error);
  if (pem == NULL)
    return NULL;
  fingerprint = pem_fingerprint (cert_path, pem, length, error);
  if (fingerprint == NULL)
    return NULL;
  if (!backup_secrets_keyring_available_sync (NULL))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                   _("The key of the device certificate “%s” is kept in the keyring, which "
                     "cannot be reached (no Secret Service on the session bus)"),
                   shown);
      return NULL;
    }
  key = backup_secret_device_key_lookup_sync (NULL, fingerprint, NULL, &cause);
  if (cause != NULL)
    {
      g_set_error (error, BACKUP_ERROR,
                   g_error_matches (cause, BACKUP_ERROR, BACKUP_ERROR_PERMISSION)
                       ? BACKUP_ERROR_PERMISSION
                       : BACKUP_ERROR_IO,
                   _("Cannot read the key of the device certificate “%s”: %s"), shown,
                   cause->message);
      return NULL;
    }
  if (key == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The keyring holds no key for the device certificate “%s” (%s): this "
                     "device’s identity is lost. To make a new one, remove “%s”, then pair "
                     "again with each paired device (--unpair NAME, --pair LINK)"),
                   shown, fingerprint, shown);
      return NULL;
    }
  certificate = rtc_certificate_new_from_pem (pem, length, key, strlen (key), &cause);
  backup_secret_free (key);
  if (certificate == NULL)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                 _("The device key in the keyring does not fit the certificate “%s”: %s"), shown,
                 cause->message);
  return certificate;
}

/* Fails when neither file is there but the keyring holds a device key for
 * @attribute (the folder): an identity partly lost is not replaced. */
static gboolean
check_no_orphan_key (const char *attribute,
                     const char *cert_path,
                     gboolean keyring,
                     GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *folder_shown = NULL;
  char *key;

  if (!keyring)
    return TRUE;
  key = backup_secret_device_key_lookup_sync (attribute, NULL, NULL, &cause);
  if (cause != NULL)
    {
      g_debug ("cannot look for a device key in the keyring: %s", cause->message);
      return TRUE;
    }
  if (key == NULL)
    return TRUE;
  backup_secret_free (key);
  shown = g_filename_display_name (cert_path);
  folder_shown = g_filename_display_name (attribute);
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
               _("The keyring holds a device key for “%s”, but its certificate “%s” is "
                 "missing: this device’s identity is lost. To make a new one, remove the "
                 "key (secret-tool clear kind device-key folder “%s”), then pair again with "
                 "each paired device (--unpair NAME, --pair LINK)"),
               folder_shown, shown, folder_shown);
  return FALSE;
}

/* Keeps @key_pem in the keyring and reads it back. */
static gboolean
store_key_verified (const char *attribute,
                    const char *fingerprint,
                    const char *key_pem,
                    GError **error)
{
  char *back;
  gboolean same;

  if (!backup_secret_device_key_store_sync (attribute, fingerprint, key_pem, NULL, error))
    return FALSE;
  back = backup_secret_device_key_lookup_sync (NULL, fingerprint, NULL, error);
  same = back != NULL && g_str_equal (back, key_pem);
  backup_secret_free (back);
  if (!same)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                             _("The keyring did not give back the device key"));
      backup_secret_device_key_clear_sync (attribute, fingerprint, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* Moves the key of key.pem into the keyring, under the lock: stored and
 * read back, the certificate written beside it as certificate.pem, then
 * key.pem removed. On any failure key.pem stays the identity. */
static void
migrate_key_file (const char *dir,
                  const char *key_path,
                  const char *cert_path,
                  const char *attribute,
                  RtcCertificate *certificate)
{
  g_autoptr (GError) cause = NULL;
  g_autofree char *cert_pem = NULL;
  g_autofree char *fingerprint = rtc_certificate_get_fingerprint_string (certificate);
  char *key_pem = NULL;
  gboolean exists = FALSE;
  gboolean stored;
  struct stat st;

  if (g_lstat (key_path, &st) != 0)
    return; /* moved meanwhile */
  if (!rtc_certificate_export_pem (certificate, &cert_pem, &key_pem, &cause))
    {
      g_debug ("the device key stays in %s: %s", key_path, cause->message);
      return;
    }
  stored = store_key_verified (attribute, fingerprint, key_pem, &cause);
  free_secret_data (key_pem, strlen (key_pem));
  if (!stored)
    {
      g_debug ("the device key stays in %s: %s", key_path, cause->message);
      return;
    }
  if (!create_file (dir, cert_path, cert_pem, strlen (cert_pem), 0644, &exists, &cause))
    {
      g_autofree char *there = NULL;
      g_autofree char *there_fingerprint = NULL;
      gboolean missing = FALSE;
      gsize length = 0;

      /* One left by a move that ended before removing key.pem is the same. */
      if (exists)
        there = read_file (cert_path, MAX_KEY_FILE_SIZE, &length, &missing, FALSE, &cause);
      if (there != NULL)
        there_fingerprint = pem_fingerprint (cert_path, there, length, &cause);
      if (there_fingerprint == NULL || !g_str_equal (there_fingerprint, fingerprint))
        {
          g_debug ("the device key stays in %s: %s", key_path,
                   cause != NULL ? cause->message : "certificate.pem is another certificate");
          backup_secret_device_key_clear_sync (attribute, fingerprint, NULL, NULL);
          return;
        }
    }
  fsync_folder (dir);
  if (g_unlink (key_path) != 0)
    {
      g_debug ("cannot remove %s: %s", key_path, g_strerror (errno));
      return;
    }
  fsync_folder (dir);
  g_debug ("the device key of %s is now kept in the keyring", key_path);
}

/* Reads the identity kept in @dir: key.pem (moved into the keyring when
 * there is one and @may_migrate), else certificate.pem and its key in the
 * keyring; @missing when neither file is there. */
static RtcCertificate *
read_identity (const char *dir,
               const char *key_path,
               const char *cert_path,
               const char *attribute,
               gboolean may_migrate,
               gboolean *missing,
               GError **error)
{
  RtcCertificate *certificate;

  certificate = load_key_file (key_path, missing, error);
  if (certificate != NULL)
    {
      if (may_migrate && backup_secrets_keyring_available_sync (NULL))
        {
          g_autoptr (GError) cause = NULL;
          int lock = lock_in (dir, KEY_LOCK_FILE_NAME, &cause);

          if (lock >= 0)
            {
              migrate_key_file (dir, key_path, cert_path, attribute, certificate);
              close (lock);
            }
          else
            g_debug ("the device key stays in %s: %s", key_path, cause->message);
        }
      return certificate;
    }
  if (!*missing)
    return NULL;
  return load_keyring_identity (cert_path, missing, error);
}

/* Makes a new identity, under the lock: its key goes to the keyring (stored
 * and read back before certificate.pem is linked into place, so that a
 * certificate.pem always has its key), or, without one, with the
 * certificate to key.pem. */
static RtcCertificate *
create_identity (const char *dir,
                 const char *key_path,
                 const char *cert_path,
                 const char *attribute,
                 gboolean keyring,
                 GError **error)
{
  g_autoptr (RtcCertificate) generated = NULL;
  g_autoptr (GError) cause = NULL;
  g_autofree char *cert_pem = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *both = NULL;
  char *key_pem = NULL;
  gboolean exists = FALSE;
  gboolean missing = FALSE;
  RtcCertificate *certificate;
  gsize length;

  generated = rtc_certificate_generate_full (BACKUP_DEVICE_CERTIFICATE_DAYS, "distributed-backup",
                                             error);
  if (generated == NULL
      || !rtc_certificate_export_pem (generated, &cert_pem, &key_pem, error))
    return NULL;
  fingerprint = rtc_certificate_get_fingerprint_string (generated);

  if (keyring && !store_key_verified (attribute, fingerprint, key_pem, &cause))
    {
      g_debug ("the device key cannot be kept in the keyring (%s): it goes to %s",
               cause->message, key_path);
      keyring = FALSE;
    }
  if (keyring)
    {
      free_secret_data (key_pem, strlen (key_pem));
      if (create_file (dir, cert_path, cert_pem, strlen (cert_pem), 0644, &exists, error))
        return g_steal_pointer (&generated);
      /* The key kept is no one's. */
      backup_secret_device_key_clear_sync (attribute, fingerprint, NULL, NULL);
      if (!exists)
        return NULL;
      /* Another run created one first: that one is the device's. */
      certificate = load_keyring_identity (cert_path, &missing, error);
    }
  else
    {
      g_debug ("no keyring: the device key is kept in %s", key_path);
      both = g_strconcat (key_pem, cert_pem, NULL);
      free_secret_data (key_pem, strlen (key_pem));
      length = strlen (both);
      exists = FALSE;
      if (create_file (dir, key_path, both, length, 0600, &exists, error))
        {
          explicit_bzero (both, length);
          return g_steal_pointer (&generated);
        }
      explicit_bzero (both, length);
      if (!exists)
        return NULL;
      /* Another run created it first: that one is the device's. */
      certificate = load_key_file (key_path, &missing, error);
    }
  if (certificate == NULL && missing)
    g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                         _("The device key vanished while it was created"));
  return certificate;
}

RtcCertificate *
backup_device_load_certificate (const char *folder, gboolean create, GError **error)
{
  g_autofree char *dir = folder_or_default (folder);
  g_autofree char *key_path = g_build_filename (dir, KEY_FILE_NAME, NULL);
  g_autofree char *cert_path = g_build_filename (dir, CERTIFICATE_FILE_NAME, NULL);
  g_autofree char *attribute = g_canonicalize_filename (dir, NULL);
  gboolean missing = FALSE;
  gboolean keyring;
  RtcCertificate *certificate;
  int lock;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  certificate = read_identity (dir, key_path, cert_path, attribute, TRUE, &missing, error);
  if (certificate != NULL || !missing)
    return certificate;

  keyring = backup_secrets_keyring_available_sync (NULL);
  if (!create)
    {
      g_autofree char *shown = g_filename_display_name (dir);

      if (!check_no_orphan_key (attribute, cert_path, keyring, error))
        return NULL;
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                   _("This device has no key yet (“%s”)"), shown);
      return NULL;
    }

  if (!make_folder (dir, error))
    return NULL;
  /* Two first runs make one identity: the second finds the first's. */
  lock = lock_in (dir, KEY_LOCK_FILE_NAME, error);
  if (lock < 0)
    return NULL;
  certificate = read_identity (dir, key_path, cert_path, attribute, FALSE, &missing, error);
  if (certificate == NULL && missing && check_no_orphan_key (attribute, cert_path, keyring, error))
    certificate = create_identity (dir, key_path, cert_path, attribute, keyring, error);
  close (lock);
  return certificate;
}

/* --- paired devices --- */

gboolean
backup_device_file_event_changes_contents (GFileMonitorEvent event)
{
  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_RENAMED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      return TRUE;
    default:
      return FALSE;
    }
}

BackupDevice *
backup_device_new (const char *name,
                   const char *fingerprint,
                   const char *signaling,
                   const char *session_id)
{
  BackupDevice *device = g_new0 (BackupDevice, 1);

  device->name = g_strdup (name);
  device->fingerprint = g_ascii_strup (fingerprint, -1);
  device->signaling = g_strdup (signaling);
  device->session_id = g_strdup (session_id);
  return device;
}

BackupDevice *
backup_device_copy (const BackupDevice *device)
{
  BackupDevice *copy;

  g_return_val_if_fail (device != NULL, NULL);

  copy = backup_device_new (device->name, device->fingerprint, device->signaling,
                            device->session_id);
  copy->paired = device->paired;
  copy->versions = device->versions;
  copy->retention = device->retention;
  return copy;
}

void
backup_device_free (BackupDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->name);
  g_free (device->fingerprint);
  g_free (device->signaling);
  g_free (device->session_id);
  g_free (device);
}

static gboolean
corrupt (GError **error, const char *path, const char *what)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT, _("The paired devices file “%s” is "
                                                            "damaged: %s"),
               shown, what);
  return FALSE;
}

/* Reads the paired devices file into @key_file (left empty when there is
 * none). */
static gboolean
load_paired (const char *path, GKeyFile *key_file, GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_autofree char *data = NULL;
  gboolean missing = FALSE;
  gsize length = 0;

  data = read_private_file (path, MAX_PAIRED_FILE_SIZE, &length, &missing, error);
  if (data == NULL)
    return missing;
  if (!g_key_file_load_from_data (key_file, data, length, G_KEY_FILE_KEEP_COMMENTS, &cause))
    return corrupt (error, path, cause->message);
  return TRUE;
}

static guint *
policy_field (BackupRetention *retention, gsize i)
{
  guint *fields[] = { &retention->last, &retention->hourly, &retention->daily,
                      &retention->weekly, &retention->monthly };

  return fields[i];
}

/* Reads the policy of @group into @device; FALSE (with @what set) for one
 * that is not valid. */
static gboolean
policy_from_group (GKeyFile *key_file, const char *group, BackupDevice *device, char **what)
{
  g_autoptr (GError) cause = NULL;
  gint64 number;

  if (!g_key_file_has_key (key_file, group, "versions", NULL))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
        if (g_key_file_has_key (key_file, group, policy_keys[i], NULL))
          {
            *what = g_strdup_printf (_("[%s] has “%s” without “versions”"), group,
                                     policy_keys[i]);
            return FALSE;
          }
      return TRUE;
    }
  number = g_key_file_get_int64 (key_file, group, "versions", &cause);
  if (cause != NULL || number < 1 || number > BACKUP_RETENTION_MAX)
    {
      *what = g_strdup_printf (_("[%s] has an invalid “versions”"), group);
      return FALSE;
    }
  device->versions = (guint) number;
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    {
      if (!g_key_file_has_key (key_file, group, policy_keys[i], NULL))
        continue;
      number = g_key_file_get_int64 (key_file, group, policy_keys[i], &cause);
      if (cause != NULL || number < 0 || number > BACKUP_RETENTION_MAX)
        {
          *what = g_strdup_printf (_("[%s] has an invalid “%s”"), group, policy_keys[i]);
          return FALSE;
        }
      *policy_field (&device->retention, i) = (guint) number;
    }
  if (!backup_retention_check (&device->retention, device->versions, &cause))
    {
      *what = g_strdup_printf ("[%s]: %s", group, cause->message);
      return FALSE;
    }
  return TRUE;
}

/* Writes the policy of @device into @group (none: removes it). */
static void
policy_to_group (GKeyFile *key_file, const char *group, const BackupDevice *device)
{
  BackupRetention retention = device->retention;

  g_key_file_remove_key (key_file, group, "versions", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    g_key_file_remove_key (key_file, group, policy_keys[i], NULL);
  if (device->versions == 0)
    return;
  g_key_file_set_int64 (key_file, group, "versions", device->versions);
  for (gsize i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    if (*policy_field (&retention, i) != 0)
      g_key_file_set_int64 (key_file, group, policy_keys[i], *policy_field (&retention, i));
}

/* The device of group @group, or NULL with an error. */
static BackupDevice *
device_from_group (GKeyFile *key_file, const char *path, const char *group, GError **error)
{
  g_autoptr (BackupDevice) device = g_new0 (BackupDevice, 1);
  guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN];
  g_autofree char *what = NULL;

  device->name = g_strdup (group + strlen (GROUP_PREFIX));
  device->fingerprint = g_key_file_get_string (key_file, group, "fingerprint", NULL);
  device->signaling = g_key_file_get_string (key_file, group, "signaling", NULL);
  device->session_id = g_key_file_get_string (key_file, group, "session-id", NULL);
  device->paired = g_key_file_get_int64 (key_file, group, "paired", NULL);

  if (!backup_device_check_name (device->name, NULL))
    what = g_strdup_printf (_("[%s] is not a device name"), group);
  else if (device->fingerprint == NULL
           || !rtc_sdp_fingerprint_from_string (device->fingerprint, fingerprint, NULL))
    what = g_strdup_printf (_("[%s] has no valid “fingerprint”"), group);
  else if (device->signaling == NULL || device->signaling[0] == '\0')
    what = g_strdup_printf (_("[%s] has no “signaling”"), group);
  else if (device->session_id == NULL || device->session_id[0] == '\0')
    what = g_strdup_printf (_("[%s] has no “session-id”"), group);
  else
    policy_from_group (key_file, group, device, &what);
  if (what != NULL)
    {
      corrupt (error, path, what);
      return NULL;
    }
  g_free (device->fingerprint);
  device->fingerprint = rtc_sdp_fingerprint_to_string (fingerprint);
  return g_steal_pointer (&device);
}

static GPtrArray *
devices_of (GKeyFile *key_file, const char *path, GError **error)
{
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_device_free);
  g_auto (GStrv) groups = g_key_file_get_groups (key_file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      BackupDevice *device;

      if (!g_str_has_prefix (groups[i], GROUP_PREFIX))
        continue; /* a later version's */
      device = device_from_group (key_file, path, groups[i], error);
      if (device == NULL)
        return NULL;
      g_ptr_array_add (devices, device);
    }
  return g_steal_pointer (&devices);
}

GPtrArray *
backup_device_list (const char *folder, GError **error)
{
  g_autofree char *dir = folder_or_default (folder);
  g_autofree char *path = g_build_filename (dir, PAIRED_FILE_NAME, NULL);
  g_autoptr (GKeyFile) key_file = g_key_file_new ();

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!load_paired (path, key_file, error))
    return NULL;
  return devices_of (key_file, path, error);
}

BackupDevice *
backup_device_find (const char *folder, const char *name, GError **error)
{
  g_autoptr (GPtrArray) devices = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  devices = backup_device_list (folder, error);
  if (devices == NULL)
    return NULL;
  for (guint i = 0; i < devices->len; i++)
    {
      BackupDevice *device = g_ptr_array_index (devices, i);

      if (g_str_equal (device->name, name))
        return backup_device_copy (device);
    }
  {
    g_autofree char *shown = backup_display_name (name, -1);

    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                 _("There is no paired device “%s” (see --devices)"), shown);
  }
  return NULL;
}

/* Holds the lock of the paired devices file of @dir; returns the lock's
 * descriptor, or -1 with an error. */
static int
lock_paired (const char *dir, GError **error)
{
  return lock_in (dir, LOCK_FILE_NAME, error);
}

static gboolean
save_paired (const char *path, GKeyFile *key_file, GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;

  data = g_key_file_to_data (key_file, &length, NULL);
  if (!g_file_set_contents_full (path, data, length, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &cause))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_IO, cause->message);
      return FALSE;
    }
  return TRUE;
}

char *
backup_device_add (const char *folder, const BackupDevice *device, GError **error)
{
  g_autofree char *dir = folder_or_default (folder);
  g_autofree char *path = g_build_filename (dir, PAIRED_FILE_NAME, NULL);
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GPtrArray) devices = NULL;
  g_autofree char *name = NULL;
  g_autofree char *group = NULL;
  guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN];
  g_autofree char *canonical = NULL;
  const BackupDevice *policy = NULL;
  int lock;

  g_return_val_if_fail (device != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (device->versions != 0)
    policy = device;

  if (!backup_device_check_name (device->name, error))
    return NULL;
  if (device->fingerprint == NULL
      || !rtc_sdp_fingerprint_from_string (device->fingerprint, fingerprint, NULL))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("Invalid certificate fingerprint"));
      return NULL;
    }
  canonical = rtc_sdp_fingerprint_to_string (fingerprint);

  if (!make_folder (dir, error))
    return NULL;
  lock = lock_paired (dir, error);
  if (lock < 0)
    return NULL;

  if (!load_paired (path, key_file, error) || (devices = devices_of (key_file, path, error)) == NULL)
    goto out;

  /* Pairing again with a device replaces it, and keeps its policy. */
  for (guint i = 0; i < devices->len; i++)
    {
      BackupDevice *old = g_ptr_array_index (devices, i);

      if (g_str_equal (old->fingerprint, canonical))
        {
          g_autofree char *old_group = g_strconcat (GROUP_PREFIX, old->name, NULL);

          g_key_file_remove_group (key_file, old_group, NULL);
          if (policy == NULL && old->versions != 0)
            policy = old;
        }
    }
  name = g_strdup (device->name);
  group = g_strconcat (GROUP_PREFIX, name, NULL);
  for (guint n = 2; g_key_file_has_group (key_file, group); n++)
    {
      glong length = MIN (g_utf8_strlen (device->name, -1), BACKUP_DEVICE_MAX_NAME - 8);
      g_autofree char *base = g_utf8_substring (device->name, 0, length);

      g_free (name);
      name = g_strdup_printf ("%s %u", base, n);
      g_free (group);
      group = g_strconcat (GROUP_PREFIX, name, NULL);
    }

  g_key_file_set_string (key_file, group, "fingerprint", canonical);
  g_key_file_set_string (key_file, group, "signaling", device->signaling);
  g_key_file_set_string (key_file, group, "session-id", device->session_id);
  g_key_file_set_int64 (key_file, group, "paired",
                        device->paired != 0 ? device->paired : g_get_real_time () / G_USEC_PER_SEC);
  policy_to_group (key_file, group, policy != NULL ? policy : device);
  if (!save_paired (path, key_file, error))
    g_clear_pointer (&name, g_free);

out:
  close (lock);
  return g_steal_pointer (&name);
}

/* Changes the group of the device named @name with @edit, under the lock
 * of the file. */
typedef gboolean (*EditFunc) (GKeyFile *key_file, const char *group, gpointer data,
                              GError **error);

static gboolean
edit_device (const char *folder, const char *name, EditFunc edit, gpointer data, GError **error)
{
  g_autofree char *dir = folder_or_default (folder);
  g_autofree char *path = g_build_filename (dir, PAIRED_FILE_NAME, NULL);
  g_autofree char *group = NULL;
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  gboolean ok = FALSE;
  int lock;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return backup_device_find (folder, name, error) != NULL; /* sets NOT_FOUND */
  lock = lock_paired (dir, error);
  if (lock < 0)
    return FALSE;

  group = g_strconcat (GROUP_PREFIX, name, NULL);
  if (!load_paired (path, key_file, error))
    goto out;
  if (!g_key_file_has_group (key_file, group))
    {
      g_autofree char *shown = backup_display_name (name, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                   _("There is no paired device “%s” (see --devices)"), shown);
      goto out;
    }
  ok = edit (key_file, group, data, error) && save_paired (path, key_file, error);

out:
  close (lock);
  return ok;
}

static gboolean
remove_group (GKeyFile *key_file, const char *group, gpointer data, GError **error)
{
  return g_key_file_remove_group (key_file, group, error);
}

gboolean
backup_device_remove (const char *folder, const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return edit_device (folder, name, remove_group, NULL, error);
}

static gboolean
set_policy (GKeyFile *key_file, const char *group, gpointer data, GError **error)
{
  policy_to_group (key_file, group, data);
  return TRUE;
}

gboolean
backup_device_set_policy (const char *folder,
                          const char *name,
                          guint versions,
                          const BackupRetention *retention,
                          GError **error)
{
  BackupDevice policy = { .versions = versions };

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (versions == 0 || retention != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (versions != 0)
    {
      if (versions > BACKUP_RETENTION_MAX)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("The versions kept must be 1 to %u"), (guint) BACKUP_RETENTION_MAX);
          return FALSE;
        }
      if (!backup_retention_check (retention, versions, error))
        return FALSE;
      policy.retention = *retention;
    }
  return edit_device (folder, name, set_policy, &policy, error);
}

/* --- invitation links --- */

BackupDeviceLink *
backup_device_link_new (const char *signaling, RtcCertificate *certificate, const char *name)
{
  BackupDeviceLink *link;

  g_return_val_if_fail (signaling != NULL, NULL);
  g_return_val_if_fail (RTC_IS_CERTIFICATE (certificate), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  link = g_new0 (BackupDeviceLink, 1);
  link->signaling = g_strdup (signaling);
  link->name = g_strdup (name);
  rtc_certificate_get_fingerprint (certificate, link->fingerprint);
  if (gnutls_rnd (GNUTLS_RND_KEY, link->secret, sizeof link->secret) < 0)
    g_error ("no random numbers");
  return link;
}

void
backup_device_link_free (BackupDeviceLink *link)
{
  if (link == NULL)
    return;
  explicit_bzero (link->secret, sizeof link->secret);
  g_free (link->signaling);
  g_free (link->name);
  g_free (link);
}

static const char base64url[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding. */
static char *
encode_base64url (const guint8 *data, gsize length)
{
  GString *text = g_string_sized_new ((length * 4 + 2) / 3 + 1);
  guint32 bits = 0;
  guint n_bits = 0;

  for (gsize i = 0; i < length; i++)
    {
      bits = (bits << 8) | data[i];
      n_bits += 8;
      while (n_bits >= 6)
        {
          n_bits -= 6;
          g_string_append_c (text, base64url[(bits >> n_bits) & 0x3f]);
        }
    }
  if (n_bits > 0)
    g_string_append_c (text, base64url[(bits << (6 - n_bits)) & 0x3f]);
  return g_string_free (text, FALSE);
}

/* Exactly @length bytes of canonical base64url without padding. */
static gboolean
decode_base64url (const char *text, guint8 *out, gsize length)
{
  guint32 bits = 0;
  guint n_bits = 0;
  gsize done = 0;

  if (strlen (text) != (length * 8 + 5) / 6)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      const char *found = strchr (base64url, *p);

      if (found == NULL)
        return FALSE;
      bits = (bits << 6) | (guint32) (found - base64url);
      n_bits += 6;
      if (n_bits >= 8)
        {
          n_bits -= 8;
          out[done++] = (bits >> n_bits) & 0xff;
        }
    }
  /* The bits left over are zero in the canonical form. */
  if ((bits & ((1u << n_bits) - 1)) != 0)
    {
      explicit_bzero (out, length);
      return FALSE;
    }
  return done == length;
}

static char *
hex_of (const guint8 *data, gsize length)
{
  GString *text = g_string_sized_new (length * 2);

  for (gsize i = 0; i < length; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

/* Strings that may hold the secret are wiped before they are freed. */
static void
wipe_string (char *text)
{
  if (text != NULL)
    {
      explicit_bzero (text, strlen (text));
      g_free (text);
    }
}

static void
wipe_strv (char **strv)
{
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    explicit_bzero (strv[i], strlen (strv[i]));
  g_strfreev (strv);
}

typedef char *BackupSecretString;
typedef char **BackupSecretStrv;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (BackupSecretString, wipe_string, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (BackupSecretStrv, wipe_strv, NULL)

static void
append_param (GString *text, const char *key, const char *value)
{
  g_auto (BackupSecretString) escaped = g_uri_escape_string (value, NULL, FALSE);

  g_string_append_printf (text, "&%s=%s", key, escaped);
}

char *
backup_device_link_format (const BackupDeviceLink *link)
{
  GString *text;
  g_auto (BackupSecretString) secret = NULL;
  g_autofree char *fingerprint = NULL;

  g_return_val_if_fail (link != NULL, NULL);

  secret = encode_base64url (link->secret, sizeof link->secret);
  fingerprint = hex_of (link->fingerprint, sizeof link->fingerprint);
  text = g_string_new (BACKUP_DEVICE_LINK_SCHEME ":pair?v=1");
  append_param (text, "signaling", link->signaling);
  append_param (text, "secret", secret);
  append_param (text, "fingerprint", fingerprint);
  append_param (text, "name", link->name);
  return g_string_free (text, FALSE);
}

static gboolean
link_error (GError **error, const char *what)
{
  /* TRANSLATORS: %s says what is wrong with an invitation link. */
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
               _("Invalid invitation link: %s"), what);
  return FALSE;
}

static gboolean
parse_fingerprint (const char *text, guint8 out[RTC_CERTIFICATE_FINGERPRINT_LEN])
{
  if (strlen (text) == 2 * RTC_CERTIFICATE_FINGERPRINT_LEN)
    {
      for (guint i = 0; i < RTC_CERTIFICATE_FINGERPRINT_LEN; i++)
        {
          int high = g_ascii_xdigit_value (text[2 * i]);
          int low = g_ascii_xdigit_value (text[2 * i + 1]);

          if (high < 0 || low < 0)
            return FALSE;
          out[i] = (guint8) (high << 4 | low);
        }
      return TRUE;
    }
  return rtc_sdp_fingerprint_from_string (text, out, NULL);
}

BackupDeviceLink *
backup_device_link_parse (const char *text, GError **error)
{
  g_autoptr (BackupDeviceLink) link = g_new0 (BackupDeviceLink, 1);
  g_autoptr (GHashTable) params = NULL;
  g_autofree char *scheme = NULL;
  g_autofree char *host = NULL;
  g_autofree char *path = NULL;
  g_auto (BackupSecretString) query = NULL;
  g_auto (BackupSecretString) fragment = NULL;
  g_auto (BackupSecretStrv) pairs = NULL;
  g_autoptr (GError) cause = NULL;
  static const char *const required[] = { "signaling", "secret", "fingerprint", "name", NULL };
  const char *value;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  scheme = g_uri_parse_scheme (text);
  if (scheme == NULL || g_ascii_strcasecmp (scheme, BACKUP_DEVICE_LINK_SCHEME) != 0)
    {
      link_error (error, _("it must start with “distributed-backup:pair?”"));
      return NULL;
    }
  if (!g_uri_split (text, G_URI_FLAGS_ENCODED, NULL, NULL, &host, NULL, &path, &query, &fragment,
                    NULL))
    {
      link_error (error, _("it is not a well-formed URI"));
      return NULL;
    }
  if (host != NULL || fragment != NULL || g_strcmp0 (path, "pair") != 0 || query == NULL)
    {
      link_error (error, _("it must start with “distributed-backup:pair?”"));
      return NULL;
    }

  params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) wipe_string);
  pairs = g_strsplit (query, "&", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      const char *equal = strchr (pairs[i], '=');
      g_autofree char *key = NULL;
      char *decoded;

      if (pairs[i][0] == '\0')
        continue;
      if (equal == NULL)
        {
          link_error (error, _("a part of it is not KEY=VALUE"));
          return NULL;
        }
      key = g_uri_unescape_segment (pairs[i], equal, NULL);
      decoded = g_uri_unescape_string (equal + 1, NULL);
      if (key == NULL || decoded == NULL || !g_utf8_validate (decoded, -1, NULL))
        {
          wipe_string (decoded);
          link_error (error, _("a value is not properly percent-encoded"));
          return NULL;
        }
      if (g_hash_table_contains (params, key))
        {
          g_autofree char *what = NULL;

          wipe_string (decoded);
          what = g_strdup_printf (_("“%s” is given twice"), key);
          link_error (error, what);
          return NULL;
        }
      g_hash_table_insert (params, g_steal_pointer (&key), decoded);
    }

  value = g_hash_table_lookup (params, "v");
  if (value != NULL && !g_str_equal (value, "1"))
    {
      link_error (error, _("it is of a later version of this program"));
      return NULL;
    }
  for (guint i = 0; required[i] != NULL; i++)
    {
      value = g_hash_table_lookup (params, required[i]);
      if (value == NULL || value[0] == '\0')
        {
          g_autofree char *what = g_strdup_printf (_("“%s” is missing"), required[i]);

          link_error (error, what);
          return NULL;
        }
    }

  value = g_hash_table_lookup (params, "secret");
  if (!decode_base64url (value, link->secret, sizeof link->secret))
    {
      link_error (error, _("“secret” is not 128 bits in base64url"));
      return NULL;
    }
  /* The table's copy of the secret is wiped before it is freed. */
  explicit_bzero ((char *) value, strlen (value));

  value = g_hash_table_lookup (params, "fingerprint");
  if (!parse_fingerprint (value, link->fingerprint))
    {
      link_error (error, _("“fingerprint” is not a SHA-256 fingerprint (64 hexadecimal digits)"));
      return NULL;
    }

  value = g_hash_table_lookup (params, "name");
  if (!backup_device_check_name (value, &cause))
    {
      link_error (error, cause->message);
      return NULL;
    }
  link->name = g_strdup (value);

  value = g_hash_table_lookup (params, "signaling");
  if (!backup_signaling_resolve (value, NULL, NULL, NULL, &cause))
    {
      link_error (error, cause->message);
      return NULL;
    }
  link->signaling = g_strdup (value);
  return g_steal_pointer (&link);
}

char *
backup_device_link_get_fingerprint (const BackupDeviceLink *link)
{
  g_return_val_if_fail (link != NULL, NULL);

  return rtc_sdp_fingerprint_to_string (link->fingerprint);
}

static char *
derive_session (const BackupDeviceLink *link, const char *prefix, const char *label)
{
  guint8 digest[32];
  g_autofree char *hex = NULL;

  if (gnutls_hmac_fast (GNUTLS_MAC_SHA256, link->secret, sizeof link->secret, label,
                        strlen (label), digest)
      < 0)
    g_error ("HMAC-SHA256 is not available");
  hex = hex_of (digest, 16);
  explicit_bzero (digest, sizeof digest);
  return g_strconcat (prefix, hex, NULL);
}

char *
backup_device_link_get_pairing_session (const BackupDeviceLink *link)
{
  g_return_val_if_fail (link != NULL, NULL);

  return derive_session (link, "pair-", LABEL_PAIRING_SESSION);
}

char *
backup_device_link_get_backup_session (const BackupDeviceLink *link)
{
  g_return_val_if_fail (link != NULL, NULL);

  return derive_session (link, "device-", LABEL_BACKUP_SESSION);
}

static void
append_named (GByteArray *message, const char *name)
{
  guint32 length = GUINT32_TO_BE ((guint32) strlen (name));

  g_byte_array_append (message, (const guint8 *) &length, sizeof length);
  g_byte_array_append (message, (const guint8 *) name, strlen (name));
}

void
backup_device_compute_proof (const guint8 secret[BACKUP_DEVICE_SECRET_LEN],
                             const guint8 inviter_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                             const guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                             const char *inviter_name,
                             const char *joiner_name,
                             guint8 proof[BACKUP_DEVICE_PROOF_LEN])
{
  g_autoptr (GByteArray) message = g_byte_array_new ();

  g_return_if_fail (inviter_name != NULL && joiner_name != NULL);

  g_byte_array_append (message, (const guint8 *) LABEL_PROOF, sizeof LABEL_PROOF);
  g_byte_array_append (message, inviter_fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);
  g_byte_array_append (message, joiner_fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);
  append_named (message, inviter_name);
  append_named (message, joiner_name);
  if (gnutls_hmac_fast (GNUTLS_MAC_SHA256, secret, BACKUP_DEVICE_SECRET_LEN, message->data,
                        message->len, proof)
      < 0)
    g_error ("HMAC-SHA256 is not available");
}

gboolean
backup_device_equal_secure (const guint8 *a, const guint8 *b, gsize len)
{
  volatile guint8 difference = 0;

  for (gsize i = 0; i < len; i++)
    difference |= a[i] ^ b[i];
  return difference == 0;
}

gboolean
backup_device_check_proof (const guint8 secret[BACKUP_DEVICE_SECRET_LEN],
                           const guint8 inviter_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                           const guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                           const char *inviter_name,
                           const char *joiner_name,
                           const guint8 proof[BACKUP_DEVICE_PROOF_LEN])
{
  guint8 expected[BACKUP_DEVICE_PROOF_LEN];
  gboolean equal;

  backup_device_compute_proof (secret, inviter_fingerprint, joiner_fingerprint, inviter_name,
                               joiner_name, expected);
  equal = backup_device_equal_secure (expected, proof, sizeof expected);
  explicit_bzero (expected, sizeof expected);
  return equal;
}
