/* test-rtc-sdp.c: parsing and writing session descriptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-error.h"
#include "rtc-sdp.h"

static char *
load_sample (const char *name, gsize *length)
{
  g_autofree char *path = g_build_filename (RTC_TEST_DATA_DIR, name, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, length, &error);
  g_assert_no_error (error);
  return contents;
}

static char *
crlf_to_lf (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\r\n", -1);

  return g_strjoinv ("\n", lines);
}

static RtcSdpDescription *
parse_sample (const char *name, gboolean lf_only)
{
  g_autofree char *text = load_sample (name, NULL);
  g_autoptr (GError) error = NULL;
  RtcSdpDescription *desc;

  g_assert_nonnull (strstr (text, "\r\n"));
  if (lf_only)
    {
      g_autofree char *lf = crlf_to_lf (text);

      g_assert_null (strchr (lf, '\r'));
      desc = rtc_sdp_parse (lf, -1, &error);
    }
  else
    {
      desc = rtc_sdp_parse (text, strlen (text), &error);
    }
  g_assert_no_error (error);
  g_assert_nonnull (desc);
  return desc;
}

static void
assert_fingerprint (const RtcSdpDescription *desc, const char *expected)
{
  g_autofree char *text = rtc_sdp_fingerprint_to_string (desc->fingerprint);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_candidates (const RtcSdpDescription *desc, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < MIN (n, desc->candidates->len); i++)
    g_assert_cmpstr (g_ptr_array_index (desc->candidates, i), ==, expected[i]);
  g_assert_cmpuint (desc->candidates->len, ==, n);
}

static void
check_pion_offer (gconstpointer data)
{
  static const char *const candidates[] = {
    "candidate:1966762134 1 udp 2130706431 192.0.2.10 50212 typ host",
    "candidate:233762139 1 udp 2130706431 172.17.0.1 48322 typ host",
    "candidate:1479461463 1 udp 1694498815 203.0.113.7 50212 typ srflx raddr 0.0.0.0 rport 50212",
    NULL
  };
  g_autoptr (RtcSdpDescription) desc = parse_sample ("pion-offer.sdp", GPOINTER_TO_INT (data));

  g_assert_cmpstr (desc->ice_ufrag, ==, "HZtDzEjYVqTaHWjh");
  g_assert_cmpstr (desc->ice_pwd, ==, "oQXLPHxVGgIBuHuWlWXPpTwuSTEvKsnr");
  g_assert_false (desc->ice_lite);
  /* pion writes the fingerprint at the session level. */
  assert_fingerprint (desc, "A5:4D:CA:18:25:30:BB:1D:6D:13:2C:DE:D6:23:7B:2E:"
                            "D9:1E:3F:72:1F:CB:19:71:17:44:94:D6:49:3C:9D:5C");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTPASS);
  g_assert_cmpstr (desc->mid, ==, "0");
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  /* pion sends no a=max-message-size. */
  g_assert_cmpuint (desc->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  g_assert_false (desc->legacy_sctpmap);
  /* Each candidate is listed for components 1 and 2: only 1 is kept. */
  assert_candidates (desc, candidates);
  g_assert_true (desc->end_of_candidates);
}

static void
check_pion_answer (gconstpointer data)
{
  static const char *const candidates[] = { NULL };
  g_autoptr (RtcSdpDescription) desc = parse_sample ("pion-answer.sdp", GPOINTER_TO_INT (data));

  g_assert_cmpstr (desc->ice_ufrag, ==, "QgTnWLkRbdyMZpFe");
  g_assert_cmpstr (desc->ice_pwd, ==, "ZjfSkXnBUoYvqcHIEamtRCLwgyPDONsW");
  assert_fingerprint (desc, "34:60:BE:31:20:1E:69:FE:DA:A0:EE:E8:B9:99:7F:5C:"
                            "7C:29:99:FD:AF:E5:93:25:3C:D6:54:AF:4D:FA:D7:14");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTIVE);
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  g_assert_cmpuint (desc->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  assert_candidates (desc, candidates);
  g_assert_false (desc->end_of_candidates);
}

static void
check_aiortc_offer (gconstpointer data)
{
  static const char *const candidates[] = {
    "candidate:6b4b8a2a4d6c0bd2c2b1f8d6d2a25b8a 1 udp 2130706431 192.0.2.20 52721 typ host",
    "candidate:8d1e8e0e2bb4d3a0e5e1a6c6f3c0d9b7 1 udp 2130706431 2001:db8::20 40871 typ host",
    "candidate:0f3e5c2a8b7d6e1f0a9b8c7d6e5f4a3b 1 udp 1694498815 203.0.113.9 52721 typ srflx "
    "raddr 192.0.2.20 rport 52721",
    NULL
  };
  g_autoptr (RtcSdpDescription) desc = parse_sample ("aiortc-offer.sdp", GPOINTER_TO_INT (data));

  g_assert_cmpstr (desc->ice_ufrag, ==, "kZ9V");
  g_assert_cmpstr (desc->ice_pwd, ==, "3DmX9b7ybjpHvFMH1uOJWj");
  /* sha-384 and sha-512 come first and last: the sha-256 one is used. */
  assert_fingerprint (desc, "27:A0:AE:B3:FE:E9:23:2F:8A:F2:21:1F:9E:E4:91:C5:"
                            "B1:0B:EC:B5:56:3B:FC:1E:6F:93:42:7E:CB:C8:FE:29");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTPASS);
  g_assert_cmpstr (desc->mid, ==, "0");
  g_assert_true (desc->legacy_sctpmap);
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  g_assert_cmpuint (desc->max_message_size, ==, 65536);
  assert_candidates (desc, candidates);
  g_assert_true (desc->end_of_candidates);
}

static void
check_aiortc_answer (gconstpointer data)
{
  static const char *const candidates[] = {
    "candidate:1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f 1 udp 2130706431 192.0.2.21 40124 typ host",
    NULL
  };
  g_autoptr (RtcSdpDescription) desc = parse_sample ("aiortc-answer.sdp", GPOINTER_TO_INT (data));

  g_assert_cmpstr (desc->ice_ufrag, ==, "R2pX");
  g_assert_cmpstr (desc->ice_pwd, ==, "Kc8yGf1Qm0zWbV6tNn4aLs");
  assert_fingerprint (desc, "55:E5:CD:8E:46:DC:8E:D4:B7:C2:76:4D:2A:5A:4D:76:"
                            "77:06:F8:5D:86:90:02:4A:D6:BD:A3:40:1B:E9:C8:CB");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTIVE);
  g_assert_false (desc->legacy_sctpmap);
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  g_assert_cmpuint (desc->max_message_size, ==, 65536);
  assert_candidates (desc, candidates);
  g_assert_true (desc->end_of_candidates);
}

static void
check_chromium_offer (gconstpointer data)
{
  /* The mDNS and the link-local candidates are dropped. */
  static const char *const candidates[] = {
    "candidate:3197417843 1 udp 2122260223 192.0.2.30 58513 typ host generation 0 network-id 1 "
    "network-cost 10",
    "candidate:2999745851 1 udp 2122197247 2001:db8::30 58514 typ host generation 0 network-id 2 "
    "network-cost 10",
    "candidate:4233069003 1 tcp 1518280447 192.0.2.30 9 typ host tcptype active generation 0 "
    "network-id 1 network-cost 10",
    "candidate:842163049 1 udp 1686052607 203.0.113.30 58513 typ srflx raddr 192.0.2.30 rport "
    "58513 generation 0 ufrag Xv3y network-id 1 network-cost 10",
    "candidate:1802404785 1 udp 41885439 198.51.100.5 3478 typ relay raddr 203.0.113.30 rport "
    "58513 generation 0 ufrag Xv3y network-id 1 network-cost 10",
    NULL
  };
  g_autoptr (RtcSdpDescription) desc
      = parse_sample ("chromium-offer.sdp", GPOINTER_TO_INT (data));

  g_assert_cmpstr (desc->ice_ufrag, ==, "Xv3y");
  g_assert_cmpstr (desc->ice_pwd, ==, "Hd9sKqOvxeuDWnVAFx1q6bLc");
  assert_fingerprint (desc, "CC:C9:35:F6:CD:1F:61:22:6A:E1:53:38:AE:1A:34:00:"
                            "4D:33:BA:0D:24:6A:C0:4C:81:B1:BA:F2:3E:3B:F9:EE");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTPASS);
  g_assert_cmpstr (desc->mid, ==, "0");
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  g_assert_cmpuint (desc->max_message_size, ==, 262144);
  g_assert_false (desc->legacy_sctpmap);
  assert_candidates (desc, candidates);
  g_assert_false (desc->end_of_candidates);
}

static RtcSdpDescription *
make_description (void)
{
  RtcSdpDescription *desc = rtc_sdp_description_new ();

  desc->ice_ufrag = g_strdup ("abcD");
  desc->ice_pwd = g_strdup ("0123456789abcdefABCDEF+/");
  for (guint i = 0; i < RTC_SDP_FINGERPRINT_LEN; i++)
    desc->fingerprint[i] = (guint8) (i * 7 + 3);
  desc->setup = RTC_DTLS_SETUP_PASSIVE;
  desc->mid = g_strdup ("data");
  desc->sctp_port = 5001;
  desc->max_message_size = 262144;
  g_ptr_array_add (desc->candidates,
                   g_strdup ("candidate:1 1 udp 2130706431 127.0.0.1 54321 typ host"));
  g_ptr_array_add (desc->candidates,
                   g_strdup ("candidate:2 1 udp 2130706175 ::1 54322 typ host"));
  g_ptr_array_add (desc->candidates,
                   g_strdup ("candidate:3 1 udp 16777215 127.0.0.1 3478 typ relay raddr "
                             "127.0.0.1 rport 54321"));
  desc->end_of_candidates = TRUE;

  return desc;
}

static void
test_generate_round_trip (void)
{
  g_autoptr (RtcSdpDescription) desc = make_description ();
  g_autoptr (RtcSdpDescription) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n;

  text = rtc_sdp_generate (desc);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "v=0\r\no=- "));
  g_assert_true (g_str_has_suffix (text, "\r\n"));

  /* Every line ends with \r\n and nothing else. */
  lines = g_strsplit (text, "\r\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpstr (lines[n - 1], ==, "");
  for (guint i = 0; i + 1 < n; i++)
    {
      g_assert_null (strchr (lines[i], '\n'));
      g_assert_null (strchr (lines[i], '\r'));
    }

  /* The fixed lines, in the order pion, aiortc and Chromium read them. */
  g_assert_cmpstr (lines[2], ==, "s=-");
  g_assert_cmpstr (lines[3], ==, "t=0 0");
  g_assert_cmpstr (lines[4], ==, "a=group:BUNDLE data");
  g_assert_cmpstr (lines[5], ==, "a=msid-semantic: WMS");
  g_assert_cmpstr (lines[6], ==, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel");
  g_assert_cmpstr (lines[7], ==, "c=IN IP4 0.0.0.0");
  g_assert_cmpstr (lines[8], ==, "a=ice-ufrag:abcD");
  g_assert_cmpstr (lines[9], ==, "a=ice-pwd:0123456789abcdefABCDEF+/");
  g_assert_cmpstr (lines[10], ==, "a=ice-options:trickle");
  g_assert_true (g_str_has_prefix (lines[11], "a=fingerprint:sha-256 03:0A:11:"));
  g_assert_cmpstr (lines[12], ==, "a=setup:passive");
  g_assert_cmpstr (lines[13], ==, "a=mid:data");
  g_assert_cmpstr (lines[14], ==, "a=sctp-port:5001");
  g_assert_cmpstr (lines[15], ==, "a=max-message-size:262144");
  g_assert_cmpstr (lines[16], ==, "a=candidate:1 1 udp 2130706431 127.0.0.1 54321 typ host");
  g_assert_cmpstr (lines[19], ==, "a=end-of-candidates");
  g_assert_cmpuint (n, ==, 21);

  parsed = rtc_sdp_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (parsed->ice_ufrag, ==, desc->ice_ufrag);
  g_assert_cmpstr (parsed->ice_pwd, ==, desc->ice_pwd);
  g_assert_cmpmem (parsed->fingerprint, RTC_SDP_FINGERPRINT_LEN, desc->fingerprint,
                   RTC_SDP_FINGERPRINT_LEN);
  g_assert_cmpint (parsed->setup, ==, desc->setup);
  g_assert_cmpstr (parsed->mid, ==, desc->mid);
  g_assert_cmpuint (parsed->sctp_port, ==, desc->sctp_port);
  g_assert_cmpuint (parsed->max_message_size, ==, desc->max_message_size);
  g_assert_cmpuint (parsed->max_datagram, ==, 0);
  g_assert_false (parsed->legacy_sctpmap);
  g_assert_false (parsed->ice_lite);
  g_assert_true (parsed->end_of_candidates);
  g_assert_cmpuint (parsed->candidates->len, ==, desc->candidates->len);
  for (guint i = 0; i < desc->candidates->len; i++)
    g_assert_cmpstr (g_ptr_array_index (parsed->candidates, i), ==,
                     g_ptr_array_index (desc->candidates, i));
}

static void
test_generate_variants (void)
{
  g_autoptr (RtcSdpDescription) desc = make_description ();
  g_autoptr (RtcSdpDescription) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;

  /* No limit: no a=max-message-size line, so the reader assumes 64 KiB. */
  desc->max_message_size = 0;
  desc->end_of_candidates = FALSE;
  desc->ice_lite = TRUE;
  desc->max_datagram = 16420;
  g_clear_pointer (&desc->mid, g_free);
  /* A malformed candidate must not reach the text (no line injection). */
  g_ptr_array_add (desc->candidates,
                   g_strdup ("candidate:9 1 udp 1 10.0.0.1 1 typ host\r\na=setup:active"));
  g_ptr_array_add (desc->candidates, g_strdup ("garbage"));

  text = rtc_sdp_generate (desc);
  g_assert_null (strstr (text, "max-message-size"));
  g_assert_null (strstr (text, "end-of-candidates"));
  g_assert_null (strstr (text, "garbage"));
  g_assert_null (strstr (text, "a=setup:active"));
  g_assert_nonnull (strstr (text, "\r\na=ice-lite\r\nm=application"));
  g_assert_nonnull (strstr (text, "\r\na=mid:0\r\n"));
  g_assert_nonnull (strstr (text, "\r\na=group:BUNDLE 0\r\n"));
  g_assert_nonnull (strstr (text, "\r\na=x-max-datagram:16420\r\n"));

  parsed = rtc_sdp_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  g_assert_true (parsed->ice_lite);
  g_assert_false (parsed->end_of_candidates);
  g_assert_cmpuint (parsed->candidates->len, ==, 3);
  g_assert_cmpstr (parsed->mid, ==, "0");
  g_assert_cmpuint (parsed->max_datagram, ==, 16420);

  /* Each description gets its own session id. */
  text2 = rtc_sdp_generate (desc);
  g_assert_cmpstr (text, !=, text2);
}

/* A minimal valid description to break one line at a time. */
static const char base_sdp[] = "v=0\r\n"
                               "o=- 1 2 IN IP4 127.0.0.1\r\n"
                               "s=-\r\n"
                               "t=0 0\r\n"
                               "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                               "c=IN IP4 0.0.0.0\r\n"
                               "a=ice-ufrag:abcd\r\n"
                               "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                               "a=fingerprint:sha-256 "
                               "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                               "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\r\n"
                               "a=setup:active\r\n"
                               "a=mid:0\r\n"
                               "a=sctp-port:5000\r\n"
                               "a=max-message-size:1024\r\n";

/* Replaces the first line starting with @prefix by @replacement (removes
 * it when NULL); appends @replacement when @prefix is NULL. */
static char *
edit_sdp (const char *prefix, const char *replacement)
{
  g_auto (GStrv) lines = g_strsplit (base_sdp, "\r\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean done = FALSE;

  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      if (!done && prefix != NULL && g_str_has_prefix (lines[i], prefix))
        {
          done = TRUE;
          if (replacement != NULL)
            g_string_append_printf (out, "%s\r\n", replacement);
          continue;
        }
      g_string_append_printf (out, "%s\r\n", lines[i]);
    }
  if (prefix == NULL)
    g_string_append_printf (out, "%s\r\n", replacement);
  else
    g_assert_true (done);

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_base_is_valid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcSdpDescription) desc = rtc_sdp_parse (base_sdp, -1, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (desc->max_message_size, ==, 1024);
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_ACTIVE);
  g_assert_cmpuint (desc->fingerprint[15], ==, 0xff);
  g_assert_cmpuint (desc->fingerprint[31], ==, 0xff);
}

typedef struct
{
  const char *name;
  const char *prefix;
  const char *replacement;
} RejectCase;

static const RejectCase reject_cases[] = {
  { "no-application", "m=application", "m=audio 9 UDP/TLS/RTP/SAVPF 111" },
  { "application-not-datachannel", "m=application", "m=application 9 UDP/BFCP *" },
  { "port-zero", "m=application", "m=application 0 UDP/DTLS/SCTP webrtc-datachannel" },
  { "bad-mline-port", "m=application", "m=application x UDP/DTLS/SCTP webrtc-datachannel" },
  { "missing-ufrag", "a=ice-ufrag", NULL },
  { "missing-pwd", "a=ice-pwd", NULL },
  { "short-ufrag", "a=ice-ufrag", "a=ice-ufrag:abc" },
  { "short-pwd", "a=ice-pwd", "a=ice-pwd:abc" },
  { "ufrag-colon", "a=ice-ufrag", "a=ice-ufrag:ab:cd" },
  { "pwd-space", "a=ice-pwd", "a=ice-pwd:abcdefghijklmnopqrstuv x" },
  { "duplicate-ufrag", NULL, "a=ice-ufrag:efgh" },
  { "missing-fingerprint", "a=fingerprint", NULL },
  { "sha1-fingerprint", "a=fingerprint",
    "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33" },
  { "short-fingerprint", "a=fingerprint",
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee" },
  { "long-fingerprint", "a=fingerprint",
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00" },
  { "non-hex-fingerprint", "a=fingerprint",
    "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FG:"
    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff" },
  { "no-colon-fingerprint", "a=fingerprint",
    "a=fingerprint:sha-256 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff" },
  { "fingerprint-no-value", "a=fingerprint", "a=fingerprint:sha-256" },
  { "missing-setup", "a=setup", NULL },
  { "bad-setup", "a=setup", "a=setup:holdconn" },
  { "empty-setup", "a=setup", "a=setup:" },
  { "duplicate-setup", NULL, "a=setup:passive" },
  { "sctp-port-zero", "a=sctp-port", "a=sctp-port:0" },
  { "sctp-port-too-big", "a=sctp-port", "a=sctp-port:65536" },
  { "sctp-port-text", "a=sctp-port", "a=sctp-port:five" },
  { "sctp-port-negative", "a=sctp-port", "a=sctp-port:-5000" },
  { "max-message-size-text", "a=max-message-size", "a=max-message-size:lots" },
  { "max-message-size-negative", "a=max-message-size", "a=max-message-size:-1" },
  { "max-message-size-suffix", "a=max-message-size", "a=max-message-size:64k" },
  { "max-message-size-empty", "a=max-message-size", "a=max-message-size:" },
  { "max-message-size-overflow", "a=max-message-size",
    "a=max-message-size:99999999999999999999999" },
  { "duplicate-max-message-size", NULL, "a=max-message-size:2048" },
  { "max-datagram-small", NULL, "a=x-max-datagram:575" },
  { "max-datagram-big", NULL, "a=x-max-datagram:65508" },
  { "max-datagram-text", NULL, "a=x-max-datagram:big" },
  { "max-datagram-empty", NULL, "a=x-max-datagram:" },
  { "first-line", "v=0", "v=1" },
  { "not-a-line", "s=-", "hello" },
  { "stray-cr", "s=-", "s=a\rb" },
  { "long-line", "s=-", NULL }, /* replaced at run time */
  { "bad-mid", "a=mid", "a=mid:a b" },
  { "legacy-bad-port", "m=application", "m=application 9 DTLS/SCTP 0" },
};

static void
test_reject (gconstpointer data)
{
  const RejectCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcSdpDescription) desc = NULL;
  g_autofree char *text = NULL;

  if (g_str_equal (c->name, "long-line"))
    {
      g_autofree char *filler = g_strnfill (5000, 'x');
      g_autofree char *line = g_strconcat ("s=", filler, NULL);

      text = edit_sdp (c->prefix, line);
    }
  else
    {
      text = edit_sdp (c->prefix, c->replacement);
    }

  desc = rtc_sdp_parse (text, -1, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_assert_null (desc);
  g_test_message ("%s: %s", c->name, error->message);
}

static void
test_reject_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcSdpDescription) desc = NULL;
  g_autofree char *huge = NULL;
  g_autoptr (GString) big = g_string_new (base_sdp);
  char *with_nul = g_strdup (base_sdp);
  gsize base_len = strlen (base_sdp);

  /* Over 64 KiB, even when every line is a harmless attribute. */
  while (big->len <= 64 * 1024)
    g_string_append (big, "a=x-padding:0123456789012345678901234567890123456789\r\n");
  desc = rtc_sdp_parse (big->str, big->len, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_assert_null (desc);
  g_clear_error (&error);

  /* The same text without its NUL terminator known: length -1 stops at the cap. */
  desc = rtc_sdp_parse (big->str, -1, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);

  /* An embedded NUL inside the given length. */
  with_nul[20] = '\0';
  desc = rtc_sdp_parse (with_nul, base_len, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);
  g_free (with_nul);

  /* Invalid UTF-8. */
  huge = edit_sdp ("s=-", "s=\xff\xfe");
  desc = rtc_sdp_parse (huge, -1, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);

  /* Empty. */
  desc = rtc_sdp_parse ("", 0, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);

  /* A prefix of a valid description, cut inside the fingerprint. */
  desc = rtc_sdp_parse (base_sdp, strstr (base_sdp, "a=fingerprint") - base_sdp + 40, &error);
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);

  /* But a cut right after a complete line is just a shorter SDP. */
  desc = rtc_sdp_parse (base_sdp, base_len - strlen ("a=max-message-size:1024\r\n"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (desc->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
}

static void
test_many_candidates (void)
{
  g_autoptr (GString) text = g_string_new (base_sdp);
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcSdpDescription) desc = NULL;

  for (guint i = 0; i < 200; i++)
    g_string_append_printf (text, "a=candidate:%u 1 udp %u 192.0.2.%u %u typ host\r\n", i,
                            2130706431 - i, i % 250 + 1, 40000 + i);

  /* Only the first 128 are kept. */
  desc = rtc_sdp_parse (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (desc->candidates->len, ==, 128);
  g_assert_cmpstr (g_ptr_array_index (desc->candidates, 127), ==,
                   "candidate:127 1 udp 2130706304 192.0.2.128 40127 typ host");
}

static void
test_levels (void)
{
  static const char session_level[] = "v=0\n"
                                      "o=- 1 2 IN IP4 127.0.0.1\n"
                                      "s=-\n"
                                      "t=0 0\n"
                                      "a=ice-lite\n"
                                      "a=ice-ufrag:sess\n"
                                      "a=ice-pwd:sessionsessionsession1\n"
                                      "a=fingerprint:sha-256 "
                                      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                      "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\n"
                                      "a=setup:passive\n"
                                      "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
                                      "a=mid:audio\n"
                                      "a=ice-ufrag:XXXX\n"
                                      "a=setup:bogus\n"
                                      "a=sctp-port:0\n"
                                      "m=application 9 UDP/BFCP *\n"
                                      "a=mid:bfcp\n"
                                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
                                      "a=mid:dc\n"
                                      "a=candidate:1 2 udp 1 192.0.2.1 9 typ host\n"
                                      "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\n"
                                      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
                                      "a=mid:second\n"
                                      "a=ice-ufrag:no\n"
                                      "a=candidate:2 1 udp 1 192.0.2.2 9 typ host\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcSdpDescription) desc = rtc_sdp_parse (session_level, -1, &error);
  g_autoptr (RtcSdpDescription) overridden = NULL;

  /* Session-level values apply; other m-sections are not looked at; the
   * first data-channel section is used. */
  g_assert_no_error (error);
  g_assert_true (desc->ice_lite);
  g_assert_cmpstr (desc->ice_ufrag, ==, "sess");
  g_assert_cmpstr (desc->ice_pwd, ==, "sessionsessionsession1");
  g_assert_cmpint (desc->setup, ==, RTC_DTLS_SETUP_PASSIVE);
  g_assert_cmpstr (desc->mid, ==, "dc");
  g_assert_cmpuint (desc->sctp_port, ==, 5000);
  g_assert_cmpuint (desc->candidates->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (desc->candidates, 0), ==,
                   "candidate:1 1 udp 1 192.0.2.1 9 typ host");

  /* Media-level values win; a media-level fingerprint list replaces the
   * session one even when the session one was sha-256. */
  {
    g_autofree char *text = g_strdup_printf ("v=0\r\ns=-\r\na=ice-ufrag:sess\r\n"
                                             "a=ice-pwd:sessionsessionsession1\r\n"
                                             "a=setup:passive\r\n"
                                             "a=fingerprint:sha-256 "
                                             "FF:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                             "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\r\n"
                                             "%s",
                                             strstr (base_sdp, "m=application"));

    overridden = rtc_sdp_parse (text, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (overridden->ice_ufrag, ==, "abcd");
    g_assert_cmpint (overridden->setup, ==, RTC_DTLS_SETUP_ACTIVE);
    g_assert_cmpuint (overridden->fingerprint[0], ==, 0x00);
  }
  {
    g_autofree char *text = g_strdup_printf ("v=0\r\ns=-\r\n"
                                             "a=fingerprint:sha-256 "
                                             "FF:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                             "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\r\n"
                                             "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                             "a=ice-ufrag:abcd\r\n"
                                             "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                                             "a=fingerprint:sha-1 "
                                             "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                             "00:11:22:33\r\n"
                                             "a=setup:actpass\r\n");
    g_autoptr (RtcSdpDescription) none = rtc_sdp_parse (text, -1, &error);

    g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
    g_assert_null (none);
    g_clear_error (&error);
  }
}

static void
test_legacy_forms (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other_port = edit_sdp ("m=application", "m=application 9 DTLS/SCTP 5002");
  g_autofree char *wrong_map = NULL;
  g_autoptr (RtcSdpDescription) desc = NULL;
  g_autoptr (RtcSdpDescription) bad = NULL;

  /* The port comes from the m-line; a=sctp-port does not override it. */
  desc = rtc_sdp_parse (other_port, -1, &error);
  g_assert_no_error (error);
  g_assert_true (desc->legacy_sctpmap);
  g_assert_cmpuint (desc->sctp_port, ==, 5002);

  wrong_map = edit_sdp ("a=sctp-port", "a=sctpmap:5000 something-else 16");
  {
    g_autofree char *text = NULL;
    g_auto (GStrv) parts
        = g_strsplit (wrong_map, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", 2);

    text = g_strconcat (parts[0], "m=application 9 DTLS/SCTP 5000", parts[1], NULL);
    bad = rtc_sdp_parse (text, -1, &error);
    g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
    g_assert_null (bad);
  }
}

typedef struct
{
  const char *input;
  const char *expected; /* NULL: refused */
  guint component;
} CandidateCase;

static const CandidateCase candidate_cases[] = {
  { "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host", 1 },
  { "a=candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host\r\n",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host", 1 },
  { "candidate:1 1 UDP 2130706431 10.0.0.1 54321 typ host  \n",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host", 1 },
  { "  candidate:1  1 udp\t2130706431 10.0.0.1 54321 typ host",
    "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host", 1 },
  { "candidate:1 2 udp 2130706430 10.0.0.1 54322 typ host",
    "candidate:1 2 udp 2130706430 10.0.0.1 54322 typ host", 2 },
  { "candidate:3 1 tcp 1518280447 192.0.2.30 9 typ host tcptype active",
    "candidate:3 1 tcp 1518280447 192.0.2.30 9 typ host tcptype active", 1 },
  { "candidate:3 1 TCP 1518214911 192.0.2.30 50000 typ host tcptype passive generation 0",
    "candidate:3 1 tcp 1518214911 192.0.2.30 50000 typ host tcptype passive generation 0", 1 },
  { "candidate:4 1 udp 41885439 198.51.100.5 3478 typ relay raddr 203.0.113.30 rport 58513",
    "candidate:4 1 udp 41885439 198.51.100.5 3478 typ relay raddr 203.0.113.30 rport 58513", 1 },
  { "candidate:5 1 udp 1686052607 2001:db8::1 5000 typ srflx raddr :: rport 0 generation 0 ufrag "
    "Xv3y network-id 1 network-cost 10",
    "candidate:5 1 udp 1686052607 2001:db8::1 5000 typ srflx raddr :: rport 0 generation 0 ufrag "
    "Xv3y network-id 1 network-cost 10", 1 },
  { "candidate:6 1 udp 1 ::1 0 typ prflx", "candidate:6 1 udp 1 ::1 0 typ prflx", 1 },
  /* refused */
  { "", NULL, 0 },
  { "garbage", NULL, 0 },
  { "a=candidate:", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ", NULL, 0 },
  { "candidate:1 0 udp 2130706431 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 257 udp 2130706431 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 1 sctp 2130706431 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 4294967296 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 0 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp -5 10.0.0.1 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0.1 65536 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0.1 54321 type host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ local", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 example.org 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 4b3e2a53-4c2d-4b8e-9d6a-2f1c0e7b9a11.local 54321 typ host", NULL,
    0 },
  { "candidate:1 1 udp 2130706431 fe80::1 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 fe80::1%eth0 54321 typ host", NULL, 0 },
  { "candidate:1 1 udp 2130706431 febf::1 54321 typ host", NULL, 0 },
  { "candidate:1 1 tcp 1518280447 10.0.0.1 9 typ host", NULL, 0 },
  { "candidate:1 1 tcp 1518280447 10.0.0.1 9 typ host tcptype sideways", NULL, 0 },
  { "candidate:1 1 udp 2130706431 10.0.0.1 54321 typ host tcptype active", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ relay raddr 10.0.0.2", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ relay raddr 10.0.0.2 rport", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ relay raddr name.local rport 5", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ relay rport 5", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ relay raddr 10.0.0.2 rport 70000", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ host generation 0 generation", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ host x=y\x01 z", NULL, 0 },
  { "candidate:1 1 udp 1 10.0.0.1 1 typ host\r\na=setup:active", NULL, 0 },
  { "candidate:f\xc3\xa9 1 udp 1 10.0.0.1 1 typ host", NULL, 0 },
  { "candidate:0123456789012345678901234567890123 1 udp 1 10.0.0.1 1 typ host", NULL, 0 },
};

static void
test_normalize_candidates (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (candidate_cases); i++)
    {
      const CandidateCase *c = &candidate_cases[i];
      g_autoptr (GError) error = NULL;
      g_autofree char *out = NULL;
      guint component = 999;

      out = rtc_sdp_normalize_candidate (c->input, &component, &error);
      if (c->expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (out, ==, c->expected);
          g_assert_cmpuint (component, ==, c->component);
          /* Normalizing is idempotent. */
          {
            g_autofree char *again = rtc_sdp_normalize_candidate (out, NULL, &error);

            g_assert_no_error (error);
            g_assert_cmpstr (again, ==, out);
          }
        }
      else
        {
          if (error == NULL)
            g_test_message ("case %u accepted: %s", i, out);
          g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE);
          g_assert_null (out);
          g_assert_cmpuint (component, ==, 999);
        }
    }

  /* Over-long lines are refused before being looked at. */
  {
    g_autofree char *pad = g_strnfill (2000, 'a');
    g_autofree char *line = g_strdup_printf ("candidate:1 1 udp 1 10.0.0.1 1 typ host x %s", pad);
    g_autoptr (GError) error = NULL;
    g_autofree char *out = rtc_sdp_normalize_candidate (line, NULL, &error);

    g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE);
    g_assert_null (out);
  }
}

static void
test_fingerprint_strings (void)
{
  guint8 fp[RTC_SDP_FINGERPRINT_LEN];
  guint8 back[RTC_SDP_FINGERPRINT_LEN];
  g_autofree char *text = NULL;
  g_autofree char *lower = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < sizeof fp; i++)
    fp[i] = (guint8) (255 - i * 5);
  text = rtc_sdp_fingerprint_to_string (fp);
  g_assert_cmpuint (strlen (text), ==, 95);
  g_assert_true (g_str_has_prefix (text, "FF:FA:F5:F0:"));

  g_assert_true (rtc_sdp_fingerprint_from_string (text, back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (fp, sizeof fp, back, sizeof back);

  lower = g_ascii_strdown (text, -1);
  memset (back, 0, sizeof back);
  g_assert_true (rtc_sdp_fingerprint_from_string (lower, back, &error));
  g_assert_cmpmem (fp, sizeof fp, back, sizeof back);

  memset (back, 0x5a, sizeof back);
  lower[2] = '-';
  g_assert_false (rtc_sdp_fingerprint_from_string (lower, back, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
  g_clear_error (&error);
  /* Nothing is written on failure. */
  g_assert_cmpuint (back[0], ==, 0x5a);
  g_assert_false (rtc_sdp_fingerprint_from_string ("", back, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
}

static void
test_type_strings (void)
{
  RtcSdpType type = RTC_SDP_TYPE_ANSWER;

  g_assert_cmpstr (rtc_sdp_type_to_string (RTC_SDP_TYPE_OFFER), ==, "offer");
  g_assert_cmpstr (rtc_sdp_type_to_string (RTC_SDP_TYPE_ANSWER), ==, "answer");
  g_assert_true (rtc_sdp_type_from_string ("offer", &type));
  g_assert_cmpint (type, ==, RTC_SDP_TYPE_OFFER);
  g_assert_true (rtc_sdp_type_from_string ("answer", &type));
  g_assert_cmpint (type, ==, RTC_SDP_TYPE_ANSWER);
  g_assert_false (rtc_sdp_type_from_string ("pranswer", &type));
  g_assert_false (rtc_sdp_type_from_string ("Offer", &type));
  g_assert_false (rtc_sdp_type_from_string (NULL, &type));
  g_assert_cmpint (type, ==, RTC_SDP_TYPE_ANSWER);
}

static void
test_description_new_free (void)
{
  RtcSdpDescription *desc = rtc_sdp_description_new ();

  g_assert_nonnull (desc->candidates);
  g_assert_cmpuint (desc->sctp_port, ==, RTC_SDP_DEFAULT_SCTP_PORT);
  g_assert_cmpuint (desc->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  rtc_sdp_description_free (desc);
  rtc_sdp_description_free (NULL);
}

int
main (int argc, char *argv[])
{
  static const struct
  {
    const char *name;
    GTestDataFunc func;
  } samples[] = {
    { "pion-offer", check_pion_offer },     { "pion-answer", check_pion_answer },
    { "aiortc-offer", check_aiortc_offer }, { "aiortc-answer", check_aiortc_answer },
    { "chromium-offer", check_chromium_offer },
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *crlf = g_strdup_printf ("/rtc/sdp/sample/%s/crlf", samples[i].name);
      g_autofree char *lf = g_strdup_printf ("/rtc/sdp/sample/%s/lf", samples[i].name);

      g_test_add_data_func (crlf, GINT_TO_POINTER (FALSE), samples[i].func);
      g_test_add_data_func (lf, GINT_TO_POINTER (TRUE), samples[i].func);
    }
  g_test_add_func ("/rtc/sdp/description/new-free", test_description_new_free);
  g_test_add_func ("/rtc/sdp/generate/round-trip", test_generate_round_trip);
  g_test_add_func ("/rtc/sdp/generate/variants", test_generate_variants);
  g_test_add_func ("/rtc/sdp/parse/base", test_base_is_valid);
  for (guint i = 0; i < G_N_ELEMENTS (reject_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rtc/sdp/reject/%s", reject_cases[i].name);

      g_test_add_data_func (path, &reject_cases[i], test_reject);
    }
  g_test_add_func ("/rtc/sdp/reject/bytes", test_reject_bytes);
  g_test_add_func ("/rtc/sdp/parse/levels", test_levels);
  g_test_add_func ("/rtc/sdp/parse/many-candidates", test_many_candidates);
  g_test_add_func ("/rtc/sdp/parse/legacy", test_legacy_forms);
  g_test_add_func ("/rtc/sdp/candidate/normalize", test_normalize_candidates);
  g_test_add_func ("/rtc/sdp/fingerprint/strings", test_fingerprint_strings);
  g_test_add_func ("/rtc/sdp/type/strings", test_type_strings);

  return g_test_run ();
}
