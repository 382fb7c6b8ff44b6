/* fuzz-replay.c: runs a fuzz target over every file of its corpus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Linked with one fuzz-*.c file into an ordinary program, so that the
 * corpus (seeds and past crashers) is replayed by the normal test suite
 * with any compiler.  Arguments are files or directories.
 */
#include "config.h"

#include <glib.h>

#define FUZZ_REPLAY
#include "fuzz-common.h"

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static gboolean
replay_file (const char *path, guint *count)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }

  {
    /* An exact-size copy, so that reads past the end are caught. */
    g_autofree guint8 *exact = g_memdup2 (contents, length);

    g_print ("replaying %s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
    LLVMFuzzerTestOneInput (exact, length);
  }
  (*count)++;
  return TRUE;
}

static gboolean
replay_path (const char *path, guint *count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return replay_file (path, count);

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);

  for (guint i = 0; i < names->len; i++)
    if (!replay_path (g_ptr_array_index (names, i), count))
      return FALSE;

  return TRUE;
}

int
main (int argc, char *argv[])
{
  guint count = 0;

  if (argc < 2)
    {
      g_printerr ("Usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
      return 2;
    }

  for (int i = 1; i < argc; i++)
    if (!replay_path (argv[i], &count))
      return 1;

  if (count == 0)
    {
      g_printerr ("No corpus file found\n");
      return 1;
    }

  g_print ("%u inputs replayed\n", count);
  return 0;
}
