/* backup-cli-prune.h: --prune on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* --prune [--dry-run], with options that backup_options_validate()
 * accepted (-d and the policy, or a receiver's --config). Prints one line
 * per version on standard output (always with --dry-run; not with -q
 * otherwise) and a summary on standard error (not with -q). Returns the
 * exit status: 0 on success, 1 when the folder could not be pruned. */
int backup_cli_run_prune (BackupOptions *options);

G_END_DECLS
