/* rtc-configuration.h: settings shared by a peer connection and its ICE transport
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define RTC_TYPE_CONFIGURATION (rtc_configuration_get_type ())

typedef struct
{
  /* "host:port" or "stun:host:port"; names are resolved asynchronously. */
  GStrv stun_servers;
  /* "turn:user:password@host:port" or "turn:user:password@host:port?transport=tcp"
   * (user and password percent-decoded). */
  GStrv turn_servers;
  /* Local IP addresses ICE may use. Empty: every interface except loopback, as
   * libnice gathers by default. */
  GStrv local_addresses;
  /* Only relayed candidates (ICE transport policy "relay"). */
  gboolean relay_only;
  /* Time allowed to connect a candidate pair, counted from the first remote
   * candidate or incoming check (before one arrives, from the start of the
   * connectivity checks), and then again for DTLS and SCTP to come up; 0
   * means the default (30 s). */
  guint ice_timeout_ms;
  /* SO_RCVBUF / SO_SNDBUF for the ICE sockets; 0 means the default (4 MiB). */
  guint socket_buffer_size;
  /* Our a=max-message-size; 0 means the default (262144). */
  guint64 max_message_size;
} RtcConfiguration;

GType rtc_configuration_get_type (void) G_GNUC_CONST;

RtcConfiguration *rtc_configuration_new (void);
RtcConfiguration *rtc_configuration_copy (const RtcConfiguration *config);
void rtc_configuration_free (RtcConfiguration *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RtcConfiguration, rtc_configuration_free)

G_END_DECLS
