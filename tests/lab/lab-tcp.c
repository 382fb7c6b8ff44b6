/* lab-tcp.c: one TCP transfer of a known byte stream, to measure and check a
 * path of the WAN lab (tests/lab/lab.sh).
 *
 *   lab-tcp --listen ADDR:PORT [--bytes N] [--cc NAME]
 *   lab-tcp --connect ADDR:PORT --bytes N [--cc NAME]
 *
 * The sender writes N bytes of xoshiro256** output (seed 1), then shuts its
 * side down and waits until the receiver closes. The receiver accepts one
 * connection, compares every byte with the same stream (no hash to cost CPU
 * at a few Gbit/s) and closes once it has read to the end. Each prints one
 * JSON line: {"role":…, "bytes":…, "seconds":…, "mbit_s":…, "cc":…, "ok":…}
 * (the receiver's seconds run from the accept to the end of the stream; the
 * sender's from the connect to the receiver's close). Exit status 0 only when
 * the bytes matched (and numbered N when --bytes was given to the receiver).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (256 * 1024)
#define CONNECT_TRIES 100

typedef struct
{
  guint64 s[4];
  guint8 block[BLOCK];
} Stream;

static guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

static void
stream_init (Stream *st)
{
  guint64 seed = 1;

  for (guint i = 0; i < 4; i++)
    {
      guint64 z = (seed += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

      z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
      z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
      st->s[i] = z ^ (z >> 31);
    }
}

/* Fills the block with the next BLOCK bytes of the stream. */
static void
stream_next (Stream *st)
{
  guint64 *s = st->s;

  for (gsize i = 0; i < BLOCK; i += 8)
    {
      guint64 v = rotl (s[1] * 5, 7) * 9;
      guint64 t = s[1] << 17;

      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl (s[3], 45);
      memcpy (st->block + i, &v, 8);
    }
}

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gboolean
parse_address (const char *text, struct sockaddr_in *sin)
{
  g_autofree char *host = g_strdup (text);
  char *colon = strrchr (host, ':');
  char *end;
  guint64 port;

  if (colon == NULL)
    return FALSE;
  *colon = '\0';
  port = g_ascii_strtoull (colon + 1, &end, 10);
  memset (sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_port = htons ((guint16) port);
  return *end == '\0' && port > 0 && port < 65536 && inet_pton (AF_INET, host, &sin->sin_addr) == 1;
}

static void
set_cc (int fd, const char *cc)
{
  if (cc != NULL && setsockopt (fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen (cc)) < 0)
    {
      fprintf (stderr, "lab-tcp: congestion control %s: %s\n", cc, g_strerror (errno));
      _exit (77);
    }
}

/* One JSON line; the smoothed RTT and the retransmissions are the kernel's
 * (TCP_INFO), meaningful on the sending side. */
static void
report (const char *role, guint64 bytes, double seconds, int fd, gboolean ok)
{
  char cc[32] = "";
  socklen_t len = sizeof cc - 1;
  struct tcp_info info = { 0 };
  socklen_t info_len = sizeof info;

  getsockopt (fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
  getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &info_len);
  printf ("{\"role\":\"%s\",\"bytes\":%" G_GUINT64_FORMAT ",\"seconds\":%.3f,"
          "\"mbit_s\":%.1f,\"cc\":\"%s\",\"rtt_ms\":%.1f,\"retrans\":%u,\"ok\":%s}\n",
          role, bytes, seconds, seconds > 0 ? bytes * 8 / seconds / 1e6 : 0.0, cc,
          info.tcpi_rtt / 1000.0, info.tcpi_total_retrans, ok ? "true" : "false");
  fflush (stdout);
}

static int
run_receiver (const struct sockaddr_in *sin, gint64 expect, const char *cc)
{
  g_autofree Stream *st = g_new (Stream, 1);
  g_autofree guint8 *buf = g_malloc (BLOCK);
  int one = 1;
  int lfd, fd;
  gsize at = BLOCK;
  guint64 total = 0;
  gboolean ok = TRUE;
  double start;
  ssize_t n;

  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind (lfd, (const struct sockaddr *) sin, sizeof *sin) < 0 || listen (lfd, 1) < 0)
    {
      fprintf (stderr, "lab-tcp: listen: %s\n", g_strerror (errno));
      return 1;
    }
  fprintf (stderr, "lab-tcp: listening\n");
  fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    {
      fprintf (stderr, "lab-tcp: accept: %s\n", g_strerror (errno));
      return 1;
    }
  set_cc (fd, cc);
  start = now_s ();
  stream_init (st);
  while ((n = read (fd, buf, BLOCK)) > 0)
    {
      gsize done = 0;

      while (done < (gsize) n)
        {
          gsize k;

          if (at == BLOCK)
            {
              stream_next (st);
              at = 0;
            }
          k = MIN ((gsize) n - done, BLOCK - at);
          if (ok && memcmp (buf + done, st->block + at, k) != 0)
            {
              fprintf (stderr, "lab-tcp: the bytes differ near offset %" G_GUINT64_FORMAT "\n",
                       total + done);
              ok = FALSE;
            }
          at += k;
          done += k;
        }
      total += (guint64) n;
    }
  if (n < 0)
    {
      fprintf (stderr, "lab-tcp: read: %s\n", g_strerror (errno));
      ok = FALSE;
    }
  if (expect >= 0 && total != (guint64) expect)
    {
      fprintf (stderr, "lab-tcp: received %" G_GUINT64_FORMAT " bytes, expected %" G_GINT64_FORMAT
               "\n", total, expect);
      ok = FALSE;
    }
  report ("receiver", total, now_s () - start, fd, ok);
  close (fd);
  close (lfd);
  return ok ? 0 : 1;
}

static int
run_sender (const struct sockaddr_in *sin, gint64 bytes, const char *cc)
{
  g_autofree Stream *st = g_new (Stream, 1);
  guint64 left = (guint64) bytes;
  double start;
  char byte;
  int fd = -1;

  /* The receiver may still be starting: retry for a few seconds. */
  for (guint i = 0; i < CONNECT_TRIES; i++)
    {
      fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      set_cc (fd, cc);
      if (connect (fd, (const struct sockaddr *) sin, sizeof *sin) == 0)
        break;
      close (fd);
      fd = -1;
      if (errno != ECONNREFUSED)
        break;
      g_usleep (50000);
    }
  if (fd < 0)
    {
      fprintf (stderr, "lab-tcp: connect: %s\n", g_strerror (errno));
      return 1;
    }
  start = now_s ();
  stream_init (st);
  while (left > 0)
    {
      gsize k = (gsize) MIN (left, BLOCK);
      gsize done = 0;

      stream_next (st);
      while (done < k)
        {
          ssize_t n = write (fd, st->block + done, k - done);

          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              fprintf (stderr, "lab-tcp: write: %s\n", g_strerror (errno));
              return 1;
            }
          done += (gsize) n;
        }
      left -= k;
    }
  shutdown (fd, SHUT_WR);
  /* The receiver closes once it has read everything. */
  if (read (fd, &byte, 1) < 0)
    {
      fprintf (stderr, "lab-tcp: waiting for the receiver: %s\n", g_strerror (errno));
      return 1;
    }
  report ("sender", (guint64) bytes, now_s () - start, fd, TRUE);
  close (fd);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen_at = NULL;
  g_autofree char *connect_to = NULL;
  g_autofree char *cc = NULL;
  gint64 bytes = -1;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen_at, "Receive on this address", "ADDR:PORT" },
    { "connect", 0, 0, G_OPTION_ARG_STRING, &connect_to, "Send to this address", "ADDR:PORT" },
    { "bytes", 0, 0, G_OPTION_ARG_INT64, &bytes, "Bytes to send (to expect)", "N" },
    { "cc", 0, 0, G_OPTION_ARG_STRING, &cc, "TCP congestion control (cubic, bbr…)", "NAME" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— one checked TCP transfer");
  g_autoptr (GError) error = NULL;
  struct sockaddr_in sin;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "lab-tcp: %s\n", error->message);
      return 2;
    }
  if ((listen_at == NULL) == (connect_to == NULL)
      || !parse_address (listen_at != NULL ? listen_at : connect_to, &sin)
      || (connect_to != NULL && bytes < 0))
    {
      fprintf (stderr, "lab-tcp: give --listen ADDR:PORT or --connect ADDR:PORT --bytes N\n");
      return 2;
    }
  if (listen_at != NULL)
    return run_receiver (&sin, bytes, cc);
  return run_sender (&sin, bytes, cc);
}
