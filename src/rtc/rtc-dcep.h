/* rtc-dcep.h: the Data Channel Establishment Protocol (RFC 8832) and the
 * SCTP payload protocol identifiers of RFC 8831
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SCTP payload protocol identifiers (RFC 8831 section 8). */
#define RTC_PPID_DCEP 50
#define RTC_PPID_STRING 51
#define RTC_PPID_BINARY_PARTIAL 52 /* deprecated, received only */
#define RTC_PPID_BINARY 53
#define RTC_PPID_STRING_PARTIAL 54 /* deprecated, received only */
#define RTC_PPID_STRING_EMPTY 56
#define RTC_PPID_BINARY_EMPTY 57

typedef enum
{
  RTC_DCEP_MESSAGE_ACK = 0x02,
  RTC_DCEP_MESSAGE_OPEN = 0x03,
} RtcDcepMessageType;

typedef enum
{
  RTC_DCEP_CHANNEL_RELIABLE = 0x00,
  RTC_DCEP_CHANNEL_RELIABLE_UNORDERED = 0x80,
  RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT = 0x01,
  RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81,
  RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED = 0x02,
  RTC_DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82,
} RtcDcepChannelType;

typedef struct
{
  RtcDcepChannelType channel_type;
  guint16 priority;
  guint32 reliability_parameter;
  char *label;    /* UTF-8, never NULL after a successful parse ("" when empty) */
  char *protocol; /* UTF-8, never NULL after a successful parse */
} RtcDcepOpen;

/* DATA_CHANNEL_OPEN: 12-byte header, then label and protocol (no terminators). */
GBytes *rtc_dcep_build_open (const RtcDcepOpen *open);
/* DATA_CHANNEL_ACK: the single byte 0x02. */
GBytes *rtc_dcep_build_ack (void);

/* Parses one DCEP message (PPID 50). An ACK is any message whose first
 * byte is 0x02 (pion sends 4 bytes). An OPEN must have its full header, a
 * known channel type, and label/protocol lengths that exactly fill the rest;
 * label and protocol must be valid UTF-8. @open may be NULL; on success for
 * an OPEN it is filled and must be cleared with rtc_dcep_open_clear().
 * Fails with RTC_ERROR_PROTOCOL. */
gboolean rtc_dcep_parse (const guint8 *data,
                         gsize length,
                         RtcDcepMessageType *type,
                         RtcDcepOpen *open,
                         GError **error);

void rtc_dcep_open_clear (RtcDcepOpen *open);

G_END_DECLS
