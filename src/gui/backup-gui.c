/* placeholder: replaced by the GUI */
#include "config.h"

#include <adwaita.h>

#include "backup-gui.h"

int
backup_gui_main (int argc, char **argv)
{
  g_autoptr (AdwApplication) app = adw_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
