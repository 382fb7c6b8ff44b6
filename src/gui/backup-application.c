/* backup-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-application.h"
#include "backup-display.h"
#include "backup-preferences.h"
#include "backup-window.h"

/* Where the project lives; the About window links there. */
#define BACKUP_WEBSITE "https://github.com/DistributedBackup/distributed-backup"
#define BACKUP_ISSUE_URL BACKUP_WEBSITE "/issues"

struct _BackupApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  char *api_key;
  guint notifications; /* sent so far: each has an id of its own */
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
  char *id;
} PendingNotification;

static void
pending_notification_free (PendingNotification *pending)
{
  g_object_unref (pending->self);
  g_object_unref (pending->notification);
  g_free (pending->id);
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
  g_application_send_notification (G_APPLICATION (pending->self), pending->id,
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

/* Sends @notification when a notification service can take it, with an
 * id of its own: one backup's notification never replaces another's. */
static void
send_notification (BackupApplication *self, const char *kind, GNotification *notification)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  g_autoptr (GIcon) icon = g_themed_icon_new (APP_ID);
  PendingNotification *pending;

  if (bus == NULL)
    return;
  g_notification_set_icon (notification, icon);
  pending = g_new0 (PendingNotification, 1);
  pending->self = g_object_ref (self);
  pending->notification = g_object_ref (notification);
  pending->id = g_strdup_printf ("%s-%" G_GINT64_FORMAT "-%u", kind, g_get_real_time (),
                                 ++self->notifications);

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

void
backup_application_notify_received (BackupApplication *self, const char *file_name,
                                    const char *folder)
{
  g_autoptr (GNotification) notification = NULL;
  g_autoptr (GFile) destination = NULL;
  g_autoptr (GFile) file = NULL;
  g_autofree char *body = NULL;
  g_autofree char *name = NULL;
  g_autofree char *folder_name = NULL;
  g_autofree char *folder_uri = NULL;
  g_autofree char *file_uri = NULL;

  g_return_if_fail (BACKUP_IS_APPLICATION (self));
  g_return_if_fail (file_name != NULL);
  g_return_if_fail (folder != NULL);

  destination = g_file_new_for_path (folder);
  folder_uri = g_file_get_uri (destination);
  folder_name = g_file_get_parse_name (destination);
  name = backup_display_name (file_name, -1);

  notification = g_notification_new (_("Backup Received"));
  /* Translators: body of a notification; %s are a file name and a folder */
  body = g_strdup_printf (_("%s was stored safely in %s."), name, folder_name);
  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target_value (notification, "app.open-folder",
                                                      g_variant_new_string (folder_uri));
  /* A received name is one path component (the core checks it). */
  if (*file_name != '\0' && strchr (file_name, '/') == NULL)
    {
      file = g_file_get_child (destination, file_name);
      file_uri = g_file_get_uri (file);
      g_notification_add_button_with_target_value (notification, _("Show in Files"),
                                                   "app.show-in-files",
                                                   g_variant_new_string (file_uri));
    }
  send_notification (self, "backup-received", notification);
}

void
backup_application_notify_failed (BackupApplication *self, const char *message)
{
  g_autoptr (GNotification) notification = NULL;

  g_return_if_fail (BACKUP_IS_APPLICATION (self));
  g_return_if_fail (message != NULL);

  notification = g_notification_new (_("Backup Failed"));
  g_notification_set_body (notification, message);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  /* Clicking it brings the window, which shows the failure whole. */
  g_notification_set_default_action (notification, "app.show-window");
  send_notification (self, "backup-failed", notification);
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

  adw_show_about_window (
      gtk_application_get_active_window (GTK_APPLICATION (self)), "application-name",
      _("Distributed Backup"), "application-icon", APP_ID, "version", PACKAGE_VERSION,
      "developer-name", _("The Distributed Backup developers"), "developers", developers,
      "license-type", GTK_LICENSE_GPL_3_0, "translator-credits", _("translator-credits"),
      "comments", _("Back up files and folders to another machine of yours"), "website",
      BACKUP_WEBSITE, "issue-url", BACKUP_ISSUE_URL, "release-notes-version", "0.1.0",
      "release-notes",
      _("<p>First release.</p>"
        "<ul>"
        "<li>Send a file, or a folder zipped twice with two passwords, straight to another "
        "computer of yours</li>"
        "<li>Keep several versions of what arrives</li>"
        "<li>Drop a file or folder on the window to back it up</li>"
        "</ul>"),
      NULL);
}

static void
open_folder_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  gtk_show_uri (window, g_variant_get_string (param, NULL), GDK_CURRENT_TIME);
}

static void
show_items_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GFile) folder = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL && folder != NULL)
    {
      g_autofree char *uri = g_file_get_uri (folder);

      /* No file manager to select it: its folder is opened instead. */
      g_debug ("cannot show the file: %s", error->message);
      g_app_info_launch_default_for_uri_async (uri, NULL, NULL, NULL, NULL);
    }
}

/* Opens the file manager on a received file, selected. */
static void
show_in_files_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (user_data));
  const char *uri = g_variant_get_string (param, NULL);
  const char *uris[] = { uri, NULL };
  g_autoptr (GFile) file = g_file_new_for_uri (uri);

  if (bus == NULL)
    return;
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                          NULL, show_items_cb, g_file_get_parent (file));
}

static void
show_window_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_application_activate (G_APPLICATION (user_data));
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
  const char *name;
  const char *folder;

  g_variant_get (param, "(&s&s)", &name, &folder);
  backup_application_notify_received (user_data, name, folder);
}

static void
notify_failed_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  backup_application_notify_failed (user_data, g_variant_get_string (param, NULL));
}

static const GActionEntry app_actions[] = {
  { "notify-received", notify_received_action, "(ss)", NULL, NULL, { 0 } },
  { "notify-failed", notify_failed_action, "s", NULL, NULL, { 0 } },
  { "open-folder", open_folder_action, "s", NULL, NULL, { 0 } },
  { "show-in-files", show_in_files_action, "s", NULL, NULL, { 0 } },
  { "show-window", show_window_action, NULL, NULL, NULL, { 0 } },
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
};

static void
backup_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };

  /* The name notifications are sent under, among others. */
  g_set_application_name (_("Distributed Backup"));
  G_APPLICATION_CLASS (backup_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
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
