/* pairing-peer.c: one peer of a session, for the pairing tests
 *
 * Pairs through the given store, sends a fake description (with --candidates
 * trickled candidates after it), prints what happens on stdout, waits until
 * the peer took everything it sent, cleans up and exits.
 *
 *   instance ID
 *   role offerer|answerer
 *   remote-description TYPE LABEL
 *   remote-extension JSON
 *   remote-candidate CANDIDATE
 *   done
 *   error DOMAIN-CODE MESSAGE
 *
 * Exit status: 0 paired and exchanged, 2 timed out (nobody came), 1 other
 * failures, 130 after SIGINT and 143 after SIGTERM (after cleaning up).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "signaling/backup-fileio-store.h"
#include "signaling/backup-signaling-open.h"
#include "signaling/backup-pairing.h"
#include "signaling/backup-signaling-error.h"
#include "signaling/backup-signaling-message.h"

typedef struct
{
  GMainLoop *loop;
  BackupSignalingStore *store;
  BackupPairing *pairing;
  char *label;
  int candidates;
  int expect_candidates;
  int exit_status;
  gboolean got_description;
  int got_candidates;
  gboolean sent;
  gboolean closing;
  guint linger_ms;
  gint64 linger_deadline;
} Peer;

static void close_and_quit (Peer *peer, int status);

static void
say (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static char *
fake_sdp (const char *label)
{
  return g_strdup_printf ("v=0\r\n"
                          "o=- 1 1 IN IP4 0.0.0.0\r\n"
                          "s=-\r\n"
                          "t=0 0\r\n"
                          "a=x-label:%s\r\n"
                          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                          "c=IN IP4 0.0.0.0\r\n"
                          "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n",
                          label);
}

static void
send_ours (Peer *peer, const char *type)
{
  g_autofree char *sdp = fake_sdp (peer->label);
  g_autoptr (JsonObject) extensions = json_object_new ();
  g_autoptr (JsonObject) ext = json_object_new ();

  json_object_set_string_member (ext, "label", peer->label);
  json_object_set_int_member (ext, "version", 2);
  json_object_set_object_member (extensions, "ext", g_steal_pointer (&ext));

  backup_pairing_send_description (peer->pairing, type, sdp, extensions);
  for (int i = 0; i < peer->candidates; i++)
    {
      g_autofree char *candidate =
        g_strdup_printf ("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i + 2, 41000 + i);

      backup_pairing_send_candidate (peer->pairing, candidate);
    }
  peer->sent = TRUE;
}

static void on_listed_for_linger (GObject *source, GAsyncResult *result, gpointer user_data);

static void
relist (gpointer user_data)
{
  Peer *peer = user_data;

  if (!peer->closing)
    backup_signaling_store_list_async (peer->store, backup_pairing_get_session_id (peer->pairing),
                                       NULL, on_listed_for_linger, peer);
}

static void
on_listed_for_linger (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (GPtrArray) entries = NULL;
  gboolean ours_left = FALSE;

  entries = backup_signaling_store_list_finish (peer->store, result, NULL);
  if (peer->closing)
    return;
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      BackupSignalingEntry *entry = g_ptr_array_index (entries, i);

      if (strstr (entry->name, backup_pairing_get_instance_id (peer->pairing)) != NULL)
        ours_left = TRUE;
    }

  if (backup_pairing_get_n_pending_sends (peer->pairing) > 0)
    ours_left = TRUE;
  if (!ours_left || g_get_monotonic_time () > peer->linger_deadline)
    {
      say ("done");
      close_and_quit (peer, 0);
      return;
    }
  g_timeout_add_once (200, relist, peer);
}

static void
check_done (Peer *peer)
{
  if (!peer->got_description || !peer->sent || peer->got_candidates < peer->expect_candidates ||
      peer->closing || peer->linger_deadline != 0)
    return;

  /* wait until the peer took what we sent, then clean up */
  peer->linger_deadline = g_get_monotonic_time () + peer->linger_ms * 1000;
  backup_signaling_store_list_async (peer->store, backup_pairing_get_session_id (peer->pairing),
                                     NULL, on_listed_for_linger, peer);
}

static void
on_remote_description (BackupPairing *pairing, const char *type, const char *sdp, Peer *peer)
{
  const char *label = strstr (sdp, "a=x-label:");
  g_autofree char *label_value = NULL;
  JsonObject *extensions = backup_pairing_get_remote_extensions (pairing);

  if (label != NULL)
    label_value = g_strndup (label + 10, strcspn (label + 10, "\r\n"));
  say ("remote-description %s %s", type, label_value != NULL ? label_value : "-");
  if (extensions != NULL && json_object_get_size (extensions) > 0)
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), extensions);
      g_autofree char *text = json_to_string (node, FALSE);

      say ("remote-extension %s", text);
    }
  peer->got_description = TRUE;

  if (backup_pairing_get_role (pairing) == BACKUP_PAIRING_ROLE_ANSWERER && !peer->sent)
    send_ours (peer, "answer");
  check_done (peer);
}

static void
on_remote_candidate (BackupPairing *pairing, const char *candidate, Peer *peer)
{
  say ("remote-candidate %s", candidate);
  peer->got_candidates++;
  check_done (peer);
}

static void
report_error (const GError *error)
{
  say ("error %s-%d %s", g_quark_to_string (error->domain), error->code, error->message);
  g_printerr ("pairing-peer: %s\n", error->message);
}

static void
on_failed (BackupPairing *pairing, const GError *error, Peer *peer)
{
  report_error (error);
  close_and_quit (peer, 1);
}

static void
on_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_pairing_close_finish (BACKUP_PAIRING (source), result, &error))
    {
      g_printerr ("pairing-peer: cleanup: %s\n", error->message);
      if (peer->exit_status == 0)
        peer->exit_status = 1;
    }
  g_main_loop_quit (peer->loop);
}

static void
close_and_quit (Peer *peer, int status)
{
  if (peer->closing)
    return;
  peer->closing = TRUE;
  peer->exit_status = status;
  backup_pairing_close_async (peer->pairing, NULL, on_closed, peer);
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (GError) error = NULL;
  BackupPairingRole role;

  role = backup_pairing_start_finish (BACKUP_PAIRING (source), result, &error);
  if (role == BACKUP_PAIRING_ROLE_NONE)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      report_error (error);
      close_and_quit (peer, g_error_matches (error, BACKUP_SIGNALING_ERROR,
                                             BACKUP_SIGNALING_ERROR_TIMEOUT) ? 2 : 1);
      return;
    }

  say ("role %s", role == BACKUP_PAIRING_ROLE_OFFERER ? "offerer" : "answerer");
  if (role == BACKUP_PAIRING_ROLE_OFFERER)
    {
      say ("peer %s", backup_pairing_get_remote_instance_id (peer->pairing));
      send_ours (peer, "offer");
    }
}

static gboolean
on_sigint (gpointer user_data)
{
  Peer *peer = user_data;

  say ("signal SIGINT");
  close_and_quit (peer, 130);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  Peer *peer = user_data;

  say ("signal SIGTERM");
  close_and_quit (peer, 143);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char *argv[])
{
  g_autofree char *store_url = NULL;
  g_autofree char *api_key = NULL;
  g_autofree char *session = NULL;
  g_autofree char *label = NULL;
  int timeout = 60, poll_min = 0, poll_max = 0, candidates = 0, expect_candidates = 0, linger = 5000;
  GOptionEntry entries[] = {
    { "store", 0, 0, G_OPTION_ARG_STRING, &store_url, "Store URL or folder", "URL" },
    { "api-key", 0, 0, G_OPTION_ARG_STRING, &api_key, "API key", "KEY" },
    { "session", 0, 0, G_OPTION_ARG_STRING, &session, "Session id", "ID" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label, "Label put in the description", "TEXT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Give up after (s)", "S" },
    { "poll-min", 0, 0, G_OPTION_ARG_INT, &poll_min, "Fastest poll (ms)", "MS" },
    { "poll-max", 0, 0, G_OPTION_ARG_INT, &poll_max, "Slowest poll (ms)", "MS" },
    { "candidates", 0, 0, G_OPTION_ARG_INT, &candidates, "Candidates to trickle", "N" },
    { "expect-candidates", 0, 0, G_OPTION_ARG_INT, &expect_candidates, "Candidates to wait for", "N" },
    { "linger", 0, 0, G_OPTION_ARG_INT, &linger, "Wait for the peer to take our files (ms)", "MS" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- one peer of a pairing test");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  Peer peer = { 0 };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || session == NULL)
    {
      g_printerr ("pairing-peer: %s\n", error != NULL ? error->message : "--session is required");
      return 1;
    }

  peer.store = backup_signaling_open (store_url, api_key, NULL, &error);
  if (peer.store == NULL)
    {
      report_error (error);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  peer.loop = loop;
  peer.label = label != NULL ? label : g_strdup ("peer");
  label = NULL;
  peer.candidates = candidates;
  peer.expect_candidates = expect_candidates;
  peer.linger_ms = linger;
  peer.pairing = backup_pairing_new (peer.store, session);
  backup_pairing_set_timeout (peer.pairing, timeout);
  backup_pairing_set_poll_interval (peer.pairing, poll_min, poll_max);
  g_signal_connect (peer.pairing, "remote-description", G_CALLBACK (on_remote_description), &peer);
  g_signal_connect (peer.pairing, "remote-candidate", G_CALLBACK (on_remote_candidate), &peer);
  g_signal_connect (peer.pairing, "failed", G_CALLBACK (on_failed), &peer);
  g_unix_signal_add (SIGINT, on_sigint, &peer);
  g_unix_signal_add (SIGTERM, on_sigterm, &peer);

  say ("instance %s", backup_pairing_get_instance_id (peer.pairing));
  backup_pairing_start_async (peer.pairing, NULL, on_started, &peer);
  g_main_loop_run (loop);

  g_clear_object (&peer.pairing);
  g_clear_object (&peer.store);
  g_free (peer.label);
  return peer.exit_status;
}
