/* backup-clock.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pending wake-ups are a list sorted by time (then by id, so two of
 * the same time are called in the order they were added). A system clock
 * keeps one timer for the earliest of them, never longer than
 * BACKUP_CLOCK_MAX_TIMER_S; when it fires, the due wake-ups are called and
 * the timer is armed again. A manual clock has no timer: advancing it calls
 * what is due.
 */
#include "config.h"

#include "backup-clock.h"

typedef struct
{
  guint id;
  gint64 when;
  BackupClockFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Wakeup;

struct _BackupClock
{
  GObject parent_instance;

  gboolean manual;
  gint64 manual_now;
  GMainContext *context; /* system: where the timer runs */
  GSource *timer;        /* system: the next look */
  GList *wakeups;        /* of Wakeup, by time then id */
  guint last_id;
  gboolean dispatching;
};

G_DEFINE_FINAL_TYPE (BackupClock, backup_clock, G_TYPE_OBJECT)

static void
wakeup_free (Wakeup *wakeup)
{
  if (wakeup->destroy != NULL)
    wakeup->destroy (wakeup->user_data);
  g_free (wakeup);
}

static gint
compare_wakeups (gconstpointer a, gconstpointer b)
{
  const Wakeup *x = a;
  const Wakeup *y = b;

  if (x->when != y->when)
    return x->when < y->when ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

gint64
backup_clock_get_now (BackupClock *self)
{
  g_return_val_if_fail (BACKUP_IS_CLOCK (self), 0);

  return self->manual ? self->manual_now : g_get_real_time ();
}

gboolean
backup_clock_is_manual (BackupClock *self)
{
  g_return_val_if_fail (BACKUP_IS_CLOCK (self), FALSE);

  return self->manual;
}

static void arm_timer (BackupClock *self);

/* Calls every wake-up that is due, earliest first, each taken off the list
 * before its call (so it may add or remove others). */
static void
dispatch_due (BackupClock *self)
{
  g_object_ref (self);
  self->dispatching = TRUE;
  for (;;)
    {
      gint64 now = backup_clock_get_now (self);
      Wakeup *first;

      if (self->wakeups == NULL)
        break;
      first = self->wakeups->data;
      if (first->when > now)
        break;
      self->wakeups = g_list_delete_link (self->wakeups, self->wakeups);
      first->func (self, now, first->user_data);
      wakeup_free (first);
    }
  self->dispatching = FALSE;
  arm_timer (self);
  g_object_unref (self);
}

static gboolean
timer_cb (gpointer user_data)
{
  BackupClock *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  dispatch_due (self);
  return G_SOURCE_REMOVE;
}

/* The system clock's timer for the earliest wake-up, a minute at most. */
static void
arm_timer (BackupClock *self)
{
  const Wakeup *first;
  gint64 wait_ms;

  if (self->manual || self->dispatching)
    return;
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->wakeups == NULL)
    return;

  first = self->wakeups->data;
  wait_ms = (first->when - g_get_real_time () + 999) / 1000;
  wait_ms = CLAMP (wait_ms, 0, (gint64)BACKUP_CLOCK_MAX_TIMER_S * 1000);
  self->timer = g_timeout_source_new ((guint)wait_ms);
  g_source_set_name (self->timer, "[backup] clock");
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_attach (self->timer, self->context);
}

guint
backup_clock_add_wakeup (BackupClock *self, gint64 when, BackupClockFunc func, gpointer user_data,
                         GDestroyNotify destroy)
{
  Wakeup *wakeup;

  g_return_val_if_fail (BACKUP_IS_CLOCK (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  wakeup = g_new0 (Wakeup, 1);
  wakeup->id = ++self->last_id;
  if (wakeup->id == 0)
    wakeup->id = ++self->last_id;
  wakeup->when = when;
  wakeup->func = func;
  wakeup->user_data = user_data;
  wakeup->destroy = destroy;
  self->wakeups = g_list_insert_sorted (self->wakeups, wakeup, compare_wakeups);
  if (self->wakeups->data == wakeup)
    arm_timer (self);
  return wakeup->id;
}

void
backup_clock_remove_wakeup (BackupClock *self, guint id)
{
  g_return_if_fail (BACKUP_IS_CLOCK (self));

  for (GList *l = self->wakeups; l != NULL; l = l->next)
    {
      Wakeup *wakeup = l->data;

      if (wakeup->id != id)
        continue;
      self->wakeups = g_list_delete_link (self->wakeups, l);
      wakeup_free (wakeup);
      return;
    }
}

void
backup_clock_set_now (BackupClock *self, gint64 now)
{
  g_return_if_fail (BACKUP_IS_CLOCK (self));
  g_return_if_fail (self->manual);

  self->manual_now = now;
  if (!self->dispatching)
    dispatch_due (self);
}

void
backup_clock_advance (BackupClock *self, gint64 seconds)
{
  g_return_if_fail (BACKUP_IS_CLOCK (self));
  g_return_if_fail (self->manual);

  backup_clock_set_now (self, self->manual_now + seconds * G_USEC_PER_SEC);
}

static void
backup_clock_dispose (GObject *object)
{
  BackupClock *self = BACKUP_CLOCK (object);

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  g_list_free_full (g_steal_pointer (&self->wakeups), (GDestroyNotify)wakeup_free);

  G_OBJECT_CLASS (backup_clock_parent_class)->dispose (object);
}

static void
backup_clock_finalize (GObject *object)
{
  BackupClock *self = BACKUP_CLOCK (object);

  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (backup_clock_parent_class)->finalize (object);
}

static void
backup_clock_class_init (BackupClockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_clock_dispose;
  object_class->finalize = backup_clock_finalize;
}

static void
backup_clock_init (BackupClock *self)
{
}

BackupClock *
backup_clock_new_system (void)
{
  BackupClock *self = g_object_new (BACKUP_TYPE_CLOCK, NULL);

  self->context = g_main_context_ref_thread_default ();
  return self;
}

BackupClock *
backup_clock_new_manual (gint64 now)
{
  BackupClock *self = g_object_new (BACKUP_TYPE_CLOCK, NULL);

  self->manual = TRUE;
  self->manual_now = now;
  return self;
}
