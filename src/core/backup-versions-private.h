/* backup-versions-private.h: the numbered versions of one name, their
 * times and their pruning (used by BackupStore and BackupReception)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The versions of NAME are NAME, NAME.1, NAME.2 … up to the first number
 * that is missing (a file after a gap is not a version).  Every function
 * here works on a destination directory open as @dir_fd, and every change
 * keeps this invariant, even when the process dies between two steps:
 *
 *   the numbering has no gap, and every version the policy keeps is there.
 *
 * To that end, a version never moves by rename(2) alone but as a hard
 * link under a temporary name renamed over its new number, so that for a
 * moment it has two numbers instead of none; a prune moves the versions it
 * keeps down in increasing order of their new number, then removes the
 * numbers past the last one from the highest down.  A state left half-way
 * holds the same file under two numbers: _backup_versions_repair() (at
 * start-up, from backup_store_remove_stale_parts()) keeps one, and any
 * later prune decides exactly what an uninterrupted one would have, since
 * the policy gives the same answer on every state a prune passes through.
 * Where the filesystem has no hard links, plain renames are used.
 *
 * The times of the versions are kept in a hidden index beside them,
 * ".NAME.versions" (JSON, written to a temporary file and renamed): for
 * each version its number, inode, size and the time of its commit.  The
 * commit also sets the version's modification time to that time, so that
 * a missing, damaged or outdated index is rebuilt from the files: a
 * version that no entry describes (same inode and size) takes its
 * modification time.
 *
 * Changes take an exclusive flock(2) of the directory, so that receivers
 * sharing it commit and prune one at a time.
 */
#pragma once

#include "backup-store.h"

G_BEGIN_DECLS

/* Takes the directory lock (blocking); a filesystem without locks goes
 * on without.  Returns whether to unlock. */
gboolean _backup_versions_lock (int dir_fd);
void _backup_versions_unlock (int dir_fd, gboolean locked);

/* The index file of @name (".NAME.versions", shortened with a hash when
 * too long). */
char *_backup_versions_index_name (const char *name);
/* TRUE when the first @len bytes of @name have the form of an index. */
gboolean _backup_versions_is_index_name (const char *name, gsize len);

/* Commit, step 1 (lock held): every version moves up by one number
 * (NAME stays), so that the new file can be renamed over NAME. */
gboolean _backup_versions_shift (BackupStore *store,
                                 int dir_fd,
                                 const char *dir_display,
                                 const char *name,
                                 GError **error);

/* Applies the store's policy to @name (lock held).  @newest_time, when not
 * NULL, is the time of NAME (just committed).  With @dry_run nothing
 * changes.  With @repair, nothing is removed: only a second number of the
 * same file goes.  Appends a BackupStoreVersion for each version to
 * @report if not NULL. */
gboolean _backup_versions_prune (BackupStore *store,
                                 int dir_fd,
                                 const char *dir_display,
                                 const char *name,
                                 const gint64 *newest_time,
                                 gboolean dry_run,
                                 gboolean repair,
                                 GPtrArray *report,
                                 GError **error);

/* The received names in the directory (not versions of another one, not
 * temporary files, not indexes), sorted; and the names of indexes whose
 * name has no file any more. */
gboolean _backup_versions_list_names (int dir_fd,
                                      GPtrArray *names,
                                      GPtrArray *orphan_indexes,
                                      GError **error);

/* The names that an interrupted commit or prune left with one file under
 * two numbers. */
void _backup_versions_find_interrupted (int dir_fd, GPtrArray *names);

G_END_DECLS
