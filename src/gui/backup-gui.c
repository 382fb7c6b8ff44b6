/* backup-gui.c: entry point of the desktop front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <signal.h>

#include "backup-application.h"
#include "backup-resources.h"
#include "backup-gui.h"

/* SIGINT or SIGTERM closes every window: running backups are cancelled and
 * clean up after themselves (the application is held until they are over),
 * then the application ends normally. */
static gboolean
quit_on_signal (gpointer user_data)
{
  GtkApplication *app = user_data;
  GList *windows = gtk_application_get_windows (app);

  g_debug ("signal received: closing every window");
  while (windows != NULL)
    {
      GtkWindow *window = windows->data;

      windows = windows->next;
      gtk_window_destroy (window);
    }
  return G_SOURCE_CONTINUE;
}

int
backup_gui_main (int argc, char **argv)
{
  g_autoptr (BackupApplication) app = NULL;
  guint sigint_id, sigterm_id;
  int status;

  backup_register_resource ();
  app = backup_application_new ();

  /* A peer that goes away must not kill us through a closed pipe. */
  signal (SIGPIPE, SIG_IGN);
  sigint_id = g_unix_signal_add (SIGINT, quit_on_signal, app);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_on_signal, app);
  status = g_application_run (G_APPLICATION (app), argc, argv);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  backup_unregister_resource ();
  return status;
}
