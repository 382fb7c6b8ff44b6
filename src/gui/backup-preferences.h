/* backup-preferences.h: the preferences window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Edits the signaling store, STUN servers, local addresses and zip
 * encryption kept in GSettings, and the API key ("api-key", never in
 * GSettings: the application keeps it in the keyring).
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_PREFERENCES (backup_preferences_get_type ())
G_DECLARE_FINAL_TYPE (BackupPreferences, backup_preferences, BACKUP, PREFERENCES,
                      AdwPreferencesWindow)

/* @settings: the application's settings, or NULL (they cannot be edited). */
BackupPreferences *backup_preferences_new (GSettings *settings);

G_END_DECLS
