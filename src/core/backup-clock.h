/* backup-clock.h: the wall clock of scheduled backups, and one for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupClock tells the time (microseconds since the epoch, UTC) and
 * calls back once a wall-clock time has come. Two kinds:
 *
 *   system  the real time (g_get_real_time()). GLib's timers run on the
 *           monotonic clock, which stands still while the machine sleeps
 *           and ignores changes of the wall clock, so a wake-up is never
 *           armed for more than a minute: the clock looks again at least
 *           once a minute, and a time passed in suspend or skipped by a
 *           clock change is noticed within that minute. Wake-ups are
 *           dispatched on the thread-default main context of the thread
 *           that made the clock.
 *   manual  for tests: the time is what the test sets, and
 *           backup_clock_advance() moves it forward and calls every
 *           wake-up that became due, in the order of their times, before
 *           it returns. Nothing waits; nothing sleeps.
 *
 * A wake-up is called once (and then forgotten) with the current time; a
 * wake-up added for a time already past is called at the next look (a
 * system clock: from its context at once; a manual clock: on the next
 * advance, also of 0 seconds).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* How long a system clock lets its timers run at most. */
#define BACKUP_CLOCK_MAX_TIMER_S 60

#define BACKUP_TYPE_CLOCK (backup_clock_get_type ())

G_DECLARE_FINAL_TYPE (BackupClock, backup_clock, BACKUP, CLOCK, GObject)

typedef void (*BackupClockFunc) (BackupClock *clock, gint64 now, gpointer user_data);

BackupClock *backup_clock_new_system (void);
/* A manual clock showing @now (µs since the epoch). */
BackupClock *backup_clock_new_manual (gint64 now);

gboolean backup_clock_is_manual (BackupClock *self);

/* µs since the epoch, UTC. */
gint64 backup_clock_get_now (BackupClock *self);

/* Calls @func once the clock shows @when (µs since the epoch) or later;
 * @destroy frees @user_data after the call or when the wake-up is removed.
 * Returns the wake-up's id (never 0). */
guint backup_clock_add_wakeup (BackupClock *self, gint64 when, BackupClockFunc func,
                               gpointer user_data, GDestroyNotify destroy);
/* Removes a wake-up not yet called; an unknown id is ignored. */
void backup_clock_remove_wakeup (BackupClock *self, guint id);

/* Manual clocks only: moves the time forward by @seconds (or to @now) and
 * calls, before returning, each wake-up that is due, earliest first (also
 * those that the calls add, when they are due). */
void backup_clock_advance (BackupClock *self, gint64 seconds);
void backup_clock_set_now (BackupClock *self, gint64 now);

G_END_DECLS
