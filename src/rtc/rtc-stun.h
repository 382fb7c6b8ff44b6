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

/* The largest request rtc_stun_write_padded_binding_request() writes, and the
 * attribute that pads it (comprehension-optional, unassigned). */
#define RTC_STUN_PADDED_MAX 65500
#define RTC_STUN_ATTR_PROBE_PADDING 0xC0DB

/* Writes an ICE Binding request (RFC 8445 §7.1.2: USERNAME
 * "<their ufrag>:<our ufrag>", PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED,
 * MESSAGE-INTEGRITY with the peer's password, FINGERPRINT) padded to exactly
 * @size bytes (a multiple of 4, at most RTC_STUN_PADDED_MAX): a path MTU
 * probe that any ICE agent answers, with a small response, if it arrives
 * whole. @out holds @size bytes. Returns @size, or 0 when @size is too small
 * for the attributes or not allowed. */
gsize rtc_stun_write_padded_binding_request (const guint8 transaction_id[12],
                                             const char *username,
                                             const char *remote_password,
                                             gboolean controlling,
                                             guint64 tie_breaker,
                                             guint32 priority,
                                             gsize size,
                                             guint8 *out);

/* A Binding success response to the request @transaction_id, whose
 * MESSAGE-INTEGRITY checks with the peer's password (FINGERPRINT, if
 * present, must be right). */
gboolean rtc_stun_check_binding_response (const guint8 *packet,
                                          gsize length,
                                          const guint8 transaction_id[12],
                                          const char *remote_password);

gboolean rtc_stun_get_xor_mapped_address (const guint8 *packet,
                                          gsize length,
                                          struct sockaddr_storage *address);

guint32 rtc_stun_crc32 (const guint8 *data, gsize length);

G_END_DECLS
