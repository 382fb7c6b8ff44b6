/* backup-send-page.h: the Send page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Chooses a file, or a folder sent as a double zip with the passwords of a
 * password file, and sends it to the other computer of a session: the page
 * builds a BackupProfile from what it shows, GSettings and the API key, and
 * runs it with a BackupRunner (the "runner" property while it runs).
 *
 * Until something is chosen the page shows an empty state; while a backup
 * runs, and once it ended (until "Done"), its BackupProgressView. A folder
 * is encrypted with a password file unless the user turns that off. A run
 * that fails while the window is not in front is also announced through
 * "app.notify-failed".
 *
 * Transient messages are emitted as ::toast. The "New Session ID" button
 * activates "win.generate-session-id", which the window provides.
 */
#pragma once

#include <adwaita.h>

#include "backup-runner.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_SEND_PAGE (backup_send_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupSendPage, backup_send_page, BACKUP, SEND_PAGE, AdwBin)

GtkWidget *backup_send_page_new (void);

/* Where the signaling, ICE and zip settings come from and where the
 * session id is remembered; NULL: built-in defaults. */
void backup_send_page_set_settings (BackupSendPage *self, GSettings *settings);
/* The FILE.io API key of the next run (a secret: it cannot be read back). */
void backup_send_page_set_api_key (BackupSendPage *self, const char *api_key);

const char *backup_send_page_get_session_id (BackupSendPage *self);
void backup_send_page_set_session_id (BackupSendPage *self, const char *session_id);

/* Chooses the file or folder to send, as a drop or "Open With" would: it
 * is looked at off the main thread, then taken if it is a file or a
 * folder ("source" changes), or refused with a toast. */
void backup_send_page_choose_source (BackupSendPage *self, GFile *file);
/* TRUE while a file given to backup_send_page_choose_source() is looked at. */
gboolean backup_send_page_get_choosing_source (BackupSendPage *self);
GFile *backup_send_page_get_source (BackupSendPage *self);

/* The password file of a folder's archive, or NULL: not encrypted. */
GFile *backup_send_page_get_password_file (BackupSendPage *self);
void backup_send_page_set_password_file (BackupSendPage *self, GFile *file);

/* The runner of the backup being sent, or NULL. */
BackupRunner *backup_send_page_get_runner (BackupSendPage *self);
/* Stops the backup being sent, if any. */
void backup_send_page_cancel (BackupSendPage *self);
/* TRUE while the page shows how the last run ended (until "send.done"). */
gboolean backup_send_page_get_showing_end (BackupSendPage *self);
/* Focuses Send Backup, or what must be filled in first. */
void backup_send_page_focus_primary (BackupSendPage *self);

G_END_DECLS
