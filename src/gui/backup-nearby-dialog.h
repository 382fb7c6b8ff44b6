/* backup-nearby-dialog.h: pairing with a computer of the local network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * "Pair With a Device Nearby": while the window is open, this computer is
 * visible to the devices of the local network as ready to pair (it offers
 * its own signaling server and announces it, backup-nearby.h), and lists
 * the devices that are ready too. Choosing one asks it to pair; a device
 * that chose this one asks here. Both then show the same verification code
 * ("Pair With “NAME”?", the code in large digits, the other's certificate
 * fingerprint) and pair only when both users press Pair. The result is a
 * toast naming the device paired, or a dialog with the error; closing the
 * window stops everything, nothing stored.
 */
#pragma once

#include "backup-window.h"

G_BEGIN_DECLS

/* Shows the window, transient for @window; returns it (owned by GTK), for
 * tests. */
GtkWindow *backup_nearby_dialog_show (BackupWindow *window, GSettings *settings);

G_END_DECLS
