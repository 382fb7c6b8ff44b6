/* backup-cli-backup.h: backup mode of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* Runs one backup (or, with --keep-listening, many) described by @options,
 * which backup_options_validate() has accepted. Returns the process exit
 * status: 0 on success, 1 on a failure, 128 + the signal number when
 * SIGINT (130) or SIGTERM (143) stopped it. */
int backup_cli_run_backup (BackupOptions *options);

/* "M:SS" or "H:MM:SS", for progress lines. */
char *backup_cli_format_duration (gint64 seconds);

/* The exit status after stopping on signal @signum: 128 + @signum. */
G_END_DECLS
