/* backup-window-private.h: what the window's tests reach
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-window.h"

G_BEGIN_DECLS

/* Writes the passwords of the Encrypt page into @file, as choosing @file in
 * the "Save Password File" dialog does. The result is a toast; on success
 * the password fields are cleared and @file becomes the password file of the
 * Send page. */
void backup_window_write_password_file (BackupWindow *self, GFile *file);

/* The password file the Send page uses, or NULL. */
GFile *backup_window_get_password_file (BackupWindow *self);

/* TRUE while a password file is being written. */
gboolean backup_window_get_writing_password_file (BackupWindow *self);

/* TRUE while a source given to backup_window_set_source() is looked at. */
gboolean backup_window_get_choosing_source (BackupWindow *self);

/* The text of the last toast shown, or NULL. */
const char *backup_window_get_last_toast (BackupWindow *self);

G_END_DECLS
