/* backup-progress-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-progress-view.h"

/* Progress is redrawn at most this often (microseconds). */
#define PROGRESS_INTERVAL_US 100000

struct _BackupProgressView
{
  AdwBin parent_instance;

  /* Template widgets. */
  GtkStack *state_stack;
  AdwStatusPage *waiting_status;
  GtkSpinner *spinner;
  AdwStatusPage *progress_status;
  GtkProgressBar *progress_bar;
  GtkLabel *size_label;
  GtkLabel *speed_label;
  AdwStatusPage *done_status;
  GtkWidget *open_folder_button;
  AdwStatusPage *failed_status;
  GtkLabel *error_label;
  GtkWidget *retry_button;
  GtkWidget *preferences_button;

  BackupRunner *runner;
  BackupSession *session; /* the runner's session under way, or NULL */
  gint64 started_us;
  gint64 last_update_us;
};

G_DEFINE_FINAL_TYPE (BackupProgressView, backup_progress_view, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_RUNNER,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_receiving (BackupProgressView *self)
{
  return self->runner != NULL
         && backup_profile_get_role (backup_runner_get_profile (self->runner))
                == BACKUP_PROFILE_ROLE_RECEIVE;
}

static void
show_state (BackupProgressView *self, const char *state)
{
  /* A spinner turns only while it is seen. */
  gtk_spinner_set_spinning (self->spinner, g_str_equal (state, "waiting"));
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->state_stack), state) == 0)
    return;
  gtk_stack_set_visible_child_name (self->state_stack, state);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* A status page's description is markup: @text is shown as it is. */
static void
set_description (AdwStatusPage *page, const char *text)
{
  g_autofree char *markup = text != NULL ? g_markup_escape_text (text, -1) : NULL;

  adw_status_page_set_description (page, markup);
}

/* "1:02:03" or "2:03". */
static char *
format_duration (gint64 seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", (int)(seconds / 3600), (int)(seconds / 60 % 60),
                            (int)(seconds % 60));
  return g_strdup_printf ("%d:%02d", (int)(seconds / 60), (int)(seconds % 60));
}

/* The name of the file of the session, as it may be shown. */
static char *
session_name (BackupProgressView *self)
{
  const char *name = self->session != NULL ? backup_session_get_file_name (self->session) : NULL;
  GFile *source;

  if (name != NULL)
    return backup_display_name (name, -1);
  source = self->runner != NULL ? backup_profile_get_source (backup_runner_get_profile (self->runner))
                                : NULL;
  if (source != NULL)
    {
      g_autofree char *base = g_file_get_basename (source);

      return backup_display_name (base, -1);
    }
  return NULL;
}

static void
update_title (BackupProgressView *self, gboolean finishing)
{
  g_autofree char *name = session_name (self);
  g_autofree char *title = NULL;
  gboolean receiving = is_receiving (self);

  if (name == NULL)
    title = g_strdup (finishing ? (receiving ? _("Storing the Backup") : _("Waiting for Confirmation"))
                                : (receiving ? _("Receiving a Backup") : _("Sending the Backup")));
  else if (finishing)
    /* Translators: %s is a file name */
    title = g_strdup_printf (receiving ? _("Storing %s") : _("Waiting for Confirmation of %s"),
                             name);
  else
    /* Translators: %s is a file name */
    title = g_strdup_printf (receiving ? _("Receiving %s") : _("Sending %s"), name);
  adw_status_page_set_title (self->progress_status, title);
  adw_status_page_set_icon_name (self->progress_status, receiving ? "folder-download-symbolic"
                                                                  : "document-send-symbolic");
}

static void
update_progress (BackupProgressView *self, gboolean force)
{
  guint64 done = backup_session_get_bytes_done (self->session);
  gint64 total = backup_session_get_total_bytes (self->session);
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - self->started_us) / 1e6;
  double speed = elapsed > 0.5 ? done / elapsed : 0;
  g_autofree char *done_text = NULL;
  g_autofree char *speed_text = NULL;
  g_autofree char *size = NULL;
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
      /* Translators: bytes done and in all: "120 MB of 300 MB" */
      size = g_strdup_printf (_("%s of %s"), done_text, total_text);
      if (speed > 0 && (guint64)total > done)
        {
          g_autofree char *left = format_duration ((gint64)((total - done) / speed));

          /* Translators: speed and time left (hours:minutes:seconds or minutes:seconds):
             "80 MB/s — 0:03 left" */
          detail = g_strdup_printf (_("%s/s — %s left"), speed_text, left);
        }
      else if (speed > 0)
        /* Translators: a speed: "80 MB/s" */
        detail = g_strdup_printf (_("%s/s"), speed_text);
    }
  else
    {
      gtk_progress_bar_pulse (self->progress_bar);
      size = g_strdup (done_text);
      if (speed > 0)
        detail = g_strdup_printf (_("%s/s"), speed_text);
    }
  gtk_label_set_label (self->size_label, size);
  if (backup_session_get_reconnecting (self->session))
    gtk_label_set_label (self->speed_label,
                         _("Connection lost — looking for a new path to the other computer…"));
  else
    gtk_label_set_label (self->speed_label, detail != NULL ? detail : "");
}

/* The waiting state, with @title and what the user may do meanwhile. */
static void
show_waiting (BackupProgressView *self, const char *title)
{
  BackupProfile *profile = backup_runner_get_profile (self->runner);
  g_autofree char *description = NULL;

  if (is_receiving (self))
    /* Translators: %s is the session id */
    description = g_strdup_printf (_("On the other computer, send a backup with the session ID %s."),
                                   backup_profile_get_session_id (profile));
  else
    /* Translators: %s is the session id */
    description = g_strdup_printf (_("On the other computer, wait for a backup with the session ID %s."),
                                   backup_profile_get_session_id (profile));
  adw_status_page_set_title (self->waiting_status, title);
  set_description (self->waiting_status, description);
  adw_status_page_set_icon_name (self->waiting_status, NULL);
  show_state (self, "waiting");
}

static void
session_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupProgressView *self = user_data;
  BackupSessionState state = backup_session_get_state (BACKUP_SESSION (object));
  gboolean receiving = is_receiving (self);

  switch (state)
    {
    case BACKUP_SESSION_STATE_PAIRING:
      show_waiting (self, receiving ? _("Waiting for a Backup")
                                    : _("Waiting for the Other Computer"));
      break;
    case BACKUP_SESSION_STATE_CONNECTING:
      show_waiting (self, _("Connecting…"));
      break;
    case BACKUP_SESSION_STATE_TRANSFERRING:
      self->started_us = g_get_monotonic_time ();
      self->last_update_us = 0;
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      update_title (self, FALSE);
      update_progress (self, TRUE);
      show_state (self, "progress");
      break;
    case BACKUP_SESSION_STATE_FINISHING:
      update_title (self, TRUE);
      update_progress (self, TRUE);
      show_state (self, "progress");
      break;
    case BACKUP_SESSION_STATE_IDLE:
    case BACKUP_SESSION_STATE_DONE:
    case BACKUP_SESSION_STATE_FAILED:
    default:
      break;
    }
}

static void
session_reconnecting_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupProgressView *self = user_data;

  if (g_str_equal (gtk_stack_get_visible_child_name (self->state_stack), "progress"))
    update_progress (self, TRUE);
}

static void
session_progress_cb (BackupSession *session, guint64 done, gint64 total, gpointer user_data)
{
  BackupProgressView *self = user_data;

  /* The receiver learns the name with the first data. */
  if (g_str_equal (gtk_stack_get_visible_child_name (self->state_stack), "progress")
      && self->last_update_us == 0)
    update_title (self, FALSE);
  update_progress (self, FALSE);
}

static void
set_session (BackupProgressView *self, BackupSession *session)
{
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_clear_object (&self->session);
    }
  if (session == NULL)
    return;

  self->session = g_object_ref (session);
  self->started_us = g_get_monotonic_time ();
  self->last_update_us = 0;
  g_signal_connect (session, "notify::state", G_CALLBACK (session_state_cb), self);
  g_signal_connect (session, "progress", G_CALLBACK (session_progress_cb), self);
  g_signal_connect (session, "notify::reconnecting", G_CALLBACK (session_reconnecting_cb), self);
  session_state_cb (G_OBJECT (session), NULL, self);
}

static void
session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  BackupProgressView *self = user_data;

  show_waiting (self, _("Preparing…"));
  set_session (self, session);
}

static void
session_finished_cb (BackupRunner *runner, BackupSession *session, const GError *error,
                     gpointer user_data)
{
  BackupProgressView *self = user_data;

  if (session != self->session)
    return;
  if (error == NULL)
    update_progress (self, TRUE);
  set_session (self, NULL);
  /* A receiver that keeps listening waits for the next one. */
  if (is_receiving (self) && backup_profile_get_keep_listening (backup_runner_get_profile (runner)))
    show_waiting (self, _("Waiting for a Backup"));
}

static void
backup_progress_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupProgressView *self = BACKUP_PROGRESS_VIEW (object);

  switch (prop_id)
    {
    case PROP_RUNNER:
      g_value_set_object (value, self->runner);
      break;
    case PROP_STATE:
      g_value_set_string (value, backup_progress_view_get_state (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_progress_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                   GParamSpec *pspec)
{
  BackupProgressView *self = BACKUP_PROGRESS_VIEW (object);

  switch (prop_id)
    {
    case PROP_RUNNER:
      backup_progress_view_set_runner (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_progress_view_dispose (GObject *object)
{
  BackupProgressView *self = BACKUP_PROGRESS_VIEW (object);

  set_session (self, NULL);
  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      g_clear_object (&self->runner);
    }
  /* The bin's child is a template child: it goes once, with the bin's
   * own reference, before the template lets go of the others. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_PROGRESS_VIEW);

  G_OBJECT_CLASS (backup_progress_view_parent_class)->dispose (object);
}

static void
backup_progress_view_class_init (BackupProgressViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_progress_view_get_property;
  object_class->set_property = backup_progress_view_set_property;
  object_class->dispose = backup_progress_view_dispose;

  properties[PROP_RUNNER]
      = g_param_spec_object ("runner", NULL, NULL, BACKUP_TYPE_RUNNER,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-progress-view.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, state_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, waiting_status);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, spinner);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, progress_status);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, size_label);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, speed_label);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, done_status);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, open_folder_button);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, failed_status);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, error_label);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, retry_button);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, preferences_button);
}

static void
backup_progress_view_init (BackupProgressView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
backup_progress_view_new (void)
{
  return g_object_new (BACKUP_TYPE_PROGRESS_VIEW, NULL);
}

BackupRunner *
backup_progress_view_get_runner (BackupProgressView *self)
{
  g_return_val_if_fail (BACKUP_IS_PROGRESS_VIEW (self), NULL);

  return self->runner;
}

void
backup_progress_view_set_runner (BackupProgressView *self, BackupRunner *runner)
{
  g_return_if_fail (BACKUP_IS_PROGRESS_VIEW (self));
  g_return_if_fail (runner == NULL || BACKUP_IS_RUNNER (runner));

  if (self->runner == runner)
    return;

  set_session (self, NULL);
  if (self->runner != NULL)
    g_signal_handlers_disconnect_by_data (self->runner, self);
  g_set_object (&self->runner, runner);
  if (runner != NULL)
    {
      g_signal_connect (runner, "session-started", G_CALLBACK (session_started_cb), self);
      g_signal_connect (runner, "session-finished", G_CALLBACK (session_finished_cb), self);
      show_waiting (self, is_receiving (self) ? _("Waiting for a Backup") : _("Preparing…"));
      set_session (self, backup_runner_get_session (runner));
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
}

void
backup_progress_view_show_done (BackupProgressView *self, const char *title,
                                const char *description, const char *folder_uri)
{
  g_return_if_fail (BACKUP_IS_PROGRESS_VIEW (self));
  g_return_if_fail (title != NULL);

  adw_status_page_set_title (self->done_status, title);
  set_description (self->done_status, description);
  gtk_widget_set_visible (self->open_folder_button, folder_uri != NULL);
  if (folder_uri != NULL)
    {
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->open_folder_button),
                                              g_variant_new_string (folder_uri));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->open_folder_button),
                                      "win.open-folder");
    }
  show_state (self, "done");
}

void
backup_progress_view_show_failed (BackupProgressView *self, const char *message)
{
  g_return_if_fail (BACKUP_IS_PROGRESS_VIEW (self));
  g_return_if_fail (message != NULL);

  gtk_label_set_label (self->error_label, message);
  show_state (self, "failed");
}

void
backup_progress_view_set_retry_action (BackupProgressView *self, const char *action_name)
{
  g_return_if_fail (BACKUP_IS_PROGRESS_VIEW (self));

  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->retry_button), action_name);
}

const char *
backup_progress_view_get_state (BackupProgressView *self)
{
  g_return_val_if_fail (BACKUP_IS_PROGRESS_VIEW (self), NULL);

  return gtk_stack_get_visible_child_name (self->state_stack);
}

static AdwStatusPage *
visible_status (BackupProgressView *self)
{
  return ADW_STATUS_PAGE (gtk_stack_get_visible_child (self->state_stack));
}

const char *
backup_progress_view_get_status (BackupProgressView *self)
{
  g_return_val_if_fail (BACKUP_IS_PROGRESS_VIEW (self), NULL);

  return adw_status_page_get_title (visible_status (self));
}

char *
backup_progress_view_dup_details (BackupProgressView *self)
{
  const char *state;
  const char *markup;
  char *text = NULL;

  g_return_val_if_fail (BACKUP_IS_PROGRESS_VIEW (self), NULL);

  state = backup_progress_view_get_state (self);
  if (g_str_equal (state, "progress"))
    return g_strjoin ("\n", gtk_label_get_label (self->size_label),
                      gtk_label_get_label (self->speed_label), NULL);
  if (g_str_equal (state, "failed"))
    return g_strdup (gtk_label_get_label (self->error_label));
  markup = adw_status_page_get_description (visible_status (self));
  if (markup == NULL || !pango_parse_markup (markup, -1, 0, NULL, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}
