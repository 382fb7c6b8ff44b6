/* backup-fileio-store.c: signaling files on a FILE.io-compatible server
 *
 * upload = POST / (multipart: file, expires=10m, maxDownloads=1,
 * autoDelete=true), list = GET /?search=PATTERN&sort=created:asc,
 * download = GET /KEY (redirects followed; the server forgets the file),
 * delete = DELETE /KEY. "Authorization: Bearer KEY" on every request when
 * a key is set. 429 answers are retried after the server's Retry-After (or
 * an exponential, jittered delay), a bounded number of times, and the
 * current back-off is exposed so that pollers slow down.
 *
 * Home context: the thread-default context at construction; every call is
 * made there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "backup-fileio-store.h"
#include "backup-signaling-error.h"

#define MAX_FILE_SIZE (1024 * 1024)
#define MAX_LIST_SIZE (4 * 1024 * 1024)
#define MAX_ANSWER_SIZE (64 * 1024)
#define MAX_ATTEMPTS 8
#define DEFAULT_MAX_BACKOFF_SECONDS 90
#define READ_CHUNK 16384
#define HTTP_TOO_MANY_REQUESTS 429

struct _BackupFileioStore
{
  GObject parent_instance;

  SoupSession *session;
  char *base_url; /* always ends with '/' */
  char *api_key;
  gint64 backoff_until; /* monotonic, microseconds */
  guint max_backoff;
};

static void backup_fileio_store_iface_init (BackupSignalingStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupFileioStore, backup_fileio_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_SIGNALING_STORE,
                                                      backup_fileio_store_iface_init))

typedef enum
{
  OP_UPLOAD,
  OP_LIST,
  OP_DOWNLOAD,
  OP_DELETE,
} Op;

typedef struct
{
  Op op;
  char *uri;
  char *content_type;
  GBytes *body;
  gsize limit;
  guint attempt;
  SoupMessage *message;
  GInputStream *stream;
  GByteArray *buffer;
  GSource *wait_source;
  GSource *cancel_source;
} Request;

static void
request_free (Request *request)
{
  g_free (request->uri);
  g_free (request->content_type);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_clear_object (&request->message);
  g_clear_object (&request->stream);
  g_clear_pointer (&request->buffer, g_byte_array_unref);
  if (request->wait_source != NULL)
    {
      g_source_destroy (request->wait_source);
      g_source_unref (request->wait_source);
    }
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_source_unref (request->cancel_source);
    }
  g_free (request);
}

static const char *
op_method (Op op)
{
  switch (op)
    {
    case OP_UPLOAD:
      return SOUP_METHOD_POST;
    case OP_DELETE:
      return SOUP_METHOD_DELETE;
    case OP_LIST:
    case OP_DOWNLOAD:
    default:
      return SOUP_METHOD_GET;
    }
}

static void request_send (GTask *task);

/* ---- completion of each operation ---- */

static JsonNode *
parse_json (GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len == 0 || memchr (data, '\0', len) != NULL ||
      !json_parser_load_from_data (parser, data, len, NULL) ||
      json_parser_get_root (parser) == NULL ||  /* blank input: no root */
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                   "The signaling server did not answer with a JSON object");
      return NULL;
    }
  return json_parser_steal_root (parser);
}

static const char *
get_string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static void
complete_upload (GTask *task, GBytes *body)
{
  g_autoptr (JsonNode) root = NULL;
  GError *error = NULL;
  const char *key;

  root = parse_json (body, &error);
  if (root == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  key = get_string_member (json_node_get_object (root), "key");
  if (key == NULL || *key == '\0')
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                               "The signaling server accepted the upload but gave no key");
      return;
    }
  g_task_return_pointer (task, g_strdup (key), g_free);
}

static gint64
parse_created (const char *created)
{
  g_autoptr (GDateTime) dt = NULL;

  if (created == NULL)
    return 0;
  dt = g_date_time_new_from_iso8601 (created, NULL);
  if (dt == NULL)
    return 0;
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

static void
complete_list (GTask *task, GBytes *body)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  GError *error = NULL;
  JsonNode *nodes;
  JsonArray *array;

  root = parse_json (body, &error);
  if (root == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  nodes = json_object_get_member (json_node_get_object (root), "nodes");
  if (nodes == NULL || !JSON_NODE_HOLDS_ARRAY (nodes))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                               "The signaling server's list has no “nodes” array");
      return;
    }

  array = json_node_get_array (nodes);
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_signaling_entry_free);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object;
      const char *key, *name;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        goto malformed;
      object = json_node_get_object (node);
      key = get_string_member (object, "key");
      name = get_string_member (object, "name");
      if (key == NULL || *key == '\0' || name == NULL)
        goto malformed;
      g_ptr_array_add (entries,
                       backup_signaling_entry_new (key, name,
                                                   parse_created (get_string_member (object, "created"))));
    }

  g_task_return_pointer (task, g_steal_pointer (&entries), (GDestroyNotify) g_ptr_array_unref);
  return;

malformed:
  g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                           "The signaling server's list holds an entry without key or name");
}

static void
request_complete (GTask *task)
{
  Request *request = g_task_get_task_data (task);
  g_autoptr (GBytes) body = g_byte_array_free_to_bytes (g_steal_pointer (&request->buffer));

  switch (request->op)
    {
    case OP_UPLOAD:
      complete_upload (task, body);
      break;
    case OP_LIST:
      complete_list (task, body);
      break;
    case OP_DOWNLOAD:
      g_task_return_pointer (task, g_steal_pointer (&body), (GDestroyNotify) g_bytes_unref);
      break;
    case OP_DELETE:
    default:
      g_task_return_boolean (task, TRUE);
      break;
    }
}

/* ---- reading the body, bounded ---- */

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr (GBytes) chunk = NULL;
  g_autoptr (GError) error = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                                 "Could not read the signaling server's answer: %s",
                                 error->message);
      return;
    }

  if (g_bytes_get_size (chunk) == 0)
    {
      request_complete (task);
      return;
    }

  if (request->buffer->len + g_bytes_get_size (chunk) > request->limit)
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                               "The signaling server's answer is larger than %" G_GSIZE_FORMAT " bytes",
                               request->limit);
      return;
    }
  g_byte_array_append (request->buffer, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));

  g_input_stream_read_bytes_async (request->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), on_read, g_object_ref (task));
}

/* ---- 429: wait, then try again ---- */

static guint
compute_delay_ms (SoupMessage *message, guint attempt, guint max_seconds)
{
  const char *retry_after = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                                          "Retry-After");
  guint64 ms = 0;

  if (retry_after != NULL)
    {
      guint64 seconds;

      if (g_ascii_string_to_unsigned (retry_after, 10, 0, G_MAXUINT32, &seconds, NULL))
        ms = seconds * 1000;
      else
        {
          g_autoptr (GDateTime) when = soup_date_time_new_from_http_string (retry_after);
          g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

          if (when != NULL && g_date_time_compare (when, now) > 0)
            ms = g_date_time_difference (when, now) / 1000;
        }
      /* a little jitter so that peers do not come back together */
      if (ms > 0 || retry_after != NULL)
        ms += g_random_int_range (0, 250);
    }

  if (ms == 0)
    {
      guint64 base = 1000ULL << MIN (attempt, 6);

      ms = base / 2 + g_random_int_range (0, (gint32) (base / 2) + 1);
    }

  return (guint) MIN (ms, (guint64) max_seconds * 1000);
}

static gboolean
on_wait_done (gpointer user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);

  g_clear_pointer (&request->wait_source, g_source_unref);
  if (request->cancel_source != NULL)
    {
      g_source_destroy (request->cancel_source);
      g_clear_pointer (&request->cancel_source, g_source_unref);
    }
  request_send (g_object_ref (task));
  return G_SOURCE_REMOVE;
}

static gboolean
on_wait_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);

  g_clear_pointer (&request->cancel_source, g_source_unref);
  if (request->wait_source != NULL)
    {
      g_source_destroy (request->wait_source);
      g_clear_pointer (&request->wait_source, g_source_unref);
    }
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

static void
request_retry_later (GTask *task, guint delay_ms)
{
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  /* Both sources hold the task; whichever fires first removes the other. */
  request->wait_source = g_timeout_source_new (delay_ms);
  g_source_set_callback (request->wait_source, on_wait_done, g_object_ref (task), g_object_unref);
  g_source_attach (request->wait_source, g_task_get_context (task));

  if (cancellable != NULL)
    {
      request->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (request->cancel_source, G_SOURCE_FUNC (on_wait_cancelled),
                             g_object_ref (task), g_object_unref);
      g_source_attach (request->cancel_source, g_task_get_context (task));
    }
}

/* ---- sending ---- */

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BackupFileioStore *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GCancellable *cancellable;
  guint status;

  request->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (request->stream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
        g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_UNTRUSTED,
                                 _("The signaling server %s has a certificate that is not "
                                   "trusted (for a server with its own certificate, give its "
                                   "CA with --signaling-ca)"),
                                 self->base_url);
      else
        g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                                 _("Could not reach the signaling server %s: %s"),
                                 self->base_url, error->message);
      return;
    }

  status = soup_message_get_status (request->message);
  g_debug ("%s %s: %u", op_method (request->op), request->op == OP_LIST ? "list" : "file", status);

  if (status == HTTP_TOO_MANY_REQUESTS)
    {
      guint delay;

      request->attempt++;
      delay = compute_delay_ms (request->message, request->attempt, self->max_backoff);
      self->backoff_until = g_get_monotonic_time () + (gint64) delay * 1000;
      g_clear_object (&request->stream);
      if (request->attempt >= MAX_ATTEMPTS)
        {
          g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_RATE_LIMITED,
                                   _("The signaling server still refuses requests after %u attempts "
                                   "(too many requests)"), request->attempt);
          return;
        }
      g_debug ("Rate limited: retrying in %u ms", delay);
      request_retry_later (task, delay);
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED ||
      (status == SOUP_STATUS_FORBIDDEN && request->op != OP_DELETE))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_AUTH,
                               _("API key rejected"));
      return;
    }

  if ((status == SOUP_STATUS_FORBIDDEN || status == SOUP_STATUS_NOT_FOUND) &&
      (request->op == OP_DELETE || request->op == OP_DOWNLOAD))
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND,
                               _("The file is gone from the signaling server"));
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      const char *reason = soup_message_get_reason_phrase (request->message);

      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_HTTP,
                               _("The signaling server answered HTTP %u %s"), status,
                               reason != NULL ? reason : soup_status_get_phrase (status));
      return;
    }

  if (request->limit != 0)
    {
      goffset length = soup_message_headers_get_content_length (
        soup_message_get_response_headers (request->message));

      if (length > (goffset) request->limit)
        {
          g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED,
                                   "The signaling server's answer is larger than %" G_GSIZE_FORMAT " bytes",
                                   request->limit);
          return;
        }
    }

  request->buffer = g_byte_array_new ();
  cancellable = g_task_get_cancellable (task);
  g_input_stream_read_bytes_async (request->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   cancellable, on_read, g_steal_pointer (&task));
}

/* Takes a reference on @task. */
static void
request_send (GTask *task)
{
  BackupFileioStore *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  SoupMessageHeaders *headers;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  g_clear_object (&request->message);
  g_clear_object (&request->stream);
  request->message = soup_message_new (op_method (request->op), request->uri);
  headers = soup_message_get_request_headers (request->message);
  if (self->api_key != NULL)
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", self->api_key);

      soup_message_headers_replace (headers, "Authorization", value);
    }
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (request->message, request->content_type, request->body);

  soup_session_send_async (self->session, request->message, G_PRIORITY_DEFAULT,
                           g_task_get_cancellable (task), on_sent, task);
}

static GTask *
request_new (BackupFileioStore *self,
             Op op,
             const char *uri,
             gsize limit,
             GCancellable *cancellable,
             GAsyncReadyCallback callback,
             gpointer user_data,
             gpointer source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Request *request = g_new0 (Request, 1);

  g_task_set_source_tag (task, source_tag);
  request->op = op;
  request->uri = g_strdup (uri);
  request->limit = limit;
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);
  return task;
}

static char *
file_uri (BackupFileioStore *self, const char *key)
{
  g_autofree char *escaped = g_uri_escape_string (key, NULL, FALSE);

  return g_strconcat (self->base_url, escaped, NULL);
}

/* ---- interface ---- */

static void
backup_fileio_store_upload_async (BackupSignalingStore *store,
                                  const char *name,
                                  GBytes *contents,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (store);
  g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  GTask *task;
  Request *request;

  soup_multipart_append_form_file (multipart, "file", name, "application/json", contents);
  soup_multipart_append_form_string (multipart, "expires", "10m");
  soup_multipart_append_form_string (multipart, "maxDownloads", "1");
  soup_multipart_append_form_string (multipart, "autoDelete", "true");

  task = request_new (self, OP_UPLOAD, self->base_url, MAX_ANSWER_SIZE, cancellable, callback,
                      user_data, backup_fileio_store_upload_async);
  request = g_task_get_task_data (task);
  soup_multipart_to_message (multipart, headers, &request->body);
  request->content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  request_send (task);
}

static char *
backup_fileio_store_upload_finish (BackupSignalingStore *store,
                                   GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
backup_fileio_store_list_async (BackupSignalingStore *store,
                                const char *pattern,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (store);
  g_autofree char *escaped = g_uri_escape_string (pattern, NULL, FALSE);
  g_autofree char *uri = g_strdup_printf ("%s?search=%s&sort=created:asc", self->base_url, escaped);

  request_send (request_new (self, OP_LIST, uri, MAX_LIST_SIZE, cancellable, callback, user_data,
                             backup_fileio_store_list_async));
}

static GPtrArray *
backup_fileio_store_list_finish (BackupSignalingStore *store,
                                 GAsyncResult *result,
                                 GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
backup_fileio_store_download_async (BackupSignalingStore *store,
                                    const char *key,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (store);
  g_autofree char *uri = file_uri (self, key);

  request_send (request_new (self, OP_DOWNLOAD, uri, MAX_FILE_SIZE, cancellable, callback,
                             user_data, backup_fileio_store_download_async));
}

static GBytes *
backup_fileio_store_download_finish (BackupSignalingStore *store,
                                     GAsyncResult *result,
                                     GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
backup_fileio_store_delete_async (BackupSignalingStore *store,
                                  const char *key,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (store);
  g_autofree char *uri = file_uri (self, key);

  request_send (request_new (self, OP_DELETE, uri, MAX_ANSWER_SIZE, cancellable, callback,
                             user_data, backup_fileio_store_delete_async));
}

static gboolean
backup_fileio_store_delete_finish (BackupSignalingStore *store,
                                   GAsyncResult *result,
                                   GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static guint
backup_fileio_store_get_poll_interval (BackupSignalingStore *store)
{
  return 1500;
}

static guint
backup_fileio_store_get_backoff (BackupSignalingStore *store)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (store);
  gint64 remaining = self->backoff_until - g_get_monotonic_time ();

  return remaining > 0 ? (guint) (remaining / 1000) : 0;
}

static void
backup_fileio_store_iface_init (BackupSignalingStoreInterface *iface)
{
  iface->upload_async = backup_fileio_store_upload_async;
  iface->upload_finish = backup_fileio_store_upload_finish;
  iface->list_async = backup_fileio_store_list_async;
  iface->list_finish = backup_fileio_store_list_finish;
  iface->download_async = backup_fileio_store_download_async;
  iface->download_finish = backup_fileio_store_download_finish;
  iface->delete_async = backup_fileio_store_delete_async;
  iface->delete_finish = backup_fileio_store_delete_finish;
  iface->get_poll_interval = backup_fileio_store_get_poll_interval;
  iface->get_backoff = backup_fileio_store_get_backoff;
}

/* ---- object ---- */

static void
backup_fileio_store_finalize (GObject *object)
{
  BackupFileioStore *self = BACKUP_FILEIO_STORE (object);

  g_clear_object (&self->session);
  g_free (self->base_url);
  if (self->api_key != NULL)
    memset (self->api_key, 0, strlen (self->api_key));
  g_free (self->api_key);

  G_OBJECT_CLASS (backup_fileio_store_parent_class)->finalize (object);
}

static void
backup_fileio_store_class_init (BackupFileioStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = backup_fileio_store_finalize;
}

static void
backup_fileio_store_init (BackupFileioStore *self)
{
  self->max_backoff = DEFAULT_MAX_BACKOFF_SECONDS;
}

/**
 * backup_fileio_store_new:
 * @base_url: `https://file.io` or the URL of a compatible server
 * @api_key: (nullable): sent as "Authorization: Bearer KEY"
 */
BackupFileioStore *
backup_fileio_store_new (const char *base_url,
                         const char *api_key,
                         GError **error)
{
  g_autoptr (GUri) uri = NULL;
  BackupFileioStore *self;
  const char *scheme;

  g_return_val_if_fail (base_url != NULL, NULL);

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL,
                   _("“%s” is not the URL of a signaling server"), base_url);
      return NULL;
    }

  self = g_object_new (BACKUP_TYPE_FILEIO_STORE, NULL);
  self->base_url = g_str_has_suffix (base_url, "/") ? g_strdup (base_url)
                                                    : g_strconcat (base_url, "/", NULL);
  self->api_key = (api_key != NULL && *api_key != '\0') ? g_strdup (api_key) : NULL;
  self->session = soup_session_new_with_options ("timeout", 30,
                                                 "user-agent", "distributed-backup/" PACKAGE_VERSION,
                                                 NULL);
  return self;
}

/**
 * backup_fileio_store_set_tls_database:
 * @database: the CAs to trust, e.g. from g_tls_file_database_new()
 *
 * Trusts only @database for the server's certificate, instead of the
 * system's CAs: for a self-hosted server with a certificate of its own.
 */
void
backup_fileio_store_set_tls_database (BackupFileioStore *self, GTlsDatabase *database)
{
  g_return_if_fail (BACKUP_IS_FILEIO_STORE (self));
  g_return_if_fail (G_IS_TLS_DATABASE (database));

  soup_session_set_tls_database (self->session, database);
}

const char *
backup_fileio_store_get_base_url (BackupFileioStore *self)
{
  g_return_val_if_fail (BACKUP_IS_FILEIO_STORE (self), NULL);

  return self->base_url;
}

/* The longest single wait after a 429 (default 90 s). */
void
backup_fileio_store_set_max_backoff (BackupFileioStore *self,
                                     guint seconds)
{
  g_return_if_fail (BACKUP_IS_FILEIO_STORE (self));

  self->max_backoff = MAX (seconds, 1);
}
