/* backup-history-page.h: the Backups page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What this computer received and sent. The "Received" group lists the
 * names stored in the receive folder (the Receive page's folder, given as
 * "folder"), each with its versions (NAME, NAME.1, …: when each was
 * stored, its size); the "Sent From This Computer" group lists the
 * BackupSentHistory. With nothing in either, an empty state.
 *
 * Each version can be restored into a folder (chosen with a
 * GtkFileChooserNative), verified, shown in the file manager
 * (org.freedesktop.FileManager1, or its folder opened) and deleted. A zip
 * is opened with the passwords of "password-file" (the Send page's) or,
 * without one, with passwords asked for. A restore or a verification is
 * shown as a state of the page: progress with Cancel, then how it ended.
 * A deletion can be undone until its toast goes: the version waits in
 * the destination's trash folder (backup-version-trash.h), the older
 * versions numbered down at once; the toast gone, it is deleted for real.
 * What a run that ended before that left in the trash folder is deleted
 * when the page first lists the folder.
 *
 * The actions, for the rows' buttons and menus ("s": the version's URI):
 * "history.restore" (asks where), "history.verify",
 * "history.show-in-files", "history.delete"; "history.cancel",
 * "history.done", "history.refresh". Messages are emitted as ::toast.
 */
#pragma once

#include <adwaita.h>

#include "backup-sent-history.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_HISTORY_PAGE (backup_history_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupHistoryPage, backup_history_page, BACKUP, HISTORY_PAGE, AdwBin)

GtkWidget *backup_history_page_new (void);

/* The folder received backups are kept in, or NULL. */
GFile *backup_history_page_get_folder (BackupHistoryPage *self);
void backup_history_page_set_folder (BackupHistoryPage *self, GFile *folder);

/* The password file that opens zips, or NULL: passwords are asked for. */
GFile *backup_history_page_get_password_file (BackupHistoryPage *self);
void backup_history_page_set_password_file (BackupHistoryPage *self, GFile *file);

/* The list of sent backups shown (by default the user's). */
BackupSentHistory *backup_history_page_get_sent_history (BackupHistoryPage *self);
void backup_history_page_set_sent_history (BackupHistoryPage *self, BackupSentHistory *history);

/* Reads the folder again ("loading" is TRUE until the list is shown). */
void backup_history_page_refresh (BackupHistoryPage *self);
gboolean backup_history_page_get_loading (BackupHistoryPage *self);

/* Restores @version (a file of the folder) into @destination, as choosing
 * @destination after "history.restore" does; verifies it. */
void backup_history_page_restore (BackupHistoryPage *self, GFile *version, GFile *destination);
void backup_history_page_verify (BackupHistoryPage *self, GFile *version);
/* TRUE from the start of a restore or verification (passwords included)
 * to its end. */
gboolean backup_history_page_get_busy (BackupHistoryPage *self);
/* TRUE while a deletion or its undoing changes the folder. */
gboolean backup_history_page_get_changing (BackupHistoryPage *self);

G_END_DECLS
