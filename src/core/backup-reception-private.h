/* backup-reception-private.h: what BackupStore uses to create receptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-reception.h"
#include "backup-store.h"

G_BEGIN_DECLS

/* Temporary files in the destination directory, XXXXXX being random
 * letters and digits:
 *
 * - ".NAME.XXXXXX.recv.part": the data of a reception.  Its owner holds an
 *   open file description lock (F_OFD_SETLK, F_WRLCK) on it from its
 *   creation until it is renamed into place or removed, so a file of this
 *   form that nobody has locked was left by a receiver that is gone.
 * - ".NAME.XXXXXX.link.part": a second name of the previous version of
 *   NAME, for the moment of a commit that makes it NAME.1.
 * - ".NAME.XXXXXX.part": the data of a reception of earlier versions of
 *   this program, which took no lock. */
#define BACKUP_RECEPTION_PART_SUFFIX ".part"
#define BACKUP_RECEPTION_DATA_MARK ".recv"
#define BACKUP_RECEPTION_LINK_MARK ".link"
#define BACKUP_RECEPTION_RESUME_MARK ".resume"
/* The extended attribute that holds a version's origin. */
#define BACKUP_RECEPTION_ORIGIN_XATTR "user.distributed-backup.origin"
/* Hex digits of the backup id in a resumable reception's file name. */
#define BACKUP_RECEPTION_ID_CHARS 32
#define BACKUP_RECEPTION_RANDOM_LEN 6

typedef enum
{
  BACKUP_PART_NONE,   /* not a temporary file name */
  BACKUP_PART_LEGACY, /* ".NAME.XXXXXX.part" */
  BACKUP_PART_DATA,   /* ".NAME.XXXXXX.recv.part" */
  BACKUP_PART_LINK,   /* ".NAME.XXXXXX.link.part" */
  BACKUP_PART_RESUME, /* ".NAME.<id>.resume.part": kept to resume */
} BackupPartKind;

/* Which temporary file the first @len bytes of @name name, if any. */
BackupPartKind _backup_part_kind (const char *name,
                                  gsize len);

/* Takes, without waiting, the lock that the owner of a ".recv.part" file
 * holds on it, through @fd (open for writing).  Returns 0 on success, or
 * the errno value: EAGAIN or EACCES when another open file description
 * holds it; others (EINVAL, ENOLCK, EOPNOTSUPP…) when the filesystem
 * cannot lock. */
int _backup_part_lock (int fd);

/* ".NAME.XXXXXX" @mark ".part" with a fresh XXXXXX, NAME cut to 200 bytes. */
char *_backup_reception_make_part_name (const char *name, const char *mark);

/* Takes ownership of @dir_fd, and a reference on @store (its policy, clock
 * and hooks).  Creates the temporary file. */
BackupReception *_backup_reception_new (BackupStore *store,
                                        int dir_fd,
                                        const char *dir_display,
                                        const char *name,
                                        guint versions,
                                        GError **error);

/* Sets @error from @errsv (an errno value) with a message naming @name and
 * the directory @dir_display. */
/* A reception that keeps its data under the backup's @id when it is
 * interrupted, and takes over what an earlier one kept (if younger than
 * @window, by its last write). */
BackupReception *_backup_reception_new_resumable (BackupStore *store,
                                                  int dir_fd,
                                                  const char *dir_display,
                                                  const char *name,
                                                  guint versions,
                                                  const char *id,
                                                  GTimeSpan window,
                                                  GError **error);

void _backup_store_set_errno_error (GError **error,
                                    int errsv,
                                    const char *name,
                                    const char *dir_display);

G_END_DECLS
