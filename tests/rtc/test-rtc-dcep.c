/* test-rtc-dcep.c: DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK (RFC 8832)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-dcep.h"
#include "rtc-error.h"

static void
test_build_open_layout (void)
{
  RtcDcepOpen open = {
    .channel_type = RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED,
    .priority = 0x0102,
    .reliability_parameter = 0x03040506,
    .label = (char *) "data",
    .protocol = (char *) "xy",
  };
  static const guint8 expected[] = { 0x03, 0x82, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00,
                                     0x04, 0x00, 0x02, 'd',  'a',  't',  'a',  'x',  'y' };
  g_autoptr (GBytes) bytes = rtc_dcep_build_open (&open);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpmem (data, len, expected, sizeof expected);
}

static void
test_build_ack (void)
{
  g_autoptr (GBytes) bytes = rtc_dcep_build_ack ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpuint (len, ==, 1);
  g_assert_cmpuint (data[0], ==, 0x02);
}

static void
test_round_trip (void)
{
  static const RtcDcepChannelType types[] = {
    RTC_DCEP_CHANNEL_RELIABLE,
    RTC_DCEP_CHANNEL_RELIABLE_UNORDERED,
    RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT,
    RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED,
    RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
    RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED,
  };
  static const char *const labels[] = { "data", "", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xa6", NULL };
  g_autofree char *long_label = g_strnfill (G_MAXUINT16, 'L');

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    for (guint l = 0; l <= g_strv_length ((char **) labels); l++)
      {
        RtcDcepOpen open = {
          .channel_type = types[t],
          .priority = (guint16) (256 * t + l),
          .reliability_parameter = 0xfffffff0u + t,
          .label = labels[l] != NULL ? (char *) labels[l] : long_label,
          .protocol = (char *) (l % 2 ? "binary" : ""),
        };
        RtcDcepOpen parsed = { 0 };
        RtcDcepMessageType type = 0;
        g_autoptr (GError) error = NULL;
        g_autoptr (GBytes) bytes = rtc_dcep_build_open (&open);
        gsize len;
        const guint8 *data = g_bytes_get_data (bytes, &len);

        g_assert_cmpuint (len, ==, 12 + strlen (open.label) + strlen (open.protocol));
        g_assert_true (rtc_dcep_parse (data, len, &type, &parsed, &error));
        g_assert_no_error (error);
        g_assert_cmpint (type, ==, RTC_DCEP_MESSAGE_OPEN);
        g_assert_cmpint (parsed.channel_type, ==, open.channel_type);
        g_assert_cmpuint (parsed.priority, ==, open.priority);
        g_assert_cmpuint (parsed.reliability_parameter, ==, open.reliability_parameter);
        g_assert_cmpstr (parsed.label, ==, open.label);
        g_assert_cmpstr (parsed.protocol, ==, open.protocol);
        rtc_dcep_open_clear (&parsed);
        g_assert_null (parsed.label);
        g_assert_null (parsed.protocol);
        rtc_dcep_open_clear (&parsed);
      }

  /* NULL label and protocol are written as empty strings. */
  {
    RtcDcepOpen open = { .channel_type = RTC_DCEP_CHANNEL_RELIABLE };
    RtcDcepOpen parsed = { 0 };
    g_autoptr (GBytes) bytes = rtc_dcep_build_open (&open);
    gsize len;
    const guint8 *data = g_bytes_get_data (bytes, &len);

    g_assert_cmpuint (len, ==, 12);
    g_assert_true (rtc_dcep_parse (data, len, NULL, &parsed, NULL));
    g_assert_cmpstr (parsed.label, ==, "");
    g_assert_cmpstr (parsed.protocol, ==, "");
    rtc_dcep_open_clear (&parsed);
  }
}

static void
test_ack_forms (void)
{
  static const guint8 one[] = { 0x02 };
  static const guint8 pion[] = { 0x02, 0x00, 0x00, 0x00 };
  RtcDcepMessageType type = RTC_DCEP_MESSAGE_OPEN;
  RtcDcepOpen open = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rtc_dcep_parse (one, sizeof one, &type, &open, &error));
  g_assert_no_error (error);
  g_assert_cmpint (type, ==, RTC_DCEP_MESSAGE_ACK);
  g_assert_null (open.label);

  type = RTC_DCEP_MESSAGE_OPEN;
  g_assert_true (rtc_dcep_parse (pion, sizeof pion, &type, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (type, ==, RTC_DCEP_MESSAGE_ACK);
}

static void
expect_protocol_error (const guint8 *data, gsize len)
{
  RtcDcepOpen open = { 0 };
  RtcDcepMessageType type = 0x77;
  g_autoptr (GError) error = NULL;

  g_assert_false (rtc_dcep_parse (data, len, &type, &open, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_cmpint (type, ==, 0x77);
  g_assert_null (open.label);
  g_assert_null (open.protocol);
}

static void
test_reject (void)
{
  /* A valid OPEN with label "ab" and protocol "c". */
  guint8 msg[] = { 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
                   'a',  'b',  'c' };
  guint8 copy[sizeof msg];

  g_assert_true (rtc_dcep_parse (msg, sizeof msg, NULL, NULL, NULL));

  /* Empty and truncated headers. */
  expect_protocol_error (msg, 0);
  expect_protocol_error (NULL, 0);
  for (gsize len = 1; len < 12; len++)
    expect_protocol_error (msg, len);
  /* Truncated body. */
  expect_protocol_error (msg, 13);
  expect_protocol_error (msg, 14);

  /* Label length that over-runs, under-runs. */
  memcpy (copy, msg, sizeof msg);
  copy[9] = 0x03;
  expect_protocol_error (copy, sizeof copy);
  copy[9] = 0x01;
  expect_protocol_error (copy, sizeof copy);
  copy[8] = 0xff;
  copy[9] = 0xff;
  expect_protocol_error (copy, sizeof copy);

  /* Protocol length that over-runs, under-runs, and a huge one. */
  memcpy (copy, msg, sizeof msg);
  copy[11] = 0x02;
  expect_protocol_error (copy, sizeof copy);
  copy[11] = 0x00;
  expect_protocol_error (copy, sizeof copy);
  copy[10] = 0xff;
  copy[11] = 0xff;
  expect_protocol_error (copy, sizeof copy);

  /* Trailing bytes after label and protocol. */
  {
    guint8 longer[sizeof msg + 1];

    memcpy (longer, msg, sizeof msg);
    longer[sizeof msg] = 'd';
    expect_protocol_error (longer, sizeof longer);
  }

  /* Unknown channel type. */
  memcpy (copy, msg, sizeof msg);
  copy[1] = 0x03;
  expect_protocol_error (copy, sizeof copy);
  copy[1] = 0x7f;
  expect_protocol_error (copy, sizeof copy);

  /* Non-UTF-8 label, non-UTF-8 protocol, NUL inside the label. */
  memcpy (copy, msg, sizeof msg);
  copy[12] = 0xff;
  expect_protocol_error (copy, sizeof copy);
  memcpy (copy, msg, sizeof msg);
  copy[14] = 0xc3;
  expect_protocol_error (copy, sizeof copy);
  memcpy (copy, msg, sizeof msg);
  copy[13] = 0x00;
  expect_protocol_error (copy, sizeof copy);
  /* A multi-byte sequence split between label and protocol. */
  memcpy (copy, msg, sizeof msg);
  copy[13] = 0xc3;
  copy[14] = 0xa9;
  expect_protocol_error (copy, sizeof copy);

  /* Unknown message types, including the reserved 0x00 and 0x01. */
  for (guint t = 0; t < 256; t++)
    {
      if (t == RTC_DCEP_MESSAGE_ACK || t == RTC_DCEP_MESSAGE_OPEN)
        continue;
      memcpy (copy, msg, sizeof msg);
      copy[0] = (guint8) t;
      expect_protocol_error (copy, sizeof copy);
      expect_protocol_error (copy, 1);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/dcep/build/open-layout", test_build_open_layout);
  g_test_add_func ("/rtc/dcep/build/ack", test_build_ack);
  g_test_add_func ("/rtc/dcep/round-trip", test_round_trip);
  g_test_add_func ("/rtc/dcep/parse/ack-forms", test_ack_forms);
  g_test_add_func ("/rtc/dcep/parse/reject", test_reject);

  return g_test_run ();
}
