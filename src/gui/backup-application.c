/* backup-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-application.h"
#include "backup-background.h"
#include "backup-clock.h"
#include "backup-device.h"
#include "backup-discovery.h"
#include "backup-scheduler.h"
#include "backup-pair-dialog.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-preferences.h"
#include "backup-secrets.h"
#include "backup-window-private.h"
#include "rtc-sdp.h"

/* Where the project lives; the About window links there. */
#define BACKUP_WEBSITE "https://github.com/DistributedBackup/distributed-backup"
#define BACKUP_ISSUE_URL BACKUP_WEBSITE "/issues"
/* A key typed in the preferences is kept once typing pauses this long. */
#define STORE_DELAY_MS 1500
/* The notification that says that backups are received with the window
 * closed, where the portal cannot show it (one at a time). */
#define STATUS_NOTIFICATION_ID "receiving-in-background"

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

  /* This device on the local network while the application runs. */
  BackupDiscovery *announcement;

  /* Receiving with the window closed (backup-background.h). */
  BackupBackground *background;         /* the portal's client; NULL without a bus */
  GCancellable *background_cancellable; /* its requests, cancelled at shutdown */
  BackupWindow *hidden_window;          /* weak: closed while it receives, or NULL */
  gulong hidden_visible_id;             /* its notify::visible */
  gulong hidden_runner_id;              /* its Receive page's notify::runner */
  BackupWindow *starting_window;        /* weak: --background, once the key is known */
  gboolean start_hidden;                /* --background was given */
  gboolean status_wanted;               /* the status notification is to be shown */
  gboolean status_sent;                 /* it was sent, so it is withdrawn */
  gboolean no_portal_told;              /* the log said once that there is none */

  /* Scheduled backups (backup-scheduler.h), run while the application runs. */
  BackupScheduler *scheduler;
  GFileMonitor *schedules_monitor; /* schedules.conf, changed elsewhere too */
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
  backup_window_set_scheduler (window, self->scheduler);
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

static void start_in_background (BackupApplication *self, BackupWindow *window);

static void
backup_application_activate (GApplication *app)
{
  BackupApplication *self = BACKUP_APPLICATION (app);

  /* --background: a window that is not shown receives, once the API key
   * kept is known. */
  if (self->start_hidden)
    {
      BackupWindow *window = backup_application_new_window (self);

      self->start_hidden = FALSE;
      if (self->looking_up)
        g_set_weak_pointer (&self->starting_window, window);
      else
        start_in_background (self, window);
      return;
    }
  gtk_window_present (GTK_WINDOW (get_window (self)));
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
  gboolean status; /* the background status: only while it is wanted */
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
  if (pending->status)
    {
      /* The window came back meanwhile. */
      if (!pending->self->status_wanted)
        return;
      pending->self->status_sent = TRUE;
    }
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
 * id of its own: one backup's notification never replaces another's. The
 * background status has one id, and is sent only while it is wanted. */
static void
send_notification (BackupApplication *self, const char *kind, GNotification *notification)
{
  gboolean status = g_strcmp0 (kind, STATUS_NOTIFICATION_ID) == 0;
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  g_autoptr (GIcon) icon = g_themed_icon_new (APP_ID);
  PendingNotification *pending;

  if (bus == NULL)
    return;
  g_notification_set_icon (notification, icon);
  pending = g_new0 (PendingNotification, 1);
  pending->self = g_object_ref (self);
  pending->notification = g_object_ref (notification);
  pending->status = status;
  if (status)
    pending->id = g_strdup (kind);
  else
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
/* Receiving with the window closed                                         */

/* A window closed while its Receive page listens for one backup after
 * another is hidden, not destroyed ("app.background", which the window
 * activates): the application asks the Background portal to go on
 * without a window, and shows that it does (the portal's status, or a
 * notification where the portal has none). Activating the application
 * shows the same window again; a run that ends meanwhile takes the window
 * and the application with it. */

static const char *const autostart_commandline[] = { "distributed-backup", "--background", NULL };

static gboolean
autostart_wanted (BackupApplication *self)
{
  return self->settings != NULL && g_settings_get_boolean (self->settings, "autostart");
}

static void
tell_no_portal (BackupApplication *self, const char *why)
{
  if (self->no_portal_told)
    return;
  self->no_portal_told = TRUE;
  g_message ("%s: backups are received with the window closed all the same, as long as the "
             "application runs",
             why);
}

static void
request_background_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupApplication) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean autostart = FALSE;
  gboolean granted;

  granted = backup_background_request_finish (BACKUP_BACKGROUND (object), result, &autostart,
                                              &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    tell_no_portal (self, error->message);
  else if (!granted)
    g_message ("the desktop refused to let the application run in the background");
  else if (autostart_wanted (self) && !autostart)
    g_message ("the desktop did not set up the start at login");
  else
    g_debug ("running in the background allowed; %s at login",
             autostart ? "started" : "not started");
}

/* Asks the portal to let the application run without a window, and to
 * start it at login with --background when @autostart (else not). */
static void
request_background (BackupApplication *self, const char *reason, gboolean autostart)
{
  if (self->background == NULL)
    {
      tell_no_portal (self, "no session bus");
      return;
    }
  backup_background_request_async (self->background, "", reason, autostart,
                                   autostart_commandline, FALSE, self->background_cancellable,
                                   request_background_cb, g_object_ref (self));
}

/* TRUE while the hidden window's Receive page receives (else the
 * application stays for its scheduled backups). */
static gboolean
receiving_hidden (BackupApplication *self)
{
  return self->hidden_window != NULL
         && backup_receive_page_get_runner (backup_window_get_receive_page (self->hidden_window))
                != NULL;
}

static void
show_status_notification (BackupApplication *self)
{
  g_autoptr (GNotification) notification = NULL;

  if (receiving_hidden (self))
    {
      notification = g_notification_new (_("Receiving Backups in the Background"));
      g_notification_set_body (notification,
                               _("Distributed Backup waits for backups with its window closed."));
    }
  else
    {
      notification = g_notification_new (_("Backing Up on a Schedule"));
      g_notification_set_body (notification, _("Distributed Backup runs its scheduled backups "
                                               "with its window closed."));
    }
  g_notification_set_default_action (notification, "app.show-window");
  g_notification_add_button (notification, _("Open"), "app.show-window");
  g_notification_add_button (notification, _("Stop"), "app.stop-background");
  send_notification (self, STATUS_NOTIFICATION_ID, notification);
}

static void
set_status_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupApplication) self = user_data;
  g_autoptr (GError) error = NULL;

  if (backup_background_set_status_finish (BACKUP_BACKGROUND (object), result, &error)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_debug ("no background status (%s): a notification shows it", error->message);
  if (self->status_wanted)
    show_status_notification (self);
}

static void
show_background_status (BackupApplication *self)
{
  self->status_wanted = TRUE;
  if (self->background == NULL)
    {
      show_status_notification (self);
      return;
    }
  backup_background_set_status_async (self->background,
                                      receiving_hidden (self)
                                          ? _("Receiving backups in the background")
                                          : _("Backing up on a schedule"),
                                      self->background_cancellable, set_status_cb,
                                      g_object_ref (self));
}

static void
withdraw_background_status (BackupApplication *self)
{
  self->status_wanted = FALSE;
  if (self->status_sent)
    {
      self->status_sent = FALSE;
      g_application_withdraw_notification (G_APPLICATION (self), STATUS_NOTIFICATION_ID);
    }
}

/* The hidden window is shown again, or goes: the application is back in
 * the foreground, or ends. */
static void
leave_background (BackupApplication *self)
{
  BackupReceivePage *page;

  withdraw_background_status (self);
  if (self->hidden_window == NULL)
    return;
  page = backup_window_get_receive_page (self->hidden_window);
  g_clear_signal_handler (&self->hidden_visible_id, self->hidden_window);
  if (page != NULL) /* not disposed */
    g_clear_signal_handler (&self->hidden_runner_id, page);
  self->hidden_runner_id = 0;
  g_clear_weak_pointer (&self->hidden_window);
}

static void
hidden_window_visible_cb (GtkWidget *window, GParamSpec *pspec, gpointer user_data)
{
  if (gtk_widget_get_visible (window))
    leave_background (BACKUP_APPLICATION (user_data));
}

static gboolean
destroy_window_cb (gpointer user_data)
{
  gtk_window_destroy (GTK_WINDOW (user_data));
  return G_SOURCE_REMOVE;
}

/* Receiving ended with the window closed: the window goes, and with it
 * the application (once the run has cleaned up). */
/* ------------------------------------------------------------------------ */
/* Scheduled backups                                                        */

/* A scheduled backup runs with the preferences' network settings and this
 * session's API key, and waits for the other computer two minutes (then
 * it is tried again later, as the scheduler does with failures). */
static void
prepare_profile_cb (BackupScheduler *scheduler, const char *id, BackupProfile *profile,
                    gpointer user_data)
{
  BackupApplication *self = user_data;

  backup_gui_profile_apply_network (profile, self->settings,
                                    backup_application_get_api_key (self));
  backup_profile_set_timeout (profile, 120);
}

/* The first failure of a run of failures is told, once; the scheduler tries
 * again meanwhile. */
static void
schedule_failed_cb (BackupScheduler *scheduler, const char *id, const GError *error,
                    gpointer user_data)
{
  BackupApplication *self = user_data;
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GNotification) notification = NULL;
  g_autofree char *name = NULL;
  g_autofree char *body = NULL;

  schedule = backup_schedule_find (backup_scheduler_get_config_path (scheduler), id, NULL);
  name = backup_display_name (schedule != NULL ? schedule->name : id, -1);
  /* Translators: the name of a scheduled backup, then why it failed */
  body = g_strdup_printf (_("“%s”: %s. It is tried again later."), name,
                          error != NULL ? error->message : "");
  notification = g_notification_new (_("Scheduled Backup Failed"));
  g_notification_set_body (notification, body);
  g_notification_set_default_action (notification, "app.show-window");
  send_notification (self, "schedule-failed", notification);
}

static void
schedules_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                      gpointer user_data)
{
  BackupApplication *self = user_data;
  g_autoptr (GError) error = NULL;

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_CREATED
      && event != G_FILE_MONITOR_EVENT_DELETED && event != G_FILE_MONITOR_EVENT_RENAMED
      && event != G_FILE_MONITOR_EVENT_MOVED_IN)
    return;
  if (!backup_scheduler_reload (self->scheduler, &error))
    g_message ("the scheduled backups were not read again: %s", error->message);
}

static void
start_scheduler (BackupApplication *self)
{
  g_autoptr (BackupClock) clock = backup_clock_new_system ();
  g_autofree char *config = backup_schedule_get_default_path ();
  g_autofree char *state = backup_schedule_get_default_state_path ();
  g_autoptr (GError) error = NULL;

  self->scheduler = backup_scheduler_new (clock, config, state);
  g_signal_connect_object (self->scheduler, "prepare-profile", G_CALLBACK (prepare_profile_cb),
                           self, 0);
  g_signal_connect_object (self->scheduler, "schedule-failed", G_CALLBACK (schedule_failed_cb),
                           self, 0);
  if (!backup_scheduler_start (self->scheduler, &error))
    {
      g_message ("scheduled backups do not run: %s", error->message);
      return;
    }
  /* A schedule added or changed elsewhere (another window, a terminal). */
  {
    g_autoptr (GFile) file = g_file_new_for_path (config);

    self->schedules_monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
    if (self->schedules_monitor != NULL)
      g_signal_connect_object (self->schedules_monitor, "changed",
                               G_CALLBACK (schedules_changed_cb), self, 0);
  }
}

BackupScheduler *
backup_application_get_scheduler (BackupApplication *self)
{
  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), NULL);

  return self->scheduler;
}

gboolean
backup_application_has_schedules (BackupApplication *self)
{
  g_autoptr (GPtrArray) schedules = NULL;

  g_return_val_if_fail (BACKUP_IS_APPLICATION (self), FALSE);

  if (self->scheduler == NULL)
    return FALSE;
  schedules = backup_scheduler_dup_schedules (self->scheduler);
  for (guint i = 0; schedules != NULL && i < schedules->len; i++)
    if (((BackupSchedule *)g_ptr_array_index (schedules, i))->enabled)
      return TRUE;
  return FALSE;
}

static void
hidden_runner_cb (BackupReceivePage *page, GParamSpec *pspec, gpointer user_data)
{
  BackupApplication *self = user_data;
  BackupWindow *window = self->hidden_window;

  if (backup_receive_page_get_runner (page) != NULL || window == NULL)
    return;
  /* Scheduled backups still have to run. */
  if (backup_application_has_schedules (self))
    {
      show_background_status (self);
      return;
    }
  g_debug ("receiving ended with the window closed: the application ends");
  leave_background (self);
  /* Not under the page's own notification. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, destroy_window_cb, g_object_ref (window),
                   g_object_unref);
}

static void
enter_background (BackupApplication *self, BackupWindow *window)
{
  BackupReceivePage *page = backup_window_get_receive_page (window);

  if (self->hidden_window == window)
    return;
  leave_background (self);
  g_set_weak_pointer (&self->hidden_window, window);
  self->hidden_visible_id = g_signal_connect_object (
      window, "notify::visible", G_CALLBACK (hidden_window_visible_cb), self, 0);
  self->hidden_runner_id = g_signal_connect_object (page, "notify::runner",
                                                    G_CALLBACK (hidden_runner_cb), self, 0);
  request_background (self,
                      receiving_hidden (self) ? _("Receive backups while the window is closed")
                                              : _("Run scheduled backups while the window is "
                                                  "closed"),
                      autostart_wanted (self));
  show_background_status (self);
}

/* Ticks the Receive page's "Keep listening" (its switch follows): the
 * page has no call for it, so its check button is found by its label. */
static gboolean
keep_listening_on (GtkWidget *widget)
{
  if (GTK_IS_CHECK_BUTTON (widget)
      && g_strcmp0 (gtk_check_button_get_label (GTK_CHECK_BUTTON (widget)),
                    _("_Keep listening after this backup"))
             == 0)
    {
      gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), TRUE);
      return TRUE;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (keep_listening_on (child))
      return TRUE;
  return FALSE;
}

/* --background: receive with the session id and folder of last time, one
 * backup after another, without showing @window, which is shown only when
 * there is nothing to receive with. */
static void
start_in_background (BackupApplication *self, BackupWindow *window)
{
  BackupReceivePage *page = backup_window_get_receive_page (window);
  BackupRunner *runner;

  if (!keep_listening_on (GTK_WIDGET (page)))
    g_debug ("no Keep Listening on the Receive page");
  gtk_widget_activate_action (GTK_WIDGET (page), "receive.start", NULL);
  runner = backup_receive_page_get_runner (page);
  if (runner == NULL && backup_application_has_schedules (self))
    {
      g_debug ("nothing to receive with: in the background for the scheduled backups");
      enter_background (self, window);
      return;
    }
  if (runner == NULL)
    {
      g_message ("nothing to receive with in the background: the window opens");
      gtk_window_present (GTK_WINDOW (window));
      return;
    }
  backup_profile_set_keep_listening (backup_runner_get_profile (runner), TRUE);
  enter_background (self, window);
}

static void
background_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (BACKUP_IS_WINDOW (l->data) && !gtk_widget_get_visible (l->data))
      {
        enter_background (self, l->data);
        return;
      }
}

static void
stop_background_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;
  BackupWindow *window = self->hidden_window;

  /* Nobody sees the window to be asked: it goes, and its run is
   * cancelled (the application stays until that has cleaned up). */
  if (window == NULL)
    return;
  leave_background (self);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
autostart_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  BackupApplication *self = user_data;

  request_background (self, _("Start at login to receive backups"), autostart_wanted (self));
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
  if (self->starting_window != NULL)
    {
      BackupWindow *window = self->starting_window;

      g_clear_weak_pointer (&self->starting_window);
      start_in_background (self, window);
    }
  store_kept_key (self);
}

/* ------------------------------------------------------------------------ */
/* Actions                                                                  */

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  BackupApplication *self = user_data;
  GAction *background = g_action_map_lookup_action (G_ACTION_MAP (self), "background");
  GList *windows;

  /* Each window closes as if its close button was pressed: one with a
   * backup running asks first, and the application stays until every
   * running backup has cleaned up its signaling files (it holds itself
   * meanwhile), rather than ending the main loop under them. Quitting
   * never leaves the application in the background: while the windows
   * close, "app.background" is off, so that they do not hide; a window
   * hidden already has nobody to ask, and goes. */
  g_simple_action_set_enabled (G_SIMPLE_ACTION (background), FALSE);
  windows = g_list_copy_deep (gtk_application_get_windows (GTK_APPLICATION (self)),
                              (GCopyFunc)(void (*) (void))g_object_ref, NULL);
  for (GList *l = windows; l != NULL; l = l->next)
    {
      if (l->data == (gpointer)self->hidden_window)
        {
          leave_background (self);
          gtk_window_destroy (GTK_WINDOW (l->data));
        }
      else
        gtk_window_close (GTK_WINDOW (l->data));
    }
  g_list_free_full (windows, g_object_unref);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (background), TRUE);
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
  { "background", background_action, NULL, NULL, NULL, { 0 } },
  { "stop-background", stop_background_action, NULL, NULL, NULL, { 0 } },
  { "quit", quit_action, NULL, NULL, NULL, { 0 } },
  { "about", about_action, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_action, NULL, NULL, NULL, { 0 } },
};

/* While it runs, the application says on the local network that this
 * device is there (its name and certificate fingerprint, nothing secret),
 * so that the other devices list it; "Pair With a Device Nearby" announces
 * it ready to pair besides. Without an identity yet (it is made at the
 * first pairing) or without the Avahi daemon, nothing is announced. */
static void
announce_device (BackupApplication *self)
{
  g_autofree char *fingerprint = backup_device_read_fingerprint (NULL, NULL);
  guint8 bytes[RTC_CERTIFICATE_FINGERPRINT_LEN];

  if (fingerprint == NULL || !rtc_sdp_fingerprint_from_string (fingerprint, bytes, NULL))
    return;
  self->announcement = backup_discovery_new (bytes, NULL);
  g_object_set (self->announcement, "browse", FALSE, NULL);
  backup_discovery_start (self->announcement);
}

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

  /* Running without a window: the portal, and the start at login as the
   * preferences change it. */
  if (g_application_get_dbus_connection (app) != NULL)
    self->background = backup_background_new (g_application_get_dbus_connection (app));
  if (self->settings != NULL)
    g_signal_connect_object (self->settings, "changed::autostart",
                             G_CALLBACK (autostart_changed_cb), self, 0);

  /* Scheduled backups run while the application does (with the window
   * closed too, see backup-window.c). */
  start_scheduler (self);
  announce_device (self);

  /* The key kept by an earlier run. */
  self->looking_up = TRUE;
  backup_secret_lookup_async (BACKUP_SECRET_API_KEY, self->secrets_cancellable, lookup_cb,
                              g_object_ref (self));
}

/* A window that goes (closed, quitting, SIGTERM, or hidden when its run
 * ended) stops what its pages run: they clean up and release the
 * application, which would otherwise wait for a run that listens on. */
static void
backup_application_window_removed (GtkApplication *app, GtkWindow *window)
{
  if (BACKUP_IS_WINDOW (window))
    {
      BackupSendPage *send_page = backup_window_get_send_page (BACKUP_WINDOW (window));
      BackupReceivePage *receive_page = backup_window_get_receive_page (BACKUP_WINDOW (window));

      if (send_page != NULL)
        backup_send_page_cancel (send_page);
      if (receive_page != NULL)
        backup_receive_page_cancel (receive_page);
      if ((gpointer)window == (gpointer)BACKUP_APPLICATION (app)->hidden_window)
        leave_background (BACKUP_APPLICATION (app));
    }
  GTK_APPLICATION_CLASS (backup_application_parent_class)->window_removed (app, window);
}

/* --background: nothing to do when the application runs already. */
static int
backup_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  BackupApplication *self = BACKUP_APPLICATION (app);
  g_autoptr (GError) error = NULL;

  if (!g_variant_dict_contains (options, "background"))
    return -1;
  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (g_application_get_is_remote (app))
    return 0;
  self->start_hidden = TRUE;
  return -1;
}

static void
backup_application_shutdown (GApplication *app)
{
  BackupApplication *self = BACKUP_APPLICATION (app);

  leave_background (self);
  g_cancellable_cancel (self->background_cancellable);
  if (self->scheduler != NULL)
    backup_scheduler_stop (self->scheduler);
  if (self->announcement != NULL)
    backup_discovery_stop (self->announcement);
  g_clear_object (&self->announcement);

  G_APPLICATION_CLASS (backup_application_parent_class)->shutdown (app);
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
  g_cancellable_cancel (self->background_cancellable);
  g_clear_object (&self->background);
  if (self->schedules_monitor != NULL)
    {
      g_file_monitor_cancel (self->schedules_monitor);
      g_clear_object (&self->schedules_monitor);
    }
  if (self->scheduler != NULL)
    {
      backup_scheduler_stop (self->scheduler);
      g_signal_handlers_disconnect_by_data (self->scheduler, self);
      g_clear_object (&self->scheduler);
    }
  g_clear_object (&self->announcement);
  g_clear_weak_pointer (&self->starting_window);
  leave_background (self);
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
  g_clear_object (&self->background_cancellable);
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
  app_class->shutdown = backup_application_shutdown;
  app_class->handle_local_options = backup_application_handle_local_options;
  GTK_APPLICATION_CLASS (klass)->window_removed = backup_application_window_removed;

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
  self->background_cancellable = g_cancellable_new ();
  g_application_add_main_option (G_APPLICATION (self), "background", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE,
                                 _("Start without a window, receiving backups as last time"),
                                 NULL);

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
