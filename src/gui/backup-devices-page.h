/* backup-devices-page.h: the Devices page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The paired devices (name, certificate fingerprint, how they are reached,
 * when they were paired), each with Forget (asked first); this device's
 * own name and fingerprint, to compare with what the other computer shows;
 * and the three ways to pair another one (nearby, an invitation link, a
 * link received). It follows paired.conf, so a pairing or an unpairing
 * made elsewhere (another window, a terminal) shows at once. Signals:
 * "toast" (an AdwToast to show).
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_DEVICES_PAGE (backup_devices_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupDevicesPage, backup_devices_page, BACKUP, DEVICES_PAGE, AdwBin)

GtkWidget *backup_devices_page_new (void);

/* Reads the devices file again (done by itself when it changes). */
void backup_devices_page_reload (BackupDevicesPage *self);

/* For tests: the rows of the paired devices, in order. */
GList *backup_devices_page_get_device_rows (BackupDevicesPage *self);

/* For tests: asks to forget the device named @name, as its Forget button
 * does; returns the question (owned by GTK). */
GtkWindow *backup_devices_page_ask_forget (BackupDevicesPage *self, const char *name);

G_END_DECLS
