/* backup-gui.c: entry point of the desktop front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>

#include "backup-application.h"
#include "backup-resources.h"
#include "backup-gui.h"

int
backup_gui_main (int argc, char **argv)
{
  g_autoptr (BackupApplication) app = NULL;

  backup_register_resource ();
  app = backup_application_new ();

  /* A peer that goes away must not kill us through a closed pipe. */
  signal (SIGPIPE, SIG_IGN);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
