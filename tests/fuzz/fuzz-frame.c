/* fuzz-frame.c: the data channel's control messages and legacy framing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each input is decoded as one control message (backup_frame_decode), and
 * fed to the legacy framing parser in messages whose boundaries come from
 * the input itself:
 *
 *   byte 0        low 4 bits: K, how many split lengths follow;
 *                 high 4 bits: content limit in units of 64 bytes (0: none)
 *   bytes 1..K    message lengths, used in turn (0 is an empty message)
 *   the rest      the stream: length byte, name, content
 *
 * Besides memory errors, checks that a decoded message is encoded back to
 * one that decodes to the same values, that its strings are UTF-8, and that
 * the legacy parser gives the same name, content and outcome whether the
 * stream arrives in the derived messages, byte by byte or all at once.
 */
#include "config.h"

#include <string.h>

#include "backup-error.h"
#include "backup-frame.h"
#include "fuzz-common.h"

static void
check_same_frame (const BackupFrame *a, const BackupFrame *b)
{
  g_assert_cmpint (a->type, ==, b->type);
  switch (a->type)
    {
    case BACKUP_FRAME_HEADER:
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->size, ==, b->size);
      g_assert_cmpint (a->kind, ==, b->kind);
      break;

    case BACKUP_FRAME_END:
    case BACKUP_FRAME_ACK:
      g_assert_cmpuint (a->bytes, ==, b->bytes);
      g_assert_cmpmem (a->sha256, sizeof a->sha256, b->sha256, sizeof b->sha256);
      break;

    case BACKUP_FRAME_ERROR:
    default:
      g_assert_cmpstr (a->message, ==, b->message);
      break;
    }
}

static void
check_decode (const uint8_t *data, size_t size)
{
  g_autoptr (BackupFrame) frame = NULL;
  g_autoptr (BackupFrame) again = NULL;
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;
  /* The decoder gets the exact bytes: a copy of exactly @size bytes lets
   * the address sanitizer see any read past the end. */
  g_autofree guint8 *copy = g_memdup2 (data, size);

  frame = backup_frame_decode (copy, size, &error);
  if (frame == NULL)
    {
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
      return;
    }
  g_assert_no_error (error);

  switch (frame->type)
    {
    case BACKUP_FRAME_HEADER:
      g_assert_nonnull (frame->name);
      g_assert_cmpuint (strlen (frame->name), >, 0);
      g_assert_true (g_utf8_validate (frame->name, -1, NULL));
      g_assert_cmpint (frame->size, >=, -1);
      g_assert_true (frame->kind == BACKUP_FRAME_KIND_FILE || frame->kind == BACKUP_FRAME_KIND_ZIP);
      g_assert_null (frame->message);
      break;

    case BACKUP_FRAME_END:
    case BACKUP_FRAME_ACK:
      g_assert_cmpuint (frame->bytes, <=, G_MAXINT64);
      g_assert_null (frame->name);
      g_assert_null (frame->message);
      break;

    case BACKUP_FRAME_ERROR:
      g_assert_nonnull (frame->message);
      g_assert_true (g_utf8_validate (frame->message, -1, NULL));
      g_assert_null (frame->name);
      break;

    default:
      g_assert_not_reached ();
    }

  encoded = backup_frame_encode (frame);
  again = backup_frame_decode (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                               &error);
  /* Escaping can make the message longer than the one it was read from. */
  if (g_bytes_get_size (encoded) > BACKUP_FRAME_MAX_CONTROL)
    {
      g_assert_null (again);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
      return;
    }
  g_assert_no_error (error);
  check_same_frame (frame, again);
}

typedef struct
{
  gsize content_limit; /* 0: no limit */
  guint name_calls;
  GByteArray *name;
  GByteArray *content;
} Receiver;

static gboolean
on_name (const char *name, gsize length, gpointer user_data, GError **error)
{
  Receiver *receiver = user_data;

  receiver->name_calls++;
  g_assert_cmpuint (length, >, 0);
  g_assert_cmpuint (length, <=, 255);
  g_assert_cmpint (name[length], ==, '\0');
  g_byte_array_append (receiver->name, (const guint8 *) name, (guint) length);

  /* Refusing some names exercises the failure path. */
  if (memchr (name, '/', length) != NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME, "refused name");
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_content (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  Receiver *receiver = user_data;

  g_assert_cmpuint (length, >, 0);
  g_assert_cmpuint (receiver->name_calls, ==, 1);
  g_byte_array_append (receiver->content, data, (guint) length);
  if (receiver->content_limit != 0 && receiver->content->len > receiver->content_limit)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_NO_SPACE, "refused content");
      return FALSE;
    }
  return TRUE;
}

static const BackupLegacyParserFuncs funcs = { on_name, on_content };

typedef struct
{
  gboolean ok;
  GQuark domain;
  int code;
  gboolean has_name;
  guint name_calls;
  GByteArray *name;
  GByteArray *content;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_byte_array_unref (outcome->name);
  g_byte_array_unref (outcome->content);
}

/* Feeds @stream in messages of the lengths in @splits, used in turn; with
 * no splits, in one message. */
static void
run_legacy (const guint8 *stream,
            gsize stream_len,
            const guint8 *splits,
            gsize n_splits,
            gsize content_limit,
            Outcome *outcome)
{
  Receiver receiver = { content_limit, 0, g_byte_array_new (), g_byte_array_new () };
  g_autoptr (BackupLegacyParser) parser = backup_legacy_parser_new (&funcs, &receiver);
  gsize pos = 0;
  gsize turn = 0;
  gboolean all_empty = TRUE;
  gboolean ok = TRUE;
  GQuark domain = 0;
  int code = 0;

  for (gsize i = 0; i < n_splits; i++)
    if (splits[i] != 0)
      all_empty = FALSE;

  while (pos < stream_len || turn < n_splits)
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *message = NULL;
      gsize step = n_splits > 0 ? splits[turn % n_splits] : stream_len;

      /* Lengths that are all 0 are used once, then the rest follows. */
      if (all_empty && turn >= n_splits)
        step = stream_len;
      turn++;
      step = MIN (step, stream_len - pos);
      /* An exact-size copy, so that reads past the message are caught. */
      message = step > 0 ? g_memdup2 (stream + pos, step) : NULL;

      if (!backup_legacy_parser_feed (parser, message, step, &error))
        {
          g_assert_nonnull (error);
          if (ok)
            {
              ok = FALSE;
              domain = error->domain;
              code = error->code;
            }
          else
            {
              /* Once failed, it stays failed. */
              g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
            }
        }
      else
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      pos += step;
    }

  outcome->ok = ok;
  outcome->domain = domain;
  outcome->code = code;
  outcome->has_name = backup_legacy_parser_has_name (parser);
  outcome->name_calls = receiver.name_calls;
  outcome->name = receiver.name;
  outcome->content = receiver.content;

  if (ok && outcome->has_name)
    g_assert_cmpuint (backup_legacy_parser_get_content_bytes (parser), ==, receiver.content->len);
}

static void
check_legacy (const uint8_t *data, size_t size)
{
  static const guint8 one = 1;
  Outcome whole, split, bytewise;
  gsize n_splits, content_limit;
  const guint8 *stream;
  gsize stream_len;

  if (size == 0)
    return;
  n_splits = MIN ((gsize) (data[0] & 0x0f), size - 1);
  content_limit = (gsize) (data[0] >> 4) * 64;
  stream = data + 1 + n_splits;
  stream_len = size - 1 - n_splits;

  run_legacy (stream, stream_len, NULL, 0, content_limit, &whole);
  run_legacy (stream, stream_len, data + 1, n_splits, content_limit, &split);
  run_legacy (stream, stream_len, &one, 1, content_limit, &bytewise);

  /* The reference: what the stream holds, whatever its boundaries. */
  if (stream_len == 0)
    {
      g_assert_true (whole.ok);
      g_assert_false (whole.has_name);
    }
  else if (stream[0] == 0)
    {
      g_assert_false (whole.ok);
      g_assert_cmpuint (whole.domain, ==, BACKUP_ERROR);
      g_assert_cmpint (whole.code, ==, BACKUP_ERROR_INVALID_NAME);
      g_assert_cmpuint (whole.name_calls, ==, 0);
    }
  else if (stream_len - 1 < stream[0])
    {
      /* The name is incomplete: nothing is reported yet. */
      g_assert_true (whole.ok);
      g_assert_false (whole.has_name);
      g_assert_cmpuint (whole.name_calls, ==, 0);
    }
  else
    {
      gsize name_len = stream[0];
      gsize content_len = stream_len - 1 - name_len;
      gboolean refused_name = memchr (stream + 1, '/', name_len) != NULL;
      gboolean refused_content = content_limit != 0 && content_len > content_limit;

      g_assert_true (whole.has_name);
      g_assert_cmpuint (whole.name_calls, ==, 1);
      g_assert_cmpmem (whole.name->data, whole.name->len, stream + 1, name_len);
      g_assert_cmpint (whole.ok, ==, !refused_name && !refused_content);
      if (refused_name)
        {
          g_assert_cmpint (whole.code, ==, BACKUP_ERROR_INVALID_NAME);
          g_assert_cmpuint (whole.content->len, ==, 0);
        }
      else
        {
          if (refused_content)
            g_assert_cmpint (whole.code, ==, BACKUP_ERROR_NO_SPACE);
          g_assert_cmpmem (whole.content->data, whole.content->len, stream + 1 + name_len,
                           content_len);
        }
    }

  /* Any split gives the same outcome; content refused part way through
   * was delivered up to a point that depends on the split. */
  for (guint i = 0; i < 2; i++)
    {
      const Outcome *other = i == 0 ? &split : &bytewise;

      g_assert_cmpint (other->ok, ==, whole.ok);
      g_assert_cmpuint (other->domain, ==, whole.domain);
      g_assert_cmpint (other->code, ==, whole.code);
      g_assert_cmpint (other->has_name, ==, whole.has_name);
      g_assert_cmpuint (other->name_calls, ==, whole.name_calls);
      g_assert_cmpmem (other->name->data, other->name->len, whole.name->data, whole.name->len);
      if (whole.ok)
        g_assert_cmpmem (other->content->data, other->content->len, whole.content->data,
                         whole.content->len);
      else
        {
          g_assert_cmpuint (other->content->len, <=, whole.content->len);
          g_assert_cmpmem (other->content->data, other->content->len, whole.content->data,
                           other->content->len);
        }
    }

  outcome_clear (&whole);
  outcome_clear (&split);
  outcome_clear (&bytewise);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_decode (data, size);
  check_legacy (data, size);
  return 0;
}
