/* backup-server.c: a small FILE.io-compatible store for signaling files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the connections it lends to SoupServer, the memory budget and
 * the stored files are one piece of state that every request handler reads
 * and changes; what needs no state (parsing) is in backup-server-request.c
 * and the loaned stream in backup-server-stream.c.
 *
 * Connections: the server listens and accepts itself (with the system's
 * listen backlog, and pausing while it has no file descriptor left), runs
 * the TLS handshake, and then lends each connection to SoupServer for one
 * request at a time (BackupServerStream, soup_server_accept_iostream()).
 * When the answer of a request has been written and the connection stays
 * open, the server takes it back (soup_server_message_steal_connection())
 * with the bytes SoupServer had already read, and lends it again for the
 * next request. SoupServer thus never keeps an idle connection of its own:
 * libsoup 3.2 does not notice when a client closes one (its socket would
 * stay in CLOSE-WAIT for good). Every request must be received within
 * request-timeout-ms of the connection's start, or of the previous answer.
 *
 * Requests: SoupServer parses the request line and headers, then calls
 * early_handler() before the body is read; it routes, authenticates, applies
 * the rate limit and refuses announced bodies that are too large or that do
 * not fit in the memory budget. Whenever a request is refused before its
 * body arrived, the body is read and dropped instead of being kept
 * (refuse_body()). SoupServer keeps no request body: on_got_chunk() bounds
 * bodies while they stream and collects the body of an upload in one buffer,
 * counted in the memory budget. request_handler() then answers the requests
 * that got through; a stored file is a slice of its upload's buffer.
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "backup-server-request.h"
#include "backup-server-stream.h"
#include "backup-server.h"

#define MAX_EXPIRY_TIMER_MS 60000 /* re-check at least this often (wall-clock jumps) */
#define MAX_DRAINED_BYTES (16 * 1024 * 1024) /* of a refused body, past the upload limit */
#define MAX_ACCEPTS_PER_WAKEUP 64
#define ACCEPT_RETRY_MS 250                   /* after running out of file descriptors */
#define MIN_BODY_ALLOC (16 * 1024)            /* first buffer of a body of unknown length */
#define FILE_OVERHEAD 512                     /* bytes counted for a file besides its data */
#define TRIM_THRESHOLD (1024 * 1024)          /* freed bytes before memory is given back */

#define REQUEST_STATE_KEY "backup-server-request"

/* Memory budget: bytes of stored files and of upload bodies being received.
 * Shared with the requests, which may outlive the server. */
typedef struct
{
  grefcount ref_count;
  guint64 limit;
  guint64 used;
  guint64 freed; /* since memory was last given back to the system */
  GMainContext *context;
  GSource *trim;
} MemoryBudget;

typedef struct _Namespace Namespace;

typedef struct
{
  Namespace *ns;
  char *key;
  char *id;
  char *name;
  char *mime_type;
  GBytes *data;   /* a slice of the upload's body */
  guint64 charge; /* bytes counted in the memory budget */
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

/* A client connection, from accept() to close(). */
typedef struct
{
  grefcount ref_count;
  BackupServer *server;          /* NULL once closed */
  GList link;                    /* in server->connections, while open */
  GSocket *socket;
  GSocketAddress *local_address;
  GSocketAddress *remote_address;
  GIOStream *base;               /* the GSocketConnection, or the GTlsConnection over it */
  GCancellable *cancellable;     /* of the TLS handshake */
  GBytes *pending;               /* received bytes of the next request */
  BackupServerStream *stream;    /* lent to SoupServer (not owned) while serving */
  GSource *deadline;             /* for the current request to be received */
  GSource *handover;             /* lends the connection to SoupServer */
  gboolean handshaking;
  gboolean serving;
  gboolean closed;
} Connection;

typedef struct
{
  MemoryBudget *budget;
  Connection *conn; /* NULL for a connection the server did not accept */
  Namespace *ns;
  guint64 received;
  guint64 limit;
  gboolean collect; /* the body is an upload's, kept in body */
  guint8 *body;
  gsize body_len;
  gsize body_alloc; /* counted in the budget */
} RequestState;

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
  MemoryBudget *budget;
  GTlsCertificate *certificate;
  const char *scheme;
  char *uri;
  guint bound_port;

  GSocket *listener;
  GSource *accept_source;
  GSource *accept_retry;       /* while accepting is paused */
  GQueue connections;          /* Connection (one reference each), open ones */
  Connection *accepting;       /* during soup_server_accept_iostream() */

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

/* Options */

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
  options->max_memory = BACKUP_SERVER_DEFAULT_MAX_MEMORY;
}

static void
random_file_key (char out[BACKUP_SERVER_FILE_KEY_LEN + 1])
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  guint8 buf[32];
  guint n = 0;

  while (n < BACKUP_SERVER_FILE_KEY_LEN)
    {
      if (getrandom (buf, sizeof buf, 0) != (gssize) sizeof buf)
        for (gsize i = 0; i < sizeof buf; i++)
          buf[i] = (guint8) g_random_int_range (0, 256);

      /* 248 = 4 × 62: keep the choice uniform. */
      for (gsize i = 0; i < sizeof buf && n < BACKUP_SERVER_FILE_KEY_LEN; i++)
        if (buf[i] < 248)
          out[n++] = alphabet[buf[i] % 62];
    }
  out[n] = '\0';
}

static char *
format_time (gint64 real_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (real_us / G_USEC_PER_SEC);
  g_autofree char *seconds = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");

  seconds = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", seconds, (int) ((real_us % G_USEC_PER_SEC) / 1000));
}

/* Memory budget */

static MemoryBudget *
memory_budget_new (guint64 limit)
{
  MemoryBudget *budget = g_new0 (MemoryBudget, 1);

  g_ref_count_init (&budget->ref_count);
  budget->limit = limit;
  budget->context = g_main_context_ref_thread_default ();
  return budget;
}

static MemoryBudget *
memory_budget_ref (MemoryBudget *budget)
{
  g_ref_count_inc (&budget->ref_count);
  return budget;
}

static void
memory_budget_unref (MemoryBudget *budget)
{
  if (!g_ref_count_dec (&budget->ref_count))
    return;

  if (budget->trim != NULL)
    {
      g_source_destroy (budget->trim);
      g_source_unref (budget->trim);
    }
  g_main_context_unref (budget->context);
  g_free (budget);
}

static gboolean
memory_budget_reserve (MemoryBudget *budget,
                       guint64 bytes)
{
  if (bytes > budget->limit - budget->used)
    return FALSE;
  budget->used += bytes;
  return TRUE;
}

/* Large buffers come from mmap() and go back to the system when freed; the
 * heap keeps the rest until it is trimmed. */
static gboolean
on_memory_trim (gpointer user_data)
{
  MemoryBudget *budget = user_data;

  g_clear_pointer (&budget->trim, g_source_unref);
  budget->freed = 0;
#ifdef HAVE_MALLOC_TRIM
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

static void
memory_budget_release (MemoryBudget *budget,
                       guint64 bytes)
{
  g_assert (bytes <= budget->used);
  budget->used -= bytes;
  budget->freed += bytes;

  if (budget->freed >= TRIM_THRESHOLD && budget->trim == NULL)
    {
      budget->trim = g_idle_source_new ();
      g_source_set_priority (budget->trim, G_PRIORITY_LOW);
      g_source_set_callback (budget->trim, on_memory_trim, budget, NULL);
      g_source_set_static_name (budget->trim, "[backup-server] memory trim");
      g_source_attach (budget->trim, budget->context);
    }
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
  guint64 charge = file->charge;

  g_debug ("removing file %s", file->key);
  g_sequence_remove (file->expiry_iter);
  g_assert (self->file_count > 0);
  self->file_count--;
  g_hash_table_remove (file->ns->files, file->key);
  memory_budget_release (self->budget, charge);
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

/* Connections */

static void accept_resume (BackupServer *self);

static Connection *
connection_ref (Connection *conn)
{
  g_ref_count_inc (&conn->ref_count);
  return conn;
}

static void
connection_unref (Connection *conn)
{
  if (!g_ref_count_dec (&conn->ref_count))
    return;

  g_assert (conn->server == NULL && conn->deadline == NULL && conn->handover == NULL);
  g_clear_object (&conn->cancellable);
  g_clear_pointer (&conn->pending, g_bytes_unref);
  g_clear_object (&conn->base);
  g_clear_object (&conn->local_address);
  g_clear_object (&conn->remote_address);
  g_clear_object (&conn->socket);
  g_free (conn);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Releases the file descriptor, at once or, during a TLS handshake, as
 * soon as the handshake gave up. */
static void
connection_close (Connection *conn)
{
  BackupServer *self = conn->server;

  if (conn->closed)
    return;
  conn->closed = TRUE;
  clear_source (&conn->deadline);
  clear_source (&conn->handover);
  g_clear_pointer (&conn->pending, g_bytes_unref);

  if (conn->handshaking)
    {
      g_cancellable_cancel (conn->cancellable);
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    }
  else if (conn->base != NULL)
    g_io_stream_close (conn->base, NULL, NULL);
  else
    g_socket_close (conn->socket, NULL);

  conn->server = NULL;
  if (self != NULL)
    {
      g_queue_unlink (&self->connections, &conn->link);
      connection_unref (conn);
      /* One more file descriptor is free. */
      accept_resume (self);
    }
}

/* Ends the connection without an answer: the client gets a reset, also
 * while it is still sending. While SoupServer has the connection, the socket
 * is only shut down first: SoupServer then reads the end of the connection
 * and closes its stream, which closes the connection. */
static void
connection_drop (Connection *conn)
{
  struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };

  if (conn->closed)
    return;
  setsockopt (g_socket_get_fd (conn->socket), SOL_SOCKET, SO_LINGER, &abort_on_close,
              sizeof abort_on_close);
  if (conn->serving)
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  else
    connection_close (conn);
}

static gboolean
on_connection_deadline (gpointer user_data)
{
  Connection *conn = user_data;

  g_clear_pointer (&conn->deadline, g_source_unref);
  if (conn->serving && backup_server_stream_get_received (conn->stream) == 0)
    {
      /* Nothing of a next request: an idle connection, closed gracefully. */
      g_debug ("closing an idle connection");
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
      return G_SOURCE_REMOVE;
    }

  g_debug ("dropping a connection whose request did not arrive in time");
  connection_drop (conn);
  return G_SOURCE_REMOVE;
}

static void
connection_start_deadline (Connection *conn)
{
  clear_source (&conn->deadline);
  conn->deadline = g_timeout_source_new (conn->server->request_timeout_ms);
  g_source_set_callback (conn->deadline, on_connection_deadline, conn, NULL);
  g_source_set_static_name (conn->deadline, "[backup-server] request deadline");
  g_source_attach (conn->deadline, conn->server->context);
}

static void
on_stream_closed (gpointer user_data)
{
  Connection *conn = user_data;

  conn->serving = FALSE;
  conn->stream = NULL;
  connection_close (conn);
}

static gboolean
on_connection_handover (gpointer user_data)
{
  Connection *conn = user_data;
  BackupServer *self = conn->server;
  g_autoptr (BackupServerStream) stream = NULL;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&conn->handover, g_source_unref);

  stream = backup_server_stream_new (conn->base, conn->pending, on_stream_closed,
                                     connection_ref (conn), (GDestroyNotify) connection_unref);
  g_clear_pointer (&conn->pending, g_bytes_unref);
  conn->stream = stream;
  conn->serving = TRUE;

  /* SoupServer starts the request at once, and may read and answer it
   * before this returns. */
  self->accepting = conn;
  if (!soup_server_accept_iostream (self->soup, G_IO_STREAM (stream), conn->local_address,
                                    conn->remote_address, &error))
    {
      g_debug ("SoupServer refused a connection: %s", error->message);
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
    }
  self->accepting = NULL;
  return G_SOURCE_REMOVE;
}

static void
connection_hand_over (Connection *conn)
{
  g_assert (!conn->closed && !conn->serving && conn->handover == NULL);

  conn->handover = g_idle_source_new ();
  g_source_set_priority (conn->handover, G_PRIORITY_DEFAULT);
  g_source_set_callback (conn->handover, on_connection_handover, conn, NULL);
  g_source_set_static_name (conn->handover, "[backup-server] connection handover");
  g_source_attach (conn->handover, conn->server->context);
}

/* After an answer that keeps the connection open: takes the connection back
 * from SoupServer, with the bytes of the next requests it had read, and
 * lends it again for the next request. */
static void
connection_take_back (Connection *conn,
                      SoupServerMessage *msg)
{
  g_autoptr (GIOStream) stolen = NULL;
  BackupServerStream *stream = conn->stream;

  stolen = soup_server_message_steal_connection (msg);
  if (stolen == NULL)
    return; /* SoupServer goes on with it, and closes it after the answer */

  conn->stream = NULL;
  conn->serving = FALSE;
  conn->pending = backup_server_stream_detach (stream, g_io_stream_get_input_stream (stolen));
  if (g_bytes_get_size (conn->pending) == 0)
    g_clear_pointer (&conn->pending, g_bytes_unref);

  connection_start_deadline (conn);
  connection_hand_over (conn);
}

static void
on_handshake_done (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  Connection *conn = user_data;
  g_autoptr (GError) error = NULL;
  gboolean done;

  done = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);
  conn->handshaking = FALSE;

  if (conn->closed)
    g_io_stream_close (conn->base, NULL, NULL);
  else if (!done)
    {
      g_debug ("TLS handshake failed: %s", error->message);
      connection_close (conn);
    }
  else
    connection_hand_over (conn);

  connection_unref (conn);
}

static void
connection_start (BackupServer *self,
                  GSocket *socket)
{
  Connection *conn = g_new0 (Connection, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) tcp = NULL;

  g_ref_count_init (&conn->ref_count);
  conn->server = self;
  conn->link.data = conn;
  conn->socket = g_object_ref (socket);
  g_queue_push_tail_link (&self->connections, &conn->link);

  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  conn->local_address = g_socket_get_local_address (socket, NULL);
  conn->remote_address = g_socket_get_remote_address (socket, &error);
  if (conn->local_address == NULL || conn->remote_address == NULL)
    {
      g_debug ("dropping a connection without addresses: %s",
               error != NULL ? error->message : "no local address");
      connection_close (conn);
      return;
    }

  connection_start_deadline (conn);
  tcp = g_socket_connection_factory_create_connection (socket);

  if (self->certificate == NULL)
    {
      conn->base = G_IO_STREAM (g_steal_pointer (&tcp));
      connection_hand_over (conn);
      return;
    }

  conn->base = g_tls_server_connection_new (G_IO_STREAM (tcp), self->certificate, &error);
  if (conn->base == NULL)
    {
      g_debug ("cannot start TLS: %s", error->message);
      g_io_stream_close (G_IO_STREAM (tcp), NULL, NULL);
      connection_close (conn);
      return;
    }
  {
    const char *protocols[] = { "http/1.1", "http/1.0", NULL };

    g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (conn->base), FALSE);
    g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (conn->base), protocols);
  }
  conn->cancellable = g_cancellable_new ();
  conn->handshaking = TRUE;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (conn->base), G_PRIORITY_DEFAULT,
                                    conn->cancellable, on_handshake_done, connection_ref (conn));
}

static gboolean on_incoming (GSocket *listener,
                             GIOCondition condition,
                             gpointer user_data);

static void
accept_start (BackupServer *self)
{
  self->accept_source = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_callback (self->accept_source, G_SOURCE_FUNC (on_incoming), self, NULL);
  g_source_set_static_name (self->accept_source, "[backup-server] accept");
  g_source_attach (self->accept_source, self->context);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  accept_resume (user_data);
  return G_SOURCE_REMOVE;
}

/* Stops accepting for a while: the connections wait in the listen queue. */
static void
accept_pause (BackupServer *self)
{
  clear_source (&self->accept_source);
  if (self->accept_retry == NULL)
    {
      self->accept_retry = g_timeout_source_new (ACCEPT_RETRY_MS);
      g_source_set_callback (self->accept_retry, on_accept_retry, self, NULL);
      g_source_set_static_name (self->accept_retry, "[backup-server] accept retry");
      g_source_attach (self->accept_retry, self->context);
    }
}

static void
accept_resume (BackupServer *self)
{
  if (self->accept_retry == NULL || self->listener == NULL)
    return;
  clear_source (&self->accept_retry);
  accept_start (self);
}

static gboolean
on_incoming (GSocket *listener,
             GIOCondition condition,
             gpointer user_data)
{
  BackupServer *self = user_data;

  for (guint i = 0; i < MAX_ACCEPTS_PER_WAKEUP; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) socket = g_socket_accept (listener, NULL, &error);

      if (socket != NULL)
        {
          connection_start (self, socket);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      /* Out of file descriptors or memory, most likely: the listening
       * socket stays readable, so wait instead of trying again at once. */
      g_debug ("cannot accept connections for now: %s", error->message);
      g_clear_pointer (&self->accept_source, g_source_unref);
      accept_pause (self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Responses */

static void
set_json_response (SoupServerMessage *msg,
                   guint status,
                   JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
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
  g_autoptr (JsonBuilder) builder = json_builder_new ();

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

static void
set_memory_full (SoupServerMessage *msg)
{
  set_error (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "STORAGE_FULL",
             "The server holds as much as it may, retry once files expire or are deleted");
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

/* Whether SoupServer keeps the connection open after @msg (the rules of
 * libsoup's own soup_server_message_is_keepalive()). */
static gboolean
message_keeps_connection (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

  if (soup_server_message_get_http_version (msg) != SOUP_HTTP_1_1 ||
      soup_message_headers_get_encoding (response) == SOUP_ENCODING_EOF)
    return FALSE;

  return !soup_message_headers_header_contains (request, "Connection", "close") &&
         !soup_message_headers_header_contains (response, "Connection", "close");
}

static void
request_state_drop_body (RequestState *state)
{
  g_clear_pointer (&state->body, g_free);
  if (state->body_alloc > 0)
    memory_budget_release (state->budget, state->body_alloc);
  state->body_len = 0;
  state->body_alloc = 0;
  state->collect = FALSE;
}

/* Grows the body buffer to @alloc bytes, if the budget allows. */
static gboolean
request_state_grow_body (RequestState *state,
                         gsize alloc)
{
  if (alloc <= state->body_alloc)
    return TRUE;
  if (!memory_budget_reserve (state->budget, alloc - state->body_alloc))
    return FALSE;
  state->body = g_realloc (state->body, alloc);
  state->body_alloc = alloc;
  return TRUE;
}

/* The collected body; its bytes stay counted in the budget, as *@charge. */
static GBytes *
request_state_steal_body (RequestState *state,
                          guint64 *charge)
{
  GBytes *body;

  if (state->body_alloc > state->body_len)
    {
      memory_budget_release (state->budget, state->body_alloc - state->body_len);
      state->body = g_realloc (state->body, state->body_len);
      state->body_alloc = state->body_len;
    }

  body = g_bytes_new_take (g_steal_pointer (&state->body), state->body_len);
  *charge = state->body_alloc;
  state->body_len = 0;
  state->body_alloc = 0;
  return body;
}

static void
request_state_free (RequestState *state)
{
  request_state_drop_body (state);
  g_clear_pointer (&state->conn, connection_unref);
  memory_budget_unref (state->budget);
  g_free (state);
}

/* The request is answered without its body: whatever still arrives is read
 * and dropped, and the connection is closed after the answer so that the
 * client cannot mistake the rest of its body for a new request. */
static void
refuse_body (SoupServerMessage *msg)
{
  RequestState *state = g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (state != NULL)
    request_state_drop_body (state);
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
request_base (BackupServer *self,
              SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);

  return g_uri_join (G_URI_FLAGS_NONE, self->scheme, NULL, g_uri_get_host (uri),
                     g_uri_get_port (uri), "/", NULL, NULL);
}

/* Authentication and rate limit */

static Namespace *
authenticate (BackupServer *self,
              SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree char *token = NULL;
  g_autofree char *digest = NULL;

  if (self->open)
    return self->open_ns;

  token = backup_server_parse_authorization (soup_message_headers_get_one (headers,
                                                                           "Authorization"));
  if (token == NULL)
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

/* Request life */

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
  BackupServerRoute route;
  Namespace *ns;
  guint retry_after = 0;

  if (strlen (path) > BACKUP_SERVER_MAX_PATH_LEN ||
      (raw_query != NULL && strlen (raw_query) > BACKUP_SERVER_MAX_QUERY_LEN))
    {
      set_error (msg, SOUP_STATUS_REQUEST_URI_TOO_LONG, "URI_TOO_LONG",
                 "The request URI is too long");
      goto refused;
    }

  if (!backup_server_parse_route (path, &route, &key))
    {
      set_error (msg, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "Not found");
      goto refused;
    }

  if (!backup_server_route_allows (route, method))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    backup_server_route_allowed_methods (route));
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

  if (state == NULL)
    {
      set_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error");
      goto refused;
    }

  /* An upload's body is kept, in a buffer of the announced size. */
  if (route == BACKUP_SERVER_ROUTE_ROOT && strcmp (method, SOUP_METHOD_POST) == 0)
    {
      state->collect = TRUE;
      if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
          !request_state_grow_body (state, (gsize) soup_message_headers_get_content_length (headers)))
        {
          set_memory_full (msg);
          goto refused;
        }
    }

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
  gsize size;
  const guint8 *data = g_bytes_get_data (chunk, &size);

  state->received += size;
  if (state->received > state->limit && soup_server_message_get_status (msg) == 0)
    {
      set_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE",
                 "The request body is too large");
      refuse_body (msg);
    }

  if (state->collect && soup_server_message_get_status (msg) == 0)
    {
      if (state->body_len + size > state->body_alloc)
        {
          gsize alloc = MAX (state->body_alloc * 2, state->body_len + size);

          alloc = MIN (MAX (alloc, MIN_BODY_ALLOC), state->limit);
          if (!request_state_grow_body (state, alloc))
            {
              set_memory_full (msg);
              refuse_body (msg);
              return;
            }
        }
      memcpy (state->body + state->body_len, data, size);
      state->body_len += size;
    }

  /* A refused body is read so that the client gets its answer, but not
   * forever: past the allowance, the connection is dropped. */
  if (soup_server_message_get_status (msg) != 0 &&
      state->received > state->limit + MAX_DRAINED_BYTES && state->conn != NULL)
    {
      g_debug ("dropping a connection that keeps sending a refused body");
      connection_drop (state->conn);
    }
}

static void
on_got_body (SoupServerMessage *msg,
             gpointer user_data)
{
  RequestState *state = user_data;

  /* The request has arrived in time: the answer is ours to write. */
  if (state->conn != NULL)
    clear_source (&state->conn->deadline);
}

static void
on_wrote_body (SoupServerMessage *msg,
               gpointer user_data)
{
  RequestState *state = user_data;
  GUri *uri = soup_server_message_get_uri (msg);

  g_debug ("%s %s %u", soup_server_message_get_method (msg),
           uri != NULL ? g_uri_get_path (uri) : "?", soup_server_message_get_status (msg));

  if (state->conn != NULL && !state->conn->closed && state->conn->serving &&
      message_keeps_connection (msg))
    connection_take_back (state->conn, msg);
}

static void
on_request_started (SoupServer *soup,
                    SoupServerMessage *msg,
                    gpointer user_data)
{
  BackupServer *self = user_data;
  RequestState *state = g_new0 (RequestState, 1);

  state->budget = memory_budget_ref (self->budget);
  state->limit = self->max_upload_size;
  if (self->accepting != NULL)
    state->conn = connection_ref (self->accepting);

  /* Bodies are bounded and collected (or dropped) by on_got_chunk(). */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);

  g_object_set_data_full (G_OBJECT (msg), REQUEST_STATE_KEY, state,
                          (GDestroyNotify) request_state_free);
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), state);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), state);
  g_signal_connect (msg, "got-body", G_CALLBACK (on_got_body), state);
  g_signal_connect (msg, "wrote-body", G_CALLBACK (on_wrote_body), state);
}

static void
on_request_aborted (SoupServer *soup,
                    SoupServerMessage *msg,
                    gpointer user_data)
{
  GUri *uri = soup_server_message_get_uri (msg);

  g_debug ("%s %s aborted", soup_server_message_get_method (msg),
           uri != NULL ? g_uri_get_path (uri) : "?");
}

/* Handlers */

static void
handle_upload (BackupServer *self,
               SoupServerMessage *msg,
               RequestState *state)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Namespace *ns = state->ns;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (BackupServerUpload) upload = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autofree char *base = NULL;
  gint64 now = g_get_real_time ();
  gint64 expires = now + self->max_expiry * G_USEC_PER_SEC;
  guint64 charge = 0;
  guint64 extra;
  char key[BACKUP_SERVER_FILE_KEY_LEN + 1];
  StoredFile *file;

  body = request_state_steal_body (state, &charge);
  upload = backup_server_parse_upload (soup_message_headers_get_one (headers, "Content-Type"),
                                       body, now, &error);
  if (upload == NULL)
    {
      memory_budget_release (self->budget, charge);
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", error->message);
      return;
    }
  if (upload->has_expires)
    expires = MIN (expires, upload->expires);

  if (g_hash_table_size (ns->files) >= self->max_files_per_key)
    {
      memory_budget_release (self->budget, charge);
      set_error (msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "STORAGE_FULL",
                 "Too many files are stored for this API key");
      return;
    }

  extra = FILE_OVERHEAD + strlen (upload->name) + strlen (upload->mime_type);
  if (!memory_budget_reserve (self->budget, extra))
    {
      memory_budget_release (self->budget, charge);
      set_memory_full (msg);
      return;
    }

  do
    random_file_key (key);
  while (g_hash_table_contains (ns->files, key));

  file = g_new0 (StoredFile, 1);
  file->ns = ns;
  file->key = g_strdup (key);
  file->id = g_uuid_string_random ();
  file->name = g_steal_pointer (&upload->name);
  file->mime_type = g_steal_pointer (&upload->mime_type);
  /* A slice of the body, which stays whole: the budget counts all of it. */
  file->data = g_steal_pointer (&upload->content);
  file->charge = charge + extra;
  file->created = now;
  file->modified = now;
  file->expires = expires;
  file->serial = self->next_serial++;
  file->max_downloads = upload->max_downloads;
  file->auto_delete = upload->auto_delete;
  g_hash_table_insert (ns->files, file->key, file);
  file->expiry_iter = g_sequence_insert_sorted (self->by_expiry, file, compare_expiry, NULL);
  self->file_count++;
  schedule_expiry (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_COUNT]);
  g_debug ("stored file %s (%" G_GSIZE_FORMAT " bytes)", file->key, g_bytes_get_size (file->data));

  base = request_base (self, msg);
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
sort_function (BackupServerSort sort)
{
  switch (sort)
    {
    case BACKUP_SERVER_SORT_CREATED_DESC:
      return compare_created_desc;
    case BACKUP_SERVER_SORT_NAME_ASC:
      return compare_name_asc;
    case BACKUP_SERVER_SORT_NAME_DESC:
      return compare_name_desc;
    case BACKUP_SERVER_SORT_SIZE_ASC:
      return compare_size_asc;
    case BACKUP_SERVER_SORT_SIZE_DESC:
      return compare_size_desc;
    case BACKUP_SERVER_SORT_CREATED_ASC:
    default:
      return compare_created_asc;
    }
}

static void
handle_list (BackupServer *self,
             SoupServerMessage *msg,
             Namespace *ns,
             GHashTable *query)
{
  BackupServerListQuery list;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *base = request_base (self, msg);
  GHashTableIter iter;
  gpointer value;
  guint64 first;

  if (!backup_server_parse_list_query (query, &list, &error))
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", error->message);
      return;
    }

  g_hash_table_iter_init (&iter, ns->files);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      StoredFile *file = value;

      if (backup_server_name_matches (file->name, list.search))
        g_ptr_array_add (nodes, file);
    }
  g_ptr_array_sort (nodes, sort_function (list.sort));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, 200);
  json_builder_set_member_name (builder, "nodes");
  json_builder_begin_array (builder);
  /* page ≤ 2^31 and limit ≤ 1000 when a limit is given. */
  first = list.limit == G_MAXUINT64 ? 0 : (list.page - 1) * list.limit;
  for (guint64 i = first; i < nodes->len && i - first < list.limit; i++)
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
  g_autoptr (JsonBuilder) builder = NULL;

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
  BackupServerRoute route;

  /* early_handler() accepted this request, so both hold. */
  if (state == NULL || state->ns == NULL || !backup_server_parse_route (path, &route, &key))
    {
      set_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "INTERNAL", "Internal error");
      return;
    }

  remove_expired (self);

  if (route == BACKUP_SERVER_ROUTE_ROOT && strcmp (method, SOUP_METHOD_POST) == 0)
    handle_upload (self, msg, state);
  else if (route == BACKUP_SERVER_ROUTE_ROOT)
    handle_list (self, msg, state->ns, query);
  else if (strcmp (method, SOUP_METHOD_DELETE) == 0)
    handle_delete (self, msg, state->ns, key);
  else if (route == BACKUP_SERVER_ROUTE_FILE && self->redirect_downloads)
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
  self->budget->limit = options->max_memory;

  for (guint i = 0; options->api_keys != NULL && options->api_keys[i] != NULL; i++)
    {
      char *digest;

      if (!backup_server_api_key_is_valid (options->api_keys[i]))
        {
          g_warning ("Ignoring an API key that is not 1 to %d printable ASCII characters",
                     BACKUP_SERVER_MAX_API_KEY_LEN);
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

/* The listen queue the system allows: connections that arrive together
 * wait there until they are accepted. */
static int
listen_backlog (void)
{
  g_autofree char *text = NULL;
  guint64 value;

  if (g_file_get_contents ("/proc/sys/net/core/somaxconn", &text, NULL, NULL) &&
      g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXINT, &value, NULL))
    return (int) value;
  return SOMAXCONN;
}

static GSocket *
listening_socket (GInetAddress *address,
                  guint16 port,
                  GError **error)
{
  g_autoptr (GSocketAddress) socket_address = g_inet_socket_address_new (address, port);
  GSocketFamily family = g_inet_address_get_family (address);
  g_autoptr (GSocket) socket = NULL;

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  /* An IPv6 address is that address only, not the IPv4 ones too. */
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);

  g_socket_set_listen_backlog (socket, listen_backlog ());
  if (!g_socket_bind (socket, socket_address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  return g_steal_pointer (&socket);
}

gboolean
backup_server_listen (BackupServer *self,
                      GError **error)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) local_error = NULL;
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
  if (self->max_upload_size == 0 || self->max_files_per_key == 0 || self->budget->limit == 0)
    {
      g_set_error_literal (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_INVALID_OPTION,
                           "The upload size, file count and memory limits must be at least 1");
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
      self->certificate = g_tls_certificate_new_from_files (self->tls_cert_file,
                                                            self->tls_key_file, &local_error);
      if (self->certificate == NULL)
        {
          g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_TLS,
                       "Cannot load the TLS certificate and key: %s", local_error->message);
          return FALSE;
        }
      self->scheme = "https";
    }

  self->listener = listening_socket (address, (guint16) self->port, &local_error);
  if (self->listener == NULL)
    {
      g_clear_object (&self->certificate);
      g_set_error (error, BACKUP_SERVER_ERROR, BACKUP_SERVER_ERROR_LISTEN,
                   "Cannot listen on %s port %u: %s", self->listen_address, self->port,
                   local_error->message);
      return FALSE;
    }

  local = g_socket_get_local_address (self->listener, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (local))
    self->bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  accept_start (self);

  host = g_inet_address_to_string (address);
  self->uri = g_uri_join (G_URI_FLAGS_NONE, self->scheme, NULL, host, (gint) self->bound_port,
                          "/", NULL, NULL);
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

guint64
backup_server_get_memory_used (BackupServer *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER (self), 0);

  return self->budget->used;
}

guint
backup_server_get_connection_count (BackupServer *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER (self), 0);

  return self->connections.length;
}

static void
backup_server_dispose (GObject *object)
{
  BackupServer *self = BACKUP_SERVER (object);

  clear_source (&self->expiry_source);
  clear_source (&self->accept_source);
  clear_source (&self->accept_retry);
  if (self->listener != NULL)
    {
      g_socket_close (self->listener, NULL);
      g_clear_object (&self->listener);
    }

  /* SoupServer closes the connections it has; the others are closed here. */
  if (self->soup != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->soup, self);
      soup_server_remove_handler (self->soup, NULL);
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }
  while (self->connections.head != NULL)
    connection_close (self->connections.head->data);

  G_OBJECT_CLASS (backup_server_parent_class)->dispose (object);
}

static void
backup_server_finalize (GObject *object)
{
  BackupServer *self = BACKUP_SERVER (object);

  g_sequence_free (self->by_expiry);
  g_hash_table_unref (self->namespaces);
  memory_budget_unref (self->budget);
  g_clear_object (&self->certificate);
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
  self->budget = memory_budget_new (BACKUP_SERVER_DEFAULT_MAX_MEMORY);
  self->scheme = "http";
  self->max_upload_size = BACKUP_SERVER_DEFAULT_MAX_UPLOAD_SIZE;
  self->max_files_per_key = BACKUP_SERVER_DEFAULT_MAX_FILES_PER_KEY;
  self->rate_window_ms = BACKUP_SERVER_DEFAULT_RATE_WINDOW_MS;
  self->max_expiry = BACKUP_SERVER_DEFAULT_MAX_EXPIRY;
  self->request_timeout_ms = BACKUP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS;

  self->soup = soup_server_new ("server-header", "distributed-backup-server/" PACKAGE_VERSION,
                                NULL);
  g_signal_connect_object (self->soup, "request-started", G_CALLBACK (on_request_started),
                           self, 0);
  g_signal_connect_object (self->soup, "request-aborted", G_CALLBACK (on_request_aborted),
                           self, 0);
  soup_server_add_early_handler (self->soup, NULL, early_handler, self, NULL);
  soup_server_add_handler (self->soup, NULL, request_handler, self, NULL);
}
