/* backup-cli.c: the headless front end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-cli-backup.h"
#include "backup-cli-device.h"
#include "backup-cli-prune.h"
#include "backup-cli-restore.h"
#include "backup-cli.h"
#include "backup-error.h"
#include "backup-options.h"
#include "backup-secrets.h"
#include "backup-vault.h"

#define PROGRAM "distributed-backup"
#define EXIT_USAGE 2
#define EXIT_FAILURE_RUNTIME 1

/* Option names that GApplication handles itself. */
static gboolean
is_gapplication_option (const char *arg, gboolean *takes_value)
{
  *takes_value = FALSE;
  if (strcmp (arg, "--gapplication-app-id") == 0)
    {
      *takes_value = TRUE;
      return TRUE;
    }
  return g_str_has_prefix (arg, "--gapplication-") || strcmp (arg, "--help-gapplication") == 0;
}

/* "scheme://…", as a file manager passes a file it opens with us. */
static gboolean
is_uri (const char *arg)
{
  g_autofree char *scheme = g_uri_parse_scheme (arg);

  return scheme != NULL && g_str_has_prefix (arg + strlen (scheme), "://");
}

gboolean
backup_cli_wants_cli (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      gboolean takes_value;

      /* "distributed-backup FILE…" opens the desktop application with that
       * file or folder to send, as a file manager's "Open With" does: with a
       * path, or with a URI (the desktop file's %U); the window refuses a
       * file that is not on this computer. */
      if (argv[i][0] != '-'
          && (g_file_test (argv[i], G_FILE_TEST_EXISTS) || is_uri (argv[i])))
        continue;
      /* The desktop application started at login, without a window. */
      if (strcmp (argv[i], "--background") == 0)
        continue;
      if (!is_gapplication_option (argv[i], &takes_value))
        return TRUE;
      if (takes_value)
        i++;
    }
  return FALSE;
}

static void
print_error (const char *message)
{
  fprintf (stderr, "%s: %s\n", PROGRAM, message);
}

/* Reading passwords on a terminal, without echo. The terminal settings are
 * restored if a signal ends the program meanwhile. */

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_changed;

static void
restore_tty_on_signal (int signum)
{
  if (tty_changed)
    tcsetattr (tty_fd, TCSAFLUSH, &tty_saved);
  signal (signum, SIG_DFL);
  raise (signum);
}

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };

/* Reads one line (without its newline) of at most BACKUP_VAULT_MAX_PASSWORD
 * bytes into @buffer. Returns the length, -1 at end of input, -2 when too
 * long (the rest of the line is consumed). */
static gssize
read_line (int fd, char *buffer)
{
  gsize len = 0;
  gboolean too_long = FALSE;
  gboolean any = FALSE;

  for (;;)
    {
      char c;
      gssize n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (!any)
            return -1;
          break;
        }
      any = TRUE;
      if (c == '\n')
        break;
      if (len < BACKUP_VAULT_MAX_PASSWORD + 1)
        buffer[len++] = c;
      else
        too_long = TRUE;
    }

  if (len > 0 && buffer[len - 1] == '\r')
    len--;
  if (len > BACKUP_VAULT_MAX_PASSWORD)
    too_long = TRUE;
  buffer[MIN (len, BACKUP_VAULT_MAX_PASSWORD)] = '\0';
  if (too_long)
    {
      explicit_bzero (buffer, BACKUP_VAULT_MAX_PASSWORD + 2);
      return -2;
    }
  return len;
}

static char *
prompt_once (int fd, const char *prompt, GError **error)
{
  char buffer[BACKUP_VAULT_MAX_PASSWORD + 2];
  struct sigaction action, saved_actions[G_N_ELEMENTS (tty_signals)];
  struct termios quiet;
  gssize len;
  int write_errno = 0;
  char *password = NULL;

  memset (&action, 0, sizeof action);
  action.sa_handler = restore_tty_on_signal;
  sigemptyset (&action.sa_mask);
  tty_fd = fd;
  for (gsize i = 0; i < G_N_ELEMENTS (tty_signals); i++)
    sigaction (tty_signals[i], &action, &saved_actions[i]);

  if (tcgetattr (fd, &tty_saved) == 0)
    {
      quiet = tty_saved;
      quiet.c_lflag &= ~ECHO;
      quiet.c_lflag |= ECHONL;
      if (tcsetattr (fd, TCSAFLUSH, &quiet) == 0)
        tty_changed = TRUE;
    }

  /* The prompt comes once echo is off, so that nothing typed after it shows. */
  if (write (fd, prompt, strlen (prompt)) < 0)
    {
      write_errno = errno;
      len = -3;
    }
  else
    len = read_line (fd, buffer);

  if (tty_changed)
    {
      tcsetattr (fd, TCSAFLUSH, &tty_saved);
      tty_changed = FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (tty_signals); i++)
    sigaction (tty_signals[i], &saved_actions[i], NULL);

  if (len == -3)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot write to the terminal: %s"),
                 g_strerror (write_errno));
  else if (len == -1)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                 _("No password entered"));
  else if (len == -2)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                 _("The password is longer than %d bytes"), BACKUP_VAULT_MAX_PASSWORD);
  else
    password = g_strndup (buffer, len);

  explicit_bzero (buffer, sizeof buffer);
  return password;
}

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

static char *
prompt_password (int fd, const char *prompt, const char *confirm_prompt, GError **error)
{
  char *first = prompt_once (fd, prompt, error);
  char *second;

  if (first == NULL)
    return NULL;
  second = prompt_once (fd, confirm_prompt, error);
  if (second == NULL)
    {
      free_secret (first);
      return NULL;
    }
  if (strcmp (first, second) != 0)
    {
      free_secret (first);
      free_secret (second);
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("The passwords do not match"));
      return NULL;
    }
  free_secret (second);
  return first;
}

static char *
read_password_from_stdin (guint number, GError **error)
{
  char buffer[BACKUP_VAULT_MAX_PASSWORD + 2];
  gssize len = read_line (STDIN_FILENO, buffer);
  char *password;

  if (len == -1)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("Password %u is missing: give -%u, or one line per missing password on "
                     "standard input"),
                   number, number);
      return NULL;
    }
  if (len == -2)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("Password %u is longer than %d bytes"), number, BACKUP_VAULT_MAX_PASSWORD);
      return NULL;
    }
  password = g_strndup (buffer, len);
  explicit_bzero (buffer, sizeof buffer);
  return password;
}

/* Fills in the passwords not given with -1/-2: from the terminal when
 * standard input is one (typed twice when @confirm), otherwise one line
 * each from standard input. */
gboolean
backup_cli_complete_passwords (BackupOptions *options, gboolean confirm, GError **error)
{
  char **fields[] = { &options->password1, &options->password2 };
  const char *prompts[] = { N_("Inner zip password: "), N_("Outer zip password: ") };
  const char *confirm_prompts[] = { N_("Repeat the inner zip password: "),
                                    N_("Repeat the outer zip password: ") };
  int fd = -1;

  if (options->password1 != NULL && options->password2 != NULL)
    return TRUE;

  if (isatty (STDIN_FILENO))
    {
      fd = open ("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, _("Cannot open the terminal: %s"),
                       g_strerror (errno));
          return FALSE;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (*fields[i] != NULL)
        continue;
      if (fd >= 0)
        *fields[i] = confirm ? prompt_password (fd, _(prompts[i]), _(confirm_prompts[i]), error)
                             : prompt_once (fd, _(prompts[i]), error);
      else
        *fields[i] = read_password_from_stdin (i + 1, error);
      if (*fields[i] == NULL)
        {
          if (fd >= 0)
            close (fd);
          return FALSE;
        }
    }

  if (fd >= 0)
    close (fd);
  return TRUE;
}

/* How long the keyring may take to keep or forget the S3 keys. */
#define S3_KEYS_TIMEOUT_MS 10000

/* --s3-save-keys, --s3-forget-keys: the secret the options validated. */
static int
run_s3_keys_mode (BackupOptions *options)
{
  g_autoptr (GError) error = NULL;
  BackupSecretsBackend backend = BACKUP_SECRETS_BACKEND_KEYRING;
  gboolean done;

  if (options->s3_save_keys)
    done = backup_secret_store_sync (BACKUP_SECRET_S3_KEYS, options->s3_keys_line,
                                     S3_KEYS_TIMEOUT_MS, &backend, NULL, &error);
  else
    done = backup_secret_clear_sync (BACKUP_SECRET_S3_KEYS, S3_KEYS_TIMEOUT_MS, &backend, NULL,
                                     &error);
  if (!done)
    {
      fprintf (stderr, "distributed-backup: %s\n", error->message);
      return 1;
    }
  if (!options->quiet && options->s3_save_keys && backend == BACKUP_SECRETS_BACKEND_KEYRING)
    fprintf (stderr, "%s\n", _("The S3 keys are kept in the keyring"));
  else if (!options->quiet && options->s3_save_keys)
    {
      g_autofree char *path = backup_secret_get_fallback_path (BACKUP_SECRET_S3_KEYS);
      g_autofree char *shown = g_filename_display_name (path);

      fprintf (stderr, _("The S3 keys are kept in %s, which only you can read\n"), shown);
    }
  else if (!options->quiet)
    fprintf (stderr, "%s\n", _("The kept S3 keys are forgotten"));
  return 0;
}

static int
run_encryption_mode (BackupOptions *options)
{
  g_autoptr (GError) error = NULL;

  if (!backup_cli_complete_passwords (options, TRUE, &error))
    {
      print_error (error->message);
      return error->code == BACKUP_ERROR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE_RUNTIME;
    }

  if (!backup_vault_write (options->passfile, options->password1, options->password2,
                           options->vault_key, &error))
    {
      print_error (error->message);
      return EXIT_FAILURE_RUNTIME;
    }

  return 0;
}

int
backup_cli_main (int argc, char **argv)
{
  g_autoptr (BackupOptions) options = NULL;
  g_autoptr (GError) error = NULL;

  if (!backup_options_parse (argc, argv, &options, &error))
    {
      g_autofree char *message = g_strdup_printf (_("%s (see “%s --help”)"), error->message,
                                                  PROGRAM);

      print_error (message);
      return EXIT_USAGE;
    }

  if (options->help)
    {
      backup_options_print_help (stdout);
      return fflush (stdout) == 0 ? 0 : EXIT_FAILURE_RUNTIME;
    }
  if (options->version)
    {
      printf ("%s %s\n", PROGRAM, PACKAGE_VERSION);
      return fflush (stdout) == 0 ? 0 : EXIT_FAILURE_RUNTIME;
    }

  /* Bad input, including a password file that is missing, unreadable or
   * not one, is a usage error: nothing was attempted. */
  if (!backup_options_validate (options, &error))
    {
      print_error (error->message);
      return EXIT_USAGE;
    }

  for (guint i = 0; i < options->warnings->len; i++)
    print_error (g_ptr_array_index (options->warnings, i));

  if (options->invite || options->pair != NULL)
    return backup_cli_run_pairing (options);
  if (options->invite_nearby || options->pair_nearby != NULL)
    return backup_cli_run_nearby_pairing (options);
  if (options->devices)
    return backup_cli_list_devices (options);
  if (options->unpair != NULL)
    return backup_cli_unpair (options);
  if (options->nearby)
    return backup_cli_list_nearby (options);
  if (options->s3_save_keys || options->s3_forget_keys)
    return run_s3_keys_mode (options);
  if (options->prune)
    return backup_cli_run_prune (options);
  if (options->restore != NULL || options->list != NULL || options->verify != NULL)
    return backup_cli_run_restore (options);
  if (options->show_passwords)
    return backup_cli_show_passwords (options);
  if (options->encrypt)
    return run_encryption_mode (options);

  return backup_cli_run_backup (options);
}
