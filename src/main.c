/* main.c: distributed-backup, the desktop application and its command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "cli/backup-cli.h"
#if HAVE_GUI
#include "gui/backup-gui.h"
#endif

int
main (int argc, char **argv)
{
  const char *localedir;

  /* The tests run the catalogues of the build tree. */
  localedir = g_getenv ("DISTRIBUTED_BACKUP_LOCALEDIR");
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

#if HAVE_GUI
  /* Any backup-mode or encryption-mode option runs without a display. */
  if (!backup_cli_wants_cli (argc, argv))
    return backup_gui_main (argc, argv);
#endif

  return backup_cli_main (argc, argv);
}
