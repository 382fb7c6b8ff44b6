/* rtc-configuration.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "rtc-configuration.h"

G_DEFINE_BOXED_TYPE (RtcConfiguration, rtc_configuration,
                     rtc_configuration_copy, rtc_configuration_free)

RtcConfiguration *
rtc_configuration_new (void)
{
  return g_new0 (RtcConfiguration, 1);
}

RtcConfiguration *
rtc_configuration_copy (const RtcConfiguration *config)
{
  RtcConfiguration *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_new0 (RtcConfiguration, 1);
  *copy = *config;
  copy->stun_servers = g_strdupv (config->stun_servers);
  copy->turn_servers = g_strdupv (config->turn_servers);
  copy->local_addresses = g_strdupv (config->local_addresses);

  return copy;
}

void
rtc_configuration_free (RtcConfiguration *config)
{
  if (config == NULL)
    return;

  g_strfreev (config->stun_servers);
  g_strfreev (config->turn_servers);
  g_strfreev (config->local_addresses);
  g_free (config);
}
