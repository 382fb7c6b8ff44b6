/* backup-pair-dialog.h: pairing with the computer that made an invitation
 * link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening a "distributed-backup:pair?…" link (the desktop file registers the
 * scheme, so a click in a browser or a chat does it, as does
 * "distributed-backup LINK") asks first: "Pair With “NAME”?", with the
 * inviting computer's certificate fingerprint. Once confirmed, this
 * computer joins the pairing as the command line's --pair does (this
 * device's certificate, the ICE settings of the preferences, the link's
 * signaling location and the API key of this session), showing a dialog
 * with Cancel while it waits; the result is a toast naming the paired
 * device, or a dialog with the whole error. A link that is not one says
 * why in a dialog. The other way round, this computer invites: it shows a
 * link for the other computer to open, and waits.
 */
#pragma once

#include "backup-window.h"

G_BEGIN_DECLS

/* The URI scheme of invitation links. */
#define BACKUP_PAIR_SCHEME "distributed-backup"

void backup_pair_dialog_open (BackupWindow *window,
                              GSettings *settings,
                              const char *api_key,
                              const char *link);

/* Invites another computer: makes a link (this device's certificate, a
 * fresh secret, the signaling location of @settings, FILE.io when only an
 * API key is set), shows it with its fingerprint and a Copy Link button
 * while it waits for the other computer (with Cancel, for two minutes),
 * and ends as backup_pair_dialog_open() does: a toast naming the device
 * paired, or the error. */
void backup_pair_dialog_invite (BackupWindow *window, GSettings *settings, const char *api_key);

/* Asks for a link to paste, then backup_pair_dialog_open() with it. */
void backup_pair_dialog_ask_link (BackupWindow *window, GSettings *settings, const char *api_key);

G_END_DECLS
