/* test-frame.c: control messages and the legacy framing parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-error.h"
#include "backup-frame.h"

static void
test_round_trip (void)
{
  g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);
  g_autoptr (BackupFrame) end = backup_frame_new (BACKUP_FRAME_END);
  g_autoptr (BackupFrame) error_frame = backup_frame_new (BACKUP_FRAME_ERROR);
  g_autoptr (BackupFrame) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  header->name = g_strdup ("photos \xc3\xa9t\xc3\xa9.zip");
  header->size = 1234567890123;
  header->kind = BACKUP_FRAME_KIND_ZIP;
  bytes = backup_frame_encode (header);
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->type, ==, BACKUP_FRAME_HEADER);
  g_assert_cmpstr (decoded->name, ==, header->name);
  g_assert_cmpint (decoded->size, ==, header->size);
  g_assert_cmpint (decoded->kind, ==, BACKUP_FRAME_KIND_ZIP);
  g_clear_pointer (&decoded, backup_frame_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  for (guint i = 0; i < sizeof end->sha256; i++)
    end->sha256[i] = (guint8) (i * 7 + 3);
  end->bytes = G_GUINT64_CONSTANT (5000000000);
  bytes = backup_frame_encode (end);
  g_assert_nonnull (strstr (g_bytes_get_data (bytes, NULL), "\"type\":\"end\""));
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->type, ==, BACKUP_FRAME_END);
  g_assert_cmpuint (decoded->bytes, ==, end->bytes);
  g_assert_cmpmem (decoded->sha256, sizeof decoded->sha256, end->sha256, sizeof end->sha256);
  g_clear_pointer (&decoded, backup_frame_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  error_frame->message = g_strdup ("disk full");
  bytes = backup_frame_encode (error_frame);
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->type, ==, BACKUP_FRAME_ERROR);
  g_assert_cmpstr (decoded->message, ==, "disk full");
}

static void
test_decode_rejects (void)
{
  static const char *const bad[] = {
    "",
    "not json",
    "[]",
    "{}",
    "{\"type\":\"bogus\"}",
    "{\"type\":7}",
    "{\"type\":\"header\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":-2,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":\"1\",\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"dir\"}",
    "{\"type\":\"end\",\"bytes\":1}",
    "{\"type\":\"end\",\"bytes\":-1,\"sha256\":\"00\"}",
    "{\"type\":\"end\",\"bytes\":1,\"sha256\":\"zz\"}",
    "{\"type\":\"ack\",\"bytes\":1,\"sha256\":"
    "\"000000000000000000000000000000000000000000000000000000000000000g\"}",
    "{\"type\":\"error\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1.5,\"kind\":\"file\"}",
  };
  g_autofree char *huge = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BackupFrame) frame = backup_frame_decode ((const guint8 *) bad[i], strlen (bad[i]),
                                                           &error);

      g_test_message ("case %u: %s", i, bad[i]);
      g_assert_null (frame);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
    }

  /* Oversized and invalid UTF-8 messages are refused before parsing. */
  huge = g_strnfill (BACKUP_FRAME_MAX_CONTROL + 1, ' ');
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (backup_frame_decode ((const guint8 *) huge, strlen (huge), &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  }
  {
    g_autoptr (GError) error = NULL;
    static const guint8 latin1[] = "{\"type\":\"error\",\"message\":\"\xe9\"}";
    g_assert_null (backup_frame_decode (latin1, sizeof latin1 - 1, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  }
}

typedef struct
{
  GString *name;
  guint name_calls;
  GByteArray *content;
  gboolean refuse_name;
} ParserState;

static gboolean
on_name (const char *name, gsize length, gpointer user_data, GError **error)
{
  ParserState *state = user_data;

  state->name_calls++;
  g_string_append_len (state->name, name, (gssize) length);
  if (state->refuse_name)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME, "refused");
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_content (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  ParserState *state = user_data;

  g_byte_array_append (state->content, data, (guint) length);
  return TRUE;
}

static const BackupLegacyParserFuncs parser_funcs = { on_name, on_content };

static void
test_legacy_any_split (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  const char *name = "backup.zip";
  guint8 length = (guint8) strlen (name);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);

  g_byte_array_append (stream, &length, 1);
  g_byte_array_append (stream, (const guint8 *) name, length);
  for (guint i = 0; i < 100000; i++)
    {
      guint8 b = (guint8) g_rand_int (rand);
      g_byte_array_append (stream, &b, 1);
    }

  /* Byte by byte, the original sender's split, random splits, all at once. */
  for (guint mode = 0; mode < 4; mode++)
    {
      ParserState state = { g_string_new (NULL), 0, g_byte_array_new (), FALSE };
      g_autoptr (BackupLegacyParser) parser = backup_legacy_parser_new (&parser_funcs, &state);
      gsize pos = 0;

      while (pos < stream->len)
        {
          g_autoptr (GError) error = NULL;
          gsize step;

          switch (mode)
            {
            case 0:
              step = 1;
              break;
            case 1:
              step = pos == 0 ? 1 : pos == 1 ? length : BACKUP_FRAME_LEGACY_CHUNK;
              break;
            case 2:
              step = g_rand_int_range (rand, 0, 5000);
              break;
            default:
              step = stream->len;
              break;
            }
          step = MIN (step, stream->len - pos);
          g_assert_true (backup_legacy_parser_feed (parser, stream->data + pos, step, &error));
          g_assert_no_error (error);
          pos += step;
        }

      g_assert_true (backup_legacy_parser_has_name (parser));
      g_assert_cmpuint (state.name_calls, ==, 1);
      g_assert_cmpstr (state.name->str, ==, name);
      g_assert_cmpuint (backup_legacy_parser_get_content_bytes (parser), ==,
                        stream->len - 1 - length);
      g_assert_cmpmem (state.content->data, state.content->len, stream->data + 1 + length,
                       stream->len - 1 - length);
      g_string_free (state.name, TRUE);
      g_byte_array_unref (state.content);
    }
}

static void
test_legacy_errors (void)
{
  static const guint8 empty_name[] = { 0, 'x' };
  static const guint8 stream[] = { 3, '.', '.', '/', 'x' };
  ParserState state = { g_string_new (NULL), 0, g_byte_array_new (), FALSE };
  g_autoptr (BackupLegacyParser) parser = backup_legacy_parser_new (&parser_funcs, &state);
  g_autoptr (BackupLegacyParser) refusing = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (backup_legacy_parser_feed (parser, empty_name, sizeof empty_name, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_clear_error (&error);
  /* Once failed, it stays failed. */
  g_assert_false (backup_legacy_parser_feed (parser, stream, sizeof stream, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* A name refused by the receiver stops the parser before any content. */
  state.refuse_name = TRUE;
  refusing = backup_legacy_parser_new (&parser_funcs, &state);
  g_assert_false (backup_legacy_parser_feed (refusing, stream, sizeof stream, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_assert_cmpstr (state.name->str, ==, "../");
  g_assert_cmpuint (state.content->len, ==, 0);

  g_string_free (state.name, TRUE);
  g_byte_array_unref (state.content);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/frame/round-trip", test_round_trip);
  g_test_add_func ("/frame/decode-rejects", test_decode_rejects);
  g_test_add_func ("/frame/legacy/any-split", test_legacy_any_split);
  g_test_add_func ("/frame/legacy/errors", test_legacy_errors);

  return g_test_run ();
}
