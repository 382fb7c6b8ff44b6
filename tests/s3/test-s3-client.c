/* test-s3-client.c: BackupS3Client against a real S3 server (the Ceph lab)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * run-s3-suite.sh starts the lab and sets S3_LAB_ENDPOINT, S3_LAB_ACCESS_KEY,
 * S3_LAB_SECRET_KEY, S3_LAB_REGION and S3_LAB_DNS_NAME. Without them the tests
 * that need a server are skipped, unless CI=true, where they fail.
 */
#include "config.h"

#include "backup-s3.h"
#include "s3-lab.h"

#include <string.h>

#define MIB (1024 * 1024)

static char *bucket; /* made once for the whole run */

static GBytes *
random_bytes (gsize size, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i + 4 <= size; i += 4)
    {
      guint32 word = g_rand_int (rand);
      memcpy (data + i, &word, 4);
    }
  for (gsize i = size & ~(gsize) 3; i < size; i++)
    data[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (data, size);
}

static char *
unique_prefix (const char *name)
{
  return g_strdup_printf ("%s-%08x/", name, g_random_int ());
}

/* ---- without a server ---- */

static void
test_new_destroy (void)
{
  g_autoptr (GError) error = NULL;
  BackupS3Client *client;

  client = backup_s3_client_new ("http://127.0.0.1:8000/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (backup_s3_client_get_endpoint (client), ==, "http://127.0.0.1:8000");
  g_assert_cmpstr (backup_s3_client_get_region (client), ==, "us-east-1");
  g_assert_true (backup_s3_client_get_path_style (client));
  g_assert_false (backup_s3_client_get_insecure (client));
  g_assert_false (backup_s3_client_has_credentials (client));
  backup_s3_client_set_credentials (client, "AK", "SK", "TOKEN");
  g_assert_true (backup_s3_client_has_credentials (client));
  g_assert_finalize_object (client);

  for (guint i = 0; i < 4; i++)
    {
      static const char *const bad[] = {
        "ftp://example.test", "s3://bucket/prefix", "http://", "not a url",
      };
      g_autoptr (GError) bad_error = NULL;

      g_assert_null (backup_s3_client_new (bad[i], NULL, &bad_error));
      g_assert_error (bad_error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_parse_location (void)
{
  static const struct
  {
    const char *location;
    const char *bucket; /* NULL: refused */
    const char *prefix;
  } cases[] = {
    { "s3://backups", "backups", "" },
    { "s3://backups/", "backups", "" },
    { "s3://backups/host1", "backups", "host1/" },
    { "S3://backups//host1/daily/", "backups", "host1/daily/" },
    { "s3://", NULL, NULL },
    { "s3://ab/x", NULL, NULL },
    { "s3://bad_bucket!/x", NULL, NULL },
    { "/srv/backups", NULL, NULL },
    { "http://backups/x", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *bucket_name = NULL;
      g_autofree char *prefix = NULL;
      gboolean ok;

      ok = backup_s3_parse_location (cases[i].location, &bucket_name, &prefix, &error);
      if (cases[i].bucket == NULL)
        {
          g_assert_false (ok);
          g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (bucket_name, ==, cases[i].bucket);
      g_assert_cmpstr (prefix, ==, cases[i].prefix);
    }
}

static void
test_no_credentials (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupS3Client) client = backup_s3_client_new ("http://127.0.0.1:9", NULL, NULL);

  g_assert_null (backup_s3_client_head_object (client, "bucket", "key", NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
}

static void
test_credentials_from_environment (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupS3Client) client = backup_s3_client_new ("http://127.0.0.1:9", NULL, NULL);
  g_autofree char *saved_id = g_strdup (g_getenv ("AWS_ACCESS_KEY_ID"));
  g_autofree char *saved_secret = g_strdup (g_getenv ("AWS_SECRET_ACCESS_KEY"));

  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_assert_false (backup_s3_client_set_credentials_from_environment (client, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "secret", TRUE);
  g_assert_true (backup_s3_client_set_credentials_from_environment (client, &error));
  g_assert_no_error (error);
  g_assert_true (backup_s3_client_has_credentials (client));

  if (saved_id != NULL)
    g_setenv ("AWS_ACCESS_KEY_ID", saved_id, TRUE);
  else
    g_unsetenv ("AWS_ACCESS_KEY_ID");
  if (saved_secret != NULL)
    g_setenv ("AWS_SECRET_ACCESS_KEY", saved_secret, TRUE);
  else
    g_unsetenv ("AWS_SECRET_ACCESS_KEY");
}

static void
test_unreachable (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (BackupS3Client) client = NULL;
  g_autofree char *endpoint = NULL;

  /* A port that was free a moment ago. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string ("127.0.0.1", 0));
  g_socket_bind (socket, G_SOCKET_ADDRESS (address), FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  client = backup_s3_client_new (endpoint, NULL, &error);
  g_assert_no_error (error);
  backup_s3_client_set_credentials (client, "AK", "SK", NULL);
  g_assert_null (backup_s3_client_head_object (client, "bucket", "key", NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_CONNECT);
  g_assert_nonnull (strstr (error->message, endpoint));
  g_test_message ("%s", error->message);
}

/* A server that accepts and never answers: only the GCancellable can end the
 * request, through libcurl's progress callback. */
static gpointer
cancel_later (gpointer data)
{
  g_usleep (300 * 1000);
  g_cancellable_cancel (G_CANCELLABLE (data));
  return NULL;
}

static void
test_cancel_silent_server (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GBytes) data = random_bytes (1024, 1);
  g_autofree char *endpoint = NULL;
  GThread *thread;
  gint64 start;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  client = backup_s3_client_new (endpoint, NULL, &error);
  g_assert_no_error (error);
  backup_s3_client_set_credentials (client, "AK", "SK", NULL);

  start = g_get_monotonic_time ();
  thread = g_thread_new ("cancel", cancel_later, cancellable);
  g_assert_false (backup_s3_client_put_object (client, "bucket", "key", data, NULL,
                                               cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The progress callback runs at least once a second. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

  /* Cancelled before it starts. */
  g_clear_error (&error);
  g_assert_null (backup_s3_client_head_object (client, "bucket", "key", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A one-request HTTP server on 127.0.0.1 that keeps what it received. */
typedef struct
{
  GSocketListener *listener;
  GString *request;
} CaptureServer;

static gpointer
capture_one_request (gpointer data)
{
  CaptureServer *server = data;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  GInputStream *in;
  GOutputStream *out;
  static const char answer[] = "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n";
  char buffer[4096];
  gsize expected = G_MAXSIZE;

  connection = g_socket_listener_accept (server->listener, NULL, NULL, &error);
  g_assert_no_error (error);
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  while (server->request->len < expected)
    {
      gssize n = g_input_stream_read (in, buffer, sizeof buffer, NULL, &error);
      const char *end;

      g_assert_no_error (error);
      if (n <= 0)
        break;
      g_string_append_len (server->request, buffer, n);
      end = strstr (server->request->str, "\r\n\r\n");
      if (end != NULL && expected == G_MAXSIZE)
        {
          const char *length = strcasestr (server->request->str, "\r\nContent-Length: ");
          gsize body = length != NULL ? g_ascii_strtoull (length + 18, NULL, 10) : 0;

          expected = (gsize) (end + 4 - server->request->str) + body;
        }
    }
  g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, &error);
  g_assert_no_error (error);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return NULL;
}

static void
test_request_headers (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("hello", 5);
  g_autofree char *endpoint = NULL;
  g_autofree char *etag = NULL;
  CaptureServer server = { listener, g_string_new (NULL) };
  GThread *thread;
  const char *request;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u/base/",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  client = backup_s3_client_new (endpoint, "eu-test-1", &error);
  g_assert_no_error (error);
  backup_s3_client_set_credentials (client, "AKIDTEST", "secret", "SESSION/TOKEN+1");

  thread = g_thread_new ("capture", capture_one_request, &server);
  g_assert_true (backup_s3_client_put_object (client, "bucket", "dir/a b", data, &etag, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_cmpstr (etag, ==, "\"abc\"");

  request = server.request->str;
  g_test_message ("%s", request);
  g_assert_true (g_str_has_prefix (request, "PUT /base/bucket/dir/a%20b HTTP/1.1\r\n"));
  /* The signature covers the token, the payload hash and the date. */
  g_assert_nonnull (strstr (request, "Credential=AKIDTEST/"));
  g_assert_nonnull (strstr (request, "/eu-test-1/s3/aws4_request"));
  g_assert_nonnull (strstr (request, "SignedHeaders="));
  g_assert_nonnull (strstr (request, ";x-amz-security-token"));
  g_assert_nonnull (strstr (request, ";x-amz-content-sha256;"));
  g_assert_nonnull (strstr (request, "\r\nx-amz-security-token: SESSION/TOKEN+1\r\n"));
  /* SHA-256 of "hello", hex and base64. */
  g_assert_nonnull (strstr (request, "\r\nx-amz-content-sha256: "
                            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\r\n"));
  g_assert_nonnull (strstr (request, "\r\nx-amz-checksum-sha256: "
                            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\r\n"));
  g_assert_nonnull (strstr (request, "\r\nContent-Type: application/octet-stream\r\n"));
  g_assert_true (g_str_has_suffix (request, "\r\n\r\nhello"));
  /* The secret never travels. */
  g_assert_null (strstr (request, "secret"));
  g_string_free (server.request, TRUE);
}

/* ---- against the lab ---- */

static void
test_small_round_trip (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = random_bytes (1000, 2);
  g_autoptr (GBytes) back = NULL;
  g_autoptr (BackupS3ObjectInfo) info = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *prefix = unique_prefix ("small");
  g_autofree char *key = g_strconcat (prefix, "file.bin", NULL);

  if (!have_lab ())
    return;
  client = lab_client ();

  g_assert_true (backup_s3_client_put_object (client, bucket, key, data, &etag, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (etag);

  info = backup_s3_client_head_object (client, bucket, key, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->size, ==, 1000);
  g_assert_cmpstr (info->etag, ==, etag);
  g_assert_nonnull (info->last_modified);
  /* radosgw 16 neither checks nor keeps x-amz-checksum-sha256. */
  g_test_message ("checksum kept by the server: %s",
                  info->checksum_sha256 ? info->checksum_sha256 : "(none)");

  back = backup_s3_client_get_object_bytes (client, bucket, key, 4096, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, data));

  /* Too large for the limit given. */
  g_clear_pointer (&back, g_bytes_unref);
  back = backup_s3_client_get_object_bytes (client, bucket, key, 100, NULL, &error);
  g_assert_null (back);
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_true (backup_s3_client_delete_object (client, bucket, key, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&info, backup_s3_object_info_free);
  info = backup_s3_client_head_object (client, bucket, key, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NOT_FOUND);
  g_clear_error (&error);

  back = backup_s3_client_get_object_bytes (client, bucket, key, 4096, NULL, &error);
  g_assert_null (back);
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "(NoSuchKey)"));
}

static void
test_empty_and_odd_keys (void)
{
  static const char *const names[] = {
    "with space+plus&amp=equals",
    "unicode-\xc3\xa9t\xc3\xa9-\xe2\x9c\x93",
    "deep/a/b/c/percent%20literal",
    "quote'\"<angle>",
  };
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autofree char *prefix = unique_prefix ("odd");
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);

  if (!have_lab ())
    return;
  client = lab_client ();

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *key = g_strconcat (prefix, names[i], NULL);
      g_autoptr (GBytes) body = g_bytes_new (names[i], strlen (names[i]));
      g_autoptr (GBytes) back = NULL;

      g_assert_true (backup_s3_client_put_object (client, bucket, key, body, NULL, NULL, &error));
      g_assert_no_error (error);
      back = backup_s3_client_get_object_bytes (client, bucket, key, 1024, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, body));
    }
  {
    g_autofree char *key = g_strconcat (prefix, "empty", NULL);
    g_autoptr (BackupS3ObjectInfo) info = NULL;

    g_assert_true (backup_s3_client_put_object (client, bucket, key, empty, NULL, NULL, &error));
    g_assert_no_error (error);
    info = backup_s3_client_head_object (client, bucket, key, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (info->size, ==, 0);
  }

  listed = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, G_N_ELEMENTS (names) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *key = g_strconcat (prefix, names[i], NULL);
      gboolean found = FALSE;

      for (guint j = 0; j < listed->len; j++)
        found |= g_str_equal (((BackupS3ObjectInfo *) listed->pdata[j])->key, key);
      g_assert_true (found);
    }
  {
    g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
    g_auto (GStrv) keys = NULL;
    g_autoptr (GPtrArray) after = NULL;

    for (guint j = 0; j < listed->len; j++)
      g_strv_builder_add (builder, ((BackupS3ObjectInfo *) listed->pdata[j])->key);
    keys = g_strv_builder_end (builder);
    g_assert_true (backup_s3_client_delete_objects (client, bucket, (const char *const *) keys,
                                                    NULL, &error));
    g_assert_no_error (error);
    after = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (after->len, ==, 0);
  }
}

static void
test_virtual_hosted (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = random_bytes (333, 3);
  g_autoptr (GBytes) back = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autofree char *endpoint = NULL;
  g_autofree char *prefix = unique_prefix ("vhost");
  g_autofree char *key = g_strconcat (prefix, "x", NULL);

  if (!have_lab ())
    return;
  /* radosgw takes BUCKET.$S3_LAB_DNS_NAME as the bucket; libcurl resolves
   * *.localhost to the loopback address without asking DNS. */
  uri = g_uri_parse (g_getenv ("S3_LAB_ENDPOINT"), G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  endpoint = g_strdup_printf ("http://%s:%d", g_getenv ("S3_LAB_DNS_NAME"), g_uri_get_port (uri));
  client = backup_s3_client_new (endpoint, g_getenv ("S3_LAB_REGION"), &error);
  g_assert_no_error (error);
  backup_s3_client_set_credentials (client, g_getenv ("S3_LAB_ACCESS_KEY"),
                                    g_getenv ("S3_LAB_SECRET_KEY"), NULL);
  backup_s3_client_set_path_style (client, FALSE);

  g_assert_true (backup_s3_client_put_object (client, bucket, key, data, NULL, NULL, &error));
  g_assert_no_error (error);
  back = backup_s3_client_get_object_bytes (client, bucket, key, 1024, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, data));
  g_assert_true (backup_s3_client_delete_object (client, bucket, key, NULL, &error));
  g_assert_no_error (error);
}

typedef struct
{
  GChecksum *sha;
  gsize total;
  guint chunks;
  GCancellable *cancel_after_first;
} CountSink;

static gboolean
count_sink (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  CountSink *sink = user_data;

  g_checksum_update (sink->sha, data, (gssize) length);
  sink->total += length;
  sink->chunks++;
  if (sink->cancel_after_first != NULL)
    g_cancellable_cancel (sink->cancel_after_first);
  return TRUE;
}

static void
test_multipart (void)
{
  const gsize part_size = 5 * MIB;
  const gsize total = 3 * part_size + 123457; /* three full parts and a short one */
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = random_bytes (total, 4);
  g_autoptr (GChecksum) sent_sha = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_part_free);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (BackupS3ObjectInfo) info = NULL;
  g_autoptr (GBytes) back = NULL;
  g_autofree char *prefix = unique_prefix ("multi");
  g_autofree char *key = g_strconcat (prefix, "big.zip", NULL);
  g_autofree char *upload_id = NULL;
  g_autofree char *etag = NULL;
  CountSink sink = { 0 };
  guint number = 1;

  if (!have_lab ())
    return;
  client = lab_client ();

  upload_id = backup_s3_client_create_multipart_upload (client, bucket, key, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (upload_id);

  /* As a receiver would: a part each time part_size bytes have arrived. */
  for (gsize offset = 0; offset < total; offset += part_size, number++)
    {
      g_autoptr (GBytes) chunk = g_bytes_new_from_bytes (data, offset, MIN (part_size, total - offset));
      BackupS3Part *part;

      g_checksum_update (sent_sha, g_bytes_get_data (chunk, NULL), (gssize) g_bytes_get_size (chunk));
      part = backup_s3_client_upload_part (client, bucket, key, upload_id, number, chunk, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (part);
      g_assert_cmpuint (part->number, ==, number);
      g_ptr_array_add (parts, part);
    }
  g_assert_cmpuint (parts->len, ==, 4);

  /* Complete only once the whole SHA-256 is known (and would have matched). */
  g_assert_true (backup_s3_client_complete_multipart_upload (client, bucket, key, upload_id, parts,
                                                             &etag, NULL, &error));
  g_assert_no_error (error);
  /* radosgw 16 answers an empty ETag to CompleteMultipartUpload. */
  g_test_message ("multipart ETag %s", etag ? etag : "(none)");

  info = backup_s3_client_head_object (client, bucket, key, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->size, ==, total);
  g_assert_true (g_str_has_suffix (info->etag, "-4\""));

  /* Streamed back into a GOutputStream. */
  g_assert_true (backup_s3_client_get_object_to_stream (client, bucket, key, out, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, NULL);
  back = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_true (g_bytes_equal (back, data));

  /* And through a callback, in pieces. */
  sink.sha = g_checksum_new (G_CHECKSUM_SHA256);
  g_assert_true (backup_s3_client_get_object (client, bucket, key, count_sink, &sink, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sink.total, ==, total);
  g_assert_cmpuint (sink.chunks, >, 1);
  g_assert_cmpstr (g_checksum_get_string (sink.sha), ==, g_checksum_get_string (sent_sha));
  g_checksum_free (sink.sha);

  /* Cancelled while it streams. */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    CountSink cancel_sink = { g_checksum_new (G_CHECKSUM_SHA256), 0, 0, cancellable };

    g_assert_false (backup_s3_client_get_object (client, bucket, key, count_sink, &cancel_sink,
                                                 cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (cancel_sink.total, <, total);
    g_checksum_free (cancel_sink.sha);
    g_clear_error (&error);
  }

  g_assert_true (backup_s3_client_delete_object (client, bucket, key, NULL, &error));
  g_assert_no_error (error);
}

static gboolean
upload_listed (GPtrArray *uploads, const char *key, const char *upload_id)
{
  for (guint i = 0; i < uploads->len; i++)
    {
      BackupS3UploadInfo *info = g_ptr_array_index (uploads, i);

      if (g_str_equal (info->key, key) && g_str_equal (info->upload_id, upload_id))
        return TRUE;
    }
  return FALSE;
}

static void
test_abort (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) uploads = NULL;
  g_autoptr (GBytes) data = random_bytes (BACKUP_S3_MIN_PART_SIZE, 5);
  g_autoptr (BackupS3Part) part = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  g_autofree char *prefix = unique_prefix ("abort");
  g_autofree char *key = g_strconcat (prefix, "interrupted.zip", NULL);
  g_autofree char *other_key = g_strconcat (prefix, "other.zip", NULL);
  g_autofree char *upload_id = NULL;
  g_autofree char *other_id = NULL;

  if (!have_lab ())
    return;
  client = lab_client ();

  upload_id = backup_s3_client_create_multipart_upload (client, bucket, key, NULL, &error);
  g_assert_no_error (error);
  other_id = backup_s3_client_create_multipart_upload (client, bucket, other_key, NULL, &error);
  g_assert_no_error (error);
  part = backup_s3_client_upload_part (client, bucket, key, upload_id, 1, data, NULL, &error);
  g_assert_no_error (error);

  uploads = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uploads->len, ==, 2);
  g_assert_true (upload_listed (uploads, key, upload_id));
  g_assert_true (upload_listed (uploads, other_key, other_id));
  g_assert_nonnull (((BackupS3UploadInfo *) uploads->pdata[0])->initiated);
  g_clear_pointer (&uploads, g_ptr_array_unref);

  /* A part list with a wrong ETag is refused, and the upload stays. */
  {
    g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_part_free);

    g_ptr_array_add (parts, backup_s3_part_new (1, "\"00000000000000000000000000000000\"", NULL));
    g_assert_false (backup_s3_client_complete_multipart_upload (client, bucket, key, upload_id,
                                                                parts, NULL, NULL, &error));
    g_assert_nonnull (error);
    g_test_message ("%s", error->message);
    g_clear_error (&error);
  }

  g_assert_true (backup_s3_client_abort_multipart_upload (client, bucket, key, upload_id, NULL, &error));
  g_assert_no_error (error);
  uploads = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (upload_listed (uploads, key, upload_id));
  g_assert_true (upload_listed (uploads, other_key, other_id));
  g_clear_pointer (&uploads, g_ptr_array_unref);

  /* Sweeping orphans: abort whatever is listed. */
  uploads = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < uploads->len; i++)
    {
      BackupS3UploadInfo *info = g_ptr_array_index (uploads, i);

      g_assert_true (backup_s3_client_abort_multipart_upload (client, bucket, info->key,
                                                              info->upload_id, NULL, &error));
      g_assert_no_error (error);
    }
  g_clear_pointer (&uploads, g_ptr_array_unref);
  uploads = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uploads->len, ==, 0);

  /* An aborted upload leaves no object, and is gone for good. */
  objects = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 0);
  g_assert_null (backup_s3_client_upload_part (client, bucket, key, upload_id, 2, data, NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_UPLOAD);
  g_test_message ("%s", error->message);
}

static void
test_list_continuation (void)
{
  const guint n = 23;
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) keys = NULL;
  g_autofree char *prefix = unique_prefix ("list");
  g_autofree char *token = NULL;
  guint pages = 0;

  if (!have_lab ())
    return;
  client = lab_client ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("%sobj-%03u", prefix, i);
      g_autoptr (GBytes) body = g_bytes_new (key, strlen (key));

      g_assert_true (backup_s3_client_put_object (client, bucket, key, body, NULL, NULL, &error));
      g_assert_no_error (error);
      g_strv_builder_add (builder, key);
    }
  /* Something outside the prefix that must not be listed. */
  {
    g_autofree char *outside = g_strdup_printf ("%.*sX", (int) strlen (prefix) - 1, prefix);
    g_autoptr (GBytes) body = g_bytes_new_static ("x", 1);

    g_assert_true (backup_s3_client_put_object (client, bucket, outside, body, NULL, NULL, &error));
    g_assert_no_error (error);
    g_strv_builder_add (builder, outside);
  }

  do
    {
      g_autoptr (GPtrArray) page = NULL;
      g_autofree char *next = NULL;

      page = backup_s3_client_list_objects (client, bucket, prefix, token, 10, &next, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (page->len, <=, 10);
      for (guint i = 0; i < page->len; i++)
        {
          BackupS3ObjectInfo *info = g_ptr_array_index (page, i);

          g_assert_true (g_str_has_prefix (info->key, prefix));
          g_assert_cmpuint (info->size, ==, strlen (info->key));
          g_assert_nonnull (info->last_modified);
          g_ptr_array_add (seen, g_strdup (info->key));
        }
      g_free (token);
      token = g_steal_pointer (&next);
      pages++;
    }
  while (token != NULL);
  g_assert_cmpuint (pages, ==, 3);
  g_assert_cmpuint (seen->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("%sobj-%03u", prefix, i);
      g_assert_cmpstr (g_ptr_array_index (seen, i), ==, key);
    }

  all = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, n);
  g_clear_pointer (&all, g_ptr_array_unref);

  keys = g_strv_builder_end (builder);
  g_assert_true (backup_s3_client_delete_objects (client, bucket, (const char *const *) keys,
                                                  NULL, &error));
  g_assert_no_error (error);
  all = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 0);
}

static void
test_wrong_credentials (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("x", 1);
  const char *endpoint = g_getenv ("S3_LAB_ENDPOINT");
  g_autofree char *expected = NULL;

  if (!have_lab ())
    return;

  client = lab_client ();
  backup_s3_client_set_credentials (client, g_getenv ("S3_LAB_ACCESS_KEY"), "wrong-secret-key", NULL);
  g_assert_false (backup_s3_client_put_object (client, bucket, "denied", data, NULL, NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_BAD_CREDENTIALS);
  g_test_message ("%s", error->message);
  expected = g_strdup_printf ("S3: wrong secret key for access key “%s” at %s (SignatureDoesNotMatch)",
                              g_getenv ("S3_LAB_ACCESS_KEY"), endpoint);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_null (strstr (error->message, "wrong-secret-key"));
  g_clear_error (&error);

  /* HEAD has no error document: still a clear message. */
  g_assert_null (backup_s3_client_head_object (client, bucket, "denied", NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  backup_s3_client_set_credentials (client, "NOSUCHACCESSKEY00000", "whatever", NULL);
  g_assert_false (backup_s3_client_put_object (client, bucket, "denied", data, NULL, NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_BAD_CREDENTIALS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "(InvalidAccessKeyId)"));
  g_clear_error (&error);

  /* Right keys, a bucket that does not exist. */
  g_clear_object (&client);
  client = lab_client ();
  g_assert_false (backup_s3_client_put_object (client, "no-such-bucket-here", "k", data, NULL,
                                               NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_BUCKET);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* A bucket name the client refuses before sending anything. */
  g_assert_false (backup_s3_client_put_object (client, "a/b", "k", data, NULL, NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT);
}

static void
test_access_denied (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = g_bytes_new_static ("x", 1);
  g_autofree char *expected = NULL;
  const char *other = g_getenv ("S3_LAB_OTHER_BUCKET");

  if (!have_lab ())
    return;
  if (other == NULL)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("S3_LAB_OTHER_BUCKET is not set: the lab is incomplete");
      g_test_skip ("the lab made no bucket of another user");
      return;
    }
  client = lab_client ();
  g_assert_false (backup_s3_client_put_object (client, other, "k", data, NULL, NULL, &error));
  g_assert_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_ACCESS_DENIED);
  expected = g_strdup_printf ("S3: access denied for bucket “%s” at %s (AccessDenied)", other,
                              g_getenv ("S3_LAB_ENDPOINT"));
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_cancel_upload (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GBytes) data = random_bytes (BACKUP_S3_MIN_PART_SIZE, 6);
  g_autoptr (GPtrArray) objects = NULL;
  g_autofree char *prefix = unique_prefix ("cancel");
  g_autofree char *key = g_strconcat (prefix, "never", NULL);

  if (!have_lab ())
    return;
  client = lab_client ();
  g_cancellable_cancel (cancellable);
  g_assert_false (backup_s3_client_put_object (client, bucket, key, data, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  objects = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 0);
}

/* An input stream of @size pattern bytes that fails (or cancels) at @fail_at. */
#define TEST_TYPE_BROKEN_STREAM (test_broken_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestBrokenStream, test_broken_stream, TEST, BROKEN_STREAM, GInputStream)

struct _TestBrokenStream
{
  GInputStream parent_instance;
  gsize position;
  gsize fail_at;
  GCancellable *cancel; /* cancelled at fail_at instead of failing */
};

G_DEFINE_FINAL_TYPE (TestBrokenStream, test_broken_stream, G_TYPE_INPUT_STREAM)

static gssize
test_broken_stream_read (GInputStream *stream, void *buffer, gsize count,
                         GCancellable *cancellable, GError **error)
{
  TestBrokenStream *self = TEST_BROKEN_STREAM (stream);

  if (self->position >= self->fail_at)
    {
      if (self->cancel != NULL)
        {
          g_cancellable_cancel (self->cancel);
          g_cancellable_set_error_if_cancelled (self->cancel, error);
        }
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the sender went away");
      return -1;
    }
  count = MIN (count, self->fail_at - self->position);
  memset (buffer, 'x', count);
  self->position += count;
  return (gssize) count;
}

static void
test_broken_stream_class_init (TestBrokenStreamClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_broken_stream_read;
}

static void
test_broken_stream_init (TestBrokenStream *self)
{
}

typedef struct
{
  const char *expected;
  guint64 expected_size;
  guint calls;
} Verify;

static gboolean
verify_sha256 (const char *sha256_hex, guint64 size, gpointer user_data, GError **error)
{
  Verify *verify = user_data;

  verify->calls++;
  g_assert_cmpuint (size, ==, verify->expected_size);
  if (g_strcmp0 (sha256_hex, verify->expected) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "SHA-256 mismatch");
      return FALSE;
    }
  return TRUE;
}

static void
assert_nothing_under (BackupS3Client *client, const char *prefix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  g_autoptr (GPtrArray) uploads = NULL;

  objects = backup_s3_client_list_all_objects (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 0);
  uploads = backup_s3_client_list_multipart_uploads (client, bucket, prefix, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uploads->len, ==, 0);
}

static void
test_upload_stream (void)
{
  static const gsize sizes[] = { 1000, 0, 2 * BACKUP_S3_MIN_PART_SIZE,
                                 3 * BACKUP_S3_MIN_PART_SIZE + 100 };
  g_autoptr (BackupS3Client) client = NULL;
  g_autofree char *prefix = unique_prefix ("stream");

  if (!have_lab ())
    return;
  client = lab_client ();

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) data = random_bytes (sizes[i], 10 + i);
      g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (data);
      g_autoptr (GBytes) back = NULL;
      g_autoptr (BackupS3ObjectInfo) info = NULL;
      g_autofree char *key = g_strdup_printf ("%sobject-%u", prefix, i);
      g_autofree char *expected = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
      g_autofree char *sha = NULL;
      Verify verify = { expected, sizes[i], 0 };

      g_assert_true (backup_s3_client_upload_stream (client, bucket, key, in, BACKUP_S3_MIN_PART_SIZE,
                                                     verify_sha256, &verify, &sha, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (verify.calls, ==, 1);
      g_assert_cmpstr (sha, ==, expected);
      info = backup_s3_client_head_object (client, bucket, key, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (info->size, ==, sizes[i]);
      g_test_message ("%" G_GSIZE_FORMAT " bytes: ETag %s", sizes[i], info->etag);
      back = backup_s3_client_get_object_bytes (client, bucket, key, sizes[i] + 1, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, data));
      g_assert_true (backup_s3_client_delete_object (client, bucket, key, NULL, &error));
      g_assert_no_error (error);
    }
  assert_nothing_under (client, prefix);
}

static void
test_upload_stream_failures (void)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autofree char *prefix = unique_prefix ("stream-fail");
  g_autofree char *key = g_strconcat (prefix, "never.zip", NULL);

  if (!have_lab ())
    return;
  client = lab_client ();

  /* The end-to-end hash does not match: multipart and single PUT. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GError) error = NULL;
      gsize size = i == 0 ? BACKUP_S3_MIN_PART_SIZE + 10 : 10;
      g_autoptr (GBytes) data = random_bytes (size, 20);
      g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (data);
      Verify verify = { "0000", size, 0 };

      g_assert_false (backup_s3_client_upload_stream (client, bucket, key, in, 0, verify_sha256,
                                                      &verify, NULL, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpuint (verify.calls, ==, 1);
      assert_nothing_under (client, prefix);
    }

  /* The sender goes away after two parts. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (TestBrokenStream) in = g_object_new (TEST_TYPE_BROKEN_STREAM, NULL);

    in->fail_at = 2 * BACKUP_S3_MIN_PART_SIZE + 5;
    g_assert_false (backup_s3_client_upload_stream (client, bucket, key, G_INPUT_STREAM (in),
                                                    BACKUP_S3_MIN_PART_SIZE, NULL, NULL, NULL,
                                                    NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
    assert_nothing_under (client, prefix);
  }

  /* Cancelled after one part. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (TestBrokenStream) in = g_object_new (TEST_TYPE_BROKEN_STREAM, NULL);

    in->fail_at = BACKUP_S3_MIN_PART_SIZE + 5;
    in->cancel = cancellable;
    g_assert_false (backup_s3_client_upload_stream (client, bucket, key, G_INPUT_STREAM (in),
                                                    BACKUP_S3_MIN_PART_SIZE, NULL, NULL, NULL,
                                                    cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    assert_nothing_under (client, prefix);
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (BackupS3Client) client = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/s3/client/new-destroy", test_new_destroy);
  g_test_add_func ("/s3/client/parse-location", test_parse_location);
  g_test_add_func ("/s3/client/no-credentials", test_no_credentials);
  g_test_add_func ("/s3/client/credentials-from-environment", test_credentials_from_environment);
  g_test_add_func ("/s3/client/unreachable", test_unreachable);
  g_test_add_func ("/s3/client/cancel-silent-server", test_cancel_silent_server);
  g_test_add_func ("/s3/client/request-headers", test_request_headers);
  g_test_add_func ("/s3/lab/small-round-trip", test_small_round_trip);
  g_test_add_func ("/s3/lab/empty-and-odd-keys", test_empty_and_odd_keys);
  g_test_add_func ("/s3/lab/virtual-hosted", test_virtual_hosted);
  g_test_add_func ("/s3/lab/multipart", test_multipart);
  g_test_add_func ("/s3/lab/abort", test_abort);
  g_test_add_func ("/s3/lab/list-continuation", test_list_continuation);
  g_test_add_func ("/s3/lab/wrong-credentials", test_wrong_credentials);
  g_test_add_func ("/s3/lab/access-denied", test_access_denied);
  g_test_add_func ("/s3/lab/cancel-upload", test_cancel_upload);
  g_test_add_func ("/s3/lab/upload-stream", test_upload_stream);
  g_test_add_func ("/s3/lab/upload-stream-failures", test_upload_stream_failures);

  if (g_getenv ("S3_LAB_ENDPOINT") != NULL)
    {
      g_autoptr (GError) error = NULL;

      client = lab_client ();
      bucket = g_strdup_printf ("test-s3-%08x", g_random_int ());
      if (!backup_s3_client_create_bucket (client, bucket, NULL, &error))
        g_error ("cannot create the test bucket: %s", error->message);
    }

  status = g_test_run ();

  if (client != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) left = backup_s3_client_list_all_objects (client, bucket, NULL, NULL, &error);

      if (left != NULL && left->len == 0)
        backup_s3_client_delete_bucket (client, bucket, NULL, NULL);
    }
  g_free (bucket);
  return status;
}
