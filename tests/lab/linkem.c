/* linkem.c: a user-space link emulator for the WAN lab (tests/lab/lab.sh).
 *
 * Creates two TUN devices, "a" and "b", in the network namespace it runs in
 * (lab.sh then moves each into the namespace of one peer) and forwards every
 * IP packet that one side sends to the other side, through an emulated path:
 *
 *   read → outage? → rate limit (token bucket, tail drop at the queue
 *   limit) → random loss, Gilbert-Elliott loss → one-way delay + jitter →
 *   reordering (some packets held back) → duplication → write
 *
 * Each direction has the same parameters and a state of its own, and runs in
 * a thread of its own: it reads its source device in batches, keeps the
 * packets in flight in a fixed pool of slots ordered by a binary heap on
 * their delivery time, and sleeps on a timerfd until the next delivery. No
 * allocation happens per packet. Jitter alone never reorders (as on a real
 * path, where jitter is queueing); --reorder does.
 *
 * Outages (everything dropped, both ways, at arrival and at delivery):
 * --outage-at S (seconds after start; --outage-for S long, default 10),
 * SIGUSR1 (one outage of --outage-for), or lines written to the --control
 * FIFO: "outage SECONDS", "down", "up". SIGINT/SIGTERM stop it; each
 * direction then prints one line of counters on stderr.
 *
 * NAT rebinding (the control line "rebind"), as when a home router
 * restarts or a carrier's NAT gives a flow a new mapping: from then on,
 * peer a's UDP over IPv4 leaves from other ports (each source port moved by
 * REBIND_SHIFT, its checksum cleared), and what b sends to a is translated
 * back only when it goes to such a new port; what goes to an old one is
 * dropped ("rebind-drops").
 *
 * One file: the path model, the slot pool and the two forwarding threads
 * follow one packet's life, and nothing else uses them.
 *
 * Needs CAP_NET_ADMIN (TUN devices). SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS G_GINT64_CONSTANT (1000000)
#define NS_PER_S G_GINT64_CONSTANT (1000000000)
#define READ_BATCH 64
#define DEFAULT_SLOTS 65536

typedef struct
{
  /* all times in nanoseconds, probabilities in [0, 1] */
  gint64 delay;
  gint64 jitter;
  double loss;
  gboolean gilbert;
  double ge_good_to_bad;
  double ge_bad_to_good;
  double ge_loss_bad;
  double ge_loss_good;
  double reorder;
  gint64 reorder_delay;
  double duplicate;
  double rate;        /* bytes per nanosecond; 0: unlimited */
  double burst;       /* token bucket depth, bytes */
  double queue_limit; /* bytes waiting for the rate limiter */
  guint slot_size;
  guint n_slots;
} LinkParams;

typedef struct
{
  guint64 in;
  guint64 out;
  guint64 lost;
  guint64 lost_burst;
  guint64 queue_drops;
  guint64 outage_drops;
  guint64 duplicated;
  guint64 reordered;
  guint64 no_slot;
  guint64 too_big;
  guint64 write_errors;
  guint64 rebind_drops;
  guint max_in_flight;
} LinkStats;

typedef struct
{
  const char *name;
  gboolean from_a; /* the direction from peer a (see NAT rebinding) */
  const LinkParams *params;
  int in_fd;
  int out_fd;
  int stop_fd;
  int timer_fd;
  int epoll_fd;
  gint64 timer_armed;
  guint64 rng[4];

  /* packets in flight: slots of the pool, a heap of them by delivery time */
  guint8 *data;
  guint32 *len;
  gint64 *due;
  guint64 *seq;
  guint32 *free_slots;
  guint n_free;
  guint32 *heap;
  guint heap_len;
  guint64 next_seq;

  /* path state */
  gboolean bad;     /* Gilbert-Elliott */
  gint64 last_due;  /* jitter does not reorder */
  gint64 tb_time;   /* token bucket: last departure */
  double tb_tokens; /* tokens left at tb_time */

  LinkStats stats;
  GThread *thread;
} Direction;

/* Outage: everything arriving or due before this instant is dropped. */
static _Atomic gint64 outage_until;
/* NAT rebinding (see the top): on once "rebind" came; the new ports that
 * peer a's packets left from (b's answers to them are let through). */
#define REBIND_SHIFT 10000
static _Atomic int rebound;
static _Atomic guint8 rebind_mapped[65536];
static _Atomic int stopping;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* --- random numbers: xoshiro256**, seeded with splitmix64 ---------------------- */

static guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static void
rng_seed (guint64 state[4], guint64 seed)
{
  for (guint i = 0; i < 4; i++)
    {
      guint64 z = (seed += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

      z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
      z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
      state[i] = z ^ (z >> 31);
    }
}

static guint64
rng_next (guint64 s[4])
{
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

/* A uniform double in [0, 1). */
static double
rng_uniform (guint64 s[4])
{
  return (double) (rng_next (s) >> 11) * 0x1.0p-53;
}

static gboolean
chance (Direction *d, double p)
{
  return p > 0 && rng_uniform (d->rng) < p;
}

/* --- the heap of packets in flight, earliest delivery (then arrival) first --- */

static gboolean
before (const Direction *d, guint32 x, guint32 y)
{
  return d->due[x] < d->due[y] || (d->due[x] == d->due[y] && d->seq[x] < d->seq[y]);
}

static void
heap_push (Direction *d, guint32 slot)
{
  guint i = d->heap_len++;

  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (!before (d, slot, d->heap[parent]))
        break;
      d->heap[i] = d->heap[parent];
      i = parent;
    }
  d->heap[i] = slot;
}

static guint32
heap_pop (Direction *d)
{
  guint32 top = d->heap[0];
  guint32 last = d->heap[--d->heap_len];
  guint i = 0;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= d->heap_len)
        break;
      if (child + 1 < d->heap_len && before (d, d->heap[child + 1], d->heap[child]))
        child++;
      if (!before (d, d->heap[child], last))
        break;
      d->heap[i] = d->heap[child];
      i = child;
    }
  if (d->heap_len > 0)
    d->heap[i] = last;
  return top;
}

static gboolean
in_outage (gint64 now)
{
  return now < atomic_load_explicit (&outage_until, memory_order_relaxed);
}

/* A packet read whole says as much in its IP header; one larger than the
 * slot was cut short by read(). */
static gboolean
packet_truncated (const guint8 *packet, gsize length)
{
  gsize total;

  if (length >= 20 && packet[0] >> 4 == 4)
    total = (gsize) packet[2] << 8 | packet[3];
  else if (length >= 40 && packet[0] >> 4 == 6)
    total = 40 + ((gsize) packet[4] << 8 | packet[5]);
  else
    return FALSE;
  return total > length;
}

/* --- one direction ------------------------------------------------------------ */

/* Departure time from the token bucket of a FIFO link for @size bytes
 * arriving at @now, or -1 when the queue in front of it is full. */
static gint64
rate_limit (Direction *d, gint64 now, guint size)
{
  const LinkParams *p = d->params;
  gint64 start;
  double tokens;

  if (p->rate <= 0)
    return now;
  /* Bytes still queued: what the link has not yet sent at its rate. */
  if (d->tb_time > now && (double) (d->tb_time - now) * p->rate + size > p->queue_limit)
    return -1;
  start = MAX (now, d->tb_time);
  tokens = MIN (p->burst, d->tb_tokens + (double) (start - d->tb_time) * p->rate);
  if (tokens >= size)
    {
      d->tb_tokens = tokens - size;
      d->tb_time = start;
    }
  else
    {
      d->tb_tokens = 0;
      d->tb_time = start + (gint64) ceil ((size - tokens) / p->rate);
    }
  return d->tb_time;
}

static gboolean
lost (Direction *d)
{
  const LinkParams *p = d->params;

  if (p->gilbert)
    {
      if (d->bad ? chance (d, p->ge_bad_to_good) : chance (d, p->ge_good_to_bad))
        d->bad = !d->bad;
      if (chance (d, d->bad ? p->ge_loss_bad : p->ge_loss_good))
        {
          d->stats.lost_burst++;
          return TRUE;
        }
    }
  if (chance (d, p->loss))
    {
      d->stats.lost++;
      return TRUE;
    }
  return FALSE;
}

static void
schedule (Direction *d, guint32 slot, gint64 due)
{
  d->due[slot] = due;
  d->seq[slot] = d->next_seq++;
  heap_push (d, slot);
  if (d->heap_len > d->stats.max_in_flight)
    d->stats.max_in_flight = d->heap_len;
}

static guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static void
put16 (guint8 *p, guint16 value)
{
  p[0] = (guint8) (value >> 8);
  p[1] = (guint8) value;
}

/* Ports from 1024 up, moved by REBIND_SHIFT around that range. */
static guint16
rebind_port (guint16 port, gboolean back)
{
  guint range = 65536 - 1024;
  guint offset = port - 1024u;

  offset = back ? (offset + range - REBIND_SHIFT) % range : (offset + REBIND_SHIFT) % range;
  return (guint16) (1024 + offset);
}

/* NAT rebinding (see the top) of the packet in @slot; FALSE: drop it. */
static gboolean
rebind (Direction *d, guint32 slot)
{
  guint8 *packet = d->data + (gsize) slot * d->params->slot_size;
  gsize length = d->len[slot];
  guint8 *udp;
  gsize header;

  if (!atomic_load_explicit (&rebound, memory_order_relaxed) || length < 20
      || (packet[0] >> 4) != 4 || packet[9] != 17)
    return TRUE;
  header = (gsize) (packet[0] & 0x0f) * 4;
  if (header < 20 || length < header + 8)
    return TRUE;
  udp = packet + header;
  if (d->from_a)
    {
      guint16 port = get16 (udp);

      if (port < 1024)
        return TRUE;
      port = rebind_port (port, FALSE);
      atomic_store_explicit (&rebind_mapped[port], 1, memory_order_relaxed);
      put16 (udp, port);
    }
  else
    {
      guint16 port = get16 (udp + 2);

      if (port < 1024)
        return TRUE;
      if (!atomic_load_explicit (&rebind_mapped[port], memory_order_relaxed))
        {
          d->stats.rebind_drops++;
          return FALSE;
        }
      put16 (udp + 2, rebind_port (port, TRUE));
    }
  /* No checksum (IPv4 allows it) rather than one to recompute. */
  put16 (udp + 6, 0);
  return TRUE;
}

/* Takes the packet just read into @slot through the path. */
static void
admit (Direction *d, guint32 slot, gint64 now)
{
  const LinkParams *p = d->params;
  gint64 departure;
  gint64 due;

  d->stats.in++;
  if (!rebind (d, slot))
    goto drop;
  if (in_outage (now))
    {
      d->stats.outage_drops++;
      goto drop;
    }
  departure = rate_limit (d, now, d->len[slot]);
  if (departure < 0)
    {
      d->stats.queue_drops++;
      goto drop;
    }
  /* Lost on the wire, after the bottleneck: it used its share of the rate. */
  if (lost (d))
    goto drop;

  due = departure + p->delay;
  if (p->jitter > 0)
    due += (gint64) ((rng_uniform (d->rng) * 2 - 1) * (double) p->jitter);
  due = MAX (due, d->last_due);
  d->last_due = due;
  if (chance (d, p->reorder))
    {
      due += p->reorder_delay;
      d->stats.reordered++;
    }
  schedule (d, slot, due);

  if (chance (d, p->duplicate) && d->n_free > 0)
    {
      guint32 copy = d->free_slots[--d->n_free];

      memcpy (d->data + (gsize) copy * p->slot_size, d->data + (gsize) slot * p->slot_size,
              d->len[slot]);
      d->len[copy] = d->len[slot];
      schedule (d, copy, due);
      d->stats.duplicated++;
    }
  return;

drop:
  d->free_slots[d->n_free++] = slot;
}

/* Writes every packet due by @now. */
static void
deliver (Direction *d, gint64 now)
{
  while (d->heap_len > 0 && d->due[d->heap[0]] <= now)
    {
      guint32 slot = heap_pop (d);

      if (in_outage (now))
        d->stats.outage_drops++;
      else if (write (d->out_fd, d->data + (gsize) slot * d->params->slot_size, d->len[slot]) < 0)
        d->stats.write_errors++;
      else
        d->stats.out++;
      d->free_slots[d->n_free++] = slot;
    }
}

/* Reads at most READ_BATCH packets; FALSE when the device had no more. */
static gboolean
read_batch (Direction *d)
{
  for (guint i = 0; i < READ_BATCH; i++)
    {
      guint8 scratch[64];
      guint32 slot;
      ssize_t n;

      if (d->n_free == 0)
        {
          /* The pool is full: read the packet away and count it. */
          n = read (d->in_fd, scratch, sizeof scratch);
          if (n < 0)
            return FALSE;
          d->stats.in++;
          d->stats.no_slot++;
          continue;
        }
      slot = d->free_slots[--d->n_free];
      n = read (d->in_fd, d->data + (gsize) slot * d->params->slot_size, d->params->slot_size);
      if (n <= 0)
        {
          d->free_slots[d->n_free++] = slot;
          return FALSE;
        }
      if (packet_truncated (d->data + (gsize) slot * d->params->slot_size, (gsize) n))
        {
          /* Larger than --mtu: dropped without a word, as by a link
           * whose ICMP messages never arrive. */
          d->free_slots[d->n_free++] = slot;
          d->stats.in++;
          d->stats.too_big++;
          continue;
        }
      d->len[slot] = (guint32) n;
      admit (d, slot, now_ns ());
    }
  return TRUE;
}

static void
arm_timer (Direction *d)
{
  gint64 next = d->heap_len > 0 ? d->due[d->heap[0]] : 0;
  struct itimerspec its = { 0 };

  if (next == d->timer_armed)
    return;
  its.it_value.tv_sec = next / NS_PER_S;
  its.it_value.tv_nsec = next % NS_PER_S;
  /* An all-zero value disarms; the earliest instant is 1 ns. */
  if (next == 0)
    its.it_value.tv_nsec = 0;
  timerfd_settime (d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
  d->timer_armed = next;
}

static gpointer
direction_run (gpointer user_data)
{
  Direction *d = user_data;
  struct epoll_event events[3];

  while (!atomic_load (&stopping))
    {
      int n;

      deliver (d, now_ns ());
      if (read_batch (d))
        continue;
      deliver (d, now_ns ());
      arm_timer (d);
      n = epoll_wait (d->epoll_fd, events, G_N_ELEMENTS (events), -1);
      for (int i = 0; i < n; i++)
        if (events[i].data.fd == d->timer_fd)
          {
            guint64 expirations;

            if (read (d->timer_fd, &expirations, sizeof expirations) < 0)
              {
                /* EAGAIN: re-armed since it fired */
              }
            d->timer_armed = 0;
          }
    }
  return NULL;
}

static gboolean
direction_init (Direction *d, const char *name, const LinkParams *params, int in_fd,
                int out_fd, int stop_fd, guint64 seed, GError **error)
{
  struct epoll_event ev = { .events = EPOLLIN };

  d->name = name;
  d->from_a = g_str_has_prefix (name, "a");
  d->params = params;
  d->in_fd = in_fd;
  d->out_fd = out_fd;
  d->stop_fd = stop_fd;
  rng_seed (d->rng, seed);
  d->data = g_malloc ((gsize) params->n_slots * params->slot_size);
  d->len = g_new (guint32, params->n_slots);
  d->due = g_new (gint64, params->n_slots);
  d->seq = g_new (guint64, params->n_slots);
  d->heap = g_new (guint32, params->n_slots);
  d->free_slots = g_new (guint32, params->n_slots);
  for (guint i = 0; i < params->n_slots; i++)
    d->free_slots[i] = params->n_slots - 1 - i;
  d->n_free = params->n_slots;
  d->tb_tokens = params->burst;

  d->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  d->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (d->timer_fd < 0 || d->epoll_fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "timerfd/epoll: %s",
                   g_strerror (errno));
      return FALSE;
    }
  ev.data.fd = in_fd;
  epoll_ctl (d->epoll_fd, EPOLL_CTL_ADD, in_fd, &ev);
  ev.data.fd = d->timer_fd;
  epoll_ctl (d->epoll_fd, EPOLL_CTL_ADD, d->timer_fd, &ev);
  ev.data.fd = stop_fd;
  epoll_ctl (d->epoll_fd, EPOLL_CTL_ADD, stop_fd, &ev);
  return TRUE;
}

static void
direction_clear (Direction *d)
{
  g_free (d->data);
  g_free (d->len);
  g_free (d->due);
  g_free (d->seq);
  g_free (d->heap);
  g_free (d->free_slots);
  if (d->timer_fd >= 0)
    close (d->timer_fd);
  if (d->epoll_fd >= 0)
    close (d->epoll_fd);
}

static void
direction_report (const Direction *d)
{
  const LinkStats *s = &d->stats;

  fprintf (stderr,
           "linkem: %s: in %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT
           " lost %" G_GUINT64_FORMAT " burst-lost %" G_GUINT64_FORMAT
           " queue-drops %" G_GUINT64_FORMAT " outage-drops %" G_GUINT64_FORMAT
           " duplicated %" G_GUINT64_FORMAT " reordered %" G_GUINT64_FORMAT
           " no-slot %" G_GUINT64_FORMAT " too-big %" G_GUINT64_FORMAT
           " write-errors %" G_GUINT64_FORMAT " rebind-drops %" G_GUINT64_FORMAT
           " max-in-flight %u\n",
           d->name, s->in, s->out, s->lost, s->lost_burst, s->queue_drops, s->outage_drops,
           s->duplicated, s->reordered, s->no_slot, s->too_big, s->write_errors,
           s->rebind_drops, s->max_in_flight);
}

/* --- control ------------------------------------------------------------------ */

static void
start_outage (double seconds, const char *why)
{
  gint64 until = seconds < 0 ? G_MAXINT64 : now_ns () + (gint64) (seconds * NS_PER_S);

  atomic_store (&outage_until, until);
  if (seconds < 0)
    fprintf (stderr, "linkem: link down (%s)\n", why);
  else
    fprintf (stderr, "linkem: outage of %g s (%s)\n", seconds, why);
}

static void
control_line (const char *line)
{
  double seconds;
  char *end;

  if (g_str_has_prefix (line, "outage "))
    {
      seconds = g_ascii_strtod (line + 7, &end);
      if (end != line + 7 && seconds >= 0)
        {
          start_outage (seconds, "control");
          return;
        }
    }
  else if (g_str_equal (line, "down"))
    {
      start_outage (-1, "control");
      return;
    }
  else if (g_str_equal (line, "rebind"))
    {
      atomic_store (&rebound, 1);
      fprintf (stderr, "linkem: peer a's NAT mapping changed (control)\n");
      return;
    }
  else if (g_str_equal (line, "up"))
    {
      atomic_store (&outage_until, 0);
      fprintf (stderr, "linkem: link up (control)\n");
      return;
    }
  fprintf (stderr, "linkem: unknown control line '%s'\n", line);
}

/* Reads the FIFO and runs each complete line. */
static void
control_read (int fd, GString *pending)
{
  char buf[256];
  ssize_t n;
  char *nl;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (pending, buf, n);
  while ((nl = memchr (pending->str, '\n', pending->len)) != NULL)
    {
      *nl = '\0';
      g_strstrip (pending->str);
      if (pending->str[0] != '\0')
        control_line (pending->str);
      g_string_erase (pending, 0, nl - pending->str + 1);
    }
  if (pending->len > 1024)
    g_string_truncate (pending, 0);
}

/* --- set-up ------------------------------------------------------------------- */

static int
tun_create (const char *name, GError **error)
{
  struct ifreq ifr = { 0 };
  int fd;

  fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "/dev/net/tun: %s",
                   g_strerror (errno));
      return -1;
    }
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "TUNSETIFF %s: %s", name,
                   g_strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

/* "100mbit", "1gbit", "800kbit", "12500000" (bits per second) → bytes/ns. */
static gboolean
parse_rate (const char *text, double *rate, GError **error)
{
  char *end;
  double value = g_ascii_strtod (text, &end);
  double unit = 1;

  if (end == text || value < 0)
    goto bad;
  if (g_ascii_strcasecmp (end, "kbit") == 0)
    unit = 1e3;
  else if (g_ascii_strcasecmp (end, "mbit") == 0)
    unit = 1e6;
  else if (g_ascii_strcasecmp (end, "gbit") == 0)
    unit = 1e9;
  else if (*end != '\0' && g_ascii_strcasecmp (end, "bit") != 0)
    goto bad;
  *rate = value * unit / 8 / 1e9;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "bad rate '%s' (e.g. 100mbit, 1gbit)", text);
  return FALSE;
}

/* "P_GB,P_BG[,LOSS_BAD[,LOSS_GOOD]]", percentages. */
static gboolean
parse_gilbert (const char *text, LinkParams *p, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  double v[4] = { 0, 0, 100, 0 };
  guint n = g_strv_length (parts);

  if (n < 2 || n > 4)
    goto bad;
  for (guint i = 0; i < n; i++)
    {
      char *end;

      v[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i] || *end != '\0' || v[i] < 0 || v[i] > 100)
        goto bad;
    }
  p->gilbert = TRUE;
  p->ge_good_to_bad = v[0] / 100;
  p->ge_bad_to_good = v[1] / 100;
  p->ge_loss_bad = v[2] / 100;
  p->ge_loss_good = v[3] / 100;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "bad --burst-loss '%s' (P_GOOD_TO_BAD,P_BAD_TO_GOOD[,LOSS_BAD[,LOSS_GOOD]], "
               "percentages)",
               text);
  return FALSE;
}

static gboolean
check_percent (const char *name, double value, GError **error)
{
  if (value >= 0 && value <= 100)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s must be 0–100", name);
  return FALSE;
}

int
main (int argc, char **argv)
{
  g_autofree char *dev_a = NULL;
  g_autofree char *dev_b = NULL;
  g_autofree char *rate = NULL;
  g_autofree char *burst_loss = NULL;
  g_autofree char *control = NULL;
  double delay_ms = 0, jitter_ms = 0, loss = 0, reorder = 0, reorder_ms = 5;
  double duplicate = 0, outage_at = -1, outage_for = 10;
  gint64 burst = 0, queue = 0, seed = 0;
  gint mtu = 1500, slots = DEFAULT_SLOTS;
  GOptionEntry entries[] = {
    { "dev-a", 0, 0, G_OPTION_ARG_STRING, &dev_a, "TUN device of side a (lab-a)", "NAME" },
    { "dev-b", 0, 0, G_OPTION_ARG_STRING, &dev_b, "TUN device of side b (lab-b)", "NAME" },
    { "delay", 0, 0, G_OPTION_ARG_DOUBLE, &delay_ms, "One-way delay, each way", "MS" },
    { "jitter", 0, 0, G_OPTION_ARG_DOUBLE, &jitter_ms, "Uniform jitter ± (keeps order)", "MS" },
    { "loss", 0, 0, G_OPTION_ARG_DOUBLE, &loss, "Random loss, each way", "PERCENT" },
    { "burst-loss", 0, 0, G_OPTION_ARG_STRING, &burst_loss,
      "Gilbert-Elliott loss (percentages; loss in the bad state defaults to 100)",
      "P_GB,P_BG[,LOSS_BAD[,LOSS_GOOD]]" },
    { "reorder", 0, 0, G_OPTION_ARG_DOUBLE, &reorder, "Packets held back (reordered)",
      "PERCENT" },
    { "reorder-delay", 0, 0, G_OPTION_ARG_DOUBLE, &reorder_ms,
      "How long a reordered packet is held back (5)", "MS" },
    { "duplicate", 0, 0, G_OPTION_ARG_DOUBLE, &duplicate, "Packets delivered twice",
      "PERCENT" },
    { "rate", 0, 0, G_OPTION_ARG_STRING, &rate, "Rate limit, each way (e.g. 100mbit)", "RATE" },
    { "burst", 0, 0, G_OPTION_ARG_INT64, &burst,
      "Token bucket depth (default: 2 ms at the rate, at least 2 packets)", "BYTES" },
    { "queue", 0, 0, G_OPTION_ARG_INT64, &queue,
      "Queue limit before the rate limiter (default: 50 ms at the rate, at least 64 KiB)",
      "BYTES" },
    { "outage-at", 0, 0, G_OPTION_ARG_DOUBLE, &outage_at, "Start an outage after S seconds",
      "S" },
    { "outage-for", 0, 0, G_OPTION_ARG_DOUBLE, &outage_for,
      "Length of an outage started by --outage-at or SIGUSR1 (10)", "S" },
    { "control", 0, 0, G_OPTION_ARG_FILENAME, &control,
      "FIFO of control lines: outage SECONDS, down, up, rebind", "FIFO" },
    { "mtu", 0, 0, G_OPTION_ARG_INT, &mtu, "Largest packet forwarded (1500)", "BYTES" },
    { "slots", 0, 0, G_OPTION_ARG_INT, &slots, "Packets in flight per direction (65536)",
      "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default: from the clock)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) pending = g_string_new (NULL);
  LinkParams params = { 0 };
  Direction dirs[2] = { 0 };
  int fd_a = -1, fd_b = -1, stop_fd, sig_fd, outage_fd = -1, control_fd = -1, epoll_fd;
  struct epoll_event ev = { .events = EPOLLIN };
  sigset_t mask;
  int status = 0;

  context = g_option_context_new ("— a link emulator between two TUN devices");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)
      || !check_percent ("--loss", loss, &error)
      || !check_percent ("--reorder", reorder, &error)
      || !check_percent ("--duplicate", duplicate, &error)
      || (rate != NULL && !parse_rate (rate, &params.rate, &error))
      || (burst_loss != NULL && !parse_gilbert (burst_loss, &params, &error)))
    {
      fprintf (stderr, "linkem: %s\n", error->message);
      return 2;
    }
  if (delay_ms < 0 || jitter_ms < 0 || reorder_ms < 0 || mtu < 576 || mtu > 65535
      || slots < 16 || burst < 0 || queue < 0)
    {
      fprintf (stderr, "linkem: a negative or out-of-range value\n");
      return 2;
    }

  params.delay = (gint64) (delay_ms * NS_PER_MS);
  params.jitter = (gint64) (jitter_ms * NS_PER_MS);
  params.loss = loss / 100;
  params.reorder = reorder / 100;
  params.reorder_delay = (gint64) (reorder_ms * NS_PER_MS);
  params.duplicate = duplicate / 100;
  params.slot_size = (guint) mtu;
  params.n_slots = (guint) slots;
  params.burst = burst > 0 ? (double) burst : MAX (2.0 * mtu, params.rate * 2 * NS_PER_MS);
  params.queue_limit = queue > 0 ? (double) queue : MAX (65536.0, params.rate * 50 * NS_PER_MS);
  if (seed == 0)
    seed = g_get_real_time ();

  /* Signals arrive through a signalfd; the forwarding threads never see them. */
  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGUSR1);
  sigaddset (&mask, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &mask, NULL);
  sig_fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (sig_fd < 0 || stop_fd < 0 || epoll_fd < 0)
    {
      fprintf (stderr, "linkem: %s\n", g_strerror (errno));
      return 1;
    }

  fd_a = tun_create (dev_a != NULL ? dev_a : "lab-a", &error);
  if (fd_a >= 0)
    fd_b = tun_create (dev_b != NULL ? dev_b : "lab-b", &error);
  if (fd_b < 0)
    {
      fprintf (stderr, "linkem: %s\n", error->message);
      /* No TUN here (no module, no permission): 77, a skip for meson. */
      return g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_PERM)
                     || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES)
                     || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                     || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NODEV)
                 ? 77
                 : 1;
    }
  if (control != NULL)
    {
      if (mkfifo (control, 0600) < 0 && errno != EEXIST)
        {
          fprintf (stderr, "linkem: %s: %s\n", control, g_strerror (errno));
          return 1;
        }
      /* Read-write, so that the last writer closing it is no end of file. */
      control_fd = open (control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (control_fd < 0)
        {
          fprintf (stderr, "linkem: %s: %s\n", control, g_strerror (errno));
          return 1;
        }
    }
  if (outage_at >= 0)
    {
      struct itimerspec its = { 0 };

      outage_fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
      its.it_value.tv_sec = (time_t) outage_at;
      its.it_value.tv_nsec = (long) ((outage_at - (double) its.it_value.tv_sec) * NS_PER_S) + 1;
      timerfd_settime (outage_fd, 0, &its, NULL);
    }

  /* Wake-ups to the nanosecond, not the default 50 µs of slack. */
  prctl (PR_SET_TIMERSLACK, 1UL);
  if (!direction_init (&dirs[0], "a->b", &params, fd_a, fd_b, stop_fd, (guint64) seed, &error)
      || !direction_init (&dirs[1], "b->a", &params, fd_b, fd_a, stop_fd, (guint64) seed + 1,
                          &error))
    {
      fprintf (stderr, "linkem: %s\n", error->message);
      return 1;
    }
  dirs[0].thread = g_thread_new ("linkem a->b", direction_run, &dirs[0]);
  dirs[1].thread = g_thread_new ("linkem b->a", direction_run, &dirs[1]);

  ev.data.fd = sig_fd;
  epoll_ctl (epoll_fd, EPOLL_CTL_ADD, sig_fd, &ev);
  if (control_fd >= 0)
    {
      ev.data.fd = control_fd;
      epoll_ctl (epoll_fd, EPOLL_CTL_ADD, control_fd, &ev);
    }
  if (outage_fd >= 0)
    {
      ev.data.fd = outage_fd;
      epoll_ctl (epoll_fd, EPOLL_CTL_ADD, outage_fd, &ev);
    }
  printf ("ready\n");
  fflush (stdout);

  while (!atomic_load (&stopping))
    {
      struct epoll_event events[4];
      int n = epoll_wait (epoll_fd, events, G_N_ELEMENTS (events), -1);

      for (int i = 0; i < n; i++)
        {
          int fd = events[i].data.fd;

          if (fd == sig_fd)
            {
              struct signalfd_siginfo si;

              while (read (sig_fd, &si, sizeof si) == sizeof si)
                {
                  if (si.ssi_signo == SIGUSR1)
                    start_outage (outage_for, "SIGUSR1");
                  else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
                    atomic_store (&stopping, 1);
                }
            }
          else if (fd == control_fd)
            control_read (control_fd, pending);
          else if (fd == outage_fd)
            {
              guint64 expirations;

              if (read (outage_fd, &expirations, sizeof expirations) == sizeof expirations)
                start_outage (outage_for, "--outage-at");
            }
        }
      if (n < 0 && errno != EINTR)
        {
          fprintf (stderr, "linkem: epoll: %s\n", g_strerror (errno));
          atomic_store (&stopping, 1);
          status = 1;
        }
    }

  /* Wake both threads up for good. */
  {
    guint64 one = 1;

    if (write (stop_fd, &one, sizeof one) < 0)
      status = 1;
  }
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_thread_join (dirs[i].thread);
      direction_report (&dirs[i]);
      direction_clear (&dirs[i]);
    }
  close (fd_a);
  close (fd_b);
  if (control_fd >= 0)
    close (control_fd);
  if (control != NULL)
    unlink (control);
  return status;
}
