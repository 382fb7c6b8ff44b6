/* backup-cli-device.c: --invite, --pair, --devices, --unpair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "backup-cli-device.h"
#include "backup-cli-signals.h"
#include "backup-device-pairing.h"
#include "backup-display.h"
#include "backup-error.h"
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
  int status;

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

  if (run.device != NULL)
    {
      if (!options->quiet)
        {
          g_autofree char *name = backup_display_name (run.device->name, -1);

          fprintf (stderr, _("Paired with “%s” (%s); back up with it using --device “%s”.\n"),
                   name, run.device->fingerprint, name);
        }
      status = 0;
    }
  else if (run.signals.received != 0)
    status = backup_cli_exit_status_for_signal (run.signals.received);
  else
    {
      if (!g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        print_line (run.error->message);
      status = 1;
    }
  g_clear_pointer (&run.device, backup_device_free);
  g_clear_error (&run.error);
  return status;
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

      printf ("%s\t%s\t%s\n", name, device->fingerprint, signaling);
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
