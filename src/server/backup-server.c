/* backup-server.c: a small FILE.io-compatible store for signaling files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Request flow: SoupServer parses the request line and headers, then calls
 * early_handler() before the body is read; it routes, authenticates, applies
 * the rate limit and refuses announced bodies that are too large. Whenever a
 * request is refused before its body arrived, the body is read and dropped
 * instead of being kept (refuse_body()), and on_got_chunk() bounds bodies of
 * unknown length while they stream. request_handler() then answers the
 * requests that got through, with the complete body in memory.
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "backup-server.h"

G_DEFINE_QUARK (backup-server-error-quark, backup_server_error)

#define FILE_KEY_LEN   12   /* characters of the keys we hand out */
#define MAX_KEY_LEN    64   /* longest key accepted in a path */
#define MAX_NAME_LEN   255  /* bytes of a stored file name */
#define MAX_PATH_LEN   2048 /* bytes of a request path */
#define MAX_QUERY_LEN  4096 /* bytes of a request query */
#define MAX_FIELD_LEN  64   /* bytes of a form field other than the file */
#define MAX_PARTS      16   /* parts of one multipart upload */
#define MAX_PAGE_LIMIT 1000
#define MAX_API_KEY_LEN 256
#define MAX_EXPIRY_TIMER_MS 60000 /* re-check at least this often (wall-clock jumps) */
#define MAX_DURATION (100 * G_GUINT64_CONSTANT (365 * 24 * 60 * 60)) /* seconds */
#define MAX_DRAINED_BYTES (16 * 1024 * 1024) /* of a refused body, past the upload limit */

#define REQUEST_STATE_KEY "backup-server-request"

typedef struct _Namespace Namespace;

typedef struct
{
  Namespace *ns;
  char *key;
  char *id;
  char *name;
  char *mime_type;
  GBytes *data;
  gint64 created; /* wall clock, µs */
  gint64 modified;
  gint64 expires;
  guint64 serial;
  guint downloads;
  guint max_downloads;
  gboolean auto_delete;
  GSequenceIter *expiry_iter;
} StoredFile;

struct _Namespace
{
  GHashTable *files; /* key → StoredFile (owned) */
  gint64 *rate_times; /* ring buffer of monotonic times (µs) of recent requests */
  guint rate_head;
  guint rate_count;
};

typedef struct
{
  guint64 received;
  guint64 limit;
  Namespace *ns;
  GSocket *socket;  /* of the connection, to drop it */
  GSource *timeout; /* until the request has been read */
} RequestState;

typedef enum
{
  ROUTE_ROOT,
  ROUTE_FILE,
  ROUTE_DOWNLOAD,
} RouteKind;

struct _BackupServer
{
  GObject parent_instance;

  char *listen_address;
  guint port;
  char *tls_cert_file;
  char *tls_key_file;
  guint64 max_upload_size;
  guint max_files_per_key;
  guint rate_limit;
  guint rate_window_ms;
  gint64 max_expiry;
  gboolean redirect_downloads;
  guint request_timeout_ms;
  gboolean open;

  GMainContext *context;
  SoupServer *soup;
  char *uri;
  guint bound_port;

  GHashTable *namespaces; /* SHA-256 (hex) of an API key, "" when open → Namespace */
  Namespace *open_ns;
  GSequence *by_expiry;   /* StoredFile (not owned), by expiry then serial */
  GSource *expiry_source;
  gint64 expiry_deadline;
  guint64 next_serial;
  guint file_count;
};

G_DEFINE_FINAL_TYPE (BackupServer, backup_server, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_URI,
  PROP_FILE_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Options and parsing helpers */

void
backup_server_options_init (BackupServerOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->listen_address = "127.0.0.1";
  options->port = BACKUP_SERVER_DEFAULT_PORT;
  options->max_upload_size = BACKUP_SERVER_DEFAULT_MAX_UPLOAD_SIZE;
  options->max_files_per_key = BACKUP_SERVER_DEFAULT_MAX_FILES_PER_KEY;
  options->rate_window_ms = BACKUP_SERVER_DEFAULT_RATE_WINDOW_MS;
  options->max_expiry = BACKUP_SERVER_DEFAULT_MAX_EXPIRY;
  options->request_timeout_ms = BACKUP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS;
}

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
  if (len == 0 || len > MAX_API_KEY_LEN)
    return FALSE;

  for (const char *p = key; *p != '\0'; p++)
    if (*p <= 0x20 || *p >= 0x7f)
      return FALSE;

  return TRUE;
}

/* An absolute expiry (wall clock, µs) from FILE.io's "expires" field: a
 * duration counted from @now, or an ISO 8601 date or date and time. */
static gboolean
parse_expiry (const char *text,
              gint64 now,
              gint64 *expires)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) when = NULL;
  gint64 seconds;

  if (backup_server_parse_duration (text, &seconds, NULL))
    {
      *expires = now + seconds * G_USEC_PER_SEC;
      return TRUE;
    }

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

static gboolean
file_key_is_valid (const char *key)
{
  gsize len = strlen (key);

  if (len == 0 || len > MAX_KEY_LEN)
    return FALSE;

  for (const char *p = key; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;

  return TRUE;
}

static gboolean
file_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME_LEN || !g_utf8_validate (name, len, NULL))
    return FALSE;
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
      return FALSE;

  return TRUE;
}

static void
random_file_key (char out[FILE_KEY_LEN + 1])
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  guint8 buf[32];
  guint n = 0;

  while (n < FILE_KEY_LEN)
    {
      if (getrandom (buf, sizeof buf, 0) != (gssize) sizeof buf)
        for (gsize i = 0; i < sizeof buf; i++)
          buf[i] = (guint8) g_random_int_range (0, 256);

      /* 248 = 4 × 62: keep the choice uniform. */
      for (gsize i = 0; i < sizeof buf && n < FILE_KEY_LEN; i++)
        if (buf[i] < 248)
          out[n++] = alphabet[buf[i] % 62];
    }
  out[n] = '\0';
}

static char *
format_time (gint64 real_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (real_us / G_USEC_PER_SEC);
  g_autofree char *seconds = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");

  seconds = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", seconds, (int) ((real_us % G_USEC_PER_SEC) / 1000));
}

/* Store */

static void
stored_file_free (StoredFile *file)
{
  g_free (file->key);
  g_free (file->id);
  g_free (file->name);
  g_free (file->mime_type);
  g_bytes_unref (file->data);
  g_free (file);
}

static Namespace *
namespace_new (guint rate_limit)
{
  Namespace *ns = g_new0 (Namespace, 1);

  ns->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify) stored_file_free);
  if (rate_limit > 0)
    ns->rate_times = g_new0 (gint64, rate_limit);
  return ns;
}

static void
namespace_free (Namespace *ns)
{
  g_hash_table_unref (ns->files);
  g_free (ns->rate_times);
  g_free (ns);
}

static int
compare_expiry (gconstpointer a,
                gconstpointer b,
                gpointer user_data)
{
  const StoredFile *fa = a;
  const StoredFile *fb = b;

  if (fa->expires != fb->expires)
    return fa->expires < fb->expires ? -1 : 1;
  if (fa->serial != fb->serial)
    return fa->serial < fb->serial ? -1 : 1;
  return 0;
}

static void schedule_expiry (BackupServer *self);

static void
remove_file (BackupServer *self,
             StoredFile *file)
{
  g_debug ("removing file %s", file->key);
  g_sequence_remove (file->expiry_iter);
  g_assert (self->file_count > 0);
  self->file_count--;
  g_hash_table_remove (file->ns->files, file->key);
  schedule_expiry (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_COUNT]);
}

static void
remove_expired (BackupServer *self)
{
  gint64 now = g_get_real_time ();

  for (;;)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (self->by_expiry);
      StoredFile *file;

      if (g_sequence_iter_is_end (first))
        break;
      file = g_sequence_get (first);
      if (file->expires > now)
        break;
      g_debug ("file %s expired", file->key);
      remove_file (self, file);
    }
}

static gboolean
on_expiry_timeout (gpointer user_data)
{
  BackupServer *self = user_data;

  g_clear_pointer (&self->expiry_source, g_source_unref);
  remove_expired (self);
  schedule_expiry (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_expiry (BackupServer *self)
{
  GSequenceIter *first = g_sequence_get_begin_iter (self->by_expiry);
  StoredFile *file;
  gint64 delay_ms;

  if (g_sequence_iter_is_end (first))
    {
      if (self->expiry_source != NULL)
        {
          g_source_destroy (self->expiry_source);
          g_clear_pointer (&self->expiry_source, g_source_unref);
        }
      return;
    }

  file = g_sequence_get (first);
  if (self->expiry_source != NULL && self->expiry_deadline == file->expires)
    return;

  if (self->expiry_source != NULL)
    {
      g_source_destroy (self->expiry_source);
      g_clear_pointer (&self->expiry_source, g_source_unref);
    }

  delay_ms = (file->expires - g_get_real_time () + 999) / 1000;
  delay_ms = CLAMP (delay_ms, 0, MAX_EXPIRY_TIMER_MS);
  self->expiry_deadline = file->expires;
  self->expiry_source = g_timeout_source_new ((guint) delay_ms);
  g_source_set_callback (self->expiry_source, on_expiry_timeout, self, NULL);
  g_source_set_static_name (self->expiry_source, "[backup-server] expiry");
  g_source_attach (self->expiry_source, self->context);
}

/* Responses */

static void
set_json_response (SoupServerMessage *msg,
                   guint status,
                   JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  /* libsoup 3.2 has no reason phrase for 429. */
  soup_server_message_set_status (msg, status, status == 429 ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

static void
set_error (SoupServerMessage *msg,
           guint status,
           const char *code,
           const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);

  set_json_response (msg, status, builder);
}

static gboolean
request_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    case SOUP_ENCODING_UNRECOGNIZED:
    case SOUP_ENCODING_EOF:
    case SOUP_ENCODING_CHUNKED:
    case SOUP_ENCODING_BYTERANGES:
    default:
      return TRUE;
    }
}

/* The request is answered without its body: whatever still arrives is read
 * and dropped, and the connection is closed after the answer so that the
 * client cannot mistake the rest of its body for a new request. */
static void
refuse_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  if (request_has_body (msg))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
}

static void
add_node_members (JsonBuilder *builder,
                  StoredFile *file,
                  const char *base)
{
  g_autofree char *link = g_strconcat (base, file->key, NULL);
  g_autofree char *expires = format_time (file->expires);
  g_autofree char *created = format_time (file->created);
  g_autofree char *modified = format_time (file->modified);

  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, file->id);
  json_builder_set_member_name (builder, "key");
  json_builder_add_string_value (builder, file->key);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, "/");
  json_builder_set_member_name (builder, "nodeType");
  json_builder_add_string_value (builder, "file");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, file->name);
  json_builder_set_member_name (builder, "title");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "description");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) g_bytes_get_size (file->data));
  json_builder_set_member_name (builder, "link");
  json_builder_add_string_value (builder, link);
  json_builder_set_member_name (builder, "private");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "downloads");
  json_builder_add_int_value (builder, file->downloads);
  json_builder_set_member_name (builder, "maxDownloads");
  json_builder_add_int_value (builder, file->max_downloads);
  json_builder_set_member_name (builder, "autoDelete");
  json_builder_add_boolean_value (builder, file->auto_delete);
  json_builder_set_member_name (builder, "planId");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "screeningStatus");
  json_builder_add_string_value (builder, "pending");
  json_builder_set_member_name (builder, "mimeType");
  json_builder_add_string_value (builder, file->mime_type);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "modified");
  json_builder_add_string_value (builder, modified);
}

/* "scheme://host:port/" as the client reached us, for the "link" member. */
static char *
request_base (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  g_autofree char *base = g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL,
                                      g_uri_get_host (uri), g_uri_get_port (uri), "/",
                                      NULL, NULL);
  return g_steal_pointer (&base);
}

/* Routing and authentication */

static gboolean
parse_route (const char *path,
             RouteKind *kind,
             const char **key)
{
  if (strcmp (path, "/") == 0)
    {
      *kind = ROUTE_ROOT;
      *key = NULL;
      return TRUE;
    }

  if (g_str_has_prefix (path, "/download/") && file_key_is_valid (path + strlen ("/download/")))
    {
      *kind = ROUTE_DOWNLOAD;
      *key = path + strlen ("/download/");
      return TRUE;
    }

  if (path[0] == '/' && file_key_is_valid (path + 1))
    {
      *kind = ROUTE_FILE;
      *key = path + 1;
      return TRUE;
    }

  return FALSE;
}

static const char *
route_allowed_methods (RouteKind kind)
{
  switch (kind)
    {
    case ROUTE_ROOT:
      return "GET, POST";
    case ROUTE_FILE:
      return "GET, DELETE";
    case ROUTE_DOWNLOAD:
    default:
      return "GET";
    }
}

static gboolean
route_allows (RouteKind kind,
              const char *method)
{
  if (method == SOUP_METHOD_GET)
    return TRUE;
  if (kind == ROUTE_ROOT)
    return method == SOUP_METHOD_POST;
  if (kind == ROUTE_FILE)
    return method == SOUP_METHOD_DELETE;
  return FALSE;
}

static Namespace *
authenticate (BackupServer *self,
              SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *value;
  g_autofree char *token = NULL;
  g_autofree char *digest = NULL;

  if (self->open)
    return self->open_ns;

  value = soup_message_headers_get_one (headers, "Authorization");
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

  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
  return g_hash_table_lookup (self->namespaces, digest);
}

/* Sliding-window rate limit: TRUE when the request may proceed. */
static gboolean
rate_limit_allows (BackupServer *self,
                   Namespace *ns,
                   guint *retry_after)
{
  gint64 now = g_get_monotonic_time ();
  gint64 window = (gint64) self->rate_window_ms * 1000;

  if (self->rate_limit == 0)
    return TRUE;

  while (ns->rate_count > 0 && ns->rate_times[ns->rate_head] <= now - window)
    {
      ns->rate_head = (ns->rate_head + 1) % self->rate_limit;
      ns->rate_count--;
    }

  if (ns->rate_count >= self->rate_limit)
    {
      gint64 wait = ns->rate_times[ns->rate_head] + window - now;

      *retry_after = (guint) MAX (1, (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
      return FALSE;
    }

  ns->rate_times[(ns->rate_head + ns->rate_count) % self->rate_limit] = now;
  ns->rate_count++;
  return TRUE;
}

static void
request_state_stop_timeout (RequestState *state)
{
  if (state->timeout != NULL)
    {
      g_source_destroy (state->timeout);
      g_clear_pointer (&state->timeout, g_source_unref);
    }
}

static void
request_state_free (RequestState *state)
{
  request_state_stop_timeout (state);
  g_clear_object (&state->socket);
  g_free (state);
}

/* Drops the connection; libsoup's next read on it fails and it lets go of the
 * connection and its request. */
static void
request_state_drop_connection (RequestState *state)
{
  if (state->socket != NULL && !g_socket_is_closed (state->socket))
    g_socket_close (state->socket, NULL);
}

static void
early_handler (SoupServer *soup,
               SoupServerMessage *msg,
               const char *path,
               GHashTable *query,
               gpointer user_data)
{
  BackupServer *self = user_data;
  RequestState *state = g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *raw_query = g_uri_get_query (uri);
  const char *key;
  RouteKind kind;
  Namespace *ns;
  guint retry_after = 0;

  if (strlen (path) > MAX_PATH_LEN || (raw_query != NULL && strlen (raw_query) > MAX_QUERY_LEN))
    {
      set_error (msg, SOUP_STATUS_REQUEST_URI_TOO_LONG, "URI_TOO_LONG",
                 "The request URI is too long");
      goto refused;
    }

  if (!parse_route (path, &kind, &key))
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "Not found");
      goto refused;
    }

  if (!route_allows (kind, method))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    route_allowed_methods (kind));
      set_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                 "Method not allowed");
      goto refused;
    }

  ns = authenticate (self, msg);
  if (ns == NULL)
    {
      set_error (msg, SOUP_STATUS_UNAUTHORIZED, "UNAUTHORIZED",
                 "A valid API key is required (Authorization: Bearer KEY)");
      goto refused;
    }

  if (!rate_limit_allows (self, ns, &retry_after))
    {
      g_autofree char *seconds = g_strdup_printf ("%u", retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", seconds);
      set_error (msg, 429, "TOO_MANY_REQUESTS", "Too many requests, retry later");
      goto refused;
    }

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (headers) > self->max_upload_size)
    {
      set_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE",
                 "The request body is too large");
      goto refused;
    }

  if (state != NULL)
    state->ns = ns;
  return;

refused:
  refuse_body (msg);
}

/* Connected after SoupServer's own handler: whatever refused the request
 * (SoupServer itself or early_handler()), its body is not kept. */
static void
on_got_headers (SoupServerMessage *msg,
                gpointer user_data)
{
  if (soup_server_message_get_status (msg) != 0)
    refuse_body (msg);
}

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes *chunk,
              gpointer user_data)
{
  RequestState *state = user_data;

  state->received += g_bytes_get_size (chunk);
  if (state->received > state->limit && soup_server_message_get_status (msg) == 0)
    {
      set_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE",
                 "The request body is too large");
      refuse_body (msg);
    }

  /* A refused body is read so that the client gets its answer, but not
   * forever: past the allowance, the connection is dropped. */
  if (soup_server_message_get_status (msg) != 0 &&
      state->received > state->limit + MAX_DRAINED_BYTES &&
      state->socket != NULL && !g_socket_is_closed (state->socket))
    {
      g_debug ("dropping a connection that keeps sending a refused body");
      request_state_drop_connection (state);
    }
}

static gboolean
on_request_timeout (gpointer user_data)
{
  RequestState *state = user_data;

  g_debug ("dropping a connection whose request did not arrive in time");
  request_state_drop_connection (state);
  g_clear_pointer (&state->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_got_body (SoupServerMessage *msg,
             gpointer user_data)
{
  request_state_stop_timeout (user_data);
}

static void
on_request_started (SoupServer *soup,
                    SoupServerMessage *msg,
                    gpointer user_data)
{
  BackupServer *self = user_data;
  RequestState *state = g_new0 (RequestState, 1);
  GSocket *socket = soup_server_message_get_socket (msg);

  state->limit = self->max_upload_size;
  state->socket = socket != NULL ? g_object_ref (socket) : NULL;
  /* Whoever starts a request has this long to send all of it. */
  state->timeout = g_timeout_source_new (self->request_timeout_ms);
  g_source_set_callback (state->timeout, on_request_timeout, state, NULL);
  g_source_set_static_name (state->timeout, "[backup-server] request timeout");
  g_source_attach (state->timeout, self->context);

  g_object_set_data_full (G_OBJECT (msg), REQUEST_STATE_KEY, state,
                          (GDestroyNotify) request_state_free);
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), state);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), state);
  g_signal_connect (msg, "got-body", G_CALLBACK (on_got_body), state);
}

static void
on_request_finished (SoupServer *soup,
                     SoupServerMessage *msg,
                     gpointer user_data)
{
  GUri *uri = soup_server_message_get_uri (msg);
  RequestState *state = g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);

  /* The connection may carry the next request: this timeout is over. */
  if (state != NULL)
    request_state_stop_timeout (state);

  g_debug ("%s %s %u", soup_server_message_get_method (msg),
           uri != NULL ? g_uri_get_path (uri) : "?", soup_server_message_get_status (msg));
}

/* Handlers */

static char *
form_field_value (GBytes *body)
{
  gsize size;
  const char *data = g_bytes_get_data (body, &size);

  if (size > MAX_FIELD_LEN || memchr (data, '\0', size) != NULL ||
      !g_utf8_validate (data, (gssize) size, NULL))
    return NULL;

  return g_strstrip (g_strndup (data, size));
}

static void
handle_upload (BackupServer *self,
               SoupServerMessage *msg,
               Namespace *ns)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(SoupMultipart) multipart = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *mime_type = NULL;
  g_autofree char *expires_text = NULL;
  g_autofree char *max_downloads_text = NULL;
  g_autofree char *auto_delete_text = NULL;
  GBytes *file_body = NULL;
  gint64 now = g_get_real_time ();
  gint64 expires = now + self->max_expiry * G_USEC_PER_SEC;
  guint64 max_downloads = 1;
  gboolean auto_delete = TRUE;
  char key[FILE_KEY_LEN + 1];
  StoredFile *file;
  g_autofree char *base = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  int n_parts;

  if (content_type == NULL || g_ascii_strcasecmp (content_type, "multipart/form-data") != 0)
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                 "An upload is a multipart/form-data body with a “file” part");
      return;
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  multipart = soup_multipart_new_from_message (headers, body);
  if (multipart == NULL)
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "Malformed multipart body");
      return;
    }

  n_parts = soup_multipart_get_length (multipart);
  if (n_parts > MAX_PARTS)
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "Too many form fields");
      return;
    }

  for (int i = 0; i < n_parts; i++)
    {
      SoupMessageHeaders *part_headers = NULL;
      GBytes *part_body = NULL;
      g_autofree char *disposition = NULL;
      g_autoptr(GHashTable) params = NULL;
      const char *name;
      char **target = NULL;

      if (!soup_multipart_get_part (multipart, i, &part_headers, &part_body) ||
          !soup_message_headers_get_content_disposition (part_headers, &disposition, &params) ||
          g_ascii_strcasecmp (disposition, "form-data") != 0 ||
          (name = g_hash_table_lookup (params, "name")) == NULL)
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                     "Each part needs Content-Disposition: form-data with a name");
          return;
        }

      if (strcmp (name, "file") == 0)
        {
          const char *filename = g_hash_table_lookup (params, "filename");
          const char *part_type = soup_message_headers_get_content_type (part_headers, NULL);

          if (file_body != NULL)
            {
              set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "More than one file");
              return;
            }
          if (filename == NULL || !file_name_is_valid (filename))
            {
              set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                         "The file part needs a file name (1 to 255 bytes of UTF-8, "
                         "no control character, no slash)");
              return;
            }
          file_body = part_body;
          file_name = g_strdup (filename);
          mime_type = g_strdup (part_type != NULL ? part_type : "application/octet-stream");
          continue;
        }

      if (strcmp (name, "expires") == 0)
        target = &expires_text;
      else if (strcmp (name, "maxDownloads") == 0)
        target = &max_downloads_text;
      else if (strcmp (name, "autoDelete") == 0)
        target = &auto_delete_text;
      else
        continue; /* FILE.io accepts more fields (title, description…) that we ignore */

      if (*target != NULL || (*target = form_field_value (part_body)) == NULL)
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "Malformed form field");
          return;
        }
    }

  if (file_body == NULL)
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "No “file” part in the upload");
      return;
    }

  if (expires_text != NULL)
    {
      gint64 requested;

      if (!parse_expiry (expires_text, now, &requested))
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                     "“expires” must be a duration (10m, 1h, 1d, 1w, seconds) or a future "
                     "ISO 8601 date");
          return;
        }
      expires = MIN (expires, requested);
    }

  if (max_downloads_text != NULL &&
      !g_ascii_string_to_unsigned (max_downloads_text, 10, 1, G_MAXINT32, &max_downloads, NULL))
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                 "“maxDownloads” must be a whole number of at least 1");
      return;
    }

  if (auto_delete_text != NULL)
    {
      if (g_ascii_strcasecmp (auto_delete_text, "true") == 0 || strcmp (auto_delete_text, "1") == 0)
        auto_delete = TRUE;
      else if (g_ascii_strcasecmp (auto_delete_text, "false") == 0 ||
               strcmp (auto_delete_text, "0") == 0)
        auto_delete = FALSE;
      else
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                     "“autoDelete” must be true or false");
          return;
        }
    }

  if (g_hash_table_size (ns->files) >= self->max_files_per_key)
    {
      set_error (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "STORAGE_FULL",
                 "Too many files are stored for this API key");
      return;
    }

  do
    random_file_key (key);
  while (g_hash_table_contains (ns->files, key));

  file = g_new0 (StoredFile, 1);
  file->ns = ns;
  file->key = g_strdup (key);
  file->id = g_uuid_string_random ();
  file->name = g_steal_pointer (&file_name);
  file->mime_type = g_steal_pointer (&mime_type);
  /* A copy, so that the rest of the request body is not kept alive. */
  file->data = g_bytes_new (g_bytes_get_data (file_body, NULL), g_bytes_get_size (file_body));
  file->created = now;
  file->modified = now;
  file->expires = expires;
  file->serial = self->next_serial++;
  file->max_downloads = (guint) max_downloads;
  file->auto_delete = auto_delete;
  g_hash_table_insert (ns->files, file->key, file);
  file->expiry_iter = g_sequence_insert_sorted (self->by_expiry, file, compare_expiry, NULL);
  self->file_count++;
  schedule_expiry (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_COUNT]);
  g_debug ("stored file %s (%" G_GSIZE_FORMAT " bytes)", file->key, g_bytes_get_size (file->data));

  base = request_base (msg);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, 200);
  add_node_members (builder, file, base);
  json_builder_end_object (builder);
  set_json_response (msg, SOUP_STATUS_OK, builder);
}

/* Substring match where '*' stands for any run of characters. */
static gboolean
name_matches (const char *name,
              const char *pattern)
{
  g_auto(GStrv) pieces = NULL;
  const char *p = name;

  if (pattern == NULL || *pattern == '\0')
    return TRUE;
  if (strchr (pattern, '*') == NULL)
    return strstr (name, pattern) != NULL;

  pieces = g_strsplit (pattern, "*", -1);
  for (guint i = 0; pieces[i] != NULL; i++)
    {
      const char *found;

      if (pieces[i][0] == '\0')
        continue;
      found = strstr (p, pieces[i]);
      if (found == NULL)
        return FALSE;
      p = found + strlen (pieces[i]);
    }
  return TRUE;
}

static int
compare_serial (const StoredFile *a,
                const StoredFile *b)
{
  return a->serial < b->serial ? -1 : a->serial > b->serial ? 1 : 0;
}

static int
compare_created_asc (gconstpointer pa,
                     gconstpointer pb)
{
  const StoredFile *a = *(StoredFile *const *) pa;
  const StoredFile *b = *(StoredFile *const *) pb;

  if (a->created != b->created)
    return a->created < b->created ? -1 : 1;
  return compare_serial (a, b);
}

static int
compare_created_desc (gconstpointer pa,
                      gconstpointer pb)
{
  return compare_created_asc (pb, pa);
}

static int
compare_name_asc (gconstpointer pa,
                  gconstpointer pb)
{
  const StoredFile *a = *(StoredFile *const *) pa;
  const StoredFile *b = *(StoredFile *const *) pb;
  int cmp = strcmp (a->name, b->name);

  return cmp != 0 ? cmp : compare_serial (a, b);
}

static int
compare_name_desc (gconstpointer pa,
                   gconstpointer pb)
{
  return compare_name_asc (pb, pa);
}

static int
compare_size_asc (gconstpointer pa,
                  gconstpointer pb)
{
  const StoredFile *a = *(StoredFile *const *) pa;
  const StoredFile *b = *(StoredFile *const *) pb;
  gsize sa = g_bytes_get_size (a->data);
  gsize sb = g_bytes_get_size (b->data);

  if (sa != sb)
    return sa < sb ? -1 : 1;
  return compare_serial (a, b);
}

static int
compare_size_desc (gconstpointer pa,
                   gconstpointer pb)
{
  return compare_size_asc (pb, pa);
}

static GCompareFunc
sort_function (const char *sort)
{
  static const struct
  {
    const char *name;
    GCompareFunc func;
  } sorts[] = {
    { "created:asc", compare_created_asc },
    { "created:desc", compare_created_desc },
    { "name:asc", compare_name_asc },
    { "name:desc", compare_name_desc },
    { "size:asc", compare_size_asc },
    { "size:desc", compare_size_desc },
  };

  if (sort == NULL || *sort == '\0')
    return compare_created_asc;
  for (gsize i = 0; i < G_N_ELEMENTS (sorts); i++)
    if (strcmp (sort, sorts[i].name) == 0)
      return sorts[i].func;
  return NULL;
}

static void
handle_list (BackupServer *self,
             SoupServerMessage *msg,
             Namespace *ns,
             GHashTable *query)
{
  const char *search = query != NULL ? g_hash_table_lookup (query, "search") : NULL;
  const char *sort = query != NULL ? g_hash_table_lookup (query, "sort") : NULL;
  const char *page_text = query != NULL ? g_hash_table_lookup (query, "page") : NULL;
  const char *limit_text = query != NULL ? g_hash_table_lookup (query, "limit") : NULL;
  guint64 page = 1;
  guint64 limit = G_MAXUINT;
  GCompareFunc compare = sort_function (sort);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *base = request_base (msg);
  GHashTableIter iter;
  gpointer value;
  guint64 first;

  if (compare == NULL)
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                 "Unknown sort order (created, name or size, :asc or :desc)");
      return;
    }
  if ((page_text != NULL &&
       !g_ascii_string_to_unsigned (page_text, 10, 1, G_MAXINT32, &page, NULL)) ||
      (limit_text != NULL &&
       !g_ascii_string_to_unsigned (limit_text, 10, 1, MAX_PAGE_LIMIT, &limit, NULL)))
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                 "“page” and “limit” must be whole numbers from 1");
      return;
    }

  g_hash_table_iter_init (&iter, ns->files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      StoredFile *file = value;

      if (name_matches (file->name, search))
        g_ptr_array_add (nodes, file);
    }
  g_ptr_array_sort (nodes, compare);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, 200);
  json_builder_set_member_name (builder, "nodes");
  json_builder_begin_array (builder);
  first = (page - 1) * (limit == G_MAXUINT ? 0 : limit);
  for (guint64 i = first; i < nodes->len && i - first < limit; i++)
    {
      json_builder_begin_object (builder);
      add_node_members (builder, g_ptr_array_index (nodes, i), base);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, nodes->len);
  json_builder_end_object (builder);
  set_json_response (msg, SOUP_STATUS_OK, builder);
}

static char *
content_disposition (const char *name)
{
  GString *value = g_string_new ("attachment; filename=\"");
  gboolean ascii = TRUE;

  for (const char *p = name; *p != '\0'; p++)
    {
      if ((guchar) *p >= 0x80)
        {
          ascii = FALSE;
          g_string_append_c (value, '_');
          continue;
        }
      if (*p == '"' || *p == '\\')
        g_string_append_c (value, '\\');
      g_string_append_c (value, *p);
    }
  g_string_append_c (value, '"');

  if (!ascii)
    {
      g_autofree char *escaped = g_uri_escape_string (name, "!#$&+.^_`|~-", FALSE);

      g_string_append_printf (value, "; filename*=UTF-8''%s", escaped);
    }

  return g_string_free (value, FALSE);
}

static void
handle_download (BackupServer *self,
                 SoupServerMessage *msg,
                 Namespace *ns,
                 const char *key)
{
  StoredFile *file = g_hash_table_lookup (ns->files, key);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *disposition = NULL;

  if (file == NULL)
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "No such file (expired, deleted or "
                 "already downloaded)");
      return;
    }

  disposition = content_disposition (file->name);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Content-Type", file->mime_type);
  soup_message_headers_replace (headers, "Content-Disposition", disposition);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), file->data);

  file->downloads++;
  if (file->auto_delete && file->downloads >= file->max_downloads)
    remove_file (self, file);
}

static void
handle_delete (BackupServer *self,
               SoupServerMessage *msg,
               Namespace *ns,
               const char *key)
{
  StoredFile *file = g_hash_table_lookup (ns->files, key);
  g_autoptr(JsonBuilder) builder = NULL;

  if (file == NULL)
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "No such file");
      return;
    }

  remove_file (self, file);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, 200);
  json_builder_end_object (builder);
  set_json_response (msg, SOUP_STATUS_OK, builder);
}

static void
request_handler (SoupServer *soup,
                 SoupServerMessage *msg,
                 const char *path,
                 GHashTable *query,
                 gpointer user_data)
{
  BackupServer *self = user_data;
  RequestState *state = g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);
  const char *method = soup_server_message_get_method (msg);
  const char *key = NULL;
  RouteKind kind;

  /* early_handler() accepted this request, so both hold. */
  if (state == NULL || state->ns == NULL || !parse_route (path, &kind, &key))
    {
      set_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error");
      return;
    }

  remove_expired (self);

  if (kind == ROUTE_ROOT && method == SOUP_METHOD_POST)
    handle_upload (self, msg, state->ns);
  else if (kind == ROUTE_ROOT)
    handle_list (self, msg, state->ns, query);
  else if (method == SOUP_METHOD_DELETE)
    handle_delete (self, msg, state->ns, key);
  else if (kind == ROUTE_FILE && self->redirect_downloads)
    {
      g_autofree char *location = g_strconcat ("/download/", key, NULL);

      if (g_hash_table_contains (state->ns->files, key))
        soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, location);
      else
        set_error (msg, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "No such file");
    }
  else
    handle_download (self, msg, state->ns, key);
}

/* GObject */

BackupServer *
backup_server_new (const BackupServerOptions *options)
{
  BackupServerOptions defaults;
  BackupServer *self;

  if (options == NULL)
    {
      backup_server_options_init (&defaults);
      options = &defaults;
    }

  self = g_object_new (BACKUP_TYPE_SERVER, NULL);
  self->listen_address = g_strdup (options->listen_address != NULL ? options->listen_address
                                                                   : "127.0.0.1");
  self->port = options->port;
  self->tls_cert_file = g_strdup (options->tls_cert_file);
  self->tls_key_file = g_strdup (options->tls_key_file);
  self->max_upload_size = options->max_upload_size;
  self->max_files_per_key = options->max_files_per_key;
  self->rate_limit = options->rate_limit;
  self->rate_window_ms = MAX (options->rate_window_ms, 1);
  self->max_expiry = MAX (options->max_expiry, 1);
  self->redirect_downloads = options->redirect_downloads;
  self->request_timeout_ms = options->request_timeout_ms > 0
                               ? options->request_timeout_ms
                               : BACKUP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS;

  for (guint i = 0; options->api_keys != NULL && options->api_keys[i] != NULL; i++)
    {
      char *digest;

      if (!backup_server_api_key_is_valid (options->api_keys[i]))
        {
          g_warning ("Ignoring an API key that is not 1 to %d printable ASCII characters",
                     MAX_API_KEY_LEN);
          continue;
        }
      digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, options->api_keys[i], -1);
      if (g_hash_table_contains (self->namespaces, digest))
        g_free (digest);
      else
        g_hash_table_insert (self->namespaces, digest, namespace_new (self->rate_limit));
    }

  self->open = g_hash_table_size (self->namespaces) == 0;
  if (self->open)
    {
      self->open_ns = namespace_new (self->rate_limit);
      g_hash_table_insert (self->namespaces, g_strdup (""), self->open_ns);
    }

  return self;
}

gboolean
backup_server_listen (BackupServer *self,
                      GError **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GError) local_error = NULL;
  SoupServerListenOptions listen_options = 0;
  GSList *listeners;
  const char *scheme = "http";
  g_autofree char *host = NULL;

  g_return_val_if_fail (BACKUP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->uri == NULL, FALSE);

  address = g_inet_address_new_from_string (self->listen_address);
  if (address == NULL)
    {
      g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                   "“%s” is not an IP address", self->listen_address);
      return FALSE;
    }
  if (self->port > G_MAXUINT16)
    {
      g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                   "%u is not a port number", self->port);
      return FALSE;
    }
  if (self->max_upload_size == 0 || self->max_files_per_key == 0)
    {
      g_set_error_literal (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                           "The upload size and file count limits must be at least 1");
      return FALSE;
    }

  if ((self->tls_cert_file != NULL) != (self->tls_key_file != NULL))
    {
      g_set_error_literal (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                           "TLS needs both a certificate and a key file");
      return FALSE;
    }
  if (self->tls_cert_file != NULL)
    {
      g_autoptr(GTlsCertificate) certificate = NULL;

      certificate = g_tls_certificate_new_from_files (self->tls_cert_file, self->tls_key_file,
                                                      &local_error);
      if (certificate == NULL)
        {
          g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_TLS,
                       "Cannot load the TLS certificate and key: %s", local_error->message);
          return FALSE;
        }
      soup_server_set_tls_certificate (self->soup, certificate);
      listen_options |= SOUP_SERVER_LISTEN_HTTPS;
      scheme = "https";
    }

  socket_address = g_inet_socket_address_new (address, (guint16) self->port);
  if (!soup_server_listen (self->soup, socket_address, listen_options, &local_error))
    {
      g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_LISTEN,
                   "Cannot listen on %s port %u: %s", self->listen_address, self->port,
                   local_error->message);
      return FALSE;
    }

  listeners = soup_server_get_listeners (self->soup);
  for (GSList *l = listeners; l != NULL; l = l->next)
    {
      g_autoptr(GSocketAddress) local = g_socket_get_local_address (l->data, NULL);

      if (G_IS_INET_SOCKET_ADDRESS (local))
        self->bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  g_slist_free (listeners);

  host = g_inet_address_to_string (address);
  self->uri = g_uri_join (G_URI_FLAGS_NONE, scheme, NULL, host, (gint) self->bound_port, "/",
                          NULL, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URI]);
  return TRUE;
}

const char *
backup_server_get_uri (BackupServer *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER (self), NULL);

  return self->uri;
}

guint
backup_server_get_port (BackupServer *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER (self), 0);

  return self->bound_port;
}

guint
backup_server_get_file_count (BackupServer *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER (self), 0);

  return self->file_count;
}

static void
backup_server_dispose (GObject *object)
{
  BackupServer *self = BACKUP_SERVER (object);

  if (self->expiry_source != NULL)
    {
      g_source_destroy (self->expiry_source);
      g_clear_pointer (&self->expiry_source, g_source_unref);
    }

  if (self->soup != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->soup, self);
      soup_server_remove_handler (self->soup, NULL);
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }

  G_OBJECT_CLASS (backup_server_parent_class)->dispose (object);
}

static void
backup_server_finalize (GObject *object)
{
  BackupServer *self = BACKUP_SERVER (object);

  g_sequence_free (self->by_expiry);
  g_hash_table_unref (self->namespaces);
  g_free (self->listen_address);
  g_free (self->tls_cert_file);
  g_free (self->tls_key_file);
  g_free (self->uri);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (backup_server_parent_class)->finalize (object);
}

static void
backup_server_get_property (GObject *object,
                            guint prop_id,
                            GValue *value,
                            GParamSpec *pspec)
{
  BackupServer *self = BACKUP_SERVER (object);

  switch (prop_id)
    {
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;

    case PROP_FILE_COUNT:
      g_value_set_uint (value, self->file_count);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_server_class_init (BackupServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_server_dispose;
  object_class->finalize = backup_server_finalize;
  object_class->get_property = backup_server_get_property;

  properties[PROP_URI] =
    g_param_spec_string ("uri", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FILE_COUNT] =
    g_param_spec_uint ("file-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_server_init (BackupServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->namespaces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) namespace_free);
  self->by_expiry = g_sequence_new (NULL);
  self->max_upload_size = BACKUP_SERVER_DEFAULT_MAX_UPLOAD_SIZE;
  self->max_files_per_key = BACKUP_SERVER_DEFAULT_MAX_FILES_PER_KEY;
  self->rate_window_ms = BACKUP_SERVER_DEFAULT_RATE_WINDOW_MS;
  self->max_expiry = BACKUP_SERVER_DEFAULT_MAX_EXPIRY;
  self->request_timeout_ms = BACKUP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS;

  self->soup = soup_server_new ("server-header", "distributed-backup-server/" PACKAGE_VERSION,
                                NULL);
  g_signal_connect_object (self->soup, "request-started", G_CALLBACK (on_request_started),
                           self, 0);
  g_signal_connect_object (self->soup, "request-finished", G_CALLBACK (on_request_finished),
                           self, 0);
  g_signal_connect_object (self->soup, "request-aborted", G_CALLBACK (on_request_finished),
                           self, 0);
  soup_server_add_early_handler (self->soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, request_handler, self, NULL);
}
