/* rtc-channel-router.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "rtc-channel-router.h"
#include "rtc-data-channel-private.h"
#include "rtc-dcep.h"
#include "rtc-error.h"

struct _RtcChannelRouter
{
  GObject parent_instance;

  RtcSctpTransport *sctp;
  GHashTable *channels; /* stream → RtcDataChannel (owned) */
  guint32 next_stream;
  gboolean closing; /* the association is closed from here */
};

G_DEFINE_FINAL_TYPE (RtcChannelRouter, rtc_channel_router, G_TYPE_OBJECT)

enum
{
  SIGNAL_DATA_CHANNEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static RtcDataChannel *
lookup (RtcChannelRouter *self, guint stream)
{
  return g_hash_table_lookup (self->channels, GUINT_TO_POINTER (stream));
}

/* A strong reference to each channel, safe to walk while handlers run. */
static GPtrArray *
list_channels (RtcChannelRouter *self)
{
  GPtrArray *channels = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (channels, g_object_ref (value));
  return channels;
}

static void
detach_channels (RtcChannelRouter *self, const GError *error)
{
  g_autoptr (GPtrArray) channels = list_channels (self);

  g_hash_table_remove_all (self->channels);
  for (guint i = 0; i < channels->len; i++)
    rtc_data_channel_detach (g_ptr_array_index (channels, i), error);
}

static void
handle_dcep (RtcChannelRouter *self, guint stream, GBytes *data)
{
  g_autoptr (GError) error = NULL;
  RtcDcepMessageType type;
  RtcDcepOpen open = { 0 };
  gsize length;
  const guint8 *bytes = g_bytes_get_data (data, &length);
  RtcDataChannel *channel = lookup (self, stream);

  if (!rtc_dcep_parse (bytes, length, &type, &open, &error))
    {
      g_debug ("Ignoring DCEP message on stream %u: %s", stream, error->message);
      return;
    }

  if (type == RTC_DCEP_MESSAGE_ACK)
    {
      if (channel != NULL)
        rtc_data_channel_handle_ack (channel);
      return;
    }

  if (channel != NULL)
    {
      g_debug ("Ignoring DATA_CHANNEL_OPEN for stream %u, which is in use", stream);
      rtc_dcep_open_clear (&open);
      return;
    }

  channel = rtc_data_channel_new_remote (self->sctp, (guint16) stream, &open);
  rtc_dcep_open_clear (&open);
  g_hash_table_insert (self->channels, GUINT_TO_POINTER (stream), channel);
  g_signal_emit (self, signals[SIGNAL_DATA_CHANNEL], 0, channel);
}

static void
message_cb (RtcSctpTransport *sctp, guint stream, guint ppid, GBytes *data, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcDataChannel *channel;

  if (ppid == RTC_PPID_DCEP)
    {
      handle_dcep (self, stream, data);
      return;
    }
  channel = lookup (self, stream);
  if (channel != NULL)
    rtc_data_channel_handle_message (channel, ppid, data);
  else
    g_debug ("Ignoring a message on stream %u, which no data channel uses", stream);
}

static void
stream_reset_cb (RtcSctpTransport *sctp, guint stream, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcDataChannel *channel = lookup (self, stream);

  if (channel != NULL)
    {
      g_autoptr (RtcDataChannel) hold = g_object_ref (channel);

      g_hash_table_remove (self->channels, GUINT_TO_POINTER (stream));
      rtc_data_channel_handle_remote_reset (channel);
    }
}

static void
local_reset_done_cb (RtcSctpTransport *sctp, guint stream, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcDataChannel *channel = lookup (self, stream);

  if (channel != NULL)
    {
      g_autoptr (RtcDataChannel) hold = g_object_ref (channel);

      /* It stays bound until the peer's reset comes (or it gives up
       * waiting): the stream is not free before. */
      rtc_data_channel_handle_local_reset_done (channel);
      if (rtc_data_channel_get_ready_state (channel) == RTC_DATA_CHANNEL_STATE_CLOSED)
        g_hash_table_remove (self->channels, GUINT_TO_POINTER (stream));
    }
}

static gboolean
stream_error_cb (RtcSctpTransport *sctp, guint stream, GError *error, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcDataChannel *channel = lookup (self, stream);
  g_autoptr (RtcDataChannel) hold = NULL;

  if (channel == NULL)
    return FALSE;
  hold = g_object_ref (channel);
  rtc_data_channel_handle_error (channel, error);
  rtc_data_channel_close (channel);
  return TRUE;
}

static void
acked_cb (RtcSctpTransport *sctp, guint stream, guint64 bytes, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcDataChannel *channel = lookup (self, stream);

  if (channel != NULL)
    {
      g_autoptr (RtcDataChannel) hold = g_object_ref (channel);

      rtc_data_channel_handle_acked (channel, bytes);
    }
}

static void
writable_cb (RtcSctpTransport *sctp, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  g_autoptr (GPtrArray) channels = list_channels (self);

  for (guint i = 0; i < channels->len && !rtc_sctp_transport_is_blocked (sctp); i++)
    rtc_data_channel_flush (g_ptr_array_index (channels, i));
}

static void
closing_cb (RtcSctpTransport *sctp, gpointer user_data)
{
  RtcChannelRouter *self = user_data;

  /* Closed from here: the channels end cleanly. */
  self->closing = TRUE;
  detach_channels (self, NULL);
}

static void
state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcChannelRouter *self = user_data;
  RtcTransport *sctp = RTC_TRANSPORT (object);
  RtcTransportState state = rtc_transport_get_state (sctp);
  const GError *error;
  g_autoptr (GError) unannounced = NULL;

  if (state != RTC_TRANSPORT_STATE_FAILED && state != RTC_TRANSPORT_STATE_CLOSED)
    return;

  /* The peer ended the association (DTLS close_notify, SCTP SHUTDOWN)
   * without closing its channels first: they did not end cleanly. */
  error = rtc_transport_get_error (sctp);
  if (error == NULL && !self->closing && !rtc_sctp_transport_is_closing (self->sctp))
    error = unannounced = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                               "The peer closed the connection without "
                                               "closing the data channel");
  detach_channels (self, error);
}

gboolean
rtc_channel_router_open_channel (RtcChannelRouter *self, RtcDataChannel *channel, GError **error)
{
  guint16 stream = 0;
  gboolean found = FALSE;

  g_return_val_if_fail (RTC_IS_CHANNEL_ROUTER (self), FALSE);
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (channel), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (rtc_transport_get_state (RTC_TRANSPORT (self->sctp)) != RTC_TRANSPORT_STATE_CONNECTED)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "The SCTP association is not connected");
      return FALSE;
    }

  /* Ids are not reused while the association lives: a closed stream may
   * still be waiting for the peer's half of the reset. */
  while (self->next_stream < RTC_SCTP_MAX_OUT_STREAMS)
    {
      guint16 candidate = (guint16) self->next_stream;

      self->next_stream += 2;
      if (!g_hash_table_contains (self->channels, GUINT_TO_POINTER (candidate)))
        {
          stream = candidate;
          found = TRUE;
          break;
        }
    }
  if (!found)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "No SCTP stream left for a data channel");
      return FALSE;
    }

  g_hash_table_insert (self->channels, GUINT_TO_POINTER (stream), g_object_ref (channel));
  if (!rtc_data_channel_attach (channel, self->sctp, stream, error))
    {
      g_hash_table_remove (self->channels, GUINT_TO_POINTER (stream));
      return FALSE;
    }
  return TRUE;
}

static void
rtc_channel_router_dispose (GObject *object)
{
  RtcChannelRouter *self = RTC_CHANNEL_ROUTER (object);

  if (self->channels != NULL && g_hash_table_size (self->channels) > 0)
    {
      g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                      "The SCTP association was closed");

      detach_channels (self, error);
    }
  if (self->sctp != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->sctp, self);
      g_clear_object (&self->sctp);
    }

  G_OBJECT_CLASS (rtc_channel_router_parent_class)->dispose (object);
}

static void
rtc_channel_router_finalize (GObject *object)
{
  RtcChannelRouter *self = RTC_CHANNEL_ROUTER (object);

  g_clear_pointer (&self->channels, g_hash_table_unref);

  G_OBJECT_CLASS (rtc_channel_router_parent_class)->finalize (object);
}

static void
rtc_channel_router_class_init (RtcChannelRouterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = rtc_channel_router_dispose;
  object_class->finalize = rtc_channel_router_finalize;

  /**
   * RtcChannelRouter::data-channel:
   * @channel: an open #RtcDataChannel
   *
   * The peer opened a data channel.
   */
  signals[SIGNAL_DATA_CHANNEL] =
    g_signal_new ("data-channel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, RTC_TYPE_DATA_CHANNEL);
}

static void
rtc_channel_router_init (RtcChannelRouter *self)
{
  self->channels = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
}

RtcChannelRouter *
rtc_channel_router_new (RtcSctpTransport *sctp)
{
  RtcChannelRouter *self;

  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (sctp), NULL);

  self = g_object_new (RTC_TYPE_CHANNEL_ROUTER, NULL);
  self->sctp = g_object_ref (sctp);
  self->next_stream = rtc_sctp_transport_is_dtls_client (sctp) ? 0 : 1;
  g_signal_connect (sctp, "message", G_CALLBACK (message_cb), self);
  g_signal_connect (sctp, "stream-reset", G_CALLBACK (stream_reset_cb), self);
  g_signal_connect (sctp, "local-reset-done", G_CALLBACK (local_reset_done_cb), self);
  g_signal_connect (sctp, "stream-error", G_CALLBACK (stream_error_cb), self);
  g_signal_connect (sctp, "acked", G_CALLBACK (acked_cb), self);
  g_signal_connect (sctp, "writable", G_CALLBACK (writable_cb), self);
  g_signal_connect (sctp, "closing", G_CALLBACK (closing_cb), self);
  g_signal_connect (sctp, "notify::state", G_CALLBACK (state_cb), self);
  return self;
}
