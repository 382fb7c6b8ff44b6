/* backup-schedules-page.h: the Schedules page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Lists the schedules of a BackupScheduler (given by the window; the page
 * neither starts nor stops it) and changes them. Without a scheduler the
 * page says that scheduled backups are not available; without schedules,
 * an empty state offers "Add Schedule…", or, when no device is paired,
 * "Invite a Device…" ("win.invite-device", which the window provides).
 *
 * Each schedule is a row: its name, then when it runs and where to, its
 * next run ("Next: today at 21:30", "Running now…", "Disabled", a retry
 * after a failure), and what its last run did (when, how much, done or
 * the error). A switch enables it; its menu runs it now, edits it
 * (BackupScheduleDialog) or removes it, with Undo on the toast. The rows
 * follow the scheduler's signals, and the relative times ("today",
 * "tomorrow") the scheduler's clock, at each minute.
 *
 * A run that fails for the first time in a row, and the end of a run
 * asked for with "Back Up Now", are a ::toast.
 *
 * The actions ("s": a schedule's id): "schedules.add", "schedules.run-now",
 * "schedules.edit", "schedules.remove".
 */
#pragma once

#include <adwaita.h>

#include "backup-schedule-dialog.h"
#include "backup-scheduler.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_SCHEDULES_PAGE (backup_schedules_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupSchedulesPage, backup_schedules_page, BACKUP, SCHEDULES_PAGE, AdwBin)

GtkWidget *backup_schedules_page_new (void);

/* The scheduler shown and changed, or NULL: scheduling not available. */
BackupScheduler *backup_schedules_page_get_scheduler (BackupSchedulesPage *self);
void backup_schedules_page_set_scheduler (BackupSchedulesPage *self, BackupScheduler *scheduler);

/* Reads the paired devices and the scheduler's schedules again (the page
 * follows the paired devices file and the scheduler by itself). */
void backup_schedules_page_refresh (BackupSchedulesPage *self);

/* What the page shows: "unavailable", "empty" or "list". */
const char *backup_schedules_page_get_state (BackupSchedulesPage *self);

/* The row of the schedule @id (an AdwActionRow: title, subtitle lines as
 * described above), or NULL. */
AdwActionRow *backup_schedules_page_get_row (BackupSchedulesPage *self, const char *id);

/* The add or edit dialog the page shows, or NULL. */
BackupScheduleDialog *backup_schedules_page_get_dialog (BackupSchedulesPage *self);

G_END_DECLS
