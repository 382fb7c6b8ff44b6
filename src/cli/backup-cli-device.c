/* backup-cli-device.c: --invite, --pair, --devices, --unpair, --nearby
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backup-cli-device.h"
#include "backup-cli-signals.h"
#include "backup-device-pairing.h"
#include "backup-discovery.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-nearby.h"
#include "backup-signaling-open.h"

#define PROGRAM "distributed-backup"
#define EXIT_USAGE 2

typedef struct
{
  GMainLoop *loop;
  BackupCliSignals signals;
  BackupDevice *device;
  GError *error;
} PairingRun;

static void
print_line (const char *message)
{
  g_autofree char *shown = backup_display_name (message, -1);

  fprintf (stderr, "%s: %s\n", PROGRAM, shown);
}

static void
paired_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  PairingRun *run = user_data;

  run->device = backup_device_pair_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

static RtcConfiguration *
make_configuration (BackupOptions *o)
{
  RtcConfiguration *config = rtc_configuration_new ();

  config->stun_servers = g_strdupv ((GStrv) backup_options_get_stun_servers (o));
  config->turn_servers = g_strdupv ((GStrv) o->turn->pdata);
  config->local_addresses = g_strdupv ((GStrv) o->ice_addresses->pdata);
  config->relay_only = o->relay_only;
  config->certificate = g_object_ref (o->certificate);
  return config;
}

/* What came of a pairing (@run's result is taken): the exit status. */
static int
report_pairing (BackupOptions *options, PairingRun *run)
{
  int status;

  if (run->device != NULL)
    {
      if (!options->quiet)
        {
          g_autofree char *name = backup_display_name (run->device->name, -1);

          fprintf (stderr, _("Paired with “%s” (%s); back up with it using --device “%s”.\n"),
                   name, run->device->fingerprint, name);
        }
      status = 0;
    }
  else if (run->signals.received != 0)
    status = backup_cli_exit_status_for_signal (run->signals.received);
  else
    {
      if (!g_error_matches (run->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        print_line (run->error->message);
      status = 1;
    }
  g_clear_pointer (&run->device, backup_device_free);
  g_clear_error (&run->error);
  return status;
}

int
backup_cli_run_pairing (BackupOptions *options)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) config = NULL;
  g_autoptr (GError) error = NULL;
  const char *location;
  PairingRun run = { 0 };

  g_return_val_if_fail (options->link != NULL && options->certificate != NULL, 1);

  location = options->signaling_url != NULL ? options->signaling_url : options->signaling_dir;
  if (location == NULL)
    location = options->link->signaling;
  signaling = backup_signaling_open (location, options->apikey_resolved,
                                     options->signaling_ca_database, &error);
  if (signaling == NULL)
    {
      print_line (error->message);
      return 1;
    }
  config = make_configuration (options);

  if (options->invite)
    {
      g_autofree char *link = backup_device_link_format (options->link);

      printf ("%s\n", link);
      explicit_bzero (link, strlen (link));
      if (fflush (stdout) != 0)
        return 1;
      if (!options->quiet)
        {
          g_autofree char *name = backup_display_name (options->own_device_name, -1);

          if (options->timeout > 0)
            fprintf (stderr,
                     _("Open this link with “%s --pair LINK” on the other device within %u s; "
                       "this device is “%s”.\n"),
                     PROGRAM, options->timeout, name);
          else
            fprintf (stderr, _("Open this link with “%s --pair LINK” on the other device; this "
                               "device is “%s”.\n"),
                     PROGRAM, name);
        }
    }

  run.loop = loop;
  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run.signals, cancellable);
  backup_device_pair_async (options->invite ? BACKUP_DEVICE_PAIRING_INVITER
                                            : BACKUP_DEVICE_PAIRING_JOINER,
                            options->link, options->own_device_name, signaling, config, NULL,
                            options->timeout, cancellable, paired_cb, &run);
  g_main_loop_run (loop);
  backup_cli_signals_unwatch (&run.signals);
  /* The secret is no longer needed. */
  g_clear_pointer (&options->link, backup_device_link_free);
  return report_pairing (options, &run);
}

/* --- --invite-nearby, --pair-nearby --- */

typedef struct
{
  PairingRun pairing;
  BackupOptions *options;
  GCancellable *cancellable;
  RtcConfiguration *config;
  BackupNearbyHost *host;           /* the inviter's */
  BackupSignalingStore *signaling;
  GDataInputStream *input;          /* standard input, for the answer */
  GCancellable *read_cancellable;   /* ends the read when the pairing ends */
  BackupPairingQuestion *question;  /* while the user is asked */
} NearbyPairingRun;

static gboolean
is_yes (const char *answer)
{
  g_autofree char *word = g_utf8_casefold (answer, -1);
  g_autofree char *yes = g_utf8_casefold (_("yes"), -1);
  g_autofree char *y = g_utf8_casefold (_("y"), -1);

  g_strstrip (word);
  return g_str_equal (word, "y") || g_str_equal (word, "yes") || g_str_equal (word, yes)
         || g_str_equal (word, y);
}

static void
answer_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  NearbyPairingRun *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  BackupPairingQuestion *question;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL,
                                                    &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || run->question == NULL)
    return;
  question = g_steal_pointer (&run->question);
  /* End of input or anything but yes: not confirmed. */
  backup_pairing_question_answer (question, line != NULL && is_yes (line));
}

static void
nearby_code_cb (BackupPairingQuestion *question, const char *code, const char *name,
                const char *fingerprint, gpointer user_data)
{
  NearbyPairingRun *run = user_data;
  g_autofree char *shown = backup_display_name (name, -1);

  run->question = question;
  /* Shown even with --quiet: without it there is nothing to confirm. */
  fprintf (stderr, _("“%s” (%s) asks to pair.\n"), shown, fingerprint);
  fprintf (stderr, _("Verification code: %.3s %s\n"), code, code + 3);
  fprintf (stderr, "%s ", _("Does the other device show the same code? [y/N]"));
  fflush (stderr);
  g_data_input_stream_read_line_async (run->input, G_PRIORITY_DEFAULT, run->read_cancellable,
                                       answer_read_cb, run);
}

static void
nearby_paired_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  NearbyPairingRun *run = user_data;

  run->question = NULL;
  g_cancellable_cancel (run->read_cancellable);
  run->pairing.device = backup_device_pair_finish (result, &run->pairing.error);
  g_main_loop_quit (run->pairing.loop);
}

static void
start_nearby_pairing (NearbyPairingRun *run, BackupDevicePairingRole role,
                      const BackupDeviceLink *link)
{
  backup_device_pair_nearby_async (role, link, run->options->own_device_name, run->signaling,
                                   run->config, NULL, run->options->timeout, nearby_code_cb, run,
                                   run->cancellable, nearby_paired_cb, run);
}

static void
nearby_found_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  NearbyPairingRun *run = user_data;
  g_autoptr (BackupNearbyDevice) device = NULL;
  g_autoptr (BackupDeviceLink) link = NULL;
  g_autofree char *url = NULL;

  device = backup_nearby_find_finish (result, &run->pairing.error);
  if (device != NULL)
    {
      url = backup_nearby_device_get_url (device);
      run->signaling = backup_signaling_open (url, NULL, NULL, &run->pairing.error);
    }
  if (run->signaling == NULL)
    {
      g_main_loop_quit (run->pairing.loop);
      return;
    }
  if (!run->options->quiet)
    {
      g_autofree char *name = backup_display_name (device->name, -1);

      fprintf (stderr, _("Asking “%s” (%s) to pair…\n"), name, device->fingerprint);
    }
  link = g_new0 (BackupDeviceLink, 1);
  link->signaling = g_strdup (BACKUP_NEARBY_LOCATION);
  link->name = g_strdup (device->name);
  memcpy (link->fingerprint, device->fingerprint_bytes, sizeof link->fingerprint);
  start_nearby_pairing (run, BACKUP_DEVICE_PAIRING_JOINER, link);
}

int
backup_cli_run_nearby_pairing (BackupOptions *options)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GInputStream) stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  NearbyPairingRun run = { 0 };
  guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];
  int status;

  g_return_val_if_fail (options->certificate != NULL, 1);

  run.pairing.loop = loop;
  run.options = options;
  run.cancellable = cancellable;
  run.read_cancellable = g_cancellable_new ();
  run.input = g_data_input_stream_new (stdin_stream);
  run.config = make_configuration (options);
  rtc_certificate_get_fingerprint (options->certificate, own);
  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run.pairing.signals, cancellable);

  if (options->invite_nearby)
    {
      const char *address = options->ice_addresses->len > 0
                                ? g_ptr_array_index (options->ice_addresses, 0)
                                : NULL;
      g_autoptr (BackupDeviceLink) link = NULL;

      run.host = backup_nearby_host_new (options->certificate, options->own_device_name, address,
                                         TRUE);
      if (!backup_nearby_host_start (run.host, &run.pairing.error)
          || (run.signaling = backup_nearby_host_open_store (run.host, &run.pairing.error))
                 == NULL)
        goto out;
      link = backup_device_link_new (BACKUP_NEARBY_LOCATION, options->certificate,
                                     options->own_device_name);
      if (!options->quiet)
        {
          g_autofree char *name = backup_display_name (options->own_device_name, -1);
          g_autofree char *fingerprint = rtc_certificate_get_fingerprint_string (
              options->certificate);

          fprintf (stderr,
                   _("“%s” (%s) waits on the local network: on the other device, run “%s "
                     "--pair-nearby \"%s\"”.\n"),
                   name, fingerprint, PROGRAM, name);
        }
      start_nearby_pairing (&run, BACKUP_DEVICE_PAIRING_INVITER, link);
    }
  else
    backup_nearby_find_async (options->pair_nearby, TRUE, own, options->timeout, cancellable,
                              nearby_found_cb, &run);
  g_main_loop_run (loop);

out:
  backup_cli_signals_unwatch (&run.pairing.signals);
  status = report_pairing (options, &run.pairing);
  g_cancellable_cancel (run.read_cancellable);
  g_clear_object (&run.read_cancellable);
  g_clear_object (&run.input);
  g_clear_object (&run.signaling);
  g_clear_object (&run.host);
  g_clear_pointer (&run.config, rtc_configuration_free);
  return status;
}

/* The versions kept of what @device sends, as paired.conf says them
 * ("versions=20,keep-daily=7"), or "-" when the receiver's own apply. */
static char *
format_policy (const BackupDevice *device)
{
  const char *keys[] = { "keep-last", "keep-hourly", "keep-daily", "keep-weekly",
                         "keep-monthly" };
  guint counts[] = { device->retention.last, device->retention.hourly, device->retention.daily,
                     device->retention.weekly, device->retention.monthly };
  GString *text;

  if (device->versions == 0)
    return g_strdup ("-");
  text = g_string_new (NULL);
  g_string_append_printf (text, "versions=%u", device->versions);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (counts[i] != 0)
      g_string_append_printf (text, ",%s=%u", keys[i], counts[i]);
  return g_string_free (text, FALSE);
}

int
backup_cli_list_devices (BackupOptions *options)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GError) error = NULL;

  devices = backup_device_list (NULL, &error);
  if (devices == NULL)
    {
      print_line (error->message);
      return 1;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      BackupDevice *device = g_ptr_array_index (devices, i);
      g_autofree char *name = backup_display_name (device->name, -1);
      g_autofree char *signaling = backup_display_name (device->signaling, -1);
      g_autofree char *policy = format_policy (device);

      printf ("%s\t%s\t%s\t%s\n", name, device->fingerprint, signaling, policy);
    }
  if (devices->len == 0 && !options->quiet)
    fprintf (stderr, "%s\n", _("No paired devices; pair with one with --invite and --pair."));
  if (!options->quiet)
    {
      /* What the other devices list for this one, to compare. */
      g_autoptr (RtcCertificate) own = backup_device_load_certificate (NULL, FALSE, NULL);

      if (own != NULL)
        {
          g_autofree char *fingerprint = rtc_certificate_get_fingerprint_string (own);

          fprintf (stderr, _("This device’s certificate fingerprint: %s\n"), fingerprint);
        }
    }
  return fflush (stdout) == 0 ? 0 : 1;
}

int
backup_cli_unpair (BackupOptions *options)
{
  g_autoptr (GError) error = NULL;

  if (!backup_device_remove (NULL, options->unpair, &error))
    {
      print_line (error->message);
      return g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND) ? EXIT_USAGE : 1;
    }
  if (!options->quiet)
    {
      g_autofree char *name = backup_display_name (options->unpair, -1);

      fprintf (stderr, _("Forgot the paired device “%s”.\n"), name);
    }
  return 0;
}

typedef struct
{
  GMainLoop *loop;
  BackupCliSignals signals;
  GHashTable *shown; /* "FINGERPRINT ADDRESS" of the lines printed */
  guint timeout_id;
  char *lost;        /* why the discovery stopped (the daemon went away) */
} NearbyRun;

static void
nearby_added_cb (BackupDiscovery *discovery, BackupNearbyDevice *device, gpointer user_data)
{
  NearbyRun *run = user_data;
  g_autofree char *name = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *address = NULL;

  /* A device seen on two interfaces, or again, is listed once. */
  if (!g_hash_table_add (run->shown, g_strdup_printf ("%s %s", device->fingerprint,
                                                      device->address)))
    return;
  name = backup_display_name (device->name, -1);
  fingerprint = backup_nearby_device_get_short_fingerprint (device);
  address = backup_display_name (device->address, -1);
  printf ("%s\t%s…\t%s\n", name, fingerprint, address);
  fflush (stdout);
}

static void
nearby_available_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  NearbyRun *run = user_data;

  if (!backup_discovery_get_available (BACKUP_DISCOVERY (object)) && run->lost == NULL)
    {
      run->lost = g_strdup (backup_discovery_get_error (BACKUP_DISCOVERY (object))->message);
      g_main_loop_quit (run->loop);
    }
}

static gboolean
nearby_done_cb (gpointer user_data)
{
  NearbyRun *run = user_data;

  run->timeout_id = 0;
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static void
nearby_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  g_main_loop_quit (user_data);
}

static void
print_nearby_error (const char *reason)
{
  g_autofree char *line = g_strdup_printf (_("Cannot look for nearby devices: %s"), reason);

  print_line (line);
}

int
backup_cli_list_nearby (BackupOptions *options)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (BackupDiscovery) discovery = NULL;
  g_autoptr (GHashTable) shown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  NearbyRun run = { 0 };
  gulong cancelled_id;
  int status = 0;

  g_return_val_if_fail (options->certificate != NULL && options->own_device_name != NULL, 1);

  rtc_certificate_get_fingerprint (options->certificate, fingerprint);
  discovery = backup_discovery_new (fingerprint, options->own_device_name);
  g_object_set (discovery, "announce", !options->no_announce, NULL);
  run.loop = loop;
  run.shown = shown;
  g_signal_connect (discovery, "device-added", G_CALLBACK (nearby_added_cb), &run);

  backup_discovery_start (discovery);
  if (!backup_discovery_get_available (discovery))
    {
      print_nearby_error (backup_discovery_get_error (discovery)->message);
      return 1;
    }
  g_signal_connect (discovery, "notify::available", G_CALLBACK (nearby_available_cb), &run);

  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run.signals, cancellable);
  cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (nearby_cancelled_cb), loop,
                                       NULL);
  run.timeout_id = g_timeout_add_seconds (options->timeout, nearby_done_cb, &run);
  g_main_loop_run (loop);
  backup_cli_signals_unwatch (&run.signals);
  g_cancellable_disconnect (cancellable, cancelled_id);
  g_clear_handle_id (&run.timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (discovery, &run);
  backup_discovery_stop (discovery);

  if (run.signals.received != 0)
    status = backup_cli_exit_status_for_signal (run.signals.received);
  else if (run.lost != NULL)
    {
      print_nearby_error (run.lost);
      status = 1;
    }
  else if (g_hash_table_size (shown) == 0 && !options->quiet)
    fprintf (stderr, "%s\n", _("No device found nearby"));
  g_free (run.lost);
  if (fflush (stdout) != 0 && status == 0)
    status = 1;
  return status;
}
