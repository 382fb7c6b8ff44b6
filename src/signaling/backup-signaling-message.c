/* backup-signaling-message.c: names and contents of the signaling files
 *
 * The original tool writes its files with Go's encoding/json and
 * encoding/base64 (standard alphabet, padded): members in the order "type",
 * "payload", no spaces, '<', '>' and '&' escaped as \u003c, \u003e, \u0026.
 * We write the same bytes so that either side can read the other's files,
 * and read strictly: anything that is not exactly a message is refused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backup-signaling-error.h"
#include "backup-signaling-message.h"

static const char *const kind_names[] = { "ping", "sdp", "candidate", "restart" };

const char *
backup_signaling_kind_to_string (BackupSignalingKind kind)
{
  g_return_val_if_fail (kind <= BACKUP_SIGNALING_KIND_RESTART, NULL);

  return kind_names[kind];
}

static gboolean
kind_from_string (const char *str, gsize len, BackupSignalingKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (strlen (kind_names[i]) == len && strncmp (kind_names[i], str, len) == 0)
      {
        *kind = (BackupSignalingKind) i;
        return TRUE;
      }
  return FALSE;
}

char *
backup_signaling_make_name (const char *session,
                            BackupSignalingKind kind,
                            const char *instance)
{
  g_return_val_if_fail (session != NULL, NULL);
  g_return_val_if_fail (instance != NULL, NULL);

  return g_strdup_printf ("%s_%s_%s.json", session, backup_signaling_kind_to_string (kind), instance);
}

gboolean
backup_signaling_name_is_of_session (const char *name,
                                     const char *session)
{
  gsize slen = strlen (session);

  return strncmp (name, session, slen) == 0 && name[slen] == '_';
}

static gboolean
is_instance_char (char c)
{
  return g_ascii_isalnum (c) || c == '-';
}

/* Splits "{session}_{kind}_{instance}.json". A name of another session is
 * refused as NOT_FOUND; a name of this session that is not exactly a message
 * name is MALFORMED. */
gboolean
backup_signaling_parse_name (const char *name,
                             const char *session,
                             BackupSignalingKind *kind,
                             char **instance,
                             GError **error)
{
  const char *p, *sep, *end;
  gsize slen, nlen;
  BackupSignalingKind k;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  if (!backup_signaling_name_is_of_session (name, session))
    {
      g_autofree char *shown = g_strescape (name, NULL);

      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND,
                   "“%s” is not a file of session %s", shown, session);
      return FALSE;
    }

  slen = strlen (session);
  nlen = strlen (name);
  p = name + slen + 1;
  end = name + nlen;

  if (nlen < slen + 1 + strlen (".json") || !g_str_has_suffix (name, ".json"))
    goto malformed;
  end -= strlen (".json");

  sep = memchr (p, '_', end - p);
  if (sep == NULL || !kind_from_string (p, sep - p, &k))
    goto malformed;

  p = sep + 1;
  if (p == end || end - p > 128)
    goto malformed;
  for (const char *q = p; q < end; q++)
    if (!is_instance_char (*q))
      goto malformed;

  if (kind != NULL)
    *kind = k;
  if (instance != NULL)
    *instance = g_strndup (p, end - p);
  return TRUE;

malformed:
  {
    /* Whoever wrote into the store chose the name: no control character
     * of it reaches a log. */
    g_autofree char *shown = g_strescape (name, NULL);

    g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                 "“%s” is not a signaling file name of session %s", shown, session);
  }
  return FALSE;
}

/* Appends @str as a JSON string the way Go's encoding/json writes it. */
static void
append_go_json_string (GString *out, const char *str)
{
  static const char hex[] = "0123456789abcdef";
  const char *p = str;

  g_string_append_c (out, '"');
  while (*p != '\0')
    {
      guchar c = (guchar) *p;

      if (c < 0x80)
        {
          switch (c)
            {
            case '"':
              g_string_append (out, "\\\"");
              break;
            case '\\':
              g_string_append (out, "\\\\");
              break;
            case '\n':
              g_string_append (out, "\\n");
              break;
            case '\r':
              g_string_append (out, "\\r");
              break;
            case '\t':
              g_string_append (out, "\\t");
              break;
            default:
              if (c < 0x20 || c == '<' || c == '>' || c == '&')
                {
                  g_string_append (out, "\\u00");
                  g_string_append_c (out, hex[c >> 4]);
                  g_string_append_c (out, hex[c & 0xf]);
                }
              else
                g_string_append_c (out, (char) c);
            }
          p++;
        }
      else
        {
          gunichar u = g_utf8_get_char_validated (p, -1);

          if (u == (gunichar) -1 || u == (gunichar) -2)
            {
              g_string_append (out, "\\ufffd");
              p++;
            }
          else
            {
              if (u == 0x2028 || u == 0x2029)
                g_string_append_printf (out, "\\u%04x", u);
              else
                g_string_append_len (out, p, g_utf8_next_char (p) - p);
              p = g_utf8_next_char (p);
            }
        }
    }
  g_string_append_c (out, '"');
}

/* Appends @node as JSON. json-glib's own writer turns 1e40 into "1e+40.0",
 * which is not JSON; numbers are written here so that they read back. */
static void
append_json_node (GString *out, JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        /* In the order they were read. */
        g_autoptr (GList) members = json_object_get_members (object);

        g_string_append_c (out, '{');
        for (GList *l = members; l != NULL; l = l->next)
          {
            if (l != members)
              g_string_append_c (out, ',');
            append_go_json_string (out, l->data);
            g_string_append_c (out, ':');
            append_json_node (out, json_object_get_member (object, l->data));
          }
        g_string_append_c (out, '}');
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            append_json_node (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          append_go_json_string (out, json_node_get_string (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_DOUBLE:
          {
            double value = json_node_get_double (node);
            char buffer[G_ASCII_DTOSTR_BUF_SIZE];

            /* JSON has no infinity or NaN. */
            if (!isfinite (value))
              {
                g_string_append (out, "null");
                break;
              }
            g_string_append (out, g_ascii_dtostr (buffer, sizeof buffer, value));
            /* Still a fraction when read back, like 0.0 rather than 0. */
            if (strpbrk (buffer, ".eE") == NULL)
              g_string_append (out, ".0");
          }
          break;
        case G_TYPE_INT64:
        default:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        }
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

static GBytes *
encode_message (BackupSignalingKind kind,
                const char *payload,
                gsize payload_len,
                JsonObject *extensions)
{
  GString *out = g_string_new ("{\"type\":");

  append_go_json_string (out, backup_signaling_kind_to_string (kind));
  if (payload != NULL)
    {
      g_autofree char *b64 = g_base64_encode ((const guchar *) payload, payload_len);

      g_string_append (out, ",\"payload\":");
      append_go_json_string (out, b64);
    }

  if (extensions != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      json_object_iter_init (&iter, extensions);
      while (json_object_iter_next (&iter, &member, &node))
        {
          if (g_str_equal (member, "type") || g_str_equal (member, "payload"))
            continue;
          g_string_append_c (out, ',');
          append_go_json_string (out, member);
          g_string_append_c (out, ':');
          append_json_node (out, node);
        }
    }

  g_string_append_c (out, '}');
  return g_string_free_to_bytes (out);
}

GBytes *
backup_signaling_message_encode_ping (JsonObject *extensions)
{
  return encode_message (BACKUP_SIGNALING_KIND_PING, NULL, 0, extensions);
}

GBytes *
backup_signaling_message_encode_sdp (const char *type,
                                     const char *sdp,
                                     JsonObject *extensions)
{
  g_autoptr (GString) inner = g_string_new ("{\"type\":");

  g_return_val_if_fail (type != NULL, NULL);
  g_return_val_if_fail (sdp != NULL, NULL);

  /* pion's SessionDescription as Go marshals it */
  append_go_json_string (inner, type);
  g_string_append (inner, ",\"sdp\":");
  append_go_json_string (inner, sdp);
  g_string_append_c (inner, '}');

  return encode_message (BACKUP_SIGNALING_KIND_SDP, inner->str, inner->len, extensions);
}

GBytes *
backup_signaling_message_encode_candidate (const char *candidate,
                                           JsonObject *extensions)
{
  g_autofree char *clean = NULL;

  g_return_val_if_fail (candidate != NULL, NULL);

  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  clean = g_strdup (candidate);
  g_strchomp (clean);

  return encode_message (BACKUP_SIGNALING_KIND_CANDIDATE, clean, strlen (clean), extensions);
}

GBytes *
backup_signaling_message_encode_restart (guint generation,
                                         const char *ufrag,
                                         const char *pwd,
                                         const char *const *candidates,
                                         JsonObject *extensions)
{
  g_autoptr (GString) inner = g_string_new (NULL);

  g_return_val_if_fail (generation > 0, NULL);
  g_return_val_if_fail (ufrag != NULL && pwd != NULL, NULL);

  g_string_append_printf (inner, "{\"generation\":%u,\"ufrag\":", generation);
  append_go_json_string (inner, ufrag);
  g_string_append (inner, ",\"pwd\":");
  append_go_json_string (inner, pwd);
  g_string_append (inner, ",\"candidates\":[");
  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (inner, ',');
      append_go_json_string (inner, candidates[i]);
    }
  g_string_append (inner, "]}");
  return encode_message (BACKUP_SIGNALING_KIND_RESTART, inner->str, inner->len, extensions);
}

void
backup_signaling_message_free (BackupSignalingMessage *message)
{
  if (message == NULL)
    return;

  g_free (message->sdp_type);
  g_free (message->sdp);
  g_free (message->candidate);
  g_free (message->ice_ufrag);
  g_free (message->ice_pwd);
  g_strfreev (message->candidates);
  g_clear_pointer (&message->extensions, json_object_unref);
  g_free (message);
}

static gboolean
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* Standard alphabet, padded, nothing else (g_base64_decode skips junk). */
static guchar *
decode_base64_strict (const char *text, gsize *out_len)
{
  gsize len = strlen (text);
  gsize pad = 0;

  if (len == 0 || len % 4 != 0)
    return NULL;
  if (text[len - 1] == '=')
    pad++;
  if (text[len - 2] == '=')
    pad++;
  for (gsize i = 0; i < len - pad; i++)
    if (!is_base64_char (text[i]))
      return NULL;

  return g_base64_decode (text, out_len);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
               "Malformed signaling message: %s", what);
  return FALSE;
}

static gpointer
malformed_null (GError **error, const char *what)
{
  malformed (error, what);
  return NULL;
}

static gboolean
json_refused (GError **error, const char *what)
{
  g_set_error_literal (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED, what);
  return FALSE;
}

/* The value of the four hex digits at @p, or -1. */
static int
json_hex4 (const char *p, const char *end)
{
  int value = 0;

  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      value = value << 4 | digit;
    }
  return value;
}

/* Walks one string whose opening quote is just before *@pos, and leaves
 * *@pos after its closing quote. */
static gboolean
json_check_string (const char **pos, const char *end, GError **error)
{
  const char *p = *pos;

  while (p < end)
    {
      guchar c = (guchar) *p++;
      int unit;

      if (c == '"')
        {
          *pos = p;
          return TRUE;
        }
      /* Raw control characters are not JSON, but json-glib keeps them as
       * they are, and its own generator writes U+001F unescaped. */
      if (c != '\\')
        continue;

      if (p == end)
        break;
      switch (*p++)
        {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;

        case 'u':
          unit = json_hex4 (p, end);
          if (unit < 0)
            return json_refused (error, "\\u escape without four hex digits in a string");
          p += 4;
          if (unit == 0)
            return json_refused (error, "escaped NUL character (\\u0000) in a string");
          if (unit >= 0xdc00 && unit <= 0xdfff)
            return json_refused (error, "unpaired surrogate in a string");
          if (unit >= 0xd800 && unit <= 0xdbff)
            {
              int low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? json_hex4 (p + 2, end) : -1;

              if (low < 0xdc00 || low > 0xdfff)
                return json_refused (error, "unpaired surrogate in a string");
              p += 6;
            }
          break;

        default:
          return json_refused (error, "escape that JSON does not define in a string");
        }
    }

  return json_refused (error, "unterminated string");
}

/* json-glib 1.6 reads an integer that does not fit in 64 bits as another
 * number (99999999999999999999 as -1), so such a token is refused. Tokens
 * with a fraction or an exponent are doubles and are left alone. */
static gboolean
json_check_number (const char *start, const char *end, GError **error)
{
  const char *p = start;
  guint64 limit = G_MAXINT64;
  guint64 value = 0;

  for (const char *q = start; q < end; q++)
    if (*q == '.' || *q == 'e' || *q == 'E')
      return TRUE;

  if (p < end && *p == '-')
    {
      limit = (guint64) G_MAXINT64 + 1;
      p++;
    }
  for (; p < end; p++)
    {
      guint digit;

      /* Not a number JSON allows; json-glib refuses it. */
      if (!g_ascii_isdigit (*p))
        return TRUE;
      digit = (guint) (*p - '0');
      if (value > (limit - digit) / 10)
        return json_refused (error, "integer out of the 64-bit range");
      value = value * 10 + digit;
    }

  return TRUE;
}

static gboolean
is_number_char (char c)
{
  return g_ascii_isdigit (c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

gboolean
backup_signaling_json_check (const char *text, gsize length, GError **error)
{
  const char *p = text;
  const char *end = text + length;
  guint depth = 0;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);

  /* Refuses NUL bytes as well. */
  if (!g_utf8_validate_len (text, length, NULL))
    return json_refused (error, "not UTF-8");

  while (p < end)
    {
      char c = *p++;

      switch (c)
        {
        case '"':
          if (!json_check_string (&p, end, error))
            return FALSE;
          break;

        case '{':
        case '[':
          if (++depth > BACKUP_SIGNALING_JSON_MAX_DEPTH)
            return json_refused (error, "arrays or objects nested too deeply");
          break;

        case '}':
        case ']':
          /* An upper bound of the nesting is enough; json-glib checks the
           * grammar. */
          if (depth > 0)
            depth--;
          break;

        case ' ':
        case '\t':
        case '\n':
        case '\r':
        case ':':
        case ',':
          break;

        default:
          if (is_number_char (c))
            {
              const char *start = p - 1;

              while (p < end && is_number_char (*p))
                p++;
              if (!json_check_number (start, p, error))
                return FALSE;
            }
          /* The letters of true, false and null. */
          else if (!g_ascii_islower (c))
            return json_refused (error, "character outside the JSON syntax");
          break;
        }
    }

  return TRUE;
}

static gboolean
parse_sdp_payload (BackupSignalingMessage *message,
                   const guchar *data,
                   gsize len,
                   GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonObject *object;
  JsonNode *type, *sdp;
  const char *type_str;

  if (!backup_signaling_json_check ((const char *) data, len, &local_error))
    {
      g_autofree char *what = g_strdup_printf ("the description is not JSON (%s)",
                                               local_error->message);

      return malformed (error, what);
    }
  if (!json_parser_load_from_data (parser, (const char *) data, len, NULL))
    return malformed (error, "the description is not JSON");

  /* Blank input parses, with no root at all. */
  if (json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return malformed (error, "the description is not a JSON object");
  object = json_node_get_object (json_parser_get_root (parser));

  type = json_object_get_member (object, "type");
  sdp = json_object_get_member (object, "sdp");
  if (type == NULL || json_node_get_value_type (type) != G_TYPE_STRING ||
      sdp == NULL || json_node_get_value_type (sdp) != G_TYPE_STRING)
    return malformed (error, "the description lacks a type or an sdp");

  type_str = json_node_get_string (type);
  if (!g_str_equal (type_str, "offer") && !g_str_equal (type_str, "answer"))
    return malformed (error, "the description is neither an offer nor an answer");
  if (!g_str_has_prefix (json_node_get_string (sdp), "v=0"))
    return malformed (error, "the description is not SDP");

  message->sdp_type = g_strdup (type_str);
  message->sdp = g_strdup (json_node_get_string (sdp));
  return TRUE;
}

/* ICE's ice-char (RFC 8839): letters, digits, '+' and '/'. */
static gboolean
is_ice_credential (const char *text, gsize min, gsize max)
{
  gsize length = strlen (text);

  if (length < min || length > max)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/')
      return FALSE;
  return TRUE;
}

static const char *
string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
parse_restart_payload (BackupSignalingMessage *message,
                       const guchar *data,
                       gsize len,
                       GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  JsonObject *object;
  JsonNode *generation, *list;
  const char *ufrag, *pwd;

  if (!backup_signaling_json_check ((const char *) data, len, NULL)
      || !json_parser_load_from_data (parser, (const char *) data, len, NULL)
      || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return malformed (error, "the restart is not a JSON object");
  object = json_node_get_object (json_parser_get_root (parser));

  generation = json_object_get_member (object, "generation");
  if (generation == NULL || json_node_get_value_type (generation) != G_TYPE_INT64
      || json_node_get_int (generation) < 1 || json_node_get_int (generation) > G_MAXINT32)
    return malformed (error, "the restart has no valid generation");
  ufrag = string_member (object, "ufrag");
  pwd = string_member (object, "pwd");
  /* RFC 8839: a ufrag of 4 to 256 characters, a password of 22 to 256. */
  if (ufrag == NULL || pwd == NULL || !is_ice_credential (ufrag, 4, 256)
      || !is_ice_credential (pwd, 22, 256))
    return malformed (error, "the restart has no valid ICE credentials");
  list = json_object_get_member (object, "candidates");
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)
      || json_array_get_length (json_node_get_array (list))
             > BACKUP_SIGNALING_RESTART_MAX_CANDIDATES)
    return malformed (error, "the restart has no valid candidate list");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (list), i);
      const char *candidate;

      if (json_node_get_value_type (item) != G_TYPE_STRING)
        return malformed (error, "a restart candidate is not text");
      candidate = json_node_get_string (item);
      if (!g_str_has_prefix (candidate, "candidate:") || strpbrk (candidate, "\r\n") != NULL
          || strlen (candidate) > BACKUP_SIGNALING_RESTART_MAX_LINE)
        return malformed (error, "a restart candidate is not one candidate attribute");
      g_ptr_array_add (candidates, g_strdup (candidate));
    }
  g_ptr_array_add (candidates, NULL);

  message->generation = (guint) json_node_get_int (generation);
  message->ice_ufrag = g_strdup (ufrag);
  message->ice_pwd = g_strdup (pwd);
  message->candidates = (GStrv) g_ptr_array_free (g_steal_pointer (&candidates), FALSE);
  return TRUE;
}

static gboolean
parse_candidate_payload (BackupSignalingMessage *message,
                         const guchar *data,
                         gsize len,
                         GError **error)
{
  g_autofree char *text = NULL;
  const char *start;

  if (memchr (data, '\0', len) != NULL || !g_utf8_validate ((const char *) data, len, NULL))
    return malformed (error, "the candidate is not text");

  text = g_strndup ((const char *) data, len);
  g_strchomp (text);
  start = text;
  if (g_str_has_prefix (start, "a="))
    start += 2;
  if (!g_str_has_prefix (start, "candidate:") || strpbrk (start, "\r\n") != NULL)
    return malformed (error, "the candidate is not one candidate attribute");

  message->candidate = g_strdup (start);
  return TRUE;
}

BackupSignalingMessage *
backup_signaling_message_parse (GBytes *bytes,
                                GError **error)
{
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree guchar *payload = NULL;
  gsize payload_len = 0;
  const char *data;
  gsize len;
  JsonObject *object;
  JsonNode *type, *payload_node;
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  if (len > BACKUP_SIGNALING_MESSAGE_MAX_SIZE)
    return malformed_null (error, "too large");
  if (len == 0 || memchr (data, '\0', len) != NULL)
    return malformed_null (error, "not JSON");
  if (!backup_signaling_json_check (data, len, &local_error))
    return malformed_null (error, local_error->message);

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, NULL))
    return malformed_null (error, "not JSON");
  /* Blank input parses, with no root at all. */
  if (json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return malformed_null (error, "not a JSON object");
  object = json_node_get_object (json_parser_get_root (parser));

  message = g_new0 (BackupSignalingMessage, 1);
  message->extensions = json_object_new ();

  type = json_object_get_member (object, "type");
  if (type == NULL || json_node_get_value_type (type) != G_TYPE_STRING)
    return malformed_null (error, "no type");
  {
    const char *t = json_node_get_string (type);

    if (!kind_from_string (t, strlen (t), &message->kind))
      return malformed_null (error, "unknown type");
  }

  payload_node = json_object_get_member (object, "payload");
  if (message->kind != BACKUP_SIGNALING_KIND_PING)
    {
      if (payload_node == NULL || json_node_get_value_type (payload_node) != G_TYPE_STRING)
        return malformed_null (error, "no payload");
      payload = decode_base64_strict (json_node_get_string (payload_node), &payload_len);
      if (payload == NULL)
        return malformed_null (error, "the payload is not base64");

      if (message->kind == BACKUP_SIGNALING_KIND_SDP)
        {
          if (!parse_sdp_payload (message, payload, payload_len, error))
            return NULL;
        }
      else if (message->kind == BACKUP_SIGNALING_KIND_RESTART)
        {
          if (!parse_restart_payload (message, payload, payload_len, error))
            return NULL;
        }
      else if (!parse_candidate_payload (message, payload, payload_len, error))
        return NULL;
    }

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &member, &node))
    if (!g_str_equal (member, "type") && !g_str_equal (member, "payload"))
      json_object_set_member (message->extensions, member, json_node_copy (node));

  return g_steal_pointer (&message);
}
