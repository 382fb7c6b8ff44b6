/* backup-cli-device.h: paired devices on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-options.h"

G_BEGIN_DECLS

/* --invite (prints the link on standard output, then waits) or --pair
 * LINK. Returns the exit status: 0 paired, 1 failed, 128 + N after signal
 * N. */
int backup_cli_run_pairing (BackupOptions *options);

/* --devices: one line per paired device (name, fingerprint, signaling,
 * separated by tabs, the name escaped). */
int backup_cli_list_devices (BackupOptions *options);

/* --unpair NAME. */
int backup_cli_unpair (BackupOptions *options);

G_END_DECLS
