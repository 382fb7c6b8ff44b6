/* backup-window.c: the main window (Send, Receive and Encrypt pages)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-application.h"
#include "backup-error.h"
#include "backup-session.h"
#include "backup-store.h"
#include "backup-vault.h"
#include "backup-window.h"

struct _BackupWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets. */
  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  AdwPreferencesPage *send_page;
  AdwActionRow *source_row;
  AdwPreferencesGroup *archive_group;
  AdwEntryRow *outer_name_row;
  AdwActionRow *passfile_row;
  AdwEntryRow *send_session_row;
  AdwActionRow *dest_row;
  GtkSpinButton *versions_spin;
  GtkSwitch *keep_listening_switch;
  AdwEntryRow *receive_session_row;
  AdwPasswordEntryRow *password1_row;
  AdwPasswordEntryRow *password2_row;
  GtkRevealer *progress_revealer;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkLabel *detail_label;

  GFile *source;
  gboolean source_is_dir;
  GFile *passfile;
  GFile *destination;
  GtkFileChooserNative *chooser;

  BackupSession *session;
  GCancellable *cancellable;
  gboolean receiving;
  gint64 started_us;
  gint64 last_update_us;
};

G_DEFINE_FINAL_TYPE (BackupWindow, backup_window, ADW_TYPE_APPLICATION_WINDOW)

static void start_receive (BackupWindow *self);

static void
toast (BackupWindow *self, const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static void
update_sensitivity (BackupWindow *self)
{
  gboolean busy = self->session != NULL;
  gboolean have_session_id = *gtk_editable_get_text (GTK_EDITABLE (self->send_session_row)) != '\0';
  gboolean can_send = !busy && self->source != NULL && have_session_id
                      && (!self->source_is_dir
                          || *gtk_editable_get_text (GTK_EDITABLE (self->outer_name_row)) != '\0');
  gboolean can_receive = !busy && self->destination != NULL
                         && *gtk_editable_get_text (GTK_EDITABLE (self->receive_session_row)) != '\0';

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", can_send);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.receive", can_receive);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", busy);
  gtk_revealer_set_reveal_child (self->progress_revealer, busy);
}

static void
set_row_file (AdwActionRow *row, GFile *file, const char *fallback)
{
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  adw_action_row_set_subtitle (row, path != NULL ? path : fallback);
}

static void
set_source (BackupWindow *self, GFile *file)
{
  GFileType type = g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, NULL);

  if (type != G_FILE_TYPE_REGULAR && type != G_FILE_TYPE_DIRECTORY)
    {
      toast (self, _("Only files and folders can be backed up"));
      return;
    }

  g_set_object (&self->source, file);
  self->source_is_dir = type == G_FILE_TYPE_DIRECTORY;
  set_row_file (self->source_row, file, _("Nothing chosen"));
  gtk_widget_set_visible (GTK_WIDGET (self->archive_group), self->source_is_dir);
  if (self->source_is_dir && *gtk_editable_get_text (GTK_EDITABLE (self->outer_name_row)) == '\0')
    {
      g_autofree char *base = g_file_get_basename (file);
      g_autofree char *name = g_strconcat (base, "-backup.zip", NULL);

      gtk_editable_set_text (GTK_EDITABLE (self->outer_name_row), name);
    }
  adw_view_stack_set_visible_child_name (self->stack, "send");
  update_sensitivity (self);
}

/* ------------------------------------------------------------------------ */
/* File choosers                                                            */

typedef void (*ChosenFunc) (BackupWindow *self, GFile *file);

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  BackupWindow *self = user_data;
  ChosenFunc func = g_object_get_data (G_OBJECT (dialog), "chosen-func");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        func (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
choose (BackupWindow *self, const char *title, GtkFileChooserAction action,
        const char *accept, ChosenFunc func)
{
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, accept, NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_object_set_data (G_OBJECT (self->chooser), "chosen-func", func);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
source_chosen (BackupWindow *self, GFile *file)
{
  set_source (self, file);
}

static void
passfile_chosen (BackupWindow *self, GFile *file)
{
  g_set_object (&self->passfile, file);
  set_row_file (self->passfile_row, file, _("None: the archive is not encrypted"));
}

static void
destination_chosen (BackupWindow *self, GFile *file)
{
  GSettings *settings = backup_application_get_settings (BACKUP_APPLICATION_DEFAULT);

  g_set_object (&self->destination, file);
  set_row_file (self->dest_row, file, "");
  if (settings != NULL)
    {
      g_autofree char *path = g_file_get_path (file);
      g_settings_set_string (settings, "destination-directory", path != NULL ? path : "");
    }
  update_sensitivity (self);
}

static void
save_passfile_chosen (BackupWindow *self, GFile *file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_file_get_path (file);
  const char *p1 = gtk_editable_get_text (GTK_EDITABLE (self->password1_row));
  const char *p2 = gtk_editable_get_text (GTK_EDITABLE (self->password2_row));

  if (path == NULL || !backup_vault_write (path, p1, p2, NULL, &error))
    {
      toast (self, error != NULL ? error->message : _("Choose a local file"));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password1_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password2_row), "");
  passfile_chosen (self, file);
  toast (self, _("Password file saved"));
}

static void
choose_file_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose (BACKUP_WINDOW (widget), _("Choose a File to Back Up"), GTK_FILE_CHOOSER_ACTION_OPEN,
          _("_Choose"), source_chosen);
}

static void
choose_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose (BACKUP_WINDOW (widget), _("Choose a Folder to Back Up"),
          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), source_chosen);
}

static void
choose_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose (BACKUP_WINDOW (widget), _("Choose a Password File"), GTK_FILE_CHOOSER_ACTION_OPEN,
          _("_Choose"), passfile_chosen);
}

static void
choose_destination_action (GtkWidget *widget, const char *name, GVariant *param)
{
  choose (BACKUP_WINDOW (widget), _("Choose Where to Keep Backups"),
          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), destination_chosen);
}

static void
save_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  if (*gtk_editable_get_text (GTK_EDITABLE (self->password1_row)) == '\0'
      && *gtk_editable_get_text (GTK_EDITABLE (self->password2_row)) == '\0')
    {
      toast (self, _("Enter at least one password"));
      return;
    }
  choose (self, _("Save Password File"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
          save_passfile_chosen);
}

/* ------------------------------------------------------------------------ */
/* Running a backup                                                         */

static void
update_progress (BackupWindow *self, gboolean force)
{
  guint64 done = backup_session_get_bytes_done (self->session);
  gint64 total = backup_session_get_total_bytes (self->session);
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - self->started_us) / 1e6;
  double speed = elapsed > 0.5 ? done / elapsed : 0;
  g_autofree char *done_text = g_format_size (done);
  g_autofree char *speed_text = g_format_size ((guint64) speed);
  g_autofree char *detail = NULL;

  if (!force && now - self->last_update_us < 100000)
    return;
  self->last_update_us = now;

  if (total > 0)
    {
      g_autofree char *total_text = g_format_size ((guint64) total);
      double fraction = MIN (1.0, (double) done / (double) total);

      gtk_progress_bar_set_fraction (self->progress_bar, fraction);
      if (speed > 0 && (guint64) total > done)
        {
          gint64 left = (gint64) ((total - done) / speed);
          /* Translators: "120 MB of 300 MB — 80 MB/s — 0:03 left" */
          detail = g_strdup_printf (_("%s of %s — %s/s — %d:%02d left"), done_text, total_text,
                                    speed_text, (int) (left / 60), (int) (left % 60));
        }
      else
        detail = g_strdup_printf (_("%s of %s"), done_text, total_text);
    }
  else
    {
      gtk_progress_bar_pulse (self->progress_bar);
      detail = g_strdup_printf (_("%s — %s/s"), done_text, speed_text);
    }
  gtk_label_set_label (self->detail_label, detail);
}

static void
session_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupWindow *self = user_data;
  const char *text = "";

  switch (backup_session_get_state (self->session))
    {
    case BACKUP_SESSION_STATE_PAIRING:
      text = _("Waiting for the other machine…");
      break;
    case BACKUP_SESSION_STATE_CONNECTING:
      text = _("Connecting…");
      break;
    case BACKUP_SESSION_STATE_TRANSFERRING:
      self->started_us = g_get_monotonic_time ();
      text = self->receiving ? _("Receiving…") : _("Sending…");
      break;
    case BACKUP_SESSION_STATE_FINISHING:
      text = self->receiving ? _("Storing…") : _("Waiting for confirmation…");
      break;
    case BACKUP_SESSION_STATE_IDLE:
    case BACKUP_SESSION_STATE_DONE:
    case BACKUP_SESSION_STATE_FAILED:
    default:
      break;
    }
  gtk_label_set_label (self->status_label, text);
}

static void
session_progress_cb (BackupSession *session, guint64 done, gint64 total, gpointer user_data)
{
  update_progress (user_data, FALSE);
}

static void
session_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupWindow) self = user_data;
  g_autoptr (BackupSession) session = BACKUP_SESSION (object);
  g_autoptr (GError) error = NULL;
  gboolean again = FALSE;

  if (self->session == session)
    g_clear_object (&self->session);
  g_clear_object (&self->cancellable);

  if (!backup_session_run_finish (session, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
    }
  else if (self->receiving)
    {
      g_autofree char *text = g_strdup_printf (_("Received %s"),
                                               backup_session_get_file_name (session));
      g_autoptr (GNotification) notification = g_notification_new (_("Backup received"));

      toast (self, text);
      g_notification_set_body (notification, text);
      g_application_send_notification (g_application_get_default (), "backup-received",
                                       notification);
      again = gtk_switch_get_active (self->keep_listening_switch);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("Sent %s"),
                                               backup_session_get_file_name (session));
      toast (self, text);
    }

  g_object_unref (session); /* the reference taken at start */
  update_sensitivity (self);
  if (again)
    start_receive (self);
}

static BackupSignalingStore *
make_signaling (BackupWindow *self, GError **error)
{
  BackupApplication *app = BACKUP_APPLICATION_DEFAULT;
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *url = settings != NULL ? g_settings_get_string (settings, "signaling-url")
                                          : NULL;

  return backup_signaling_store_new_for_url (url != NULL && *url != '\0' ? url : NULL,
                                             backup_application_get_api_key (app), error);
}

static RtcConfiguration *
make_rtc_config (void)
{
  GSettings *settings = backup_application_get_settings (BACKUP_APPLICATION_DEFAULT);
  RtcConfiguration *config = rtc_configuration_new ();

  if (settings != NULL)
    config->stun_servers = g_settings_get_strv (settings, "stun-servers");
  return config;
}

static void
remember_session_id (const char *id)
{
  GSettings *settings = backup_application_get_settings (BACKUP_APPLICATION_DEFAULT);

  if (settings != NULL)
    g_settings_set_string (settings, "session-id", id);
}

static void
run_session (BackupWindow *self, BackupSession *session, gboolean receiving)
{
  self->session = g_object_ref (session);
  self->receiving = receiving;
  self->cancellable = g_cancellable_new ();
  self->started_us = g_get_monotonic_time ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_label (self->detail_label, "");
  g_signal_connect_object (session, "notify::state", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "progress", G_CALLBACK (session_progress_cb), self, 0);
  backup_session_run_async (session, self->cancellable, session_done_cb, g_object_ref (self));
  g_object_ref (session); /* dropped in session_done_cb */
  update_sensitivity (self);
}

static void
send_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (BackupSession) session = NULL;
  g_autofree char *password1 = NULL;
  g_autofree char *password2 = NULL;
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->send_session_row));
  const char *outer = NULL;

  if (self->source_is_dir)
    {
      outer = gtk_editable_get_text (GTK_EDITABLE (self->outer_name_row));
      if (!backup_store_check_name (outer, &error))
        {
          toast (self, error->message);
          return;
        }
      if (self->passfile != NULL)
        {
          g_autofree char *path = g_file_get_path (self->passfile);

          if (!backup_vault_read (path, NULL, &password1, &password2, &error))
            {
              toast (self, error->message);
              return;
            }
        }
    }

  signaling = make_signaling (self, &error);
  if (signaling == NULL)
    {
      toast (self, error->message);
      return;
    }
  rtc = make_rtc_config ();
  remember_session_id (id);
  session = backup_session_new_sender (signaling, id, rtc, self->source, outer, password1,
                                       password2, BACKUP_ZIP_ENCRYPTION_AES256);
  run_session (self, session, FALSE);
}

static void
start_receive (BackupWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (BackupSession) session = NULL;
  g_autoptr (BackupStore) store = NULL;
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->receive_session_row));
  guint versions = (guint) gtk_spin_button_get_value_as_int (self->versions_spin);

  signaling = make_signaling (self, &error);
  if (signaling == NULL)
    {
      toast (self, error->message);
      return;
    }
  rtc = make_rtc_config ();
  remember_session_id (id);
  store = backup_store_new (self->destination, versions);
  session = backup_session_new_receiver (signaling, id, rtc, store);
  backup_session_set_timeout (session, 0);
  run_session (self, session, TRUE);
}

static void
receive_action (GtkWidget *widget, const char *name, GVariant *param)
{
  start_receive (BACKUP_WINDOW (widget));
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  gtk_switch_set_active (self->keep_listening_switch, FALSE);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* ------------------------------------------------------------------------ */
/* Drag and drop                                                            */

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, gpointer user_data)
{
  BackupWindow *self = user_data;

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      if (files == NULL)
        return FALSE;
      if (files->next != NULL)
        toast (self, _("Drop one file or folder at a time"));
      set_source (self, files->data);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      set_source (self, g_value_get_object (value));
      return TRUE;
    }
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
entry_changed_cb (GtkEditable *editable, gpointer user_data)
{
  update_sensitivity (user_data);
}

static gboolean
close_request_cb (GtkWindow *window, gpointer user_data)
{
  BackupWindow *self = BACKUP_WINDOW (window);
  GSettings *settings = backup_application_get_settings (BACKUP_APPLICATION_DEFAULT);
  int width, height;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (settings != NULL)
    {
      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (settings, "window-width", width);
      g_settings_set_int (settings, "window-height", height);
    }
  return FALSE;
}

static void
backup_window_dispose (GObject *object)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->chooser);
  g_clear_object (&self->source);
  g_clear_object (&self->passfile);
  g_clear_object (&self->destination);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_WINDOW);

  G_OBJECT_CLASS (backup_window_parent_class)->dispose (object);
}

static void
backup_window_class_init (BackupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = backup_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/DistributedBackup/backup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, source_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, archive_group);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, outer_name_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, passfile_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, dest_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, versions_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, keep_listening_switch);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, receive_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, password1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, password2_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, detail_label);

  gtk_widget_class_install_action (widget_class, "win.choose-file", NULL, choose_file_action);
  gtk_widget_class_install_action (widget_class, "win.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_install_action (widget_class, "win.choose-passfile", NULL,
                                   choose_passfile_action);
  gtk_widget_class_install_action (widget_class, "win.choose-destination", NULL,
                                   choose_destination_action);
  gtk_widget_class_install_action (widget_class, "win.save-passfile", NULL, save_passfile_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.receive", NULL, receive_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
}

static void
backup_window_init (BackupWindow *self)
{
  GSettings *settings = backup_application_get_settings (BACKUP_APPLICATION_DEFAULT);
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  gtk_widget_init_template (GTK_WIDGET (self));

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  if (settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (settings, "session-id");
      g_autofree char *dest = g_settings_get_string (settings, "destination-directory");

      gtk_editable_set_text (GTK_EDITABLE (self->send_session_row), id);
      gtk_editable_set_text (GTK_EDITABLE (self->receive_session_row), id);
      gtk_spin_button_set_value (self->versions_spin, g_settings_get_uint (settings, "versions"));
      g_settings_bind (settings, "versions", gtk_spin_button_get_adjustment (self->versions_spin),
                       "value", G_SETTINGS_BIND_DEFAULT);
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (*dest != '\0')
        self->destination = g_file_new_for_path (dest);
    }
  if (self->destination == NULL)
    {
      const char *downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);

      self->destination = g_file_new_for_path (downloads != NULL ? downloads : g_get_home_dir ());
    }
  set_row_file (self->dest_row, self->destination, "");

  g_signal_connect (self->send_session_row, "changed", G_CALLBACK (entry_changed_cb), self);
  g_signal_connect (self->receive_session_row, "changed", G_CALLBACK (entry_changed_cb), self);
  g_signal_connect (self->outer_name_row, "changed", G_CALLBACK (entry_changed_cb), self);
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), NULL);
  update_sensitivity (self);
}

BackupWindow *
backup_window_new (AdwApplication *application)
{
  return g_object_new (BACKUP_TYPE_WINDOW, "application", application, NULL);
}

void
backup_window_set_source (BackupWindow *self, GFile *file)
{
  g_return_if_fail (BACKUP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  set_source (self, file);
}
