/* backup-restore.c: opens a received backup again
 *
 * Everything below backup_restore_run() blocks and runs in one worker
 * thread. The outer archive is read from the file through libarchive (its
 * seeking reader when the central directory is intact, its streaming reader
 * otherwise); when its first entry is a zip, a second libarchive reader
 * (streaming) takes its content block by block straight from the first one,
 * so the inner archive never exists anywhere as a whole.
 *
 * Every file system operation on the destination goes through a descriptor
 * of the destination folder with openat() and friends, one path component
 * at a time and never following a symbolic link (O_NOFOLLOW), so no entry
 * and no link, earlier or already there, can lead a write outside it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore.h"

#define READ_BLOCK_SIZE (256 * 1024)
#define PROGRESS_INTERVAL_USEC (G_USEC_PER_SEC / 10)
#define MAX_COMPONENT 255
#define WINDOW_BLOCKS 4
#define INNER_CHUNK_SIZE (4 * 1024)
/* The longest link target read back from a file written in its place. */
#define MAX_LINK_TARGET 4095

typedef struct archive Archive;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Archive, archive_read_free)

typedef struct
{
  char *path; /* normalized, relative to the destination */
  guint32 mode;
  gint64 mtime;
  long mtime_nsec;
  gboolean has_mtime;
} FolderFixup;

typedef struct
{
  const BackupRestoreParams *params;
  GCancellable *cancellable;
  BackupRestoreSummary *summary;

  /* The archive file. */
  int fd;
  guint64 size;
  guint64 position;
  guint8 *buffer;
  gint64 last_progress_us;

  /* The outer reader, and what the inner one takes from it. */
  Archive *outer;
  gboolean outer_asked; /* libarchive wanted another password for the outer level */
  gboolean inner_asked;
  char *outer_name;     /* the outer entry holding the inner archive */
  const void *pending;  /* a block of the outer entry not handed on yet */
  size_t pending_len;
  gboolean outer_eof;
  GError *outer_error; /* why the outer level failed while the inner one read */

  /* The inner archive is streamed, and a streamed zip tells the type and
   * mode of its entries only in its central directory, at its end: entries
   * are written as files of mode 0600 (folders 0700) first, then the
   * directory sets modes and turns links into links. */
  gboolean deferred;
  GHashTable *entries;    /* normalized path → ENTRY_FILE or folder index + 1 */
  guint64 n_deferred;     /* entries seen in the stream */
  guint64 n_directory;    /* central directory records applied */
  GBytes *window[WINDOW_BLOCKS]; /* copies of the last blocks handed to the inner reader */
  guint64 window_offset[WINDOW_BLOCKS];
  guint64 handed;         /* bytes handed to the inner reader */
  GByteArray *directory;  /* central directory bytes not parsed yet */
  gboolean directory_done;

  /* Extraction. */
  int root_fd;
  GArray *folders; /* of FolderFixup, in archive order */
  char *last_display; /* the last entry read, for errors between entries */
} Restore;

#define ENTRY_FILE 0

static const char *
password_or_empty (const char *password)
{
  return password != NULL ? password : "";
}

/* ------------------------------------------------------------------------ */
/* Errors */

#define set_errno_error(error, errsv, format, display)                                             \
  g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv), format, display,              \
               g_strerror (errsv))

static gboolean
check_cancelled (Restore *r, GError **error)
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
static void
set_read_error (Restore *r, Archive *a, gboolean inner, const char *display, GError **error)
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

      if (password_or_empty (password)[0] == '\0')
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
/* Reading the archive file, with progress */

static void
report_progress (Restore *r, gboolean final)
{
  gint64 now;

  if (r->params->progress_func == NULL)
    return;
  now = g_get_monotonic_time ();
  if (!final && now - r->last_progress_us < PROGRESS_INTERVAL_USEC)
    return;
  r->last_progress_us = now;
  r->params->progress_func (MIN (r->position, r->size), r->size, r->params->progress_data);
}

static la_ssize_t
file_read_cb (struct archive *a, void *data, const void **buffer)
{
  Restore *r = data;
  gssize n;

  do
    n = read (r->fd, r->buffer, READ_BLOCK_SIZE);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return -1;
    }
  r->position += n;
  *buffer = r->buffer;
  return n;
}

static la_int64_t
file_seek_cb (struct archive *a, void *data, la_int64_t offset, int whence)
{
  Restore *r = data;
  off_t result = lseek (r->fd, offset, whence);

  if (result < 0)
    {
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return ARCHIVE_FATAL;
    }
  r->position = result;
  return result;
}

static la_int64_t
file_skip_cb (struct archive *a, void *data, la_int64_t request)
{
  Restore *r = data;
  off_t result = lseek (r->fd, request, SEEK_CUR);

  if (result < 0)
    return 0; /* libarchive reads instead */
  r->position = result;
  return request;
}

/* libarchive asks for one more password once those it was given failed. */
static const char *
outer_password_cb (struct archive *a, void *data)
{
  Restore *r = data;

  r->outer_asked = TRUE;
  return NULL;
}

static const char *
inner_password_cb (struct archive *a, void *data)
{
  Restore *r = data;

  r->inner_asked = TRUE;
  return NULL;
}

static gboolean
has_zip_magic (const guint8 *p, gsize len)
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
      set_errno_error (error, errsv, _("Cannot open “%s”: %s"), display);
      return FALSE;
    }
  n = read (fd, magic, sizeof magic);
  close (fd);
  return n == sizeof magic && has_zip_magic (magic, sizeof magic);
}

/* ------------------------------------------------------------------------ */
/* Names */

/* Splits an entry name into its components, refusing any that could leave
 * the destination. An empty result is the destination itself. */
static GPtrArray *
split_entry_path (const char *path, const char *display, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) items = NULL;

  if (path[0] == '/')
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                   _("Refused “%s”: an absolute path would be written outside the destination"),
                   display);
      return NULL;
    }

  items = g_strsplit (path, "/", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (items[i][0] == '\0' || strcmp (items[i], ".") == 0)
        continue;
      if (strcmp (items[i], "..") == 0)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: “..” would lead outside the destination"), display);
          return NULL;
        }
      if (strlen (items[i]) > MAX_COMPONENT)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: a name in it is longer than %d bytes"), display,
                       MAX_COMPONENT);
          return NULL;
        }
      g_ptr_array_add (parts, g_strdup (items[i]));
    }
  return g_steal_pointer (&parts);
}

/* A link target is accepted when it is relative, its ".." components all
 * come first, and they do not climb above the destination from the link's
 * folder (@depth components deep). Since every folder on the way down was
 * checked to be a real folder, and every link accepted so far obeys the
 * same rule, what such a link points to stays inside the destination. */
static gboolean
check_link_target (const char *target, guint depth, const char *display, GError **error)
{
  g_auto (GStrv) items = NULL;
  guint ups = 0;
  gboolean descended = FALSE;

  if (target[0] == '\0' || target[0] == '/')
    goto refuse;

  items = g_strsplit (target, "/", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (items[i][0] == '\0' || strcmp (items[i], ".") == 0)
        continue;
      if (strcmp (items[i], "..") == 0)
        {
          if (descended || ++ups > depth)
            goto refuse;
        }
      else
        descended = TRUE;
    }
  return TRUE;

refuse:
  {
    g_autofree char *target_display = backup_display_name (target, -1);

    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                 _("Refused the symbolic link “%s”: its target “%s” is outside the destination"),
                 display, target_display);
  }
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* The destination, one component at a time */

static char *
join_display (GPtrArray *parts, guint n)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, '/');
      g_string_append (s, g_ptr_array_index (parts, i));
    }
  return backup_display_name (s->str, -1);
}

/* Opens the folder made of the first @n components of @parts under the
 * destination, creating missing ones when @create, never through a link.
 * Returns a descriptor, or -1 with @error set. */
static int
open_folder (Restore *r, GPtrArray *parts, guint n, gboolean create, const char *display,
             GError **error)
{
  int fd = openat (r->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot open the destination for “%s”: %s"), display);
      return -1;
    }

  for (guint i = 0; i < n; i++)
    {
      const char *name = g_ptr_array_index (parts, i);
      int next = openat (fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (fd, name, 0700) < 0 && errno != EEXIST)
            {
              int errsv = errno;
              g_autofree char *folder = join_display (parts, i + 1);

              close (fd);
              g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                           _("Cannot create the folder “%s”: %s"), folder, g_strerror (errsv));
              return -1;
            }
          next = openat (fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }

      if (next < 0)
        {
          int errsv = errno;
          g_autofree char *folder = join_display (parts, i + 1);
          struct stat st;

          if ((errsv == ELOOP || errsv == ENOTDIR)
              && fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
            g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                         _("Refused “%s”: it goes through the symbolic link “%s”"), display,
                         folder);
          else if (errsv == ENOTDIR)
            g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                         _("Cannot restore “%s”: “%s” exists and is not a folder"), display,
                         folder);
          else
            g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                         _("Cannot open the folder “%s”: %s"), folder, g_strerror (errsv));
          close (fd);
          return -1;
        }
      close (fd);
      fd = next;
    }
  return fd;
}

/* Whether @name may be (re)placed in @dir_fd. */
static gboolean
check_target_free (Restore *r, int dir_fd, const char *name, const char *display, GError **error)
{
  struct stat st;

  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      set_errno_error (error, errno, _("Cannot restore “%s”: %s"), display);
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                   _("Cannot restore “%s”: a folder of that name exists"), display);
      return FALSE;
    }
  if (!r->params->force)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                   _("“%s” exists already; it was left as it is (use --force to replace it)"),
                   display);
      return FALSE;
    }
  return TRUE;
}

/* Moves the temporary @tmp over @name: only where nothing is, unless
 * forced. */
static gboolean
put_in_place (Restore *r, int dir_fd, const char *tmp, const char *name, const char *display,
              GError **error)
{
  int ret;

  if (r->params->force)
    ret = renameat (dir_fd, tmp, dir_fd, name);
  else
    {
      ret = renameat2 (dir_fd, tmp, dir_fd, name, RENAME_NOREPLACE);
      if (ret < 0 && errno == EINVAL)
        {
          /* A file system without RENAME_NOREPLACE: a link never replaces. */
          ret = linkat (dir_fd, tmp, dir_fd, name, 0);
          if (ret == 0)
            unlinkat (dir_fd, tmp, 0);
        }
    }
  if (ret < 0)
    {
      int errsv = errno;

      unlinkat (dir_fd, tmp, 0);
      if (errsv == EEXIST)
        g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                     _("“%s” exists already; it was left as it is (use --force to replace it)"),
                     display);
      else
        set_errno_error (error, errsv, _("Cannot restore “%s”: %s"), display);
      return FALSE;
    }
  return TRUE;
}

static char *
temporary_name (void)
{
  return g_strdup_printf (".restore-%08x%08x", g_random_int (), g_random_int ());
}

/* ------------------------------------------------------------------------ */
/* Entry content */

static gboolean
all_zero (const guint8 *p, gsize len)
{
  return len > 0 && p[0] == 0 && memcmp (p, p + 1, len - 1) == 0;
}

/* Reads the rest of the current entry of @a (the inner level when @inner),
 * writing it to @fd unless it is -1. */
static gboolean
read_content (Restore *r, Archive *a, gboolean inner, int fd, const char *display,
              guint64 *out_size, GError **error)
{
  guint64 end = 0;

  for (;;)
    {
      const void *buffer;
      size_t len;
      la_int64_t offset;
      int ret;

      if (!check_cancelled (r, error))
        return FALSE;

      if (!inner && r->pending_len > 0)
        {
          buffer = r->pending;
          len = r->pending_len;
          offset = 0;
          r->pending_len = 0;
          ret = ARCHIVE_OK;
        }
      else
        ret = archive_read_data_block (a, &buffer, &len, &offset);

      if (ret == ARCHIVE_EOF)
        break;
      if (ret != ARCHIVE_OK)
        {
          set_read_error (r, a, inner, display, error);
          return FALSE;
        }
      if (offset < 0)
        offset = end;

      if (fd >= 0 && len > 0 && !all_zero (buffer, len))
        {
          const guint8 *p = buffer;
          gsize left = len;
          off_t at = offset;

          while (left > 0)
            {
              gssize n = pwrite (fd, p, left, at);

              if (n < 0 && errno == EINTR)
                continue;
              if (n < 0)
                {
                  set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
                  return FALSE;
                }
              p += n;
              left -= n;
              at += n;
            }
        }
      end = MAX (end, (guint64) offset + len);
      report_progress (r, FALSE);
    }

  /* Holes at the end still count. */
  if (fd >= 0 && ftruncate (fd, end) < 0)
    {
      set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
      return FALSE;
    }
  *out_size = end;
  return TRUE;
}

static void
set_times (struct timespec times[2], struct archive_entry *entry)
{
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = archive_entry_mtime (entry);
  times[1].tv_nsec = archive_entry_mtime_nsec (entry);
  if (times[1].tv_nsec < 0 || times[1].tv_nsec >= 1000000000)
    times[1].tv_nsec = 0;
}

static gboolean
restore_file (Restore *r, Archive *a, gboolean inner, struct archive_entry *entry,
              GPtrArray *parts, const char *display, guint64 *size, GError **error)
{
  const char *name = g_ptr_array_index (parts, parts->len - 1);
  g_autofree char *tmp = NULL;
  int dir_fd;
  int fd = -1;
  gboolean ok = FALSE;

  dir_fd = open_folder (r, parts, parts->len - 1, TRUE, display, error);
  if (dir_fd < 0)
    return FALSE;
  if (!check_target_free (r, dir_fd, name, display, error))
    goto out;

  for (int attempt = 0; fd < 0 && attempt < 100; attempt++)
    {
      g_free (tmp);
      tmp = temporary_name ();
      fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot create “%s”: %s"), display);
      goto out;
    }

  if (!read_content (r, a, inner, fd, display, size, error))
    goto out;

  if (fchmod (fd, r->deferred ? 0600 : archive_entry_perm (entry) & 0777) < 0)
    {
      set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
      goto out;
    }
  if (archive_entry_mtime_is_set (entry))
    {
      struct timespec times[2];

      set_times (times, entry);
      if (futimens (fd, times) < 0)
        {
          set_errno_error (error, errno, _("Cannot set the time of “%s”: %s"), display);
          goto out;
        }
    }
  if (close (fd) < 0)
    {
      fd = -1;
      set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
      goto out;
    }
  fd = -1;

  ok = put_in_place (r, dir_fd, tmp, name, display, error);
  g_clear_pointer (&tmp, g_free);

out:
  if (fd >= 0)
    close (fd);
  if (tmp != NULL)
    unlinkat (dir_fd, tmp, 0);
  close (dir_fd);
  return ok;
}

static gboolean
restore_link (Restore *r, struct archive_entry *entry, GPtrArray *parts, const char *target,
              const char *display, GError **error)
{
  const char *name = g_ptr_array_index (parts, parts->len - 1);
  g_autofree char *tmp = NULL;
  int dir_fd;
  int ret = -1;
  gboolean ok = FALSE;

  dir_fd = open_folder (r, parts, parts->len - 1, TRUE, display, error);
  if (dir_fd < 0)
    return FALSE;
  if (!check_target_free (r, dir_fd, name, display, error))
    goto out;

  for (int attempt = 0; ret < 0 && attempt < 100; attempt++)
    {
      g_free (tmp);
      tmp = temporary_name ();
      ret = symlinkat (target, dir_fd, tmp);
      if (ret < 0 && errno != EEXIST)
        break;
    }
  if (ret < 0)
    {
      g_clear_pointer (&tmp, g_free);
      set_errno_error (error, errno, _("Cannot create the symbolic link “%s”: %s"), display);
      goto out;
    }
  if (archive_entry_mtime_is_set (entry))
    {
      struct timespec times[2];

      set_times (times, entry);
      /* Not every file system keeps times of links: not an error. */
      utimensat (dir_fd, tmp, times, AT_SYMLINK_NOFOLLOW);
    }
  ok = put_in_place (r, dir_fd, tmp, name, display, error);
  g_clear_pointer (&tmp, g_free);

out:
  if (tmp != NULL)
    unlinkat (dir_fd, tmp, 0);
  close (dir_fd);
  return ok;
}

static gboolean
restore_folder (Restore *r, struct archive_entry *entry, GPtrArray *parts, const char *display,
                GError **error)
{
  FolderFixup fixup = { 0 };
  g_autofree char *joined = NULL;
  int fd;

  if (parts->len == 0)
    return TRUE; /* the destination itself */

  fd = open_folder (r, parts, parts->len, TRUE, display, error);
  if (fd < 0)
    return FALSE;
  close (fd);

  g_ptr_array_add (parts, NULL);
  joined = g_strjoinv ("/", (char **) parts->pdata);
  g_ptr_array_set_size (parts, parts->len - 1);

  /* Permission and sticky bits; the owner keeps the right to enter. */
  fixup.mode = r->deferred ? 0700 : (archive_entry_perm (entry) & 01777) | 0700;
  if (r->deferred)
    g_hash_table_insert (r->entries, g_strdup (joined), GUINT_TO_POINTER (r->folders->len + 1));
  fixup.path = g_steal_pointer (&joined);
  fixup.has_mtime = archive_entry_mtime_is_set (entry);
  fixup.mtime = archive_entry_mtime (entry);
  fixup.mtime_nsec = archive_entry_mtime_nsec (entry);
  g_array_append_val (r->folders, fixup);
  return TRUE;
}

/* Modes and times of folders, deepest first, once nothing more is written
 * into them. */
static gboolean
fix_folders (Restore *r, GError **error)
{
  for (guint i = r->folders->len; i > 0; i--)
    {
      FolderFixup *fixup = &g_array_index (r->folders, FolderFixup, i - 1);
      g_autoptr (GPtrArray) parts = NULL;
      g_autofree char *display = backup_display_name (fixup->path, -1);
      int fd;

      parts = split_entry_path (fixup->path, display, error);
      if (parts == NULL)
        return FALSE;
      fd = open_folder (r, parts, parts->len, FALSE, display, error);
      if (fd < 0)
        return FALSE;
      if (fchmod (fd, fixup->mode) < 0)
        {
          set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
          close (fd);
          return FALSE;
        }
      if (fixup->has_mtime)
        {
          struct timespec times[2] = { { 0, UTIME_OMIT }, { fixup->mtime, fixup->mtime_nsec } };

          if (times[1].tv_nsec < 0 || times[1].tv_nsec >= 1000000000)
            times[1].tv_nsec = 0;
          if (futimens (fd, times) < 0)
            {
              set_errno_error (error, errno, _("Cannot set the time of “%s”: %s"), display);
              close (fd);
              return FALSE;
            }
        }
      close (fd);
    }
  return TRUE;
}

static void
folder_fixup_clear (gpointer data)
{
  FolderFixup *fixup = data;

  g_free (fixup->path);
}

/* ------------------------------------------------------------------------ */
/* Entries */

static void
report_entry (Restore *r, const char *path, guint32 mode, guint64 size,
              struct archive_entry *entry, const char *link_target)
{
  BackupRestoreEntry e = { 0 };

  if (r->params->entry_func == NULL)
    return;
  e.path = path;
  e.mode = mode;
  e.size = size;
  e.mtime = entry == NULL || !archive_entry_mtime_is_set (entry) ? G_MININT64
                                                                 : archive_entry_mtime (entry);
  e.link_target = link_target;
  r->params->entry_func (&e, r->params->entry_data);
}

/* Handles the entry of @a whose header was just read. */
static gboolean
process_entry (Restore *r, Archive *a, gboolean inner, struct archive_entry *entry,
               GError **error)
{
  BackupRestoreMode mode = r->params->mode;
  const char *path = archive_entry_pathname (entry);
  g_autofree char *display = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  const char *target = NULL;
  guint32 type = archive_entry_filetype (entry);
  guint64 size = 0;

  if (path == NULL)
    path = archive_entry_pathname_utf8 (entry);
  if (path == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The archive is damaged: an entry has no name"));
      return FALSE;
    }
  display = backup_display_name (path, -1);
  g_free (r->last_display);
  r->last_display = g_strdup (display);

  if (type == AE_IFLNK)
    {
      target = archive_entry_symlink (entry);
      if (target == NULL)
        target = archive_entry_symlink_utf8 (entry);
      if (target == NULL)
        target = "";
    }

  if (mode != BACKUP_RESTORE_LIST)
    {
      parts = split_entry_path (path, display, error);
      if (parts == NULL)
        return FALSE;
      if (parts->len == 0 && type != AE_IFDIR)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: it names no file"), display);
          return FALSE;
        }
      if (type == AE_IFLNK && !check_link_target (target, parts->len - 1, display, error))
        return FALSE;
      if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                       _("Cannot restore “%s”: it is neither a file, a folder nor a symbolic "
                         "link"),
                       display);
          return FALSE;
        }
    }

  if (mode == BACKUP_RESTORE_EXTRACT)
    {
      switch (type)
        {
        case AE_IFREG:
          if (!restore_file (r, a, inner, entry, parts, display, &size, error))
            return FALSE;
          break;
        case AE_IFLNK:
          if (!read_content (r, a, inner, -1, display, &size, error)
              || !restore_link (r, entry, parts, target, display, error))
            return FALSE;
          size = 0;
          break;
        case AE_IFDIR:
        default:
          if (!read_content (r, a, inner, -1, display, &size, error)
              || !restore_folder (r, entry, parts, display, error))
            return FALSE;
          size = 0;
          break;
        }
    }
  else if (!read_content (r, a, inner, -1, display, &size, error))
    return FALSE;

  if (r->deferred)
    {
      /* Counted and reported from the central directory. */
      r->n_deferred++;
      if (mode == BACKUP_RESTORE_EXTRACT && type == AE_IFREG)
        {
          g_ptr_array_add (parts, NULL);
          g_hash_table_insert (r->entries, g_strjoinv ("/", (char **) parts->pdata),
                               GUINT_TO_POINTER (ENTRY_FILE));
          g_ptr_array_set_size (parts, parts->len - 1);
        }
      return TRUE;
    }

  switch (type)
    {
    case AE_IFREG:
      r->summary->n_files++;
      r->summary->n_bytes += size;
      break;
    case AE_IFDIR:
      r->summary->n_folders++;
      size = 0;
      break;
    case AE_IFLNK:
      r->summary->n_links++;
      size = strlen (target); /* as ls shows it */
      break;
    default:
      break;
    }
  report_entry (r, path, archive_entry_mode (entry), size, entry, target);
  return TRUE;
}

/* Every entry of @a; @first is the header read already, if any. */
static gboolean
process_entries (Restore *r, Archive *a, gboolean inner, struct archive_entry *first,
                 GError **error)
{
  struct archive_entry *entry = first;

  for (;;)
    {
      if (entry == NULL)
        {
          int ret = archive_read_next_header (a, &entry);

          if (ret == ARCHIVE_EOF)
            return TRUE;
          if (ret < ARCHIVE_WARN)
            {
              set_read_error (r, a, inner, NULL, error);
              return FALSE;
            }
        }
      if (!process_entry (r, a, inner, entry, error))
        return FALSE;
      entry = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* The central directory of the streamed inner archive */

#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define CENTRAL_SIZE 46
#define HOST_UNIX 3

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint64
le64 (const guint8 *p)
{
  return (guint64) le32 (p) | (guint64) le32 (p + 4) << 32;
}

/* MS-DOS date and time, in local time. */
static gint64
dos_time_to_unix (guint16 time, guint16 date)
{
  g_autoptr (GDateTime) dt = g_date_time_new_local (1980 + (date >> 9), MAX ((date >> 5) & 15, 1),
                                                    MAX (date & 31, 1), MIN (time >> 11, 23),
                                                    MIN ((time >> 5) & 63, 59),
                                                    MIN ((time & 31) * 2, 59));

  return dt != NULL ? g_date_time_to_unix (dt) : G_MININT64;
}

static gboolean
mismatch (const char *display, GError **error)
{
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
               _("The inner archive is damaged: its central directory does not match the "
                 "entry “%s”"),
               display);
  return FALSE;
}

/* Replaces the file written for a link entry by the link it holds. */
static gboolean
turn_into_link (Restore *r, int dir_fd, GPtrArray *parts, const struct timespec *link_times,
                const char *display, GError **error)
{
  const char *name = g_ptr_array_index (parts, parts->len - 1);
  char target[MAX_LINK_TARGET + 1];
  g_autofree char *tmp = NULL;
  struct timespec times[2] = { { 0, UTIME_OMIT }, { 0, 0 } };
  struct stat st;
  gssize n = -1;
  int ret = -1;
  int fd;

  fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      set_errno_error (error, errno, _("Cannot restore the symbolic link “%s”: %s"), display);
      return FALSE;
    }
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size <= MAX_LINK_TARGET)
    {
      do
        n = pread (fd, target, st.st_size, 0);
      while (n < 0 && errno == EINTR);
    }
  close (fd);
  if (n < 0 || n != st.st_size || memchr (target, '\0', n) != NULL)
    {
      unlinkat (dir_fd, name, 0);
      return mismatch (display, error);
    }
  target[n] = '\0';
  times[1] = link_times != NULL ? link_times[1] : st.st_mtim;

  if (!check_link_target (target, parts->len - 1, display, error))
    {
      unlinkat (dir_fd, name, 0);
      return FALSE;
    }

  for (int attempt = 0; ret < 0 && attempt < 100; attempt++)
    {
      g_free (tmp);
      tmp = temporary_name ();
      ret = symlinkat (target, dir_fd, tmp);
      if (ret < 0 && errno != EEXIST)
        break;
    }
  if (ret < 0)
    {
      set_errno_error (error, errno, _("Cannot create the symbolic link “%s”: %s"), display);
      return FALSE;
    }
  utimensat (dir_fd, tmp, times, AT_SYMLINK_NOFOLLOW);
  /* Over the file this restore wrote in its place. */
  if (renameat (dir_fd, tmp, dir_fd, name) < 0)
    {
      int errsv = errno;

      unlinkat (dir_fd, tmp, 0);
      set_errno_error (error, errsv, _("Cannot create the symbolic link “%s”: %s"), display);
      return FALSE;
    }
  return TRUE;
}

/* Gives the entry written at @path its type and mode, and its time when
 * the directory knows it better than the local header (@mtime is
 * G_MININT64 otherwise). */
static gboolean
apply_to_destination (Restore *r, const char *path, guint32 mode, gint64 mtime, long mtime_nsec,
                      GError **error)
{
  struct timespec times[2] = { { 0, UTIME_OMIT }, { mtime, mtime_nsec } };
  g_autofree char *display = backup_display_name (path, -1);
  g_autoptr (GPtrArray) parts = split_entry_path (path, display, error);
  g_autofree char *joined = NULL;
  gpointer value;
  guint index;
  gboolean ok;
  int dir_fd;

  if (parts == NULL)
    return FALSE;
  if (parts->len == 0)
    return TRUE; /* the destination itself */
  g_ptr_array_add (parts, NULL);
  joined = g_strjoinv ("/", (char **) parts->pdata);
  g_ptr_array_set_size (parts, parts->len - 1);

  if (!g_hash_table_lookup_extended (r->entries, joined, NULL, &value))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory lists “%s”, which it "
                     "does not hold"),
                   display);
      return FALSE;
    }
  g_hash_table_remove (r->entries, joined);
  index = GPOINTER_TO_UINT (value);

  if (index != ENTRY_FILE)
    {
      if ((mode & S_IFMT) != S_IFDIR)
        return mismatch (display, error);
      FolderFixup *fixup = &g_array_index (r->folders, FolderFixup, index - 1);

      fixup->mode = (mode & 01777) | 0700;
      if (mtime != G_MININT64)
        {
          fixup->has_mtime = TRUE;
          fixup->mtime = mtime;
          fixup->mtime_nsec = mtime_nsec;
        }
      return TRUE;
    }

  dir_fd = open_folder (r, parts, parts->len - 1, FALSE, display, error);
  if (dir_fd < 0)
    return FALSE;
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      {
        const char *name = g_ptr_array_index (parts, parts->len - 1);
        int fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        ok = fd >= 0 && fchmod (fd, mode & 0777) == 0
             && (mtime == G_MININT64 || futimens (fd, times) == 0);
        if (!ok)
          set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
        if (fd >= 0)
          close (fd);
      }
      break;
    case S_IFLNK:
      ok = turn_into_link (r, dir_fd, parts, mtime != G_MININT64 ? times : NULL, display, error);
      break;
    default:
      ok = mismatch (display, error);
      break;
    }
  close (dir_fd);
  return ok;
}

/* One record of the central directory: the entry's type, mode, size and
 * time, which a streamed reader cannot know before. */
static gboolean
apply_directory_record (Restore *r, const guint8 *p, GError **error)
{
  guint16 made_by = le16 (p + 4);
  guint64 size = le32 (p + 24);
  guint16 name_len = le16 (p + 28);
  guint16 extra_len = le16 (p + 30);
  guint32 external = le32 (p + 38);
  const guint8 *extra = p + CENTRAL_SIZE + name_len;
  g_autofree char *path = g_strndup ((const char *) p + CENTRAL_SIZE, name_len);
  gint64 mtime = dos_time_to_unix (le16 (p + 12), le16 (p + 14));
  gboolean dir_name = name_len > 0 && path[strlen (path) - 1] == '/';
  long mtime_nsec = 0;
  gboolean precise = FALSE;
  guint32 mode;

  for (guint off = 0; off + 4 <= extra_len;)
    {
      guint16 id = le16 (extra + off);
      guint16 len = le16 (extra + off + 2);
      const guint8 *data = extra + off + 4;

      if (off + 4 + len > extra_len)
        break;
      if (id == 0x0001 && len >= 8 && le32 (p + 24) == 0xffffffffu)
        size = le64 (data); /* zip64: the uncompressed size comes first */
      else if (id == 0x5455 && len >= 5 && (data[0] & 1))
        {
          mtime = (gint32) le32 (data + 1); /* extended timestamp */
          mtime_nsec = 0;
          precise = TRUE;
        }
      else if (id == 0x000a && len >= 32 && le16 (data + 4) == 1 && le16 (data + 6) >= 24)
        {
          /* NTFS times: 100 ns units since 1601 (7-Zip writes these). */
          guint64 ticks = le64 (data + 8);

          mtime = (gint64) (ticks / 10000000) - G_GINT64_CONSTANT (11644473600);
          mtime_nsec = (long) (ticks % 10000000) * 100;
          precise = TRUE;
        }
      off += 4 + len;
    }

  if ((made_by >> 8) == HOST_UNIX && (external >> 16) != 0)
    mode = external >> 16;
  else if (dir_name || (external & 0x10))
    mode = S_IFDIR | 0755;
  else
    mode = S_IFREG | 0644;

  r->n_directory++;
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

  if (r->params->mode == BACKUP_RESTORE_EXTRACT
      && !apply_to_destination (r, path, mode, precise ? mtime : G_MININT64, mtime_nsec, error))
    return FALSE;
  if (r->params->entry_func != NULL)
    {
      BackupRestoreEntry e = { path, mode, size, mtime, NULL };

      r->params->entry_func (&e, r->params->entry_data);
    }
  return TRUE;
}

/* Parses the central directory as its bytes come, keeping only an
 * incomplete record. */
static gboolean
feed_directory (Restore *r, const void *data, gsize len, GError **error)
{
  gsize pos = 0;

  if (r->directory_done || len == 0)
    return TRUE;
  g_byte_array_append (r->directory, data, len);

  while (!r->directory_done)
    {
      const guint8 *p = r->directory->data + pos;
      gsize avail = r->directory->len - pos;
      guint32 signature;
      gsize need;

      if (avail < 4)
        break;
      signature = le32 (p);
      if (signature == SIG_END || signature == SIG_END64)
        {
          r->directory_done = TRUE;
          break;
        }
      if (signature != SIG_CENTRAL)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                       _("The inner archive is damaged: its central directory cannot be read"));
          return FALSE;
        }
      if (avail < CENTRAL_SIZE)
        break;
      need = CENTRAL_SIZE + le16 (p + 28) + le16 (p + 30) + le16 (p + 32);
      if (avail < need)
        break;
      if (!check_cancelled (r, error) || !apply_directory_record (r, p, error))
        return FALSE;
      pos += need;
    }

  if (r->directory_done)
    g_byte_array_set_size (r->directory, 0);
  else
    g_byte_array_remove_range (r->directory, 0, pos);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The inner archive, streamed out of the outer entry */

/* The inner reader stops where the central directory starts, somewhere in
 * the last blocks it was handed: copies of those are kept. */
static void
keep_in_window (Restore *r, const void *block, size_t len)
{
  g_clear_pointer (&r->window[0], g_bytes_unref);
  for (int i = 0; i + 1 < WINDOW_BLOCKS; i++)
    {
      r->window[i] = r->window[i + 1];
      r->window_offset[i] = r->window_offset[i + 1];
    }
  r->window[WINDOW_BLOCKS - 1] = g_bytes_new (block, len);
  r->window_offset[WINDOW_BLOCKS - 1] = r->handed;
  r->handed += len;
}

static la_ssize_t
inner_read_cb (struct archive *a, void *data, const void **buffer)
{
  Restore *r = data;
  size_t len;

  while (r->pending_len == 0)
    {
      const void *block;
      la_int64_t offset;
      int ret;

      if (r->outer_eof)
        return 0;
      if (g_cancellable_set_error_if_cancelled (r->cancellable, &r->outer_error))
        {
          archive_set_error (a, ECANCELED, "cancelled");
          return -1;
        }
      ret = archive_read_data_block (r->outer, &block, &len, &offset);
      if (ret == ARCHIVE_EOF)
        {
          r->outer_eof = TRUE;
          return 0;
        }
      if (ret != ARCHIVE_OK)
        {
          g_autoptr (GError) local_error = NULL;

          set_read_error (r, r->outer, FALSE, r->outer_name, &local_error);
          g_clear_error (&r->outer_error);
          r->outer_error = g_steal_pointer (&local_error);
          archive_set_error (a, EIO, "%s", r->outer_error->message);
          return -1;
        }
      report_progress (r, FALSE);
      r->pending = block;
      r->pending_len = len;
    }

  /* Small pieces: libarchive decrypts all it is handed past the start of
   * an entry whose size comes only after its data, and drops the rest. */
  len = MIN (r->pending_len, INNER_CHUNK_SIZE);
  keep_in_window (r, r->pending, len);
  *buffer = r->pending;
  r->pending = (const guint8 *) r->pending + len;
  r->pending_len -= len;
  return len;
}

static gboolean
process_inner (Restore *r, GError **error)
{
  g_autoptr (Archive) inner = archive_read_new ();
  const char *password = password_or_empty (r->params->password1);
  guint64 directory_start;
  gboolean found = FALSE;

  if (archive_read_support_format_zip_streamable (inner) != ARCHIVE_OK
      || (password[0] != '\0' && archive_read_add_passphrase (inner, password) != ARCHIVE_OK)
      || archive_read_set_passphrase_callback (inner, r, inner_password_cb) != ARCHIVE_OK)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, "%s", archive_error_string (inner));
      return FALSE;
    }
  if (archive_read_open (inner, r, NULL, inner_read_cb, NULL) != ARCHIVE_OK)
    {
      set_read_error (r, inner, TRUE, NULL, error);
      return FALSE;
    }

  g_clear_pointer (&r->last_display, g_free);
  r->deferred = TRUE;
  if (!process_entries (r, inner, TRUE, NULL, error))
    return FALSE;

  /* The inner reader stopped at the central directory, which the blocks it
   * was last handed hold the start of. */
  directory_start = archive_filter_bytes (inner, 0);
  for (int i = 0; i < WINDOW_BLOCKS && !found; i++)
    {
      gsize len;
      const guint8 *data;

      if (r->window[i] == NULL)
        continue;
      data = g_bytes_get_data (r->window[i], &len);
      if (directory_start >= r->window_offset[i] && directory_start < r->window_offset[i] + len)
        {
          gsize skip = directory_start - r->window_offset[i];

          found = TRUE;
          if (!feed_directory (r, data + skip, len - skip, error))
            return FALSE;
          for (int j = i + 1; j < WINDOW_BLOCKS; j++)
            {
              data = g_bytes_get_data (r->window[j], &len);
              if (!feed_directory (r, data, len, error))
                return FALSE;
            }
        }
    }
  for (int i = 0; i < WINDOW_BLOCKS; i++)
    g_clear_pointer (&r->window[i], g_bytes_unref);
  /* Then what is left of the outer block that the last piece came from. */
  if (found && !feed_directory (r, r->pending, r->pending_len, error))
    return FALSE;
  r->pending_len = 0;
  if (!found)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory is missing"));
      return FALSE;
    }
  if (archive_read_close (inner) != ARCHIVE_OK)
    {
      set_read_error (r, inner, TRUE, NULL, error);
      return FALSE;
    }

  /* The rest of the outer entry: the rest of the central directory, and
   * the outer checksum, checked at its end. */
  while (!r->outer_eof)
    {
      const void *block;
      size_t len;
      la_int64_t offset;
      int ret;

      if (!check_cancelled (r, error))
        return FALSE;
      ret = archive_read_data_block (r->outer, &block, &len, &offset);
      if (ret == ARCHIVE_EOF)
        break;
      if (ret != ARCHIVE_OK)
        {
          set_read_error (r, r->outer, FALSE, r->outer_name, error);
          return FALSE;
        }
      if (!feed_directory (r, block, len, error))
        return FALSE;
      report_progress (r, FALSE);
    }

  if (!r->directory_done || r->n_directory != r->n_deferred)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory does not list its "
                     "entries"));
      return FALSE;
    }
  r->deferred = FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The archive */

static gboolean
restore_zip (Restore *r, GError **error)
{
  const char *password = password_or_empty (r->params->password2);
  struct archive_entry *entry;
  const char *name;
  int ret;

  r->outer = archive_read_new ();
  if (archive_read_support_format_zip (r->outer) != ARCHIVE_OK
      || (password[0] != '\0' && archive_read_add_passphrase (r->outer, password) != ARCHIVE_OK)
      || archive_read_set_passphrase_callback (r->outer, r, outer_password_cb) != ARCHIVE_OK
      || archive_read_set_callback_data (r->outer, r) != ARCHIVE_OK
      || archive_read_set_read_callback (r->outer, file_read_cb) != ARCHIVE_OK
      || archive_read_set_seek_callback (r->outer, file_seek_cb) != ARCHIVE_OK
      || archive_read_set_skip_callback (r->outer, file_skip_cb) != ARCHIVE_OK)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, "%s",
                   archive_error_string (r->outer));
      return FALSE;
    }
  if (archive_read_open1 (r->outer) != ARCHIVE_OK)
    {
      set_read_error (r, r->outer, FALSE, NULL, error);
      return FALSE;
    }

  ret = archive_read_next_header (r->outer, &entry);
  if (ret == ARCHIVE_EOF)
    {
      r->summary->kind = BACKUP_RESTORE_KIND_ZIP;
      return TRUE; /* an empty zip */
    }
  if (ret < ARCHIVE_WARN)
    {
      set_read_error (r, r->outer, FALSE, NULL, error);
      return FALSE;
    }

  /* A first entry that is a file whose content starts like a zip is the
   * inner archive. */
  name = archive_entry_pathname (entry);
  if (name == NULL)
    name = archive_entry_pathname_utf8 (entry);
  r->outer_name = backup_display_name (name, -1);
  if (archive_entry_filetype (entry) == AE_IFREG)
    {
      const void *block = NULL;
      size_t len = 0;
      la_int64_t offset;

      /* The first non-empty block, or the end of an empty entry. */
      do
        {
          ret = archive_read_data_block (r->outer, &block, &len, &offset);
          report_progress (r, FALSE);
        }
      while (ret == ARCHIVE_OK && len == 0);
      if (ret != ARCHIVE_OK && ret != ARCHIVE_EOF)
        {
          set_read_error (r, r->outer, FALSE, r->outer_name, error);
          return FALSE;
        }
      r->outer_eof = ret == ARCHIVE_EOF;
      r->pending = block;
      r->pending_len = ret == ARCHIVE_OK ? len : 0;

      if (ret == ARCHIVE_OK && has_zip_magic (block, len))
        {
          r->summary->kind = BACKUP_RESTORE_KIND_DOUBLE_ZIP;
          if (!process_inner (r, error))
            return FALSE;
          ret = archive_read_next_header (r->outer, &entry);
          if (ret == ARCHIVE_EOF)
            return TRUE;
          if (ret < ARCHIVE_WARN)
            {
              set_read_error (r, r->outer, FALSE, NULL, error);
              return FALSE;
            }
          {
            const char *extra = archive_entry_pathname (entry);
            g_autofree char *extra_display = backup_display_name (extra, -1);

            g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                         _("The archive holds “%s” after the inner archive “%s”: it is not a "
                           "backup of this program"),
                         extra_display, r->outer_name);
            return FALSE;
          }
        }
    }

  /* One level: the outer entries are the backup. */
  r->summary->kind = BACKUP_RESTORE_KIND_ZIP;
  return process_entries (r, r->outer, FALSE, entry, error);
}

/* A received file that is no zip: copied as it is. */
static gboolean
restore_plain_file (Restore *r, const char *path, GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *display = backup_display_name (base, -1);
  g_autoptr (GPtrArray) parts = NULL;
  g_autofree char *tmp = NULL;
  guint64 done = 0;
  struct stat st;
  int dir_fd = -1;
  int fd = -1;
  gboolean ok = FALSE;

  r->summary->kind = BACKUP_RESTORE_KIND_FILE;
  if (fstat (r->fd, &st) < 0)
    {
      set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
      return FALSE;
    }

  if (r->params->mode == BACKUP_RESTORE_EXTRACT)
    {
      parts = split_entry_path (base, display, error);
      if (parts == NULL)
        return FALSE;
      if (parts->len != 1)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: it names no file"), display);
          return FALSE;
        }
      dir_fd = open_folder (r, parts, 0, FALSE, display, error);
      if (dir_fd < 0)
        return FALSE;
      if (!check_target_free (r, dir_fd, base, display, error))
        goto out;
      for (int attempt = 0; fd < 0 && attempt < 100; attempt++)
        {
          g_free (tmp);
          tmp = temporary_name ();
          fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
          if (fd < 0 && errno != EEXIST)
            break;
        }
      if (fd < 0)
        {
          g_clear_pointer (&tmp, g_free);
          set_errno_error (error, errno, _("Cannot create “%s”: %s"), display);
          goto out;
        }
    }

  for (;;)
    {
      gssize n;

      if (!check_cancelled (r, error))
        goto out;
      n = read (r->fd, r->buffer, READ_BLOCK_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
          goto out;
        }
      if (n == 0)
        break;
      r->position += n;
      if (fd >= 0 && !all_zero (r->buffer, n))
        {
          gsize written = 0;

          while (written < (gsize) n)
            {
              gssize w = pwrite (fd, r->buffer + written, n - written, done + written);

              if (w < 0 && errno == EINTR)
                continue;
              if (w < 0)
                {
                  set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
                  goto out;
                }
              written += w;
            }
        }
      done += n;
      report_progress (r, FALSE);
    }

  if (fd >= 0)
    {
      struct timespec times[2] = { { 0, UTIME_OMIT }, st.st_mtim };

      if (ftruncate (fd, done) < 0 || fchmod (fd, st.st_mode & 0777) < 0
          || futimens (fd, times) < 0)
        {
          set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
          goto out;
        }
      if (close (fd) < 0)
        {
          fd = -1;
          set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
          goto out;
        }
      fd = -1;
      if (!put_in_place (r, dir_fd, tmp, base, display, error))
        {
          g_clear_pointer (&tmp, g_free);
          goto out;
        }
      g_clear_pointer (&tmp, g_free);
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
  if (fd >= 0)
    close (fd);
  if (tmp != NULL)
    unlinkat (dir_fd, tmp, 0);
  if (dir_fd >= 0)
    close (dir_fd);
  return ok;
}

static gboolean
open_destination (Restore *r, GError **error)
{
  const char *dir = r->params->destination;
  g_autofree char *display = NULL;

  display = backup_display_name (dir, -1);
  if (mkdir (dir, 0777) < 0 && errno != EEXIST)
    {
      set_errno_error (error, errno, _("Cannot create the destination “%s”: %s"), display);
      return FALSE;
    }
  r->root_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (r->root_fd < 0)
    {
      set_errno_error (error, errno, _("Cannot open the destination “%s”: %s"), display);
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
  r.fd = -1;
  r.root_fd = -1;
  r.folders = g_array_new (FALSE, FALSE, sizeof (FolderFixup));
  g_array_set_clear_func (r.folders, folder_fixup_clear);
  r.entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r.directory = g_byte_array_new ();
  display = backup_display_name (params->archive, -1);

  r.fd = open (params->archive, O_RDONLY | O_CLOEXEC);
  if (r.fd < 0 || fstat (r.fd, &st) < 0)
    {
      set_errno_error (error, errno, _("Cannot open “%s”: %s"), display);
      goto out;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _("“%s” is not a regular file"),
                   display);
      goto out;
    }
  r.size = st.st_size;
  r.buffer = g_malloc (READ_BLOCK_SIZE);
  posix_fadvise (r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  if (params->mode == BACKUP_RESTORE_EXTRACT && !open_destination (&r, error))
    goto out;

  n = pread (r.fd, magic, sizeof magic, 0);
  if (n < 0)
    {
      set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
      goto out;
    }

  /* Entry names are UTF-8 whatever the locale of the program. */
  utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
  if (utf8 != (locale_t) 0)
    old = uselocale (utf8);

  if (has_zip_magic (magic, n))
    ok = restore_zip (&r, error);
  else
    ok = restore_plain_file (&r, params->archive, error);
  if (ok && params->mode == BACKUP_RESTORE_EXTRACT)
    ok = fix_folders (&r, error);
  if (ok)
    report_progress (&r, TRUE);

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
  g_free (r.buffer);
  g_array_unref (r.folders);
  g_hash_table_unref (r.entries);
  g_byte_array_unref (r.directory);
  for (int i = 0; i < WINDOW_BLOCKS; i++)
    g_clear_pointer (&r.window[i], g_bytes_unref);
  if (r.fd >= 0)
    close (r.fd);
  if (r.root_fd >= 0)
    close (r.root_fd);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* In a worker thread */

typedef struct
{
  gatomicrefcount ref;
  BackupRestoreParams params; /* owns its strings */
  BackupRestoreProgressFunc caller_progress;
  gpointer caller_progress_data;
  GMainContext *context;
  GMutex lock;
  guint64 done;
  guint64 total;
  gboolean scheduled;
  BackupRestoreSummary summary;
} AsyncData;

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

static AsyncData *
async_data_ref (AsyncData *data)
{
  g_atomic_ref_count_inc (&data->ref);
  return data;
}

static void
async_data_unref (gpointer p)
{
  AsyncData *data = p;

  if (!g_atomic_ref_count_dec (&data->ref))
    return;
  g_free ((char *) data->params.archive);
  g_free ((char *) data->params.destination);
  free_secret ((char *) data->params.password1);
  free_secret ((char *) data->params.password2);
  g_main_context_unref (data->context);
  g_mutex_clear (&data->lock);
  g_free (data);
}

static gboolean
deliver_progress (gpointer user_data)
{
  AsyncData *data = user_data;
  guint64 done, total;

  g_mutex_lock (&data->lock);
  done = data->done;
  total = data->total;
  data->scheduled = FALSE;
  g_mutex_unlock (&data->lock);
  data->caller_progress (done, total, data->caller_progress_data);
  return G_SOURCE_REMOVE;
}

/* In the worker: keep the newest figures, and have them shown once. */
static void
worker_progress (guint64 done, guint64 total, gpointer user_data)
{
  AsyncData *data = user_data;
  gboolean schedule;

  g_mutex_lock (&data->lock);
  data->done = done;
  data->total = total;
  schedule = !data->scheduled;
  data->scheduled = TRUE;
  g_mutex_unlock (&data->lock);
  if (schedule)
    g_main_context_invoke_full (data->context, G_PRIORITY_DEFAULT, deliver_progress,
                                async_data_ref (data), async_data_unref);
}

static void
run_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  AsyncData *data = task_data;
  GError *error = NULL;

  if (backup_restore_run (&data->params, &data->summary, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
backup_restore_run_async (const BackupRestoreParams *params,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  AsyncData *data;

  g_return_if_fail (params != NULL && params->archive != NULL);

  data = g_new0 (AsyncData, 1);
  g_atomic_ref_count_init (&data->ref);
  g_mutex_init (&data->lock);
  data->params = *params;
  data->params.archive = g_strdup (params->archive);
  data->params.destination = g_strdup (params->destination);
  data->params.password1 = g_strdup (params->password1);
  data->params.password2 = g_strdup (params->password2);
  data->context = g_main_context_ref_thread_default ();
  if (params->progress_func != NULL)
    {
      data->caller_progress = params->progress_func;
      data->caller_progress_data = params->progress_data;
      data->params.progress_func = worker_progress;
      data->params.progress_data = data;
    }

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_restore_run_async);
  g_task_set_task_data (task, data, async_data_unref);
  g_task_run_in_thread (task, run_worker);
}

gboolean
backup_restore_run_finish (GAsyncResult *result, BackupRestoreSummary *summary, GError **error)
{
  GTask *task;
  AsyncData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  task = G_TASK (result);
  g_return_val_if_fail (g_task_get_source_tag (task) == backup_restore_run_async, FALSE);
  data = g_task_get_task_data (task);
  if (!g_task_propagate_boolean (task, error))
    return FALSE;
  if (summary != NULL)
    *summary = data->summary;
  return TRUE;
}
