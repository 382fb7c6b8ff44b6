/* s3-lab.h: what the S3 tests share: the lab that run-s3-suite.sh started
 * (ceph-lab.sh), found through the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "backup-s3.h"

/* TRUE when the lab's address is in the environment; otherwise the test
 * is skipped, or aborts under CI=true. */
static inline gboolean
have_lab (void)
{
  if (g_getenv ("S3_LAB_ENDPOINT") != NULL)
    return TRUE;
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    g_error ("S3_LAB_ENDPOINT is not set: run this test through run-s3-suite.sh");
  g_test_skip ("no S3 lab (run through tests/s3/run-s3-suite.sh)");
  return FALSE;
}

/* A client of the lab with its test user's keys. */
static inline BackupS3Client *
lab_client (void)
{
  g_autoptr (GError) error = NULL;
  BackupS3Client *client;

  client = backup_s3_client_new (g_getenv ("S3_LAB_ENDPOINT"), g_getenv ("S3_LAB_REGION"), &error);
  g_assert_no_error (error);
  backup_s3_client_set_credentials (client, g_getenv ("S3_LAB_ACCESS_KEY"),
                                    g_getenv ("S3_LAB_SECRET_KEY"), NULL);
  return client;
}
