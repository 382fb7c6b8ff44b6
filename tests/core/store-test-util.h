/* store-test-util.h: real-directory helpers shared by the store tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "backup-error.h"
#include "backup-store.h"

static inline int
store_test_compare (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorted, comma-separated names in @dir ("" when empty). */
static inline char *
store_test_list (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, store_test_compare);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (",", (char **) names->pdata);
}

static inline void
store_test_write (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static inline void
store_test_assert_contents (const char *dir, const char *name, const char *expected)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, expected, strlen (expected));
}

static inline void
store_test_receive (BackupStore *store, const char *name, const char *contents)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupReception) reception = backup_store_begin (store, name, strlen (name), &error);

  g_assert_no_error (error);
  g_assert_true (backup_reception_write (reception, contents, strlen (contents), &error));
  g_assert_no_error (error);
  g_assert_true (backup_reception_commit (reception, NULL, &error));
  g_assert_no_error (error);
}

/* rm -r of a directory tree this test created (no symlinks followed). */
static inline void
store_test_remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) d = NULL;
      const char *name;

      g_chmod (path, 0700);
      d = g_dir_open (path, 0, NULL);
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          store_test_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}
