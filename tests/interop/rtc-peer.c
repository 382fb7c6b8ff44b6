/* rtc-peer.c: an interoperability peer built on RtcPeerConnection, with the
 * command line shared by rtc-peer, aiortc-peer.py and pion-peer (see
 * bench/README.md). Signaling goes through two files; the result is one JSON
 * line on stdout.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rtc-configuration.h"
#include "rtc-data-channel.h"
#include "rtc-error.h"
#include "rtc-peer-connection.h"

#define DEFAULT_HIGH_WATER (1024 * 1024)
#define DEFAULT_CHUNK 65535
#define SOCKET_BUFFER (4 * 1024 * 1024)

typedef struct
{
  /* options */
  gboolean offerer;
  char *local_sdp;
  char *remote_sdp;
  char **binds;
  char *stun;
  char *turn;
  gboolean relay_only;
  gboolean opener_self;
  gint64 send_bytes;
  char *send_file;
  gboolean receive;
  gint chunk;
  gint high_water; /* pause above this buffered amount, resume at a quarter */
  gdouble timeout;

  /* state */
  GMainLoop *loop;
  RtcPeerConnection *pc;
  RtcDataChannel *channel;
  gboolean gathered;
  gboolean local_written;
  gboolean remote_applied;
  guint poll_id;
  guint drain_id;
  guint timeout_id;
  gdouble start_ms;
  gdouble open_ms;
  gint64 open_us;
  gint64 done_us;
  gnutls_hash_hd_t hash;
  guint64 bytes;
  guint64 state[4];
  GInputStream *file_in;
  gboolean sending;
  gboolean send_finished;
  gboolean closing;
  gboolean closing_pc;
  gboolean direct_receive; /* the ICE transport read its socket itself at the end */
  gboolean done;
  GError *error;
  int exit_status;
} Peer;

static gdouble
boot_ms (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_BOOTTIME, &ts) != 0)
    return 0;
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Start of this process, from field 22 of /proc/self/stat (clock ticks since boot). */
static gdouble
process_start_ms (void)
{
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *p;
  long ticks = sysconf (_SC_CLK_TCK);

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) || ticks <= 0)
    return boot_ms ();
  p = strrchr (stat, ')');
  if (p == NULL)
    return boot_ms ();
  fields = g_strsplit_set (p + 1, " \n", -1);
  /* fields[0] is empty (the space after ')'), fields[1] is field 3 */
  if (g_strv_length (fields) < 21)
    return boot_ms ();
  return g_ascii_strtod (fields[20], NULL) * 1000.0 / ticks;
}

/* VmHWM: the peak resident size of this program (it starts afresh at exec). */
static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmHWM:");
  if (p == NULL)
    return 0;
  return g_ascii_strtoull (p + strlen ("VmHWM:"), NULL, 10);
}

/* xoshiro256** seeded through splitmix64: the same stream as pion-peer. */
static void
prng_seed (Peer *peer, guint64 seed)
{
  for (guint i = 0; i < 4; i++)
    {
      guint64 z;

      seed += 0x9e3779b97f4a7c15ULL;
      z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      peer->state[i] = z ^ (z >> 31);
    }
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static void
prng_fill (Peer *peer, guint8 *buf, gsize len)
{
  guint64 *s = peer->state;

  for (gsize i = 0; i < len; i += 8)
    {
      guint64 r = rotl (s[1] * 5, 7) * 9;
      guint64 t = s[1] << 17;
      guint64 le;

      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl (s[3], 45);
      le = GUINT64_TO_LE (r);
      memcpy (buf + i, &le, MIN (8, len - i));
    }
}

static void
peer_fail (Peer *peer, GError *error)
{
  if (peer->error == NULL)
    peer->error = error;
  else
    g_error_free (error);
  if (peer->exit_status == 0)
    peer->exit_status = 1;
  g_main_loop_quit (peer->loop);
}

static void
peer_finish (Peer *peer)
{
  if (peer->done)
    return;
  peer->done = TRUE;
  peer->done_us = g_get_monotonic_time ();
  if (rtc_peer_connection_get_ice_transport (peer->pc) != NULL)
    peer->direct_receive = rtc_ice_transport_is_receiving_directly (
      rtc_peer_connection_get_ice_transport (peer->pc));
  g_main_loop_quit (peer->loop);
}

static gboolean
write_atomic (const char *path, const char *type, const char *sdp, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tmp = g_strdup_printf ("%s.tmp.%d", path, (int)getpid ());
  gsize len;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "sdp");
  json_builder_add_string_value (builder, sdp);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);

  if (!g_file_set_contents (tmp, text, len, error))
    return FALSE;
  if (g_rename (tmp, path) != 0)
    {
      int saved = errno;

      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Reads {"type": ..., "sdp": ...}. Returns FALSE with no error while the file
 * does not exist yet. */
static gboolean
read_remote (const char *path, char **type, char **sdp, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const char *t;
  const char *s;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP, "%s: %s", path, local_error->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto bad;
  object = json_node_get_object (json_parser_get_root (parser));
  t = json_object_get_string_member_with_default (object, "type", NULL);
  s = json_object_get_string_member_with_default (object, "sdp", NULL);
  if (t == NULL || s == NULL)
    goto bad;
  *type = g_strdup (t);
  *sdp = g_strdup (s);
  return TRUE;

bad:
  g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_SDP, "%s: not a session description", path);
  return FALSE;
}

static void pump (Peer *peer);

static gboolean
drain_cb (gpointer user_data)
{
  Peer *peer = user_data;

  if (peer->closing)
    return G_SOURCE_CONTINUE;
  if (rtc_data_channel_get_buffered_amount (peer->channel) > 0)
    return G_SOURCE_CONTINUE;
  peer->closing = TRUE;
  peer->drain_id = 0;
  g_debug ("all %" G_GUINT64_FORMAT " bytes handed over, closing the channel", peer->bytes);
  rtc_data_channel_close (peer->channel);
  return G_SOURCE_REMOVE;
}

static void
pump (Peer *peer)
{
  while (!peer->send_finished && rtc_data_channel_get_buffered_amount (peer->channel)
                                      <= (guint64) peer->high_water)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = NULL;
      guint8 *buf = g_malloc (peer->chunk);
      gsize n;

      if (peer->file_in != NULL)
        {
          if (!g_input_stream_read_all (peer->file_in, buf, peer->chunk, &n, NULL, &error))
            {
              g_free (buf);
              g_prefix_error (&error, "%s: ", peer->send_file);
              peer_fail (peer, g_steal_pointer (&error));
              return;
            }
        }
      else
        {
          n = (gsize)MIN ((guint64)peer->chunk, (guint64)peer->send_bytes - peer->bytes);
          prng_fill (peer, buf, n);
        }
      if (n == 0)
        {
          g_free (buf);
          peer->send_finished = TRUE;
          break;
        }
      gnutls_hash (peer->hash, buf, n);
      bytes = g_bytes_new_take (buf, n);
      if (!rtc_data_channel_send_bytes (peer->channel, bytes, &error))
        {
          g_prefix_error (&error, "send: ");
          peer_fail (peer, g_steal_pointer (&error));
          return;
        }
      peer->bytes += n;
    }

  if (peer->send_finished && peer->drain_id == 0 && !peer->closing)
    peer->drain_id = g_timeout_add (2, drain_cb, peer);
}

static void
on_buffered_amount_low (RtcDataChannel *channel, gpointer user_data)
{
  Peer *peer = user_data;

  g_debug ("buffered amount low after %" G_GUINT64_FORMAT " bytes", peer->bytes);
  if (peer->sending)
    pump (peer);
}

static void
on_message (RtcDataChannel *channel, GBytes *data, gboolean is_text, gpointer user_data)
{
  Peer *peer = user_data;
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);

  if (!peer->receive)
    return;
  if (len > 0)
    gnutls_hash (peer->hash, p, len);
  peer->bytes += len;
}

static void
on_open (RtcDataChannel *channel, gpointer user_data)
{
  Peer *peer = user_data;

  if (peer->open_us != 0)
    return;
  peer->open_ms = boot_ms ();
  peer->open_us = g_get_monotonic_time ();
  g_debug ("channel open");
  if (!peer->receive)
    {
      peer->sending = TRUE;
      pump (peer);
    }
}

static void
on_closed (RtcDataChannel *channel, gpointer user_data)
{
  Peer *peer = user_data;

  /* For a receiver the end of the stream is the channel closing; the bytes
   * and the hash it reports tell whether everything arrived. */
  if (peer->receive || peer->closing)
    {
      peer_finish (peer);
      return;
    }
  peer_fail (peer, g_error_new (RTC_ERROR, RTC_ERROR_CLOSED, "the channel closed while sending"));
}

static void
on_channel_error (RtcDataChannel *channel, GError *error, gpointer user_data)
{
  Peer *peer = user_data;
  GError *copy = g_error_copy (error);

  g_prefix_error (&copy, "data channel: ");
  peer_fail (peer, copy);
}

static void
adopt_channel (Peer *peer, RtcDataChannel *channel)
{
  if (peer->channel != NULL)
    return;
  peer->channel = g_object_ref (channel);
  rtc_data_channel_set_buffered_amount_low_threshold (channel, (guint64) peer->high_water / 4);
  g_signal_connect (channel, "open", G_CALLBACK (on_open), peer);
  g_signal_connect (channel, "message", G_CALLBACK (on_message), peer);
  g_signal_connect (channel, "closed", G_CALLBACK (on_closed), peer);
  g_signal_connect (channel, "error", G_CALLBACK (on_channel_error), peer);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (on_buffered_amount_low), peer);
  if (rtc_data_channel_get_ready_state (channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    on_open (channel, peer);
}

static void
on_data_channel (RtcPeerConnection *pc, RtcDataChannel *channel, gpointer user_data)
{
  Peer *peer = user_data;

  if (g_strcmp0 (rtc_data_channel_get_label (channel), "data") == 0)
    adopt_channel (peer, channel);
}

static void
on_connection_state (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Peer *peer = user_data;

  RtcPeerConnectionState state = rtc_peer_connection_get_connection_state (peer->pc);
  const GError *error;

  if (peer->closing_pc)
    {
      if (state == RTC_PEER_CONNECTION_STATE_CLOSED || state == RTC_PEER_CONNECTION_STATE_FAILED)
        g_main_loop_quit (peer->loop);
      return;
    }
  if (state != RTC_PEER_CONNECTION_STATE_FAILED && state != RTC_PEER_CONNECTION_STATE_CLOSED)
    return;
  if (peer->done)
    return;
  error = rtc_peer_connection_get_error (peer->pc);
  if (error != NULL)
    peer_fail (peer,
               g_error_new (error->domain, error->code, "connection failed: %s", error->message));
  else
    peer_fail (peer, g_error_new (RTC_ERROR, RTC_ERROR_CLOSED, "connection %s",
                                  state == RTC_PEER_CONNECTION_STATE_FAILED ? "failed" : "closed"));
}

static void
create_own_channel (Peer *peer)
{
  g_autoptr (RtcDataChannel) channel = NULL;
  g_autoptr (GError) error = NULL;

  channel = rtc_peer_connection_create_data_channel (peer->pc, "data", "", &error);
  if (channel == NULL)
    {
      g_prefix_error (&error, "data channel: ");
      peer_fail (peer, g_steal_pointer (&error));
      return;
    }
  adopt_channel (peer, channel);
}

static void
maybe_write_local (Peer *peer)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;

  if (peer->local_written)
    return;
  if (!peer->gathered && !rtc_peer_connection_is_gathering_done (peer->pc))
    return;
  /* create_*_finish must have run too: it sets the local description */
  sdp = rtc_peer_connection_get_local_description (peer->pc);
  if (sdp == NULL)
    return;
  peer->local_written = TRUE;
  if (!write_atomic (peer->local_sdp, peer->offerer ? "offer" : "answer", sdp, &error))
    {
      peer_fail (peer, g_steal_pointer (&error));
      return;
    }
  if (!peer->offerer && peer->opener_self)
    create_own_channel (peer);
}

static void
on_gathering_done (RtcPeerConnection *pc, gpointer user_data)
{
  Peer *peer = user_data;

  peer->gathered = TRUE;
  maybe_write_local (peer);
}

static void
description_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;

  if (peer->offerer)
    sdp = rtc_peer_connection_create_offer_finish (RTC_PEER_CONNECTION (source), result, &error);
  else
    sdp = rtc_peer_connection_create_answer_finish (RTC_PEER_CONNECTION (source), result, &error);
  if (sdp == NULL)
    {
      g_prefix_error (&error, "%s: ", peer->offerer ? "offer" : "answer");
      peer_fail (peer, g_steal_pointer (&error));
      return;
    }
  maybe_write_local (peer);
}

static gboolean
poll_remote_cb (gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *type = NULL;
  g_autofree char *sdp = NULL;
  const char *want = peer->offerer ? "answer" : "offer";

  if (peer->offerer && !peer->local_written)
    return G_SOURCE_CONTINUE;
  if (!read_remote (peer->remote_sdp, &type, &sdp, &error))
    {
      if (error == NULL)
        return G_SOURCE_CONTINUE;
      peer->poll_id = 0;
      peer_fail (peer, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }
  peer->poll_id = 0;
  if (g_strcmp0 (type, want) != 0)
    {
      peer_fail (peer, g_error_new (RTC_ERROR, RTC_ERROR_INVALID_SDP, "%s: expected an %s",
                                    peer->remote_sdp, want));
      return G_SOURCE_REMOVE;
    }
  if (!rtc_peer_connection_set_remote_description (
          peer->pc, peer->offerer ? RTC_SDP_TYPE_ANSWER : RTC_SDP_TYPE_OFFER, sdp, &error))
    {
      g_prefix_error (&error, "%s: ", peer->remote_sdp);
      peer_fail (peer, g_steal_pointer (&error));
      return G_SOURCE_REMOVE;
    }
  peer->remote_applied = TRUE;
  if (!peer->offerer)
    rtc_peer_connection_create_answer_async (peer->pc, NULL, description_ready, peer);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  Peer *peer = user_data;

  peer->timeout_id = 0;
  peer->exit_status = 2;
  peer_fail (peer,
             g_error_new (RTC_ERROR, RTC_ERROR_TIMEOUT, "timed out after %g s", peer->timeout));
  return G_SOURCE_REMOVE;
}

static gboolean
parse_options (Peer *peer, int *argc, char ***argv, GError **error)
{
  g_autofree char *role = NULL;
  g_autofree char *opener = NULL;
  gint64 send_bytes = -1;
  GOptionEntry entries[]
      = { { "role", 0, 0, G_OPTION_ARG_STRING, &role, "offer or answer", "ROLE" },
          { "local-sdp", 0, 0, G_OPTION_ARG_FILENAME, &peer->local_sdp,
            "File our description is written to", "FILE" },
          { "remote-sdp", 0, 0, G_OPTION_ARG_FILENAME, &peer->remote_sdp,
            "File the peer's description is read from", "FILE" },
          { "bind", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peer->binds,
            "Local address ICE may use (repeatable)", "ADDR" },
          { "stun", 0, 0, G_OPTION_ARG_STRING, &peer->stun, "STUN server", "HOST:PORT" },
          { "turn", 0, 0, G_OPTION_ARG_STRING, &peer->turn, "TURN server",
            "turn:USER:PASS@HOST:PORT[?transport=tcp]" },
          { "relay-only", 0, 0, G_OPTION_ARG_NONE, &peer->relay_only, "Use relayed candidates only",
            NULL },
          { "opener", 0, 0, G_OPTION_ARG_STRING, &opener, "Who creates the channel: self or peer",
            "WHO" },
          { "send-bytes", 0, 0, G_OPTION_ARG_INT64, &send_bytes, "Send N pseudo-random bytes",
            "N" },
          { "send-file", 0, 0, G_OPTION_ARG_FILENAME, &peer->send_file, "Send this file", "PATH" },
          { "receive", 0, 0, G_OPTION_ARG_NONE, &peer->receive, "Receive and hash", NULL },
          { "chunk", 0, 0, G_OPTION_ARG_INT, &peer->chunk, "Message size", "BYTES" },
          { "high-water", 0, 0, G_OPTION_ARG_INT, &peer->high_water,
            "Pause sending above this buffered amount, resume at a quarter of it", "BYTES" },
          { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &peer->timeout,
            "Seconds allowed for the whole run", "SECONDS" },
          { NULL } };
  g_autoptr (GOptionContext) context = g_option_context_new ("- data-channel interop peer");
  guint modes = 0;

  peer->chunk = DEFAULT_CHUNK;
  peer->high_water = DEFAULT_HIGH_WATER;
  peer->timeout = 120;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument %s",
                   (*argv)[1]);
      return FALSE;
    }
  if (g_strcmp0 (role, "offer") != 0 && g_strcmp0 (role, "answer") != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--role must be offer or answer");
      return FALSE;
    }
  peer->offerer = g_str_equal (role, "offer");
  if (peer->local_sdp == NULL || peer->remote_sdp == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "--local-sdp and --remote-sdp are required");
      return FALSE;
    }
  if (opener == NULL)
    peer->opener_self = peer->offerer;
  else if (g_str_equal (opener, "self") || g_str_equal (opener, "peer"))
    peer->opener_self = g_str_equal (opener, "self");
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--opener must be self or peer");
      return FALSE;
    }
  modes = (send_bytes >= 0) + (peer->send_file != NULL) + (peer->receive != FALSE);
  if (modes != 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "exactly one of --send-bytes, --send-file, --receive is required");
      return FALSE;
    }
  peer->send_bytes = send_bytes;
  if (peer->chunk <= 0 || peer->chunk > 262144)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--chunk must be between 1 and 262144");
      return FALSE;
    }
  if (peer->high_water < 65536 || peer->high_water > 256 * 1024 * 1024)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--high-water must be between 65536 and 268435456");
      return FALSE;
    }
  if (peer->timeout <= 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--timeout must be positive");
      return FALSE;
    }
  if (peer->relay_only && peer->turn == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--relay-only needs --turn");
      return FALSE;
    }
  return TRUE;
}

static RtcConfiguration *
make_configuration (Peer *peer)
{
  RtcConfiguration *config = rtc_configuration_new ();

  if (peer->binds != NULL)
    config->local_addresses = g_strdupv (peer->binds);
  if (peer->stun != NULL)
    {
      const char *servers[] = { peer->stun, NULL };

      config->stun_servers = g_strdupv ((char **)servers);
    }
  if (peer->turn != NULL)
    {
      const char *servers[] = { peer->turn, NULL };

      config->turn_servers = g_strdupv ((char **)servers);
    }
  config->relay_only = peer->relay_only;
  config->socket_buffer_size = SOCKET_BUFFER;
  return config;
}

static void
peer_clear (Peer *peer)
{
  g_clear_handle_id (&peer->poll_id, g_source_remove);
  g_clear_handle_id (&peer->drain_id, g_source_remove);
  g_clear_handle_id (&peer->timeout_id, g_source_remove);
  if (peer->channel != NULL)
    g_signal_handlers_disconnect_by_data (peer->channel, peer);
  g_clear_object (&peer->channel);
  if (peer->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (peer->pc, peer);
      if (rtc_peer_connection_get_connection_state (peer->pc) != RTC_PEER_CONNECTION_STATE_CLOSED)
        rtc_peer_connection_close (peer->pc);
    }
  g_clear_object (&peer->pc);
  g_clear_object (&peer->file_in);
  if (peer->hash != NULL)
    gnutls_hash_deinit (peer->hash, NULL);
  g_clear_pointer (&peer->loop, g_main_loop_unref);
  g_clear_pointer (&peer->local_sdp, g_free);
  g_clear_pointer (&peer->remote_sdp, g_free);
  g_clear_pointer (&peer->binds, g_strfreev);
  g_clear_pointer (&peer->stun, g_free);
  g_clear_pointer (&peer->turn, g_free);
  g_clear_pointer (&peer->send_file, g_free);
  g_clear_error (&peer->error);
}

int
main (int argc, char **argv)
{
  Peer peer = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RtcConfiguration) config = NULL;
  guint8 digest[32];
  g_autofree char *hex = NULL;
  gdouble transfer_s;
  char mbps[G_ASCII_DTOSTR_BUF_SIZE];
  char setup[G_ASCII_DTOSTR_BUF_SIZE];
  char secs[G_ASCII_DTOSTR_BUF_SIZE];
  int status;

  peer.start_ms = process_start_ms ();
  if (!parse_options (&peer, &argc, &argv, &error))
    {
      g_printerr ("rtc-peer: %s\n", error->message);
      peer_clear (&peer);
      return 2;
    }

  if (gnutls_hash_init (&peer.hash, GNUTLS_DIG_SHA256) < 0)
    {
      g_printerr ("rtc-peer: SHA-256 is not available\n");
      peer.hash = NULL;
      peer_clear (&peer);
      return 1;
    }
  prng_seed (&peer, 1);
  if (peer.send_file != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (peer.send_file);

      peer.file_in = G_INPUT_STREAM (g_file_read (file, NULL, &error));
      if (peer.file_in == NULL)
        {
          g_printerr ("rtc-peer: %s\n", error->message);
          peer_clear (&peer);
          return 1;
        }
    }

  peer.loop = g_main_loop_new (NULL, FALSE);
  peer.timeout_id = g_timeout_add ((guint)(peer.timeout * 1000), timeout_cb, &peer);
  config = make_configuration (&peer);
  peer.pc = rtc_peer_connection_new (config);
  g_signal_connect (peer.pc, "data-channel", G_CALLBACK (on_data_channel), &peer);
  g_signal_connect (peer.pc, "gathering-done", G_CALLBACK (on_gathering_done), &peer);
  g_signal_connect (peer.pc, "notify::connection-state", G_CALLBACK (on_connection_state), &peer);

  if (peer.offerer)
    {
      if (peer.opener_self)
        create_own_channel (&peer);
      rtc_peer_connection_create_offer_async (peer.pc, NULL, description_ready, &peer);
    }
  peer.poll_id = g_timeout_add (5, poll_remote_cb, &peer);

  if (peer.error == NULL)
    g_main_loop_run (peer.loop);

  if (peer.error != NULL)
    {
      g_printerr ("rtc-peer: %s\n", peer.error->message);
      status = peer.exit_status != 0 ? peer.exit_status : 1;
      peer_clear (&peer);
      return status;
    }

  /* End the association cleanly before leaving, so that the peer sees a
   * close rather than an abort. */
  peer.closing_pc = TRUE;
  rtc_peer_connection_close (peer.pc);
  if (rtc_peer_connection_get_connection_state (peer.pc) != RTC_PEER_CONNECTION_STATE_CLOSED)
    {
      guint id = g_timeout_add (2000, quit_cb, peer.loop);

      g_main_loop_run (peer.loop);
      g_source_remove (id);
    }

  gnutls_hash_output (peer.hash, digest);
  hex = g_malloc (sizeof digest * 2 + 1);
  for (gsize i = 0; i < sizeof digest; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  transfer_s = (peer.done_us - peer.open_us) / 1e6;
  g_ascii_formatd (mbps, sizeof mbps, "%.2f", transfer_s > 0 ? peer.bytes / transfer_s / 1e6 : 0.0);
  g_ascii_formatd (setup, sizeof setup, "%.1f", peer.open_ms - peer.start_ms);
  g_ascii_formatd (secs, sizeof secs, "%.4f", transfer_s);
  g_print ("{\"impl\":\"rtc\",\"role\":\"%s\",\"direction\":\"%s\",\"bytes\":%" G_GUINT64_FORMAT
           ",\"sha256\":\"%s\",\"setup_ms\":%s,\"transfer_s\":%s,\"mbps\":%s,\"max_rss_kib\":"
           "%" G_GUINT64_FORMAT ",\"direct_receive\":%s}\n",
           peer.offerer ? "offer" : "answer", peer.receive ? "receive" : "send", peer.bytes, hex,
           setup, secs, mbps, peak_rss_kib (), peer.direct_receive ? "true" : "false");
  peer_clear (&peer);
  return 0;
}
