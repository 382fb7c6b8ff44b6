/* backup-s3.c: a small client for S3-compatible object storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request goes through s3_request_perform(): it builds the URL (path
 * style or virtual-hosted), lets libcurl sign it (SigV4), sends the body from
 * memory, hands a successful answer's body to a sink or keeps it for parsing,
 * and turns any failure into one BACKUP_S3_ERROR line. Answers are parsed with
 * GMarkup into a tiny element tree (s3_xml_*).
 */
#include "config.h"

#include "backup-s3.h"

#include <curl/curl.h>
#include <string.h>

/* An answer we keep in memory (error documents, listings) is never larger. */
#define S3_MAX_RESPONSE_SIZE (16 * 1024 * 1024)
/* Keys per DeleteObjects request (the protocol's limit). */
#define S3_MAX_DELETE_KEYS 1000
/* Idle easy handles kept for reuse (each keeps its connections). */
#define S3_MAX_POOLED_HANDLES 4
#define S3_CONNECT_TIMEOUT_S 30
/* A transfer slower than 1 byte/s for this long has stalled. */
#define S3_STALL_TIMEOUT_S 120

/* Parts of backup_s3_client_upload_stream() unless told otherwise. */
#define S3_DEFAULT_PART_SIZE (8 * 1024 * 1024)

#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

G_DEFINE_QUARK (backup-s3-error-quark, backup_s3_error)

struct _BackupS3Client
{
  GObject parent_instance;

  /* Set at construction, then read-only. */
  char *endpoint;    /* as given, for messages: "http://127.0.0.1:8000" */
  char *scheme;      /* "http" or "https" */
  char *host;        /* host name or address, IPv6 without brackets */
  int port;          /* -1: the scheme's default */
  char *base_path;   /* "" or "/some/prefix" without a trailing slash */
  char *region;

  GMutex lock;       /* protects everything below */
  gboolean path_style;
  gboolean insecure;
  gboolean send_checksums;
  char *ca_file;
  char *access_key_id;
  char *secret_access_key;
  char *session_token;
  GPtrArray *idle_handles; /* CURL * */
};

enum
{
  PROP_0,
  PROP_ENDPOINT,
  PROP_REGION,
  PROP_PATH_STYLE,
  PROP_CA_FILE,
  PROP_INSECURE,
  PROP_SEND_CHECKSUMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (BackupS3Client, backup_s3_client, G_TYPE_OBJECT)

/* ---- boxed types ---- */

BackupS3ObjectInfo *
backup_s3_object_info_copy (const BackupS3ObjectInfo *info)
{
  BackupS3ObjectInfo *copy = g_new0 (BackupS3ObjectInfo, 1);

  copy->key = g_strdup (info->key);
  copy->size = info->size;
  copy->etag = g_strdup (info->etag);
  copy->last_modified = info->last_modified ? g_date_time_ref (info->last_modified) : NULL;
  copy->checksum_sha256 = g_strdup (info->checksum_sha256);
  return copy;
}

void
backup_s3_object_info_free (BackupS3ObjectInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->key);
  g_free (info->etag);
  g_clear_pointer (&info->last_modified, g_date_time_unref);
  g_free (info->checksum_sha256);
  g_free (info);
}

G_DEFINE_BOXED_TYPE (BackupS3ObjectInfo, backup_s3_object_info,
                     backup_s3_object_info_copy, backup_s3_object_info_free)

BackupS3UploadInfo *
backup_s3_upload_info_copy (const BackupS3UploadInfo *info)
{
  BackupS3UploadInfo *copy = g_new0 (BackupS3UploadInfo, 1);

  copy->key = g_strdup (info->key);
  copy->upload_id = g_strdup (info->upload_id);
  copy->initiated = info->initiated ? g_date_time_ref (info->initiated) : NULL;
  return copy;
}

void
backup_s3_upload_info_free (BackupS3UploadInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->key);
  g_free (info->upload_id);
  g_clear_pointer (&info->initiated, g_date_time_unref);
  g_free (info);
}

G_DEFINE_BOXED_TYPE (BackupS3UploadInfo, backup_s3_upload_info,
                     backup_s3_upload_info_copy, backup_s3_upload_info_free)

BackupS3Part *
backup_s3_part_new (guint number, const char *etag, const char *checksum_sha256)
{
  BackupS3Part *part = g_new0 (BackupS3Part, 1);

  part->number = number;
  part->etag = g_strdup (etag);
  part->checksum_sha256 = g_strdup (checksum_sha256);
  return part;
}

BackupS3Part *
backup_s3_part_copy (const BackupS3Part *part)
{
  return backup_s3_part_new (part->number, part->etag, part->checksum_sha256);
}

void
backup_s3_part_free (BackupS3Part *part)
{
  if (part == NULL)
    return;
  g_free (part->etag);
  g_free (part->checksum_sha256);
  g_free (part);
}

G_DEFINE_BOXED_TYPE (BackupS3Part, backup_s3_part, backup_s3_part_copy, backup_s3_part_free)

/* ---- small helpers ---- */

static void
secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* RFC 3986 unreserved characters stay; everything else is %XX (upper case),
 * as SigV4 canonicalisation expects. '/' stays when @keep_slash. */
static void
append_uri_encoded (GString *out, const char *text, gboolean keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~'
          || (keep_slash && *p == '/'))
        g_string_append_c (out, (char) *p);
      else
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, hex[*p >> 4]);
          g_string_append_c (out, hex[*p & 0xf]);
        }
    }
}

typedef struct
{
  const char *name;
  char *value; /* owned; "" for a bare sub-resource such as "uploads" */
} S3QueryParam;

static int
query_param_compare (gconstpointer a, gconstpointer b)
{
  return strcmp (((const S3QueryParam *) a)->name, ((const S3QueryParam *) b)->name);
}

static void
query_param_clear (gpointer data)
{
  g_free (((S3QueryParam *) data)->value);
}

static GArray *
query_new (void)
{
  GArray *query = g_array_new (FALSE, TRUE, sizeof (S3QueryParam));

  g_array_set_clear_func (query, query_param_clear);
  return query;
}

static void
query_add (GArray *query, const char *name, const char *value)
{
  S3QueryParam param = { name, g_strdup (value != NULL ? value : "") };

  g_array_append_val (query, param);
}

/* The canonical form: sorted by name, both sides encoded, "name=" for an
 * empty value. curl 7.88 signs the query as it is in the URL, and later
 * versions normalise it to this same form. */
static char *
query_to_string (GArray *query)
{
  GString *out = g_string_new (NULL);

  if (query == NULL)
    return g_string_free (out, FALSE);
  g_array_sort (query, query_param_compare);
  for (guint i = 0; i < query->len; i++)
    {
      const S3QueryParam *param = &g_array_index (query, S3QueryParam, i);

      if (i > 0)
        g_string_append_c (out, '&');
      append_uri_encoded (out, param->name, FALSE);
      g_string_append_c (out, '=');
      append_uri_encoded (out, param->value, FALSE);
    }
  return g_string_free (out, FALSE);
}

static char *
sha256_hex (const guint8 *data, gsize length)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, length);
}

static char *
checksum_base64 (GChecksumType type, const guint8 *data, gsize length)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (type);
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  g_checksum_update (checksum, data, length);
  g_checksum_get_digest (checksum, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

/* "Sun, 06 Dec 2026 13:55:00 GMT" (RFC 7231) */
static GDateTime *
parse_http_date (const char *text)
{
  time_t t;

  if (text == NULL)
    return NULL;
  t = curl_getdate (text, NULL);
  if (t == (time_t) -1)
    return NULL;
  return g_date_time_new_from_unix_utc ((gint64) t);
}

/* "2026-12-06T13:55:00.000Z" */
static GDateTime *
parse_iso_date (const char *text)
{
  if (text == NULL || *text == '\0')
    return NULL;
  return g_date_time_new_from_iso8601 (text, NULL);
}

/* ---- a tiny XML tree built with GMarkup ---- */

typedef struct S3XmlNode S3XmlNode;
struct S3XmlNode
{
  char *name;
  GString *text;
  GPtrArray *children; /* S3XmlNode *, or NULL */
  S3XmlNode *parent;
};

static void
s3_xml_node_free (S3XmlNode *node)
{
  if (node == NULL)
    return;
  g_free (node->name);
  g_string_free (node->text, TRUE);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S3XmlNode, s3_xml_node_free)

typedef struct
{
  S3XmlNode *root;
  S3XmlNode *current;
  guint depth;
} S3XmlBuilder;

#define S3_XML_MAX_DEPTH 16

static void
s3_xml_start (GMarkupParseContext *context,
              const char *element_name,
              const char **attribute_names,
              const char **attribute_values,
              gpointer user_data,
              GError **error)
{
  S3XmlBuilder *builder = user_data;
  S3XmlNode *node;
  const char *colon;

  if (++builder->depth > S3_XML_MAX_DEPTH)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "elements nested too deeply");
      return;
    }
  if (builder->root != NULL && builder->current == NULL)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "more than one root element");
      return;
    }
  node = g_new0 (S3XmlNode, 1);
  /* Drop a namespace prefix: S3 answers use a default namespace anyway. */
  colon = strchr (element_name, ':');
  node->name = g_strdup (colon != NULL ? colon + 1 : element_name);
  node->text = g_string_new (NULL);
  node->parent = builder->current;
  if (builder->current == NULL)
    builder->root = node;
  else
    {
      if (builder->current->children == NULL)
        builder->current->children =
          g_ptr_array_new_with_free_func ((GDestroyNotify) s3_xml_node_free);
      g_ptr_array_add (builder->current->children, node);
    }
  builder->current = node;
}

static void
s3_xml_end (GMarkupParseContext *context,
            const char *element_name,
            gpointer user_data,
            GError **error)
{
  S3XmlBuilder *builder = user_data;

  builder->depth--;
  if (builder->current != NULL)
    builder->current = builder->current->parent;
}

static void
s3_xml_text (GMarkupParseContext *context,
             const char *text,
             gsize text_len,
             gpointer user_data,
             GError **error)
{
  S3XmlBuilder *builder = user_data;

  if (builder->current != NULL)
    g_string_append_len (builder->current->text, text, (gssize) text_len);
}

static const GMarkupParser s3_xml_parser = {
  s3_xml_start, s3_xml_end, s3_xml_text, NULL, NULL,
};

static S3XmlNode *
s3_xml_parse (const char *data, gsize length, GError **error)
{
  S3XmlBuilder builder = { NULL, NULL, 0 };
  g_autoptr (GMarkupParseContext) context = NULL;

  context = g_markup_parse_context_new (&s3_xml_parser, G_MARKUP_PREFIX_ERROR_POSITION,
                                        &builder, NULL);
  if (!g_markup_parse_context_parse (context, data, (gssize) length, error)
      || !g_markup_parse_context_end_parse (context, error))
    {
      s3_xml_node_free (builder.root);
      return NULL;
    }
  if (builder.root == NULL)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "no element");
      return NULL;
    }
  return builder.root;
}

static S3XmlNode *
s3_xml_child (const S3XmlNode *node, const char *name)
{
  if (node == NULL || node->children == NULL)
    return NULL;
  for (guint i = 0; i < node->children->len; i++)
    {
      S3XmlNode *child = g_ptr_array_index (node->children, i);

      if (g_str_equal (child->name, name))
        return child;
    }
  return NULL;
}

static const char *
s3_xml_child_text (const S3XmlNode *node, const char *name)
{
  S3XmlNode *child = s3_xml_child (node, name);

  return child != NULL ? child->text->str : NULL;
}

static gboolean
s3_xml_child_true (const S3XmlNode *node, const char *name)
{
  return g_strcmp0 (s3_xml_child_text (node, name), "true") == 0;
}

/* ---- easy handles ---- */

static gpointer
curl_init_once (gpointer data)
{
  CURLcode code = curl_global_init (CURL_GLOBAL_DEFAULT);

  return GINT_TO_POINTER (code == CURLE_OK);
}

static CURL *
take_handle (BackupS3Client *self)
{
  CURL *curl = NULL;

  g_mutex_lock (&self->lock);
  if (self->idle_handles->len > 0)
    curl = g_ptr_array_steal_index_fast (self->idle_handles, self->idle_handles->len - 1);
  g_mutex_unlock (&self->lock);
  if (curl != NULL)
    curl_easy_reset (curl);
  else
    curl = curl_easy_init ();
  return curl;
}

static void
give_back_handle (BackupS3Client *self, CURL *curl)
{
  if (curl == NULL)
    return;
  g_mutex_lock (&self->lock);
  if (self->idle_handles->len < S3_MAX_POOLED_HANDLES)
    {
      g_ptr_array_add (self->idle_handles, curl);
      curl = NULL;
    }
  g_mutex_unlock (&self->lock);
  if (curl != NULL)
    curl_easy_cleanup (curl);
}

/* ---- requests ---- */

typedef struct
{
  BackupS3Client *client;
  const char *method;   /* GET HEAD PUT POST DELETE */
  const char *bucket;   /* NULL: the service itself */
  const char *key;      /* NULL: the bucket itself */
  GArray *query;        /* S3QueryParam, or NULL */
  GBytes *body;         /* NULL: none */
  const char *content_type;
  GPtrArray *headers;   /* extra "Name: value" lines, or NULL */
  BackupS3DataFunc sink; /* a 2xx answer's body, or NULL to keep it */
  gpointer sink_data;
  GCancellable *cancellable;

  /* Results */
  CURL *curl;
  long status;
  GByteArray *response;
  GHashTable *response_headers; /* lower-case name → value */
  GError *sink_error;
  gboolean too_large;
} S3Request;

static void
s3_request_clear (S3Request *req)
{
  g_clear_pointer (&req->response, g_byte_array_unref);
  g_clear_pointer (&req->response_headers, g_hash_table_unref);
  g_clear_error (&req->sink_error);
}

static const char *
s3_request_header (S3Request *req, const char *name)
{
  return req->response_headers ? g_hash_table_lookup (req->response_headers, name) : NULL;
}

static size_t
on_header (char *buffer, size_t size, size_t nitems, void *user_data)
{
  S3Request *req = user_data;
  size_t length = size * nitems;
  g_autofree char *line = g_strndup (buffer, length);
  char *colon;

  g_strchomp (line);
  if (g_str_has_prefix (line, "HTTP/"))
    {
      /* A new answer (after a 100 Continue, say): forget the headers so far. */
      g_hash_table_remove_all (req->response_headers);
      return length;
    }
  colon = strchr (line, ':');
  if (colon != NULL && colon != line)
    {
      *colon = '\0';
      g_hash_table_replace (req->response_headers, g_ascii_strdown (line, -1),
                            g_strdup (g_strstrip (colon + 1)));
    }
  return length;
}

static size_t
on_write (char *data, size_t size, size_t nmemb, void *user_data)
{
  S3Request *req = user_data;
  size_t length = size * nmemb;
  long status = 0;

  if (g_cancellable_is_cancelled (req->cancellable))
    return 0;
  /* The status line is known by the time the body arrives. */
  curl_easy_getinfo (req->curl, CURLINFO_RESPONSE_CODE, &status);
  if (req->sink != NULL && status >= 200 && status < 300)
    {
      if (!req->sink ((const guint8 *) data, length, req->sink_data, &req->sink_error))
        return 0;
      return length;
    }
  if (req->response->len + length > S3_MAX_RESPONSE_SIZE)
    {
      req->too_large = TRUE;
      return 0;
    }
  g_byte_array_append (req->response, (const guint8 *) data, (guint) length);
  return length;
}

static int
on_progress (void *user_data, curl_off_t dltotal, curl_off_t dlnow,
             curl_off_t ultotal, curl_off_t ulnow)
{
  S3Request *req = user_data;

  return g_cancellable_is_cancelled (req->cancellable) ? 1 : 0;
}

/* The object's address, for messages: “bucket/key” or “bucket”. */
static char *
s3_request_target (S3Request *req)
{
  if (req->bucket == NULL)
    return g_strdup ("");
  if (req->key == NULL)
    return g_strdup (req->bucket);
  return g_strdup_printf ("%s/%s", req->bucket, req->key);
}

static void
set_error_from_answer (S3Request *req, const char *access_key_id, GError **error)
{
  BackupS3Client *self = req->client;
  g_autoptr (S3XmlNode) doc = NULL;
  g_autofree char *target = s3_request_target (req);
  const char *code = NULL;
  const char *message = NULL;
  const char *endpoint = self->endpoint;
  const char *bucket = req->bucket != NULL ? req->bucket : "";

  if (req->response->len > 0)
    doc = s3_xml_parse ((const char *) req->response->data, req->response->len, NULL);
  if (doc != NULL && g_str_equal (doc->name, "Error"))
    {
      code = s3_xml_child_text (doc, "Code");
      message = s3_xml_child_text (doc, "Message");
      if (message != NULL && *message == '\0')
        message = NULL;
    }
  if (code == NULL || *code == '\0')
    {
      /* HEAD answers have no body: go by the status. */
      switch (req->status)
        {
        case 403:
          /* Wrong keys look the same as a missing permission here. */
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_ACCESS_DENIED,
                       "S3: access denied for bucket “%s” at %s "
                       "(HTTP 403: wrong keys or no permission)",
                       bucket, endpoint);
          return;
        case 404:
          code = req->key != NULL ? "NoSuchKey" : "NoSuchBucket";
          break;
        default:
          code = NULL;
        }
    }

  if (g_strcmp0 (code, "AccessDenied") == 0 || g_strcmp0 (code, "AllAccessDisabled") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_ACCESS_DENIED,
                 "S3: access denied for bucket “%s” at %s (%s)", bucket, endpoint, code);
  else if (g_strcmp0 (code, "SignatureDoesNotMatch") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_BAD_CREDENTIALS,
                 "S3: wrong secret key for access key “%s” at %s (%s)",
                 access_key_id, endpoint, code);
  else if (g_strcmp0 (code, "InvalidAccessKeyId") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_BAD_CREDENTIALS,
                 "S3: unknown access key “%s” at %s (%s)", access_key_id, endpoint, code);
  else if (g_strcmp0 (code, "InvalidToken") == 0 || g_strcmp0 (code, "ExpiredToken") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_BAD_CREDENTIALS,
                 "S3: the session token was refused at %s (%s)", endpoint, code);
  else if (g_strcmp0 (code, "NoSuchBucket") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_BUCKET,
                 "S3: no bucket “%s” at %s (%s)", bucket, endpoint, code);
  else if (g_strcmp0 (code, "NoSuchKey") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NOT_FOUND,
                 "S3: no object “%s” in bucket “%s” at %s (%s)",
                 req->key != NULL ? req->key : "", bucket, endpoint, code);
  else if (g_strcmp0 (code, "NoSuchUpload") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_NO_SUCH_UPLOAD,
                 "S3: the multipart upload of “%s” is gone at %s (%s)", target, endpoint, code);
  else if (g_strcmp0 (code, "BadDigest") == 0 || g_strcmp0 (code, "InvalidDigest") == 0
           || g_strcmp0 (code, "XAmzContentSHA256Mismatch") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_CORRUPT,
                 "S3: data for “%s” did not arrive intact at %s (%s)", target, endpoint, code);
  else if (g_strcmp0 (code, "InvalidPart") == 0 || g_strcmp0 (code, "InvalidPartOrder") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                 "S3: the parts listed for “%s” do not match the uploaded ones at %s (%s)",
                 target, endpoint, code);
  else if (g_strcmp0 (code, "EntityTooSmall") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                 "S3: a part of “%s” is smaller than 5 MiB at %s (%s)", target, endpoint, code);
  else if (g_strcmp0 (code, "RequestTimeTooSkewed") == 0)
    g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_CLOCK_SKEW,
                 "S3: this computer’s clock is too far from the time at %s (%s)", endpoint, code);
  else if (code != NULL)
    g_set_error (error, BACKUP_S3_ERROR,
                 req->status >= 500 ? BACKUP_S3_ERROR_SERVER
                 : req->status == 403 ? BACKUP_S3_ERROR_ACCESS_DENIED
                 : BACKUP_S3_ERROR_FAILED,
                 "S3: %s “%s” failed at %s with HTTP %ld%s%s (%s)",
                 req->method, target, endpoint, req->status,
                 message != NULL ? ": " : "", message != NULL ? message : "", code);
  else
    g_set_error (error, BACKUP_S3_ERROR,
                 req->status >= 500 ? BACKUP_S3_ERROR_SERVER : BACKUP_S3_ERROR_FAILED,
                 "S3: %s “%s” failed at %s with HTTP %ld",
                 req->method, target, endpoint, req->status);
}

static void
set_error_from_curl (S3Request *req, CURLcode code, const char *errbuf, GError **error)
{
  BackupS3Client *self = req->client;
  const char *detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror (code);

  switch (code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_CONNECT,
                   "S3: cannot reach %s: %s", self->endpoint, detail);
      break;
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_TIMEOUT,
                   "S3: %s did not answer in time: %s", self->endpoint, detail);
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_TLS,
                   "S3: TLS failure with %s: %s", self->endpoint, detail);
      break;
    default:
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                   "S3: request to %s failed: %s", self->endpoint, detail);
      break;
    }
}

static gboolean
check_name (const char *bucket, const char *key, GError **error)
{
  gsize len;

  if (bucket != NULL)
    {
      len = strlen (bucket);
      if (len < 3 || len > 63 || strchr (bucket, '/') != NULL)
        {
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                       "S3: “%s” is not a valid bucket name", bucket);
          return FALSE;
        }
      for (const char *p = bucket; *p != '\0'; p++)
        if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '.' || *p == '_'))
          {
            g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                         "S3: “%s” is not a valid bucket name", bucket);
            return FALSE;
          }
    }
  if (key != NULL)
    {
      len = strlen (key);
      if (len == 0 || len > 1024 || !g_utf8_validate (key, (gssize) len, NULL))
        {
          g_set_error_literal (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                               "S3: an object key must be 1 to 1024 bytes of UTF-8");
          return FALSE;
        }
    }
  return TRUE;
}

static char *
s3_request_url (S3Request *req, gboolean path_style)
{
  BackupS3Client *self = req->client;
  GString *url = g_string_new (self->scheme);
  g_autofree char *query = query_to_string (req->query);
  gboolean ipv6 = strchr (self->host, ':') != NULL;

  g_string_append (url, "://");
  if (!path_style && req->bucket != NULL)
    g_string_append_printf (url, "%s.", req->bucket);
  g_string_append_printf (url, ipv6 ? "[%s]" : "%s", self->host);
  if (self->port > 0)
    g_string_append_printf (url, ":%d", self->port);
  g_string_append (url, self->base_path);
  g_string_append_c (url, '/');
  if (path_style && req->bucket != NULL)
    {
      append_uri_encoded (url, req->bucket, FALSE);
      if (req->key != NULL)
        g_string_append_c (url, '/');
    }
  if (req->key != NULL)
    append_uri_encoded (url, req->key, TRUE);
  if (*query != '\0')
    {
      g_string_append_c (url, '?');
      g_string_append (url, query);
    }
  return g_string_free (url, FALSE);
}

/* Runs @req. Fails unless the answer is 2xx; then req->response holds the
 * body (unless a sink took it) and req->response_headers the headers. */
static gboolean
s3_request_perform (S3Request *req, GError **error)
{
  BackupS3Client *self = req->client;
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  g_autofree char *url = NULL;
  g_autofree char *sigv4 = NULL;
  g_autofree char *payload_sha = NULL;
  g_autofree char *access_key_id = NULL;
  char *secret_access_key = NULL;
  g_autofree char *session_token = NULL;
  g_autofree char *ca_file = NULL;
  gboolean path_style, insecure;
  const guint8 *body = NULL;
  gsize body_len = 0;
  CURLcode code;
  gboolean ok = FALSE;

  if (g_cancellable_set_error_if_cancelled (req->cancellable, error))
    return FALSE;
  if (!check_name (req->bucket, req->key, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  path_style = self->path_style;
  insecure = self->insecure;
  ca_file = g_strdup (self->ca_file);
  access_key_id = g_strdup (self->access_key_id);
  secret_access_key = g_strdup (self->secret_access_key);
  session_token = g_strdup (self->session_token);
  g_mutex_unlock (&self->lock);

  if (access_key_id == NULL || secret_access_key == NULL)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: no credentials for %s (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                   self->endpoint);
      goto out;
    }

  curl = take_handle (self);
  if (curl == NULL)
    {
      g_set_error_literal (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                           "S3: cannot initialise libcurl");
      goto out;
    }

  req->status = 0;
  req->too_large = FALSE;
  req->response = g_byte_array_new ();
  req->response_headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (req->body != NULL)
    body = g_bytes_get_data (req->body, &body_len);
  payload_sha = body_len > 0 ? sha256_hex (body, body_len) : g_strdup (S3_EMPTY_SHA256);

  url = s3_request_url (req, path_style);
  g_debug ("S3: %s %s", req->method, url);

  /* libcurl 7.88 neither sends nor signs x-amz-content-sha256, which S3 and
   * radosgw require; it signs every x-amz-* header we add, and hashes the
   * in-memory body itself, which gives the same value. */
  /* No header may be removed with "Name:" here: libcurl 7.88 would sign it
   * as an empty header that it then does not send. */
  {
    g_autofree char *line = g_strdup_printf ("x-amz-content-sha256: %s", payload_sha);
    headers = curl_slist_append (headers, line);
  }
  if (session_token != NULL)
    {
      g_autofree char *line = g_strdup_printf ("x-amz-security-token: %s", session_token);
      headers = curl_slist_append (headers, line);
    }
  if (req->content_type != NULL
      || g_str_equal (req->method, "PUT") || g_str_equal (req->method, "POST"))
    {
      const char *type = req->content_type != NULL ? req->content_type
                                                    : "application/octet-stream";
      g_autofree char *line = g_strdup_printf ("Content-Type: %s", type);
      headers = curl_slist_append (headers, line);
    }
  for (guint i = 0; req->headers != NULL && i < req->headers->len; i++)
    headers = curl_slist_append (headers, g_ptr_array_index (req->headers, i));

  sigv4 = g_strdup_printf ("aws:amz:%s:s3", self->region);

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_AWS_SIGV4, sigv4);
  curl_easy_setopt (curl, CURLOPT_USERNAME, access_key_id);
  curl_easy_setopt (curl, CURLOPT_PASSWORD, secret_access_key);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "distributed-backup/" PACKAGE_VERSION);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) S3_CONNECT_TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (curl, CURLOPT_LOW_SPEED_TIME, (long) S3_STALL_TIMEOUT_S);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, req);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, req);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, req);
  if (ca_file != NULL)
    curl_easy_setopt (curl, CURLOPT_CAINFO, ca_file);
  if (insecure)
    {
      curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }

  if (g_str_equal (req->method, "HEAD"))
    curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
  else if (g_str_equal (req->method, "PUT") || g_str_equal (req->method, "POST"))
    {
      /* From memory, without a copy; the signature hashes this body. */
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body_len > 0 ? (const char *) body : "");
      if (g_str_equal (req->method, "PUT"))
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, "PUT");
    }
  else if (!g_str_equal (req->method, "GET"))
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, req->method);

  req->curl = curl;
  code = curl_easy_perform (curl);
  req->curl = NULL;
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &req->status);

  if (code != CURLE_OK)
    {
      if (g_cancellable_set_error_if_cancelled (req->cancellable, error))
        goto out;
      if (req->sink_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&req->sink_error));
          goto out;
        }
      if (req->too_large)
        {
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                       "S3: the answer from %s is too large", self->endpoint);
          goto out;
        }
      set_error_from_curl (req, code, errbuf, error);
      goto out;
    }
  if (req->status < 200 || req->status >= 300)
    {
      set_error_from_answer (req, access_key_id, error);
      goto out;
    }
  ok = TRUE;

out:
  curl_slist_free_all (headers);
  secret_free (secret_access_key);
  if (curl != NULL)
    {
      /* Forget the pointers into this request before the handle is idle. */
      curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
      curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
      give_back_handle (self, curl);
    }
  return ok;
}

/* The body of a 2xx answer as an XML tree whose root is @root_name. Some
 * operations (CompleteMultipartUpload) answer 200 with an <Error>. */
static S3XmlNode *
s3_request_parse (S3Request *req, const char *root_name, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  S3XmlNode *doc;

  doc = s3_xml_parse ((const char *) req->response->data, req->response->len, &local_error);
  if (doc == NULL)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                   "S3: unreadable answer from %s: %s", req->client->endpoint,
                   local_error->message);
      return NULL;
    }
  if (g_str_equal (doc->name, "Error"))
    {
      g_autofree char *access_key_id = NULL;

      g_mutex_lock (&req->client->lock);
      access_key_id = g_strdup (req->client->access_key_id);
      g_mutex_unlock (&req->client->lock);
      s3_xml_node_free (doc);
      if (req->status < 300)
        req->status = 500;
      set_error_from_answer (req, access_key_id, error);
      return NULL;
    }
  if (!g_str_equal (doc->name, root_name))
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                   "S3: unexpected answer <%s> from %s", doc->name, req->client->endpoint);
      s3_xml_node_free (doc);
      return NULL;
    }
  return doc;
}

gboolean
backup_s3_parse_location (const char *location,
                          char **out_bucket,
                          char **out_prefix,
                          GError **error)
{
  const char *rest, *slash;
  g_autofree char *bucket = NULL;
  g_autofree char *prefix = NULL;

  g_return_val_if_fail (location != NULL, FALSE);

  if (g_ascii_strncasecmp (location, "s3://", 5) != 0)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: “%s” is not an s3://BUCKET/PREFIX location", location);
      return FALSE;
    }
  rest = location + 5;
  slash = strchr (rest, '/');
  bucket = slash != NULL ? g_strndup (rest, (gsize) (slash - rest)) : g_strdup (rest);
  if (!check_name (bucket, NULL, error))
    return FALSE;
  if (slash != NULL)
    {
      while (*slash == '/')
        slash++;
      if (*slash != '\0')
        prefix = g_str_has_suffix (slash, "/") ? g_strdup (slash) : g_strconcat (slash, "/", NULL);
    }
  if (prefix != NULL && !check_name (NULL, prefix, error))
    return FALSE;
  if (out_bucket != NULL)
    *out_bucket = g_steal_pointer (&bucket);
  if (out_prefix != NULL)
    *out_prefix = prefix != NULL ? g_steal_pointer (&prefix) : g_strdup ("");
  return TRUE;
}

/* ---- GObject ---- */

static void
backup_s3_client_finalize (GObject *object)
{
  BackupS3Client *self = BACKUP_S3_CLIENT (object);

  g_free (self->endpoint);
  g_free (self->scheme);
  g_free (self->host);
  g_free (self->base_path);
  g_free (self->region);
  g_free (self->ca_file);
  g_free (self->access_key_id);
  secret_free (self->secret_access_key);
  secret_free (self->session_token);
  g_ptr_array_unref (self->idle_handles);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (backup_s3_client_parent_class)->finalize (object);
}

static void
backup_s3_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupS3Client *self = BACKUP_S3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case PROP_REGION:
      g_value_set_string (value, self->region);
      break;
    case PROP_PATH_STYLE:
      g_value_set_boolean (value, backup_s3_client_get_path_style (self));
      break;
    case PROP_CA_FILE:
      g_mutex_lock (&self->lock);
      g_value_set_string (value, self->ca_file);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_INSECURE:
      g_value_set_boolean (value, backup_s3_client_get_insecure (self));
      break;
    case PROP_SEND_CHECKSUMS:
      g_value_set_boolean (value, backup_s3_client_get_send_checksums (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_s3_client_set_property (GObject *object,
                               guint prop_id,
                               const GValue *value,
                               GParamSpec *pspec)
{
  BackupS3Client *self = BACKUP_S3_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ENDPOINT:
      self->endpoint = g_value_dup_string (value);
      break;
    case PROP_REGION:
      self->region = g_value_dup_string (value);
      break;
    case PROP_PATH_STYLE:
      backup_s3_client_set_path_style (self, g_value_get_boolean (value));
      break;
    case PROP_CA_FILE:
      backup_s3_client_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_INSECURE:
      backup_s3_client_set_insecure (self, g_value_get_boolean (value));
      break;
    case PROP_SEND_CHECKSUMS:
      backup_s3_client_set_send_checksums (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_s3_client_class_init (BackupS3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = backup_s3_client_finalize;
  object_class->get_property = backup_s3_client_get_property;
  object_class->set_property = backup_s3_client_set_property;

  /* "http://host:port" or "https://host", optionally with a path prefix. */
  properties[PROP_ENDPOINT] =
    g_param_spec_string ("endpoint", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REGION] =
    g_param_spec_string ("region", NULL, NULL, "us-east-1",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* TRUE: http://host/bucket/key; FALSE: http://bucket.host/key. */
  properties[PROP_PATH_STYLE] =
    g_param_spec_boolean ("path-style", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Skip certificate verification: for tests against self-signed servers. */
  properties[PROP_INSECURE] =
    g_param_spec_boolean ("insecure", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEND_CHECKSUMS] =
    g_param_spec_boolean ("send-checksums", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_s3_client_init (BackupS3Client *self)
{
  static GOnce curl_once = G_ONCE_INIT;

  g_once (&curl_once, curl_init_once, NULL);
  g_mutex_init (&self->lock);
  self->path_style = TRUE;
  self->send_checksums = TRUE;
  self->idle_handles = g_ptr_array_new_with_free_func ((GDestroyNotify) curl_easy_cleanup);
}

/**
 * backup_s3_client_new:
 * @endpoint: "http(s)://host[:port][/path]"
 * @region: (nullable): the signing region, "us-east-1" when NULL
 *
 * Returns: a client without credentials, or NULL with @error set when
 * @endpoint is not an http or https URL.
 */
BackupS3Client *
backup_s3_client_new (const char *endpoint, const char *region, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (BackupS3Client) self = NULL;
  const char *scheme, *path;
  g_autofree char *trimmed = NULL;

  g_return_val_if_fail (endpoint != NULL, NULL);

  uri = g_uri_parse (endpoint, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, &local_error);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)
      || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || g_uri_get_query (uri) != NULL || g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: “%s” is not an http:// or https:// endpoint", endpoint);
      return NULL;
    }
  if (region != NULL)
    for (const char *p = region; *p != '\0'; p++)
      if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '_'))
        {
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                       "S3: “%s” is not a valid region", region);
          return NULL;
        }

  trimmed = g_strdup (endpoint);
  while (g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  self = g_object_new (BACKUP_TYPE_S3_CLIENT, "endpoint", trimmed,
                       "region", region != NULL && *region != '\0' ? region : "us-east-1",
                       NULL);
  self->scheme = g_strdup (scheme);
  self->host = g_strdup (g_uri_get_host (uri));
  self->port = g_uri_get_port (uri);
  path = g_uri_get_path (uri);
  self->base_path = g_strdup (path != NULL ? path : "");
  while (g_str_has_suffix (self->base_path, "/"))
    self->base_path[strlen (self->base_path) - 1] = '\0';
  return g_steal_pointer (&self);
}

const char *
backup_s3_client_get_endpoint (BackupS3Client *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  return self->endpoint;
}

const char *
backup_s3_client_get_region (BackupS3Client *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  return self->region;
}

#define DEFINE_BOOL_ACCESSORS(field, prop)                                      \
  void                                                                          \
  backup_s3_client_set_##field (BackupS3Client *self, gboolean field)           \
  {                                                                             \
    gboolean changed;                                                           \
    g_return_if_fail (BACKUP_IS_S3_CLIENT (self));                              \
    g_mutex_lock (&self->lock);                                                 \
    changed = self->field != !!field;                                           \
    self->field = !!field;                                                      \
    g_mutex_unlock (&self->lock);                                               \
    if (changed)                                                                \
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);             \
  }                                                                             \
  gboolean                                                                      \
  backup_s3_client_get_##field (BackupS3Client *self)                           \
  {                                                                             \
    gboolean value;                                                             \
    g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);                   \
    g_mutex_lock (&self->lock);                                                 \
    value = self->field;                                                        \
    g_mutex_unlock (&self->lock);                                               \
    return value;                                                               \
  }

DEFINE_BOOL_ACCESSORS (path_style, PROP_PATH_STYLE)
DEFINE_BOOL_ACCESSORS (insecure, PROP_INSECURE)
DEFINE_BOOL_ACCESSORS (send_checksums, PROP_SEND_CHECKSUMS)

void
backup_s3_client_set_ca_file (BackupS3Client *self, const char *ca_file)
{
  gboolean changed;

  g_return_if_fail (BACKUP_IS_S3_CLIENT (self));
  if (ca_file != NULL && *ca_file == '\0')
    ca_file = NULL;
  g_mutex_lock (&self->lock);
  changed = g_strcmp0 (self->ca_file, ca_file) != 0;
  if (changed)
    {
      g_free (self->ca_file);
      self->ca_file = g_strdup (ca_file);
    }
  g_mutex_unlock (&self->lock);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CA_FILE]);
}

/* Only for the property getter's thread: the string may be replaced later. */
const char *
backup_s3_client_get_ca_file (BackupS3Client *self)
{
  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  return self->ca_file;
}

void
backup_s3_client_set_credentials (BackupS3Client *self,
                                  const char *access_key_id,
                                  const char *secret_access_key,
                                  const char *session_token)
{
  g_return_if_fail (BACKUP_IS_S3_CLIENT (self));

  g_mutex_lock (&self->lock);
  g_free (self->access_key_id);
  secret_free (self->secret_access_key);
  secret_free (self->session_token);
  self->access_key_id = g_strdup (access_key_id);
  self->secret_access_key = g_strdup (secret_access_key);
  self->session_token = session_token != NULL && *session_token != '\0'
                          ? g_strdup (session_token) : NULL;
  g_mutex_unlock (&self->lock);
}

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional) AWS_SESSION_TOKEN. */
gboolean
backup_s3_client_set_credentials_from_environment (BackupS3Client *self, GError **error)
{
  const char *access_key_id = g_getenv ("AWS_ACCESS_KEY_ID");
  const char *secret_access_key = g_getenv ("AWS_SECRET_ACCESS_KEY");

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);

  if (access_key_id == NULL || *access_key_id == '\0'
      || secret_access_key == NULL || *secret_access_key == '\0')
    {
      g_set_error_literal (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                           "S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set");
      return FALSE;
    }
  backup_s3_client_set_credentials (self, access_key_id, secret_access_key,
                                    g_getenv ("AWS_SESSION_TOKEN"));
  return TRUE;
}

gboolean
backup_s3_client_has_credentials (BackupS3Client *self)
{
  gboolean has;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_mutex_lock (&self->lock);
  has = self->access_key_id != NULL && self->secret_access_key != NULL;
  g_mutex_unlock (&self->lock);
  return has;
}

/* ---- operations ---- */

#define S3_REQUEST_INIT(self_, method_, bucket_, key_, cancellable_) \
  { .client = (self_), .method = (method_), .bucket = (bucket_), .key = (key_), \
    .cancellable = (cancellable_) }

gboolean
backup_s3_client_create_bucket (BackupS3Client *self,
                                const char *bucket,
                                GCancellable *cancellable,
                                GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "PUT", bucket, NULL, cancellable);
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL, FALSE);

  ok = s3_request_perform (&req, error);
  s3_request_clear (&req);
  return ok;
}

gboolean
backup_s3_client_delete_bucket (BackupS3Client *self,
                                const char *bucket,
                                GCancellable *cancellable,
                                GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "DELETE", bucket, NULL, cancellable);
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL, FALSE);

  ok = s3_request_perform (&req, error);
  s3_request_clear (&req);
  return ok;
}

BackupS3ObjectInfo *
backup_s3_client_head_object (BackupS3Client *self,
                              const char *bucket,
                              const char *key,
                              GCancellable *cancellable,
                              GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "HEAD", bucket, key, cancellable);
  g_autoptr (GPtrArray) headers = g_ptr_array_new ();
  BackupS3ObjectInfo *info = NULL;
  const char *length;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (bucket != NULL && key != NULL, NULL);

  g_ptr_array_add (headers, (gpointer) "x-amz-checksum-mode: ENABLED");
  req.headers = headers;
  if (s3_request_perform (&req, error))
    {
      info = g_new0 (BackupS3ObjectInfo, 1);
      info->key = g_strdup (key);
      length = s3_request_header (&req, "content-length");
      info->size = length != NULL ? g_ascii_strtoull (length, NULL, 10) : 0;
      info->etag = g_strdup (s3_request_header (&req, "etag"));
      info->last_modified = parse_http_date (s3_request_header (&req, "last-modified"));
      info->checksum_sha256 = g_strdup (s3_request_header (&req, "x-amz-checksum-sha256"));
    }
  s3_request_clear (&req);
  return info;
}

gboolean
backup_s3_client_put_object (BackupS3Client *self,
                             const char *bucket,
                             const char *key,
                             GBytes *data,
                             char **out_etag,
                             GCancellable *cancellable,
                             GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "PUT", bucket, key, cancellable);
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) empty = NULL;
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL, FALSE);

  if (data == NULL)
    data = empty = g_bytes_new_static ("", 0);
  if (backup_s3_client_get_send_checksums (self))
    {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (data, &len);
      g_autofree char *b64 = checksum_base64 (G_CHECKSUM_SHA256, bytes, len);

      g_ptr_array_add (headers, g_strdup_printf ("x-amz-checksum-sha256: %s", b64));
    }
  req.body = data;
  req.content_type = "application/octet-stream";
  req.headers = headers;
  ok = s3_request_perform (&req, error);
  if (ok && out_etag != NULL)
    *out_etag = g_strdup (s3_request_header (&req, "etag"));
  s3_request_clear (&req);
  return ok;
}

gboolean
backup_s3_client_get_object (BackupS3Client *self,
                             const char *bucket,
                             const char *key,
                             BackupS3DataFunc func,
                             gpointer user_data,
                             GCancellable *cancellable,
                             GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "GET", bucket, key, cancellable);
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL && func != NULL, FALSE);

  req.sink = func;
  req.sink_data = user_data;
  ok = s3_request_perform (&req, error);
  s3_request_clear (&req);
  return ok;
}

typedef struct
{
  GOutputStream *stream;
  GCancellable *cancellable;
} StreamSink;

static gboolean
write_to_stream (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  StreamSink *sink = user_data;

  return g_output_stream_write_all (sink->stream, data, length, NULL, sink->cancellable, error);
}

/* Writes the object to @stream as it arrives (the stream is not closed). */
gboolean
backup_s3_client_get_object_to_stream (BackupS3Client *self,
                                       const char *bucket,
                                       const char *key,
                                       GOutputStream *stream,
                                       GCancellable *cancellable,
                                       GError **error)
{
  StreamSink sink = { stream, cancellable };

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  return backup_s3_client_get_object (self, bucket, key, write_to_stream, &sink,
                                      cancellable, error);
}

typedef struct
{
  GByteArray *bytes;
  gsize max_size;
  const char *key;
} BytesSink;

static gboolean
append_to_bytes (const guint8 *data, gsize length, gpointer user_data, GError **error)
{
  BytesSink *sink = user_data;

  if (sink->bytes->len + length > sink->max_size)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                   "S3: object “%s” is larger than %" G_GSIZE_FORMAT " bytes",
                   sink->key, sink->max_size);
      return FALSE;
    }
  g_byte_array_append (sink->bytes, data, (guint) length);
  return TRUE;
}

/* A small object in memory; fails when it is larger than @max_size. */
GBytes *
backup_s3_client_get_object_bytes (BackupS3Client *self,
                                   const char *bucket,
                                   const char *key,
                                   gsize max_size,
                                   GCancellable *cancellable,
                                   GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  BytesSink sink = { bytes, MIN (max_size, (gsize) G_MAXUINT), key };

  if (!backup_s3_client_get_object (self, bucket, key, append_to_bytes, &sink,
                                    cancellable, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

gboolean
backup_s3_client_delete_object (BackupS3Client *self,
                                const char *bucket,
                                const char *key,
                                GCancellable *cancellable,
                                GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "DELETE", bucket, key, cancellable);
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL, FALSE);

  ok = s3_request_perform (&req, error);
  s3_request_clear (&req);
  return ok;
}

/* Deletes up to 1000 keys per request; a key that does not exist is not an
 * error. Fails on the first key the server could not delete. */
gboolean
backup_s3_client_delete_objects (BackupS3Client *self,
                                 const char *bucket,
                                 const char *const *keys,
                                 GCancellable *cancellable,
                                 GError **error)
{
  guint n_keys;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && keys != NULL, FALSE);

  n_keys = g_strv_length ((char **) keys);
  for (guint start = 0; start < n_keys; start += S3_MAX_DELETE_KEYS)
    {
      S3Request req = S3_REQUEST_INIT (self, "POST", bucket, NULL, cancellable);
      g_autoptr (GArray) query = query_new ();
      g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GString) xml = g_string_new ("<Delete><Quiet>true</Quiet>");
      g_autoptr (GBytes) body = NULL;
      g_autoptr (S3XmlNode) doc = NULL;
      g_autofree char *md5 = NULL;
      S3XmlNode *failure;

      for (guint i = start; i < n_keys && i < start + S3_MAX_DELETE_KEYS; i++)
        {
          g_autofree char *escaped = NULL;

          if (!check_name (NULL, keys[i], error))
            return FALSE;
          escaped = g_markup_escape_text (keys[i], -1);
          g_string_append_printf (xml, "<Object><Key>%s</Key></Object>", escaped);
        }
      g_string_append (xml, "</Delete>");
      body = g_string_free_to_bytes (g_steal_pointer (&xml));
      /* The protocol requires Content-MD5 here. */
      md5 = checksum_base64 (G_CHECKSUM_MD5, g_bytes_get_data (body, NULL),
                             g_bytes_get_size (body));
      g_ptr_array_add (headers, g_strdup_printf ("Content-MD5: %s", md5));
      query_add (query, "delete", NULL);
      req.query = query;
      req.body = body;
      req.content_type = "application/xml";
      req.headers = headers;
      if (!s3_request_perform (&req, error))
        {
          s3_request_clear (&req);
          return FALSE;
        }
      doc = s3_request_parse (&req, "DeleteResult", error);
      if (doc == NULL)
        {
          s3_request_clear (&req);
          return FALSE;
        }
      failure = s3_xml_child (doc, "Error");
      if (failure != NULL)
        {
          const char *failed_key = s3_xml_child_text (failure, "Key");
          const char *failed_code = s3_xml_child_text (failure, "Code");

          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_FAILED,
                       "S3: cannot delete “%s/%s” at %s (%s)", bucket,
                       failed_key != NULL ? failed_key : "", self->endpoint,
                       failed_code != NULL ? failed_code : "");
          s3_request_clear (&req);
          return FALSE;
        }
      s3_request_clear (&req);
    }
  return TRUE;
}

GPtrArray *
backup_s3_client_list_objects (BackupS3Client *self,
                               const char *bucket,
                               const char *prefix,
                               const char *continuation_token,
                               guint max_keys,
                               char **out_next_token,
                               GCancellable *cancellable,
                               GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "GET", bucket, NULL, cancellable);
  g_autoptr (GArray) query = query_new ();
  g_autoptr (S3XmlNode) doc = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  const char *next;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (bucket != NULL, NULL);

  if (out_next_token != NULL)
    *out_next_token = NULL;
  query_add (query, "list-type", "2");
  if (prefix != NULL && *prefix != '\0')
    query_add (query, "prefix", prefix);
  if (continuation_token != NULL)
    query_add (query, "continuation-token", continuation_token);
  if (max_keys > 0)
    {
      g_autofree char *max = g_strdup_printf ("%u", max_keys);
      query_add (query, "max-keys", max);
    }
  req.query = query;
  if (!s3_request_perform (&req, error))
    goto out;
  doc = s3_request_parse (&req, "ListBucketResult", error);
  if (doc == NULL)
    goto out;

  objects = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_object_info_free);
  for (guint i = 0; doc->children != NULL && i < doc->children->len; i++)
    {
      S3XmlNode *child = g_ptr_array_index (doc->children, i);
      BackupS3ObjectInfo *info;
      const char *size;

      if (!g_str_equal (child->name, "Contents") || s3_xml_child_text (child, "Key") == NULL)
        continue;
      info = g_new0 (BackupS3ObjectInfo, 1);
      info->key = g_strdup (s3_xml_child_text (child, "Key"));
      size = s3_xml_child_text (child, "Size");
      info->size = size != NULL ? g_ascii_strtoull (size, NULL, 10) : 0;
      info->etag = g_strdup (s3_xml_child_text (child, "ETag"));
      info->last_modified = parse_iso_date (s3_xml_child_text (child, "LastModified"));
      info->checksum_sha256 = NULL;
      g_ptr_array_add (objects, info);
    }
  next = s3_xml_child_text (doc, "NextContinuationToken");
  if (s3_xml_child_true (doc, "IsTruncated"))
    {
      if (next == NULL || *next == '\0')
        {
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                       "S3: truncated listing of “%s” without a continuation token at %s",
                       bucket, self->endpoint);
          g_clear_pointer (&objects, g_ptr_array_unref);
          goto out;
        }
      if (out_next_token != NULL)
        *out_next_token = g_strdup (next);
    }

out:
  s3_request_clear (&req);
  return g_steal_pointer (&objects);
}

GPtrArray *
backup_s3_client_list_all_objects (BackupS3Client *self,
                                   const char *bucket,
                                   const char *prefix,
                                   GCancellable *cancellable,
                                   GError **error)
{
  g_autoptr (GPtrArray) all =
    g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_object_info_free);
  g_autofree char *token = NULL;

  do
    {
      g_autoptr (GPtrArray) page = NULL;
      g_autofree char *next = NULL;

      page = backup_s3_client_list_objects (self, bucket, prefix, token, 0, &next,
                                            cancellable, error);
      if (page == NULL)
        return NULL;
      for (guint i = 0; i < page->len; i++)
        g_ptr_array_add (all, g_steal_pointer (&page->pdata[i]));
      page->len = 0; /* the elements moved */
      g_free (token);
      token = g_steal_pointer (&next);
    }
  while (token != NULL);
  return g_steal_pointer (&all);
}

char *
backup_s3_client_create_multipart_upload (BackupS3Client *self,
                                          const char *bucket,
                                          const char *key,
                                          GCancellable *cancellable,
                                          GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "POST", bucket, key, cancellable);
  g_autoptr (GArray) query = query_new ();
  g_autoptr (GPtrArray) headers = g_ptr_array_new ();
  g_autoptr (S3XmlNode) doc = NULL;
  char *upload_id = NULL;
  const char *id;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (bucket != NULL && key != NULL, NULL);

  query_add (query, "uploads", NULL);
  req.query = query;
  req.content_type = "application/octet-stream";
  /* With part checksums, S3 wants the algorithm announced here. */
  if (backup_s3_client_get_send_checksums (self))
    g_ptr_array_add (headers, (gpointer) "x-amz-checksum-algorithm: SHA256");
  req.headers = headers;
  if (!s3_request_perform (&req, error))
    goto out;
  doc = s3_request_parse (&req, "InitiateMultipartUploadResult", error);
  if (doc == NULL)
    goto out;
  id = s3_xml_child_text (doc, "UploadId");
  if (id == NULL || *id == '\0')
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                   "S3: no upload id in the answer from %s", self->endpoint);
      goto out;
    }
  upload_id = g_strdup (id);

out:
  s3_request_clear (&req);
  return upload_id;
}

/* Sends one part from memory (at least 5 MiB except for the last part). */
BackupS3Part *
backup_s3_client_upload_part (BackupS3Client *self,
                              const char *bucket,
                              const char *key,
                              const char *upload_id,
                              guint part_number,
                              GBytes *data,
                              GCancellable *cancellable,
                              GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "PUT", bucket, key, cancellable);
  g_autoptr (GArray) query = query_new ();
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *number = NULL;
  g_autofree char *checksum = NULL;
  BackupS3Part *part = NULL;
  const char *etag;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (bucket != NULL && key != NULL && upload_id != NULL && data != NULL, NULL);

  if (part_number < 1 || part_number > BACKUP_S3_MAX_PARTS)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: part number %u is not between 1 and %u", part_number,
                   BACKUP_S3_MAX_PARTS);
      return NULL;
    }
  number = g_strdup_printf ("%u", part_number);
  query_add (query, "partNumber", number);
  query_add (query, "uploadId", upload_id);
  if (backup_s3_client_get_send_checksums (self))
    {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (data, &len);

      checksum = checksum_base64 (G_CHECKSUM_SHA256, bytes, len);
      g_ptr_array_add (headers, g_strdup_printf ("x-amz-checksum-sha256: %s", checksum));
    }
  req.query = query;
  req.body = data;
  req.content_type = "application/octet-stream";
  req.headers = headers;
  if (!s3_request_perform (&req, error))
    goto out;
  etag = s3_request_header (&req, "etag");
  if (etag == NULL || *etag == '\0')
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                   "S3: no ETag for part %u of “%s/%s” from %s", part_number, bucket, key,
                   self->endpoint);
      goto out;
    }
  part = backup_s3_part_new (part_number, etag, checksum);

out:
  s3_request_clear (&req);
  return part;
}

static int
part_compare (gconstpointer a, gconstpointer b)
{
  const BackupS3Part *pa = *(BackupS3Part *const *) a;
  const BackupS3Part *pb = *(BackupS3Part *const *) b;

  return pa->number < pb->number ? -1 : pa->number > pb->number;
}

/* @parts: BackupS3Part elements, in any order (they are sorted). */
gboolean
backup_s3_client_complete_multipart_upload (BackupS3Client *self,
                                            const char *bucket,
                                            const char *key,
                                            const char *upload_id,
                                            GPtrArray *parts,
                                            char **out_etag,
                                            GCancellable *cancellable,
                                            GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "POST", bucket, key, cancellable);
  g_autoptr (GArray) query = query_new ();
  g_autoptr (GString) xml = g_string_new ("<CompleteMultipartUpload>");
  g_autoptr (GBytes) body = NULL;
  g_autoptr (S3XmlNode) doc = NULL;
  g_autoptr (GPtrArray) sorted = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL && upload_id != NULL && parts != NULL, FALSE);

  if (parts->len == 0)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: no parts to complete the upload of “%s/%s”", bucket, key);
      return FALSE;
    }
  /* A shallow copy that does not own the parts. */
  sorted = g_ptr_array_sized_new (parts->len);
  for (guint i = 0; i < parts->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (parts, i));
  g_ptr_array_sort (sorted, part_compare);
  for (guint i = 0; i < sorted->len; i++)
    {
      const BackupS3Part *part = g_ptr_array_index (sorted, i);
      g_autofree char *etag = g_markup_escape_text (part->etag, -1);

      g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag>",
                              part->number, etag);
      if (part->checksum_sha256 != NULL)
        g_string_append_printf (xml, "<ChecksumSHA256>%s</ChecksumSHA256>", part->checksum_sha256);
      g_string_append (xml, "</Part>");
    }
  g_string_append (xml, "</CompleteMultipartUpload>");
  body = g_string_free_to_bytes (g_steal_pointer (&xml));

  query_add (query, "uploadId", upload_id);
  req.query = query;
  req.body = body;
  req.content_type = "application/xml";
  if (!s3_request_perform (&req, error))
    goto out;
  doc = s3_request_parse (&req, "CompleteMultipartUploadResult", error);
  if (doc == NULL)
    goto out;
  /* radosgw 16 answers an empty <ETag/> here: NULL then (HEAD has it). */
  if (out_etag != NULL)
    {
      const char *etag = s3_xml_child_text (doc, "ETag");
      *out_etag = etag != NULL && *etag != '\0' ? g_strdup (etag) : NULL;
    }
  ok = TRUE;

out:
  s3_request_clear (&req);
  return ok;
}

gboolean
backup_s3_client_abort_multipart_upload (BackupS3Client *self,
                                         const char *bucket,
                                         const char *key,
                                         const char *upload_id,
                                         GCancellable *cancellable,
                                         GError **error)
{
  S3Request req = S3_REQUEST_INIT (self, "DELETE", bucket, key, cancellable);
  g_autoptr (GArray) query = query_new ();
  gboolean ok;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL && upload_id != NULL, FALSE);

  query_add (query, "uploadId", upload_id);
  req.query = query;
  ok = s3_request_perform (&req, error);
  s3_request_clear (&req);
  return ok;
}

GPtrArray *
backup_s3_client_list_multipart_uploads (BackupS3Client *self,
                                         const char *bucket,
                                         const char *prefix,
                                         GCancellable *cancellable,
                                         GError **error)
{
  g_autoptr (GPtrArray) uploads =
    g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_upload_info_free);
  g_autofree char *key_marker = NULL;
  g_autofree char *id_marker = NULL;
  gboolean truncated;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), NULL);
  g_return_val_if_fail (bucket != NULL, NULL);

  do
    {
      S3Request req = S3_REQUEST_INIT (self, "GET", bucket, NULL, cancellable);
      g_autoptr (GArray) query = query_new ();
      g_autoptr (S3XmlNode) doc = NULL;

      query_add (query, "uploads", NULL);
      if (prefix != NULL && *prefix != '\0')
        query_add (query, "prefix", prefix);
      if (key_marker != NULL)
        query_add (query, "key-marker", key_marker);
      if (id_marker != NULL)
        query_add (query, "upload-id-marker", id_marker);
      req.query = query;
      if (!s3_request_perform (&req, error)
          || (doc = s3_request_parse (&req, "ListMultipartUploadsResult", error)) == NULL)
        {
          s3_request_clear (&req);
          return NULL;
        }
      for (guint i = 0; doc->children != NULL && i < doc->children->len; i++)
        {
          S3XmlNode *child = g_ptr_array_index (doc->children, i);
          BackupS3UploadInfo *info;

          if (!g_str_equal (child->name, "Upload") || s3_xml_child_text (child, "Key") == NULL
              || s3_xml_child_text (child, "UploadId") == NULL)
            continue;
          info = g_new0 (BackupS3UploadInfo, 1);
          info->key = g_strdup (s3_xml_child_text (child, "Key"));
          info->upload_id = g_strdup (s3_xml_child_text (child, "UploadId"));
          info->initiated = parse_iso_date (s3_xml_child_text (child, "Initiated"));
          g_ptr_array_add (uploads, info);
        }
      truncated = s3_xml_child_true (doc, "IsTruncated");
      if (truncated)
        {
          const char *next_key = s3_xml_child_text (doc, "NextKeyMarker");
          const char *next_id = s3_xml_child_text (doc, "NextUploadIdMarker");

          if (next_key == NULL || *next_key == '\0'
              || (g_strcmp0 (next_key, key_marker) == 0 && g_strcmp0 (next_id, id_marker) == 0))
            {
              g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_SERVER,
                           "S3: the listing of uploads in “%s” does not advance at %s",
                           bucket, self->endpoint);
              s3_request_clear (&req);
              return NULL;
            }
          g_free (key_marker);
          g_free (id_marker);
          key_marker = g_strdup (next_key);
          id_marker = next_id != NULL && *next_id != '\0' ? g_strdup (next_id) : NULL;
        }
      s3_request_clear (&req);
    }
  while (truncated);
  return g_steal_pointer (&uploads);
}

gboolean
backup_s3_client_upload_stream (BackupS3Client *self,
                                const char *bucket,
                                const char *key,
                                GInputStream *stream,
                                gsize part_size,
                                BackupS3VerifyFunc verify,
                                gpointer verify_data,
                                char **out_sha256_hex,
                                GCancellable *cancellable,
                                GError **error)
{
  g_autoptr (GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GPtrArray) parts =
    g_ptr_array_new_with_free_func ((GDestroyNotify) backup_s3_part_free);
  g_autofree guint8 *buffer = NULL;
  g_autofree char *upload_id = NULL;
  guint64 total = 0;
  gsize n_read = 0;
  gboolean at_end = FALSE;
  gboolean ok = FALSE;

  g_return_val_if_fail (BACKUP_IS_S3_CLIENT (self), FALSE);
  g_return_val_if_fail (bucket != NULL && key != NULL, FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), FALSE);

  if (part_size == 0)
    part_size = S3_DEFAULT_PART_SIZE;
  if (part_size < BACKUP_S3_MIN_PART_SIZE || part_size > G_MAXUINT)
    {
      g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                   "S3: a part size of %" G_GSIZE_FORMAT " bytes is out of range", part_size);
      return FALSE;
    }
  if (!check_name (bucket, key, error))
    return FALSE;
  buffer = g_malloc (part_size);

  while (!at_end)
    {
      g_autoptr (GBytes) chunk = NULL;
      BackupS3Part *part;

      /* A short count means the end of the stream. */
      if (!g_input_stream_read_all (stream, buffer, part_size, &n_read, cancellable, error))
        goto out;
      at_end = n_read < part_size;
      g_checksum_update (sha, buffer, (gssize) n_read);
      total += n_read;

      if (at_end && upload_id == NULL)
        {
          /* Everything fit in one part: a plain PUT, after the check. */
          g_autofree char *hex = g_strdup (g_checksum_get_string (sha));

          chunk = g_bytes_new_static (buffer, n_read);
          if (verify != NULL && !verify (hex, total, verify_data, error))
            goto out;
          if (!backup_s3_client_put_object (self, bucket, key, chunk, NULL, cancellable, error))
            goto out;
          if (out_sha256_hex != NULL)
            *out_sha256_hex = g_steal_pointer (&hex);
          ok = TRUE;
          goto out;
        }
      if (n_read == 0)
        break; /* the stream ended on a part boundary */
      if (upload_id == NULL)
        {
          upload_id = backup_s3_client_create_multipart_upload (self, bucket, key,
                                                                cancellable, error);
          if (upload_id == NULL)
            goto out;
        }
      if (parts->len >= BACKUP_S3_MAX_PARTS)
        {
          g_set_error (error, BACKUP_S3_ERROR, BACKUP_S3_ERROR_INVALID_ARGUMENT,
                       "S3: “%s/%s” needs more than %u parts of %" G_GSIZE_FORMAT " bytes",
                       bucket, key, BACKUP_S3_MAX_PARTS, part_size);
          goto out;
        }
      chunk = g_bytes_new_static (buffer, n_read);
      part = backup_s3_client_upload_part (self, bucket, key, upload_id, parts->len + 1, chunk,
                                           cancellable, error);
      if (part == NULL)
        goto out;
      g_ptr_array_add (parts, part);
    }

  {
    g_autofree char *hex = g_strdup (g_checksum_get_string (sha));

    if (verify != NULL && !verify (hex, total, verify_data, error))
      goto out;
    if (!backup_s3_client_complete_multipart_upload (self, bucket, key, upload_id, parts, NULL,
                                                     cancellable, error))
      goto out;
    if (out_sha256_hex != NULL)
      *out_sha256_hex = g_steal_pointer (&hex);
    ok = TRUE;
  }

out:
  if (!ok && upload_id != NULL)
    {
      g_autoptr (GError) abort_error = NULL;

      /* Even when cancelled: nothing may stay behind. */
      if (!backup_s3_client_abort_multipart_upload (self, bucket, key, upload_id, NULL,
                                                    &abort_error))
        g_warning ("S3: could not abort the upload of “%s/%s”: %s", bucket, key,
                   abort_error->message);
    }
  return ok;
}
