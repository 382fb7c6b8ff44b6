/* backup-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "backup-error.h"
#include "backup-secrets.h"

#define SECRETS_FOLDER_NAME "distributed-backup"
#define SECRET_SERVICE_NAME "org.freedesktop.secrets"
/* How long the bus may take to say whether the Secret Service is there. */
#define PROBE_TIMEOUT_MS 5000
/* A secret file is one short line; anything longer is not ours. */
#define MAX_SECRET_FILE_SIZE 4096

typedef enum
{
  ACTION_LOOKUP,
  ACTION_STORE,
  ACTION_CLEAR,
} Action;

typedef struct
{
  BackupSecretKind kind;
  Action action;
  char *secret; /* to store; wiped when freed */
  BackupSecretsBackend backend;
  GDBusConnection *bus;
} Op;

static const SecretSchema schema = {
  BACKUP_SECRETS_SCHEMA_NAME,
  SECRET_SCHEMA_NONE,
  {
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "folder", SECRET_SCHEMA_ATTRIBUTE_STRING },      /* the device key's */
      { "fingerprint", SECRET_SCHEMA_ATTRIBUTE_STRING }, /* the device key's */
      { NULL, 0 },
  },
};

const SecretSchema *
backup_secrets_get_schema (void)
{
  return &schema;
}

const char *
backup_secret_kind_get_name (BackupSecretKind kind)
{
  switch (kind)
    {
    case BACKUP_SECRET_API_KEY:
      return "api-key";
    case BACKUP_SECRET_DEVICE_KEY:
      return "device-key";
    case BACKUP_SECRET_S3_KEYS:
      return "s3-keys";
    default:
      g_return_val_if_reached (NULL);
    }
}

/* The label the keyring shows for an item. */
static const char *
kind_label (BackupSecretKind kind)
{
  switch (kind)
    {
    case BACKUP_SECRET_API_KEY:
      return _("Distributed Backup: FILE.io API key");
    case BACKUP_SECRET_DEVICE_KEY:
      return _("Distributed Backup: device key");
    case BACKUP_SECRET_S3_KEYS:
      return _("Distributed Backup: S3 keys");
    default:
      g_return_val_if_reached (NULL);
    }
}

char *
backup_secret_get_fallback_path (BackupSecretKind kind)
{
  g_return_val_if_fail (kind != BACKUP_SECRET_DEVICE_KEY, NULL);

  return g_build_filename (g_get_user_config_dir (), SECRETS_FOLDER_NAME,
                           backup_secret_kind_get_name (kind), NULL);
}

void
backup_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
op_free (Op *op)
{
  backup_secret_free (op->secret);
  g_clear_object (&op->bus);
  g_free (op);
}

/* --- the private file ---------------------------------------------------- */

static char *
file_lookup (BackupSecretKind kind, GError **error)
{
  g_autofree char *path = backup_secret_get_fallback_path (kind);
  g_autofree char *shown = g_filename_display_name (path);
  char buffer[MAX_SECRET_FILE_SIZE + 1];
  struct stat st;
  gsize length = 0;
  char *secret = NULL;
  int saved = 0;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0);
  if (fd < 0)
    {
      saved = errno;
      if (saved == ENOENT)
        return NULL;
      g_set_error (error, BACKUP_ERROR,
                   saved == EACCES || saved == ELOOP ? BACKUP_ERROR_PERMISSION : BACKUP_ERROR_IO,
                   _("Cannot read “%s”: %s"), shown, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    {
      saved = errno;
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot read “%s”: %s"), shown,
                   g_strerror (saved));
      return NULL;
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      close (fd);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                   _("“%s” is open to other users (mode %04o): make it private with "
                     "“chmod 600 %s”"),
                   shown, (guint) (st.st_mode & 07777), shown);
      return NULL;
    }
  while (length < sizeof buffer)
    {
      gssize n = read (fd, buffer + length, sizeof buffer - length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved = errno;
          break;
        }
      if (n == 0)
        break;
      length += (gsize)n;
    }
  close (fd);
  if (saved == 0 && length > MAX_SECRET_FILE_SIZE)
    saved = EFBIG;
  if (saved != 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot read “%s”: %s"), shown,
                   g_strerror (saved));
      explicit_bzero (buffer, sizeof buffer);
      return NULL;
    }
  buffer[length] = '\0';
  /* The first line, as --apikey-file reads it. */
  buffer[strcspn (buffer, "\r\n")] = '\0';
  g_strstrip (buffer);
  if (buffer[0] != '\0')
    secret = g_strdup (buffer);
  explicit_bzero (buffer, sizeof buffer);
  return secret;
}

static gboolean
file_store (BackupSecretKind kind, const char *secret, GError **error)
{
  g_autofree char *path = backup_secret_get_fallback_path (kind);
  g_autofree char *folder = g_path_get_dirname (path);
  g_autoptr (GError) cause = NULL;
  gsize length = strlen (secret);
  char *line;
  gboolean done;

  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (folder);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot create “%s”: %s"), shown,
                   g_strerror (saved));
      return FALSE;
    }
  /* A temporary file created 0600, synced, then renamed over the old one. */
  line = g_malloc (length + 2);
  memcpy (line, secret, length);
  line[length] = '\n';
  line[length + 1] = '\0';
  done = g_file_set_contents_full (path, line, (gssize)length + 1,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, &cause);
  explicit_bzero (line, length + 1);
  g_free (line);
  if (!done)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_IO, cause->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
file_clear (BackupSecretKind kind, GError **error)
{
  g_autofree char *path = backup_secret_get_fallback_path (kind);

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (saved),
                   _("Cannot remove “%s”: %s"), shown, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static void
file_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Op *op = task_data;
  GError *error = NULL;
  char *secret;

  if (g_task_return_error_if_cancelled (task))
    return;
  switch (op->action)
    {
    case ACTION_LOOKUP:
      secret = file_lookup (op->kind, &error);
      if (error != NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, secret, (GDestroyNotify)backup_secret_free);
      break;
    case ACTION_STORE:
      if (file_store (op->kind, op->secret, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      break;
    case ACTION_CLEAR:
      if (file_clear (op->kind, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* --- the keyring --------------------------------------------------------- */

static GHashTable *
attributes_of (BackupSecretKind kind)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "kind",
                       (gpointer)backup_secret_kind_get_name (kind));
  return attributes;
}

/* Errors of libsecret say what failed in the keyring; they hold no secret. */
static void
return_keyring_error (GTask *task, GError *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_prefix_error (&error, _("The keyring failed: "));
  g_task_return_error (task, error);
}

static void
keyring_lookup_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  char *found = secret_password_lookup_finish (result, &error);
  char *secret = NULL;

  if (error != NULL)
    {
      return_keyring_error (task, error);
      return;
    }
  /* A copy of our own: libsecret's comes from its own allocator. */
  if (found != NULL && found[0] != '\0')
    secret = g_strdup (found);
  secret_password_free (found);
  g_task_return_pointer (task, secret, (GDestroyNotify)backup_secret_free);
}

static void
keyring_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (op->action == ACTION_STORE)
    secret_password_store_finish (result, &error);
  else
    secret_password_clear_finish (result, &error);
  if (error != NULL)
    return_keyring_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
run_keyring (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GHashTable) attributes = attributes_of (op->kind);

  op->backend = BACKUP_SECRETS_BACKEND_KEYRING;
  switch (op->action)
    {
    case ACTION_LOOKUP:
      secret_password_lookupv (&schema, attributes, cancellable, keyring_lookup_cb, task);
      break;
    case ACTION_STORE:
      secret_password_storev (&schema, attributes, SECRET_COLLECTION_DEFAULT,
                              kind_label (op->kind), op->secret, cancellable, keyring_done_cb,
                              task);
      break;
    case ACTION_CLEAR:
      secret_password_clearv (&schema, attributes, cancellable, keyring_done_cb, task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
run_file (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  g_debug ("no Secret Service: the %s is kept in a private file",
           backup_secret_kind_get_name (op->kind));
  op->backend = BACKUP_SECRETS_BACKEND_FILE;
  g_task_run_in_thread (task, file_worker);
  g_object_unref (task);
}

/* --- which one ----------------------------------------------------------- */

static gboolean
reply_has_name (GVariant *reply, const char *name)
{
  g_autoptr (GVariant) names = NULL;
  g_autofree const char **strv = NULL;

  names = g_variant_get_child_value (reply, 0);
  strv = g_variant_get_strv (names, NULL);
  return g_strv_contains (strv, name);
}

/* Sets @error and returns TRUE when the task was cancelled. */
static gboolean
return_if_cancelled (GTask *task, GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return TRUE;
    }
  return FALSE;
}

static void
list_activatable_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (error != NULL && return_if_cancelled (task, error))
    {
      g_object_unref (task);
      return;
    }
  if (reply != NULL && reply_has_name (reply, SECRET_SERVICE_NAME))
    run_keyring (task);
  else
    {
      if (error != NULL)
        g_debug ("cannot list activatable names: %s", error->message);
      g_clear_error (&error);
      run_file (task);
    }
}

static void
name_has_owner_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (error != NULL && return_if_cancelled (task, error))
    {
      g_object_unref (task);
      return;
    }
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  if (owned)
    {
      run_keyring (task);
      return;
    }
  if (error != NULL)
    g_debug ("cannot ask the bus for the Secret Service: %s", error->message);
  g_clear_error (&error);
  g_dbus_connection_call (op->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "ListActivatableNames", NULL,
                          G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, PROBE_TIMEOUT_MS,
                          g_task_get_cancellable (task), list_activatable_cb, task);
}

static void
bus_get_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  op->bus = g_bus_get_finish (result, &error);
  if (op->bus == NULL)
    {
      if (return_if_cancelled (task, error))
        {
          g_object_unref (task);
          return;
        }
      g_debug ("no session bus: %s", error->message);
      g_clear_error (&error);
      run_file (task);
      return;
    }
  g_dbus_connection_call (op->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "NameHasOwner",
                          g_variant_new ("(s)", SECRET_SERVICE_NAME), G_VARIANT_TYPE ("(b)"),
                          G_DBUS_CALL_FLAGS_NONE, PROBE_TIMEOUT_MS,
                          g_task_get_cancellable (task), name_has_owner_cb, task);
}

/* Starts @action: inside a sandbox libsecret goes through the Secret portal
 * by itself, so it is always used there; elsewhere the bus is asked. The
 * task's reference is handed down the chain of callbacks. */
static void
start (BackupSecretKind kind,
       Action action,
       const char *secret,
       gpointer source_tag,
       GCancellable *cancellable,
       GAsyncReadyCallback callback,
       gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, "backup-secret");
  op->kind = kind;
  op->action = action;
  op->secret = g_strdup (secret);
  g_task_set_task_data (task, op, (GDestroyNotify)op_free);

  /* The device key has calls of its own (see backup-secrets.h). */
  if (kind == BACKUP_SECRET_DEVICE_KEY)
    {
      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                               "The device key is kept by backup_device_load_certificate()");
      g_object_unref (task);
      return;
    }
  /* Not even asked for the bus: GLib keeps the error of a bus connection
   * whose set-up was cancelled for the next callers of g_bus_get() while
   * anyone still holds it. */
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    run_keyring (task);
  else
    g_bus_get (G_BUS_TYPE_SESSION, cancellable, bus_get_cb, task);
}

static void
set_backend (GAsyncResult *result, BackupSecretsBackend *backend)
{
  Op *op = g_task_get_task_data (G_TASK (result));

  if (backend != NULL)
    *backend = op->backend;
}

void
backup_secret_lookup_async (BackupSecretKind kind,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  start (kind, ACTION_LOOKUP, NULL, backup_secret_lookup_async, cancellable, callback,
         user_data);
}

char *
backup_secret_lookup_finish (GAsyncResult *result, BackupSecretsBackend *backend, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_secret_lookup_async,
                        NULL);

  set_backend (result, backend);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
backup_secret_store_async (BackupSecretKind kind,
                           const char *secret,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  gboolean empty = secret == NULL || secret[0] == '\0';

  g_return_if_fail (empty || g_utf8_validate (secret, -1, NULL));

  start (kind, empty ? ACTION_CLEAR : ACTION_STORE, empty ? NULL : secret,
         backup_secret_store_async, cancellable, callback, user_data);
}

gboolean
backup_secret_store_finish (GAsyncResult *result, BackupSecretsBackend *backend, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_secret_store_async,
                        FALSE);

  set_backend (result, backend);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
backup_secret_clear_async (BackupSecretKind kind,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  start (kind, ACTION_CLEAR, NULL, backup_secret_clear_async, cancellable, callback, user_data);
}

gboolean
backup_secret_clear_finish (GAsyncResult *result, BackupSecretsBackend *backend, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_secret_clear_async,
                        FALSE);

  set_backend (result, backend);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- blocking ------------------------------------------------------------ */

typedef struct
{
  GAsyncResult *result;
  GCancellable *cancellable; /* of the call, cancelled by the timeout */
  gboolean timed_out;
} SyncCall;

static void
sync_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  SyncCall *call = user_data;

  call->result = g_object_ref (result);
}

static gboolean
sync_timeout_cb (gpointer user_data)
{
  SyncCall *call = user_data;

  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static void
sync_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

/* Runs @action on a context of its own until it ends or @timeout_ms pass. */
static GAsyncResult *
run_sync (BackupSecretKind kind,
          Action action,
          const char *secret,
          gpointer source_tag,
          guint timeout_ms,
          GCancellable *cancellable,
          gboolean *timed_out)
{
  GMainContext *context = g_main_context_new ();
  GSource *timeout = NULL;
  SyncCall call = { NULL, g_cancellable_new (), FALSE };
  gulong handler = 0;

  g_main_context_push_thread_default (context);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (sync_cancelled_cb),
                                     g_object_ref (call.cancellable), g_object_unref);
  if (timeout_ms > 0)
    {
      timeout = g_timeout_source_new (timeout_ms);
      g_source_set_callback (timeout, sync_timeout_cb, &call, NULL);
      g_source_attach (timeout, context);
    }
  start (kind, action, secret, source_tag, call.cancellable, sync_done_cb, &call);
  while (call.result == NULL)
    g_main_context_iteration (context, TRUE);
  if (timeout != NULL)
    {
      g_source_destroy (timeout);
      g_source_unref (timeout);
    }
  g_cancellable_disconnect (cancellable, handler);
  g_object_unref (call.cancellable);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  *timed_out = call.timed_out;
  return call.result;
}

static void
timeout_error (GError **error, guint timeout_ms)
{
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
               g_dngettext (GETTEXT_PACKAGE, "The keyring did not answer within %u second",
                            "The keyring did not answer within %u seconds",
                            (timeout_ms + 999) / 1000),
               (timeout_ms + 999) / 1000);
}

char *
backup_secret_lookup_sync (BackupSecretKind kind,
                           guint timeout_ms,
                           BackupSecretsBackend *backend,
                           GCancellable *cancellable,
                           GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean timed_out;
  char *secret;

  result = run_sync (kind, ACTION_LOOKUP, NULL, backup_secret_lookup_async, timeout_ms,
                     cancellable, &timed_out);
  secret = backup_secret_lookup_finish (result, backend, &local_error);
  if (local_error != NULL && timed_out)
    timeout_error (error, timeout_ms);
  else if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return secret;
}

static gboolean
finish_sync (GAsyncResult *result,
             gboolean timed_out,
             guint timeout_ms,
             BackupSecretsBackend *backend,
             GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean done;

  /* Both kinds of tasks end the same way. */
  set_backend (result, backend);
  done = g_task_propagate_boolean (G_TASK (result), &local_error);
  if (!done && timed_out)
    timeout_error (error, timeout_ms);
  else if (!done)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return done;
}

gboolean
backup_secret_store_sync (BackupSecretKind kind,
                          const char *secret,
                          guint timeout_ms,
                          BackupSecretsBackend *backend,
                          GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  gboolean empty = secret == NULL || secret[0] == '\0';
  gboolean timed_out;

  g_return_val_if_fail (empty || g_utf8_validate (secret, -1, NULL), FALSE);

  result = run_sync (kind, empty ? ACTION_CLEAR : ACTION_STORE, empty ? NULL : secret,
                     backup_secret_store_async, timeout_ms, cancellable, &timed_out);
  return finish_sync (result, timed_out, timeout_ms, backend, error);
}

gboolean
backup_secret_clear_sync (BackupSecretKind kind,
                          guint timeout_ms,
                          BackupSecretsBackend *backend,
                          GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  gboolean timed_out;

  result = run_sync (kind, ACTION_CLEAR, NULL, backup_secret_clear_async, timeout_ms,
                     cancellable, &timed_out);
  return finish_sync (result, timed_out, timeout_ms, backend, error);
}

/* --- the device key ------------------------------------------------------ */

gboolean
backup_secrets_keyring_available_sync (GCancellable *cancellable)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  gboolean owned = FALSE;

  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return TRUE;
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, &error);
  if (bus == NULL)
    {
      g_debug ("no session bus: %s", error->message);
      return FALSE;
    }
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", SECRET_SERVICE_NAME),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                       PROBE_TIMEOUT_MS, cancellable, &error);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  if (owned)
    return TRUE;
  if (error != NULL)
    g_debug ("cannot ask the bus for the Secret Service: %s", error->message);
  g_clear_error (&error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ListActivatableNames", NULL,
                                       G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                       PROBE_TIMEOUT_MS, cancellable, &error);
  if (reply != NULL && reply_has_name (reply, SECRET_SERVICE_NAME))
    return TRUE;
  if (error != NULL)
    g_debug ("cannot list activatable names: %s", error->message);
  g_debug ("no Secret Service on the session bus");
  return FALSE;
}

static GHashTable *
device_key_attributes (const char *folder, const char *fingerprint)
{
  GHashTable *attributes = attributes_of (BACKUP_SECRET_DEVICE_KEY);

  if (folder != NULL)
    g_hash_table_insert (attributes, (gpointer) "folder", (gpointer)folder);
  if (fingerprint != NULL)
    g_hash_table_insert (attributes, (gpointer) "fingerprint", (gpointer)fingerprint);
  return attributes;
}

static void
prefix_keyring_error (GError **error, GError *cause)
{
  if (!g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_prefix_error (&cause, _("The keyring failed: "));
  g_propagate_error (error, cause);
}

char *
backup_secret_device_key_lookup_sync (const char *folder,
                                      const char *fingerprint,
                                      GCancellable *cancellable,
                                      GError **error)
{
  g_autoptr (GHashTable) attributes = NULL;
  GError *cause = NULL;
  char *found;
  char *secret = NULL;

  g_return_val_if_fail (folder != NULL || fingerprint != NULL, NULL);

  attributes = device_key_attributes (folder, fingerprint);
  found = secret_password_lookupv_sync (&schema, attributes, cancellable, &cause);
  if (cause != NULL)
    {
      prefix_keyring_error (error, cause);
      return NULL;
    }
  if (found != NULL && found[0] != '\0')
    secret = g_strdup (found);
  secret_password_free (found);
  if (secret == NULL && !g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      /* None found may be one in a keyring that stayed locked: say so. */
      g_autoptr (GError) search_error = NULL;
      GList *items = secret_service_search_sync (NULL, &schema, attributes, SECRET_SEARCH_ALL,
                                                 cancellable, &search_error);
      gboolean locked = FALSE;

      for (GList *l = items; l != NULL; l = l->next)
        locked = locked || secret_item_get_locked (l->data);
      g_list_free_full (items, g_object_unref);
      if (search_error != NULL)
        g_debug ("cannot search the keyring: %s", search_error->message);
      if (locked)
        {
          g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                               _("The keyring is locked"));
          return NULL;
        }
    }
  return secret;
}

gboolean
backup_secret_device_key_store_sync (const char *folder,
                                     const char *fingerprint,
                                     const char *key_pem,
                                     GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GHashTable) attributes = NULL;
  GError *cause = NULL;

  g_return_val_if_fail (folder != NULL && fingerprint != NULL, FALSE);
  g_return_val_if_fail (key_pem != NULL && g_utf8_validate (key_pem, -1, NULL), FALSE);

  attributes = device_key_attributes (folder, fingerprint);
  if (!secret_password_storev_sync (&schema, attributes, SECRET_COLLECTION_DEFAULT,
                                    kind_label (BACKUP_SECRET_DEVICE_KEY), key_pem, cancellable,
                                    &cause))
    {
      prefix_keyring_error (error, cause);
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_secret_device_key_clear_sync (const char *folder,
                                     const char *fingerprint,
                                     GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GHashTable) attributes = NULL;
  GError *cause = NULL;

  g_return_val_if_fail (folder != NULL && fingerprint != NULL, FALSE);

  attributes = device_key_attributes (folder, fingerprint);
  secret_password_clearv_sync (&schema, attributes, cancellable, &cause);
  if (cause != NULL)
    {
      prefix_keyring_error (error, cause);
      return FALSE;
    }
  return TRUE;
}
