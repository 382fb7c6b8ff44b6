/* rtc-sctp-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: usrsctp's callbacks, its event queue and the association's
 * sending, acknowledgement and stream-reset bookkeeping all run under the
 * same re-entrancy rule (below), which is only safe to keep in one place.
 *
 * usrsctp runs without threads: its timers are driven from a GLib timeout
 * and every callback happens inside one of our calls into the library
 * (usrsctp_conninput, usrsctp_sendv, usrsctp_handle_timers, ...). Callbacks
 * never emit signals: they queue events, which are dispatched once the
 * library call has returned. Each association has its own AF_CONN address,
 * a number that is never reused, looked up in a registry of live
 * transports, so a late callback for a freed transport finds nothing.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include "rtc-error.h"
#include "rtc-sctp-transport.h"

#define RTC_SCTP_SEND_BUFFER (8 * 1024 * 1024)
/* The receive window. usrsctp tracks at most 4,096 TSNs past the first
 * one missing and drops what arrives beyond them unseen: a window of more
 * than ~4,000 chunks of ~1,150 bytes turns one loss into a train of
 * retransmissions. 4 MiB stays below (~3,600 chunks) and fills 50 ms at
 * 670 Mbit/s; 1 MiB capped a 50 ms path at ~17 MB/s, and 8 MiB lost half
 * of 500 Mbit/s to those retransmissions (tests/lab, bench/README.md). It
 * also bounds what out-of-order data holds on a receiver. */
#define RTC_SCTP_RECEIVE_BUFFER (4 * 1024 * 1024)
#define RTC_SCTP_WRITABLE_THRESHOLD (1024 * 1024)
/* Larger messages arrive in pieces, reassembled here up to our limit. */
#define RTC_SCTP_PD_POINT (128 * 1024)
#define RTC_SCTP_TIMER_INTERVAL_MS 10
#define RTC_SCTP_HEARTBEAT_INTERVAL_MS 2000
#define RTC_SCTP_SHUTDOWN_TIMEOUT_MS 2000
#define RTC_SCTP_RESET_RETRY_MS 100
#define RTC_SCTP_DRY_POLL_MS 200
/* How often the association's state is read: to choose how often to
 * acknowledge (below) and to log it (G_MESSAGES_DEBUG=Rtc). */
#define RTC_SCTP_STATUS_INTERVAL_US G_USEC_PER_SEC
/* Acknowledgements. usrsctp delays a SACK until a second packet arrives or
 * RTC_SCTP_SACK_DELAY_MS pass. Its sender, though, restarts its
 * retransmission timer only when nothing is in flight, so the timer expires
 * every RTO while data flows, and each expiry retransmits every chunk
 * unacknowledged for longer than the smoothed RTT plus four deviations,
 * without the RTO's 250 ms floor, and resets that association's window to
 * one packet. On a steady path the deviation is a millisecond or two, and
 * the last packet of a burst, whose SACK waited for the delay, is that late
 * without being lost: at 150 ms and 100 Mbit/s with no loss, 50-130 chunks
 * per 128 MiB retransmitted so held eight associations to 2.6-4.9 MB/s;
 * acknowledging every packet removed them all (7.5 MB/s). A SACK per packet
 * costs CPU where packets are many, which is where round trips are short and
 * a reset window comes back within milliseconds (1 Gbit/s at 10 ms: 10-30 %
 * more CPU per MB). So an association acknowledges every packet while
 * its smoothed RTT is at least RTC_SCTP_PROMPT_SACK_RTT_MS, and every second
 * one again below RTC_SCTP_DELAYED_SACK_RTT_MS. */
#define RTC_SCTP_SACK_DELAY_MS 20
#define RTC_SCTP_PROMPT_SACK_RTT_MS 30
#define RTC_SCTP_DELAYED_SACK_RTT_MS 20
#define RTC_SCTP_MAX_IN_STREAMS 65535

typedef enum
{
  EVENT_MESSAGE,
  EVENT_TOO_LARGE,
  EVENT_STATE,
  EVENT_REMOTE_RESET,
  EVENT_LOCAL_RESET_DONE,
  EVENT_RESET_FAILED,
  EVENT_WRITABLE,
  EVENT_ACKED,
  EVENT_DRY,
} EventType;

typedef struct
{
  EventType type;
  guint16 stream;
  guint32 ppid;
  RtcTransportState state;
  GBytes *data;
} Event;

struct _RtcSctpTransport
{
  RtcTransport parent_instance;

  RtcTransport *lower;
  gulong lower_state_id;
  gboolean dtls_client;
  guint16 local_port;
  guint16 remote_port;
  int receive_window; /* SO_RCVBUF */
  guint packet_size;  /* the path MTU usrsctp is given */
  guint64 local_max_message_size;
  guint64 remote_max_message_size;

  guintptr id; /* our sconn_addr and ulp_info */
  gboolean registered;
  struct socket *sock;
  guint depth; /* > 0 while inside a usrsctp call made for this transport */
  gboolean closing;

  GSource *timer_source;
  GSource *input_source;
  GQueue input_queue; /* GBytes received while inside usrsctp */

  GMutex event_lock;
  GQueue events; /* Event */
  GSource *event_source;
  gboolean dispatching;

  /* A message usrsctp took only in part: the rest goes first. */
  guint8 *tail;
  gsize tail_offset;
  gsize tail_length;
  guint16 tail_stream;
  guint32 tail_ppid;
  gboolean tail_unordered;
  gboolean blocked;

  /* Reassembly of partial deliveries (one at a time: no interleaving). */
  GByteArray *partial;
  guint16 partial_stream;
  guint32 partial_ppid;
  gboolean discarding;
  guint16 discarding_stream;

  GArray *pending_resets; /* guint16 */
  GSource *reset_retry_source;

  /* Resets of closing channels wait until every byte usrsctp took was
   * acknowledged (SCTP_SENDER_DRY_EVENT): a peer may close the channel as
   * soon as the reset arrives, dropping what is still in flight. */
  GArray *dry_resets; /* guint16 */
  GSource *dry_poll_source;
  gboolean dry; /* no user data unsent or unacknowledged in usrsctp */

  /* What usrsctp holds (taken, not yet acknowledged), as last reported
   * in the send callback plus what was taken since, and who sent it: a
   * FIFO of SentRecord, acknowledgements charged to the oldest first. */
  guint64 sctp_held;
  guint64 sctp_acked; /* acknowledged, not yet charged to channels */
  gboolean acked_event_queued;
  guint64 sndbuf_limit;
  GQueue sent_records; /* SentRecord */
  /* The association's status, read every RTC_SCTP_STATUS_INTERVAL_US
   * (check_status), and what it decides: SACK every sack_frequency-th
   * packet. */
  gint64 last_status_check;
  guint sack_frequency;
  gint64 last_timer_run;
  gint64 longest_timer_wait;
  struct sctpstat last_stat; /* the process's counters at the last line */
  GSource *shutdown_source;
};

typedef struct
{
  guint16 stream;
  guint64 bytes;
} SentRecord;

G_DEFINE_FINAL_TYPE (RtcSctpTransport, rtc_sctp_transport, RTC_TYPE_TRANSPORT)

enum
{
  SIGNAL_MESSAGE,
  SIGNAL_STREAM_RESET,
  SIGNAL_LOCAL_RESET_DONE,
  SIGNAL_STREAM_ERROR,
  SIGNAL_ACKED,
  SIGNAL_WRITABLE,
  SIGNAL_CLOSING,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Process-wide usrsctp state: the library itself (sctp_global) and the
 * registry of live transports that its callbacks look up (sctp_registry,
 * never held across a usrsctp call). */
G_LOCK_DEFINE_STATIC (sctp_global);
static guint sctp_users;
static gboolean sctp_initialized;
G_LOCK_DEFINE_STATIC (sctp_registry);
static gint64 sctp_last_tick;
static GHashTable *sctp_registry; /* id → RtcSctpTransport (not owned) */
static guintptr sctp_next_id = 1;

static void dispatch_events (RtcSctpTransport *self);
static void try_resets (RtcSctpTransport *self);
static void check_dry (RtcSctpTransport *self);
static void charge_acked (RtcSctpTransport *self);

/* CRC32c (RFC 4960 appendix B). The library's own code works a byte at a
 * time; with SSE 4.2 the checksum is computed here and usrsctp is told to
 * leave it to us (usrsctp_enable_crc32c_offload), on output and on input. */
static gboolean sctp_crc_offload;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RTC_SCTP_HAVE_HW_CRC 1

__attribute__ ((target ("sse4.2"))) static guint32
crc32c_update (guint32 crc, const guint8 *data, gsize length)
{
  guint64 crc64 = crc;

  while (length >= 8)
    {
      guint64 word;

      memcpy (&word, data, 8);
      crc64 = __builtin_ia32_crc32di (crc64, word);
      data += 8;
      length -= 8;
    }
  crc = (guint32) crc64;
  while (length > 0)
    {
      crc = __builtin_ia32_crc32qi (crc, *data++);
      length--;
    }
  return crc;
}

/* The checksum of an SCTP packet as stored at offset 8, computed as if that
 * field were zero. */
static guint32
packet_checksum (const guint8 *packet, gsize length)
{
  static const guint8 zero[4] = { 0 };
  guint32 crc = 0xffffffff;

  crc = crc32c_update (crc, packet, 8);
  crc = crc32c_update (crc, zero, 4);
  crc = crc32c_update (crc, packet + 12, length - 12);
  return ~crc;
}

static gboolean
crc_offload_possible (void)
{
  guint8 sample[1500];

  if (!__builtin_cpu_supports ("sse4.2"))
    return FALSE;

  /* Same result as the library on data of every length and alignment. */
  for (gsize i = 0; i < sizeof sample; i++)
    sample[i] = (guint8) (i * 131 + 7);
  for (gsize offset = 0; offset < 8; offset++)
    for (gsize length = 0; length + offset <= 100; length++)
      if (~crc32c_update (0xffffffff, sample + offset, length) != usrsctp_crc32c (sample + offset, length))
        return FALSE;
  return ~crc32c_update (0xffffffff, sample, sizeof sample) == usrsctp_crc32c (sample, sizeof sample);
}
#else
static guint32
packet_checksum (const guint8 *packet, gsize length)
{
  g_assert_not_reached ();
  return 0;
}

static gboolean
crc_offload_possible (void)
{
  return FALSE;
}
#endif

static gboolean
on_home_context (GMainContext *context)
{
  if (g_main_context_is_owner (context))
    return TRUE;
  if (g_main_context_acquire (context))
    {
      g_main_context_release (context);
      return TRUE;
    }
  return FALSE;
}

typedef struct
{
  RtcSctpTransport *self;
  GBytes *packet;
} PostedPacket;

static void
posted_packet_free (gpointer data)
{
  PostedPacket *posted = data;

  g_object_unref (posted->self);
  g_bytes_unref (posted->packet);
  g_free (posted);
}

static gboolean
posted_packet_send (gpointer data)
{
  PostedPacket *posted = data;
  RtcSctpTransport *self = posted->self;

  if (self->lower != NULL
      && rtc_transport_get_state (self->lower) == RTC_TRANSPORT_STATE_CONNECTED)
    {
      gsize length;
      const guint8 *bytes = g_bytes_get_data (posted->packet, &length);

      rtc_transport_send (self->lower, bytes, length, NULL);
    }
  return G_SOURCE_REMOVE;
}

static int
sctp_output_cb (void *addr, void *buffer, size_t length, uint8_t tos, uint8_t set_df)
{
  RtcSctpTransport *self;
  g_autoptr (GError) error = NULL;

  G_LOCK (sctp_registry);
  self = sctp_registry != NULL ? g_hash_table_lookup (sctp_registry, addr) : NULL;
  if (self != NULL && !on_home_context (rtc_transport_get_context (RTC_TRANSPORT (self))))
    {
      PostedPacket *posted = g_new0 (PostedPacket, 1);

      /* A timer of another context's association fired for this one. */
      posted->self = g_object_ref (self);
      if (sctp_crc_offload && length >= 12)
        {
          guint32 crc = packet_checksum (buffer, length);

          memcpy ((guint8 *) buffer + 8, &crc, 4);
        }
      posted->packet = g_bytes_new (buffer, length);
      G_UNLOCK (sctp_registry);
      g_main_context_invoke_full (rtc_transport_get_context (RTC_TRANSPORT (self)),
                                  G_PRIORITY_DEFAULT, posted_packet_send, posted,
                                  posted_packet_free);
      return 0;
    }
  G_UNLOCK (sctp_registry);

  if (self == NULL || self->lower == NULL
      || rtc_transport_get_state (self->lower) != RTC_TRANSPORT_STATE_CONNECTED)
    return 0;

  if (sctp_crc_offload && length >= 12)
    {
      guint32 crc = packet_checksum (buffer, length);

      memcpy ((guint8 *) buffer + 8, &crc, 4);
    }

  if (!rtc_transport_send (self->lower, buffer, length, &error))
    g_debug ("SCTP packet not sent: %s", error->message);
  return 0;
}

static void
sctp_global_acquire (void)
{
  G_LOCK (sctp_global);
  if (sctp_users++ == 0 && !sctp_initialized)
    {
      usrsctp_init_nothreads (0, sctp_output_cb, NULL);
      usrsctp_sysctl_set_sctp_ecn_enable (0);
      usrsctp_sysctl_set_sctp_asconf_enable (0);
      usrsctp_sysctl_set_sctp_auto_asconf (0);
      usrsctp_sysctl_set_sctp_sendspace (RTC_SCTP_SEND_BUFFER);
      usrsctp_sysctl_set_sctp_recvspace (RTC_SCTP_RECEIVE_BUFFER);
      /* The burst limit (4 packets) applies to each output call, without
       * touching the congestion window. In its default form it sets the
       * window to what is in flight plus 4 packets whenever less than the
       * window is in flight: in loss recovery, with the lost chunks out of
       * the flight, that cut the halved window to a fraction of it, the
       * next recovery halved what was left, and the window then grew by
       * one packet per round trip (tests/lab, 50 ms RTT, 100 Mbit/s, 4 MiB
       * window: 3 runs of 6 at 1.5-2.0 MB/s; without it 4.4-9.6). */
      usrsctp_sysctl_set_sctp_use_cwnd_based_maxburst (0);
      usrsctp_sysctl_set_sctp_max_chunks_on_queue (64 * 1024);
      usrsctp_sysctl_set_sctp_delayed_sack_time_default (RTC_SCTP_SACK_DELAY_MS);
      usrsctp_sysctl_set_sctp_initial_cwnd (10);
      usrsctp_sysctl_set_sctp_rto_initial_default (1000);
      usrsctp_sysctl_set_sctp_rto_min_default (250);
      usrsctp_sysctl_set_sctp_rto_max_default (5000);
      usrsctp_sysctl_set_sctp_init_rto_max_default (5000);
      /* Consecutive retransmission timeouts before the association is given
       * up. With RTO doubling from 250 ms to its 5 s ceiling, 10 (RFC 4960's
       * Association.Max.Retrans) rides out ~35 s of silence, a little more
       * than the ICE liveness bound (30 s, rtc-ice-transport.c), which
       * decides first. With 6, a 10 s outage of the path lost the
       * association ~11 s into it (the RTO had backed off already) and
       * failed the transfer (tests/lab, wan-backup-outage). The path limit
       * follows, since a data channel has one path. */
      usrsctp_sysctl_set_sctp_assoc_rtx_max_default (10);
      usrsctp_sysctl_set_sctp_path_rtx_max_default (10);
      usrsctp_sysctl_set_sctp_heartbeat_interval_default (RTC_SCTP_HEARTBEAT_INTERVAL_MS);
      sctp_crc_offload = crc_offload_possible ();
      if (sctp_crc_offload)
        usrsctp_enable_crc32c_offload ();
      sctp_initialized = TRUE;
    }
  G_UNLOCK (sctp_global);

  G_LOCK (sctp_registry);
  if (sctp_registry == NULL)
    {
      sctp_registry = g_hash_table_new (NULL, NULL);
      sctp_last_tick = g_get_monotonic_time ();
    }
  G_UNLOCK (sctp_registry);
}

static void
sctp_global_release (void)
{
  G_LOCK (sctp_global);
  g_assert (sctp_users > 0);
  if (--sctp_users == 0)
    {
      /* Aborted associations are freed by timers: run them until the
       * library lets go, or keep it for the next user. */
      for (guint i = 0; i < 100 && sctp_initialized; i++)
        {
          if (usrsctp_finish () == 0)
            sctp_initialized = FALSE;
          else
            usrsctp_handle_timers (100);
        }
    }
  G_UNLOCK (sctp_global);
}

static void
event_free (Event *event)
{
  g_clear_pointer (&event->data, g_bytes_unref);
  g_free (event);
}

static gboolean
event_source_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;

  g_mutex_lock (&self->event_lock);
  g_clear_pointer (&self->event_source, g_source_unref);
  g_mutex_unlock (&self->event_lock);

  dispatch_events (self);
  return G_SOURCE_REMOVE;
}

/* Called from usrsctp callbacks: queue, dispatch later on the home context. */
static void
push_event (RtcSctpTransport *self, Event *event)
{
  gboolean schedule;

  g_mutex_lock (&self->event_lock);
  g_queue_push_tail (&self->events, event);
  schedule = self->event_source == NULL
             && (self->depth == 0
                 || !on_home_context (rtc_transport_get_context (RTC_TRANSPORT (self))));
  if (schedule)
    {
      self->event_source = g_idle_source_new ();
      g_source_set_priority (self->event_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->event_source, event_source_cb, self, NULL);
      g_source_attach (self->event_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
    }
  g_mutex_unlock (&self->event_lock);
}

static Event *
event_new (EventType type, guint16 stream)
{
  Event *event = g_new0 (Event, 1);

  event->type = type;
  event->stream = stream;
  return event;
}

static void
push_message (RtcSctpTransport *self, guint16 stream, guint32 ppid, GBytes *data)
{
  Event *event = event_new (EVENT_MESSAGE, stream);

  event->ppid = ppid;
  event->data = data;
  push_event (self, event);
}

static void
handle_notification (RtcSctpTransport *self, const union sctp_notification *n, gsize length)
{
  Event *event;

  if (length < sizeof (n->sn_header) || length < n->sn_header.sn_length)
    return;

  switch (n->sn_header.sn_type)
    {
    case SCTP_ASSOC_CHANGE:
      if (length < sizeof (struct sctp_assoc_change))
        return;
      g_debug ("SCTP association change %u", n->sn_assoc_change.sac_state);
      event = event_new (EVENT_STATE, 0);
      switch (n->sn_assoc_change.sac_state)
        {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
          event->state = RTC_TRANSPORT_STATE_CONNECTED;
          break;
        case SCTP_COMM_LOST:
        case SCTP_CANT_STR_ASSOC:
          event->state = RTC_TRANSPORT_STATE_FAILED;
          break;
        case SCTP_SHUTDOWN_COMP:
          event->state = RTC_TRANSPORT_STATE_CLOSED;
          break;
        default:
          event_free (event);
          return;
        }
      push_event (self, event);
      break;

    case SCTP_STREAM_RESET_EVENT:
      {
        const struct sctp_stream_reset_event *reset = &n->sn_strreset_event;
        guint16 flags = reset->strreset_flags;
        gsize count;

        if (reset->strreset_length < sizeof (struct sctp_stream_reset_event))
          return;
        count
            = (reset->strreset_length - sizeof (struct sctp_stream_reset_event)) / sizeof (guint16);
        for (gsize i = 0; i < count; i++)
          {
            EventType type;

            if (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED))
              type = (flags & SCTP_STREAM_RESET_OUTGOING_SSN) ? EVENT_RESET_FAILED : EVENT_STATE;
            else if (flags & SCTP_STREAM_RESET_INCOMING_SSN)
              type = EVENT_REMOTE_RESET;
            else if (flags & SCTP_STREAM_RESET_OUTGOING_SSN)
              type = EVENT_LOCAL_RESET_DONE;
            else
              continue;
            if (type == EVENT_STATE)
              continue;
            push_event (self, event_new (type, reset->strreset_stream_list[i]));
          }
        /* Another request may now go out. */
        if (self->pending_resets->len > 0)
          push_event (self, event_new (EVENT_RESET_FAILED, G_MAXUINT16));
      }
      break;

    case SCTP_SENDER_DRY_EVENT:
      if (length < sizeof (struct sctp_sender_dry_event))
        return;
      /* Called back inside our own usrsctp call, on our thread: the state
       * is exact at this point, before any later send. */
      self->dry = TRUE;
      self->sctp_acked += self->sctp_held;
      self->sctp_held = 0;
      push_event (self, event_new (EVENT_DRY, 0));
      break;

    case SCTP_PARTIAL_DELIVERY_EVENT:
      g_debug ("SCTP partial delivery aborted");
      if (self->partial != NULL)
        g_clear_pointer (&self->partial, g_byte_array_unref);
      break;

    case SCTP_SEND_FAILED_EVENT:
      g_debug ("SCTP send failed");
      break;

    default:
      break;
    }
}

static void
refuse_message (RtcSctpTransport *self, guint16 stream)
{
  push_event (self, event_new (EVENT_TOO_LARGE, stream));
}

static int
sctp_receive_cb (struct socket *sock,
                 union sctp_sockstore addr,
                 void *data,
                 size_t length,
                 struct sctp_rcvinfo rcv,
                 int flags,
                 void *ulp_info)
{
  RtcSctpTransport *self;
  guint32 ppid;
  guint64 limit;

  G_LOCK (sctp_registry);
  self = sctp_registry != NULL ? g_hash_table_lookup (sctp_registry, ulp_info) : NULL;
  G_UNLOCK (sctp_registry);

  /* A transport whose association was aborted (sock NULL) takes nothing
   * more from it. */
  if (self == NULL || data == NULL || self->sock == NULL)
    {
      free (data);
      return 1;
    }

  if (flags & MSG_NOTIFICATION)
    {
      handle_notification (self, data, length);
      free (data);
      return 1;
    }

  ppid = ntohl (rcv.rcv_ppid);
  limit = self->local_max_message_size;

  if (self->discarding)
    {
      if ((flags & MSG_EOR) && rcv.rcv_sid == self->discarding_stream)
        self->discarding = FALSE;
      free (data);
      return 1;
    }

  if (self->partial == NULL && (flags & MSG_EOR))
    {
      if (limit != 0 && length > limit)
        {
          free (data);
          refuse_message (self, rcv.rcv_sid);
          return 1;
        }
      /* The usual case: a whole message, handed on without a copy. */
      push_message (self, rcv.rcv_sid, ppid, g_bytes_new_with_free_func (data, length, free, data));
      return 1;
    }

  if (self->partial != NULL && (self->partial_stream != rcv.rcv_sid || self->partial_ppid != ppid))
    {
      g_debug ("SCTP partial message on stream %u interrupted", self->partial_stream);
      g_clear_pointer (&self->partial, g_byte_array_unref);
    }

  if (self->partial == NULL)
    {
      self->partial = g_byte_array_new ();
      self->partial_stream = rcv.rcv_sid;
      self->partial_ppid = ppid;
    }

  if (limit != 0 && self->partial->len + (guint64) length > limit)
    {
      g_clear_pointer (&self->partial, g_byte_array_unref);
      free (data);
      if (!(flags & MSG_EOR))
        {
          self->discarding = TRUE;
          self->discarding_stream = rcv.rcv_sid;
        }
      refuse_message (self, rcv.rcv_sid);
      return 1;
    }

  g_byte_array_append (self->partial, data, length);
  free (data);
  if (flags & MSG_EOR)
    {
      GByteArray *whole = g_steal_pointer (&self->partial);

      push_message (self, rcv.rcv_sid, ppid, g_byte_array_free_to_bytes (whole));
    }
  return 1;
}

static int
sctp_send_cb (struct socket *sock, uint32_t sb_free, void *ulp_info)
{
  RtcSctpTransport *self;

  G_LOCK (sctp_registry);
  self = sctp_registry != NULL ? g_hash_table_lookup (sctp_registry, ulp_info) : NULL;
  G_UNLOCK (sctp_registry);

  if (self == NULL || self->sock == NULL)
    return 1;

  /* Acknowledged data left the send buffer: what usrsctp still holds is
   * its size less the room reported. */
  if (self->sndbuf_limit > 0)
    {
      guint64 held = sb_free < self->sndbuf_limit ? self->sndbuf_limit - sb_free : 0;

      if (held < self->sctp_held)
        {
          self->sctp_acked += self->sctp_held - held;
          if (!self->acked_event_queued)
            {
              self->acked_event_queued = TRUE;
              push_event (self, event_new (EVENT_ACKED, 0));
            }
        }
      self->sctp_held = held;
    }

  if (self->blocked)
    {
      self->blocked = FALSE;
      push_event (self, event_new (EVENT_WRITABLE, 0));
    }
  return 1;
}

/* Chooses how often the association acknowledges from its smoothed RTT
 * (see RTC_SCTP_PROMPT_SACK_RTT_MS). Until a round trip is measured the
 * RTT reads 0, and the default (every second packet) stays. */
static void
adapt_acknowledgements (RtcSctpTransport *self, const struct sctp_status *status)
{
  guint srtt = status->sstat_primary.spinfo_srtt;
  guint frequency = self->sack_frequency;
  struct sctp_sack_info info;
  int ret;

  if (srtt >= RTC_SCTP_PROMPT_SACK_RTT_MS)
    frequency = 1;
  else if (srtt < RTC_SCTP_DELAYED_SACK_RTT_MS)
    frequency = 2;
  if (frequency == self->sack_frequency)
    return;

  memset (&info, 0, sizeof info);
  info.sack_assoc_id = status->sstat_assoc_id;
  info.sack_delay = RTC_SCTP_SACK_DELAY_MS;
  info.sack_freq = frequency;
  self->depth++;
  ret = usrsctp_setsockopt (self->sock, IPPROTO_SCTP, SCTP_DELAYED_SACK, &info, sizeof info);
  self->depth--;
  if (ret != 0)
    return;
  self->sack_frequency = frequency;
  g_debug ("SCTP: a SACK for %s (smoothed RTT %u ms)",
           frequency == 1 ? "each packet" : "every second packet", srtt);
}

/* One line a second while debugging: what limits the sender (its
 * congestion window, the peer's window, what usrsctp holds), how it
 * recovers from loss, and how late the timers ran. T3 timeouts come every
 * RTO while data flows (RTC_SCTP_SACK_DELAY_MS): those that mark no chunk
 * for retransmission cost nothing. The counters are the process's, as
 * differences from the previous line. */
static void
log_status (RtcSctpTransport *self, const struct sctp_status *status)
{
  struct sctpstat stat;

  usrsctp_get_stat (&stat);
  g_debug ("SCTP status: cwnd %u, peer window %u, srtt %u ms, rto %u ms, %u chunks unacknowledged, "
           "%" G_GUINT64_FORMAT " bytes held; since the last line: %u packets in, %u T3 timeouts "
           "marking %u chunks, %u fast retransmissions, %u duplicates received, timers up to "
           "%" G_GINT64_FORMAT " ms late",
           status->sstat_primary.spinfo_cwnd, status->sstat_rwnd,
           status->sstat_primary.spinfo_srtt, status->sstat_primary.spinfo_rto,
           status->sstat_unackdata, self->sctp_held,
           stat.sctps_recvpackets - self->last_stat.sctps_recvpackets,
           stat.sctps_timodata - self->last_stat.sctps_timodata,
           stat.sctps_markedretrans - self->last_stat.sctps_markedretrans,
           stat.sctps_sendfastretrans - self->last_stat.sctps_sendfastretrans,
           stat.sctps_recvdupdata - self->last_stat.sctps_recvdupdata,
           MAX (self->longest_timer_wait / 1000 - RTC_SCTP_TIMER_INTERVAL_MS, 0));
  self->longest_timer_wait = 0;
  self->last_stat = stat;
}

/* Reads the association's status when connected and then every
 * RTC_SCTP_STATUS_INTERVAL_US: to adapt the acknowledgements, and to log
 * it (from the second reading on, so that the line's counters cover one
 * interval). */
static void
check_status (RtcSctpTransport *self, gint64 now)
{
  struct sctp_status status;
  socklen_t length = sizeof status;
  gboolean first = self->last_status_check == 0;
  int ret;

  if (!first && now - self->last_status_check < RTC_SCTP_STATUS_INTERVAL_US)
    return;
  self->last_status_check = now;

  memset (&status, 0, sizeof status);
  self->depth++;
  ret = usrsctp_getsockopt (self->sock, IPPROTO_SCTP, SCTP_STATUS, &status, &length);
  self->depth--;
  if (ret != 0)
    return;
  adapt_acknowledgements (self, &status);
  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;
  if (first)
    usrsctp_get_stat (&self->last_stat);
  else
    log_status (self, &status);
}

static gboolean
timer_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;
  gint64 now = g_get_monotonic_time ();
  guint32 elapsed = 0;

  if (self->last_timer_run != 0 && now - self->last_timer_run > self->longest_timer_wait)
    self->longest_timer_wait = now - self->last_timer_run;
  self->last_timer_run = now;
  /* Before the timers: what they dispatch may release the transport. */
  if (self->sock != NULL
      && rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTED)
    check_status (self, now);
  /* One clock for every association: several timeouts may drive it. */
  G_LOCK (sctp_registry);
  if (now - sctp_last_tick >= 1000)
    {
      elapsed = (now - sctp_last_tick) / 1000;
      sctp_last_tick += (gint64) elapsed * 1000;
    }
  G_UNLOCK (sctp_registry);

  if (elapsed > 0)
    {
      self->depth++;
      usrsctp_handle_timers (elapsed);
      self->depth--;
      dispatch_events (self);
    }
  return G_SOURCE_CONTINUE;
}

static void
input_packet (RtcSctpTransport *self, const guint8 *data, gsize length)
{
  if (sctp_crc_offload)
    {
      guint32 stored;

      /* usrsctp no longer checks: drop what is damaged here. */
      if (length < 12)
        return;
      memcpy (&stored, data + 8, 4);
      if (stored != packet_checksum (data, length))
        {
          g_debug ("Dropping an SCTP packet with a bad checksum");
          return;
        }
    }

  self->depth++;
  usrsctp_conninput ((void *) self->id, data, length, 0);
  self->depth--;
}

static gboolean
input_source_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;
  GBytes *packet;

  g_clear_pointer (&self->input_source, g_source_unref);
  while ((packet = g_queue_pop_head (&self->input_queue)) != NULL)
    {
      gsize length;
      const guint8 *data = g_bytes_get_data (packet, &length);

      if (self->sock != NULL)
        input_packet (self, data, length);
      g_bytes_unref (packet);
    }
  dispatch_events (self);
  return G_SOURCE_REMOVE;
}

static void
lower_receive_cb (RtcTransport *lower, const guint8 *data, gsize length, gpointer user_data)
{
  RtcSctpTransport *self = user_data;

  if (self->sock == NULL)
    return;

  if (self->depth > 0)
    {
      /* Never feed usrsctp from inside one of its own calls. */
      g_queue_push_tail (&self->input_queue, g_bytes_new (data, length));
      if (self->input_source == NULL)
        {
          self->input_source = g_idle_source_new ();
          g_source_set_callback (self->input_source, input_source_cb, self, NULL);
          g_source_attach (self->input_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
        }
      return;
    }

  input_packet (self, data, length);
  dispatch_events (self);
}

static gboolean
set_option (RtcSctpTransport *self, int level, int name, const void *value, socklen_t length,
            const char *what, GError **error)
{
  if (usrsctp_setsockopt (self->sock, level, name, value, length) != 0)
    {
      int saved = errno;

      g_set_error (error, RTC_ERROR, RTC_ERROR_SCTP_FAILED,
                   "Cannot set SCTP option %s: %s", what, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Path parameters: no path MTU discovery (the layers below decide the
 * packet size), heartbeats every RTC_SCTP_HEARTBEAT_INTERVAL_MS. */
static void
fill_path_params (struct sctp_paddrparams *params, sctp_assoc_t assoc, guint packet_size)
{
  memset (params, 0, sizeof *params);
  params->spp_assoc_id = assoc;
  params->spp_flags = SPP_PMTUD_DISABLE | SPP_HB_ENABLE;
  params->spp_pathmtu = packet_size;
  params->spp_hbinterval = RTC_SCTP_HEARTBEAT_INTERVAL_MS;
}

static gboolean
configure_socket (RtcSctpTransport *self, GError **error)
{
  struct linger linger = { 1, 0 };
  struct sctp_assoc_value reset = { SCTP_FUTURE_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ };
  struct sctp_paddrparams params;
  struct sctp_initmsg init;
  int on = 1;
  int off = 0;
  int sndbuf = RTC_SCTP_SEND_BUFFER;
  int rcvbuf = self->receive_window;
  guint32 pd_point = RTC_SCTP_PD_POINT;
  static const guint16 event_types[] = {
    SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_PARTIAL_DELIVERY_EVENT,
    SCTP_SEND_FAILED_EVENT, SCTP_SHUTDOWN_EVENT, SCTP_SENDER_DRY_EVENT,
  };

  if (usrsctp_set_non_blocking (self->sock, 1) != 0)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_SCTP_FAILED,
                           "Cannot make the SCTP socket non-blocking");
      return FALSE;
    }

  fill_path_params (&params, SCTP_FUTURE_ASSOC, self->packet_size);

  memset (&init, 0, sizeof init);
  init.sinit_num_ostreams = RTC_SCTP_MAX_OUT_STREAMS;
  init.sinit_max_instreams = RTC_SCTP_MAX_IN_STREAMS;

  if (!set_option (self, SOL_SOCKET, SO_LINGER, &linger, sizeof linger, "SO_LINGER", error)
      || !set_option (self, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf, "SO_SNDBUF", error)
      || !set_option (self, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf, "SO_RCVBUF", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset,
                      "SCTP_ENABLE_STREAM_RESET", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO",
                      error)
      || !set_option (self, IPPROTO_SCTP, SCTP_EXPLICIT_EOR, &on, sizeof on, "SCTP_EXPLICIT_EOR",
                      error)
      || !set_option (self, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &off, sizeof off,
                      "SCTP_FRAGMENT_INTERLEAVE", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd_point, sizeof pd_point,
                      "SCTP_PARTIAL_DELIVERY_POINT", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof params,
                      "SCTP_PEER_ADDR_PARAMS", error)
      || !set_option (self, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG", error))
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (event_types); i++)
    {
      struct sctp_event event = { SCTP_FUTURE_ASSOC, event_types[i], 1 };

      if (!set_option (self, IPPROTO_SCTP, SCTP_EVENT, &event, sizeof event, "SCTP_EVENT", error))
        return FALSE;
    }

  /* The send buffer as usrsctp sized it, to read its free space. */
  {
    int actual = 0;
    socklen_t actual_length = sizeof actual;

    if (usrsctp_getsockopt (self->sock, SOL_SOCKET, SO_SNDBUF, &actual, &actual_length) == 0
        && actual > 0)
      self->sndbuf_limit = actual;
    else
      self->sndbuf_limit = sndbuf;
  }
  return TRUE;
}

static void
fail (RtcSctpTransport *self, const GError *error)
{
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_FAILED, error);
}

static void
start (RtcSctpTransport *self)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_conn local, remote;
  int ret;

  if (self->sock != NULL || self->closing)
    return;

  self->sock = usrsctp_socket (AF_CONN, SOCK_STREAM, IPPROTO_SCTP, sctp_receive_cb, sctp_send_cb,
                               RTC_SCTP_WRITABLE_THRESHOLD, (void *) self->id);
  if (self->sock == NULL)
    {
      g_set_error (&error, RTC_ERROR, RTC_ERROR_SCTP_FAILED, "Cannot create the SCTP socket: %s",
                   g_strerror (errno));
      fail (self, error);
      return;
    }

  self->depth++;
  if (!configure_socket (self, &error))
    {
      self->depth--;
      fail (self, error);
      return;
    }

  memset (&local, 0, sizeof local);
  local.sconn_family = AF_CONN;
  local.sconn_port = htons (self->local_port);
  local.sconn_addr = (void *) self->id;
  remote = local;
  remote.sconn_port = htons (self->remote_port);

  if (usrsctp_bind (self->sock, (struct sockaddr *) &local, sizeof local) != 0)
    {
      g_set_error (&error, RTC_ERROR, RTC_ERROR_SCTP_FAILED, "Cannot bind the SCTP socket: %s",
                   g_strerror (errno));
      self->depth--;
      fail (self, error);
      return;
    }

  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CONNECTING, NULL);
  ret = usrsctp_connect (self->sock, (struct sockaddr *) &remote, sizeof remote);
  self->depth--;
  if (ret != 0 && errno != EINPROGRESS)
    {
      g_set_error (&error, RTC_ERROR, RTC_ERROR_SCTP_FAILED, "Cannot connect the SCTP socket: %s",
                   g_strerror (errno));
      fail (self, error);
      return;
    }

  /* Below packet input: a timer must not expire while the SACK that
   * would have stopped it waits to be read. */
  self->timer_source = g_timeout_source_new (RTC_SCTP_TIMER_INTERVAL_MS);
  g_source_set_priority (self->timer_source, G_PRIORITY_LOW);
  g_source_set_callback (self->timer_source, timer_cb, self, NULL);
  g_source_attach (self->timer_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
  dispatch_events (self);
}

static void
lower_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcSctpTransport *self = user_data;
  RtcTransport *lower = RTC_TRANSPORT (object);

  switch (rtc_transport_get_state (lower))
    {
    case RTC_TRANSPORT_STATE_CONNECTED:
      start (self);
      break;

    case RTC_TRANSPORT_STATE_FAILED:
      {
        g_autoptr (GError) error = g_error_copy (rtc_transport_get_error (lower));

        fail (self, error);
      }
      break;

    case RTC_TRANSPORT_STATE_CLOSED:
      if (self->closing)
        rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED, NULL);
      else
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                                          "The lower transport closed");

          if (rtc_transport_get_state (RTC_TRANSPORT (self)) == RTC_TRANSPORT_STATE_CONNECTED)
            rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED, NULL);
          else
            fail (self, error);
        }
      break;

    default:
      break;
    }
}

static void
stop_timers (RtcSctpTransport *self)
{
  if (self->timer_source != NULL)
    {
      g_source_destroy (self->timer_source);
      g_clear_pointer (&self->timer_source, g_source_unref);
    }
  if (self->reset_retry_source != NULL)
    {
      g_source_destroy (self->reset_retry_source);
      g_clear_pointer (&self->reset_retry_source, g_source_unref);
    }
  if (self->shutdown_source != NULL)
    {
      g_source_destroy (self->shutdown_source);
      g_clear_pointer (&self->shutdown_source, g_source_unref);
    }
  if (self->dry_poll_source != NULL)
    {
      g_source_destroy (self->dry_poll_source);
      g_clear_pointer (&self->dry_poll_source, g_source_unref);
    }
}

static void
self_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  RtcSctpTransport *self = RTC_SCTP_TRANSPORT (object);
  RtcTransportState state = rtc_transport_get_state (RTC_TRANSPORT (self));

  if (state == RTC_TRANSPORT_STATE_FAILED || state == RTC_TRANSPORT_STATE_CLOSED)
    {
      if (self->reset_retry_source != NULL)
        {
          g_source_destroy (self->reset_retry_source);
          g_clear_pointer (&self->reset_retry_source, g_source_unref);
        }
      if (self->dry_poll_source != NULL)
        {
          g_source_destroy (self->dry_poll_source);
          g_clear_pointer (&self->dry_poll_source, g_source_unref);
        }
      g_array_set_size (self->dry_resets, 0);
    }
}

static gboolean
flush_tail (RtcSctpTransport *self, GError **error)
{
  if (self->sock == NULL)
    {
      g_clear_pointer (&self->tail, g_free);
      return TRUE;
    }
  while (self->tail != NULL)
    {
      struct sctp_sendv_spa spa;
      ssize_t ret;

      memset (&spa, 0, sizeof spa);
      spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
      spa.sendv_sndinfo.snd_sid = self->tail_stream;
      spa.sendv_sndinfo.snd_ppid = htonl (self->tail_ppid);
      spa.sendv_sndinfo.snd_flags = SCTP_EOR | (self->tail_unordered ? SCTP_UNORDERED : 0);

      self->depth++;
      ret = usrsctp_sendv (self->sock, self->tail + self->tail_offset,
                           self->tail_length - self->tail_offset, NULL, 0, &spa, sizeof spa,
                           SCTP_SENDV_SPA, 0);
      self->depth--;
      if (ret < 0)
        {
          if (errno == EWOULDBLOCK || errno == EAGAIN)
            {
              self->blocked = TRUE;
              return TRUE;
            }
          g_set_error (error, RTC_ERROR, RTC_ERROR_SCTP_FAILED, "SCTP send failed: %s",
                       g_strerror (errno));
          g_clear_pointer (&self->tail, g_free);
          return FALSE;
        }
      self->tail_offset += ret;
      if (ret > 0)
        {
          self->sctp_held += ret;
          self->dry = FALSE;
        }
      if (self->tail_offset >= self->tail_length)
        g_clear_pointer (&self->tail, g_free);
    }
  return TRUE;
}

static void
handle_writable (RtcSctpTransport *self)
{
  g_autoptr (GError) error = NULL;

  if (self->sock == NULL)
    return;
  if (!flush_tail (self, &error))
    {
      fail (self, error);
      return;
    }
  if (self->tail != NULL)
    return;

  g_signal_emit (self, signals[SIGNAL_WRITABLE], 0);
}

static void
handle_too_large (RtcSctpTransport *self, guint16 stream)
{
  g_autoptr (GError) error = NULL;
  gboolean handled = FALSE;

  error = g_error_new (RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE,
                       "A message on stream %u is larger than the %" G_GUINT64_FORMAT
                       " bytes we accept", stream, self->local_max_message_size);
  g_debug ("%s", error->message);
  /* The user of the stream closes it; when nobody does, it is reset. */
  g_signal_emit (self, signals[SIGNAL_STREAM_ERROR], 0, (guint) stream, error, &handled);
  if (!handled)
    rtc_sctp_transport_reset_stream (self, stream);
}

static void
dispatch_event (RtcSctpTransport *self, Event *event)
{
  switch (event->type)
    {
    case EVENT_MESSAGE:
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, (guint) event->stream,
                     (guint) event->ppid, event->data);
      break;

    case EVENT_TOO_LARGE:
      handle_too_large (self, event->stream);
      break;

    case EVENT_STATE:
      if (event->state == RTC_TRANSPORT_STATE_FAILED)
        {
          g_autoptr (GError) error = g_error_new_literal (RTC_ERROR, RTC_ERROR_SCTP_FAILED,
                                                          "The SCTP association was lost");

          fail (self, error);
        }
      else
        rtc_transport_set_state (RTC_TRANSPORT (self), event->state, NULL);
      break;

    case EVENT_REMOTE_RESET:
      g_debug ("SCTP stream %u reset by the peer", event->stream);
      g_signal_emit (self, signals[SIGNAL_STREAM_RESET], 0, (guint) event->stream);
      break;

    case EVENT_LOCAL_RESET_DONE:
      g_debug ("SCTP stream %u reset", event->stream);
      g_signal_emit (self, signals[SIGNAL_LOCAL_RESET_DONE], 0, (guint) event->stream);
      break;

    case EVENT_RESET_FAILED:
      if (event->stream != G_MAXUINT16)
        {
          guint16 stream = event->stream;

          g_debug ("SCTP reset of stream %u refused, retrying", stream);
          g_array_append_val (self->pending_resets, stream);
        }
      try_resets (self);
      break;

    case EVENT_WRITABLE:
      handle_writable (self);
      break;

    case EVENT_ACKED:
      self->acked_event_queued = FALSE;
      charge_acked (self);
      break;

    case EVENT_DRY:
      charge_acked (self);
      check_dry (self);
      break;
    }

  /* A send refused while a stream reset was pending may go now. */
  if (self->blocked
      && (event->type == EVENT_REMOTE_RESET || event->type == EVENT_LOCAL_RESET_DONE
          || event->type == EVENT_RESET_FAILED))
    {
      self->blocked = FALSE;
      handle_writable (self);
    }
}

/* Hands acknowledged bytes back to the streams that sent them, oldest
 * first. usrsctp reports them per association; once it is dry every
 * stream is charged exactly. */
static void
charge_acked (RtcSctpTransport *self)
{
  SentRecord *record;

  while ((record = g_queue_peek_head (&self->sent_records)) != NULL)
    {
      guint16 stream = record->stream;
      guint64 bytes;
      gboolean all = self->dry && self->tail == NULL;

      if (self->sctp_acked == 0 && !all)
        break;
      bytes = all ? record->bytes : MIN (record->bytes, self->sctp_acked);
      record->bytes -= bytes;
      self->sctp_acked -= MIN (bytes, self->sctp_acked);
      if (record->bytes == 0)
        g_free (g_queue_pop_head (&self->sent_records));

      if (bytes > 0)
        g_signal_emit (self, signals[SIGNAL_ACKED], 0, (guint) stream, (guint64) bytes);
    }
  if (g_queue_is_empty (&self->sent_records))
    self->sctp_acked = 0;
}

static void
dispatch_events (RtcSctpTransport *self)
{
  g_autoptr (RtcSctpTransport) hold = NULL;

  if (self->dispatching)
    return;

  hold = g_object_ref (self);
  self->dispatching = TRUE;
  for (;;)
    {
      Event *event;

      g_mutex_lock (&self->event_lock);
      event = g_queue_pop_head (&self->events);
      g_mutex_unlock (&self->event_lock);
      if (event == NULL)
        break;
      dispatch_event (self, event);
      event_free (event);
    }
  self->dispatching = FALSE;
}

static gboolean
reset_retry_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;

  g_clear_pointer (&self->reset_retry_source, g_source_unref);
  try_resets (self);
  dispatch_events (self);
  return G_SOURCE_REMOVE;
}

static void
try_resets (RtcSctpTransport *self)
{
  struct sctp_reset_streams *srs;
  gsize size;
  int ret;

  if (self->pending_resets->len == 0 || self->sock == NULL
      || rtc_transport_get_state (RTC_TRANSPORT (self)) != RTC_TRANSPORT_STATE_CONNECTED)
    return;

  size = sizeof (struct sctp_reset_streams) + self->pending_resets->len * sizeof (guint16);
  srs = g_malloc0 (size);
  srs->srs_assoc_id = SCTP_ALL_ASSOC;
  srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  srs->srs_number_streams = self->pending_resets->len;
  memcpy (srs->srs_stream_list, self->pending_resets->data,
          self->pending_resets->len * sizeof (guint16));

  self->depth++;
  ret = usrsctp_setsockopt (self->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, size);
  self->depth--;
  g_free (srs);

  if (ret == 0)
    {
      g_array_set_size (self->pending_resets, 0);
      return;
    }

  /* Usually EALREADY/EBUSY: a request is in progress. Try again soon. */
  g_debug ("SCTP stream reset deferred: %s", g_strerror (errno));
  if (self->reset_retry_source == NULL)
    {
      self->reset_retry_source = g_timeout_source_new (RTC_SCTP_RESET_RETRY_MS);
      g_source_set_callback (self->reset_retry_source, reset_retry_cb, self, NULL);
      g_source_attach (self->reset_retry_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
    }
}

static gboolean
dry_poll_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;

  g_clear_pointer (&self->dry_poll_source, g_source_unref);
  check_dry (self);
  dispatch_events (self);
  return G_SOURCE_REMOVE;
}

/* Issues the resets waiting for the association to be dry, if it is.
 * Subscribing again to SCTP_SENDER_DRY_EVENT makes usrsctp report a dry
 * association at once; a slow poll does so in case an event was missed. */
static void
check_dry (RtcSctpTransport *self)
{
  if (self->dry_resets->len == 0 || self->sock == NULL
      || rtc_transport_get_state (RTC_TRANSPORT (self)) != RTC_TRANSPORT_STATE_CONNECTED)
    return;

  if (!self->dry && self->tail == NULL)
    {
      struct sctp_event event = { SCTP_FUTURE_ASSOC, SCTP_SENDER_DRY_EVENT, 1 };

      self->depth++;
      if (usrsctp_setsockopt (self->sock, IPPROTO_SCTP, SCTP_EVENT, &event, sizeof event) != 0)
        g_debug ("Cannot subscribe to SCTP_SENDER_DRY_EVENT: %s", g_strerror (errno));
      self->depth--;
    }

  if (!self->dry || self->tail != NULL)
    {
      if (self->dry_poll_source == NULL)
        {
          self->dry_poll_source = g_timeout_source_new (RTC_SCTP_DRY_POLL_MS);
          g_source_set_callback (self->dry_poll_source, dry_poll_cb, self, NULL);
          g_source_attach (self->dry_poll_source, rtc_transport_get_context (RTC_TRANSPORT (self)));
        }
      return;
    }

  if (self->dry_poll_source != NULL)
    {
      g_source_destroy (self->dry_poll_source);
      g_clear_pointer (&self->dry_poll_source, g_source_unref);
    }
  for (guint i = 0; i < self->dry_resets->len; i++)
    {
      guint16 stream = g_array_index (self->dry_resets, guint16, i);
      gboolean found = FALSE;

      for (guint j = 0; j < self->pending_resets->len && !found; j++)
        found = g_array_index (self->pending_resets, guint16, j) == stream;
      if (!found)
        g_array_append_val (self->pending_resets, stream);
    }
  g_array_set_size (self->dry_resets, 0);
  g_debug ("SCTP association dry: resetting the streams of closed channels");
  try_resets (self);
}

void
rtc_sctp_transport_reset_stream_when_dry (RtcSctpTransport *self, guint16 stream)
{
  g_return_if_fail (RTC_IS_SCTP_TRANSPORT (self));

  for (guint i = 0; i < self->pending_resets->len; i++)
    if (g_array_index (self->pending_resets, guint16, i) == stream)
      return;
  for (guint i = 0; i < self->dry_resets->len; i++)
    if (g_array_index (self->dry_resets, guint16, i) == stream)
      return;
  g_array_append_val (self->dry_resets, stream);
  check_dry (self);
  dispatch_events (self);
}

void
rtc_sctp_transport_reset_stream (RtcSctpTransport *self, guint16 stream)
{
  g_return_if_fail (RTC_IS_SCTP_TRANSPORT (self));

  for (guint i = 0; i < self->pending_resets->len; i++)
    if (g_array_index (self->pending_resets, guint16, i) == stream)
      return;
  g_array_append_val (self->pending_resets, stream);
  try_resets (self);
  dispatch_events (self);
}

RtcSctpSendResult
rtc_sctp_transport_send (RtcSctpTransport *self,
                         guint16 stream,
                         guint32 ppid,
                         gboolean unordered,
                         const guint8 *data,
                         gsize len,
                         GError **error)
{
  struct sctp_sendv_spa spa;
  ssize_t ret;

  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), RTC_SCTP_SEND_ERROR);
  g_return_val_if_fail (data != NULL && len > 0, RTC_SCTP_SEND_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, RTC_SCTP_SEND_ERROR);

  if (rtc_transport_get_state (RTC_TRANSPORT (self)) != RTC_TRANSPORT_STATE_CONNECTED
      || self->closing)
    {
      g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                           "The SCTP association is not connected");
      return RTC_SCTP_SEND_ERROR;
    }

  if (len > RTC_SCTP_SEND_BUFFER)
    {
      g_set_error (error, RTC_ERROR, RTC_ERROR_MESSAGE_TOO_LARGE,
                   "Messages are limited to %d bytes", RTC_SCTP_SEND_BUFFER);
      return RTC_SCTP_SEND_ERROR;
    }

  if (self->tail != NULL)
    {
      if (!flush_tail (self, error))
        {
          dispatch_events (self);
          return RTC_SCTP_SEND_ERROR;
        }
      if (self->tail != NULL)
        return RTC_SCTP_SEND_WOULD_BLOCK;
    }

  memset (&spa, 0, sizeof spa);
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_ppid = htonl (ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);

  self->depth++;
  ret = usrsctp_sendv (self->sock, data, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
  self->depth--;

  if (ret < 0)
    {
      int saved = errno;

      dispatch_events (self);
      if (saved == EWOULDBLOCK || saved == EAGAIN)
        {
          self->blocked = TRUE;
          return RTC_SCTP_SEND_WOULD_BLOCK;
        }
      g_set_error (error, RTC_ERROR,
                   saved == EMSGSIZE ? RTC_ERROR_MESSAGE_TOO_LARGE : RTC_ERROR_SCTP_FAILED,
                   "SCTP send failed: %s", g_strerror (saved));
      return RTC_SCTP_SEND_ERROR;
    }

  if (ret > 0)
    {
      self->sctp_held += ret;
      self->dry = FALSE;
    }
  /* The whole message counts: a tail kept here goes out first. */
  {
    SentRecord *last = g_queue_peek_tail (&self->sent_records);

    if (last != NULL && last->stream == stream)
      last->bytes += len;
    else
      {
        SentRecord *record = g_new (SentRecord, 1);

        record->stream = stream;
        record->bytes = len;
        g_queue_push_tail (&self->sent_records, record);
      }
  }

  if ((gsize) ret < len)
    {
      /* Explicit EOR lets usrsctp take part of a message: keep the rest,
       * it goes before anything else. */
      self->tail = g_memdup2 (data + ret, len - ret);
      self->tail_offset = 0;
      self->tail_length = len - ret;
      self->tail_stream = stream;
      self->tail_ppid = ppid;
      self->tail_unordered = unordered;
      self->blocked = TRUE;
    }

  dispatch_events (self);
  return RTC_SCTP_SEND_OK;
}

gboolean
rtc_sctp_transport_is_dtls_client (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), FALSE);

  return self->dtls_client;
}

gboolean
rtc_sctp_transport_is_blocked (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), FALSE);

  return self->blocked || self->tail != NULL;
}

gboolean
rtc_sctp_transport_is_closing (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), FALSE);

  return self->closing;
}

void
rtc_sctp_transport_set_max_message_sizes (RtcSctpTransport *self, guint64 local, guint64 remote)
{
  g_return_if_fail (RTC_IS_SCTP_TRANSPORT (self));

  self->local_max_message_size = local;
  self->remote_max_message_size = remote;
}

guint64
rtc_sctp_transport_get_remote_max_message_size (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), 0);

  if (self->remote_max_message_size == 0 || self->remote_max_message_size > RTC_SCTP_SEND_BUFFER)
    return RTC_SCTP_SEND_BUFFER;
  return self->remote_max_message_size;
}

static gboolean
shutdown_timeout_cb (gpointer user_data)
{
  RtcSctpTransport *self = user_data;

  g_clear_pointer (&self->shutdown_source, g_source_unref);
  g_debug ("SCTP shutdown timed out");
  rtc_transport_set_state (RTC_TRANSPORT (self), RTC_TRANSPORT_STATE_CLOSED, NULL);
  return G_SOURCE_REMOVE;
}

static void
rtc_sctp_transport_close (RtcTransport *transport)
{
  RtcSctpTransport *self = RTC_SCTP_TRANSPORT (transport);
  RtcTransportState state = rtc_transport_get_state (transport);

  if (self->closing)
    return;
  self->closing = TRUE;

  if (self->sock == NULL || state != RTC_TRANSPORT_STATE_CONNECTED)
    {
      rtc_transport_set_state (transport, RTC_TRANSPORT_STATE_CLOSED, NULL);
      return;
    }

  self->depth++;
  usrsctp_shutdown (self->sock, SHUT_RDWR);
  self->depth--;
  /* What runs over the association closes now; the association follows
   * when the peer agrees. */
  g_signal_emit (self, signals[SIGNAL_CLOSING], 0);
  self->shutdown_source = g_timeout_source_new (RTC_SCTP_SHUTDOWN_TIMEOUT_MS);
  g_source_set_callback (self->shutdown_source, shutdown_timeout_cb, self, NULL);
  g_source_attach (self->shutdown_source, rtc_transport_get_context (transport));
  dispatch_events (self);
}

void
rtc_sctp_transport_abort (RtcSctpTransport *self)
{
  g_autoptr (RtcSctpTransport) hold = NULL;
  g_autoptr (GError) error = NULL;
  RtcTransportState state;

  g_return_if_fail (RTC_IS_SCTP_TRANSPORT (self));

  state = rtc_transport_get_state (RTC_TRANSPORT (self));
  if (state == RTC_TRANSPORT_STATE_FAILED || state == RTC_TRANSPORT_STATE_CLOSED)
    return;

  hold = g_object_ref (self);
  self->closing = TRUE;
  stop_timers (self);
  if (self->sock != NULL)
    {
      /* SO_LINGER {on, 0} (configure_socket): usrsctp sends an ABORT at
       * once, whatever is queued or in flight, and frees the association.
       * The socket goes with it; the address stays registered until
       * dispose, so that a late callback for it finds this transport,
       * without a socket, and leaves. */
      g_debug ("SCTP association aborted");
      self->depth++;
      usrsctp_close (self->sock);
      self->depth--;
      self->sock = NULL;
    }

  /* Nothing that came before the abort is delivered after it. */
  if (self->input_source != NULL)
    {
      g_source_destroy (self->input_source);
      g_clear_pointer (&self->input_source, g_source_unref);
    }
  g_queue_clear_full (&self->input_queue, (GDestroyNotify) g_bytes_unref);
  g_mutex_lock (&self->event_lock);
  if (self->event_source != NULL)
    {
      g_source_destroy (self->event_source);
      g_clear_pointer (&self->event_source, g_source_unref);
    }
  g_queue_clear_full (&self->events, (GDestroyNotify) event_free);
  g_mutex_unlock (&self->event_lock);
  g_clear_pointer (&self->tail, g_free);
  g_clear_pointer (&self->partial, g_byte_array_unref);
  self->blocked = FALSE;
  g_array_set_size (self->pending_resets, 0);
  g_array_set_size (self->dry_resets, 0);

  /* Not a clean close: what runs over the association ends under it. */
  error = g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED, "The SCTP association was aborted");
  fail (self, error);
}

static gboolean
rtc_sctp_transport_send_packet (RtcTransport *transport, const guint8 *data, gsize length,
                                GError **error)
{
  g_set_error_literal (error, RTC_ERROR, RTC_ERROR_INVALID_STATE,
                       "Use rtc_sctp_transport_send() to send SCTP messages");
  return FALSE;
}

static void
rtc_sctp_transport_dispose (GObject *object)
{
  RtcSctpTransport *self = RTC_SCTP_TRANSPORT (object);

  if (self->sock != NULL)
    {
      struct sctpstat stat;

      usrsctp_get_stat (&stat);
      g_debug ("SCTP statistics (process): %u T3 timeouts, %u window probes, %u chunks marked "
               "for retransmission, %u fast retransmissions, %u duplicates received, "
               "%u dropped for the window, %u checksum errors",
               stat.sctps_timodata, stat.sctps_windowprobed, stat.sctps_markedretrans,
               stat.sctps_sendfastretrans, stat.sctps_recvdupdata, stat.sctps_datadroprwnd,
               stat.sctps_checksumerrors);
      /* SO_LINGER 0: the peer gets an ABORT now. */
      self->depth++;
      usrsctp_close (self->sock);
      self->depth--;
      self->sock = NULL;
    }

  if (self->registered)
    {
      usrsctp_deregister_address ((void *) self->id);
      G_LOCK (sctp_registry);
      g_hash_table_remove (sctp_registry, (gpointer) self->id);
      G_UNLOCK (sctp_registry);
      self->registered = FALSE;
      sctp_global_release ();
    }

  stop_timers (self);
  if (self->input_source != NULL)
    {
      g_source_destroy (self->input_source);
      g_clear_pointer (&self->input_source, g_source_unref);
    }
  g_queue_clear_full (&self->input_queue, (GDestroyNotify) g_bytes_unref);

  g_mutex_lock (&self->event_lock);
  if (self->event_source != NULL)
    {
      g_source_destroy (self->event_source);
      g_clear_pointer (&self->event_source, g_source_unref);
    }
  g_queue_clear_full (&self->events, (GDestroyNotify) event_free);
  g_mutex_unlock (&self->event_lock);

  if (self->lower != NULL)
    {
      g_clear_signal_handler (&self->lower_state_id, self->lower);
      rtc_transport_set_receive_func (self->lower, NULL, NULL, NULL);
      g_clear_object (&self->lower);
    }

  G_OBJECT_CLASS (rtc_sctp_transport_parent_class)->dispose (object);
}

static void
rtc_sctp_transport_finalize (GObject *object)
{
  RtcSctpTransport *self = RTC_SCTP_TRANSPORT (object);

  g_clear_pointer (&self->tail, g_free);
  g_clear_pointer (&self->partial, g_byte_array_unref);
  g_clear_pointer (&self->pending_resets, g_array_unref);
  g_clear_pointer (&self->dry_resets, g_array_unref);
  g_queue_clear_full (&self->sent_records, g_free);
  g_mutex_clear (&self->event_lock);

  G_OBJECT_CLASS (rtc_sctp_transport_parent_class)->finalize (object);
}

static void
rtc_sctp_transport_class_init (RtcSctpTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RtcTransportClass *transport_class = RTC_TRANSPORT_CLASS (klass);

  object_class->dispose = rtc_sctp_transport_dispose;
  object_class->finalize = rtc_sctp_transport_finalize;
  transport_class->send = rtc_sctp_transport_send_packet;
  transport_class->close = rtc_sctp_transport_close;

  /**
   * RtcSctpTransport::message:
   * @stream: the stream id
   * @ppid: the payload protocol identifier
   * @data: the whole message
   */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_BYTES);
  /**
   * RtcSctpTransport::stream-reset:
   * @stream: the stream id
   *
   * The peer reset its outgoing @stream.
   */
  signals[SIGNAL_STREAM_RESET] =
    g_signal_new ("stream-reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * RtcSctpTransport::local-reset-done:
   * @stream: the stream id
   *
   * Our reset of the outgoing @stream was performed.
   */
  signals[SIGNAL_LOCAL_RESET_DONE] =
    g_signal_new ("local-reset-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /**
   * RtcSctpTransport::stream-error:
   * @stream: the stream id
   * @error: what went wrong (RTC_ERROR_MESSAGE_TOO_LARGE)
   *
   * A message on @stream was refused. A handler that closes the stream
   * returns %TRUE; when none does, the stream is reset.
   */
  signals[SIGNAL_STREAM_ERROR] =
    g_signal_new ("stream-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 2, G_TYPE_UINT,
                  G_TYPE_ERROR);
  /**
   * RtcSctpTransport::acked:
   * @stream: the stream id
   * @bytes: how many bytes sent on @stream the peer acknowledged
   *
   * Charged to the oldest data first: an estimate per stream, exact once
   * nothing is left in flight.
   */
  signals[SIGNAL_ACKED] =
    g_signal_new ("acked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT64);
  /**
   * RtcSctpTransport::writable:
   *
   * A send that returned RTC_SCTP_SEND_WOULD_BLOCK may be retried.
   */
  signals[SIGNAL_WRITABLE] =
    g_signal_new ("writable", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /**
   * RtcSctpTransport::closing:
   *
   * rtc_transport_close() shuts the association down: what runs over it
   * closes now (the state becomes CLOSED when the peer agrees).
   */
  signals[SIGNAL_CLOSING] =
    g_signal_new ("closing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
rtc_sctp_transport_init (RtcSctpTransport *self)
{
  g_mutex_init (&self->event_lock);
  g_queue_init (&self->events);
  g_queue_init (&self->input_queue);
  self->pending_resets = g_array_new (FALSE, FALSE, sizeof (guint16));
  self->dry_resets = g_array_new (FALSE, FALSE, sizeof (guint16));
  self->dry = TRUE;
  self->sack_frequency = 2;
  g_queue_init (&self->sent_records);
  self->local_max_message_size = 262144;
  self->remote_max_message_size = 65536;
}

RtcSctpTransport *
rtc_sctp_transport_new (RtcTransport *lower,
                        gboolean dtls_client,
                        guint16 local_port,
                        guint16 remote_port)
{
  return rtc_sctp_transport_new_with_window (lower, dtls_client, local_port, remote_port, 0);
}

RtcSctpTransport *
rtc_sctp_transport_new_with_window (RtcTransport *lower,
                                    gboolean dtls_client,
                                    guint16 local_port,
                                    guint16 remote_port,
                                    gsize receive_window)
{
  return rtc_sctp_transport_new_full (lower, dtls_client, local_port, remote_port, receive_window,
                                      0);
}

RtcSctpTransport *
rtc_sctp_transport_new_full (RtcTransport *lower,
                             gboolean dtls_client,
                             guint16 local_port,
                             guint16 remote_port,
                             gsize receive_window,
                             guint packet_size)
{
  RtcSctpTransport *self;

  g_return_val_if_fail (RTC_IS_TRANSPORT (lower), NULL);

  self = g_object_new (RTC_TYPE_SCTP_TRANSPORT, NULL);
  self->lower = g_object_ref (lower);
  self->dtls_client = dtls_client;
  self->local_port = local_port;
  self->remote_port = remote_port;
  self->receive_window = receive_window != 0 ? (int) MIN (receive_window, RTC_SCTP_RECEIVE_BUFFER)
                                             : RTC_SCTP_RECEIVE_BUFFER;
  /* usrsctp keeps a path MTU in 16 bits. */
  self->packet_size = CLAMP (packet_size, RTC_SCTP_PACKET_SIZE, 65000);

  sctp_global_acquire ();
  G_LOCK (sctp_registry);
  self->id = sctp_next_id++;
  g_hash_table_insert (sctp_registry, (gpointer) self->id, self);
  G_UNLOCK (sctp_registry);
  self->registered = TRUE;
  usrsctp_register_address ((void *) self->id);

  g_signal_connect (self, "notify::state", G_CALLBACK (self_state_cb), NULL);
  rtc_transport_set_receive_func (lower, lower_receive_cb, self, NULL);
  self->lower_state_id
      = g_signal_connect (lower, "notify::state", G_CALLBACK (lower_state_cb), self);
  if (rtc_transport_get_state (lower) == RTC_TRANSPORT_STATE_CONNECTED)
    start (self);

  return self;
}

guint
rtc_sctp_transport_get_packet_size (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), RTC_SCTP_PACKET_SIZE);

  return self->packet_size;
}

guint
rtc_sctp_transport_get_sack_frequency (RtcSctpTransport *self)
{
  g_return_val_if_fail (RTC_IS_SCTP_TRANSPORT (self), 2);

  return self->sack_frequency;
}

void
rtc_sctp_transport_lower_packet_size (RtcSctpTransport *self, guint packet_size)
{
  struct sctp_paddrparams params;

  g_return_if_fail (RTC_IS_SCTP_TRANSPORT (self));

  packet_size = MAX (packet_size, RTC_SCTP_PACKET_SIZE);
  if (packet_size >= self->packet_size)
    return;
  self->packet_size = packet_size;
  if (self->sock == NULL)
    return;

  /* Every path of the association: an AF_CONN address of NULL (on a
   * one-to-one socket the association is the socket's own). */
  fill_path_params (&params, 0, packet_size);
  ((struct sockaddr_conn *) &params.spp_address)->sconn_family = AF_CONN;
  self->depth++;
  if (usrsctp_setsockopt (self->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, sizeof params)
      != 0)
    g_debug ("SCTP transport %p: packet size not lowered: %s", self, g_strerror (errno));
  else
    g_debug ("SCTP transport %p: packets of at most %u bytes", self, packet_size);
  self->depth--;
}
