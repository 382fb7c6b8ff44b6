/* backup-progress-view.h: what a running backup is doing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shows the state of each session a BackupRunner runs (waiting for the
 * other computer, connecting, sending or receiving, storing), its progress
 * with speed and time left, and a Cancel button for the "win.cancel"
 * action of the window it is in.
 */
#pragma once

#include <adwaita.h>

#include "backup-runner.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_PROGRESS_VIEW (backup_progress_view_get_type ())
G_DECLARE_FINAL_TYPE (BackupProgressView, backup_progress_view, BACKUP, PROGRESS_VIEW, AdwBin)

GtkWidget *backup_progress_view_new (void);

/* The runner shown, or NULL. Without one the view keeps what it showed
 * last, so that it can be hidden with an animation. */
BackupRunner *backup_progress_view_get_runner (BackupProgressView *self);
void backup_progress_view_set_runner (BackupProgressView *self, BackupRunner *runner);

/* The state shown, as a sentence ("Waiting for the other computer…"). */
const char *backup_progress_view_get_status (BackupProgressView *self);

G_END_DECLS
