/* backup-version-trash.c: deleting a received version, with undo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-store.h"
#include "backup-version-trash.h"
#include "backup-versions-private.h"

/* The names this process gives in the trash folder start with a token of
 * its own, so that a purge at start-up leaves them alone. */
static const char *
process_token (void)
{
  static gsize once;
  static char *token;

  if (g_once_init_enter (&once))
    {
      token = g_strdup_printf ("%ld-%08x", (long)getpid (), g_random_int ());
      g_once_init_leave (&once, 1);
    }
  return token;
}

static char *
new_trash_name (const char *suffix)
{
  static gint counter;

  return g_strdup_printf ("%s-%d%s", process_token (), g_atomic_int_add (&counter, 1), suffix);
}

static char *
version_name (const char *name, guint number)
{
  return number == 0 ? g_strdup (name) : g_strdup_printf ("%s.%u", name, number);
}

static gboolean
set_errno_error (GError **error, int errsv, const char *what, const char *file)
{
  g_autofree char *shown = backup_display_name (file, -1);

  /* Translators: the first %s says what failed, the second is a file name,
   * the third the system's reason */
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), _ ("%s “%s”: %s"), what, shown,
               g_strerror (errsv));
  return FALSE;
}

/* The destination, open; and its trash folder, created with @create. */
typedef struct
{
  int dir_fd;
  int trash_fd;
  gboolean locked;
} Folder;

static void
folder_close (Folder *folder)
{
  if (folder->dir_fd >= 0)
    _backup_versions_unlock (folder->dir_fd, folder->locked);
  if (folder->trash_fd >= 0)
    close (folder->trash_fd);
  if (folder->dir_fd >= 0)
    close (folder->dir_fd);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Folder, folder_close)

static gboolean
folder_open (Folder *folder, GFile *directory, gboolean create, gboolean *no_trash, GError **error)
{
  g_autofree char *path = g_file_get_path (directory);

  folder->dir_fd = folder->trash_fd = -1;
  folder->locked = FALSE;
  if (no_trash != NULL)
    *no_trash = FALSE;
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("Only folders on this computer hold backups"));
      return FALSE;
    }
  folder->dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder->dir_fd < 0)
    return set_errno_error (error, errno, _ ("Cannot open the folder"), path);

  /* The lock of the store's commits and prunes. */
  folder->locked = _backup_versions_lock (folder->dir_fd);

  if (create && mkdirat (folder->dir_fd, BACKUP_VERSION_TRASH_DIR, 0700) != 0 && errno != EEXIST)
    {
      set_errno_error (error, errno, _ ("Cannot create the folder"), BACKUP_VERSION_TRASH_DIR);
      folder_close (folder);
      return FALSE;
    }
  /* Never through a link: the trash folder must be inside the destination
   * (hard links and renames do not cross filesystems anyway). */
  folder->trash_fd = openat (folder->dir_fd, BACKUP_VERSION_TRASH_DIR,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (folder->trash_fd < 0)
    {
      int errsv = errno;

      if (errsv == ENOENT && !create && no_trash != NULL)
        {
          *no_trash = TRUE;
          return TRUE;
        }
      set_errno_error (error, errsv, _ ("Cannot open the folder"), BACKUP_VERSION_TRASH_DIR);
      folder_close (folder);
      return FALSE;
    }
  return TRUE;
}

/* How many numbers @name has: NAME, NAME.1 … up to the first missing. */
static gboolean
count_numbers (Folder *folder, const char *name, guint *n_numbers, GError **error)
{
  guint number;

  for (number = 0; number <= BACKUP_STORE_MAX_VERSIONS; number++)
    {
      g_autofree char *file = version_name (name, number);
      struct stat st;

      if (fstatat (folder->dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0)
        {
          if (errno == ENOENT)
            break;
          return set_errno_error (error, errno, _ ("Cannot read"), file);
        }
    }
  *n_numbers = number;
  return TRUE;
}

static gboolean
no_hard_links (int errsv)
{
  return errsv == EPERM || errsv == EOPNOTSUPP || errsv == EMLINK;
}

/* Gives the file at number @from the number @to: a hard link (made in the
 * trash folder) renamed over @to, so that @from keeps it until the next
 * step; without hard links, a rename. */
static gboolean
move_number (Folder *folder, const char *name, guint from, guint to, gboolean *links,
             GError **error)
{
  g_autofree char *from_file = version_name (name, from);
  g_autofree char *to_file = version_name (name, to);
  g_autofree char *link_name = NULL;

  if (*links)
    {
      link_name = new_trash_name (".link");
      if (linkat (folder->dir_fd, from_file, folder->trash_fd, link_name, 0) != 0)
        {
          int errsv = errno;

          if (!no_hard_links (errsv))
            return set_errno_error (error, errsv, _ ("Cannot renumber"), from_file);
          *links = FALSE;
        }
    }
  if (!*links)
    {
      if (renameat (folder->dir_fd, from_file, folder->dir_fd, to_file) != 0)
        return set_errno_error (error, errno, _ ("Cannot renumber"), from_file);
      return TRUE;
    }
  if (renameat (folder->trash_fd, link_name, folder->dir_fd, to_file) != 0)
    {
      int errsv = errno;

      unlinkat (folder->trash_fd, link_name, 0);
      return set_errno_error (error, errsv, _ ("Cannot renumber"), from_file);
    }
  /* rename(2) of two names of one file does nothing. */
  unlinkat (folder->trash_fd, link_name, 0);
  return TRUE;
}

static gboolean
sync_folder (Folder *folder, const char *name, GError **error)
{
  if (fsync (folder->dir_fd) != 0 && errno != EINVAL)
    return set_errno_error (error, errno, _ ("Cannot write"), name);
  return TRUE;
}

gboolean
backup_version_trash_take (GFile *directory, const char *name, guint number, char **trashed,
                           GError **error)
{
  g_auto (Folder) folder = { -1, -1, FALSE };
  g_autofree char *file = NULL;
  g_autofree char *trash_name = NULL;
  gboolean links = TRUE;
  guint n_numbers;

  g_return_val_if_fail (G_IS_FILE (directory), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (trashed != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!backup_store_check_name (name, error))
    return FALSE;
  if (!folder_open (&folder, directory, TRUE, NULL, error))
    return FALSE;
  if (!count_numbers (&folder, name, &n_numbers, error))
    return FALSE;
  file = version_name (name, number);
  if (number >= n_numbers)
    {
      g_autofree char *shown = backup_display_name (file, -1);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _ ("There is no version “%s” any more"),
                   shown);
      return FALSE;
    }

  /* A second name first: from here on the file cannot be lost. */
  trash_name = new_trash_name ("");
  if (linkat (folder.dir_fd, file, folder.trash_fd, trash_name, 0) != 0)
    {
      int errsv = errno;

      if (!no_hard_links (errsv))
        return set_errno_error (error, errsv, _ ("Cannot delete"), file);
      /* Without hard links a gap opens until the renames below close it;
       * should they stop, the older versions become names of their own,
       * and nothing is lost. */
      links = FALSE;
      if (renameat (folder.dir_fd, file, folder.trash_fd, trash_name) != 0)
        return set_errno_error (error, errno, _ ("Cannot delete"), file);
    }

  /* The older versions move down, from the newest of them. */
  for (guint from = number + 1; from < n_numbers; from++)
    if (!move_number (&folder, name, from, from - 1, &links, error))
      return FALSE;

  /* The last number is now a second name of the one before it (or of the
   * deleted file, which the trash folder holds). */
  if (links)
    {
      g_autofree char *last = version_name (name, n_numbers - 1);

      if (unlinkat (folder.dir_fd, last, 0) != 0 && errno != ENOENT)
        return set_errno_error (error, errno, _ ("Cannot delete"), last);
    }
  if (!sync_folder (&folder, name, error))
    return FALSE;
  *trashed = g_steal_pointer (&trash_name);
  return TRUE;
}

static gboolean
check_trashed (const char *trashed, GError **error)
{
  if (trashed == NULL || *trashed == '\0' || strchr (trashed, '/') != NULL
      || strcmp (trashed, ".") == 0 || strcmp (trashed, "..") == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("Nothing to undo"));
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_version_trash_restore (GFile *directory, const char *name, guint number, const char *trashed,
                              guint *number_out, GError **error)
{
  g_auto (Folder) folder = { -1, -1, FALSE };
  g_autofree char *file = NULL;
  gboolean links = TRUE;
  guint n_numbers;
  struct stat st;

  g_return_val_if_fail (G_IS_FILE (directory), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!backup_store_check_name (name, error) || !check_trashed (trashed, error))
    return FALSE;
  if (!folder_open (&folder, directory, TRUE, NULL, error))
    return FALSE;
  if (fstatat (folder.trash_fd, trashed, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return set_errno_error (error, errno, _ ("Cannot undo the deletion of"), name);
  if (!count_numbers (&folder, name, &n_numbers, error))
    return FALSE;
  if (n_numbers >= BACKUP_STORE_MAX_VERSIONS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _ ("Cannot keep more than %u versions"),
                   BACKUP_STORE_MAX_VERSIONS);
      return FALSE;
    }
  /* Versions received meanwhile may have made the list shorter (a prune)
   * or longer: the number it had, or the end. */
  number = MIN (number, n_numbers);

  /* The versions from @number on move up one, from the oldest. */
  for (guint from = n_numbers; from-- > number;)
    if (!move_number (&folder, name, from, from + 1, &links, error))
      return FALSE;

  /* Over the second name of the next version (or into the free number). */
  file = version_name (name, number);
  if (renameat (folder.trash_fd, trashed, folder.dir_fd, file) != 0)
    return set_errno_error (error, errno, _ ("Cannot undo the deletion of"), file);
  if (!sync_folder (&folder, name, error))
    return FALSE;
  /* An empty trash folder goes. */
  unlinkat (folder.dir_fd, BACKUP_VERSION_TRASH_DIR, AT_REMOVEDIR);
  if (number_out != NULL)
    *number_out = number;
  return TRUE;
}

gboolean
backup_version_trash_purge (GFile *directory, const char *trashed, GError **error)
{
  g_auto (Folder) folder = { -1, -1, FALSE };
  g_autofree char *prefix = NULL;
  gboolean no_trash;
  DIR *dir;
  struct dirent *entry;
  int fd;

  g_return_val_if_fail (G_IS_FILE (directory), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (trashed != NULL && !check_trashed (trashed, error))
    return FALSE;
  if (!folder_open (&folder, directory, FALSE, &no_trash, error))
    return FALSE;
  if (no_trash)
    return TRUE;

  if (trashed != NULL)
    {
      if (unlinkat (folder.trash_fd, trashed, 0) != 0 && errno != ENOENT)
        return set_errno_error (error, errno, _ ("Cannot delete"), trashed);
    }
  else
    {
      fd = fcntl (folder.trash_fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0 || (dir = fdopendir (fd)) == NULL)
        {
          int errsv = errno;

          if (fd >= 0)
            close (fd);
          return set_errno_error (error, errsv, _ ("Cannot read"), BACKUP_VERSION_TRASH_DIR);
        }
      prefix = g_strconcat (process_token (), "-", NULL);
      while ((entry = readdir (dir)) != NULL)
        {
          if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0
              || g_str_has_prefix (entry->d_name, prefix))
            continue;
          if (unlinkat (folder.trash_fd, entry->d_name, 0) == 0)
            g_debug ("Deleted a version that an earlier run left in the trash");
        }
      closedir (dir);
    }
  /* An empty trash folder goes. */
  unlinkat (folder.dir_fd, BACKUP_VERSION_TRASH_DIR, AT_REMOVEDIR);
  return TRUE;
}
