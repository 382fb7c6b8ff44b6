/* backup-restore.c: opens a received backup again (the run)
 *
 * Everything below backup_restore_run() blocks and runs in one worker
 * thread. This file holds the run itself: the archive file and its
 * progress, the errors of both levels in words a user can act on, and the
 * copy of a received file that is no zip. backup-restore-stream.c reads
 * the zips; backup-restore-private.h says where the rest is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore-private.h"

#define PROGRESS_INTERVAL_USEC (G_USEC_PER_SEC / 10)

const char *
restore_password (const char *password)
{
  return password != NULL ? password : "";
}

/* ------------------------------------------------------------------------ */
/* Errors */

gboolean
restore_check_cancelled (Restore *r, GError **error)
{
  return !g_cancellable_set_error_if_cancelled (r->cancellable, error);
}

/* libarchive's reasons, in words a user can act on. */
static const char *
describe_damage (const char *why)
{
  if (why == NULL)
    return _("the data cannot be read");
  if (strstr (why, "CRC") != NULL)
    return _("its checksum does not match");
  if (strstr (why, "Authentication code") != NULL)
    return _("its authentication code does not match: it was damaged or altered");
  if (strstr (why, "Truncated") != NULL || strstr (why, "truncated") != NULL)
    return _("the archive ends too early (truncated)");
  return why;
}

/* Sets @error for a failure of @a while reading entry @display (NULL:
 * between entries) at level @inner. */
void
restore_set_read_error (Restore *r, Archive *a, gboolean inner, const char *display,
                        GError **error)
{
  gboolean asked = inner ? r->inner_asked : r->outer_asked;
  const char *password = inner ? r->params->password1 : r->params->password2;

  if (g_cancellable_set_error_if_cancelled (r->cancellable, error))
    return;

  if (inner && r->outer_error != NULL)
    {
      /* The outer level failed under the inner one. */
      if (g_error_matches (r->outer_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || r->outer_error->code == BACKUP_ERROR_BAD_PASSWORD || display == NULL)
        {
          g_propagate_error (error, g_error_copy (r->outer_error));
          return;
        }
      g_set_error (error, BACKUP_ERROR, r->outer_error->code, _("“%s”: %s"), display,
                   r->outer_error->message);
      return;
    }

  if (asked)
    {
      const char *what = display != NULL ? display : _("the archive");

      if (restore_password (password)[0] == '\0')
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_BAD_PASSWORD,
                     inner ? _("“%s” in the inner archive is encrypted, but password 1 is empty")
                           : _("“%s” is encrypted, but password 2 is empty"),
                     what);
      else
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_BAD_PASSWORD,
                     inner ? _("Wrong password: password 1 does not open “%s” in the inner "
                               "archive")
                           : _("Wrong password: password 2 does not open “%s”"),
                     what);
      return;
    }

  if (display == NULL && r->last_display != NULL)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                 _("The archive is damaged after “%s”: %s"), r->last_display,
                 describe_damage (archive_error_string (a)));
  else if (display == NULL)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                 inner ? _("The inner archive is not a readable zip archive: %s")
                       : _("The archive is not a readable zip archive: %s"),
                 describe_damage (archive_error_string (a)));
  else
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT, _("The archive is damaged at “%s”: %s"),
                 display, describe_damage (archive_error_string (a)));
}

/* ------------------------------------------------------------------------ */
/* Reading files, with progress */

/* Progress never goes back, even when a second pass reads the archive
 * again. */
void
restore_report_progress (Restore *r, gboolean final)
{
  gint64 now;

  r->progress_done = MIN (MAX (r->progress_done, r->position), r->size);
  if (r->params->progress_func == NULL)
    return;
  now = g_get_monotonic_time ();
  if (!final && now - r->last_progress_us < PROGRESS_INTERVAL_USEC)
    return;
  r->last_progress_us = now;
  r->params->progress_func (r->progress_done, r->size, r->params->progress_data);
}

static la_ssize_t
source_read_cb (struct archive *a, void *data, const void **buffer)
{
  RestoreSource *source = data;
  gssize n;

  do
    n = read (source->fd, source->buffer, RESTORE_READ_BLOCK_SIZE);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return -1;
    }
  if (source->progress)
    source->r->position += n;
  *buffer = source->buffer;
  return n;
}

static la_int64_t
source_seek_cb (struct archive *a, void *data, la_int64_t offset, int whence)
{
  RestoreSource *source = data;
  off_t result = lseek (source->fd, offset, whence);

  if (result < 0)
    {
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return ARCHIVE_FATAL;
    }
  if (source->progress)
    source->r->position = result;
  return result;
}

static la_int64_t
source_skip_cb (struct archive *a, void *data, la_int64_t request)
{
  RestoreSource *source = data;
  off_t result = lseek (source->fd, request, SEEK_CUR);

  if (result < 0)
    return 0; /* libarchive reads instead */
  if (source->progress)
    source->r->position = result;
  return request;
}

/* Has @a read @source, seeking where it wants to; archive_read_open1()
 * starts it. */
gboolean
restore_attach_source (RestoreSource *source, Archive *a, GError **error)
{
  if (archive_read_set_callback_data (a, source) != ARCHIVE_OK
      || archive_read_set_read_callback (a, source_read_cb) != ARCHIVE_OK
      || archive_read_set_seek_callback (a, source_seek_cb) != ARCHIVE_OK
      || archive_read_set_skip_callback (a, source_skip_cb) != ARCHIVE_OK)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, "%s", archive_error_string (a));
      return FALSE;
    }
  return TRUE;
}

gboolean
restore_has_zip_magic (const guint8 *p, gsize len)
{
  return len >= 4 && p[0] == 'P' && p[1] == 'K'
         && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6) || (p[2] == 7 && p[3] == 8));
}

gboolean
backup_restore_is_zip (const char *path, GError **error)
{
  g_autofree char *display = NULL;
  guint8 magic[4];
  gssize n;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;

      display = backup_display_name (path, -1);
      restore_set_errno_error (error, errsv, _("Cannot open “%s”: %s"), display);
      return FALSE;
    }
  n = read (fd, magic, sizeof magic);
  close (fd);
  return n == sizeof magic && restore_has_zip_magic (magic, sizeof magic);
}

/* ------------------------------------------------------------------------ */
/* Entries */

/* Counts an entry in the summary and reports it. */
void
restore_count_entry (Restore *r, const char *path, guint32 mode, guint64 size, gint64 mtime,
                     const char *link_target)
{
  BackupRestoreEntry e = { 0 };

  switch (mode & S_IFMT)
    {
    case S_IFREG:
      r->summary->n_files++;
      r->summary->n_bytes += size;
      break;
    case S_IFDIR:
      r->summary->n_folders++;
      size = 0;
      break;
    case S_IFLNK:
      r->summary->n_links++;
      break;
    default:
      break;
    }
  if (r->params->entry_func == NULL)
    return;
  e.path = path;
  e.mode = mode;
  e.size = size;
  e.mtime = mtime;
  e.link_target = link_target;
  r->params->entry_func (&e, r->params->entry_data);
}

static gboolean
all_zero (const guint8 *p, gsize len)
{
  return len > 0 && p[0] == 0 && memcmp (p, p + 1, len - 1) == 0;
}

/* Writes @len bytes at @offset, leaving runs of zeros as holes. */
gboolean
restore_write_at (int fd, const void *data, gsize len, guint64 offset, const char *display,
                  GError **error)
{
  const guint8 *p = data;

  if (all_zero (p, len))
    return TRUE;
  while (len > 0)
    {
      gssize n = pwrite (fd, p, len, offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          restore_set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
          return FALSE;
        }
      p += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* A received file that is no zip: copied as it is. */
static gboolean
restore_plain_file (Restore *r, const char *path, GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *display = backup_display_name (base, -1);
  g_autoptr (GPtrArray) parts = NULL;
  RestoreFile file = { -1, -1, NULL, NULL };
  int in_fd = r->source.fd;
  guint64 done = 0;
  struct stat st;
  gboolean ok = FALSE;

  r->summary->kind = BACKUP_RESTORE_KIND_FILE;
  if (fstat (in_fd, &st) < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
      return FALSE;
    }

  if (r->params->mode == BACKUP_RESTORE_EXTRACT)
    {
      parts = restore_split_path (base, display, error);
      if (parts == NULL)
        return FALSE;
      if (parts->len != 1)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: it names no file"), display);
          return FALSE;
        }
      if (!restore_file_begin (r, &file, parts, display, error))
        goto out;
    }

  for (;;)
    {
      gssize n;

      if (!restore_check_cancelled (r, error))
        goto out;
      n = read (in_fd, r->source.buffer, RESTORE_READ_BLOCK_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          restore_set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
          goto out;
        }
      if (n == 0)
        break;
      r->position += n;
      if (file.fd >= 0 && !restore_write_at (file.fd, r->source.buffer, n, done, display, error))
        goto out;
      done += n;
      restore_report_progress (r, FALSE);
    }

  if (file.fd >= 0)
    {
      if (ftruncate (file.fd, done) < 0)
        {
          restore_set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
          goto out;
        }
      if (!restore_file_commit (r, &file, st.st_mode & 0777, &st.st_mtim, display, error))
        goto out;
    }

  r->summary->n_files = 1;
  r->summary->n_bytes = done;
  if (r->params->entry_func != NULL)
    {
      BackupRestoreEntry e = { base, st.st_mode, done, st.st_mtim.tv_sec, NULL };

      r->params->entry_func (&e, r->params->entry_data);
    }
  ok = TRUE;

out:
  restore_file_clear (&file);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The run */

static gboolean
open_destination (Restore *r, GError **error)
{
  const char *dir = r->params->destination;
  g_autofree char *display = NULL;

  display = backup_display_name (dir, -1);
  if (mkdir (dir, 0777) < 0 && errno != EEXIST)
    {
      restore_set_errno_error (error, errno, _("Cannot create the destination “%s”: %s"),
                               display);
      return FALSE;
    }
  r->root_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (r->root_fd < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot open the destination “%s”: %s"),
                               display);
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_restore_run (const BackupRestoreParams *params,
                    BackupRestoreSummary *summary,
                    GCancellable *cancellable,
                    GError **error)
{
  Restore r = { 0 };
  BackupRestoreSummary local_summary = { 0 };
  g_autofree char *display = NULL;
  locale_t utf8 = (locale_t) 0;
  locale_t old = (locale_t) 0;
  struct stat st;
  guint8 magic[4];
  gssize n;
  gboolean ok = FALSE;

  g_return_val_if_fail (params != NULL && params->archive != NULL, FALSE);
  g_return_val_if_fail (params->mode != BACKUP_RESTORE_EXTRACT || params->destination != NULL,
                        FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  r.params = params;
  r.cancellable = cancellable;
  r.summary = summary != NULL ? summary : &local_summary;
  memset (r.summary, 0, sizeof *r.summary);
  r.source.r = &r;
  r.source.fd = -1;
  r.source.progress = TRUE;
  r.root_fd = -1;
  r.outer_size = -1;
  r.folders = g_array_new (FALSE, FALSE, sizeof (FolderFixup));
  g_array_set_clear_func (r.folders, restore_folder_fixup_clear);
  r.entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.bad_links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r.directory = g_byte_array_new ();
  display = backup_display_name (params->archive, -1);

  r.source.fd = open (params->archive, O_RDONLY | O_CLOEXEC);
  if (r.source.fd < 0 || fstat (r.source.fd, &st) < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot open “%s”: %s"), display);
      goto out;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _("“%s” is not a regular file"),
                   display);
      goto out;
    }
  r.size = st.st_size;
  r.source.buffer = g_malloc (RESTORE_READ_BLOCK_SIZE);
  posix_fadvise (r.source.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  if (params->mode == BACKUP_RESTORE_EXTRACT && !open_destination (&r, error))
    goto out;

  n = pread (r.source.fd, magic, sizeof magic, 0);
  if (n < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
      goto out;
    }

  /* Entry names are UTF-8 whatever the locale of the program. */
  utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
  if (utf8 != (locale_t) 0)
    old = uselocale (utf8);

  if (restore_has_zip_magic (magic, n))
    ok = restore_zip (&r, error);
  else
    ok = restore_plain_file (&r, params->archive, error);
  if (ok && params->mode == BACKUP_RESTORE_EXTRACT)
    ok = restore_fix_folders (&r, error);
  if (ok)
    restore_report_progress (&r, TRUE);

  if (utf8 != (locale_t) 0)
    {
      uselocale (old);
      freelocale (utf8);
    }

out:
  g_clear_pointer (&r.outer, archive_read_free);
  g_clear_error (&r.outer_error);
  g_free (r.outer_name);
  g_free (r.last_display);
  g_free (r.source.buffer);
  g_array_unref (r.folders);
  g_hash_table_unref (r.entries);
  g_hash_table_unref (r.bad_links);
  g_byte_array_unref (r.directory);
  for (int i = 0; i < RESTORE_WINDOW_BLOCKS; i++)
    g_clear_pointer (&r.window[i], g_bytes_unref);
  if (r.source.fd >= 0)
    close (r.source.fd);
  if (r.root_fd >= 0)
    close (r.root_fd);
  return ok;
}
