/* backup-cli-restore.h: restoring, listing and verifying on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* --restore, --list or --verify, with options that backup_options_validate()
 * accepted: of a file, or of s3://BUCKET/KEY (downloaded first), or --list
 * of the versions under an S3 prefix (see backup-cli-s3.h). Returns the
 * exit status: 0 on success, 1 on a failure (wrong password, damaged
 * archive, refused entry, existing file, an object that cannot be found
 * or downloaded), 2 when a password that was needed could not be read,
 * 130/143 on SIGINT/SIGTERM. */
int backup_cli_run_restore (BackupOptions *options);

/* --show-passwords: prints both passwords of the password file on standard
 * output, after a confirmation on the terminal unless --yes was given. */
int backup_cli_show_passwords (BackupOptions *options);

G_END_DECLS
