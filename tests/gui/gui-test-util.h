/* gui-test-util.h: what the C tests of the desktop application share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* Removes @path and everything below it, without following links. */
static inline void
gui_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_path = g_build_filename (path, name, NULL);

      if (g_file_test (child_path, G_FILE_TEST_IS_DIR)
          && !g_file_test (child_path, G_FILE_TEST_IS_SYMLINK))
        gui_test_remove_tree (child_path);
      else
        g_unlink (child_path);
    }
  g_rmdir (path);
}
