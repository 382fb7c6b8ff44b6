/* backup-schedules-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rows are AdwActionRows in a boxed GtkListBox, one per schedule in the
 * order of the file, each knowing its id. When the scheduler loads the
 * file again, rows of the same ids in the same order are kept (and with
 * them the focus) and only their texts change; otherwise the list is
 * built again. A change of one schedule's state changes its row's texts.
 *
 * Changes go to the scheduler's schedules file (read afresh, changed,
 * written) and then backup_scheduler_reload(), so that a change made
 * meanwhile by the command line is not lost.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-gui-utils.h"
#include "backup-schedule-dialog.h"
#include "backup-schedules-page.h"

#define ID_KEY "backup-schedule-id"
#define SWITCH_KEY "backup-schedule-switch"

/* A removed schedule, until its toast goes. */
typedef struct
{
  BackupSchedule *schedule;
  AdwToast *toast;
} Removed;

static void
removed_free (Removed *removed)
{
  g_clear_pointer (&removed->schedule, backup_schedule_free);
  g_clear_object (&removed->toast);
  g_free (removed);
}

struct _BackupSchedulesPage
{
  AdwBin parent_instance;

  /* Template widgets. */
  GtkStack *content_stack;
  AdwStatusPage *empty_status;
  GtkStack *empty_button_stack;
  GtkButton *empty_add_button;
  GtkButton *empty_invite_button;
  AdwPreferencesPage *list_page;
  AdwPreferencesGroup *schedules_group;
  GtkListBox *schedules_list;
  GtkActionBar *action_bar;
  GtkButton *add_button;

  BackupScheduler *scheduler;
  BackupClock *clock;   /* the scheduler's, while there is one */
  guint minute_wakeup;  /* on the clock: the texts say "today", "in …" */
  GFileMonitor *monitor; /* of the paired devices file */
  gboolean has_devices;
  GHashTable *asked;    /* ids run with "Back Up Now", until they end */
  Removed *removed;     /* the last removal, while it can be undone */
  BackupScheduleDialog *dialog; /* weak */
  gboolean updating;    /* the switches are being set from the schedules */
};

G_DEFINE_FINAL_TYPE (BackupSchedulesPage, backup_schedules_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_SCHEDULER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update_all (BackupSchedulesPage *self);

static gboolean
is_disposed (BackupSchedulesPage *self)
{
  return self->content_stack == NULL;
}

static void
emit_toast (BackupSchedulesPage *self, AdwToast *toast)
{
  if (!is_disposed (self))
    g_signal_emit (self, signals[TOAST], 0, toast);
}

static void
toast_text (BackupSchedulesPage *self, const char *text)
{
  g_autoptr (AdwToast) toast = backup_gui_toast_new (text);

  emit_toast (self, toast);
}

/* ------------------------------------------------------------------------ */
/* Texts                                                                    */

static const char *
weekday_name (GDateWeekday weekday)
{
  switch (weekday)
    {
    case G_DATE_MONDAY:
      return _("Monday");
    case G_DATE_TUESDAY:
      return _("Tuesday");
    case G_DATE_WEDNESDAY:
      return _("Wednesday");
    case G_DATE_THURSDAY:
      return _("Thursday");
    case G_DATE_FRIDAY:
      return _("Friday");
    case G_DATE_SATURDAY:
      return _("Saturday");
    case G_DATE_SUNDAY:
      return _("Sunday");
    case G_DATE_BAD_WEEKDAY:
    default:
      return "";
    }
}

/* "Daily at 21:30", "Hourly at :15", "Mondays at 09:00". */
static char *
describe_when (const BackupScheduleWhen *when)
{
  g_autofree char *time = g_strdup_printf ("%02u:%02u", when->hour, when->minute);

  switch (when->kind)
    {
    case BACKUP_SCHEDULE_HOURLY:
      /* Translators: a schedule; %02u is the minute past every hour */
      return g_strdup_printf (_("Hourly at :%02u"), when->minute);
    case BACKUP_SCHEDULE_WEEKLY:
      switch (when->weekday)
        {
        /* Translators: a schedule; %s is the time of day (21:30) */
        case G_DATE_MONDAY:
          return g_strdup_printf (_("Mondays at %s"), time);
        case G_DATE_TUESDAY:
          return g_strdup_printf (_("Tuesdays at %s"), time);
        case G_DATE_WEDNESDAY:
          return g_strdup_printf (_("Wednesdays at %s"), time);
        case G_DATE_THURSDAY:
          return g_strdup_printf (_("Thursdays at %s"), time);
        case G_DATE_FRIDAY:
          return g_strdup_printf (_("Fridays at %s"), time);
        case G_DATE_SATURDAY:
          return g_strdup_printf (_("Saturdays at %s"), time);
        case G_DATE_SUNDAY:
          return g_strdup_printf (_("Sundays at %s"), time);
        case G_DATE_BAD_WEEKDAY:
        default:
          break;
        }
      G_GNUC_FALLTHROUGH;
    case BACKUP_SCHEDULE_DAILY:
    default:
      /* Translators: a schedule; %s is the time of day (21:30) */
      return g_strdup_printf (_("Daily at %s"), time);
    }
}

/* @at (µs since the epoch) as seen at @now in @tz: "today at 21:30",
 * "tomorrow at 09:00", "Monday at 09:00", "03/02/26 at 09:00". */
static char *
describe_time (gint64 at, gint64 now, GTimeZone *tz)
{
  g_autoptr (GDateTime) then_utc = g_date_time_new_from_unix_utc (at / G_USEC_PER_SEC);
  g_autoptr (GDateTime) now_utc = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  g_autoptr (GDateTime) then = NULL;
  g_autoptr (GDateTime) today = NULL;
  g_autofree char *time = NULL;
  GDate then_date, today_date;
  int y, m, d;
  gint days;

  if (then_utc == NULL || now_utc == NULL)
    return g_strdup ("");
  then = g_date_time_to_timezone (then_utc, tz);
  today = g_date_time_to_timezone (now_utc, tz);
  time = g_date_time_format (then, "%H:%M");

  g_date_time_get_ymd (then, &y, &m, &d);
  g_date_clear (&then_date, 1);
  g_date_set_dmy (&then_date, d, m, y);
  g_date_time_get_ymd (today, &y, &m, &d);
  g_date_clear (&today_date, 1);
  g_date_set_dmy (&today_date, d, m, y);
  days = g_date_days_between (&today_date, &then_date);

  /* Translators: %s is a time of day (21:30) */
  if (days == 0)
    return g_strdup_printf (_("today at %s"), time);
  if (days == 1)
    return g_strdup_printf (_("tomorrow at %s"), time);
  if (days == -1)
    return g_strdup_printf (_("yesterday at %s"), time);
  if (days > -7 && days < 7)
    /* Translators: a day of the week (Monday), then a time of day (21:30) */
    return g_strdup_printf (_("%s at %s"), weekday_name (g_date_get_weekday (&then_date)), time);
  {
    g_autofree char *date = g_date_time_format (then, "%x");

    /* Translators: a date (as the language writes it), then a time of day */
    return g_strdup_printf (_("%s at %s"), date != NULL ? date : "", time);
  }
}

static char *
describe_target (const BackupSchedule *schedule)
{
  if (schedule->device != NULL)
    {
      g_autofree char *shown = backup_display_name (schedule->device, -1);

      /* Translators: where a schedule backs up to; %s is a paired device */
      return g_strdup_printf (_("to %s"), shown);
    }
  if (schedule->profile != NULL)
    {
      g_autofree char *base = g_path_get_basename (schedule->profile);
      g_autofree char *shown = backup_display_name (base, -1);

      /* Translators: where a schedule backs up to; %s is a profile file */
      return g_strdup_printf (_("as %s says"), shown);
    }
  return g_strdup ("");
}

static char *
describe_next (BackupSchedulesPage *self, const BackupSchedule *schedule,
               const BackupScheduleState *state, gint64 now, GTimeZone *tz)
{
  gint64 next = backup_scheduler_get_next_run (self->scheduler, schedule->id);
  g_autofree char *when = NULL;

  if (g_strcmp0 (backup_scheduler_get_running (self->scheduler), schedule->id) == 0)
    return g_strdup (_("Running now…"));
  if (next != 0 && next <= now)
    return g_strdup (_("Waiting for another backup to end…"));
  if (!schedule->enabled)
    return g_strdup (_("Disabled"));
  if (next == 0)
    return NULL;
  when = describe_time (next, now, tz);
  if (state->failures > 0 && next == state->next_retry)
    /* Translators: %s says when ("today at 21:31") */
    return g_strdup_printf (_("Trying again %s"), when);
  /* Translators: the next run of a schedule; %s says when ("today at 21:30") */
  return g_strdup_printf (_("Next: %s"), when);
}

static char *
describe_last (const BackupScheduleState *state, gint64 now, GTimeZone *tz)
{
  g_autofree char *when = NULL;
  g_autofree char *outcome = NULL;

  if (state->outcome == BACKUP_SCHEDULE_OUTCOME_NONE || state->last_start == 0)
    return NULL;
  when = describe_time (state->last_start, now, tz);
  switch (state->outcome)
    {
    case BACKUP_SCHEDULE_OUTCOME_OK:
      {
        g_autofree char *size = g_format_size (state->bytes);

        /* Translators: how the last run ended: its size, then "Done" */
        outcome = g_strdup_printf (_("%s · Done"), size);
      }
      break;
    case BACKUP_SCHEDULE_OUTCOME_FAILED:
      {
        g_autofree char *shown
            = backup_display_name (state->error != NULL ? state->error : "", -1);

        /* Translators: how the last run ended; %s is the error */
        outcome = g_strdup_printf (_("Failed: %s"), shown);
      }
      break;
    case BACKUP_SCHEDULE_OUTCOME_CANCELLED:
      outcome = g_strdup (_("Cancelled"));
      break;
    case BACKUP_SCHEDULE_OUTCOME_NONE:
    default:
      return NULL;
    }
  /* Translators: the last run of a schedule: when it started ("yesterday at
   * 21:30"), then how it ended ("12.3 MB · Done", "Failed: …") */
  return g_strdup_printf (_("Last: %s · %s"), when, outcome);
}

static char *
schedule_title (const BackupSchedule *schedule)
{
  g_autofree char *base = NULL;

  if (schedule->name != NULL && *schedule->name != '\0')
    return backup_display_name (schedule->name, -1);
  base = g_path_get_basename (schedule->source);
  return backup_display_name (base, -1);
}

/* ------------------------------------------------------------------------ */
/* The rows                                                                 */

static GtkWidget *
find_row (BackupSchedulesPage *self, const char *id)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->schedules_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), ID_KEY), id) == 0)
      return row;
  return NULL;
}

static void
switch_changed_cb (GtkSwitch *toggle, GParamSpec *pspec, gpointer user_data);

static void
update_row (BackupSchedulesPage *self, GtkWidget *row, const BackupSchedule *schedule)
{
  BackupScheduleState state = { 0 };
  GTimeZone *tz = backup_scheduler_get_time_zone (self->scheduler);
  gint64 now = backup_clock_get_now (self->clock);
  g_autofree char *title = schedule_title (schedule);
  g_autofree char *when = describe_when (&schedule->when);
  g_autofree char *target = describe_target (schedule);
  g_autofree char *next = NULL;
  g_autofree char *last = NULL;
  g_autoptr (GString) subtitle = g_string_new (NULL);
  GtkSwitch *toggle = g_object_get_data (G_OBJECT (row), SWITCH_KEY);
  g_autofree char *switch_label = NULL;

  backup_scheduler_get_state (self->scheduler, schedule->id, &state);
  next = describe_next (self, schedule, &state, now, tz);
  last = describe_last (&state, now, tz);

  g_string_append (subtitle, when);
  if (*target != '\0')
    g_string_append_printf (subtitle, " · %s", target);
  if (next != NULL)
    g_string_append_printf (subtitle, "\n%s", next);
  if (last != NULL)
    g_string_append_printf (subtitle, "\n%s", last);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);

  self->updating = TRUE;
  gtk_switch_set_active (toggle, schedule->enabled);
  self->updating = FALSE;
  /* Translators: the switch of a schedule; %s is its name */
  switch_label = g_strdup_printf (_("Run “%s” on Schedule"), title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (toggle), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  switch_label, -1);
  backup_schedule_state_clear (&state);
}

static GMenuModel *
row_menu (const char *id)
{
  GMenu *menu = g_menu_new ();
  struct
  {
    const char *label;
    const char *action;
  } items[] = {
    { N_("Back _Up Now"), "schedules.run-now" },
    { N_("_Edit…"), "schedules.edit" },
    { N_("_Remove"), "schedules.remove" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_autoptr (GMenuItem) item = g_menu_item_new (_(items[i].label), NULL);

      g_menu_item_set_action_and_target_value (item, items[i].action, g_variant_new_string (id));
      g_menu_append_item (menu, item);
    }
  return G_MENU_MODEL (menu);
}

static GtkWidget *
new_row (BackupSchedulesPage *self, const BackupSchedule *schedule)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();
  GtkWidget *menu_button = gtk_menu_button_new ();
  g_autoptr (GMenuModel) menu = row_menu (schedule->id);
  g_autofree char *title = schedule_title (schedule);
  /* Translators: the menu of a schedule; %s is its name */
  g_autofree char *menu_label = g_strdup_printf (_("Actions for “%s”"), title);

  /* Names and errors come from files and other computers: no markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  g_object_set_data_full (G_OBJECT (row), ID_KEY, g_strdup (schedule->id), g_free);
  g_object_set_data (G_OBJECT (row), SWITCH_KEY, toggle);

  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (toggle, _("Run on Schedule"));
  g_signal_connect (toggle, "notify::active", G_CALLBACK (switch_changed_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);

  gtk_widget_set_valign (menu_button, GTK_ALIGN_CENTER);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), menu);
  gtk_widget_set_tooltip_text (menu_button, _("Schedule Actions"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  menu_label, -1);
  gtk_widget_add_css_class (menu_button, "flat");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), menu_button);

  update_row (self, row, schedule);
  return row;
}

static void
clear_list (BackupSchedulesPage *self)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->schedules_list))) != NULL)
    {
      GtkWidget *toggle = g_object_get_data (G_OBJECT (row), SWITCH_KEY);

      g_signal_handlers_disconnect_by_data (toggle, self);
      gtk_list_box_remove (self->schedules_list, row);
    }
}

static void
update_state (BackupSchedulesPage *self, gboolean any)
{
  const char *state = self->scheduler == NULL ? "unavailable" : any ? "list" : "empty";

  gtk_stack_set_visible_child_name (self->content_stack, state);
  gtk_widget_set_visible (GTK_WIDGET (self->action_bar), g_str_equal (state, "list"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "schedules.add", self->scheduler != NULL);
  if (self->has_devices)
    {
      adw_status_page_set_description (
          self->empty_status,
          _("Back up a file or a folder to a paired computer every hour, day or week."));
      gtk_stack_set_visible_child_name (self->empty_button_stack, "add");
    }
  else
    {
      adw_status_page_set_description (
          self->empty_status, _("Scheduled backups go to a paired computer. Pair with the "
                                "computer to back up to first."));
      gtk_stack_set_visible_child_name (self->empty_button_stack, "invite");
    }
}

/* The rows as the scheduler's schedules say. */
static void
update_all (BackupSchedulesPage *self)
{
  g_autoptr (GPtrArray) schedules = NULL;
  GtkWidget *row;
  gboolean same = TRUE;
  guint i = 0;

  if (is_disposed (self))
    return;
  if (self->scheduler == NULL)
    {
      clear_list (self);
      update_state (self, FALSE);
      return;
    }

  schedules = backup_scheduler_dup_schedules (self->scheduler);
  for (row = gtk_widget_get_first_child (GTK_WIDGET (self->schedules_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row), i++)
    if (i >= schedules->len
        || g_strcmp0 (g_object_get_data (G_OBJECT (row), ID_KEY),
                      ((BackupSchedule *)g_ptr_array_index (schedules, i))->id)
               != 0)
      same = FALSE;
  if (i != schedules->len)
    same = FALSE;

  if (same)
    {
      row = gtk_widget_get_first_child (GTK_WIDGET (self->schedules_list));
      for (i = 0; i < schedules->len; i++, row = gtk_widget_get_next_sibling (row))
        update_row (self, row, g_ptr_array_index (schedules, i));
    }
  else
    {
      clear_list (self);
      for (i = 0; i < schedules->len; i++)
        gtk_list_box_append (self->schedules_list,
                             new_row (self, g_ptr_array_index (schedules, i)));
    }
  update_state (self, schedules->len > 0);
}

static void
update_one (BackupSchedulesPage *self, const char *id)
{
  g_autoptr (GPtrArray) schedules = NULL;
  GtkWidget *row;

  if (is_disposed (self) || self->scheduler == NULL || (row = find_row (self, id)) == NULL)
    return;
  schedules = backup_scheduler_dup_schedules (self->scheduler);
  for (guint i = 0; i < schedules->len; i++)
    {
      BackupSchedule *schedule = g_ptr_array_index (schedules, i);

      if (g_str_equal (schedule->id, id))
        update_row (self, row, schedule);
    }
}

/* ------------------------------------------------------------------------ */
/* Following the scheduler, its clock and the paired devices                */

static void arm_minute (BackupSchedulesPage *self);

static void
minute_cb (BackupClock *clock, gint64 now, gpointer user_data)
{
  BackupSchedulesPage *self = user_data;

  self->minute_wakeup = 0;
  update_all (self);
  arm_minute (self);
}

/* Wakes at the start of the next minute of the clock. */
static void
arm_minute (BackupSchedulesPage *self)
{
  gint64 minute = 60 * G_USEC_PER_SEC;
  gint64 now;

  if (self->clock == NULL || self->minute_wakeup != 0)
    return;
  now = backup_clock_get_now (self->clock);
  self->minute_wakeup
      = backup_clock_add_wakeup (self->clock, (now / minute + 1) * minute, minute_cb, self, NULL);
}

static void
schedules_changed_cb (BackupScheduler *scheduler, gpointer user_data)
{
  update_all (user_data);
}

static void
schedule_changed_cb (BackupScheduler *scheduler, const char *id, gpointer user_data)
{
  update_one (user_data, id);
}

static void
schedule_finished_cb (BackupScheduler *scheduler, const char *id, const GError *error,
                      gpointer user_data)
{
  BackupSchedulesPage *self = user_data;
  gboolean asked = g_hash_table_remove (self->asked, id);
  BackupScheduleState state = { 0 };
  g_autoptr (GPtrArray) schedules = NULL;
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;
  gboolean known = backup_scheduler_get_state (scheduler, id, &state);

  if (!known)
    return; /* removed while it ran */
  schedules = backup_scheduler_dup_schedules (scheduler);
  for (guint i = 0; i < schedules->len && title == NULL; i++)
    if (g_str_equal (((BackupSchedule *)g_ptr_array_index (schedules, i))->id, id))
      title = schedule_title (g_ptr_array_index (schedules, i));

  if (error == NULL && asked)
    /* Translators: %s is a schedule's name */
    text = g_strdup_printf (_("“%s” is backed up"), title);
  else if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           && (asked || state.failures == 1))
    {
      g_autofree char *shown = backup_display_name (error->message, -1);

      /* Translators: a scheduled backup failed; %s is its name, then the error */
      text = g_strdup_printf (_("The backup “%s” failed: %s"), title, shown);
    }
  if (text != NULL)
    toast_text (self, text);
  backup_schedule_state_clear (&state);
}

static void
refresh_devices (BackupSchedulesPage *self)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;

  devices = backup_device_list (NULL, &error);
  if (devices == NULL)
    g_debug ("paired devices unavailable: %s", error->message);
  self->has_devices = devices != NULL && devices->len > 0;
}

static void
devices_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                    gpointer user_data)
{
  BackupSchedulesPage *self = user_data;

  if (!backup_device_file_event_changes_contents (event))
    return;
  refresh_devices (self);
  update_all (self);
}

/* ------------------------------------------------------------------------ */
/* Changing the schedules                                                   */

/* The schedule @id as the file says now. */
static BackupSchedule *
find_schedule (BackupSchedulesPage *self, const char *id, GError **error)
{
  return backup_schedule_find (backup_scheduler_get_config_path (self->scheduler), id, error);
}

static void
reload (BackupSchedulesPage *self)
{
  g_autoptr (GError) error = NULL;

  if (!backup_scheduler_reload (self->scheduler, &error))
    toast_text (self, error->message);
}

static void
switch_changed_cb (GtkSwitch *toggle, GParamSpec *pspec, gpointer user_data)
{
  BackupSchedulesPage *self = user_data;
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (toggle), ADW_TYPE_ACTION_ROW);
  const char *id = row != NULL ? g_object_get_data (G_OBJECT (row), ID_KEY) : NULL;
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GError) error = NULL;

  if (self->updating || self->scheduler == NULL || id == NULL)
    return;
  schedule = find_schedule (self, id, &error);
  if (schedule != NULL && schedule->enabled != gtk_switch_get_active (toggle))
    {
      schedule->enabled = gtk_switch_get_active (toggle);
      if (!backup_schedule_update (backup_scheduler_get_config_path (self->scheduler), schedule,
                                   &error))
        g_clear_pointer (&schedule, backup_schedule_free);
    }
  if (schedule == NULL)
    {
      toast_text (self, error->message);
      update_one (self, id); /* the switch as it was */
      return;
    }
  reload (self);
}

static void
run_now_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr (GError) error = NULL;

  if (self->scheduler == NULL)
    return;
  if (g_strcmp0 (backup_scheduler_get_running (self->scheduler), id) == 0)
    return;
  g_hash_table_add (self->asked, g_strdup (id));
  if (!backup_scheduler_run_now (self->scheduler, id, &error))
    {
      g_hash_table_remove (self->asked, id);
      toast_text (self, error->message);
    }
}

static void
dialog_saved_cb (BackupScheduleDialog *dialog, const char *id, gpointer user_data)
{
  BackupSchedulesPage *self = user_data;

  /* The scheduler was reloaded: the rows follow. Only the new row needs
   * to be seen. */
  update_all (self);
}

static void
open_dialog (BackupSchedulesPage *self, const BackupSchedule *schedule)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  self->dialog = backup_schedule_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                             self->scheduler, schedule);
  g_object_add_weak_pointer (G_OBJECT (self->dialog), (gpointer *)&self->dialog);
  g_signal_connect_object (self->dialog, "saved", G_CALLBACK (dialog_saved_cb), self, 0);
  gtk_window_present (GTK_WINDOW (self->dialog));
}

static void
add_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (widget);

  if (self->scheduler != NULL)
    open_dialog (self, NULL);
}

static void
edit_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (widget);
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GError) error = NULL;

  if (self->scheduler == NULL)
    return;
  schedule = find_schedule (self, g_variant_get_string (param, NULL), &error);
  if (schedule == NULL)
    {
      toast_text (self, error->message);
      return;
    }
  open_dialog (self, schedule);
}

static void
removed_undo_cb (AdwToast *toast, gpointer user_data)
{
  BackupSchedulesPage *self = user_data;
  Removed *removed = self->removed;
  g_autofree char *id = NULL;
  g_autoptr (GError) error = NULL;

  if (removed == NULL || removed->toast != toast || self->scheduler == NULL)
    return;
  self->removed = NULL;
  id = backup_schedule_add (backup_scheduler_get_config_path (self->scheduler), removed->schedule,
                            &error);
  removed_free (removed);
  if (id == NULL)
    toast_text (self, error->message);
  else
    reload (self);
}

static void
removed_dismissed_cb (AdwToast *toast, gpointer user_data)
{
  BackupSchedulesPage *self = user_data;

  if (self->removed == NULL || self->removed->toast != toast)
    return;
  g_clear_pointer (&self->removed, removed_free);
}

static void
forget_removed (BackupSchedulesPage *self)
{
  Removed *removed = g_steal_pointer (&self->removed);

  if (removed == NULL)
    return;
  g_signal_handlers_disconnect_by_data (removed->toast, self);
  adw_toast_dismiss (removed->toast);
  removed_free (removed);
}

static void
remove_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autoptr (BackupSchedule) schedule = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;
  Removed *removed;

  if (self->scheduler == NULL)
    return;
  schedule = find_schedule (self, id, &error);
  if (schedule == NULL
      || !backup_schedule_remove (backup_scheduler_get_config_path (self->scheduler), id, &error))
    {
      toast_text (self, error->message);
      return;
    }
  forget_removed (self);
  reload (self);

  /* Undone, it comes back as it was; what its runs did is still in the
   * state file until another run ends, and without that, due times before
   * now are not missed runs. */
  schedule->created = backup_clock_get_now (self->clock);
  title = schedule_title (schedule);
  /* Translators: %s is a schedule's name */
  text = g_strdup_printf (_("“%s” removed"), title);
  removed = g_new0 (Removed, 1);
  removed->schedule = g_steal_pointer (&schedule);
  removed->toast = backup_gui_toast_new (text);
  adw_toast_set_button_label (removed->toast, _("_Undo"));
  g_signal_connect_object (removed->toast, "button-clicked", G_CALLBACK (removed_undo_cb), self, 0);
  g_signal_connect_object (removed->toast, "dismissed", G_CALLBACK (removed_dismissed_cb), self,
                           0);
  self->removed = removed;
  emit_toast (self, removed->toast);
}

/* ------------------------------------------------------------------------ */
/* The object                                                               */

static void
disconnect_scheduler (BackupSchedulesPage *self)
{
  if (self->minute_wakeup != 0)
    backup_clock_remove_wakeup (self->clock, self->minute_wakeup);
  self->minute_wakeup = 0;
  g_clear_object (&self->clock);
  if (self->scheduler != NULL)
    g_signal_handlers_disconnect_by_data (self->scheduler, self);
  g_clear_object (&self->scheduler);
  g_hash_table_remove_all (self->asked);
}

void
backup_schedules_page_set_scheduler (BackupSchedulesPage *self, BackupScheduler *scheduler)
{
  g_return_if_fail (BACKUP_IS_SCHEDULES_PAGE (self));
  g_return_if_fail (scheduler == NULL || BACKUP_IS_SCHEDULER (scheduler));

  if (scheduler == self->scheduler)
    return;
  if (self->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  forget_removed (self);
  disconnect_scheduler (self);
  if (scheduler != NULL)
    {
      self->scheduler = g_object_ref (scheduler);
      self->clock = g_object_ref (backup_scheduler_get_clock (scheduler));
      g_signal_connect (scheduler, "schedules-changed", G_CALLBACK (schedules_changed_cb), self);
      g_signal_connect (scheduler, "schedule-changed", G_CALLBACK (schedule_changed_cb), self);
      g_signal_connect (scheduler, "schedule-finished", G_CALLBACK (schedule_finished_cb), self);
      arm_minute (self);
    }
  clear_list (self);
  update_all (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCHEDULER]);
}

BackupScheduler *
backup_schedules_page_get_scheduler (BackupSchedulesPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULES_PAGE (self), NULL);

  return self->scheduler;
}

void
backup_schedules_page_refresh (BackupSchedulesPage *self)
{
  g_return_if_fail (BACKUP_IS_SCHEDULES_PAGE (self));

  refresh_devices (self);
  update_all (self);
}

const char *
backup_schedules_page_get_state (BackupSchedulesPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULES_PAGE (self), NULL);

  return gtk_stack_get_visible_child_name (self->content_stack);
}

AdwActionRow *
backup_schedules_page_get_row (BackupSchedulesPage *self, const char *id)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULES_PAGE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  return (AdwActionRow *)find_row (self, id);
}

BackupScheduleDialog *
backup_schedules_page_get_dialog (BackupSchedulesPage *self)
{
  g_return_val_if_fail (BACKUP_IS_SCHEDULES_PAGE (self), NULL);

  return self->dialog;
}

static void
backup_schedules_page_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (object);

  switch (prop_id)
    {
    case PROP_SCHEDULER:
      g_value_set_object (value, self->scheduler);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_schedules_page_set_property (GObject *object, guint prop_id, const GValue *value,
                                    GParamSpec *pspec)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (object);

  switch (prop_id)
    {
    case PROP_SCHEDULER:
      backup_schedules_page_set_scheduler (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_schedules_page_dispose (GObject *object)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (object);

  if (self->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  forget_removed (self);
  disconnect_scheduler (self);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  if (self->schedules_list != NULL)
    clear_list (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_SCHEDULES_PAGE);

  G_OBJECT_CLASS (backup_schedules_page_parent_class)->dispose (object);
}

static void
backup_schedules_page_finalize (GObject *object)
{
  BackupSchedulesPage *self = BACKUP_SCHEDULES_PAGE (object);

  g_clear_pointer (&self->asked, g_hash_table_unref);

  G_OBJECT_CLASS (backup_schedules_page_parent_class)->finalize (object);
}

static void
backup_schedules_page_class_init (BackupSchedulesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_schedules_page_get_property;
  object_class->set_property = backup_schedules_page_set_property;
  object_class->dispose = backup_schedules_page_dispose;
  object_class->finalize = backup_schedules_page_finalize;

  properties[PROP_SCHEDULER]
      = g_param_spec_object ("scheduler", NULL, NULL, BACKUP_TYPE_SCHEDULER,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupSchedulesPage::toast:
   * @toast: what to show
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-schedules-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, empty_status);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, empty_button_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, empty_add_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, empty_invite_button);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, list_page);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, schedules_group);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, schedules_list);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, action_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupSchedulesPage, add_button);

  gtk_widget_class_install_action (widget_class, "schedules.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "schedules.run-now", "s", run_now_action);
  gtk_widget_class_install_action (widget_class, "schedules.edit", "s", edit_action);
  gtk_widget_class_install_action (widget_class, "schedules.remove", "s", remove_action);
}

static void
backup_schedules_page_init (BackupSchedulesPage *self)
{
  g_autofree char *folder = backup_device_get_default_folder ();
  g_autofree char *path = g_build_filename (folder, "paired.conf", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* "Add Schedule…" or "Invite a Device…": whether one is paired. */
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (devices_changed_cb), self);
  else
    g_debug ("the paired devices are not followed: %s", error->message);
  refresh_devices (self);
  update_all (self);
}

GtkWidget *
backup_schedules_page_new (void)
{
  return g_object_new (BACKUP_TYPE_SCHEDULES_PAGE, NULL);
}
