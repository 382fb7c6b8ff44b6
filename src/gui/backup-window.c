/* backup-window.c: the main window (Send, Receive and Encrypt pages)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-application.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-session.h"
#include "backup-signaling-open.h"
#include "backup-store.h"
#include "backup-vault.h"
#include "backup-window-private.h"

/* Progress is redrawn at most this often (microseconds). */
#define PROGRESS_INTERVAL_US 100000
/* Leftover temporary files of a crashed reception older than this go. */
#define STALE_PART_AGE (24 * G_TIME_SPAN_HOUR)

struct _BackupWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets. */
  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  AdwViewSwitcherBar *switcher_bar;
  AdwPreferencesPage *send_page;
  AdwPreferencesPage *receive_page;
  AdwActionRow *source_row;
  AdwPreferencesGroup *archive_group;
  AdwEntryRow *outer_name_row;
  AdwActionRow *passfile_row;
  GtkWidget *clear_passfile_button;
  AdwEntryRow *send_session_row;
  GtkButton *send_button;
  AdwActionRow *dest_row;
  GtkSpinButton *versions_spin;
  GtkSwitch *keep_listening_switch;
  AdwEntryRow *receive_session_row;
  GtkButton *receive_button;
  AdwPasswordEntryRow *password1_row;
  AdwPasswordEntryRow *password2_row;
  GtkRevealer *progress_revealer;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkLabel *detail_label;

  GSettings *settings; /* NULL without the schema */

  GFile *source;
  gboolean source_is_dir;
  GFile *passfile;
  GFile *destination;
  GtkFileChooserNative *chooser;
  char *last_toast;

  /* Set from the moment a backup is asked for until it is over. */
  GCancellable *cancellable;
  BackupSession *session;
  gboolean receiving;
  gboolean close_confirmed; /* the user chose to stop the running backup */
  BackupSessionState furthest_state;
  gint64 started_us;
  gint64 last_update_us;

  GCancellable *vault_cancellable; /* while a password file is written */
  GCancellable *source_cancellable; /* while a chosen source is looked at */
};

G_DEFINE_FINAL_TYPE (BackupWindow, backup_window, ADW_TYPE_APPLICATION_WINDOW)


static void
toast (BackupWindow *self, const char *text)
{
  AdwToast *t;

  if (self->toast_overlay == NULL) /* disposed */
    return;
  t = adw_toast_new (text);
  g_free (self->last_toast);
  self->last_toast = g_strdup (text);
  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

static void
toast_error (BackupWindow *self, const GError *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    toast (self, error->message);
}

static const char *
editable_text (gpointer editable)
{
  return gtk_editable_get_text (GTK_EDITABLE (editable));
}

static void
update_sensitivity (BackupWindow *self)
{
  gboolean busy = self->cancellable != NULL;
  gboolean can_send;
  gboolean can_receive;
  g_autofree char *send_id = NULL;
  g_autofree char *receive_id = NULL;

  if (self->send_page == NULL) /* disposed */
    return;
  send_id = g_strstrip (g_strdup (editable_text (self->send_session_row)));
  receive_id = g_strstrip (g_strdup (editable_text (self->receive_session_row)));
  can_send = !busy && self->source != NULL && *send_id != '\0'
             && (!self->source_is_dir || *editable_text (self->outer_name_row) != '\0');
  can_receive = !busy && self->destination != NULL && *receive_id != '\0';

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", can_send);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.receive", can_receive);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-passfile",
                                 self->vault_cancellable == NULL);
  /* A running backup keeps what it was started with: its page is locked. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->send_page), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->receive_page), !busy);
  gtk_revealer_set_reveal_child (self->progress_revealer, busy);
}

static void
set_row_file (AdwActionRow *row, GFile *file, const char *fallback)
{
  g_autofree char *name = NULL;

  if (file != NULL)
    {
      name = g_file_get_path (file);
      if (name == NULL)
        name = g_file_get_parse_name (file);
    }
  adw_action_row_set_subtitle (row, name != NULL ? name : fallback);
}

static void
apply_source (BackupWindow *self, GFile *file, GFileType type)
{
  if (type != G_FILE_TYPE_REGULAR && type != G_FILE_TYPE_DIRECTORY)
    {
      toast (self, _("Only files and folders can be backed up"));
      return;
    }

  g_set_object (&self->source, file);
  self->source_is_dir = type == G_FILE_TYPE_DIRECTORY;
  set_row_file (self->source_row, file, _("Nothing chosen"));
  gtk_widget_set_visible (GTK_WIDGET (self->archive_group), self->source_is_dir);
  if (self->source_is_dir)
    {
      g_autofree char *base = g_file_get_basename (file);
      /* Translators: the proposed name of the archive of a folder; %s is the folder name */
      g_autofree char *name = g_strdup_printf (_("%s-backup.zip"), base);

      gtk_editable_set_text (GTK_EDITABLE (self->outer_name_row), name);
    }
  adw_view_stack_set_visible_child_name (self->stack, "send");
  update_sensitivity (self);
}

static void
source_info_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupWindow) self = user_data;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  info = g_file_query_info_finish (G_FILE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* another choice replaced this one, or the window went */
  g_clear_object (&self->source_cancellable);
  apply_source (self, G_FILE (object),
                info != NULL ? g_file_info_get_file_type (info) : G_FILE_TYPE_UNKNOWN);
}

/* Looks at the chosen file off the main thread (it may be on a slow or
 * remote file system), then takes it if it is a file or a folder. */
static void
set_source (BackupWindow *self, GFile *file)
{
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
set_passfile (BackupWindow *self, GFile *file)
{
  g_set_object (&self->passfile, file);
  set_row_file (self->passfile_row, file, _("None: the archive is not encrypted"));
  gtk_widget_set_visible (self->clear_passfile_button, file != NULL);
}

static void
set_destination (BackupWindow *self, GFile *file)
{
  g_set_object (&self->destination, file);
  set_row_file (self->dest_row, file, _("Nothing chosen"));
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
  gtk_native_dialog_destroy (dialog);
  if (self->chooser == GTK_FILE_CHOOSER_NATIVE (dialog))
    g_clear_object (&self->chooser);
}

static void
choose (BackupWindow *self, const char *title, GtkFileChooserAction action, const char *accept,
        GFile *current, const char *current_name, ChosenFunc func)
{
  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  self->chooser
      = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, accept, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (current != NULL)
    {
      if (action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), current, NULL);
      else
        {
          g_autoptr (GFile) parent = g_file_get_parent (current);

          if (parent != NULL)
            gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), parent, NULL);
        }
    }
  if (current_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), current_name);
  g_object_set_data (G_OBJECT (self->chooser), "chosen-func", func);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
destination_chosen (BackupWindow *self, GFile *file)
{
  set_destination (self, file);
  if (self->settings != NULL)
    {
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        g_settings_set_string (self->settings, "destination-directory", path);
    }
}

typedef struct
{
  BackupWindow *self;
  GFile *file;
} VaultWrite;

static void
vault_write_free (VaultWrite *write)
{
  g_object_unref (write->self);
  g_object_unref (write->file);
  g_free (write);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VaultWrite, vault_write_free)

static void
vault_write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VaultWrite) write = user_data;
  BackupWindow *self = write->self;
  g_autoptr (GError) error = NULL;
  gboolean ok = backup_vault_write_finish (result, &error);

  g_clear_object (&self->vault_cancellable);
  if (self->send_page == NULL) /* disposed */
    return;
  update_sensitivity (self);
  if (!ok)
    {
      toast_error (self, error);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password1_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password2_row), "");
  set_passfile (self, write->file);
  toast (self, _("Password file saved"));
}

void
backup_window_write_password_file (BackupWindow *self, GFile *file)
{
  g_autofree char *path = NULL;
  VaultWrite *write;

  g_return_if_fail (BACKUP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      toast (self, _("The password file must be on this computer"));
      return;
    }
  if (self->vault_cancellable != NULL)
    return;

  write = g_new0 (VaultWrite, 1);
  write->self = g_object_ref (self);
  write->file = g_object_ref (file);
  self->vault_cancellable = g_cancellable_new ();
  update_sensitivity (self);
  backup_vault_write_async (path, editable_text (self->password1_row),
                            editable_text (self->password2_row), NULL, self->vault_cancellable,
                            vault_write_done_cb, write);
}

static void
choose_file_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  choose (self, _("Choose a File to Back Up"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
          self->source, NULL, set_source);
}

static void
choose_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  choose (self, _("Choose a Folder to Back Up"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
          _("_Choose"), NULL, NULL, set_source);
}

static void
choose_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  choose (self, _("Choose a Password File"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
          self->passfile, NULL, set_passfile);
}

static void
clear_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  set_passfile (BACKUP_WINDOW (widget), NULL);
}

static void
choose_destination_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  choose (self, _("Choose Where to Keep Backups"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
          _("_Choose"), self->destination, NULL, destination_chosen);
}

static void
save_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  if (*editable_text (self->password1_row) == '\0' && *editable_text (self->password2_row) == '\0')
    {
      toast (self, _("Enter at least one password"));
      return;
    }
  choose (self, _("Save Password File"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL,
          /* Translators: proposed name of a password file */
          _("backup-passwords.bin"), backup_window_write_password_file);
}

static void
generate_session_id_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autofree char *id = g_uuid_string_random ();

  gtk_editable_set_text (GTK_EDITABLE (self->send_session_row), id);
  gtk_editable_set_text (GTK_EDITABLE (self->receive_session_row), id);
}

static void
copy_session_id_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget),
                          editable_text (self->send_session_row));
  toast (self, _("Session ID copied"));
}

static void
open_destination_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autofree char *uri = NULL;

  if (self->destination == NULL)
    return;
  uri = g_file_get_uri (self->destination);
  gtk_show_uri (GTK_WINDOW (self), uri, GDK_CURRENT_TIME);
}

/* ------------------------------------------------------------------------ */
/* Running a backup                                                         */

static char *
format_time_left (gint64 seconds)
{
  if (seconds >= 3600)
    /* Translators: time left, hours:minutes:seconds */
    return g_strdup_printf (_("%d:%02d:%02d left"), (int)(seconds / 3600),
                            (int)(seconds / 60 % 60), (int)(seconds % 60));
  /* Translators: time left, minutes:seconds */
  return g_strdup_printf (_("%d:%02d left"), (int)(seconds / 60), (int)(seconds % 60));
}

static void
update_progress (BackupWindow *self, BackupSession *session, gboolean force)
{
  guint64 done = backup_session_get_bytes_done (session);
  gint64 total = backup_session_get_total_bytes (session);
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - self->started_us) / 1e6;
  double speed = elapsed > 0.5 ? done / elapsed : 0;
  g_autofree char *done_text = NULL;
  g_autofree char *speed_text = NULL;
  g_autofree char *detail = NULL;

  if (!force && now - self->last_update_us < PROGRESS_INTERVAL_US)
    return;
  self->last_update_us = now;

  done_text = g_format_size (done);
  speed_text = g_format_size ((guint64)speed);
  if (total > 0)
    {
      g_autofree char *total_text = g_format_size ((guint64)total);
      double fraction = MIN (1.0, (double)done / (double)total);

      gtk_progress_bar_set_fraction (self->progress_bar, fraction);
      if (speed > 0 && (guint64)total > done)
        {
          g_autofree char *left = format_time_left ((gint64)((total - done) / speed));

          /* Translators: "120 MB of 300 MB — 80 MB/s — 0:03 left" */
          detail = g_strdup_printf (_("%s of %s — %s/s — %s"), done_text, total_text, speed_text,
                                    left);
        }
      else
        /* Translators: "120 MB of 300 MB" */
        detail = g_strdup_printf (_("%s of %s"), done_text, total_text);
    }
  else
    {
      gtk_progress_bar_pulse (self->progress_bar);
      /* Translators: "120 MB — 80 MB/s" */
      detail = g_strdup_printf (_("%s — %s/s"), done_text, speed_text);
    }
  gtk_label_set_label (self->detail_label, detail);
}

static void
session_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupWindow *self = user_data;
  BackupSessionState state = backup_session_get_state (BACKUP_SESSION (object));
  const char *text = NULL;

  if (state > self->furthest_state && state < BACKUP_SESSION_STATE_DONE)
    self->furthest_state = state;

  switch (state)
    {
    case BACKUP_SESSION_STATE_PAIRING:
      text = _("Waiting for the other computer…");
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
  if (text != NULL)
    gtk_label_set_label (self->status_label, text);
  if (state == BACKUP_SESSION_STATE_PAIRING || state == BACKUP_SESSION_STATE_CONNECTING)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      gtk_label_set_label (self->detail_label, "");
    }
}

static void
session_progress_cb (BackupSession *session, guint64 done, gint64 total, gpointer user_data)
{
  update_progress (user_data, session, FALSE);
}

static void
finish_busy (BackupWindow *self)
{
  g_clear_object (&self->cancellable);
  g_clear_object (&self->session);
  update_sensitivity (self);
  g_application_release (g_application_get_default ());
}

static void
session_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupWindow) self = user_data;
  BackupSession *session = BACKUP_SESSION (object);
  g_autoptr (GError) error = NULL;
  gboolean cancelled;
  gboolean again = FALSE;

  if (session != self->session)
    return;

  cancelled = g_cancellable_is_cancelled (self->cancellable);
  if (!backup_session_run_finish (session, result, &error))
    {
      toast_error (self, error);
      /* A transfer that broke off does not end listening; a store or
       * signaling that does not work does. */
      again = !cancelled && self->furthest_state >= BACKUP_SESSION_STATE_TRANSFERRING;
    }
  else if (self->receiving)
    {
      g_autofree char *name = backup_display_name (backup_session_get_file_name (session), -1);
      g_autofree char *text = g_strdup_printf (_("Received %s"), name);

      if (self->toast_overlay != NULL)
        {
          AdwToast *t = adw_toast_new (text);

          g_free (self->last_toast);
          self->last_toast = g_strdup (text);
          adw_toast_set_button_label (t, _("_Open Folder"));
          adw_toast_set_action_name (t, "win.open-destination");
          adw_toast_overlay_add_toast (self->toast_overlay, t);
        }
      backup_application_notify_received (BACKUP_APPLICATION_DEFAULT, name);
      again = !cancelled;
    }
  else
    {
      g_autofree char *name = backup_display_name (backup_session_get_file_name (session), -1);
      g_autofree char *text = g_strdup_printf (_("Sent %s"), name);

      toast (self, text);
    }

  finish_busy (self);
  if (again && self->receiving && self->keep_listening_switch != NULL
      && gtk_switch_get_active (self->keep_listening_switch))
    gtk_widget_activate_action (GTK_WIDGET (self), "win.receive", NULL);
}

static BackupSignalingStore *
make_signaling (BackupWindow *self, GError **error)
{
  BackupApplication *app = BACKUP_APPLICATION_DEFAULT;
  g_autofree char *url = NULL;

  if (self->settings != NULL)
    url = g_strstrip (g_settings_get_string (self->settings, "signaling-url"));
  return backup_signaling_open (url, app != NULL ? backup_application_get_api_key (app) : NULL,
                                NULL, error);
}

static RtcConfiguration *
make_rtc_config (BackupWindow *self)
{
  RtcConfiguration *config = rtc_configuration_new ();

  if (self->settings != NULL)
    {
      g_auto (GStrv) addresses = g_settings_get_strv (self->settings, "ice-addresses");

      config->stun_servers = g_settings_get_strv (self->settings, "stun-servers");
      if (addresses[0] != NULL)
        config->local_addresses = g_steal_pointer (&addresses);
    }
  return config;
}

static void
remember_session_id (BackupWindow *self, const char *id)
{
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "session-id", id);
}

static void
begin_busy (BackupWindow *self, gboolean receiving)
{
  g_assert (self->cancellable == NULL);

  /* The application stays until the backup is over, even without a
   * window: a cancelled session still cleans up the signaling store. */
  g_application_hold (g_application_get_default ());
  self->cancellable = g_cancellable_new ();
  self->receiving = receiving;
  self->furthest_state = BACKUP_SESSION_STATE_IDLE;
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_label (self->status_label,
                       receiving ? _("Waiting for the other computer…") : _("Preparing…"));
  gtk_label_set_label (self->detail_label, "");
  update_sensitivity (self);
}

static void
run_session (BackupWindow *self, BackupSession *session)
{
  g_set_object (&self->session, session);
  self->started_us = g_get_monotonic_time ();
  self->last_update_us = 0;
  g_signal_connect_object (session, "notify::state", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "progress", G_CALLBACK (session_progress_cb), self, 0);
  backup_session_set_timeout (session, 0);
  backup_session_run_async (session, self->cancellable, session_done_cb, g_object_ref (self));
}

static void
start_send (BackupWindow *self, const char *password1, const char *password2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (BackupSession) session = NULL;
  g_autofree char *id = g_strstrip (g_strdup (editable_text (self->send_session_row)));
  BackupZipEncryption encryption = BACKUP_ZIP_ENCRYPTION_AES256;
  const char *outer = self->source_is_dir ? editable_text (self->outer_name_row) : NULL;

  signaling = make_signaling (self, &error);
  if (signaling == NULL)
    {
      toast_error (self, error);
      finish_busy (self);
      return;
    }
  if (self->settings != NULL)
    encryption = (BackupZipEncryption)g_settings_get_enum (self->settings, "zip-encryption");
  rtc = make_rtc_config (self);
  remember_session_id (self, id);
  session = backup_session_new_sender (signaling, id, rtc, self->source, outer, password1,
                                       password2, encryption);
  run_session (self, session);
}

static void
vault_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupWindow) self = user_data;
  g_autoptr (GError) error = NULL;
  char *password1 = NULL;
  char *password2 = NULL;

  if (!backup_vault_read_finish (result, &password1, &password2, &error))
    {
      toast_error (self, error);
      finish_busy (self);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    finish_busy (self);
  else
    start_send (self, password1, password2);
  backup_vault_password_free (password1);
  backup_vault_password_free (password2);
}

static void
send_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autoptr (GError) error = NULL;

  if (self->cancellable != NULL || self->source == NULL)
    return;
  if (self->source_is_dir
      && !backup_store_check_name (editable_text (self->outer_name_row), &error))
    {
      toast_error (self, error);
      return;
    }

  begin_busy (self, FALSE);
  if (self->source_is_dir && self->passfile != NULL)
    {
      g_autofree char *path = g_file_get_path (self->passfile);

      backup_vault_read_async (path, NULL, self->cancellable, vault_read_cb, g_object_ref (self));
      return;
    }
  start_send (self, NULL, NULL);
}

/* Starts a reception; the window is already busy (begin_busy). */
static void
start_receive (BackupWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) rtc = NULL;
  g_autoptr (BackupSession) session = NULL;
  g_autoptr (BackupStore) store = NULL;
  g_autofree char *id = g_strstrip (g_strdup (editable_text (self->receive_session_row)));
  guint versions = (guint)gtk_spin_button_get_value_as_int (self->versions_spin);

  signaling = make_signaling (self, &error);
  if (signaling == NULL)
    {
      toast_error (self, error);
      finish_busy (self);
      return;
    }
  rtc = make_rtc_config (self);
  remember_session_id (self, id);
  store = backup_store_new (self->destination, CLAMP (versions, 1, BACKUP_STORE_MAX_VERSIONS));
  session = backup_session_new_receiver (signaling, id, rtc, store);
  run_session (self, session);
}

static void
remove_stale_parts_thread (GTask *task, gpointer source_object, gpointer task_data,
                           GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;

  if (!backup_store_remove_stale_parts (BACKUP_STORE (task_data), STALE_PART_AGE, NULL, &error))
    g_debug ("removing stale files: %s", error->message);
  g_task_return_boolean (task, TRUE);
}

static void
stale_parts_removed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  g_task_propagate_boolean (G_TASK (result), NULL);
  if (g_cancellable_is_cancelled (self->cancellable))
    finish_busy (self);
  else
    start_receive (self);
}

static void
receive_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);
  g_autofree char *id = g_strstrip (g_strdup (editable_text (self->receive_session_row)));
  g_autoptr (GTask) task = NULL;

  if (self->cancellable != NULL || self->destination == NULL || *id == '\0')
    return;

  /* First the temporary files a crashed reception left behind: one scan of
   * the destination, off the main thread. */
  begin_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, stale_parts_removed_cb, NULL);
  g_task_set_task_data (task, backup_store_new (self->destination, 1), g_object_unref);
  g_task_run_in_thread (task, remove_stale_parts_thread);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupWindow *self = BACKUP_WINDOW (widget);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* ------------------------------------------------------------------------ */
/* Drag and drop                                                            */

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, gpointer user_data)
{
  BackupWindow *self = user_data;

  if (self->cancellable != NULL)
    {
      toast (self, _("Wait until this backup is over"));
      return FALSE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      if (files == NULL)
        return FALSE;
      set_source (self, files->data);
      if (files->next != NULL)
        toast (self, _("Only the first dropped item is backed up"));
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

static void
entry_activate_cb (AdwEntryRow *row, gpointer user_data)
{
  BackupWindow *self = user_data;

  if (row == self->receive_session_row)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.receive", NULL);
  else
    gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
}

static void
stop_dialog_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  BackupWindow *self = user_data;

  if (g_strcmp0 (response, "stop") != 0)
    return;
  self->close_confirmed = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

/* Closing the window stops a running backup: ask first. */
static void
ask_before_stopping (BackupWindow *self)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (
    GTK_WINDOW (self), _("Stop the Backup?"),
    self->receiving
      ? _("This computer is waiting for a backup or receiving one. Closing the window stops "
          "it; the versions already stored stay as they are.")
      : _("A backup is being sent. Closing the window stops it; the other computer keeps "
          "the versions it already has."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "keep", _("_Keep Running"),
                                    "stop", _("_Stop Backup"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect_object (dialog, "response", G_CALLBACK (stop_dialog_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
close_request_cb (GtkWindow *window, gpointer user_data)
{
  BackupWindow *self = BACKUP_WINDOW (window);

  if (self->cancellable != NULL && !self->close_confirmed)
    {
      ask_before_stopping (self);
      return TRUE;
    }
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->settings != NULL)
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return FALSE;
}

static void
backup_window_dispose (GObject *object)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->vault_cancellable != NULL)
    g_cancellable_cancel (self->vault_cancellable);
  if (self->source_cancellable != NULL)
    g_cancellable_cancel (self->source_cancellable);
  g_clear_object (&self->source_cancellable);
  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  g_clear_object (&self->session);
  g_clear_object (&self->source);
  g_clear_object (&self->passfile);
  g_clear_object (&self->destination);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_WINDOW);

  G_OBJECT_CLASS (backup_window_parent_class)->dispose (object);
}

static void
backup_window_finalize (GObject *object)
{
  BackupWindow *self = BACKUP_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->vault_cancellable);
  g_free (self->last_toast);

  G_OBJECT_CLASS (backup_window_parent_class)->finalize (object);
}

static void
backup_window_class_init (BackupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = backup_window_dispose;
  object_class->finalize = backup_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/DistributedBackup/backup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, receive_page);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, source_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, archive_group);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, outer_name_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, passfile_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, clear_passfile_button);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, dest_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, versions_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, keep_listening_switch);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, receive_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, receive_button);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, password1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, password2_row);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupWindow, detail_label);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);

  gtk_widget_class_install_action (widget_class, "win.choose-file", NULL, choose_file_action);
  gtk_widget_class_install_action (widget_class, "win.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_install_action (widget_class, "win.choose-passfile", NULL,
                                   choose_passfile_action);
  gtk_widget_class_install_action (widget_class, "win.clear-passfile", NULL, clear_passfile_action);
  gtk_widget_class_install_action (widget_class, "win.choose-destination", NULL,
                                   choose_destination_action);
  gtk_widget_class_install_action (widget_class, "win.open-destination", NULL,
                                   open_destination_action);
  gtk_widget_class_install_action (widget_class, "win.save-passfile", NULL, save_passfile_action);
  gtk_widget_class_install_action (widget_class, "win.generate-session-id", NULL,
                                   generate_session_id_action);
  gtk_widget_class_install_action (widget_class, "win.copy-session-id", NULL,
                                   copy_session_id_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.receive", NULL, receive_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.choose-file",
                                       NULL);
}

static void
backup_window_init (BackupWindow *self)
{
  BackupApplication *app = BACKUP_APPLICATION_DEFAULT;
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };
  g_autoptr (GFile) destination = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  if (app != NULL && backup_application_get_settings (app) != NULL)
    self->settings = g_object_ref (backup_application_get_settings (app));

  if (self->settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (self->settings, "session-id");
      g_autofree char *dest = g_settings_get_string (self->settings, "destination-directory");

      gtk_editable_set_text (GTK_EDITABLE (self->send_session_row), id);
      gtk_editable_set_text (GTK_EDITABLE (self->receive_session_row), id);
      g_settings_bind (self->settings, "versions",
                       gtk_spin_button_get_adjustment (self->versions_spin), "value",
                       G_SETTINGS_BIND_DEFAULT);
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      if (*dest != '\0')
        destination = g_file_new_for_path (dest);
    }
  if (destination == NULL)
    {
      const char *downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);

      destination = g_file_new_for_path (downloads != NULL ? downloads : g_get_home_dir ());
    }
  set_destination (self, destination);

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

gboolean
backup_window_get_choosing_source (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), FALSE);

  return self->source_cancellable != NULL;
}

GFile *
backup_window_get_password_file (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->passfile;
}

gboolean
backup_window_get_writing_password_file (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), FALSE);

  return self->vault_cancellable != NULL;
}

const char *
backup_window_get_last_toast (BackupWindow *self)
{
  g_return_val_if_fail (BACKUP_IS_WINDOW (self), NULL);

  return self->last_toast;
}
