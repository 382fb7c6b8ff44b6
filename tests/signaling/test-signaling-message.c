/* test-signaling-message.c: file names and contents of the signaling files,
 * checked byte for byte against files written by Go's encoding/json
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "signaling/backup-signaling-error.h"
#include "signaling/backup-signaling-message.h"

static GBytes *
load_golden (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "signaling", "golden", name, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static char *
load_golden_text (const char *name)
{
  g_autoptr (GBytes) bytes = load_golden (name);

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
assert_bytes_equal (GBytes *a, GBytes *b)
{
  g_assert_cmpmem (g_bytes_get_data (a, NULL), g_bytes_get_size (a),
                   g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static void
test_golden_ping (void)
{
  g_autoptr (GBytes) golden = load_golden ("ping.json");
  g_autoptr (GBytes) ours = backup_signaling_message_encode_ping (NULL);
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  assert_bytes_equal (ours, golden);
  message = backup_signaling_message_parse (golden, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_PING);
  g_assert_cmpuint (json_object_get_size (message->extensions), ==, 0);
}

static void
check_golden_sdp (const char *json_name, const char *sdp_name, const char *type)
{
  g_autoptr (GBytes) golden = load_golden (json_name);
  g_autofree char *sdp = load_golden_text (sdp_name);
  g_autoptr (GBytes) ours = backup_signaling_message_encode_sdp (type, sdp, NULL);
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  /* we write exactly what Go writes */
  assert_bytes_equal (ours, golden);

  /* and read what it wrote */
  message = backup_signaling_message_parse (golden, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_SDP);
  g_assert_cmpstr (message->sdp_type, ==, type);
  g_assert_cmpstr (message->sdp, ==, sdp);
  g_assert_nonnull (strstr (message->sdp, "\r\na=mid:0\r\n"));
  g_assert_true (g_str_has_suffix (message->sdp, "\r\n"));
  g_assert_cmpuint (json_object_get_size (message->extensions), ==, 0);
}

static void
test_golden_sdp (void)
{
  check_golden_sdp ("sdp-offer.json", "sdp-offer.sdp", "offer");
  check_golden_sdp ("sdp-answer.json", "sdp-answer.sdp", "answer");
  check_golden_sdp ("sdp-escapes.json", "sdp-escapes.sdp", "offer");
}

static void
test_golden_candidate (void)
{
  const struct
  {
    const char *file;
    const char *candidate;
  } cases[] = {
    { "candidate-host.json", "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host" },
    { "candidate-srflx.json",
      "candidate:3362436442 1 udp 1694498815 198.51.100.7 61234 typ srflx raddr 10.0.0.1 rport 54321" },
    { "candidate-ipv6.json", "candidate:2 1 udp 2130706431 fd00::1 40000 typ host" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) golden = load_golden (cases[i].file);
      g_autoptr (GBytes) ours = backup_signaling_message_encode_candidate (cases[i].candidate, NULL);
      g_autofree char *with_prefix = g_strdup_printf ("a=%s\r\n", cases[i].candidate);
      g_autoptr (GBytes) from_prefixed = backup_signaling_message_encode_candidate (with_prefix, NULL);
      g_autoptr (BackupSignalingMessage) message = NULL;
      g_autoptr (GError) error = NULL;

      assert_bytes_equal (ours, golden);
      /* "a=" and the line end are not part of what goes on the wire */
      assert_bytes_equal (from_prefixed, golden);

      message = backup_signaling_message_parse (golden, &error);
      g_assert_no_error (error);
      g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_CANDIDATE);
      g_assert_cmpstr (message->candidate, ==, cases[i].candidate);
    }
}

static GBytes *
make_message (const char *type, const char *payload_text)
{
  g_autofree char *b64 = g_base64_encode ((const guchar *) payload_text, strlen (payload_text));
  char *json = g_strdup_printf ("{\"type\":\"%s\",\"payload\":\"%s\"}", type, b64);

  return g_bytes_new_take (json, strlen (json));
}

static void
test_candidate_variants (void)
{
  const char *variants[] = {
    "a=candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host\r\n",
    "a=candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host\r\n",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autoptr (GBytes) bytes = make_message ("candidate", variants[i]);
      g_autoptr (BackupSignalingMessage) message = NULL;
      g_autoptr (GError) error = NULL;

      message = backup_signaling_message_parse (bytes, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (message->candidate, ==, "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host");
    }
}

static void
test_extensions (void)
{
  g_autofree char *sdp = load_golden_text ("sdp-offer.sdp");
  g_autoptr (JsonObject) ext = json_object_new ();
  g_autoptr (JsonObject) inner = json_object_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) golden = load_golden ("sdp-offer.json");
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *got;
  gsize golden_len;

  json_object_set_int_member (inner, "framing", 2);
  json_object_set_string_member (inner, "app", "distributed-backup");
  json_object_set_object_member (ext, "ext", json_object_ref (inner));
  /* "type" and "payload" cannot be overridden by an extension */
  json_object_set_string_member (ext, "type", "ping");

  bytes = backup_signaling_message_encode_sdp ("offer", sdp, ext);

  /* the original's members come first, unchanged, so it reads the file as before */
  golden_len = g_bytes_get_size (golden);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), golden_len - 1,
                   g_bytes_get_data (golden, NULL), golden_len - 1);

  message = backup_signaling_message_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_SDP);
  g_assert_cmpstr (message->sdp, ==, sdp);
  g_assert_cmpuint (json_object_get_size (message->extensions), ==, 1);
  got = json_object_get_object_member (message->extensions, "ext");
  g_assert_nonnull (got);
  g_assert_cmpint (json_object_get_int_member (got, "framing"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (got, "app"), ==, "distributed-backup");
}

static void
assert_malformed (const char *data, gsize len)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = backup_signaling_message_parse (bytes, &error);
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED);
  g_assert_null (message);
}

static void
assert_malformed_payload (const char *type, const char *payload_text)
{
  g_autoptr (GBytes) bytes = make_message (type, payload_text);

  assert_malformed (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
test_malformed (void)
{
  static const char *const texts[] = {
    "",
    "not json",
    "[1,2,3]",
    "\"sdp\"",
    "{}",
    "{\"type\":42}",
    "{\"type\":\"bogus\"}",
    "{\"type\":\"sdp\"}",
    "{\"type\":\"candidate\"}",
    "{\"type\":\"sdp\",\"payload\":42}",
    "{\"type\":\"sdp\",\"payload\":\"!!!!\"}",
    "{\"type\":\"sdp\",\"payload\":\"eyJ0eXBlIjoib2ZmZXIifQ\"}",   /* unpadded */
    "{\"type\":\"sdp\",\"payload\":\"ey J0eXBl\"}",
    "{\"type\":\"candidate\",\"payload\":\"Y2FuZGlk=YXRl\"}",       /* '=' inside */
    "{\"type\":\"sdp\",\"payload\":\"\"}",
    "{\"type\":\"ping\"",
  };
  g_autofree char *huge = NULL;
  g_autofree char *nul = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    assert_malformed (texts[i], strlen (texts[i]));

  /* payloads that decode but are not what the type says */
  assert_malformed_payload ("sdp", "v=0\r\n");
  assert_malformed_payload ("sdp", "[\"offer\"]");
  assert_malformed_payload ("sdp", "{\"type\":\"offer\"}");
  assert_malformed_payload ("sdp", "{\"type\":\"pranswer\",\"sdp\":\"v=0\\r\\n\"}");
  assert_malformed_payload ("sdp", "{\"type\":\"offer\",\"sdp\":\"hello\"}");
  assert_malformed_payload ("sdp", "{\"type\":\"offer\",\"sdp\":42}");
  assert_malformed_payload ("candidate", "");
  assert_malformed_payload ("candidate", "hello");
  assert_malformed_payload ("candidate", "candidate:1 1 udp 1 10.0.0.1 1 typ host\r\ncandidate:2 1 udp 1 10.0.0.2 1 typ host");

  /* a NUL inside */
  nul = g_strdup ("{\"type\":\"ping\"}X");
  nul[15] = '\0';
  assert_malformed (nul, 16);

  /* larger than 64 KiB, even if valid JSON */
  huge = g_strdup_printf ("{\"type\":\"ping\",\"pad\":\"%0*d\"}", BACKUP_SIGNALING_MESSAGE_MAX_SIZE, 0);
  assert_malformed (huge, strlen (huge));
}

/* The restart kind (this program's own): the exact bytes written, a round
 * trip, and what a hostile or broken writer could put in one. */
static void
test_restart (void)
{
  const char *const candidates[] = { "candidate:1 1 UDP 2015364095 10.0.0.1 4000 typ host",
                                     "candidate:2 1 UDP 1679032319 192.0.2.7 5000 typ srflx "
                                     "raddr 10.0.0.1 rport 4000",
                                     NULL };
  const char *pwd = "abcdefghijklmnopqrstuv+/";
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *inner = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *many = NULL;
  GString *list;

  bytes = backup_signaling_message_encode_restart (3, "Ab+/", pwd, candidates, NULL);
  inner = g_strdup_printf ("{\"generation\":3,\"ufrag\":\"Ab+/\",\"pwd\":\"%s\","
                           "\"candidates\":[\"%s\",\"%s\"]}", pwd, candidates[0],
                           candidates[1]);
  b64 = g_base64_encode ((const guchar *) inner, strlen (inner));
  expected = g_strdup_printf ("{\"type\":\"restart\",\"payload\":\"%s\"}", b64);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected,
                   strlen (expected));

  message = backup_signaling_message_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message->kind, ==, BACKUP_SIGNALING_KIND_RESTART);
  g_assert_cmpuint (message->generation, ==, 3);
  g_assert_cmpstr (message->ice_ufrag, ==, "Ab+/");
  g_assert_cmpstr (message->ice_pwd, ==, pwd);
  g_assert_cmpstrv (message->candidates, candidates);
  g_clear_pointer (&message, backup_signaling_message_free);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* No candidates at all is a restart too (the peer found none yet). */
  bytes = backup_signaling_message_encode_restart (1, "abcd", pwd, NULL, NULL);
  message = backup_signaling_message_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message->candidates);
  g_assert_cmpuint (g_strv_length (message->candidates), ==, 0);

  /* Short or foreign credentials, a bad generation, candidates that are
   * not candidates, too many of them. */
  assert_malformed_payload ("restart", "[]");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\"}");
  assert_malformed_payload ("restart", "{\"generation\":0,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":\"1\",\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":4294967297,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abc\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"ab;d\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"short\",\"candidates\":[]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\",\"candidates\":[1]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\","
                                       "\"candidates\":[\"hello\"]}");
  assert_malformed_payload ("restart", "{\"generation\":1,\"ufrag\":\"abcd\","
                                       "\"pwd\":\"abcdefghijklmnopqrstuv\","
                                       "\"candidates\":[\"candidate:1\\r\\ncandidate:2\"]}");
  list = g_string_new ("{\"generation\":1,\"ufrag\":\"abcd\",\"pwd\":\"abcdefghijklmnopqrstuv\","
                       "\"candidates\":[");
  for (guint i = 0; i <= BACKUP_SIGNALING_RESTART_MAX_CANDIDATES; i++)
    g_string_append_printf (list, "%s\"candidate:%u 1 UDP 1 10.0.0.1 %u typ host\"",
                            i > 0 ? "," : "", i, 1000 + i);
  g_string_append (list, "]}");
  many = g_string_free (list, FALSE);
  assert_malformed_payload ("restart", many);
}

static void
test_names (void)
{
  const char *session = "3f2b8c1e-5d4a-4e67-9a21-7c0d9e8f1a2b";
  const char *instance = "a1b2c3d4-0000-4111-8222-933344445555";
  g_autofree char *name = backup_signaling_make_name (session, BACKUP_SIGNALING_KIND_CANDIDATE, instance);
  g_autofree char *parsed_instance = NULL;
  BackupSignalingKind kind = BACKUP_SIGNALING_KIND_PING;
  g_autoptr (GError) error = NULL;
  static const char *const garbage[] = {
    "_garbage",
    "_ping",
    "_ping_",
    "_ping_.json",
    "_pong_abc.json",
    "_ping_abc.json.tmp",
    "_ping_abc",
    "_ping_a/b.json",
    "_ping_a b.json",
    "_ping_abc_def.json",
    "_.json",
  };

  g_assert_cmpstr (name, ==,
                   "3f2b8c1e-5d4a-4e67-9a21-7c0d9e8f1a2b_candidate_a1b2c3d4-0000-4111-8222-933344445555.json");
  g_assert_true (backup_signaling_parse_name (name, session, &kind, &parsed_instance, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, BACKUP_SIGNALING_KIND_CANDIDATE);
  g_assert_cmpstr (parsed_instance, ==, instance);

  for (guint k = BACKUP_SIGNALING_KIND_PING; k <= BACKUP_SIGNALING_KIND_CANDIDATE; k++)
    {
      g_autofree char *n = backup_signaling_make_name (session, k, "x1");

      g_assert_true (backup_signaling_parse_name (n, session, &kind, NULL, NULL));
      g_assert_cmpint (kind, ==, k);
    }

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autofree char *bad = g_strconcat (session, garbage[i], NULL);
      g_autoptr (GError) bad_error = NULL;

      g_assert_false (backup_signaling_parse_name (bad, session, NULL, NULL, &bad_error));
      g_assert_error (bad_error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED);
    }

  /* another session (even one that starts like ours) is not ours */
  {
    g_autofree char *other = g_strdup_printf ("%sX_ping_abc.json", session);
    g_autoptr (GError) other_error = NULL;

    g_assert_false (backup_signaling_parse_name (other, session, NULL, NULL, &other_error));
    g_assert_error (other_error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
    g_assert_false (backup_signaling_name_is_of_session (other, session));
  }
}

/* A malformed name in a shared store is reported without its control
 * characters: they would reach a terminal or forge a journal line. */
static void
test_hostile_name (void)
{
  static const char *const names[] = {
    "s1_sdp_\033]0;owned\007.json",
    "s1_sdp_a\nforged log line.json",
    "other\r\n_ping_x.json",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (backup_signaling_parse_name (names[i], "s1", NULL, NULL, &error));
      g_assert_nonnull (error);
      for (const char *p = error->message; *p != '\0'; p++)
        g_assert_false (g_ascii_iscntrl (*p));
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signaling/message/golden-ping", test_golden_ping);
  g_test_add_func ("/signaling/message/golden-sdp", test_golden_sdp);
  g_test_add_func ("/signaling/message/golden-candidate", test_golden_candidate);
  g_test_add_func ("/signaling/message/candidate-variants", test_candidate_variants);
  g_test_add_func ("/signaling/message/extensions", test_extensions);
  g_test_add_func ("/signaling/message/malformed", test_malformed);
  g_test_add_func ("/signaling/message/restart", test_restart);
  g_test_add_func ("/signaling/message/names", test_names);
  g_test_add_func ("/signaling/message/hostile-name", test_hostile_name);

  return g_test_run ();
}
