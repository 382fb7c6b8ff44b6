/* rtc-ice-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: libnice's agent, the direct batched socket path that takes over
 * from it and the consent answers share the selected pair and its socket;
 * the STUN message code they use lives in rtc-stun.c.
 *
 * One NiceAgent per transport, running on the home context, with one stream
 * of one component. STUN and TURN server names are resolved with GResolver
 * before gathering starts, because libnice only accepts IP literals.
 *
 * Liveness after CONNECTED: the transport fails with RTC_ERROR_TIMEOUT when
 * nothing at all arrived from the peer for LIVENESS_TIMEOUT_MS. Every packet
 * counts as a sign of life; the layers above keep an idle path busy (SCTP
 * heartbeats every 2 s). libnice's own consent freshness (RFC 7675) is not
 * used: under a sustained transfer libnice keeps reading its socket without
 * returning to the main loop, its consent timers starve, and it would
 * declare a peer lost that is sending thousands of packets a second. Peers
 * that check our consent are still answered (by libnice, or by the direct
 * receiving below).
 *
 * Sending: when the selected pair is a plain UDP pair (not relayed), packets
 * sent during one main-loop dispatch are copied into a batch and written
 * with one sendmmsg() on the pair's socket when the dispatch is over (or
 * when the batch is full), instead of one system call per packet. Relayed
 * pairs, oversized packets and the time before a pair is selected go
 * through libnice one packet at a time.
 *
 * Receiving: libnice reads one datagram per system call, allocating a
 * GSocketAddress for each. Once the selected pair is a nominated plain UDP
 * pair (component READY), the transport reads that socket itself, up to
 * RECV_BATCH_MESSAGES messages per recvmmsg(), from a source of higher
 * priority than libnice's on the same socket (so libnice's never runs while
 * ours has work), with UDP_GRO so that a run of same-size datagrams (what
 * the peer sent with UDP_SEGMENT, see Sending) arrives as one message.
 * Datagrams from the selected peer address go up the stack; STUN Binding
 * requests from it (consent and keep-alive checks, RFC 7675)
 * are verified with the local ICE password and answered here, other STUN
 * (indications, stray responses) is dropped. Anything unexpected (a
 * datagram from another address, a truncated datagram, a socket error)
 * hands the socket back to libnice for good, dropping only that datagram:
 * STUN and SCTP both retransmit.
 *
 * Path MTU: every path is taken to carry RTC_ICE_BASE_DATAGRAM bytes. When
 * the peer says it reads larger datagrams (a=x-max-datagram, this program's
 * own) and the transport reads the selected pair's socket directly, it
 * probes for more, in the manner of RFC 8899 (datagram packetization layer
 * path MTU discovery) with ICE's own messages: Binding requests padded to
 * the datagram sizes of common links (a 1500-byte Ethernet, a 9000-byte
 * jumbo frame, the largest DTLS record), sent with the don't-fragment bit
 * and never fragmented here, PROBE_ROUNDS times PROBE_INTERVAL_MS apart
 * until answered. The largest size answered is the path MTU (the
 * "path-mtu" property); a size the local link refuses (EMSGSIZE) fails at
 * once. Only a whole request is answered: a path that drops or truncates
 * it, or a peer that reads less, answers nothing. When the selected pair
 * changes, the sizes up to the current one are probed again, so the path
 * MTU can only fall while the transport lives (an SCTP association cannot
 * take larger packets once set up).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <gnutls/crypto.h>
#include <gio/gio.h>

#include <nice/agent.h>

#include "rtc-error.h"
#include "rtc-ice-transport.h"
#include "rtc-stun.h"

/* A connected peer from which nothing arrived for this long is gone. 30 s is
 * when consent expires in RFC 7675 (section 5.1). It was 12 s, which turned
 * a 10 s outage of the path (Wi-Fi roaming, a modem resync) into a failed
 * backup although SCTP carries on: after the outage the next packet may take
 * another RTO (up to 5 s) plus a heartbeat interval to come (tests/lab,
 * wan-backup-outage). */
#define LIVENESS_TIMEOUT_MS 30000
#define LIVENESS_TICK_MS 1000

#define COMPONENT_ID 1
#define DEFAULT_ICE_TIMEOUT_MS 30000
#define DEFAULT_SOCKET_BUFFER_SIZE (4 * 1024 * 1024)
/* Packets batched per sendmmsg(), and the smallest batch slot (DTLS records
 * of 1200-byte SCTP packets are ~1250 bytes); slots grow to the path MTU. */
#define SEND_BATCH_PACKETS 64
#define SEND_BATCH_SLOT 1500
/* Path MTU probes (see the top): rounds, their interval, and the largest
 * datagram worth probing: a DTLS record of 16 KiB (RFC 6347's limit) with
 * AES-GCM's 37 bytes of header, nonce and tag, rounded down to STUN's
 * 4-byte unit. */
#define PROBE_ROUNDS 3
#define PROBE_INTERVAL_MS 200
#define PROBE_LARGEST 16420
#define MAX_PROBES 3
/* Limits of one UDP_SEGMENT message: the kernel's segment count, and the
 * largest UDP payload. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000
/* libnice reads its socket in a loop while packets keep arriving, so the end
 * of a dispatch may be far away: packets batched while receiving (SCTP
 * acknowledgements, or the data they release) go out after this many
 * received packets at the latest. */
#define SEND_BATCH_RECEIVED_PACKETS 16
/* Messages read per recvmmsg() on the selected pair's socket, the size of
 * a message slot (a datagram, or with UDP_GRO several datagrams of one size
 * that the kernel kept together: at most 64 KiB), and the number of
 * recvmmsg() calls per dispatch before other sources get a turn. */
#define RECV_BATCH_MESSAGES 32
#define RECV_BATCH_SLOT 65536
#define RECV_BATCHES_PER_DISPATCH 4

typedef struct
{
  char *host;
  guint16 port;
  char *username;
  char *password;
  NiceRelayType type;
  char *address; /* resolved IP literal, or NULL */
} TurnServer;

typedef struct
{
  char *host;
  guint16 port;
  char *address; /* resolved IP literal, or NULL */
} StunServer;

struct _RtcIceTransport
{
  RtcTransport parent_instance;

  RtcConfiguration *config;
  NiceAgent *agent;
  guint stream_id;
  gboolean controlling;

  GArray *stun_servers; /* StunServer */
  GArray *turn_servers; /* TurnServer */
  GCancellable *cancellable;
  guint pending_resolves;

  gboolean gather_called;
  gboolean nice_gathering; /* nice_agent_gather_candidates() was called */
  gboolean gathering_done;

  gboolean have_remote_credentials;
  GSList *pending_remote; /* NiceCandidate, until checks can start */
  gboolean remote_gathering_done;
  gboolean told_remote_gathering_done;

  GSource *timeout_source;
  GSource *liveness_source;
  guint64 rx_packets;      /* packets received since CONNECTED */
  guint64 rx_packets_seen; /* as of the last liveness tick */
  gint64 rx_silent_since;  /* monotonic time of the last tick that saw a packet */
  gboolean liveness_held;  /* silence does not fail the transport (an ICE restart runs) */

  char *selected_pair;
  gboolean closed;

  /* Direct sending on the selected pair's socket (NULL when relayed). */
  GSocket *direct_socket;
  struct sockaddr_storage direct_address;
  socklen_t direct_address_length;
  GSource *flush_source;
  guint8 *batch_data; /* SEND_BATCH_PACKETS slots of SEND_BATCH_SLOT bytes */
  struct iovec batch_vectors[SEND_BATCH_PACKETS];
  struct mmsghdr send_messages[SEND_BATCH_PACKETS];
  union
  {
    char buffer[CMSG_SPACE (sizeof (guint16))];
    struct cmsghdr align;
  } send_controls[SEND_BATCH_PACKETS];
  guint send_message_first[SEND_BATCH_PACKETS]; /* first packet of each message */
  gboolean gso_enabled;
  guint batch_length;
  guint received_since_flush;

  /* Direct receiving on the selected pair's socket (see the top). */
  gboolean nice_ready;       /* the component reached READY */
  gboolean remote_seen;      /* a remote candidate or an incoming check */
  gboolean recv_given_back;  /* libnice reads the socket again, for good */
  GSource *recv_source;
  gboolean gro_enabled;      /* UDP_GRO is set on the socket */
  guint8 *recv_data; /* RECV_BATCH_MESSAGES slots of RECV_BATCH_SLOT bytes */
  struct mmsghdr recv_headers[RECV_BATCH_MESSAGES];
  struct iovec recv_vectors[RECV_BATCH_MESSAGES];
  struct sockaddr_storage recv_addresses[RECV_BATCH_MESSAGES];
  union
  {
    char buffer[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } recv_controls[RECV_BATCH_MESSAGES];
  char *local_ufrag;
  char *local_password;

  /* Path MTU (see the top). */
  char *remote_ufrag;
  char *remote_password;
  guint32 local_priority;  /* of the selected pair's local candidate */
  guint64 tie_breaker;
  guint peer_max_datagram; /* a=x-max-datagram; 0: none */
  guint path_mtu;          /* the largest datagram known to reach the peer */
  guint probe_limit;       /* sizes above this are not probed */
  gboolean probe_done;     /* no probe runs or will, until the pair changes */
  GSource *probe_source;
  guint probe_round;
  guint probe_count;
  guint probe_sizes[MAX_PROBES]; /* largest first */
  guint8 probe_ids[MAX_PROBES][12];
  gboolean probe_failed[MAX_PROBES];
  guint probe_best;  /* the largest size answered, or 0 */
  guint send_slot;   /* the size of a send batch slot */
};

G_DEFINE_FINAL_TYPE (RtcIceTransport, rtc_ice_transport, RTC_TYPE_TRANSPORT)

enum
{
  PROP_0,
  PROP_CONTROLLING,
  PROP_SELECTED_PAIR,
  PROP_PATH_MTU,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_LOCAL_CANDIDATE,
  SIGNAL_GATHERING_DONE,
  SIGNAL_STALLED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
stun_server_clear (StunServer *server)
{
  g_clear_pointer (&server->host, g_free);
  g_clear_pointer (&server->address, g_free);
}

static void
turn_server_clear (TurnServer *server)
{
  g_clear_pointer (&server->host, g_free);
  g_clear_pointer (&server->username, g_free);
  g_clear_pointer (&server->password, g_free);
  g_clear_pointer (&server->address, g_free);
}

static void
fail (RtcIceTransport *self, RtcError code, const char *message)
{
  g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, code, message);

  g_debug ("ICE transport %p failed: %s", self, message);
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_FAILED, error);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static gboolean
liveness_tick_cb (gpointer user_data)
{
  RtcIceTransport *self = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *message = NULL;

  if (self->rx_packets != self->rx_packets_seen)
    {
      self->rx_packets_seen = self->rx_packets;
      self->rx_silent_since = now;
      return G_SOURCE_CONTINUE;
    }
  if (now - self->rx_silent_since >= RTC_ICE_STALL_MS * G_TIME_SPAN_MILLISECOND)
    {
      g_autoptr (RtcIceTransport) hold = g_object_ref (self);

      g_signal_emit (self, signals[SIGNAL_STALLED], 0);
      /* A handler may have closed the transport (the source is gone). */
      if (self->liveness_source == NULL || self->closed)
        return G_SOURCE_REMOVE;
    }
  if (self->liveness_held
      || now - self->rx_silent_since < LIVENESS_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND)
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&self->liveness_source, g_source_unref);
  message = g_strdup_printf ("The peer stopped answering: nothing arrived for %d s",
                             LIVENESS_TIMEOUT_MS / 1000);
  fail (self, RTC_ERROR_TIMEOUT, message);
  return G_SOURCE_REMOVE;
}

static void
start_liveness (RtcIceTransport *self)
{
  clear_source (&self->liveness_source);
  self->rx_packets_seen = self->rx_packets;
  self->rx_silent_since = g_get_monotonic_time ();
  self->liveness_source = g_timeout_source_new (LIVENESS_TICK_MS);
  g_source_set_callback (self->liveness_source, liveness_tick_cb, self, NULL);
  g_source_attach (self->liveness_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
}

static GSource *
add_timeout (RtcIceTransport *self, guint interval_ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (interval_ms);

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, rtc_transport_get_context (RTC_TRANSPORT (self)));
  return source;
}

/* --- parsing of configured servers --- */

static gboolean
parse_stun_server (const char *url, StunServer *out, GError **error)
{
  return rtc_configuration_parse_stun_server (url, &out->host, &out->port, error);
}

static gboolean
parse_turn_server (const char *url, TurnServer *out, GError **error)
{
  gboolean tcp = FALSE;

  if (!rtc_configuration_parse_turn_server (url, &out->username, &out->password, &out->host,
                                            &out->port, &tcp, error))
    return FALSE;
  out->type = tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
  return TRUE;
}

/* --- socket buffers --- */

static void
set_buffer (int fd, int force_option, int option, int size)
{
  /* The FORCE variants ignore rmem_max/wmem_max but need CAP_NET_ADMIN. */
  if (setsockopt (fd, SOL_SOCKET, force_option, &size, sizeof size) == 0)
    return;
  if (setsockopt (fd, SOL_SOCKET, option, &size, sizeof size) != 0)
    g_debug ("setsockopt(%d, %d) failed: %s", fd, option, g_strerror (errno));
}

static void
configure_sockets (RtcIceTransport *self)
{
  g_autoptr (GPtrArray) sockets = NULL;
  int size = self->config->socket_buffer_size != 0 ? (int) MIN (self->config->socket_buffer_size,
                                                                G_MAXINT / 2)
                                                   : DEFAULT_SOCKET_BUFFER_SIZE;

  sockets = nice_agent_get_sockets (self->agent, self->stream_id, COMPONENT_ID);
  for (guint i = 0; sockets != NULL && i < sockets->len; i++)
    {
      int fd = g_socket_get_fd (G_SOCKET (g_ptr_array_index (sockets, i)));

      set_buffer (fd, SO_SNDBUFFORCE, SO_SNDBUF, size);
      set_buffer (fd, SO_RCVBUFFORCE, SO_RCVBUF, size);
    }
}

/* --- batched sending --- */

/* Groups the batched packets from @first on into messages: with UDP
 * segmentation offload (UDP_SEGMENT), a run of packets of one size (the last
 * may be shorter) becomes one message that the kernel cuts into datagrams,
 * so the stack is traversed once per run rather than once per packet.
 * Returns the number of messages. */
static guint
build_messages (RtcIceTransport *self, guint first)
{
  guint count = 0;

  for (guint i = first; i < self->batch_length; count++)
    {
      struct msghdr *header = &self->send_messages[count].msg_hdr;
      gsize size = self->batch_vectors[i].iov_len;
      guint run = 1;

      if (self->gso_enabled)
        while (i + run < self->batch_length && run < GSO_MAX_SEGMENTS
               && (run + 1) * size <= GSO_MAX_BYTES)
          {
            gsize next = self->batch_vectors[i + run].iov_len;

            if (next > size)
              break;
            run++;
            if (next < size)
              break; /* only the last datagram of a run may be shorter */
          }

      memset (header, 0, sizeof *header);
      header->msg_name = &self->direct_address;
      header->msg_namelen = self->direct_address_length;
      header->msg_iov = &self->batch_vectors[i];
      header->msg_iovlen = run;
      if (run > 1)
        {
          guint16 segment = (guint16) size;
          struct cmsghdr *control;

          header->msg_control = self->send_controls[count].buffer;
          header->msg_controllen = sizeof self->send_controls[count].buffer;
          control = CMSG_FIRSTHDR (header);
          control->cmsg_level = SOL_UDP;
          control->cmsg_type = UDP_SEGMENT;
          control->cmsg_len = CMSG_LEN (sizeof segment);
          memcpy (CMSG_DATA (control), &segment, sizeof segment);
        }
      self->send_message_first[count] = i;
      i += run;
    }
  return count;
}

static void
flush_batch (RtcIceTransport *self)
{
  guint count;
  guint done = 0;
  int fd;

  self->received_since_flush = 0;
  if (self->batch_length == 0)
    return;

  if (self->direct_socket == NULL || g_socket_is_closed (self->direct_socket))
    {
      self->batch_length = 0;
      return;
    }

  fd = g_socket_get_fd (self->direct_socket);
  count = build_messages (self, 0);
  while (done < count)
    {
      int sent = sendmmsg (fd, self->send_messages + done, count - done, 0);

      if (sent > 0)
        {
          done += sent;
          continue;
        }
      if (sent < 0 && errno == EINTR)
        continue;
      /* Datagram semantics: a full socket buffer drops what is left (the
       * layers above retransmit); another error (an ICMP report) drops the
       * packet it concerns. */
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        {
          g_debug ("ICE transport %p: %u packets dropped: socket buffer full", self,
                   self->batch_length - self->send_message_first[done]);
          break;
        }
      if (self->send_messages[done].msg_hdr.msg_iovlen > 1)
        {
          /* No segmentation offload on this path (an old kernel, a device
           * without it, a path MTU below the segment): one datagram per
           * packet from now on. */
          g_debug ("ICE transport %p: UDP segmentation offload unavailable: %s", self,
                   g_strerror (errno));
          self->gso_enabled = FALSE;
          count = build_messages (self, self->send_message_first[done]);
          done = 0;
          continue;
        }
      g_debug ("ICE transport %p: packet dropped: %s", self, g_strerror (errno));
      done++;
    }
  self->batch_length = 0;
}

typedef struct
{
  GSource source;
  RtcIceTransport *transport; /* not owned: the transport destroys the source */
} FlushSource;

/* Ready whenever packets wait, checked before the context polls again: no
 * wake-up is needed, since packets are only batched on the home context. */
static gboolean
flush_source_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return ((FlushSource *) source)->transport->batch_length > 0;
}

static gboolean
flush_source_check (GSource *source)
{
  return ((FlushSource *) source)->transport->batch_length > 0;
}

static gboolean
flush_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  flush_batch (((FlushSource *) source)->transport);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_source_funcs = {
  flush_source_prepare, flush_source_check, flush_source_dispatch, NULL, NULL, NULL,
};

static void stop_direct_receiving (RtcIceTransport *self);
static void update_direct_receiving (RtcIceTransport *self);

static void
update_direct_socket (RtcIceTransport *self)
{
  NiceCandidate *local = NULL;
  NiceCandidate *remote = NULL;
  GSocket *socket;

  stop_direct_receiving (self);
  flush_batch (self);
  g_clear_object (&self->direct_socket);
  if (self->agent == NULL
      || !nice_agent_get_selected_pair (self->agent, self->stream_id, COMPONENT_ID, &local,
                                        &remote)
      || local->type == NICE_CANDIDATE_TYPE_RELAYED
      || local->transport != NICE_CANDIDATE_TRANSPORT_UDP
      || remote->transport != NICE_CANDIDATE_TRANSPORT_UDP)
    return;

  /* NULL when the pair's packets are encapsulated (TURN, TCP). */
  socket = nice_agent_get_selected_socket (self->agent, self->stream_id, COMPONENT_ID);
  if (socket == NULL)
    return;
  if (g_socket_get_socket_type (socket) != G_SOCKET_TYPE_DATAGRAM)
    {
      g_object_unref (socket);
      return;
    }

  memset (&self->direct_address, 0, sizeof self->direct_address);
  nice_address_copy_to_sockaddr (&remote->addr, (struct sockaddr *) &self->direct_address);
  switch (self->direct_address.ss_family)
    {
    case AF_INET:
      self->direct_address_length = sizeof (struct sockaddr_in);
      break;
    case AF_INET6:
      self->direct_address_length = sizeof (struct sockaddr_in6);
      break;
    default:
      g_object_unref (socket);
      return;
    }

  if (self->batch_data == NULL)
    {
      self->send_slot = MAX (SEND_BATCH_SLOT, self->path_mtu);
      self->batch_data = g_malloc ((gsize) SEND_BATCH_PACKETS * self->send_slot);
      self->flush_source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
      ((FlushSource *) self->flush_source)->transport = self;
      g_source_set_priority (self->flush_source, G_PRIORITY_HIGH);
      g_source_set_name (self->flush_source, "RtcIceTransport send batch");
      g_source_attach (self->flush_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
    }
  for (guint i = 0; i < SEND_BATCH_PACKETS; i++)
    self->batch_vectors[i].iov_base = self->batch_data + (gsize) i * self->send_slot;
  self->local_priority = local->priority;
  self->direct_socket = socket;
  update_direct_receiving (self);
}

static void
stop_direct_sending (RtcIceTransport *self)
{
  stop_direct_receiving (self);
  flush_batch (self);
  g_clear_object (&self->direct_socket);
  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }
  g_clear_pointer (&self->batch_data, g_free);
}

/* --- receiving --- */

/* A datagram from the peer, through libnice or read directly: a sign of
 * life, and data for the layers above once connected. Returns FALSE when
 * they closed the transport meanwhile (the caller holds a reference). */
static gboolean
deliver_from_peer (RtcIceTransport *self, const guint8 *data, gsize length)
{
  self->rx_packets++;
  if (rtc_transport_get_state (RTC_TRANSPORT (self)) != RTC_TRANSPORT_STATE_CONNECTED)
    return TRUE;
  rtc_transport_deliver (RTC_TRANSPORT (self), data, length);
  return !self->closed;
}

/* --- path MTU --- */

/* The batch's slots take any packet up to the path MTU. */
static void
resize_batch (RtcIceTransport *self)
{
  guint slot = MAX (SEND_BATCH_SLOT, self->path_mtu);

  if (self->batch_data == NULL || slot <= self->send_slot)
    return;
  flush_batch (self);
  g_free (self->batch_data);
  self->send_slot = slot;
  self->batch_data = g_malloc ((gsize) SEND_BATCH_PACKETS * slot);
  for (guint i = 0; i < SEND_BATCH_PACKETS; i++)
    self->batch_vectors[i].iov_base = self->batch_data + (gsize) i * slot;
}

static void
finish_probe (RtcIceTransport *self)
{
  guint found = self->probe_best != 0 ? self->probe_best : RTC_ICE_BASE_DATAGRAM;

  clear_source (&self->probe_source);
  self->probe_done = TRUE;
  if (self->probe_count > 0)
    g_debug ("ICE transport %p: path MTU %u bytes (was %u)", self, found, self->path_mtu);
  self->probe_count = 0;
  /* Never above what the pair had before (see the top). */
  self->path_mtu = MIN (found, self->probe_limit);
  resize_batch (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH_MTU]);
}

/* The largest size that may still be answered. */
static guint
largest_open_probe (RtcIceTransport *self)
{
  for (guint i = 0; i < self->probe_count; i++)
    if (!self->probe_failed[i])
      return self->probe_sizes[i];
  return 0;
}

static void
send_probe (RtcIceTransport *self, guint index)
{
  int fd = g_socket_get_fd (self->direct_socket);
  gboolean ipv4 = self->direct_address.ss_family == AF_INET;
  int level = ipv4 ? IPPROTO_IP : IPPROTO_IPV6;
  int option = ipv4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER;
  int probe_mode = ipv4 ? IP_PMTUDISC_PROBE : IPV6_PMTUDISC_PROBE;
  int mode = 0;
  socklen_t mode_length = sizeof mode;
  g_autofree char *username = g_strconcat (self->remote_ufrag, ":", self->local_ufrag, NULL);
  g_autofree guint8 *packet = g_malloc (self->probe_sizes[index]);
  gsize length;
  gboolean restore;
  gboolean controlling = self->controlling;

  /* The role libnice settled on, should a conflict have changed it: a
   * probe claiming the other one would start a conflict of its own. */
  if (self->agent != NULL)
    g_object_get (self->agent, "controlling-mode", &controlling, NULL);
  length = rtc_stun_write_padded_binding_request (
    self->probe_ids[index], username, self->remote_password, controlling, self->tie_breaker,
    self->local_priority, self->probe_sizes[index], packet);
  if (length == 0)
    {
      self->probe_failed[index] = TRUE;
      return;
    }

  /* The don't-fragment bit for this datagram only: a probe that the kernel
   * cut into fragments would prove nothing. */
  restore = getsockopt (fd, level, option, &mode, &mode_length) == 0
            && setsockopt (fd, level, option, &probe_mode, sizeof probe_mode) == 0;
  if (sendto (fd, packet, length, MSG_DONTWAIT, (const struct sockaddr *) &self->direct_address,
              self->direct_address_length)
      < 0)
    {
      g_debug ("ICE transport %p: path MTU probe of %" G_GSIZE_FORMAT " bytes not sent: %s",
               self, length, g_strerror (errno));
      if (errno == EMSGSIZE)
        self->probe_failed[index] = TRUE;
    }
  if (restore)
    setsockopt (fd, level, option, &mode, sizeof mode);
}

/* Sends each size not yet settled: larger than what was answered, not
 * refused by the local link. */
static void
send_probes (RtcIceTransport *self)
{
  for (guint i = 0; i < self->probe_count; i++)
    if (!self->probe_failed[i] && self->probe_sizes[i] > self->probe_best)
      send_probe (self, i);
}

static gboolean
probe_tick_cb (gpointer user_data)
{
  RtcIceTransport *self = user_data;

  self->probe_round++;
  if (self->probe_round >= PROBE_ROUNDS || largest_open_probe (self) <= self->probe_best)
    {
      g_clear_pointer (&self->probe_source, g_source_unref);
      finish_probe (self);
      return G_SOURCE_REMOVE;
    }
  send_probes (self);
  return G_SOURCE_CONTINUE;
}

/* A STUN response while probing: TRUE if it answers one of the probes. */
static gboolean
probe_answered (RtcIceTransport *self, const guint8 *packet, gsize length)
{
  for (guint i = 0; i < self->probe_count; i++)
    if (rtc_stun_check_binding_response (packet, length, self->probe_ids[i],
                                         self->remote_password))
      {
        self->probe_best = MAX (self->probe_best, self->probe_sizes[i]);
        if (largest_open_probe (self) <= self->probe_best)
          finish_probe (self);
        return TRUE;
      }
  return FALSE;
}

/* Starts probing the selected pair, if the peer reads more than the base
 * size and nothing was settled for this pair yet. */
static void
start_probe (RtcIceTransport *self)
{
  const guint ipv4_sizes[] = { PROBE_LARGEST, 9000 - 28, 1500 - 28 };
  const guint ipv6_sizes[] = { PROBE_LARGEST, 9000 - 48, 1500 - 48 };
  const guint *sizes = self->direct_address.ss_family == AF_INET ? ipv4_sizes : ipv6_sizes;
  guint limit = MIN (self->peer_max_datagram, self->probe_limit);

  if (self->probe_done || self->probe_source != NULL)
    return;

  self->probe_count = 0;
  self->probe_best = 0;
  self->probe_round = 0;
  if (self->remote_password != NULL && self->local_ufrag != NULL)
    for (guint i = 0; i < MAX_PROBES; i++)
      if (sizes[i] > RTC_ICE_BASE_DATAGRAM && sizes[i] <= limit)
        {
          guint n = self->probe_count++;

          self->probe_sizes[n] = sizes[i];
          self->probe_failed[n] = FALSE;
          gnutls_rnd (GNUTLS_RND_NONCE, self->probe_ids[n], sizeof self->probe_ids[n]);
        }
  if (self->probe_count == 0)
    {
      finish_probe (self);
      return;
    }

  send_probes (self);
  if (largest_open_probe (self) == 0)
    {
      finish_probe (self);
      return;
    }
  self->probe_source = g_timeout_source_new (PROBE_INTERVAL_MS);
  g_source_set_callback (self->probe_source, probe_tick_cb, self, NULL);
  g_source_set_name (self->probe_source, "RtcIceTransport path MTU probe");
  g_source_attach (self->probe_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
}

/* --- direct receiving --- */

static void
stop_direct_receiving (RtcIceTransport *self)
{
  clear_source (&self->recv_source);
  clear_source (&self->probe_source);
  if (self->gro_enabled)
    {
      /* libnice expects one datagram per read. */
      int off = 0;

      self->gro_enabled = FALSE;
      if (self->direct_socket != NULL && !g_socket_is_closed (self->direct_socket))
        setsockopt (g_socket_get_fd (self->direct_socket), SOL_UDP, UDP_GRO, &off, sizeof off);
    }
}

/* The segment size of a message that UDP_GRO made of several datagrams, or
 * 0 for a single datagram. */
static gsize
gro_segment_size (struct msghdr *header)
{
  for (struct cmsghdr *control = CMSG_FIRSTHDR (header); control != NULL;
       control = CMSG_NXTHDR (header, control))
    if (control->cmsg_level == SOL_UDP && control->cmsg_type == UDP_GRO)
      {
        int size;

        memcpy (&size, CMSG_DATA (control), sizeof size);
        return size > 0 ? (gsize) size : 0;
      }
  return 0;
}

static void
give_back_socket (RtcIceTransport *self, const char *why)
{
  if (self->recv_given_back)
    return;
  g_debug ("ICE transport %p: libnice reads the socket again: %s", self, why);
  self->recv_given_back = TRUE;
  stop_direct_receiving (self);
  if (!self->probe_done)
    finish_probe (self);
}

static gboolean
same_address (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    {
      const struct sockaddr_in *x = (const struct sockaddr_in *) a;
      const struct sockaddr_in *y = (const struct sockaddr_in *) b;

      return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
  if (a->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a;
      const struct sockaddr_in6 *y = (const struct sockaddr_in6 *) b;

      return x->sin6_port == y->sin6_port
             && memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
  return FALSE;
}

/* Answers a verified Binding request (a consent or keep-alive check) from
 * the selected peer address; drops any other STUN message. */
static void
handle_stun (RtcIceTransport *self, int fd, const guint8 *packet, gsize length,
             const struct sockaddr_storage *from, socklen_t from_length)
{
  guint8 response[RTC_STUN_RESPONSE_MAX];
  gsize response_length;

  if (self->probe_source != NULL && probe_answered (self, packet, length))
    return;
  if (!rtc_stun_check_binding_request (packet, length, self->local_ufrag, self->local_password))
    return;
  response_length = rtc_stun_write_binding_response (packet, (const struct sockaddr *) from,
                                                     self->local_password, response);
  if (response_length > 0
      && sendto (fd, response, response_length, MSG_DONTWAIT, (const struct sockaddr *) from,
                 from_length)
           < 0)
    g_debug ("ICE transport %p: STUN response dropped: %s", self, g_strerror (errno));
}

/* One datagram from the selected peer address. Returns FALSE when the
 * transport was closed meanwhile. */
static gboolean
receive_datagram (RtcIceTransport *self, int fd, const guint8 *packet, gsize length,
                  const struct sockaddr_storage *from, socklen_t from_length)
{
  /* As with libnice, what does not parse as STUN is data. */
  if (rtc_stun_is_stun_packet (packet, length)
      && rtc_stun_parse_header (packet, length, NULL, NULL))
    {
      self->rx_packets++;
      handle_stun (self, fd, packet, length, from, from_length);
      return TRUE;
    }
  return deliver_from_peer (self, packet, length);
}

static gboolean
direct_receive_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  g_autoptr (RtcIceTransport) self = g_object_ref (user_data);
  int fd = g_socket_get_fd (socket);

  for (guint round = 0; round < RECV_BATCHES_PER_DISPATCH; round++)
    {
      int received;

      for (guint i = 0; i < RECV_BATCH_MESSAGES; i++)
        {
          struct msghdr *header = &self->recv_headers[i].msg_hdr;

          header->msg_namelen = sizeof self->recv_addresses[i];
          header->msg_control = self->recv_controls[i].buffer;
          header->msg_controllen = sizeof self->recv_controls[i].buffer;
          header->msg_flags = 0;
        }
      received = recvmmsg (fd, self->recv_headers, RECV_BATCH_MESSAGES, MSG_DONTWAIT, NULL);
      if (received < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            give_back_socket (self, g_strerror (errno));
          break;
        }

      for (int i = 0; i < received; i++)
        {
          struct msghdr *header = &self->recv_headers[i].msg_hdr;
          const guint8 *data = self->recv_data + (gsize) i * RECV_BATCH_SLOT;
          gsize length = self->recv_headers[i].msg_len;
          const struct sockaddr_storage *from = &self->recv_addresses[i];
          gsize segment;

          if (header->msg_flags & MSG_TRUNC)
            {
              give_back_socket (self, "a datagram larger than the buffer");
              continue;
            }
          if (!same_address (from, &self->direct_address))
            {
              give_back_socket (self, "a datagram from another address");
              continue;
            }

          segment = gro_segment_size (header);
          if (segment == 0 || segment > length)
            segment = length;
          for (gsize offset = 0; offset < length; offset += segment)
            if (!receive_datagram (self, fd, data + offset, MIN (segment, length - offset), from,
                                   header->msg_namelen))
              return G_SOURCE_REMOVE;
        }
      flush_batch (self);
      if (self->recv_source == NULL || received < RECV_BATCH_MESSAGES)
        break;
    }

  return self->recv_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
update_direct_receiving (RtcIceTransport *self)
{
  stop_direct_receiving (self);
  if (self->closed || !self->nice_ready || self->direct_socket == NULL || self->recv_given_back)
    return;

  if (self->local_ufrag == NULL
      && !nice_agent_get_local_credentials (self->agent, self->stream_id, &self->local_ufrag,
                                            &self->local_password))
    return;

  if (self->recv_data == NULL)
    {
      self->recv_data = g_malloc ((gsize) RECV_BATCH_MESSAGES * RECV_BATCH_SLOT);
      for (guint i = 0; i < RECV_BATCH_MESSAGES; i++)
        {
          self->recv_vectors[i].iov_base = self->recv_data + (gsize) i * RECV_BATCH_SLOT;
          self->recv_vectors[i].iov_len = RECV_BATCH_SLOT;
          memset (&self->recv_headers[i], 0, sizeof self->recv_headers[i]);
          self->recv_headers[i].msg_hdr.msg_name = &self->recv_addresses[i];
          self->recv_headers[i].msg_hdr.msg_iov = &self->recv_vectors[i];
          self->recv_headers[i].msg_hdr.msg_iovlen = 1;
        }
    }

  {
    int on = 1;

    self->gro_enabled = setsockopt (g_socket_get_fd (self->direct_socket), SOL_UDP, UDP_GRO, &on,
                                    sizeof on)
                        == 0;
  }

  /* libnice's source on this socket has the default priority. */
  self->recv_source = g_socket_create_source (self->direct_socket, G_IO_IN, NULL);
  g_source_set_callback (self->recv_source, (GSourceFunc) G_CALLBACK (direct_receive_cb), self,
                         NULL);
  g_source_set_priority (self->recv_source, G_PRIORITY_DEFAULT - 1);
  g_source_set_name (self->recv_source, "RtcIceTransport direct receive");
  g_source_attach (self->recv_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
  g_debug ("ICE transport %p: reading the selected pair's socket directly", self);
  start_probe (self);
}

/* --- state --- */

static gboolean
ice_timeout_cb (gpointer user_data)
{
  RtcIceTransport *self = user_data;

  g_clear_pointer (&self->timeout_source, g_source_unref);
  if (rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTING)
    fail (self, RTC_ERROR_TIMEOUT, "ICE timed out: no candidate pair could be connected");

  return G_SOURCE_REMOVE;
}

static guint
deadline_ms (RtcIceTransport *self)
{
  return self->config->ice_timeout_ms != 0 ? self->config->ice_timeout_ms
                                           : DEFAULT_ICE_TIMEOUT_MS;
}

/* The peer has shown a way to reach it (a candidate, or a check that
 * arrived): the whole deadline starts again from here, so that a peer
 * that learns of our description late still has all of it. */
static void
remote_peer_seen (RtcIceTransport *self)
{
  if (self->remote_seen)
    return;
  self->remote_seen = TRUE;
  if (self->timeout_source == NULL)
    return;
  clear_source (&self->timeout_source);
  self->timeout_source = add_timeout (self, deadline_ms (self), ice_timeout_cb);
  g_debug ("ICE transport %p: first sign of the peer, %u ms from now", self, deadline_ms (self));
}

static void
flush_remote_candidates (RtcIceTransport *self)
{
  if (!self->nice_gathering || !self->have_remote_credentials)
    return;

  if (self->pending_remote != NULL)
    {
      GSList *list = g_slist_reverse (g_steal_pointer (&self->pending_remote));
      int added = nice_agent_set_remote_candidates (self->agent, self->stream_id, COMPONENT_ID,
                                                    list);

      g_debug ("ICE transport %p: %d remote candidates added", self, added);
      g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
      if (added > 0)
        remote_peer_seen (self);
    }

  if (self->remote_gathering_done && !self->told_remote_gathering_done)
    {
      self->told_remote_gathering_done = TRUE;
      nice_agent_peer_candidate_gathering_done (self->agent, self->stream_id);
    }
}

static void
maybe_start_checks (RtcIceTransport *self)
{
  flush_remote_candidates (self);

  if (!self->nice_gathering || !self->have_remote_credentials
      || rtc_transport_get_state (RTC_TRANSPORT (self)) != RTC_TRANSPORT_STATE_NEW)
    return;

  self->timeout_source = add_timeout (self, deadline_ms (self), ice_timeout_cb);
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTING, NULL);
}

static void
new_remote_candidate_cb (NiceAgent *agent, NiceCandidate *candidate, gpointer user_data)
{
  RtcIceTransport *self = user_data;

  /* A peer-reflexive candidate: a check from the peer arrived. */
  if (candidate->stream_id == self->stream_id && candidate->component_id == COMPONENT_ID)
    remote_peer_seen (self);
}

static void
component_state_changed_cb (NiceAgent *agent, guint stream_id, guint component_id, guint state,
                            gpointer user_data)
{
  RtcIceTransport *self = user_data;
  RtcTransportState current = rtc_transport_get_state (RTC_TRANSPORT (self));

  if (stream_id != self->stream_id || component_id != COMPONENT_ID)
    return;

  g_debug ("ICE transport %p: component %s", self,
           nice_component_state_to_string ((NiceComponentState) state));

  switch (state)
    {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      if (current == RTC_TRANSPORT_STATE_NEW || current == RTC_TRANSPORT_STATE_CONNECTING)
        {
          clear_source (&self->timeout_source);
          start_liveness (self);
          configure_sockets (self);
          update_direct_socket (self);
          rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTED, NULL);
        }
      /* Nominated: from now on the pair only changes by a new selection. */
      if (state == NICE_COMPONENT_STATE_READY && !self->nice_ready
          && rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTED)
        {
          self->nice_ready = TRUE;
          update_direct_receiving (self);
        }
      break;

    case NICE_COMPONENT_STATE_FAILED:
      /* Before a pair works, a component may fail and recover when more
       * candidates arrive: only the overall timeout decides. After it, the
       * liveness check decides (see the top of this file). */
      break;

    default:
      break;
    }
}

static const char *
candidate_type_name (NiceCandidateType type)
{
  switch (type)
    {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
    default:
      return "unknown";
    }
}

static char *
describe_candidate (NiceCandidate *candidate)
{
  char address[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (&candidate->addr, address);
  return g_strdup_printf (strchr (address, ':') != NULL ? "[%s]:%u %s" : "%s:%u %s", address,
                          nice_address_get_port (&candidate->addr),
                          candidate_type_name (candidate->type));
}

static void
new_selected_pair_cb (NiceAgent *agent, guint stream_id, guint component_id,
                      NiceCandidate *local, NiceCandidate *remote, gpointer user_data)
{
  RtcIceTransport *self = user_data;
  g_autofree char *local_text = NULL;
  g_autofree char *remote_text = NULL;

  if (stream_id != self->stream_id || component_id != COMPONENT_ID)
    return;

  local_text = describe_candidate (local);
  remote_text = describe_candidate (remote);
  g_free (self->selected_pair);
  self->selected_pair = g_strdup_printf ("%s <-> %s", local_text, remote_text);
  g_debug ("ICE transport %p: selected pair %s", self, self->selected_pair);

  /* A new path: probe it again, up to what the old one took. */
  if (self->probe_done && self->path_mtu > RTC_ICE_BASE_DATAGRAM)
    {
      self->probe_done = FALSE;
      self->probe_limit = self->path_mtu;
    }
  configure_sockets (self);
  update_direct_socket (self);
  if (!self->probe_done && (self->direct_socket == NULL || self->recv_given_back))
    finish_probe (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_PAIR]);
}

static void
new_candidate_cb (NiceAgent *agent, NiceCandidate *candidate, gpointer user_data)
{
  RtcIceTransport *self = user_data;
  g_autofree char *sdp = NULL;
  const char *line;

  if (candidate->stream_id != self->stream_id || candidate->component_id != COMPONENT_ID)
    return;
  if (self->config->relay_only && candidate->type != NICE_CANDIDATE_TYPE_RELAYED)
    return;
  if (candidate->transport != NICE_CANDIDATE_TRANSPORT_UDP)
    return;

  if (self->config->relay_only)
    {
      /* Relay-only is about privacy too: do not reveal the host address in
       * raddr (as browsers do, announce the unspecified address). */
      NiceCandidate *copy = nice_candidate_copy (candidate);

      nice_address_set_from_string (&copy->base_addr,
                                    nice_address_ip_version (&candidate->addr) == 6 ? "::"
                                                                                     : "0.0.0.0");
      nice_address_set_port (&copy->base_addr, 0);
      sdp = nice_agent_generate_local_candidate_sdp (agent, copy);
      nice_candidate_free (copy);
    }
  else
    sdp = nice_agent_generate_local_candidate_sdp (agent, candidate);
  if (sdp == NULL)
    return;
  line = g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp;

  g_debug ("ICE transport %p: local candidate %s", self, line);
  g_signal_emit (self, signals[SIGNAL_LOCAL_CANDIDATE], 0, line);
}

static void
gathering_done_cb (NiceAgent *agent, guint stream_id, gpointer user_data)
{
  RtcIceTransport *self = user_data;

  if (stream_id != self->stream_id || self->gathering_done)
    return;

  self->gathering_done = TRUE;
  g_debug ("ICE transport %p: gathering done", self);
  g_signal_emit (self, signals[SIGNAL_GATHERING_DONE], 0);
}

static void
receive_cb (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
            gpointer user_data)
{
  /* The layers above may close or drop the transport while they handle the
   * packet: hence the reference. */
  g_autoptr (RtcIceTransport) self = g_object_ref (user_data);

  if (!deliver_from_peer (self, (const guint8 *) buf, len))
    return;
  if (self->batch_length > 0 && ++self->received_since_flush >= SEND_BATCH_RECEIVED_PACKETS)
    flush_batch (self);
}

/* --- gathering --- */

static void
start_nice_gathering (RtcIceTransport *self)
{
  for (guint i = 0; i < self->stun_servers->len; i++)
    {
      StunServer *server = &g_array_index (self->stun_servers, StunServer, i);

      if (server->address != NULL)
        {
          /* libnice uses one STUN server: the first that resolved. */
          g_object_set (self->agent, "stun-server", server->address, "stun-server-port",
                        (guint) server->port, NULL);
          break;
        }
    }

  for (guint i = 0; i < self->turn_servers->len; i++)
    {
      TurnServer *server = &g_array_index (self->turn_servers, TurnServer, i);

      if (server->address != NULL)
        nice_agent_set_relay_info (self->agent, self->stream_id, COMPONENT_ID, server->address,
                                   server->port, server->username, server->password,
                                   server->type);
    }

  self->nice_gathering = TRUE;
  if (!nice_agent_gather_candidates (self->agent, self->stream_id))
    {
      fail (self, RTC_ERROR_ICE_FAILED, "ICE could not gather any local candidate");
      return;
    }
  configure_sockets (self);
  maybe_start_checks (self);
}

typedef struct
{
  RtcIceTransport *self; /* not a reference: valid unless the cancellable is cancelled */
  GCancellable *cancellable;
  gboolean turn;
  guint index;
} ResolveData;

static void
resolve_data_free (ResolveData *data)
{
  g_clear_object (&data->cancellable);
  g_free (data);
}

static char *
pick_address (GList *addresses)
{
  /* Prefer IPv4, which every peer can reach through loopback or NAT. */
  for (GList *l = addresses; l != NULL; l = l->next)
    if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
      return g_inet_address_to_string (l->data);

  return addresses != NULL ? g_inet_address_to_string (addresses->data) : NULL;
}

static void
resolved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ResolveData *data = user_data;
  RtcIceTransport *self = data->self;
  g_autoptr (GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  if (g_cancellable_is_cancelled (data->cancellable))
    {
      g_resolver_free_addresses (addresses);
      resolve_data_free (data);
      return;
    }

  if (data->turn)
    {
      TurnServer *server = &g_array_index (self->turn_servers, TurnServer, data->index);

      server->address = pick_address (addresses);
      if (server->address == NULL)
        g_debug ("ICE transport %p: cannot resolve TURN server %s: %s", self, server->host,
                 error != NULL ? error->message : "no address");
    }
  else
    {
      StunServer *server = &g_array_index (self->stun_servers, StunServer, data->index);

      server->address = pick_address (addresses);
      if (server->address == NULL)
        g_debug ("ICE transport %p: cannot resolve STUN server %s: %s", self, server->host,
                 error != NULL ? error->message : "no address");
    }

  g_resolver_free_addresses (addresses);
  resolve_data_free (data);

  if (--self->pending_resolves == 0 && !self->closed)
    start_nice_gathering (self);
}

static void
resolve (RtcIceTransport *self, const char *host, gboolean turn, guint index)
{
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  ResolveData *data = g_new0 (ResolveData, 1);

  data->self = self;
  data->cancellable = g_object_ref (self->cancellable);
  data->turn = turn;
  data->index = index;
  self->pending_resolves++;
  g_resolver_lookup_by_name_async (resolver, host, self->cancellable, resolved_cb, data);
}

gboolean
rtc_ice_transport_gather (RtcIceTransport *self, GError **error)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->gather_called || self->closed)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           self->closed ? "ICE transport closed" : "ICE gathering already started");
      return FALSE;
    }

  for (guint i = 0; self->config->local_addresses != NULL && self->config->local_addresses[i];
       i++)
    {
      const char *text = self->config->local_addresses[i];
      NiceAddress address;

      if (!g_hostname_is_ip_address (text) || !nice_address_set_from_string (&address, text))
        {
          g_set_error (error, RTC_ERROR, RTC_ERROR_FAILED, "Invalid local address “%s”", text);
          return FALSE;
        }
      nice_agent_add_local_address (self->agent, &address);
    }

  for (guint i = 0; self->config->stun_servers != NULL && self->config->stun_servers[i]; i++)
    {
      StunServer server = { NULL, };

      if (!parse_stun_server (self->config->stun_servers[i], &server, error))
        return FALSE;
      g_array_append_val (self->stun_servers, server);
    }

  for (guint i = 0; self->config->turn_servers != NULL && self->config->turn_servers[i]; i++)
    {
      TurnServer server = { NULL, };

      if (!parse_turn_server (self->config->turn_servers[i], &server, error))
        return FALSE;
      g_array_append_val (self->turn_servers, server);
    }

  if (self->config->relay_only && self->turn_servers->len == 0)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_FAILED,
                           "Relay-only ICE needs at least one TURN server");
      return FALSE;
    }

  self->gather_called = TRUE;

  /* Resolve every server first (IP literals resolve at once). */
  self->pending_resolves = 1;
  for (guint i = 0; i < self->stun_servers->len; i++)
    resolve (self, g_array_index (self->stun_servers, StunServer, i).host, FALSE, i);
  for (guint i = 0; i < self->turn_servers->len; i++)
    resolve (self, g_array_index (self->turn_servers, TurnServer, i).host, TRUE, i);

  if (--self->pending_resolves == 0)
    start_nice_gathering (self);

  return TRUE;
}

gboolean
rtc_ice_transport_is_gathering_done (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), FALSE);

  return self->gathering_done;
}

/* --- remote side --- */

void
rtc_ice_transport_set_remote_credentials (RtcIceTransport *self, const char *ufrag,
                                          const char *pwd)
{
  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));
  g_return_if_fail (ufrag != NULL && pwd != NULL);

  if (self->closed)
    return;

  if (!nice_agent_set_remote_credentials (self->agent, self->stream_id, ufrag, pwd))
    {
      g_debug ("ICE transport %p: remote credentials refused", self);
      return;
    }

  self->have_remote_credentials = TRUE;
  g_free (self->remote_ufrag);
  self->remote_ufrag = g_strdup (ufrag);
  g_free (self->remote_password);
  self->remote_password = g_strdup (pwd);
  maybe_start_checks (self);
}

static gboolean
invalid_candidate (GError **error, const char *reason)
{
  g_set_error (error, RTC_ERROR, RTC_ERROR_INVALID_CANDIDATE, "Invalid ICE candidate: %s",
               reason);
  return FALSE;
}

gboolean
rtc_ice_transport_add_remote_candidate (RtcIceTransport *self, const char *candidate,
                                        GError **error)
{
  g_autofree char *line = NULL;
  g_autofree char *sdp = NULL;
  g_auto (GStrv) fields = NULL;
  const char *address;
  guint64 component;
  NiceCandidate *parsed;

  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), FALSE);
  g_return_val_if_fail (candidate != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  line = g_strstrip (g_strdup (g_str_has_prefix (candidate, "a=") ? candidate + 2 : candidate));
  if (!g_str_has_prefix (line, "candidate:"))
    return invalid_candidate (error, "missing “candidate:”");

  /* candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE ... */
  fields = g_strsplit_set (line + strlen ("candidate:"), " \t", 0);
  if (g_strv_length (fields) < 8 || g_strcmp0 (fields[6], "typ") != 0)
    return invalid_candidate (error, "too few fields");
  if (!g_ascii_string_to_unsigned (fields[1], 10, 1, 256, &component, NULL))
    return invalid_candidate (error, "bad component");
  if (!g_ascii_string_to_unsigned (fields[3], 10, 0, G_MAXUINT32, NULL, NULL))
    return invalid_candidate (error, "bad priority");
  if (!g_ascii_string_to_unsigned (fields[5], 10, 0, G_MAXUINT16, NULL, NULL))
    return invalid_candidate (error, "bad port");

  address = fields[4];
  if (component != COMPONENT_ID)
    {
      g_debug ("ICE transport %p: ignoring candidate of component %" G_GUINT64_FORMAT, self,
               component);
      return TRUE;
    }
  if (g_ascii_strcasecmp (fields[2], "udp") != 0)
    {
      g_debug ("ICE transport %p: ignoring %s candidate", self, fields[2]);
      return TRUE;
    }
  if (g_str_has_suffix (address, ".local"))
    {
      g_debug ("ICE transport %p: ignoring mDNS candidate", self);
      return TRUE;
    }
  if (g_ascii_strncasecmp (address, "fe80:", 5) == 0 && strchr (address, '%') == NULL)
    {
      g_debug ("ICE transport %p: ignoring link-local candidate without scope", self);
      return TRUE;
    }

  if (!g_hostname_is_ip_address (address))
    return invalid_candidate (error, "bad address");

  if (self->closed)
    return TRUE;

  sdp = g_strconcat ("a=", line, NULL);
  parsed = nice_agent_parse_remote_candidate_sdp (self->agent, self->stream_id, sdp);
  if (parsed == NULL)
    return invalid_candidate (error, "not understood");

  self->pending_remote = g_slist_prepend (self->pending_remote, parsed);
  flush_remote_candidates (self);
  return TRUE;
}

void
rtc_ice_transport_set_remote_gathering_done (RtcIceTransport *self)
{
  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));

  self->remote_gathering_done = TRUE;
  if (!self->closed)
    flush_remote_candidates (self);
}

/* --- RtcTransport --- */

static gboolean
rtc_ice_transport_send (RtcTransport *transport, const guint8 *data, gsize length,
                        GError **error)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (transport);
  g_autoptr (GError) local_error = NULL;
  GOutputVector vector = { data, length };
  NiceOutputMessage message = { &vector, 1 };
  gint sent;

  if (rtc_transport_get_state (transport) != RTC_TRANSPORT_STATE_CONNECTED)
    {
      g_set_error_literal (error, RTC_ERROR,
                           self->closed ? RTC_ERROR_CLOSED : RTC_ERROR_INVALID_STATE,
                           "ICE transport not connected");
      return FALSE;
    }

  if (self->direct_socket != NULL && length <= self->send_slot)
    {
      guint i = self->batch_length++;

      memcpy (self->batch_vectors[i].iov_base, data, length);
      self->batch_vectors[i].iov_len = length;
      if (self->batch_length == SEND_BATCH_PACKETS)
        flush_batch (self);
      return TRUE;
    }

  /* Keep the order of what is already batched. */
  flush_batch (self);
  sent = nice_agent_send_messages_nonblocking (self->agent, self->stream_id, COMPONENT_ID,
                                               &message, 1, NULL, &local_error);
  /* Datagram semantics: a full socket buffer or an ICMP error drops the
   * packet; the layers above retransmit. */
  if (sent < 1 && local_error != NULL
      && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    g_debug ("ICE transport %p: packet dropped: %s", self, local_error->message);

  return TRUE;
}

static void
agent_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  /* Holds the last reference to the agent, so that TURN allocations are
   * released before it goes. */
  g_object_unref (source);
}

static void
shutdown_agent (RtcIceTransport *self)
{
  if (self->agent == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  clear_source (&self->timeout_source);
  clear_source (&self->liveness_source);

  g_signal_handlers_disconnect_by_data (self->agent, self);
  if (self->stream_id != 0)
    nice_agent_attach_recv (self->agent, self->stream_id, COMPONENT_ID,
                            rtc_transport_get_context (RTC_TRANSPORT (self)), NULL, NULL);
  nice_agent_close_async (self->agent, agent_closed_cb, NULL);
  self->agent = NULL;
}

static void
rtc_ice_transport_close (RtcTransport *transport)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (transport);

  if (self->closed)
    return;

  self->closed = TRUE;
  stop_direct_sending (self);
  g_slist_free_full (g_steal_pointer (&self->pending_remote),
                     (GDestroyNotify) nice_candidate_free);
  rtc_transport_set_state (transport, RTC_TRANSPORT_STATE_CLOSED, NULL);
  /* The agent stays usable for the accessors until dispose. */
  g_cancellable_cancel (self->cancellable);
  clear_source (&self->timeout_source);
  clear_source (&self->liveness_source);
  if (self->agent != NULL && self->stream_id != 0)
    nice_agent_attach_recv (self->agent, self->stream_id, COMPONENT_ID,
                            rtc_transport_get_context (RTC_TRANSPORT (self)), NULL, NULL);
}

static void
rtc_ice_transport_dispose (GObject *object)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (object);

  self->closed = TRUE;
  stop_direct_sending (self);
  shutdown_agent (self);
  g_slist_free_full (g_steal_pointer (&self->pending_remote),
                     (GDestroyNotify) nice_candidate_free);

  G_OBJECT_CLASS (rtc_ice_transport_parent_class)->dispose (object);
}

static void
rtc_ice_transport_finalize (GObject *object)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (object);

  g_clear_pointer (&self->stun_servers, g_array_unref);
  g_clear_pointer (&self->turn_servers, g_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->config, rtc_configuration_free);
  g_clear_pointer (&self->selected_pair, g_free);
  g_clear_pointer (&self->recv_data, g_free);
  g_clear_pointer (&self->local_ufrag, g_free);
  g_clear_pointer (&self->local_password, g_free);
  g_clear_pointer (&self->remote_ufrag, g_free);
  g_clear_pointer (&self->remote_password, g_free);

  G_OBJECT_CLASS (rtc_ice_transport_parent_class)->finalize (object);
}

static void
rtc_ice_transport_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_CONTROLLING:
      g_value_set_boolean (value, self->controlling);
      break;

    case PROP_SELECTED_PAIR:
      g_value_set_string (value, self->selected_pair);
      break;

    case PROP_PATH_MTU:
      g_value_set_uint (value, self->path_mtu);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rtc_ice_transport_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  RtcIceTransport *self = RTC_ICE_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_CONTROLLING:
      rtc_ice_transport_set_controlling (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
rtc_ice_transport_class_init (RtcIceTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RtcTransportClass *transport_class = RTC_TRANSPORT_CLASS (klass);

  object_class->dispose = rtc_ice_transport_dispose;
  object_class->finalize = rtc_ice_transport_finalize;
  object_class->get_property = rtc_ice_transport_get_property;
  object_class->set_property = rtc_ice_transport_set_property;
  transport_class->send = rtc_ice_transport_send;
  transport_class->close = rtc_ice_transport_close;

  properties[PROP_CONTROLLING] =
    g_param_spec_boolean ("controlling", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_PAIR] =
    g_param_spec_string ("selected-pair", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Notified whenever a probe ends, changed or not. */
  properties[PROP_PATH_MTU] =
    g_param_spec_uint ("path-mtu", NULL, NULL, 0, G_MAXUINT, RTC_ICE_BASE_DATAGRAM,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* "candidate:..." without "a=" and without line end. */
  signals[SIGNAL_LOCAL_CANDIDATE] =
    g_signal_new ("local-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_GATHERING_DONE] =
    g_signal_new ("gathering-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
  /* Nothing arrived from the peer for RTC_ICE_STALL_MS (see the header);
   * emitted on every liveness tick while that lasts. */
  signals[SIGNAL_STALLED] =
    g_signal_new ("stalled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
rtc_ice_transport_init (RtcIceTransport *self)
{
  self->gso_enabled = TRUE;
  self->path_mtu = RTC_ICE_BASE_DATAGRAM;
  self->probe_limit = G_MAXUINT;
  self->send_slot = SEND_BATCH_SLOT;
  gnutls_rnd (GNUTLS_RND_NONCE, &self->tie_breaker, sizeof self->tie_breaker);
  self->stun_servers = g_array_new (FALSE, TRUE, sizeof (StunServer));
  g_array_set_clear_func (self->stun_servers, (GDestroyNotify) stun_server_clear);
  self->turn_servers = g_array_new (FALSE, TRUE, sizeof (TurnServer));
  g_array_set_clear_func (self->turn_servers, (GDestroyNotify) turn_server_clear);
  self->cancellable = g_cancellable_new ();
}

RtcIceTransport *
rtc_ice_transport_new (const RtcConfiguration *config, gboolean controlling)
{
  RtcIceTransport *self;
  GMainContext *context;

  self = g_object_new (RTC_TYPE_ICE_TRANSPORT, NULL);
  self->config = config != NULL ? rtc_configuration_copy (config) : rtc_configuration_new ();
  self->controlling = controlling;

  context = rtc_transport_get_context (RTC_TRANSPORT (self));
  self->agent = nice_agent_new_full (context, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_ICE_TRICKLE);
  g_object_set (self->agent, "controlling-mode", controlling, "upnp", FALSE, "ice-tcp", FALSE,
                "ice-udp", TRUE, "force-relay", self->config->relay_only, NULL);

  self->stream_id = nice_agent_add_stream (self->agent, 1);
  nice_agent_set_stream_name (self->agent, self->stream_id, "application");
  nice_agent_attach_recv (self->agent, self->stream_id, COMPONENT_ID, context, receive_cb, self);

  g_signal_connect (self->agent, "component-state-changed",
                    G_CALLBACK (component_state_changed_cb), self);
  g_signal_connect (self->agent, "new-selected-pair-full", G_CALLBACK (new_selected_pair_cb),
                    self);
  g_signal_connect (self->agent, "new-candidate-full", G_CALLBACK (new_candidate_cb), self);
  g_signal_connect (self->agent, "new-remote-candidate-full", G_CALLBACK (new_remote_candidate_cb),
                    self);
  g_signal_connect (self->agent, "candidate-gathering-done", G_CALLBACK (gathering_done_cb),
                    self);

  return self;
}

void
rtc_ice_transport_get_local_credentials (RtcIceTransport *self, char **ufrag, char **pwd)
{
  g_autofree char *local_ufrag = NULL;
  g_autofree char *local_pwd = NULL;

  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));
  g_return_if_fail (self->agent != NULL);

  nice_agent_get_local_credentials (self->agent, self->stream_id, &local_ufrag, &local_pwd);
  if (ufrag != NULL)
    *ufrag = g_steal_pointer (&local_ufrag);
  if (pwd != NULL)
    *pwd = g_steal_pointer (&local_pwd);
}

void
rtc_ice_transport_set_controlling (RtcIceTransport *self, gboolean controlling)
{
  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));

  controlling = !!controlling;
  if (self->controlling == controlling)
    return;

  self->controlling = controlling;
  if (self->agent != NULL)
    g_object_set (self->agent, "controlling-mode", controlling, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTROLLING]);
}

gboolean
rtc_ice_transport_get_controlling (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), FALSE);

  return self->controlling;
}

char *
rtc_ice_transport_dup_selected_pair (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), NULL);

  return g_strdup (self->selected_pair);
}

gboolean
rtc_ice_transport_is_receiving_directly (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), FALSE);

  return self->recv_source != NULL;
}

void
rtc_ice_transport_set_peer_max_datagram (RtcIceTransport *self, guint size)
{
  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));

  self->peer_max_datagram = size;
}

guint
rtc_ice_transport_get_path_mtu (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), RTC_ICE_BASE_DATAGRAM);

  return self->path_mtu;
}

gboolean
rtc_ice_transport_is_path_mtu_settled (RtcIceTransport *self)
{
  g_return_val_if_fail (RTC_IS_ICE_TRANSPORT (self), TRUE);

  if (self->probe_done || self->closed || self->peer_max_datagram <= RTC_ICE_BASE_DATAGRAM)
    return TRUE;
  /* Connected over a relay, or read by libnice: nothing will probe. */
  return rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTED
         && (self->direct_socket == NULL || self->recv_given_back);
}

void
rtc_ice_transport_hold_liveness (RtcIceTransport *self, gboolean hold)
{
  g_return_if_fail (RTC_IS_ICE_TRANSPORT (self));

  self->liveness_held = !!hold;
}
