/* backup-restore-dest.c: the destination of a restore
 *
 * Every file system operation on the destination goes through a descriptor
 * of the destination folder with openat() and friends, one path component
 * at a time and never following a symbolic link (O_NOFOLLOW), so no entry
 * and no link, earlier or already there, can lead a write outside it. Data
 * goes to a hidden temporary file that takes its name only once complete;
 * folders get their modes and times last.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore-private.h"

#define MAX_COMPONENT 255
#define TEMPORARY_ATTEMPTS 100

/* ------------------------------------------------------------------------ */
/* Names */

/* Splits an entry name into its components, refusing any that could leave
 * the destination. An empty result is the destination itself. */
GPtrArray *
restore_split_path (const char *path, const char *display, GError **error)
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

/* The normalized path of @parts, '/'-separated. */
char *
restore_join_path (GPtrArray *parts)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < parts->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, '/');
      g_string_append (s, g_ptr_array_index (parts, i));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
join_display (GPtrArray *parts, guint n)
{
  g_autoptr (GPtrArray) first = g_ptr_array_new ();
  g_autofree char *joined = NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (first, g_ptr_array_index (parts, i));
  joined = restore_join_path (first);
  return backup_display_name (joined, -1);
}

/* A link target is accepted when it is relative, its ".." components all
 * come first, and they do not climb above the destination from the link's
 * folder (@depth components deep). Since every folder on the way down was
 * checked to be a real folder, and every link accepted so far obeys the
 * same rule, what such a link points to stays inside the destination. */
gboolean
restore_check_link_target (const char *target, guint depth, const char *display, GError **error)
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
  if (error != NULL)
    {
      g_autofree char *target_display = backup_display_name (target, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                   _("Refused the symbolic link “%s”: its target “%s” is outside the "
                     "destination"),
                   display, target_display);
    }
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Folders, one component at a time */

/* Opens the folder made of the first @n components of @parts under the
 * destination, creating missing ones when @create, never through a link.
 * Returns a descriptor, or -1 with @error set. */
int
restore_open_folder (Restore *r, GPtrArray *parts, guint n, gboolean create, const char *display,
                     GError **error)
{
  int fd = openat (r->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot open the destination for “%s”: %s"),
                               display);
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

/* ------------------------------------------------------------------------ */
/* Putting in place */

static void
set_exists_error (GError **error, const char *display)
{
  /* The front end says how to replace it. */
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               _("“%s” exists already; it was left as it is"), display);
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
      restore_set_errno_error (error, errno, _("Cannot restore “%s”: %s"), display);
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
      set_exists_error (error, display);
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
        set_exists_error (error, display);
      else
        restore_set_errno_error (error, errsv, _("Cannot restore “%s”: %s"), display);
      return FALSE;
    }
  return TRUE;
}

/* Creates a hidden temporary file (@link_target NULL: its descriptor in
 * @out_fd, opened with @flags) or link in @dir_fd. Returns its name, or
 * NULL with errno set. */
static char *
make_temporary (int dir_fd, const char *link_target, int flags, int *out_fd)
{
  for (int attempt = 0; attempt < TEMPORARY_ATTEMPTS; attempt++)
    {
      g_autofree char *tmp = g_strdup_printf (".restore-%08x%08x", g_random_int (),
                                              g_random_int ());
      int ret;

      if (link_target != NULL)
        ret = symlinkat (link_target, dir_fd, tmp);
      else
        ret = *out_fd = openat (dir_fd, tmp, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                0600);
      if (ret >= 0)
        return g_steal_pointer (&tmp);
      if (errno != EEXIST)
        return NULL;
    }
  return NULL;
}

static void
fill_times (struct timespec times[2], const struct timespec *mtime)
{
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1] = *mtime;
  if (times[1].tv_nsec < 0 || times[1].tv_nsec >= 1000000000)
    times[1].tv_nsec = 0;
}

/* A scratch file in @dir_fd that has no name (or loses it at once), for the
 * second pass over an inner archive. */
int
restore_open_scratch (int dir_fd, const char *dir_display, GError **error)
{
  g_autofree char *tmp = NULL;
  int fd = openat (dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd >= 0)
    return fd;
  tmp = make_temporary (dir_fd, NULL, O_RDWR, &fd);
  if (tmp == NULL)
    {
      restore_set_errno_error (error, errno, _("Cannot create a temporary file in “%s”: %s"),
                               dir_display);
      return -1;
    }
  unlinkat (dir_fd, tmp, 0);
  return fd;
}

/* ------------------------------------------------------------------------ */
/* Files, links and folders */

/* Prepares a temporary file for the entry at @parts (its folders created
 * as needed), once sure its name may be taken. */
gboolean
restore_file_begin (Restore *r, RestoreFile *file, GPtrArray *parts, const char *display,
                    GError **error)
{
  file->fd = -1;
  file->tmp = NULL;
  file->name = g_ptr_array_index (parts, parts->len - 1);
  file->dir_fd = restore_open_folder (r, parts, parts->len - 1, TRUE, display, error);
  if (file->dir_fd < 0)
    return FALSE;
  if (!check_target_free (r, file->dir_fd, file->name, display, error))
    return FALSE;
  file->tmp = make_temporary (file->dir_fd, NULL, O_WRONLY, &file->fd);
  if (file->tmp == NULL)
    {
      restore_set_errno_error (error, errno, _("Cannot create “%s”: %s"), display);
      return FALSE;
    }
  return TRUE;
}

/* Gives the complete temporary file its mode and time (@mtime NULL: as it
 * is) and its name. */
gboolean
restore_file_commit (Restore *r, RestoreFile *file, guint32 perm, const struct timespec *mtime,
                     const char *display, GError **error)
{
  gboolean ok;

  if (fchmod (file->fd, perm) < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
      return FALSE;
    }
  if (mtime != NULL)
    {
      struct timespec times[2];

      fill_times (times, mtime);
      if (futimens (file->fd, times) < 0)
        {
          restore_set_errno_error (error, errno, _("Cannot set the time of “%s”: %s"), display);
          return FALSE;
        }
    }
  ok = close (file->fd) == 0;
  file->fd = -1;
  if (!ok)
    {
      restore_set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
      return FALSE;
    }
  ok = put_in_place (r, file->dir_fd, file->tmp, file->name, display, error);
  g_clear_pointer (&file->tmp, g_free);
  return ok;
}

/* Closes what is open and removes a temporary file left. */
void
restore_file_clear (RestoreFile *file)
{
  if (file->fd >= 0)
    close (file->fd);
  if (file->tmp != NULL)
    unlinkat (file->dir_fd, file->tmp, 0);
  if (file->dir_fd >= 0)
    close (file->dir_fd);
  g_clear_pointer (&file->tmp, g_free);
  file->fd = -1;
  file->dir_fd = -1;
}

/* Creates a link to @target in @dir_fd under a temporary name, with its
 * time when the file system keeps times of links. */
static char *
make_temporary_link (int dir_fd, const char *target, const struct timespec *mtime,
                     const char *display, GError **error)
{
  char *tmp = make_temporary (dir_fd, target, 0, NULL);

  if (tmp == NULL)
    {
      restore_set_errno_error (error, errno, _("Cannot create the symbolic link “%s”: %s"),
                               display);
      return NULL;
    }
  if (mtime != NULL)
    {
      struct timespec times[2];

      fill_times (times, mtime);
      /* Not every file system keeps times of links: not an error. */
      utimensat (dir_fd, tmp, times, AT_SYMLINK_NOFOLLOW);
    }
  return tmp;
}

gboolean
restore_link (Restore *r, GPtrArray *parts, const char *target, const struct timespec *mtime,
              const char *display, GError **error)
{
  const char *name = g_ptr_array_index (parts, parts->len - 1);
  g_autofree char *tmp = NULL;
  gboolean ok = FALSE;
  int dir_fd;

  dir_fd = restore_open_folder (r, parts, parts->len - 1, TRUE, display, error);
  if (dir_fd < 0)
    return FALSE;
  if (check_target_free (r, dir_fd, name, display, error)
      && (tmp = make_temporary_link (dir_fd, target, mtime, display, error)) != NULL)
    ok = put_in_place (r, dir_fd, tmp, name, display, error);
  close (dir_fd);
  return ok;
}

/* Replaces @name, a file this restore wrote, by a link to @target. */
gboolean
restore_replace_by_link (Restore *r, int dir_fd, const char *name, const char *target,
                         const struct timespec *mtime, const char *display, GError **error)
{
  g_autofree char *tmp = make_temporary_link (dir_fd, target, mtime, display, error);

  if (tmp == NULL)
    return FALSE;
  if (renameat (dir_fd, tmp, dir_fd, name) < 0)
    {
      int errsv = errno;

      unlinkat (dir_fd, tmp, 0);
      restore_set_errno_error (error, errsv, _("Cannot create the symbolic link “%s”: %s"),
                               display);
      return FALSE;
    }
  return TRUE;
}

/* Creates the folder at @parts; its mode @perm and time are set at the
 * end, by restore_fix_folders(). */
gboolean
restore_folder (Restore *r, GPtrArray *parts, guint32 perm, const struct timespec *mtime,
                const char *display, GError **error)
{
  FolderFixup fixup = { 0 };
  int fd;

  if (parts->len == 0)
    return TRUE; /* the destination itself */

  fd = restore_open_folder (r, parts, parts->len, TRUE, display, error);
  if (fd < 0)
    return FALSE;
  close (fd);

  fixup.path = restore_join_path (parts);
  /* Permission and sticky bits; the owner keeps the right to enter. */
  fixup.mode = (perm & 01777) | 0700;
  if (r->deferred)
    g_hash_table_insert (r->entries, g_strdup (fixup.path),
                         GUINT_TO_POINTER (r->folders->len + 1));
  fixup.has_mtime = mtime != NULL;
  if (mtime != NULL)
    {
      fixup.mtime = mtime->tv_sec;
      fixup.mtime_nsec = mtime->tv_nsec;
    }
  g_array_append_val (r->folders, fixup);
  return TRUE;
}

/* Modes and times of folders, deepest first, once nothing more is written
 * into them. */
gboolean
restore_fix_folders (Restore *r, GError **error)
{
  for (guint i = r->folders->len; i > 0; i--)
    {
      FolderFixup *fixup = &g_array_index (r->folders, FolderFixup, i - 1);
      g_autoptr (GPtrArray) parts = NULL;
      g_autofree char *display = backup_display_name (fixup->path, -1);
      int fd;

      parts = restore_split_path (fixup->path, display, error);
      if (parts == NULL)
        return FALSE;
      fd = restore_open_folder (r, parts, parts->len, FALSE, display, error);
      if (fd < 0)
        return FALSE;
      if (fchmod (fd, fixup->mode) < 0)
        {
          restore_set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
          close (fd);
          return FALSE;
        }
      if (fixup->has_mtime)
        {
          struct timespec mtime = { fixup->mtime, fixup->mtime_nsec };
          struct timespec times[2];

          fill_times (times, &mtime);
          if (futimens (fd, times) < 0)
            {
              restore_set_errno_error (error, errno, _("Cannot set the time of “%s”: %s"),
                                       display);
              close (fd);
              return FALSE;
            }
        }
      close (fd);
    }
  return TRUE;
}

void
restore_folder_fixup_clear (gpointer data)
{
  FolderFixup *fixup = data;

  g_free (fixup->path);
}
