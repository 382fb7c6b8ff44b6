/* backup-device-row.h: a row to choose the other computer of a backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An AdwComboRow listing "By Session ID" (the original
 * tool's way: a session id typed on both machines) and then each paired
 * device, by name. It follows the paired devices file as it changes (a
 * pairing, an unpairing, another process): a chosen device that goes away
 * is unchosen. A file that cannot be read leaves only the first choice, and
 * the row says why. When the first device is paired while the row is
 * shown (none before, none chosen), it is chosen.
 */
#pragma once

#include <adwaita.h>

#include "backup-device.h"

G_BEGIN_DECLS

#define BACKUP_TYPE_DEVICE_ROW (backup_device_row_get_type ())
G_DECLARE_FINAL_TYPE (BackupDeviceRow, backup_device_row, BACKUP, DEVICE_ROW, AdwComboRow)

GtkWidget *backup_device_row_new (void);

/* The name of the device chosen, or NULL for "any computer with the
 * session id". Setting a name that is not paired chooses the latter. */
const char *backup_device_row_get_device (BackupDeviceRow *self);
void backup_device_row_set_device (BackupDeviceRow *self, const char *name);

/* How many devices are paired ("n-devices", notified when it changes). */
guint backup_device_row_get_n_devices (BackupDeviceRow *self);

/* The device chosen, as the paired devices file said when last read, or
 * NULL. */
const BackupDevice *backup_device_row_get_device_info (BackupDeviceRow *self);

/* Reads the paired devices file again (it is also followed by a monitor). */
void backup_device_row_reload (BackupDeviceRow *self);

G_END_DECLS
