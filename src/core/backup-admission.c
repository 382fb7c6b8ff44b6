/* backup-admission.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-admission.h"

struct _BackupAdmission
{
  GObject parent_instance;

  guint max_slots;
  guint active;
  GQueue waiting; /* of GTask, each holding a reference */
};

G_DEFINE_FINAL_TYPE (BackupAdmission, backup_admission, G_TYPE_OBJECT)

/* What a waiting task keeps: its place and its cancellation handler. */
typedef struct
{
  BackupAdmission *admission; /* weak: the queue is emptied at dispose */
  GList *link;
  gulong cancelled_id;
} Waiter;

static void
backup_admission_dispose (GObject *object)
{
  BackupAdmission *self = BACKUP_ADMISSION (object);
  GTask *task;

  while ((task = g_queue_pop_head (&self->waiting)) != NULL)
    {
      Waiter *waiter = g_task_get_task_data (task);

      waiter->link = NULL;
      waiter->admission = NULL;
      if (waiter->cancelled_id != 0)
        g_cancellable_disconnect (g_task_get_cancellable (task), waiter->cancelled_id);
      waiter->cancelled_id = 0;
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The receiver is stopping");
      g_object_unref (task);
    }
  G_OBJECT_CLASS (backup_admission_parent_class)->dispose (object);
}

static void
backup_admission_class_init (BackupAdmissionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = backup_admission_dispose;
}

static void
backup_admission_init (BackupAdmission *self)
{
  g_queue_init (&self->waiting);
}

BackupAdmission *
backup_admission_new (guint max_slots)
{
  BackupAdmission *self;

  g_return_val_if_fail (max_slots >= 1 && max_slots <= BACKUP_ADMISSION_MAX, NULL);

  self = g_object_new (BACKUP_TYPE_ADMISSION, NULL);
  self->max_slots = max_slots;
  return self;
}

guint
backup_admission_get_max_slots (BackupAdmission *self)
{
  g_return_val_if_fail (BACKUP_IS_ADMISSION (self), 0);
  return self->max_slots;
}

guint
backup_admission_get_active (BackupAdmission *self)
{
  g_return_val_if_fail (BACKUP_IS_ADMISSION (self), 0);
  return self->active;
}

guint
backup_admission_get_waiting (BackupAdmission *self)
{
  g_return_val_if_fail (BACKUP_IS_ADMISSION (self), 0);
  return self->waiting.length;
}

gboolean
backup_admission_try_acquire (BackupAdmission *self)
{
  g_return_val_if_fail (BACKUP_IS_ADMISSION (self), FALSE);

  if (self->active >= self->max_slots || self->waiting.length > 0)
    return FALSE;
  self->active++;
  return TRUE;
}

static void
waiter_free (Waiter *waiter)
{
  g_free (waiter);
}

/* Leaves the queue: the task's cancellable fired. */
static gboolean
cancelled_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  Waiter *waiter = g_task_get_task_data (task);

  if (waiter->link == NULL)
    return G_SOURCE_REMOVE; /* granted or disposed meanwhile */
  g_queue_delete_link (&waiter->admission->waiting, waiter->link);
  waiter->link = NULL;
  g_cancellable_disconnect (g_task_get_cancellable (task), waiter->cancelled_id);
  waiter->cancelled_id = 0;
  g_task_return_error_if_cancelled (task);
  g_object_unref (task); /* the queue's */
  return G_SOURCE_REMOVE;
}

static void
cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;

  /* Not from the handler itself: g_cancellable_disconnect() would wait
   * for it. */
  g_autoptr (GSource) source = g_idle_source_new ();

  g_source_set_callback (source, cancelled_idle_cb, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
}

void
backup_admission_acquire_async (BackupAdmission *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Waiter *waiter;

  g_return_if_fail (BACKUP_IS_ADMISSION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_admission_acquire_async);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (backup_admission_try_acquire (self))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  waiter = g_new0 (Waiter, 1);
  waiter->admission = self;
  g_task_set_task_data (task, waiter, (GDestroyNotify) waiter_free);
  g_queue_push_tail (&self->waiting, g_object_ref (task));
  waiter->link = self->waiting.tail;
  if (cancellable != NULL)
    waiter->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), task,
                                                  NULL);
}

gboolean
backup_admission_acquire_finish (BackupAdmission *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_ADMISSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
backup_admission_release (BackupAdmission *self)
{
  GTask *task;

  g_return_if_fail (BACKUP_IS_ADMISSION (self));
  g_return_if_fail (self->active > 0);

  self->active--;
  while (self->active < self->max_slots && (task = g_queue_pop_head (&self->waiting)) != NULL)
    {
      Waiter *waiter = g_task_get_task_data (task);

      waiter->link = NULL;
      if (waiter->cancelled_id != 0)
        g_cancellable_disconnect (g_task_get_cancellable (task), waiter->cancelled_id);
      waiter->cancelled_id = 0;
      if (g_task_return_error_if_cancelled (task))
        {
          g_object_unref (task);
          continue;
        }
      self->active++;
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}
