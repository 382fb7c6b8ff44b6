/* backup-cli-restore.c: restoring, listing and verifying on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-cli-backup.h"
#include "backup-cli-restore.h"
#include "backup-cli-s3.h"
#include "backup-cli-signals.h"
#include "backup-cli.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore.h"

#define PROGRAM "distributed-backup"
#define EXIT_USAGE 2
#define EXIT_FAILURE_RUNTIME 1

typedef struct _Run Run;
/* A blocking part of a run, for a worker thread. */
typedef gboolean (*StepFunc) (Run *run, GCancellable *cancellable, GError **error);

struct _Run
{
  BackupOptions *options;
  const char *archive; /* the file read */
  char *label;         /* the name shown for it */
  GMainLoop *loop;
  GCancellable *cancellable;
  BackupRestoreSummary summary;
  GError *error;
  gboolean done;
  BackupCliSignals signals;
  gboolean progress_shown;
  gint64 started_us;
  gboolean output_failed; /* writing the listing failed (worker thread) */

  /* s3://BUCKET/KEY */
  BackupCliS3Object *s3;
  gboolean s3_list;
  gboolean s3_peek;
  StepFunc step;
};

static void
print_error (const char *message)
{
  g_autofree char *shown = backup_display_name (message, -1);

  fprintf (stderr, "%s: %s\n", PROGRAM, shown);
}

/* ------------------------------------------------------------------------ */
/* Listing */

static void
format_mode (guint32 mode, char out[11])
{
  const char *rwx = "rwxrwxrwx";

  switch (mode & S_IFMT)
    {
    case S_IFDIR:
      out[0] = 'd';
      break;
    case S_IFLNK:
      out[0] = 'l';
      break;
    case S_IFREG:
      out[0] = '-';
      break;
    default:
      out[0] = '?';
      break;
    }
  for (int i = 0; i < 9; i++)
    out[i + 1] = (mode & (0400 >> i)) ? rwx[i] : '-';
  if (mode & S_ISUID)
    out[3] = (mode & 0100) ? 's' : 'S';
  if (mode & S_ISGID)
    out[6] = (mode & 0010) ? 's' : 'S';
  if (mode & S_ISVTX)
    out[9] = (mode & 0001) ? 't' : 'T';
  out[10] = '\0';
}

/* In the restore's worker thread: one line per entry on standard output. */
static void
list_entry_cb (const BackupRestoreEntry *entry, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GString) line = g_string_new (NULL);
  g_autofree char *path = backup_display_name (entry->path, -1);
  char mode[11];

  format_mode (entry->mode, mode);
  g_string_append_printf (line, "%s %12" G_GUINT64_FORMAT " ", mode, entry->size);
  if (entry->mtime != G_MININT64)
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (entry->mtime);
      g_autofree char *text = time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S")
                                           : NULL;

      g_string_append (line, text != NULL ? text : "-                  ");
    }
  else
    g_string_append (line, "-                  ");
  g_string_append_printf (line, "  %s", path);
  if (entry->link_target != NULL)
    {
      g_autofree char *target = backup_display_name (entry->link_target, -1);

      g_string_append_printf (line, " -> %s", target);
    }
  g_string_append_c (line, '\n');
  if (fputs (line->str, stdout) == EOF)
    run->output_failed = TRUE;
}

/* ------------------------------------------------------------------------ */
/* Progress */

static void
draw_progress (Run *run, guint64 done, guint64 total, gboolean final)
{
  double elapsed = (g_get_monotonic_time () - run->started_us) / 1e6;
  double speed = elapsed > 0.2 ? done / elapsed : 0;
  g_autofree char *name = NULL;
  g_autofree char *done_text = g_format_size (done);
  g_autofree char *total_text = g_format_size (total);
  g_autofree char *speed_text = g_format_size ((guint64) speed);
  g_autoptr (GString) line = g_string_new ("\r");
  int percent = total > 0 ? (int) (done * 100 / total) : 100;

  name = backup_display_name (run->label, -1);
  g_string_append_printf (line, "%s  ", name);
  g_string_append_printf (line, _("%3d%%  %s of %s"), MIN (percent, 100), done_text, total_text);
  if (speed > 0 && total > done && !final)
    {
      g_autofree char *left = backup_cli_format_duration ((gint64) ((total - done) / speed));

      g_string_append_printf (line, _("  %s/s  %s left"), speed_text, left);
    }
  else
    g_string_append_printf (line, _("  %s/s"), speed_text);
  g_string_append (line, "\033[K");
  if (final)
    g_string_append_c (line, '\n');
  fputs (line->str, stderr);
  fflush (stderr);
  run->progress_shown = !final;
}

static void
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  Run *run = user_data;

  if (!run->done)
    draw_progress (run, done, total, FALSE);
}

/* ------------------------------------------------------------------------ */
/* The run */

static void
restore_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  backup_restore_run_finish (result, &run->summary, &run->error);
  run->done = TRUE;
  g_main_loop_quit (run->loop);
}

static void
clear_progress (Run *run)
{
  if (run->progress_shown)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
      run->progress_shown = FALSE;
    }
}

/* Restores, lists or verifies run->archive, waiting on the loop; the
 * result is in run->summary and run->error. */
static void
run_restore (Run *run, BackupRestoreMode mode)
{
  BackupOptions *options = run->options;
  BackupRestoreParams params = { 0 };

  params.mode = mode;
  params.archive = run->archive;
  params.destination = options->dstdir;
  params.password1 = options->password1;
  params.password2 = options->password2;
  params.force = options->force;
  if (mode == BACKUP_RESTORE_LIST)
    {
      params.entry_func = list_entry_cb;
      params.entry_data = run;
    }
  else if (options->show_progress)
    {
      params.progress_func = progress_cb;
      params.progress_data = run;
    }

  run->done = FALSE;
  run->started_us = g_get_monotonic_time ();
  backup_restore_run_async (&params, run->cancellable, restore_done_cb, run);
  g_main_loop_run (run->loop);
  clear_progress (run);
}

static char *
format_count (guint64 n)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
}

static void
print_summary (Run *run, BackupRestoreMode mode)
{
  BackupRestoreSummary *s = &run->summary;
  g_autofree char *files = format_count (s->n_files);
  g_autofree char *folders = format_count (s->n_folders);
  g_autofree char *links = format_count (s->n_links);
  g_autofree char *size = g_format_size (s->n_bytes);
  g_autofree char *name = backup_display_name (run->label, -1);

  if (mode == BACKUP_RESTORE_EXTRACT)
    {
      g_autofree char *dir = backup_display_name (run->options->dstdir, -1);

      if (s->kind == BACKUP_RESTORE_KIND_FILE)
        fprintf (stderr, _("Restored %s (a plain file, %s) into %s\n"), name, size, dir);
      else
        fprintf (stderr, _("Restored %s files (%s), %s folders and %s symbolic links into %s\n"),
                 files, size, folders, links, dir);
    }
  else if (mode == BACKUP_RESTORE_VERIFY)
    {
      if (s->kind == BACKUP_RESTORE_KIND_FILE && run->s3 != NULL
          && backup_cli_s3_object_sha256_checked (run->s3))
        printf (_("%s: a plain file of %s, downloaded whole; its SHA-256 matches the one the S3 "
                  "service keeps\n"),
                name, size);
      else if (s->kind == BACKUP_RESTORE_KIND_FILE)
        printf (_("%s: a plain file of %s, read whole; it carries no checksum of its own\n"),
                name, size);
      else
        printf (_("%s: OK, %s files (%s), %s folders and %s symbolic links, every checksum "
                  "matches\n"),
                name, files, size, folders, links);
    }
}

/* The exit status of a run that ended with run->error, or none. */
static int
finish (Run *run, BackupRestoreMode mode)
{
  int status;

  if (run->signals.received != 0)
    status = backup_cli_exit_status_for_signal (run->signals.received);
  else if (g_error_matches (run->error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_autofree char *message = g_strdup_printf (_("%s (use --force to replace it)"),
                                                  run->error->message);

      print_error (message);
      status = EXIT_FAILURE_RUNTIME;
    }
  else if (run->error != NULL)
    {
      print_error (run->error->message);
      status = EXIT_FAILURE_RUNTIME;
    }
  else
    {
      if (!run->options->quiet)
        print_summary (run, mode);
      status = 0;
    }

  if ((fflush (stdout) != 0 || run->output_failed) && status == 0)
    {
      print_error (_("Cannot write the listing to standard output"));
      status = EXIT_FAILURE_RUNTIME;
    }
  g_clear_error (&run->error);
  return status;
}

/* The passwords missing for a zip, asked for; -1 when all is well, else
 * the exit status. */
static int
complete_passwords (Run *run, gboolean is_zip)
{
  BackupOptions *options = run->options;
  g_autoptr (GError) error = NULL;

  if (!is_zip || options->passfile != NULL
      || backup_cli_complete_passwords (options, FALSE, &error))
    return -1;
  print_error (error->message);
  return error->code == BACKUP_ERROR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
}

static int
run_from_file (Run *run, BackupRestoreMode mode)
{
  g_autoptr (GError) error = NULL;
  gboolean is_zip;
  int status;

  /* Passwords are asked for only when there is a zip to open. */
  is_zip = backup_restore_is_zip (run->archive, &error);
  if (error != NULL)
    {
      print_error (error->message);
      return EXIT_FAILURE_RUNTIME;
    }
  status = complete_passwords (run, is_zip);
  if (status >= 0)
    return status;

  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run->signals, run->cancellable);
  run_restore (run, mode);
  backup_cli_signals_unwatch (&run->signals);
  return finish (run, mode);
}

/* ------------------------------------------------------------------------ */
/* A version in S3 */

static void
step_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Run *run = task_data;
  GError *error = NULL;

  if (run->step (run, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
step_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  g_task_propagate_boolean (G_TASK (result), &run->error);
  run->done = TRUE;
  g_main_loop_quit (run->loop);
}

/* Runs @step in a worker thread, waiting on the loop (which draws the
 * progress and sees the signals); FALSE with run->error when it failed. */
static gboolean
run_step (Run *run, StepFunc step)
{
  g_autoptr (GTask) task = NULL;

  if (g_cancellable_set_error_if_cancelled (run->cancellable, &run->error))
    return FALSE;
  task = g_task_new (NULL, run->cancellable, step_done_cb, run);
  g_task_set_source_tag (task, run_step);
  g_task_set_task_data (task, run, NULL);
  run->step = step;
  run->done = FALSE;
  g_task_run_in_thread (task, step_worker);
  g_main_loop_run (run->loop);
  return run->error == NULL;
}

static gboolean
locate_step (Run *run, GCancellable *cancellable, GError **error)
{
  return backup_cli_s3_object_locate (run->s3, run->options->s3_client, run->s3_list,
                                      run->s3_peek, cancellable, error);
}

static gboolean
download_step (Run *run, GCancellable *cancellable, GError **error)
{
  return backup_cli_s3_object_download (run->s3, run->options->s3_client, cancellable, error);
}

static gboolean
download_progress_cb (gpointer user_data)
{
  Run *run = user_data;

  draw_progress (run, backup_cli_s3_object_get_received (run->s3),
                 backup_cli_s3_object_get_size (run->s3), FALSE);
  return G_SOURCE_CONTINUE;
}

/* "NAME  2024-05-01 10:00:00         1234  from HOST  s3://BUCKET/KEY" */
static int
print_versions (Run *run)
{
  GPtrArray *versions = backup_cli_s3_object_get_versions (run->s3);
  const char *bucket = backup_cli_s3_object_get_bucket (run->s3);

  for (guint i = 0; i < versions->len; i++)
    {
      const BackupCliS3Version *version = g_ptr_array_index (versions, i);
      g_autoptr (GDateTime) time
          = g_date_time_new_from_unix_local (version->time / G_USEC_PER_SEC);
      g_autofree char *when = time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S")
                                           : g_strdup ("?");
      g_autofree char *name = backup_display_name (version->name, -1);
      g_autofree char *origin = backup_display_name (version->origin, -1);
      g_autofree char *key = backup_display_name (version->key, -1);

      if (printf ("%s  %s  %12" G_GUINT64_FORMAT "  from %s  s3://%s/%s\n", name, when,
                  version->size, origin, bucket, key)
          < 0)
        run->output_failed = TRUE;
    }
  if (!run->options->quiet)
    {
      g_autofree char *where = backup_cli_s3_object_describe_prefix (run->s3);
      g_autofree char *shown = backup_display_name (where, -1);

      fprintf (stderr,
               g_dngettext (GETTEXT_PACKAGE, "%u version under %s\n", "%u versions under %s\n",
                            versions->len),
               versions->len, shown);
    }
  if (fflush (stdout) != 0 || run->output_failed)
    {
      print_error (_("Cannot write the listing to standard output"));
      return EXIT_FAILURE_RUNTIME;
    }
  return 0;
}

/* Finds the object (or lists the prefix), asks for the passwords a zip
 * needs, downloads it and runs the restore on the download; a restore
 * verifies the download whole first, so that a damaged object writes
 * nothing.  The download is removed whatever happens, a signal included. */
static int
run_from_s3 (Run *run, BackupRestoreMode mode)
{
  BackupOptions *options = run->options;
  g_autoptr (BackupCliS3Object) s3 = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  s3 = backup_cli_s3_object_new (run->archive, &error);
  if (s3 == NULL)
    {
      print_error (error->message);
      return EXIT_FAILURE_RUNTIME;
    }
  run->s3 = s3;
  run->s3_list = mode == BACKUP_RESTORE_LIST;
  /* Whether passwords are needed shows in the first bytes: they are asked
   * for before anything is downloaded. */
  run->s3_peek = options->password1 == NULL || options->password2 == NULL;

  signal (SIGPIPE, SIG_IGN);
  backup_cli_signals_watch (&run->signals, run->cancellable);

  if (!run_step (run, locate_step) || run->signals.received != 0)
    status = finish (run, mode);
  else if (backup_cli_s3_object_is_listing (s3))
    status = print_versions (run);
  else
    {
      const char *name = backup_cli_s3_object_get_name (s3);
      guint source = 0;

      status = complete_passwords (run, backup_cli_s3_object_is_zip (s3));
      if (status < 0)
        {
          g_free (run->label);
          run->label = g_strdup_printf (_("%s (downloading)"), name);
          run->started_us = g_get_monotonic_time ();
          if (options->show_progress)
            source = g_timeout_add (100, download_progress_cb, run);
          if (!run_step (run, download_step))
            status = finish (run, mode);
          g_clear_handle_id (&source, g_source_remove);
          clear_progress (run);
        }
      if (status < 0)
        {
          run->archive = backup_cli_s3_object_get_download (s3);
          if (mode == BACKUP_RESTORE_EXTRACT)
            {
              g_free (run->label);
              run->label = g_strdup_printf (_("%s (checking)"), name);
              run_restore (run, BACKUP_RESTORE_VERIFY);
              if (run->error != NULL && run->signals.received == 0)
                {
                  g_autoptr (GError) cause = g_steal_pointer (&run->error);

                  g_set_error (&run->error, cause->domain, cause->code,
                               _("%s; nothing was restored"), cause->message);
                }
              if (run->error != NULL || run->signals.received != 0)
                status = finish (run, mode);
            }
        }
      if (status < 0)
        {
          g_free (run->label);
          run->label = g_strdup (name);
          run_restore (run, mode);
          status = finish (run, mode);
        }
    }

  backup_cli_s3_object_remove_download (s3);
  backup_cli_signals_unwatch (&run->signals);
  run->s3 = NULL;
  return status;
}

int
backup_cli_run_restore (BackupOptions *options)
{
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  BackupRestoreMode mode;
  Run run = { 0 };
  int status;

  g_return_val_if_fail (options != NULL, EXIT_FAILURE_RUNTIME);

  if (options->restore != NULL)
    {
      mode = BACKUP_RESTORE_EXTRACT;
      run.archive = options->restore;
    }
  else if (options->list != NULL)
    {
      mode = BACKUP_RESTORE_LIST;
      run.archive = options->list;
    }
  else
    {
      mode = BACKUP_RESTORE_VERIFY;
      run.archive = options->verify;
    }

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  run.options = options;
  run.loop = loop;
  run.cancellable = cancellable;
  run.label = g_path_get_basename (run.archive);

  if (options->s3_client != NULL)
    status = run_from_s3 (&run, mode);
  else
    status = run_from_file (&run, mode);
  g_free (run.label);
  return status;
}

/* ------------------------------------------------------------------------ */
/* Showing the passwords */

/* Asks on the terminal; TRUE when the answer is yes. */
static gboolean
confirm_on_terminal (const char *question, GError **error)
{
  char answer[16];
  gsize len = 0;
  int fd = open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  gboolean yes;

  if (fd < 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot open the terminal: %s"),
                   g_strerror (errno));
      return FALSE;
    }
  if (write (fd, question, strlen (question)) < 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot write to the terminal: %s"),
                   g_strerror (errno));
      close (fd);
      return FALSE;
    }
  for (;;)
    {
      char c;
      gssize n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      if (len < sizeof answer - 1)
        answer[len++] = c;
    }
  close (fd);
  answer[len] = '\0';
  g_strstrip (answer);
  /* The answers of the user's language, and plain y/yes always. */
  yes = g_ascii_strcasecmp (answer, "y") == 0 || g_ascii_strcasecmp (answer, "yes") == 0
        || (answer[0] != '\0' && g_strcmp0 (answer, C_("answer", "y")) == 0)
        || (answer[0] != '\0' && g_strcmp0 (answer, C_("answer", "yes")) == 0);
  return yes;
}

int
backup_cli_show_passwords (BackupOptions *options)
{
  g_autofree char *file = NULL;

  g_return_val_if_fail (options != NULL, EXIT_FAILURE_RUNTIME);

  if (!options->yes)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *question = NULL;

      if (!isatty (STDIN_FILENO))
        {
          print_error (_("--show-passwords asks before it prints the passwords; without a "
                         "terminal, give --yes"));
          return EXIT_USAGE;
        }
      file = backup_display_name (options->passfile, -1);
      question = g_strdup_printf (_("Print both passwords of “%s” on the screen? Anyone who "
                                    "can see them can open your backups. [y/N] "),
                                  file);
      if (!confirm_on_terminal (question, &error))
        {
          if (error != NULL)
            {
              print_error (error->message);
              return EXIT_FAILURE_RUNTIME;
            }
          print_error (_("Nothing was printed"));
          return EXIT_FAILURE_RUNTIME;
        }
    }

  /* The passwords exactly as they are, one per line after their label, so
   * that they can be typed again (or given with -1 and -2) to restore. */
  printf (_("Password 1 (inner zip): %s\n"), options->password1);
  printf (_("Password 2 (outer zip): %s\n"), options->password2);
  if (fflush (stdout) != 0)
    {
      print_error (_("Cannot write the passwords to standard output"));
      return EXIT_FAILURE_RUNTIME;
    }
  return 0;
}
