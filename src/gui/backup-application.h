/* backup-application.h: the GtkApplication of the desktop front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "backup-window.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_APPLICATION (backup_application_get_type ())
G_DECLARE_FINAL_TYPE (BackupApplication, backup_application, BACKUP, APPLICATION, AdwApplication)

BackupApplication *backup_application_new (void);
/* The application's settings, or NULL when the schema is not installed
 * (running from the build tree without GSETTINGS_SCHEMA_DIR). */
GSettings *backup_application_get_settings (BackupApplication *self);
/* The FILE.io API key of this run ("api-key"; NULL when empty). It is a
 * secret: never in the settings. The key kept by an earlier run is looked
 * up at startup; a key set here is kept for the next runs (in the keyring,
 * or a private file where there is none) once it has not changed for a
 * moment, an empty one removes the kept one, and the application is held
 * until then. A failure is shown once, in the preferences or the window. */
const char *backup_application_get_api_key (BackupApplication *self);
void backup_application_set_api_key (BackupApplication *self, const char *api_key);
/* Whether the kept key is being looked up or a new one is being kept. */
gboolean backup_application_is_keeping_api_key (BackupApplication *self);
/* Tells the desktop that @file_name was stored in @folder, when a
 * notification service is there to show it: one notification per backup
 * (never replaced by the next), opening @folder when clicked, with a "Show
 * in Files" button ("app.open-folder" and "app.show-in-files" with a URI).
 * Pages ask for it with "app.notify-received" and (name, folder). */
void backup_application_notify_received (BackupApplication *self,
                                         const char *file_name,
                                         const char *folder);
/* Tells the desktop that a backup failed with @message (pages ask for it
 * with "app.notify-failed" when their window is not in front). */
void backup_application_notify_failed (BackupApplication *self, const char *message);
/* A new main window, with the application's settings and API key. */
BackupWindow *backup_application_new_window (BackupApplication *self);

/* The scheduled backups, run while the application runs (from startup). */
BackupScheduler *backup_application_get_scheduler (BackupApplication *self);
/* TRUE when at least one scheduled backup is enabled: the application then
 * stays in the background when its window closes. */
gboolean backup_application_has_schedules (BackupApplication *self);

G_END_DECLS
