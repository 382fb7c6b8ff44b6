/* backup-receive-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page shows the form, or the run (BackupProgressView: waiting,
 * progress, and how it ended, until "Done"); its primary button sits in a
 * bar at the bottom, outside the scrolled form.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device-row.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-progress-view.h"
#include "backup-receive-page.h"
#include "backup-store.h"

struct _BackupReceivePage
{
  AdwBin parent_instance;

  /* Template widgets. */
  GtkStack *content_stack;
  AdwPreferencesPage *form;
  AdwPreferencesGroup *keep_group;
  AdwActionRow *dest_row;
  AdwActionRow *versions_row;
  GtkSpinButton *versions_spin;
  AdwExpanderRow *age_row;
  GtkSpinButton *hourly_spin;
  GtkSpinButton *daily_spin;
  GtkSpinButton *weekly_spin;
  GtkSpinButton *monthly_spin;
  GtkSwitch *keep_listening_switch;
  AdwPreferencesGroup *session_group;
  BackupDeviceRow *device_row;
  AdwEntryRow *receive_session_row;
  BackupProgressView *progress_view;
  GtkCheckButton *run_keep_listening_check;
  GtkActionBar *action_bar;
  GtkStack *button_stack;
  GtkButton *receive_button;
  GtkButton *cancel_button;
  GtkButton *done_button;

  GSettings *settings; /* NULL: defaults */
  char *api_key;
  GFile *destination;

  /* With a paired device chosen, the versions kept are the device's own
   * (in the paired devices file), else those of the settings. */
  gboolean policy_bound;   /* the policy rows are bound to the settings */
  gboolean showing_policy; /* the rows are being set from a device's policy */
  char *policy_device;     /* the device whose policy the rows show, or NULL */
  guint save_policy_source;

  /* Set from the moment the page waits for a backup until it stops. */
  BackupRunner *runner;
  GCancellable *cancellable;
  GApplication *application; /* held meanwhile, when there is one */
  gboolean session_seen;
  char *received_name;  /* what the last session stored, for the done state */
  char *told_failure;   /* a session's failure the desktop was told of, this run */
  gboolean showing_end; /* the run view shows how the last run ended */
};

G_DEFINE_FINAL_TYPE (BackupReceivePage, backup_receive_page, ADW_TYPE_BIN)

static void unbind_settings (BackupReceivePage *self);
static void bind_policy (BackupReceivePage *self);
static void unbind_policy (BackupReceivePage *self);

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_API_KEY,
  PROP_SESSION_ID,
  PROP_DESTINATION,
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
is_disposed (BackupReceivePage *self)
{
  return self->dest_row == NULL;
}

static void
emit_toast (BackupReceivePage *self, AdwToast *toast)
{
  if (!is_disposed (self))
    g_signal_emit (self, signals[TOAST], 0, toast);
}

static void
toast_error (BackupReceivePage *self, const GError *error)
{
  g_autoptr (AdwToast) toast = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  toast = backup_gui_toast_new (error->message);
  emit_toast (self, toast);
}

static char *
get_session_id (BackupReceivePage *self)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->receive_session_row))));
}

static void
update_sensitivity (BackupReceivePage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean busy = self->cancellable != NULL;
  g_autofree char *id = NULL;

  if (is_disposed (self))
    return;
  id = get_session_id (self);
  gtk_widget_action_set_enabled (widget, "receive.start",
                                 !busy && self->destination != NULL
                                     && (*id != '\0'
                                         || backup_device_row_get_device (self->device_row) != NULL));
  gtk_widget_action_set_enabled (widget, "receive.choose-destination", !busy);
  gtk_widget_action_set_enabled (widget, "receive.cancel", busy);
  gtk_widget_action_set_enabled (widget, "receive.done", !busy && self->showing_end);
  /* A running backup keeps what it was started with; only whether to
   * wait for another one can still change. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->dest_row), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->versions_row), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->age_row), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->session_group), !busy);
  gtk_stack_set_visible_child_name (self->content_stack,
                                    busy || self->showing_end ? "run" : "form");
  gtk_stack_set_visible_child_name (self->button_stack,
                                    busy ? "cancel" : self->showing_end ? "done" : "start");
  gtk_widget_set_visible (GTK_WIDGET (self->run_keep_listening_check), busy);
}

static void
destination_chosen (GtkWidget *widget, GFile *file)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (widget);

  backup_receive_page_set_destination (self, file);
  if (self->settings != NULL)
    {
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        g_settings_set_string (self->settings, "destination-directory", path);
    }
}

static void
choose_destination_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (widget);

  backup_gui_choose_file (widget, _("Choose Where to Keep Backups"),
                          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), self->destination,
                          NULL, destination_chosen);
}

/* ------------------------------------------------------------------------ */
/* The versions kept of a paired device                                     */

static GtkSpinButton *age_spin (BackupReceivePage *self, guint i);

/* The policy the rows show, in the form the receiver takes: without ages,
 * -v; with them, keep-last and the periods with no other bound. */
static void
get_shown_policy (BackupReceivePage *self, guint *versions, BackupRetention *retention)
{
  guint kept = (guint)CLAMP (gtk_spin_button_get_value_as_int (self->versions_spin), 1,
                             BACKUP_STORE_MAX_VERSIONS);

  *retention = (BackupRetention){ 0 };
  *versions = kept;
  if (adw_expander_row_get_enable_expansion (self->age_row))
    {
      *retention = (BackupRetention){
        .last = kept,
        .hourly = (guint)gtk_spin_button_get_value_as_int (self->hourly_spin),
        .daily = (guint)gtk_spin_button_get_value_as_int (self->daily_spin),
        .weekly = (guint)gtk_spin_button_get_value_as_int (self->weekly_spin),
        .monthly = (guint)gtk_spin_button_get_value_as_int (self->monthly_spin),
      };
      *versions = BACKUP_STORE_MAX_VERSIONS;
    }
}

/* Shows the policy of @device; one without a policy of its own shows what
 * the rows show already (the settings'), which it gets at the first
 * change. */
static void
show_device_policy (BackupReceivePage *self, const BackupDevice *device)
{
  if (device->versions == 0)
    return;
  self->showing_policy = TRUE;
  if (backup_retention_is_set (&device->retention))
    {
      guint counts[] = { device->retention.hourly, device->retention.daily,
                         device->retention.weekly, device->retention.monthly };

      gtk_spin_button_set_value (self->versions_spin, MAX (device->retention.last, 1));
      for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
        gtk_spin_button_set_value (age_spin (self, i), counts[i]);
      adw_expander_row_set_enable_expansion (self->age_row, TRUE);
    }
  else
    {
      gtk_spin_button_set_value (self->versions_spin, device->versions);
      adw_expander_row_set_enable_expansion (self->age_row, FALSE);
    }
  self->showing_policy = FALSE;
}

/* Writes the policy shown to the chosen device, if a change waits. */
static void
save_policy_now (BackupReceivePage *self)
{
  const char *device = self->policy_device;
  g_autoptr (GError) error = NULL;
  BackupRetention retention;
  guint versions;

  if (self->save_policy_source == 0)
    return;
  g_clear_handle_id (&self->save_policy_source, g_source_remove);
  if (device == NULL)
    return;
  get_shown_policy (self, &versions, &retention);
  if (!backup_device_set_policy (NULL, device, versions, &retention, &error))
    toast_error (self, error);
}

static gboolean
save_policy_cb (gpointer user_data)
{
  BackupReceivePage *self = user_data;

  save_policy_now (self);
  return G_SOURCE_REMOVE;
}

/* A row of the policy changed: with a device chosen, it is written to the
 * device once the changes pause. */
static void
policy_changed_cb (BackupReceivePage *self)
{
  if (self->showing_policy || is_disposed (self) || self->policy_device == NULL)
    return;
  g_clear_handle_id (&self->save_policy_source, g_source_remove);
  self->save_policy_source = g_timeout_add (400, save_policy_cb, self);
}

static void
device_changed_cb (BackupDeviceRow *row, GParamSpec *pspec, gpointer user_data)
{
  BackupReceivePage *self = user_data;
  const char *name = backup_device_row_get_device (row);
  g_autoptr (BackupDevice) device = NULL;

  if (is_disposed (self))
    return;
  /* What waits is written to the device it was made for. */
  save_policy_now (self);
  /* The policy as written last (the row may not have seen it yet). */
  if (name != NULL)
    {
      g_autoptr (GError) error = NULL;

      device = backup_device_find (NULL, name, &error);
      if (device == NULL)
        {
          toast_error (self, error);
          device = backup_device_copy (backup_device_row_get_device_info (row));
        }
    }
  g_free (self->policy_device);
  self->policy_device = device != NULL ? g_strdup (device->name) : NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->receive_session_row), device == NULL);
  if (device != NULL)
    {
      g_autofree char *shown = backup_display_name (device->name, -1);
      /* Translators: %s is the name of a paired device */
      g_autofree char *text = g_strdup_printf (_("Versions of the backups from “%s”"), shown);

      unbind_policy (self);
      show_device_policy (self, device);
      adw_preferences_group_set_description (self->keep_group, text);
    }
  else
    {
      adw_preferences_group_set_description (self->keep_group, NULL);
      bind_policy (self);
    }
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "receive-device", device != NULL ? device->name : "");
  update_sensitivity (self);
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */

/* The run is over: how it ended is shown until "Done". */
static void
finish_run (BackupReceivePage *self, const GError *error)
{
  gboolean cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_autofree char *folder_uri = NULL;
  g_autofree char *folder = NULL;

  if (self->runner != NULL)
    {
      GFile *destination = backup_profile_get_destination (backup_runner_get_profile (self->runner));

      folder_uri = g_file_get_uri (destination);
      folder = g_file_get_parse_name (destination);
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
          /* A session whose failure ends the run was told of already. */
          if (g_strcmp0 (error->message, self->told_failure) != 0)
            backup_gui_notify_failed (GTK_WIDGET (self), error->message);
          self->showing_end = TRUE;
        }
      else if (error == NULL && self->received_name != NULL)
        {
          /* Translators: the first %s is a file name, the second a folder */
          g_autofree char *text = g_strdup_printf (_("%s is stored in %s."), self->received_name,
                                                   folder != NULL ? folder : "");

          backup_progress_view_show_done (self->progress_view, _("Backup Received"), text,
                                          folder_uri);
          self->showing_end = TRUE;
        }
      update_sensitivity (self);
      if (self->showing_end)
        backup_gui_focus_in (GTK_WIDGET (self), GTK_WIDGET (self->done_button));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
    }
  g_clear_pointer (&self->told_failure, g_free);
  if (self->application != NULL)
    {
      g_application_release (self->application);
      g_clear_object (&self->application);
    }
}

static void
session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  BackupReceivePage *self = user_data;

  self->session_seen = TRUE;
}

static void
session_finished_cb (BackupRunner *runner, BackupSession *session, const GError *error,
                     gpointer user_data)
{
  BackupReceivePage *self = user_data;
  BackupProfile *profile = backup_runner_get_profile (runner);
  const char *file_name = backup_session_get_file_name (session);
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *folder = NULL;
  g_autoptr (AdwToast) toast = NULL;

  g_clear_pointer (&self->received_name, g_free);
  if (error != NULL)
    {
      /* Listening goes on: the failure of one backup is told in passing;
       * a run that ends with it shows it as its end. */
      if (backup_profile_get_keep_listening (profile))
        {
          toast_error (self, error);
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !is_disposed (self))
            {
              backup_gui_notify_failed (GTK_WIDGET (self), error->message);
              g_free (self->told_failure);
              self->told_failure = g_strdup (error->message);
            }
        }
      return;
    }

  name = backup_display_name (file_name, -1);
  self->received_name = g_strdup (name);
  uri = g_file_get_uri (backup_profile_get_destination (profile));
  folder = g_file_get_path (backup_profile_get_destination (profile));
  if (backup_profile_get_keep_listening (profile))
    {
      /* Translators: %s is the name of the file received */
      text = g_strdup_printf (_("Received %s"), name);
      toast = backup_gui_toast_new (text);
      adw_toast_set_button_label (toast, _("_Open Folder"));
      adw_toast_set_action_name (toast, "win.open-folder");
      adw_toast_set_action_target_value (toast, g_variant_new_string (uri));
      emit_toast (self, toast);
    }
  /* The application tells the desktop, when it knows how. */
  if (self->application != NULL && folder != NULL
      && g_action_group_has_action (G_ACTION_GROUP (self->application), "notify-received"))
    g_action_group_activate_action (
        G_ACTION_GROUP (self->application), "notify-received",
        g_variant_new ("(ss)", file_name != NULL ? file_name : "", folder));
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupReceivePage) self = user_data;
  g_autoptr (GError) error = NULL;

  backup_runner_run_finish (BACKUP_RUNNER (object), result, &error);
  finish_run (self, error);
}

static void
receive_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (widget);
  g_autofree char *id = get_session_id (self);
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (GError) error = NULL;
  GApplication *application;
  BackupRetention retention;
  guint versions;

  const char *device = backup_device_row_get_device (self->device_row);

  if (self->cancellable != NULL || self->destination == NULL || (*id == '\0' && device == NULL))
    return;

  profile = backup_gui_profile_new (BACKUP_PROFILE_ROLE_RECEIVE, self->settings, self->api_key, id);
  /* From a paired device: its session id and signaling location, and only
   * its certificate; the versions are kept as set for it. */
  if (device != NULL && !backup_profile_load_device (profile, device, NULL, &error))
    {
      backup_progress_view_show_failed (self->progress_view, error->message);
      self->showing_end = TRUE;
      update_sensitivity (self);
      return;
    }
  save_policy_now (self);
  backup_profile_set_destination (profile, self->destination);
  /* With ages, the versions kept become the newest kept, and the periods
   * add theirs, without another bound. */
  get_shown_policy (self, &versions, &retention);
  backup_profile_set_versions (profile, versions);
  backup_profile_set_retention (profile, &retention);
  backup_profile_set_keep_listening (profile, gtk_switch_get_active (self->keep_listening_switch));
  g_clear_pointer (&self->received_name, g_free);
  if (!backup_profile_validate (profile, &error))
    {
      /* Nothing ran: the failed state says why, with Retry. */
      backup_progress_view_show_failed (self->progress_view, error->message);
      self->showing_end = TRUE;
      update_sensitivity (self);
      return;
    }
  if (self->settings != NULL && device == NULL)
    g_settings_set_string (self->settings, "session-id", id);

  /* The runner first removes what crashed receptions left in the folder,
   * then waits for the other computer. */
  self->runner = backup_runner_new (profile);
  self->cancellable = g_cancellable_new ();
  self->session_seen = FALSE;
  self->showing_end = FALSE;
  g_signal_connect (self->runner, "session-started", G_CALLBACK (session_started_cb), self);
  g_signal_connect (self->runner, "session-finished", G_CALLBACK (session_finished_cb), self);
  backup_progress_view_set_runner (self->progress_view, self->runner);
  /* The application stays until the run is over, even without a window:
   * a cancelled session still cleans up the signaling store. */
  application = backup_gui_get_application (widget);
  if (application != NULL)
    {
      self->application = g_object_ref (application);
      g_application_hold (application);
    }
  update_sensitivity (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
  backup_runner_run_async (self->runner, self->cancellable, run_done_cb, g_object_ref (self));
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  backup_receive_page_cancel (BACKUP_RECEIVE_PAGE (widget));
}

static void
done_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (widget);

  if (self->cancellable != NULL)
    return;
  self->showing_end = FALSE;
  update_sensitivity (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->receive_button));
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
keep_listening_changed_cb (GtkSwitch *button, GParamSpec *pspec, gpointer user_data)
{
  BackupReceivePage *self = user_data;

  /* Turned off while listening: the run ends after the current backup. */
  if (self->runner != NULL)
    backup_profile_set_keep_listening (backup_runner_get_profile (self->runner),
                                       gtk_switch_get_active (button));
}

static void
session_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupReceivePage *self = user_data;

  update_sensitivity (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION_ID]);
}

static void
session_activate_cb (AdwEntryRow *row, gpointer user_data)
{
  gtk_widget_activate_action (GTK_WIDGET (user_data), "receive.start", NULL);
}

static void
backup_receive_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_SESSION_ID:
      g_value_set_string (value, backup_receive_page_get_session_id (self));
      break;
    case PROP_DESTINATION:
      g_value_set_object (value, self->destination);
      break;
    case PROP_RUNNER:
      g_value_set_object (value, self->runner);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_receive_page_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      backup_receive_page_set_settings (self, g_value_get_object (value));
      break;
    case PROP_API_KEY:
      backup_receive_page_set_api_key (self, g_value_get_string (value));
      break;
    case PROP_SESSION_ID:
      backup_receive_page_set_session_id (self, g_value_get_string (value));
      break;
    case PROP_DESTINATION:
      backup_receive_page_set_destination (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_receive_page_dispose (GObject *object)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (object);

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
  backup_gui_close_chooser (GTK_WIDGET (self));
  if (!is_disposed (self))
    save_policy_now (self);
  g_clear_handle_id (&self->save_policy_source, g_source_remove);
  if (self->settings != NULL)
    unbind_settings (self);
  g_clear_object (&self->settings);
  g_clear_object (&self->destination);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_RECEIVE_PAGE);

  G_OBJECT_CLASS (backup_receive_page_parent_class)->dispose (object);
}

static void
backup_receive_page_finalize (GObject *object)
{
  BackupReceivePage *self = BACKUP_RECEIVE_PAGE (object);

  g_clear_pointer (&self->api_key, g_free);
  g_free (self->policy_device);
  g_free (self->received_name);
  g_free (self->told_failure);

  G_OBJECT_CLASS (backup_receive_page_parent_class)->finalize (object);
}

static void
backup_receive_page_class_init (BackupReceivePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_receive_page_get_property;
  object_class->set_property = backup_receive_page_set_property;
  object_class->dispose = backup_receive_page_dispose;
  object_class->finalize = backup_receive_page_finalize;

  properties[PROP_SETTINGS]
      = g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_API_KEY] = g_param_spec_string ("api-key", NULL, NULL, NULL,
                                                  G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_ID]
      = g_param_spec_string ("session-id", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESTINATION]
      = g_param_spec_object ("destination", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNER] = g_param_spec_object ("runner", NULL, NULL, BACKUP_TYPE_RUNNER,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupReceivePage::toast:
   * @toast: a message for the user
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-receive-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, form);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, keep_group);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, dest_row);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, versions_row);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, versions_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, age_row);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, hourly_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, daily_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, weekly_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, monthly_spin);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, keep_listening_switch);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, session_group);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, device_row);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, receive_session_row);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, progress_view);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, run_keep_listening_check);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, action_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, button_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, receive_button);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, BackupReceivePage, done_button);
  gtk_widget_class_bind_template_callback (widget_class, keep_listening_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, session_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, session_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, device_changed_cb);

  gtk_widget_class_install_action (widget_class, "receive.choose-destination", NULL,
                                   choose_destination_action);
  gtk_widget_class_install_action (widget_class, "receive.start", NULL, receive_action);
  gtk_widget_class_install_action (widget_class, "receive.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "receive.done", NULL, done_action);
}

static void
backup_receive_page_init (BackupReceivePage *self)
{
  const char *downloads = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  g_autoptr (GFile) destination = NULL;

  g_type_ensure (BACKUP_TYPE_PROGRESS_VIEW);
  g_type_ensure (BACKUP_TYPE_DEVICE_ROW);
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Each change of the policy rows, for a paired device's policy. */
  g_signal_connect_swapped (gtk_spin_button_get_adjustment (self->versions_spin), "value-changed",
                            G_CALLBACK (policy_changed_cb), self);
  g_signal_connect_swapped (self->age_row, "notify::enable-expansion",
                            G_CALLBACK (policy_changed_cb), self);
  for (guint i = 0; i < 4; i++)
    g_signal_connect_swapped (gtk_spin_button_get_adjustment (age_spin (self, i)),
                              "value-changed", G_CALLBACK (policy_changed_cb), self);
  backup_progress_view_set_retry_action (self->progress_view, "receive.start");
  /* While it runs, the run view has its own Keep Listening. */
  g_object_bind_property (self->keep_listening_switch, "active", self->run_keep_listening_check,
                          "active", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  destination = g_file_new_for_path (downloads != NULL ? downloads : g_get_home_dir ());
  backup_receive_page_set_destination (self, destination);
}

GtkWidget *
backup_receive_page_new (void)
{
  return g_object_new (BACKUP_TYPE_RECEIVE_PAGE, NULL);
}

/* The periods of "Keep Older Versions by Age" and their keys. */
static const char *const age_keys[] = { "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly" };

static GtkSpinButton *
age_spin (BackupReceivePage *self, guint i)
{
  GtkSpinButton *spins[] = { self->hourly_spin, self->daily_spin, self->weekly_spin,
                             self->monthly_spin };

  return spins[i];
}

static void
unbind_policy (BackupReceivePage *self)
{
  if (!self->policy_bound)
    return;
  self->policy_bound = FALSE;
  g_settings_unbind (gtk_spin_button_get_adjustment (self->versions_spin), "value");
  g_settings_unbind (self->age_row, "enable-expansion");
  for (guint i = 0; i < G_N_ELEMENTS (age_keys); i++)
    g_settings_unbind (gtk_spin_button_get_adjustment (age_spin (self, i)), "value");
}

/* The policy rows show and change the settings' (the receiver's own, for
 * any computer with the session id). */
static void
bind_policy (BackupReceivePage *self)
{
  if (self->policy_bound || self->settings == NULL)
    return;
  self->policy_bound = TRUE;
  g_settings_bind (self->settings, "versions", gtk_spin_button_get_adjustment (self->versions_spin),
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "keep-by-age", self->age_row, "enable-expansion",
                   G_SETTINGS_BIND_DEFAULT);
  for (guint i = 0; i < G_N_ELEMENTS (age_keys); i++)
    g_settings_bind (self->settings, age_keys[i],
                     gtk_spin_button_get_adjustment (age_spin (self, i)), "value",
                     G_SETTINGS_BIND_DEFAULT);
}

static void
unbind_settings (BackupReceivePage *self)
{
  unbind_policy (self);
}

void
backup_receive_page_set_settings (BackupReceivePage *self, GSettings *settings)
{

  g_return_if_fail (BACKUP_IS_RECEIVE_PAGE (self));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  if (self->settings == settings || is_disposed (self))
    return;
  if (self->settings != NULL)
    unbind_settings (self);
  g_set_object (&self->settings, settings);
  if (settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (settings, "session-id");
      g_autofree char *path = g_settings_get_string (settings, "destination-directory");

      g_autofree char *device = g_settings_get_string (settings, "receive-device");

      backup_receive_page_set_session_id (self, id);
      /* The rows show the settings' policy, or the device's. */
      bind_policy (self);
      backup_device_row_set_device (self->device_row, device);
      if (*path != '\0')
        {
          g_autoptr (GFile) destination = g_file_new_for_path (path);

          backup_receive_page_set_destination (self, destination);
        }
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SETTINGS]);
}

void
backup_receive_page_set_api_key (BackupReceivePage *self, const char *api_key)
{
  g_return_if_fail (BACKUP_IS_RECEIVE_PAGE (self));

  g_free (self->api_key);
  self->api_key = g_strdup (api_key);
}

const char *
backup_receive_page_get_session_id (BackupReceivePage *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVE_PAGE (self), NULL);

  if (is_disposed (self))
    return NULL;
  return gtk_editable_get_text (GTK_EDITABLE (self->receive_session_row));
}

void
backup_receive_page_set_session_id (BackupReceivePage *self, const char *session_id)
{
  g_return_if_fail (BACKUP_IS_RECEIVE_PAGE (self));

  if (!is_disposed (self))
    gtk_editable_set_text (GTK_EDITABLE (self->receive_session_row),
                           session_id != NULL ? session_id : "");
}

GFile *
backup_receive_page_get_destination (BackupReceivePage *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVE_PAGE (self), NULL);

  return self->destination;
}

void
backup_receive_page_set_destination (BackupReceivePage *self, GFile *destination)
{
  g_return_if_fail (BACKUP_IS_RECEIVE_PAGE (self));
  g_return_if_fail (destination == NULL || G_IS_FILE (destination));

  if (is_disposed (self) || !g_set_object (&self->destination, destination))
    return;
  backup_gui_row_set_file (self->dest_row, destination, _("Nothing chosen"));
  update_sensitivity (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESTINATION]);
}

BackupRunner *
backup_receive_page_get_runner (BackupReceivePage *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVE_PAGE (self), NULL);

  return self->runner;
}

void
backup_receive_page_cancel (BackupReceivePage *self)
{
  g_return_if_fail (BACKUP_IS_RECEIVE_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
backup_receive_page_get_showing_end (BackupReceivePage *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVE_PAGE (self), FALSE);

  return self->showing_end;
}
