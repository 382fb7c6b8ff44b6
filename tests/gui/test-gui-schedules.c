/* test-gui-schedules.c: the Schedules page and its dialog, in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (xvfb-run). A real BackupScheduler on a manual clock (in
 * UTC) with a fake run function that the test ends by hand; the schedules
 * files and the paired devices in a folder of the test's own. Renders the
 * page with two schedules to schedules.png in the build directory, or in
 * $SCREENSHOT_DIR.
 */
#include "config.h"

#include "gui-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

#include "backup-device-row.h"
#include "backup-device.h"
#include "backup-error.h"
#include "backup-resources.h"
#include "backup-schedule-dialog.h"
#include "backup-schedules-page.h"

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

#define FP_NAS "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"
#define MINUTE (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define HOUR (60 * MINUTE)

static char *tmpdir;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void
iterate (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, timeout_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

/* Monday, 2 March 2026, 10:00 UTC. */
static gint64
start_time (void)
{
  g_autoptr (GDateTime) dt = g_date_time_new_utc (2026, 3, 2, 10, 0, 0);

  return g_date_time_to_unix (dt) * G_USEC_PER_SEC;
}

static gpointer
page_child (gpointer widget, const char *name)
{
  GObject *object
      = gtk_widget_get_template_child (GTK_WIDGET (widget), G_OBJECT_TYPE (widget), name);

  g_assert_nonnull (object);
  return object;
}

static void
collect (GtkWidget *widget, GType type, GPtrArray *found)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        g_ptr_array_add (found, c);
      collect (c, type, found);
    }
}

static gpointer
descendant (gpointer widget, GType type)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new ();

  collect (GTK_WIDGET (widget), type, found);
  g_assert_cmpuint (found->len, >, 0);
  return g_ptr_array_index (found, 0);
}

static void
add_device (const char *name)
{
  g_autoptr (BackupDevice) device = backup_device_new (name, FP_NAS, "/srv/sig", "device-0123");
  g_autoptr (GError) error = NULL;
  g_autofree char *stored = backup_device_add (NULL, device, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, name);
}

static void
remove_devices (void)
{
  g_autoptr (GPtrArray) devices = backup_device_list (NULL, NULL);

  for (guint i = 0; devices != NULL && i < devices->len; i++)
    g_assert_true (backup_device_remove (NULL, ((BackupDevice *)devices->pdata[i])->name, NULL));
}

static GPtrArray *
schedules_in (const char *path)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *schedules = backup_schedule_list (path, &error);

  g_assert_no_error (error);
  return schedules;
}

static const char *
subtitle_of (BackupSchedulesPage *page, const char *id)
{
  AdwActionRow *row = backup_schedules_page_get_row (page, id);

  g_assert_nonnull (row);
  return adw_action_row_get_subtitle (row);
}

#define assert_subtitle_has(page, id, text)                                                     \
  G_STMT_START                                                                                  \
  {                                                                                             \
    const char *subtitle_ = subtitle_of ((page), (id));                                         \
    if (strstr (subtitle_, (text)) == NULL)                                                     \
      g_error ("the row says “%s”, not “%s”", subtitle_, (text));                               \
  }                                                                                             \
  G_STMT_END

/* ------------------------------------------------------------------------ */
/* A run function the test ends                                             */

typedef struct
{
  GPtrArray *started; /* ids */
  GTask *task;        /* the run under way */
  guint64 bytes;
} Fake;

static void
fake_run (BackupScheduler *scheduler, const BackupSchedule *schedule, GCancellable *cancellable,
          GAsyncReadyCallback callback, gpointer callback_data, gpointer user_data)
{
  Fake *fake = user_data;

  g_assert_null (fake->task);
  g_ptr_array_add (fake->started, g_strdup (schedule->id));
  fake->task = g_task_new (scheduler, cancellable, callback, callback_data);
}

static gboolean
fake_finish (BackupScheduler *scheduler, GAsyncResult *result, guint64 *bytes, gpointer user_data,
             GError **error)
{
  Fake *fake = user_data;

  *bytes = fake->bytes;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Ends the run under way: sent @bytes, or failed with @message. */
static void
fake_end (Fake *fake, guint64 bytes, const char *message)
{
  g_autoptr (GTask) task = g_steal_pointer (&fake->task);

  g_assert_nonnull (task);
  fake->bytes = bytes;
  if (message == NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_TIMEOUT, "%s", message);
  iterate ();
}

static Fake *
fake_new (void)
{
  Fake *fake = g_new0 (Fake, 1);

  fake->started = g_ptr_array_new_with_free_func (g_free);
  return fake;
}

static void
fake_free (gpointer data)
{
  Fake *fake = data;

  g_assert_null (fake->task);
  g_ptr_array_unref (fake->started);
  g_free (fake);
}

static BackupScheduler *
new_scheduler (BackupClock *clock, const char *config, const char *state, Fake *fake)
{
  BackupScheduler *scheduler = backup_scheduler_new (clock, config, state);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GError) error = NULL;

  backup_scheduler_set_time_zone (scheduler, utc);
  backup_scheduler_set_run_func (scheduler, fake_run, fake_finish, fake, fake_free);
  g_assert_true (backup_scheduler_start (scheduler, &error));
  g_assert_no_error (error);
  return scheduler;
}

static void
toast_cb (BackupSchedulesPage *page, AdwToast *toast, gpointer user_data)
{
  g_ptr_array_add (user_data, g_object_ref (toast));
}

static GtkWindow *
window_with (BackupSchedulesPage *page, int width)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();

  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header),
                                   adw_window_title_new ("Schedules", NULL));
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (GTK_WIDGET (page), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (page));
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), width, 600);
  gtk_window_present (GTK_WINDOW (window));
  return g_object_ref (GTK_WINDOW (window));
}

static void
destroy_window (GtkWindow *window)
{
  gtk_window_destroy (window);
  iterate ();
  g_assert_finalize_object (window);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void
test_unavailable (void)
{
  GtkWidget *page = g_object_ref_sink (backup_schedules_page_new ());

  g_assert_cmpstr (backup_schedules_page_get_state (BACKUP_SCHEDULES_PAGE (page)), ==,
                   "unavailable");
  g_assert_false (gtk_widget_get_visible (page_child (page, "action_bar")));
  g_assert_finalize_object (page);
}

static void
test_empty (void)
{
  g_autoptr (BackupClock) clock = backup_clock_new_manual (start_time ());
  g_autoptr (BackupScheduler) scheduler = new_scheduler (clock, NULL, NULL, fake_new ());
  BackupSchedulesPage *page = BACKUP_SCHEDULES_PAGE (backup_schedules_page_new ());
  GtkWindow *window = window_with (page, 480);
  AdwStatusPage *status = page_child (page, "empty_status");
  GtkStack *buttons = page_child (page, "empty_button_stack");

  remove_devices ();
  backup_schedules_page_set_scheduler (page, scheduler);
  backup_schedules_page_refresh (page);
  /* No paired device: pair first. */
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "empty");
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "No Scheduled Backups");
  g_assert_nonnull (strstr (adw_status_page_get_description (status), "Pair"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (buttons), ==, "invite");
  g_assert_cmpstr (gtk_actionable_get_action_name (page_child (page, "empty_invite_button")), ==,
                   "win.invite-device");

  /* Paired: add one. */
  add_device ("nas");
  backup_schedules_page_refresh (page);
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "empty");
  g_assert_null (strstr (adw_status_page_get_description (status), "Pair"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (buttons), ==, "add");
  g_assert_cmpstr (gtk_actionable_get_action_name (page_child (page, "empty_add_button")), ==,
                   "schedules.add");
  g_assert_false (gtk_widget_get_visible (page_child (page, "action_bar")));

  /* Without a scheduler: not available. */
  backup_schedules_page_set_scheduler (page, NULL);
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "unavailable");
  destroy_window (window);
}

static void
test_flow (void)
{
  g_autoptr (BackupClock) clock = backup_clock_new_manual (start_time ());
  Fake *fake = fake_new ();
  g_autoptr (BackupScheduler) scheduler = new_scheduler (clock, NULL, NULL, fake);
  BackupSchedulesPage *page = BACKUP_SCHEDULES_PAGE (backup_schedules_page_new ());
  GtkWindow *window = window_with (page, 720);
  g_autoptr (GPtrArray) toasts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *folder = g_build_filename (tmpdir, "Photos", NULL);
  g_autofree char *file = g_build_filename (tmpdir, "thesis.pdf", NULL);
  g_autoptr (GFile) folder_file = g_file_new_for_path (folder);
  g_autoptr (GFile) file_file = g_file_new_for_path (file);
  g_autofree char *config = backup_schedule_get_default_path ();
  g_autoptr (GPtrArray) stored = NULL;
  g_autofree char *id = NULL;
  BackupScheduleDialog *dialog;
  BackupSchedule *schedule;
  GtkSwitch *toggle;
  guint n_toasts;

  remove_devices ();
  add_device ("nas");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "thesis", -1, NULL));
  g_assert_true (g_str_has_prefix (config, tmpdir));
  g_signal_connect (page, "toast", G_CALLBACK (toast_cb), toasts);
  backup_schedules_page_set_scheduler (page, scheduler);
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "empty");

  /* A schedule without a paired device is refused, with one message. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.add", NULL);
  dialog = backup_schedules_page_get_dialog (page);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (dialog)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (dialog)) == window);
  g_assert_cmpstr (backup_device_row_get_device (page_child (dialog, "device_row")), ==, "nas");
  backup_schedule_dialog_set_source (dialog, file_file, FALSE);
  g_assert_cmpstr (gtk_editable_get_text (page_child (dialog, "name_row")), ==, "thesis.pdf");
  g_assert_false (gtk_widget_get_visible (page_child (dialog, "passfile_row")));
  backup_device_row_set_device (page_child (dialog, "device_row"), NULL);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "schedule.save", NULL);
  g_assert_nonnull (backup_schedule_dialog_get_error (dialog));
  g_assert_nonnull (strstr (backup_schedule_dialog_get_error (dialog), "paired computer"));
  g_assert_true (gtk_widget_get_visible (page_child (dialog, "error_group")));
  stored = schedules_in (NULL);
  g_assert_cmpuint (stored->len, ==, 0);
  g_clear_pointer (&stored, g_ptr_array_unref);
  gtk_window_close (GTK_WINDOW (dialog));
  iterate ();
  g_assert_null (backup_schedules_page_get_dialog (page));

  /* Added through the dialog: a folder, daily at 21:30. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.add", NULL);
  dialog = backup_schedules_page_get_dialog (page);
  backup_schedule_dialog_set_source (dialog, folder_file, TRUE);
  g_assert_cmpstr (gtk_editable_get_text (page_child (dialog, "name_row")), ==, "Photos");
  g_assert_true (gtk_widget_get_visible (page_child (dialog, "passfile_row")));
  adw_combo_row_set_selected (page_child (dialog, "frequency_row"), 1);
  g_assert_true (gtk_widget_get_visible (page_child (dialog, "hour_row")));
  g_assert_false (gtk_widget_get_visible (page_child (dialog, "weekday_row")));
  gtk_spin_button_set_value (page_child (dialog, "hour_spin"), 21);
  gtk_spin_button_set_value (page_child (dialog, "minute_spin"), 30);
  /* Saved: it closes. */
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "schedule.save", NULL);
  iterate ();
  g_assert_null (dialog);
  g_assert_null (backup_schedules_page_get_dialog (page));

  stored = schedules_in (NULL);
  g_assert_cmpuint (stored->len, ==, 1);
  schedule = g_ptr_array_index (stored, 0);
  g_assert_cmpstr (schedule->name, ==, "Photos");
  g_assert_cmpstr (schedule->source, ==, folder);
  g_assert_cmpstr (schedule->device, ==, "nas");
  g_assert_null (schedule->password_file);
  g_assert_cmpint (schedule->when.kind, ==, BACKUP_SCHEDULE_DAILY);
  g_assert_cmpuint (schedule->when.hour, ==, 21);
  g_assert_cmpuint (schedule->when.minute, ==, 30);
  g_assert_true (schedule->enabled);
  g_assert_cmpint (schedule->created, ==, start_time ());
  id = g_strdup (schedule->id);
  g_clear_pointer (&stored, g_ptr_array_unref);

  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "list");
  g_assert_true (gtk_widget_get_visible (page_child (page, "action_bar")));
  g_assert_cmpstr (adw_preferences_row_get_title (
                       ADW_PREFERENCES_ROW (backup_schedules_page_get_row (page, id))),
                   ==, "Photos");
  assert_subtitle_has (page, id, "Daily at 21:30 · to nas");
  assert_subtitle_has (page, id, "Next: today at 21:30");
  g_assert_null (strstr (subtitle_of (page, id), "Last:"));

  /* On time: running, then what it did. */
  backup_clock_advance (clock, 11 * 3600 + 29 * 60);
  g_assert_cmpuint (fake->started->len, ==, 0);
  backup_clock_advance (clock, 60);
  g_assert_cmpuint (fake->started->len, ==, 1);
  assert_subtitle_has (page, id, "Running now…");
  fake_end (fake, 12345678, NULL);
  assert_subtitle_has (page, id, "Last: today at 21:30 · 12.3\xc2\xa0MB · Done");
  assert_subtitle_has (page, id, "Next: tomorrow at 21:30");
  g_assert_cmpuint (toasts->len, ==, 0);

  /* Past midnight, the words follow the clock. */
  backup_clock_advance (clock, 2 * 3600 + 30 * 60 + 30);
  assert_subtitle_has (page, id, "Next: today at 21:30");
  assert_subtitle_has (page, id, "Last: yesterday at 21:30 · 12.3\xc2\xa0MB · Done");

  /* Back Up Now: at once, and a toast when it is done. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.run-now", "s", id);
  g_assert_cmpuint (fake->started->len, ==, 2);
  assert_subtitle_has (page, id, "Running now…");
  fake_end (fake, 1000, NULL);
  assert_subtitle_has (page, id, "Last: today at 00:00 · 1.0\xc2\xa0kB · Done");
  assert_subtitle_has (page, id, "Next: today at 21:30");
  g_assert_cmpuint (toasts->len, ==, 1);
  g_assert_nonnull (strstr (adw_toast_get_title (toasts->pdata[0]), "Photos"));

  /* A failure: shown, told once, tried again after a minute. */
  backup_clock_set_now (clock, start_time () + 35 * HOUR + 30 * MINUTE);
  g_assert_cmpuint (fake->started->len, ==, 3);
  fake_end (fake, 0, "The other computer did not answer <in time>");
  assert_subtitle_has (page, id, "Failed: The other computer did not answer <in time>");
  assert_subtitle_has (page, id, "Trying again today at 21:31");
  g_assert_cmpuint (toasts->len, ==, 2);
  g_assert_nonnull (strstr (adw_toast_get_title (toasts->pdata[1]), "did not answer"));
  n_toasts = toasts->len;
  backup_clock_advance (clock, 60);
  g_assert_cmpuint (fake->started->len, ==, 4);
  fake_end (fake, 0, "The other computer did not answer <in time>");
  assert_subtitle_has (page, id, "Trying again today at 21:33");
  g_assert_cmpuint (toasts->len, ==, n_toasts);
  backup_clock_advance (clock, 2 * 60);
  g_assert_cmpuint (fake->started->len, ==, 5);
  fake_end (fake, 2048, NULL);
  assert_subtitle_has (page, id, "Last: today at 21:33 · 2.0\xc2\xa0kB · Done");
  assert_subtitle_has (page, id, "Next: tomorrow at 21:30");
  g_assert_cmpuint (toasts->len, ==, n_toasts);

  /* Disabled with its switch, and enabled again. */
  toggle = descendant (backup_schedules_page_get_row (page, id), GTK_TYPE_SWITCH);
  g_assert_true (gtk_switch_get_active (toggle));
  gtk_switch_set_active (toggle, FALSE);
  iterate ();
  assert_subtitle_has (page, id, "Disabled");
  stored = schedules_in (NULL);
  g_assert_false (((BackupSchedule *)stored->pdata[0])->enabled);
  g_clear_pointer (&stored, g_ptr_array_unref);
  toggle = descendant (backup_schedules_page_get_row (page, id), GTK_TYPE_SWITCH);
  g_assert_false (gtk_switch_get_active (toggle));
  gtk_switch_set_active (toggle, TRUE);
  iterate ();
  assert_subtitle_has (page, id, "Next: tomorrow at 21:30");

  /* Edited: 22:00 is still to come today. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.edit", "s", id);
  dialog = backup_schedules_page_get_dialog (page);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (backup_schedule_dialog_get_id (dialog), ==, id);
  g_assert_cmpstr (gtk_editable_get_text (page_child (dialog, "name_row")), ==, "Photos");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (page_child (dialog, "hour_spin")), ==, 21);
  g_assert_cmpuint (adw_combo_row_get_selected (page_child (dialog, "frequency_row")), ==, 1);
  gtk_spin_button_set_value (page_child (dialog, "hour_spin"), 22);
  gtk_spin_button_set_value (page_child (dialog, "minute_spin"), 0);
  g_assert_true (backup_schedule_dialog_save (dialog));
  iterate ();
  assert_subtitle_has (page, id, "Daily at 22:00");
  assert_subtitle_has (page, id, "Next: today at 22:00");
  assert_subtitle_has (page, id, "Last: today at 21:33");
  stored = schedules_in (NULL);
  g_assert_cmpuint (stored->len, ==, 1);
  g_assert_cmpstr (((BackupSchedule *)stored->pdata[0])->id, ==, id);
  g_assert_cmpuint (((BackupSchedule *)stored->pdata[0])->when.hour, ==, 22);
  g_clear_pointer (&stored, g_ptr_array_unref);

  /* Weekly, through the same dialog. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.edit", "s", id);
  dialog = backup_schedules_page_get_dialog (page);
  adw_combo_row_set_selected (page_child (dialog, "frequency_row"), 2);
  g_assert_true (gtk_widget_get_visible (page_child (dialog, "weekday_row")));
  adw_combo_row_set_selected (page_child (dialog, "weekday_row"), 3); /* Thursday */
  g_assert_true (backup_schedule_dialog_save (dialog));
  iterate ();
  assert_subtitle_has (page, id, "Thursdays at 22:00");
  assert_subtitle_has (page, id, "Next: Thursday at 22:00");
  /* And back to daily. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.edit", "s", id);
  dialog = backup_schedules_page_get_dialog (page);
  adw_combo_row_set_selected (page_child (dialog, "frequency_row"), 1);
  g_assert_true (backup_schedule_dialog_save (dialog));
  iterate ();

  /* Removed, and back with Undo. */
  n_toasts = toasts->len;
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.remove", "s", id);
  stored = schedules_in (config);
  g_assert_cmpuint (stored->len, ==, 0);
  g_clear_pointer (&stored, g_ptr_array_unref);
  g_assert_null (backup_schedules_page_get_row (page, id));
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "empty");
  g_assert_cmpuint (toasts->len, ==, n_toasts + 1);
  g_assert_nonnull (strstr (adw_toast_get_title (toasts->pdata[n_toasts]), "Photos"));
  g_assert_cmpstr (adw_toast_get_button_label (toasts->pdata[n_toasts]), ==, "_Undo");
  g_signal_emit_by_name (toasts->pdata[n_toasts], "button-clicked");
  iterate ();
  stored = schedules_in (config);
  g_assert_cmpuint (stored->len, ==, 1);
  g_assert_cmpstr (((BackupSchedule *)stored->pdata[0])->id, ==, id);
  g_clear_pointer (&stored, g_ptr_array_unref);
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "list");
  assert_subtitle_has (page, id, "Next: today at 22:00");
  assert_subtitle_has (page, id, "Last: today at 21:33");
  g_assert_cmpuint (fake->started->len, ==, 5);

  /* Removed for good. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.remove", "s", id);
  g_signal_emit_by_name (g_ptr_array_index (toasts, toasts->len - 1), "dismissed");
  stored = schedules_in (config);
  g_assert_cmpuint (stored->len, ==, 0);
  g_clear_pointer (&stored, g_ptr_array_unref);
  g_assert_cmpstr (backup_schedules_page_get_state (page), ==, "empty");

  destroy_window (window);
  backup_scheduler_stop (scheduler);
}

/* Two schedules, as a user sees them, rendered. */
static void
test_render (void)
{
  g_autoptr (BackupClock) clock = backup_clock_new_manual (start_time ());
  g_autofree char *config = g_build_filename (tmpdir, "render", "schedules.conf", NULL);
  g_autofree char *state = g_build_filename (tmpdir, "render", "schedules-state.conf", NULL);
  g_autofree char *folder = g_build_filename (tmpdir, "Pictures", NULL);
  g_autofree char *file = g_build_filename (tmpdir, "Thesis.odt", NULL);
  BackupScheduleWhen daily = { .kind = BACKUP_SCHEDULE_DAILY, .hour = 21, .minute = 30 };
  BackupScheduleWhen weekly
      = { .kind = BACKUP_SCHEDULE_WEEKLY, .weekday = G_DATE_MONDAY, .hour = 12, .minute = 0 };
  g_autoptr (BackupSchedule) photos = backup_schedule_new ("Photos", folder, "nas", &daily);
  g_autoptr (BackupSchedule) thesis = backup_schedule_new ("Thesis", file, "nas", &weekly);
  g_autoptr (GError) error = NULL;
  g_autofree char *photos_id = NULL;
  g_autofree char *thesis_id = NULL;
  Fake *fake = fake_new ();
  g_autoptr (BackupScheduler) scheduler = NULL;
  BackupSchedulesPage *page = BACKUP_SCHEDULES_PAGE (backup_schedules_page_new ());
  GtkWindow *window;
  BackupScheduleDialog *dialog;
  int min_width = 0;

  remove_devices ();
  add_device ("nas");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  photos->created = thesis->created = start_time () - 24 * HOUR;
  photos_id = backup_schedule_add (config, photos, &error);
  g_assert_no_error (error);
  thesis_id = backup_schedule_add (config, thesis, &error);
  g_assert_no_error (error);
  scheduler = new_scheduler (clock, config, state, fake);
  g_assert_cmpstr (backup_scheduler_get_config_path (scheduler), ==, config);
  /* Photos missed yesterday's run: it runs at once. */
  iterate ();
  backup_clock_advance (clock, 0);
  g_assert_cmpuint (fake->started->len, ==, 1);
  fake_end (fake, 12345678, NULL);
  backup_clock_advance (clock, 2 * 3600);
  g_assert_cmpuint (fake->started->len, ==, 2);
  fake_end (fake, 0, "The other computer did not answer in time");

  backup_schedules_page_set_scheduler (page, scheduler);
  window = window_with (page, 720);
  run_for (600);
  assert_subtitle_has (page, photos_id, "Daily at 21:30 · to nas");
  assert_subtitle_has (page, photos_id, "Next: today at 21:30");
  assert_subtitle_has (page, photos_id, "Last: today at 10:00 · 12.3\xc2\xa0MB · Done");
  assert_subtitle_has (page, thesis_id, "Mondays at 12:00");
  assert_subtitle_has (page, thesis_id, "Failed: The other computer did not answer in time");

  /* The page works on a phone. */
  gtk_widget_measure (GTK_WIDGET (page), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL,
                      NULL);
  g_assert_cmpint (min_width, <=, 360);

  gui_test_save_png (GTK_WIDGET (window), "schedules.png");

  /* The dialog, editing the first. */
  gtk_widget_activate_action (GTK_WIDGET (page), "schedules.edit", "s", photos_id);
  dialog = backup_schedules_page_get_dialog (page);
  g_assert_nonnull (dialog);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 480, 700);
  run_for (600);
  g_assert_true (gtk_widget_get_visible (page_child (dialog, "passfile_row")));
  gtk_widget_measure (GTK_WIDGET (dialog), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL,
                      NULL);
  g_assert_cmpint (min_width, <=, 360);
  gui_test_save_png (GTK_WIDGET (dialog), "schedule-dialog.png");

  destroy_window (window);
  backup_scheduler_stop (scheduler);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config_home = NULL;
  g_autofree char *state_home = NULL;
  int status;

  tmpdir = g_dir_make_tmp ("test-gui-schedules-XXXXXX", &error);
  g_assert_no_error (error);
  config_home = g_build_filename (tmpdir, "config", NULL);
  state_home = g_build_filename (tmpdir, "state", NULL);
  /* Before anything reads them (GLib keeps the first answer). */
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("XDG_STATE_HOME", state_home, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* English, with a dot in "12.3 MB". */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "C", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  backup_register_resource ();

  g_test_add_func ("/gui/schedules/unavailable", test_unavailable);
  g_test_add_func ("/gui/schedules/empty", test_empty);
  g_test_add_func ("/gui/schedules/flow", test_flow);
  g_test_add_func ("/gui/schedules/render", test_render);
  status = g_test_run ();

  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
