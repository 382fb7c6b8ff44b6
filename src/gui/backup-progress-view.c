/* backup-progress-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-progress-view.h"

/* Progress is redrawn at most this often (microseconds). */
#define PROGRESS_INTERVAL_US 100000

struct _BackupProgressView
{
  AdwBin parent_instance;

  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkLabel *detail_label;

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
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_receiving (BackupProgressView *self)
{
  return backup_profile_get_role (backup_runner_get_profile (self->runner))
         == BACKUP_PROFILE_ROLE_RECEIVE;
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
          g_autofree char *left = format_duration ((gint64)((total - done) / speed));

          /* Translators: bytes done, total, speed and time left (hours:minutes:seconds or
             minutes:seconds): "120 MB of 300 MB — 80 MB/s — 0:03 left" */
          detail = g_strdup_printf (_("%s of %s — %s/s — %s left"), done_text, total_text,
                                    speed_text, left);
        }
      else
        /* Translators: "120 MB of 300 MB" */
        detail = g_strdup_printf (_("%s of %s"), done_text, total_text);
    }
  else
    {
      gtk_progress_bar_pulse (self->progress_bar);
      /* Translators: bytes done and speed: "120 MB — 80 MB/s" */
      detail = g_strdup_printf (_("%s — %s/s"), done_text, speed_text);
    }
  gtk_label_set_label (self->detail_label, detail);
}

static void
session_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupProgressView *self = user_data;
  BackupSessionState state = backup_session_get_state (BACKUP_SESSION (object));
  gboolean receiving = is_receiving (self);
  const char *text = NULL;

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
      text = receiving ? _("Receiving…") : _("Sending…");
      break;
    case BACKUP_SESSION_STATE_FINISHING:
      text = receiving ? _("Storing…") : _("Waiting for confirmation…");
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
  update_progress (user_data, FALSE);
}

/* What a run or a session shows before anything happened. */
static void
show_start (BackupProgressView *self)
{
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_label_set_label (self->status_label, is_receiving (self)
                                               ? _("Waiting for the other computer…")
                                               : _("Preparing…"));
  gtk_label_set_label (self->detail_label, "");
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
  session_state_cb (G_OBJECT (session), NULL, self);
}

static void
session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  BackupProgressView *self = user_data;

  show_start (self);
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
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-progress-view.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, status_label);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupProgressView, detail_label);
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
      show_start (self);
      set_session (self, backup_runner_get_session (runner));
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
}

const char *
backup_progress_view_get_status (BackupProgressView *self)
{
  g_return_val_if_fail (BACKUP_IS_PROGRESS_VIEW (self), NULL);

  return gtk_label_get_label (self->status_label);
}
