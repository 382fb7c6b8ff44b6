/* backup-zip-output.c: writes one zip archive as a stream
 *
 * The layout of each entry:
 *   - folders and symbolic links: stored, never encrypted, sizes and CRC in
 *     the local header (a link's data is its target);
 *   - empty files: the same;
 *   - other regular files: stored or deflated, then encrypted, and followed
 *     by a data descriptor (WinZip AES entries are AE-2: CRC 0).
 * An entry whose size is unknown or may reach 4 GiB gets a Zip64 extra
 * field in its local header and 8-byte sizes in its data descriptor; the
 * central directory uses Zip64 fields only for the values that need them.
 * Each header carries the modification time (0x5455) and the owner
 * (0x7875) as Info-ZIP writes them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "backup-zip-cipher.h"
#include "backup-zip-output.h"
#include "backup-zip-random.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END64 0x06064b50u
#define SIG_END64_LOCATOR 0x07064b50u
#define SIG_END 0x06054b50u

#define FLAG_ENCRYPTED 0x0001
#define FLAG_DESCRIPTOR 0x0008
#define FLAG_UTF8 0x0800

#define METHOD_STORE 0
#define METHOD_DEFLATE 8
#define METHOD_AES 99

#define VERSION_DEFAULT 20
#define VERSION_ZIP64 45
#define MADE_BY_UNIX 0x0300

#define EXTRA_ZIP64 0x0001
#define EXTRA_TIME 0x5455
#define EXTRA_UNIX 0x7875
#define EXTRA_AES 0x9901
#define AES_VENDOR_AE_1 1 /* with the CRC */
#define AES_VENDOR_AE_2 2 /* CRC 0 */

#define MAX32 G_GUINT64_CONSTANT (0xffffffff)
/* An entry announced at least this large gets Zip64 sizes: deflate and the
 * encryption header may add a little to it. */
#define ZIP64_THRESHOLD G_GINT64_CONSTANT (0xff000000)

#define DEFLATE_LEVEL 6

typedef enum
{
  CIPHER_NONE,
  CIPHER_AES,
  CIPHER_TRADITIONAL,
} Cipher;

struct _BackupZipOutput
{
  BackupZipEncryption encryption;
  guint8 *password; /* NULL: no encryption */
  gsize password_len;

  BackupZipFlushFunc flush;
  gpointer user_data;
  guint8 *buffer;
  gsize size;
  gsize len;
  gboolean failed;
  guint64 offset; /* of the next byte written */

  GByteArray *header;  /* scratch for one header */
  GByteArray *central; /* the central directory so far */
  guint64 n_entries;

  z_stream zs;
  gboolean zs_ready;
  BackupZipAes *aes;
  gboolean aes_stored_crc; /* AE-1 for stored entries */
  BackupZipDeferFunc defer;
  gpointer defer_data;
  gint64 defer_max_size;
  BackupZipTraditional traditional;

  /* The regular file being written */
  gboolean in_entry;
  char *name;
  guint32 mode;
  gint64 mtime;
  guint32 uid;
  guint32 gid;
  guint16 flags;
  guint16 method; /* of the data, under the encryption */
  guint16 dos_time;
  guint16 dos_date;
  Cipher cipher;
  gboolean deferred; /* AES left to backup_zip_deferred_apply() */
  gboolean with_crc;
  gboolean descriptor;
  gboolean zip64;
  gint64 announced;
  gboolean deflated; /* given deflated already */
  guint32 crc;
  guint64 usize;
  guint64 local_offset;
  guint64 data_offset;
};

/* ------------------------------------------------------------------------ */
/* Little-endian fields */

static void
put16 (GByteArray *a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (a, b, 4);
}

static void
put64 (GByteArray *a, guint64 v)
{
  put32 (a, (guint32)(v & MAX32));
  put32 (a, (guint32)(v >> 32));
}

/* ------------------------------------------------------------------------ */
/* The buffer */

static gboolean
out_flush (BackupZipOutput *out)
{
  guint8 *next;

  if (out->failed)
    return FALSE;
  if (out->len == 0)
    return TRUE;
  next = out->flush (out->buffer, out->len, out->user_data);
  if (next == NULL)
    {
      out->failed = TRUE;
      out->buffer = NULL;
      return FALSE;
    }
  out->buffer = next;
  out->len = 0;
  return TRUE;
}

/* Encrypts the @n bytes at the end of the buffer, or has them encrypted later. */
static void
out_encrypt (BackupZipOutput *out, gsize n)
{
  guint8 *p = out->buffer + out->len;

  if (n == 0)
    return;
  if (out->cipher == CIPHER_AES && out->deferred)
    {
      BackupZipDeferred op = { BACKUP_ZIP_DEFERRED_DATA, out->len, n };

      out->defer (&op, out->defer_data);
    }
  else if (out->cipher == CIPHER_AES)
    backup_zip_aes_encrypt (out->aes, p, n);
  else if (out->cipher == CIPHER_TRADITIONAL)
    backup_zip_traditional_encrypt (&out->traditional, p, n);
}

/* Appends @data, encrypted with the entry's cipher when @encrypt. */
static gboolean
out_put (BackupZipOutput *out, const guint8 *data, gsize len, gboolean encrypt)
{
  if (out->failed)
    return FALSE;
  while (len > 0)
    {
      gsize n;

      if (out->len == out->size && !out_flush (out))
        return FALSE;
      n = MIN (len, out->size - out->len);
      memcpy (out->buffer + out->len, data, n);
      if (encrypt)
        out_encrypt (out, n);
      out->len += n;
      out->offset += n;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Encrypts and counts the @n bytes that deflate just added to the buffer. */
static void
out_commit_deflated (BackupZipOutput *out, gsize n)
{
  out_encrypt (out, n);
  out->len += n;
  out->offset += n;
}

/* Makes room for @len bytes that must not be split between two buffers. */
static gboolean
out_reserve (BackupZipOutput *out, gsize len)
{
  g_assert (len <= out->size);
  return out->size - out->len >= len || out_flush (out);
}

static void
out_defer (BackupZipOutput *out, BackupZipDeferredKind kind, gsize len)
{
  BackupZipDeferred op = { kind, out->len, len };

  out->defer (&op, out->defer_data);
}

/* ------------------------------------------------------------------------ */

BackupZipOutput *
backup_zip_output_new (BackupZipEncryption encryption, const char *password, guint8 *buffer,
                       gsize buffer_size, BackupZipFlushFunc flush, gpointer user_data)
{
  BackupZipOutput *out;

  g_return_val_if_fail (buffer != NULL && buffer_size > 0 && flush != NULL, NULL);

  out = g_new0 (BackupZipOutput, 1);
  out->encryption = encryption;
  if (password != NULL && *password != '\0')
    {
      out->password_len = strlen (password);
      out->password = g_memdup2 (password, out->password_len);
    }
  out->buffer = buffer;
  out->size = buffer_size;
  out->flush = flush;
  out->user_data = user_data;
  out->header = g_byte_array_new ();
  out->central = g_byte_array_new ();
  return out;
}

void
backup_zip_output_free (BackupZipOutput *out)
{
  if (out == NULL)
    return;
  if (out->password != NULL)
    explicit_bzero (out->password, out->password_len);
  g_free (out->password);
  if (out->aes != NULL)
    backup_zip_aes_clear (out->aes);
  g_free (out->aes);
  backup_zip_traditional_clear (&out->traditional);
  if (out->zs_ready)
    deflateEnd (&out->zs);
  g_byte_array_unref (out->header);
  g_byte_array_unref (out->central);
  g_free (out->name);
  g_free (out);
}

void
backup_zip_output_set_aes_stored_crc (BackupZipOutput *out, gboolean with_crc)
{
  out->aes_stored_crc = with_crc;
}

void
backup_zip_output_defer_aes (BackupZipOutput *out, gint64 max_size, BackupZipDeferFunc func,
                             gpointer user_data)
{
  out->defer = func;
  out->defer_data = user_data;
  out->defer_max_size = max_size;
}

void
backup_zip_deferred_apply (BackupZipAes *aes, BackupZipEncryption encryption, const char *password,
                           guint8 *buffer, const BackupZipDeferred *op)
{
  gsize salt_len = backup_zip_aes_salt_len (encryption);

  switch (op->kind)
    {
    case BACKUP_ZIP_DEFERRED_BEGIN:
      g_return_if_fail (op->len == salt_len + BACKUP_ZIP_AES_VERIFIER_LEN);
      backup_zip_aes_init (aes, encryption, (const guint8 *)password, strlen (password),
                           buffer + op->offset, buffer + op->offset + salt_len);
      break;
    case BACKUP_ZIP_DEFERRED_DATA:
      backup_zip_aes_encrypt (aes, buffer + op->offset, op->len);
      break;
    case BACKUP_ZIP_DEFERRED_END:
      g_return_if_fail (op->len == BACKUP_ZIP_AES_MAC_LEN);
      backup_zip_aes_finish (aes, buffer + op->offset);
      break;
    default:
      g_return_if_reached ();
    }
}

guint64
backup_zip_output_get_offset (BackupZipOutput *out)
{
  return out->offset;
}

/* MS-DOS date and time, local time, clamped to the years 1980-2107. */
static void
dos_date_time (gint64 mtime, guint16 *dos_time, guint16 *dos_date)
{
  time_t t = (time_t)mtime;
  struct tm tm;

  if (localtime_r (&t, &tm) == NULL || tm.tm_year < 80)
    {
      *dos_date = (1 << 5) | 1;
      *dos_time = 0;
      return;
    }
  if (tm.tm_year > 207)
    {
      *dos_date = (127 << 9) | (12 << 5) | 31;
      *dos_time = (23 << 11) | (59 << 5) | 29;
      return;
    }
  *dos_date = (guint16)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  *dos_time = (guint16)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
}

static gboolean
is_ascii (const char *s)
{
  for (; *s; s++)
    if ((guchar)*s >= 0x80)
      return FALSE;
  return TRUE;
}

/* The extra fields that local and central headers share. */
static void
put_common_extra (BackupZipOutput *out, GByteArray *a)
{
  if (out->mtime >= G_MININT32 && out->mtime <= G_MAXINT32)
    {
      put16 (a, EXTRA_TIME);
      put16 (a, 5);
      g_byte_array_append (a, (const guint8 *)"\1", 1); /* modification time only */
      put32 (a, (guint32)(gint32)out->mtime);
    }
  put16 (a, EXTRA_UNIX);
  put16 (a, 11);
  g_byte_array_append (a, (const guint8 *)"\1\4", 2); /* version 1, 4-byte uid */
  put32 (a, out->uid);
  g_byte_array_append (a, (const guint8 *)"\4", 1);
  put32 (a, out->gid);
  if (out->cipher == CIPHER_AES)
    {
      put16 (a, EXTRA_AES);
      put16 (a, 7);
      put16 (a, out->with_crc ? AES_VENDOR_AE_1 : AES_VENDOR_AE_2);
      g_byte_array_append (a, (const guint8 *)"AE", 2);
      g_byte_array_append (a, (const guint8[]){ backup_zip_aes_strength (out->encryption) }, 1);
      put16 (a, out->method);
    }
}

static guint16
stored_method (BackupZipOutput *out)
{
  return out->cipher == CIPHER_AES ? METHOD_AES : out->method;
}

static gboolean
write_local_header (BackupZipOutput *out, guint64 csize)
{
  GByteArray *h = out->header;
  gsize name_len = strlen (out->name);
  gsize extra_at;
  gboolean sizes_in_extra = out->zip64;

  g_byte_array_set_size (h, 0);
  put32 (h, SIG_LOCAL);
  put16 (h, out->zip64 ? VERSION_ZIP64 : VERSION_DEFAULT);
  put16 (h, out->flags);
  put16 (h, stored_method (out));
  put16 (h, out->dos_time);
  put16 (h, out->dos_date);
  put32 (h, out->descriptor ? 0 : out->crc);
  if (sizes_in_extra)
    {
      put32 (h, (guint32)MAX32);
      put32 (h, (guint32)MAX32);
    }
  else
    {
      put32 (h, out->descriptor ? 0 : (guint32)csize);
      put32 (h, out->descriptor ? 0 : (guint32)out->announced);
    }
  put16 (h, (guint16)name_len);
  extra_at = h->len;
  put16 (h, 0);
  g_byte_array_append (h, (const guint8 *)out->name, name_len);
  put_common_extra (out, h);
  if (sizes_in_extra)
    {
      put16 (h, EXTRA_ZIP64);
      put16 (h, 16);
      put64 (h, out->descriptor ? 0 : (guint64)out->announced);
      put64 (h, out->descriptor ? 0 : csize);
    }
  h->data[extra_at] = (h->len - extra_at - 2 - name_len) & 0xff;
  h->data[extra_at + 1] = (h->len - extra_at - 2 - name_len) >> 8;
  return out_put (out, h->data, h->len, FALSE);
}

static void
add_central_record (BackupZipOutput *out, guint64 csize)
{
  GByteArray *c = out->central;
  gsize name_len = strlen (out->name);
  gboolean big_usize = out->usize >= MAX32;
  gboolean big_csize = csize >= MAX32;
  gboolean big_offset = out->local_offset >= MAX32;
  gboolean zip64 = big_usize || big_csize || big_offset;
  guint16 version = zip64 || out->zip64 ? VERSION_ZIP64 : VERSION_DEFAULT;
  gsize extra_at;

  put32 (c, SIG_CENTRAL);
  put16 (c, MADE_BY_UNIX | version);
  put16 (c, version);
  put16 (c, out->flags);
  put16 (c, stored_method (out));
  put16 (c, out->dos_time);
  put16 (c, out->dos_date);
  put32 (c, out->crc);
  put32 (c, big_csize ? (guint32)MAX32 : (guint32)csize);
  put32 (c, big_usize ? (guint32)MAX32 : (guint32)out->usize);
  put16 (c, (guint16)name_len);
  extra_at = c->len;
  put16 (c, 0);
  put16 (c, 0); /* comment */
  put16 (c, 0); /* disk */
  put16 (c, 0); /* internal attributes */
  put32 (c, out->mode << 16);
  put32 (c, big_offset ? (guint32)MAX32 : (guint32)out->local_offset);
  g_byte_array_append (c, (const guint8 *)out->name, name_len);
  {
    gsize start = c->len;
    gsize extra_len;

    put_common_extra (out, c);
    if (zip64)
      {
        put16 (c, EXTRA_ZIP64);
        put16 (c, 8 * (big_usize + big_csize + big_offset));
        if (big_usize)
          put64 (c, out->usize);
        if (big_csize)
          put64 (c, csize);
        if (big_offset)
          put64 (c, out->local_offset);
      }
    extra_len = c->len - start;
    c->data[extra_at] = extra_len & 0xff;
    c->data[extra_at + 1] = extra_len >> 8;
  }
  out->n_entries++;
}

static void
entry_reset (BackupZipOutput *out, const BackupZipOutputEntry *entry, const char *suffix)
{
  g_free (out->name);
  out->name = g_strconcat (entry->name, suffix, NULL);
  out->mode = entry->mode;
  out->mtime = entry->mtime;
  out->uid = entry->uid;
  out->gid = entry->gid;
  out->flags = is_ascii (out->name) ? 0 : FLAG_UTF8;
  out->method = METHOD_STORE;
  dos_date_time (entry->mtime, &out->dos_time, &out->dos_date);
  out->cipher = CIPHER_NONE;
  out->deferred = FALSE;
  out->with_crc = TRUE;
  out->descriptor = FALSE;
  out->zip64 = FALSE;
  out->announced = 0;
  out->deflated = FALSE;
  out->crc = 0;
  out->usize = 0;
  out->local_offset = out->offset;
}

/* A folder, a link or an empty file: one stored, unencrypted piece. */
static gboolean
add_whole_entry (BackupZipOutput *out, const BackupZipOutputEntry *entry, const char *suffix,
                 const char *data)
{
  gsize len = data != NULL ? strlen (data) : 0;

  entry_reset (out, entry, suffix);
  out->announced = len;
  out->usize = len;
  if (len > 0)
    out->crc = crc32_z (0, (const Bytef *)data, len);
  if (!write_local_header (out, len) || !out_put (out, (const guint8 *)data, len, FALSE))
    return FALSE;
  add_central_record (out, len);
  return !out->failed;
}

gboolean
backup_zip_output_add_entry (BackupZipOutput *out, const BackupZipOutputEntry *entry)
{
  g_return_val_if_fail (out != NULL && entry != NULL && entry->name != NULL, FALSE);
  g_return_val_if_fail (!out->in_entry, FALSE);
  g_return_val_if_fail (strlen (entry->name) < G_MAXUINT16 - 1, FALSE);

  if (out->failed)
    return FALSE;
  if (S_ISDIR (entry->mode))
    return add_whole_entry (out, entry, "/", NULL);
  if (S_ISLNK (entry->mode))
    return add_whole_entry (out, entry, "", entry->link_target);
  g_return_val_if_fail (S_ISREG (entry->mode), FALSE);
  if (entry->size == 0)
    return add_whole_entry (out, entry, "", NULL);

  entry_reset (out, entry, "");
  out->in_entry = TRUE;
  out->announced = entry->size;
  out->method = entry->method == BACKUP_ZIP_METHOD_DEFLATE ? METHOD_DEFLATE : METHOD_STORE;
  if (out->password != NULL)
    {
      out->cipher
          = out->encryption == BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO ? CIPHER_TRADITIONAL : CIPHER_AES;
      out->flags |= FLAG_ENCRYPTED;
      out->with_crc = out->cipher == CIPHER_TRADITIONAL
                      || (out->aes_stored_crc && out->method == METHOD_STORE);
    }
  out->zip64 = entry->size < 0 || entry->size >= ZIP64_THRESHOLD;
  /* The CRC and the compressed size are known at the end only (a stored
   * AE-2 entry could do without, but readers, ours included, expect the
   * layout of the libarchive-written archives of earlier versions). */
  out->descriptor = TRUE;
  out->flags |= FLAG_DESCRIPTOR;

  if (out->method == METHOD_DEFLATE)
    {
      int ret;

      if (!out->zs_ready)
        {
          ret = deflateInit2 (&out->zs, DEFLATE_LEVEL, Z_DEFLATED, -MAX_WBITS, 8,
                              Z_DEFAULT_STRATEGY);
          out->zs_ready = ret == Z_OK;
        }
      else
        ret = deflateReset (&out->zs);
      if (ret != Z_OK)
        g_error ("zlib: deflate initialisation failed (%d)", ret);
    }

  if (out->cipher == CIPHER_AES)
    {
      guint8 salt[BACKUP_ZIP_AES_MAX_SALT_LEN];
      guint8 verifier[BACKUP_ZIP_AES_VERIFIER_LEN];
      gsize salt_len = backup_zip_aes_salt_len (out->encryption);
      guint64 overhead = salt_len + BACKUP_ZIP_AES_VERIFIER_LEN + BACKUP_ZIP_AES_MAC_LEN;

      backup_zip_random_bytes (salt, salt_len);
      out->deferred = out->defer != NULL && entry->size >= 0 && entry->size < out->defer_max_size;
      if (out->deferred)
        memset (verifier, 0, sizeof verifier);
      else
        {
          if (out->aes == NULL)
            out->aes = g_new0 (BackupZipAes, 1);
          backup_zip_aes_init (out->aes, out->encryption, out->password, out->password_len, salt,
                               verifier);
        }
      if (!write_local_header (out, (guint64)entry->size + overhead))
        return FALSE;
      out->data_offset = out->offset;
      if (out->deferred)
        {
          if (!out_reserve (out, salt_len + sizeof verifier))
            return FALSE;
          out_defer (out, BACKUP_ZIP_DEFERRED_BEGIN, salt_len + sizeof verifier);
        }
      if (!out_put (out, salt, salt_len, FALSE) || !out_put (out, verifier, sizeof verifier, FALSE))
        return FALSE;
    }
  else if (out->cipher == CIPHER_TRADITIONAL)
    {
      guint8 header[BACKUP_ZIP_TRADITIONAL_HEADER_LEN];

      if (!write_local_header (out, 0))
        return FALSE;
      out->data_offset = out->offset;
      backup_zip_traditional_init (&out->traditional, out->password, out->password_len);
      backup_zip_random_bytes (header, sizeof header - 1);
      /* With a data descriptor, the check byte is the high byte of the time. */
      header[sizeof header - 1] = out->dos_time >> 8;
      if (!out_put (out, header, sizeof header, TRUE))
        return FALSE;
    }
  else
    {
      if (!write_local_header (out, 0))
        return FALSE;
      out->data_offset = out->offset;
    }
  return TRUE;
}

static gboolean
deflate_run (BackupZipOutput *out, int flush)
{
  for (;;)
    {
      gsize room;
      int ret;

      if (out->len == out->size && !out_flush (out))
        return FALSE;
      room = out->size - out->len;
      out->zs.next_out = out->buffer + out->len;
      out->zs.avail_out = (uInt)MIN (room, G_MAXUINT);
      ret = deflate (&out->zs, flush);
      if (ret == Z_STREAM_ERROR)
        g_error ("zlib: deflate failed");
      out_commit_deflated (out, room - out->zs.avail_out);
      if (flush == Z_FINISH ? ret == Z_STREAM_END : out->zs.avail_in == 0 && out->zs.avail_out > 0)
        return TRUE;
    }
}

gboolean
backup_zip_output_write (BackupZipOutput *out, const guint8 *data, gsize len)
{
  g_return_val_if_fail (out->in_entry && !out->deflated, FALSE);

  if (out->failed)
    return FALSE;
  if (out->with_crc)
    out->crc = crc32_z (out->crc, data, len);
  out->usize += len;
  if (out->method == METHOD_STORE)
    return out_put (out, data, len, TRUE);

  while (len > 0)
    {
      gsize n = MIN (len, G_MAXUINT);

      out->zs.next_in = (Bytef *)data;
      out->zs.avail_in = (uInt)n;
      if (!deflate_run (out, Z_NO_FLUSH))
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

int
backup_zip_output_deflate_level (void)
{
  return DEFLATE_LEVEL;
}

gboolean
backup_zip_output_write_deflated (BackupZipOutput *out, const guint8 *data, gsize len,
                                  const guint8 *deflated, gsize deflated_len)
{
  g_return_val_if_fail (out->in_entry && out->method == METHOD_DEFLATE, FALSE);
  g_return_val_if_fail (out->usize == 0 && !out->deflated, FALSE);

  if (out->failed)
    return FALSE;
  if (out->with_crc)
    out->crc = crc32_z (out->crc, data, len);
  out->usize = len;
  out->deflated = TRUE;
  return out_put (out, deflated, deflated_len, TRUE);
}

gboolean
backup_zip_output_end_entry (BackupZipOutput *out)
{
  guint64 csize;

  g_return_val_if_fail (out->in_entry, FALSE);
  out->in_entry = FALSE;

  if (out->failed)
    return FALSE;
  if (out->method == METHOD_DEFLATE && !out->deflated)
    {
      out->zs.next_in = NULL;
      out->zs.avail_in = 0;
      if (!deflate_run (out, Z_FINISH))
        return FALSE;
    }
  if (out->cipher == CIPHER_AES)
    {
      guint8 mac[BACKUP_ZIP_AES_MAC_LEN] = { 0 };

      if (out->deferred)
        {
          if (!out_reserve (out, sizeof mac))
            return FALSE;
          out_defer (out, BACKUP_ZIP_DEFERRED_END, sizeof mac);
        }
      else
        backup_zip_aes_finish (out->aes, mac);
      if (!out_put (out, mac, sizeof mac, FALSE))
        return FALSE;
    }
  else if (out->cipher == CIPHER_TRADITIONAL)
    backup_zip_traditional_clear (&out->traditional);
  csize = out->offset - out->data_offset;

  /* The local header announced the sizes: the caller checked them. */
  g_return_val_if_fail (out->descriptor || out->usize == (guint64)out->announced, FALSE);

  if (out->descriptor)
    {
      GByteArray *h = out->header;

      g_byte_array_set_size (h, 0);
      put32 (h, SIG_DESCRIPTOR);
      put32 (h, out->crc);
      if (out->zip64)
        {
          put64 (h, csize);
          put64 (h, out->usize);
        }
      else
        {
          put32 (h, (guint32)csize);
          put32 (h, (guint32)out->usize);
        }
      if (!out_put (out, h->data, h->len, FALSE))
        return FALSE;
    }
  add_central_record (out, csize);
  return TRUE;
}

gboolean
backup_zip_output_close (BackupZipOutput *out)
{
  GByteArray *h = out->header;
  guint64 cd_offset = out->offset;
  guint64 cd_size = out->central->len;
  gboolean zip64;

  g_return_val_if_fail (!out->in_entry, FALSE);

  if (out->failed || !out_put (out, out->central->data, out->central->len, FALSE))
    return FALSE;
  g_byte_array_set_size (out->central, 0);

  zip64 = out->n_entries >= 0xffff || cd_size >= MAX32 || cd_offset >= MAX32;
  g_byte_array_set_size (h, 0);
  if (zip64)
    {
      guint64 end64_offset = out->offset;

      put32 (h, SIG_END64);
      put64 (h, 44); /* the size of the rest of this record */
      put16 (h, MADE_BY_UNIX | VERSION_ZIP64);
      put16 (h, VERSION_ZIP64);
      put32 (h, 0);
      put32 (h, 0);
      put64 (h, out->n_entries);
      put64 (h, out->n_entries);
      put64 (h, cd_size);
      put64 (h, cd_offset);

      put32 (h, SIG_END64_LOCATOR);
      put32 (h, 0);
      put64 (h, end64_offset);
      put32 (h, 1);
    }
  put32 (h, SIG_END);
  put16 (h, 0);
  put16 (h, 0);
  put16 (h, (guint16)MIN (out->n_entries, 0xffff));
  put16 (h, (guint16)MIN (out->n_entries, 0xffff));
  put32 (h, (guint32)MIN (cd_size, MAX32));
  put32 (h, (guint32)MIN (cd_offset, MAX32));
  put16 (h, 0);
  return out_put (out, h->data, h->len, FALSE) && out_flush (out);
}
