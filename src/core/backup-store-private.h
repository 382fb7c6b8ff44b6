/* backup-store-private.h: what BackupReception, the versions code and the
 * tests share of BackupStore
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-store.h"

G_BEGIN_DECLS

/* The time of a commit (a new reference); the default is the real time. */
typedef GDateTime *(*BackupStoreClock) (gpointer user_data);

/* Called before each step that changes the destination during a commit
 * with a retention policy, or a prune (@step names it: "shift", "link",
 * "install", "move", "unlink", "index"); returning FALSE stops the work
 * there, as a crash would, with BACKUP_ERROR_IO. For tests. */
typedef gboolean (*BackupStoreStepHook) (const char *step, gpointer user_data);

/* Tests: a clock, a time zone for the periods (default: the local one),
 * a hook between steps.  Set them before the first reception. */
void _backup_store_set_clock (BackupStore *self, BackupStoreClock clock, gpointer user_data);
void _backup_store_set_time_zone (BackupStore *self, GTimeZone *zone);
void _backup_store_set_step_hook (BackupStore *self,
                                  BackupStoreStepHook hook,
                                  gpointer user_data);

/* Now, by the store's clock, in microseconds since the epoch. */
gint64 _backup_store_now (BackupStore *self);
GTimeZone *_backup_store_get_time_zone (BackupStore *self);
/* FALSE (and @error set) when the step hook stops at @step. */
gboolean _backup_store_step (BackupStore *self, const char *step, GError **error);

G_END_DECLS
