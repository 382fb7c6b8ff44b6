/* test-fileio-store.c: BackupFileioStore over real HTTP on 127.0.0.1, against
 * a recording SoupServer (exact requests, error answers) and against the
 * real distributed-backup-server (operations, keys, redirects, rate limit)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "signaling/backup-fileio-store.h"
#include "signaling/backup-signaling-error.h"
#include "signaling-test-util.h"

/* ---- a recording server ---- */

typedef struct
{
  char *method;
  char *path;
  char *query;
  char *authorization;
  GHashTable *fields;   /* multipart form fields (strings) */
  char *file_name;
  char *file_type;
  GBytes *file;
} Recorded;

static void
recorded_free (Recorded *r)
{
  g_free (r->method);
  g_free (r->path);
  g_free (r->query);
  g_free (r->authorization);
  g_clear_pointer (&r->fields, g_hash_table_unref);
  g_free (r->file_name);
  g_free (r->file_type);
  g_clear_pointer (&r->file, g_bytes_unref);
  g_free (r);
}

typedef struct
{
  SoupServer *server;
  char *url;
  GPtrArray *requests;
  /* what to answer */
  guint status;            /* 0: normal */
  guint n_429;             /* answer 429 this many times first */
  const char *retry_after; /* on 429 */
  const char *body;        /* overrides the body */
  gsize big_body;          /* answer this many bytes */
} Mock;

static void
mock_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  Mock *mock = user_data;
  Recorded *r = g_new0 (Recorded, 1);
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *req_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp_headers = soup_server_message_get_response_headers (msg);
  const char *body = NULL;

  r->method = g_strdup (method);
  r->path = g_strdup (path);
  r->query = g_strdup (g_uri_get_query (soup_server_message_get_uri (msg)));
  r->authorization = g_strdup (soup_message_headers_get_one (req_headers, "Authorization"));

  if (g_str_equal (method, "POST"))
    {
      SoupMessageBody *req_body = soup_server_message_get_request_body (msg);
      g_autoptr (GBytes) bytes = soup_message_body_flatten (req_body);
      char *file_name = NULL, *file_type = NULL;
      GBytes *file = NULL;

      r->fields = soup_form_decode_multipart (soup_multipart_new_from_message (req_headers, bytes),
                                              "file", &file_name, &file_type, &file);
      r->file_name = file_name;
      r->file_type = file_type;
      r->file = file;
    }
  g_ptr_array_add (mock->requests, r);

  if (mock->n_429 > 0)
    {
      mock->n_429--;
      if (mock->retry_after != NULL)
        soup_message_headers_replace (resp_headers, "Retry-After", mock->retry_after);
      soup_server_message_set_status (msg, 429, NULL);
      return;
    }
  if (mock->status != 0)
    {
      soup_server_message_set_status (msg, mock->status, NULL);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (mock->big_body > 0)
    {
      char *big = g_malloc0 (mock->big_body);

      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_TAKE, big,
                                        mock->big_body);
      return;
    }
  if (mock->body != NULL)
    body = mock->body;
  else if (g_str_equal (method, "POST"))
    body = "{\"success\":true,\"key\":\"K1\",\"name\":\"n\"}";
  else if (g_str_equal (method, "GET") && g_str_equal (path, "/"))
    body = "{\"success\":true,\"nodes\":["
           "{\"key\":\"K1\",\"name\":\"S_ping_a.json\",\"created\":\"2026-01-01T10:00:00.000Z\"},"
           "{\"key\":\"K2\",\"name\":\"S_sdp_b.json\",\"created\":\"2026-01-01T10:00:01.500Z\"}]}";
  else if (g_str_equal (method, "GET"))
    body = "{\"type\":\"ping\"}";
  else
    body = "{\"success\":true}";
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static Mock *
mock_new (void)
{
  Mock *mock = g_new0 (Mock, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSList) uris = NULL;

  mock->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) recorded_free);
  mock->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (mock->server, NULL, mock_handler, mock, NULL);
  soup_server_listen_local (mock->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (mock->server);
  mock->url = g_uri_to_string (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  return mock;
}

static void
mock_free (Mock *mock)
{
  soup_server_disconnect (mock->server);
  g_object_unref (mock->server);
  g_ptr_array_unref (mock->requests);
  g_free (mock->url);
  g_free (mock);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mock, mock_free)

static Recorded *
last_request (Mock *mock)
{
  g_assert_cmpuint (mock->requests->len, >, 0);
  return g_ptr_array_index (mock->requests, mock->requests->len - 1);
}

static BackupSignalingStore *
new_store (const char *url, const char *key)
{
  g_autoptr (GError) error = NULL;
  BackupFileioStore *store = backup_fileio_store_new (url, key, &error);

  g_assert_no_error (error);
  return BACKUP_SIGNALING_STORE (store);
}

static void
test_new_destroy (void)
{
  BackupSignalingStore *store = new_store ("http://127.0.0.1:9", "secret");
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (backup_fileio_store_get_base_url (BACKUP_FILEIO_STORE (store)), ==, "http://127.0.0.1:9/");
  g_assert_cmpuint (backup_signaling_store_get_backoff (store), ==, 0);
  g_assert_finalize_object (store);

  g_assert_null (backup_fileio_store_new ("ftp://127.0.0.1/", NULL, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL);
  g_clear_error (&error);
  g_assert_null (backup_fileio_store_new ("http://127.0.0.1/?x=1", NULL, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_INVALID_URL);
}

static void
test_requests (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, "secret-key");
  g_autoptr (BackupSignalingStore) anonymous = new_store (mock->url, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) got = NULL;
  BackupSignalingEntry *e;
  Recorded *r;

  key = test_store_upload (store, "S_sdp_b.json", "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "K1");
  r = last_request (mock);
  g_assert_cmpstr (r->method, ==, "POST");
  g_assert_cmpstr (r->path, ==, "/");
  g_assert_cmpstr (r->authorization, ==, "Bearer secret-key");
  g_assert_nonnull (r->fields);
  g_assert_cmpstr (r->file_name, ==, "S_sdp_b.json");
  g_assert_cmpstr (r->file_type, ==, "application/json");
  g_assert_cmpmem (g_bytes_get_data (r->file, NULL), g_bytes_get_size (r->file), "{\"type\":\"ping\"}", 15);
  g_assert_cmpstr (g_hash_table_lookup (r->fields, "expires"), ==, "10m");
  g_assert_cmpstr (g_hash_table_lookup (r->fields, "maxDownloads"), ==, "1");
  g_assert_cmpstr (g_hash_table_lookup (r->fields, "autoDelete"), ==, "true");

  list = test_store_list (store, "S_", &error);
  g_assert_no_error (error);
  r = last_request (mock);
  g_assert_cmpstr (r->method, ==, "GET");
  g_assert_cmpstr (r->path, ==, "/");
  g_assert_cmpstr (r->query, ==, "search=S_&sort=created:asc");
  g_assert_cmpstr (r->authorization, ==, "Bearer secret-key");
  g_assert_cmpuint (list->len, ==, 2);
  e = g_ptr_array_index (list, 0);
  g_assert_cmpstr (e->key, ==, "K1");
  g_assert_cmpstr (e->name, ==, "S_ping_a.json");
  e = g_ptr_array_index (list, 1);
  g_assert_cmpstr (e->key, ==, "K2");
  g_assert_cmpint (e->created - ((BackupSignalingEntry *) g_ptr_array_index (list, 0))->created, ==, 1500000);

  got = test_store_download (store, "K2", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "{\"type\":\"ping\"}", 15);
  r = last_request (mock);
  g_assert_cmpstr (r->method, ==, "GET");
  g_assert_cmpstr (r->path, ==, "/K2");

  g_assert_true (test_store_delete (store, "K2", &error));
  g_assert_no_error (error);
  r = last_request (mock);
  g_assert_cmpstr (r->method, ==, "DELETE");
  g_assert_cmpstr (r->path, ==, "/K2");
  g_assert_cmpstr (r->authorization, ==, "Bearer secret-key");

  /* no key: no Authorization header at all */
  g_clear_pointer (&list, g_ptr_array_unref);
  list = test_store_list (anonymous, "S_", &error);
  g_assert_no_error (error);
  g_assert_null (last_request (mock)->authorization);
}

static void
expect_error (BackupSignalingStore *store, const char *op, int code, const char *message_part)
{
  g_autoptr (GError) error = NULL;

  if (g_str_equal (op, "upload"))
    g_assert_null (test_store_upload (store, "S_ping_a.json", "{}", &error));
  else if (g_str_equal (op, "list"))
    g_assert_null (test_store_list (store, "S_", &error));
  else if (g_str_equal (op, "download"))
    g_assert_null (test_store_download (store, "K1", &error));
  else
    g_assert_false (test_store_delete (store, "K1", &error));

  g_assert_error (error, BACKUP_SIGNALING_ERROR, code);
  if (message_part != NULL)
    g_assert_nonnull (strstr (error->message, message_part));
  /* the key never shows */
  g_assert_null (strstr (error->message, "secret-key"));
}

static void
test_errors (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, "secret-key");
  const char *ops[] = { "upload", "list", "download", "delete" };

  mock->status = 401;
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    expect_error (store, ops[i], BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");

  mock->status = 403;
  expect_error (store, "upload", BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");
  expect_error (store, "delete", BACKUP_SIGNALING_ERROR_NOT_FOUND, NULL);

  mock->status = 404;
  expect_error (store, "delete", BACKUP_SIGNALING_ERROR_NOT_FOUND, NULL);
  expect_error (store, "download", BACKUP_SIGNALING_ERROR_NOT_FOUND, NULL);

  mock->status = 500;
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    expect_error (store, ops[i], BACKUP_SIGNALING_ERROR_HTTP, "HTTP 500");

  mock->status = 0;
  mock->body = "<html>not json</html>";
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  expect_error (store, "upload", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  mock->body = "{\"success\":true}";
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  expect_error (store, "upload", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  mock->body = "{\"nodes\":[{\"name\":\"S_ping_a.json\"}]}";
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  mock->body = NULL;

  /* bounded answers */
  mock->big_body = 2 * 1024 * 1024;
  expect_error (store, "download", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  mock->big_body = 5 * 1024 * 1024;
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_MALFORMED, NULL);
  mock->big_body = 0;

  /* nobody listening */
  {
    g_autoptr (BackupSignalingStore) dead = new_store ("http://127.0.0.1:1", "secret-key");

    expect_error (dead, "list", BACKUP_SIGNALING_ERROR_FAILED, "signaling server");
  }
}

static void
test_retry_after (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, "secret-key");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  guint max_backoff_seen = 0;

  mock->n_429 = 2;
  mock->retry_after = "1";
  backup_signaling_store_list_async (store, "S_", NULL, test_store_result_cb, &result);
  while (result == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      max_backoff_seen = MAX (max_backoff_seen, backup_signaling_store_get_backoff (store));
    }
  list = backup_signaling_store_list_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpuint (mock->requests->len, ==, 3);
  /* the server's Retry-After was honoured, and shown to pollers */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC - 100000);
  g_assert_cmpuint (max_backoff_seen, >, 500);
}

static void
test_backoff_without_retry_after (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;

  mock->n_429 = 2;
  key = test_store_upload (store, "S_ping_a.json", "{}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, "K1");
  g_assert_cmpuint (mock->requests->len, ==, 3);
  /* every attempt carried the whole upload */
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (((Recorded *) g_ptr_array_index (mock->requests, i))->file_name, ==, "S_ping_a.json");
}

static void
test_rate_limited_gives_up (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, NULL);

  backup_fileio_store_set_max_backoff (BACKUP_FILEIO_STORE (store), 1);
  mock->n_429 = 1000;
  mock->retry_after = "0";
  expect_error (store, "list", BACKUP_SIGNALING_ERROR_RATE_LIMITED, NULL);
  g_assert_cmpuint (mock->requests->len, ==, 8);
}

static void
test_cancel_during_backoff (void)
{
  g_autoptr (Mock) mock = mock_new ();
  g_autoptr (BackupSignalingStore) store = new_store (mock->url, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  mock->n_429 = 1;
  mock->retry_after = "60";
  backup_signaling_store_list_async (store, "S_", cancellable, test_store_result_cb, &result);
  while (mock->requests->len == 0 || backup_signaling_store_get_backoff (store) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  g_assert_null (backup_signaling_store_list_finish (store, test_wait_result (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (mock->requests->len, ==, 1);
}

/* ---- the real server ---- */

typedef struct
{
  GSubprocess *process;
  char *url;
} Server;

static Server *
server_start (const char *first_arg, ...)
{
  const char *exe = g_getenv ("DISTRIBUTED_BACKUP_SERVER");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  Server *server;
  va_list args;

  if (exe == NULL || !g_file_test (exe, G_FILE_TEST_IS_EXECUTABLE))
    return NULL;

  g_ptr_array_add (argv, (char *) exe);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, (char *) "127.0.0.1");
  g_ptr_array_add (argv, (char *) "--port");
  g_ptr_array_add (argv, (char *) "0");
  va_start (args, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  server = g_new0 (Server, 1);
  server->process = g_subprocess_newv ((const char *const *) argv->pdata,
                                       G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  server->url = g_strdup (line + strlen ("listening on "));
  return server;
}

static void
server_stop (Server *server)
{
  g_subprocess_force_exit (server->process);
  g_subprocess_wait (server->process, NULL, NULL);
  g_object_unref (server->process);
  g_free (server->url);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_stop)

static void
exercise_operations (BackupSignalingStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *k1 = NULL, *k2 = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GBytes) got = NULL;
  g_autofree char *session = g_uuid_string_random ();
  g_autofree char *n1 = g_strdup_printf ("%s_ping_a.json", session);
  g_autofree char *n2 = g_strdup_printf ("%s_sdp_a.json", session);

  k1 = test_store_upload (store, n1, "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  k2 = test_store_upload (store, n2, "second", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (k1, !=, k2);

  list = test_store_list (store, session, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((BackupSignalingEntry *) g_ptr_array_index (list, 0))->name, ==, n1);
  g_assert_cmpstr (((BackupSignalingEntry *) g_ptr_array_index (list, 1))->name, ==, n2);
  g_assert_cmpstr (((BackupSignalingEntry *) g_ptr_array_index (list, 1))->key, ==, k2);

  got = test_store_download (store, k2, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "second", 6);
  /* downloaded once, gone */
  g_assert_null (test_store_download (store, k2, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (test_store_delete (store, k1, &error));
  g_assert_no_error (error);
  g_assert_false (test_store_delete (store, k1, &error));
  g_assert_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  after = test_store_list (store, session, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 0);
}

static void
test_server_operations (void)
{
  g_autoptr (Server) server = server_start ("--api-key", "right-key", NULL);
  g_autoptr (BackupSignalingStore) store = NULL;
  g_autoptr (BackupSignalingStore) wrong = NULL;
  g_autoptr (BackupSignalingStore) none = NULL;

  if (server == NULL)
    {
      g_test_skip ("DISTRIBUTED_BACKUP_SERVER is not set");
      return;
    }
  store = new_store (server->url, "right-key");
  exercise_operations (store);

  wrong = new_store (server->url, "wrong-key");
  expect_error (wrong, "list", BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");
  expect_error (wrong, "upload", BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");
  none = new_store (server->url, NULL);
  expect_error (none, "list", BACKUP_SIGNALING_ERROR_AUTH, "API key rejected");
}

static void
test_server_redirect (void)
{
  g_autoptr (Server) server = server_start ("--api-key", "right-key", "--redirect-downloads", NULL);
  g_autoptr (BackupSignalingStore) store = NULL;

  if (server == NULL)
    {
      g_test_skip ("DISTRIBUTED_BACKUP_SERVER is not set");
      return;
    }
  store = new_store (server->url, "right-key");
  exercise_operations (store);
}

static void
test_server_rate_limit (void)
{
  /* A window of 10 s (the default minute would only make the test slow). */
  g_autoptr (Server) server = server_start ("--api-key", "right-key", "--rate-limit", "2",
                                            "--rate-window", "10s", NULL);
  g_autoptr (BackupSignalingStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) got = NULL;
  guint max_backoff_seen = 0;

  if (server == NULL)
    {
      g_test_skip ("DISTRIBUTED_BACKUP_SERVER is not set");
      return;
    }
  /* 3 requests at 2 per window: the third is refused with 429 and
   * Retry-After; the client waits as told and completes */
  store = new_store (server->url, "right-key");
  key = test_store_upload (store, "R_ping_a.json", "{\"type\":\"ping\"}", &error);
  g_assert_no_error (error);
  list = test_store_list (store, "R_", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (backup_signaling_store_get_backoff (store), ==, 0);

  backup_signaling_store_download_async (store, key, NULL, test_store_result_cb, &result);
  while (result == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      max_backoff_seen = MAX (max_backoff_seen, backup_signaling_store_get_backoff (store));
    }
  got = backup_signaling_store_download_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "{\"type\":\"ping\"}", 15);
  /* the back-off was visible to pollers while it lasted */
  g_assert_cmpuint (max_backoff_seen, >, 1000);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signaling/fileio-store/new-destroy", test_new_destroy);
  g_test_add_func ("/signaling/fileio-store/requests", test_requests);
  g_test_add_func ("/signaling/fileio-store/errors", test_errors);
  g_test_add_func ("/signaling/fileio-store/retry-after", test_retry_after);
  g_test_add_func ("/signaling/fileio-store/backoff", test_backoff_without_retry_after);
  g_test_add_func ("/signaling/fileio-store/rate-limited", test_rate_limited_gives_up);
  g_test_add_func ("/signaling/fileio-store/cancel-during-backoff", test_cancel_during_backoff);
  g_test_add_func ("/signaling/fileio-store/server-operations", test_server_operations);
  g_test_add_func ("/signaling/fileio-store/server-redirect", test_server_redirect);
  g_test_add_func ("/signaling/fileio-store/server-rate-limit", test_server_rate_limit);

  return g_test_run ();
}
