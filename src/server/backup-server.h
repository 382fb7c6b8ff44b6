/* backup-server.h: a small FILE.io-compatible store for signaling files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * BackupServer answers the part of the FILE.io HTTP API that peers use to
 * exchange their small signaling files: upload (POST /), list
 * (GET /?search=…&sort=…), download (GET /KEY, once by default) and delete
 * (DELETE /KEY). Files live in memory only and are removed when they expire,
 * when their last allowed download is done, or when deleted.
 *
 * Authentication: "Authorization: Bearer KEY" or the bare "Authorization: KEY".
 * Without configured API keys the server is open and every request shares one
 * namespace; with keys, each key has a namespace of its own and any other
 * request is answered 401.
 *
 * Statuses chosen where FILE.io leaves room:
 *  - 404 for DELETE or GET of an unknown, expired or already downloaded key
 *    (clients treat 403 and 404 on DELETE alike: the file is gone);
 *  - 413 for a request body larger than max-upload-size (the whole body,
 *    multipart framing included), refused from Content-Length when it is
 *    announced and while the body streams in otherwise;
 *  - 507 (code "STORAGE_FULL") when a namespace already holds
 *    max-files-per-key files, or when an upload does not fit in the memory
 *    budget (max-memory: the bytes of all stored files and of the upload
 *    bodies being received, counted whole, multipart framing included):
 *    retrying only helps once files expire or are deleted, so it is kept
 *    apart from the 429 of the rate limit;
 *  - 429 with Retry-After (seconds) when a namespace sent more than
 *    rate-limit requests within the rate window (one minute by default).
 *
 * A connection must deliver each request within request-timeout-ms of its
 * start or of the previous answer (so an idle kept-alive connection is
 * closed after that time), or it is closed without an answer. So are
 * connections whose refused body goes on for more than 16 MiB, and request
 * heads larger than libsoup's limit (100 KiB). Connections are accepted with
 * the system's listen backlog; when the process runs out of file
 * descriptors, new ones wait in the listen queue until some are free.
 *
 * A BackupServer lives on the thread-default main context of the thread that
 * created it; it is not thread-safe.
 */
#pragma once

#include <gio/gio.h>

#include "backup-server-request.h"

G_BEGIN_DECLS

#define BACKUP_SERVER_DEFAULT_PORT              8080
#define BACKUP_SERVER_DEFAULT_MAX_UPLOAD_SIZE   (1024 * 1024)
#define BACKUP_SERVER_DEFAULT_MAX_FILES_PER_KEY 1000
#define BACKUP_SERVER_DEFAULT_MAX_EXPIRY        (24 * 60 * 60) /* seconds */
#define BACKUP_SERVER_DEFAULT_RATE_WINDOW_MS    (60 * 1000)
#define BACKUP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS (30 * 1000)
#define BACKUP_SERVER_DEFAULT_MAX_MEMORY        (64 * 1024 * 1024)

/* Settings of a server. The strings are borrowed: backup_server_new() copies
 * what it keeps. Start from backup_server_options_init(). */
typedef struct
{
  const char *listen_address;      /* an IP literal; NULL means 127.0.0.1 */
  guint port;                      /* 0 picks a free port */
  const char *const *api_keys;     /* NULL-terminated; NULL or empty: open server */
  const char *tls_cert_file;       /* PEM; both set: HTTPS */
  const char *tls_key_file;
  guint64 max_upload_size;         /* bytes of one request body */
  guint max_files_per_key;         /* files one namespace may hold */
  guint rate_limit;                /* requests per window and namespace; 0: no limit */
  guint rate_window_ms;            /* the sliding window of the rate limit */
  gint64 max_expiry;               /* seconds; later expiry dates are capped */
  gboolean redirect_downloads;     /* GET /KEY answers 302 to /download/KEY */
  guint request_timeout_ms;        /* a request must be read by then (from the start of
                                    * the connection or the previous answer), or the
                                    * connection is dropped */
  guint64 max_memory;              /* bytes of files and upload bodies held at once */
} BackupServerOptions;

void backup_server_options_init (BackupServerOptions *options);

#define BACKUP_TYPE_SERVER (backup_server_get_type ())
G_DECLARE_FINAL_TYPE (BackupServer, backup_server, BACKUP, SERVER, GObject)

BackupServer *backup_server_new (const BackupServerOptions *options);

/* Opens the listening socket (and loads the TLS certificate). Requests are
 * served from the thread-default main context of the caller. */
gboolean backup_server_listen (BackupServer *self,
                               GError **error);

/* "http://127.0.0.1:PORT/" (https with TLS, the real port); NULL before
 * backup_server_listen() succeeded. */
const char *backup_server_get_uri (BackupServer *self);

guint backup_server_get_port (BackupServer *self);

/* Number of files stored, over every namespace. */
guint backup_server_get_file_count (BackupServer *self);

/* Bytes counted in the memory budget: stored files and upload bodies being
 * received. */
guint64 backup_server_get_memory_used (BackupServer *self);

/* Client connections open (accepted and not closed yet). */
guint backup_server_get_connection_count (BackupServer *self);

G_END_DECLS
