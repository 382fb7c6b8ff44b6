/* rtc-configuration.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "rtc-configuration.h"
#include "rtc-error.h"
#include "rtc-sdp.h"

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
  copy->certificate = config->certificate != NULL ? g_object_ref (config->certificate) : NULL;
  copy->peer_fingerprint = g_strdup (config->peer_fingerprint);

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
  g_clear_object (&config->certificate);
  g_free (config->peer_fingerprint);
  g_free (config);
}

static gboolean
parse_host_port (const char *text, char **host, guint16 *port)
{
  g_autoptr (GSocketConnectable) address = NULL;
  const char *name;

  if (text[0] == '\0')
    return FALSE;
  address = g_network_address_parse (text, RTC_CONFIGURATION_DEFAULT_SERVER_PORT, NULL);
  if (address == NULL)
    return FALSE;
  name = g_network_address_get_hostname (G_NETWORK_ADDRESS (address));
  if (name == NULL || name[0] == '\0')
    return FALSE;

  if (host != NULL)
    *host = g_strdup (name);
  if (port != NULL)
    *port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
  return TRUE;
}

gboolean
rtc_configuration_parse_stun_server (const char *url, char **host, guint16 *port, GError **error)
{
  const char *rest = url;

  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_ascii_strncasecmp (rest, "stun:", 5) == 0)
    rest += 5;
  if (!parse_host_port (rest, host, port))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED,
                   "invalid STUN server “%s”: expected HOST:PORT", url);
      return FALSE;
    }
  return TRUE;
}

gboolean
rtc_configuration_parse_turn_server (const char *url,
                                     char **user,
                                     char **password,
                                     char **host,
                                     guint16 *port,
                                     gboolean *tcp,
                                     GError **error)
{
  g_autofree char *parsed_user = NULL;
  g_autofree char *parsed_password = NULL;
  g_autofree char *host_port = NULL;
  const char *rest, *at, *colon, *query;
  gboolean use_tcp = FALSE;

  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_ascii_strncasecmp (url, "turn:", 5) != 0)
    goto invalid;
  rest = url + 5;

  at = strrchr (rest, '@');
  if (at == NULL)
    goto invalid;
  colon = memchr (rest, ':', at - rest);
  if (colon == NULL || colon == rest)
    goto invalid;
  parsed_user = g_uri_unescape_segment (rest, colon, NULL);
  parsed_password = g_uri_unescape_segment (colon + 1, at, NULL);
  if (parsed_user == NULL || parsed_password == NULL || parsed_user[0] == '\0')
    goto invalid;

  query = strchr (at + 1, '?');
  if (query != NULL)
    {
      if (g_ascii_strcasecmp (query, "?transport=tcp") == 0)
        use_tcp = TRUE;
      else if (g_ascii_strcasecmp (query, "?transport=udp") != 0)
        goto invalid;
      host_port = g_strndup (at + 1, query - (at + 1));
    }
  else
    host_port = g_strdup (at + 1);

  if (!parse_host_port (host_port, host, port))
    goto invalid;

  if (user != NULL)
    *user = g_steal_pointer (&parsed_user);
  if (password != NULL)
    *password = g_steal_pointer (&parsed_password);
  if (tcp != NULL)
    *tcp = use_tcp;
  if (parsed_password != NULL)
    explicit_bzero (parsed_password, strlen (parsed_password));
  return TRUE;

invalid:
  if (parsed_password != NULL)
    explicit_bzero (parsed_password, strlen (parsed_password));
  /* The URL holds a password: it is not repeated. */
  g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED,
                       "invalid TURN server: expected "
                       "turn:USER:PASSWORD@HOST:PORT[?transport=udp|tcp]");
  return FALSE;
}

gboolean
rtc_configuration_check_local_address (const char *text, GError **error)
{
  g_autoptr (GInetAddress) address = NULL;

  g_return_val_if_fail (text != NULL, FALSE);

  address = g_inet_address_new_from_string (text);
  if (address == NULL)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED,
                   "invalid local address “%s”: expected an IP address", text);
      return FALSE;
    }
  return TRUE;
}

gboolean
rtc_configuration_validate (const RtcConfiguration *config, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  for (guint i = 0; config->stun_servers != NULL && config->stun_servers[i] != NULL; i++)
    if (!rtc_configuration_parse_stun_server (config->stun_servers[i], NULL, NULL, error))
      return FALSE;
  for (guint i = 0; config->turn_servers != NULL && config->turn_servers[i] != NULL; i++)
    if (!rtc_configuration_parse_turn_server (config->turn_servers[i], NULL, NULL, NULL, NULL,
                                              NULL, error))
      return FALSE;
  for (guint i = 0; config->local_addresses != NULL && config->local_addresses[i] != NULL; i++)
    if (!rtc_configuration_check_local_address (config->local_addresses[i], error))
      return FALSE;
  if (config->relay_only && (config->turn_servers == NULL || config->turn_servers[0] == NULL))
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED,
                           "relay-only ICE needs at least one TURN server");
      return FALSE;
    }
  if (config->peer_fingerprint != NULL)
    {
      guint8 fingerprint[RTC_SDP_FINGERPRINT_LEN];

      if (!rtc_sdp_fingerprint_from_string (config->peer_fingerprint, fingerprint, NULL))
        {
          g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED,
                       "invalid certificate fingerprint “%s”: expected 32 hexadecimal bytes "
                       "separated by “:”",
                       config->peer_fingerprint);
          return FALSE;
        }
    }
  return TRUE;
}
