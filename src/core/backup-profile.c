/* backup-profile.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-pairing.h"
#include "backup-profile.h"
#include "backup-signaling-open.h"
#include "backup-store.h"

struct _BackupProfile
{
  GObject parent_instance;

  BackupProfileRole role;
  char *session_id;

  char *device_name;
  char *peer_fingerprint;
  RtcCertificate *certificate;

  char *signaling;
  char *api_key;
  GTlsDatabase *signaling_trust;

  GStrv stun_servers;
  GStrv turn_servers;
  GStrv ice_addresses;
  gboolean relay_only;
  guint timeout;

  GFile *source;
  char *archive_name;
  char *password1;
  char *password2;
  BackupZipEncryption zip_encryption;

  GFile *destination;
  BackupStorage *storage; /* instead of a destination folder, or NULL */
  guint versions;
  gboolean keep_listening;
  BackupRetention retention;
  guint64 quota;
};

G_DEFINE_FINAL_TYPE (BackupProfile, backup_profile, G_TYPE_OBJECT)

static void
wipe (char **secret)
{
  if (*secret != NULL)
    {
      explicit_bzero (*secret, strlen (*secret));
      g_clear_pointer (secret, g_free);
    }
}

static void
backup_profile_dispose (GObject *object)
{
  BackupProfile *self = BACKUP_PROFILE (object);

  g_clear_object (&self->signaling_trust);
  g_clear_object (&self->certificate);
  g_clear_object (&self->source);
  g_clear_object (&self->destination);
  g_clear_object (&self->storage);

  G_OBJECT_CLASS (backup_profile_parent_class)->dispose (object);
}

static void
backup_profile_finalize (GObject *object)
{
  BackupProfile *self = BACKUP_PROFILE (object);

  g_free (self->session_id);
  g_free (self->device_name);
  g_free (self->peer_fingerprint);
  g_free (self->signaling);
  wipe (&self->api_key);
  g_strfreev (self->stun_servers);
  g_strfreev (self->turn_servers);
  g_strfreev (self->ice_addresses);
  g_free (self->archive_name);
  wipe (&self->password1);
  wipe (&self->password2);

  G_OBJECT_CLASS (backup_profile_parent_class)->finalize (object);
}

static void
backup_profile_class_init (BackupProfileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_profile_dispose;
  object_class->finalize = backup_profile_finalize;
}

static void
backup_profile_init (BackupProfile *self)
{
  self->timeout = BACKUP_PAIRING_DEFAULT_TIMEOUT;
  self->versions = 1;
  self->zip_encryption = BACKUP_ZIP_ENCRYPTION_AES256;
}

BackupProfile *
backup_profile_new (BackupProfileRole role)
{
  BackupProfile *self = g_object_new (BACKUP_TYPE_PROFILE, NULL);

  self->role = role;
  return self;
}

BackupProfileRole
backup_profile_get_role (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), BACKUP_PROFILE_ROLE_SEND);

  return self->role;
}

const char *
backup_profile_get_session_id (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->session_id;
}

void
backup_profile_set_session_id (BackupProfile *self, const char *session_id)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  g_free (self->session_id);
  self->session_id = g_strdup (session_id);
}

const char *
backup_profile_get_device_name (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->device_name;
}

void
backup_profile_set_device_name (BackupProfile *self, const char *name)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  g_free (self->device_name);
  self->device_name = g_strdup (name);
}

const char *
backup_profile_get_peer_fingerprint (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->peer_fingerprint;
}

void
backup_profile_set_peer_fingerprint (BackupProfile *self, const char *fingerprint)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  g_free (self->peer_fingerprint);
  self->peer_fingerprint = g_strdup (fingerprint);
}

RtcCertificate *
backup_profile_get_certificate (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->certificate;
}

void
backup_profile_set_certificate (BackupProfile *self, RtcCertificate *certificate)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (certificate == NULL || RTC_IS_CERTIFICATE (certificate));

  g_set_object (&self->certificate, certificate);
}

void
backup_profile_set_device (BackupProfile *self,
                           const BackupDevice *device,
                           RtcCertificate *certificate)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (device != NULL);
  g_return_if_fail (RTC_IS_CERTIFICATE (certificate));

  backup_profile_set_device_name (self, device->name);
  backup_profile_set_peer_fingerprint (self, device->fingerprint);
  backup_profile_set_certificate (self, certificate);
  backup_profile_set_session_id (self, device->session_id);
  backup_profile_set_signaling (self, device->signaling);
}

gboolean
backup_profile_load_device (BackupProfile *self,
                            const char *name,
                            const char *folder,
                            GError **error)
{
  g_autoptr (BackupDevice) device = NULL;
  g_autoptr (RtcCertificate) certificate = NULL;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  device = backup_device_find (folder, name, error);
  if (device == NULL)
    return FALSE;
  certificate = backup_device_load_certificate (folder, FALSE, error);
  if (certificate == NULL)
    return FALSE;
  backup_profile_set_device (self, device, certificate);
  return TRUE;
}

const char *
backup_profile_get_signaling (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->signaling;
}

void
backup_profile_set_signaling (BackupProfile *self, const char *location)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  g_free (self->signaling);
  self->signaling = location != NULL && location[0] != '\0' ? g_strdup (location) : NULL;
}

void
backup_profile_set_api_key (BackupProfile *self, const char *api_key)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  wipe (&self->api_key);
  self->api_key = api_key != NULL && api_key[0] != '\0' ? g_strdup (api_key) : NULL;
}

void
backup_profile_set_signaling_trust (BackupProfile *self, GTlsDatabase *database)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  g_set_object (&self->signaling_trust, database);
}

static void
set_strv (GStrv *field, const char *const *values)
{
  g_strfreev (*field);
  *field = values != NULL && values[0] != NULL ? g_strdupv ((char **) values) : NULL;
}

void
backup_profile_set_stun_servers (BackupProfile *self, const char *const *servers)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  set_strv (&self->stun_servers, servers);
}

void
backup_profile_set_turn_servers (BackupProfile *self, const char *const *servers)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  set_strv (&self->turn_servers, servers);
}

void
backup_profile_set_ice_addresses (BackupProfile *self, const char *const *addresses)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  set_strv (&self->ice_addresses, addresses);
}

void
backup_profile_set_relay_only (BackupProfile *self, gboolean relay_only)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->relay_only = relay_only;
}

guint
backup_profile_get_timeout (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), 0);

  return self->timeout;
}

void
backup_profile_set_timeout (BackupProfile *self, guint seconds)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (seconds <= G_MAXINT / 1000);

  self->timeout = seconds;
}

GFile *
backup_profile_get_source (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->source;
}

void
backup_profile_set_source (BackupProfile *self, GFile *source)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (source == NULL || G_IS_FILE (source));

  g_set_object (&self->source, source);
}

const char *
backup_profile_get_archive_name (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->archive_name;
}

void
backup_profile_set_archive_name (BackupProfile *self, const char *name)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  g_free (self->archive_name);
  self->archive_name = g_strdup (name);
}

void
backup_profile_set_passwords (BackupProfile *self, const char *password1, const char *password2)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  wipe (&self->password1);
  wipe (&self->password2);
  self->password1 = g_strdup (password1 != NULL ? password1 : "");
  self->password2 = g_strdup (password2 != NULL ? password2 : "");
}

void
backup_profile_set_zip_encryption (BackupProfile *self, BackupZipEncryption encryption)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->zip_encryption = encryption;
}

GFile *
backup_profile_get_destination (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->destination;
}

void
backup_profile_set_destination (BackupProfile *self, GFile *destination)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (destination == NULL || G_IS_FILE (destination));

  g_set_object (&self->destination, destination);
}

BackupStorage *
backup_profile_get_storage (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return self->storage;
}

void
backup_profile_set_storage (BackupProfile *self, BackupStorage *storage)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (storage == NULL || BACKUP_IS_STORAGE (storage));

  g_set_object (&self->storage, storage);
}

BackupStorage *
backup_profile_create_storage (BackupProfile *self)
{
  BackupStorage *storage;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  if (self->storage != NULL)
    storage = g_object_ref (self->storage);
  else
    {
      g_return_val_if_fail (self->destination != NULL, NULL);
      storage = BACKUP_STORAGE (backup_store_new (self->destination, self->versions));
    }
  backup_storage_set_retention (storage, &self->retention);
  return storage;
}

guint
backup_profile_get_versions (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), 1);

  return self->versions;
}

void
backup_profile_set_versions (BackupProfile *self, guint versions)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->versions = versions;
}

gboolean
backup_profile_get_keep_listening (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), FALSE);

  return self->keep_listening;
}

void
backup_profile_set_keep_listening (BackupProfile *self, gboolean keep_listening)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->keep_listening = keep_listening;
}

void
backup_profile_set_retention (BackupProfile *self, const BackupRetention *retention)
{
  static const BackupRetention none = { 0 };

  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->retention = retention != NULL ? *retention : none;
}

guint64
backup_profile_get_quota (BackupProfile *self)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), 0);

  return self->quota;
}

void
backup_profile_set_quota (BackupProfile *self, guint64 bytes)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));

  self->quota = bytes;
}

gboolean
backup_parse_size (const char *text, guint64 *bytes, GError **error)
{
  static const struct
  {
    const char *suffix;
    guint64 factor;
  } units[] = {
    { "", 1 },
    { "B", 1 },
    { "K", 1000 },
    { "KB", 1000 },
    { "KiB", 1024 },
    { "M", 1000 * 1000 },
    { "MB", 1000 * 1000 },
    { "MiB", 1024 * 1024 },
    { "G", G_GUINT64_CONSTANT (1000000000) },
    { "GB", G_GUINT64_CONSTANT (1000000000) },
    { "GiB", G_GUINT64_CONSTANT (1) << 30 },
    { "T", G_GUINT64_CONSTANT (1000000000000) },
    { "TB", G_GUINT64_CONSTANT (1000000000000) },
    { "TiB", G_GUINT64_CONSTANT (1) << 40 },
  };
  const char *p = text;
  const char *end;
  double value;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);

  while (g_ascii_isspace (*p))
    p++;
  /* Digits, and a fraction: no sign, exponent or hexadecimal. */
  end = (char *) p;
  while (g_ascii_isdigit (*end))
    end++;
  if (end == p)
    goto invalid;
  if (*end == '.' && g_ascii_isdigit (end[1]))
    for (end++; g_ascii_isdigit (*end); end++)
      ;
  {
    g_autofree char *number = g_strndup (p, end - p);

    value = g_ascii_strtod (number, NULL);
  }
  while (g_ascii_isspace (*end))
    end++;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_ascii_strcasecmp (end, units[i].suffix) == 0
        || (units[i].suffix[0] != '\0' && strcmp (end, units[i].suffix) == 0))
      {
        double total = value * (double) units[i].factor;

        if (!(total >= 1) || total > (double) (G_MAXUINT64 / 2))
          goto invalid;
        *bytes = (guint64) total;
        return TRUE;
      }
invalid:
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a size: write a number of bytes, or one with K, M, G or T "
                 "(1000s) or KiB, MiB, GiB or TiB (1024s), e.g. 500G"),
               text);
  return FALSE;
}

BackupProfile *
backup_profile_copy (BackupProfile *self)
{
  BackupProfile *copy;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  copy = backup_profile_new (self->role);
  copy->session_id = g_strdup (self->session_id);
  copy->device_name = g_strdup (self->device_name);
  copy->peer_fingerprint = g_strdup (self->peer_fingerprint);
  g_set_object (&copy->certificate, self->certificate);
  copy->signaling = g_strdup (self->signaling);
  copy->api_key = g_strdup (self->api_key);
  g_set_object (&copy->signaling_trust, self->signaling_trust);
  copy->stun_servers = g_strdupv (self->stun_servers);
  copy->turn_servers = g_strdupv (self->turn_servers);
  copy->ice_addresses = g_strdupv (self->ice_addresses);
  copy->relay_only = self->relay_only;
  copy->timeout = self->timeout;
  g_set_object (&copy->source, self->source);
  copy->archive_name = g_strdup (self->archive_name);
  g_free (copy->password1);
  g_free (copy->password2);
  copy->password1 = g_strdup (self->password1);
  copy->password2 = g_strdup (self->password2);
  copy->zip_encryption = self->zip_encryption;
  g_set_object (&copy->destination, self->destination);
  g_set_object (&copy->storage, self->storage);
  copy->versions = self->versions;
  copy->keep_listening = self->keep_listening;
  copy->retention = self->retention;
  copy->quota = self->quota;
  return copy;
}

gboolean
backup_profile_get_retention (BackupProfile *self, BackupRetention *retention)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), FALSE);
  g_return_val_if_fail (retention != NULL, FALSE);

  *retention = self->retention;
  return backup_retention_is_set (&self->retention);
}

static gboolean
invalid (GError **error, GError *cause)
{
  g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, cause->message);
  g_error_free (cause);
  return FALSE;
}

gboolean
backup_profile_validate (BackupProfile *self, GError **error)
{
  g_autoptr (RtcConfiguration) rtc = NULL;
  GError *cause = NULL;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->device_name != NULL && !backup_device_check_name (self->device_name, &cause))
    return invalid (error, cause);
  if (self->device_name != NULL && self->peer_fingerprint == NULL)
    {
      g_autofree char *shown = backup_display_name (self->device_name, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("The paired device “%s” is not loaded"), shown);
      return FALSE;
    }
  if (self->peer_fingerprint != NULL && self->certificate == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("A paired device needs this device's certificate"));
      return FALSE;
    }

  if (self->session_id == NULL || self->session_id[0] == '\0')
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("The session id is empty"));
      return FALSE;
    }
  if (!backup_pairing_check_session_id (self->session_id, &cause))
    return invalid (error, cause);

  rtc = backup_profile_get_rtc_configuration (self);
  if (!rtc_configuration_validate (rtc, &cause))
    return invalid (error, cause);
  if (!backup_signaling_resolve (self->signaling, self->api_key, NULL, NULL, &cause))
    return invalid (error, cause);

  if (self->role == BACKUP_PROFILE_ROLE_SEND)
    {
      if (self->source == NULL)
        {
          g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                               _("Choose a file or folder to send"));
          return FALSE;
        }
      if (self->archive_name != NULL && !backup_store_check_name (self->archive_name, &cause))
        return invalid (error, cause);
      return TRUE;
    }

  if (self->destination == NULL && self->storage == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("Choose a folder to receive into"));
      return FALSE;
    }
  if (self->versions < 1 || self->versions > BACKUP_STORE_MAX_VERSIONS)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("Keep between 1 and %u versions"), BACKUP_STORE_MAX_VERSIONS);
      return FALSE;
    }
  if (!backup_retention_check (&self->retention, self->versions, error))
    return FALSE;
  return TRUE;
}

gboolean
backup_profile_check_files (BackupProfile *self, GError **error)
{
  GFile *file;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) cause = NULL;
  g_autofree char *shown = NULL;
  gboolean is_dir;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  file = self->role == BACKUP_PROFILE_ROLE_SEND ? self->source : self->destination;
  if (file == NULL)
    return backup_profile_validate (self, error);

  shown = g_file_get_parse_name (file);
  info = g_file_query_info (file,
                            G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE,
                            G_FILE_QUERY_INFO_NONE, NULL, &cause);
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      if (self->role == BACKUP_PROFILE_ROLE_RECEIVE)
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                     _("Cannot receive into “%s”: it does not exist"), shown);
      else
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                     _("“%s” does not exist"), shown);
      return FALSE;
    }
  if (info == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, cause->message);
      return FALSE;
    }
  is_dir = g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY;

  if (self->role == BACKUP_PROFILE_ROLE_RECEIVE)
    {
      if (!is_dir)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("Cannot receive into “%s”: it is not a folder"), shown);
          return FALSE;
        }
      if (!g_file_info_get_attribute_boolean (info, G_FILE_ATTRIBUTE_ACCESS_CAN_WRITE))
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("Cannot receive into “%s”: it is not writable"), shown);
          return FALSE;
        }
      return TRUE;
    }

  if (self->archive_name != NULL && !is_dir)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a folder: only a folder is sent as an archive"), shown);
      return FALSE;
    }
  if (self->archive_name == NULL && is_dir)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("“%s” is a folder: send it as an archive (give it an archive name)"),
                   shown);
      return FALSE;
    }
  if (self->archive_name == NULL && g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a regular file"), shown);
      return FALSE;
    }
  return TRUE;
}

static const char *const zip_encryption_names[] = { "aes256", "aes128", "zipcrypto" };

/* The policy's keys, as BackupRetention's members. */
static const struct
{
  const char *key;
  gsize offset;
} retention_keys[] = {
  { "keep-last", G_STRUCT_OFFSET (BackupRetention, last) },
  { "keep-hourly", G_STRUCT_OFFSET (BackupRetention, hourly) },
  { "keep-daily", G_STRUCT_OFFSET (BackupRetention, daily) },
  { "keep-weekly", G_STRUCT_OFFSET (BackupRetention, weekly) },
  { "keep-monthly", G_STRUCT_OFFSET (BackupRetention, monthly) },
};

static void
save_strv (GKeyFile *key_file, const char *group, const char *key, GStrv values)
{
  if (values != NULL)
    g_key_file_set_string_list (key_file, group, key, (const char *const *) values,
                                g_strv_length (values));
}

static void
save_file (GKeyFile *key_file, const char *group, const char *key, GFile *file)
{
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (path != NULL)
    g_key_file_set_string (key_file, group, key, path);
}

void
backup_profile_save (BackupProfile *self, GKeyFile *key_file, const char *group)
{
  g_return_if_fail (BACKUP_IS_PROFILE (self));
  g_return_if_fail (key_file != NULL && group != NULL);

  g_key_file_set_string (key_file, group, "role",
                         self->role == BACKUP_PROFILE_ROLE_SEND ? "send" : "receive");
  if (self->device_name != NULL)
    g_key_file_set_string (key_file, group, "device", self->device_name);
  else
    {
      if (self->session_id != NULL)
        g_key_file_set_string (key_file, group, "session-id", self->session_id);
      if (self->signaling != NULL)
        g_key_file_set_string (key_file, group, "signaling", self->signaling);
    }
  save_strv (key_file, group, "stun-servers", self->stun_servers);
  save_strv (key_file, group, "turn-servers", self->turn_servers);
  save_strv (key_file, group, "ice-addresses", self->ice_addresses);
  g_key_file_set_boolean (key_file, group, "relay-only", self->relay_only);
  g_key_file_set_uint64 (key_file, group, "timeout", self->timeout);
  if (self->role == BACKUP_PROFILE_ROLE_SEND)
    {
      save_file (key_file, group, "source", self->source);
      if (self->archive_name != NULL)
        g_key_file_set_string (key_file, group, "archive-name", self->archive_name);
      g_key_file_set_string (key_file, group, "zip-encryption",
                             zip_encryption_names[self->zip_encryption]);
    }
  else
    {
      save_file (key_file, group, "destination", self->destination);
      g_key_file_set_uint64 (key_file, group, "versions", self->versions);
      g_key_file_set_boolean (key_file, group, "keep-listening", self->keep_listening);
      if (self->quota > 0)
        g_key_file_set_uint64 (key_file, group, "quota", self->quota);
      for (guint i = 0; i < G_N_ELEMENTS (retention_keys); i++)
        {
          guint count = *(guint *) G_STRUCT_MEMBER_P (&self->retention, retention_keys[i].offset);

          if (count > 0)
            g_key_file_set_uint64 (key_file, group, retention_keys[i].key, count);
        }
    }
}

static gboolean
bad_value (GError **error, const char *group, const char *key, GError *cause)
{
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
               _("Invalid “%s” in [%s]: %s"), key, group, cause->message);
  g_error_free (cause);
  return FALSE;
}

static gboolean
load_uint (GKeyFile *key_file, const char *group, const char *key, guint64 max, guint *out,
           GError **error)
{
  GError *cause = NULL;
  guint64 value;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;
  value = g_key_file_get_uint64 (key_file, group, key, &cause);
  if (cause != NULL)
    return bad_value (error, group, key, cause);
  if (value > max)
    return bad_value (error, group, key,
                      g_error_new (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                   _("more than %llu"), (unsigned long long) max));
  *out = (guint) value;
  return TRUE;
}

/* A size as backup_parse_size() reads it ("500M", "2T", a number of bytes). */
static gboolean
load_size (GKeyFile *key_file, const char *group, const char *key, guint64 *out, GError **error)
{
  g_autofree char *text = NULL;
  GError *cause = NULL;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;
  text = g_key_file_get_string (key_file, group, key, &cause);
  if (text == NULL || !backup_parse_size (text, out, &cause))
    return bad_value (error, group, key, cause);
  return TRUE;
}

static gboolean
load_bool (GKeyFile *key_file, const char *group, const char *key, gboolean *out,
           GError **error)
{
  GError *cause = NULL;
  gboolean value;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;
  value = g_key_file_get_boolean (key_file, group, key, &cause);
  if (cause != NULL)
    return bad_value (error, group, key, cause);
  *out = value;
  return TRUE;
}

static GFile *
load_file (GKeyFile *key_file, const char *group, const char *key)
{
  g_autofree char *path = g_key_file_get_string (key_file, group, key, NULL);

  return path != NULL && path[0] != '\0' ? g_file_new_for_path (path) : NULL;
}

BackupProfile *
backup_profile_load (GKeyFile *key_file, const char *group, GError **error)
{
  g_autoptr (BackupProfile) self = NULL;
  g_autofree char *role = NULL;
  g_autofree char *encryption = NULL;
  g_auto (GStrv) stun = NULL;
  g_auto (GStrv) turn = NULL;
  g_auto (GStrv) addresses = NULL;
  GError *cause = NULL;

  g_return_val_if_fail (key_file != NULL && group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  role = g_key_file_get_string (key_file, group, "role", &cause);
  if (role == NULL)
    {
      bad_value (error, group, "role", cause);
      return NULL;
    }
  if (g_str_equal (role, "send"))
    self = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
  else if (g_str_equal (role, "receive"))
    self = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
  else
    {
      bad_value (error, group, "role",
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                      _("use “send” or “receive”")));
      return NULL;
    }

  self->session_id = g_key_file_get_string (key_file, group, "session-id", NULL);
  self->signaling = g_key_file_get_string (key_file, group, "signaling", NULL);
  self->device_name = g_key_file_get_string (key_file, group, "device", NULL);
  if (self->device_name != NULL)
    {
      if (!backup_device_check_name (self->device_name, &cause))
        {
          bad_value (error, group, "device", cause);
          return NULL;
        }
      if (self->session_id != NULL || self->signaling != NULL)
        {
          bad_value (error, group, "device",
                     g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                          _("a paired device gives the session id and the "
                                            "signaling: leave out “session-id” and "
                                            "“signaling”")));
          return NULL;
        }
    }
  stun = g_key_file_get_string_list (key_file, group, "stun-servers", NULL, NULL);
  turn = g_key_file_get_string_list (key_file, group, "turn-servers", NULL, NULL);
  addresses = g_key_file_get_string_list (key_file, group, "ice-addresses", NULL, NULL);
  backup_profile_set_stun_servers (self, (const char *const *) stun);
  backup_profile_set_turn_servers (self, (const char *const *) turn);
  backup_profile_set_ice_addresses (self, (const char *const *) addresses);
  if (!load_bool (key_file, group, "relay-only", &self->relay_only, error)
      || !load_uint (key_file, group, "timeout", G_MAXINT / 1000, &self->timeout, error))
    return NULL;

  if (self->role == BACKUP_PROFILE_ROLE_SEND)
    {
      self->source = load_file (key_file, group, "source");
      self->archive_name = g_key_file_get_string (key_file, group, "archive-name", NULL);
      encryption = g_key_file_get_string (key_file, group, "zip-encryption", NULL);
      if (encryption != NULL)
        {
          gboolean found = FALSE;

          for (guint i = 0; i < G_N_ELEMENTS (zip_encryption_names); i++)
            if (g_str_equal (encryption, zip_encryption_names[i]))
              {
                self->zip_encryption = (BackupZipEncryption) i;
                found = TRUE;
              }
          if (!found)
            {
              bad_value (error, group, "zip-encryption",
                         g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                              _("use aes256, aes128 or zipcrypto")));
              return NULL;
            }
        }
    }
  else
    {
      self->destination = load_file (key_file, group, "destination");
      if (!load_uint (key_file, group, "versions", BACKUP_STORE_MAX_VERSIONS, &self->versions,
                      error)
          || !load_bool (key_file, group, "keep-listening", &self->keep_listening, error)
          || !load_size (key_file, group, "quota", &self->quota, error))
        return NULL;
      for (guint i = 0; i < G_N_ELEMENTS (retention_keys); i++)
        if (!load_uint (key_file, group, retention_keys[i].key, BACKUP_RETENTION_MAX,
                        G_STRUCT_MEMBER_P (&self->retention, retention_keys[i].offset), error))
          return NULL;
      /* A policy without versions: no bound but the largest. */
      if (backup_retention_is_set (&self->retention)
          && !g_key_file_has_key (key_file, group, "versions", NULL))
        self->versions = BACKUP_STORE_MAX_VERSIONS;
    }
  return g_steal_pointer (&self);
}

BackupSignalingStore *
backup_profile_open_signaling (BackupProfile *self, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  return backup_signaling_open (self->signaling, self->api_key, self->signaling_trust, error);
}

RtcConfiguration *
backup_profile_get_rtc_configuration (BackupProfile *self)
{
  RtcConfiguration *config;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);

  config = rtc_configuration_new ();
  config->stun_servers = g_strdupv (self->stun_servers);
  config->turn_servers = g_strdupv (self->turn_servers);
  config->local_addresses = g_strdupv (self->ice_addresses);
  config->relay_only = self->relay_only;
  config->certificate = self->certificate != NULL ? g_object_ref (self->certificate) : NULL;
  config->peer_fingerprint = g_strdup (self->peer_fingerprint);
  /* Once the peer shows up, connecting has as long as waiting for it had. */
  config->ice_timeout_ms
      = (self->timeout > 0 ? self->timeout : BACKUP_PAIRING_DEFAULT_TIMEOUT) * 1000;
  return config;
}

BackupSession *
backup_profile_create_session (BackupProfile *self, BackupSignalingStore *signaling)
{
  g_autoptr (RtcConfiguration) rtc = NULL;
  BackupSession *session;

  g_return_val_if_fail (BACKUP_IS_PROFILE (self), NULL);
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (signaling), NULL);

  rtc = backup_profile_get_rtc_configuration (self);
  if (self->role == BACKUP_PROFILE_ROLE_SEND)
    {
      g_return_val_if_fail (self->source != NULL, NULL);

      session = backup_session_new_sender (signaling, self->session_id, rtc, self->source,
                                           self->archive_name, self->password1, self->password2,
                                           self->zip_encryption);
      backup_session_set_timeout (session, self->timeout);
    }
  else
    {
      g_autoptr (BackupStorage) storage = backup_profile_create_storage (self);

      g_return_val_if_fail (storage != NULL, NULL);

      session = backup_session_new_receiver_for_storage (signaling, self->session_id, rtc,
                                                         storage);
      /* A receiver that stays up waits for each backup as long as it takes. */
      backup_session_set_timeout (session, self->keep_listening ? 0 : self->timeout);
      backup_session_set_quota (session, self->quota);
    }
  return session;
}
