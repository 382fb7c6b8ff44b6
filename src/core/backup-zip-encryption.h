/* backup-zip-encryption.h: the ciphers of the double zip
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * BackupZipEncryption:
 * @BACKUP_ZIP_ENCRYPTION_AES256: WinZip AE-2, AES-256 (the default)
 * @BACKUP_ZIP_ENCRYPTION_AES128: WinZip AE-2, AES-128
 * @BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO: traditional PKWARE encryption, for old tools
 *
 * The cipher used at both levels of the double zip. A level whose password
 * is empty is not encrypted at all.
 */
typedef enum
{
  BACKUP_ZIP_ENCRYPTION_AES256,
  BACKUP_ZIP_ENCRYPTION_AES128,
  BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO,
} BackupZipEncryption;

G_END_DECLS
