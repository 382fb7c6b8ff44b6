/* backup-cli-prune.h: --prune on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* --prune [--dry-run], with options that backup_options_validate()
 * accepted (-d and the policy, or a receiver's --config; -d s3://… prunes
 * the versions in the bucket, options->storage). Prints one line per
 * version on standard output (always with --dry-run; not with -q
 * otherwise) and a summary on standard error (not with -q). Returns the
 * exit status: 0 on success, 1 when the folder or bucket could not be
 * pruned, 130/143 when SIGINT/SIGTERM stopped the prune of a bucket. */
int backup_cli_run_prune (BackupOptions *options);

G_END_DECLS
