/* backup-devices-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page reads paired.conf (a small file) on the main thread when it is
 * made and whenever the file changes, and rebuilds its rows; this
 * device's fingerprint is read from its certificate file, without the key.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device.h"
#include "backup-devices-page.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-nearby.h"

struct _BackupDevicesPage
{
  AdwBin parent_instance;

  GtkStack *content_stack;
  AdwStatusPage *error_status;
  GtkListBox *device_list;
  AdwActionRow *own_name_row;
  AdwActionRow *own_fingerprint_row;

  GFileMonitor *monitor;
  guint reload_id;
  GList *rows; /* AdwActionRow of the paired devices, in order */
};

G_DEFINE_FINAL_TYPE (BackupDevicesPage, backup_devices_page, ADW_TYPE_BIN)

enum
{
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* How @device is reached, for its row. */
static char *
describe_location (const BackupDevice *device)
{
  if (backup_nearby_is_location (device->signaling))
    return g_strdup (_("On the local network"));
  return backup_display_name (device->signaling, -1);
}

static void
forget_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  BackupDevicesPage *self = BACKUP_DEVICES_PAGE (user_data);
  const char *name = g_object_get_data (G_OBJECT (dialog), "device");
  g_autoptr (GError) error = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *text = NULL;

  if (g_strcmp0 (response, "forget") != 0)
    return;
  shown = backup_display_name (name, -1);
  if (!backup_device_remove (NULL, name, &error))
    {
      g_autofree char *why = backup_display_name (error->message, -1);

      text = g_strdup_printf (_("Cannot forget “%s”: %s"), shown, why);
    }
  else
    text = g_strdup_printf (_("Forgot “%s”"), shown);
  {
    g_autoptr (AdwToast) toast = backup_gui_toast_new (text);

    g_signal_emit (self, signals[TOAST], 0, toast);
  }
  backup_devices_page_reload (self);
}

GtkWindow *
backup_devices_page_ask_forget (BackupDevicesPage *self, const char *name)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *shown = backup_display_name (name, -1);
  g_autofree char *heading = g_strdup_printf (_("Forget “%s”?"), shown);
  GtkWidget *dialog;

  g_return_val_if_fail (BACKUP_IS_DEVICES_PAGE (self), NULL);

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   _("Backups with it stop until the two computers pair "
                                     "again. What it sent here stays."));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "forget", _("_Forget"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "forget",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "device", g_strdup (name), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (forget_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return GTK_WINDOW (dialog);
}

static void
forget_clicked_cb (GtkButton *button, BackupDevicesPage *self)
{
  backup_devices_page_ask_forget (self, g_object_get_data (G_OBJECT (button), "device"));
}

static GtkWidget *
device_row_new (BackupDevicesPage *self, const BackupDevice *device)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *forget = gtk_button_new_from_icon_name ("user-trash-symbolic");
  g_autofree char *location = describe_location (device);
  g_autofree char *reached = NULL;
  g_autofree char *when = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *label = NULL;

  if (device->paired > 0)
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (device->paired);

      when = time != NULL ? g_date_time_format (time, "%x") : NULL;
    }
  /* Translators: how a paired device is reached (a server, a folder, "On
   * the local network"), then the date it was paired */
  reached = when != NULL ? g_strdup_printf (_("%s, paired on %s"), location, when)
                         : g_strdup (location);
  subtitle = g_strdup_printf ("%s\n%s", device->fingerprint, reached);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), device->name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);

  label = g_strdup_printf (_("Forget “%s”"), device->name);
  gtk_widget_set_tooltip_text (forget, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (forget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  gtk_widget_set_valign (forget, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (forget, "flat");
  g_object_set_data_full (G_OBJECT (forget), "device", g_strdup (device->name), g_free);
  g_signal_connect (forget, "clicked", G_CALLBACK (forget_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), forget);
  return row;
}

static void
show_own_identity (BackupDevicesPage *self)
{
  g_autofree char *name = backup_device_default_name ();
  g_autoptr (GError) error = NULL;
  g_autofree char *fingerprint = backup_device_read_fingerprint (NULL, &error);

  adw_action_row_set_subtitle (self->own_name_row, name);
  if (fingerprint != NULL)
    adw_action_row_set_subtitle (self->own_fingerprint_row, fingerprint);
  else
    {
      g_autofree char *shown = backup_display_name (error->message, -1);

      adw_action_row_set_subtitle (self->own_fingerprint_row, shown);
    }
}

void
backup_devices_page_reload (BackupDevicesPage *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;

  g_return_if_fail (BACKUP_IS_DEVICES_PAGE (self));

  for (GList *l = self->rows; l != NULL; l = l->next)
    gtk_list_box_remove (self->device_list, l->data);
  g_clear_pointer (&self->rows, g_list_free);

  devices = backup_device_list (NULL, &error);
  if (devices == NULL)
    {
      g_autofree char *shown = backup_display_name (error->message, -1);

      adw_status_page_set_description (self->error_status, shown);
      gtk_stack_set_visible_child_name (self->content_stack, "error");
      return;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      GtkWidget *row = device_row_new (self, g_ptr_array_index (devices, i));

      gtk_list_box_append (self->device_list, row);
      self->rows = g_list_append (self->rows, row);
    }
  show_own_identity (self);
  gtk_stack_set_visible_child_name (self->content_stack, devices->len > 0 ? "list" : "empty");
}

GList *
backup_devices_page_get_device_rows (BackupDevicesPage *self)
{
  g_return_val_if_fail (BACKUP_IS_DEVICES_PAGE (self), NULL);

  return self->rows;
}

static gboolean
reload_idle_cb (gpointer user_data)
{
  BackupDevicesPage *self = user_data;

  self->reload_id = 0;
  backup_devices_page_reload (self);
  return G_SOURCE_REMOVE;
}

static void
file_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                 gpointer user_data)
{
  BackupDevicesPage *self = user_data;

  if (!backup_device_file_event_changes_contents (event))
    return;
  /* One reload for a burst of events. */
  if (self->reload_id == 0)
    self->reload_id = g_idle_add (reload_idle_cb, self);
}

static void
backup_devices_page_dispose (GObject *object)
{
  BackupDevicesPage *self = BACKUP_DEVICES_PAGE (object);

  g_clear_handle_id (&self->reload_id, g_source_remove);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  g_clear_pointer (&self->rows, g_list_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_DEVICES_PAGE);

  G_OBJECT_CLASS (backup_devices_page_parent_class)->dispose (object);
}

static void
backup_devices_page_class_init (BackupDevicesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = backup_devices_page_dispose;

  /**
   * BackupDevicesPage::toast:
   * @toast: what to show
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-devices-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupDevicesPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupDevicesPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, BackupDevicesPage, device_list);
  gtk_widget_class_bind_template_child (widget_class, BackupDevicesPage, own_name_row);
  gtk_widget_class_bind_template_child (widget_class, BackupDevicesPage, own_fingerprint_row);
}

static void
backup_devices_page_init (BackupDevicesPage *self)
{
  g_autofree char *folder = backup_device_get_default_folder ();
  g_autofree char *path = g_build_filename (folder, "paired.conf", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* A pairing in this window, an unpairing in a terminal: the page follows. */
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (file_changed_cb), self);
  else
    g_debug ("the paired devices are not followed: %s", error->message);
  backup_devices_page_reload (self);
}

GtkWidget *
backup_devices_page_new (void)
{
  return g_object_new (BACKUP_TYPE_DEVICES_PAGE, NULL);
}
