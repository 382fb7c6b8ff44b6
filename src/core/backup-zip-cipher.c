/* backup-zip-cipher.c: the ciphers of zip entries, on whole buffers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <nettle/memxor.h>
#include <nettle/sha1.h>
#include <string.h>

#include "backup-zip-cipher.h"

#define AES_ITERATIONS 1000
#define AES_BLOCK 16

G_STATIC_ASSERT (BACKUP_ZIP_AES_STREAM_LEN % AES_BLOCK == 0);

gsize
backup_zip_aes_salt_len (BackupZipEncryption encryption)
{
  return encryption == BACKUP_ZIP_ENCRYPTION_AES128 ? 8 : 16;
}

guint8
backup_zip_aes_strength (BackupZipEncryption encryption)
{
  return encryption == BACKUP_ZIP_ENCRYPTION_AES128 ? 1 : 3;
}

/* ------------------------------------------------------------------------ */
/* PBKDF2-HMAC-SHA1
 *
 * Every message that HMAC hashes here after the first is one SHA-1 output
 * (20 bytes), so each of the 2 × 1000 hashes per output block is a single
 * compression of a block whose padding never changes, from the state left
 * by the key's inner or outer pad. */

typedef struct
{
  guint32 inner[5]; /* SHA-1 state after (key XOR ipad) */
  guint32 outer[5]; /* SHA-1 state after (key XOR opad) */
} HmacPads;

static const guint32 sha1_iv[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };

static void
hmac_pads_init (HmacPads *pads, const guint8 *key, gsize key_len)
{
  guint8 digest[SHA1_DIGEST_SIZE];
  guint8 block[SHA1_BLOCK_SIZE];

  if (key_len > SHA1_BLOCK_SIZE)
    {
      struct sha1_ctx ctx;

      sha1_init (&ctx);
      sha1_update (&ctx, key_len, key);
      sha1_digest (&ctx, sizeof digest, digest);
      key = digest;
      key_len = sizeof digest;
    }
  memset (block, 0x36, sizeof block);
  for (gsize i = 0; i < key_len; i++)
    block[i] ^= key[i];
  memcpy (pads->inner, sha1_iv, sizeof sha1_iv);
  nettle_sha1_compress (pads->inner, block);
  memset (block, 0x5c, sizeof block);
  for (gsize i = 0; i < key_len; i++)
    block[i] ^= key[i];
  memcpy (pads->outer, sha1_iv, sizeof sha1_iv);
  nettle_sha1_compress (pads->outer, block);
  explicit_bzero (block, sizeof block);
  explicit_bzero (digest, sizeof digest);
}

/* A final block holding @len (< 56) bytes after one 64-byte block. */
static void
block_init (guint8 block[SHA1_BLOCK_SIZE], const guint8 *message, gsize len)
{
  guint64 bits = (SHA1_BLOCK_SIZE + len) * 8;

  memset (block, 0, SHA1_BLOCK_SIZE);
  memcpy (block, message, len);
  block[len] = 0x80;
  for (int i = 0; i < 8; i++)
    block[SHA1_BLOCK_SIZE - 1 - i] = (bits >> (8 * i)) & 0xff;
}

static void
state_to_bytes (const guint32 state[5], guint8 *out)
{
  for (int i = 0; i < 5; i++)
    {
      guint32 be = GUINT32_TO_BE (state[i]);

      memcpy (out + 4 * i, &be, 4);
    }
}

/* HMAC of the message whose final block is @inner_block; the result also
 * goes into the first 20 bytes of @outer_block. */
static void
hmac_block (const HmacPads *pads, const guint8 *inner_block, guint8 *outer_block, guint8 *out)
{
  guint32 state[5];

  memcpy (state, pads->inner, sizeof state);
  nettle_sha1_compress (state, inner_block);
  state_to_bytes (state, outer_block);
  memcpy (state, pads->outer, sizeof state);
  nettle_sha1_compress (state, outer_block);
  state_to_bytes (state, out);
}

static void
pbkdf2_hmac_sha1_short (const guint8 *password, gsize password_len, const guint8 *salt,
                        gsize salt_len, unsigned iterations, guint8 *out, gsize out_len)
{
  HmacPads pads;
  guint8 inner_block[SHA1_BLOCK_SIZE];
  guint8 outer_block[SHA1_BLOCK_SIZE];
  guint8 u[SHA1_DIGEST_SIZE], t[SHA1_DIGEST_SIZE], first[BACKUP_ZIP_AES_MAX_SALT_LEN + 4];

  g_assert (salt_len <= BACKUP_ZIP_AES_MAX_SALT_LEN);
  hmac_pads_init (&pads, password, password_len);
  /* The outer hash's message is always an inner result. */
  memset (u, 0, sizeof u);
  block_init (outer_block, u, sizeof u);

  for (guint32 index = 1; out_len > 0; index++)
    {
      gsize n = MIN (out_len, sizeof t);

      /* U1 = HMAC (salt || index), then Uj = HMAC (Uj-1). */
      memcpy (first, salt, salt_len);
      first[salt_len] = index >> 24;
      first[salt_len + 1] = (index >> 16) & 0xff;
      first[salt_len + 2] = (index >> 8) & 0xff;
      first[salt_len + 3] = index & 0xff;
      block_init (inner_block, first, salt_len + 4);
      hmac_block (&pads, inner_block, outer_block, u);
      memcpy (t, u, sizeof t);
      block_init (inner_block, u, sizeof u);
      for (unsigned j = 1; j < iterations; j++)
        {
          hmac_block (&pads, inner_block, outer_block, inner_block);
          memxor (t, inner_block, sizeof t);
        }
      memcpy (out, t, n);
      out += n;
      out_len -= n;
    }

  explicit_bzero (&pads, sizeof pads);
  explicit_bzero (inner_block, sizeof inner_block);
  explicit_bzero (outer_block, sizeof outer_block);
  explicit_bzero (u, sizeof u);
  explicit_bzero (t, sizeof t);
}

void
backup_zip_aes_init (BackupZipAes *aes, BackupZipEncryption encryption, const guint8 *password,
                     gsize password_len, const guint8 *salt,
                     guint8 verifier[BACKUP_ZIP_AES_VERIFIER_LEN])
{
  gboolean is_256 = encryption != BACKUP_ZIP_ENCRYPTION_AES128;
  gsize key_len = is_256 ? AES256_KEY_SIZE : AES128_KEY_SIZE;
  guint8 derived[2 * AES256_KEY_SIZE + BACKUP_ZIP_AES_VERIFIER_LEN];

  g_return_if_fail (encryption != BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO);

  pbkdf2_hmac_sha1_short (password, password_len, salt, backup_zip_aes_salt_len (encryption),
                          AES_ITERATIONS, derived, 2 * key_len + BACKUP_ZIP_AES_VERIFIER_LEN);

  aes->is_256 = is_256;
  if (is_256)
    aes256_set_encrypt_key (&aes->key.aes256, derived);
  else
    aes128_set_encrypt_key (&aes->key.aes128, derived);
  hmac_sha1_set_key (&aes->hmac, key_len, derived + key_len);
  memcpy (verifier, derived + 2 * key_len, BACKUP_ZIP_AES_VERIFIER_LEN);
  aes->counter = 1;
  aes->stream_pos = sizeof aes->stream;

  explicit_bzero (derived, sizeof derived);
}

/* The next BACKUP_ZIP_AES_STREAM_LEN bytes of key stream: the counter
 * blocks, little-endian, encrypted in one call. */
static void
aes_refill (BackupZipAes *aes)
{
  guint8 *block = aes->stream;

  for (gsize i = 0; i < sizeof aes->stream / AES_BLOCK; i++, block += AES_BLOCK)
    {
      guint64 le = GUINT64_TO_LE (aes->counter);

      aes->counter++;
      memcpy (block, &le, 8);
      memset (block + 8, 0, 8);
    }
  if (aes->is_256)
    aes256_encrypt (&aes->key.aes256, sizeof aes->stream, aes->stream, aes->stream);
  else
    aes128_encrypt (&aes->key.aes128, sizeof aes->stream, aes->stream, aes->stream);
  aes->stream_pos = 0;
}

void
backup_zip_aes_encrypt (BackupZipAes *aes, guint8 *data, gsize len)
{
  while (len > 0)
    {
      gsize n;

      if (aes->stream_pos == sizeof aes->stream)
        aes_refill (aes);
      n = MIN (len, sizeof aes->stream - aes->stream_pos);
      memxor (data, aes->stream + aes->stream_pos, n);
      hmac_sha1_update (&aes->hmac, n, data);
      aes->stream_pos += n;
      data += n;
      len -= n;
    }
}

void
backup_zip_aes_finish (BackupZipAes *aes, guint8 mac[BACKUP_ZIP_AES_MAC_LEN])
{
  hmac_sha1_digest (&aes->hmac, BACKUP_ZIP_AES_MAC_LEN, mac);
  backup_zip_aes_clear (aes);
}

void
backup_zip_aes_clear (BackupZipAes *aes)
{
  explicit_bzero (aes, sizeof *aes);
}

/* ------------------------------------------------------------------------ */
/* Traditional PKWARE encryption */

/* The CRC-32 table (reflected polynomial 0xEDB88320), for the key updates. */
static guint32 crc_table[256];

static gpointer
crc_table_init (gpointer data)
{
  for (guint32 n = 0; n < 256; n++)
    {
      guint32 c = n;

      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[n] = c;
    }
  return NULL;
}

static inline guint32
crc_step (guint32 crc, guint8 byte)
{
  return crc_table[(crc ^ byte) & 0xff] ^ (crc >> 8);
}

static inline void
traditional_update (guint32 keys[3], guint8 plain)
{
  keys[0] = crc_step (keys[0], plain);
  keys[1] = (keys[1] + (keys[0] & 0xff)) * 134775813u + 1;
  keys[2] = crc_step (keys[2], keys[1] >> 24);
}

void
backup_zip_traditional_init (BackupZipTraditional *zc, const guint8 *password, gsize password_len)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, crc_table_init, NULL);
  zc->keys[0] = 0x12345678u;
  zc->keys[1] = 0x23456789u;
  zc->keys[2] = 0x34567890u;
  for (gsize i = 0; i < password_len; i++)
    traditional_update (zc->keys, password[i]);
}

void
backup_zip_traditional_encrypt (BackupZipTraditional *zc, guint8 *data, gsize len)
{
  guint32 k[3] = { zc->keys[0], zc->keys[1], zc->keys[2] };

  for (gsize i = 0; i < len; i++)
    {
      guint32 t = (k[2] | 2) & 0xffff;
      guint8 plain = data[i];

      data[i] = plain ^ (guint8)((t * (t ^ 1)) >> 8);
      traditional_update (k, plain);
    }
  memcpy (zc->keys, k, sizeof k);
  explicit_bzero (k, sizeof k);
}

void
backup_zip_traditional_clear (BackupZipTraditional *zc)
{
  explicit_bzero (zc, sizeof *zc);
}
