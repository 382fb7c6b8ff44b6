/* backup-preferences.h: the preferences window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "backup-application.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_PREFERENCES (backup_preferences_get_type ())
G_DECLARE_FINAL_TYPE (BackupPreferences, backup_preferences, BACKUP, PREFERENCES,
                      AdwPreferencesWindow)

BackupPreferences *backup_preferences_new (BackupApplication *application);

G_END_DECLS
