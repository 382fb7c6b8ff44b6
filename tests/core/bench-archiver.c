/* bench-archiver.c: drives BackupArchiver for bench/archiver-bench.sh
 *
 * Usage: bench-archiver SOURCE_DIR OUTPUT|- PASSWORD1 PASSWORD2 [aes256|aes128|zipcrypto]
 *
 * Writes the double zip of SOURCE_DIR to OUTPUT (or to standard output with
 * "-") and prints the elapsed time and the archive size on standard error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixoutputstream.h>

#include "backup-core-enum-types.h"
#include "backup-archiver.h"

typedef struct
{
  GMainLoop *loop;
  GError *error;
} Run;

static void
done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &run->error);
  g_main_loop_quit (run->loop);
}

int
main (int argc, char *argv[])
{
  g_autoptr (GFile) source = NULL;
  g_autoptr (BackupArchiver) archiver = NULL;
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GEnumClass) enum_class = NULL;
  Run run = { 0 };
  gint64 start, end;
  gint64 written = 0;

  if (argc < 5 || argc > 6)
    {
      g_printerr ("Usage: %s SOURCE_DIR OUTPUT|- PASSWORD1 PASSWORD2 "
                  "[aes256|aes128|zipcrypto]\n",
                  argv[0]);
      return 2;
    }

  source = g_file_new_for_commandline_arg (argv[1]);
  archiver = backup_archiver_new (source, "backup.zip", argv[3], argv[4]);
  if (argc == 6)
    {
      GEnumValue *value;

      enum_class = g_type_class_ref (BACKUP_TYPE_ZIP_ENCRYPTION);
      value = g_enum_get_value_by_nick (enum_class, argv[5]);
      if (value == NULL)
        {
          g_printerr ("Unknown encryption “%s”\n", argv[5]);
          return 2;
        }
      backup_archiver_set_encryption (archiver, value->value);
    }

  if (g_strcmp0 (argv[2], "-") == 0)
    out = g_unix_output_stream_new (1, FALSE);
  else
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (argv[2]);

      out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error));
      if (out == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }

  run.loop = g_main_loop_new (NULL, FALSE);
  start = g_get_monotonic_time ();
  backup_archiver_write_async (archiver, out, G_PRIORITY_DEFAULT, NULL, done_cb, &run);
  g_main_loop_run (run.loop);
  end = g_get_monotonic_time ();
  g_main_loop_unref (run.loop);

  if (run.error != NULL)
    {
      g_printerr ("%s\n", run.error->message);
      g_error_free (run.error);
      return 1;
    }
  if (G_IS_SEEKABLE (out) && g_seekable_can_seek (G_SEEKABLE (out)))
    written = g_seekable_tell (G_SEEKABLE (out));
  if (!g_output_stream_close (out, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  g_printerr ("bench-archiver: %" G_GINT64_FORMAT
              " bytes of files, %.3f s, archive %" G_GINT64_FORMAT " bytes\n",
              backup_archiver_get_total_bytes (archiver), (end - start) / 1e6, written);
  return 0;
}
