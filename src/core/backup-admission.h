/* backup-admission.h: how many backups a receiver lets in at once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One BackupAdmission is shared by the sessions of a receiver that serves
 * several senders (BackupReceiverPool): a session takes a slot when its
 * sender's header arrives, before any content, and gives it back when its
 * run ends. Sessions that find every slot taken wait in the order they
 * came; a waiting session whose run ends (cancelled, its peer gone) leaves
 * the queue. Main thread only.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_ADMISSION_MAX 1000

#define BACKUP_TYPE_ADMISSION (backup_admission_get_type ())
G_DECLARE_FINAL_TYPE (BackupAdmission, backup_admission, BACKUP, ADMISSION, GObject)

/* @max_slots: 1 to BACKUP_ADMISSION_MAX. */
BackupAdmission *backup_admission_new (guint max_slots);

guint backup_admission_get_max_slots (BackupAdmission *self);
/* Slots taken, and sessions waiting for one. */
guint backup_admission_get_active (BackupAdmission *self);
guint backup_admission_get_waiting (BackupAdmission *self);

/* Takes a slot now if one is free. */
gboolean backup_admission_try_acquire (BackupAdmission *self);

/* Takes a slot once one is free (first come, first served); fails only
 * with G_IO_ERROR_CANCELLED. */
void backup_admission_acquire_async (BackupAdmission *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean backup_admission_acquire_finish (BackupAdmission *self,
                                          GAsyncResult *result,
                                          GError **error);

/* Gives a slot back: the first session waiting gets it. */
void backup_admission_release (BackupAdmission *self);

G_END_DECLS
