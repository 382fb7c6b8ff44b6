/* backup-gui.h: the desktop front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs the GtkApplication; returns the process exit status. */
int backup_gui_main (int argc, char **argv);

G_END_DECLS
