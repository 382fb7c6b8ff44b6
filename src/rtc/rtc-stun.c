/* rtc-stun.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Message layout (RFC 5389 §6): a 20-byte header (type, length of what
 * follows, magic cookie, 96-bit transaction ID), then attributes as
 * type-length-value, each padded to 4 bytes. MESSAGE-INTEGRITY is an
 * HMAC-SHA1 of the message up to it, computed with the header's length
 * already counting it; FINGERPRINT, always last, is the CRC-32 of the message
 * up to it XOR 0x5354554e, computed the same way.
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>
#include <gnutls/crypto.h>

#include "rtc-stun.h"

#define MAGIC_COOKIE 0x2112A442u
#define FINGERPRINT_XOR 0x5354554eu

#define ATTR_USERNAME 0x0006
#define ATTR_PRIORITY 0x0024
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_FINGERPRINT 0x8028

#define INTEGRITY_SIZE 20

static guint16
read16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static guint32
read32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
write16 (guint8 *p, guint16 value)
{
  p[0] = value >> 8;
  p[1] = value & 0xff;
}

static void
write32 (guint8 *p, guint32 value)
{
  p[0] = value >> 24;
  p[1] = (value >> 16) & 0xff;
  p[2] = (value >> 8) & 0xff;
  p[3] = value & 0xff;
}

static guint32 crc_table[256];

static guint32
crc32_update (guint32 reg, const guint8 *data, gsize length)
{
  static gsize table_ready = 0;

  if (g_once_init_enter (&table_ready))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;

          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          crc_table[i] = c;
        }
      g_once_init_leave (&table_ready, 1);
    }

  for (gsize i = 0; i < length; i++)
    reg = crc_table[(reg ^ data[i]) & 0xff] ^ (reg >> 8);
  return reg;
}

/* CRC-32 as in ISO 3309 / zlib. */
guint32
rtc_stun_crc32 (const guint8 *data, gsize length)
{
  return crc32_update (0xffffffffu, data, length) ^ 0xffffffffu;
}

gboolean
rtc_stun_parse_header (const guint8 *packet, gsize length, RtcStunClass *klass, guint16 *method)
{
  guint16 type;

  if (length < RTC_STUN_HEADER_SIZE || (packet[0] & 0xc0) != 0
      || read32 (packet + 4) != MAGIC_COOKIE)
    return FALSE;
  if ((gsize) read16 (packet + 2) + RTC_STUN_HEADER_SIZE != length || length % 4 != 0)
    return FALSE;

  type = read16 (packet);
  if (klass != NULL)
    *klass = (RtcStunClass) (((type >> 4) & 1) | ((type >> 7) & 2));
  if (method != NULL)
    *method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  return TRUE;
}

/* Finds the first attribute of @type; returns its offset in @packet (of its
 * type field) or 0. Malformed attribute lists find nothing. */
static gsize
find_attribute (const guint8 *packet, gsize length, guint16 type, guint16 *value_length)
{
  gsize offset = RTC_STUN_HEADER_SIZE;

  while (offset + 4 <= length)
    {
      guint16 attr_type = read16 (packet + offset);
      guint16 attr_length = read16 (packet + offset + 2);
      gsize next = offset + 4 + (((gsize) attr_length + 3) & ~(gsize) 3);

      if (next > length)
        return 0;
      if (attr_type == type)
        {
          *value_length = attr_length;
          return offset;
        }
      offset = next;
    }
  return 0;
}

static gboolean
equal_in_constant_time (const guint8 *a, const guint8 *b, gsize length)
{
  guint8 difference = 0;

  for (gsize i = 0; i < length; i++)
    difference |= a[i] ^ b[i];
  return difference == 0;
}

/* HMAC-SHA1 of packet[0, @end) with the header's length field replaced by
 * @header_length. */
static gboolean
compute_integrity (const guint8 *packet,
                   gsize end,
                   guint16 header_length,
                   const char *password,
                   guint8 out[INTEGRITY_SIZE])
{
  gnutls_hmac_hd_t hmac;
  guint8 header[RTC_STUN_HEADER_SIZE];

  memcpy (header, packet, sizeof header);
  write16 (header + 2, header_length);
  if (gnutls_hmac_init (&hmac, GNUTLS_MAC_SHA1, password, strlen (password)) < 0)
    return FALSE;
  if (gnutls_hmac (hmac, header, sizeof header) < 0
      || gnutls_hmac (hmac, packet + RTC_STUN_HEADER_SIZE, end - RTC_STUN_HEADER_SIZE) < 0)
    {
      gnutls_hmac_deinit (hmac, NULL);
      return FALSE;
    }
  gnutls_hmac_deinit (hmac, out);
  return TRUE;
}

static guint32
compute_fingerprint (const guint8 *packet, gsize end, guint16 header_length)
{
  guint8 header[RTC_STUN_HEADER_SIZE];
  guint32 reg;

  memcpy (header, packet, sizeof header);
  write16 (header + 2, header_length);
  reg = crc32_update (0xffffffffu, header, sizeof header);
  reg = crc32_update (reg, packet + RTC_STUN_HEADER_SIZE, end - RTC_STUN_HEADER_SIZE);
  return reg ^ 0xffffffffu ^ FINGERPRINT_XOR;
}

/* Checks FINGERPRINT (when present, it must be last; @require_fingerprint:
 * it must be present) and MESSAGE-INTEGRITY (must be present) with the
 * short-term @password. */
static gboolean
check_message (const guint8 *packet,
               gsize length,
               const char *password,
               gboolean require_fingerprint)
{
  guint8 expected[INTEGRITY_SIZE];
  guint16 value_length = 0;
  gsize integrity_offset;
  gsize fingerprint_offset;

  if (!rtc_stun_parse_header (packet, length, NULL, NULL))
    return FALSE;

  fingerprint_offset = find_attribute (packet, length, ATTR_FINGERPRINT, &value_length);
  if (fingerprint_offset != 0)
    {
      if (value_length != 4 || fingerprint_offset + 8 != length)
        return FALSE;
      if (compute_fingerprint (packet, fingerprint_offset, length - RTC_STUN_HEADER_SIZE)
          != read32 (packet + fingerprint_offset + 4))
        return FALSE;
    }
  else if (require_fingerprint)
    return FALSE;

  integrity_offset = find_attribute (packet, length, ATTR_MESSAGE_INTEGRITY, &value_length);
  if (integrity_offset == 0 || value_length != INTEGRITY_SIZE)
    return FALSE;
  if (!compute_integrity (packet, integrity_offset,
                          integrity_offset + 4 + INTEGRITY_SIZE - RTC_STUN_HEADER_SIZE, password,
                          expected))
    return FALSE;
  return equal_in_constant_time (expected, packet + integrity_offset + 4, INTEGRITY_SIZE);
}

gboolean
rtc_stun_check_integrity (const guint8 *packet, gsize length, const char *password)
{
  return check_message (packet, length, password, FALSE);
}

gboolean
rtc_stun_check_binding_request (const guint8 *packet,
                                gsize length,
                                const char *local_ufrag,
                                const char *local_password)
{
  RtcStunClass klass;
  guint16 method;
  guint16 username_length = 0;
  gsize username_offset;
  gsize ufrag_length = strlen (local_ufrag);

  if (!rtc_stun_parse_header (packet, length, &klass, &method) || klass != RTC_STUN_CLASS_REQUEST
      || method != RTC_STUN_METHOD_BINDING)
    return FALSE;

  /* RFC 8445 §7.2.2: USERNAME is "<our ufrag>:<their ufrag>". */
  username_offset = find_attribute (packet, length, ATTR_USERNAME, &username_length);
  if (username_offset == 0 || username_length <= ufrag_length
      || memcmp (packet + username_offset + 4, local_ufrag, ufrag_length) != 0
      || packet[username_offset + 4 + ufrag_length] != ':')
    return FALSE;

  /* RFC 8445 §7.2.2: connectivity checks always carry FINGERPRINT. */
  return check_message (packet, length, local_password, TRUE);
}

/* Appends MESSAGE-INTEGRITY (with @password) and FINGERPRINT to the message
 * of @length bytes in @out and sets its header's length; returns the whole
 * length, or 0 if the HMAC cannot be computed. */
static gsize
finish_message (guint8 *out, gsize length, const char *password)
{
  write16 (out + length, ATTR_MESSAGE_INTEGRITY);
  write16 (out + length + 2, INTEGRITY_SIZE);
  if (!compute_integrity (out, length, length + 4 + INTEGRITY_SIZE - RTC_STUN_HEADER_SIZE,
                          password, out + length + 4))
    return 0;
  length += 4 + INTEGRITY_SIZE;

  write16 (out + length, ATTR_FINGERPRINT);
  write16 (out + length + 2, 4);
  write32 (out + length + 4,
           compute_fingerprint (out, length, length + 8 - RTC_STUN_HEADER_SIZE));
  length += 8;

  write16 (out + 2, length - RTC_STUN_HEADER_SIZE);
  return length;
}

gsize
rtc_stun_write_binding_response (const guint8 *request,
                                 const struct sockaddr *source,
                                 const char *local_password,
                                 guint8 out[RTC_STUN_RESPONSE_MAX])
{
  gsize length = RTC_STUN_HEADER_SIZE;

  write16 (out, 0x0101); /* Binding success response */
  write32 (out + 4, MAGIC_COOKIE);
  memcpy (out + 8, request + 8, 12);

  /* XOR-MAPPED-ADDRESS: what the request came from, masked with the cookie
   * (and for IPv6, with the transaction ID). */
  if (source->sa_family == AF_INET)
    {
      const struct sockaddr_in *in = (const struct sockaddr_in *) source;
      guint32 address = g_ntohl (in->sin_addr.s_addr);

      write16 (out + length, ATTR_XOR_MAPPED_ADDRESS);
      write16 (out + length + 2, 8);
      out[length + 4] = 0;
      out[length + 5] = 0x01;
      write16 (out + length + 6, g_ntohs (in->sin_port) ^ (MAGIC_COOKIE >> 16));
      write32 (out + length + 8, address ^ MAGIC_COOKIE);
      length += 12;
    }
  else if (source->sa_family == AF_INET6)
    {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) source;

      write16 (out + length, ATTR_XOR_MAPPED_ADDRESS);
      write16 (out + length + 2, 20);
      out[length + 4] = 0;
      out[length + 5] = 0x02;
      write16 (out + length + 6, g_ntohs (in6->sin6_port) ^ (MAGIC_COOKIE >> 16));
      for (int i = 0; i < 16; i++)
        out[length + 8 + i] = in6->sin6_addr.s6_addr[i] ^ out[4 + i];
      length += 24;
    }
  else
    return 0;

  return finish_message (out, length, local_password);
}

/* Appends one attribute's header at @offset and returns where its value
 * starts. */
static gsize
put_attribute (guint8 *out, gsize offset, guint16 type, guint16 value_length)
{
  write16 (out + offset, type);
  write16 (out + offset + 2, value_length);
  return offset + 4;
}

gsize
rtc_stun_write_padded_binding_request (const guint8 transaction_id[12],
                                       const char *username,
                                       const char *remote_password,
                                       gboolean controlling,
                                       guint64 tie_breaker,
                                       guint32 priority,
                                       gsize size,
                                       guint8 *out)
{
  gsize username_length = strlen (username);
  gsize padded_username = (username_length + 3) & ~(gsize) 3;
  /* Header, USERNAME, PRIORITY, ICE-CONTROLL(ED|ING), MESSAGE-INTEGRITY,
   * FINGERPRINT: everything but the padding attribute's value. */
  gsize fixed = RTC_STUN_HEADER_SIZE + 4 + padded_username + 8 + 12 + 4 + INTEGRITY_SIZE + 8;
  gsize length = RTC_STUN_HEADER_SIZE;
  gsize value;

  if (size % 4 != 0 || size > RTC_STUN_PADDED_MAX || username_length > 512
      || size < fixed + 4)
    return 0;

  write16 (out, 0x0001); /* Binding request */
  write32 (out + 4, MAGIC_COOKIE);
  memcpy (out + 8, transaction_id, 12);

  value = put_attribute (out, length, ATTR_USERNAME, (guint16) username_length);
  memset (out + value, 0, padded_username);
  memcpy (out + value, username, username_length);
  length = value + padded_username;

  value = put_attribute (out, length, ATTR_PRIORITY, 4);
  write32 (out + value, priority);
  length = value + 4;

  value = put_attribute (out, length,
                         controlling ? ATTR_ICE_CONTROLLING : ATTR_ICE_CONTROLLED, 8);
  write32 (out + value, (guint32) (tie_breaker >> 32));
  write32 (out + value + 4, (guint32) tie_breaker);
  length = value + 8;

  /* What makes the request @size bytes: an attribute from the
   * comprehension-optional range that no agent knows, so every agent
   * ignores it (RFC 8489 §14). */
  value = put_attribute (out, length, RTC_STUN_ATTR_PROBE_PADDING,
                         (guint16) (size - fixed - 4));
  memset (out + value, 0, size - fixed - 4);
  length = value + (size - fixed - 4);

  length = finish_message (out, length, remote_password);
  g_assert (length == 0 || length == size);
  return length;
}

gboolean
rtc_stun_check_binding_response (const guint8 *packet,
                                 gsize length,
                                 const guint8 transaction_id[12],
                                 const char *remote_password)
{
  RtcStunClass klass;
  guint16 method;

  if (!rtc_stun_parse_header (packet, length, &klass, &method) || klass != RTC_STUN_CLASS_SUCCESS
      || method != RTC_STUN_METHOD_BINDING || memcmp (packet + 8, transaction_id, 12) != 0)
    return FALSE;
  return check_message (packet, length, remote_password, FALSE);
}

gboolean
rtc_stun_get_xor_mapped_address (const guint8 *packet,
                                 gsize length,
                                 struct sockaddr_storage *address)
{
  guint16 value_length = 0;
  gsize offset;
  const guint8 *value;

  if (!rtc_stun_parse_header (packet, length, NULL, NULL))
    return FALSE;
  offset = find_attribute (packet, length, ATTR_XOR_MAPPED_ADDRESS, &value_length);
  if (offset == 0)
    return FALSE;
  value = packet + offset + 4;

  memset (address, 0, sizeof *address);
  if (value_length == 8 && value[1] == 0x01)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) address;

      in->sin_family = AF_INET;
      in->sin_port = g_htons (read16 (value + 2) ^ (MAGIC_COOKIE >> 16));
      in->sin_addr.s_addr = g_htonl (read32 (value + 4) ^ MAGIC_COOKIE);
      return TRUE;
    }
  if (value_length == 20 && value[1] == 0x02)
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) address;

      in6->sin6_family = AF_INET6;
      in6->sin6_port = g_htons (read16 (value + 2) ^ (MAGIC_COOKIE >> 16));
      for (int i = 0; i < 16; i++)
        in6->sin6_addr.s6_addr[i] = value[4 + i] ^ packet[4 + i];
      return TRUE;
    }
  return FALSE;
}
