/* backup-cli.h: the headless front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when @argv holds any option of backup mode or encryption mode (or
 * -h/--help, or anything that is not a GApplication option), so that the
 * command line runs without a display. */
gboolean backup_cli_wants_cli (int argc, char **argv);

/* Runs the command line; returns the process exit status. */
int backup_cli_main (int argc, char **argv);

G_END_DECLS
