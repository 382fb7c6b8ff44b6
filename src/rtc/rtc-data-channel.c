/* rtc-data-channel.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Messages are kept as GBytes references from send() until SCTP takes them
 * (the only copy is the one usrsctp makes). DCEP messages go through the
 * same queue so an OPEN always precedes the data sent after it.
 */
#include "config.h"

#include "rtc-enum-types.h"
#include "rtc-data-channel-private.h"
#include "rtc-error.h"

typedef struct
{
  GBytes *data;
  guint32 ppid;
  gsize counted; /* what it adds to buffered-amount */
} QueuedMessage;

struct _RtcDataChannel
{
  GObject parent_instance;

  char *label;
  char *protocol;
  gboolean ordered;
  int id;
  RtcDataChannelState state;

  RtcSctpTransport *sctp; /* not owned: the association owns its channels */
  gboolean ack_received;
  gboolean reset_requested;
  gboolean flushing;
  GSource *close_wait_source; /* our reset is done, the peer's not yet */
  GError *close_error;

  GQueue queue; /* QueuedMessage */
  /* Queued here plus handed to SCTP and not yet acknowledged (sctp_amount). */
  guint64 buffered_amount;
  guint64 sctp_amount;
  guint64 buffered_amount_low_threshold;
};

G_DEFINE_FINAL_TYPE (RtcDataChannel, rtc_data_channel, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_LABEL,
  PROP_PROTOCOL,
  PROP_ID,
  PROP_ORDERED,
  PROP_READY_STATE,
  PROP_BUFFERED_AMOUNT,
  PROP_BUFFERED_AMOUNT_LOW_THRESHOLD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_OPEN,
  SIGNAL_MESSAGE,
  SIGNAL_ERROR,
  SIGNAL_CLOSED,
  SIGNAL_BUFFERED_AMOUNT_LOW,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
queued_message_free (QueuedMessage *message)
{
  g_bytes_unref (message->data);
  g_free (message);
}

static void
set_state (RtcDataChannel *self, RtcDataChannelState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY_STATE]);
}

static void
clear_queue (RtcDataChannel *self)
{
  g_queue_clear_full (&self->queue, (GDestroyNotify) queued_message_free);
  self->buffered_amount = 0;
  self->sctp_amount = 0;
}

static void
clear_close_wait (RtcDataChannel *self)
{
  if (self->close_wait_source != NULL)
    {
      g_source_destroy (self->close_wait_source);
      g_clear_pointer (&self->close_wait_source, g_source_unref);
    }
}

/* Final: no more sending or receiving. */
static void
become_closed (RtcDataChannel *self)
{
  g_autoptr (RtcDataChannel) hold = g_object_ref (self);

  self->sctp = NULL;
  clear_queue (self);
  clear_close_wait (self);
  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSED)
    return;
  set_state (self, RTC_DATA_CHANNEL_STATE_CLOSED);
  g_debug ("Data channel %d (%s) closed", self->id, self->label);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

static void
request_reset (RtcDataChannel *self)
{
  if (self->reset_requested || self->sctp == NULL)
    return;
  self->reset_requested = TRUE;
  /* Not before the peer has everything: some close on the reset at once. */
  rtc_sctp_transport_reset_stream_when_dry (self->sctp, self->id);
}

void
rtc_data_channel_flush (RtcDataChannel *self)
{
  g_autoptr (RtcDataChannel) hold = NULL;
  gboolean was_above;
  QueuedMessage *message;

  g_return_if_fail (RTC_IS_DATA_CHANNEL (self));

  if (self->flushing || self->sctp == NULL
      || (self->state != RTC_DATA_CHANNEL_STATE_OPEN
          && self->state != RTC_DATA_CHANNEL_STATE_CLOSING))
    return;

  hold = g_object_ref (self);
  self->flushing = TRUE;
  was_above = self->buffered_amount > self->buffered_amount_low_threshold;

  while (self->sctp != NULL && (message = g_queue_peek_head (&self->queue)) != NULL)
    {
      g_autoptr (GError) error = NULL;
      gsize length;
      const guint8 *data = g_bytes_get_data (message->data, &length);
      gboolean unordered = !self->ordered && self->ack_received && message->ppid != RTC_PPID_DCEP;
      RtcSctpSendResult result;

      result = rtc_sctp_transport_send (self->sctp, self->id, message->ppid, unordered, data,
                                        length, &error);
      if (result == RTC_SCTP_SEND_WOULD_BLOCK)
        break;

      g_queue_pop_head (&self->queue);
      /* Taken: it counts until the peer acknowledges it. */
      if (result == RTC_SCTP_SEND_OK)
        self->sctp_amount += message->counted;
      else
        self->buffered_amount -= message->counted;
      queued_message_free (message);

      if (result == RTC_SCTP_SEND_ERROR)
        {
          g_debug ("Data channel %d: %s", self->id, error->message);
          g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
          if (!g_error_matches (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE))
            break;
        }
    }

  self->flushing = FALSE;

  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSING && g_queue_is_empty (&self->queue))
    request_reset (self);

  if (was_above && self->buffered_amount <= self->buffered_amount_low_threshold)
    g_signal_emit (self, signals[SIGNAL_BUFFERED_AMOUNT_LOW], 0);
}

static gboolean
enqueue (RtcDataChannel *self, guint32 ppid, GBytes *data, gsize counted, gboolean at_head,
         GError **error)
{
  QueuedMessage *message;

  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSING || self->state == RTC_DATA_CHANNEL_STATE_CLOSED)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_CLOSED, "The data channel is closed");
      return FALSE;
    }

  if (self->sctp != NULL && ppid != RTC_PPID_DCEP)
    {
      guint64 max = rtc_sctp_transport_get_remote_max_message_size (self->sctp);

      if (g_bytes_get_size (data) > max)
        {
          g_set_error (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE,
                       "The message has %" G_GSIZE_FORMAT " bytes; the peer accepts at most %"
                       G_GUINT64_FORMAT, g_bytes_get_size (data), max);
          return FALSE;
        }
    }

  message = g_new (QueuedMessage, 1);
  message->data = g_bytes_ref (data);
  message->ppid = ppid;
  message->counted = counted;
  if (at_head)
    g_queue_push_head (&self->queue, message);
  else
    g_queue_push_tail (&self->queue, message);
  self->buffered_amount += counted;

  rtc_data_channel_flush (self);
  return TRUE;
}

gboolean
rtc_data_channel_send_bytes (RtcDataChannel *self, GBytes *data, GError **error)
{
  static const guint8 zero = 0;

  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_bytes_get_size (data) == 0)
    {
      g_autoptr (GBytes) one = g_bytes_new_static (&zero, 1);

      return enqueue (self, RTC_PPID_BINARY_EMPTY, one, 0, FALSE, error);
    }
  return enqueue (self, RTC_PPID_BINARY, data, g_bytes_get_size (data), FALSE, error);
}

gboolean
rtc_data_channel_send_text (RtcDataChannel *self, const char *text, GError **error)
{
  static const guint8 zero = 0;
  g_autoptr (GBytes) data = NULL;
  gsize length;

  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  length = strlen (text);
  if (length == 0)
    {
      data = g_bytes_new_static (&zero, 1);
      return enqueue (self, RTC_PPID_STRING_EMPTY, data, 0, FALSE, error);
    }
  data = g_bytes_new (text, length);
  return enqueue (self, RTC_PPID_STRING, data, length, FALSE, error);
}

void
rtc_data_channel_close (RtcDataChannel *self)
{
  g_autoptr (RtcDataChannel) hold = NULL;

  g_return_if_fail (RTC_IS_DATA_CHANNEL (self));

  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSING || self->state == RTC_DATA_CHANNEL_STATE_CLOSED)
    return;

  hold = g_object_ref (self);
  if (self->sctp == NULL)
    {
      become_closed (self);
      return;
    }

  set_state (self, RTC_DATA_CHANNEL_STATE_CLOSING);
  rtc_data_channel_flush (self);
  if (g_queue_is_empty (&self->queue))
    request_reset (self);
}

RtcDataChannel *
rtc_data_channel_new_remote (RtcSctpTransport *sctp, guint16 stream, const RtcDcepOpen *open)
{
  RtcDataChannel *self;
  g_autoptr (GBytes) ack = rtc_dcep_build_ack ();

  self = g_object_new (RTC_TYPE_DATA_CHANNEL,
                       "label", open->label,
                       "protocol", open->protocol,
                       "ordered", (open->channel_type & 0x80) == 0,
                       NULL);
  self->sctp = sctp;
  self->id = stream;
  self->ack_received = TRUE;
  self->state = RTC_DATA_CHANNEL_STATE_OPEN;
  g_debug ("Data channel %u (%s) opened by the peer", stream, self->label);
  enqueue (self, RTC_PPID_DCEP, ack, 0, TRUE, NULL);
  return self;
}

gboolean
rtc_data_channel_attach (RtcDataChannel *self, RtcSctpTransport *sctp, guint16 stream,
                         GError **error)
{
  g_autoptr (GBytes) open_message = NULL;
  RtcDcepOpen open = { 0 };

  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), FALSE);

  if (self->state != RTC_DATA_CHANNEL_STATE_CONNECTING || self->sctp != NULL)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "The data channel is already open or closed");
      return FALSE;
    }

  open.channel_type
      = self->ordered ? RTC_DCEP_CHANNEL_RELIABLE : RTC_DCEP_CHANNEL_RELIABLE_UNORDERED;
  open.label = self->label;
  open.protocol = self->protocol;
  open_message = rtc_dcep_build_open (&open);

  self->sctp = sctp;
  self->id = stream;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);

  /* Messages may follow the OPEN at once: ordered delivery on the stream
   * keeps them behind it. */
  g_object_ref (self);
  set_state (self, RTC_DATA_CHANNEL_STATE_OPEN);
  g_debug ("Data channel %u (%s) opening", stream, self->label);
  if (!enqueue (self, RTC_PPID_DCEP, open_message, 0, TRUE, error))
    {
      g_object_unref (self);
      return FALSE;
    }
  if (self->state == RTC_DATA_CHANNEL_STATE_OPEN)
    g_signal_emit (self, signals[SIGNAL_OPEN], 0);
  g_object_unref (self);
  return TRUE;
}

void
rtc_data_channel_handle_ack (RtcDataChannel *self)
{
  self->ack_received = TRUE;
}

void
rtc_data_channel_handle_message (RtcDataChannel *self, guint32 ppid, GBytes *data)
{
  g_autoptr (GBytes) empty = NULL;
  gboolean is_string;

  if (self->state != RTC_DATA_CHANNEL_STATE_OPEN && self->state != RTC_DATA_CHANNEL_STATE_CLOSING)
    return;

  switch (ppid)
    {
    case RTC_PPID_STRING:
    case RTC_PPID_STRING_PARTIAL:
      is_string = TRUE;
      break;
    case RTC_PPID_BINARY:
    case RTC_PPID_BINARY_PARTIAL:
      is_string = FALSE;
      break;
    case RTC_PPID_STRING_EMPTY:
      is_string = TRUE;
      data = empty = g_bytes_new (NULL, 0);
      break;
    case RTC_PPID_BINARY_EMPTY:
      is_string = FALSE;
      data = empty = g_bytes_new (NULL, 0);
      break;
    default:
      g_debug ("Data channel %d: ignoring a message with PPID %u", self->id, ppid);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, data, is_string);
}

void
rtc_data_channel_handle_remote_reset (RtcDataChannel *self)
{
  g_autoptr (RtcDataChannel) hold = g_object_ref (self);

  /* RFC 8831: answer the peer's reset with ours. The peer may drop its own
   * request when ours crosses it, so either reset closes the channel. */
  if (self->sctp != NULL && !self->reset_requested)
    {
      self->reset_requested = TRUE;
      rtc_sctp_transport_reset_stream (self->sctp, self->id);
    }
  become_closed (self);
}

void
rtc_data_channel_handle_acked (RtcDataChannel *self, guint64 bytes)
{
  guint64 charged = MIN (bytes, self->sctp_amount);
  gboolean was_above = self->buffered_amount > self->buffered_amount_low_threshold;

  if (charged == 0)
    return;
  self->sctp_amount -= charged;
  self->buffered_amount -= charged;
  if (was_above && self->buffered_amount <= self->buffered_amount_low_threshold)
    g_signal_emit (self, signals[SIGNAL_BUFFERED_AMOUNT_LOW], 0);
}

static gboolean
close_wait_cb (gpointer user_data)
{
  RtcDataChannel *self = user_data;

  g_clear_pointer (&self->close_wait_source, g_source_unref);
  g_debug ("Data channel %d: the peer did not reset its stream in turn", self->id);
  become_closed (self);
  return G_SOURCE_REMOVE;
}

void
rtc_data_channel_handle_local_reset_done (RtcDataChannel *self)
{
  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSED || self->close_wait_source != NULL)
    return;

  /* Our reset answered the peer's (which closed the channel already), or
   * started the close: then the peer answers with its own reset, which
   * must not find the association gone. */
  self->close_wait_source = g_timeout_source_new (RTC_DATA_CHANNEL_CLOSE_WAIT_MS);
  g_source_set_callback (self->close_wait_source, close_wait_cb, self, NULL);
  g_source_attach (self->close_wait_source,
                   self->sctp != NULL ? rtc_transport_get_context (RTC_TRANSPORT (self->sctp))
                                      : g_main_context_get_thread_default ());
}

void
rtc_data_channel_detach (RtcDataChannel *self, const GError *error)
{
  g_autoptr (RtcDataChannel) hold = g_object_ref (self);

  self->sctp = NULL;
  if (self->state == RTC_DATA_CHANNEL_STATE_CLOSED)
    return;
  /* Our reset is through: the close is complete all the same. */
  if (error != NULL && self->close_wait_source == NULL)
    {
      self->close_error = g_error_copy (error);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
    }
  become_closed (self);
}

const GError *
rtc_data_channel_get_close_error (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), NULL);

  return self->close_error;
}

void
rtc_data_channel_handle_error (RtcDataChannel *self, const GError *error)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

RtcDataChannel *
rtc_data_channel_new (const char *label, const char *protocol, gboolean ordered)
{
  return g_object_new (RTC_TYPE_DATA_CHANNEL,
                       "label", label,
                       "protocol", protocol,
                       "ordered", ordered,
                       NULL);
}

const char *
rtc_data_channel_get_label (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), NULL);
  return self->label;
}

const char *
rtc_data_channel_get_protocol (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), NULL);
  return self->protocol;
}

int
rtc_data_channel_get_id (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), -1);
  return self->id;
}

gboolean
rtc_data_channel_get_ordered (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), TRUE);
  return self->ordered;
}

RtcDataChannelState
rtc_data_channel_get_ready_state (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), RTC_DATA_CHANNEL_STATE_CLOSED);
  return self->state;
}

guint64
rtc_data_channel_get_buffered_amount (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), 0);
  return self->buffered_amount;
}

guint64
rtc_data_channel_get_buffered_amount_low_threshold (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), 0);
  return self->buffered_amount_low_threshold;
}

void
rtc_data_channel_set_buffered_amount_low_threshold (RtcDataChannel *self, guint64 threshold)
{
  g_return_if_fail (RTC_IS_DATA_CHANNEL (self));

  if (self->buffered_amount_low_threshold == threshold)
    return;
  self->buffered_amount_low_threshold = threshold;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUFFERED_AMOUNT_LOW_THRESHOLD]);
}

guint64
rtc_data_channel_get_max_message_size (RtcDataChannel *self)
{
  g_return_val_if_fail (RTC_IS_DATA_CHANNEL (self), 0);

  return self->sctp != NULL ? rtc_sctp_transport_get_remote_max_message_size (self->sctp) : 0;
}

static void
rtc_data_channel_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RtcDataChannel *self = RTC_DATA_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_PROTOCOL:
      g_value_set_string (value, self->protocol);
      break;
    case PROP_ID:
      g_value_set_int (value, self->id);
      break;
    case PROP_ORDERED:
      g_value_set_boolean (value, self->ordered);
      break;
    case PROP_READY_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_BUFFERED_AMOUNT:
      g_value_set_uint64 (value, self->buffered_amount);
      break;
    case PROP_BUFFERED_AMOUNT_LOW_THRESHOLD:
      g_value_set_uint64 (value, self->buffered_amount_low_threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rtc_data_channel_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  RtcDataChannel *self = RTC_DATA_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_LABEL:
      g_free (self->label);
      self->label = g_value_dup_string (value);
      if (self->label == NULL)
        self->label = g_strdup ("");
      break;
    case PROP_PROTOCOL:
      g_free (self->protocol);
      self->protocol = g_value_dup_string (value);
      if (self->protocol == NULL)
        self->protocol = g_strdup ("");
      break;
    case PROP_ORDERED:
      self->ordered = g_value_get_boolean (value);
      break;
    case PROP_BUFFERED_AMOUNT_LOW_THRESHOLD:
      rtc_data_channel_set_buffered_amount_low_threshold (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rtc_data_channel_finalize (GObject *object)
{
  RtcDataChannel *self = RTC_DATA_CHANNEL (object);

  clear_queue (self);
  clear_close_wait (self);
  g_clear_error (&self->close_error);
  g_free (self->label);
  g_free (self->protocol);

  G_OBJECT_CLASS (rtc_data_channel_parent_class)->finalize (object);
}

static void
rtc_data_channel_class_init (RtcDataChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rtc_data_channel_finalize;
  object_class->get_property = rtc_data_channel_get_property;
  object_class->set_property = rtc_data_channel_set_property;

  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROTOCOL] =
    g_param_spec_string ("protocol", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ID] =
    g_param_spec_int ("id", NULL, NULL, -1, 65535, -1,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ORDERED] =
    g_param_spec_boolean ("ordered", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READY_STATE] =
    g_param_spec_enum ("ready-state", NULL, NULL, RTC_TYPE_DATA_CHANNEL_STATE,
                       RTC_DATA_CHANNEL_STATE_CONNECTING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Not notified: read it, or wait for "buffered-amount-low". */
  properties[PROP_BUFFERED_AMOUNT] =
    g_param_spec_uint64 ("buffered-amount", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUFFERED_AMOUNT_LOW_THRESHOLD] =
    g_param_spec_uint64 ("buffered-amount-low-threshold", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_OPEN] =
    g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /**
   * RtcDataChannel::message:
   * @data: the whole message (empty for PPIDs 56/57)
   * @is_string: whether the peer sent it as text (UTF-8, not checked)
   */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_BOOLEAN);
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  signals[SIGNAL_BUFFERED_AMOUNT_LOW] =
    g_signal_new ("buffered-amount-low", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 0);
}

static void
rtc_data_channel_init (RtcDataChannel *self)
{
  self->id = -1;
  self->ordered = TRUE;
  self->state = RTC_DATA_CHANNEL_STATE_CONNECTING;
  g_queue_init (&self->queue);
}
