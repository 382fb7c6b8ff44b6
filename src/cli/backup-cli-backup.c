/* backup-cli-backup.c: backup mode of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "backup-cli-backup.h"

int
backup_cli_run_backup (BackupOptions *options)
{
  g_return_val_if_fail (options != NULL, 1);

  fprintf (stderr, "distributed-backup: %s\n", _("transfers are not available in this build"));
  return 1;
}
