/* backup-cli-signals.h: SIGINT and SIGTERM stop a run of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * While watched, the first SIGINT or SIGTERM cancels the run's cancellable
 * (which cleans up: the signaling store, partial files) and is remembered,
 * so that the program exits with 128 + its number as a shell reports it. A
 * second signal while that is under way is ignored.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GCancellable *cancellable;
  int received; /* the first signal, or 0 */
  guint sigint_id;
  guint sigterm_id;
} BackupCliSignals;

void backup_cli_signals_watch (BackupCliSignals *self, GCancellable *cancellable);
void backup_cli_signals_unwatch (BackupCliSignals *self);

/* 128 + @signum. */
int backup_cli_exit_status_for_signal (int signum);

G_END_DECLS
