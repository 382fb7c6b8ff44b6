/* backup-cli-backup.c: backup mode of the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "backup-cli-backup.h"
#include "backup-cli-signals.h"
#include "backup-discovery.h"
#include "backup-nearby.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-receiver-pool.h"
#include "backup-runner.h"
#include "backup-s3-store.h"

#define PROGRAM "distributed-backup"

typedef struct
{
  BackupOptions *options;
  GMainLoop *loop;
  GCancellable *cancellable;
  BackupProfile *profile;
  BackupRunner *runner;
  BackupSession *session; /* the one under way */
  gboolean session_seen;
  int status;
  BackupCliSignals signals;
  gboolean progress_shown;
  gint64 started_us;
  gint64 last_draw_us;
} Run;

/* The name of the file being sent or received, shown safely. */
static char *
session_display_name (BackupSession *session)
{
  const char *name = backup_session_get_file_name (session);

  return backup_display_name (name != NULL ? name : "", -1);
}

char *
backup_cli_format_duration (gint64 seconds)
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
  /* What an interrupted transfer kept arrived before this run. */
  guint64 moved = done - MIN (done, backup_session_get_resumed_bytes (session));
  double speed = elapsed > 0.2 ? moved / elapsed : 0;
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
          g_autofree char *left = backup_cli_format_duration ((gint64) ((total - done) / speed));
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

/* One line on standard error; a message may carry what a peer sent. A
 * cancellation is the user's own doing and is not reported. */
static void
print_failure (const GError *error)
{
  g_autofree char *shown = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  shown = backup_display_name (error->message, -1);
  fprintf (stderr, "%s: %s\n", PROGRAM, shown);
}

/* A line of its own, over the progress line if one is shown (it is drawn
 * again with the next progress). */
static void
reconnecting_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Run *run = user_data;

  if (run->options->quiet)
    return;
  if (run->progress_shown)
    fputs ("\r\033[K", stderr);
  if (backup_session_get_reconnecting (run->session))
    fprintf (stderr, "%s\n", _("The connection was lost; looking for a new path to the other computer…"));
  else
    fprintf (stderr, "%s\n", _("Connected again; the backup goes on"));
  fflush (stderr);
}

static void
session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  Run *run = user_data;

  run->session = session;
  run->session_seen = TRUE;
  run->started_us = g_get_monotonic_time ();
  g_signal_connect (session, "progress", G_CALLBACK (progress_cb), run);
  g_signal_connect (session, "notify::state", G_CALLBACK (state_cb), run);
  g_signal_connect (session, "notify::reconnecting", G_CALLBACK (reconnecting_cb), run);
}

static void
session_finished_cb (BackupRunner *runner,
                     BackupSession *session,
                     const GError *error,
                     gpointer user_data)
{
  Run *run = user_data;

  if (run->progress_shown)
    draw_progress (run, TRUE);
  g_signal_handlers_disconnect_by_data (session, run);
  run->session = NULL;

  if (error != NULL)
    print_failure (error);
  else if (!run->options->quiet)
    {
      g_autofree char *name = session_display_name (session);

      GFile *destination = backup_profile_get_destination (run->profile);
      BackupStorage *storage = backup_profile_get_storage (run->profile);

      if (destination != NULL || storage != NULL)
        {
          g_autofree char *path = destination != NULL ? g_file_get_parse_name (destination)
                                                      : backup_storage_describe (storage);
          g_autofree char *dir = backup_display_name (
              run->options->dstdir != NULL ? run->options->dstdir : path, -1);

          fprintf (stderr, _("Received %s into %s\n"), name, dir);
        }
      else
        fprintf (stderr, _("Sent %s\n"), name);
      if (backup_session_get_resumed_bytes (session) > 0)
        {
          g_autofree char *kept = g_format_size (backup_session_get_resumed_bytes (session));

          /* TRANSLATORS: %s is a size, e.g. "150.2 MB" */
          fprintf (stderr, _("Resumed an interrupted transfer: its first %s were not sent again\n"),
                   kept);
        }
    }
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  if (backup_runner_run_finish (BACKUP_RUNNER (object), result, &error))
    run->status = 0;
  else if (run->signals.received != 0)
    /* Stopped by a signal: 128 + its number, as a shell reports it. */
    run->status = backup_cli_exit_status_for_signal (run->signals.received);
  else
    {
      /* A session reported its own failure; what failed before any
       * session (the signaling store) is reported here. */
      if (!run->session_seen)
        print_failure (error);
      run->status = 1;
    }
  g_main_loop_quit (run->loop);
}

/* The profile of this run, from options that backup_options_validate()
 * accepted. */
static BackupProfile *
make_profile (BackupOptions *o)
{
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (GPtrArray) turn = g_ptr_array_new ();
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();

  profile = backup_profile_new (o->dstdir != NULL ? BACKUP_PROFILE_ROLE_RECEIVE
                                                  : BACKUP_PROFILE_ROLE_SEND);
  backup_profile_set_session_id (profile, o->uuid);
  backup_profile_set_signaling (profile, o->signaling_url != NULL ? o->signaling_url
                                                                  : o->signaling_dir);
  backup_profile_set_api_key (profile, o->apikey_resolved);
  backup_profile_set_signaling_trust (profile, o->signaling_ca_database);

  backup_profile_set_stun_servers (profile, backup_options_get_stun_servers (o));
  for (guint i = 0; i < o->turn->len; i++)
    g_ptr_array_add (turn, g_ptr_array_index (o->turn, i));
  g_ptr_array_add (turn, NULL);
  backup_profile_set_turn_servers (profile, (const char *const *) turn->pdata);
  for (guint i = 0; i < o->ice_addresses->len; i++)
    g_ptr_array_add (addresses, g_ptr_array_index (o->ice_addresses, i));
  g_ptr_array_add (addresses, NULL);
  backup_profile_set_ice_addresses (profile, (const char *const *) addresses->pdata);
  backup_profile_set_relay_only (profile, o->relay_only);
  backup_profile_set_timeout (profile, o->timeout);

  if (o->dstdir != NULL)
    {
      g_autoptr (GFile) destination = NULL;

      if (o->storage != NULL)
        backup_profile_set_storage (profile, o->storage);
      else
        destination = g_file_new_for_commandline_arg (o->dstdir);
      backup_profile_set_destination (profile, destination);
      backup_profile_set_versions (profile, o->versions);
      backup_profile_set_keep_listening (profile, o->keep_listening);
      backup_profile_set_retention (profile, &o->retention);
      backup_profile_set_quota (profile, o->quota);
    }
  else
    {
      g_autoptr (GFile) source = g_file_new_for_commandline_arg (o->srcentry);
      BackupZipEncryption encryption = BACKUP_ZIP_ENCRYPTION_AES256;

      if (g_strcmp0 (o->zip_encryption, "aes128") == 0)
        encryption = BACKUP_ZIP_ENCRYPTION_AES128;
      else if (g_strcmp0 (o->zip_encryption, "zipcrypto") == 0)
        encryption = BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO;

      backup_profile_set_source (profile, source);
      backup_profile_set_archive_name (profile, o->zipdir ? o->outfile : NULL);
      backup_profile_set_passwords (profile, o->password1, o->password2);
      backup_profile_set_zip_encryption (profile, encryption);
    }
  /* With a paired device: its session id and signaling, our certificate,
   * and only its certificate on the other side. */
  if (o->paired_device != NULL)
    backup_profile_set_device (profile, o->paired_device, o->certificate);
  return g_steal_pointer (&profile);
}

/* A receiver that keeps listening says on the local network that it is
 * there (backup-discovery.h): its device name and certificate fingerprint,
 * no port (the backups go through signaling). Without the Avahi daemon,
 * nothing is announced and nothing else changes. */
static BackupDiscovery *
announce_receiver (BackupOptions *options)
{
  g_autoptr (RtcCertificate) certificate = NULL;
  g_autoptr (GError) error = NULL;
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  BackupDiscovery *discovery;

  if (options->certificate != NULL)
    certificate = g_object_ref (options->certificate);
  else
    certificate = backup_device_load_certificate (NULL, TRUE, &error);
  if (certificate == NULL)
    {
      if (!options->quiet)
        {
          g_autofree char *line = g_strdup_printf (_("warning: this device is not announced on "
                                                     "the local network: %s"),
                                                   error->message);
          g_autofree char *shown = backup_display_name (line, -1);

          fprintf (stderr, "%s: %s\n", PROGRAM, shown);
        }
      return NULL;
    }
  rtc_certificate_get_fingerprint (certificate, fingerprint);
  discovery = backup_discovery_new (fingerprint, NULL);
  g_object_set (discovery, "browse", FALSE, NULL);
  backup_discovery_start (discovery);
  return discovery;
}

/* --- --all-devices: every paired device at once ----------------------------- */

typedef struct
{
  BackupOptions *options;
  GMainLoop *loop;
  char *where; /* -d, shown */
  int status;
  BackupCliSignals signals;
} Serve;

static void
serve_line (Serve *serve, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
serve_line (Serve *serve, const char *format, ...)
{
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;
  va_list args;

  if (serve->options->quiet)
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  shown = backup_display_name (line, -1);
  fprintf (stderr, "%s\n", shown);
}

static char *
device_folder (Serve *serve, const char *device)
{
  g_autofree char *folder = backup_receiver_pool_folder_name (device, "");

  if (folder[0] == '\0')
    return g_strdup (serve->where);
  return g_strdup_printf ("%s%s%s", serve->where, g_str_has_suffix (serve->where, "/") ? "" : "/",
                          folder);
}

static void
device_added_cb (BackupReceiverPool *pool, const char *device, gpointer user_data)
{
  Serve *serve = user_data;
  g_autofree char *folder = device_folder (serve, device);

  serve_line (serve, _("Receiving from “%s” into %s"), device, folder);
}

static void
device_removed_cb (BackupReceiverPool *pool, const char *device, gpointer user_data)
{
  serve_line (user_data, _("No longer receiving from “%s”: it is not paired any more"), device);
}

static void
device_failed_cb (BackupReceiverPool *pool, const char *device, const GError *error,
                  gpointer user_data)
{
  g_autofree char *line = g_strdup_printf (_("“%s”: %s (tried again in a minute)"), device,
                                           error->message);
  g_autofree char *shown = backup_display_name (line, -1);

  fprintf (stderr, "%s: %s\n", PROGRAM, shown);
}

static void
pool_session_finished_cb (BackupReceiverPool *pool, const char *device, BackupSession *session,
                          const GError *error, gpointer user_data)
{
  Serve *serve = user_data;

  if (error != NULL)
    {
      g_autofree char *line = NULL;
      g_autofree char *shown = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      line = g_strdup_printf ("“%s”: %s", device, error->message);
      shown = backup_display_name (line, -1);
      fprintf (stderr, "%s: %s\n", PROGRAM, shown);
      return;
    }
  {
    g_autofree char *name = session_display_name (session);
    g_autofree char *folder = device_folder (serve, device);
    g_autofree char *size = g_format_size (backup_session_get_bytes_done (session));

    /* TRANSLATORS: file, device, folder, size */
    serve_line (serve, _("Received %s from “%s” into %s (%s)"), name, device, folder, size);
  }
}

static void
pool_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Serve *serve = user_data;
  g_autoptr (GError) error = NULL;

  if (backup_receiver_pool_run_finish (BACKUP_RECEIVER_POOL (object), result, &error))
    serve->status = 0;
  else if (serve->signals.received != 0)
    serve->status = backup_cli_exit_status_for_signal (serve->signals.received);
  else
    {
      print_failure (error);
      serve->status = 1;
    }
  g_main_loop_quit (serve->loop);
}

static int
serve_devices (BackupOptions *options, BackupProfile *profile)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (BackupReceiverPool) pool = NULL;
  g_autoptr (BackupDiscovery) discovery = NULL;
  Serve serve = { 0 };

  pool = backup_receiver_pool_new (profile, NULL, options->max_transfers);
  serve.options = options;
  serve.loop = loop;
  serve.status = 1;
  serve.where = backup_display_name (options->dstdir, -1);
  if (!options->no_announce)
    discovery = announce_receiver (options);

  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&serve.signals, cancellable);
  g_signal_connect (pool, "device-added", G_CALLBACK (device_added_cb), &serve);
  g_signal_connect (pool, "device-removed", G_CALLBACK (device_removed_cb), &serve);
  g_signal_connect (pool, "device-failed", G_CALLBACK (device_failed_cb), &serve);
  g_signal_connect (pool, "session-finished", G_CALLBACK (pool_session_finished_cb), &serve);
  serve_line (&serve, _("Receiving from every paired device, at most %u backups at once"),
              options->max_transfers);
  backup_receiver_pool_run_async (pool, cancellable, pool_done_cb, &serve);
  g_main_loop_run (loop);

  g_signal_handlers_disconnect_by_data (pool, &serve);
  backup_cli_signals_unwatch (&serve.signals);
  if (options->storage != NULL)
    backup_s3_store_wait_aborts (10 * G_TIME_SPAN_SECOND);
  g_free (serve.where);
  return serve.status;
}

int
backup_cli_run_backup (BackupOptions *options)
{
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (BackupRunner) runner = NULL;
  g_autoptr (BackupDiscovery) discovery = NULL;
  Run run = { 0 };

  g_return_val_if_fail (options != NULL, 1);

  /* A profile file (--config) or the options of the command line. */
  profile = options->profile != NULL ? g_object_ref (options->profile) : make_profile (options);
  if (options->all_devices)
    return serve_devices (options, profile);
  /* With a device of the local network, the runner announces (with its
   * signaling server). */
  if (!options->no_announce && backup_profile_get_role (profile) == BACKUP_PROFILE_ROLE_RECEIVE
      && backup_profile_get_keep_listening (profile)
      && !backup_nearby_is_location (backup_profile_get_signaling (profile)))
    discovery = announce_receiver (options);
  runner = backup_runner_new (profile);
  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();

  run.options = options;
  run.loop = loop;
  run.cancellable = cancellable;
  run.profile = profile;
  run.runner = runner;
  run.status = 1;

  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run.signals, cancellable);

  g_signal_connect (runner, "session-started", G_CALLBACK (session_started_cb), &run);
  g_signal_connect (runner, "session-finished", G_CALLBACK (session_finished_cb), &run);
  backup_runner_run_async (runner, cancellable, run_done_cb, &run);
  g_main_loop_run (loop);

  g_signal_handlers_disconnect_by_data (runner, &run);
  backup_cli_signals_unwatch (&run.signals);
  /* An upload aborted at the end goes before the process does. */
  if (options->storage != NULL)
    backup_s3_store_wait_aborts (10 * G_TIME_SPAN_SECOND);
  return run.status;
}
