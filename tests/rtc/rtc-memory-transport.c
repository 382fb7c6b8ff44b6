/* rtc-memory-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "rtc-error.h"
#include "rtc-memory-transport.h"

struct _RtcMemoryTransport
{
  RtcTransport parent_instance;

  GWeakRef peer;
  GQueue inbox; /* Pending packets for this end, in arrival order */
  GSource *deliver_source;
  guint drop_every;
  guint delay_ms; /* of packets sent from this end */
  guint64 sent;
  RtcMemoryTransportFilter filter;
  gpointer filter_data;
};

typedef struct
{
  GBytes *packet;
  gint64 due; /* monotonic time of delivery */
} Pending;

G_DEFINE_FINAL_TYPE (RtcMemoryTransport, rtc_memory_transport, RTC_TYPE_TRANSPORT)

static void
pending_free (gpointer data)
{
  Pending *pending = data;

  g_bytes_unref (pending->packet);
  g_free (pending);
}

static void schedule (RtcMemoryTransport *self);

static gboolean
deliver_cb (gpointer user_data)
{
  RtcMemoryTransport *self = user_data;
  g_autoptr (RtcMemoryTransport) hold = g_object_ref (self);
  gint64 now = g_get_monotonic_time ();
  Pending *pending;

  g_clear_pointer (&self->deliver_source, g_source_unref);

  while ((pending = g_queue_peek_head (&self->inbox)) != NULL && pending->due <= now)
    {
      gsize length;
      const guint8 *data = g_bytes_get_data (pending->packet, &length);

      g_queue_pop_head (&self->inbox);
      if (rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTED)
        rtc_transport_deliver (RTC_TRANSPORT (self), data, length);
      pending_free (pending);
    }
  schedule (self);

  return G_SOURCE_REMOVE;
}

/* Delivers the oldest pending packet when it is due: at once from an idle
 * source, or after its delay. */
static void
schedule (RtcMemoryTransport *self)
{
  Pending *head = g_queue_peek_head (&self->inbox);
  gint64 wait;

  if (head == NULL || self->deliver_source != NULL)
    return;
  wait = head->due - g_get_monotonic_time ();
  if (wait <= 0)
    self->deliver_source = g_idle_source_new ();
  else
    self->deliver_source = g_timeout_source_new ((guint) ((wait + 999) / 1000));
  g_source_set_callback (self->deliver_source, deliver_cb, self, NULL);
  g_source_attach (self->deliver_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
}

static void
enqueue (RtcMemoryTransport *self, GBytes *packet, guint delay_ms)
{
  Pending *pending = g_new (Pending, 1);

  pending->packet = packet;
  pending->due = delay_ms > 0 ? g_get_monotonic_time () + (gint64) delay_ms * 1000 : 0;
  g_queue_push_tail (&self->inbox, pending);
  schedule (self);
}

static gboolean
rtc_memory_transport_send (RtcTransport *transport, const guint8 *data, gsize length,
                           GError **error)
{
  RtcMemoryTransport *self = RTC_MEMORY_TRANSPORT (transport);
  g_autoptr (RtcMemoryTransport) peer = NULL;
  guint8 *copy;

  if (rtc_transport_get_state (transport) != RTC_TRANSPORT_STATE_CONNECTED)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE, "Transport not connected");
      return FALSE;
    }

  self->sent++;
  if (self->drop_every != 0 && self->sent % self->drop_every == 0)
    return TRUE;

  peer = g_weak_ref_get (&self->peer);
  if (peer == NULL)
    return TRUE;

  copy = g_memdup2 (data, length);
  if (self->filter != NULL && !self->filter (copy, length, self->filter_data))
    {
      g_free (copy);
      return TRUE;
    }

  enqueue (peer, g_bytes_new_take (copy, length), self->delay_ms);
  return TRUE;
}

static void
rtc_memory_transport_close (RtcTransport *transport)
{
  RtcMemoryTransport *self = RTC_MEMORY_TRANSPORT (transport);
  g_autoptr (RtcMemoryTransport) peer = g_weak_ref_get (&self->peer);

  rtc_transport_set_state (transport, RTC_TRANSPORT_STATE_CLOSED, NULL);
  if (peer != NULL)
    rtc_transport_set_state (RTC_TRANSPORT (peer), RTC_TRANSPORT_STATE_CLOSED, NULL);
}

static void
rtc_memory_transport_dispose (GObject *object)
{
  RtcMemoryTransport *self = RTC_MEMORY_TRANSPORT (object);

  if (self->deliver_source != NULL)
    {
      g_source_destroy (self->deliver_source);
      g_clear_pointer (&self->deliver_source, g_source_unref);
    }
  g_queue_clear_full (&self->inbox, pending_free);

  G_OBJECT_CLASS (rtc_memory_transport_parent_class)->dispose (object);
}

static void
rtc_memory_transport_finalize (GObject *object)
{
  RtcMemoryTransport *self = RTC_MEMORY_TRANSPORT (object);

  g_weak_ref_clear (&self->peer);

  G_OBJECT_CLASS (rtc_memory_transport_parent_class)->finalize (object);
}

static void
rtc_memory_transport_class_init (RtcMemoryTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RtcTransportClass *transport_class = RTC_TRANSPORT_CLASS (klass);

  object_class->dispose = rtc_memory_transport_dispose;
  object_class->finalize = rtc_memory_transport_finalize;
  transport_class->send = rtc_memory_transport_send;
  transport_class->close = rtc_memory_transport_close;
}

static void
rtc_memory_transport_init (RtcMemoryTransport *self)
{
  g_weak_ref_init (&self->peer, NULL);
  g_queue_init (&self->inbox);
}

void
rtc_memory_transport_new_pair (RtcMemoryTransport **a, RtcMemoryTransport **b)
{
  g_return_if_fail (a != NULL && b != NULL);

  *a = g_object_new (RTC_TYPE_MEMORY_TRANSPORT, NULL);
  *b = g_object_new (RTC_TYPE_MEMORY_TRANSPORT, NULL);
  g_weak_ref_set (&(*a)->peer, *b);
  g_weak_ref_set (&(*b)->peer, *a);
}

void
rtc_memory_transport_connect (RtcMemoryTransport *self)
{
  g_autoptr (RtcMemoryTransport) peer = NULL;

  g_return_if_fail (RTC_IS_MEMORY_TRANSPORT (self));

  peer = g_weak_ref_get (&self->peer);
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTED, NULL);
  if (peer != NULL)
    rtc_transport_set_state (RTC_TRANSPORT (peer), RTC_TRANSPORT_STATE_CONNECTED, NULL);
}

void
rtc_memory_transport_set_drop_every (RtcMemoryTransport *self, guint n)
{
  g_return_if_fail (RTC_IS_MEMORY_TRANSPORT (self));

  self->drop_every = n;
}

void
rtc_memory_transport_set_delay (RtcMemoryTransport *self, guint delay_ms)
{
  g_return_if_fail (RTC_IS_MEMORY_TRANSPORT (self));

  self->delay_ms = delay_ms;
}

void
rtc_memory_transport_set_filter (RtcMemoryTransport *self,
                                 RtcMemoryTransportFilter func,
                                 gpointer user_data)
{
  g_return_if_fail (RTC_IS_MEMORY_TRANSPORT (self));

  self->filter = func;
  self->filter_data = user_data;
}

guint64
rtc_memory_transport_get_sent_packets (RtcMemoryTransport *self)
{
  g_return_val_if_fail (RTC_IS_MEMORY_TRANSPORT (self), 0);

  return self->sent;
}
