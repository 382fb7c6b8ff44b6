/* rtc-lane-transport.h: one SCTP association's share of a DTLS transport
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * When both peers offer it (a=x-sctp-lanes), several SCTP associations run
 * over one DTLS transport, each with its own congestion window: on a long
 * path with random loss, where every loss halves a window, N associations
 * carry about N times what one does. They are told apart by their ports,
 * consecutive from the SDP's sctp-port.
 *
 * Each association reaches DTLS through its own lane: what it sends goes
 * down unchanged, and a packet received by DTLS goes to the lane whose local
 * port is the packet's destination port (bytes 2–3 of the SCTP common
 * header); others are dropped. A lane's state follows the lower transport's.
 */
#pragma once

#include "rtc-transport.h"

G_BEGIN_DECLS

#define RTC_TYPE_LANE_TRANSPORT (rtc_lane_transport_get_type ())
G_DECLARE_FINAL_TYPE (RtcLaneTransport, rtc_lane_transport, RTC, LANE_TRANSPORT, RtcTransport)

/* Takes over @lower's receive function. Returns @n_lanes new transports
 * (element-type RtcLaneTransport, owned by the array), lane i for the local
 * port @first_local_port + i. */
GPtrArray *rtc_lane_transports_new (RtcTransport *lower, guint16 first_local_port, guint n_lanes);

G_END_DECLS
