/* backup-zip-random.h: reproducible salts for an archive written again
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The salts of WinZip AES entries and the random header bytes of ZipCrypto
 * entries come from backup_zip_random_bytes(): in a thread that called
 * backup_zip_random_begin(), the bytes come from HMAC-SHA-256 in counter
 * mode under the given key and label, so the same archive written again
 * from an unchanged tree with the same key is the same, byte for byte (an
 * interrupted transfer resumes where it stopped). In every other thread,
 * and in all threads when no key is set, they come from getrandom(2).
 *
 * The key must be a fresh random secret for each archive's content: the
 * same salt over different content would encrypt two plaintexts with one
 * key stream.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BACKUP_ZIP_RANDOM_KEY_LEN 32

/* Until backup_zip_random_end(), this thread's backup_zip_random_bytes() are
 * derived from @key and @label. */
void backup_zip_random_begin (const guint8 key[BACKUP_ZIP_RANDOM_KEY_LEN], const char *label);
void backup_zip_random_end (void);

/* Fills @buffer with salt bytes: derived (see above) or from the kernel. */
void backup_zip_random_bytes (void *buffer, gsize length);

/* Fills @buffer with bytes from the kernel's generator. */
void backup_zip_random_system (void *buffer, gsize length);

G_END_DECLS
