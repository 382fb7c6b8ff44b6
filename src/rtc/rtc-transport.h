/* rtc-transport.h: the base of every layer of the stack (ICE, DTLS, SCTP)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each transport holds the one below it and receives through a callback
 * that the layer above installs (rtc_transport_set_receive_func()). A
 * transport lives on the GMainContext that was thread-default when it was
 * created (its home context); all its methods must be called there, and it
 * calls its receive function and emits its signals there only.
 *
 * Packets handed to the receive function are only valid for the duration
 * of the call; the layer above copies what it keeps.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  RTC_TRANSPORT_STATE_NEW,
  RTC_TRANSPORT_STATE_CONNECTING,
  RTC_TRANSPORT_STATE_CONNECTED,
  RTC_TRANSPORT_STATE_FAILED, /* final; rtc_transport_get_error() tells why */
  RTC_TRANSPORT_STATE_CLOSED, /* final */
} RtcTransportState;


#define RTC_TYPE_TRANSPORT (rtc_transport_get_type ())
G_DECLARE_DERIVABLE_TYPE (RtcTransport, rtc_transport, RTC, TRANSPORT, GObject)

typedef void (*RtcTransportReceiveFunc) (RtcTransport *transport,
                                         const guint8 *data,
                                         gsize length,
                                         gpointer user_data);

struct _RtcTransportClass
{
  GObjectClass parent_class;

  /* Sends one packet (datagram semantics). Fails with RTC_ERROR_CLOSED or
   * RTC_ERROR_INVALID_STATE when not connected; a packet dropped for lack of
   * buffer space is not an error (the layers above retransmit). */
  gboolean (*send) (RtcTransport *self, const guint8 *data, gsize length, GError **error);
  /* Starts an orderly shutdown; the state becomes CLOSED when done. */
  void (*close) (RtcTransport *self);

  gpointer padding[8];
};

gboolean rtc_transport_send (RtcTransport *self, const guint8 *data, gsize length, GError **error);
void rtc_transport_close (RtcTransport *self);

RtcTransportState rtc_transport_get_state (RtcTransport *self);
/* The error that made the state FAILED, or NULL. */
const GError *rtc_transport_get_error (RtcTransport *self);
GMainContext *rtc_transport_get_context (RtcTransport *self);

void rtc_transport_set_receive_func (RtcTransport *self,
                                     RtcTransportReceiveFunc func,
                                     gpointer user_data,
                                     GDestroyNotify destroy);

/* For subclasses: hand a received packet to the layer above (dropped when no
 * receive function is installed yet; subclasses that must not lose early
 * packets queue them themselves). */
void rtc_transport_deliver (RtcTransport *self, const guint8 *data, gsize length);
/* For subclasses: change state (on the home context). @error is copied and
 * required when the new state is FAILED. Notifies "state" when it changed;
 * leaving a final state is ignored. */
void rtc_transport_set_state (RtcTransport *self, RtcTransportState state, const GError *error);

G_END_DECLS
