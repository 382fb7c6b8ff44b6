/* backup-zip-random.c: reproducible salts for an archive written again
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "backup-zip-random.h"

typedef struct
{
  guint8 key[BACKUP_ZIP_RANDOM_KEY_LEN];
  char label[32];
  guint64 counter;
  guint8 block[32];
  gsize used; /* bytes of @block already given out */
} DerivedStream;

static _Thread_local DerivedStream *derived;

void
backup_zip_random_begin (const guint8 key[BACKUP_ZIP_RANDOM_KEY_LEN], const char *label)
{
  g_return_if_fail (key != NULL && label != NULL);

  backup_zip_random_end ();
  derived = g_new0 (DerivedStream, 1);
  memcpy (derived->key, key, BACKUP_ZIP_RANDOM_KEY_LEN);
  g_strlcpy (derived->label, label, sizeof derived->label);
  derived->used = sizeof derived->block;
}

void
backup_zip_random_end (void)
{
  if (derived == NULL)
    return;
  gnutls_memset (derived, 0, sizeof *derived);
  g_free (derived);
  derived = NULL;
}

void
backup_zip_random_system (void *buffer, gsize length)
{
  guint8 *p = buffer;

  while (length > 0)
    {
      ssize_t n = getrandom (p, MIN (length, 256), 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* Without the kernel's generator there is no safe answer. */
          g_error ("getrandom: %s", g_strerror (errno));
        }
      p += n;
      length -= (gsize) n;
    }
}

/* Block i = HMAC-SHA-256(key, label || 0x00 || i as 8 bytes big-endian). */
static void
derived_next_block (DerivedStream *stream)
{
  guint8 message[sizeof stream->label + 1 + 8];
  gsize label_len = strlen (stream->label);
  guint64 be = GUINT64_TO_BE (stream->counter);

  memcpy (message, stream->label, label_len);
  message[label_len] = 0;
  memcpy (message + label_len + 1, &be, 8);
  if (gnutls_hmac_fast (GNUTLS_MAC_SHA256, stream->key, sizeof stream->key, message,
                        label_len + 1 + 8, stream->block)
      < 0)
    g_error ("HMAC-SHA-256 is not available");
  stream->counter++;
  stream->used = 0;
}

void
backup_zip_random_bytes (void *buffer, gsize length)
{
  guint8 *p = buffer;

  if (derived == NULL)
    {
      backup_zip_random_system (buffer, length);
      return;
    }
  while (length > 0)
    {
      gsize n;

      if (derived->used == sizeof derived->block)
        derived_next_block (derived);
      n = MIN (length, sizeof derived->block - derived->used);
      memcpy (p, derived->block + derived->used, n);
      derived->used += n;
      p += n;
      length -= n;
    }
}
