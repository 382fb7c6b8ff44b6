/* rtc-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "rtc-enum-types.h"
#include "rtc-error.h"
#include "rtc-transport.h"

typedef struct
{
  GMainContext *context;
  RtcTransportState state;
  GError *error;
  RtcTransportReceiveFunc receive_func;
  gpointer receive_data;
  GDestroyNotify receive_destroy;
} RtcTransportPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (RtcTransport, rtc_transport, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
clear_receive_func (RtcTransportPrivate *priv)
{
  GDestroyNotify destroy = priv->receive_destroy;
  gpointer data = priv->receive_data;

  priv->receive_func = NULL;
  priv->receive_data = NULL;
  priv->receive_destroy = NULL;
  if (destroy != NULL)
    destroy (data);
}

static void
rtc_transport_finalize (GObject *object)
{
  RtcTransport *self = RTC_TRANSPORT (object);
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  clear_receive_func (priv);
  g_clear_error (&priv->error);
  g_clear_pointer (&priv->context, g_main_context_unref);

  G_OBJECT_CLASS (rtc_transport_parent_class)->finalize (object);
}

static void
rtc_transport_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RtcTransport *self = RTC_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, rtc_transport_get_state (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
rtc_transport_real_send (RtcTransport *self, const guint8 *data, gsize length, GError **error)
{
  g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                       "This transport cannot send");
  return FALSE;
}

static void
rtc_transport_real_close (RtcTransport *self)
{
  rtc_transport_set_state (self, RTC_TRANSPORT_STATE_CLOSED, NULL);
}

static void
rtc_transport_class_init (RtcTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = rtc_transport_finalize;
  object_class->get_property = rtc_transport_get_property;

  klass->send = rtc_transport_real_send;
  klass->close = rtc_transport_real_close;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       RTC_TYPE_TRANSPORT_STATE, RTC_TRANSPORT_STATE_NEW,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
rtc_transport_init (RtcTransport *self)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  priv->context = g_main_context_ref_thread_default ();
  priv->state = RTC_TRANSPORT_STATE_NEW;
}

gboolean
rtc_transport_send (RtcTransport *self, const guint8 *data, gsize length, GError **error)
{
  g_return_val_if_fail (RTC_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return RTC_TRANSPORT_GET_CLASS (self)->send (self, data, length, error);
}

void
rtc_transport_close (RtcTransport *self)
{
  g_return_if_fail (RTC_IS_TRANSPORT (self));

  RTC_TRANSPORT_GET_CLASS (self)->close (self);
}

RtcTransportState
rtc_transport_get_state (RtcTransport *self)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_val_if_fail (RTC_IS_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED);

  return priv->state;
}

const GError *
rtc_transport_get_error (RtcTransport *self)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_val_if_fail (RTC_IS_TRANSPORT (self), NULL);

  return priv->error;
}

GMainContext *
rtc_transport_get_context (RtcTransport *self)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_val_if_fail (RTC_IS_TRANSPORT (self), NULL);

  return priv->context;
}

void
rtc_transport_set_receive_func (RtcTransport *self,
                                RtcTransportReceiveFunc func,
                                gpointer user_data,
                                GDestroyNotify destroy)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_if_fail (RTC_IS_TRANSPORT (self));

  clear_receive_func (priv);
  priv->receive_func = func;
  priv->receive_data = user_data;
  priv->receive_destroy = destroy;
}

void
rtc_transport_deliver (RtcTransport *self, const guint8 *data, gsize length)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_if_fail (RTC_IS_TRANSPORT (self));

  if (priv->receive_func != NULL)
    priv->receive_func (self, data, length, priv->receive_data);
}

static gboolean
state_is_final (RtcTransportState state)
{
  return state == RTC_TRANSPORT_STATE_FAILED || state == RTC_TRANSPORT_STATE_CLOSED;
}

void
rtc_transport_set_state (RtcTransport *self, RtcTransportState state, const GError *error)
{
  RtcTransportPrivate *priv = rtc_transport_get_instance_private (self);

  g_return_if_fail (RTC_IS_TRANSPORT (self));
  g_return_if_fail (state != RTC_TRANSPORT_STATE_FAILED || error != NULL);

  if (priv->state == state || state_is_final (priv->state))
    return;

  if (state == RTC_TRANSPORT_STATE_FAILED)
    {
      g_clear_error (&priv->error);
      priv->error = g_error_copy (error);
    }

  priv->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}
