/* rtc-stun.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Just enough STUN (RFC 5389) for an ICE agent that reads the selected
 * pair's socket itself once the pair is nominated: recognise a peer's
 * Binding request (a consent or keep-alive check), verify it with the local
 * ICE password, and answer it. Internal to src/rtc/.
 */
#pragma once

#include <sys/socket.h>
#include <glib.h>

G_BEGIN_DECLS

#define RTC_STUN_HEADER_SIZE 20
/* Large enough for a Binding success response to an IPv6 address. */
#define RTC_STUN_RESPONSE_MAX 96

typedef enum
{
  RTC_STUN_CLASS_REQUEST = 0,
  RTC_STUN_CLASS_INDICATION = 1,
  RTC_STUN_CLASS_SUCCESS = 2,
  RTC_STUN_CLASS_ERROR = 3,
} RtcStunClass;

#define RTC_STUN_METHOD_BINDING 0x001

/* RFC 7983: a first byte of 0 to 3 on an ICE socket means STUN. */
static inline gboolean
rtc_stun_is_stun_packet (const guint8 *packet, gsize length)
{
  return length >= 1 && packet[0] <= 3;
}

gboolean rtc_stun_parse_header (const guint8 *packet,
                                gsize length,
                                RtcStunClass *klass,
                                guint16 *method);

gboolean rtc_stun_check_integrity (const guint8 *packet,
                                   gsize length,
                                   const char *password);

gboolean rtc_stun_check_binding_request (const guint8 *packet,
                                         gsize length,
                                         const char *local_ufrag,
                                         const char *local_password);

gsize rtc_stun_write_binding_response (const guint8 *request,
                                       const struct sockaddr *source,
                                       const char *local_password,
                                       guint8 out[RTC_STUN_RESPONSE_MAX]);

gboolean rtc_stun_get_xor_mapped_address (const guint8 *packet,
                                          gsize length,
                                          struct sockaddr_storage *address);

guint32 rtc_stun_crc32 (const guint8 *data, gsize length);

G_END_DECLS
