/* test-backup-server.c: BackupServer over real HTTP on 127.0.0.1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server runs in this process on the main context; requests go through a
 * libsoup client (asynchronously, while the test iterates the main context)
 * or, for malformed requests, through a raw socket in a worker thread.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "backup-server.h"

typedef struct
{
  BackupServer *server;
  SoupSession *session;
  char *base;
  GTlsCertificate *trusted; /* accepted for HTTPS */
} Fixture;

typedef struct
{
  guint status;
  SoupMessageHeaders *headers;
  GBytes *body;
  JsonNode *json; /* NULL when the body is not JSON */
} Reply;

static void
reply_free (Reply *reply)
{
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_clear_pointer (&reply->json, json_node_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static void
fixture_start (Fixture *f,
               const BackupServerOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GProxyResolver) no_proxy = g_simple_proxy_resolver_new (NULL, NULL);

  f->server = backup_server_new (options);
  g_assert_true (backup_server_listen (f->server, &error));
  g_assert_no_error (error);
  f->base = g_strdup (backup_server_get_uri (f->server));
  g_assert_nonnull (f->base);
  /* Never through a proxy of the environment: the server is on loopback. */
  f->session = soup_session_new_with_options ("proxy-resolver", no_proxy, "timeout", 30, NULL);
}

static void
fixture_stop (Fixture *f)
{
  g_clear_object (&f->session);
  g_clear_object (&f->trusted);
  g_assert_finalize_object (g_steal_pointer (&f->server));
  g_clear_pointer (&f->base, g_free);
}

static gboolean
on_accept_certificate (SoupMessage *msg,
                       GTlsCertificate *certificate,
                       GTlsCertificateFlags errors,
                       gpointer user_data)
{
  Fixture *f = user_data;

  return f->trusted != NULL && g_tls_certificate_is_same (certificate, f->trusted);
}

static void
on_send_and_read (GObject *source,
                  GAsyncResult *result,
                  gpointer user_data)
{
  GBytes **body = user_data;
  g_autoptr (GError) error = NULL;

  *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*body);
}

/* Sends @msg and iterates the main context (where the server lives) until the
 * whole answer has been read. */
static Reply *
send_message (Fixture *f,
              SoupMessage *msg)
{
  Reply *reply = g_new0 (Reply, 1);
  GBytes *body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *content_type;

  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), f);
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    on_send_and_read, &body);
  while (body == NULL)
    g_main_context_iteration (NULL, TRUE);

  reply->status = soup_message_get_status (msg);
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  reply->body = body;
  content_type = soup_message_headers_get_content_type (reply->headers, NULL);
  /* Downloads of stored files may say application/json too: parse when
   * possible, reply_object() asserts it worked where JSON is expected. */
  if (g_strcmp0 (content_type, "application/json") == 0 &&
      json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                  (gssize) g_bytes_get_size (body), NULL))
    reply->json = json_node_ref (json_parser_get_root (parser));
  return reply;
}

static void
set_auth (SoupMessage *msg,
          const char *authorization)
{
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
}

static Reply *
request (Fixture *f,
         const char *method,
         const char *path_and_query,
         const char *authorization)
{
  g_autofree char *uri = g_strconcat (f->base, path_and_query[0] == '/' ? path_and_query + 1
                                                                       : path_and_query, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);

  g_assert_nonnull (msg);
  set_auth (msg, authorization);
  return send_message (f, msg);
}

typedef struct
{
  const char *expires;
  const char *max_downloads;
  const char *auto_delete;
  const char *content_type;
} UploadFields;

static Reply *
upload_full (Fixture *f,
             const char *authorization,
             const char *name,
             const char *content,
             const UploadFields *fields)
{
  g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  g_autoptr (GBytes) bytes = g_bytes_new (content, strlen (content));
  g_autoptr (SoupMessage) msg = NULL;

  soup_multipart_append_form_file (multipart, "file", name,
                                   fields && fields->content_type ? fields->content_type
                                                                  : "application/json",
                                   bytes);
  if (fields == NULL || fields->expires != NULL)
    soup_multipart_append_form_string (multipart, "expires",
                                       fields && fields->expires ? fields->expires : "10m");
  if (fields == NULL || fields->max_downloads != NULL)
    soup_multipart_append_form_string (multipart, "maxDownloads",
                                       fields && fields->max_downloads ? fields->max_downloads
                                                                      : "1");
  if (fields == NULL || fields->auto_delete != NULL)
    soup_multipart_append_form_string (multipart, "autoDelete",
                                       fields && fields->auto_delete ? fields->auto_delete
                                                                    : "true");
  msg = soup_message_new_from_multipart (f->base, multipart);
  set_auth (msg, authorization);
  return send_message (f, msg);
}

static Reply *
upload (Fixture *f,
        const char *authorization,
        const char *name,
        const char *content)
{
  return upload_full (f, authorization, name, content, NULL);
}

static JsonObject *
reply_object (Reply *reply)
{
  g_assert_nonnull (reply->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->json));
  return json_node_get_object (reply->json);
}

/* Uploads and returns the key, asserting a FILE.io-like answer. */
static char *
upload_ok (Fixture *f,
           const char *authorization,
           const char *name,
           const char *content,
           const UploadFields *fields)
{
  g_autoptr (Reply) reply = upload_full (f, authorization, name, content, fields);
  JsonObject *object;
  const char *key;
  g_autofree char *link = NULL;

  g_assert_cmpuint (reply->status, ==, 200);
  object = reply_object (reply);
  g_assert_true (json_object_get_boolean_member (object, "success"));
  g_assert_cmpint (json_object_get_int_member (object, "status"), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, name);
  g_assert_cmpint (json_object_get_int_member (object, "size"), ==, (gint64) strlen (content));
  g_assert_cmpstr (json_object_get_string_member (object, "nodeType"), ==, "file");
  g_assert_cmpint (json_object_get_int_member (object, "downloads"), ==, 0);
  g_assert_true (g_uuid_string_is_valid (json_object_get_string_member (object, "id")));
  g_assert_true (json_object_has_member (object, "expires"));
  g_assert_true (json_object_has_member (object, "created"));
  key = json_object_get_string_member (object, "key");
  g_assert_cmpuint (strlen (key), ==, 12);
  link = g_strconcat (f->base, key, NULL);
  g_assert_cmpstr (json_object_get_string_member (object, "link"), ==, link);
  return g_strdup (key);
}

/* Names (in order) of the nodes of a list answer. */
static char *
list_names (Fixture *f,
            const char *query,
            const char *authorization)
{
  g_autofree char *path = g_strconcat ("/", query, NULL);
  g_autoptr (Reply) reply = request (f, "GET", path, authorization);
  JsonObject *object;
  JsonArray *nodes;
  GString *names = g_string_new (NULL);

  g_assert_cmpuint (reply->status, ==, 200);
  object = reply_object (reply);
  g_assert_true (json_object_get_boolean_member (object, "success"));
  nodes = json_object_get_array_member (object, "nodes");
  g_assert_cmpint (json_object_get_int_member (object, "count"), ==,
                   json_array_get_length (nodes));
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonObject *node = json_array_get_object_element (nodes, i);

      if (i > 0)
        g_string_append_c (names, ' ');
      g_string_append (names, json_object_get_string_member (node, "name"));
    }
  return g_string_free (names, FALSE);
}

static void
assert_error_reply (Reply *reply,
                    guint status,
                    const char *code)
{
  JsonObject *object;

  g_assert_cmpuint (reply->status, ==, status);
  object = reply_object (reply);
  g_assert_false (json_object_get_boolean_member (object, "success"));
  g_assert_cmpint (json_object_get_int_member (object, "status"), ==, status);
  if (code != NULL)
    g_assert_cmpstr (json_object_get_string_member (object, "code"), ==, code);
  g_assert_nonnull (json_object_get_string_member (object, "message"));
}

static void
assert_body (Reply *reply,
             const char *content)
{
  g_assert_cmpmem (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body), content,
                   strlen (content));
}

static gboolean
on_timeout_set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Lets the main context (and so the server) run for @ms milliseconds. */
static void
wait_ms (guint ms)
{
  gboolean done = FALSE;
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, on_timeout_set_flag, &done, NULL);
  g_source_attach (source, NULL);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_source_unref (source);
}

/* Raw exchanges, for requests no HTTP client would send */

typedef struct
{
  guint port;
  GBytes *head;       /* sent first */
  gsize filler_bytes; /* then this many 'x' bytes */
  gboolean half_close; /* then the sending side is closed */
  GString *response;
  int done;
} RawExchange;

static gpointer
raw_exchange_thread (gpointer data)
{
  RawExchange *x = data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  GOutputStream *out;
  GInputStream *in;
  char buffer[16384];

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 30);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) x->port, NULL,
                                                &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));

  /* The server may answer and close before all of the body is sent: a
   * failed write is not an error here, the answer is what counts. */
  if (g_output_stream_write_all (out, g_bytes_get_data (x->head, NULL),
                                 g_bytes_get_size (x->head), NULL, NULL, NULL))
    {
      memset (buffer, 'x', sizeof buffer);
      for (gsize sent = 0; sent < x->filler_bytes;)
        {
          gsize n = MIN (sizeof buffer, x->filler_bytes - sent);

          if (!g_output_stream_write_all (out, buffer, n, NULL, NULL, NULL))
            break;
          sent += n;
        }
      if (x->half_close)
        g_socket_shutdown (g_socket_connection_get_socket (connection), FALSE, TRUE, NULL);
    }

  for (;;)
    {
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL);

      if (n <= 0)
        break;
      g_string_append_len (x->response, buffer, n);
    }

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_atomic_int_set (&x->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Sends @head (and @filler_bytes more) on a fresh connection and returns the
 * status of the answer; the connection must be closed by the server after
 * it (the requests say "Connection: close" or are refused). */
static guint
raw_exchange_full (Fixture *f,
                   const char *head,
                   gsize head_len,
                   gsize filler_bytes,
                   gboolean may_close)
{
  RawExchange x = { 0 };
  GThread *thread;
  guint status = 0;

  x.port = backup_server_get_port (f->server);
  x.head = g_bytes_new (head, head_len);
  x.filler_bytes = filler_bytes;
  x.response = g_string_new (NULL);
  thread = g_thread_new ("raw-exchange", raw_exchange_thread, &x);
  while (!g_atomic_int_get (&x.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_test_message ("raw answer: %.*s", (int) MIN (x.response->len, 40), x.response->str);
  if (!may_close || x.response->len > 0)
    {
      g_assert_true (g_str_has_prefix (x.response->str, "HTTP/1."));
      g_assert_cmpuint (x.response->len, >, 12);
      status = (guint) g_ascii_strtoull (x.response->str + 9, NULL, 10);
    }

  g_bytes_unref (x.head);
  g_string_free (x.response, TRUE);
  return status;
}

static guint
raw_exchange (Fixture *f,
              const char *head,
              gsize head_len,
              gsize filler_bytes)
{
  return raw_exchange_full (f, head, head_len, filler_bytes, FALSE);
}

static guint
raw_exchange_str (Fixture *f,
                  const char *head)
{
  return raw_exchange (f, head, strlen (head), 0);
}

/* Sends @head on a fresh connection and closes its sending side; returns
 * all that the server answered until it closed the connection. */
static char *
raw_answer (Fixture *f,
            const char *head)
{
  RawExchange x = { 0 };
  GThread *thread;

  x.port = backup_server_get_port (f->server);
  x.head = g_bytes_new (head, strlen (head));
  x.half_close = TRUE;
  x.response = g_string_new (NULL);
  thread = g_thread_new ("raw-exchange", raw_exchange_thread, &x);
  while (!g_atomic_int_get (&x.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_bytes_unref (x.head);
  return g_string_free (x.response, FALSE);
}

static guint
count_answers (const char *response)
{
  guint count = 0;

  for (const char *p = response; (p = strstr (p, "HTTP/1.1 ")) != NULL; p++)
    count++;
  return count;
}

/* Lets the server run until it has @count connections open (10 s at most). */
static void
wait_for_connections (Fixture *f,
                      guint count)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (backup_server_get_connection_count (f->server) != count &&
         g_get_monotonic_time () < deadline)
    wait_ms (10);
  g_assert_cmpuint (backup_server_get_connection_count (f->server), ==, count);
}

static void
assert_still_serving (Fixture *f)
{
  g_autofree char *key = upload_ok (f, NULL, "alive.json", "{}", NULL);
  g_autofree char *path = g_strconcat ("/", key, NULL);
  g_autoptr (Reply) reply = request (f, "GET", path, NULL);

  g_assert_cmpuint (reply->status, ==, 200);
  assert_body (reply, "{}");
}

/* Tests */

static void
test_new_destroy (void)
{
  BackupServerOptions options;
  g_autoptr (GError) error = NULL;
  BackupServer *server;
  g_autofree char *expected = NULL;
  g_autofree char *uri = NULL;

  backup_server_options_init (&options);
  options.port = 0;
  server = backup_server_new (&options);
  g_assert_null (backup_server_get_uri (server));
  g_assert_true (backup_server_listen (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (backup_server_get_port (server), >, 0);
  expected = g_strdup_printf ("http://127.0.0.1:%u/", backup_server_get_port (server));
  g_assert_cmpstr (backup_server_get_uri (server), ==, expected);
  g_object_get (server, "uri", &uri, NULL);
  g_assert_cmpstr (uri, ==, expected);
  g_assert_cmpuint (backup_server_get_file_count (server), ==, 0);
  g_assert_finalize_object (server);
}

static void
test_listen_errors (void)
{
  BackupServerOptions options;
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupServer) server = NULL;
  g_autoptr (BackupServer) ipv6 = NULL;

  backup_server_options_init (&options);
  options.port = 0;
  options.listen_address = "localhost"; /* names are refused: no resolution */
  server = backup_server_new (&options);
  g_assert_false (backup_server_listen (server, &error));
  g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION);
  g_clear_error (&error);
  g_clear_object (&server);

  options.listen_address = "127.0.0.1";
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  server = backup_server_new (&options);
  g_assert_false (backup_server_listen (server, &error));
  g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_TLS);
  g_clear_error (&error);

  /* A port that is taken. */
  options.tls_cert_file = options.tls_key_file = NULL;
  {
    g_autoptr (BackupServer) first = backup_server_new (&options);
    g_autoptr (BackupServer) second = NULL;

    g_assert_true (backup_server_listen (first, &error));
    g_assert_no_error (error);
    options.port = backup_server_get_port (first);
    second = backup_server_new (&options);
    g_assert_false (backup_server_listen (second, &error));
    g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_LISTEN);
    g_assert_null (backup_server_get_uri (second));
    g_clear_error (&error);
    options.port = 0;
  }

  options.listen_address = "::1";
  ipv6 = backup_server_new (&options);
  if (backup_server_listen (ipv6, &error))
    {
      g_autofree char *expected = g_strdup_printf ("http://[::1]:%u/",
                                                   backup_server_get_port (ipv6));

      g_assert_cmpstr (backup_server_get_uri (ipv6), ==, expected);
    }
  else
    g_test_message ("no IPv6 loopback here: %s", error->message);
}

static void
test_parse_duration (void)
{
  static const struct
  {
    const char *text;
    gint64 seconds;
  } good[] = {
    { "90", 90 }, { "10m", 600 }, { "1h", 3600 }, { "1d", 86400 }, { "1w", 604800 },
    { "30s", 30 }, { "2M", 2 * 30 * 86400 }, { "1y", 365 * 86400 },
    { "100y", G_GINT64_CONSTANT (100) * 365 * 86400 },
  };
  static const char *const bad[] = { "", "0", "-1", "10x", "m", "1.5h", "10 m", "1hh",
                                     "9999999999999", "99999999999y",
                                     "101y", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 seconds = 0;

      g_assert_true (backup_server_parse_duration (good[i].text, &seconds, &error));
      g_assert_no_error (error);
      g_assert_cmpint (seconds, ==, good[i].seconds);
    }
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 seconds = 0;

      g_assert_false (backup_server_parse_duration (bad[i], &seconds, &error));
      g_assert_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION);
    }

  g_assert_true (backup_server_api_key_is_valid ("abc-DEF_123.~"));
  g_assert_false (backup_server_api_key_is_valid (""));
  g_assert_false (backup_server_api_key_is_valid ("with space"));
  g_assert_false (backup_server_api_key_is_valid ("tab\there"));
  g_assert_false (backup_server_api_key_is_valid ("caf\xc3\xa9"));
}

static void
start_default (Fixture *f)
{
  BackupServerOptions options;

  backup_server_options_init (&options);
  options.port = 0;
  fixture_start (f, &options);
}

static void
test_upload_list_download (void)
{
  Fixture f = { 0 };
  const char *content = "{\"type\":\"ping\"}";
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *names = NULL;

  start_default (&f);
  key = upload_ok (&f, NULL, "S1_ping_I1.json", content, NULL);
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 1);

  {
    g_autoptr (Reply) reply = request (&f, "GET", "/?search=S1_ping&sort=created:asc", NULL);
    JsonObject *object = reply_object (reply);
    JsonArray *nodes = json_object_get_array_member (object, "nodes");
    JsonObject *node;

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpuint (json_array_get_length (nodes), ==, 1);
    node = json_array_get_object_element (nodes, 0);
    g_assert_cmpstr (json_object_get_string_member (node, "key"), ==, key);
    g_assert_cmpstr (json_object_get_string_member (node, "name"), ==, "S1_ping_I1.json");
    g_assert_cmpint (json_object_get_int_member (node, "maxDownloads"), ==, 1);
    g_assert_true (json_object_get_boolean_member (node, "autoDelete"));
    g_assert_cmpstr (json_object_get_string_member (node, "mimeType"), ==, "application/json");
  }

  path = g_strconcat ("/", key, NULL);
  {
    g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
    assert_body (reply, content);
    g_assert_cmpstr (soup_message_headers_get_content_type (reply->headers, NULL), ==,
                     "application/json");
    g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "Content-Disposition"), ==,
                     "attachment; filename=\"S1_ping_I1.json\"");
  }
  {
    g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

    assert_error_reply (reply, 404, "NOT_FOUND");
  }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);
  names = list_names (&f, "?search=S1_ping&sort=created:asc", NULL);
  g_assert_cmpstr (names, ==, "");
  g_free (names);
  names = list_names (&f, "", NULL);
  g_assert_cmpstr (names, ==, "");

  /* A name with quotes and non-ASCII characters comes back intact. */
  {
    const char *odd = "r\xc3\xa9sum\xc3\xa9 \"1\".json";
    g_autofree char *odd_key = upload_ok (&f, NULL, odd, "{}", NULL);
    g_autofree char *odd_path = g_strconcat ("/", odd_key, NULL);
    g_autoptr (Reply) reply = request (&f, "GET", odd_path, NULL);
    g_autofree char *disposition = NULL;
    g_autoptr (GHashTable) params = NULL;

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_true (soup_message_headers_get_content_disposition (reply->headers, &disposition,
                                                                 &params));
    g_assert_cmpstr (disposition, ==, "attachment");
    g_assert_cmpstr (g_hash_table_lookup (params, "filename"), ==, odd);
  }

  fixture_stop (&f);
}

static void
test_max_downloads (void)
{
  Fixture f = { 0 };
  UploadFields fields = { .max_downloads = "2" };
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;

  start_default (&f);
  key = upload_ok (&f, NULL, "twice.bin", "data", &fields);
  path = g_strconcat ("/", key, NULL);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (Reply) reply = request (&f, "GET", path, NULL);
      g_autoptr (Reply) list = NULL;

      g_assert_cmpuint (reply->status, ==, 200);
      assert_body (reply, "data");
      if (i == 0)
        {
          JsonArray *nodes;

          list = request (&f, "GET", "/", NULL);
          nodes = json_object_get_array_member (reply_object (list), "nodes");
          g_assert_cmpuint (json_array_get_length (nodes), ==, 1);
          g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (nodes, 0),
                                                       "downloads"), ==, 1);
        }
    }
  {
    g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

    assert_error_reply (reply, 404, "NOT_FOUND");
  }

  {
    UploadFields zero = { .max_downloads = "0" };
    g_autoptr (Reply) reply = upload_full (&f, NULL, "zero.bin", "x", &zero);

    assert_error_reply (reply, 400, "BAD_REQUEST");
  }
  fixture_stop (&f);
}

static void
test_auto_delete_false (void)
{
  Fixture f = { 0 };
  UploadFields fields = { .max_downloads = "1", .auto_delete = "false" };
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *names = NULL;

  start_default (&f);
  key = upload_ok (&f, NULL, "kept.json", "{}", &fields);
  path = g_strconcat ("/", key, NULL);
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

      g_assert_cmpuint (reply->status, ==, 200);
      assert_body (reply, "{}");
    }
  names = list_names (&f, "?search=kept", NULL);
  g_assert_cmpstr (names, ==, "kept.json");
  {
    g_autoptr (Reply) reply = request (&f, "DELETE", path, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
  }
  {
    UploadFields bad = { .auto_delete = "maybe" };
    g_autoptr (Reply) reply = upload_full (&f, NULL, "bad.json", "{}", &bad);

    assert_error_reply (reply, 400, "BAD_REQUEST");
  }
  fixture_stop (&f);
}

static void
test_expiry (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  UploadFields soon = { .expires = "1" };
  UploadFields week = { .expires = "1w" };
  g_autofree char *key = NULL;
  g_autofree char *names = NULL;
  g_autofree char *iso = NULL;
  gint64 start;

  backup_server_options_init (&options);
  options.port = 0;
  options.max_expiry = 60;
  fixture_start (&f, &options);

  start = g_get_monotonic_time ();
  key = upload_ok (&f, NULL, "short.json", "{}", &soon);
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 1);
  wait_ms (300);
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 1);
  /* No request in between: the server's own timer removes it. */
  while (backup_server_get_file_count (f.server) > 0 &&
         g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC)
    wait_ms (50);
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  names = list_names (&f, "", NULL);
  g_assert_cmpstr (names, ==, "");

  /* Capped at max-expiry (60 s). */
  {
    g_autoptr (Reply) reply = upload_full (&f, NULL, "capped.json", "{}", &week);
    g_autoptr (GDateTime) expires = NULL;
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

    g_assert_cmpuint (reply->status, ==, 200);
    expires = g_date_time_new_from_iso8601 (
      json_object_get_string_member (reply_object (reply), "expires"), NULL);
    g_assert_nonnull (expires);
    g_assert_cmpint (g_date_time_difference (expires, now), <=, 61 * G_USEC_PER_SEC);
    g_assert_cmpint (g_date_time_difference (expires, now), >=, 55 * G_USEC_PER_SEC);
  }

  /* An ISO 8601 date 30 s from now is accepted as such. */
  {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autoptr (GDateTime) later = g_date_time_add_seconds (now, 30);
    UploadFields dated = { 0 };
    g_autoptr (Reply) reply = NULL;
    g_autoptr (GDateTime) expires = NULL;

    iso = g_date_time_format_iso8601 (later);
    dated.expires = iso;
    reply = upload_full (&f, NULL, "dated.json", "{}", &dated);
    g_assert_cmpuint (reply->status, ==, 200);
    expires = g_date_time_new_from_iso8601 (
      json_object_get_string_member (reply_object (reply), "expires"), NULL);
    g_assert_cmpint (g_date_time_difference (expires, later), <=, G_USEC_PER_SEC);
    g_assert_cmpint (g_date_time_difference (expires, later), >=, -G_USEC_PER_SEC);
  }

  /* Past dates and nonsense are refused. */
  {
    UploadFields past = { .expires = "2001-01-01T00:00:00Z" };
    UploadFields nonsense = { .expires = "soon" };
    g_autoptr (Reply) a = upload_full (&f, NULL, "past.json", "{}", &past);
    g_autoptr (Reply) b = upload_full (&f, NULL, "nonsense.json", "{}", &nonsense);

    assert_error_reply (a, 400, "BAD_REQUEST");
    assert_error_reply (b, 400, "BAD_REQUEST");
  }
  fixture_stop (&f);
}

static void
test_sort_search (void)
{
  Fixture f = { 0 };
  const char *session = "6f1c2b1e-0d6e-4a53-9d0e-2f7b5b3c9a10";
  const char *names[] = { "ping", "sdp", "candidate", "zeta", "alpha" };
  g_autofree char *query = NULL;
  g_autofree char *listed = NULL;
  g_autofree char *expected = NULL;

  start_default (&f);
  for (gsize i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s_%s_inst%zu.json", session, names[i], i % 2);

      g_free (upload_ok (&f, NULL, name, "{}", NULL));
    }
  g_free (upload_ok (&f, NULL, "other-session_ping_x.json", "{}", NULL));
  g_free (upload_ok (&f, NULL, "zeta.txt", "zz", NULL));
  g_free (upload_ok (&f, NULL, "alpha.txt", "a", NULL));

  query = g_strdup_printf ("?search=%s&sort=created:asc", session);
  listed = list_names (&f, query, NULL);
  expected = g_strdup_printf ("%s_ping_inst0.json %s_sdp_inst1.json %s_candidate_inst0.json",
                              session, session, session);
  g_assert_cmpstr (listed, ==, expected);
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&query, g_free);

  query = g_strdup_printf ("?search=%s&sort=created:desc", session);
  listed = list_names (&f, query, NULL);
  expected = g_strdup_printf ("%s_candidate_inst0.json %s_sdp_inst1.json %s_ping_inst0.json",
                              session, session, session);
  g_assert_cmpstr (listed, ==, expected);
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&query, g_free);

  /* The pairing search of the protocol: "{session}_ping". */
  query = g_strdup_printf ("?search=%s_ping&sort=created:asc", session);
  listed = list_names (&f, query, NULL);
  expected = g_strdup_printf ("%s_ping_inst0.json", session);
  g_assert_cmpstr (listed, ==, expected);
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&query, g_free);

  /* '*' as a wildcard: "{session}*" and "{session}*inst0". */
  query = g_strdup_printf ("?search=%s*&sort=created:asc", session);
  listed = list_names (&f, query, NULL);
  {
    g_auto (GStrv) split = g_strsplit (listed, " ", -1);

    g_assert_cmpuint (g_strv_length (split), ==, 3);
  }
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&query, g_free);
  query = g_strdup_printf ("?search=%s*inst0&sort=created:asc", session);
  listed = list_names (&f, query, NULL);
  expected = g_strdup_printf ("%s_ping_inst0.json %s_candidate_inst0.json", session, session);
  g_assert_cmpstr (listed, ==, expected);
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&expected, g_free);
  g_clear_pointer (&query, g_free);

  /* Case-sensitive substring. */
  listed = list_names (&f, "?search=ALPHA", NULL);
  g_assert_cmpstr (listed, ==, "");
  g_clear_pointer (&listed, g_free);
  listed = list_names (&f, "?search=lph", NULL);
  g_assert_cmpstr (listed, ==, "alpha.txt");
  g_clear_pointer (&listed, g_free);

  listed = list_names (&f, "?search=.txt&sort=name:asc", NULL);
  g_assert_cmpstr (listed, ==, "alpha.txt zeta.txt");
  g_clear_pointer (&listed, g_free);
  listed = list_names (&f, "?search=.txt&sort=name:desc", NULL);
  g_assert_cmpstr (listed, ==, "zeta.txt alpha.txt");
  g_clear_pointer (&listed, g_free);

  /* No search: everything, in creation order by default; then paging. */
  {
    g_autoptr (Reply) reply = request (&f, "GET", "/?page=2&limit=2", NULL);
    JsonObject *object = reply_object (reply);
    JsonArray *nodes = json_object_get_array_member (object, "nodes");

    g_assert_cmpint (json_object_get_int_member (object, "count"), ==, 6);
    g_assert_cmpuint (json_array_get_length (nodes), ==, 2);
    g_assert_true (g_str_has_suffix (json_object_get_string_member (
      json_array_get_object_element (nodes, 0), "name"), "_candidate_inst0.json"));
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (nodes, 1),
                                                    "name"), ==, "other-session_ping_x.json");
  }
  {
    g_autoptr (Reply) reply = request (&f, "GET", "/?sort=bogus:asc", NULL);

    assert_error_reply (reply, 400, "BAD_REQUEST");
  }
  fixture_stop (&f);
}

static void
test_auth (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  const char *keys[] = { "key-one", "key-two", NULL };
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *names = NULL;

  backup_server_options_init (&options);
  options.port = 0;
  options.api_keys = keys;
  fixture_start (&f, &options);

  /* Missing, unknown, and a known key with another scheme. */
  {
    g_autoptr (Reply) none = request (&f, "GET", "/", NULL);
    g_autoptr (Reply) wrong = request (&f, "GET", "/", "Bearer key-three");
    g_autoptr (Reply) basic = request (&f, "GET", "/", "Basic a2V5LW9uZQ==");
    g_autoptr (Reply) upload_none = upload (&f, NULL, "x.json", "{}");

    assert_error_reply (none, 401, "UNAUTHORIZED");
    assert_error_reply (wrong, 401, "UNAUTHORIZED");
    assert_error_reply (basic, 401, "UNAUTHORIZED");
    assert_error_reply (upload_none, 401, "UNAUTHORIZED");
  }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);

  /* Bearer and the bare key are the same namespace. */
  key = upload_ok (&f, "Bearer key-one", "mine.json", "{\"a\":1}", NULL);
  names = list_names (&f, "", "key-one");
  g_assert_cmpstr (names, ==, "mine.json");
  g_clear_pointer (&names, g_free);

  /* Another key sees nothing of it. */
  names = list_names (&f, "", "Bearer key-two");
  g_assert_cmpstr (names, ==, "");
  path = g_strconcat ("/", key, NULL);
  {
    g_autoptr (Reply) other = request (&f, "GET", path, "Bearer key-two");
    g_autoptr (Reply) other_delete = request (&f, "DELETE", path, "key-two");

    assert_error_reply (other, 404, "NOT_FOUND");
    assert_error_reply (other_delete, 404, "NOT_FOUND");
  }
  {
    g_autoptr (Reply) mine = request (&f, "GET", path, "key-one");

    g_assert_cmpuint (mine->status, ==, 200);
    assert_body (mine, "{\"a\":1}");
  }
  fixture_stop (&f);
}

static void
test_open_mode (void)
{
  Fixture f = { 0 };
  g_autofree char *names = NULL;

  start_default (&f);
  g_free (upload_ok (&f, "Bearer anything", "a.json", "{}", NULL));
  g_free (upload_ok (&f, NULL, "b.json", "{}", NULL));
  g_free (upload_ok (&f, "bare-key", "c.json", "{}", NULL));
  names = list_names (&f, "?sort=created:asc", "Bearer something-else");
  g_assert_cmpstr (names, ==, "a.json b.json c.json");
  fixture_stop (&f);
}

static void
test_delete (void)
{
  Fixture f = { 0 };
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;

  start_default (&f);
  key = upload_ok (&f, NULL, "gone.json", "{}", NULL);
  path = g_strconcat ("/", key, NULL);
  {
    g_autoptr (Reply) first = request (&f, "DELETE", path, NULL);
    g_autoptr (Reply) second = NULL;
    g_autoptr (Reply) download = NULL;

    g_assert_cmpuint (first->status, ==, 200);
    g_assert_true (json_object_get_boolean_member (reply_object (first), "success"));
    second = request (&f, "DELETE", path, NULL);
    assert_error_reply (second, 404, "NOT_FOUND");
    download = request (&f, "GET", path, NULL);
    assert_error_reply (download, 404, "NOT_FOUND");
  }
  {
    g_autoptr (Reply) unknown = request (&f, "DELETE", "/NoSuchKey123", NULL);
    g_autoptr (Reply) root = request (&f, "DELETE", "/", NULL);
    g_autoptr (Reply) put = request (&f, "PUT", "/", NULL);
    g_autoptr (Reply) deep = request (&f, "GET", "/a/b/c", NULL);

    assert_error_reply (unknown, 404, "NOT_FOUND");
    assert_error_reply (root, 405, "METHOD_NOT_ALLOWED");
    g_assert_cmpstr (soup_message_headers_get_one (root->headers, "Allow"), ==, "GET, POST");
    assert_error_reply (put, 405, "METHOD_NOT_ALLOWED");
    assert_error_reply (deep, 404, "NOT_FOUND");
  }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);
  fixture_stop (&f);
}

static Reply *
upload_chunked (Fixture *f,
                gsize content_size)
{
  const char *boundary = "5bd8cd1b1b6a4c3fbe9b";
  GString *body = g_string_new (NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", f->base);
  g_autoptr (GInputStream) stream = NULL;
  g_autofree char *content_type = g_strdup_printf ("multipart/form-data; boundary=%s", boundary);
  gsize length;

  g_string_append_printf (body, "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                          "filename=\"chunked.bin\"\r\nContent-Type: application/octet-stream"
                          "\r\n\r\n", boundary);
  for (gsize i = 0; i < content_size; i++)
    g_string_append_c (body, 'c');
  g_string_append_printf (body, "\r\n--%s--\r\n", boundary);
  length = body->len;
  stream = g_memory_input_stream_new_from_data (g_string_free (body, FALSE), (gssize) length,
                                                g_free);
  /* Unknown length: libsoup sends the body chunked. */
  soup_message_set_request_body (msg, content_type, stream, -1);
  return send_message (f, msg);
}

static void
test_limits (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  g_autofree char *big = g_malloc (8001);
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;

  backup_server_options_init (&options);
  options.port = 0;
  options.max_upload_size = 4096;
  options.max_files_per_key = 2;
  fixture_start (&f, &options);

  memset (big, 'b', 8000);
  big[8000] = '\0';
  {
    /* Content-Length announced. */
    g_autoptr (Reply) reply = upload (&f, NULL, "big.bin", big);

    assert_error_reply (reply, 413, "PAYLOAD_TOO_LARGE");
  }
  {
    /* Chunked: refused while streaming, and a small chunked body works. */
    g_autoptr (Reply) refused = upload_chunked (&f, 8000);
    g_autoptr (Reply) accepted = upload_chunked (&f, 1000);

    assert_error_reply (refused, 413, "PAYLOAD_TOO_LARGE");
    g_assert_cmpuint (accepted->status, ==, 200);
    g_assert_cmpint (json_object_get_int_member (reply_object (accepted), "size"), ==, 1000);
  }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 1);

  key = upload_ok (&f, NULL, "second.json", "{}", NULL);
  {
    g_autoptr (Reply) full = upload (&f, NULL, "third.json", "{}");

    assert_error_reply (full, 507, "STORAGE_FULL");
  }
  path = g_strconcat ("/", key, NULL);
  {
    g_autoptr (Reply) removed = request (&f, "DELETE", path, NULL);

    g_assert_cmpuint (removed->status, ==, 200);
  }
  g_free (upload_ok (&f, NULL, "third.json", "{}", NULL));
  fixture_stop (&f);
}

static void
test_rate_limit (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  const char *keys[] = { "limited", "other", NULL };

  backup_server_options_init (&options);
  options.port = 0;
  options.api_keys = keys;
  options.rate_limit = 3;
  options.rate_window_ms = 2000;
  fixture_start (&f, &options);

  for (int i = 0; i < 3; i++)
    {
      g_autoptr (Reply) reply = request (&f, "GET", "/", "Bearer limited");

      g_assert_cmpuint (reply->status, ==, 200);
    }
  {
    g_autoptr (Reply) limited = request (&f, "GET", "/", "Bearer limited");
    g_autoptr (Reply) other = request (&f, "GET", "/", "Bearer other");
    const char *retry_after;
    guint64 seconds = 0;

    assert_error_reply (limited, 429, "TOO_MANY_REQUESTS");
    retry_after = soup_message_headers_get_one (limited->headers, "Retry-After");
    g_assert_nonnull (retry_after);
    g_assert_true (g_ascii_string_to_unsigned (retry_after, 10, 1, 2, &seconds, NULL));
    /* Another key has its own budget. */
    g_assert_cmpuint (other->status, ==, 200);
  }
  wait_ms (2100);
  {
    g_autoptr (Reply) reply = request (&f, "GET", "/", "Bearer limited");

    g_assert_cmpuint (reply->status, ==, 200);
  }
  fixture_stop (&f);
}

static void
test_redirect (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  g_autofree char *key = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *location = NULL;

  backup_server_options_init (&options);
  options.port = 0;
  options.redirect_downloads = TRUE;
  fixture_start (&f, &options);

  key = upload_ok (&f, NULL, "moved.json", "{\"r\":1}", NULL);
  uri = g_strconcat (f.base, key, NULL);
  location = g_strconcat ("/download/", key, NULL);
  {
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
    g_autoptr (Reply) reply = NULL;
    g_autofree char *absolute = g_strconcat (f.base, location + 1, NULL);

    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
    reply = send_message (&f, msg);
    g_assert_cmpuint (reply->status, ==, 302);
    g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "Location"), ==, absolute);
  }
  {
    /* Followed by the client: the download happens at the new place. */
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
    g_autoptr (Reply) reply = send_message (&f, msg);

    g_assert_cmpuint (reply->status, ==, 200);
    assert_body (reply, "{\"r\":1}");
    g_assert_cmpstr (g_uri_get_path (soup_message_get_uri (msg)), ==, location);
  }
  {
    g_autoptr (Reply) gone = request (&f, "GET", location, NULL);
    g_autoptr (Reply) gone_redirect = request (&f, "GET", uri + strlen (f.base) - 1, NULL);

    assert_error_reply (gone, 404, "NOT_FOUND");
    assert_error_reply (gone_redirect, 404, "NOT_FOUND");
  }
  fixture_stop (&f);
}

typedef struct
{
  gboolean done;
  GError *error;
} FailedSend;

static void
on_send_and_read_failed (GObject *source,
                         GAsyncResult *result,
                         gpointer user_data)
{
  FailedSend *failed = user_data;
  g_autoptr (GBytes) body = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &failed->error);
  failed->done = TRUE;
}

static void
test_tls (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("backup-server-tls-XXXXXX", &error);
  g_autofree char *cert = NULL;
  g_autofree char *key_file = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  int status = 0;

  g_assert_no_error (error);
  if (openssl == NULL)
    {
      g_test_skip ("openssl is needed to make a certificate");
      return;
    }
  cert = g_build_filename (dir, "cert.pem", NULL);
  key_file = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = { openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                           "-days", "1", "-keyout", key_file, "-out", cert, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
                                 G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                 NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, &error));
    g_assert_no_error (error);
  }

  backup_server_options_init (&options);
  options.port = 0;
  options.tls_cert_file = cert;
  options.tls_key_file = key_file;
  fixture_start (&f, &options);
  g_assert_true (g_str_has_prefix (f.base, "https://127.0.0.1:"));

  /* Not trusted yet: the handshake fails. */
  {
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", f.base);
    FailedSend result = { 0 };

    g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), &f);
    soup_session_send_and_read_async (f.session, msg, G_PRIORITY_DEFAULT, NULL,
                                      on_send_and_read_failed, &result);
    while (!result.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_nonnull (result.error);
    g_assert_true (result.error->domain == G_TLS_ERROR);
    g_clear_error (&result.error);
  }

  f.trusted = g_tls_certificate_new_from_file (cert, &error);
  g_assert_no_error (error);
  key = upload_ok (&f, "Bearer whatever", "tls.json", "{\"tls\":true}", NULL);
  path = g_strconcat ("/", key, NULL);
  {
    /* On the connection kept from the upload: links are still https. */
    g_autoptr (Reply) reply = request (&f, "GET", "/", NULL);
    JsonArray *nodes = json_object_get_array_member (reply_object (reply), "nodes");
    g_autofree char *link = g_strconcat (f.base, key, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpuint (json_array_get_length (nodes), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (nodes, 0),
                                                    "link"), ==, link);
  }
  {
    g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
    assert_body (reply, "{\"tls\":true}");
  }
  /* The client closes its kept-alive TLS connection: the server lets go. */
  g_assert_cmpuint (backup_server_get_connection_count (f.server), ==, 1);
  g_clear_object (&f.session);
  wait_for_connections (&f, 0);
  fixture_stop (&f);

  g_unlink (cert);
  g_unlink (key_file);
  g_rmdir (dir);
}

static void
test_malformed (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  g_autofree char *long_url = NULL;
  g_autofree char *huge_head = NULL;
  const char *bad_boundary_body = "--wrong\r\nContent-Disposition: form-data; name=\"file\"; "
                                  "filename=\"a.json\"\r\n\r\n{}\r\n--wrong--\r\n";
  const char *no_file_body = "--b1\r\nContent-Disposition: form-data; name=\"expires\""
                             "\r\n\r\n10m\r\n--b1--\r\n";
  const char *no_filename_body = "--b1\r\nContent-Disposition: form-data; name=\"file\""
                                 "\r\n\r\n{}\r\n--b1--\r\n";
  const char *bad_name_body = "--b1\r\nContent-Disposition: form-data; name=\"file\"; "
                              "filename=\"..\"\r\n\r\n{}\r\n--b1--\r\n";
  guint status;

  backup_server_options_init (&options);
  options.port = 0;
  fixture_start (&f, &options);

#define POST_HEAD(type, body) \
  g_strdup_printf ("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n" \
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", type, strlen (body), body)
  {
    g_autofree char *head = POST_HEAD ("multipart/form-data; boundary=b1", bad_boundary_body);

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
  {
    g_autofree char *head = POST_HEAD ("multipart/form-data", bad_boundary_body);

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
  {
    g_autofree char *head = POST_HEAD ("multipart/form-data; boundary=b1", no_file_body);

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
  {
    g_autofree char *head = POST_HEAD ("multipart/form-data; boundary=b1", no_filename_body);

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
  {
    g_autofree char *head = POST_HEAD ("multipart/form-data; boundary=b1", bad_name_body);

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
  {
    g_autofree char *head = POST_HEAD ("application/x-www-form-urlencoded", "file=abc");

    status = raw_exchange_str (&f, head);
    g_assert_cmpuint (status, ==, 400);
  }
#undef POST_HEAD
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);

  /* Garbage request line, bad header line, unknown method. */
  g_assert_cmpuint (raw_exchange_str (&f, "GARBAGE\r\n\r\n"), ==, 400);
  g_assert_cmpuint (raw_exchange_str (&f, "GET / HTTP/1.1\r\nHost: 127.0.0.1/x\r\n\r\n"), ==,
                    400);
  g_assert_cmpuint (raw_exchange_str (&f, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), ==,
                    400);
  {
    static const char nul_in_header[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\0b\r\n\r\n";

    g_assert_cmpuint (raw_exchange (&f, nul_in_header, sizeof nul_in_header - 1, 0), ==, 400);
  }
  g_assert_cmpuint (raw_exchange_str (&f, "BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          "Connection: close\r\n\r\n"), ==, 405);

  /* Path traversal and keys that cannot be ours. */
  status = raw_exchange_str (&f, "GET /..%2F.. HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n");
  g_assert_cmpuint (status, >=, 400);
  g_assert_cmpuint (status, <, 500);
  status = raw_exchange_str (&f, "GET /%2e%2e%2fetc%2fpasswd HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n");
  g_assert_cmpuint (status, >=, 400);
  g_assert_cmpuint (status, <, 500);
  status = raw_exchange_str (&f, "DELETE /abc%00def HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n");
  g_assert_cmpuint (status, >=, 400);
  g_assert_cmpuint (status, <, 500);
  g_assert_cmpuint (raw_exchange_str (&f, "DELETE /abc%2Bdef HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          "Connection: close\r\n\r\n"), ==, 404);
  g_assert_cmpuint (raw_exchange_str (&f, "GET /download/../x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          "Connection: close\r\n\r\n"), ==, 404);

  /* Absurdly long URLs: past our limit, and past libsoup's header limit. */
  {
    GString *url = g_string_new ("GET /?search=");

    for (int i = 0; i < 5000; i++)
      g_string_append_c (url, 'q');
    g_string_append (url, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    long_url = g_string_free (url, FALSE);
    g_assert_cmpuint (raw_exchange_str (&f, long_url), ==, 414);
  }
  {
    GString *url = g_string_new ("GET /");

    for (int i = 0; i < 200 * 1024; i++)
      g_string_append_c (url, 'A');
    g_string_append (url, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    huge_head = g_string_free (url, FALSE);
    /* Past libsoup's 100 KiB limit on a request head the connection is
     * closed without an answer; the server must go on serving. */
    status = raw_exchange_full (&f, huge_head, strlen (huge_head), 0, TRUE);
    g_assert_true (status == 0 || (status >= 400 && status < 500));
    assert_still_serving (&f);
  }

  /* A 10 MiB body, announced. */
  {
    const char *head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: multipart/form-data; boundary=b1\r\n"
                       "Content-Length: 10485760\r\n\r\n";

    g_assert_cmpuint (raw_exchange (&f, head, strlen (head), 10 * 1024 * 1024), ==, 413);
  }

  /* A body that never ends (64 MiB and more announced): the server stops
   * reading it at some point and drops the connection. */
  {
    const char *head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: multipart/form-data; boundary=b1\r\n"
                       "Content-Length: 1099511627776\r\n\r\n";

    status = raw_exchange_full (&f, head, strlen (head), 64 * 1024 * 1024, TRUE);
    g_assert_true (status == 0 || status == 413);
  }

  assert_still_serving (&f);
  fixture_stop (&f);
}

static void
test_slow_request (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  const char *partial_head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  const char *partial_body = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: multipart/form-data; boundary=b1\r\n"
                             "Content-Length: 100\r\n\r\n--b1\r\n";
  gint64 start;

  backup_server_options_init (&options);
  options.port = 0;
  options.request_timeout_ms = 700;
  fixture_start (&f, &options);

  /* The client stops half-way and waits: the server drops the connection
   * (the raw client would wait 30 s for an answer otherwise). */
  start = g_get_monotonic_time ();
  g_assert_cmpuint (raw_exchange_full (&f, partial_head, strlen (partial_head), 0, TRUE), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 600 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);

  start = g_get_monotonic_time ();
  g_assert_cmpuint (raw_exchange_full (&f, partial_body, strlen (partial_body), 0, TRUE), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);

  /* Requests sent in time are not affected. A kept-alive connection that
   * stays idle for longer than the timeout is closed, and the client goes on
   * with a new one. */
  assert_still_serving (&f);
  g_assert_cmpuint (backup_server_get_connection_count (f.server), ==, 1);
  wait_ms (900);
  wait_for_connections (&f, 0);
  assert_still_serving (&f);
  fixture_stop (&f);
}

static void
test_keep_alive (void)
{
  Fixture f = { 0 };
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GProxyResolver) no_proxy = g_simple_proxy_resolver_new (NULL, NULL);

  start_default (&f);

  /* Several requests on the connection the client keeps; when the client
   * goes, the server lets go of the connection. */
  key = upload_ok (&f, NULL, "kept.json", "{\"kept\":1}", NULL);
  path = g_strconcat ("/", key, NULL);
  g_free (list_names (&f, "", NULL));
  {
    g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

    g_assert_cmpuint (reply->status, ==, 200);
    assert_body (reply, "{\"kept\":1}");
  }
  g_assert_cmpuint (backup_server_get_connection_count (f.server), ==, 1);
  g_clear_object (&f.session);
  wait_for_connections (&f, 0);
  f.session = soup_session_new_with_options ("proxy-resolver", no_proxy, "timeout", 30, NULL);

  /* Pipelined requests in one packet: each is answered, in order, until the
   * one that closes the connection. */
  {
    g_autofree char *answer = raw_answer (&f, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                              "GET /NoSuchKey HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                              "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              "Connection: close\r\n\r\n"
                                              "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

    g_assert_cmpuint (count_answers (answer), ==, 3);
    g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 200"));
    g_assert_nonnull (strstr (answer, "HTTP/1.1 404"));
  }
  /* Pipelined, then the client stops sending: every request is answered
   * before the server closes. */
  {
    g_autofree char *answer = raw_answer (&f, "GET /NoSuchKey HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                              "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

    g_assert_cmpuint (count_answers (answer), ==, 2);
    g_assert_true (g_str_has_prefix (answer, "HTTP/1.1 404"));
  }
  wait_for_connections (&f, 0);
  fixture_stop (&f);
}

static void
test_memory_budget (void)
{
  Fixture f = { 0 };
  BackupServerOptions options;
  g_autofree char *content = g_malloc (24 * 1024 + 1);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  guint64 used;

  backup_server_options_init (&options);
  options.port = 0;
  options.max_memory = 64 * 1024;
  options.max_upload_size = 40 * 1024;
  fixture_start (&f, &options);
  memset (content, 'm', 24 * 1024);
  content[24 * 1024] = '\0';

  /* A file counts with the whole body of its upload and a little more. */
  first = upload_ok (&f, NULL, "file1.bin", content, NULL);
  used = backup_server_get_memory_used (f.server);
  g_assert_cmpuint (used, >, 24 * 1024);
  g_assert_cmpuint (used, <, 26 * 1024);
  second = upload_ok (&f, NULL, "file2.bin", content, NULL);
  g_assert_cmpuint (backup_server_get_memory_used (f.server), ==, 2 * used);

  /* A third does not fit, announced or streamed, and nothing of it is kept. */
  {
    g_autoptr (Reply) announced = upload (&f, NULL, "file3.bin", content);
    g_autoptr (Reply) streamed = upload_chunked (&f, 24 * 1024);

    assert_error_reply (announced, 507, "STORAGE_FULL");
    assert_error_reply (streamed, 507, "STORAGE_FULL");
  }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 2);
  g_assert_cmpuint (backup_server_get_memory_used (f.server), ==, 2 * used);

  /* Room again once a file is gone. */
  {
    g_autofree char *path = g_strconcat ("/", first, NULL);
    g_autoptr (Reply) removed = request (&f, "DELETE", path, NULL);

    g_assert_cmpuint (removed->status, ==, 200);
  }
  g_assert_cmpuint (backup_server_get_memory_used (f.server), ==, used);
  third = upload_ok (&f, NULL, "file3.bin", content, NULL);

  /* Downloads end the files, and all of their memory is given back. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strconcat ("/", i == 0 ? second : third, NULL);
      g_autoptr (Reply) reply = request (&f, "GET", path, NULL);

      g_assert_cmpuint (reply->status, ==, 200);
      g_assert_cmpuint (g_bytes_get_size (reply->body), ==, 24 * 1024);
    }
  g_assert_cmpuint (backup_server_get_file_count (f.server), ==, 0);
  g_assert_cmpuint (backup_server_get_memory_used (f.server), ==, 0);
  fixture_stop (&f);
}

int
main (int argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/new-destroy", test_new_destroy);
  g_test_add_func ("/server/listen-errors", test_listen_errors);
  g_test_add_func ("/server/parse-duration", test_parse_duration);
  g_test_add_func ("/server/upload-list-download", test_upload_list_download);
  g_test_add_func ("/server/max-downloads", test_max_downloads);
  g_test_add_func ("/server/auto-delete-false", test_auto_delete_false);
  g_test_add_func ("/server/expiry", test_expiry);
  g_test_add_func ("/server/sort-search", test_sort_search);
  g_test_add_func ("/server/auth", test_auth);
  g_test_add_func ("/server/open-mode", test_open_mode);
  g_test_add_func ("/server/delete", test_delete);
  g_test_add_func ("/server/limits", test_limits);
  g_test_add_func ("/server/rate-limit", test_rate_limit);
  g_test_add_func ("/server/redirect", test_redirect);
  g_test_add_func ("/server/tls", test_tls);
  g_test_add_func ("/server/malformed", test_malformed);
  g_test_add_func ("/server/slow-request", test_slow_request);
  g_test_add_func ("/server/keep-alive", test_keep_alive);
  g_test_add_func ("/server/memory-budget", test_memory_budget);

  status = g_test_run ();

  /* TLS handshakes ran in thread-pool threads that hold GnuTLS thread-local
   * data; let them end before the leak checker of sanitized builds walks the
   * threads (GCC 12's LeakSanitizer crashes on that data). Idle pool threads
   * become "unused" after half a second, then they can be stopped. */
  g_usleep (700 * 1000);
  g_thread_pool_set_max_unused_threads (0);
  g_thread_pool_stop_unused_threads ();
  g_usleep (100 * 1000);
  return status;
}
