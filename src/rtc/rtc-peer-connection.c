/* rtc-peer-connection.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the offer/answer rules and the lazy chain of transports are one
 * state, and splitting them would only pass that state around.
 *
 * The transports are built lazily, each on top of the previous one: ICE
 * when the first offer or answer is created, DTLS once both descriptions
 * are known, SCTP when DTLS is connected. Data channels created before SCTP
 * connects wait in a list and are opened then.
 */
#include "config.h"

#include <string.h>

#include "rtc-enum-types.h"
#include "rtc-certificate.h"
#include "rtc-dtls-transport.h"
#include "rtc-error.h"
#include "rtc-ice-transport.h"
#include "rtc-peer-connection.h"
#include "rtc-channel-router.h"
#include "rtc-lane-transport.h"
#include "rtc-sctp-transport.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_MESSAGE_SIZE 262144
#define PATH_MTU_WAIT_MS 1500
/* An ICE restart's description goes out once the new transport has
 * gathered, or after this long with what it found. */
#define RESTART_GATHER_WAIT_MS 3000
/* How long one ICE restart may take to connect (or ice_timeout_ms when
 * shorter). A network that is still coming up (a laptop on a new Wi-Fi,
 * DHCP not done) is better served by another round, which gathers anew,
 * than by waiting out a long ICE timeout on what the first round found. */
#define RESTART_TIMEOUT_MS 15000

/* What the lanes share: one association's window, split, so that a path
 * without loss has no more in flight than with one; no lane below 512 KiB
 * (which fills 50 ms at 85 Mbit/s). */
#define LANES_RECEIVE_WINDOW (4 * 1024 * 1024)
#define LANE_MIN_RECEIVE_WINDOW (512 * 1024)
#define LANE_CHANNEL_LABEL "lane"

struct _RtcPeerConnection
{
  GObject parent_instance;

  GMainContext *context; /* home */
  RtcConfiguration *config;
  RtcPeerConnectionState state;
  GError *error;

  RtcCertificate *certificate;
  gboolean generating;
  GCancellable *cancellable;
  GPtrArray *waiting_tasks; /* GTask waiting for the certificate */

  RtcIceTransport *ice;
  RtcDtlsTransport *dtls;
  RtcSctpTransport *sctp;
  RtcChannelRouter *router; /* the data channels over sctp */
  /* With more than one lane: the RtcLaneTransport of each, and the
   * associations and routers of lanes 1 and up (lane 0 is sctp/router). */
  GPtrArray *lane_transports;
  GPtrArray *lane_sctps;
  GPtrArray *lane_routers;

  gboolean offerer;
  gboolean has_local;
  RtcDtlsSetup local_setup;
  gboolean dtls_client;
  char *mid;
  char *ice_ufrag;
  char *ice_pwd;
  GPtrArray *local_candidates; /* "candidate:..." */
  gboolean gathering_done;

  RtcSdpDescription *remote;
  GPtrArray *pending_candidates; /* remote, before ICE or the description */
  gboolean remote_end_of_candidates;

  GPtrArray *pending_channels; /* RtcDataChannel, until SCTP connects */
  GSource *timeout_source;
  /* Once DTLS is up, SCTP waits this long at most for ICE's path MTU probe
   * (an association's packet size is fixed when it is set up). */
  GSource *path_mtu_wait_source;
  gboolean path_mtu_wait_over;

  /* An ICE restart under way (rtc_peer_connection_restart_ice): the new
   * transport until it connects and takes the old one's place under DTLS,
   * its candidates, and its two timers (gathering, the whole restart). */
  RtcIceTransport *restart_ice;
  GPtrArray *restart_candidates;
  gboolean restart_ready;
  GSource *restart_gather_source;
  GSource *restart_deadline_source;
  gboolean restart_starting; /* inside rtc_peer_connection_restart_ice() */
  guint ice_restarts;
};

G_DEFINE_FINAL_TYPE (RtcPeerConnection, rtc_peer_connection, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_LOCAL_CANDIDATE,
  SIGNAL_GATHERING_DONE,
  SIGNAL_DATA_CHANNEL,
  SIGNAL_LANE_CHANNEL,
  SIGNAL_ICE_STALLED,
  SIGNAL_ICE_RESTART_READY,
  SIGNAL_ICE_RESTART_ENDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_final (RtcPeerConnection *self)
{
  return self->state == RTC_PEER_CONNECTION_STATE_FAILED
         || self->state == RTC_PEER_CONNECTION_STATE_CLOSED;
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
clear_timeout (RtcPeerConnection *self)
{
  clear_source (&self->timeout_source);
  clear_source (&self->path_mtu_wait_source);
}

static void
close_pending_channels (RtcPeerConnection *self)
{
  g_autoptr (GPtrArray) channels = g_steal_pointer (&self->pending_channels);

  self->pending_channels = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < channels->len; i++)
    rtc_data_channel_close (g_ptr_array_index (channels, i));
}

static void restart_clear (RtcPeerConnection *self);

static void
set_state (RtcPeerConnection *self, RtcPeerConnectionState state, const GError *error)
{
  g_autoptr (RtcPeerConnection) hold = NULL;

  if (self->state == state || is_final (self))
    return;

  hold = g_object_ref (self);
  if (state == RTC_PEER_CONNECTION_STATE_FAILED)
    {
      g_clear_error (&self->error);
      self->error = g_error_copy (error);
      g_debug ("Peer connection failed: %s", error->message);
    }
  self->state = state;
  if (is_final (self))
    {
      clear_timeout (self);
      restart_clear (self);
      close_pending_channels (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
}

static void
fail (RtcPeerConnection *self, const GError *error)
{
  set_state (self, RTC_PEER_CONNECTION_STATE_FAILED, error);
}

static guint
timeout_ms (RtcPeerConnection *self)
{
  return self->config->ice_timeout_ms != 0 ? self->config->ice_timeout_ms : DEFAULT_TIMEOUT_MS;
}

static gboolean
timeout_cb (gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->timeout_source, g_source_unref);
  error
      = g_error_new (RTC_ERROR, RTC_ERROR_TIMEOUT, "No connection within %u ms", timeout_ms (self));
  fail (self, error);
  return G_SOURCE_REMOVE;
}

/* --- SCTP --- */

static void
open_pending_channels (RtcPeerConnection *self)
{
  g_autoptr (GPtrArray) channels = g_steal_pointer (&self->pending_channels);

  self->pending_channels = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < channels->len; i++)
    {
      RtcDataChannel *channel = g_ptr_array_index (channels, i);
      g_autoptr (GError) error = NULL;

      if (rtc_data_channel_get_ready_state (channel) != RTC_DATA_CHANNEL_STATE_CONNECTING)
        continue;
      if (!rtc_channel_router_open_channel (self->router, channel, &error))
        g_debug ("Cannot open data channel %s: %s", rtc_data_channel_get_label (channel),
                 error->message);
    }
}

static void
sctp_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  RtcTransport *sctp = RTC_TRANSPORT (object);

  switch (rtc_transport_get_state (sctp))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      g_debug ("Peer connection connected");
      clear_timeout (self);
      set_state (self, RTC_PEER_CONNECTION_STATE_CONNECTED, NULL);
      open_pending_channels (self);
      break;
    case RTC_TRANSPORT_STATE_FAILED:
      fail (self, rtc_transport_get_error (sctp));
      break;
    case RTC_TRANSPORT_STATE_CLOSED:
      set_state (self, RTC_PEER_CONNECTION_STATE_CLOSED, NULL);
      break;
    default:
      break;
    }
}

static void
router_data_channel_cb (RtcChannelRouter *router, RtcDataChannel *channel, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  g_signal_emit (self, signals[SIGNAL_DATA_CHANNEL], 0, channel);
}

static guint
configured_lanes (RtcPeerConnection *self)
{
  return CLAMP (self->config->sctp_lanes, 1, RTC_SDP_MAX_SCTP_LANES);
}

/* What this side offers, or answers to the offer. */
static guint
local_lanes (RtcPeerConnection *self)
{
  if (self->remote != NULL)
    return MIN (configured_lanes (self), self->remote->sctp_lanes);
  return configured_lanes (self);
}

guint
rtc_peer_connection_get_sctp_lanes (RtcPeerConnection *self)
{
  guint lanes;

  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), 1);

  if (self->remote == NULL)
    return 1;
  /* The smaller count on both sides (the answer already says it), as far
   * as the ports of both go. */
  lanes = local_lanes (self);
  lanes = MIN (lanes, G_MAXUINT16 - RTC_SDP_DEFAULT_SCTP_PORT + 1);
  lanes = MIN (lanes, G_MAXUINT16 - (guint) self->remote->sctp_port + 1);
  return MAX (lanes, 1);
}

static void
lane_router_data_channel_cb (RtcChannelRouter *router, RtcDataChannel *channel, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  guint lane;

  if (!g_ptr_array_find (self->lane_routers, router, &lane))
    return;
  g_signal_emit (self, signals[SIGNAL_LANE_CHANNEL], 0, lane + 1, channel);
}

static void
lane_sctp_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  RtcTransport *sctp = RTC_TRANSPORT (object);
  guint lane;

  if (!g_ptr_array_find (self->lane_sctps, sctp, &lane))
    return;

  switch (rtc_transport_get_state (sctp))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      /* The DTLS client opens each lane's channel; the server hears of it
       * from its router. */
      if (self->dtls_client)
        {
          g_autoptr (RtcDataChannel) channel = rtc_data_channel_new (LANE_CHANNEL_LABEL, "", TRUE);
          g_autoptr (GError) error = NULL;

          if (!rtc_channel_router_open_channel (g_ptr_array_index (self->lane_routers, lane),
                                                channel, &error))
            {
              fail (self, error);
              return;
            }
          g_signal_emit (self, signals[SIGNAL_LANE_CHANNEL], 0, lane + 1, channel);
        }
      break;
    case RTC_TRANSPORT_STATE_FAILED:
      /* What runs over the lanes needs every one of them. */
      fail (self, rtc_transport_get_error (sctp));
      break;
    default:
      break;
    }
}

/* The SCTP packet size for the path ICE found: what one DTLS record of
 * the path MTU takes, less room for usrsctp's common header, which it
 * does not count in the path MTU it is given. */
static guint
path_packet_size (RtcPeerConnection *self)
{
  guint datagram = rtc_ice_transport_get_path_mtu (self->ice);

  if (datagram <= RTC_ICE_BASE_DATAGRAM)
    return RTC_SCTP_PACKET_SIZE;
  rtc_dtls_transport_raise_mtu (self->dtls, datagram);
  return MAX ((rtc_dtls_transport_get_record_capacity (self->dtls) - 16) & ~3u,
              RTC_SCTP_PACKET_SIZE);
}

static void
start_lanes (RtcPeerConnection *self, guint lanes, guint64 local_max, guint packet_size)
{
  gsize window = MAX (LANES_RECEIVE_WINDOW / lanes, LANE_MIN_RECEIVE_WINDOW);

  g_debug ("Running %u SCTP associations", lanes);
  self->lane_transports
      = rtc_lane_transports_new (RTC_TRANSPORT (self->dtls), RTC_SDP_DEFAULT_SCTP_PORT, lanes);
  self->lane_sctps = g_ptr_array_new_with_free_func (g_object_unref);
  self->lane_routers = g_ptr_array_new_with_free_func (g_object_unref);
  self->sctp = rtc_sctp_transport_new_full (g_ptr_array_index (self->lane_transports, 0),
                                            self->dtls_client, RTC_SDP_DEFAULT_SCTP_PORT,
                                            self->remote->sctp_port, window, packet_size);
  for (guint i = 1; i < lanes; i++)
    {
      RtcSctpTransport *sctp;
      RtcChannelRouter *router;

      sctp = rtc_sctp_transport_new_full (g_ptr_array_index (self->lane_transports, i),
                                          self->dtls_client,
                                          (guint16) (RTC_SDP_DEFAULT_SCTP_PORT + i),
                                          (guint16) (self->remote->sctp_port + i), window,
                                          packet_size);
      rtc_sctp_transport_set_max_message_sizes (sctp, local_max, self->remote->max_message_size);
      router = rtc_channel_router_new (sctp);
      g_ptr_array_add (self->lane_sctps, sctp);
      g_ptr_array_add (self->lane_routers, router);
      g_signal_connect (router, "data-channel", G_CALLBACK (lane_router_data_channel_cb), self);
    }
  for (guint i = 0; i < self->lane_sctps->len; i++)
    {
      GObject *sctp = g_ptr_array_index (self->lane_sctps, i);

      g_signal_connect (sctp, "notify::state", G_CALLBACK (lane_sctp_state_cb), self);
      lane_sctp_state_cb (sctp, NULL, self);
    }
}

static void
start_sctp (RtcPeerConnection *self)
{
  guint64 local_max = self->config->max_message_size != 0 ? self->config->max_message_size
                                                          : DEFAULT_MAX_MESSAGE_SIZE;
  guint lanes;
  guint packet_size;

  if (self->sctp != NULL)
    return;

  packet_size = path_packet_size (self);
  g_debug ("SCTP packets of up to %u bytes", packet_size);
  lanes = rtc_peer_connection_get_sctp_lanes (self);
  if (lanes > 1)
    start_lanes (self, lanes, local_max, packet_size);
  else
    self->sctp = rtc_sctp_transport_new_full (RTC_TRANSPORT (self->dtls), self->dtls_client,
                                              RTC_SDP_DEFAULT_SCTP_PORT, self->remote->sctp_port,
                                              0, packet_size);
  rtc_sctp_transport_set_max_message_sizes (self->sctp, local_max, self->remote->max_message_size);
  /* Before our own handlers: the channels hear of the association's end
   * first. */
  self->router = rtc_channel_router_new (self->sctp);
  g_signal_connect (self->router, "data-channel", G_CALLBACK (router_data_channel_cb), self);
  g_signal_connect (self->sctp, "notify::state", G_CALLBACK (sctp_state_cb), self);
  sctp_state_cb (G_OBJECT (self->sctp), NULL, self);
}

static gboolean
path_mtu_wait_cb (gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  g_clear_pointer (&self->path_mtu_wait_source, g_source_unref);
  self->path_mtu_wait_over = TRUE;
  g_debug ("No path MTU yet: SCTP starts with small packets");
  start_sctp (self);
  return G_SOURCE_REMOVE;
}

/* SCTP starts once DTLS is up and ICE's path MTU probe is over (or took
 * too long). */
static void
maybe_start_sctp (RtcPeerConnection *self)
{
  if (self->sctp != NULL || self->dtls == NULL
      || rtc_transport_get_state (RTC_TRANSPORT (self->dtls)) != RTC_TRANSPORT_STATE_CONNECTED)
    return;
  if (!self->path_mtu_wait_over && !rtc_ice_transport_is_path_mtu_settled (self->ice))
    {
      if (self->path_mtu_wait_source == NULL)
        {
          self->path_mtu_wait_source = g_timeout_source_new (PATH_MTU_WAIT_MS);
          g_source_set_callback (self->path_mtu_wait_source, path_mtu_wait_cb, self, NULL);
          g_source_attach (self->path_mtu_wait_source, self->context);
        }
      return;
    }
  clear_source (&self->path_mtu_wait_source);
  start_sctp (self);
}

/* A probe ended: before SCTP, it may start; after, a new pair may take less
 * than the associations send. */
static void
ice_path_mtu_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  guint packet_size;

  if (self->sctp == NULL)
    {
      maybe_start_sctp (self);
      return;
    }
  packet_size = path_packet_size (self);
  rtc_sctp_transport_lower_packet_size (self->sctp, packet_size);
  for (guint i = 0; self->lane_sctps != NULL && i < self->lane_sctps->len; i++)
    rtc_sctp_transport_lower_packet_size (g_ptr_array_index (self->lane_sctps, i), packet_size);
}

/* --- DTLS --- */

static void
dtls_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  RtcTransport *dtls = RTC_TRANSPORT (object);

  switch (rtc_transport_get_state (dtls))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      maybe_start_sctp (self);
      break;
    case RTC_TRANSPORT_STATE_FAILED:
      fail (self, rtc_transport_get_error (dtls));
      break;
    case RTC_TRANSPORT_STATE_CLOSED:
      if (self->sctp == NULL)
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                          "The peer closed the connection");

          fail (self, error);
        }
      break;
    default:
      break;
    }
}

static void
maybe_start_dtls (RtcPeerConnection *self)
{
  if (self->dtls != NULL || self->ice == NULL || self->remote == NULL || !self->has_local
      || is_final (self))
    return;

  g_debug ("Starting DTLS as %s", self->dtls_client ? "client" : "server");
  self->dtls = rtc_dtls_transport_new (RTC_TRANSPORT (self->ice), self->certificate,
                                       self->dtls_client, self->remote->fingerprint);
  rtc_dtls_transport_set_handshake_timeout (self->dtls, timeout_ms (self));
  g_signal_connect (self->dtls, "notify::state", G_CALLBACK (dtls_state_cb), self);

  set_state (self, RTC_PEER_CONNECTION_STATE_CONNECTING, NULL);
  dtls_state_cb (G_OBJECT (self->dtls), NULL, self);
}

/* --- ICE --- */

static void
ice_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  RtcTransport *ice = RTC_TRANSPORT (object);

  switch (rtc_transport_get_state (ice))
    {
    case RTC_TRANSPORT_STATE_FAILED:
      fail (self, rtc_transport_get_error (ice));
      break;

    case RTC_TRANSPORT_STATE_CONNECTED:
      /* ICE has its own deadline; this one bounds DTLS and SCTP. */
      if (self->timeout_source == NULL && !is_final (self)
          && self->state != RTC_PEER_CONNECTION_STATE_CONNECTED)
        {
          self->timeout_source = g_timeout_source_new (timeout_ms (self));
          g_source_set_callback (self->timeout_source, timeout_cb, self, NULL);
          g_source_attach (self->timeout_source, self->context);
        }
      break;

    default:
      break;
    }
}

static void
ice_local_candidate_cb (RtcIceTransport *ice, const char *candidate, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  g_ptr_array_add (self->local_candidates, g_strdup (candidate));
  g_signal_emit (self, signals[SIGNAL_LOCAL_CANDIDATE], 0, candidate);
}

static void
ice_gathering_done_cb (RtcIceTransport *ice, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  self->gathering_done = TRUE;
  g_signal_emit (self, signals[SIGNAL_GATHERING_DONE], 0);
}

/* Forwarded while the connection is up and no restart runs (see
 * "ice-stalled"). */
static void
ice_stalled_cb (RtcIceTransport *ice, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  if (self->restart_ice == NULL && self->state == RTC_PEER_CONNECTION_STATE_CONNECTED)
    g_signal_emit (self, signals[SIGNAL_ICE_STALLED], 0);
}

/* What the connection follows of the ICE transport that carries it. */
static void
watch_ice (RtcPeerConnection *self)
{
  g_signal_connect (self->ice, "notify::state", G_CALLBACK (ice_state_cb), self);
  g_signal_connect (self->ice, "notify::path-mtu", G_CALLBACK (ice_path_mtu_cb), self);
  g_signal_connect (self->ice, "stalled", G_CALLBACK (ice_stalled_cb), self);
}

/* --- ICE restart --- */

static guint
restart_timeout_ms (RtcPeerConnection *self)
{
  return MIN (timeout_ms (self), RESTART_TIMEOUT_MS);
}

static void
restart_clear (RtcPeerConnection *self)
{
  g_autoptr (RtcIceTransport) ice = g_steal_pointer (&self->restart_ice);

  clear_source (&self->restart_gather_source);
  clear_source (&self->restart_deadline_source);
  g_clear_pointer (&self->restart_candidates, g_ptr_array_unref);
  self->restart_ready = FALSE;
  if (ice != NULL)
    {
      g_signal_handlers_disconnect_by_data (ice, self);
      rtc_transport_close (RTC_TRANSPORT (ice));
    }
  /* The old path decides again, on all the silence so far. */
  if (self->ice != NULL)
    rtc_ice_transport_hold_liveness (self->ice, FALSE);
}

static void
restart_announce (RtcPeerConnection *self)
{
  clear_source (&self->restart_gather_source);
  if (self->restart_ready || self->restart_ice == NULL)
    return;
  self->restart_ready = TRUE;
  g_signal_emit (self, signals[SIGNAL_ICE_RESTART_READY], 0);
}

static gboolean
restart_gather_wait_cb (gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  g_clear_pointer (&self->restart_gather_source, g_source_unref);
  restart_announce (self);
  return G_SOURCE_REMOVE;
}

static gboolean
restart_deadline_cb (gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  g_clear_pointer (&self->restart_deadline_source, g_source_unref);
  g_debug ("ICE restart: no new path within %u ms", restart_timeout_ms (self));
  restart_clear (self);
  g_signal_emit (self, signals[SIGNAL_ICE_RESTART_ENDED], 0, FALSE);
  return G_SOURCE_REMOVE;
}

static void
restart_local_candidate_cb (RtcIceTransport *ice, const char *candidate, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  if (!self->restart_ready)
    g_ptr_array_add (self->restart_candidates, g_strdup (candidate));
}

/* Announced from the main loop, never from inside restart_ice(). */
static void
restart_gathering_done_cb (RtcIceTransport *ice, gpointer user_data)
{
  RtcPeerConnection *self = user_data;

  clear_source (&self->restart_gather_source);
  self->restart_gather_source = g_idle_source_new ();
  g_source_set_callback (self->restart_gather_source, restart_gather_wait_cb, self, NULL);
  g_source_attach (self->restart_gather_source, self->context);
}

/* The new transport connected: it takes the old one's place under DTLS,
 * and the old one is closed. SCTP and the channels never notice, apart
 * from what was lost in between (which SCTP sends again). */
static void
restart_swap (RtcPeerConnection *self)
{
  g_autoptr (RtcIceTransport) old = g_steal_pointer (&self->ice);
  g_autofree char *pair = NULL;

  g_signal_handlers_disconnect_by_data (old, self);
  g_signal_handlers_disconnect_by_data (self->restart_ice, self);
  self->ice = g_steal_pointer (&self->restart_ice);
  restart_clear (self);
  rtc_dtls_transport_replace_lower (self->dtls, RTC_TRANSPORT (self->ice));
  watch_ice (self);
  g_free (self->ice_ufrag);
  g_free (self->ice_pwd);
  rtc_ice_transport_get_local_credentials (self->ice, &self->ice_ufrag, &self->ice_pwd);
  rtc_transport_close (RTC_TRANSPORT (old));
  self->ice_restarts++;
  pair = rtc_ice_transport_dup_selected_pair (self->ice);
  g_debug ("ICE restart %u: now on %s", self->ice_restarts, pair != NULL ? pair : "a new pair");
  /* A probe of the new pair that is already over: a smaller path MTU
   * lowers the packet size now. */
  if (rtc_ice_transport_is_path_mtu_settled (self->ice))
    ice_path_mtu_cb (G_OBJECT (self->ice), NULL, self);
  g_signal_emit (self, signals[SIGNAL_ICE_RESTART_ENDED], 0, TRUE);
}

static void
restart_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcPeerConnection *self = user_data;
  RtcTransport *ice = RTC_TRANSPORT (object);

  switch (rtc_transport_get_state (ice))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      restart_swap (self);
      break;
    case RTC_TRANSPORT_STATE_FAILED:
      g_debug ("ICE restart failed: %s", rtc_transport_get_error (ice)->message);
      restart_clear (self);
      /* Failing at once (nothing to gather) is restart_ice()'s error. */
      if (!self->restart_starting)
        g_signal_emit (self, signals[SIGNAL_ICE_RESTART_ENDED], 0, FALSE);
      break;
    default:
      break;
    }
}

gboolean
rtc_peer_connection_restart_ice (RtcPeerConnection *self, GError **error)
{
  g_autoptr (RtcPeerConnection) hold = NULL;
  RtcIceTransport *ice;
  gboolean started;

  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state != RTC_PEER_CONNECTION_STATE_CONNECTED || self->dtls == NULL)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "Only a connected peer connection can restart ICE");
      return FALSE;
    }

  hold = g_object_ref (self);
  restart_clear (self);
  ice = self->restart_ice = rtc_ice_transport_new (self->config,
                                                   rtc_ice_transport_get_controlling (self->ice));
  self->restart_candidates = g_ptr_array_new_with_free_func (g_free);
  if (!self->config->fixed_packet_size)
    rtc_ice_transport_set_peer_max_datagram (ice, self->remote->max_datagram);
  g_signal_connect (ice, "local-candidate", G_CALLBACK (restart_local_candidate_cb), self);
  g_signal_connect (ice, "gathering-done", G_CALLBACK (restart_gathering_done_cb), self);
  g_signal_connect (ice, "notify::state", G_CALLBACK (restart_state_cb), self);
  /* The old path may come back; until the new one connects or the restart
   * gives up, silence on it does not end the connection. */
  rtc_ice_transport_hold_liveness (self->ice, TRUE);
  g_debug ("ICE restart %u: gathering", self->ice_restarts + 1);
  self->restart_starting = TRUE;
  started = rtc_ice_transport_gather (ice, error);
  self->restart_starting = FALSE;
  if (started && self->restart_ice != ice)
    {
      started = FALSE;
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_ICE_FAILED,
                           "The ICE restart found no local address to use");
    }
  if (!started)
    {
      restart_clear (self);
      return FALSE;
    }
  if (self->restart_gather_source == NULL)
    {
      self->restart_gather_source = g_timeout_source_new (RESTART_GATHER_WAIT_MS);
      g_source_set_callback (self->restart_gather_source, restart_gather_wait_cb, self, NULL);
      g_source_attach (self->restart_gather_source, self->context);
    }
  self->restart_deadline_source = g_timeout_source_new (restart_timeout_ms (self));
  g_source_set_callback (self->restart_deadline_source, restart_deadline_cb, self, NULL);
  g_source_attach (self->restart_deadline_source, self->context);
  return TRUE;
}

gboolean
rtc_peer_connection_get_restart_parameters (RtcPeerConnection *self,
                                            char **ufrag,
                                            char **pwd,
                                            GStrv *candidates)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  g_return_val_if_fail (ufrag != NULL && pwd != NULL && candidates != NULL, FALSE);

  if (self->restart_ice == NULL)
    return FALSE;
  rtc_ice_transport_get_local_credentials (self->restart_ice, ufrag, pwd);
  g_ptr_array_add (self->restart_candidates, NULL);
  *candidates = g_strdupv ((GStrv) self->restart_candidates->pdata);
  g_ptr_array_set_size (self->restart_candidates, self->restart_candidates->len - 1);
  return TRUE;
}

gboolean
rtc_peer_connection_set_remote_restart (RtcPeerConnection *self,
                                        const char *ufrag,
                                        const char *pwd,
                                        const char *const *candidates,
                                        GError **error)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  g_return_val_if_fail (ufrag != NULL && pwd != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->restart_ice == NULL && !rtc_peer_connection_restart_ice (self, error))
    return FALSE;
  rtc_ice_transport_set_remote_credentials (self->restart_ice, ufrag, pwd);
  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;

      if (!rtc_ice_transport_add_remote_candidate (self->restart_ice, candidates[i],
                                                   &local_error))
        g_debug ("ICE restart: ignoring a remote candidate: %s", local_error->message);
    }
  rtc_ice_transport_set_remote_gathering_done (self->restart_ice);
  return TRUE;
}

gboolean
rtc_peer_connection_is_restarting_ice (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);

  return self->restart_ice != NULL;
}

guint
rtc_peer_connection_get_ice_restarts (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), 0);

  return self->ice_restarts;
}

static void
feed_remote_candidates (RtcPeerConnection *self)
{
  if (self->ice == NULL || self->remote == NULL)
    return;

  for (guint i = 0; i < self->pending_candidates->len; i++)
    {
      g_autoptr (GError) error = NULL;
      const char *candidate = g_ptr_array_index (self->pending_candidates, i);

      if (!rtc_ice_transport_add_remote_candidate (self->ice, candidate, &error))
        g_debug ("Ignoring remote candidate: %s", error->message);
    }
  g_ptr_array_set_size (self->pending_candidates, 0);
  if (self->remote_end_of_candidates)
    rtc_ice_transport_set_remote_gathering_done (self->ice);
}

static void
apply_remote_to_ice (RtcPeerConnection *self)
{
  if (self->ice == NULL || self->remote == NULL)
    return;

  if (!self->config->fixed_packet_size)
    rtc_ice_transport_set_peer_max_datagram (self->ice, self->remote->max_datagram);
  rtc_ice_transport_set_remote_credentials (self->ice, self->remote->ice_ufrag,
                                            self->remote->ice_pwd);
  feed_remote_candidates (self);
}

static gboolean
ensure_ice (RtcPeerConnection *self, gboolean controlling, GError **error)
{
  if (self->ice != NULL)
    return TRUE;

  self->ice = rtc_ice_transport_new (self->config, controlling);
  rtc_ice_transport_get_local_credentials (self->ice, &self->ice_ufrag, &self->ice_pwd);
  g_signal_connect (self->ice, "local-candidate", G_CALLBACK (ice_local_candidate_cb), self);
  g_signal_connect (self->ice, "gathering-done", G_CALLBACK (ice_gathering_done_cb), self);
  watch_ice (self);
  apply_remote_to_ice (self);
  return rtc_ice_transport_gather (self->ice, error);
}

/* --- descriptions --- */

static char *
build_local_description (RtcPeerConnection *self)
{
  g_autoptr (RtcSdpDescription) desc = rtc_sdp_description_new ();

  desc->ice_ufrag = g_strdup (self->ice_ufrag);
  desc->ice_pwd = g_strdup (self->ice_pwd);
  rtc_certificate_get_fingerprint (self->certificate, desc->fingerprint);
  desc->setup = self->local_setup;
  g_free (desc->mid);
  desc->mid = g_strdup (self->mid);
  desc->sctp_port = RTC_SDP_DEFAULT_SCTP_PORT;
  desc->sctp_lanes = local_lanes (self);
  desc->max_datagram = self->config->fixed_packet_size ? 0 : RTC_ICE_MAX_RECEIVE_DATAGRAM;
  desc->max_message_size = self->config->max_message_size != 0 ? self->config->max_message_size
                                                               : DEFAULT_MAX_MESSAGE_SIZE;
  for (guint i = 0; i < self->local_candidates->len; i++)
    g_ptr_array_add (desc->candidates, g_strdup (g_ptr_array_index (self->local_candidates, i)));
  desc->end_of_candidates = self->gathering_done;
  return rtc_sdp_generate (desc);
}

char *
rtc_peer_connection_get_local_description (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);

  if (!self->has_local)
    return NULL;
  return build_local_description (self);
}

static char *
create_description (RtcPeerConnection *self, gboolean offer, GError **error)
{
  if (is_final (self))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_CLOSED, "The peer connection is closed");
      return NULL;
    }

  if (offer)
    {
      if (self->remote != NULL || (self->has_local && !self->offerer))
        {
          g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                               "Renegotiation is not supported");
          return NULL;
        }
      self->offerer = TRUE;
      self->local_setup = RTC_DTLS_SETUP_ACTPASS;
      if (!ensure_ice (self, TRUE, error))
        return NULL;
    }
  else
    {
      if (self->remote == NULL || self->offerer)
        {
          g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                               "An answer needs a remote offer");
          return NULL;
        }
      /* We are the DTLS client unless the offer insists on being it. */
      if (self->remote->setup == RTC_DTLS_SETUP_ACTIVE)
        {
          self->local_setup = RTC_DTLS_SETUP_PASSIVE;
          self->dtls_client = FALSE;
        }
      else
        {
          self->local_setup = RTC_DTLS_SETUP_ACTIVE;
          self->dtls_client = TRUE;
        }
      g_free (self->mid);
      self->mid = g_strdup (self->remote->mid);
      if (!ensure_ice (self, FALSE, error))
        return NULL;
    }

  self->has_local = TRUE;
  maybe_start_dtls (self);
  return build_local_description (self);
}

static void
complete_task (RtcPeerConnection *self, GTask *task)
{
  g_autoptr (GError) error = NULL;
  gboolean offer = GPOINTER_TO_INT (g_task_get_task_data (task));
  char *sdp;

  if (self->certificate == NULL)
    {
      g_task_return_new_error (task, RTC_ERROR, RTC_ERROR_CLOSED, "The peer connection is closed");
      return;
    }
  sdp = create_description (self, offer, &error);
  if (sdp == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, sdp, g_free);
}

static void
certificate_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (RtcPeerConnection) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) tasks = NULL;
  RtcCertificate *certificate = rtc_certificate_generate_finish (result, &error);

  self->generating = FALSE;
  tasks = g_steal_pointer (&self->waiting_tasks);
  self->waiting_tasks = g_ptr_array_new_with_free_func (g_object_unref);

  if (certificate == NULL)
    {
      for (guint i = 0; i < tasks->len; i++)
        g_task_return_error (g_ptr_array_index (tasks, i), g_error_copy (error));
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, error);
      return;
    }

  self->certificate = certificate;
  for (guint i = 0; i < tasks->len; i++)
    complete_task (self, g_ptr_array_index (tasks, i));
}

static void
create_async (RtcPeerConnection *self, gboolean offer, gpointer source_tag,
              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, GINT_TO_POINTER (offer), NULL);

  if (self->certificate != NULL)
    {
      complete_task (self, task);
      return;
    }

  g_ptr_array_add (self->waiting_tasks, g_steal_pointer (&task));
  if (!self->generating)
    {
      self->generating = TRUE;
      rtc_certificate_generate_async (self->cancellable, certificate_ready_cb, g_object_ref (self));
    }
}

void
rtc_peer_connection_create_offer_async (RtcPeerConnection *self,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_return_if_fail (RTC_IS_PEER_CONNECTION (self));

  create_async (self, TRUE, rtc_peer_connection_create_offer_async, cancellable, callback,
                user_data);
}

char *
rtc_peer_connection_create_offer_finish (RtcPeerConnection *self, GAsyncResult *result,
                                         GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == rtc_peer_connection_create_offer_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
rtc_peer_connection_create_answer_async (RtcPeerConnection *self,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_return_if_fail (RTC_IS_PEER_CONNECTION (self));

  create_async (self, FALSE, rtc_peer_connection_create_answer_async, cancellable, callback,
                user_data);
}

char *
rtc_peer_connection_create_answer_finish (RtcPeerConnection *self, GAsyncResult *result,
                                          GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == rtc_peer_connection_create_answer_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* With a pinned fingerprint, a description that names another certificate
 * is refused; DTLS then checks that the peer holds the one it names. */
static gboolean
check_pinned_fingerprint (RtcPeerConnection *self, RtcSdpDescription *desc, GError **error)
{
  guint8 pinned[RTC_SDP_FINGERPRINT_LEN];
  g_autofree char *expected = NULL;
  g_autofree char *presented = NULL;

  if (self->config->peer_fingerprint == NULL)
    return TRUE;
  if (!rtc_sdp_fingerprint_from_string (self->config->peer_fingerprint, pinned, NULL))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH,
                           "the expected certificate fingerprint is not one");
      return FALSE;
    }
  if (memcmp (pinned, desc->fingerprint, RTC_SDP_FINGERPRINT_LEN) == 0)
    return TRUE;

  expected = rtc_sdp_fingerprint_to_string (pinned);
  presented = rtc_sdp_fingerprint_to_string (desc->fingerprint);
  g_set_error (error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH,
               "expected the certificate fingerprint %s, the peer presented %s", expected,
               presented);
  return FALSE;
}

char *
rtc_peer_connection_get_remote_fingerprint (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);

  if (self->remote == NULL)
    return NULL;
  return rtc_sdp_fingerprint_to_string (self->remote->fingerprint);
}

char *
rtc_peer_connection_get_local_fingerprint (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);

  if (self->certificate == NULL)
    return NULL;
  return rtc_certificate_get_fingerprint_string (self->certificate);
}

gboolean
rtc_peer_connection_set_remote_description (RtcPeerConnection *self,
                                            RtcSdpType type,
                                            const char *sdp,
                                            GError **error)
{
  g_autoptr (RtcSdpDescription) desc = NULL;

  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  g_return_val_if_fail (sdp != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (is_final (self))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_CLOSED, "The peer connection is closed");
      return FALSE;
    }
  if (self->remote != NULL)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "The remote description is already set");
      return FALSE;
    }
  if (type == RTC_SDP_TYPE_OFFER && self->has_local)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "An offer was already created here");
      return FALSE;
    }
  if (type == RTC_SDP_TYPE_ANSWER && !(self->has_local && self->offerer))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "An answer needs a local offer");
      return FALSE;
    }

  desc = rtc_sdp_parse_as (type, sdp, error);
  if (desc == NULL)
    return FALSE;
  if (!check_pinned_fingerprint (self, desc, error))
    return FALSE;

  if (type == RTC_SDP_TYPE_ANSWER)
    self->dtls_client = desc->setup == RTC_DTLS_SETUP_PASSIVE;

  /* Candidates listed in the description go before those trickled earlier. */
  for (guint i = 0; i < desc->candidates->len; i++)
    g_ptr_array_insert (self->pending_candidates, i,
                        g_strdup (g_ptr_array_index (desc->candidates, i)));
  if (desc->end_of_candidates)
    self->remote_end_of_candidates = TRUE;

  self->remote = g_steal_pointer (&desc);
  apply_remote_to_ice (self);
  maybe_start_dtls (self);
  return TRUE;
}

gboolean
rtc_peer_connection_add_remote_candidate (RtcPeerConnection *self, const char *candidate,
                                          GError **error)
{
  g_autofree char *normalized = NULL;
  g_autofree char *stripped = NULL;
  guint component;

  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  g_return_val_if_fail (candidate != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stripped = g_strstrip (g_strdup (candidate));
  if (stripped[0] == '\0' || g_str_equal (stripped, "end-of-candidates")
      || g_str_equal (stripped, "a=end-of-candidates"))
    {
      self->remote_end_of_candidates = TRUE;
      if (self->ice != NULL && self->remote != NULL)
        rtc_ice_transport_set_remote_gathering_done (self->ice);
      return TRUE;
    }

  normalized = rtc_sdp_normalize_candidate (stripped, &component, error);
  if (normalized == NULL)
    return FALSE;
  if (component != 1)
    return TRUE;

  g_ptr_array_add (self->pending_candidates, g_steal_pointer (&normalized));
  feed_remote_candidates (self);
  return TRUE;
}

RtcDataChannel *
rtc_peer_connection_create_data_channel (RtcPeerConnection *self,
                                         const char *label,
                                         const char *protocol,
                                         GError **error)
{
  g_autoptr (RtcDataChannel) channel = NULL;

  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (is_final (self))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_CLOSED, "The peer connection is closed");
      return NULL;
    }

  channel = rtc_data_channel_new (label, protocol, TRUE);
  if (self->sctp != NULL
      && rtc_transport_get_state (RTC_TRANSPORT (self->sctp)) == RTC_TRANSPORT_STATE_CONNECTED)
    {
      if (!rtc_channel_router_open_channel (self->router, channel, error))
        return NULL;
    }
  else
    g_ptr_array_add (self->pending_channels, g_object_ref (channel));

  return g_steal_pointer (&channel);
}

RtcPeerConnectionState
rtc_peer_connection_get_connection_state (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), RTC_PEER_CONNECTION_STATE_CLOSED);
  return self->state;
}

const GError *
rtc_peer_connection_get_error (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);
  return self->error;
}

gboolean
rtc_peer_connection_is_gathering_done (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), FALSE);
  return self->gathering_done;
}

RtcIceTransport *
rtc_peer_connection_get_ice_transport (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), NULL);
  return self->ice;
}

static void
disconnect_lanes (RtcPeerConnection *self)
{
  for (guint i = 0; self->lane_routers != NULL && i < self->lane_routers->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->lane_routers, i), self);
  for (guint i = 0; self->lane_sctps != NULL && i < self->lane_sctps->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->lane_sctps, i), self);
}

static void
disconnect_transports (RtcPeerConnection *self)
{
  disconnect_lanes (self);
  if (self->router != NULL)
    g_signal_handlers_disconnect_by_data (self->router, self);
  if (self->sctp != NULL)
    g_signal_handlers_disconnect_by_data (self->sctp, self);
  if (self->dtls != NULL)
    g_signal_handlers_disconnect_by_data (self->dtls, self);
  if (self->ice != NULL)
    g_signal_handlers_disconnect_by_data (self->ice, self);
}

void
rtc_peer_connection_close (RtcPeerConnection *self)
{
  g_autoptr (RtcPeerConnection) hold = NULL;

  g_return_if_fail (RTC_IS_PEER_CONNECTION (self));

  if (self->state == RTC_PEER_CONNECTION_STATE_CLOSED)
    return;

  hold = g_object_ref (self);
  g_cancellable_cancel (self->cancellable);
  restart_clear (self);
  disconnect_transports (self);
  /* SHUTDOWN, then close_notify, then ICE: each goes out before the layer
   * below stops. The peer's channels and connection close. */
  for (guint i = 0; self->lane_sctps != NULL && i < self->lane_sctps->len; i++)
    rtc_transport_close (g_ptr_array_index (self->lane_sctps, i));
  if (self->sctp != NULL)
    rtc_transport_close (RTC_TRANSPORT (self->sctp));
  if (self->dtls != NULL)
    rtc_transport_close (RTC_TRANSPORT (self->dtls));
  if (self->ice != NULL)
    rtc_transport_close (RTC_TRANSPORT (self->ice));

  self->state = RTC_PEER_CONNECTION_STATE_CLOSED;
  clear_timeout (self);
  close_pending_channels (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
}

void
rtc_peer_connection_abort (RtcPeerConnection *self)
{
  g_autoptr (RtcPeerConnection) hold = NULL;

  g_return_if_fail (RTC_IS_PEER_CONNECTION (self));

  if (self->state == RTC_PEER_CONNECTION_STATE_CLOSED)
    return;

  hold = g_object_ref (self);
  g_cancellable_cancel (self->cancellable);
  restart_clear (self);
  disconnect_transports (self);
  /* An SCTP ABORT, then ICE stops (its queued packets, the ABORT among
   * them, go out first). No SHUTDOWN, stream reset or DTLS close_notify:
   * each is a clean end to the peer. Should the ABORT be lost, the peer
   * sees a connection gone silent, which is no clean end either. DTLS
   * stops with ICE, without a close_notify. */
  for (guint i = 0; self->lane_sctps != NULL && i < self->lane_sctps->len; i++)
    rtc_sctp_transport_abort (g_ptr_array_index (self->lane_sctps, i));
  if (self->sctp != NULL)
    rtc_sctp_transport_abort (self->sctp);
  if (self->ice != NULL)
    rtc_transport_close (RTC_TRANSPORT (self->ice));

  self->state = RTC_PEER_CONNECTION_STATE_CLOSED;
  clear_timeout (self);
  close_pending_channels (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_STATE]);
}

static void
rtc_peer_connection_dispose (GObject *object)
{
  RtcPeerConnection *self = RTC_PEER_CONNECTION (object);

  g_cancellable_cancel (self->cancellable);
  clear_timeout (self);
  restart_clear (self);
  disconnect_transports (self);
  /* Without close(): the channels fail and the association is aborted. */
  g_clear_pointer (&self->lane_routers, g_ptr_array_unref);
  g_clear_pointer (&self->lane_sctps, g_ptr_array_unref);
  g_clear_object (&self->router);
  g_clear_object (&self->sctp);
  g_clear_pointer (&self->lane_transports, g_ptr_array_unref);
  g_clear_object (&self->dtls);
  g_clear_object (&self->ice);
  if (self->pending_channels != NULL)
    close_pending_channels (self);

  G_OBJECT_CLASS (rtc_peer_connection_parent_class)->dispose (object);
}

static void
rtc_peer_connection_finalize (GObject *object)
{
  RtcPeerConnection *self = RTC_PEER_CONNECTION (object);

  g_clear_pointer (&self->config, rtc_configuration_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->error);
  g_clear_object (&self->certificate);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->waiting_tasks, g_ptr_array_unref);
  g_free (self->mid);
  g_free (self->ice_ufrag);
  g_free (self->ice_pwd);
  g_clear_pointer (&self->local_candidates, g_ptr_array_unref);
  g_clear_pointer (&self->remote, rtc_sdp_description_free);
  g_clear_pointer (&self->pending_candidates, g_ptr_array_unref);
  g_clear_pointer (&self->pending_channels, g_ptr_array_unref);

  G_OBJECT_CLASS (rtc_peer_connection_parent_class)->finalize (object);
}

static void
rtc_peer_connection_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RtcPeerConnection *self = RTC_PEER_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_CONNECTION_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rtc_peer_connection_class_init (RtcPeerConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rtc_peer_connection_dispose;
  object_class->finalize = rtc_peer_connection_finalize;
  object_class->get_property = rtc_peer_connection_get_property;

  properties[PROP_CONNECTION_STATE] =
    g_param_spec_enum ("connection-state", NULL, NULL, RTC_TYPE_PEER_CONNECTION_STATE,
                       RTC_PEER_CONNECTION_STATE_NEW,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RtcPeerConnection::local-candidate:
   * @candidate: "candidate:..." (no "a=", no line end), for the peer's
   *   rtc_peer_connection_add_remote_candidate()
   */
  signals[SIGNAL_LOCAL_CANDIDATE] =
    g_signal_new ("local-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_GATHERING_DONE] =
    g_signal_new ("gathering-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  /**
   * RtcPeerConnection::data-channel:
   * @channel: an open channel the peer created
   */
  signals[SIGNAL_DATA_CHANNEL] =
    g_signal_new ("data-channel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, RTC_TYPE_DATA_CHANNEL);
  /**
   * RtcPeerConnection::lane-channel:
   * @lane: 1 and up
   * @channel: the one channel of that lane's association: created here on
   *   the DTLS client (open once "open" comes), by the peer on the server
   *   (already open)
   */
  signals[SIGNAL_LANE_CHANNEL] =
    g_signal_new ("lane-channel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, RTC_TYPE_DATA_CHANNEL);
  /**
   * RtcPeerConnection::ice-stalled:
   *
   * Nothing arrived from the peer for RTC_ICE_STALL_MS while connected and
   * no ICE restart runs; emitted about once a second while that lasts. The
   * path may have changed: rtc_peer_connection_restart_ice() looks for a
   * new one.
   */
  signals[SIGNAL_ICE_STALLED] =
    g_signal_new ("ice-stalled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  /**
   * RtcPeerConnection::ice-restart-ready:
   *
   * The restart's credentials and candidates are known
   * (rtc_peer_connection_get_restart_parameters()), for the peer.
   */
  signals[SIGNAL_ICE_RESTART_READY] =
    g_signal_new ("ice-restart-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 0);
  /**
   * RtcPeerConnection::ice-restart-ended:
   * @connected: the restart's transport connected and now carries the
   *   connection; FALSE: it gave up (failed or timed out)
   *
   * Not emitted for a restart that a new one replaced, nor on close.
   */
  signals[SIGNAL_ICE_RESTART_ENDED] =
    g_signal_new ("ice-restart-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
rtc_peer_connection_init (RtcPeerConnection *self)
{
  self->state = RTC_PEER_CONNECTION_STATE_NEW;
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->waiting_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->mid = g_strdup ("0");
  self->local_candidates = g_ptr_array_new_with_free_func (g_free);
  self->pending_candidates = g_ptr_array_new_with_free_func (g_free);
  self->pending_channels = g_ptr_array_new_with_free_func (g_object_unref);
}

RtcPeerConnection *
rtc_peer_connection_new (const RtcConfiguration *config)
{
  RtcPeerConnection *self = g_object_new (RTC_TYPE_PEER_CONNECTION, NULL);

  self->config = config != NULL ? rtc_configuration_copy (config) : rtc_configuration_new ();
  /* A given certificate, else one generated on first use. */
  if (self->config->certificate != NULL)
    self->certificate = g_object_ref (self->config->certificate);
  return self;
}

guint
rtc_peer_connection_get_sctp_packet_size (RtcPeerConnection *self)
{
  g_return_val_if_fail (RTC_IS_PEER_CONNECTION (self), 0);

  return self->sctp != NULL ? rtc_sctp_transport_get_packet_size (self->sctp) : 0;
}
