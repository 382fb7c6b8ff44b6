/* backup-window-private.h: what the window's tests reach
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-devices-page.h"
#include "backup-encrypt-page.h"
#include "backup-history-page.h"
#include "backup-receive-page.h"
#include "backup-send-page.h"
#include "backup-window.h"

G_BEGIN_DECLS

BackupSendPage *backup_window_get_send_page (BackupWindow *self);
BackupReceivePage *backup_window_get_receive_page (BackupWindow *self);
BackupEncryptPage *backup_window_get_encrypt_page (BackupWindow *self);
BackupHistoryPage *backup_window_get_history_page (BackupWindow *self);
BackupDevicesPage *backup_window_get_devices_page (BackupWindow *self);

/* The text of the last toast shown, or NULL. */
const char *backup_window_get_last_toast (BackupWindow *self);

/* What receives drops on the window. */
GtkDropTarget *backup_window_get_drop_target (BackupWindow *self);
/* The question asked before a running backup is stopped, while shown. */
GtkWidget *backup_window_get_stop_dialog (BackupWindow *self);

G_END_DECLS
