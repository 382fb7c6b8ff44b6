/* backup-signaling-open.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-directory-store.h"
#include "backup-fileio-store.h"
#include "backup-signaling-error.h"
#include "backup-signaling-open.h"

gboolean
backup_signaling_resolve (const char *location,
                          const char *api_key,
                          char **url,
                          char **directory,
                          GError **error)
{
  g_autofree char *found_url = NULL;
  g_autofree char *found_directory = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (location == NULL || location[0] == '\0')
    {
      if (api_key != NULL && api_key[0] != '\0')
        found_url = g_strdup (BACKUP_SIGNALING_DEFAULT_URL);
      else if (g_getenv ("FLATPAK_ID") != NULL && g_getenv ("FLATPAK_ID")[0] != '\0')
        /* In a Flatpak, the runtime folder is the sandbox's own; this one
         * the host sees too. */
        found_directory = g_build_filename (g_get_user_runtime_dir (), "app",
                                            g_getenv ("FLATPAK_ID"), "signaling", NULL);
      else
        found_directory = g_build_filename (g_get_user_runtime_dir (), "distributed-backup",
                                            "signaling", NULL);
    }
  else if (g_ascii_strncasecmp (location, "https://", 8) == 0
           || g_ascii_strncasecmp (location, "http://", 7) == 0)
    found_url = g_strdup (location);
  else if (g_ascii_strcasecmp (location, BACKUP_SIGNALING_NEARBY) == 0)
    ; /* neither: found on the local network when a backup starts */
  else if (g_ascii_strncasecmp (location, "file:", 5) == 0)
    {
      found_directory = g_filename_from_uri (location, NULL, NULL);
      if (found_directory == NULL)
        {
          g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL,
                       _("“%s” is not a local file URL"), location);
          return FALSE;
        }
    }
  else if (g_uri_peek_scheme (location) != NULL)
    {
      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL,
                   _("Unsupported signaling URL “%s” (use https://, http://, file:// or a "
                     "directory)"),
                   location);
      return FALSE;
    }
  else
    found_directory = g_strdup (location);

  if (url != NULL)
    *url = g_steal_pointer (&found_url);
  if (directory != NULL)
    *directory = g_steal_pointer (&found_directory);
  return TRUE;
}

BackupSignalingStore *
backup_signaling_open (const char *location,
                       const char *api_key,
                       GTlsDatabase *tls_database,
                       GError **error)
{
  g_autofree char *url = NULL;
  g_autofree char *directory = NULL;
  BackupFileioStore *fileio;

  g_return_val_if_fail (tls_database == NULL || G_IS_TLS_DATABASE (tls_database), NULL);

  if (location != NULL && g_ascii_strcasecmp (location, BACKUP_SIGNALING_NEARBY) == 0)
    {
      g_set_error_literal (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL,
                           _("“nearby:” names a device of the local network, found when a "
                             "backup with that paired device starts"));
      return NULL;
    }
  if (!backup_signaling_resolve (location, api_key, &url, &directory, error))
    return NULL;
  if (directory != NULL)
    return BACKUP_SIGNALING_STORE (backup_directory_store_new (directory, error));

  if (api_key != NULL && api_key[0] == '\0')
    api_key = NULL;
  fileio = backup_fileio_store_new (url, api_key, error);
  if (fileio != NULL && tls_database != NULL)
    backup_fileio_store_set_tls_database (fileio, tls_database);
  return BACKUP_SIGNALING_STORE (fileio);
}
