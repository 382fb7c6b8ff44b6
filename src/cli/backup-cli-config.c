/* backup-cli-config.c: a profile file (--config)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-admission.h"
#include "backup-cli-config.h"
#include "backup-display.h"
#include "backup-error.h"

/* What backup_profile_load() reads. */
static const char *const profile_keys[] = {
  "role", "session-id", "signaling", "stun-servers", "turn-servers", "ice-addresses",
  "relay-only", "timeout", "source", "archive-name", "zip-encryption", "destination",
  "versions", "keep-listening", "device", "quota",
  /* the retention policy */
  "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", NULL,
};

/* Keys of one role only. */
static const char *const sender_keys[] = { "source", "archive-name", "zip-encryption", NULL };
static const char *const receiver_keys[] = {
  "destination", "versions", "keep-listening", "quota", "all-devices", "max-transfers", NULL,
};

/* Keys of this front end: the receiver of every paired device. */
static const char *const pool_keys[] = { "all-devices", "max-transfers", NULL };

/* Where the secrets are. */
static const char *const secret_keys[] = { "api-key-file", "password-file", "vault-key", NULL };

/* The keys whose values are paths. */
static const char *const path_keys[] = {
  "source", "destination", "api-key-file", "password-file", "vault-key", NULL,
};

void
backup_cli_config_free (BackupCliConfig *config)
{
  if (config == NULL)
    return;
  g_clear_object (&config->profile);
  g_free (config->api_key_file);
  g_free (config->password_file);
  g_free (config->vault_key);
  g_free (config);
}

static gboolean
config_error (GError **error, const char *path, const char *message)
{
  g_autofree char *shown = backup_display_name (path, -1);

  /* TRANSLATORS: the first %s is a file name, the second what is wrong with it. */
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, _("Profile %s: %s"), shown,
               message);
  return FALSE;
}

/* Makes the path of @key absolute ("~/" is the home folder). */
static gboolean
resolve_path (GKeyFile *key_file, const char *path, const char *key, GError **error)
{
  g_autofree char *value = g_key_file_get_string (key_file, BACKUP_CLI_CONFIG_GROUP, key, NULL);
  g_autofree char *message = NULL;

  if (value == NULL)
    return TRUE;
  if (g_str_has_prefix (value, "~/"))
    {
      g_autofree char *expanded = g_build_filename (g_get_home_dir (), value + 2, NULL);

      g_key_file_set_string (key_file, BACKUP_CLI_CONFIG_GROUP, key, expanded);
      return TRUE;
    }
  if (g_path_is_absolute (value))
    return TRUE;

  message = g_strdup_printf (_("“%s” must be an absolute path or start with “~/”"), key);
  return config_error (error, path, message);
}

BackupCliConfig *
backup_cli_config_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (BackupCliConfig) config = g_new0 (BackupCliConfig, 1);
  g_autoptr (GError) cause = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &cause))
    {
      config_error (error, path, cause->message);
      return NULL;
    }

  groups = g_key_file_get_groups (key_file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    if (!g_str_equal (groups[i], BACKUP_CLI_CONFIG_GROUP))
      {
        g_autofree char *message = g_strdup_printf (_("unknown group [%s]"), groups[i]);

        config_error (error, path, message);
        return NULL;
      }
  keys = g_key_file_get_keys (key_file, BACKUP_CLI_CONFIG_GROUP, NULL, NULL);
  if (keys == NULL)
    {
      config_error (error, path, _("there is no [Profile] group"));
      return NULL;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    if (!g_strv_contains (profile_keys, keys[i]) && !g_strv_contains (secret_keys, keys[i])
        && !g_strv_contains (pool_keys, keys[i]))
      {
        g_autofree char *message = g_strdup_printf (_("unknown key “%s”"), keys[i]);

        config_error (error, path, message);
        return NULL;
      }
  for (guint i = 0; path_keys[i] != NULL; i++)
    if (!resolve_path (key_file, path, path_keys[i], error))
      return NULL;

  config->profile = backup_profile_load (key_file, BACKUP_CLI_CONFIG_GROUP, &cause);
  if (config->profile == NULL)
    {
      config_error (error, path, cause->message);
      return NULL;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    {
      gboolean sending = backup_profile_get_role (config->profile) == BACKUP_PROFILE_ROLE_SEND;
      const char *const *other = sending ? receiver_keys : sender_keys;

      if (g_strv_contains (other, keys[i]))
        {
          g_autofree char *message
              = g_strdup_printf (sending ? _("“%s” is a receiver's key, and this profile sends")
                                         : _("“%s” is a sender's key, and this profile receives"),
                                 keys[i]);

          config_error (error, path, message);
          return NULL;
        }
    }
  config->api_key_file = g_key_file_get_string (key_file, BACKUP_CLI_CONFIG_GROUP,
                                                "api-key-file", NULL);
  config->password_file = g_key_file_get_string (key_file, BACKUP_CLI_CONFIG_GROUP,
                                                 "password-file", NULL);
  config->stun_given = g_key_file_has_key (key_file, BACKUP_CLI_CONFIG_GROUP, "stun-servers",
                                           NULL);
  config->vault_key = g_key_file_get_string (key_file, BACKUP_CLI_CONFIG_GROUP, "vault-key",
                                             NULL);
  if (g_key_file_has_key (key_file, BACKUP_CLI_CONFIG_GROUP, "all-devices", NULL))
    {
      config->all_devices = g_key_file_get_boolean (key_file, BACKUP_CLI_CONFIG_GROUP,
                                                    "all-devices", &cause);
      if (cause != NULL)
        {
          config_error (error, path, cause->message);
          return NULL;
        }
    }
  if (g_key_file_has_key (key_file, BACKUP_CLI_CONFIG_GROUP, "max-transfers", NULL))
    {
      guint64 value = g_key_file_get_uint64 (key_file, BACKUP_CLI_CONFIG_GROUP, "max-transfers",
                                             &cause);

      if (cause != NULL || value < 1 || value > BACKUP_ADMISSION_MAX)
        {
          config_error (error, path, _("“max-transfers” is a number from 1 to 1000"));
          return NULL;
        }
      if (!config->all_devices)
        {
          config_error (error, path, _("“max-transfers” is only used with “all-devices=true”"));
          return NULL;
        }
      config->max_transfers = (guint) value;
    }
  return g_steal_pointer (&config);
}
