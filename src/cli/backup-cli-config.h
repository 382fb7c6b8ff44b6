/* backup-cli-config.h: a profile file (--config)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A key file whose [Profile] group is a BackupProfile (backup_profile_load()
 * reads it), plus where this front end finds the secrets a profile never
 * holds on disk: api-key-file, password-file (with vault-key), and a
 * receiver's all-devices (serve every paired device, as --all-devices)
 * and max-transfers. Paths are
 * absolute, or start with "~/" for the home folder. Unknown keys are
 * refused, so that a misspelt one does not go unnoticed.
 */
#pragma once

#include "backup-profile.h"

G_BEGIN_DECLS

#define BACKUP_CLI_CONFIG_GROUP "Profile"

typedef struct
{
  BackupProfile *profile;
  char *api_key_file;  /* NULL: not given */
  char *password_file; /* NULL: not given */
  char *vault_key;     /* NULL: not given */
  gboolean stun_given; /* stun-servers is there (possibly empty: none) */
  gboolean all_devices; /* all-devices=true: a receiver of every paired device */
  guint max_transfers;  /* max-transfers, 0 when not given */
} BackupCliConfig;

/* Errors are BACKUP_ERROR_INVALID_ARGUMENT and name @path. */
BackupCliConfig *backup_cli_config_load (const char *path, GError **error);
void backup_cli_config_free (BackupCliConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupCliConfig, backup_cli_config_free)

G_END_DECLS
