/* backup-secrets.h: secrets kept for the user between runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A secret is kept in the user's keyring through libsecret (the Secret
 * Service, or the Secret portal inside a sandbox), as an item of the schema
 * BACKUP_SECRETS_SCHEMA_NAME with the attribute "kind" (the secret's name);
 * the device key has two more, "folder" (the device folder it belongs to)
 * and "fingerprint" (of its certificate).
 *
 * Where no Secret Service can be reached, it is kept in a private file
 * instead: $XDG_CONFIG_HOME/distributed-backup/<name>, one line, mode 0600,
 * replaced atomically, read only when no other user may open it. The
 * choice is made anew by each call: outside a sandbox, the keyring is used
 * when the session bus can be reached and org.freedesktop.secrets has an
 * owner or can be activated; otherwise the file.
 *
 * The device key (BACKUP_SECRET_DEVICE_KEY) has calls of its own, blocking
 * and keyring-only, at the end: backup-device.c keeps its certificate
 * beside it and decides itself where the key goes (its fallback is the
 * device folder's key.pem, not a file of this module).
 *
 * Secrets returned are the caller's, to be released with
 * backup_secret_free() (which wipes them). No secret ever appears in an
 * error message or a log line.
 */
#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

G_BEGIN_DECLS

#define BACKUP_SECRETS_SCHEMA_NAME "io.github.DistributedBackup.Secret"

typedef enum
{
  BACKUP_SECRET_API_KEY,    /* the FILE.io API key ("api-key") */
  BACKUP_SECRET_DEVICE_KEY, /* this installation's private key, PKCS#8 PEM
                             * ("device-key"): only through the
                             * backup_secret_device_key_…() calls */
  BACKUP_SECRET_S3_KEYS,    /* the keys of an S3 service ("s3-keys"): one
                             * line, "ACCESS_KEY_ID SECRET_ACCESS_KEY
                             * [SESSION_TOKEN]" */
} BackupSecretKind;

typedef enum
{
  BACKUP_SECRETS_BACKEND_KEYRING,
  BACKUP_SECRETS_BACKEND_FILE,
} BackupSecretsBackend;

/* The schema of the keyring items (for tools and tests). */
const SecretSchema *backup_secrets_get_schema (void);
/* The value of the "kind" attribute, which is also the fallback file's name. */
const char *backup_secret_kind_get_name (BackupSecretKind kind);
/* The fallback file of @kind, in the user's configuration folder (not for
 * BACKUP_SECRET_DEVICE_KEY). */
char *backup_secret_get_fallback_path (BackupSecretKind kind);

/* Wipes and frees a secret returned by this module (NULL is ignored). */
void backup_secret_free (char *secret);

/* Looks up the secret of @kind: the finish function returns it, or NULL
 * without an error when none is kept. */
void backup_secret_lookup_async (BackupSecretKind kind,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
char *backup_secret_lookup_finish (GAsyncResult *result,
                                   BackupSecretsBackend *backend,
                                   GError **error);

/* Keeps @secret as the secret of @kind, replacing the one kept; a NULL or
 * empty @secret removes it (as backup_secret_clear_async() does). */
void backup_secret_store_async (BackupSecretKind kind,
                                const char *secret,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean backup_secret_store_finish (GAsyncResult *result,
                                     BackupSecretsBackend *backend,
                                     GError **error);

/* Removes the secret of @kind; removing none is no error. */
void backup_secret_clear_async (BackupSecretKind kind,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean backup_secret_clear_finish (GAsyncResult *result,
                                     BackupSecretsBackend *backend,
                                     GError **error);

/* Blocking variants, for worker threads and the command line: the calls
 * above run on a context of their own. After @timeout_ms (0: none) they
 * are cancelled and fail with BACKUP_ERROR_TIMEOUT. @backend is optional. */
char *backup_secret_lookup_sync (BackupSecretKind kind,
                                 guint timeout_ms,
                                 BackupSecretsBackend *backend,
                                 GCancellable *cancellable,
                                 GError **error);
gboolean backup_secret_store_sync (BackupSecretKind kind,
                                   const char *secret,
                                   guint timeout_ms,
                                   BackupSecretsBackend *backend,
                                   GCancellable *cancellable,
                                   GError **error);
gboolean backup_secret_clear_sync (BackupSecretKind kind,
                                   guint timeout_ms,
                                   BackupSecretsBackend *backend,
                                   GCancellable *cancellable,
                                   GError **error);

/* --- the device key: blocking, keyring only --- */

/* Whether the keyring would be used now (the choice of the calls above,
 * made with blocking calls of at most 5 s each); says why not in a
 * g_debug(). */
gboolean backup_secrets_keyring_available_sync (GCancellable *cancellable);

/* The device key kept for the certificate of @fingerprint ("AB:CD:…"), or,
 * with @fingerprint NULL, any device key kept for @folder (then @folder is
 * required); NULL without an error when there is none. */
char *backup_secret_device_key_lookup_sync (const char *folder,
                                            const char *fingerprint,
                                            GCancellable *cancellable,
                                            GError **error);
/* Keeps @key_pem for @folder and @fingerprint, replacing the one kept. */
gboolean backup_secret_device_key_store_sync (const char *folder,
                                              const char *fingerprint,
                                              const char *key_pem,
                                              GCancellable *cancellable,
                                              GError **error);
/* Removes the key kept for @folder and @fingerprint; none is no error. */
gboolean backup_secret_device_key_clear_sync (const char *folder,
                                              const char *fingerprint,
                                              GCancellable *cancellable,
                                              GError **error);

G_END_DECLS
