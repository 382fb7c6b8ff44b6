/* rtc-dcep.c: the Data Channel Establishment Protocol (RFC 8832)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DATA_CHANNEL_OPEN, all fields in network byte order:
 *
 *   0      message type (0x03)
 *   1      channel type
 *   2..3   priority
 *   4..7   reliability parameter
 *   8..9   label length
 *   10..11 protocol length
 *   12..   label, then protocol (no terminators)
 *
 * DATA_CHANNEL_ACK is the single byte 0x02.
 */
#include "config.h"

#include <string.h>

#include "rtc-dcep.h"
#include "rtc-error.h"

#define DCEP_OPEN_HEADER_LEN 12

static gboolean
is_known_channel_type (guint8 type)
{
  switch (type)
    {
    case RTC_DCEP_CHANNEL_RELIABLE:
    case RTC_DCEP_CHANNEL_RELIABLE_UNORDERED:
    case RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT:
    case RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED:
    case RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED:
    case RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED:
      return TRUE;
    default:
      return FALSE;
    }
}

static inline void
put_u16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

static inline void
put_u32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

static inline guint16
get_u16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static inline guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | (guint32) p[3];
}

GBytes *
rtc_dcep_build_open (const RtcDcepOpen *open)
{
  const char *label, *protocol;
  gsize label_len, protocol_len;
  guint8 *msg;

  g_return_val_if_fail (open != NULL, NULL);
  g_return_val_if_fail (is_known_channel_type (open->channel_type), NULL);

  label = open->label != NULL ? open->label : "";
  protocol = open->protocol != NULL ? open->protocol : "";
  label_len = strlen (label);
  protocol_len = strlen (protocol);
  g_return_val_if_fail (label_len <= G_MAXUINT16 && protocol_len <= G_MAXUINT16, NULL);

  msg = g_malloc (DCEP_OPEN_HEADER_LEN + label_len + protocol_len);
  msg[0] = RTC_DCEP_MESSAGE_OPEN;
  msg[1] = (guint8) open->channel_type;
  put_u16 (msg + 2, open->priority);
  put_u32 (msg + 4, open->reliability_parameter);
  put_u16 (msg + 8, (guint16) label_len);
  put_u16 (msg + 10, (guint16) protocol_len);
  memcpy (msg + DCEP_OPEN_HEADER_LEN, label, label_len);
  memcpy (msg + DCEP_OPEN_HEADER_LEN + label_len, protocol, protocol_len);

  return g_bytes_new_take (msg, DCEP_OPEN_HEADER_LEN + label_len + protocol_len);
}

GBytes *
rtc_dcep_build_ack (void)
{
  static const guint8 ack[] = { RTC_DCEP_MESSAGE_ACK };

  return g_bytes_new_static (ack, sizeof ack);
}

gboolean
rtc_dcep_parse (const guint8 *data,
                gsize length,
                RtcDcepMessageType *type,
                RtcDcepOpen *open,
                GError **error)
{
  guint16 label_len, protocol_len;
  const char *label, *protocol;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (length == 0)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL, "Empty DCEP message");
      return FALSE;
    }

  if (data[0] == RTC_DCEP_MESSAGE_ACK)
    {
      /* RFC 8832 says one byte; pion sends four. */
      if (type != NULL)
        *type = RTC_DCEP_MESSAGE_ACK;
      return TRUE;
    }

  if (data[0] != RTC_DCEP_MESSAGE_OPEN)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL, "Unknown DCEP message type 0x%02x",
                   data[0]);
      return FALSE;
    }

  if (length < DCEP_OPEN_HEADER_LEN)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL,
                   "DCEP OPEN of %" G_GSIZE_FORMAT " bytes is shorter than its %d-byte header",
                   length, DCEP_OPEN_HEADER_LEN);
      return FALSE;
    }

  if (!is_known_channel_type (data[1]))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL, "Unknown DCEP channel type 0x%02x",
                   data[1]);
      return FALSE;
    }

  label_len = get_u16 (data + 8);
  protocol_len = get_u16 (data + 10);
  if ((gsize) label_len + protocol_len != length - DCEP_OPEN_HEADER_LEN)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL,
                   "DCEP OPEN label and protocol lengths (%u + %u) do not match the "
                   "%" G_GSIZE_FORMAT " bytes that follow the header",
                   label_len, protocol_len, length - DCEP_OPEN_HEADER_LEN);
      return FALSE;
    }

  label = (const char *) data + DCEP_OPEN_HEADER_LEN;
  protocol = label + label_len;
  /* g_utf8_validate_len() also refuses NUL bytes. */
  if ((label_len > 0 && !g_utf8_validate_len (label, label_len, NULL))
      || (protocol_len > 0 && !g_utf8_validate_len (protocol, protocol_len, NULL)))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_PROTOCOL,
                   "DCEP OPEN label or protocol is not valid UTF-8");
      return FALSE;
    }

  if (type != NULL)
    *type = RTC_DCEP_MESSAGE_OPEN;
  if (open != NULL)
    {
      open->channel_type = (RtcDcepChannelType) data[1];
      open->priority = get_u16 (data + 2);
      open->reliability_parameter = get_u32 (data + 4);
      open->label = g_strndup (label, label_len);
      open->protocol = g_strndup (protocol, protocol_len);
    }

  return TRUE;
}

void
rtc_dcep_open_clear (RtcDcepOpen *open)
{
  if (open == NULL)
    return;

  g_clear_pointer (&open->label, g_free);
  g_clear_pointer (&open->protocol, g_free);
}
