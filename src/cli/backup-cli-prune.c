/* backup-cli-prune.c: --prune on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "backup-cli-prune.h"
#include "backup-cli-signals.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-storage.h"
#include "backup-store.h"

#define PROGRAM "distributed-backup"
#define EXIT_FAILURE_RUNTIME 1

typedef struct
{
  GMainLoop *loop;
  GPtrArray *versions;
  GError *error;
  gboolean dry_run;
} Prune;

static void
prune_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Prune *prune = user_data;

  backup_store_prune_finish (BACKUP_STORE (object), result, &prune->versions, &prune->error);
  g_main_loop_quit (prune->loop);
}

/* A storage's prune (a bucket's) blocks: it runs in a worker thread. */
static void
storage_prune_worker (GTask *task, gpointer source_object, gpointer task_data,
                      GCancellable *cancellable)
{
  Prune *prune = task_data;
  GPtrArray *versions = NULL;
  GError *error = NULL;

  if (backup_storage_prune (BACKUP_STORAGE (source_object), NULL, prune->dry_run, &versions,
                            cancellable, &error))
    g_task_return_pointer (task, versions, (GDestroyNotify)g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

static void
storage_prune_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Prune *prune = user_data;

  prune->versions = g_task_propagate_pointer (G_TASK (result), &prune->error);
  g_main_loop_quit (prune->loop);
}

/* Prunes @storage (-d s3://…) as the folder store is pruned; a signal
 * stops it between requests. */
static void
prune_storage (BackupStorage *storage, Prune *prune, BackupCliSignals *signals)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (storage, cancellable, storage_prune_done_cb, prune);

  g_task_set_source_tag (task, prune_storage);
  g_task_set_task_data (task, prune, NULL);
  backup_cli_signals_watch (signals, cancellable);
  g_task_run_in_thread (task, storage_prune_worker);
  g_main_loop_run (prune->loop);
  backup_cli_signals_unwatch (signals);
}

static char *
format_local_time (gint64 time_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  if (time == NULL)
    return g_strdup ("?");
  return g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
}

/* "keep    NAME.3  2024-05-01 10:00:00  daily, weekly  -> NAME.1  from HOST"
 * "remove  NAME.4  2024-04-30 09:12:44" (the origin, when one was kept) */
static void
print_version (const BackupStoreVersion *version, gboolean dry_run)
{
  g_autofree char *file = backup_display_name (version->file, -1);
  g_autofree char *time = format_local_time (version->time);
  g_autoptr (GString) line = g_string_new (NULL);

  if (version->new_file == NULL)
    {
      g_string_append_printf (line, "%-7s %s  %s", dry_run ? "remove" : "removed", file, time);
    }
  else
    {
      g_autofree char *why = backup_retention_describe (version->reasons);

      g_string_append_printf (line, "%-7s %s  %s  %s", dry_run ? "keep" : "kept", file, time,
                              why);
      if (g_strcmp0 (version->new_file, version->file) != 0)
        {
          g_autofree char *new_file = backup_display_name (version->new_file, -1);

          g_string_append_printf (line, "  -> %s", new_file);
        }
    }
  if (version->origin != NULL)
    {
      g_autofree char *origin = backup_display_name (version->origin, -1);

      g_string_append_printf (line, "  from %s", origin);
    }
  puts (line->str);
}

int
backup_cli_run_prune (BackupOptions *options)
{
  g_autoptr (GFile) destination = NULL;
  g_autoptr (BackupStore) store = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  BackupRetention retention = options->retention;
  guint versions = options->versions;
  guint removed = 0;
  Prune prune = { 0 };
  BackupCliSignals signals = { 0 };

  g_return_val_if_fail (options != NULL, EXIT_FAILURE_RUNTIME);

  loop = g_main_loop_new (NULL, FALSE);
  prune.loop = loop;
  prune.dry_run = options->dry_run;

  if (options->storage != NULL)
    {
      /* -d s3://BUCKET/PREFIX; its store has -v already. */
      backup_storage_set_retention (options->storage, &retention);
      prune_storage (options->storage, &prune, &signals);
    }
  else
    {
      if (options->profile != NULL)
        {
          destination = g_object_ref (backup_profile_get_destination (options->profile));
          versions = backup_profile_get_versions (options->profile);
          backup_profile_get_retention (options->profile, &retention);
        }
      else
        destination = g_file_new_for_commandline_arg (options->dstdir);

      store = backup_store_new (destination, versions);
      backup_store_set_retention (store, &retention);

      backup_store_prune_async (store, NULL, options->dry_run, NULL, prune_done_cb, &prune);
      g_main_loop_run (loop);
    }

  if (signals.received != 0)
    {
      g_clear_error (&prune.error);
      g_clear_pointer (&prune.versions, g_ptr_array_unref);
      return backup_cli_exit_status_for_signal (signals.received);
    }
  if (prune.error != NULL)
    {
      g_autofree char *shown = backup_display_name (prune.error->message, -1);

      fprintf (stderr, "%s: %s\n", PROGRAM, shown);
      g_error_free (prune.error);
      return EXIT_FAILURE_RUNTIME;
    }

  for (guint i = 0; i < prune.versions->len; i++)
    {
      const BackupStoreVersion *version = g_ptr_array_index (prune.versions, i);

      if (options->dry_run || !options->quiet)
        print_version (version, options->dry_run);
      removed += version->new_file == NULL;
    }
  if (!options->quiet)
    {
      if (options->dry_run)
        fprintf (stderr,
                 g_dngettext (GETTEXT_PACKAGE,
                              "Dry run: %u of %u version would be removed; nothing was changed\n",
                              "Dry run: %u of %u versions would be removed; nothing was changed\n",
                              prune.versions->len),
                 removed, prune.versions->len);
      else
        fprintf (stderr,
                 g_dngettext (GETTEXT_PACKAGE, "Removed %u of %u version\n",
                              "Removed %u of %u versions\n", prune.versions->len),
                 removed, prune.versions->len);
    }
  g_ptr_array_unref (prune.versions);
  return fflush (stdout) == 0 ? 0 : EXIT_FAILURE_RUNTIME;
}
