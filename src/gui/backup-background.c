/* backup-background.c: running without a window, through the Background portal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A portal request answers through a Request object: the call returns its
 * path and the answer is its Response signal. The path is predictable from
 * our unique name and the handle_token we pass, so the signal is
 * subscribed to before the call, and an answer that comes before the
 * call's reply is not missed. A portal that returns another path (older
 * ones did) is followed there.
 */
#include "config.h"

#include <unistd.h>

#include "backup-background.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define BACKGROUND_INTERFACE "org.freedesktop.portal.Background"
#define REQUEST_INTERFACE "org.freedesktop.portal.Request"
#define REQUEST_PATH_PREFIX PORTAL_PATH "/request/"
/* The portal cuts a longer status message. */
#define STATUS_MAX_CHARS 96
/* The answers of a Response signal. */
#define RESPONSE_SUCCESS 0

struct _BackupBackground
{
  GObject parent_instance;

  GDBusConnection *bus;
  guint version;  /* of the portal's interface; 0: not read yet */
  guint requests; /* made so far: each has a token of its own */
};

G_DEFINE_FINAL_TYPE (BackupBackground, backup_background, G_TYPE_OBJECT)

/* A D-Bus error that means that no portal (or no Background interface) is
 * there to answer, as G_IO_ERROR_NOT_FOUND. */
static void
return_call_error (GTask *task, GError *error)
{
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    {
      g_dbus_error_strip_remote_error (error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "No Background portal on the session bus: %s", error->message);
      g_error_free (error);
      return;
    }
  g_dbus_error_strip_remote_error (error);
  g_task_return_error (task, error);
}

/* ------------------------------------------------------------------------ */
/* RequestBackground                                                        */

typedef struct
{
  GDBusConnection *bus;
  char *handle;      /* the Request object's path */
  guint response_id; /* the subscription to its Response */
  GSource *cancel_source;
  gboolean answered;  /* the result is returned */
  gboolean autostart; /* what the portal said */
} RequestData;

static void
request_data_free (RequestData *data)
{
  if (data->response_id != 0)
    g_dbus_connection_signal_unsubscribe (data->bus, data->response_id);
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_source_unref (data->cancel_source);
    }
  g_clear_object (&data->bus);
  g_free (data->handle);
  g_free (data);
}

/* The request is over: nothing more is awaited. */
static void
request_done (GTask *task)
{
  RequestData *data = g_task_get_task_data (task);

  data->answered = TRUE;
  if (data->response_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (data->bus, data->response_id);
      data->response_id = 0;
    }
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_clear_pointer (&data->cancel_source, g_source_unref);
    }
}

static void
response_cb (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
             const char *signal, GVariant *parameters, gpointer user_data)
{
  GTask *task = user_data;
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (GVariant) results = NULL;
  guint32 response;
  gboolean background = FALSE;

  if (data->answered || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;
  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  /* Keep the task while it is answered: unsubscribing drops the
   * subscription's reference. */
  g_object_ref (task);
  request_done (task);
  if (response == RESPONSE_SUCCESS)
    {
      g_variant_lookup (results, "background", "b", &background);
      g_variant_lookup (results, "autostart", "b", &data->autostart);
    }
  else
    g_debug ("the Background portal answered %u", response);
  g_task_return_boolean (task, background);
  g_object_unref (task);
}

/* xdg-desktop-portal sends Response to the requester alone; a match rule
 * all the same, for a portal that would broadcast it. */
static guint
subscribe_response (GTask *task, const char *handle)
{
  RequestData *data = g_task_get_task_data (task);

  return g_dbus_connection_signal_subscribe (data->bus, PORTAL_NAME, REQUEST_INTERFACE, "Response",
                                             handle, NULL, G_DBUS_SIGNAL_FLAGS_NONE, response_cb,
                                             g_object_ref (task), g_object_unref);
}

static void
request_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;
  const char *handle;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (data->answered)
    {
      g_clear_error (&error);
      return;
    }
  if (reply == NULL)
    {
      request_done (task);
      return_call_error (task, error);
      return;
    }
  g_variant_get (reply, "(&o)", &handle);
  if (g_strcmp0 (handle, data->handle) != 0)
    {
      /* An older portal chose the path itself. */
      g_dbus_connection_signal_unsubscribe (data->bus, data->response_id);
      g_free (data->handle);
      data->handle = g_strdup (handle);
      data->response_id = subscribe_response (task, data->handle);
    }
}

static gboolean
request_cancelled_cb (gpointer user_data)
{
  GTask *task = user_data;
  RequestData *data = g_task_get_task_data (task);

  if (data->answered)
    return G_SOURCE_REMOVE;
  /* The portal withdraws its question; no answer is awaited. */
  g_dbus_connection_call (data->bus, PORTAL_NAME, data->handle, REQUEST_INTERFACE, "Close", NULL,
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  g_object_ref (task);
  request_done (task);
  g_task_return_error_if_cancelled (task);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* The object path of the request with @token, as the portal makes it:
 * the unique name without its colon, dots as underscores. */
static char *
request_path (GDBusConnection *bus, const char *token)
{
  g_autofree char *sender = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);

  g_strdelimit (sender, ".", '_');
  return g_strconcat (REQUEST_PATH_PREFIX, sender, "/", token, NULL);
}

void
backup_background_request_async (BackupBackground *self, const char *parent_window,
                                 const char *reason, gboolean autostart,
                                 const char *const *commandline, gboolean dbus_activatable,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *token = NULL;
  GVariantBuilder options;
  RequestData *data;

  g_return_if_fail (BACKUP_IS_BACKGROUND (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_background_request_async);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (g_dbus_connection_get_unique_name (self->bus) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "No Background portal: not on a message bus");
      return;
    }

  data = g_new0 (RequestData, 1);
  data->bus = g_object_ref (self->bus);
  g_task_set_task_data (task, data, (GDestroyNotify)request_data_free);
  token = g_strdup_printf ("distributed_backup_%u_%u", (guint)getpid (), ++self->requests);
  data->handle = request_path (self->bus, token);
  data->response_id = subscribe_response (task, data->handle);
  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, data->cancel_source, request_cancelled_cb);
    }

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  if (reason != NULL)
    g_variant_builder_add (&options, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (autostart));
  if (commandline != NULL && commandline[0] != NULL)
    g_variant_builder_add (&options, "{sv}", "commandline", g_variant_new_strv (commandline, -1));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable",
                         g_variant_new_boolean (dbus_activatable));
  /* Not cancelled with @cancellable: a cancellation closes the request
   * (request_cancelled_cb), which needs the call to reach the portal. */
  g_dbus_connection_call (
      self->bus, PORTAL_NAME, PORTAL_PATH, BACKGROUND_INTERFACE, "RequestBackground",
      g_variant_new ("(sa{sv})", parent_window != NULL ? parent_window : "", &options),
      G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, request_cb, g_object_ref (task));
}

gboolean
backup_background_request_finish (BackupBackground *self, GAsyncResult *result, gboolean *autostart,
                                  GError **error)
{
  RequestData *data;
  gboolean granted;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_background_request_async,
                        FALSE);

  data = g_task_get_task_data (G_TASK (result));
  granted = g_task_propagate_boolean (G_TASK (result), error);
  if (autostart != NULL)
    *autostart = data != NULL && granted && data->autostart;
  return granted;
}

/* ------------------------------------------------------------------------ */
/* SetStatus                                                                */

static void
set_status_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    return_call_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
set_status (GTask *task)
{
  BackupBackground *self = g_task_get_source_object (task);
  const char *message = g_task_get_task_data (task);
  GVariantBuilder options;

  if (self->version < 2)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "The Background portal (version %u) has no SetStatus",
                               self->version);
      return;
    }
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "message", g_variant_new_string (message));
  g_dbus_connection_call (self->bus, PORTAL_NAME, PORTAL_PATH, BACKGROUND_INTERFACE, "SetStatus",
                          g_variant_new ("(a{sv})", &options), G_VARIANT_TYPE ("()"),
                          G_DBUS_CALL_FLAGS_NONE, -1, g_task_get_cancellable (task), set_status_cb,
                          g_object_ref (task));
}

static void
version_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BackupBackground *self = g_task_get_source_object (task);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      return_call_error (task, error);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    self->version = MAX (g_variant_get_uint32 (value), 1);
  else
    self->version = 1;
  set_status (task);
}

void
backup_background_set_status_async (BackupBackground *self, const char *message,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  char *text;

  g_return_if_fail (BACKUP_IS_BACKGROUND (self));
  g_return_if_fail (message != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_background_set_status_async);
  /* At most STATUS_MAX_CHARS characters, cut between characters. */
  if (g_utf8_strlen (message, -1) > STATUS_MAX_CHARS)
    text = g_utf8_substring (message, 0, STATUS_MAX_CHARS);
  else
    text = g_strdup (message);
  g_task_set_task_data (task, text, g_free);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (self->version != 0)
    {
      set_status (task);
      return;
    }
  g_dbus_connection_call (self->bus, PORTAL_NAME, PORTAL_PATH, "org.freedesktop.DBus.Properties",
                          "Get", g_variant_new ("(ss)", BACKGROUND_INTERFACE, "version"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                          version_cb, g_object_ref (task));
}

gboolean
backup_background_set_status_finish (BackupBackground *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == backup_background_set_status_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
backup_background_dispose (GObject *object)
{
  BackupBackground *self = BACKUP_BACKGROUND (object);

  g_clear_object (&self->bus);

  G_OBJECT_CLASS (backup_background_parent_class)->dispose (object);
}

static void
backup_background_class_init (BackupBackgroundClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = backup_background_dispose;
}

static void
backup_background_init (BackupBackground *self)
{
}

BackupBackground *
backup_background_new (GDBusConnection *bus)
{
  BackupBackground *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);

  self = g_object_new (BACKUP_TYPE_BACKGROUND, NULL);
  self->bus = g_object_ref (bus);
  return self;
}
