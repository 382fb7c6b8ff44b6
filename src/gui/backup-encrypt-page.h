/* backup-encrypt-page.h: the Encrypt page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes the two zip passwords of a folder backup into a password file
 * (BackupVault). Each password is asked twice, its strength is shown, and
 * saving is possible once both are confirmed; the save dialog opens in the
 * user's configuration folder. Messages for the user are emitted as
 * ::toast; a file written is announced with ::password-file-saved.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_ENCRYPT_PAGE (backup_encrypt_page_get_type ())
G_DECLARE_FINAL_TYPE (BackupEncryptPage, backup_encrypt_page, BACKUP, ENCRYPT_PAGE, AdwBin)

GtkWidget *backup_encrypt_page_new (void);

/* Writes the passwords shown into @file, as choosing @file in the "Save
 * Password File" dialog does. The result is a toast; on success the
 * password fields are cleared and ::password-file-saved is emitted. */
void backup_encrypt_page_write_password_file (BackupEncryptPage *self, GFile *file);
/* TRUE while a password file is being written. */
gboolean backup_encrypt_page_get_writing (BackupEncryptPage *self);

G_END_DECLS
