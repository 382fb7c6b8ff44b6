/* backup-zip-writer.h: the blocking half of BackupArchiver (private)
 *
 * Everything here runs in worker threads: it walks the source tree and
 * streams the double zip (backup-zip-output.h writes each level).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "backup-zip-encryption.h"

G_BEGIN_DECLS

typedef struct
{
  char *path;   /* relative to the source, '/'-separated, UTF-8 */
  guint32 mode; /* st_mode: type and permission bits */
  gint64 size;  /* regular files only */
  gint64 mtime; /* seconds */
  long mtime_nsec;
  gint64 ctime; /* seconds: any change to the file's content or metadata moves it */
  long ctime_nsec;
  guint64 inode;
  guint32 uid;
  guint32 gid;
  char *link_target; /* symbolic links only */
} BackupZipEntry;

typedef struct
{
  char *root;         /* absolute path of the source directory */
  GPtrArray *entries; /* of BackupZipEntry, parents before children */
  gint64 total_bytes; /* sum of the sizes of the regular files */
} BackupZipTree;

BackupZipTree *backup_zip_tree_scan (const char *root, GCancellable *cancellable, GError **error);
void backup_zip_tree_free (BackupZipTree *tree);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupZipTree, backup_zip_tree_free)

/* Called from a worker thread after each block of file data. */
typedef void (*BackupZipProgressFunc) (gint64 bytes_done, gpointer user_data);

typedef struct
{
  const BackupZipTree *tree;
  const char *inner_name;
  const char *password1; /* inner level; "" = not encrypted */
  const char *password2; /* outer level; "" = not encrypted */
  BackupZipEncryption encryption;
  GOutputStream *out;
  GCancellable *cancellable;
  BackupZipProgressFunc progress;
  gpointer progress_data;
  /* NULL: fresh random salts. Else the salts derive from this key (see
   * backup-zip-random.h) and the outer entry's time is @outer_mtime, so the
   * same tree gives the same bytes. */
  const guint8 *reproducible_key;
  gint64 outer_mtime; /* seconds */
} BackupZipWriteParams;

/* Writes the outer archive to params->out. Blocks; starts one extra thread
 * for the inner level and joins it before returning. */
gboolean backup_zip_write (const BackupZipWriteParams *params, GError **error);

G_END_DECLS
