/* backup-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "backup-scheduler.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_WINDOW (backup_window_get_type ())
G_DECLARE_FINAL_TYPE (BackupWindow, backup_window, BACKUP, WINDOW, AdwApplicationWindow)

/* @settings: the application's settings, or NULL without the schema. */
BackupWindow *backup_window_new (AdwApplication *application, GSettings *settings);
/* The FILE.io API key of this run, for the pages (NULL: none). */
void backup_window_set_api_key (BackupWindow *self, const char *api_key);

/* The scheduled backups the Schedules page shows (the application's). */
void backup_window_set_scheduler (BackupWindow *self, BackupScheduler *scheduler);
/* Chooses the file or folder to send, and focuses Send Backup, as a drop
 * does (and "Open With"); refused with a toast while a backup runs or for a
 * file that is not on this computer. */
void backup_window_set_source (BackupWindow *self, GFile *file);

/* A transient confirmation at the bottom of the window. */
void backup_window_show_toast (BackupWindow *self, const char *text);

G_END_DECLS
