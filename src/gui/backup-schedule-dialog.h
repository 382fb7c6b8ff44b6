/* backup-schedule-dialog.h: adding or changing a scheduled backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A modal window with a name (the source's name until one is typed), the
 * source (a file or a folder, chosen with a GtkFileChooserNative), for a
 * folder an optional password file (the archive is not encrypted without
 * one), the paired device to send to (a BackupDeviceRow: "any computer
 * with the session id" is refused, a schedule needs a paired device), and
 * when: hourly at a minute, daily at a time, or weekly on a day at a time.
 *
 * Save checks the time with the core's parser and the schedule with
 * backup_schedule_validate(), stores it in the scheduler's schedules file
 * (backup_schedule_add() or backup_schedule_update()), reloads the
 * scheduler, emits ::saved with the id and closes. What is wrong is shown
 * in the dialog, in one sentence, and nothing is stored.
 *
 * The action "schedule.save" is Save; Escape closes without saving.
 */
#pragma once

#include <adwaita.h>

#include "backup-scheduler.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_SCHEDULE_DIALOG (backup_schedule_dialog_get_type ())
G_DECLARE_FINAL_TYPE (BackupScheduleDialog, backup_schedule_dialog, BACKUP, SCHEDULE_DIALOG,
                      AdwWindow)

/* A dialog for @scheduler's schedules file, modal on @parent (may be
 * NULL): a new schedule when @schedule is NULL (to the first paired
 * device, daily at the next full hour), else the one of @schedule's id
 * with its values (its id, creation time and enabled flag are kept). */
BackupScheduleDialog *backup_schedule_dialog_new (GtkWindow *parent, BackupScheduler *scheduler,
                                                  const BackupSchedule *schedule);

/* The id of the schedule edited, or NULL for a new one (until saved). */
const char *backup_schedule_dialog_get_id (BackupScheduleDialog *self);

/* Sets the source as choosing it does (a folder when @is_folder); the
 * name follows it unless one was typed. NULL clears it. */
void backup_schedule_dialog_set_source (BackupScheduleDialog *self, GFile *source,
                                        gboolean is_folder);
GFile *backup_schedule_dialog_get_source (BackupScheduleDialog *self);
void backup_schedule_dialog_set_password_file (BackupScheduleDialog *self, GFile *file);

/* Saves as the Save button does; FALSE (and the dialog stays, saying why)
 * when something is wrong. */
gboolean backup_schedule_dialog_save (BackupScheduleDialog *self);
/* The message shown after the last failed save, or NULL. */
const char *backup_schedule_dialog_get_error (BackupScheduleDialog *self);

G_END_DECLS
