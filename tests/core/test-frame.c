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

/* Version 2: the header's id and sender, the offer and the answer. */
static void
test_round_trip_resume (void)
{
  g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);
  g_autoptr (BackupFrame) offset = backup_frame_new (BACKUP_FRAME_OFFSET);
  g_autoptr (BackupFrame) resume = backup_frame_new (BACKUP_FRAME_RESUME);
  g_autoptr (BackupFrame) decoded = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *long_name = g_strnfill (BACKUP_FRAME_MAX_FROM + 1, 'h');
  g_autofree char *text = NULL;
  guint8 raw_id[BACKUP_FRAME_ID_LEN];

  for (guint i = 0; i < sizeof raw_id; i++)
    raw_id[i] = (guint8) (0xf0 + i);
  header->name = g_strdup ("data.bin");
  header->size = 42;
  header->id = backup_frame_id_from_bytes (raw_id);
  g_assert_cmpstr (header->id, ==, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  g_assert_true (backup_frame_check_id (header->id));
  header->from = g_strdup ("laptop \xc3\xa9");
  bytes = backup_frame_encode (header);
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (decoded->id, ==, header->id);
  g_assert_cmpstr (decoded->from, ==, header->from);
  g_clear_pointer (&decoded, backup_frame_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* Without them, a version 1 header, as before. */
  g_clear_pointer (&header->id, g_free);
  g_clear_pointer (&header->from, g_free);
  bytes = backup_frame_encode (header);
  g_assert_null (strstr (g_bytes_get_data (bytes, NULL), "\"id\""));
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_null (decoded->id);
  g_assert_null (decoded->from);
  g_clear_pointer (&decoded, backup_frame_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* A sender name longer than a host name may be is refused. */
  text = g_strdup_printf ("{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\","
                          "\"from\":\"%s\"}", long_name);
  g_assert_null (backup_frame_decode ((const guint8 *) text, strlen (text), &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  g_clear_error (&error);

  offset->bytes = 123456789;
  memset (offset->sha256, 0xab, sizeof offset->sha256);
  bytes = backup_frame_encode (offset);
  g_assert_nonnull (strstr (g_bytes_get_data (bytes, NULL), "\"type\":\"offset\""));
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->type, ==, BACKUP_FRAME_OFFSET);
  g_assert_cmpuint (decoded->bytes, ==, 123456789);
  g_assert_cmpmem (decoded->sha256, sizeof decoded->sha256, offset->sha256, sizeof offset->sha256);
  g_clear_pointer (&decoded, backup_frame_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  resume->bytes = 0;
  bytes = backup_frame_encode (resume);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   "{\"type\":\"resume\",\"bytes\":0}", 27);
  decoded = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpint (decoded->type, ==, BACKUP_FRAME_RESUME);
  g_assert_cmpuint (decoded->bytes, ==, 0);

  g_assert_false (backup_frame_check_id (NULL));
  g_assert_false (backup_frame_check_id ("f0f1f2f3f4f5f6f7f8f9fafbfcfdfef"));
  g_assert_false (backup_frame_check_id ("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"));
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
    /* version 2 */
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\",\"id\":\"12\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\","
    "\"id\":\"0123456789ABCDEF0123456789abcdef\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\",\"id\":7}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\",\"from\":\"\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"file\",\"from\":1}",
    "{\"type\":\"offset\",\"bytes\":1}",
    "{\"type\":\"offset\",\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
    "{\"type\":\"resume\"}",
    "{\"type\":\"resume\",\"bytes\":-1}",
    "{\"type\":\"resume\",\"bytes\":\"1\"}",
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

static BackupFrame *
decode_text (const char *text, GError **error)
{
  return backup_frame_decode ((const guint8 *) text, strlen (text), error);
}

/* json-glib decodes a string into a C string, so any spelling of U+0000
 * would cut the name short: "victim\u0000.evil" would be stored as
 * "victim". Every such spelling is refused, in any string of the message. */
static void
test_decode_rejects_nul (void)
{
  static const char *const bad[] = {
    "{\"type\":\"header\",\"name\":\"victim\\u0000.evil\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"victim\\u0000\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"\\u0000victim\",\"size\":1,\"kind\":\"file\"}",
    /* json-glib also reads an octal escape... */
    "{\"type\":\"header\",\"name\":\"victim\\0.evil\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"victim\\000.evil\",\"size\":1,\"kind\":\"file\"}",
    /* ...a \u escape without four hex digits as U+0000... */
    "{\"type\":\"header\",\"name\":\"victim\\u00zz.evil\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"victim\\u\",\"size\":1,\"kind\":\"file\"}",
    /* ...and drops the backslash of an escape JSON does not define, so
     * that this name would arrive as "victimU0000.evil". */
    "{\"type\":\"header\",\"name\":\"victim\\U0000.evil\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"victim\\x00.evil\",\"size\":1,\"kind\":\"file\"}",
    /* an escaped backslash does not hide the escape after it */
    "{\"type\":\"header\",\"name\":\"victim\\\\\\u0000.evil\",\"size\":1,\"kind\":\"file\"}",
    /* in a member name: "name\u0000" would replace "name" */
    "{\"type\":\"header\",\"name\":\"a\",\"name\\u0000\":\"victim\",\"size\":1,\"kind\":\"file\"}",
    /* in the type, the kind, the hash and the message */
    "{\"type\":\"header\\u0000x\",\"name\":\"a\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":1,\"kind\":\"zip\\u0000\"}",
    "{\"type\":\"end\",\"bytes\":1,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\\u0000ff\"}",
    "{\"type\":\"error\",\"message\":\"disk\\u0000 full\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BackupFrame) frame = decode_text (bad[i], &error);

      g_test_message ("case %u: %s", i, bad[i]);
      g_assert_null (frame);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
    }

  /* A raw NUL byte is refused too, wherever it is. */
  {
    static const guint8 raw[] = "{\"type\":\"header\",\"name\":\"victim\0.evil\",\"size\":1,"
                                "\"kind\":\"file\"}";
    static const guint8 after[] = "{\"type\":\"error\",\"message\":\"m\"}\0";
    g_autoptr (GError) error = NULL;

    g_assert_null (backup_frame_decode (raw, sizeof raw - 1, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
    g_clear_error (&error);
    g_assert_null (backup_frame_decode (after, sizeof after - 1, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  }

  /* The message names the problem. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupFrame) frame = decode_text (bad[0], &error);

    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "NUL"));
  }
}

/* Text that json-glib would read differently from a strict JSON reader is
 * refused: the name a peer meant must be the name we store. */
static void
test_decode_rejects_lax_json (void)
{
  static const char *const bad[] = {
    /* single quotes: no escapes are read inside them */
    "{'type':'header','name':'a','size':1,'kind':'file'}",
    "{\"type\":\"header\",\"name\":'victim\\u0000.evil',\"size\":1,\"kind\":\"file\"}",
    /* comments */
    "{\"type\":\"header\",/* \" */\"name\":\"a\",\"size\":1,\"kind\":\"file\"}",
    /* an unpaired surrogate would decode to bytes that are not UTF-8 */
    "{\"type\":\"header\",\"name\":\"a\\udc00b\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\\ud800b\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\\ud800\\u0041\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\\ud800\\ud800\",\"size\":1,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\\ud800\",\"size\":1,\"kind\":\"file\"}",
    /* an unterminated string and a lone backslash at the end */
    "{\"type\":\"header\",\"name\":\"a",
    "{\"type\":\"header\",\"name\":\"a\\",
    /* integers json-glib would wrap around: the first is read as -1 (size
     * unknown), the second as G_MAXINT64 */
    "{\"type\":\"header\",\"name\":\"a\",\"size\":99999999999999999999,\"kind\":\"file\"}",
    "{\"type\":\"header\",\"name\":\"a\",\"size\":18446744073709551615,\"kind\":\"file\"}",
    "{\"type\":\"end\",\"bytes\":-9223372036854775809,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
    "{\"type\":\"ack\",\"bytes\":9223372036854775808,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
    /* nesting far beyond any control message */
    "{\"type\":\"error\",\"message\":\"m\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BackupFrame) frame = decode_text (bad[i], &error);

      g_test_message ("case %u: %s", i, bad[i]);
      g_assert_null (frame);
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
    }
}

/* Legitimate names with backslashes and escapes decode to what they spell. */
static void
test_decode_escapes (void)
{
  static const struct
  {
    const char *json;
    const char *name;
  } cases[] = {
    /* an escaped backslash followed by the letters u0000 */
    { "\"victim\\\\u0000.evil\"", "victim\\u0000.evil" },
    { "\"\\\\u0000\"", "\\u0000" },
    { "\"a\\\\\\\\u0000\"", "a\\\\u0000" },
    { "\"a\\\\\"", "a\\" },
    { "\"a\\\\\\u0041\"", "a\\A" },
    { "\"\\\"q\\\"\\/\\b\\f\\n\\r\\t\"", "\"q\"/\b\f\n\r\t" },
    { "\"\\u0001\\u001f\\u007f\"", "\x01\x1f\x7f" },
    { "\"caf\\u00e9 \\u00E9\"", "caf\xc3\xa9 \xc3\xa9" },
    { "\"\\ud83d\\ude00.zip\"", "\xf0\x9f\x98\x80.zip" },
    { "\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80" },
    /* raw control characters are kept as they are (json-glib's own
     * generator writes U+001F unescaped) */
    { "\"a\x1f"
      "\nb\"",
      "a\x1f"
      "\nb" },
    { "\"U0000\"", "U0000" },
    { "\"u0000\"", "u0000" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"type\":\"header\",\"name\":%s,\"size\":-1,"
                                               "\"kind\":\"file\"}",
                                               cases[i].json);
      g_autofree char *message_text = g_strdup_printf ("{\"type\":\"error\",\"message\":%s}",
                                                       cases[i].json);
      g_autoptr (GError) error = NULL;
      g_autoptr (BackupFrame) frame = NULL;
      g_autoptr (BackupFrame) message = NULL;
      g_autoptr (BackupFrame) again = NULL;
      g_autoptr (GBytes) bytes = NULL;

      g_test_message ("case %u: %s", i, text);
      frame = decode_text (text, &error);
      g_assert_no_error (error);
      g_assert_cmpint (frame->type, ==, BACKUP_FRAME_HEADER);
      g_assert_cmpstr (frame->name, ==, cases[i].name);
      g_assert_cmpint (frame->size, ==, -1);

      /* what we encode decodes to the same name */
      bytes = backup_frame_encode (frame);
      again = backup_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   &error);
      g_assert_no_error (error);
      g_assert_cmpstr (again->name, ==, cases[i].name);

      message = decode_text (message_text, &error);
      g_assert_no_error (error);
      g_assert_cmpint (message->type, ==, BACKUP_FRAME_ERROR);
      g_assert_cmpstr (message->message, ==, cases[i].name);
    }

  /* The largest integers still fit. */
  {
    static const char largest[] = "{\"type\":\"ack\",\"bytes\":9223372036854775807,\"sha256\":"
                                  "\"0000000000000000000000000000000000000000000000000000000000000000\"}";
    static const char header[] = "{\"type\":\"header\",\"name\":\"a\",\"size\":9223372036854775807,"
                                 "\"kind\":\"zip\",\"extra\":[-9223372036854775808,1.5e300,true,null]}";
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupFrame) frame = decode_text (largest, &error);
    g_autoptr (BackupFrame) frame2 = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (frame->bytes, ==, G_MAXINT64);
    frame2 = decode_text (header, &error);
    g_assert_no_error (error);
    g_assert_cmpint (frame2->size, ==, G_MAXINT64);
  }

  /* Whitespace JSON allows between tokens is still accepted. */
  {
    static const char spaced[] = " {\r\n\t\"type\" : \"end\" ,\n\"bytes\" : 0 , \"sha256\" :"
                                 "\"0000000000000000000000000000000000000000000000000000000000000000\""
                                 "\n}\n";
    g_autoptr (GError) error = NULL;
    g_autoptr (BackupFrame) frame = decode_text (spaced, &error);

    g_assert_no_error (error);
    g_assert_cmpint (frame->type, ==, BACKUP_FRAME_END);
    g_assert_cmpuint (frame->bytes, ==, 0);
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
  g_test_add_func ("/frame/round-trip-resume", test_round_trip_resume);
  g_test_add_func ("/frame/decode-rejects", test_decode_rejects);
  g_test_add_func ("/frame/decode-rejects-nul", test_decode_rejects_nul);
  g_test_add_func ("/frame/decode-rejects-lax-json", test_decode_rejects_lax_json);
  g_test_add_func ("/frame/decode-escapes", test_decode_escapes);
  g_test_add_func ("/frame/legacy/any-split", test_legacy_any_split);
  g_test_add_func ("/frame/legacy/errors", test_legacy_errors);

  return g_test_run ();
}
