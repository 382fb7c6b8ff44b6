/* fuzz-dcep.c: rtc_dcep_parse and rtc_dcep_build_open
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Besides memory errors, checks that every OPEN the parser accepts is
 * rebuilt byte for byte.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "rtc-dcep.h"
#include "rtc-error.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  RtcDcepOpen open = { 0 };
  RtcDcepMessageType type = 0;
  g_autoptr (GError) error = NULL;

  /* The parser gets the exact bytes: a copy of exactly @size bytes lets
   * the address sanitizer see any read past the end. */
  g_autofree guint8 *copy = g_memdup2 (data, size);

  if (!rtc_dcep_parse (copy, size, &type, &open, &error))
    {
      g_assert_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL);
      g_assert_null (open.label);
      return 0;
    }

  g_assert_no_error (error);
  if (type == RTC_DCEP_MESSAGE_ACK)
    {
      g_assert_cmpuint (size, >=, 1);
      g_assert_cmpuint (data[0], ==, RTC_DCEP_MESSAGE_ACK);
      g_assert_null (open.label);
      return 0;
    }

  g_assert_cmpint (type, ==, RTC_DCEP_MESSAGE_OPEN);
  g_assert_nonnull (open.label);
  g_assert_nonnull (open.protocol);
  {
    g_autoptr (GBytes) rebuilt = rtc_dcep_build_open (&open);
    gsize len;
    const guint8 *bytes = g_bytes_get_data (rebuilt, &len);

    g_assert_cmpmem (bytes, len, data, size);
  }
  rtc_dcep_open_clear (&open);

  return 0;
}
