/* rtc-sdp.c: session descriptions for data-channel-only WebRTC
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the parser, the generator and the candidate normalizer share the
 * lexical helpers and the limits, and are fuzzed as one unit.
 *
 * The parser reads the text line by line.  Lines before the first "m=" are
 * the session level; the first application m-section that carries a data
 * channel ("UDP/DTLS/SCTP webrtc-datachannel", "TCP/DTLS/SCTP
 * webrtc-datachannel" or the old "DTLS/SCTP <port>") is the media level we
 * use; every other m-section is skipped without looking at its attributes.
 * Transport attributes of the media level win over the session level.
 *
 * What is refused (RTC_ERROR_INVALID_SDP): input over RTC_SDP_MAX_LENGTH
 * bytes, a line over RTC_SDP_MAX_LINE_LENGTH bytes, a NUL byte or invalid
 * UTF-8, a first line other than "v=0", a line that is not "<letter>=...",
 * no data-channel m-section, a data-channel m-section with port 0 that is not
 * bundle-only, missing or malformed ICE credentials, no sha-256 fingerprint
 * or a malformed one, a missing or unknown a=setup value, an attribute we use
 * given twice at the same level, an SCTP port outside 1..65535 and a
 * max-message-size that is not a decimal number.
 *
 * What is dropped from the candidates of the m-section, with a debug
 * message: component 2 and higher (RTCP, which a data channel never uses),
 * and every line rtc_sdp_normalize_candidate() refuses, notably host names
 * (mDNS ".local" names hide addresses we cannot resolve without multicast
 * DNS, and we never make DNS lookups for peers), IPv6 link-local addresses
 * (fe80::/10, with or without a zone: a zone names an interface of the
 * peer, not ours) and lines with malformed fields.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "rtc-error.h"
#include "rtc-sdp.h"

#define RTC_SDP_MAX_LENGTH (64 * 1024)
#define RTC_SDP_MAX_LINE_LENGTH 4096
#define RTC_SDP_MAX_CANDIDATE_LENGTH 1024
#define RTC_SDP_MAX_CANDIDATES 128
#define ICE_UFRAG_MIN 4
#define ICE_PWD_MIN 22
#define ICE_CRED_MAX 256
#define MID_MAX 64
#define FOUNDATION_MAX 32

RtcSdpDescription *
rtc_sdp_description_new (void)
{
  RtcSdpDescription *desc = g_new0 (RtcSdpDescription, 1);

  desc->setup = RTC_DTLS_SETUP_ACTPASS;
  desc->sctp_port = RTC_SDP_DEFAULT_SCTP_PORT;
  desc->max_message_size = RTC_SDP_DEFAULT_MAX_MESSAGE_SIZE;
  desc->sctp_lanes = 1;
  desc->candidates = g_ptr_array_new_with_free_func (g_free);

  return desc;
}

void
rtc_sdp_description_free (RtcSdpDescription *desc)
{
  if (desc == NULL)
    return;

  g_free (desc->ice_ufrag);
  if (desc->ice_pwd != NULL)
    memset (desc->ice_pwd, 0, strlen (desc->ice_pwd));
  g_free (desc->ice_pwd);
  g_free (desc->mid);
  g_clear_pointer (&desc->candidates, g_ptr_array_unref);
  g_free (desc);
}

const char *
rtc_sdp_type_to_string (RtcSdpType type)
{
  switch (type)
    {
    case RTC_SDP_TYPE_OFFER:
      return "offer";
    case RTC_SDP_TYPE_ANSWER:
      return "answer";
    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
rtc_sdp_check_as (const char *type, const char *text, GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;
  RtcSdpType sdp_type;

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "a session description of unknown type “%s”", type);
      return FALSE;
    }
  desc = rtc_sdp_parse_as (sdp_type, text, error);
  return desc != NULL;
}

RtcSdpDescription *
rtc_sdp_parse_as (RtcSdpType type, const char *text, GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  desc = rtc_sdp_parse (text, -1, error);
  if (desc == NULL)
    return NULL;
  if (type == RTC_SDP_TYPE_ANSWER && desc->setup != RTC_DTLS_SETUP_ACTIVE
      && desc->setup != RTC_DTLS_SETUP_PASSIVE)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                           "An answer must say a=setup:active or a=setup:passive");
      return NULL;
    }
  return g_steal_pointer (&desc);
}

gboolean
rtc_sdp_type_from_string (const char *text, RtcSdpType *type)
{
  RtcSdpType parsed;

  if (g_strcmp0 (text, "offer") == 0)
    parsed = RTC_SDP_TYPE_OFFER;
  else if (g_strcmp0 (text, "answer") == 0)
    parsed = RTC_SDP_TYPE_ANSWER;
  else
    return FALSE;

  if (type != NULL)
    *type = parsed;
  return TRUE;
}

/* --- small lexical helpers ------------------------------------------------ */

/* Parses a whole string of 1 to 20 decimal digits, no sign, no spaces. */
static gboolean
parse_decimal (const char *text, gsize len, guint64 max, guint64 *out)
{
  guint64 value = 0;

  if (len == 0 || len > 20)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guint digit;

      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      digit = (guint) (text[i] - '0');
      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  if (value > max)
    return FALSE;

  *out = value;
  return TRUE;
}

static gboolean
parse_decimal_str (const char *text, guint64 max, guint64 *out)
{
  return parse_decimal (text, strlen (text), max, out);
}

/* RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/" */
static gboolean
is_ice_chars (const char *text, gsize min, gsize max)
{
  gsize len = strlen (text);

  if (len < min || len > max)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (text[i]) && text[i] != '+' && text[i] != '/')
      return FALSE;

  return TRUE;
}

/* RFC 8866 token characters: visible ASCII except a few separators. */
static gboolean
is_token (const char *text, gsize max)
{
  gsize len = strlen (text);

  if (len == 0 || len > max)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) text[i];

      if (c <= 0x20 || c >= 0x7f || strchr ("\"(),/:;<=>?@[\\]{}", c) != NULL)
        return FALSE;
    }

  return TRUE;
}

static char **
split_words (const char *text)
{
  g_auto (GStrv) raw = g_strsplit_set (text, " \t", -1);
  GPtrArray *words = g_ptr_array_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    {
      if (raw[i][0] != '\0')
        g_ptr_array_add (words, g_steal_pointer (&raw[i]));
      else
        g_clear_pointer (&raw[i], g_free);
    }
  g_ptr_array_add (words, NULL);

  return (char **) g_ptr_array_free (words, FALSE);
}

/* --- fingerprints --------------------------------------------------------- */

char *
rtc_sdp_fingerprint_to_string (const guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN])
{
  static const char hex[] = "0123456789ABCDEF";
  char *text;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  text = g_malloc (RTC_SDP_FINGERPRINT_LEN * 3);
  for (guint i = 0; i < RTC_SDP_FINGERPRINT_LEN; i++)
    {
      text[i * 3] = hex[fingerprint[i] >> 4];
      text[i * 3 + 1] = hex[fingerprint[i] & 0xf];
      text[i * 3 + 2] = i + 1 < RTC_SDP_FINGERPRINT_LEN ? ':' : '\0';
    }

  return text;
}

gboolean
rtc_sdp_fingerprint_from_string (const char *text,
                                 guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN],
                                 GError **error)
{
  guint8 parsed[RTC_SDP_FINGERPRINT_LEN];

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (strlen (text) != RTC_SDP_FINGERPRINT_LEN * 3 - 1)
    goto invalid;

  for (guint i = 0; i < RTC_SDP_FINGERPRINT_LEN; i++)
    {
      int hi = g_ascii_xdigit_value (text[i * 3]);
      int lo = g_ascii_xdigit_value (text[i * 3 + 1]);

      if (hi < 0 || lo < 0)
        goto invalid;
      if (i + 1 < RTC_SDP_FINGERPRINT_LEN && text[i * 3 + 2] != ':')
        goto invalid;
      parsed[i] = (guint8) (hi << 4 | lo);
    }

  memcpy (fingerprint, parsed, sizeof parsed);
  return TRUE;

invalid:
  g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
               "A sha-256 fingerprint must be 32 colon-separated hexadecimal pairs");
  return FALSE;
}

/* --- candidates ----------------------------------------------------------- */

static gboolean
is_ipv6_link_local (const char *address)
{
  guint8 bytes[16];

  if (inet_pton (AF_INET6, address, bytes) != 1)
    return FALSE;

  return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

static gboolean
check_address (const char *address, const char *what, GError **error)
{
  if (strchr (address, '%') != NULL)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate %s has an IPv6 zone, which only means something to the peer", what);
      return FALSE;
    }
  if (!g_hostname_is_ip_address (address))
    {
      if (g_str_has_suffix (address, ".local"))
        g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                     "Candidate %s is an mDNS name, which cannot be resolved here", what);
      else
        g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                     "Candidate %s is not an IP address", what);
      return FALSE;
    }
  if (is_ipv6_link_local (address))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate %s is an IPv6 link-local address", what);
      return FALSE;
    }

  return TRUE;
}

char *
rtc_sdp_normalize_candidate (const char *line, guint *component, GError **error)
{
  static const char *const types[] = { "host", "srflx", "prflx", "relay", NULL };
  static const char *const tcptypes[] = { "active", "passive", "so", NULL };
  g_autofree char *copy = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (GString) out = NULL;
  const char *start;
  gsize len, nwords;
  guint64 comp, priority, port;
  gboolean is_tcp, have_tcptype = FALSE, have_raddr = FALSE, have_rport = FALSE;
  g_autofree char *transport = NULL;
  g_autofree char *type = NULL;

  g_return_val_if_fail (line != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = strnlen (line, RTC_SDP_MAX_CANDIDATE_LENGTH + 1);
  if (len > RTC_SDP_MAX_CANDIDATE_LENGTH)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate line longer than %d bytes", RTC_SDP_MAX_CANDIDATE_LENGTH);
      return NULL;
    }

  start = line;
  while (*start == ' ' || *start == '\t')
    start++;
  if (g_str_has_prefix (start, "a="))
    start += 2;
  if (g_ascii_strncasecmp (start, "candidate:", strlen ("candidate:")) != 0)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate line does not start with “candidate:”");
      return NULL;
    }
  start += strlen ("candidate:");

  copy = g_strdup (start);
  len = strlen (copy);
  while (len > 0 && (copy[len - 1] == ' ' || copy[len - 1] == '\t' || copy[len - 1] == '\r'
                     || copy[len - 1] == '\n'))
    copy[--len] = '\0';
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) copy[i];

      if (c != '\t' && (c < 0x20 || c >= 0x7f))
        {
          g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                       "Candidate line contains a control or non-ASCII byte");
          return NULL;
        }
    }

  words = split_words (copy);
  nwords = g_strv_length (words);
  if (nwords < 8)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate line has %" G_GSIZE_FORMAT " fields, at least 8 expected", nwords);
      return NULL;
    }

  if (!is_ice_chars (words[0], 1, FOUNDATION_MAX))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE, "Invalid candidate foundation");
      return NULL;
    }
  if (!parse_decimal_str (words[1], 256, &comp) || comp < 1)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Invalid candidate component (1 to 256 expected)");
      return NULL;
    }
  transport = g_ascii_strdown (words[2], -1);
  if (g_strcmp0 (transport, "udp") != 0 && g_strcmp0 (transport, "tcp") != 0)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Unsupported candidate transport (udp or tcp expected)");
      return NULL;
    }
  is_tcp = g_str_equal (transport, "tcp");
  if (!parse_decimal_str (words[3], G_MAXUINT32, &priority) || priority < 1)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE, "Invalid candidate priority");
      return NULL;
    }
  if (!check_address (words[4], "address", error))
    return NULL;
  if (!parse_decimal_str (words[5], 65535, &port))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Invalid candidate port (0 to 65535 expected)");
      return NULL;
    }
  type = g_ascii_strdown (words[7], -1);
  if (g_strcmp0 (words[6], "typ") != 0 || !g_strv_contains (types, type))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Invalid candidate type (typ host, srflx, prflx or relay expected)");
      return NULL;
    }

  out = g_string_new ("candidate:");
  g_string_append_printf (out, "%s %u %s %" G_GUINT64_FORMAT " %s %u typ %s", words[0],
                          (guint) comp, transport, priority, words[4], (guint) port, type);

  if ((nwords - 8) % 2 != 0)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate extension “%s” has no value", words[nwords - 1]);
      return NULL;
    }

  for (gsize i = 8; i + 1 < nwords; i += 2)
    {
      const char *key = words[i];
      const char *value = words[i + 1];

      if (g_str_equal (key, "raddr"))
        {
          if (have_raddr)
            goto duplicate;
          have_raddr = TRUE;
          /* Browsers hide the related address as 0.0.0.0 or ::; keep it. */
          if (!g_hostname_is_ip_address (value) || strchr (value, '%') != NULL)
            {
              g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                           "Candidate related address is not an IP address");
              return NULL;
            }
        }
      else if (g_str_equal (key, "rport"))
        {
          guint64 rport;

          if (have_rport)
            goto duplicate;
          have_rport = TRUE;
          if (!parse_decimal_str (value, 65535, &rport))
            {
              g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                           "Invalid candidate related port");
              return NULL;
            }
        }
      else if (g_str_equal (key, "tcptype"))
        {
          if (have_tcptype)
            goto duplicate;
          have_tcptype = TRUE;
          if (!is_tcp || !g_strv_contains (tcptypes, value))
            {
              g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                           "Invalid candidate tcptype (only for tcp: active, passive or so)");
              return NULL;
            }
        }
      else if (!is_token (key, 64) || !is_token (value, 256))
        {
          g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                       "Invalid candidate extension");
          return NULL;
        }

      g_string_append_printf (out, " %s %s", key, value);
    }

  if (is_tcp && !have_tcptype)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "A tcp candidate needs a tcptype");
      return NULL;
    }
  if (have_raddr != have_rport)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
                   "Candidate raddr and rport must come together");
      return NULL;
    }

  if (component != NULL)
    *component = (guint) comp;
  return g_string_free (g_steal_pointer (&out), FALSE);

duplicate:
  g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE,
               "Candidate extension given twice");
  return NULL;
}

/* --- parsing -------------------------------------------------------------- */

typedef struct
{
  char *ufrag;
  char *pwd;
  gboolean have_fingerprint; /* any algorithm */
  gboolean have_sha256;
  guint8 sha256[RTC_SDP_FINGERPRINT_LEN];
  gboolean have_setup;
  RtcDtlsSetup setup;
  gboolean ice_lite;
} SdpLevel;

static void
sdp_level_clear (SdpLevel *level)
{
  g_free (level->ufrag);
  if (level->pwd != NULL)
    memset (level->pwd, 0, strlen (level->pwd));
  g_free (level->pwd);
}

typedef enum
{
  SECTION_SESSION,
  SECTION_DATA, /* the data-channel m-section we use */
  SECTION_OTHER, /* any other m-section, and everything after ours */
} Section;

typedef struct
{
  SdpLevel session;
  SdpLevel media;
  Section section;
  gboolean found_data;
  gboolean bundle_only;
  gboolean port_zero;
  gboolean have_mid;
  gboolean have_sctp_port;
  gboolean have_max_message_size;
  RtcSdpDescription *desc;
  guint line_number;
} SdpParser;

G_GNUC_PRINTF (3, 4)
static void
set_sdp_error (GError **error, const SdpParser *parser, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP, "SDP line %u: %s", parser->line_number,
               message);
}

static gboolean
parse_media_line (SdpParser *parser, const char *value, GError **error)
{
  g_auto (GStrv) words = split_words (value);
  guint64 port, sctp_port;

  /* Once our section is found, later m-sections are not looked at. */
  if (parser->found_data)
    {
      parser->section = SECTION_OTHER;
      return TRUE;
    }

  parser->section = SECTION_OTHER;
  if (g_strv_length (words) < 4 || !g_str_equal (words[0], "application"))
    return TRUE;

  if (!parse_decimal_str (words[1], 65535, &port))
    {
      set_sdp_error (error, parser, "invalid port in the application m-line");
      return FALSE;
    }

  if ((g_ascii_strcasecmp (words[2], "UDP/DTLS/SCTP") == 0
       || g_ascii_strcasecmp (words[2], "TCP/DTLS/SCTP") == 0)
      && g_strv_contains ((const char *const *) words + 3, "webrtc-datachannel"))
    {
      parser->desc->legacy_sctpmap = FALSE;
    }
  else if (g_ascii_strcasecmp (words[2], "DTLS/SCTP") == 0)
    {
      if (!parse_decimal_str (words[3], 65535, &sctp_port) || sctp_port == 0)
        {
          set_sdp_error (error, parser, "invalid SCTP port in the DTLS/SCTP m-line");
          return FALSE;
        }
      parser->desc->legacy_sctpmap = TRUE;
      parser->desc->sctp_port = (guint16) sctp_port;
    }
  else
    {
      g_debug ("Ignoring application m-section with protocol %s", words[2]);
      return TRUE;
    }

  parser->section = SECTION_DATA;
  parser->found_data = TRUE;
  parser->port_zero = port == 0;
  return TRUE;
}

static gboolean
parse_fingerprint_attribute (SdpParser *parser, SdpLevel *level, const char *value, GError **error)
{
  g_auto (GStrv) words = split_words (value);
  g_autoptr (GError) local_error = NULL;

  if (g_strv_length (words) != 2)
    {
      set_sdp_error (error, parser, "a=fingerprint needs a hash name and a value");
      return FALSE;
    }

  level->have_fingerprint = TRUE;
  if (g_ascii_strcasecmp (words[0], "sha-256") != 0)
    return TRUE;

  /* Several sha-256 fingerprints (several certificates) are legal, but we
   * check one certificate: the first one is used. */
  if (level->have_sha256)
    return TRUE;

  if (!rtc_sdp_fingerprint_from_string (words[1], level->sha256, &local_error))
    {
      set_sdp_error (error, parser, "%s", local_error->message);
      return FALSE;
    }
  level->have_sha256 = TRUE;
  return TRUE;
}

static gboolean
parse_setup_attribute (SdpParser *parser, SdpLevel *level, const char *value, GError **error)
{
  if (level->have_setup)
    {
      set_sdp_error (error, parser, "a=setup given twice");
      return FALSE;
    }

  if (g_ascii_strcasecmp (value, "actpass") == 0)
    level->setup = RTC_DTLS_SETUP_ACTPASS;
  else if (g_ascii_strcasecmp (value, "active") == 0)
    level->setup = RTC_DTLS_SETUP_ACTIVE;
  else if (g_ascii_strcasecmp (value, "passive") == 0)
    level->setup = RTC_DTLS_SETUP_PASSIVE;
  else
    {
      set_sdp_error (error, parser, "a=setup must be actpass, active or passive");
      return FALSE;
    }

  level->have_setup = TRUE;
  return TRUE;
}

static gboolean
parse_ice_credential (SdpParser *parser,
                      char **slot,
                      const char *name,
                      const char *value,
                      gsize min,
                      GError **error)
{
  if (*slot != NULL)
    {
      set_sdp_error (error, parser, "a=%s given twice", name);
      return FALSE;
    }
  if (!is_ice_chars (value, min, ICE_CRED_MAX))
    {
      set_sdp_error (error, parser, "a=%s must be %" G_GSIZE_FORMAT " to %d characters of "
                     "letters, digits, + and /", name, min, ICE_CRED_MAX);
      return FALSE;
    }

  *slot = g_strdup (value);
  return TRUE;
}

static gboolean
parse_data_attribute (SdpParser *parser, const char *name, const char *value, GError **error)
{
  RtcSdpDescription *desc = parser->desc;

  if (g_str_equal (name, "candidate"))
    {
      g_autofree char *full = g_strconcat ("candidate:", value, NULL);
      g_autofree char *normalized = NULL;
      g_autoptr (GError) local_error = NULL;
      guint component = 0;

      normalized = rtc_sdp_normalize_candidate (full, &component, &local_error);
      if (normalized == NULL)
        g_debug ("Dropping candidate from SDP: %s", local_error->message);
      else if (component != 1)
        g_debug ("Dropping candidate of component %u", component);
      else if (desc->candidates->len >= RTC_SDP_MAX_CANDIDATES)
        g_debug ("Dropping candidate: more than %d", RTC_SDP_MAX_CANDIDATES);
      else
        g_ptr_array_add (desc->candidates, g_steal_pointer (&normalized));
      return TRUE;
    }
  else if (g_str_equal (name, "end-of-candidates"))
    {
      desc->end_of_candidates = TRUE;
    }
  else if (g_str_equal (name, "mid"))
    {
      if (parser->have_mid)
        {
          set_sdp_error (error, parser, "a=mid given twice");
          return FALSE;
        }
      if (!is_token (value, MID_MAX))
        {
          set_sdp_error (error, parser, "invalid a=mid");
          return FALSE;
        }
      parser->have_mid = TRUE;
      g_free (desc->mid);
      desc->mid = g_strdup (value);
    }
  else if (g_str_equal (name, "sctp-port"))
    {
      guint64 port;

      if (parser->have_sctp_port)
        {
          set_sdp_error (error, parser, "a=sctp-port given twice");
          return FALSE;
        }
      if (!parse_decimal_str (value, 65535, &port) || port == 0)
        {
          set_sdp_error (error, parser, "a=sctp-port must be a number from 1 to 65535");
          return FALSE;
        }
      parser->have_sctp_port = TRUE;
      /* The old form names the port in the m-line. */
      if (!desc->legacy_sctpmap)
        desc->sctp_port = (guint16) port;
    }
  else if (g_str_equal (name, "sctpmap"))
    {
      g_auto (GStrv) words = split_words (value);
      guint64 port;

      if (g_strv_length (words) < 2 || !parse_decimal_str (words[0], 65535, &port))
        {
          set_sdp_error (error, parser, "invalid a=sctpmap");
          return FALSE;
        }
      if (desc->legacy_sctpmap && port == desc->sctp_port
          && !g_str_equal (words[1], "webrtc-datachannel"))
        {
          set_sdp_error (error, parser, "a=sctpmap maps the SCTP port to %s, not a data channel",
                         words[1]);
          return FALSE;
        }
    }
  else if (g_str_equal (name, "max-message-size"))
    {
      guint64 size;

      if (parser->have_max_message_size)
        {
          set_sdp_error (error, parser, "a=max-message-size given twice");
          return FALSE;
        }
      if (!parse_decimal_str (value, G_MAXUINT64, &size))
        {
          set_sdp_error (error, parser, "a=max-message-size must be a decimal number");
          return FALSE;
        }
      parser->have_max_message_size = TRUE;
      desc->max_message_size = size;
    }
  else if (g_str_equal (name, "x-sctp-lanes"))
    {
      guint64 lanes;

      if (!parse_decimal_str (value, RTC_SDP_MAX_SCTP_LANES, &lanes) || lanes == 0)
        {
          set_sdp_error (error, parser, "a=x-sctp-lanes must be a number from 1 to %u",
                         RTC_SDP_MAX_SCTP_LANES);
          return FALSE;
        }
      desc->sctp_lanes = (guint) lanes;
    }
  else if (g_str_equal (name, "x-max-datagram"))
    {
      guint64 size;

      if (!parse_decimal_str (value, RTC_SDP_MAX_DATAGRAM, &size) || size < 576)
        {
          set_sdp_error (error, parser, "a=x-max-datagram must be a number from 576 to %u",
                         RTC_SDP_MAX_DATAGRAM);
          return FALSE;
        }
      desc->max_datagram = (guint) size;
    }
  else if (g_str_equal (name, "bundle-only"))
    {
      parser->bundle_only = TRUE;
    }

  return TRUE;
}

static gboolean
parse_attribute (SdpParser *parser, const char *attribute, GError **error)
{
  g_autofree char *name = NULL;
  const char *colon = strchr (attribute, ':');
  const char *value;
  SdpLevel *level;

  if (parser->section == SECTION_OTHER)
    return TRUE;

  if (colon != NULL)
    {
      name = g_strndup (attribute, colon - attribute);
      value = colon + 1;
    }
  else
    {
      name = g_strdup (attribute);
      value = "";
    }

  level = parser->section == SECTION_SESSION ? &parser->session : &parser->media;

  if (g_str_equal (name, "ice-ufrag"))
    return parse_ice_credential (parser, &level->ufrag, name, value, ICE_UFRAG_MIN, error);
  if (g_str_equal (name, "ice-pwd"))
    return parse_ice_credential (parser, &level->pwd, name, value, ICE_PWD_MIN, error);
  if (g_str_equal (name, "fingerprint"))
    return parse_fingerprint_attribute (parser, level, value, error);
  if (g_str_equal (name, "setup"))
    return parse_setup_attribute (parser, level, value, error);
  if (g_str_equal (name, "ice-lite"))
    {
      level->ice_lite = TRUE;
      return TRUE;
    }

  if (parser->section == SECTION_DATA)
    return parse_data_attribute (parser, name, value, error);

  return TRUE;
}

static gboolean
parse_line (SdpParser *parser, const char *line, GError **error)
{
  if (parser->line_number == 1)
    {
      if (!g_str_equal (line, "v=0"))
        {
          set_sdp_error (error, parser, "an SDP starts with “v=0”");
          return FALSE;
        }
      return TRUE;
    }

  if (!g_ascii_islower (line[0]) || line[1] != '=')
    {
      set_sdp_error (error, parser, "not a “<type>=<value>” line");
      return FALSE;
    }

  switch (line[0])
    {
    case 'm':
      return parse_media_line (parser, line + 2, error);
    case 'a':
      return parse_attribute (parser, line + 2, error);
    default:
      return TRUE;
    }
}

static gboolean
finish_parse (SdpParser *parser, GError **error)
{
  RtcSdpDescription *desc = parser->desc;
  SdpLevel *fp_level;

  parser->line_number = 0;

  if (!parser->found_data)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP has no data-channel (application) m-section");
      return FALSE;
    }
  if (parser->port_zero && !parser->bundle_only)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The peer rejected the data channel (port 0)");
      return FALSE;
    }

  desc->ice_ufrag = g_strdup (parser->media.ufrag ? parser->media.ufrag : parser->session.ufrag);
  desc->ice_pwd = g_strdup (parser->media.pwd ? parser->media.pwd : parser->session.pwd);
  if (desc->ice_ufrag == NULL || desc->ice_pwd == NULL)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP has no ICE credentials (a=ice-ufrag and a=ice-pwd)");
      return FALSE;
    }

  /* Fingerprints given at the media level replace the session level ones. */
  fp_level = parser->media.have_fingerprint ? &parser->media : &parser->session;
  if (!fp_level->have_fingerprint)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP has no DTLS fingerprint (a=fingerprint)");
      return FALSE;
    }
  if (!fp_level->have_sha256)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP has no sha-256 DTLS fingerprint");
      return FALSE;
    }
  memcpy (desc->fingerprint, fp_level->sha256, RTC_SDP_FINGERPRINT_LEN);

  if (parser->media.have_setup)
    desc->setup = parser->media.setup;
  else if (parser->session.have_setup)
    desc->setup = parser->session.setup;
  else
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP has no DTLS role (a=setup)");
      return FALSE;
    }

  desc->ice_lite = parser->session.ice_lite || parser->media.ice_lite;
  if (desc->mid == NULL)
    desc->mid = g_strdup ("0");

  return TRUE;
}

RtcSdpDescription *
rtc_sdp_parse (const char *text, gssize length, GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;
  SdpParser parser = { 0 };
  gsize len;
  const char *p, *end;
  gboolean ok = TRUE;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length < 0)
    len = strnlen (text, RTC_SDP_MAX_LENGTH + 1);
  else
    len = (gsize) length;

  if (len > RTC_SDP_MAX_LENGTH)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP, "The SDP is longer than %d bytes",
                   RTC_SDP_MAX_LENGTH);
      return NULL;
    }
  if (len == 0)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP, "The SDP is empty");
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate_len (text, len, NULL))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "The SDP contains a NUL byte or is not valid UTF-8");
      return NULL;
    }

  desc = rtc_sdp_description_new ();
  parser.desc = desc;
  parser.section = SECTION_SESSION;

  p = text;
  end = text + len;
  while (ok && p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl != NULL ? nl : end;
      gsize line_len = line_end - p;
      g_autofree char *line = NULL;

      parser.line_number++;
      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;
      if (line_len > RTC_SDP_MAX_LINE_LENGTH)
        {
          set_sdp_error (error, &parser, "line longer than %d bytes", RTC_SDP_MAX_LINE_LENGTH);
          ok = FALSE;
          break;
        }

      line = g_strndup (p, line_len);
      p = nl != NULL ? nl + 1 : end;

      /* Blank lines (a trailing one is common) carry nothing. */
      if (line_len == 0 && parser.line_number > 1)
        continue;
      if (memchr (line, '\r', line_len) != NULL)
        {
          set_sdp_error (error, &parser, "stray carriage return");
          ok = FALSE;
          break;
        }

      ok = parse_line (&parser, line, error);
    }

  if (ok)
    ok = finish_parse (&parser, error);

  sdp_level_clear (&parser.session);
  sdp_level_clear (&parser.media);

  if (!ok)
    return NULL;

  return g_steal_pointer (&desc);
}

/* --- generation ----------------------------------------------------------- */

char *
rtc_sdp_generate (const RtcSdpDescription *desc)
{
  static const char *const setups[] = { "actpass", "active", "passive" };
  g_autoptr (GString) out = NULL;
  g_autofree char *fingerprint = NULL;
  const char *mid;
  guint64 session_id;

  g_return_val_if_fail (desc != NULL, NULL);
  g_return_val_if_fail (desc->ice_ufrag != NULL && is_ice_chars (desc->ice_ufrag, ICE_UFRAG_MIN,
                                                                 ICE_CRED_MAX), NULL);
  g_return_val_if_fail (desc->ice_pwd != NULL && is_ice_chars (desc->ice_pwd, ICE_PWD_MIN,
                                                               ICE_CRED_MAX), NULL);
  g_return_val_if_fail (desc->mid == NULL || is_token (desc->mid, MID_MAX), NULL);
  g_return_val_if_fail ((guint) desc->setup < G_N_ELEMENTS (setups), NULL);
  g_return_val_if_fail (desc->sctp_port != 0, NULL);

  mid = desc->mid != NULL ? desc->mid : "0";
  /* A positive 62-bit number, as RFC 8866 suggests for the session id. */
  session_id = ((guint64) g_random_int () << 30) ^ g_random_int ();
  session_id &= G_GUINT64_CONSTANT (0x3fffffffffffffff);
  if (session_id == 0)
    session_id = 1;
  fingerprint = rtc_sdp_fingerprint_to_string (desc->fingerprint);

  out = g_string_new ("v=0\r\n");
  g_string_append_printf (out, "o=- %" G_GUINT64_FORMAT " 2 IN IP4 127.0.0.1\r\n", session_id);
  g_string_append (out, "s=-\r\nt=0 0\r\n");
  g_string_append_printf (out, "a=group:BUNDLE %s\r\n", mid);
  g_string_append (out, "a=msid-semantic: WMS\r\n");
  if (desc->ice_lite)
    g_string_append (out, "a=ice-lite\r\n");
  g_string_append (out, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
  g_string_append (out, "c=IN IP4 0.0.0.0\r\n");
  g_string_append_printf (out, "a=ice-ufrag:%s\r\n", desc->ice_ufrag);
  g_string_append_printf (out, "a=ice-pwd:%s\r\n", desc->ice_pwd);
  g_string_append (out, "a=ice-options:trickle\r\n");
  g_string_append_printf (out, "a=fingerprint:sha-256 %s\r\n", fingerprint);
  g_string_append_printf (out, "a=setup:%s\r\n", setups[desc->setup]);
  g_string_append_printf (out, "a=mid:%s\r\n", mid);
  g_string_append_printf (out, "a=sctp-port:%u\r\n", desc->sctp_port);
  if (desc->max_message_size != 0)
    g_string_append_printf (out, "a=max-message-size:%" G_GUINT64_FORMAT "\r\n",
                            desc->max_message_size);
  if (desc->sctp_lanes > 1)
    g_string_append_printf (out, "a=x-sctp-lanes:%u\r\n", MIN (desc->sctp_lanes,
                                                                 RTC_SDP_MAX_SCTP_LANES));
  if (desc->max_datagram != 0)
    g_string_append_printf (out, "a=x-max-datagram:%u\r\n",
                            MIN (desc->max_datagram, RTC_SDP_MAX_DATAGRAM));

  for (guint i = 0; desc->candidates != NULL && i < desc->candidates->len; i++)
    {
      const char *candidate = g_ptr_array_index (desc->candidates, i);
      g_autofree char *normalized = NULL;
      g_autoptr (GError) error = NULL;

      /* Never let a malformed string add lines to the description. */
      normalized = rtc_sdp_normalize_candidate (candidate, NULL, &error);
      if (normalized == NULL)
        {
          g_debug ("Not writing candidate: %s", error->message);
          continue;
        }
      g_string_append_printf (out, "a=%s\r\n", normalized);
    }
  if (desc->end_of_candidates)
    g_string_append (out, "a=end-of-candidates\r\n");

  return g_string_free (g_steal_pointer (&out), FALSE);
}
