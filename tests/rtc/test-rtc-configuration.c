/* test-rtc-configuration.c: the one parser of STUN and TURN servers and local
 * addresses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "rtc-configuration.h"
#include "rtc-error.h"

static void
test_stun (void)
{
  static const struct
  {
    const char *url;
    const char *host;
    guint16 port;
  } good[] = {
    { "127.0.0.1:3479", "127.0.0.1", 3479 },
    { "stun:127.0.0.1", "127.0.0.1", 3478 },
    { "STUN:[::1]:19302", "::1", 19302 },
    { "stun.example.org:3478", "stun.example.org", 3478 },
  };
  static const char *const bad[] = { "", "stun:", "127.0.0.1:99999", "[::1", "host:port" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      guint16 port = 0;
      g_autoptr (GError) error = NULL;

      g_assert_true (rtc_configuration_parse_stun_server (good[i].url, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (rtc_configuration_parse_stun_server (bad[i], NULL, NULL, &error));
      g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
    }
}

static void
test_turn (void)
{
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  gboolean tcp = FALSE;
  g_autoptr (GError) error = NULL;
  static const char *const bad[] = {
    "stun:127.0.0.1:3478",       "turn:127.0.0.1:3478",
    "turn:user@127.0.0.1:3478",  "turn::secret@127.0.0.1:3478",
    "turn:u:secret@",            "turn:u:secret@127.0.0.1:99999",
    "turn:u:secret@127.0.0.1?transport=sctp", "turn:u:secret@127.0.0.1:3478?foo",
  };

  /* Scheme and transport in any case; percent-encoded credentials. */
  g_assert_true (rtc_configuration_parse_turn_server ("TURN:al%3Ace:s%40cret@[::1]?Transport=TCP",
                                                      &user, &password, &host, &port, &tcp,
                                                      &error));
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "al:ce");
  g_assert_cmpstr (password, ==, "s@cret");
  g_assert_cmpstr (host, ==, "::1");
  g_assert_cmpuint (port, ==, 3478);
  g_assert_true (tcp);

  g_assert_true (rtc_configuration_parse_turn_server ("turn:u:p:w@127.0.0.1:5349", NULL, NULL,
                                                      NULL, &port, &tcp, NULL));
  g_assert_cmpuint (port, ==, 5349);
  g_assert_false (tcp);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) bad_error = NULL;

      g_assert_false (rtc_configuration_parse_turn_server (bad[i], NULL, NULL, NULL, NULL, NULL,
                                                           &bad_error));
      g_assert_error (bad_error, RTC_ERROR, RTC_ERROR_FAILED);
      /* The URL holds a password: the message does not repeat it. */
      g_assert_null (strstr (bad_error->message, "secret"));
    }
}

static void
test_validate (void)
{
  g_autoptr (RtcConfiguration) config = rtc_configuration_new ();
  g_autoptr (GError) error = NULL;
  char *stun[] = { "127.0.0.1:3478", NULL };
  char *turn[] = { "turn:u:p@127.0.0.1:3478", NULL };
  char *addresses[] = { "127.0.0.1", "::1", NULL };
  char *bad_addresses[] = { "127.0.0.1", "localhost", NULL };

  g_assert_true (rtc_configuration_validate (config, &error));
  g_assert_no_error (error);

  config->stun_servers = g_strdupv (stun);
  config->local_addresses = g_strdupv (addresses);
  config->relay_only = TRUE;
  g_assert_false (rtc_configuration_validate (config, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
  g_clear_error (&error);

  config->turn_servers = g_strdupv (turn);
  g_assert_true (rtc_configuration_validate (config, &error));
  g_assert_no_error (error);

  g_strfreev (config->local_addresses);
  config->local_addresses = g_strdupv (bad_addresses);
  g_assert_false (rtc_configuration_validate (config, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "localhost"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtc/configuration/stun", test_stun);
  g_test_add_func ("/rtc/configuration/turn", test_turn);
  g_test_add_func ("/rtc/configuration/validate", test_validate);
  return g_test_run ();
}
