/* backup-window.c: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hosts the Send, Receive and Encrypt pages (each shows its own run), the
 * Backups page (what was received and sent), the Schedules page and the
 * toasts they show. One
 * backup runs at a time: while one page runs, the other is locked. A file or folder dragged over the window is
 * highlighted, and dropped it becomes what the Send page sends. Escape and
 * closing ask before a running backup is stopped.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "backup-encrypt-page.h"
#include "backup-gui-utils.h"
#include "backup-application.h"
#include "backup-history-page.h"
#include "backup-receive-page.h"
#include "backup-schedules-page.h"
#include "backup-send-page.h"
#include "backup-devices-page.h"
#include "backup-nearby-dialog.h"
#include "backup-pair-dialog.h"
#include "backup-window-private.h"

struct _BackupWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets. */
  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  AdwViewSwitcherBar *switcher_bar;
  BackupSendPage *send_page;
  BackupReceivePage *receive_page;
  BackupEncryptPage *encrypt_page;
  BackupHistoryPage *history_page;
  BackupSchedulesPage *schedules_page;
  BackupDevicesPage *devices_page;
  GtkRevealer *drop_revealer;
  AdwStatusPage *drop_status;

  GSettings *settings; /* NULL without the schema */
  char *api_key;       /* for pairing; the pages have their own copies */
  char *last_toast;
  gboolean close_confirmed; /* the user chose to stop the running backup */
  gboolean focus_on_source; /* a drop: focus Send Backup once it is taken */
  GtkWidget *stop_dialog;   /* the question before stopping, while shown */
  GtkDropTarget *drop_target; /* owned by the window */
  BackupRunner *watched_receiver; /* the Receive page's runner, for the Backups page */
};

G_DEFINE_FINAL_TYPE (BackupWindow, backup_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_API_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
add_toast (BackupWindow *self, AdwToast *toast)
{
  char *text = NULL;

  if (self->toast_overlay == NULL) /* disposed */
    return;
  /* A toast's title is markup. */
  if (pango_parse_markup (adw_toast_get_title (toast), -1, 0, NULL, &text, NULL, NULL))
    {
      g_free (self->last_toast);
      self->last_toast = text;
    }
  adw_toast_overlay_add_toast (self->toast_overlay, g_object_ref (toast));
}

static void
page_toast_cb (GtkWidget *page, AdwToast *toast, BackupWindow *self)
{
  add_toast (self, toast);
}

/* The Backups page lists each backup the Receive page stores, and what the
 * folder holds once a run ends. */
static void
received_cb (BackupRunner *runner, BackupSession *session, const GError *error,
             BackupWindow *self)
{
  if (error == NULL && self->history_page != NULL)
    backup_history_page_refresh (self->history_page);
}

static void
watch_receiver (BackupWindow *self, BackupRunner *runner)
{
  if (self->watched_receiver == runner)
    return;
  if (self->watched_receiver != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->watched_receiver, self);
      g_clear_object (&self->watched_receiver);
      if (self->history_page != NULL)
        backup_history_page_refresh (self->history_page);
    }
  if (runner != NULL)
    {
      self->watched_receiver = g_object_ref (runner);
      g_signal_connect (runner, "session-finished", G_CALLBACK (received_cb), self);
    }
}

static gboolean
is_busy (BackupWindow *self)
{
  if (self->send_page == NULL) /* disposed */
    return FALSE;
  return backup_send_page_get_runner (self->send_page) != NULL
         || backup_receive_page_get_runner (self->receive_page) != NULL;
}

static void
page_runner_cb (GtkWidget *page, GParamSpec *pspec, BackupWindow *self)
{
  BackupRunner *sending;
  BackupRunner *receiving;

  if (self->send_page == NULL) /* disposed */
    return;
  sending = backup_send_page_get_runner (self->send_page);
  receiving = backup_receive_page_get_runner (self->receive_page);

  /* A page locks what its own run uses; the other page waits. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->send_page), receiving == NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->receive_page), sending == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel",
                                 sending != NULL || receiving != NULL);
  /* A question about a run that ended meanwhile has no object. */
  if (sending == NULL && receiving == NULL && self->stop_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->stop_dialog));
  watch_receiver (self, receiving);
}

static void
send_source_cb (BackupSendPage *page, GParamSpec *pspec, BackupWindow *self)
{
  if (self->stack == NULL)
    return;
  adw_view_stack_set_visible_child_name (self->stack, "send");
  if (self->focus_on_source)
    {
      self->focus_on_source = FALSE;
      backup_send_page_focus_primary (page);
    }
}

static void
password_file_saved_cb (BackupEncryptPage *page, GFile *file, BackupWindow *self)
{
  if (self->send_page != NULL)
    backup_send_page_set_password_file (self->send_page, file);
}

/* ------------------------------------------------------------------------ */
/* Actions                                                                  */

static void
generate_session_id_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autofree char *id = g_uuid_string_random ();

  backup_send_page_set_session_id (self->send_page, id);
  backup_receive_page_set_session_id (self->receive_page, id);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  backup_send_page_cancel (self->send_page);
  backup_receive_page_cancel (self->receive_page);
}

static void ask_before_stopping (BackupWindow *self, gboolean closing);

/* Stops the running backup, once the user said so. */
static void
stop_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  if (is_busy (self))
    ask_before_stopping (self, FALSE);
}

/* Pairing with another computer, from the main menu. */
static void
invite_device_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  backup_pair_dialog_invite (self, self->settings, self->api_key);
}

static void
pair_nearby_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  backup_nearby_dialog_show (self, self->settings);
}

static void
pair_with_link_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  backup_pair_dialog_ask_link (self, self->settings, self->api_key);
}

static void
open_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_show_uri (GTK_WINDOW (widget), g_variant_get_string (param, NULL), GDK_CURRENT_TIME);
}

/* Escape: asks before stopping a running backup; after a run, goes back
 * from how it ended to the form. */
static gboolean
escape_shortcut (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  const char *page = adw_view_stack_get_visible_child_name (self->stack);

  if (is_busy (self))
    return gtk_widget_activate_action (widget, "win.stop", NULL);
  if (g_strcmp0 (page, "send") == 0 && backup_send_page_get_showing_end (self->send_page))
    return gtk_widget_activate_action (GTK_WIDGET (self->send_page), "send.done", NULL);
  if (g_strcmp0 (page, "receive") == 0
      && backup_receive_page_get_showing_end (self->receive_page))
    return gtk_widget_activate_action (GTK_WIDGET (self->receive_page), "receive.done", NULL);
  return FALSE;
}

static gboolean
choose_file_shortcut (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  return gtk_widget_activate_action (GTK_WIDGET (self->send_page), "send.choose-file", NULL);
}

/* ------------------------------------------------------------------------ */
/* Drag and drop                                                            */

/* Why @value cannot be dropped, or NULL when it can. */
static const char *
refusal (BackupWindow *self, const GValue *value, GFile **file)
{
  GFile *found = NULL;

  if (is_busy (self))
    return _("Wait until this backup is over");
  if (value != NULL && G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      if (files != NULL && files->next != NULL)
        return _("Drop one file or folder at a time");
      if (files != NULL)
        found = files->data;
    }
  else if (value != NULL && G_VALUE_HOLDS (value, G_TYPE_FILE))
    found = g_value_get_object (value);
  if (found == NULL)
    return _("Only files and folders can be backed up");
  if (!g_file_is_native (found))
    return _("Only files on this computer can be backed up");
  if (file != NULL)
    *file = found;
  return NULL;
}

/* The highlight says what a drop would do, once what is dragged is
 * known. */
static void
update_drop_highlight (BackupWindow *self, const GValue *value)
{
  const char *why = value != NULL ? refusal (self, value, NULL) : NULL;

  if (is_busy (self))
    why = refusal (self, NULL, NULL);
  adw_status_page_set_title (self->drop_status,
                             why != NULL ? why : _("Drop a file or folder to back it up"));
  adw_status_page_set_icon_name (self->drop_status,
                                 why != NULL ? "action-unavailable-symbolic"
                                             : "document-send-symbolic");
  if (why != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->drop_status), "refused");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->drop_status), "refused");
}

static GdkDragAction
drop_enter_cb (GtkDropTarget *target, double x, double y, gpointer user_data)
{
  BackupWindow *self = user_data;

  update_drop_highlight (self, gtk_drop_target_get_value (target));
  gtk_revealer_set_reveal_child (self->drop_revealer, TRUE);
  return GDK_ACTION_COPY;
}

static void
drop_leave_cb (GtkDropTarget *target, gpointer user_data)
{
  BackupWindow *self = user_data;

  gtk_revealer_set_reveal_child (self->drop_revealer, FALSE);
}

static void
drop_value_cb (GtkDropTarget *target, GParamSpec *pspec, gpointer user_data)
{
  update_drop_highlight (user_data, gtk_drop_target_get_value (target));
}

/* A drop, or a file opened with the application: it becomes what the Send
 * page sends, and Send Backup takes the focus; else the user is told why
 * not. */
static gboolean
take_source (BackupWindow *self, const GValue *value)
{
  g_autoptr (AdwToast) toast = NULL;
  GFile *file = NULL;
  const char *why;

  why = refusal (self, value, &file);
  if (why != NULL)
    {
      toast = backup_gui_toast_new (why);
      add_toast (self, toast);
      return FALSE;
    }
  self->focus_on_source = TRUE;
  backup_send_page_choose_source (self->send_page, file);
  return TRUE;
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, gpointer user_data)
{
  BackupWindow *self = user_data;

  gtk_revealer_set_reveal_child (self->drop_revealer, FALSE);
  return take_source (self, value);
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                  */

static gboolean
close_confirmed_cb (gpointer user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
  return G_SOURCE_REMOVE;
}

#define CLOSING_KEY "backup-closing"

static void
stop_dialog_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  BackupWindow *self = user_data;
  gboolean closing = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), CLOSING_KEY));

  if (g_strcmp0 (response, "stop") != 0)
    return;
  if (!closing)
    {
      backup_send_page_cancel (self->send_page);
      backup_receive_page_cancel (self->receive_page);
      return;
    }
  /* The window closes once the dialog, which it is the parent of, is
   * gone. */
  self->close_confirmed = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, close_confirmed_cb, g_object_ref (self),
                   g_object_unref);
}

static void
stop_dialog_destroy_cb (GtkWidget *dialog, gpointer user_data)
{
  BackupWindow *self = user_data;

  if (self->stop_dialog == dialog)
    self->stop_dialog = NULL;
}

/* Closing the window (@closing) or Escape stops a running backup: ask
 * first. */
static void
ask_before_stopping (BackupWindow *self, gboolean closing)
{
  gboolean receiving = backup_receive_page_get_runner (self->receive_page) != NULL;
  GtkWidget *dialog;
  const char *body;

  if (self->stop_dialog != NULL)
    {
      g_object_set_data (G_OBJECT (self->stop_dialog), CLOSING_KEY, GINT_TO_POINTER (closing));
      gtk_window_present (GTK_WINDOW (self->stop_dialog));
      return;
    }
  if (closing)
    body = receiving ? _("This computer is waiting for a backup or receiving one. Closing the "
                         "window stops it; the versions already stored stay as they are.")
                     : _("A backup is being sent. Closing the window stops it; the other "
                         "computer keeps the versions it already has.");
  else
    body = receiving ? _("This computer is waiting for a backup or receiving one. Stopping "
                         "leaves the versions already stored as they are.")
                     : _("A backup is being sent. Stopping it leaves the other computer with "
                         "the versions it already has.");
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Stop the Backup?"), body);
  g_object_set_data (G_OBJECT (dialog), CLOSING_KEY, GINT_TO_POINTER (closing));
  self->stop_dialog = dialog;
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (stop_dialog_destroy_cb), self, 0);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "keep", _("_Keep Running"),
                                    "stop", _("_Stop Backup"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect_object (dialog, "response", G_CALLBACK (stop_dialog_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Whether closing the window leaves its Receive page listening in the
 * background: it listens for one backup after another, and the
 * application can go on without a window ("app.background", off while the
 * application quits). */
static gboolean
receives_in_background (BackupWindow *self)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));
  BackupRunner *runner;

  if (self->receive_page == NULL /* disposed */ || application == NULL)
    return FALSE;
  runner = backup_receive_page_get_runner (self->receive_page);
  /* Listening for one backup after another, or scheduled backups to run. */
  return ((runner != NULL && backup_profile_get_keep_listening (backup_runner_get_profile (runner)))
          || (BACKUP_IS_APPLICATION (application)
              && backup_application_has_schedules (BACKUP_APPLICATION (application))))
         && g_action_group_has_action (G_ACTION_GROUP (application), "background")
         && g_action_group_get_action_enabled (G_ACTION_GROUP (application), "background");
}

static void
save_size (BackupWindow *self)
{
  int width, height;

  if (self->settings == NULL)
    return;
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
}

static gboolean
backup_window_close_request (GtkWindow *window)
{
  BackupWindow *self = BACKUP_WINDOW (window);

  /* Receiving goes on with the window hidden; the application shows it
   * again when activated. */
  if (!self->close_confirmed && receives_in_background (self))
    {
      save_size (self);
      gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
      g_action_group_activate_action (G_ACTION_GROUP (gtk_window_get_application (window)),
                                      "background", NULL);
      return TRUE;
    }
  if (is_busy (self) && !self->close_confirmed)
    {
      ask_before_stopping (self, TRUE);
      return TRUE;
    }
  /* The pages' runs clean up after themselves; the application stays
   * until they are over. */
  if (self->send_page != NULL)
    {
      backup_send_page_cancel (self->send_page);
      backup_receive_page_cancel (self->receive_page);
    }
  save_size (self);
  if (GTK_WINDOW_CLASS (backup_window_parent_class)->close_request != NULL)
    return GTK_WINDOW_CLASS (backup_window_parent_class)->close_request (window);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

/* The settings of the window and of its pages. */
static void
use_settings (BackupWindow *self, GSettings *settings)
{
  if (settings == NULL)
    return;
  self->settings = g_object_ref (settings);
  backup_send_page_set_settings (self->send_page, settings);
  backup_receive_page_set_settings (self->receive_page, settings);
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (settings, "window-width"),
                               g_settings_get_int (settings, "window-height"));
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

void
backup_window_set_scheduler (BackupWindow *self, BackupScheduler *scheduler)
{
  g_return_if_fail (BACKUP_IS_WINDOW (self));

  backup_schedules_page_set_scheduler (self->schedules_page, scheduler);
}

void
backup_window_set_api_key (BackupWindow *self, const char *api_key)
{
  g_return_if_fail (BACKUP_IS_WINDOW (self));

  if (self->api_key != NULL)
    explicit_bzero (self->api_key, strlen (self->api_key));
  g_free (self->api_key);
  self->api_key = g_strdup (api_key);
  backup_send_page_set_api_key (self->send_page, api_key);
  backup_receive_page_set_api_key (self->receive_page, api_key);
}

static void
backup_window_set_property (GObject *object, guint prop_id, const GValue *value,
                            GParamSpec *pspec)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      use_settings (self, g_value_get_object (value));
      break;
    case PROP_API_KEY:
      backup_window_set_api_key (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_window_dispose (GObject *object)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  g_clear_object (&self->settings);
  watch_receiver (self, NULL);
  if (self->stop_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->stop_dialog));
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_WINDOW);

  G_OBJECT_CLASS (backup_window_parent_class)->dispose (object);
}

static void
backup_window_finalize (GObject *object)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  if (self->api_key != NULL)
    explicit_bzero (self->api_key, strlen (self->api_key));
  g_free (self->api_key);
  g_free (self->last_toast);

  G_OBJECT_CLASS (backup_window_parent_class)->finalize (object);
}

static void
backup_window_class_init (BackupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = backup_window_dispose;
  object_class->finalize = backup_window_finalize;
  object_class->set_property = backup_window_set_property;
  window_class->close_request = backup_window_close_request;

  /* The application's settings (NULL when the schema is not installed). */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* The FILE.io API key of this run, for the pages (a secret: write-only). */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL, NULL,
                         G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (BACKUP_TYPE_SEND_PAGE);
  g_type_ensure (BACKUP_TYPE_RECEIVE_PAGE);
  g_type_ensure (BACKUP_TYPE_ENCRYPT_PAGE);
  g_type_ensure (BACKUP_TYPE_HISTORY_PAGE);
  g_type_ensure (BACKUP_TYPE_SCHEDULES_PAGE);
  g_type_ensure (BACKUP_TYPE_DEVICES_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/DistributedBackup/backup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, receive_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, encrypt_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, history_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, schedules_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, devices_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, drop_status);
  gtk_widget_class_bind_template_callback (widget_class, page_toast_cb);
  gtk_widget_class_bind_template_callback (widget_class, page_runner_cb);
  gtk_widget_class_bind_template_callback (widget_class, send_source_cb);
  gtk_widget_class_bind_template_callback (widget_class, password_file_saved_cb);

  gtk_widget_class_install_action (widget_class, "win.generate-session-id", NULL,
                                   generate_session_id_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", "s", open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.invite-device", NULL, invite_device_action);
  gtk_widget_class_install_action (widget_class, "win.pair-with-link", NULL,
                                   pair_with_link_action);
  gtk_widget_class_install_action (widget_class, "win.pair-nearby", NULL, pair_nearby_action);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, escape_shortcut, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, choose_file_shortcut,
                                NULL);
}

static void
backup_window_init (BackupWindow *self)
{
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  gtk_widget_init_template (GTK_WIDGET (self));
  /* The Backups page lists the Receive page's folder, and opens zips with
   * the Send page's password file. */
  g_object_bind_property (self->receive_page, "destination", self->history_page, "folder",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->send_page, "password-file", self->history_page, "password-file",
                          G_BINDING_SYNC_CREATE);

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  /* What is dragged is read on entering, so that the highlight can say
   * before the drop whether it would be refused. */
  gtk_drop_target_set_preload (target, TRUE);
  g_signal_connect (target, "enter", G_CALLBACK (drop_enter_cb), self);
  g_signal_connect (target, "leave", G_CALLBACK (drop_leave_cb), self);
  g_signal_connect (target, "notify::value", G_CALLBACK (drop_value_cb), self);
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
  self->drop_target = target;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", FALSE);
}

BackupWindow *
backup_window_new (AdwApplication *application, GSettings *settings)
{
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (BACKUP_TYPE_WINDOW, "application", application, "settings", settings, NULL);
}

void
backup_window_set_source (BackupWindow *self, GFile *file)
{
  g_auto (GValue) value = G_VALUE_INIT;

  g_return_if_fail (BACKUP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  g_value_init (&value, G_TYPE_FILE);
  g_value_set_object (&value, file);
  take_source (self, &value);
}

void
backup_window_show_toast (BackupWindow *self, const char *text)
{
  g_autoptr (AdwToast) toast = NULL;

  g_return_if_fail (BACKUP_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  toast = backup_gui_toast_new (text);
  add_toast (self, toast);
}

BackupSendPage *
backup_window_get_send_page (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->send_page;
}

BackupReceivePage *
backup_window_get_receive_page (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->receive_page;
}

BackupHistoryPage *
backup_window_get_history_page (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->history_page;
}

BackupDevicesPage *
backup_window_get_devices_page (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->devices_page;
}

BackupEncryptPage *
backup_window_get_encrypt_page (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->encrypt_page;
}

const char *
backup_window_get_last_toast (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->last_toast;
}

GtkDropTarget *
backup_window_get_drop_target (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->drop_target;
}

GtkWidget *
backup_window_get_stop_dialog (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->stop_dialog;
}
