/* backup-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-application.h"
#include "backup-pair-dialog.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-preferences.h"
#include "backup-secrets.h"
#include "backup-window.h"

/* Where the project lives; the About window links there. */
#define BACKUP_WEBSITE "https://github.com/DistributedBackup/distributed-backup"
#define BACKUP_ISSUE_URL BACKUP_WEBSITE "/issues"
/* A key typed in the preferences is kept once typing pauses this long. */
#define STORE_DELAY_MS 1500

struct _BackupApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
  char *api_key;
  guint notifications; /* sent so far: each has an id of its own */

  /* The API key kept for the next runs (backup-secrets.h). */
  GCancellable *secrets_cancellable;
  char *kept_api_key;      /* what is kept, as far as known (NULL: none) */
  char *storing_api_key;   /* what the store in flight keeps */
  guint store_source;      /* a store waiting for typing to pause */
  gboolean looking_up;     /* the lookup of the start is in flight */
  gboolean storing;        /* a store is in flight */
  gboolean held;           /* the application is held until the key is kept */
  gboolean store_failure_shown;
  char *pending_message;   /* a failure to show when a window comes */
  GtkWindow *preferences;  /* weak: the open preferences window */
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
  if (self->pending_message != NULL)
    {
      g_autofree char *message = g_steal_pointer (&self->pending_message);

      backup_window_show_toast (window, message);
    }
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
  BackupApplication *self = BACKUP_APPLICATION (app);
  BackupWindow *window = get_window (self);

  /* An invitation link pairs; anything else is a file or folder to send. */
  if (n_files > 0 && g_file_has_uri_scheme (files[0], BACKUP_PAIR_SCHEME))
    {
      g_autofree char *link = g_file_get_uri (files[0]);

      gtk_window_present (GTK_WINDOW (window));
      backup_pair_dialog_open (window, self->settings, backup_application_get_api_key (self),
                               link);
      return;
    }
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
/* The API key kept between runs                                            */

/* The key of this run, NULL when empty. */
static const char *
current_key (BackupApplication *self)
{
  return backup_application_get_api_key (self);
}

static void
replace_secret (char **field, const char *value)
{
  backup_secret_free (*field);
  *field = g_strdup (value);
}

/* Shows @message in the preferences when they are open, else in the
 * active window, else in the next window. */
static void
show_secret_message (BackupApplication *self, const char *message)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (self->preferences != NULL)
    {
      g_autoptr (AdwToast) toast = backup_gui_toast_new (message);

      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self->preferences),
                                        g_steal_pointer (&toast));
    }
  else if (BACKUP_IS_WINDOW (window))
    backup_window_show_toast (BACKUP_WINDOW (window), message);
  else
    {
      g_free (self->pending_message);
      self->pending_message = g_strdup (message);
    }
}

static void
release_if_held (BackupApplication *self)
{
  if (self->held && !self->storing && self->store_source == 0)
    {
      self->held = FALSE;
      g_application_release (G_APPLICATION (self));
    }
}

static void store_kept_key (BackupApplication *self);

static void
store_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupApplication) self = user_data;
  g_autoptr (GError) error = NULL;

  self->storing = FALSE;
  if (backup_secret_store_finish (result, NULL, &error))
    {
      replace_secret (&self->kept_api_key, self->storing_api_key);
      g_clear_pointer (&self->storing_api_key, backup_secret_free);
      /* Typed meanwhile: kept in turn. */
      store_kept_key (self);
    }
  else
    {
      g_clear_pointer (&self->storing_api_key, backup_secret_free);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          && !self->store_failure_shown)
        {
          g_autofree char *message = NULL;

          /* Once a run: the key works all the same until the end of it. */
          self->store_failure_shown = TRUE;
          /* Translators: %s says why (from the keyring or the file system) */
          message = g_strdup_printf (_("The API key could not be saved, so it is only kept "
                                       "until you quit: %s"),
                                     error->message);
          show_secret_message (self, message);
        }
      g_debug ("the API key is not kept: %s", error->message);
    }
  release_if_held (self);
}

/* Keeps the key of this run for the next ones, unless it is kept already
 * (an empty key removes the kept one). */
static void
store_kept_key (BackupApplication *self)
{
  if (self->looking_up || self->storing || self->store_source != 0)
    return;
  if (g_strcmp0 (current_key (self), self->kept_api_key) == 0)
    {
      release_if_held (self);
      return;
    }
  self->storing = TRUE;
  self->storing_api_key = g_strdup (current_key (self));
  backup_secret_store_async (BACKUP_SECRET_API_KEY, self->storing_api_key,
                             self->secrets_cancellable, store_cb, g_object_ref (self));
}

static gboolean
store_timeout_cb (gpointer user_data)
{
  BackupApplication *self = user_data;

  self->store_source = 0;
  store_kept_key (self);
  return G_SOURCE_REMOVE;
}

/* The key was edited: it is kept once typing pauses, and the application
 * stays until then. */
static void
schedule_store (BackupApplication *self)
{
  g_clear_handle_id (&self->store_source, g_source_remove);
  self->store_source = g_timeout_add (STORE_DELAY_MS, store_timeout_cb, self);
  if (!self->held)
    {
      self->held = TRUE;
      g_application_hold (G_APPLICATION (self));
    }
}

static void
lookup_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupApplication) self = user_data;
  g_autoptr (GError) error = NULL;
  char *kept;

  kept = backup_secret_lookup_finish (result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->looking_up = FALSE;
  if (error != NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: %s says why (from the keyring or the file system) */
      message = g_strdup_printf (_("The saved API key could not be read: %s"), error->message);
      show_secret_message (self, message);
    }
  replace_secret (&self->kept_api_key, kept);
  /* A key typed before the lookup ended wins. */
  if (current_key (self) == NULL && kept != NULL)
    {
      g_free (self->api_key);
      self->api_key = g_strdup (kept);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
    }
  backup_secret_free (kept);
  store_kept_key (self);
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

/* The release notes of this version, from the metainfo file. */
static char *
release_notes (void)
{
  g_autoptr (GBytes) metainfo = NULL;
  g_autoptr (GError) error = NULL;
  char *notes;

  metainfo = g_resources_lookup_data ("/io/github/DistributedBackup/metainfo.xml",
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (metainfo == NULL)
    {
      g_debug ("no metainfo: %s", error->message);
      return NULL;
    }
  notes = backup_gui_release_notes (g_bytes_get_data (metainfo, NULL),
                                    (gssize)g_bytes_get_size (metainfo), PACKAGE_VERSION,
                                    (const char *const *)g_get_language_names (), &error);
  if (notes == NULL)
    g_debug ("no release notes: %s", error->message);
  return notes;
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;
  const char *developers[] = { _("The Distributed Backup developers"), NULL };
  g_autofree char *notes = release_notes ();
  GtkWidget *about = adw_about_window_new ();

  g_object_set (
      about, "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
      "application-name", _("Distributed Backup"), "application-icon", APP_ID, "version",
      PACKAGE_VERSION, "developer-name", _("The Distributed Backup developers"), "developers",
      developers, "license-type", GTK_LICENSE_GPL_3_0, "translator-credits",
      _("translator-credits"), "comments",
      _("Back up files and folders to another machine of yours"), "website", BACKUP_WEBSITE,
      "issue-url", BACKUP_ISSUE_URL, NULL);
  if (notes != NULL)
    g_object_set (about, "release-notes-version", PACKAGE_VERSION, "release-notes", notes, NULL);
  gtk_window_present (GTK_WINDOW (about));
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

  /* The key typed there is the key of this run, kept for the next ones. */
  g_object_bind_property (self, "api-key", prefs, "api-key",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  if (self->preferences != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->preferences), (gpointer *)&self->preferences);
  self->preferences = GTK_WINDOW (prefs);
  g_object_add_weak_pointer (G_OBJECT (prefs), (gpointer *)&self->preferences);
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
  BackupApplication *self = BACKUP_APPLICATION (app);

  /* The name notifications are sent under, among others (set once a
   * process, which may start more than one application). */
  if (g_strcmp0 (g_get_application_name (), _("Distributed Backup")) != 0)
    g_set_application_name (_("Distributed Backup"));
  G_APPLICATION_CLASS (backup_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);

  /* The key kept by an earlier run. */
  self->looking_up = TRUE;
  backup_secret_lookup_async (BACKUP_SECRET_API_KEY, self->secrets_cancellable, lookup_cb,
                              g_object_ref (self));
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
  g_cancellable_cancel (self->secrets_cancellable);
  g_clear_handle_id (&self->store_source, g_source_remove);
  if (self->preferences != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->preferences), (gpointer *)&self->preferences);
      self->preferences = NULL;
    }

  G_OBJECT_CLASS (backup_application_parent_class)->dispose (object);
}

static void
backup_application_finalize (GObject *object)
{
  BackupApplication *self = BACKUP_APPLICATION (object);

  backup_secret_free (self->api_key);
  backup_secret_free (self->kept_api_key);
  backup_secret_free (self->storing_api_key);
  g_clear_object (&self->secrets_cancellable);
  g_free (self->pending_message);

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

  /* The FILE.io API key of this run, kept for the next runs in the
   * keyring (or a private file where there is none). */
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

  self->secrets_cancellable = g_cancellable_new ();

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
  replace_secret (&self->api_key, api_key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
  schedule_store (self);
}

gboolean
backup_application_is_keeping_api_key (BackupApplication *self)
{
  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), FALSE);

  return self->looking_up || self->storing || self->store_source != 0;
}
