/* backup-session-restart.c: a connected run finds a new path when its own
 * breaks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A laptop that moves to another network loses the address its ICE pair
 * used; a router that restarts may map it anew. The connection goes
 * silent. After RTC_ICE_STALL_MS of silence the peer connection says so,
 * and a run whose peer is this program (it said "restart" in its
 * description's extensions and paired with addressed names) restarts ICE:
 * both sides gather anew and swap credentials and candidates through the
 * signaling store (BackupRestartExchange), each restart numbered
 * (generation). Whichever side is silent first starts; the other joins
 * when it reads the first's file, or starts its own for the same number
 * when it is silent too (both then take each other's). A higher number
 * from the peer replaces the restart under way; the number of a restart
 * that already ended here starts the next one. When the new path
 * connects, DTLS, SCTP and the transfer go on over it where they stopped;
 * a restart that connects nothing gives up after 15 s (or at once, with
 * no local address yet), and the next second of silence starts another,
 * which gathers anew (a network that was still coming up). Meanwhile the
 * old path may come back (an outage rather than a move), and silence alone
 * no longer fails the connection: SCTP's retransmission limit (some 40 s)
 * bounds the rounds.
 */
#include "config.h"

#include "backup-session-private.h"

/* The round's number is taken even when it cannot start here (no address
 * yet): the next round is a higher one, which the peer then joins. */
static void
restart_begin (SessionRun *run, guint generation)
{
  g_autoptr (GError) error = NULL;

  run->restart_generation = generation;
  backup_restart_exchange_set_polling (run->restarts, TRUE);
  session_set_reconnecting (run, TRUE);
  if (!rtc_peer_connection_restart_ice (run->pc, &error))
    {
      g_debug ("session %s: no ICE restart %u: %s", run->session->session_id, generation,
               error->message);
      return;
    }
  g_debug ("session %s: ICE restart %u", run->session->session_id, generation);
}

static void
pc_stalled_cb (RtcPeerConnection *pc, gpointer user_data)
{
  SessionRun *run = user_data;

  g_debug ("session %s: nothing from the peer for %d s", run->session->session_id,
           RTC_ICE_STALL_MS / 1000);
  restart_begin (run, run->restart_generation + 1);
}

static void
pc_restart_ready_cb (RtcPeerConnection *pc, gpointer user_data)
{
  SessionRun *run = user_data;
  g_autofree char *ufrag = NULL;
  g_autofree char *pwd = NULL;
  g_auto (GStrv) candidates = NULL;

  if (!rtc_peer_connection_get_restart_parameters (pc, &ufrag, &pwd, &candidates))
    return;
  backup_restart_exchange_send (run->restarts, run->restart_generation, ufrag, pwd,
                                (const char *const *) candidates);
}

static void
pc_restart_ended_cb (RtcPeerConnection *pc, gboolean connected, gpointer user_data)
{
  SessionRun *run = user_data;

  backup_restart_exchange_set_polling (run->restarts, FALSE);
  if (connected)
    {
      RtcIceTransport *ice = rtc_peer_connection_get_ice_transport (pc);
      g_autofree char *pair = rtc_ice_transport_dup_selected_pair (ice);

      g_debug ("session %s: ICE restart %u: the connection goes on over %s",
               run->session->session_id, run->restart_generation, pair);
      session_set_reconnecting (run, FALSE);
    }
  else
    g_debug ("session %s: ICE restart %u found no path", run->session->session_id,
             run->restart_generation);
}

static void
restart_received_cb (BackupRestartExchange *exchange,
                     BackupSignalingMessage *message,
                     gpointer user_data)
{
  SessionRun *run = user_data;
  g_autoptr (GError) error = NULL;

  if (message->generation < run->restart_generation)
    {
      g_debug ("session %s: skipping the peer's ICE restart %u (now at %u)",
               run->session->session_id, message->generation, run->restart_generation);
      return;
    }
  g_debug ("session %s: the peer's ICE restart %u", run->session->session_id,
           message->generation);
  /* The peer's side of a restart that ended here (it gave up, or the file
   * is left from one): a new round, which the peer joins when it reads
   * ours. */
  if (message->generation == run->restart_generation
      && !rtc_peer_connection_is_restarting_ice (run->pc))
    {
      restart_begin (run, run->restart_generation + 1);
      return;
    }
  if (message->generation > run->restart_generation)
    restart_begin (run, message->generation);
  if (message->generation != run->restart_generation)
    return;
  if (!rtc_peer_connection_set_remote_restart (run->pc, message->ice_ufrag, message->ice_pwd,
                                               (const char *const *) message->candidates,
                                               &error))
    g_debug ("session %s: the peer's ICE restart: %s", run->session->session_id,
             error->message);
}

/* Whether the peer's description allows restarts: it says "restart" and
 * the pairing knows both instances. */
static gboolean
peer_restarts (SessionRun *run)
{
  JsonObject *ext = backup_pairing_get_remote_extensions (run->pairing);
  JsonNode *node;

  if (ext == NULL || backup_pairing_get_remote_instance_id (run->pairing) == NULL)
    return FALSE;
  node = json_object_get_member (ext, SESSION_RESTART_EXTENSION);
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_INT64 && json_node_get_int (node) >= 1;
}

void
session_restart_setup (SessionRun *run)
{
  if (run->restarts != NULL || run->pc == NULL || run->pairing == NULL || !peer_restarts (run))
    return;

  run->restarts = backup_restart_exchange_new (run->session->signaling,
                                               run->session->session_id,
                                               backup_pairing_get_instance_id (run->pairing),
                                               backup_pairing_get_remote_instance_id (run->pairing));
  g_signal_connect (run->restarts, "received", G_CALLBACK (restart_received_cb), run);
  g_signal_connect (run->pc, "ice-stalled", G_CALLBACK (pc_stalled_cb), run);
  g_signal_connect (run->pc, "ice-restart-ready", G_CALLBACK (pc_restart_ready_cb), run);
  g_signal_connect (run->pc, "ice-restart-ended", G_CALLBACK (pc_restart_ended_cb), run);
}

static void
restarts_closed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);

  backup_restart_exchange_close_finish (BACKUP_RESTART_EXCHANGE (object), result);
  run->restarts_closing = FALSE;
  /* Not after the session's dispose (its store is gone): nothing waits. */
  if (run->completing && run->session->signaling != NULL)
    session_complete (run);
}

/* Stops the exchange; the run completes once our last restart file is out
 * of the store (session_complete() waits for it). */
void
session_restart_release (SessionRun *run)
{
  if (run->restarts == NULL)
    return;
  g_signal_handlers_disconnect_by_data (run->restarts, run);
  run->restarts_closing = TRUE;
  backup_restart_exchange_close_async (run->restarts, restarts_closed_cb,
                                       g_object_ref (run->task));
  g_clear_object (&run->restarts);
}
