/* backup-server-request.h: what BackupServer reads from a request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, without I/O or server state, over the parts of a request
 * that come from the client: the path, the query of a listing, the
 * Authorization header and the multipart/form-data body of an upload. Each
 * checks lengths and characters and refuses what it does not understand;
 * errors are BACKUP_SERVER_ERROR_BAD_REQUEST with a message meant for the
 * client.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BACKUP_SERVER_ERROR (backup_server_error_quark ())

typedef enum
{
  BACKUP_SERVER_ERROR_FAILED,
  BACKUP_SERVER_ERROR_INVALID_OPTION, /* a bad address, duration, key or limit */
  BACKUP_SERVER_ERROR_TLS,            /* the certificate or key cannot be used */
  BACKUP_SERVER_ERROR_LISTEN,         /* the listening socket cannot be opened */
  BACKUP_SERVER_ERROR_BAD_REQUEST,    /* a request the server does not understand */
} BackupServerError;

GQuark backup_server_error_quark (void);

/* Parses "90", "10m", "1h", "1d", "1w" (also "s", "M" for 30 days and "y" for
 * 365 days) into a positive number of seconds. */
gboolean backup_server_parse_duration (const char *text,
                                       gint64 *seconds,
                                       GError **error);

/* TRUE when @key can be an API key: 1 to 256 printable ASCII characters, no
 * space. */
gboolean backup_server_api_key_is_valid (const char *key);

#define BACKUP_SERVER_FILE_KEY_LEN    12   /* characters of the keys the server hands out */
#define BACKUP_SERVER_MAX_KEY_LEN     64   /* longest key accepted in a path */
#define BACKUP_SERVER_MAX_NAME_LEN    255  /* bytes of a stored file name */
#define BACKUP_SERVER_MAX_PATH_LEN    2048 /* bytes of a request path */
#define BACKUP_SERVER_MAX_QUERY_LEN   4096 /* bytes of a request query */
#define BACKUP_SERVER_MAX_FIELD_LEN   64   /* bytes of a form field other than the file */
#define BACKUP_SERVER_MAX_PARTS       16   /* parts of one multipart upload */
#define BACKUP_SERVER_MAX_PART_HEAD   8192 /* bytes of the headers of one part */
#define BACKUP_SERVER_MAX_PAGE_LIMIT  1000
#define BACKUP_SERVER_MAX_API_KEY_LEN 256

typedef enum
{
  BACKUP_SERVER_ROUTE_ROOT,     /* "/": list (GET) and upload (POST) */
  BACKUP_SERVER_ROUTE_FILE,     /* "/KEY": download (GET) and delete (DELETE) */
  BACKUP_SERVER_ROUTE_DOWNLOAD, /* "/download/KEY": download (GET) */
} BackupServerRoute;

/* Routes a decoded request path; @key points into @path. FALSE when the
 * path names nothing the server has. */
gboolean backup_server_parse_route (const char *path,
                                    BackupServerRoute *route,
                                    const char **key);

/* @method is one of libsoup's interned SOUP_METHOD_* strings or any other
 * method name. */
gboolean backup_server_route_allows (BackupServerRoute route,
                                     const char *method);

/* The value of the Allow header for @route. */
const char *backup_server_route_allowed_methods (BackupServerRoute route);

/* 1 to 64 characters of [A-Za-z0-9_-]. */
gboolean backup_server_file_key_is_valid (const char *key);

/* 1 to 255 bytes of UTF-8, no control character, no slash or backslash,
 * not "." or "..". */
gboolean backup_server_file_name_is_valid (const char *name);

/* The API key of an Authorization header value, "Bearer KEY" (any case,
 * spaces or tabs around) or the bare KEY; NULL when there is no valid key. */
char *backup_server_parse_authorization (const char *value);

/* An absolute expiry (wall clock, µs) from FILE.io's "expires" field: a
 * duration (see backup_server_parse_duration()) counted from @now, or a
 * future ISO 8601 date ("2030-01-31") or date and time. */
gboolean backup_server_parse_expiry (const char *text,
                                     gint64 now,
                                     gint64 *expires);

typedef enum
{
  BACKUP_SERVER_SORT_CREATED_ASC,
  BACKUP_SERVER_SORT_CREATED_DESC,
  BACKUP_SERVER_SORT_NAME_ASC,
  BACKUP_SERVER_SORT_NAME_DESC,
  BACKUP_SERVER_SORT_SIZE_ASC,
  BACKUP_SERVER_SORT_SIZE_DESC,
} BackupServerSort;

typedef struct
{
  const char *search;    /* borrowed from the query; NULL or "" matches everything */
  BackupServerSort sort; /* created:asc unless asked otherwise */
  guint64 page;          /* from 1 */
  guint64 limit;         /* nodes a page; G_MAXUINT64 without a limit */
} BackupServerListQuery;

/* Reads search, sort, page and limit from a decoded query (name → value, as
 * libsoup hands it to handlers; NULL for no query). */
gboolean backup_server_parse_list_query (GHashTable *query,
                                         BackupServerListQuery *list,
                                         GError **error);

/* Substring match of @pattern in @name, where '*' stands for any run of
 * characters; an empty or NULL pattern matches everything. */
gboolean backup_server_name_matches (const char *name,
                                     const char *pattern);

/* A file upload, read from its multipart/form-data body. */
typedef struct
{
  GBytes *content;     /* a slice of the body: no copy */
  char *name;          /* the file name, valid for backup_server_file_name_is_valid() */
  char *mime_type;     /* of the file part; application/octet-stream without one */
  gboolean has_expires;
  gint64 expires;      /* wall clock, µs, when has_expires */
  guint max_downloads; /* 1 unless given */
  gboolean auto_delete; /* TRUE unless given */
} BackupServerUpload;

void backup_server_upload_free (BackupServerUpload *upload);

/* Parses the body of an upload in place. @content_type is the request's
 * Content-Type header value (NULL when missing) and @now the wall clock (µs)
 * that relative expiry times count from. */
BackupServerUpload *backup_server_parse_upload (const char *content_type,
                                                GBytes *body,
                                                gint64 now,
                                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupServerUpload, backup_server_upload_free)

G_END_DECLS
