/* test-store-fullfs.c: BackupStore on a full and on a read-only filesystem
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs root (mount(2)); exits 77 (skipped) otherwise.  The tests run in a
 * child process inside its own mount namespace, so that every tmpfs it
 * mounts disappears with it even when an assertion aborts it; the parent
 * then removes the temporary directory.
 */
#include "config.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup-reception.h"
#include "store-test-util.h"

static char *base_dir;

/* A fresh 1 MiB tmpfs under the base directory. */
static char *
mount_small_tmpfs (const char *leaf)
{
  char *dir = g_build_filename (base_dir, leaf, NULL);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  if (mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") != 0)
    g_error ("mount tmpfs on %s: %s", dir, g_strerror (errno));
  return dir;
}

static void
unmount (const char *dir)
{
  g_assert_cmpint (umount2 (dir, MNT_DETACH), ==, 0);
  g_rmdir (dir);
}

static void
fill_filesystem (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "filler", NULL);
  g_autofree char *chunk = g_strnfill (4096, 'f');
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  for (;;)
    {
      ssize_t n = write (fd, chunk, 4096);

      if (n < 0)
        {
          g_assert_cmpint (errno, ==, ENOSPC);
          break;
        }
    }
  close (fd);
}

static void
test_no_space (void)
{
  g_autofree char *dir = mount_small_tmpfs ("full");
  g_autoptr (GFile) file = g_file_new_for_path (dir);
  g_autoptr (BackupStore) store = backup_store_new (file, 2);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chunk = g_strnfill (32768, 'r');
  g_autofree char *listing = NULL;
  g_autofree char *filler = g_build_filename (dir, "filler", NULL);
  guint64 total = 0;
  gboolean ok = TRUE;

  store_test_receive (store, "name", "older version");
  store_test_receive (store, "name", "newest version");
  fill_filesystem (dir);

  reception = backup_store_begin (store, "name", 4, &error);
  g_assert_no_error (error);
  /* At most 2 MiB: more than the whole filesystem. */
  while (ok && total < 2 * 1024 * 1024)
    {
      ok = backup_reception_write (reception, chunk, 32768, &error);
      total += 32768;
    }
  g_assert_false (ok);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);

  /* The temporary file is gone at once, and the reception is finished. */
  listing = store_test_list (dir);
  g_assert_cmpstr (listing, ==, "filler,name,name.1");
  g_assert_false (backup_reception_commit (reception, NULL, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED);
  g_clear_error (&error);
  g_clear_object (&reception);

  store_test_assert_contents (dir, "name", "newest version");
  store_test_assert_contents (dir, "name.1", "older version");
  g_clear_pointer (&listing, g_free);
  listing = store_test_list (dir);
  g_assert_cmpstr (listing, ==, "filler,name,name.1");

  /* Once there is room again, the next reception works. */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  store_test_receive (store, "name", "after");
  store_test_assert_contents (dir, "name", "after");
  store_test_assert_contents (dir, "name.1", "newest version");

  g_clear_object (&store);
  unmount (dir);
}

static void
test_no_inode (void)
{
  g_autofree char *dir = g_build_filename (base_dir, "noinode", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (dir);
  g_autoptr (BackupStore) store = backup_store_new (file, 1);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;
  guint i;

  /* No inode left: even the temporary file cannot be created. */
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  if (mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=8,mode=0700") != 0)
    g_error ("mount tmpfs on %s: %s", dir, g_strerror (errno));
  store_test_receive (store, "name", "kept");
  for (i = 0; i < 16; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/f%u", dir, i);
      int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

      if (fd < 0)
        {
          g_assert_cmpint (errno, ==, ENOSPC);
          break;
        }
      close (fd);
    }
  g_assert_cmpuint (i, <, 16);

  reception = backup_store_begin (store, "name", 4, &error);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_null (reception);
  store_test_assert_contents (dir, "name", "kept");
  listing = store_test_list (dir);
  g_assert_null (strstr (listing, ".part"));

  g_clear_object (&store);
  unmount (dir);
}

static void
test_read_only (void)
{
  g_autofree char *dir = mount_small_tmpfs ("readonly");
  g_autoptr (GFile) file = g_file_new_for_path (dir);
  g_autoptr (BackupStore) store = backup_store_new (file, 2);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *listing = NULL;

  store_test_receive (store, "name", "kept");
  g_assert_cmpint (mount (NULL, dir, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
                   ==, 0);

  reception = backup_store_begin (store, "name", 4, &error);
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_null (reception);
  store_test_assert_contents (dir, "name", "kept");
  listing = store_test_list (dir);
  g_assert_cmpstr (listing, ==, "name");

  g_clear_object (&store);
  unmount (dir);
}

static int
run_tests (int argc, char *argv[])
{
  /* A private mount namespace: our mounts end with this process. */
  if (unshare (CLONE_NEWNS) != 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    {
      g_print ("1..0 # SKIP cannot create a mount namespace: %s\n", g_strerror (errno));
      return 77;
    }

  /* Some containers allow namespaces but not tmpfs mounts. */
  {
    g_autofree char *probe = g_build_filename (base_dir, "probe", NULL);

    if (g_mkdir (probe, 0700) != 0 || mount ("tmpfs", probe, "tmpfs", 0, "size=64k") != 0)
      {
        g_print ("1..0 # SKIP cannot mount a tmpfs: %s\n", g_strerror (errno));
        return 77;
      }
    umount2 (probe, MNT_DETACH);
    g_rmdir (probe);
  }

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/fullfs/no-space", test_no_space);
  g_test_add_func ("/store/fullfs/no-inode", test_no_inode);
  g_test_add_func ("/store/fullfs/read-only", test_read_only);
  return g_test_run ();
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  int status;
  pid_t pid;

  if (geteuid () != 0)
    {
      g_print ("1..0 # SKIP mounting a tmpfs needs root\n");
      return 77;
    }

  base_dir = g_dir_make_tmp ("backup-store-fullfs-XXXXXX", &error);
  g_assert_no_error (error);

  fflush (stdout);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      int rc = run_tests (argc, argv);

      /* exit(), not _exit(): flush the output and let the leak checker run. */
      exit (rc);
    }

  while (waitpid (pid, &status, 0) < 0)
    g_assert_cmpint (errno, ==, EINTR);

  /* The child's mounts went away with its namespace. */
  store_test_remove_tree (base_dir);
  g_free (base_dir);

  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  g_printerr ("test process killed by signal %d\n", WTERMSIG (status));
  return 1;
}
