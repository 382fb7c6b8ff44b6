/* fuzz-signaling.c: the signaling files and the SDP JSON inside them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each input is read four ways: as a whole signaling file; as the decoded
 * payload of an "sdp" file and of a "candidate" file (the input wrapped in
 * {"type":KIND,"payload":BASE64}, which reaches the SDP JSON parser
 * directly); and as a signaling file name.
 *
 * Besides memory errors, checks that whatever the parser accepts is what its
 * kind says (an offer or an answer starting with "v=0", one candidate
 * attribute), that its strings are UTF-8, and that encoding it again gives a
 * file that parses back to the same values; and that a file name accepted
 * for a session is rebuilt byte for byte.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "backup-signaling-error.h"
#include "backup-signaling-message.h"
#include "fuzz-common.h"

#define SESSION "3f2b8c1e-5d4a-4e67-9a21-7c0d9e8f1a2b"

/* json-glib writes a double that is not finite as "inf.0" or "nan.0", which
 * no JSON reader takes back; such values cannot be sent again. */
static gboolean
node_is_finite (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *member;
        JsonNode *child;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, &member, &child))
          if (!node_is_finite (child))
            return FALSE;
        return TRUE;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          if (!node_is_finite (json_array_get_element (array, i)))
            return FALSE;
        return TRUE;
      }

    case JSON_NODE_VALUE:
      return json_node_get_value_type (node) != G_TYPE_DOUBLE
             || isfinite (json_node_get_double (node));

    case JSON_NODE_NULL:
    default:
      return TRUE;
    }
}

static void
check_same_extensions (JsonObject *a, JsonObject *b)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  g_assert_cmpuint (json_object_get_size (a), ==, json_object_get_size (b));
  json_object_iter_init (&iter, a);
  while (json_object_iter_next (&iter, &member, &node))
    {
      JsonNode *other = json_object_get_member (b, member);
      g_autofree char *text = NULL;
      g_autofree char *other_text = NULL;

      g_assert_nonnull (other);
      text = json_to_string (node, FALSE);
      other_text = json_to_string (other, FALSE);
      g_assert_cmpstr (text, ==, other_text);
    }
}

static void
check_message (const BackupSignalingMessage *message)
{
  g_autoptr (BackupSignalingMessage) again = NULL;
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) extensions = NULL;

  g_assert_nonnull (message->extensions);
  g_assert_false (json_object_has_member (message->extensions, "type"));
  g_assert_false (json_object_has_member (message->extensions, "payload"));

  switch (message->kind)
    {
    case BACKUP_SIGNALING_KIND_PING:
      g_assert_null (message->sdp_type);
      g_assert_null (message->sdp);
      g_assert_null (message->candidate);
      break;

    case BACKUP_SIGNALING_KIND_SDP:
      g_assert_true (g_str_equal (message->sdp_type, "offer")
                     || g_str_equal (message->sdp_type, "answer"));
      g_assert_true (g_str_has_prefix (message->sdp, "v=0"));
      g_assert_true (g_utf8_validate (message->sdp, -1, NULL));
      g_assert_null (message->candidate);
      break;

    case BACKUP_SIGNALING_KIND_CANDIDATE:
      g_assert_true (g_str_has_prefix (message->candidate, "candidate:"));
      g_assert_null (strpbrk (message->candidate, "\r\n"));
      g_assert_true (g_utf8_validate (message->candidate, -1, NULL));
      g_assert_null (message->sdp);
      break;

    default:
      g_assert_not_reached ();
    }

  extensions = json_node_init_object (json_node_alloc (), message->extensions);
  if (!node_is_finite (extensions))
    return;

  switch (message->kind)
    {
    case BACKUP_SIGNALING_KIND_PING:
      encoded = backup_signaling_message_encode_ping (message->extensions);
      break;
    case BACKUP_SIGNALING_KIND_SDP:
      encoded = backup_signaling_message_encode_sdp (message->sdp_type, message->sdp,
                                                     message->extensions);
      break;
    case BACKUP_SIGNALING_KIND_CANDIDATE:
    default:
      encoded = backup_signaling_message_encode_candidate (message->candidate,
                                                           message->extensions);
      break;
    }

  /* Base64 makes the file larger than what it was read from. */
  if (g_bytes_get_size (encoded) > BACKUP_SIGNALING_MESSAGE_MAX_SIZE)
    return;

  again = backup_signaling_message_parse (encoded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->kind, ==, message->kind);
  g_assert_cmpstr (again->sdp_type, ==, message->sdp_type);
  g_assert_cmpstr (again->sdp, ==, message->sdp);
  g_assert_cmpstr (again->candidate, ==, message->candidate);
  check_same_extensions (message->extensions, again->extensions);
}

static void
parse_file (GBytes *bytes)
{
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = backup_signaling_message_parse (bytes, &error);
  if (message == NULL)
    {
      g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED);
      return;
    }
  g_assert_no_error (error);
  check_message (message);
}

static void
parse_as_payload (const char *kind, const uint8_t *data, size_t size)
{
  g_autofree char *b64 = g_base64_encode (data, size);
  g_autofree char *file = g_strdup_printf ("{\"type\":\"%s\",\"payload\":\"%s\"}", kind, b64);
  gsize length = strlen (file);
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_memdup2 (file, length), length);

  parse_file (bytes);
}

static void
parse_as_name (const uint8_t *data, size_t size)
{
  g_autofree char *name = g_malloc (size + 1);
  g_autofree char *instance = NULL;
  g_autoptr (GError) error = NULL;
  BackupSignalingKind kind = BACKUP_SIGNALING_KIND_PING;

  /* A NUL in the input ends the name, as it would any C string. */
  if (size > 0)
    memcpy (name, data, size);
  name[size] = '\0';

  if (!backup_signaling_parse_name (name, SESSION, &kind, &instance, &error))
    {
      g_assert_true (g_error_matches (error, BACKUP_SIGNALING_ERROR,
                                      BACKUP_SIGNALING_ERROR_NOT_FOUND)
                     || g_error_matches (error, BACKUP_SIGNALING_ERROR,
                                         BACKUP_SIGNALING_ERROR_MALFORMED));
      g_assert_null (instance);
      return;
    }

  g_assert_no_error (error);
  g_assert_true (backup_signaling_name_is_of_session (name, SESSION));
  {
    g_autofree char *rebuilt = backup_signaling_make_name (SESSION, kind, instance);

    g_assert_cmpstr (rebuilt, ==, name);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The parser gets the exact bytes: a copy of exactly @size bytes lets
   * the address sanitizer see any read past the end. */
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_memdup2 (data, size), size);

  parse_file (bytes);

  /* Base64 grows by a third: keep the wrapped file under the size limit. */
  if (size <= BACKUP_SIGNALING_MESSAGE_MAX_SIZE / 2)
    {
      parse_as_payload ("sdp", data, size);
      parse_as_payload ("candidate", data, size);
    }

  if (size <= 4096)
    parse_as_name (data, size);

  return 0;
}
