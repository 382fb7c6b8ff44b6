/* backup-cli.h: the headless front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "backup-options.h"

G_BEGIN_DECLS

/* TRUE when @argv holds any option of backup mode or encryption mode (or
 * -h/--help, or anything that is not a GApplication option), so that the
 * command line runs without a display. */
gboolean backup_cli_wants_cli (int argc, char **argv);

/* Fills in the zip passwords not given (options->password1, password2):
 * asked on the terminal when standard input is one (twice each when
 * @confirm), else one line each from standard input. Errors with
 * BACKUP_ERROR_INVALID_ARGUMENT are the user's (nothing entered). */
gboolean backup_cli_complete_passwords (BackupOptions *options,
                                        gboolean       confirm,
                                        GError       **error);

/* Runs the command line; returns the process exit status. */
int backup_cli_main (int argc, char **argv);

G_END_DECLS
