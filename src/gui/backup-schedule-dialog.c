/* backup-schedule-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rows hold the values; Save reads them into a BackupSchedule. The
 * file chooser belongs to the dialog (backup_gui_choose_file() with the
 * dialog as owner), so it is modal on it and closes with it.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device-row.h"
#include "backup-error.h"
#include "backup-gui-utils.h"
#include "backup-schedule-dialog.h"

/* The positions of the frequency row. */
enum
{
  FREQUENCY_HOURLY,
  FREQUENCY_DAILY,
  FREQUENCY_WEEKLY,
};

struct _BackupScheduleDialog
{
  AdwWindow parent_instance;

  /* Template widgets. */
  AdwWindowTitle *window_title;
  AdwPreferencesPage *form;
  AdwPreferencesGroup *error_group;
  GtkLabel *error_label;
  AdwEntryRow *name_row;
  AdwActionRow *source_row;
  AdwActionRow *passfile_row;
  GtkWidget *clear_passfile_button;
  BackupDeviceRow *device_row;
  AdwComboRow *frequency_row;
  AdwComboRow *weekday_row;
  AdwActionRow *hour_row;
  GtkSpinButton *hour_spin;
  AdwActionRow *minute_row;
  GtkSpinButton *minute_spin;

  BackupScheduler *scheduler;
  BackupSchedule *original; /* the schedule edited, or NULL */
  GFile *source;
  gboolean source_is_folder;
  GFile *passfile;
  char *default_name;   /* the name the source gave, or NULL */
  gboolean setting_name; /* the name row is being set from the source */
  gboolean name_typed;
  char *error;
};

G_DEFINE_FINAL_TYPE (BackupScheduleDialog, backup_schedule_dialog, ADW_TYPE_WINDOW)

enum
{
  SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_error (BackupScheduleDialog *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_group), message != NULL);

}

static void
update_rows (BackupScheduleDialog *self)
{
  guint frequency = adw_combo_row_get_selected (self->frequency_row);

  gtk_widget_set_visible (GTK_WIDGET (self->weekday_row), frequency == FREQUENCY_WEEKLY);
  gtk_widget_set_visible (GTK_WIDGET (self->hour_row), frequency != FREQUENCY_HOURLY);
  adw_action_row_set_subtitle (self->minute_row, frequency == FREQUENCY_HOURLY
                                                     ? _("Past every hour")
                                                     : "");

  backup_gui_row_set_file (self->source_row, self->source, _("Nothing chosen"));
  gtk_widget_set_visible (GTK_WIDGET (self->passfile_row),
                          self->source != NULL && self->source_is_folder);
  backup_gui_row_set_file (self->passfile_row, self->passfile,
                           _("None: the archive is sent without passwords"));
  gtk_widget_set_visible (self->clear_passfile_button, self->passfile != NULL);
}

/* ------------------------------------------------------------------------ */
/* The rows                                                                 */

static gboolean
two_digits_output_cb (GtkSpinButton *spin, gpointer user_data)
{
  g_autofree char *text
      = g_strdup_printf ("%02d", (int)gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)));

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (spin))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static void
name_changed_cb (BackupScheduleDialog *self)
{
  const char *text;

  if (self->setting_name || self->name_row == NULL)
    return;
  text = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  /* Emptied again: the name follows the source again. */
  self->name_typed = *text != '\0' && g_strcmp0 (text, self->default_name) != 0;
}

static void
name_activated_cb (BackupScheduleDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "schedule.save", NULL);
}

static void
device_changed_cb (BackupScheduleDialog *self)
{
  if (self->device_row != NULL && self->error != NULL && backup_device_row_get_device (self->device_row) != NULL)
    show_error (self, NULL);
}

static void
frequency_changed_cb (BackupScheduleDialog *self)
{
  /* (Also while the template is built.) */
  if (self->frequency_row != NULL && self->minute_row != NULL)
    update_rows (self);
}

void
backup_schedule_dialog_set_source (BackupScheduleDialog *self, GFile *source, gboolean is_folder)
{
  g_return_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self));
  g_return_if_fail (source == NULL || G_IS_FILE (source));

  g_set_object (&self->source, source);
  self->source_is_folder = source != NULL && is_folder;
  g_clear_pointer (&self->default_name, g_free);
  if (source != NULL)
    {
      g_autofree char *base = g_file_get_basename (source);

      self->default_name = g_filename_display_name (base != NULL ? base : "");
    }
  if (!self->name_typed)
    {
      self->setting_name = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->name_row),
                             self->default_name != NULL ? self->default_name : "");
      self->setting_name = FALSE;
    }
  update_rows (self);
}

GFile *
backup_schedule_dialog_get_source (BackupScheduleDialog *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self), NULL);

  return self->source;
}

void
backup_schedule_dialog_set_password_file (BackupScheduleDialog *self, GFile *file)
{
  g_return_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  g_set_object (&self->passfile, file);
  update_rows (self);
}

static void
file_chosen (GtkWidget *widget, GFile *file)
{
  backup_schedule_dialog_set_source (BACKUP_SCHEDULE_DIALOG (widget), file, FALSE);
}

static void
folder_chosen (GtkWidget *widget, GFile *file)
{
  backup_schedule_dialog_set_source (BACKUP_SCHEDULE_DIALOG (widget), file, TRUE);
}

static void
passfile_chosen (GtkWidget *widget, GFile *file)
{
  backup_schedule_dialog_set_password_file (BACKUP_SCHEDULE_DIALOG (widget), file);
}

static void
choose_file_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupScheduleDialog *self = BACKUP_SCHEDULE_DIALOG (widget);

  backup_gui_choose_file (widget, _("Choose a File to Back Up"), GTK_FILE_CHOOSER_ACTION_OPEN,
                          _("_Choose"), self->source_is_folder ? NULL : self->source, NULL,
                          file_chosen);
}

static void
choose_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupScheduleDialog *self = BACKUP_SCHEDULE_DIALOG (widget);
  g_autoptr (GFile) parent = NULL;

  if (self->source != NULL && self->source_is_folder)
    parent = g_file_get_parent (self->source);
  backup_gui_choose_file (widget, _("Choose a Folder to Back Up"),
                          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), parent, NULL,
                          folder_chosen);
}

static void
choose_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupScheduleDialog *self = BACKUP_SCHEDULE_DIALOG (widget);
  g_autoptr (GFile) where = NULL;

  /* Password files are kept in the user's configuration folder. */
  if (self->passfile == NULL)
    where = backup_gui_password_folder_file (_("backup-passwords.bin"));
  backup_gui_choose_file (widget, _("Choose a Password File"), GTK_FILE_CHOOSER_ACTION_OPEN,
                          _("_Choose"), self->passfile != NULL ? self->passfile : where, NULL,
                          passfile_chosen);
}

static void
clear_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_schedule_dialog_set_password_file (BACKUP_SCHEDULE_DIALOG (widget), NULL);
}

/* ------------------------------------------------------------------------ */
/* Saving                                                                   */

static const char *const weekday_specs[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

/* The spec the rows say ("daily:21:30"). */
static char *
get_spec (BackupScheduleDialog *self)
{
  guint minute = (guint)gtk_spin_button_get_value_as_int (self->minute_spin);
  guint hour = (guint)gtk_spin_button_get_value_as_int (self->hour_spin);
  guint weekday = adw_combo_row_get_selected (self->weekday_row);

  switch (adw_combo_row_get_selected (self->frequency_row))
    {
    case FREQUENCY_HOURLY:
      return g_strdup_printf ("hourly:%02u", minute);
    case FREQUENCY_WEEKLY:
      return g_strdup_printf ("weekly:%s:%02u:%02u",
                              weekday < G_N_ELEMENTS (weekday_specs) ? weekday_specs[weekday] : "",
                              hour, minute);
    case FREQUENCY_DAILY:
    default:
      return g_strdup_printf ("daily:%02u:%02u", hour, minute);
    }
}

static gboolean
save (BackupScheduleDialog *self, GError **error)
{
  g_autofree char *spec = get_spec (self);
  g_autofree char *source = NULL;
  g_autofree char *passfile = NULL;
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GError) reload_error = NULL;
  BackupScheduleWhen when;
  const char *device = backup_device_row_get_device (self->device_row);
  const char *path = backup_scheduler_get_config_path (self->scheduler);

  if (self->source == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("Choose a file or a folder to back up."));
      return FALSE;
    }
  source = g_file_get_path (self->source);
  if (source == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("Only files and folders on this computer can be backed up on a "
                             "schedule."));
      return FALSE;
    }
  /* A schedule of the command line's that sends as a profile file says
   * keeps its profile. */
  if (device == NULL && (self->original == NULL || self->original->profile == NULL))
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("Choose a paired computer to back up to: a scheduled backup "
                             "cannot wait for a session ID. Pair the other computer first with "
                             "“Invite a Device…” in the main menu."));
      return FALSE;
    }
  if (!backup_schedule_when_parse (spec, &when, error))
    return FALSE;
  if (self->source_is_folder && self->passfile != NULL)
    {
      passfile = g_file_get_path (self->passfile);
      if (passfile == NULL)
        {
          g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                               _("Choose a password file on this computer."));
          return FALSE;
        }
    }
  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));

  schedule = backup_schedule_new (*name != '\0' ? name : NULL, source, device, &when);
  schedule->password_file = g_steal_pointer (&passfile);
  /* The scheduler's time: due times before it are not missed runs. */
  schedule->created = backup_clock_get_now (backup_scheduler_get_clock (self->scheduler));
  if (device == NULL)
    schedule->profile = g_strdup (self->original->profile);
  if (self->original != NULL)
    {
      schedule->id = g_strdup (self->original->id);
      schedule->created = self->original->created;
      schedule->enabled = self->original->enabled;
    }
  if (!backup_schedule_validate (schedule, error))
    return FALSE;

  if (self->original != NULL)
    {
      if (!backup_schedule_update (path, schedule, error))
        return FALSE;
      id = g_strdup (schedule->id);
    }
  else
    {
      id = backup_schedule_add (path, schedule, error);
      if (id == NULL)
        return FALSE;
      /* Saved: saving again changes it, and adds no other. */
      g_free (schedule->id);
      schedule->id = g_strdup (id);
      self->original = g_steal_pointer (&schedule);
    }
  /* Stored: the scheduler takes it up (or says why it cannot). */
  if (!backup_scheduler_reload (self->scheduler, &reload_error))
    g_warning ("The schedules were saved but not reloaded: %s", reload_error->message);
  g_signal_emit (self, signals[SAVED], 0, id);
  return TRUE;
}

gboolean
backup_schedule_dialog_save (BackupScheduleDialog *self)
{
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self), FALSE);

  if (!save (self, &error))
    {
      show_error (self, error->message);
      return FALSE;
    }
  show_error (self, NULL);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

static void
save_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_schedule_dialog_save (BACKUP_SCHEDULE_DIALOG (widget));
}

const char *
backup_schedule_dialog_get_error (BackupScheduleDialog *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self), NULL);

  return self->error;
}

const char *
backup_schedule_dialog_get_id (BackupScheduleDialog *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULE_DIALOG (self), NULL);

  return self->original != NULL ? self->original->id : NULL;
}

/* ------------------------------------------------------------------------ */
/* The object                                                               */

static void
backup_schedule_dialog_dispose (GObject *object)
{
  BackupScheduleDialog *self = BACKUP_SCHEDULE_DIALOG (object);

  backup_gui_close_chooser (GTK_WIDGET (self));
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_SCHEDULE_DIALOG);

  G_OBJECT_CLASS (backup_schedule_dialog_parent_class)->dispose (object);
}

static void
backup_schedule_dialog_finalize (GObject *object)
{
  BackupScheduleDialog *self = BACKUP_SCHEDULE_DIALOG (object);

  g_clear_object (&self->scheduler);
  g_clear_pointer (&self->original, backup_schedule_free);
  g_clear_object (&self->source);
  g_clear_object (&self->passfile);
  g_free (self->default_name);
  g_free (self->error);

  G_OBJECT_CLASS (backup_schedule_dialog_parent_class)->finalize (object);
}

static void
backup_schedule_dialog_class_init (BackupScheduleDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = backup_schedule_dialog_dispose;
  object_class->finalize = backup_schedule_dialog_finalize;

  /**
   * BackupScheduleDialog::saved:
   * @id: the schedule's id
   *
   * The schedule is stored, and the scheduler reloaded.
   */
  signals[SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (BACKUP_TYPE_DEVICE_ROW);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-schedule-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, form);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, error_group);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, source_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, passfile_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, clear_passfile_button);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, device_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, frequency_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, weekday_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, hour_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, hour_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, minute_row);
  gtk_widget_class_bind_template_child (widget_class, BackupScheduleDialog, minute_spin);
  gtk_widget_class_bind_template_callback (widget_class, two_digits_output_cb);
  gtk_widget_class_bind_template_callback (widget_class, name_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, name_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, device_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, frequency_changed_cb);

  gtk_widget_class_install_action (widget_class, "schedule.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "schedule.choose-file", NULL,
                                   choose_file_action);
  gtk_widget_class_install_action (widget_class, "schedule.choose-folder", NULL,
                                   choose_folder_action);
  gtk_widget_class_install_action (widget_class, "schedule.choose-passfile", NULL,
                                   choose_passfile_action);
  gtk_widget_class_install_action (widget_class, "schedule.clear-passfile", NULL,
                                   clear_passfile_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
backup_schedule_dialog_init (BackupScheduleDialog *self)
{
  g_autoptr (GtkStringList) frequencies = NULL;
  g_autoptr (GtkStringList) weekdays = NULL;
  const char *frequency_names[] = {
    /* Translators: how often a scheduled backup runs */
    _("Every Hour"),
    _("Every Day"),
    _("Every Week"),
    NULL,
  };
  const char *weekday_names[] = {
    _("Monday"), _("Tuesday"),  _("Wednesday"), _("Thursday"),
    _("Friday"), _("Saturday"), _("Sunday"),    NULL,
  };

  gtk_widget_init_template (GTK_WIDGET (self));

  frequencies = gtk_string_list_new (frequency_names);
  weekdays = gtk_string_list_new (weekday_names);
  adw_combo_row_set_model (self->frequency_row, G_LIST_MODEL (frequencies));
  adw_combo_row_set_model (self->weekday_row, G_LIST_MODEL (weekdays));
}

static void
set_when (BackupScheduleDialog *self, const BackupScheduleWhen *when)
{
  switch (when->kind)
    {
    case BACKUP_SCHEDULE_HOURLY:
      adw_combo_row_set_selected (self->frequency_row, FREQUENCY_HOURLY);
      break;
    case BACKUP_SCHEDULE_WEEKLY:
      adw_combo_row_set_selected (self->frequency_row, FREQUENCY_WEEKLY);
      break;
    case BACKUP_SCHEDULE_DAILY:
    default:
      adw_combo_row_set_selected (self->frequency_row, FREQUENCY_DAILY);
      break;
    }
  if (when->weekday >= G_DATE_MONDAY && when->weekday <= G_DATE_SUNDAY)
    adw_combo_row_set_selected (self->weekday_row, when->weekday - G_DATE_MONDAY);
  gtk_spin_button_set_value (self->hour_spin, when->hour);
  gtk_spin_button_set_value (self->minute_spin, when->minute);
}

BackupScheduleDialog *
backup_schedule_dialog_new (GtkWindow *parent, BackupScheduler *scheduler,
                            const BackupSchedule *schedule)
{
  BackupScheduleDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (BACKUP_IS_SCHEDULER (scheduler), NULL);

  self = g_object_new (BACKUP_TYPE_SCHEDULE_DIALOG, "transient-for", parent, NULL);
  self->scheduler = g_object_ref (scheduler);

  if (schedule == NULL)
    {
      g_autoptr (GPtrArray) devices = backup_device_list (NULL, NULL);
      g_autoptr (GDateTime) now = g_date_time_new_now (backup_scheduler_get_time_zone (scheduler));
      BackupScheduleWhen when = {
        .kind = BACKUP_SCHEDULE_DAILY,
        .hour = (guint)(g_date_time_get_hour (now) + 1) % 24,
        .minute = 0,
        .weekday = (GDateWeekday)g_date_time_get_day_of_week (now),
      };

      adw_window_title_set_title (self->window_title, _("Add Schedule"));
      gtk_window_set_title (GTK_WINDOW (self), _("Add Schedule"));
      if (devices != NULL && devices->len > 0)
        backup_device_row_set_device (self->device_row,
                                      ((BackupDevice *)g_ptr_array_index (devices, 0))->name);
      set_when (self, &when);
    }
  else
    {
      g_autoptr (GFile) source = g_file_new_for_path (schedule->source);

      self->original = backup_schedule_copy (schedule);
      adw_window_title_set_title (self->window_title, _("Edit Schedule"));
      gtk_window_set_title (GTK_WINDOW (self), _("Edit Schedule"));
      /* A small local test, as reading the schedules file is; only a
       * folder has a password file (also while it is not mounted). */
      backup_schedule_dialog_set_source (self, source,
                                         schedule->password_file != NULL
                                             || g_file_test (schedule->source, G_FILE_TEST_IS_DIR));
      if (schedule->name != NULL)
        {
          self->setting_name = TRUE;
          gtk_editable_set_text (GTK_EDITABLE (self->name_row), schedule->name);
          self->setting_name = FALSE;
          self->name_typed = g_strcmp0 (schedule->name, self->default_name) != 0;
        }
      if (schedule->password_file != NULL)
        {
          g_autoptr (GFile) passfile = g_file_new_for_path (schedule->password_file);

          g_set_object (&self->passfile, passfile);
        }
      backup_device_row_set_device (self->device_row, schedule->device);
      set_when (self, &schedule->when);
    }
  update_rows (self);
  return self;
}
