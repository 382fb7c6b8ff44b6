/* backup-receive-page.h: the Receive page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Waits for the other computer of a session and keeps what it sends in a
 * folder, with rotating versions, once or one backup after another: the
 * page builds a BackupProfile from what it shows, GSettings and the API
 * key, and runs it with a BackupRunner (the "runner" property while it
 * runs). While it runs, the Keep Listening switch still decides whether
 * another backup is awaited after the current one.
 *
 * While it runs, and once the run ended (until "Done"), the page shows its
 * BackupProgressView: waiting, progress, then "Backup Received" with an
 * "Open Folder" button for "win.open-folder" (which the window provides),
 * or the failure. While listening for one backup after another, each one
 * received is a ::toast. Every backup received is announced to the desktop
 * ("app.notify-received" with the name and the folder), and a failure
 * while the window is not in front too ("app.notify-failed").
 */
#pragma once

#include <adwaita.h>

#include "backup-runner.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_RECEIVE_PAGE (backup_receive_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupReceivePage, backup_receive_page, BACKUP, RECEIVE_PAGE, AdwBin)

GtkWidget *backup_receive_page_new (void);

/* Where the signaling and ICE settings, the folder and the versions kept
 * come from, and where the session id and folder are remembered; NULL:
 * built-in defaults. */
void backup_receive_page_set_settings (BackupReceivePage *self, GSettings *settings);
/* The FILE.io API key of the next run (a secret: it cannot be read back). */
void backup_receive_page_set_api_key (BackupReceivePage *self, const char *api_key);

const char *backup_receive_page_get_session_id (BackupReceivePage *self);
void backup_receive_page_set_session_id (BackupReceivePage *self, const char *session_id);

/* The folder received backups go to. */
GFile *backup_receive_page_get_destination (BackupReceivePage *self);
void backup_receive_page_set_destination (BackupReceivePage *self, GFile *destination);

/* The runner waiting for or receiving backups, or NULL. */
BackupRunner *backup_receive_page_get_runner (BackupReceivePage *self);
/* Stops waiting for or receiving a backup, if the page does. */
void backup_receive_page_cancel (BackupReceivePage *self);
/* TRUE while the page shows how the last run ended (until "receive.done"). */
gboolean backup_receive_page_get_showing_end (BackupReceivePage *self);

G_END_DECLS
