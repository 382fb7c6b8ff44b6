/* backup-restore-async.c: backup_restore_run() in a worker thread
 *
 * The parameters are copied (the passwords wiped when freed); progress
 * reaches the caller's thread-default main context, the newest figures
 * only, at most once in flight.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-restore.h"

typedef struct
{
  gatomicrefcount ref;
  BackupRestoreParams params; /* owns its strings */
  BackupRestoreProgressFunc caller_progress;
  gpointer caller_progress_data;
  GMainContext *context;
  GMutex lock;
  guint64 done;
  guint64 total;
  gboolean scheduled;
  BackupRestoreSummary summary;
} AsyncData;

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

static AsyncData *
async_data_ref (AsyncData *data)
{
  g_atomic_ref_count_inc (&data->ref);
  return data;
}

static void
async_data_unref (gpointer p)
{
  AsyncData *data = p;

  if (!g_atomic_ref_count_dec (&data->ref))
    return;
  g_free ((char *) data->params.archive);
  g_free ((char *) data->params.destination);
  free_secret ((char *) data->params.password1);
  free_secret ((char *) data->params.password2);
  g_main_context_unref (data->context);
  g_mutex_clear (&data->lock);
  g_free (data);
}

static gboolean
deliver_progress (gpointer user_data)
{
  AsyncData *data = user_data;
  guint64 done, total;

  g_mutex_lock (&data->lock);
  done = data->done;
  total = data->total;
  data->scheduled = FALSE;
  g_mutex_unlock (&data->lock);
  data->caller_progress (done, total, data->caller_progress_data);
  return G_SOURCE_REMOVE;
}

/* In the worker: keep the newest figures, and have them shown once. */
static void
worker_progress (guint64 done, guint64 total, gpointer user_data)
{
  AsyncData *data = user_data;
  gboolean schedule;

  g_mutex_lock (&data->lock);
  data->done = done;
  data->total = total;
  schedule = !data->scheduled;
  data->scheduled = TRUE;
  g_mutex_unlock (&data->lock);
  /* Always through a source of the caller's context: g_main_context_invoke()
   * would call it here, in the worker, whenever no thread holds that
   * context at this moment. */
  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver_progress, async_data_ref (data), async_data_unref);
      g_source_set_static_name (source, "[backup] restore progress");
      g_source_attach (source, data->context);
      g_source_unref (source);
    }
}

static void
run_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  AsyncData *data = task_data;
  GError *error = NULL;

  if (backup_restore_run (&data->params, &data->summary, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
backup_restore_run_async (const BackupRestoreParams *params,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  AsyncData *data;

  g_return_if_fail (params != NULL && params->archive != NULL);

  data = g_new0 (AsyncData, 1);
  g_atomic_ref_count_init (&data->ref);
  g_mutex_init (&data->lock);
  data->params = *params;
  data->params.archive = g_strdup (params->archive);
  data->params.destination = g_strdup (params->destination);
  data->params.password1 = g_strdup (params->password1);
  data->params.password2 = g_strdup (params->password2);
  data->context = g_main_context_ref_thread_default ();
  if (params->progress_func != NULL)
    {
      data->caller_progress = params->progress_func;
      data->caller_progress_data = params->progress_data;
      data->params.progress_func = worker_progress;
      data->params.progress_data = data;
    }

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_restore_run_async);
  g_task_set_task_data (task, data, async_data_unref);
  g_task_run_in_thread (task, run_worker);
}

gboolean
backup_restore_run_finish (GAsyncResult *result, BackupRestoreSummary *summary, GError **error)
{
  GTask *task;
  AsyncData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  task = G_TASK (result);
  g_return_val_if_fail (g_task_get_source_tag (task) == backup_restore_run_async, FALSE);
  data = g_task_get_task_data (task);
  if (!g_task_propagate_boolean (task, error))
    return FALSE;
  if (summary != NULL)
    *summary = data->summary;
  return TRUE;
}
