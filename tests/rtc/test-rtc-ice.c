/* test-rtc-ice.c: two ICE transports in one process on 127.0.0.1 / ::1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <gio/gio.h>

#include "rtc-test-loop.h"
#include "rtc-error.h"
#include "rtc-ice-transport.h"

#define N_DATAGRAMS 1000
#define WAIT_MS 20000

typedef struct
{
  RtcIceTransport *a; /* controlling */
  RtcIceTransport *b; /* controlled */
  GPtrArray *candidates_a; /* gathered by a */
  GPtrArray *candidates_b;
  gboolean trickle_a_to_b; /* forward a's candidates to b at once */
  gboolean trickle_b_to_a;
  gboolean decorate;       /* add "a=" and CRLF when forwarding */
  gboolean done_a;
  gboolean done_b;
  guint received_a;
  guint received_b;
  gboolean data_ok;
} Pair;

static RtcTransportState
state (gpointer transport)
{
  return rtc_transport_get_state (RTC_TRANSPORT (transport));
}

static RtcConfiguration *
config_for (const char *address)
{
  RtcConfiguration *config = rtc_configuration_new ();
  const char *addresses[] = { address, NULL };

  config->local_addresses = g_strdupv ((GStrv) addresses);
  config->ice_timeout_ms = 15000;
  return config;
}

static void
add_remote (RtcIceTransport *ice, const char *candidate, gboolean decorate)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = decorate ? g_strconcat ("a=", candidate, "\r\n", NULL)
                                   : g_strdup (candidate);

  g_assert_true (rtc_ice_transport_add_remote_candidate (ice, line, &error));
  g_assert_no_error (error);
}

static void
local_candidate_cb (RtcIceTransport *ice, const char *candidate, gpointer user_data)
{
  Pair *pair = user_data;
  gboolean from_a = ice == pair->a;

  g_assert_true (g_str_has_prefix (candidate, "candidate:"));
  g_assert_null (strchr (candidate, '\r'));
  g_assert_null (strchr (candidate, '\n'));
  g_ptr_array_add (from_a ? pair->candidates_a : pair->candidates_b, g_strdup (candidate));

  if (from_a && pair->trickle_a_to_b)
    add_remote (pair->b, candidate, pair->decorate);
  else if (!from_a && pair->trickle_b_to_a)
    add_remote (pair->a, candidate, pair->decorate);
}

static void
gathering_done_cb (RtcIceTransport *ice, gpointer user_data)
{
  Pair *pair = user_data;

  if (ice == pair->a)
    {
      g_assert_false (pair->done_a);
      pair->done_a = TRUE;
    }
  else
    {
      g_assert_false (pair->done_b);
      pair->done_b = TRUE;
    }
  g_assert_true (rtc_ice_transport_is_gathering_done (ice));
}

static void
receive_cb (RtcTransport *transport, const guint8 *data, gsize length, gpointer user_data)
{
  Pair *pair = user_data;
  guint32 index;

  if (length != 1000)
    pair->data_ok = FALSE;
  if (length < 4)
    return;
  memcpy (&index, data, 4);
  if (index >= N_DATAGRAMS || data[length - 1] != (guint8) index)
    pair->data_ok = FALSE;
  if (RTC_ICE_TRANSPORT (transport) == pair->a)
    pair->received_a++;
  else
    pair->received_b++;
}

static void
pair_init (Pair *pair, const RtcConfiguration *config)
{
  g_autofree char *ufrag_a = NULL, *pwd_a = NULL, *ufrag_b = NULL, *pwd_b = NULL;

  memset (pair, 0, sizeof *pair);
  pair->data_ok = TRUE;
  pair->trickle_a_to_b = TRUE;
  pair->trickle_b_to_a = TRUE;
  pair->candidates_a = g_ptr_array_new_with_free_func (g_free);
  pair->candidates_b = g_ptr_array_new_with_free_func (g_free);
  pair->a = rtc_ice_transport_new (config, TRUE);
  pair->b = rtc_ice_transport_new (config, FALSE);
  g_assert_true (rtc_ice_transport_get_controlling (pair->a));
  g_assert_false (rtc_ice_transport_get_controlling (pair->b));

  g_signal_connect (pair->a, "local-candidate", G_CALLBACK (local_candidate_cb), pair);
  g_signal_connect (pair->b, "local-candidate", G_CALLBACK (local_candidate_cb), pair);
  g_signal_connect (pair->a, "gathering-done", G_CALLBACK (gathering_done_cb), pair);
  g_signal_connect (pair->b, "gathering-done", G_CALLBACK (gathering_done_cb), pair);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair->a), receive_cb, pair, NULL);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair->b), receive_cb, pair, NULL);

  rtc_ice_transport_get_local_credentials (pair->a, &ufrag_a, &pwd_a);
  rtc_ice_transport_get_local_credentials (pair->b, &ufrag_b, &pwd_b);
  rtc_ice_transport_set_remote_credentials (pair->a, ufrag_b, pwd_b);
  rtc_ice_transport_set_remote_credentials (pair->b, ufrag_a, pwd_a);
}

static void
pair_gather (Pair *pair)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (rtc_ice_transport_gather (pair->a, &error));
  g_assert_no_error (error);
  g_assert_true (rtc_ice_transport_gather (pair->b, &error));
  g_assert_no_error (error);
  /* Gathering twice is refused. */
  g_assert_false (rtc_ice_transport_gather (pair->b, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_STATE);
}

static void
pair_clear (Pair *pair)
{
  if (pair->a != NULL)
    g_assert_finalize_object (pair->a);
  if (pair->b != NULL)
    g_assert_finalize_object (pair->b);
  g_ptr_array_unref (pair->candidates_a);
  g_ptr_array_unref (pair->candidates_b);
  /* The agents close asynchronously on this context. */
  rtc_test_spin (50);
}

static gboolean
both_connected (gpointer data)
{
  Pair *pair = data;

  return state (pair->a) == RTC_TRANSPORT_STATE_CONNECTED
         && state (pair->b) == RTC_TRANSPORT_STATE_CONNECTED;
}

static gboolean
both_gathered (gpointer data)
{
  Pair *pair = data;

  return pair->done_a && pair->done_b;
}

static void
send_datagrams (RtcIceTransport *ice, guint32 first, guint32 count)
{
  guint8 buffer[1000];

  for (guint32 n = first; n < first + count; n++)
    {
      g_autoptr (GError) error = NULL;

      memset (buffer, (guint8) n, sizeof buffer);
      memcpy (buffer, &n, 4);
      g_assert_true (rtc_transport_send (RTC_TRANSPORT (ice), buffer, sizeof buffer, &error));
      g_assert_no_error (error);
    }
}

typedef struct
{
  Pair *pair;
  guint count;
} Progress;

static gboolean
received_at_least (gpointer data)
{
  Progress *progress = data;

  return progress->pair->received_a >= progress->count
         && progress->pair->received_b >= progress->count;
}

/* Sends N_DATAGRAMS each way in bursts of @burst, waiting for each burst to
 * arrive before the next (a relay has small buffers of its own). */
static void
exchange_data (Pair *pair, guint burst)
{
  for (guint sent = 0; sent < N_DATAGRAMS; sent += burst)
    {
      Progress progress = { pair, MIN (sent + burst, N_DATAGRAMS) };

      send_datagrams (pair->a, sent, progress.count - sent);
      send_datagrams (pair->b, sent, progress.count - sent);
      rtc_test_wait_until (received_at_least, &progress, WAIT_MS);
    }
  g_assert_cmpuint (pair->received_a, ==, N_DATAGRAMS);
  g_assert_cmpuint (pair->received_b, ==, N_DATAGRAMS);
  g_assert_true (pair->data_ok);
}

static void
check_selected_pair (RtcIceTransport *ice, const char *address)
{
  g_autofree char *text = rtc_ice_transport_dup_selected_pair (ice);
  g_autofree char *property = NULL;

  g_object_get (ice, "selected-pair", &property, NULL);
  g_test_message ("selected pair: %s", text);
  g_assert_nonnull (text);
  g_assert_cmpstr (text, ==, property);
  g_assert_nonnull (strstr (text, address));
  g_assert_nonnull (strstr (text, " <-> "));
}

static void
test_new_destroy (void)
{
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  RtcIceTransport *ice = rtc_ice_transport_new (config, FALSE);
  g_autofree char *ufrag = NULL;
  g_autofree char *pwd = NULL;
  g_autofree char *pair = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (state (ice), ==, RTC_TRANSPORT_STATE_NEW);
  rtc_ice_transport_get_local_credentials (ice, &ufrag, &pwd);
  /* RFC 8839: ufrag at least 4, password at least 22 characters. */
  g_assert_cmpuint (strlen (ufrag), >=, 4);
  g_assert_cmpuint (strlen (pwd), >=, 22);
  g_assert_null (rtc_ice_transport_dup_selected_pair (ice));

  rtc_ice_transport_set_controlling (ice, TRUE);
  g_assert_true (rtc_ice_transport_get_controlling (ice));

  g_assert_false (rtc_transport_send (RTC_TRANSPORT (ice), (const guint8 *) "x", 1, &error));
  g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_STATE);

  g_assert_finalize_object (ice);
  rtc_test_spin (20);
}

static void
test_connect (const char *address, gboolean decorate)
{
  g_autoptr (RtcConfiguration) config = config_for (address);
  Pair pair;

  pair_init (&pair, config);
  pair.decorate = decorate;
  pair_gather (&pair);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  rtc_test_wait_until (both_gathered, &pair, WAIT_MS);
  g_assert_cmpuint (pair.candidates_a->len, >=, 1);
  g_assert_cmpuint (pair.candidates_b->len, >=, 1);
  for (guint i = 0; i < pair.candidates_a->len; i++)
    g_assert_nonnull (strstr (g_ptr_array_index (pair.candidates_a, i), address));

  check_selected_pair (pair.a, address);
  check_selected_pair (pair.b, address);
  exchange_data (&pair, N_DATAGRAMS);

  rtc_transport_close (RTC_TRANSPORT (pair.a));
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CLOSED);
  pair_clear (&pair);
}

static void
test_connect_ipv4 (void)
{
  test_connect ("127.0.0.1", FALSE);
}

static void
test_connect_decorated (void)
{
  test_connect ("127.0.0.1", TRUE);
}

static gboolean
have_ipv6_loopback (void)
{
  g_autoptr (GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  return probe != NULL && g_socket_bind (probe, address, FALSE, NULL);
}

static void
test_connect_ipv6 (void)
{
  if (!have_ipv6_loopback ())
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  test_connect ("::1", FALSE);
}

/* --- path MTU probing --- */

typedef struct
{
  gsize length; /* of every datagram expected */
  guint count;
  gboolean ok;
} LargeReceived;

static void
large_receive_cb (RtcTransport *transport, const guint8 *data, gsize length, gpointer user_data)
{
  LargeReceived *received = user_data;

  if (length == received->length && data[0] == 0x5a && data[length - 1] == 0xa5)
    received->count++;
  else
    received->ok = FALSE;
}

static gboolean
both_settled (gpointer data)
{
  Pair *pair = data;

  return both_connected (pair) && rtc_ice_transport_is_path_mtu_settled (pair->a)
         && rtc_ice_transport_is_path_mtu_settled (pair->b);
}

static gboolean
large_received (gpointer data)
{
  LargeReceived *received = data;

  return received[0].count == 10 && received[1].count == 10;
}

/* Each side says how large a datagram it reads (@max_a: what a reads, so
 * what b may probe for); each probes the pair, finds the largest size of
 * its list that the loopback carries within the peer's limit, and sends
 * datagrams of that size whole. */
static void
check_path_mtu (const char *address, guint max_a, guint max_b, guint expect_a, guint expect_b)
{
  g_autoptr (RtcConfiguration) config = config_for (address);
  LargeReceived received[2] = { { expect_b, 0, TRUE }, { expect_a, 0, TRUE } };
  g_autofree guint8 *datagram = g_malloc (MAX (expect_a, expect_b));
  Pair pair;

  pair_init (&pair, config);
  rtc_ice_transport_set_peer_max_datagram (pair.a, max_b);
  rtc_ice_transport_set_peer_max_datagram (pair.b, max_a);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (pair.a), ==, RTC_ICE_BASE_DATAGRAM);
  pair_gather (&pair);
  rtc_test_wait_until (both_settled, &pair, WAIT_MS);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (pair.a), ==, expect_a);
  g_assert_cmpuint (rtc_ice_transport_get_path_mtu (pair.b), ==, expect_b);

  rtc_transport_set_receive_func (RTC_TRANSPORT (pair.a), large_receive_cb, &received[0], NULL);
  rtc_transport_set_receive_func (RTC_TRANSPORT (pair.b), large_receive_cb, &received[1], NULL);
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr (GError) error = NULL;

      memset (datagram, 0x33, MAX (expect_a, expect_b));
      datagram[0] = 0x5a;
      datagram[expect_a - 1] = 0xa5;
      g_assert_true (rtc_transport_send (RTC_TRANSPORT (pair.a), datagram, expect_a, &error));
      g_assert_no_error (error);
      datagram[expect_a - 1] = 0x33;
      datagram[expect_b - 1] = 0xa5;
      g_assert_true (rtc_transport_send (RTC_TRANSPORT (pair.b), datagram, expect_b, &error));
      g_assert_no_error (error);
    }
  rtc_test_wait_until (large_received, received, WAIT_MS);
  g_assert_true (received[0].ok);
  g_assert_true (received[1].ok);
  pair_clear (&pair);
}

static void
test_path_mtu_ipv4 (void)
{
  /* Loopback takes the largest DTLS record both ways. */
  check_path_mtu ("127.0.0.1", RTC_ICE_MAX_RECEIVE_DATAGRAM, RTC_ICE_MAX_RECEIVE_DATAGRAM, 16420,
                  16420);
}

static void
test_path_mtu_ipv6 (void)
{
  if (!have_ipv6_loopback ())
    {
      g_test_skip ("no IPv6 loopback");
      return;
    }
  check_path_mtu ("::1", RTC_ICE_MAX_RECEIVE_DATAGRAM, RTC_ICE_MAX_RECEIVE_DATAGRAM, 16420, 16420);
}

static void
test_path_mtu_peer_limits (void)
{
  /* a reads up to 1,500 bytes, b up to 9,000: b sends Ethernet-size
   * datagrams to a, a jumbo ones to b; a peer that says nothing gets the
   * base size. */
  check_path_mtu ("127.0.0.1", 1500, 9000, 8972, 1472);
  check_path_mtu ("127.0.0.1", 0, RTC_ICE_MAX_RECEIVE_DATAGRAM, 16420, RTC_ICE_BASE_DATAGRAM);
  check_path_mtu ("127.0.0.1", 0, 0, RTC_ICE_BASE_DATAGRAM, RTC_ICE_BASE_DATAGRAM);
}

static void
test_late_trickle (void)
{
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  Pair pair;

  pair_init (&pair, config);
  pair.trickle_a_to_b = FALSE;
  pair.trickle_b_to_a = FALSE;
  pair_gather (&pair);
  rtc_test_wait_until (both_gathered, &pair, WAIT_MS);
  rtc_test_spin (1000);
  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_CONNECTING);
  g_assert_cmpint (state (pair.b), ==, RTC_TRANSPORT_STATE_CONNECTING);

  for (guint i = 0; i < pair.candidates_a->len; i++)
    add_remote (pair.b, g_ptr_array_index (pair.candidates_a, i), FALSE);
  for (guint i = 0; i < pair.candidates_b->len; i++)
    add_remote (pair.a, g_ptr_array_index (pair.candidates_b, i), FALSE);
  rtc_ice_transport_set_remote_gathering_done (pair.a);
  rtc_ice_transport_set_remote_gathering_done (pair.b);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  exchange_data (&pair, N_DATAGRAMS);
  pair_clear (&pair);
}

static void
test_peer_reflexive (gconstpointer data)
{
  gboolean controlling_learns = GPOINTER_TO_INT (data);
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  Pair pair;

  /* Only one side learns the other's candidates; the other side sees the
   * checks arrive from an unknown address (peer-reflexive). */
  pair_init (&pair, config);
  pair.trickle_a_to_b = !controlling_learns;
  pair.trickle_b_to_a = controlling_learns;
  pair_gather (&pair);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  exchange_data (&pair, N_DATAGRAMS);
  check_selected_pair (controlling_learns ? pair.b : pair.a, "prflx");
  pair_clear (&pair);
}

static guint16
closed_udp_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                             G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  /* closed when the socket goes */
}

static gboolean
is_final (gpointer data)
{
  RtcTransportState s = state (data);

  return s == RTC_TRANSPORT_STATE_FAILED || s == RTC_TRANSPORT_STATE_CLOSED;
}

static void
test_timeout (void)
{
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  RtcIceTransport *ice;
  g_autoptr (GError) error = NULL;
  g_autofree char *candidate = NULL;
  gint64 start, elapsed_ms;

  config->ice_timeout_ms = 2000;
  ice = rtc_ice_transport_new (config, TRUE);
  rtc_ice_transport_set_remote_credentials (ice, "abcd", "0123456789012345678901");
  candidate = g_strdup_printf ("candidate:1 1 udp 2130706431 127.0.0.1 %u typ host",
                               closed_udp_port ());
  g_assert_true (rtc_ice_transport_add_remote_candidate (ice, candidate, &error));
  g_assert_no_error (error);
  rtc_ice_transport_set_remote_gathering_done (ice);

  start = g_get_monotonic_time ();
  g_assert_true (rtc_ice_transport_gather (ice, &error));
  g_assert_no_error (error);
  g_assert_cmpint (state (ice), ==, RTC_TRANSPORT_STATE_CONNECTING);
  rtc_test_wait_until (is_final, ice, WAIT_MS);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("failed after %" G_GINT64_FORMAT " ms", elapsed_ms);

  g_assert_cmpint (state (ice), ==, RTC_TRANSPORT_STATE_FAILED);
  g_assert_error ((GError *) rtc_transport_get_error (RTC_TRANSPORT (ice)), RTC_ERROR,
                  RTC_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed_ms, >=, 1900);
  g_assert_cmpint (elapsed_ms, <, 5000);
  g_assert_finalize_object (ice);
  rtc_test_spin (20);
}

static void
test_peer_vanishes (void)
{
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  Pair pair;
  gint64 start, elapsed_ms;

  pair_init (&pair, config);
  pair_gather (&pair);
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  rtc_test_spin (200);

  g_assert_finalize_object (pair.b);
  pair.b = NULL;
  start = g_get_monotonic_time ();
  rtc_test_wait_until (is_final, pair.a, RTC_ICE_CONSENT_BOUND_MS + 2000);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("peer loss detected after %" G_GINT64_FORMAT " ms", elapsed_ms);

  g_assert_cmpint (state (pair.a), ==, RTC_TRANSPORT_STATE_FAILED);
  g_assert_error ((GError *) rtc_transport_get_error (RTC_TRANSPORT (pair.a)), RTC_ERROR,
                  RTC_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed_ms, <=, RTC_ICE_CONSENT_BOUND_MS);
  pair_clear (&pair);
}

static void
test_remote_candidates (void)
{
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  RtcIceTransport *ice = rtc_ice_transport_new (config, TRUE);
  const char *ignored[] = {
    "candidate:1 2 udp 2130706431 127.0.0.1 5000 typ host",
    "a=candidate:1 1 udp 2130706431 3f9c1a2e-1d5b-4b8e-9a0c-6f1d2e3c4b5a.local 5000 typ host\r\n",
    "candidate:1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
    "candidate:1 1 udp 2130706431 fe80::1 5000 typ host",
  };
  const char *invalid[] = {
    "",
    "a=",
    "candidate:",
    "candidate:1 1 udp 2130706431 127.0.0.1 5000",
    "candidate:1 x udp 2130706431 127.0.0.1 5000 typ host",
    "candidate:1 1 udp 2130706431 not-an-address 5000 typ host",
    "candidate:1 1 udp 2130706431 127.0.0.1 port typ host",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  };

  for (guint i = 0; i < G_N_ELEMENTS (ignored); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (rtc_ice_transport_add_remote_candidate (ice, ignored[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("invalid: %s", invalid[i]);
      g_assert_false (rtc_ice_transport_add_remote_candidate (ice, invalid[i], &error));
      g_assert_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE);
    }
  g_assert_finalize_object (ice);
  rtc_test_spin (20);
}

static void
test_bad_configuration (void)
{
  const char *bad_local[] = { "not-an-address", NULL };
  const char *bad_turn[] = { "turn:alice:s3cr3t-value@", NULL };
  const char *bad_turn_transport[] = { "turn:alice:s3cr3t@127.0.0.1:3478?transport=sctp", NULL };
  const char *bad_stun[] = { "stun:", NULL };
  struct
  {
    const char *const *local;
    const char *const *stun;
    const char *const *turn;
    gboolean relay_only;
  } cases[] = {
    { bad_local, NULL, NULL, FALSE },
    { NULL, bad_stun, NULL, FALSE },
    { NULL, NULL, bad_turn, FALSE },
    { NULL, NULL, bad_turn_transport, FALSE },
    { NULL, NULL, NULL, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RtcConfiguration) config = rtc_configuration_new ();
      g_autoptr (GError) error = NULL;
      RtcIceTransport *ice;

      config->local_addresses = g_strdupv ((GStrv) cases[i].local);
      config->stun_servers = g_strdupv ((GStrv) cases[i].stun);
      config->turn_servers = g_strdupv ((GStrv) cases[i].turn);
      config->relay_only = cases[i].relay_only;
      ice = rtc_ice_transport_new (config, FALSE);
      g_assert_false (rtc_ice_transport_gather (ice, &error));
      g_assert_error (error, RTC_ERROR, RTC_ERROR_FAILED);
      g_test_message ("%s", error->message);
      /* Never the TURN password. */
      g_assert_null (strstr (error->message, "s3cr3t"));
      g_assert_finalize_object (ice);
    }
  rtc_test_spin (20);
}

/* --- a minimal STUN server (RFC 5389 Binding) --- */

typedef struct
{
  GSocket *socket;
  GSource *source;
  guint16 port;
  guint requests;
  guint answered;
} StunServer;

static guint32
crc32 (const guint8 *data, gsize length)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
    }
  return ~crc;
}

static void
put_address (guint8 *out, gsize *n, guint16 type, guint16 port, const guint8 ip[4], guint32 mask)
{
  out[(*n)++] = type >> 8;
  out[(*n)++] = type & 0xff;
  out[(*n)++] = 0x00;
  out[(*n)++] = 0x08;
  out[(*n)++] = 0x00;
  out[(*n)++] = 0x01; /* IPv4 */
  out[(*n)++] = (port ^ (mask >> 16)) >> 8;
  out[(*n)++] = (port ^ (mask >> 16)) & 0xff;
  for (int i = 0; i < 4; i++)
    out[(*n)++] = ip[i] ^ (mask >> (24 - 8 * i));
}

static gboolean
stun_readable_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  StunServer *server = user_data;
  /* The mapped address a NAT would report: not the base address, or the
   * candidate would be redundant and dropped. */
  static const guint8 mapped_ip[4] = { 127, 0, 0, 2 };
  const guint32 cookie = 0x2112a442;
  guint8 request[1500];
  guint8 response[64];
  GSocketAddress *from = NULL;
  gboolean rfc5389;
  guint16 mapped_port;
  gssize length;
  gsize n = 0;

  length = g_socket_receive_from (socket, &from, (char *) request, sizeof request, NULL, NULL);
  if (length < 20 || request[0] != 0x00 || request[1] != 0x01)
    {
      g_clear_object (&from);
      return G_SOURCE_CONTINUE;
    }
  server->requests++;
  /* RFC 3489 requests (which libnice sends to discover server-reflexive
   * candidates) have no magic cookie. */
  rfc5389 = memcmp (request + 4, "\x21\x12\xa4\x42", 4) == 0;

  mapped_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from)) + 1;
  response[n++] = 0x01; /* Binding success */
  response[n++] = 0x01;
  n += 2;               /* length, below */
  memcpy (response + n, request + 4, 16);
  n += 16;
  put_address (response, &n, 0x0001, mapped_port, mapped_ip, 0); /* MAPPED-ADDRESS */
  if (rfc5389)
    put_address (response, &n, 0x0020, mapped_port, mapped_ip, cookie); /* XOR-MAPPED- */
  response[2] = 0;
  response[3] = n - 20 + (rfc5389 ? 8 : 0);
  if (rfc5389)
    {
      /* FINGERPRINT covers the message with the length including itself. */
      guint32 fingerprint = crc32 (response, n) ^ 0x5354554e;

      response[n++] = 0x80;
      response[n++] = 0x28;
      response[n++] = 0x00;
      response[n++] = 0x04;
      response[n++] = fingerprint >> 24;
      response[n++] = fingerprint >> 16;
      response[n++] = fingerprint >> 8;
      response[n++] = fingerprint;
    }

  if (g_socket_send_to (socket, from, (const char *) response, n, NULL, NULL) == (gssize) n)
    server->answered++;
  g_object_unref (from);
  return G_SOURCE_CONTINUE;
}

static void
stun_server_start (StunServer *server)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  memset (server, 0, sizeof *server);
  server->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                 G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (server->socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (server->socket, NULL);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_set_blocking (server->socket, FALSE);
  server->source = g_socket_create_source (server->socket, G_IO_IN, NULL);
  g_source_set_callback (server->source, (GSourceFunc) (void (*) (void)) stun_readable_cb, server,
                         NULL);
  g_source_attach (server->source, NULL);
}

static void
stun_server_stop (StunServer *server)
{
  g_source_destroy (server->source);
  g_source_unref (server->source);
  g_object_unref (server->socket);
}

static gboolean
has_srflx (gpointer data)
{
  GPtrArray *candidates = data;

  for (guint i = 0; i < candidates->len; i++)
    if (strstr (g_ptr_array_index (candidates, i), "typ srflx") != NULL)
      return TRUE;
  return FALSE;
}

static void
test_stun (gconstpointer data)
{
  const char *prefix = data;
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  StunServer server;
  g_autofree char *url = NULL;
  Pair pair;

  stun_server_start (&server);
  url = g_strdup_printf ("%s:%u", prefix, server.port);
  config->stun_servers = g_new0 (char *, 3);
  config->stun_servers[0] = g_strdup (url);
  config->stun_servers[1] = g_strdup ("stun:127.0.0.1:1"); /* only the first is used */

  pair_init (&pair, config);
  pair_gather (&pair);
  rtc_test_wait_until (both_gathered, &pair, WAIT_MS);
  g_test_message ("STUN server: %u requests, %u answered", server.requests, server.answered);
  g_assert_cmpuint (server.answered, >=, 2);
  g_assert_true (has_srflx (pair.candidates_a));
  g_assert_true (has_srflx (pair.candidates_b));
  for (guint i = 0; i < pair.candidates_a->len; i++)
    {
      const char *candidate = g_ptr_array_index (pair.candidates_a, i);

      g_test_message ("%s", candidate);
      if (strstr (candidate, "typ srflx") != NULL)
        g_assert_nonnull (strstr (candidate, " 127.0.0.2 "));
    }

  /* The pair still connects over its host candidates. */
  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  pair_clear (&pair);
  stun_server_stop (&server);
}

/* --- TURN through coturn on 127.0.0.1 --- */

static guint16
free_port (void)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
turn_server_ready (guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocess *
turn_server_start (guint16 port)
{
  g_autofree char *turnserver = g_find_program_in_path ("turnserver");
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *min_port = g_strdup_printf ("%u", 40000 + port % 20000);
  g_autofree char *max_port = g_strdup_printf ("%u", 40000 + port % 20000 + 50);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *process;
  gint64 deadline;

  if (turnserver == NULL)
    return NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, turnserver, "-n", "--no-cli",
                                         "--no-tls", "--no-dtls", "-L", "127.0.0.1",
                                         "--relay-ip", "127.0.0.1", "-p", port_text,
                                         "--min-port", min_port, "--max-port", max_port,
                                         "--lt-cred-mech", "-r", "rtc.test", "-u", "alice:p@ss w",
                                         "--allow-loopback-peers", "--no-multicast-peers",
                                         "--pidfile", "/dev/null",
                                         "--log-file", "stdout", "--simple-log", NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while (!turn_server_ready (port))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
  return process;
}

static void
test_turn (gconstpointer data)
{
  const char *transport = data;
  g_autoptr (RtcConfiguration) config = config_for ("127.0.0.1");
  g_autoptr (GSubprocess) server = NULL;
  guint16 port = free_port ();
  Pair pair;

  server = turn_server_start (port);
  if (server == NULL)
    {
      g_test_skip ("coturn (turnserver) is not installed");
      return;
    }

  config->relay_only = TRUE;
  config->turn_servers = g_new0 (char *, 2);
  /* The password "p@ss w", percent-encoded. */
  config->turn_servers[0] = g_strdup_printf ("turn:alice:p%%40ss%%20w@127.0.0.1:%u%s", port,
                                             transport);

  pair_init (&pair, config);
  pair_gather (&pair);
  rtc_test_wait_until (both_gathered, &pair, WAIT_MS);
  g_assert_cmpuint (pair.candidates_a->len, >=, 1);
  g_assert_cmpuint (pair.candidates_b->len, >=, 1);
  for (guint i = 0; i < pair.candidates_a->len; i++)
    {
      g_test_message ("%s", (char *) g_ptr_array_index (pair.candidates_a, i));
      g_assert_nonnull (strstr (g_ptr_array_index (pair.candidates_a, i), "typ relay"));
      /* The host address stays private. */
      g_assert_nonnull (strstr (g_ptr_array_index (pair.candidates_a, i),
                                " raddr 0.0.0.0 "));
    }
  for (guint i = 0; i < pair.candidates_b->len; i++)
    g_assert_nonnull (strstr (g_ptr_array_index (pair.candidates_b, i), "typ relay"));

  rtc_test_wait_until (both_connected, &pair, WAIT_MS);
  check_selected_pair (pair.a, "relay");
  check_selected_pair (pair.b, "relay");
  exchange_data (&pair, 50);
  pair_clear (&pair);

  g_subprocess_force_exit (server);
  g_assert_true (g_subprocess_wait (server, NULL, NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtc/ice/new-destroy", test_new_destroy);
  g_test_add_func ("/rtc/ice/remote-candidates", test_remote_candidates);
  g_test_add_func ("/rtc/ice/bad-configuration", test_bad_configuration);
  g_test_add_func ("/rtc/ice/connect-ipv4", test_connect_ipv4);
  g_test_add_func ("/rtc/ice/connect-decorated", test_connect_decorated);
  g_test_add_func ("/rtc/ice/connect-ipv6", test_connect_ipv6);
  g_test_add_func ("/rtc/ice/path-mtu/ipv4", test_path_mtu_ipv4);
  g_test_add_func ("/rtc/ice/path-mtu/ipv6", test_path_mtu_ipv6);
  g_test_add_func ("/rtc/ice/path-mtu/peer-limits", test_path_mtu_peer_limits);
  g_test_add_func ("/rtc/ice/late-trickle", test_late_trickle);
  g_test_add_data_func ("/rtc/ice/peer-reflexive/controlling-learns", GINT_TO_POINTER (TRUE),
                        test_peer_reflexive);
  g_test_add_data_func ("/rtc/ice/peer-reflexive/controlled-learns", GINT_TO_POINTER (FALSE),
                        test_peer_reflexive);
  g_test_add_func ("/rtc/ice/timeout", test_timeout);
  g_test_add_func ("/rtc/ice/peer-vanishes", test_peer_vanishes);
  g_test_add_data_func ("/rtc/ice/stun/literal", "stun:127.0.0.1", test_stun);
  g_test_add_data_func ("/rtc/ice/stun/name", "localhost", test_stun);
  g_test_add_data_func ("/rtc/ice/turn/udp", "", test_turn);
  g_test_add_data_func ("/rtc/ice/turn/tcp", "?transport=tcp", test_turn);

  return g_test_run ();
}
