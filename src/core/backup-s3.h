/* backup-s3.h: a small client for S3-compatible object storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * BackupS3Client speaks the S3 REST protocol through libcurl, which also signs
 * every request (AWS Signature Version 4, CURLOPT_AWS_SIGV4). It covers what a
 * receiver that keeps its versions in a bucket needs: small objects, streamed
 * downloads, listings, deletes and multipart uploads (including the listing of
 * unfinished ones, to sweep orphans).
 *
 * Threads: every operation is a blocking call meant for a worker thread (a
 * GTask's thread function, for example); never call one on the main thread.
 * Configure the client (properties, credentials) before the first request;
 * after that, requests may run on several threads at once: each takes an easy
 * handle of its own from a small pool, and connections are reused per handle.
 * Every call honours its GCancellable (checked while the transfer runs; a
 * cancelled call fails with G_IO_ERROR_CANCELLED) and sets its GError exactly
 * when it fails, with one clear line in BACKUP_S3_ERROR.
 *
 * Integrity: every request carries x-amz-content-sha256 with the SHA-256 of its
 * body, which the signature covers and the server checks. With
 * BackupS3Client:send-checksums, uploads also carry x-amz-checksum-sha256
 * (checked and stored by servers that know flexible checksums; radosgw 16
 * ignores it).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_S3_ERROR (backup_s3_error_quark ())

typedef enum
{
  BACKUP_S3_ERROR_FAILED,
  BACKUP_S3_ERROR_INVALID_ARGUMENT, /* bad endpoint, bucket, key or missing credentials */
  BACKUP_S3_ERROR_CONNECT,          /* the server cannot be reached */
  BACKUP_S3_ERROR_TLS,              /* certificate or TLS failure */
  BACKUP_S3_ERROR_TIMEOUT,
  BACKUP_S3_ERROR_ACCESS_DENIED,    /* AccessDenied and other refusals (403) */
  BACKUP_S3_ERROR_BAD_CREDENTIALS,  /* unknown access key or wrong secret key */
  BACKUP_S3_ERROR_NO_SUCH_BUCKET,
  BACKUP_S3_ERROR_NOT_FOUND,        /* no such object */
  BACKUP_S3_ERROR_NO_SUCH_UPLOAD,   /* the multipart upload is gone */
  BACKUP_S3_ERROR_CORRUPT,          /* a checksum did not match */
  BACKUP_S3_ERROR_CLOCK_SKEW,       /* this machine's clock is too far off */
  BACKUP_S3_ERROR_SERVER,           /* 5xx or an answer that cannot be parsed */
} BackupS3Error;

GQuark backup_s3_error_quark (void);

/* What a HEAD or a listing says about one object. */
typedef struct
{
  char *key;
  guint64 size;
  char *etag;            /* as sent, with its quotes */
  GDateTime *last_modified; /* may be NULL */
  char *checksum_sha256; /* base64, NULL when the server keeps none */
} BackupS3ObjectInfo;

#define BACKUP_TYPE_S3_OBJECT_INFO (backup_s3_object_info_get_type ())
GType backup_s3_object_info_get_type (void) G_GNUC_CONST;
BackupS3ObjectInfo *backup_s3_object_info_copy (const BackupS3ObjectInfo *info);
void backup_s3_object_info_free (BackupS3ObjectInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupS3ObjectInfo, backup_s3_object_info_free)

/* One unfinished multipart upload. */
typedef struct
{
  char *key;
  char *upload_id;
  GDateTime *initiated; /* may be NULL */
} BackupS3UploadInfo;

#define BACKUP_TYPE_S3_UPLOAD_INFO (backup_s3_upload_info_get_type ())
GType backup_s3_upload_info_get_type (void) G_GNUC_CONST;
BackupS3UploadInfo *backup_s3_upload_info_copy (const BackupS3UploadInfo *info);
void backup_s3_upload_info_free (BackupS3UploadInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupS3UploadInfo, backup_s3_upload_info_free)

/* One uploaded part, as CompleteMultipartUpload needs it. */
typedef struct
{
  guint number;          /* 1 … 10000 */
  char *etag;
  char *checksum_sha256; /* base64, or NULL */
} BackupS3Part;

#define BACKUP_TYPE_S3_PART (backup_s3_part_get_type ())
GType backup_s3_part_get_type (void) G_GNUC_CONST;
BackupS3Part *backup_s3_part_new (guint number, const char *etag, const char *checksum_sha256);
BackupS3Part *backup_s3_part_copy (const BackupS3Part *part);
void backup_s3_part_free (BackupS3Part *part);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupS3Part, backup_s3_part_free)

/* The smallest part S3 accepts, except for the last one. */
#define BACKUP_S3_MIN_PART_SIZE (5 * 1024 * 1024)
#define BACKUP_S3_MAX_PARTS 10000

/* Receives a downloaded object piece by piece, on the calling thread. Returns
 * FALSE with @error set to stop the download. */
typedef gboolean (*BackupS3DataFunc) (const guint8 *data,
                                      gsize length,
                                      gpointer user_data,
                                      GError **error);

/* Splits "s3://BUCKET[/PREFIX]" (the receiver's -d). The prefix comes back
 * without leading slashes and, unless empty, with one trailing slash. */
gboolean backup_s3_parse_location (const char *location,
                                   char **out_bucket,
                                   char **out_prefix,
                                   GError **error);

#define BACKUP_TYPE_S3_CLIENT (backup_s3_client_get_type ())
G_DECLARE_FINAL_TYPE (BackupS3Client, backup_s3_client, BACKUP, S3_CLIENT, GObject)

BackupS3Client *backup_s3_client_new (const char *endpoint,
                                      const char *region,
                                      GError **error);

const char *backup_s3_client_get_endpoint (BackupS3Client *self);
const char *backup_s3_client_get_region (BackupS3Client *self);
void backup_s3_client_set_path_style (BackupS3Client *self, gboolean path_style);
gboolean backup_s3_client_get_path_style (BackupS3Client *self);
void backup_s3_client_set_ca_file (BackupS3Client *self, const char *ca_file);
const char *backup_s3_client_get_ca_file (BackupS3Client *self);
void backup_s3_client_set_insecure (BackupS3Client *self, gboolean insecure);
gboolean backup_s3_client_get_insecure (BackupS3Client *self);
void backup_s3_client_set_send_checksums (BackupS3Client *self, gboolean send_checksums);
gboolean backup_s3_client_get_send_checksums (BackupS3Client *self);

/* Credentials are never properties (nothing can read them back). */
void backup_s3_client_set_credentials (BackupS3Client *self,
                                       const char *access_key_id,
                                       const char *secret_access_key,
                                       const char *session_token);
gboolean backup_s3_client_set_credentials_from_environment (BackupS3Client *self,
                                                            GError **error);
gboolean backup_s3_client_has_credentials (BackupS3Client *self);

/* Buckets */
gboolean backup_s3_client_create_bucket (BackupS3Client *self,
                                         const char *bucket,
                                         GCancellable *cancellable,
                                         GError **error);
gboolean backup_s3_client_delete_bucket (BackupS3Client *self,
                                         const char *bucket,
                                         GCancellable *cancellable,
                                         GError **error);

/* Small objects */
BackupS3ObjectInfo *backup_s3_client_head_object (BackupS3Client *self,
                                                  const char *bucket,
                                                  const char *key,
                                                  GCancellable *cancellable,
                                                  GError **error);
gboolean backup_s3_client_put_object (BackupS3Client *self,
                                      const char *bucket,
                                      const char *key,
                                      GBytes *data,
                                      char **out_etag,
                                      GCancellable *cancellable,
                                      GError **error);
gboolean backup_s3_client_get_object (BackupS3Client *self,
                                      const char *bucket,
                                      const char *key,
                                      BackupS3DataFunc func,
                                      gpointer user_data,
                                      GCancellable *cancellable,
                                      GError **error);
gboolean backup_s3_client_get_object_to_stream (BackupS3Client *self,
                                                const char *bucket,
                                                const char *key,
                                                GOutputStream *stream,
                                                GCancellable *cancellable,
                                                GError **error);
GBytes *backup_s3_client_get_object_bytes (BackupS3Client *self,
                                           const char *bucket,
                                           const char *key,
                                           gsize max_size,
                                           GCancellable *cancellable,
                                           GError **error);
gboolean backup_s3_client_delete_object (BackupS3Client *self,
                                         const char *bucket,
                                         const char *key,
                                         GCancellable *cancellable,
                                         GError **error);
gboolean backup_s3_client_delete_objects (BackupS3Client *self,
                                          const char *bucket,
                                          const char *const *keys,
                                          GCancellable *cancellable,
                                          GError **error);

/* Listings. One page: @continuation_token is NULL for the first one;
 * @out_next_token is set to NULL after the last. @max_keys 0 means the
 * server's default (1000). Returns BackupS3ObjectInfo elements. */
GPtrArray *backup_s3_client_list_objects (BackupS3Client *self,
                                          const char *bucket,
                                          const char *prefix,
                                          const char *continuation_token,
                                          guint max_keys,
                                          char **out_next_token,
                                          GCancellable *cancellable,
                                          GError **error);
/* Every object under @prefix, following continuation tokens. */
GPtrArray *backup_s3_client_list_all_objects (BackupS3Client *self,
                                              const char *bucket,
                                              const char *prefix,
                                              GCancellable *cancellable,
                                              GError **error);

/* Multipart uploads */
char *backup_s3_client_create_multipart_upload (BackupS3Client *self,
                                                const char *bucket,
                                                const char *key,
                                                GCancellable *cancellable,
                                                GError **error);
BackupS3Part *backup_s3_client_upload_part (BackupS3Client *self,
                                            const char *bucket,
                                            const char *key,
                                            const char *upload_id,
                                            guint part_number,
                                            GBytes *data,
                                            GCancellable *cancellable,
                                            GError **error);
gboolean backup_s3_client_complete_multipart_upload (BackupS3Client *self,
                                                     const char *bucket,
                                                     const char *key,
                                                     const char *upload_id,
                                                     GPtrArray *parts,
                                                     char **out_etag,
                                                     GCancellable *cancellable,
                                                     GError **error);
gboolean backup_s3_client_abort_multipart_upload (BackupS3Client *self,
                                                  const char *bucket,
                                                  const char *key,
                                                  const char *upload_id,
                                                  GCancellable *cancellable,
                                                  GError **error);
/* Called once the whole stream has been read, before anything becomes
 * visible in the bucket: return FALSE with @error set to abort the upload
 * (an end-to-end SHA-256 that does not match, say). */
typedef gboolean (*BackupS3VerifyFunc) (const char *sha256_hex,
                                        guint64 size,
                                        gpointer user_data,
                                        GError **error);

/* Streams @stream into @key, holding one part in memory at a time (@part_size
 * bytes, 0 for 8 MiB, at least BACKUP_S3_MIN_PART_SIZE): one PUT when it fits
 * in one part, a multipart upload otherwise. The object appears only after
 * @verify (may be NULL) accepted the SHA-256; any failure or cancellation
 * aborts the multipart upload. */
gboolean backup_s3_client_upload_stream (BackupS3Client *self,
                                         const char *bucket,
                                         const char *key,
                                         GInputStream *stream,
                                         gsize part_size,
                                         BackupS3VerifyFunc verify,
                                         gpointer verify_data,
                                         char **out_sha256_hex,
                                         GCancellable *cancellable,
                                         GError **error);

/* Every unfinished upload under @prefix (BackupS3UploadInfo elements). */
GPtrArray *backup_s3_client_list_multipart_uploads (BackupS3Client *self,
                                                    const char *bucket,
                                                    const char *prefix,
                                                    GCancellable *cancellable,
                                                    GError **error);

G_END_DECLS
