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
#include "backup-session-private.h"
#include "rtc-error.h"
#include "rtc-sdp.h"

static void
pc_data_channel_cb (RtcPeerConnection *pc, RtcDataChannel *channel, gpointer user_data)
{
  session_adopt_channel (user_data, channel);
}

static void
pc_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupSession *self = user_data;
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
        session_transport_lost (self, error);
        break;
      }

    case RTC_PEER_CONNECTION_STATE_CLOSED:
      /* Never the end of a file: that is the data channel's close. */
      if (!self->run->completing)
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                          _("The peer closed the connection"));

          session_transport_lost (self, error);
        }
      break;

    case RTC_PEER_CONNECTION_STATE_NEW:
    case RTC_PEER_CONNECTION_STATE_CONNECTING:
    case RTC_PEER_CONNECTION_STATE_CONNECTED:
    default:
      break;
    }
}

static JsonObject *
our_extensions (void)
{
  JsonObject *ext = json_object_new ();

  json_object_set_int_member (ext, BACKUP_FRAME_EXTENSION, BACKUP_FRAME_PROTOCOL_VERSION);
  return ext;
}

static void
send_description (BackupSession *self)
{
  g_autofree char *sdp = NULL;
  g_autoptr (JsonObject) ext = NULL;
  const char *type;

  if (self->run->description_sent || !self->run->description_created || self->run->pc == NULL)
    return;

  self->run->description_sent = TRUE;
  g_clear_handle_id (&self->run->gather_timeout_id, g_source_remove);
  sdp = rtc_peer_connection_get_local_description (self->run->pc);
  type = self->run->is_offerer ? "offer" : "answer";
  ext = our_extensions ();
  backup_pairing_send_description (self->run->pairing, type, sdp, ext);
}

static void
pc_local_candidate_cb (RtcPeerConnection *pc, const char *candidate, gpointer user_data)
{
  BackupSession *self = user_data;

  /* Candidates found after the description went out are trickled. */
  if (self->run->description_sent && !self->run->pairing_closed)
    backup_pairing_send_candidate (self->run->pairing, candidate);
}

static void
pc_gathering_done_cb (RtcPeerConnection *pc, gpointer user_data)
{
  send_description (user_data);
}

static gboolean
gather_timeout_cb (gpointer user_data)
{
  BackupSession *self = user_data;

  self->run->gather_timeout_id = 0;
  g_debug ("gathering is slow: sending the candidates found so far");
  send_description (self);
  return G_SOURCE_REMOVE;
}

static void
description_created (BackupSession *self)
{
  self->run->description_created = TRUE;
  if (rtc_peer_connection_is_gathering_done (self->run->pc))
    {
      send_description (self);
      return;
    }
  g_clear_handle_id (&self->run->gather_timeout_id, g_source_remove);
  self->run->gather_timeout_id = g_timeout_add (GATHER_WAIT_MS, gather_timeout_cb, self);
}

/* The offer or the answer is ready (create_offer_async or
 * create_answer_async; the role tells which). */
static void
local_description_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  if (self->run->is_offerer)
    sdp = rtc_peer_connection_create_offer_finish (pc, result, &error);
  else
    sdp = rtc_peer_connection_create_answer_finish (pc, result, &error);
  if (sdp == NULL)
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->run->completing || self->run->pc == NULL)
    return;
  description_created (self);
}

static void
remote_description_cb (BackupPairing *pairing,
                       const char *type,
                       const char *sdp,
                       gpointer user_data)
{
  BackupSession *self = user_data;
  g_autoptr (GError) error = NULL;
  RtcSdpType sdp_type;
  JsonObject *ext;

  if (self->run->pc == NULL || self->run->completing)
    return;

  ext = backup_pairing_get_remote_extensions (pairing);
  self->run->peer_is_legacy = ext == NULL || !json_object_has_member (ext, BACKUP_FRAME_EXTENSION);
  g_debug ("remote %s from a %s peer", type, self->run->peer_is_legacy ? "legacy" : "current");

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      session_fail (self, g_error_new (RTC_ERROR, RTC_ERROR_INVALID_SDP,
                                       _("The peer sent a session description of unknown type "
                                         "“%s”"), type));
      return;
    }
  if (!rtc_peer_connection_set_remote_description (self->run->pc, sdp_type, sdp, &error))
    {
      g_prefix_error (&error, _("The peer's session description was refused: "));
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (sdp_type == RTC_SDP_TYPE_OFFER)
    rtc_peer_connection_create_answer_async (self->run->pc, self->run->cancellable, local_description_cb,
                                             g_object_ref (self));
}

/* What the peer connection would refuse is no offer or answer at all: a
 * stray or hostile file in the store must not end the pairing. */
static gboolean
check_remote_description (const char *type, const char *sdp, gpointer user_data, GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;
  RtcSdpType sdp_type;

  if (!rtc_sdp_type_from_string (type, &sdp_type))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP,
                   "a session description of unknown type “%s”", type);
      return FALSE;
    }
  desc = rtc_sdp_parse_as (sdp_type, sdp, error);
  return desc != NULL;
}

static void
remote_candidate_cb (BackupPairing *pairing, const char *candidate, gpointer user_data)
{
  BackupSession *self = user_data;
  g_autoptr (GError) error = NULL;

  if (self->run->pc == NULL || self->run->completing)
    return;
  if (!rtc_peer_connection_add_remote_candidate (self->run->pc, candidate, &error))
    g_debug ("ignoring a remote candidate: %s", error->message);
}

static void
pairing_failed_cb (BackupPairing *pairing, GError *error, gpointer user_data)
{
  BackupSession *self = user_data;

  /* Once connected, signaling no longer matters. */
  if (self->run->channel != NULL
      && rtc_data_channel_get_ready_state (self->run->channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    return;
  session_fail (self, g_error_copy (error));
}

static void
pairing_started_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSession) self = user_data;
  g_autoptr (GError) error = NULL;
  BackupPairingRole role;

  role = backup_pairing_start_finish (BACKUP_PAIRING (object), result, &error);
  if (role == BACKUP_PAIRING_ROLE_NONE)
    {
      session_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->run->completing || self->run->task == NULL)
    return;

  g_debug ("paired as %s", role == BACKUP_PAIRING_ROLE_OFFERER ? "offerer" : "answerer");
  self->run->is_offerer = role == BACKUP_PAIRING_ROLE_OFFERER;
  session_set_state (self, BACKUP_SESSION_STATE_CONNECTING);
  if (role == BACKUP_PAIRING_ROLE_OFFERER)
    {
      g_autoptr (RtcDataChannel) channel = NULL;

      channel = rtc_peer_connection_create_data_channel (self->run->pc, "data", "", &error);
      if (channel == NULL)
        {
          session_fail (self, g_steal_pointer (&error));
          return;
        }
      session_adopt_channel (self, channel);
      rtc_peer_connection_create_offer_async (self->run->pc, self->run->cancellable, local_description_cb,
                                              g_object_ref (self));
    }
  /* The answerer waits for the offer (remote_description_cb). */
}

/* Creates the peer connection and the pairing of this run, and starts
 * pairing. */
void
session_connect (BackupSession *self)
{
  g_autoptr (RtcConfiguration) config = rtc_configuration_copy (self->rtc_config);

  /* A peer may fetch our description late (the original tool polls every
   * few seconds and backs off): the connection has as long as pairing. */
  if (config->ice_timeout_ms == 0)
    config->ice_timeout_ms
        = (self->timeout > 0 ? self->timeout : BACKUP_PAIRING_DEFAULT_TIMEOUT) * 1000;
  self->run->pc = rtc_peer_connection_new (config);
  g_signal_connect (self->run->pc, "notify::connection-state", G_CALLBACK (pc_state_cb), self);
  g_signal_connect (self->run->pc, "data-channel", G_CALLBACK (pc_data_channel_cb), self);
  g_signal_connect (self->run->pc, "local-candidate", G_CALLBACK (pc_local_candidate_cb), self);
  g_signal_connect (self->run->pc, "gathering-done", G_CALLBACK (pc_gathering_done_cb), self);

  self->run->pairing = backup_pairing_new (self->signaling, self->session_id);
  backup_pairing_set_timeout (self->run->pairing, self->timeout);
  backup_pairing_set_description_check (self->run->pairing, check_remote_description, NULL, NULL);
  g_signal_connect (self->run->pairing, "remote-description", G_CALLBACK (remote_description_cb),
                    self);
  g_signal_connect (self->run->pairing, "remote-candidate", G_CALLBACK (remote_candidate_cb), self);
  g_signal_connect (self->run->pairing, "failed", G_CALLBACK (pairing_failed_cb), self);

  session_set_state (self, BACKUP_SESSION_STATE_PAIRING);
  backup_pairing_start_async (self->run->pairing, self->run->cancellable, pairing_started_cb,
                              g_object_ref (self));
}
