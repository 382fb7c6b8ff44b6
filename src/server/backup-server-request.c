/* backup-server-request.c: what BackupServer reads from a request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the parsers share their limits and helpers, and are fuzzed as
 * one target (tests/server/fuzz-server-request.c).
 */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "backup-server-request.h"

G_DEFINE_QUARK (backup-server-error-quark, backup_server_error)

#define MAX_DURATION (100 * G_GUINT64_CONSTANT (365 * 24 * 60 * 60)) /* seconds */
#define MAX_BOUNDARY_LEN 70  /* RFC 2046 */
#define MAX_MIME_TYPE_LEN 127
#define DEFAULT_MIME_TYPE "application/octet-stream"

/* Durations, keys and names */

gboolean
backup_server_parse_duration (const char *text,
                              gint64 *seconds,
                              GError **error)
{
  const char *p = text;
  guint64 value = 0;
  guint64 unit = 1;
  gsize digits = 0;

  g_return_val_if_fail (seconds != NULL, FALSE);

  if (text == NULL)
    text = p = "";

  while (g_ascii_isdigit (*p))
    {
      if (++digits > 12)
        break;
      value = value * 10 + (guint64) (*p - '0');
      p++;
    }

  if (digits > 0 && digits <= 12 && *p != '\0')
    {
      static const struct
      {
        char suffix;
        guint64 seconds;
      } units[] = {
        { 's', 1 },
        { 'm', 60 },
        { 'h', 60 * 60 },
        { 'd', 24 * 60 * 60 },
        { 'w', 7 * 24 * 60 * 60 },
        { 'M', 30 * 24 * 60 * 60 },
        { 'y', 365 * 24 * 60 * 60 },
      };

      unit = 0;
      for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
        if (*p == units[i].suffix)
          unit = units[i].seconds;
      p++;
    }

  if (digits == 0 || digits > 12 || unit == 0 || *p != '\0' || value == 0 ||
      value > MAX_DURATION / unit)
    {
      g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                   "“%s” is not a duration (a positive number of seconds, or a number "
                   "followed by m, h, d or w, at most 100 years)", text);
      return FALSE;
    }

  *seconds = (gint64) (value * unit);
  return TRUE;
}

gboolean
backup_server_api_key_is_valid (const char *key)
{
  gsize len;

  if (key == NULL)
    return FALSE;

  len = strlen (key);
  if (len == 0 || len > BACKUP_SERVER_MAX_API_KEY_LEN)
    return FALSE;

  for (const char *p = key; *p != '\0'; p++)
    if (*p <= 0x20 || *p >= 0x7f)
      return FALSE;

  return TRUE;
}

gboolean
backup_server_file_key_is_valid (const char *key)
{
  gsize len = strlen (key);

  if (len == 0 || len > BACKUP_SERVER_MAX_KEY_LEN)
    return FALSE;

  for (const char *p = key; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;

  return TRUE;
}

gboolean
backup_server_file_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > BACKUP_SERVER_MAX_NAME_LEN || !g_utf8_validate (name, (gssize) len, NULL))
    return FALSE;
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
      return FALSE;

  return TRUE;
}

gboolean
backup_server_parse_expiry (const char *text,
                            gint64 now,
                            gint64 *expires)
{
  g_autoptr (GTimeZone) utc = NULL;
  g_autoptr (GDateTime) when = NULL;
  gint64 seconds;

  if (text == NULL)
    return FALSE;

  if (backup_server_parse_duration (text, &seconds, NULL))
    {
      *expires = now + seconds * G_USEC_PER_SEC;
      return TRUE;
    }

  utc = g_time_zone_new_utc ();
  when = g_date_time_new_from_iso8601 (text, utc);
  if (when == NULL && strlen (text) == 10)
    {
      g_autofree char *midnight = g_strconcat (text, "T00:00:00Z", NULL);
      when = g_date_time_new_from_iso8601 (midnight, utc);
    }
  if (when == NULL)
    return FALSE;

  *expires = g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when);
  return *expires > now;
}

/* Routes and authorization */

gboolean
backup_server_parse_route (const char *path,
                           BackupServerRoute *route,
                           const char **key)
{
  if (path == NULL)
    return FALSE;

  if (strcmp (path, "/") == 0)
    {
      *route = BACKUP_SERVER_ROUTE_ROOT;
      *key = NULL;
      return TRUE;
    }

  if (g_str_has_prefix (path, "/download/") &&
      backup_server_file_key_is_valid (path + strlen ("/download/")))
    {
      *route = BACKUP_SERVER_ROUTE_DOWNLOAD;
      *key = path + strlen ("/download/");
      return TRUE;
    }

  if (path[0] == '/' && backup_server_file_key_is_valid (path + 1))
    {
      *route = BACKUP_SERVER_ROUTE_FILE;
      *key = path + 1;
      return TRUE;
    }

  return FALSE;
}

gboolean
backup_server_route_allows (BackupServerRoute route,
                            const char *method)
{
  if (g_strcmp0 (method, SOUP_METHOD_GET) == 0)
    return TRUE;
  if (route == BACKUP_SERVER_ROUTE_ROOT)
    return g_strcmp0 (method, SOUP_METHOD_POST) == 0;
  if (route == BACKUP_SERVER_ROUTE_FILE)
    return g_strcmp0 (method, SOUP_METHOD_DELETE) == 0;
  return FALSE;
}

const char *
backup_server_route_allowed_methods (BackupServerRoute route)
{
  switch (route)
    {
    case BACKUP_SERVER_ROUTE_ROOT:
      return "GET, POST";
    case BACKUP_SERVER_ROUTE_FILE:
      return "GET, DELETE";
    case BACKUP_SERVER_ROUTE_DOWNLOAD:
    default:
      return "GET";
    }
}

char *
backup_server_parse_authorization (const char *value)
{
  g_autofree char *token = NULL;

  if (value == NULL)
    return NULL;

  while (*value == ' ' || *value == '\t')
    value++;
  if (g_ascii_strncasecmp (value, "Bearer", 6) == 0 && (value[6] == ' ' || value[6] == '\t'))
    {
      value += 6;
      while (*value == ' ' || *value == '\t')
        value++;
    }

  token = g_strstrip (g_strdup (value));
  if (!backup_server_api_key_is_valid (token))
    return NULL;
  return g_steal_pointer (&token);
}

/* Listing */

gboolean
backup_server_parse_list_query (GHashTable *query,
                                BackupServerListQuery *list,
                                GError **error)
{
  static const struct
  {
    const char *name;
    BackupServerSort sort;
  } sorts[] = {
    { "created:asc", BACKUP_SERVER_SORT_CREATED_ASC },
    { "created:desc", BACKUP_SERVER_SORT_CREATED_DESC },
    { "name:asc", BACKUP_SERVER_SORT_NAME_ASC },
    { "name:desc", BACKUP_SERVER_SORT_NAME_DESC },
    { "size:asc", BACKUP_SERVER_SORT_SIZE_ASC },
    { "size:desc", BACKUP_SERVER_SORT_SIZE_DESC },
  };
  const char *sort = query != NULL ? g_hash_table_lookup (query, "sort") : NULL;
  const char *page = query != NULL ? g_hash_table_lookup (query, "page") : NULL;
  const char *limit = query != NULL ? g_hash_table_lookup (query, "limit") : NULL;
  gboolean known = FALSE;

  list->search = query != NULL ? g_hash_table_lookup (query, "search") : NULL;
  list->sort = BACKUP_SERVER_SORT_CREATED_ASC;
  list->page = 1;
  list->limit = G_MAXUINT64;

  if (sort == NULL || *sort == '\0')
    known = TRUE;
  for (gsize i = 0; !known && i < G_N_ELEMENTS (sorts); i++)
    if (strcmp (sort, sorts[i].name) == 0)
      {
        list->sort = sorts[i].sort;
        known = TRUE;
      }
  if (!known)
    {
      g_set_error_literal (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_BAD_REQUEST,
                           "Unknown sort order (created, name or size, :asc or :desc)");
      return FALSE;
    }

  if ((page != NULL &&
       !g_ascii_string_to_unsigned (page, 10, 1, G_MAXINT32, &list->page, NULL)) ||
      (limit != NULL &&
       !g_ascii_string_to_unsigned (limit, 10, 1, BACKUP_SERVER_MAX_PAGE_LIMIT, &list->limit,
                                    NULL)))
    {
      g_set_error_literal (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_BAD_REQUEST,
                           "“page” and “limit” must be whole numbers from 1");
      return FALSE;
    }

  return TRUE;
}

gboolean
backup_server_name_matches (const char *name,
                            const char *pattern)
{
  const char *p = name;

  if (pattern == NULL || *pattern == '\0')
    return TRUE;
  if (strchr (pattern, '*') == NULL)
    return strstr (name, pattern) != NULL;

  /* Each piece between stars, in order, after the previous one. */
  while (*pattern != '\0')
    {
      const char *star = strchr (pattern, '*');
      gsize len = star != NULL ? (gsize) (star - pattern) : strlen (pattern);

      if (len > 0)
        {
          const char *found = memmem (p, strlen (p), pattern, len);

          if (found == NULL)
            return FALSE;
          p = found + len;
        }
      pattern += len;
      if (*pattern == '*')
        pattern++;
    }
  return TRUE;
}

/* Uploads */

void
backup_server_upload_free (BackupServerUpload *upload)
{
  if (upload == NULL)
    return;

  g_clear_pointer (&upload->content, g_bytes_unref);
  g_free (upload->name);
  g_free (upload->mime_type);
  g_free (upload);
}

static gboolean G_GNUC_PRINTF (2, 3)
bad_request (GError **error,
             const char *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (BACKUP_SERVER_ERROR,
                                                BACKUP_SERVER_ERROR_BAD_REQUEST, format, args));
  va_end (args);
  return FALSE;
}

static gboolean
is_tchar (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "type/subtype" of a media type value, without its parameters; NULL when
 * it is not one. */
static char *
media_type (const char *value)
{
  const char *end = strchr (value, ';');
  g_autofree char *type = g_strstrip (g_strndup (value, end != NULL ? (gsize) (end - value)
                                                                    : strlen (value)));
  const char *slash = strchr (type, '/');
  gsize len = strlen (type);

  if (slash == NULL || slash == type || slash[1] == '\0' || len > MAX_MIME_TYPE_LEN)
    return NULL;
  for (const char *p = type; *p != '\0'; p++)
    if (p != slash && !is_tchar (*p))
      return NULL;
  return g_steal_pointer (&type);
}

/* The parameters after the first ';' of a header value, names in any case.
 * As in libsoup, an RFC 5987 "name*" parameter wins over "name" (clients
 * may send both), and otherwise the first of two parameters counts. */
static GHashTable *
header_parameters (const char *value)
{
  const char *semicolon = strchr (value, ';');

  if (semicolon == NULL)
    return g_hash_table_new (g_str_hash, g_str_equal);
  return soup_header_parse_semi_param_list (semicolon + 1);
}

/* The boundary of a multipart/form-data Content-Type value: 1 to 70
 * printable ASCII characters. */
static char *
form_data_boundary (const char *content_type,
                    GError **error)
{
  g_autofree char *type = content_type != NULL ? media_type (content_type) : NULL;
  g_autoptr (GHashTable) params = NULL;
  const char *boundary;
  gsize len;

  if (type == NULL || g_ascii_strcasecmp (type, "multipart/form-data") != 0)
    {
      bad_request (error, "An upload is a multipart/form-data body with a “file” part");
      return NULL;
    }

  params = header_parameters (content_type);
  boundary = g_hash_table_lookup (params, "boundary");
  len = boundary != NULL ? strlen (boundary) : 0;
  if (len == 0 || len > MAX_BOUNDARY_LEN)
    {
      bad_request (error, "Malformed multipart body");
      return NULL;
    }
  for (const char *p = boundary; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
      {
        bad_request (error, "Malformed multipart body");
        return NULL;
      }

  return g_strdup (boundary);
}

typedef struct
{
  const char *data; /* the whole body */
  gsize size;
  const char *delimiter; /* "\r\n--" boundary */
  gsize delimiter_len;
} Multipart;

/* After the "--boundary" of a delimiter at @pos: TRUE with *@next at the
 * first byte of the following part, or with *@last set for the closing
 * delimiter; FALSE when the bytes there make no delimiter. */
static gboolean
delimiter_end (const Multipart *mp,
               gsize pos,
               gsize *next,
               gboolean *last)
{
  if (pos + 2 <= mp->size && mp->data[pos] == '-' && mp->data[pos + 1] == '-')
    {
      *last = TRUE;
      *next = pos + 2;
      return TRUE;
    }

  /* Transport padding, then the end of the line. */
  while (pos < mp->size && (mp->data[pos] == ' ' || mp->data[pos] == '\t'))
    pos++;
  if (pos + 2 <= mp->size && mp->data[pos] == '\r' && mp->data[pos + 1] == '\n')
    {
      *last = FALSE;
      *next = pos + 2;
      return TRUE;
    }
  return FALSE;
}

/* Finds the delimiter that ends a part whose content starts at @from:
 * *@end is where the content ends (the CRLF before "--boundary"). */
static gboolean
find_delimiter (const Multipart *mp,
                gsize from,
                gsize *end,
                gsize *next,
                gboolean *last)
{
  while (from <= mp->size)
    {
      const char *found = memmem (mp->data + from, mp->size - from, mp->delimiter,
                                  mp->delimiter_len);
      gsize pos;

      if (found == NULL)
        return FALSE;
      pos = (gsize) (found - mp->data);
      if (delimiter_end (mp, pos + mp->delimiter_len, next, last))
        {
          *end = pos;
          return TRUE;
        }
      /* The boundary followed by something else is content. */
      from = pos + 1;
    }
  return FALSE;
}

/* The first delimiter: at the very start of the body, or after a preamble
 * and the CRLF that ends it. */
static gboolean
find_first_delimiter (const Multipart *mp,
                      gsize *next,
                      gboolean *last)
{
  const char *dash_boundary = mp->delimiter + 2;
  gsize dash_boundary_len = mp->delimiter_len - 2;
  gsize end;

  if (mp->size >= dash_boundary_len && memcmp (mp->data, dash_boundary, dash_boundary_len) == 0 &&
      delimiter_end (mp, dash_boundary_len, next, last))
    return TRUE;

  return find_delimiter (mp, 0, &end, next, last);
}

typedef struct
{
  char *disposition;   /* Content-Disposition value */
  char *content_type;  /* Content-Type value */
} PartHeaders;

static void
part_headers_clear (PartHeaders *headers)
{
  g_clear_pointer (&headers->disposition, g_free);
  g_clear_pointer (&headers->content_type, g_free);
}

/* Reads the header lines of a part, @len bytes at @data, each ending in
 * CRLF. Only Content-Disposition and Content-Type are kept; each may come
 * once. */
static gboolean
parse_part_headers (const char *data,
                    gsize len,
                    PartHeaders *headers)
{
  gsize pos = 0;

  while (pos < len)
    {
      const char *line = data + pos;
      const char *eol = memmem (line, len - pos, "\r\n", 2);
      gsize line_len;
      const char *colon;
      char **target = NULL;

      if (eol == NULL)
        return FALSE;
      line_len = (gsize) (eol - line);
      pos += line_len + 2;

      colon = memchr (line, ':', line_len);
      if (colon == NULL || colon == line)
        return FALSE;
      for (const char *p = line; p < colon; p++)
        if (!is_tchar (*p))
          return FALSE; /* also refuses folded lines, which start with a space */
      for (const char *p = colon + 1; p < eol; p++)
        if (((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f)
          return FALSE;

      if ((gsize) (colon - line) == strlen ("Content-Disposition") &&
          g_ascii_strncasecmp (line, "Content-Disposition", (gsize) (colon - line)) == 0)
        target = &headers->disposition;
      else if ((gsize) (colon - line) == strlen ("Content-Type") &&
               g_ascii_strncasecmp (line, "Content-Type", (gsize) (colon - line)) == 0)
        target = &headers->content_type;
      else
        continue;

      if (*target != NULL)
        return FALSE;
      *target = g_strstrip (g_strndup (colon + 1, (gsize) (eol - colon - 1)));
    }

  return TRUE;
}

/* A form field other than the file: short UTF-8 text, trimmed. */
static char *
form_field_value (const char *data,
                  gsize size)
{
  if (size > BACKUP_SERVER_MAX_FIELD_LEN || memchr (data, '\0', size) != NULL ||
      !g_utf8_validate (data, (gssize) size, NULL))
    return NULL;

  return g_strstrip (g_strndup (data, size));
}

typedef struct
{
  gsize file_offset;
  gsize file_size;
  gboolean has_file;
  char *file_name;
  char *mime_type;
  char *expires;
  char *max_downloads;
  char *auto_delete;
} FormFields;

static void
form_fields_clear (FormFields *fields)
{
  g_clear_pointer (&fields->file_name, g_free);
  g_clear_pointer (&fields->mime_type, g_free);
  g_clear_pointer (&fields->expires, g_free);
  g_clear_pointer (&fields->max_downloads, g_free);
  g_clear_pointer (&fields->auto_delete, g_free);
}

/* One part: @head (its header lines) and its content at @offset. */
static gboolean
read_part (const Multipart *mp,
           const char *head,
           gsize head_len,
           gsize offset,
           gsize size,
           FormFields *fields,
           GError **error)
{
  PartHeaders headers = { 0 };
  g_autoptr (GHashTable) params = NULL;
  g_autofree char *disposition = NULL;
  const char *semicolon;
  const char *name;
  char **target;
  gboolean ok = FALSE;

  if (!parse_part_headers (head, head_len, &headers) || headers.disposition == NULL)
    goto no_name;

  semicolon = strchr (headers.disposition, ';');
  disposition = g_strstrip (g_strndup (headers.disposition,
                                       semicolon != NULL
                                         ? (gsize) (semicolon - headers.disposition)
                                         : strlen (headers.disposition)));
  params = header_parameters (headers.disposition);
  if (g_ascii_strcasecmp (disposition, "form-data") != 0 ||
      (name = g_hash_table_lookup (params, "name")) == NULL)
    goto no_name;

  if (strcmp (name, "file") == 0)
    {
      const char *filename = g_hash_table_lookup (params, "filename");

      if (fields->has_file)
        {
          bad_request (error, "More than one file");
          goto out;
        }
      if (filename == NULL || !backup_server_file_name_is_valid (filename))
        {
          bad_request (error, "The file part needs a file name (1 to 255 bytes of UTF-8, "
                              "no control character, no slash)");
          goto out;
        }
      fields->has_file = TRUE;
      fields->file_offset = offset;
      fields->file_size = size;
      fields->file_name = g_strdup (filename);
      if (headers.content_type != NULL)
        fields->mime_type = media_type (headers.content_type);
      if (fields->mime_type == NULL)
        fields->mime_type = g_strdup (DEFAULT_MIME_TYPE);
      ok = TRUE;
      goto out;
    }

  if (strcmp (name, "expires") == 0)
    target = &fields->expires;
  else if (strcmp (name, "maxDownloads") == 0)
    target = &fields->max_downloads;
  else if (strcmp (name, "autoDelete") == 0)
    target = &fields->auto_delete;
  else
    {
      /* FILE.io accepts more fields (title, description…) that are ignored. */
      ok = TRUE;
      goto out;
    }

  if (*target != NULL || (*target = form_field_value (mp->data + offset, size)) == NULL)
    {
      bad_request (error, "Malformed form field");
      goto out;
    }
  ok = TRUE;
  goto out;

no_name:
  bad_request (error, "Each part needs Content-Disposition: form-data with a name");
out:
  part_headers_clear (&headers);
  return ok;
}

/* Walks the parts of the body. */
static gboolean
read_parts (const Multipart *mp,
            FormFields *fields,
            GError **error)
{
  gsize pos;
  gboolean last;
  guint n_parts = 0;

  if (!find_first_delimiter (mp, &pos, &last))
    return bad_request (error, "Malformed multipart body");

  while (!last)
    {
      gsize head_len;
      gsize content;
      gsize end;

      if (++n_parts > BACKUP_SERVER_MAX_PARTS)
        return bad_request (error, "Too many form fields");

      /* The header lines end with an empty line; a part may have none. */
      if (pos + 2 <= mp->size && mp->data[pos] == '\r' && mp->data[pos + 1] == '\n')
        {
          head_len = 0;
          content = pos + 2;
        }
      else
        {
          gsize window = MIN (mp->size - pos, (gsize) BACKUP_SERVER_MAX_PART_HEAD + 4);
          const char *blank = memmem (mp->data + pos, window, "\r\n\r\n", 4);

          if (blank == NULL)
            return bad_request (error, "Malformed multipart body");
          head_len = (gsize) (blank - (mp->data + pos)) + 2;
          content = pos + head_len + 2;
          /* The header lines of one part do not run into the next part. */
          if (memmem (mp->data + pos, head_len + 2, mp->delimiter, mp->delimiter_len) != NULL)
            return bad_request (error, "Malformed multipart body");
        }

      if (!find_delimiter (mp, content, &end, &pos, &last) || end < content)
        return bad_request (error, "Malformed multipart body");

      if (!read_part (mp, mp->data + (content - 2 - head_len), head_len, content, end - content,
                      fields, error))
        return FALSE;
    }

  return TRUE;
}

BackupServerUpload *
backup_server_parse_upload (const char *content_type,
                            GBytes *body,
                            gint64 now,
                            GError **error)
{
  g_autofree char *boundary = NULL;
  g_autofree char *delimiter = NULL;
  g_autoptr (BackupServerUpload) upload = NULL;
  FormFields fields = { 0 };
  Multipart mp;
  guint64 max_downloads = 1;

  g_return_val_if_fail (body != NULL, NULL);

  boundary = form_data_boundary (content_type, error);
  if (boundary == NULL)
    return NULL;

  delimiter = g_strconcat ("\r\n--", boundary, NULL);
  mp.data = g_bytes_get_data (body, &mp.size);
  if (mp.data == NULL)
    mp.data = "";
  mp.delimiter = delimiter;
  mp.delimiter_len = strlen (delimiter);

  upload = g_new0 (BackupServerUpload, 1);
  upload->max_downloads = 1;
  upload->auto_delete = TRUE;

  if (!read_parts (&mp, &fields, error))
    goto failed;

  if (!fields.has_file)
    {
      bad_request (error, "No “file” part in the upload");
      goto failed;
    }

  if (fields.expires != NULL)
    {
      if (!backup_server_parse_expiry (fields.expires, now, &upload->expires))
        {
          bad_request (error, "“expires” must be a duration (10m, 1h, 1d, 1w, seconds) or a "
                              "future ISO 8601 date");
          goto failed;
        }
      upload->has_expires = TRUE;
    }

  if (fields.max_downloads != NULL &&
      !g_ascii_string_to_unsigned (fields.max_downloads, 10, 1, G_MAXINT32, &max_downloads, NULL))
    {
      bad_request (error, "“maxDownloads” must be a whole number of at least 1");
      goto failed;
    }
  upload->max_downloads = (guint) max_downloads;

  if (fields.auto_delete != NULL)
    {
      if (g_ascii_strcasecmp (fields.auto_delete, "true") == 0 ||
          strcmp (fields.auto_delete, "1") == 0)
        upload->auto_delete = TRUE;
      else if (g_ascii_strcasecmp (fields.auto_delete, "false") == 0 ||
               strcmp (fields.auto_delete, "0") == 0)
        upload->auto_delete = FALSE;
      else
        {
          bad_request (error, "“autoDelete” must be true or false");
          goto failed;
        }
    }

  upload->content = g_bytes_new_from_bytes (body, fields.file_offset, fields.file_size);
  upload->name = g_steal_pointer (&fields.file_name);
  upload->mime_type = g_steal_pointer (&fields.mime_type);
  form_fields_clear (&fields);
  return g_steal_pointer (&upload);

failed:
  form_fields_clear (&fields);
  return NULL;
}
