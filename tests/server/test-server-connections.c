/* test-server-connections.c: the real server releases every closed connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs distributed-backup-server (DISTRIBUTED_BACKUP_SERVER) with at most 64
 * file descriptors, then thousands of sequential libsoup clients: each has a
 * session of its own, sends three requests (answered 200, 401 and 404) on
 * one kept-alive connection, and closes it by dropping the session. The
 * server must go on answering, end with as many descriptors as it started
 * with, and leave no socket in CLOSE-WAIT. Only 127.0.0.1 is contacted.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <libsoup/soup.h>

#define API_KEY   "connections-test-key"
#define FD_LIMIT  64
#define N_CLIENTS 2000

typedef struct
{
  GSubprocess *process;
  char *base;
  guint port;
} Server;

/* In the server process, before exec: few descriptors, and an end with
 * the test even when an assertion aborts it. */
static void
server_child_setup (gpointer user_data)
{
  struct rlimit limit = { FD_LIMIT, FD_LIMIT };

  setrlimit (RLIMIT_NOFILE, &limit);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
server_start (Server *server)
{
  const char *path = g_getenv ("DISTRIBUTED_BACKUP_SERVER");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  const char *port;

  g_assert_nonnull (path);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, server_child_setup, NULL, NULL);
  server->process = g_subprocess_launcher_spawn (launcher, &error, path, "--port", "0",
                                                 "--api-key", API_KEY, NULL);
  g_assert_no_error (error);

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  server->base = g_strdup (line + strlen ("listening on "));
  port = server->base + strlen ("http://127.0.0.1:");
  server->port = (guint) g_ascii_strtoull (port, NULL, 10);
  g_assert_cmpuint (server->port, >, 0);
}

static void
server_stop (Server *server)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_send_signal (server->process, SIGTERM);
  g_assert_true (g_subprocess_wait (server->process, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
  g_clear_object (&server->process);
  g_clear_pointer (&server->base, g_free);
}

static guint
server_fds (Server *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd",
                                           g_subprocess_get_identifier (server->process));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint count = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    count++;
  return count;
}

/* Sockets of the server's port that carry a connection (not listening,
 * not in TIME-WAIT), and how many of them are in CLOSE-WAIT. */
static guint
server_sockets (Server *server,
                guint *close_wait)
{
  const char *tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
  guint count = 0;

  *close_wait = 0;
  for (gsize t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *contents = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (tables[t], &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          char local[64], remote[64], state[8];
          const char *colon;

          if (sscanf (lines[i], "%*s %63s %63s %7s", local, remote, state) != 3)
            continue;
          colon = strrchr (local, ':');
          if (colon == NULL || g_ascii_strtoull (colon + 1, NULL, 16) != server->port)
            continue;
          if (strcmp (state, "0A") == 0 || strcmp (state, "06") == 0) /* LISTEN, TIME-WAIT */
            continue;
          count++;
          if (strcmp (state, "08") == 0) /* CLOSE-WAIT */
            (*close_wait)++;
        }
    }
  return count;
}

/* Waits until the server has no connection left, or 10 s; returns its
 * descriptor count. */
static guint
server_settle (Server *server,
               guint *close_wait)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (server_sockets (server, close_wait) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  server_sockets (server, close_wait);
  return server_fds (server);
}

static SoupSession *
new_session (void)
{
  g_autoptr (GProxyResolver) no_proxy = g_simple_proxy_resolver_new (NULL, NULL);

  /* Never through a proxy of the environment: the server is on loopback. */
  return soup_session_new_with_options ("proxy-resolver", no_proxy, "timeout", 20, NULL);
}

/* Sends GET @path and returns its status; *@connection_id tells which
 * connection carried it. */
static guint
get (SoupSession *session,
     const char *base,
     const char *path,
     const char *authorization,
     guint64 *connection_id)
{
  g_autofree char *uri = g_strconcat (base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (msg);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *connection_id = soup_message_get_connection_id (msg);
  return soup_message_get_status (msg);
}

static void
test_keep_alive_clients (void)
{
  Server server = { 0 };
  guint baseline, fds, close_wait;

  server_start (&server);
  {
    g_autoptr (SoupSession) session = new_session ();
    guint64 id;

    /* Descriptors are counted once the server answers: it is fully started. */
    g_assert_cmpuint (get (session, server.base, "", "Bearer " API_KEY, &id), ==, 200);
  }
  baseline = server_settle (&server, &close_wait);
  g_test_message ("server: %u descriptors at start, limit %d", baseline, FD_LIMIT);

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      g_autoptr (SoupSession) session = new_session ();
      guint64 first, second, third;

      g_assert_cmpuint (get (session, server.base, "", "Bearer " API_KEY, &first), ==, 200);
      g_assert_cmpuint (get (session, server.base, "", "Bearer wrong-key", &second), ==, 401);
      g_assert_cmpuint (get (session, server.base, "NoSuchKey", API_KEY, &third), ==, 404);
      /* One kept-alive connection for the three. */
      g_assert_cmpuint (first, ==, second);
      g_assert_cmpuint (second, ==, third);
    }

  fds = server_settle (&server, &close_wait);
  g_test_message ("after %d clients: %u descriptors, %u sockets in CLOSE-WAIT", N_CLIENTS, fds,
                  close_wait);
  g_assert_cmpuint (close_wait, ==, 0);
  g_assert_cmpuint (fds, <=, baseline);
  {
    g_autoptr (SoupSession) session = new_session ();
    guint64 id;

    g_assert_cmpuint (get (session, server.base, "", "Bearer " API_KEY, &id), ==, 200);
  }
  server_stop (&server);
}

int
main (int argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-connections/keep-alive-clients", test_keep_alive_clients);

  return g_test_run ();
}
