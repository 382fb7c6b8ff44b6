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
/* --invite-nearby, --pair-nearby: pairing on the local network, the
 * verification code confirmed on standard input. */
int backup_cli_run_nearby_pairing (BackupOptions *options);

/* --devices: one line per paired device (name, fingerprint, signaling,
 * separated by tabs, the name escaped). */
int backup_cli_list_devices (BackupOptions *options);

/* --unpair NAME. */
int backup_cli_unpair (BackupOptions *options);

/* --nearby: one line per device of this program seen on the local network
 * within --timeout seconds (name, the first 8 bytes of its fingerprint,
 * address, separated by tabs, the name escaped), while this device is
 * announced (unless --no-announce). Returns 0, 1 when the Avahi daemon is
 * not there, 128 + N after signal N. */
int backup_cli_list_nearby (BackupOptions *options);

G_END_DECLS
