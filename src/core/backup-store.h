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
 * With a retention policy (backup_store_set_retention(), see
 * backup-retention.h), each commit applies it to the versions of its name
 * right after the new file is in place, and keeps the times of the
 * versions in a hidden index beside them (see backup-versions-private.h
 * for how a commit or a prune interrupted at any step loses nothing the
 * policy keeps).  @versions is then the upper bound of versions kept.
 * Without a policy, a commit rotates as the original tool did and writes
 * no index.
 *
 * Home context: the thread-default main context at creation; the store
 * itself emits nothing and may be used from any thread.
 */
#pragma once

#include <gio/gio.h>

#include "backup-reception.h"
#include "backup-retention.h"

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
 * ".X.XXXXXX.link.part") or version indexes (".X.versions").  Fails with BACKUP_ERROR_INVALID_NAME.
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

/* As backup_store_begin(), for a backup with an @id (32 lower-case hex
 * digits) that may resume: the temporary file is named by @id and kept by
 * backup_reception_keep() when the transfer is interrupted; a later
 * reception of the same @id and name takes it over, with its bytes (see
 * backup_reception_get_resume_offset()), if it was written to within the
 * resume window (default BACKUP_RESUME_WINDOW) and no other reception
 * holds it. Such a kept file is never a version; it is hidden, and removed
 * by backup_store_remove_stale_parts() once older than the window. */
BackupReception *backup_store_begin_resumable (BackupStore *self,
                                               const char *name,
                                               gsize name_len,
                                               const char *id,
                                               GError **error);
void backup_store_set_resume_window (BackupStore *self, GTimeSpan window);

/* Removes the temporary files (regular files owned by this user) that a
 * receiver killed or crashed during a reception left behind, and gives
 * back a clean numbering to the names whose commit or prune with a
 * retention policy was interrupted (one file under two numbers; nothing
 * is removed but that second number):
 *
 * - the data of a reception (".NAME.XXXXXX.recv.part") that no live
 *   receiver holds locked, whatever its age, and any older than @min_age
 *   microseconds (last write);
 * - a second name of a version during a commit (".NAME.XXXXXX.link.part")
 *   older than @min_age (last link);
 * - the data kept to resume (".NAME.<id>.resume.part") once older than
 *   the resume window, whatever @min_age, unless a reception holds it;
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

/* The policy applied after each commit; NULL or a policy without any rule:
 * none (plain rotation).  Set it before the first reception.  The store
 * checks nothing: backup_retention_check() is for front ends. */
void backup_store_set_retention (BackupStore *self, const BackupRetention *retention);
/* Copies the policy into @retention; TRUE when one is set. */
gboolean backup_store_get_retention (BackupStore *self, BackupRetention *retention);

/* One version, as a prune sees it. */
typedef struct
{
  char *name;     /* the received name */
  char *file;     /* its file now: NAME, or NAME.K */
  guint number;   /* K (0 for NAME) */
  char *new_file; /* its file after the prune, or NULL when it goes */
  gint64 time;    /* of its commit (else its modification), µs since the epoch */
  guint64 size;
  BackupRetentionReason reasons; /* why it stays; 0: it goes */
  char *origin;   /* the device it came from, as its sender named itself, or NULL */
} BackupStoreVersion;

void backup_store_version_free (BackupStoreVersion *version);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupStoreVersion, backup_store_version_free)

/* Applies the policy (and the bound @versions) now to @name, or with
 * @name NULL to every received name in the directory (a file "A.K" whose
 * "A", "A.1" … "A.(K-1)" exist is a version of "A", not a name; indexes
 * whose name is gone are removed).  With @dry_run nothing changes.
 * @versions_out, if not NULL, receives a new array of BackupStoreVersion:
 * every version of every name pruned, in order of name then number.
 * Without a policy, the newest @versions versions are kept.
 * Blocking; errors as backup_store_begin(). */
gboolean backup_store_prune (BackupStore *self,
                             const char *name,
                             gboolean dry_run,
                             GPtrArray **versions_out,
                             GCancellable *cancellable,
                             GError **error);
void backup_store_prune_async (BackupStore *self,
                               const char *name,
                               gboolean dry_run,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean backup_store_prune_finish (BackupStore *self,
                                    GAsyncResult *result,
                                    GPtrArray **versions_out,
                                    GError **error);

G_END_DECLS
