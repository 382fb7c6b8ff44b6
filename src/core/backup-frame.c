/* backup-frame.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "backup-error.h"
#include "backup-frame.h"
#include "backup-signaling-message.h"

BackupFrame *
backup_frame_new (BackupFrameType type)
{
  BackupFrame *frame = g_new0 (BackupFrame, 1);

  frame->type = type;
  frame->size = -1;
  return frame;
}

void
backup_frame_free (BackupFrame *frame)
{
  if (frame == NULL)
    return;

  g_free (frame->name);
  g_free (frame->id);
  g_free (frame->from);
  g_free (frame->message);
  g_free (frame);
}

static const char *const type_names[] = { "header", "end", "ack", "error", "offset", "resume" };
static const char *const kind_names[] = { "file", "zip" };

static char *
hex_encode (const guint8 *data, gsize length)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (length * 2 + 1);

  for (gsize i = 0; i < length; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0xf];
    }
  out[length * 2] = '\0';
  return out;
}

static gboolean
hex_decode (const char *text, guint8 *out, gsize length)
{
  if (strlen (text) != length * 2)
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

gboolean
backup_frame_check_id (const char *id)
{
  if (id == NULL || strlen (id) != BACKUP_FRAME_ID_LEN * 2)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

char *
backup_frame_id_from_bytes (const guint8 id[BACKUP_FRAME_ID_LEN])
{
  return hex_encode (id, BACKUP_FRAME_ID_LEN);
}

GBytes *
backup_frame_encode (const BackupFrame *frame)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *sha = NULL;
  gsize length;
  char *text;

  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail (frame->type <= BACKUP_FRAME_RESUME, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type_names[frame->type]);

  switch (frame->type)
    {
    case BACKUP_FRAME_HEADER:
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, frame->name != NULL ? frame->name : "");
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, frame->size < 0 ? -1 : frame->size);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, kind_names[frame->kind]);
      if (frame->id != NULL)
        {
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, frame->id);
        }
      if (frame->from != NULL)
        {
          json_builder_set_member_name (builder, "from");
          json_builder_add_string_value (builder, frame->from);
        }
      break;

    case BACKUP_FRAME_RESUME:
      json_builder_set_member_name (builder, "bytes");
      json_builder_add_int_value (builder, (gint64) frame->bytes);
      break;

    case BACKUP_FRAME_END:
    case BACKUP_FRAME_ACK:
    case BACKUP_FRAME_OFFSET:
      sha = hex_encode (frame->sha256, sizeof frame->sha256);
      json_builder_set_member_name (builder, "bytes");
      json_builder_add_int_value (builder, (gint64) frame->bytes);
      json_builder_set_member_name (builder, "sha256");
      json_builder_add_string_value (builder, sha);
      if (frame->type == BACKUP_FRAME_OFFSET && frame->from != NULL)
        {
          json_builder_set_member_name (builder, "from");
          json_builder_add_string_value (builder, frame->from);
        }
      break;

    case BACKUP_FRAME_ERROR:
    default:
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, frame->message != NULL ? frame->message : "");
      break;
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static gboolean
protocol_error (GError **error, const char *what)
{
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
               _("The peer sent an invalid control message (%s)"), what);
  return FALSE;
}

static const char *
get_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_int (JsonObject *object, const char *member, gint64 *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return TRUE;
}

/* The optional device name of a header or an offer. */
static gboolean
get_from (JsonObject *object, BackupFrame *frame, GError **error)
{
  const char *from;

  if (!json_object_has_member (object, "from"))
    return TRUE;
  from = get_string (object, "from");
  if (from == NULL || *from == '\0' || strlen (from) > BACKUP_FRAME_MAX_FROM)
    return protocol_error (error, "a bad device name");
  frame->from = g_strdup (from);
  return TRUE;
}

static int
lookup (const char *const *names, gsize n_names, const char *value)
{
  for (gsize i = 0; value != NULL && i < n_names; i++)
    if (g_str_equal (names[i], value))
      return (int) i;
  return -1;
}

BackupFrame *
backup_frame_decode (const guint8 *data, gsize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (BackupFrame) frame = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonObject *object;
  JsonNode *root;
  int type;

  if (length == 0 || length > BACKUP_FRAME_MAX_CONTROL)
    {
      protocol_error (error, "bad length");
      return NULL;
    }
  if (!g_utf8_validate ((const char *) data, (gssize) length, NULL))
    {
      protocol_error (error, "not UTF-8");
      return NULL;
    }
  /* json-glib hands strings over NUL-terminated: a name spelled
   * "victim\u0000.evil" would arrive as "victim", and would rotate the
   * versions of that other file. Such text, and text that json-glib reads
   * more loosely than JSON allows, is refused before it is parsed. */
  if (!backup_signaling_json_check ((const char *) data, length, &local_error))
    {
      protocol_error (error, local_error->message);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) length, &local_error))
    {
      protocol_error (error, "not JSON");
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      protocol_error (error, "not an object");
      return NULL;
    }
  object = json_node_get_object (root);

  type = lookup (type_names, G_N_ELEMENTS (type_names), get_string (object, "type"));
  if (type < 0)
    {
      protocol_error (error, "unknown type");
      return NULL;
    }
  frame = backup_frame_new ((BackupFrameType) type);

  switch (frame->type)
    {
    case BACKUP_FRAME_HEADER:
      {
        const char *name = get_string (object, "name");
        int kind = lookup (kind_names, G_N_ELEMENTS (kind_names), get_string (object, "kind"));

        if (name == NULL || *name == '\0')
          {
            protocol_error (error, "header without a name");
            return NULL;
          }
        if (!get_int (object, "size", &frame->size) || frame->size < -1)
          {
            protocol_error (error, "header with a bad size");
            return NULL;
          }
        if (kind < 0)
          {
            protocol_error (error, "header with an unknown kind");
            return NULL;
          }
        if (json_object_has_member (object, "id"))
          {
            const char *id = get_string (object, "id");

            if (id == NULL || !backup_frame_check_id (id))
              {
                protocol_error (error, "header with a bad id");
                return NULL;
              }
            frame->id = g_strdup (id);
          }
        if (!get_from (object, frame, error))
          return NULL;
        frame->name = g_strdup (name);
        frame->kind = (BackupFrameKind) kind;
        break;
      }

    case BACKUP_FRAME_RESUME:
      {
        gint64 bytes;

        if (!get_int (object, "bytes", &bytes) || bytes < 0)
          {
            protocol_error (error, "bad byte count");
            return NULL;
          }
        frame->bytes = (guint64) bytes;
        break;
      }

    case BACKUP_FRAME_END:
    case BACKUP_FRAME_ACK:
    case BACKUP_FRAME_OFFSET:
      {
        const char *sha = get_string (object, "sha256");
        gint64 bytes;

        if (!get_int (object, "bytes", &bytes) || bytes < 0)
          {
            protocol_error (error, "bad byte count");
            return NULL;
          }
        if (sha == NULL || !hex_decode (sha, frame->sha256, sizeof frame->sha256))
          {
            protocol_error (error, "bad SHA-256");
            return NULL;
          }
        frame->bytes = (guint64) bytes;
        if (frame->type == BACKUP_FRAME_OFFSET && !get_from (object, frame, error))
          return NULL;
        break;
      }

    case BACKUP_FRAME_ERROR:
    default:
      {
        const char *message = get_string (object, "message");

        if (message == NULL)
          {
            protocol_error (error, "error without a message");
            return NULL;
          }
        frame->message = g_strdup (message);
        break;
      }
    }

  return g_steal_pointer (&frame);
}

struct _BackupLegacyParser
{
  BackupLegacyParserFuncs funcs;
  gpointer user_data;
  gboolean have_length;
  guint8 name_length;
  guint8 name_fill;
  gboolean have_name;
  gboolean failed;
  char name[256];
  guint64 content_bytes;
};

BackupLegacyParser *
backup_legacy_parser_new (const BackupLegacyParserFuncs *funcs, gpointer user_data)
{
  BackupLegacyParser *parser = g_new0 (BackupLegacyParser, 1);

  g_return_val_if_fail (funcs != NULL && funcs->name != NULL && funcs->content != NULL, NULL);

  parser->funcs = *funcs;
  parser->user_data = user_data;
  return parser;
}

void
backup_legacy_parser_free (BackupLegacyParser *parser)
{
  g_free (parser);
}

gboolean
backup_legacy_parser_feed (BackupLegacyParser *parser,
                           const guint8 *data,
                           gsize length,
                           GError **error)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  if (parser->failed)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                           _("The transfer has already failed"));
      return FALSE;
    }

  if (!parser->have_length && length > 0)
    {
      parser->name_length = data[0];
      parser->have_length = TRUE;
      data++;
      length--;
      if (parser->name_length == 0)
        {
          parser->failed = TRUE;
          g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                               _("The peer sent an empty file name"));
          return FALSE;
        }
    }

  if (parser->have_length && !parser->have_name && length > 0)
    {
      gsize take = MIN (length, (gsize) (parser->name_length - parser->name_fill));

      memcpy (parser->name + parser->name_fill, data, take);
      parser->name_fill += take;
      data += take;
      length -= take;

      if (parser->name_fill == parser->name_length)
        {
          parser->have_name = TRUE;
          parser->name[parser->name_length] = '\0';
          if (!parser->funcs.name (parser->name, parser->name_length, parser->user_data, error))
            {
              parser->failed = TRUE;
              return FALSE;
            }
        }
    }

  if (parser->have_name && length > 0)
    {
      parser->content_bytes += length;
      if (!parser->funcs.content (data, length, parser->user_data, error))
        {
          parser->failed = TRUE;
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
backup_legacy_parser_has_name (BackupLegacyParser *parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);

  return parser->have_name;
}

guint64
backup_legacy_parser_get_content_bytes (BackupLegacyParser *parser)
{
  g_return_val_if_fail (parser != NULL, 0);

  return parser->content_bytes;
}
