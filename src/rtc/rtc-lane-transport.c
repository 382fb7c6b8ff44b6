/* rtc-lane-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The lanes of one lower transport share a demultiplexer, reference
 * counted: the lower transport's receive function holds it, and so does
 * each lane. A lane that goes away clears its slot, so a packet for it is
 * dropped like any packet for an unknown port.
 */
#include "config.h"

#include "rtc-lane-transport.h"

typedef struct
{
  guint16 first_port;
  guint n_lanes;
  RtcLaneTransport **lanes; /* not owned */
} LaneDemux;

struct _RtcLaneTransport
{
  RtcTransport parent_instance;

  RtcTransport *lower;
  gulong lower_state_id;
  LaneDemux *demux; /* a reference */
  guint index;
};

G_DEFINE_FINAL_TYPE (RtcLaneTransport, rtc_lane_transport, RTC_TYPE_TRANSPORT)

static void
demux_clear (gpointer data)
{
  LaneDemux *demux = data;

  g_free (demux->lanes);
}

static void
demux_release (gpointer data)
{
  g_rc_box_release_full (data, demux_clear);
}

static void
demux_receive_cb (RtcTransport *lower, const guint8 *data, gsize length, gpointer user_data)
{
  LaneDemux *demux = user_data;
  guint port, index;

  /* An SCTP common header is 12 bytes; the destination port follows the
   * source port. */
  if (length < 12)
    return;
  port = ((guint) data[2] << 8) | data[3];
  if (port < demux->first_port)
    return;
  index = port - demux->first_port;
  if (index < demux->n_lanes && demux->lanes[index] != NULL)
    rtc_transport_deliver (RTC_TRANSPORT (demux->lanes[index]), data, length);
}

static void
follow_lower (RtcLaneTransport *self)
{
  RtcTransportState state = rtc_transport_get_state (self->lower);

  rtc_transport_set_state (RTC_TRANSPORT (self), state,
                           state == RTC_TRANSPORT_STATE_FAILED
                               ? rtc_transport_get_error (self->lower)
                               : NULL);
}

static void
lower_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  follow_lower (user_data);
}

static gboolean
rtc_lane_transport_send (RtcTransport *transport, const guint8 *data, gsize length, GError **error)
{
  RtcLaneTransport *self = RTC_LANE_TRANSPORT (transport);

  return rtc_transport_send (self->lower, data, length, error);
}

/* The lower transport is its owner's to close; a lane only stops. */
static void
rtc_lane_transport_close (RtcTransport *transport)
{
  rtc_transport_set_state (transport, RTC_TRANSPORT_STATE_CLOSED, NULL);
}

static void
rtc_lane_transport_dispose (GObject *object)
{
  RtcLaneTransport *self = RTC_LANE_TRANSPORT (object);

  if (self->demux != NULL)
    {
      if (self->demux->lanes[self->index] == self)
        self->demux->lanes[self->index] = NULL;
      g_clear_pointer (&self->demux, demux_release);
    }
  if (self->lower != NULL)
    {
      g_clear_signal_handler (&self->lower_state_id, self->lower);
      g_clear_object (&self->lower);
    }

  G_OBJECT_CLASS (rtc_lane_transport_parent_class)->dispose (object);
}

static void
rtc_lane_transport_class_init (RtcLaneTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RtcTransportClass *transport_class = RTC_TRANSPORT_CLASS (klass);

  object_class->dispose = rtc_lane_transport_dispose;
  transport_class->send = rtc_lane_transport_send;
  transport_class->close = rtc_lane_transport_close;
}

static void
rtc_lane_transport_init (RtcLaneTransport *self)
{
}

GPtrArray *
rtc_lane_transports_new (RtcTransport *lower, guint16 first_local_port, guint n_lanes)
{
  GPtrArray *lanes;
  LaneDemux *demux;

  g_return_val_if_fail (RTC_IS_TRANSPORT (lower), NULL);
  g_return_val_if_fail (n_lanes > 0 && (guint) first_local_port + n_lanes - 1 <= G_MAXUINT16,
                        NULL);

  demux = g_rc_box_new0 (LaneDemux);
  demux->first_port = first_local_port;
  demux->n_lanes = n_lanes;
  demux->lanes = g_new0 (RtcLaneTransport *, n_lanes);

  lanes = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_lanes; i++)
    {
      RtcLaneTransport *lane = g_object_new (RTC_TYPE_LANE_TRANSPORT, NULL);

      lane->lower = g_object_ref (lower);
      lane->demux = g_rc_box_acquire (demux);
      lane->index = i;
      demux->lanes[i] = lane;
      lane->lower_state_id
          = g_signal_connect (lower, "notify::state", G_CALLBACK (lower_state_cb), lane);
      follow_lower (lane);
      g_ptr_array_add (lanes, lane);
    }
  rtc_transport_set_receive_func (lower, demux_receive_cb, demux, demux_release);
  return lanes;
}
