/* backup-cli-signals.c: SIGINT and SIGTERM stop a run of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <signal.h>

#include "backup-cli-signals.h"

int
backup_cli_exit_status_for_signal (int signum)
{
  g_return_val_if_fail (signum > 0 && signum < 128, 1);

  return 128 + signum;
}

static void
stop (BackupCliSignals *self, int signum)
{
  if (self->received == 0)
    self->received = signum;
  g_cancellable_cancel (self->cancellable);
}

static gboolean
on_sigint (gpointer user_data)
{
  stop (user_data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  stop (user_data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

void
backup_cli_signals_watch (BackupCliSignals *self, GCancellable *cancellable)
{
  g_return_if_fail (self != NULL && G_IS_CANCELLABLE (cancellable));

  self->cancellable = cancellable;
  self->received = 0;
  self->sigint_id = g_unix_signal_add (SIGINT, on_sigint, self);
  self->sigterm_id = g_unix_signal_add (SIGTERM, on_sigterm, self);
}

void
backup_cli_signals_unwatch (BackupCliSignals *self)
{
  g_return_if_fail (self != NULL);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  self->cancellable = NULL;
}
