/* backup-resume.c: what a sender keeps to resume an interrupted transfer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <sys/stat.h>

#include "backup-resume.h"
#include "backup-zip-random.h"

#define GROUP "Resume"
#define SUFFIX ".ticket"

char *
backup_resume_default_directory (void)
{
  return g_build_filename (g_get_user_state_dir (), "distributed-backup", "resume", NULL);
}

void
backup_resume_ticket_clear (BackupResumeTicket *ticket)
{
  gnutls_memset (ticket, 0, sizeof *ticket);
}

char *
backup_resume_key (const char *session_id, GFile *source, const char *archive_name)
{
  g_autofree char *path = g_file_get_path (source);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) (session_id != NULL ? session_id : ""), -1);
  g_checksum_update (sum, (const guchar *) "", 1);
  g_checksum_update (sum, (const guchar *) (path != NULL ? path : ""), -1);
  g_checksum_update (sum, (const guchar *) "", 1);
  if (archive_name != NULL)
    g_checksum_update (sum, (const guchar *) archive_name, -1);
  else
    g_checksum_update (sum, (const guchar *) "\1", 1);
  return g_strndup (g_checksum_get_string (sum), 32);
}

gboolean
backup_resume_file_fingerprint (GFile *file, guint8 out[BACKUP_RESUME_FINGERPRINT_LEN],
                                GError **error)
{
  g_autofree char *path = g_file_get_path (file);
  struct stat st;
  gint64 fields[9];
  gsize length = BACKUP_RESUME_FINGERPRINT_LEN;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  if (path == NULL || stat (path, &st) != 0)
    {
      int errsv = path != NULL ? errno : ENOENT;
      g_autofree char *shown = g_file_get_parse_name (file);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", shown,
                   g_strerror (errsv));
      return FALSE;
    }
  fields[0] = (gint64) st.st_dev;
  fields[1] = (gint64) st.st_ino;
  fields[2] = (gint64) st.st_size;
  fields[3] = st.st_mtim.tv_sec;
  fields[4] = st.st_mtim.tv_nsec;
  fields[5] = st.st_ctim.tv_sec;
  fields[6] = st.st_ctim.tv_nsec;
  fields[7] = st.st_mode;
  fields[8] = 0x66696c65; /* a file, never equal to a folder's */
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      guint64 be = GUINT64_TO_BE ((guint64) fields[i]);

      g_checksum_update (sum, (const guchar *) &be, sizeof be);
    }
  g_checksum_get_digest (sum, out, &length);
  return TRUE;
}

static gboolean
hex_to_bytes (const char *hex, guint8 *out, gsize length)
{
  if (hex == NULL || strlen (hex) != length * 2)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

static char *
bytes_to_hex (const guint8 *data, gsize length)
{
  GString *out = g_string_sized_new (length * 2);

  for (gsize i = 0; i < length; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

/* Loads the ticket in @path if it has @fingerprint and is young enough. */
static gboolean
load_ticket (const char *path,
             const guint8 fingerprint[BACKUP_RESUME_FINGERPRINT_LEN],
             gint64 now,
             GTimeSpan window,
             BackupResumeTicket *ticket)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *kept_fingerprint = NULL;
  g_autofree char *wanted = bytes_to_hex (fingerprint, BACKUP_RESUME_FINGERPRINT_LEN);
  gboolean ok;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  id = g_key_file_get_string (file, GROUP, "id", NULL);
  secret = g_key_file_get_string (file, GROUP, "secret", NULL);
  kept_fingerprint = g_key_file_get_string (file, GROUP, "fingerprint", NULL);
  ticket->created = g_key_file_get_int64 (file, GROUP, "created", NULL);

  ok = kept_fingerprint != NULL && g_str_equal (kept_fingerprint, wanted)
       && hex_to_bytes (id, ticket->id, sizeof ticket->id)
       && hex_to_bytes (secret, ticket->secret, sizeof ticket->secret) && ticket->created > 0
       && ticket->created <= now && (now - ticket->created) * G_USEC_PER_SEC < window;
  if (secret != NULL)
    gnutls_memset (secret, 0, strlen (secret));
  if (!ok)
    backup_resume_ticket_clear (ticket);
  return ok;
}

/* Tickets older than @window (by their file's time) go. */
static void
remove_old_tickets (const char *directory, gint64 now, GTimeSpan window)
{
  g_autoptr (GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      struct stat st;

      if (!g_str_has_suffix (name, SUFFIX))
        continue;
      path = g_build_filename (directory, name, NULL);
      if (lstat (path, &st) == 0 && S_ISREG (st.st_mode)
          && (now - st.st_mtim.tv_sec) * G_USEC_PER_SEC >= window)
        (void) g_unlink (path);
    }
}

static char *
ticket_path (const char *directory, const char *key)
{
  g_autofree char *name = g_strconcat (key, SUFFIX, NULL);

  return g_build_filename (directory, name, NULL);
}

void
backup_resume_ticket_get (const char *directory,
                          const char *key,
                          const guint8 fingerprint[BACKUP_RESUME_FINGERPRINT_LEN],
                          gint64 now,
                          GTimeSpan window,
                          BackupResumeTicket *ticket)
{
  g_autofree char *path = NULL;
  g_autoptr (GKeyFile) file = NULL;
  g_autofree char *id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;

  g_return_if_fail (directory != NULL && key != NULL && fingerprint != NULL && ticket != NULL);

  remove_old_tickets (directory, now, window);
  path = ticket_path (directory, key);
  if (load_ticket (path, fingerprint, now, window, ticket))
    {
      g_debug ("resuming with the ticket kept in %s", path);
      return;
    }

  backup_zip_random_system (ticket->id, sizeof ticket->id);
  backup_zip_random_system (ticket->secret, sizeof ticket->secret);
  ticket->created = now;

  file = g_key_file_new ();
  id = bytes_to_hex (ticket->id, sizeof ticket->id);
  secret = bytes_to_hex (ticket->secret, sizeof ticket->secret);
  fp = bytes_to_hex (fingerprint, BACKUP_RESUME_FINGERPRINT_LEN);
  g_key_file_set_string (file, GROUP, "id", id);
  g_key_file_set_string (file, GROUP, "secret", secret);
  g_key_file_set_string (file, GROUP, "fingerprint", fp);
  g_key_file_set_int64 (file, GROUP, "created", now);
  data = g_key_file_to_data (file, &length, NULL);
  gnutls_memset (secret, 0, strlen (secret));

  if (g_mkdir_with_parents (directory, 0700) != 0
      || !g_file_set_contents_full (path, data, (gssize) length,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("cannot keep the resume ticket in %s: %s; this transfer cannot resume",
             directory, error != NULL ? error->message : g_strerror (errno));
  gnutls_memset (data, 0, length);
}

void
backup_resume_ticket_forget (const char *directory, const char *key)
{
  g_autofree char *path = NULL;

  g_return_if_fail (directory != NULL && key != NULL);

  path = ticket_path (directory, key);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_debug ("cannot remove %s: %s", path, g_strerror (errno));
}
