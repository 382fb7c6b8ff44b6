/* rtc-memory-transport.h: a pair of connected in-process transports for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Packets sent on one end are delivered to the other from an idle source on
 * the receiver's home context (never re-entrantly from send()), at once or
 * after a delay. Loss and corruption can be injected.
 */
#pragma once

#include "rtc-transport.h"

G_BEGIN_DECLS

#define RTC_TYPE_MEMORY_TRANSPORT (rtc_memory_transport_get_type ())
G_DECLARE_FINAL_TYPE (RtcMemoryTransport, rtc_memory_transport, RTC, MEMORY_TRANSPORT, RtcTransport)

/* Creates two ends, both in state NEW, linked to each other. */
void rtc_memory_transport_new_pair (RtcMemoryTransport **a, RtcMemoryTransport **b);

/* Moves both ends of the pair to CONNECTED. */
void rtc_memory_transport_connect (RtcMemoryTransport *self);

/* Drops every n-th packet sent from this end (0: none). */
void rtc_memory_transport_set_drop_every (RtcMemoryTransport *self, guint n);

/* Delivers each packet sent from this end @delay_ms after it was sent (0:
 * from the next idle moment, the default). */
void rtc_memory_transport_set_delay (RtcMemoryTransport *self, guint delay_ms);

/* Calls @func on each packet sent from this end before delivery; it may
 * change bytes in place (corruption) or return FALSE to drop the packet. */
typedef gboolean (*RtcMemoryTransportFilter) (guint8 *data, gsize length, gpointer user_data);
void rtc_memory_transport_set_filter (RtcMemoryTransport *self,
                                      RtcMemoryTransportFilter func,
                                      gpointer user_data);

/* Packets sent from this end so far. */
guint64 rtc_memory_transport_get_sent_packets (RtcMemoryTransport *self);

G_END_DECLS
