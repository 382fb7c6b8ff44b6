/* backup-cli-backup.h: backup mode of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* Runs one backup (or, with --keep-listening, many) described by @options,
 * which backup_options_validate() has accepted. Returns the process exit
 * status: 0 on success, 1 on a failure. */
int backup_cli_run_backup (BackupOptions *options);

G_END_DECLS
