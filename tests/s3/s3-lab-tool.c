/* s3-lab-tool.c: looks into the Ceph lab for the shell tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   s3-lab-tool mkbucket BUCKET
 *   s3-lab-tool keys BUCKET PREFIX      the keys under PREFIX, one a line
 *   s3-lab-tool uploads BUCKET PREFIX   how many unfinished uploads
 *   s3-lab-tool get BUCKET KEY FILE
 *   s3-lab-tool put BUCKET KEY FILE     FILE's bytes as KEY (one PUT)
 *   s3-lab-tool sweep BUCKET PREFIX     the receiver's sweep of stale uploads
 *                                       (backup_storage_remove_stale_parts),
 *                                       as if a day had passed: prints how many
 *                                       it aborted
 *
 * The lab's address and keys come from S3_LAB_ENDPOINT, S3_LAB_REGION,
 * S3_LAB_ACCESS_KEY and S3_LAB_SECRET_KEY.
 */
#include "config.h"

#include <stdio.h>

#include "backup-s3-store.h"
#include "backup-s3.h"

static int
fail (const GError *error)
{
  fprintf (stderr, "s3-lab-tool: %s\n", error->message);
  return 1;
}

int
main (int argc, char **argv)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  const char *command = argc > 2 ? argv[1] : "";
  const char *bucket = argc > 2 ? argv[2] : "";

  client = backup_s3_client_new (g_getenv ("S3_LAB_ENDPOINT"), g_getenv ("S3_LAB_REGION"), &error);
  if (client == NULL)
    return fail (error);
  backup_s3_client_set_credentials (client, g_getenv ("S3_LAB_ACCESS_KEY"),
                                    g_getenv ("S3_LAB_SECRET_KEY"), NULL);

  if (g_str_equal (command, "mkbucket") && argc == 3)
    return backup_s3_client_create_bucket (client, bucket, NULL, &error) ? 0 : fail (error);
  if (g_str_equal (command, "keys") && argc == 4)
    {
      g_autoptr (GPtrArray) objects
          = backup_s3_client_list_all_objects (client, bucket, argv[3], NULL, &error);

      if (objects == NULL)
        return fail (error);
      for (guint i = 0; i < objects->len; i++)
        printf ("%s\n", ((BackupS3ObjectInfo *)g_ptr_array_index (objects, i))->key);
      return 0;
    }
  if (g_str_equal (command, "uploads") && argc == 4)
    {
      g_autoptr (GPtrArray) uploads
          = backup_s3_client_list_multipart_uploads (client, bucket, argv[3], NULL, &error);

      if (uploads == NULL)
        return fail (error);
      printf ("%u\n", uploads->len);
      return 0;
    }
  if (g_str_equal (command, "get") && argc == 5)
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (argv[4]);
      g_autoptr (GFileOutputStream) out
          = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);

      if (out == NULL
          || !backup_s3_client_get_object_to_stream (client, bucket, argv[3], G_OUTPUT_STREAM (out),
                                                     NULL, &error)
          || !g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error))
        return fail (error);
      return 0;
    }
  if (g_str_equal (command, "put") && argc == 5)
    {
      g_autoptr (GMappedFile) file = g_mapped_file_new (argv[4], FALSE, &error);
      g_autoptr (GBytes) data = NULL;

      if (file == NULL)
        return fail (error);
      data = g_mapped_file_get_bytes (file);
      return backup_s3_client_put_object (client, bucket, argv[3], data, NULL, NULL, &error)
                 ? 0
                 : fail (error);
    }
  if (g_str_equal (command, "sweep") && argc == 4)
    {
      g_autoptr (BackupS3Store) store = backup_s3_store_new (client, bucket, argv[3], 1);
      guint removed = 0;

      backup_s3_store_set_stale_age (store, 0);

      if (!backup_storage_remove_stale_parts (BACKUP_STORAGE (store), 0, &removed, NULL, &error))
        return fail (error);
      printf ("%u\n", removed);
      return 0;
    }
  fprintf (stderr,
           "usage: s3-lab-tool mkbucket|keys|uploads|get|put|sweep BUCKET [PREFIX|KEY FILE]\n");
  return 2;
}
