/* backup-vault.h: the password file of encryption mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A password file holds the two zip passwords of a backup: password 1 for the
 * inner archive, password 2 for the outer one. Each password is at most
 * BACKUP_VAULT_MAX_PASSWORD (255) bytes and contains no NUL byte: both formats
 * store its length in one byte.
 *
 * Format 1 (written by this program; all offsets in bytes):
 *
 *   0 .. 6     magic, the 7 ASCII bytes "DBVAULT"
 *   7          format version, 0x01
 *   8 .. 23    IV, 16 random bytes
 *   24 .. E-1  ciphertext: AES-256-CBC under the encryption key and the IV of
 *              the plaintext  len(p1) p1 len(p2) p2  (one-byte lengths),
 *              PKCS#7 padded to a multiple of 16 (16 .. 528 bytes)
 *   E .. E+31  HMAC-SHA256 under the authentication key of bytes 0 .. E-1
 *              (magic, version, IV and ciphertext: encrypt-then-MAC)
 *
 * The file is therefore 72 + 16·k bytes long (k = 0 .. 32); its size modulo 16
 * is 8, while a file of the original tool is a multiple of 16.
 *
 * Keys: a per-user secret of 32 random bytes (the key file). With
 * PRK = HKDF-Extract (salt = "distributed-backup vault 1", IKM = secret), the
 * encryption key is HKDF-Expand (PRK, "encryption", 32) and the
 * authentication key is HKDF-Expand (PRK, "authentication", 32), both
 * HKDF-SHA256 (RFC 5869).
 *
 * The key file is, in order of precedence: the @key_file argument (the
 * --vault-key option), the path in the environment variable
 * DISTRIBUTED_BACKUP_VAULT_KEY, or $XDG_CONFIG_HOME/distributed-backup/vault.key.
 * It is created on the first write (mode 0600, its directory 0700) and must
 * hold exactly 32 bytes and be readable by its owner only.
 *
 * Reading checks the MAC in constant time before decrypting anything. Files of
 * the original tool (no header, AES-128-CBC under a key and IV built into that
 * tool, same plaintext layout) are read too; they are accepted only when their
 * size is a multiple of 16, their padding is valid and the two lengths fill
 * the plaintext exactly. Anything else is BACKUP_ERROR_CORRUPT.
 *
 * A password file is written atomically (a temporary file in the same
 * directory, synced, then renamed) with mode 0600.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_VAULT_MAX_PASSWORD 255
#define BACKUP_VAULT_KEY_SIZE 32
#define BACKUP_VAULT_KEY_ENV "DISTRIBUTED_BACKUP_VAULT_KEY"

/* The key file that backup_vault_write() and backup_vault_read() use for
 * @key_file (NULL for the default). */
char *backup_vault_dup_key_path (const char *key_file);

gboolean backup_vault_write (const char *path,
                             const char *password1,
                             const char *password2,
                             const char *key_file,
                             GError    **error);

gboolean backup_vault_read (const char *path,
                            const char *key_file,
                            char      **password1,
                            char      **password2,
                            GError    **error);

void backup_vault_write_async (const char         *path,
                               const char         *password1,
                               const char         *password2,
                               const char         *key_file,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data);

gboolean backup_vault_write_finish (GAsyncResult *result,
                                    GError      **error);

void backup_vault_read_async (const char         *path,
                              const char         *key_file,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data);

gboolean backup_vault_read_finish (GAsyncResult *result,
                                   char        **password1,
                                   char        **password2,
                                   GError      **error);

/* Overwrites @password with zeros and frees it. */
void backup_vault_password_free (char *password);

G_END_DECLS
