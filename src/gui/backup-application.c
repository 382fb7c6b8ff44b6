/* backup-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-application.h"
#include "backup-display.h"
#include "backup-preferences.h"
#include "backup-window.h"

struct _BackupApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  char *api_key;
};

G_DEFINE_FINAL_TYPE (BackupApplication, backup_application, ADW_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_API_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

BackupWindow *
backup_application_new_window (BackupApplication *self)
{
  BackupWindow *window;

  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), NULL);

  window = backup_window_new (ADW_APPLICATION (self), self->settings);
  g_object_bind_property (self, "api-key", window, "api-key", G_BINDING_SYNC_CREATE);
  return window;
}

static BackupWindow *
get_window (BackupApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (backup_application_new_window (self));
  return BACKUP_WINDOW (window);
}

static void
backup_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (BACKUP_APPLICATION (app))));
}

static void
backup_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  BackupWindow *window = get_window (BACKUP_APPLICATION (app));

  if (n_files > 0)
    backup_window_set_source (window, files[0]);
  if (n_files > 1)
    g_debug ("%d files opened: only the first is backed up", n_files);
  gtk_window_present (GTK_WINDOW (window));
}

/* ------------------------------------------------------------------------ */
/* Notifications                                                            */

/* GLib sends notifications through the portal inside a sandbox, through
 * org.gtk.Notifications when that name is owned (GNOME Shell), and through
 * org.freedesktop.Notifications otherwise; without any of them it only logs
 * a warning. So a notification is sent only when one of them can take it. */

#define GTK_NOTIFICATIONS "org.gtk.Notifications"
#define FDO_NOTIFICATIONS "org.freedesktop.Notifications"

typedef struct
{
  BackupApplication *self;
  GNotification *notification;
} PendingNotification;

static void
pending_notification_free (PendingNotification *pending)
{
  g_object_unref (pending->self);
  g_object_unref (pending->notification);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingNotification, pending_notification_free)

static gboolean
reply_has_name (GVariant *reply, const char *name)
{
  g_autoptr (GVariant) names = NULL;
  g_autofree const char **strv = NULL;

  if (reply == NULL)
    return FALSE;
  names = g_variant_get_child_value (reply, 0);
  strv = g_variant_get_strv (names, NULL);
  return g_strv_contains (strv, name);
}

static void
send_pending (PendingNotification *pending)
{
  g_application_send_notification (G_APPLICATION (pending->self), "backup-received",
                                   pending->notification);
}

static void
list_activatable_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingNotification) pending = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply_has_name (reply, FDO_NOTIFICATIONS))
    send_pending (pending);
  else
    g_debug ("no notification service: %s", error != NULL ? error->message : "none activatable");
}

static void
list_names_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PendingNotification) pending = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply_has_name (reply, GTK_NOTIFICATIONS) || reply_has_name (reply, FDO_NOTIFICATIONS))
    {
      send_pending (pending);
      return;
    }
  g_dbus_connection_call (G_DBUS_CONNECTION (object), "org.freedesktop.DBus",
                          "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames",
                          NULL, G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          list_activatable_cb, g_steal_pointer (&pending));
}

void
backup_application_notify_received (BackupApplication *self, const char *file_name)
{
  GDBusConnection *bus;
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GIcon) icon = NULL;
  PendingNotification *pending;

  g_return_if_fail (BACKUP_IS_APPLICATION (self));

  bus = g_application_get_dbus_connection (G_APPLICATION (self));
  if (bus == NULL)
    return;

  pending = g_new0 (PendingNotification, 1);
  pending->self = g_object_ref (self);
  pending->notification = g_notification_new (_("Backup Received"));
  name = backup_display_name (file_name, -1);
  /* Translators: body of a notification; %s is a file name */
  body = g_strdup_printf (_("%s was stored safely."), name);
  g_notification_set_body (pending->notification, body);
  icon = g_themed_icon_new (APP_ID);
  g_notification_set_icon (pending->notification, icon);

  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      send_pending (pending);
      pending_notification_free (pending);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "ListNames", NULL, G_VARIANT_TYPE ("(as)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, list_names_cb, pending);
}

/* ------------------------------------------------------------------------ */
/* Actions                                                                  */

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_autoptr (GList) windows = NULL;

  /* Each window closes as if its close button was pressed: one with a
   * backup running asks first, and the application stays until every
   * running backup has cleaned up its signaling files (it holds itself
   * meanwhile), rather than ending the main loop under them. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;
  const char *developers[] = { _("The Distributed Backup developers"), NULL };

  adw_show_about_window (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "application-name", _("Distributed Backup"), "application-icon", APP_ID,
                         "version", PACKAGE_VERSION, "developers", developers, "license-type",
                         GTK_LICENSE_GPL_3_0, "translator-credits", _("translator-credits"),
                         "comments", _("Back up files and folders to another machine of yours"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  BackupPreferences *prefs = backup_preferences_new (self->settings);

  /* The key typed there is the key of this run (it is not saved). */
  g_object_bind_property (self, "api-key", prefs, "api-key",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_window_set_transient_for (GTK_WINDOW (prefs), parent);
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
notify_received_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  backup_application_notify_received (user_data, g_variant_get_string (param, NULL));
}

static const GActionEntry app_actions[] = {
  { "notify-received", notify_received_action, "s", NULL, NULL, { 0 } },
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
};

static void
backup_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (backup_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs_accels);
}

static void
backup_application_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupApplication *self = BACKUP_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_API_KEY:
      g_value_set_string (value, backup_application_get_api_key (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_application_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  BackupApplication *self = BACKUP_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_API_KEY:
      backup_application_set_api_key (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_application_dispose (GObject *object)
{
  BackupApplication *self = BACKUP_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (backup_application_parent_class)->dispose (object);
}

static void
backup_application_finalize (GObject *object)
{
  BackupApplication *self = BACKUP_APPLICATION (object);

  g_free (self->api_key);

  G_OBJECT_CLASS (backup_application_parent_class)->finalize (object);
}

static void
backup_application_class_init (BackupApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->get_property = backup_application_get_property;
  object_class->set_property = backup_application_set_property;
  object_class->dispose = backup_application_dispose;
  object_class->finalize = backup_application_finalize;
  app_class->activate = backup_application_activate;
  app_class->open = backup_application_open;
  app_class->startup = backup_application_startup;

  /* The FILE.io API key of this run: kept in memory only. */
  properties[PROP_API_KEY]
      = g_param_spec_string ("api-key", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_application_init (BackupApplication *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new_full (schema, NULL, NULL);
  else
    g_debug ("schema %s not installed: settings are not kept", APP_ID);
}

BackupApplication *
backup_application_new (void)
{
  return g_object_new (BACKUP_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN, "resource-base-path",
                       "/io/github/DistributedBackup", NULL);
}

GSettings *
backup_application_get_settings (BackupApplication *self)
{
  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), NULL);

  return self->settings;
}

const char *
backup_application_get_api_key (BackupApplication *self)
{
  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), NULL);

  return self->api_key != NULL && *self->api_key != '\0' ? self->api_key : NULL;
}

void
backup_application_set_api_key (BackupApplication *self, const char *api_key)
{
  g_return_if_fail (BACKUP_IS_APPLICATION (self));

  if (g_strcmp0 (self->api_key, api_key) == 0)
    return;
  g_free (self->api_key);
  self->api_key = g_strdup (api_key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
}
