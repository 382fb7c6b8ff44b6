/* backup-progress-view.h: what a backup run is doing, and how it ended
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The states of a run as status pages: waiting (a spinner while the run
 * prepares, looks for the other computer and connects), in progress (the
 * name, the size done and in all, the speed and the time left), done and
 * failed (the whole message of the failure, with Retry and Open
 * Preferences). The page that owns the view gives it the runner, and says
 * how the run ended.
 */
#pragma once

#include <adwaita.h>

#include "backup-runner.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_PROGRESS_VIEW (backup_progress_view_get_type ())
G_DECLARE_FINAL_TYPE (BackupProgressView, backup_progress_view, BACKUP, PROGRESS_VIEW, AdwBin)

GtkWidget *backup_progress_view_new (void);

/* The runner followed, or NULL. Setting one shows "waiting", then what
 * each of its sessions does; setting NULL keeps what is shown. */
BackupRunner *backup_progress_view_get_runner (BackupProgressView *self);
void backup_progress_view_set_runner (BackupProgressView *self, BackupRunner *runner);

/* The run ended well: @title ("Backup Sent"), @description (plain text),
 * and with @folder_uri an "Open Folder" button for "win.open-folder". */
void backup_progress_view_show_done (BackupProgressView *self,
                                     const char *title,
                                     const char *description,
                                     const char *folder_uri);
/* The run failed with @message, shown whole. */
void backup_progress_view_show_failed (BackupProgressView *self, const char *message);
/* The action the Retry button of the failed state activates. */
void backup_progress_view_set_retry_action (BackupProgressView *self, const char *action_name);

/* The state shown: "waiting", "progress", "done" or "failed". */
const char *backup_progress_view_get_state (BackupProgressView *self);
/* The title of the state shown ("Waiting for the Other Computer"). */
const char *backup_progress_view_get_status (BackupProgressView *self);
/* The details under it: the description, or the size and speed lines. */
char *backup_progress_view_dup_details (BackupProgressView *self);

G_END_DECLS
