/* fuzz-server-request.c: what the signaling server reads from a request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is a request in four parts, each of the first three ending at
 * a newline: the request target (path and query, percent-encoded as on the
 * request line), the Authorization header value, the Content-Type header
 * value, then the body, to the end. Every function of
 * backup-server-request.h runs over them; besides memory errors, the target
 * checks what callers rely on: a routed key is valid and lies in the path,
 * an API key is valid, a listing query is within its bounds, an upload's
 * content is a slice of its body, its file name is valid, and refusals are
 * BAD_REQUEST errors with a message.
 *
 * libFuzzer (built with CC=clang meson setup _build/fuzz-server -Dfuzzing=true
 * -Dgui=disabled; ninja -C _build/fuzz-server tests/server/fuzz-server-request):
 *
 *   mkdir -p _build/fuzz-server/corpus-server-request
 *   nice -n 19 _build/fuzz-server/tests/server/fuzz-server-request -runs=10000000 \
 *     -max_len=4096 -dict=tests/server/fuzz-server-request.dict \
 *     _build/fuzz-server/corpus-server-request tests/server/corpus
 *
 * The first directory receives the new inputs; tests/server/corpus holds the
 * seeds (and past findings), replayed by the fuzz-replay-server-request test
 * in every build.
 */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "backup-server-request.h"
#include "backup-server.h"
#include "fuzz-common.h"

/* 2024-01-01T00:00:00Z, so that runs do not depend on the clock. */
#define NOW (G_GINT64_CONSTANT (1704067200) * G_USEC_PER_SEC)

/* The next part of the input, up to a newline (excluded) or the end; NUL
 * bytes end the text as they would end a header value. */
static char *
next_line (const guint8 **data,
           gsize *size,
           gboolean *found)
{
  const guint8 *newline = memchr (*data, '\n', *size);
  gsize len = newline != NULL ? (gsize) (newline - *data) : *size;
  char *line = g_strndup ((const char *) *data, len);

  *found = newline != NULL;
  *data += newline != NULL ? len + 1 : len;
  *size -= newline != NULL ? len + 1 : len;
  return line;
}

static void
check_route (const char *target)
{
  const char *question = strchr (target, '?');
  g_autofree char *raw_path = g_strndup (target, question != NULL ? (gsize) (question - target)
                                                                 : strlen (target));
  g_autofree char *path = g_uri_unescape_string (raw_path, NULL);
  g_autoptr (GHashTable) query = NULL;
  BackupServerListQuery list;
  BackupServerRoute route;
  const char *key = NULL;
  g_autoptr (GError) error = NULL;

  if (path != NULL && backup_server_parse_route (path, &route, &key))
    {
      const char *methods[] = { SOUP_METHOD_GET, SOUP_METHOD_POST, SOUP_METHOD_DELETE,
                                SOUP_METHOD_PUT, "BREW" };

      if (route == BACKUP_SERVER_ROUTE_ROOT)
        {
          g_assert_null (key);
          g_assert_cmpstr (path, ==, "/");
        }
      else
        {
          g_assert_nonnull (key);
          g_assert_true (key > path && key < path + strlen (path));
          g_assert_true (backup_server_file_key_is_valid (key));
        }
      for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
        backup_server_route_allows (route, methods[i]);
      g_assert_true (backup_server_route_allows (route, SOUP_METHOD_GET));
      g_assert_nonnull (backup_server_route_allowed_methods (route));
    }

  if (path != NULL)
    backup_server_file_name_is_valid (path);

  if (question != NULL)
    query = soup_form_decode (question + 1);
  if (backup_server_parse_list_query (query, &list, &error))
    {
      g_assert_no_error (error);
      g_assert_cmpint (list.sort, >=, BACKUP_SERVER_SORT_CREATED_ASC);
      g_assert_cmpint (list.sort, <=, BACKUP_SERVER_SORT_SIZE_DESC);
      g_assert_cmpuint (list.page, >=, 1);
      g_assert_cmpuint (list.page, <=, G_MAXINT32);
      g_assert_true (list.limit == G_MAXUINT64 ||
                     (list.limit >= 1 && list.limit <= BACKUP_SERVER_MAX_PAGE_LIMIT));
      if (path != NULL)
        backup_server_name_matches (path, list.search);
      /* A pattern matches the text it is made of, stars aside. */
      if (list.search != NULL && strchr (list.search, '*') == NULL)
        g_assert_true (backup_server_name_matches (list.search, list.search));
    }
  else
    {
      g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_BAD_REQUEST);
      g_assert_cmpstr (error->message, !=, "");
    }
}

static void
check_authorization (const char *value)
{
  g_autofree char *key = backup_server_parse_authorization (value);
  gint64 seconds;
  gint64 expires;

  if (key != NULL)
    g_assert_true (backup_server_api_key_is_valid (key));

  /* The header value doubles as an "expires" field. */
  if (backup_server_parse_duration (value, &seconds, NULL))
    g_assert_cmpint (seconds, >, 0);
  if (backup_server_parse_expiry (value, NOW, &expires))
    g_assert_cmpint (expires, >, NOW);
}

static void
check_upload (const char *content_type,
              const guint8 *data,
              gsize size)
{
  g_autoptr (GBytes) body = g_bytes_new (data, size);
  g_autoptr (BackupServerUpload) upload = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *start = g_bytes_get_data (body, NULL);

  upload = backup_server_parse_upload (content_type, body, NOW, &error);
  /* Without a Content-Type, an upload is always refused. */
  if (content_type == NULL)
    g_assert_null (upload);
  if (upload == NULL)
    {
      g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_BAD_REQUEST);
      g_assert_cmpstr (error->message, !=, "");
      return;
    }

  g_assert_no_error (error);
  g_assert_nonnull (upload->content);
  if (g_bytes_get_size (upload->content) > 0)
    {
      gsize len;
      const guint8 *content = g_bytes_get_data (upload->content, &len);

      /* A slice of the body, not a copy. */
      g_assert_true (content >= start && content + len <= start + size);
    }
  g_assert_true (backup_server_file_name_is_valid (upload->name));
  g_assert_nonnull (strchr (upload->mime_type, '/'));
  g_assert_cmpuint (upload->max_downloads, >=, 1);
  if (upload->has_expires)
    g_assert_cmpint (upload->expires, >, NOW);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  static gboolean initialized = FALSE;
  g_autofree char *target = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *content_type = NULL;
  gboolean has_authorization = FALSE;
  gboolean has_content_type = FALSE;
  gboolean found;
  gsize rest = size;

  if (!initialized)
    {
      /* A critical warning is a misuse of an API: a finding. */
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      initialized = TRUE;
    }

  target = next_line (&data, &rest, &found);
  if (found)
    authorization = next_line (&data, &rest, &has_authorization);
  if (has_authorization)
    content_type = next_line (&data, &rest, &has_content_type);

  check_route (target);
  check_authorization (authorization != NULL ? authorization : "");
  check_upload (content_type, data, rest);
  if (content_type != NULL)
    check_upload (NULL, data, rest);

  return 0;
}
