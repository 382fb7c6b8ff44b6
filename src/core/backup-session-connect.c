/* backup-session-connect.c: from the session id to an open data channel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pairing finds the peer and carries the descriptions and candidates;
 * the peer connection connects. The offerer (decided by the pairing, never
 * by who sends) creates the data channel.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-error.h"
#include "backup-rtc-channel.h"
#include "backup-session-private.h"
#include "rtc-error.h"
#include "rtc-sdp.h"

/* Once both descriptions tell how many SCTP associations run: with one,
 * the lane-0 channel is the session's; with more, a bonded channel over
 * all of them is, taking each as it comes. */
static void
lanes_known (SessionRun *run)
{
  guint lanes = rtc_peer_connection_get_sctp_lanes (run->pc);
  g_autoptr (BackupChannel) primary = g_steal_pointer (&run->primary);

  if (run->bonded != NULL || run->channel != NULL)
    return;
  if (lanes <= 1)
    {
      if (primary != NULL)
        session_adopt_channel (run, primary);
      return;
    }
  g_debug ("session %s: %u SCTP associations", run->session->session_id, lanes);
  run->bonded = BACKUP_BONDED_CHANNEL (backup_bonded_channel_new_waiting (lanes));
  if (primary != NULL)
    backup_bonded_channel_set_member (run->bonded, 0, primary);
  session_adopt_channel (run, BACKUP_CHANNEL (run->bonded));
}

static void
pc_data_channel_cb (RtcPeerConnection *pc, RtcDataChannel *channel, gpointer user_data)
{
  SessionRun *run = user_data;
  g_autoptr (BackupChannel) wrapped = backup_rtc_channel_new (channel);

  if (run->bonded != NULL)
    backup_bonded_channel_set_member (run->bonded, 0, wrapped);
  else
    session_adopt_channel (run, wrapped);
}

static void
pc_lane_channel_cb (RtcPeerConnection *pc, guint lane, RtcDataChannel *channel, gpointer user_data)
{
  SessionRun *run = user_data;
  g_autoptr (BackupChannel) wrapped = backup_rtc_channel_new (channel);

  if (run->bonded == NULL)
    {
      g_debug ("ignoring the channel of lane %u", lane);
      return;
    }
  backup_bonded_channel_set_member (run->bonded, lane, wrapped);
}

static void
pc_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  SessionRun *run = user_data;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  switch (rtc_peer_connection_get_connection_state (pc))
    {
    case RTC_PEER_CONNECTION_STATE_FAILED:
      {
        const GError *error = rtc_peer_connection_get_error (pc);
        g_autoptr (GError) failed = NULL;

        if (error == NULL)
          error = failed = g_error_new_literal (RTC_ERROR, RTC_ERROR_FAILED,
                                                _("The connection failed"));
        session_transport_lost (run, error);
        break;
      }

    case RTC_PEER_CONNECTION_STATE_CLOSED:
      /* Never the end of a file: that is the data channel's close. */
      if (!run->completing)
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                          _("The peer closed the connection"));

          session_transport_lost (run, error);
        }
      break;

    case RTC_PEER_CONNECTION_STATE_CONNECTED:
      g_debug ("session %s: SCTP packets of up to %u bytes", run->session->session_id,
               rtc_peer_connection_get_sctp_packet_size (pc));
      break;

    case RTC_PEER_CONNECTION_STATE_NEW:
    case RTC_PEER_CONNECTION_STATE_CONNECTING:
    default:
      break;
    }
}

static JsonObject *
our_extensions (void)
{
  JsonObject *ext = json_object_new ();

  json_object_set_int_member (ext, BACKUP_FRAME_EXTENSION, BACKUP_FRAME_PROTOCOL_VERSION);
  json_object_set_int_member (ext, SESSION_RESTART_EXTENSION, 1);
  return ext;
}

static void
send_description (SessionRun *run)
{
  g_autofree char *sdp = NULL;
  g_autoptr (JsonObject) ext = NULL;
  const char *type;

  if (run->description_sent || !run->description_created || run->pc == NULL)
    return;

  run->description_sent = TRUE;
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  sdp = rtc_peer_connection_get_local_description (run->pc);
  type = run->is_offerer ? "offer" : "answer";
  ext = our_extensions ();
  backup_pairing_send_description (run->pairing, type, sdp, ext);
}

static void
pc_local_candidate_cb (RtcPeerConnection *pc, const char *candidate, gpointer user_data)
{
  SessionRun *run = user_data;

  /* Candidates found after the description went out are trickled. */
  if (run->description_sent && !run->pairing_closed)
    backup_pairing_send_candidate (run->pairing, candidate);
}

static void
pc_gathering_done_cb (RtcPeerConnection *pc, gpointer user_data)
{
  send_description (user_data);
}

static gboolean
gather_timeout_cb (gpointer user_data)
{
  SessionRun *run = user_data;

  run->gather_timeout_id = 0;
  g_debug ("gathering is slow: sending the candidates found so far");
  send_description (run);
  return G_SOURCE_REMOVE;
}

static void
description_created (SessionRun *run)
{
  run->description_created = TRUE;
  if (rtc_peer_connection_is_gathering_done (run->pc))
    {
      send_description (run);
      return;
    }
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  run->gather_timeout_id = g_timeout_add (GATHER_WAIT_MS, gather_timeout_cb, run);
}

/* The offer or the answer is ready (create_offer_async or
 * create_answer_async; the role tells which). */
static void
local_description_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  if (run->is_offerer)
    sdp = rtc_peer_connection_create_offer_finish (pc, result, &error);
  else
    sdp = rtc_peer_connection_create_answer_finish (pc, result, &error);
  if (sdp == NULL)
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->pc == NULL)
    return;
  description_created (run);
}

static void
remote_description_cb (BackupPairing *pairing,
                       const char *type,
                       const char *sdp,
                       gpointer user_data)
{
  SessionRun *run = user_data;
  g_autoptr (GError) error = NULL;
  RtcSdpType sdp_type;
  JsonObject *ext;

  if (run->pc == NULL || run->completing)
    return;

  ext = backup_pairing_get_remote_extensions (pairing);
  run->peer_is_legacy = ext == NULL || !json_object_has_member (ext, BACKUP_FRAME_EXTENSION);
  run->peer_protocol = 0;
  if (!run->peer_is_legacy)
    {
      JsonNode *version = json_object_get_member (ext, BACKUP_FRAME_EXTENSION);

      /* Any other value is the first version, which every peer speaks. */
      run->peer_protocol = 1;
      if (JSON_NODE_HOLDS_VALUE (version) && json_node_get_value_type (version) == G_TYPE_INT64
          && json_node_get_int (version) > 1)
        run->peer_protocol = (guint) MIN (json_node_get_int (version), G_MAXUINT);
    }
  g_debug ("remote %s from a %s peer", type, run->peer_is_legacy ? "legacy" : "current");

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      session_fail (run, g_error_new (RTC_ERROR, RTC_ERROR_INVALID_SDP,
                                       _("The peer sent a session description of unknown type "
                                         "“%s”"), type));
      return;
    }
  if (!rtc_peer_connection_set_remote_description (run->pc, sdp_type, sdp, &error))
    {
      /* A peer with another certificate than the pinned one: said as is. */
      if (!g_error_matches (error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH))
        g_prefix_error (&error, _("The peer's session description was refused: "));
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  lanes_known (run);
  if (sdp_type == RTC_SDP_TYPE_OFFER)
    rtc_peer_connection_create_answer_async (run->pc, run->cancellable, local_description_cb,
                                             g_object_ref (run->task));
}

/* What the peer connection would refuse is no offer or answer at all: a
 * stray or hostile file in the store must not end the pairing. */
static gboolean
check_remote_description (const char *type, const char *sdp, gpointer user_data, GError **error)
{
  return rtc_sdp_check_as (type, sdp, error);
}

static void
remote_candidate_cb (BackupPairing *pairing, const char *candidate, gpointer user_data)
{
  SessionRun *run = user_data;
  g_autoptr (GError) error = NULL;

  if (run->pc == NULL || run->completing)
    return;
  if (!rtc_peer_connection_add_remote_candidate (run->pc, candidate, &error))
    g_debug ("ignoring a remote candidate: %s", error->message);
}

static void
pairing_failed_cb (BackupPairing *pairing, GError *error, gpointer user_data)
{
  SessionRun *run = user_data;

  /* Once connected, signaling no longer matters. */
  if (run->channel != NULL && backup_channel_is_open (run->channel))
    return;
  session_fail (run, g_error_copy (error));
}

static void
pairing_started_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SessionRun *run = session_run_from_task (task);
  g_autoptr (GError) error = NULL;
  BackupPairingRole role;

  role = backup_pairing_start_finish (BACKUP_PAIRING (object), result, &error);
  if (role == BACKUP_PAIRING_ROLE_NONE)
    {
      session_fail (run, g_steal_pointer (&error));
      return;
    }
  if (run->completing || run->returned)
    return;

  g_debug ("paired as %s", role == BACKUP_PAIRING_ROLE_OFFERER ? "offerer" : "answerer");
  run->is_offerer = role == BACKUP_PAIRING_ROLE_OFFERER;
  session_set_state (run, BACKUP_SESSION_STATE_CONNECTING);
  if (role == BACKUP_PAIRING_ROLE_OFFERER)
    {
      g_autoptr (RtcDataChannel) channel = NULL;
      g_autoptr (BackupChannel) wrapped = NULL;

      channel = rtc_peer_connection_create_data_channel (run->pc, "data", "", &error);
      if (channel == NULL)
        {
          session_fail (run, g_steal_pointer (&error));
          return;
        }
      wrapped = backup_rtc_channel_new (channel);
      /* With lanes offered, the answer tells what the channel is part of. */
      if (run->offered_lanes > 1)
        run->primary = g_steal_pointer (&wrapped);
      else
        session_adopt_channel (run, wrapped);
      rtc_peer_connection_create_offer_async (run->pc, run->cancellable, local_description_cb,
                                              g_object_ref (run->task));
    }
  /* The answerer waits for the offer (remote_description_cb). */
}

/* SESSION_SCTP_LANES, or DISTRIBUTED_BACKUP_SCTP_LANES (1 to 16) for the
 * benchmarks that compare counts on one path. */
static guint
session_sctp_lanes (void)
{
  const char *text = g_getenv ("DISTRIBUTED_BACKUP_SCTP_LANES");
  guint64 lanes;

  if (text == NULL)
    return SESSION_SCTP_LANES;
  if (!g_ascii_string_to_unsigned (text, 10, 1, RTC_SDP_MAX_SCTP_LANES, &lanes, NULL))
    {
      g_warning ("DISTRIBUTED_BACKUP_SCTP_LANES must be a number from 1 to %u, not “%s”: "
                 "offering %u", RTC_SDP_MAX_SCTP_LANES, text, SESSION_SCTP_LANES);
      return SESSION_SCTP_LANES;
    }
  return (guint) lanes;
}

/* Creates the peer connection and the pairing of this run, and starts
 * pairing. */
void
session_connect (SessionRun *run)
{
  g_autoptr (RtcConfiguration) config = rtc_configuration_copy (run->session->rtc_config);

  /* A peer may fetch our description late (the original tool polls every
   * few seconds and backs off): the connection has as long as pairing. */
  if (config->ice_timeout_ms == 0)
    config->ice_timeout_ms
        = (run->session->timeout > 0 ? run->session->timeout : BACKUP_PAIRING_DEFAULT_TIMEOUT) * 1000;
  config->sctp_lanes = run->offered_lanes = session_sctp_lanes ();
  run->pc = rtc_peer_connection_new (config);
  g_signal_connect (run->pc, "notify::connection-state", G_CALLBACK (pc_state_cb), run);
  g_signal_connect (run->pc, "data-channel", G_CALLBACK (pc_data_channel_cb), run);
  g_signal_connect (run->pc, "lane-channel", G_CALLBACK (pc_lane_channel_cb), run);
  g_signal_connect (run->pc, "local-candidate", G_CALLBACK (pc_local_candidate_cb), run);
  g_signal_connect (run->pc, "gathering-done", G_CALLBACK (pc_gathering_done_cb), run);

  run->pairing = backup_pairing_new (run->session->signaling, run->session->session_id);
  backup_pairing_set_timeout (run->pairing, run->session->timeout);
  backup_pairing_set_description_check (run->pairing, check_remote_description, NULL, NULL);
  g_signal_connect (run->pairing, "remote-description", G_CALLBACK (remote_description_cb),
                    run);
  g_signal_connect (run->pairing, "remote-candidate", G_CALLBACK (remote_candidate_cb), run);
  g_signal_connect (run->pairing, "failed", G_CALLBACK (pairing_failed_cb), run);

  session_set_state (run, BACKUP_SESSION_STATE_PAIRING);
  backup_pairing_start_async (run->pairing, run->cancellable, pairing_started_cb,
                              g_object_ref (run->task));
}
