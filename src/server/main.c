/* main.c: distributed-backup-server, a FILE.io-compatible signaling store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "backup-server.h"

static gboolean
on_quit_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* One key per line; blank lines and lines starting with '#' are skipped. */
static gboolean
read_api_key_file (const char *path,
                   GPtrArray *keys,
                   GError **error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return FALSE;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (*line == '\0' || *line == '#')
        continue;
      if (!backup_server_api_key_is_valid (line))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "%s line %u: an API key is 1 to 256 printable ASCII characters "
                       "without spaces", path, i + 1);
          return FALSE;
        }
      g_ptr_array_add (keys, g_strdup (line));
    }
  return TRUE;
}

static gboolean
parse_size (const char *text,
            guint64 *size)
{
  guint64 value = 0;
  guint64 unit = 1;
  char *end = NULL;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;

  errno = 0;
  value = g_ascii_strtoull (text, &end, 10);
  if (errno != 0)
    return FALSE;

  if (g_ascii_strcasecmp (end, "") == 0)
    unit = 1;
  else if (g_ascii_strcasecmp (end, "k") == 0 || g_ascii_strcasecmp (end, "KiB") == 0)
    unit = 1024;
  else if (g_ascii_strcasecmp (end, "m") == 0 || g_ascii_strcasecmp (end, "MiB") == 0)
    unit = 1024 * 1024;
  else if (g_ascii_strcasecmp (end, "g") == 0 || g_ascii_strcasecmp (end, "GiB") == 0)
    unit = 1024 * 1024 * 1024;
  else
    return FALSE;

  if (value == 0 || value > G_MAXUINT64 / unit)
    return FALSE;
  *size = value * unit;
  return TRUE;
}

int
main (int argc,
      char **argv)
{
  g_autofree char *listen_address = NULL;
  int port = BACKUP_SERVER_DEFAULT_PORT;
  g_auto (GStrv) api_keys = NULL;
  g_autofree char *api_key_file = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *max_upload_size = NULL;
  int max_files_per_key = BACKUP_SERVER_DEFAULT_MAX_FILES_PER_KEY;
  int rate_limit = 0;
  g_autofree char *rate_window = NULL;
  g_autofree char *max_expiry = NULL;
  g_autofree char *max_memory = NULL;
  gboolean redirect_downloads = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen_address,
      "Address to listen on: 127.0.0.1 (default), ::1, 0.0.0.0 or another IP literal", "ADDR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port (default 8080; 0 picks a free one)", "N" },
    { "api-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &api_keys,
      "Accept this API key (repeatable); without keys the server is open", "KEY" },
    { "api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &api_key_file,
      "Read API keys from FILE, one a line (# starts a comment)", "FILE" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve HTTPS with this PEM certificate",
      "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key of --tls-cert", "FILE" },
    { "max-upload-size", 0, 0, G_OPTION_ARG_STRING, &max_upload_size,
      "Largest request body (default 1M; K, M, G suffixes)", "BYTES" },
    { "max-files-per-key", 0, 0, G_OPTION_ARG_INT, &max_files_per_key,
      "Files one API key may store at once (default 1000)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &max_memory,
      "Memory for stored files and uploads in progress, all API keys together; past it, "
      "uploads get 507 (default 64M; K, M, G suffixes)", "BYTES" },
    { "rate-limit", 0, 0, G_OPTION_ARG_INT, &rate_limit,
      "Requests per API key within --rate-window (default 0: no limit)", "N" },
    { "rate-window", 0, 0, G_OPTION_ARG_STRING, &rate_window,
      "The sliding window of --rate-limit (default 1m; s, m, h suffixes)", "DURATION" },
    { "max-expiry", 0, 0, G_OPTION_ARG_STRING, &max_expiry,
      "Longest time a file is kept (default 1d; s, m, h, d, w suffixes)", "DURATION" },
    { "redirect-downloads", 0, 0, G_OPTION_ARG_NONE, &redirect_downloads,
      "Answer GET /KEY with a redirect to /download/KEY", NULL },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose, "Log every request on stderr", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (BackupServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  BackupServerOptions options;
  guint sigint_id, sigterm_id;

  setlocale (LC_ALL, "");
  /* stdout carries only the "listening on" line that scripts read. */
  g_log_writer_default_set_use_stderr (TRUE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "A FILE.io-compatible store for the signaling files of "
                                "Distributed Backup peers. Files are kept in memory only.");
  g_option_context_set_description (
    context,
    "HTTP API (FILE.io's): POST / uploads a multipart \"file\" (with expires, maxDownloads,\n"
    "autoDelete), GET /?search=PATTERN&sort=created:asc lists, GET /KEY downloads,\n"
    "DELETE /KEY deletes. Authorization: \"Bearer KEY\" or the bare key; each API key\n"
    "has its own files, and without keys the server is open to anyone who can reach it.\n"
    "Errors are JSON: 401 (key), 404 (unknown or gone), 413 (body too large),\n"
    "429 with Retry-After (rate limit), 507 (too many files for the key, or --max-memory\n"
    "used up).\n"
    "Keys given with --api-key are visible to other local users; prefer --api-key-file.\n"
    "\n"
    "The first line on stdout is \"listening on URL\"; SIGINT or SIGTERM stops the server.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("distributed-backup-server: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("distributed-backup-server: unexpected argument “%s”\n", argv[1]);
      return 2;
    }

  backup_server_options_init (&options);

  if (listen_address != NULL)
    options.listen_address = listen_address;
  if (port < 0 || port > 65535)
    {
      g_printerr ("distributed-backup-server: --port must be 0 to 65535\n");
      return 2;
    }
  options.port = (guint) port;

  for (guint i = 0; api_keys != NULL && api_keys[i] != NULL; i++)
    {
      if (!backup_server_api_key_is_valid (api_keys[i]))
        {
          g_printerr ("distributed-backup-server: an API key is 1 to 256 printable ASCII "
                      "characters without spaces\n");
          return 2;
        }
      g_ptr_array_add (keys, g_strdup (api_keys[i]));
    }
  if (api_key_file != NULL && !read_api_key_file (api_key_file, keys, &error))
    {
      g_printerr ("distributed-backup-server: %s\n", error->message);
      return 2;
    }
  if (api_key_file != NULL && keys->len == 0)
    {
      g_printerr ("distributed-backup-server: %s holds no API key\n", api_key_file);
      return 2;
    }
  g_ptr_array_add (keys, NULL);
  options.api_keys = (const char *const *) keys->pdata;

  options.tls_cert_file = tls_cert;
  options.tls_key_file = tls_key;

  if (max_upload_size != NULL && !parse_size (max_upload_size, &options.max_upload_size))
    {
      g_printerr ("distributed-backup-server: --max-upload-size: “%s” is not a size\n",
                  max_upload_size);
      return 2;
    }
  if (max_memory != NULL && !parse_size (max_memory, &options.max_memory))
    {
      g_printerr ("distributed-backup-server: --max-memory: “%s” is not a size\n", max_memory);
      return 2;
    }
  if (max_files_per_key < 1)
    {
      g_printerr ("distributed-backup-server: --max-files-per-key must be at least 1\n");
      return 2;
    }
  options.max_files_per_key = (guint) max_files_per_key;
  if (rate_limit < 0)
    {
      g_printerr ("distributed-backup-server: --rate-limit must be 0 or more\n");
      return 2;
    }
  options.rate_limit = (guint) rate_limit;
  if (rate_window != NULL)
    {
      gint64 seconds = 0;

      if (!backup_server_parse_duration (rate_window, &seconds, &error))
        {
          g_printerr ("distributed-backup-server: --rate-window: %s\n", error->message);
          return 2;
        }
      if (seconds < 1 || seconds > 24 * 3600)
        {
          g_printerr ("distributed-backup-server: --rate-window must be from 1s to 24h\n");
          return 2;
        }
      options.rate_window_ms = (guint) (seconds * 1000);
    }
  if (max_expiry != NULL && !backup_server_parse_duration (max_expiry, &options.max_expiry, &error))
    {
      g_printerr ("distributed-backup-server: --max-expiry: %s\n", error->message);
      return 2;
    }
  options.redirect_downloads = redirect_downloads;

  if (verbose)
    g_log_set_debug_enabled (TRUE);

  server = backup_server_new (&options);
  if (!backup_server_listen (server, &error))
    {
      g_printerr ("distributed-backup-server: %s\n", error->message);
      return 1;
    }

  g_print ("listening on %s\n", backup_server_get_uri (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  g_debug ("stopping");
  return 0;
}
