/* backup-send-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page shows one of three things: an empty state until something is
 * chosen, the form, or the run (BackupProgressView: waiting, progress, and
 * how it ended, until "Done"). Its primary button sits in a bar at the
 * bottom, outside the scrolled form: Send Backup, Cancel while it runs,
 * Done once it ended. One file: the form's rows, the checks that enable
 * Send Backup and the profile built from them change together.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device-row.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-progress-view.h"
#include "backup-send-page.h"
#include "backup-sent-history.h"
#include "backup-vault.h"

struct _BackupSendPage
{
  AdwBin parent_instance;

  /* Template widgets. */
  GtkStack *content_stack;
  GtkWidget *empty_file_button;
  AdwPreferencesPage *form;
  AdwPreferencesGroup *source_group;
  AdwActionRow *source_row;
  AdwPreferencesGroup *archive_group;
  AdwEntryRow *outer_name_row;
  AdwActionRow *encrypt_row;
  GtkSwitch *encrypt_switch;
  AdwActionRow *passfile_row;
  GtkWidget *clear_passfile_button;
  AdwPreferencesGroup *session_group;
  BackupDeviceRow *device_row;
  GtkWidget *pair_box;
  AdwEntryRow *send_session_row;
  BackupProgressView *progress_view;
  GtkActionBar *action_bar;
  GtkStack *button_stack;
  GtkButton *send_button;
  GtkButton *cancel_button;
  GtkButton *done_button;

  GSettings *settings; /* NULL: defaults */
  char *api_key;

  GFile *source;
  gboolean source_is_dir;
  GFile *passfile;
  GCancellable *source_cancellable; /* while a chosen source is looked at */

  /* Set from the moment a backup is asked for until it is over. */
  BackupRunner *runner;
  GCancellable *cancellable;
  GApplication *application; /* held meanwhile, when there is one */
  gboolean session_seen;
  char *sent_name;      /* what the last session sent, for the done state */
  char *failure;        /* why the last session failed */
  gboolean showing_end; /* the run view shows how the last run ended */
  gboolean focus_when_chosen; /* chosen in the file chooser: focus what comes next */
};

G_DEFINE_FINAL_TYPE (BackupSendPage, backup_send_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_API_KEY,
  PROP_SESSION_ID,
  PROP_SOURCE,
  PROP_PASSWORD_FILE,
  PROP_RUNNER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* After dispose the template widgets are gone; a run that was under way
 * still ends (its callbacks hold the page) but shows nothing. */
static gboolean
is_disposed (BackupSendPage *self)
{
  return self->source_row == NULL;
}

static void
toast (BackupSendPage *self, const char *text)
{
  g_autoptr (AdwToast) toast = NULL;

  if (is_disposed (self))
    return;
  toast = backup_gui_toast_new (text);
  g_signal_emit (self, signals[TOAST], 0, toast);
}

static char *
get_session_id (BackupSendPage *self)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->send_session_row))));
}

static const char *
get_archive_name (BackupSendPage *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->outer_name_row));
}

static gboolean
encrypts (BackupSendPage *self)
{
  return self->source_is_dir && gtk_switch_get_active (self->encrypt_switch);
}

/* What the page shows: the empty state, the form or the run, and the
 * button of the bottom bar that goes with it. */
static void
update_view (BackupSendPage *self)
{
  gboolean busy = self->cancellable != NULL;
  const char *content;

  if (busy || self->showing_end)
    content = "run";
  else if (self->source == NULL)
    content = "empty";
  else
    content = "form";
  gtk_stack_set_visible_child_name (self->content_stack, content);
  gtk_stack_set_visible_child_name (self->button_stack,
                                    busy ? "cancel" : self->showing_end ? "done" : "start");
  gtk_action_bar_set_revealed (self->action_bar, !g_str_equal (content, "empty"));
}

static void
update_sensitivity (BackupSendPage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean busy = self->cancellable != NULL;
  g_autofree char *id = NULL;
  gboolean can_send;

  if (is_disposed (self))
    return;
  id = get_session_id (self);
  can_send = !busy && self->source != NULL
             && (*id != '\0' || backup_device_row_get_device (self->device_row) != NULL)
             && (!self->source_is_dir || *get_archive_name (self) != '\0')
             && (!encrypts (self) || self->passfile != NULL);

  gtk_widget_action_set_enabled (widget, "send.start", can_send);
  gtk_widget_action_set_enabled (widget, "send.cancel", busy);
  gtk_widget_action_set_enabled (widget, "send.done", !busy && self->showing_end);
  gtk_widget_action_set_enabled (widget, "send.choose-file", !busy);
  gtk_widget_action_set_enabled (widget, "send.choose-folder", !busy);
  gtk_widget_action_set_enabled (widget, "send.choose-passfile", !busy);
  gtk_widget_action_set_enabled (widget, "send.clear-passfile", !busy);
  /* A running backup keeps what it was started with: the form is locked. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->form), !busy);
  update_view (self);
}

static void
update_passfile_row (BackupSendPage *self)
{
  const char *fallback;

  if (!gtk_switch_get_active (self->encrypt_switch))
    fallback = _("The archive is sent without passwords: anyone who gets it can open it");
  else
    fallback = _("Choose one, or write one on the Encrypt page");
  backup_gui_row_set_file (self->passfile_row, self->passfile, fallback);
  gtk_widget_set_sensitive (GTK_WIDGET (self->passfile_row),
                            gtk_switch_get_active (self->encrypt_switch));
  adw_action_row_set_subtitle (self->encrypt_row,
                               gtk_switch_get_active (self->encrypt_switch)
                                   ? _("Both levels of the zip are encrypted")
                                   : _("Off: the archive is not encrypted"));
}

/* ------------------------------------------------------------------------ */
/* What to send                                                             */

static void
apply_source (BackupSendPage *self, GFile *file, GFileType type)
{
  if (type != G_FILE_TYPE_REGULAR && type != G_FILE_TYPE_DIRECTORY)
    {
      toast (self, _("Only files and folders can be backed up"));
      return;
    }

  g_set_object (&self->source, file);
  self->source_is_dir = type == G_FILE_TYPE_DIRECTORY;
  self->showing_end = FALSE;
  backup_gui_row_set_file (self->source_row, file, _("Nothing chosen"));
  gtk_widget_set_visible (GTK_WIDGET (self->archive_group), self->source_is_dir);
  if (self->source_is_dir)
    {
      g_autofree char *base = g_file_get_basename (file);
      /* Translators: the proposed name of the archive of a folder; %s is the folder name */
      g_autofree char *name = g_strdup_printf (_("%s-backup.zip"), base);

      gtk_editable_set_text (GTK_EDITABLE (self->outer_name_row), name);
    }
  update_sensitivity (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

static void
source_info_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSendPage) self = user_data;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  info = g_file_query_info_finish (G_FILE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* another choice replaced this one, or the page went */
  g_clear_object (&self->source_cancellable);
  apply_source (self, G_FILE (object),
                info != NULL ? g_file_info_get_file_type (info) : G_FILE_TYPE_UNKNOWN);
  /* The button that opened the chooser is gone with the empty page: the
   * keyboard goes on from what the form needs next. */
  if (self->focus_when_chosen)
    {
      self->focus_when_chosen = FALSE;
      backup_send_page_focus_primary (self);
    }
}

void
backup_send_page_choose_source (BackupSendPage *self, GFile *file)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  self->focus_when_chosen = FALSE;
  /* The file may be on a slow or remote file system. */
  if (self->source_cancellable != NULL)
    {
      g_cancellable_cancel (self->source_cancellable);
      g_clear_object (&self->source_cancellable);
    }
  self->source_cancellable = g_cancellable_new ();
  g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                           G_PRIORITY_DEFAULT, self->source_cancellable, source_info_cb,
                           g_object_ref (self));
}

static void
source_chosen (GtkWidget *widget, GFile *file)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);

  backup_send_page_choose_source (self, file);
  self->focus_when_chosen = TRUE;
}

static void
password_file_chosen (GtkWidget *widget, GFile *file)
{
  backup_send_page_set_password_file (BACKUP_SEND_PAGE (widget), file);
}

static void
choose_file_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);

  backup_gui_choose_file (widget, _("Choose a File to Back Up"), GTK_FILE_CHOOSER_ACTION_OPEN,
                          _("_Choose"), self->source, NULL, source_chosen);
}

static void
choose_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_gui_choose_file (widget, _("Choose a Folder to Back Up"),
                          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), NULL, NULL,
                          source_chosen);
}

static void
choose_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);

  g_autoptr (GFile) where = NULL;

  /* Password files are kept in the user's configuration folder. */
  if (self->passfile == NULL)
    where = backup_gui_password_folder_file (_("backup-passwords.bin"));
  backup_gui_choose_file (widget, _("Choose a Password File"), GTK_FILE_CHOOSER_ACTION_OPEN,
                          _("_Choose"), self->passfile != NULL ? self->passfile : where, NULL,
                          password_file_chosen);
}

static void
clear_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_send_page_set_password_file (BACKUP_SEND_PAGE (widget), NULL);
}

static void
copy_session_id_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget),
                          gtk_editable_get_text (GTK_EDITABLE (self->send_session_row)));
  toast (self, _("Session ID copied"));
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */

/* The run is over: how it ended is shown until "Done". */
static void
finish_run (BackupSendPage *self, const GError *error)
{
  gboolean cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      g_clear_object (&self->runner);
    }
  g_clear_object (&self->cancellable);
  if (!is_disposed (self))
    {
      backup_progress_view_set_runner (self->progress_view, NULL);
      if (error != NULL && !cancelled)
        {
          backup_progress_view_show_failed (self->progress_view, error->message);
          backup_gui_notify_failed (GTK_WIDGET (self), error->message);
          self->showing_end = TRUE;
        }
      else if (error == NULL)
        {
          g_autofree char *text = NULL;

          if (self->sent_name != NULL)
            /* Translators: %s is the name of the file sent */
            text = g_strdup_printf (_("%s is stored on the other computer."), self->sent_name);
          backup_progress_view_show_done (self->progress_view, _("Backup Sent"), text, NULL);
          self->showing_end = TRUE;
        }
      update_sensitivity (self);
      if (self->showing_end)
        backup_gui_focus_in (GTK_WIDGET (self), GTK_WIDGET (self->done_button));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
    }
  if (self->application != NULL)
    {
      g_application_release (self->application);
      g_clear_object (&self->application);
    }
}

static void
session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  BackupSendPage *self = user_data;

  self->session_seen = TRUE;
}

static void
session_finished_cb (BackupRunner *runner, BackupSession *session, const GError *error,
                     gpointer user_data)
{
  BackupSendPage *self = user_data;

  g_clear_pointer (&self->sent_name, g_free);
  g_clear_pointer (&self->failure, g_free);
  if (error != NULL)
    self->failure = g_strdup (error->message);
  else
    {
      self->sent_name = backup_display_name (backup_session_get_file_name (session), -1);
      /* The Backups page lists what was sent. */
      backup_sent_history_add (backup_sent_history_get_default (), self->sent_name,
                               backup_profile_get_session_id (backup_runner_get_profile (runner)),
                               backup_session_get_peer_name (session),
                               backup_session_get_bytes_done (session));
    }
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSendPage) self = user_data;
  g_autoptr (GError) error = NULL;

  backup_runner_run_finish (BACKUP_RUNNER (object), result, &error);
  finish_run (self, error);
}

static void
run (BackupSendPage *self)
{
  backup_runner_run_async (self->runner, self->cancellable, run_done_cb, g_object_ref (self));
}

static void
vault_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSendPage) self = user_data;
  g_autoptr (GError) error = NULL;
  char *password1 = NULL;
  char *password2 = NULL;

  if (!backup_vault_read_finish (result, &password1, &password2, &error))
    {
      finish_run (self, error);
      return;
    }
  if (self->runner == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      g_autoptr (GError) cancelled
          = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");

      finish_run (self, cancelled);
    }
  else
    {
      backup_profile_set_passwords (backup_runner_get_profile (self->runner), password1, password2);
      run (self);
    }
  backup_vault_password_free (password1);
  backup_vault_password_free (password2);
}

/* The profile of what the page shows, or NULL with @error saying why it
 * cannot be sent. */
static BackupProfile *
make_profile (BackupSendPage *self, GError **error)
{
  g_autofree char *id = get_session_id (self);
  const char *device = backup_device_row_get_device (self->device_row);
  g_autoptr (BackupProfile) profile = NULL;

  profile = backup_gui_profile_new (BACKUP_PROFILE_ROLE_SEND, self->settings, self->api_key, id);
  /* To a paired device: its session id and signaling location, and only
   * its certificate. */
  if (device != NULL && !backup_profile_load_device (profile, device, NULL, error))
    return NULL;
  backup_profile_set_source (profile, self->source);
  if (self->source_is_dir)
    backup_profile_set_archive_name (profile, get_archive_name (self));
  if (self->settings != NULL)
    backup_profile_set_zip_encryption (
        profile, (BackupZipEncryption)g_settings_get_enum (self->settings, "zip-encryption"));
  if (!backup_profile_validate (profile, error))
    return NULL;
  if (encrypts (self) && self->passfile != NULL && !g_file_is_native (self->passfile))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("The password file must be on this computer"));
      return NULL;
    }
  return g_steal_pointer (&profile);
}

static void
send_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (GError) error = NULL;
  GApplication *application;

  if (self->cancellable != NULL || self->source == NULL)
    return;
  g_clear_pointer (&self->sent_name, g_free);
  g_clear_pointer (&self->failure, g_free);
  profile = make_profile (self, &error);
  if (profile == NULL)
    {
      /* Nothing ran: the failed state says why, with Retry. */
      backup_progress_view_show_failed (self->progress_view, error->message);
      self->showing_end = TRUE;
      update_sensitivity (self);
      return;
    }
  if (self->settings != NULL && backup_device_row_get_device (self->device_row) == NULL)
    g_settings_set_string (self->settings, "session-id", backup_profile_get_session_id (profile));

  self->runner = backup_runner_new (profile);
  self->cancellable = g_cancellable_new ();
  self->session_seen = FALSE;
  self->showing_end = FALSE;
  g_signal_connect (self->runner, "session-started", G_CALLBACK (session_started_cb), self);
  g_signal_connect (self->runner, "session-finished", G_CALLBACK (session_finished_cb), self);
  backup_progress_view_set_runner (self->progress_view, self->runner);
  /* The application stays until the backup is over, even without a
   * window: a cancelled session still cleans up the signaling store. */
  application = backup_gui_get_application (widget);
  if (application != NULL)
    {
      self->application = g_object_ref (application);
      g_application_hold (application);
    }
  update_sensitivity (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);

  if (encrypts (self) && self->passfile != NULL)
    {
      g_autofree char *path = g_file_get_path (self->passfile);

      backup_vault_read_async (path, NULL, self->cancellable, vault_read_cb, g_object_ref (self));
      return;
    }
  run (self);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_send_page_cancel (BACKUP_SEND_PAGE (widget));
}

static void
done_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (widget);

  if (self->cancellable != NULL)
    return;
  self->showing_end = FALSE;
  update_sensitivity (self);
  backup_send_page_focus_primary (self);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
entry_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupSendPage *self = user_data;

  update_sensitivity (self);
  if (editable == GTK_EDITABLE (self->send_session_row))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION_ID]);
}

static void
device_changed_cb (BackupDeviceRow *row, GParamSpec *pspec, gpointer user_data)
{
  BackupSendPage *self = user_data;
  const char *device = backup_device_row_get_device (row);

  if (is_disposed (self))
    return;
  /* A paired device says the session: no id to type. */
  gtk_widget_set_visible (GTK_WIDGET (self->send_session_row), device == NULL);
  adw_preferences_group_set_description (
      self->session_group, device == NULL ? _("Both computers use the same session ID.") : NULL);
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "send-device", device != NULL ? device : "");
  update_sensitivity (self);
}

/* Without a paired device, the empty page offers to pair one: the first
 * thing a new user sees. */
static void
n_devices_changed_cb (BackupDeviceRow *row, GParamSpec *pspec, gpointer user_data)
{
  BackupSendPage *self = user_data;

  if (!is_disposed (self))
    gtk_widget_set_visible (self->pair_box, backup_device_row_get_n_devices (row) == 0);
}

static void
entry_activate_cb (AdwEntryRow *row, gpointer user_data)
{
  gtk_widget_activate_action (GTK_WIDGET (user_data), "send.start", NULL);
}

static void
encrypt_changed_cb (GtkSwitch *button, GParamSpec *pspec, gpointer user_data)
{
  BackupSendPage *self = user_data;

  update_passfile_row (self);
  update_sensitivity (self);
}

static void
backup_send_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_SESSION_ID:
      g_value_set_string (value, backup_send_page_get_session_id (self));
      break;
    case PROP_SOURCE:
      g_value_set_object (value, self->source);
      break;
    case PROP_PASSWORD_FILE:
      g_value_set_object (value, self->passfile);
      break;
    case PROP_RUNNER:
      g_value_set_object (value, self->runner);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_send_page_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      backup_send_page_set_settings (self, g_value_get_object (value));
      break;
    case PROP_API_KEY:
      backup_send_page_set_api_key (self, g_value_get_string (value));
      break;
    case PROP_SESSION_ID:
      backup_send_page_set_session_id (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD_FILE:
      backup_send_page_set_password_file (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_send_page_dispose (GObject *object)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (object);

  /* A run under way is stopped; it still cleans up the signaling store,
   * and releases the application when that is over (its callback holds
   * the page until then). */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      g_clear_object (&self->runner);
    }
  if (self->source_cancellable != NULL)
    g_cancellable_cancel (self->source_cancellable);
  g_clear_object (&self->source_cancellable);
  backup_gui_close_chooser (GTK_WIDGET (self));
  g_clear_object (&self->source);
  g_clear_object (&self->passfile);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_SEND_PAGE);

  G_OBJECT_CLASS (backup_send_page_parent_class)->dispose (object);
}

static void
backup_send_page_finalize (GObject *object)
{
  BackupSendPage *self = BACKUP_SEND_PAGE (object);

  g_clear_pointer (&self->api_key, g_free);
  g_free (self->sent_name);
  g_free (self->failure);

  G_OBJECT_CLASS (backup_send_page_parent_class)->finalize (object);
}

static void
backup_send_page_class_init (BackupSendPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_send_page_get_property;
  object_class->set_property = backup_send_page_set_property;
  object_class->dispose = backup_send_page_dispose;
  object_class->finalize = backup_send_page_finalize;

  properties[PROP_SETTINGS]
      = g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_API_KEY] = g_param_spec_string ("api-key", NULL, NULL, NULL,
                                                  G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_ID]
      = g_param_spec_string ("session-id", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SOURCE] = g_param_spec_object ("source", NULL, NULL, G_TYPE_FILE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PASSWORD_FILE]
      = g_param_spec_object ("password-file", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNER] = g_param_spec_object ("runner", NULL, NULL, BACKUP_TYPE_RUNNER,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupSendPage::toast:
   * @toast: a message for the user
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  g_type_ensure (BACKUP_TYPE_PROGRESS_VIEW);
  g_type_ensure (BACKUP_TYPE_DEVICE_ROW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/DistributedBackup/backup-send-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, empty_file_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, form);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, source_group);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, source_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, archive_group);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, outer_name_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, encrypt_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, encrypt_switch);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, passfile_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, clear_passfile_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, session_group);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, device_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, pair_box);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, send_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, progress_view);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, action_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, button_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, send_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSendPage, done_button);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, device_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, n_devices_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, encrypt_changed_cb);

  gtk_widget_class_install_action (widget_class, "send.choose-file", NULL, choose_file_action);
  gtk_widget_class_install_action (widget_class, "send.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_install_action (widget_class, "send.choose-passfile", NULL,
                                   choose_passfile_action);
  gtk_widget_class_install_action (widget_class, "send.clear-passfile", NULL,
                                   clear_passfile_action);
  gtk_widget_class_install_action (widget_class, "send.copy-session-id", NULL,
                                   copy_session_id_action);
  gtk_widget_class_install_action (widget_class, "send.start", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "send.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "send.done", NULL, done_action);
}

static void
backup_send_page_init (BackupSendPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_visible (self->pair_box, backup_device_row_get_n_devices (self->device_row) == 0);
  backup_progress_view_set_retry_action (self->progress_view, "send.start");
  update_passfile_row (self);
  update_sensitivity (self);
}

GtkWidget *
backup_send_page_new (void)
{
  return g_object_new (BACKUP_TYPE_SEND_PAGE, NULL);
}

void
backup_send_page_set_settings (BackupSendPage *self, GSettings *settings)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  if (!g_set_object (&self->settings, settings))
    return;
  if (settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (settings, "session-id");
      g_autofree char *device = g_settings_get_string (settings, "send-device");

      backup_send_page_set_session_id (self, id);
      backup_device_row_set_device (self->device_row, device);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SETTINGS]);
}

void
backup_send_page_set_api_key (BackupSendPage *self, const char *api_key)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));

  g_free (self->api_key);
  self->api_key = g_strdup (api_key);
}

const char *
backup_send_page_get_session_id (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), NULL);

  if (is_disposed (self))
    return NULL;
  return gtk_editable_get_text (GTK_EDITABLE (self->send_session_row));
}

void
backup_send_page_set_session_id (BackupSendPage *self, const char *session_id)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));

  if (!is_disposed (self))
    gtk_editable_set_text (GTK_EDITABLE (self->send_session_row),
                           session_id != NULL ? session_id : "");
}

gboolean
backup_send_page_get_choosing_source (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), FALSE);

  return self->source_cancellable != NULL;
}

GFile *
backup_send_page_get_source (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), NULL);

  return self->source;
}

GFile *
backup_send_page_get_password_file (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), NULL);

  return self->passfile;
}

void
backup_send_page_set_password_file (BackupSendPage *self, GFile *file)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  if (!g_set_object (&self->passfile, file) || is_disposed (self))
    return;
  gtk_widget_set_visible (self->clear_passfile_button, file != NULL);
  /* A password file chosen is a wish to encrypt. */
  if (file != NULL)
    gtk_switch_set_active (self->encrypt_switch, TRUE);
  update_passfile_row (self);
  update_sensitivity (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASSWORD_FILE]);
}

BackupRunner *
backup_send_page_get_runner (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), NULL);

  return self->runner;
}

void
backup_send_page_cancel (BackupSendPage *self)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
backup_send_page_get_showing_end (BackupSendPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SEND_PAGE (self), FALSE);

  return self->showing_end;
}

void
backup_send_page_focus_primary (BackupSendPage *self)
{
  g_return_if_fail (BACKUP_IS_SEND_PAGE (self));

  if (is_disposed (self))
    return;
  if (gtk_widget_is_sensitive (GTK_WIDGET (self->send_button)))
    gtk_widget_grab_focus (GTK_WIDGET (self->send_button));
  else if (self->source == NULL)
    gtk_widget_grab_focus (self->empty_file_button);
  else if (*get_archive_name (self) == '\0' && self->source_is_dir)
    gtk_widget_grab_focus (GTK_WIDGET (self->outer_name_row));
  else if (encrypts (self) && self->passfile == NULL)
    gtk_widget_grab_focus (GTK_WIDGET (self->encrypt_switch));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->send_session_row));
}
