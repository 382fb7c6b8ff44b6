/* backup-version-trash.h: deleting a received version, with undo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The versions of NAME in a destination folder are NAME, NAME.1, NAME.2 …
 * up to the first missing number (backup-store.h): a file after a gap is
 * not a version. Deleting NAME.K therefore renumbers the older versions
 * down by one (NAME.(K+1) becomes NAME.K …), and undoing it puts the file
 * back at its number and the older ones up again, as the store's own
 * commits and prunes do:
 *
 *   - the deleted file first gets a second name in a hidden folder of the
 *     destination, BACKUP_VERSION_TRASH_DIR, so that nothing is lost
 *     before the deletion is final;
 *   - a version changes number as a hard link renamed over its new number
 *     (for a moment one file has two numbers, never none), so a crash
 *     between two steps leaves a file under two numbers, which
 *     backup_store_remove_stale_parts() (run by every receiver that starts
 *     on the folder, and by the Backups page) numbers again, removing
 *     nothing else; without hard links, plain renames are used;
 *   - every change holds the destination's flock(2), the lock the store
 *     takes for its commits and prunes, so a receiver sharing the folder
 *     waits.
 *
 * What is in the trash folder is deleted for real by
 * backup_version_trash_purge(): once the user can no longer undo, and at
 * the next start for what a process that ended (or crashed) left there.
 * The index of the versions' times needs no change: it knows a version by
 * its inode and size, not by its number.
 *
 * Part of the store (backup-store.h), for front ends that let a user
 * delete a version and take it back. Every function here blocks: call it
 * from a worker thread.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_VERSION_TRASH_DIR ".distributed-backup-trash"

/* Takes version @number of @name out of the numbering of @directory; the
 * file stays, under the name returned in @trashed (a file name inside the
 * trash folder, for the two functions below). Errors: G_IO_ERROR_NOT_FOUND
 * when there is no such version, else errno-based G_IO_ERRORs. */
gboolean backup_version_trash_take (GFile *directory, const char *name, guint number,
                                    char **trashed, GError **error);

/* Puts @trashed back as version @number of @name (or as the oldest when
 * fewer versions are left), the versions from @number on moving up one.
 * @number_out, if not NULL, receives the number it got. */
gboolean backup_version_trash_restore (GFile *directory, const char *name, guint number,
                                       const char *trashed, guint *number_out, GError **error);

/* Deletes @trashed from the trash folder of @directory; with @trashed
 * NULL, everything there that another process left (what this process
 * trashed may still be undone). A missing trash folder is no error. */
gboolean backup_version_trash_purge (GFile *directory, const char *trashed, GError **error);

G_END_DECLS
