/* backup-zip-cipher.h: the ciphers of zip entries, on whole buffers
 *
 * WinZip AES (AE-2): the key, the HMAC key and a 2-byte password verifier
 * come from PBKDF2-HMAC-SHA1 (1000 iterations) over the password and a
 * random salt; the data is encrypted with AES in counter mode (a 128-bit
 * little-endian counter starting at 1) and authenticated by the first 10
 * bytes of HMAC-SHA1 over the ciphertext. The entry's data is the salt, the
 * verifier, the ciphertext and the authentication code.
 *
 * Traditional PKWARE encryption ("ZipCrypto"): three 32-bit keys updated
 * by every plaintext byte; the entry's data starts with a 12-byte header.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <nettle/aes.h>
#include <nettle/hmac.h>

#include "backup-zip-encryption.h"

G_BEGIN_DECLS

#define BACKUP_ZIP_AES_MAX_SALT_LEN 16
#define BACKUP_ZIP_AES_VERIFIER_LEN 2
#define BACKUP_ZIP_AES_MAC_LEN 10
/* Key stream computed at once: counter blocks encrypted in one call. */
#define BACKUP_ZIP_AES_STREAM_LEN (16 * 1024)

typedef struct
{
  union
  {
    struct aes128_ctx aes128;
    struct aes256_ctx aes256;
  } key;
  gboolean is_256;
  struct hmac_sha1_ctx hmac;
  guint64 counter;  /* of the next counter block */
  gsize stream_pos; /* bytes of @stream already used */
  guint8 stream[BACKUP_ZIP_AES_STREAM_LEN];
} BackupZipAes;

/* 8 for AES-128, 16 for AES-256. */
gsize backup_zip_aes_salt_len (BackupZipEncryption encryption);

/* 1 for AES-128, 3 for AES-256: the strength byte of the 0x9901 extra field. */
guint8 backup_zip_aes_strength (BackupZipEncryption encryption);

/* Derives the keys from @password (@password_len bytes) and @salt
 * (backup_zip_aes_salt_len() bytes); writes the password verifier. */
void backup_zip_aes_init (BackupZipAes *aes, BackupZipEncryption encryption, const guint8 *password,
                          gsize password_len, const guint8 *salt,
                          guint8 verifier[BACKUP_ZIP_AES_VERIFIER_LEN]);

/* Encrypts @data in place and adds the ciphertext to the authentication code. */
void backup_zip_aes_encrypt (BackupZipAes *aes, guint8 *data, gsize len);

/* The authentication code of everything encrypted; then clears @aes. */
void backup_zip_aes_finish (BackupZipAes *aes, guint8 mac[BACKUP_ZIP_AES_MAC_LEN]);

/* Wipes the keys. */
void backup_zip_aes_clear (BackupZipAes *aes);

#define BACKUP_ZIP_TRADITIONAL_HEADER_LEN 12

typedef struct
{
  guint32 keys[3];
} BackupZipTraditional;

void backup_zip_traditional_init (BackupZipTraditional *zc, const guint8 *password,
                                  gsize password_len);

/* Encrypts @data in place. */
void backup_zip_traditional_encrypt (BackupZipTraditional *zc, guint8 *data, gsize len);

void backup_zip_traditional_clear (BackupZipTraditional *zc);

G_END_DECLS
