/* fuzz-sdp.c: rtc_sdp_parse, rtc_sdp_generate and candidate normalization
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Besides memory errors, checks two properties: whatever the parser
 * accepts, the generator writes a description that parses back to the same
 * values; and normalizing a candidate twice gives the same text.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "rtc-error.h"
#include "rtc-sdp.h"

static void
check_round_trip (const RtcSdpDescription *desc)
{
  g_autofree char *text = rtc_sdp_generate (desc);
  g_autoptr (RtcSdpDescription) again = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (text);
  /* The writer adds a few lines the input may not have had. */
  if (strlen (text) > 64 * 1024)
    return;

  again = rtc_sdp_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->ice_ufrag, ==, desc->ice_ufrag);
  g_assert_cmpstr (again->ice_pwd, ==, desc->ice_pwd);
  g_assert_cmpint (again->ice_lite, ==, desc->ice_lite);
  g_assert_cmpmem (again->fingerprint, RTC_SDP_FINGERPRINT_LEN, desc->fingerprint,
                   RTC_SDP_FINGERPRINT_LEN);
  g_assert_cmpint (again->setup, ==, desc->setup);
  g_assert_cmpstr (again->mid, ==, desc->mid);
  g_assert_cmpuint (again->sctp_port, ==, desc->sctp_port);
  if (desc->max_message_size != 0)
    g_assert_cmpuint (again->max_message_size, ==, desc->max_message_size);
  else
    g_assert_cmpuint (again->max_message_size, ==, RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE);
  g_assert_false (again->legacy_sctpmap);
  g_assert_cmpint (again->end_of_candidates, ==, desc->end_of_candidates);
  g_assert_cmpuint (again->candidates->len, ==, desc->candidates->len);
  for (guint i = 0; i < desc->candidates->len; i++)
    g_assert_cmpstr (g_ptr_array_index (again->candidates, i), ==,
                     g_ptr_array_index (desc->candidates, i));
}

static void
check_candidate (const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = NULL;
  g_autofree char *again = NULL;
  guint component = 0, component2 = 0;

  normalized = rtc_sdp_normalize_candidate (line, &component, &error);
  if (normalized == NULL)
    {
      g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE);
      return;
    }

  g_assert_true (g_str_has_prefix (normalized, "candidate:"));
  g_assert_null (strpbrk (normalized, "\r\n"));
  g_assert_cmpuint (component, >=, 1);
  g_assert_cmpuint (component, <=, 256);
  again = rtc_sdp_normalize_candidate (normalized, &component2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, normalized);
  g_assert_cmpuint (component2, ==, component);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (RtcSdpDescription) desc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  /* The parser gets the exact bytes, with no terminator after them. */
  desc = rtc_sdp_parse ((const char *) data, (gssize) size, &error);
  if (desc != NULL)
    {
      g_assert_no_error (error);
      check_round_trip (desc);
    }
  else
    {
      g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP);
    }

  if (size <= 4096)
    {
      guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN];

      text = g_malloc (size + 1);
      if (size > 0)
        memcpy (text, data, size);
      text[size] = '\0';
      check_candidate (text);
      if (rtc_sdp_fingerprint_from_string (text, fingerprint, NULL))
        {
          g_autofree char *back = rtc_sdp_fingerprint_to_string (fingerprint);

          g_assert_cmpint (g_ascii_strcasecmp (back, text), ==, 0);
        }
    }

  return 0;
}
