/* backup-store.h: the receiver's versioned storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupStore stores received files in one destination directory and
 * keeps @versions versions of each name: NAME is the newest, NAME.1 the
 * one before, … NAME.(versions-1) the oldest.  Each file is received
 * through a BackupReception (see backup-reception.h) and becomes visible
 * only when it is committed.
 *
 * Home context: the thread-default main context at creation; the store
 * itself emits nothing and may be used from any thread.
 */
#pragma once

#include <gio/gio.h>

#include "backup-reception.h"

G_BEGIN_DECLS

#define BACKUP_STORE_MAX_VERSIONS 65535 /* the original -v is a 16-bit number */

#define BACKUP_TYPE_STORE (backup_store_get_type ())

G_DECLARE_FINAL_TYPE (BackupStore, backup_store, BACKUP, STORE, GObject)

/* @versions: 1 to BACKUP_STORE_MAX_VERSIONS. */
BackupStore *backup_store_new (GFile *directory, guint versions);

GFile *backup_store_get_directory (BackupStore *self);
guint backup_store_get_versions (BackupStore *self);

/* A received name must be one path component: not empty, at most 255
 * bytes, no '/', no NUL, not "." or "..", and not the form of our own
 * temporary files (".X.XXXXXX.part", ".X.XXXXXX.recv.part",
 * ".X.XXXXXX.link.part").  Fails with BACKUP_ERROR_INVALID_NAME.
 * The _len variant sees NUL bytes inside the first @len bytes. */
gboolean backup_store_check_name (const char *name, GError **error);
gboolean backup_store_check_name_len (const char *name, gsize len, GError **error);

/* Checks @name (its first @name_len bytes) and the destination directory,
 * and creates the temporary file.  Blocking but short (one open(2)).
 * Errors: BACKUP_ERROR_INVALID_NAME, BACKUP_ERROR_NOT_FOUND (no such
 * directory), BACKUP_ERROR_PERMISSION (not writable, read-only),
 * BACKUP_ERROR_NO_SPACE, BACKUP_ERROR_IO. */
BackupReception *backup_store_begin (BackupStore *self,
                                     const char *name,
                                     gsize name_len,
                                     GError **error);

/* Removes the temporary files (regular files owned by this user) that a
 * receiver killed or crashed during a reception left behind:
 *
 * - the data of a reception (".NAME.XXXXXX.recv.part") that no live
 *   receiver holds locked, whatever its age, and any older than @min_age
 *   microseconds (last write);
 * - a second name of a version during a commit (".NAME.XXXXXX.link.part")
 *   older than @min_age (last link);
 * - the data of a reception by an earlier version of this program
 *   (".NAME.XXXXXX.part"), which took no lock, older than @min_age.
 *
 * The files of receptions under way, in this process or another one, stay
 * (unless older than @min_age), so receivers may share a directory.
 * Blocking (one directory scan); meant for start-up.  @n_removed may be
 * NULL. */
gboolean backup_store_remove_stale_parts (BackupStore *self,
                                          GTimeSpan min_age,
                                          guint *n_removed,
                                          GError **error);

G_END_DECLS
