/* backup-restore-private.h: what the files of the restore share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The restore is one blocking run in one worker thread, split along its
 * seams:
 *
 *   backup-restore.c            the run: the archive file, errors, progress,
 *                               a received file that is no zip;
 *   backup-restore-stream.c     the streaming engine: the outer archive, its
 *                               entries or the inner archive streamed out of it;
 *   backup-restore-directory.c  the central directory of the streamed inner
 *                               archive, which gives its entries their types;
 *   backup-restore-indexed.c    the second pass over an inner archive that the
 *                               stream cannot read: a copy of it read by its
 *                               central directory;
 *   backup-restore-dest.c       the destination: safe names, one component at a
 *                               time without following links, files put in
 *                               place, folder fix-ups;
 *   backup-restore-async.c      backup_restore_run_async() and its worker.
 *
 * The Restore below is the state of one run; only its run's thread touches it.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "backup-restore.h"

G_BEGIN_DECLS

#define RESTORE_READ_BLOCK_SIZE (256 * 1024)
#define RESTORE_WINDOW_BLOCKS 4
/* The longest link target read back from a file written in its place. */
#define RESTORE_MAX_LINK_TARGET 4095
/* r->entries: a file written by the streamed pass (folders: index + 1). */
#define RESTORE_ENTRY_FILE 0

typedef struct archive Archive;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Archive, archive_read_free)

#define restore_set_errno_error(error, errsv, format, display)                                     \
  g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv), format, display,              \
               g_strerror (errsv))

typedef struct
{
  char *path; /* normalized, relative to the destination */
  guint32 mode;
  gint64 mtime;
  long mtime_nsec;
  gboolean has_mtime;
} FolderFixup;

typedef struct _Restore Restore;

/* A file libarchive reads through callbacks. */
typedef struct
{
  Restore *r;
  int fd;
  guint8 *buffer; /* RESTORE_READ_BLOCK_SIZE bytes */
  gboolean progress; /* its reads are the progress of the run */
} RestoreSource;

struct _Restore
{
  const BackupRestoreParams *params;
  GCancellable *cancellable;
  BackupRestoreSummary *summary;

  /* The archive file. */
  RestoreSource source;
  guint64 size;
  guint64 position;
  guint64 progress_done; /* the most reported, so that a second pass never goes back */
  gint64 last_progress_us;

  /* The outer reader, and what the inner one takes from it. */
  Archive *outer;
  gboolean outer_asked; /* libarchive wanted another password for the outer level */
  gboolean inner_asked;
  char *outer_name;     /* the outer entry holding the inner archive */
  gint64 outer_size;    /* its size, or -1 when the outer archive does not say */
  const void *pending;  /* a block of the outer entry not handed on yet */
  size_t pending_len;
  gboolean outer_eof;
  GError *outer_error; /* why the outer level failed while the inner one read */

  /* The inner archive is streamed, and a streamed zip tells the type and
   * mode of its entries only in its central directory, at its end: entries
   * are written as files of mode 0600 (folders 0700) first, then the
   * directory sets modes and turns links into links. */
  gboolean deferred;
  GHashTable *entries;    /* normalized path → RESTORE_ENTRY_FILE or folder index + 1 */
  GHashTable *bad_links;  /* verify: path → the content, if it is a link, that is refused */
  guint64 n_deferred;     /* entries seen in the stream */
  guint64 n_directory;    /* central directory records applied */
  GBytes *window[RESTORE_WINDOW_BLOCKS]; /* copies of the last blocks handed to the inner reader */
  guint64 window_offset[RESTORE_WINDOW_BLOCKS];
  guint64 handed;         /* bytes handed to the inner reader */
  GByteArray *directory;  /* central directory bytes not parsed yet */
  gboolean directory_done;

  /* A stored inner entry whose size comes after its data ends where a
   * streaming reader finds a data descriptor signature, which its data can
   * hold by chance: when reading such an entry fails, the inner archive is
   * read again by its central directory. */
  gboolean entry_may_misread; /* the current inner entry is one of those */
  gboolean misread;           /* reading it failed */

  /* Extraction. */
  int root_fd;
  GArray *folders; /* of FolderFixup, in archive order */
  char *last_display; /* the last entry read, for errors between entries */
};

/* backup-restore.c */
gboolean restore_check_cancelled (Restore *r, GError **error);
void restore_set_read_error (Restore *r, Archive *a, gboolean inner, const char *display,
                             GError **error);
void restore_report_progress (Restore *r, gboolean final);
gboolean restore_has_zip_magic (const guint8 *p, gsize len);
const char *restore_password (const char *password);
gboolean restore_attach_source (RestoreSource *source, Archive *a, GError **error);
gboolean restore_write_at (int fd, const void *data, gsize len, guint64 offset,
                           const char *display, GError **error);
void restore_count_entry (Restore *r, const char *path, guint32 mode, guint64 size,
                          gint64 mtime, const char *link_target);

/* backup-restore-dest.c */
GPtrArray *restore_split_path (const char *path, const char *display, GError **error);
char *restore_join_path (GPtrArray *parts);
gboolean restore_check_link_target (const char *target, guint depth, const char *display,
                                    GError **error);
int restore_open_folder (Restore *r, GPtrArray *parts, guint n, gboolean create,
                         const char *display, GError **error);
int restore_open_scratch (int dir_fd, const char *dir_display, GError **error);

typedef struct
{
  int dir_fd;
  int fd;
  char *tmp;
  const char *name;
} RestoreFile;

gboolean restore_file_begin (Restore *r, RestoreFile *file, GPtrArray *parts, const char *display,
                             GError **error);
gboolean restore_file_commit (Restore *r, RestoreFile *file, guint32 perm,
                              const struct timespec *mtime, const char *display, GError **error);
void restore_file_clear (RestoreFile *file);
gboolean restore_link (Restore *r, GPtrArray *parts, const char *target,
                       const struct timespec *mtime, const char *display, GError **error);
gboolean restore_replace_by_link (Restore *r, int dir_fd, const char *name, const char *target,
                                  const struct timespec *mtime, const char *display,
                                  GError **error);
gboolean restore_folder (Restore *r, GPtrArray *parts, guint32 perm, const struct timespec *mtime,
                         const char *display, GError **error);
gboolean restore_fix_folders (Restore *r, GError **error);
void restore_folder_fixup_clear (gpointer data);

/* backup-restore-stream.c */
gboolean restore_setup_reader (Restore *r, Archive *a, gboolean inner, gboolean seekable,
                               GError **error);
gboolean restore_zip (Restore *r, GError **error);
gboolean restore_open_outer (Restore *r, struct archive_entry **entry, GError **error);
gboolean restore_check_outer_end (Restore *r, GError **error);
gboolean restore_next_outer_block (Restore *r, const void **block, size_t *len, GError **error);
gboolean restore_read_content (Restore *r, Archive *a, gboolean inner, int fd,
                               GByteArray *capture, const char *display, guint64 *out_size,
                               GError **error);
gboolean restore_process_entry (Restore *r, Archive *a, gboolean inner,
                                struct archive_entry *entry, GError **error);

/* backup-restore-directory.c */
gboolean restore_feed_directory (Restore *r, const void *data, gsize len, GError **error);
gboolean restore_apply_to_destination (Restore *r, const char *path, guint32 mode, gint64 mtime,
                                       long mtime_nsec, GError **error);
void restore_note_content (Restore *r, GPtrArray *parts, GByteArray *content);

/* backup-restore-indexed.c */
gboolean restore_inner_indexed (Restore *r, GError **error);

G_END_DECLS
