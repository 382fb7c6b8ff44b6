/* backup-cli-backup.c: backup mode of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "backup-cli-backup.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-session.h"
#include "backup-signaling-open.h"
#include "backup-store.h"

#define PROGRAM "distributed-backup"
/* Temporary files of receptions older than this go at start-up, even if a
 * receiver still holds them; those whose receiver is gone go at once. */
#define STALE_PART_AGE (24 * G_TIME_SPAN_HOUR)

typedef struct
{
  BackupOptions *options;
  GMainLoop *loop;
  GCancellable *cancellable;
  BackupSession *session;
  BackupSignalingStore *signaling;
  BackupStore *store;
  RtcConfiguration *rtc_config;
  int status;
  gboolean stop;
  int stop_signal; /* the signal that asked to stop, or 0 */
  gboolean progress_shown;
  gint64 started_us;
  gint64 last_draw_us;
} Run;

static void start_session (Run *run);

int
backup_cli_exit_status_for_signal (int signum)
{
  g_return_val_if_fail (signum > 0 && signum < 128, 1);

  return 128 + signum;
}

/* The name of the file being sent or received, shown safely. */
static char *
session_display_name (BackupSession *session)
{
  const char *name = backup_session_get_file_name (session);

  return backup_display_name (name != NULL ? name : "", -1);
}

static char *
format_duration (gint64 seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                            (int) (seconds / 60 % 60), (int) (seconds % 60));
  return g_strdup_printf ("%d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}

static void
draw_progress (Run *run, gboolean final)
{
  BackupSession *session = run->session;
  guint64 done = backup_session_get_bytes_done (session);
  gint64 total = backup_session_get_total_bytes (session);
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - run->started_us) / 1e6;
  double speed = elapsed > 0.2 ? done / elapsed : 0;
  g_autofree char *done_text = g_format_size (done);
  g_autofree char *speed_text = g_format_size ((guint64) speed);
  g_autoptr (GString) line = g_string_new ("\r");
  g_autofree char *name = NULL;

  if (!final && now - run->last_draw_us < 200000)
    return;
  run->last_draw_us = now;

  name = session_display_name (session);
  g_string_append_printf (line, "%s  ", name);
  if (total > 0)
    {
      g_autofree char *total_text = g_format_size ((guint64) total);
      int percent = (int) (done * 100 / (guint64) total);

      g_string_append_printf (line, _("%3d%%  %s of %s"), MIN (percent, 100), done_text,
                              total_text);
      if (speed > 0 && (guint64) total > done && !final)
        {
          g_autofree char *left = format_duration ((gint64) ((total - done) / speed));
          g_string_append_printf (line, _("  %s/s  %s left"), speed_text, left);
        }
      else
        g_string_append_printf (line, _("  %s/s"), speed_text);
    }
  else
    g_string_append_printf (line, _("%s  %s/s"), done_text, speed_text);
  g_string_append (line, "\033[K");
  if (final)
    g_string_append_c (line, '\n');

  fputs (line->str, stderr);
  fflush (stderr);
  run->progress_shown = !final;
}

static void
progress_cb (BackupSession *session, guint64 done, gint64 total, gpointer user_data)
{
  Run *run = user_data;

  if (run->options->show_progress)
    draw_progress (run, FALSE);
}

static void
state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Run *run = user_data;

  if (backup_session_get_state (run->session) == BACKUP_SESSION_STATE_TRANSFERRING)
    run->started_us = g_get_monotonic_time ();
}

static void
session_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  BackupSession *session = BACKUP_SESSION (object);

  if (run->progress_shown)
    draw_progress (run, TRUE);

  if (!backup_session_run_finish (session, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fprintf (stderr, "%s: %s\n", PROGRAM, error->message);
      /* Stopped by a signal: 128 + its number, as a shell reports it. */
      run->status = run->stop_signal != 0 ? backup_cli_exit_status_for_signal (run->stop_signal)
                                          : 1;
    }
  else
    {
      run->status = 0;
      if (!run->options->quiet)
        {
          g_autofree char *name = session_display_name (session);

          if (run->options->dstdir != NULL)
            {
              g_autofree char *dir = backup_display_name (run->options->dstdir, -1);

              fprintf (stderr, _("Received %s into %s\n"), name, dir);
            }
          else
            fprintf (stderr, _("Sent %s\n"), name);
        }
    }

  g_clear_object (&run->session);
  if (run->options->keep_listening && run->options->dstdir != NULL && !run->stop)
    {
      start_session (run);
      return;
    }
  g_main_loop_quit (run->loop);
}

static void
start_session (Run *run)
{
  BackupOptions *o = run->options;

  if (o->dstdir != NULL)
    {
      run->session = backup_session_new_receiver (run->signaling, o->uuid, run->rtc_config,
                                                  run->store);
    }
  else
    {
      g_autoptr (GFile) source = g_file_new_for_commandline_arg (o->srcentry);
      BackupZipEncryption encryption = BACKUP_ZIP_ENCRYPTION_AES256;

      if (g_strcmp0 (o->zip_encryption, "aes128") == 0)
        encryption = BACKUP_ZIP_ENCRYPTION_AES128;
      else if (g_strcmp0 (o->zip_encryption, "zipcrypto") == 0)
        encryption = BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO;

      run->session = backup_session_new_sender (run->signaling, o->uuid, run->rtc_config, source,
                                                o->zipdir ? o->outfile : NULL, o->password1,
                                                o->password2, encryption);
    }

  /* With --keep-listening, each backup waits as long as it takes. */
  backup_session_set_timeout (run->session,
                              o->keep_listening && o->dstdir != NULL ? 0 : o->timeout);
  run->started_us = g_get_monotonic_time ();
  g_signal_connect (run->session, "progress", G_CALLBACK (progress_cb), run);
  g_signal_connect (run->session, "notify::state", G_CALLBACK (state_cb), run);
  backup_session_run_async (run->session, run->cancellable, session_done_cb, run);
}

static void
stop_on_signal (Run *run, int signum)
{
  /* Cancelling cleans up the signaling store and any partial file; a
   * second signal while that is under way is ignored. */
  if (run->stop_signal == 0)
    run->stop_signal = signum;
  run->stop = TRUE;
  g_cancellable_cancel (run->cancellable);
}

static gboolean
on_sigint (gpointer user_data)
{
  stop_on_signal (user_data, SIGINT);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  stop_on_signal (user_data, SIGTERM);
  return G_SOURCE_CONTINUE;
}

static RtcConfiguration *
make_rtc_config (BackupOptions *o)
{
  RtcConfiguration *config = rtc_configuration_new ();
  const char *const *stun = backup_options_get_stun_servers (o);

  config->stun_servers = g_strdupv ((char **) stun);
  if (o->turn != NULL && o->turn->len > 0)
    {
      config->turn_servers = g_new0 (char *, o->turn->len + 1);
      for (guint i = 0; i < o->turn->len; i++)
        config->turn_servers[i] = g_strdup (g_ptr_array_index (o->turn, i));
    }
  if (o->ice_addresses != NULL && o->ice_addresses->len > 0)
    {
      config->local_addresses = g_new0 (char *, o->ice_addresses->len + 1);
      for (guint i = 0; i < o->ice_addresses->len; i++)
        config->local_addresses[i] = g_strdup (g_ptr_array_index (o->ice_addresses, i));
    }
  config->relay_only = o->relay_only;
  /* Also with --keep-listening, where waiting for a peer has no limit: once
   * one shows up, connecting has --timeout. */
  config->ice_timeout_ms = o->timeout * 1000;
  return config;
}

int
backup_cli_run_backup (BackupOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (BackupStore) store = NULL;
  g_autoptr (RtcConfiguration) rtc_config = NULL;
  const char *url;
  Run run = { 0 };
  guint sigint_id, sigterm_id;

  g_return_val_if_fail (options != NULL, 1);

  url = options->signaling_url != NULL ? options->signaling_url : options->signaling_dir;
  signaling = backup_signaling_open (url, options->apikey_resolved,
                                     options->signaling_ca_database, &error);
  if (signaling == NULL)
    {
      fprintf (stderr, "%s: %s\n", PROGRAM, error->message);
      return 1;
    }

  if (options->dstdir != NULL)
    {
      g_autoptr (GFile) dir = g_file_new_for_commandline_arg (options->dstdir);
      g_autoptr (GError) stale_error = NULL;

      store = backup_store_new (dir, options->versions);
      if (!backup_store_remove_stale_parts (store, STALE_PART_AGE, NULL, &stale_error))
        g_debug ("removing stale files: %s", stale_error->message);
    }

  rtc_config = make_rtc_config (options);
  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();

  run.options = options;
  run.loop = loop;
  run.cancellable = cancellable;
  run.signaling = signaling;
  run.store = store;
  run.rtc_config = rtc_config;
  run.status = 1;

  signal (SIGPIPE, SIG_IGN);
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_sigterm, &run);

  start_session (&run);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  return run.status;
}
