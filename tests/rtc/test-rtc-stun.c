/* test-rtc-stun.c: the STUN Binding responder's message handling, checked
 * against the test vectors of RFC 5769.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>

#include <stun/stunagent.h>

#include "rtc/rtc-stun.h"

#define PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"

/* RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED,
 * USERNAME "evtj:h6vY", MESSAGE-INTEGRITY and FINGERPRINT. */
static const char *request_hex =
  "000100582112a442b7e7a701bc34d686fa87dfae"
  "802200105354554e20746573742063"
  "6c69656e74"
  "002400046e0001ff"
  "80290008932ff9b151263b36"
  "000600096576746a3a68367659202020"
  "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
  "80280004e57a3bcf";

/* §2.2: the IPv4 response (192.0.2.1 port 32853). */
static const char *response4_hex =
  "0101003c2112a442b7e7a701bc34d686fa87dfae"
  "8022000b7465737420766563746f7220"
  "002000080001a147e112a643"
  "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
  "80280004c07d4c96";

/* §2.3: the IPv6 response (2001:db8:1234:5678:11:2233:4455:6677 port 32853). */
static const char *response6_hex =
  "010100482112a442b7e7a701bc34d686fa87dfae"
  "8022000b7465737420766563746f7220"
  "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
  "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
  "80280004c8fb0b4c";

static GBytes *
from_hex (const char *hex)
{
  GByteArray *array = g_byte_array_new ();

  for (const char *p = hex; *p != '\0';)
    {
      guint8 byte;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      byte = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      g_byte_array_append (array, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (array);
}

static void
test_crc32 (void)
{
  /* The CRC-32 check value. */
  g_assert_cmphex (rtc_stun_crc32 ((const guint8 *) "123456789", 9), ==, 0xcbf43926);
  g_assert_cmphex (rtc_stun_crc32 (NULL, 0), ==, 0);
}

static void
test_request (void)
{
  g_autoptr (GBytes) request = from_hex (request_hex);
  gsize length;
  const guint8 *data = g_bytes_get_data (request, &length);
  g_autofree guint8 *copy = g_memdup2 (data, length);
  RtcStunClass klass;
  guint16 method;

  g_assert_cmpuint (length, ==, 108);
  g_assert_true (rtc_stun_is_stun_packet (data, length));
  g_assert_true (rtc_stun_parse_header (data, length, &klass, &method));
  g_assert_cmpint (klass, ==, RTC_STUN_CLASS_REQUEST);
  g_assert_cmpuint (method, ==, RTC_STUN_METHOD_BINDING);

  g_assert_true (rtc_stun_check_integrity (data, length, PASSWORD));
  g_assert_true (rtc_stun_check_binding_request (data, length, "evtj", PASSWORD));

  /* Addressed to someone else, or checked with another password. */
  g_assert_false (rtc_stun_check_binding_request (data, length, "h6vY", PASSWORD));
  g_assert_false (rtc_stun_check_binding_request (data, length, "evt", PASSWORD));
  g_assert_false (rtc_stun_check_binding_request (data, length, "evtj", "VOkJxbRl1RmTxUk/WvJxBu"));

  /* Any changed byte is caught (by the integrity, the fingerprint, or the
   * header checks). */
  for (gsize i = 0; i < length; i++)
    {
      copy[i] ^= 0x01;
      g_assert_false (rtc_stun_check_binding_request (copy, length, "evtj", PASSWORD));
      copy[i] ^= 0x01;
    }

  /* Every truncation is rejected without reading past the end. */
  for (gsize cut = 0; cut < length; cut++)
    {
      g_autofree guint8 *part = g_memdup2 (data, cut);

      g_assert_false (rtc_stun_check_binding_request (part, cut, "evtj", PASSWORD));
    }
}

static void
check_response_vector (const char *hex, const char *address, guint16 port)
{
  g_autoptr (GBytes) response = from_hex (hex);
  gsize length;
  const guint8 *data = g_bytes_get_data (response, &length);
  struct sockaddr_storage mapped;
  char text[INET6_ADDRSTRLEN];
  RtcStunClass klass;
  guint16 method;

  g_assert_true (rtc_stun_parse_header (data, length, &klass, &method));
  g_assert_cmpint (klass, ==, RTC_STUN_CLASS_SUCCESS);
  g_assert_cmpuint (method, ==, RTC_STUN_METHOD_BINDING);
  g_assert_true (rtc_stun_check_integrity (data, length, PASSWORD));
  g_assert_false (rtc_stun_check_integrity (data, length, "wrong"));
  /* A response is not a request. */
  g_assert_false (rtc_stun_check_binding_request (data, length, "evtj", PASSWORD));

  g_assert_true (rtc_stun_get_xor_mapped_address (data, length, &mapped));
  if (mapped.ss_family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &mapped;

      inet_ntop (AF_INET, &in->sin_addr, text, sizeof text);
      g_assert_cmpuint (ntohs (in->sin_port), ==, port);
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &mapped;

      g_assert_cmpint (mapped.ss_family, ==, AF_INET6);
      inet_ntop (AF_INET6, &in6->sin6_addr, text, sizeof text);
      g_assert_cmpuint (ntohs (in6->sin6_port), ==, port);
    }
  g_assert_cmpstr (text, ==, address);
}

static void
test_response_vectors (void)
{
  check_response_vector (response4_hex, "192.0.2.1", 32853);
  check_response_vector (response6_hex, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
}

/* Our response to the sample request carries the same XOR-MAPPED-ADDRESS as
 * the RFC's (which differs only by its SOFTWARE attribute), verifies with the
 * password, and keeps the transaction ID. */
static void
check_our_response (const char *vector_hex, int family, const char *address, gsize xor_offset)
{
  g_autoptr (GBytes) request = from_hex (request_hex);
  g_autoptr (GBytes) vector = from_hex (vector_hex);
  const guint8 *expected = g_bytes_get_data (vector, NULL);
  struct sockaddr_storage source = { 0 };
  struct sockaddr_storage mapped;
  guint8 out[RTC_STUN_RESPONSE_MAX];
  gsize xor_length = family == AF_INET ? 12 : 24;
  RtcStunClass klass;
  guint16 method;
  gsize length;

  if (family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &source;

      in->sin_family = AF_INET;
      in->sin_port = htons (32853);
      g_assert_cmpint (inet_pton (AF_INET, address, &in->sin_addr), ==, 1);
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &source;

      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (32853);
      g_assert_cmpint (inet_pton (AF_INET6, address, &in6->sin6_addr), ==, 1);
    }

  length = rtc_stun_write_binding_response (g_bytes_get_data (request, NULL),
                                            (struct sockaddr *) &source, PASSWORD, out);
  g_assert_cmpuint (length, ==, 20 + xor_length + 24 + 8);
  g_assert_true (rtc_stun_parse_header (out, length, &klass, &method));
  g_assert_cmpint (klass, ==, RTC_STUN_CLASS_SUCCESS);
  g_assert_cmpuint (method, ==, RTC_STUN_METHOD_BINDING);
  g_assert_cmpmem (out + 8, 12, (const guint8 *) g_bytes_get_data (request, NULL) + 8, 12);
  g_assert_cmpmem (out + 20, xor_length, expected + xor_offset, xor_length);
  g_assert_true (rtc_stun_check_integrity (out, length, PASSWORD));
  g_assert_false (rtc_stun_check_integrity (out, length, "another password"));
  g_assert_true (rtc_stun_get_xor_mapped_address (out, length, &mapped));
  g_assert_cmpmem (&mapped, sizeof mapped, &source, sizeof source);
}

static void
test_our_responses (void)
{
  check_our_response (response4_hex, AF_INET, "192.0.2.1", 36);
  check_our_response (response6_hex, AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", 36);
}

static void
test_not_stun (void)
{
  const guint8 dtls[] = { 22, 0xfe, 0xfd, 0, 0 };
  guint8 junk[64];
  GRand *rand = g_rand_new_with_seed (5769);

  g_assert_false (rtc_stun_is_stun_packet (dtls, sizeof dtls));
  g_assert_false (rtc_stun_parse_header (dtls, sizeof dtls, NULL, NULL));

  /* Random packets with a STUN-looking start are never taken for a valid
   * request, and never read out of bounds (sanitizer build). */
  for (int i = 0; i < 20000; i++)
    {
      gsize length = g_rand_int_range (rand, 0, sizeof junk + 1);
      g_autofree guint8 *packet = NULL;

      for (gsize k = 0; k < sizeof junk; k++)
        junk[k] = g_rand_int_range (rand, 0, 256);
      if (length >= 8)
        {
          junk[0] = 0;
          junk[1] = 1;
          junk[2] = (length - 20) >> 8;
          junk[3] = (length - 20) & 0xff;
          junk[4] = 0x21;
          junk[5] = 0x12;
          junk[6] = 0xa4;
          junk[7] = 0x42;
        }
      packet = g_memdup2 (junk, length);
      g_assert_false (rtc_stun_check_binding_request (packet, length, "evtj", PASSWORD));
    }
  g_rand_free (rand);
}

/* libnice's validator asks for the password of a USERNAME. */
static bool
nice_password_cb (StunAgent *agent, StunMessage *message, uint8_t *username,
                  uint16_t username_length, uint8_t **password, size_t *password_length,
                  void *user_data)
{
  *password = (uint8_t *) user_data;
  *password_length = strlen (user_data);
  return TRUE;
}

/* A path MTU probe: a Binding request of exactly the size asked for, which
 * our responder and libnice's both take as a valid ICE check, and whose
 * answer is recognised by its transaction ID and the peer's password. */
static void
test_padded_request (void)
{
  static const gsize sizes[] = { 1452, 1472, 8972, 16420, RTC_STUN_PADDED_MAX };
  const guint8 id[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
  const guint8 other_id[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13 };
  g_autofree guint8 *packet = g_malloc (RTC_STUN_PADDED_MAX);
  struct sockaddr_in source = { 0 };
  guint8 response[RTC_STUN_RESPONSE_MAX];
  StunAgent agent;
  StunMessage message;
  static const uint16_t known[] = { STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
                                    STUN_ATTRIBUTE_PRIORITY, STUN_ATTRIBUTE_ICE_CONTROLLING,
                                    STUN_ATTRIBUTE_ICE_CONTROLLED, 0 };
  uint32_t priority;
  uint64_t tie_breaker;
  gsize response_length;

  source.sin_family = AF_INET;
  source.sin_port = htons (40000);
  source.sin_addr.s_addr = htonl (INADDR_LOOPBACK);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      gsize length = rtc_stun_write_padded_binding_request (id, "evtj:h6vY", PASSWORD, TRUE,
                                                            G_GUINT64_CONSTANT (0x0102030405060708),
                                                            0x6e0001ff, sizes[i], packet);
      RtcStunClass klass;
      guint16 method;

      g_assert_cmpuint (length, ==, sizes[i]);
      g_assert_true (rtc_stun_is_stun_packet (packet, length));
      g_assert_true (rtc_stun_parse_header (packet, length, &klass, &method));
      g_assert_cmpint (klass, ==, RTC_STUN_CLASS_REQUEST);
      g_assert_cmpuint (method, ==, RTC_STUN_METHOD_BINDING);
      g_assert_true (rtc_stun_check_binding_request (packet, length, "evtj", PASSWORD));
      g_assert_false (rtc_stun_check_binding_request (packet, length, "evtj", "other"));
      g_assert_false (rtc_stun_check_binding_request (packet, length, "h6vY", PASSWORD));

      /* libnice, as the peer's agent reading the socket, accepts it and
       * finds the ICE attributes. */
      stun_agent_init (&agent, known, STUN_COMPATIBILITY_RFC5389,
                       STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
      g_assert_cmpint (stun_agent_validate (&agent, &message, packet, length, nice_password_cb,
                                            (void *) PASSWORD),
                       ==, STUN_VALIDATION_SUCCESS);
      g_assert_cmpint (stun_message_find32 (&message, STUN_ATTRIBUTE_PRIORITY, &priority), ==,
                       STUN_MESSAGE_RETURN_SUCCESS);
      g_assert_cmpuint (priority, ==, 0x6e0001ff);
      g_assert_cmpint (stun_message_find64 (&message, STUN_ATTRIBUTE_ICE_CONTROLLING,
                                            &tie_breaker),
                       ==, STUN_MESSAGE_RETURN_SUCCESS);
      g_assert_cmpuint (tie_breaker, ==, G_GUINT64_CONSTANT (0x0102030405060708));

      /* One flipped byte in the padding breaks the integrity. */
      packet[length / 2] ^= 1;
      g_assert_false (rtc_stun_check_binding_request (packet, length, "evtj", PASSWORD));
      packet[length / 2] ^= 1;

      response_length = rtc_stun_write_binding_response (packet, (struct sockaddr *) &source,
                                                         PASSWORD, response);
      g_assert_cmpuint (response_length, >, 0);
      g_assert_true (rtc_stun_check_binding_response (response, response_length, id, PASSWORD));
      g_assert_false (rtc_stun_check_binding_response (response, response_length, other_id,
                                                       PASSWORD));
      g_assert_false (rtc_stun_check_binding_response (response, response_length, id, "other"));
      g_assert_false (rtc_stun_check_binding_response (packet, length, id, PASSWORD));
    }

  /* Sizes that cannot be written. */
  g_assert_cmpuint (rtc_stun_write_padded_binding_request (id, "evtj:h6vY", PASSWORD, FALSE, 1, 1,
                                                           1473, packet),
                    ==, 0);
  g_assert_cmpuint (rtc_stun_write_padded_binding_request (id, "evtj:h6vY", PASSWORD, FALSE, 1, 1,
                                                           64, packet),
                    ==, 0);
  g_assert_cmpuint (rtc_stun_write_padded_binding_request (id, "evtj:h6vY", PASSWORD, FALSE, 1, 1,
                                                           RTC_STUN_PADDED_MAX + 4, packet),
                    ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/stun/crc32", test_crc32);
  g_test_add_func ("/rtc/stun/rfc5769-request", test_request);
  g_test_add_func ("/rtc/stun/rfc5769-responses", test_response_vectors);
  g_test_add_func ("/rtc/stun/our-responses", test_our_responses);
  g_test_add_func ("/rtc/stun/not-stun", test_not_stun);
  g_test_add_func ("/rtc/stun/padded-request", test_padded_request);

  return g_test_run ();
}
