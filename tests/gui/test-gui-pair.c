/* test-gui-pair.c: opening an invitation link in the desktop application
 * pairs this computer with the one that made it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The inviter is the command line (--invite, a real process of its own,
 * with a config folder of its own), on a folder signaling store and
 * 127.0.0.1. The application is opened with the link as a desktop would
 * (the scheme handler), answers the "Pair With …?" question, and must end
 * with a toast naming the inviter and the inviter in its paired devices,
 * with the fingerprint the question showed, while the inviter reports this
 * device. A link that is not one says why; a pairing cancelled while it
 * waits ends quietly, with nothing stored.
 */
#include "config.h"

#include "gui-test-util.h"

#include <string.h>

#include "backup-application.h"
#include "backup-device.h"
#include "backup-resources.h"
#include "backup-vault.h"
#include "backup-window-private.h"
#include "rtc-certificate.h"

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static BackupApplication *app;
static char *tmpdir;
static char *signaling;

static gboolean
give_up_cb (gpointer user_data)
{
  g_error ("%s did not happen within 90 s", (const char *) user_data);
  return G_SOURCE_REMOVE;
}

#define WAIT_UNTIL(cond, what)                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    guint give_up_ = g_timeout_add_seconds (90, give_up_cb, (gpointer) (what));                    \
    while (!(cond))                                                                                \
      g_main_context_iteration (NULL, TRUE);                                                       \
    g_source_remove (give_up_);                                                                    \
  }                                                                                                \
  G_STMT_END

/* The message dialog on screen whose heading is @heading, or NULL. */
static AdwMessageDialog *
find_dialog (const char *heading)
{
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data)
        && g_strcmp0 (adw_message_dialog_get_heading (l->data), heading) == 0)
      return l->data;
  return NULL;
}

static BackupWindow *
the_window (void)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  g_assert_true (BACKUP_IS_WINDOW (window));
  return BACKUP_WINDOW (window);
}

static void
open_link (const char *link)
{
  g_autoptr (GFile) file = g_file_new_for_uri (link);
  GFile *files[] = { file };

  g_assert_true (g_file_has_uri_scheme (file, "distributed-backup"));
  g_application_open (G_APPLICATION (app), files, 1, "");
}

static char *
paired_file (const char *config_home)
{
  return g_build_filename (config_home, "distributed-backup", "device", "paired.conf", NULL);
}

static gboolean
toast_is (const char *text)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  return window != NULL
         && g_strcmp0 (backup_window_get_last_toast (BACKUP_WINDOW (window)), text) == 0;
}

typedef struct
{
  gboolean done;
  gboolean ok;
} Exit;

static void
exited_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Exit *exit_ = user_data;

  exit_->ok = g_subprocess_wait_check_finish (G_SUBPROCESS (object), result, NULL);
  exit_->done = TRUE;
}

static void
test_pair_from_link (void)
{
  g_autofree char *alpha_home = g_build_filename (tmpdir, "alpha-config", NULL);
  g_autofree char *alpha_file = paired_file (alpha_home);
  g_autofree char *beta_file = paired_file (g_get_user_config_dir ());
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) inviter = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GKeyFile) beta = g_key_file_new ();
  g_autoptr (GKeyFile) alpha = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *link = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *this_device = backup_device_default_name ();
  g_autofree char *this_group = g_strconcat ("Device ", this_device, NULL);
  AdwMessageDialog *question;
  Exit exit_ = { 0 };

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", alpha_home, TRUE);
  inviter = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("DISTRIBUTED_BACKUP"),
                                         "--invite", "--device-name", "Alpha", "--signaling",
                                         signaling, "--ice-address", "127.0.0.1", "--stun=",
                                         "--timeout", "90", "-q", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (inviter));
  link = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (link, "distributed-backup:pair?"));
  g_subprocess_wait_check_async (inviter, NULL, exited_cb, &exit_);

  open_link (link);
  WAIT_UNTIL ((question = find_dialog ("Pair With “Alpha”?")) != NULL, "the question");
  {
    g_autoptr (BackupDeviceLink) parsed = backup_device_link_parse (link, &error);

    g_assert_no_error (error);
    fingerprint = backup_device_link_get_fingerprint (parsed);
  }
  /* The question shows whom it would pair with. */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (question), fingerprint));
  adw_message_dialog_response (question, "pair");

  WAIT_UNTIL (toast_is ("Paired with “Alpha”"), "the toast");
  WAIT_UNTIL (exit_.done, "the inviter's end");
  g_assert_true (exit_.ok);
  g_assert_null (find_dialog ("Pairing With “Alpha”…"));

  /* Each knows the other, by the certificate the question showed. */
  g_assert_true (g_key_file_load_from_file (beta, beta_file, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  {
    g_autofree char *stored = g_key_file_get_string (beta, "Device Alpha", "fingerprint", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (stored, ==, fingerprint);
  }
  g_assert_true (g_key_file_load_from_file (alpha, alpha_file, G_KEY_FILE_NONE, &error));
  g_assert_true (g_key_file_has_group (alpha, this_group));
  gtk_window_destroy (GTK_WINDOW (the_window ()));
}

static void
test_bad_link (void)
{
  AdwMessageDialog *dialog;

  open_link ("distributed-backup:pair?v=1&secret=short");
  WAIT_UNTIL ((dialog = find_dialog ("Cannot Pair")) != NULL, "the error");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "Invalid invitation link"));
  /* The secret is never repeated. */
  g_assert_null (strstr (adw_message_dialog_get_body (dialog), "short"));
  adw_message_dialog_response (dialog, "close");
  gtk_window_destroy (GTK_WINDOW (the_window ()));
}

static gboolean
folder_is_empty (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

static void
test_cancel (void)
{
  g_autoptr (RtcCertificate) nobody = rtc_certificate_generate (NULL);
  g_autoptr (BackupDeviceLink) invitation = backup_device_link_new (signaling, nobody, "Gamma");
  g_autofree char *link = backup_device_link_format (invitation);
  g_autofree char *beta_file = paired_file (g_get_user_config_dir ());
  g_autoptr (GKeyFile) beta = g_key_file_new ();
  AdwMessageDialog *dialog;

  /* Nobody answers this one. */
  open_link (link);
  WAIT_UNTIL ((dialog = find_dialog ("Pair With “Gamma”?")) != NULL, "the question");
  adw_message_dialog_response (dialog, "pair");
  WAIT_UNTIL ((dialog = find_dialog ("Pairing With “Gamma”…")) != NULL, "the waiting dialog");
  WAIT_UNTIL (!folder_is_empty (signaling), "the pairing in the signaling store");
  adw_message_dialog_response (dialog, "cancel");
  WAIT_UNTIL (folder_is_empty (signaling), "the signaling store cleaned up");
  g_assert_null (find_dialog ("Pairing Failed"));
  g_assert_false (toast_is ("Paired with “Gamma”"));
  g_assert_true (g_key_file_load_from_file (beta, beta_file, G_KEY_FILE_NONE, NULL));
  g_assert_false (g_key_file_has_group (beta, "Device Gamma"));
  gtk_window_destroy (GTK_WINDOW (the_window ()));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *config_home = NULL;
  GSettings *settings;
  const char *addresses[] = { "127.0.0.1", NULL };
  int status;

  tmpdir = g_dir_make_tmp ("test-gui-pair-XXXXXX", &error);
  g_assert_no_error (error);
  key_path = g_build_filename (tmpdir, "vault.key", NULL);
  config_home = g_build_filename (tmpdir, "beta-config", NULL);
  signaling = g_build_filename (tmpdir, "signaling", NULL);
  g_assert_cmpint (g_mkdir_with_parents (signaling, 0700), ==, 0);
  /* This computer's device key and paired devices go to a folder of the
   * test (read before anything asks for the config folder). */
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv (BACKUP_VAULT_KEY_ENV, key_path, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("LANGUAGE", "C", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  backup_register_resource ();

  app = backup_application_new ();
  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  settings = backup_application_get_settings (app);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_strv (settings, "stun-servers", NULL);

  g_test_add_func ("/gui/pair/from-link", test_pair_from_link);
  g_test_add_func ("/gui/pair/bad-link", test_bad_link);
  g_test_add_func ("/gui/pair/cancel", test_cancel);
  status = g_test_run ();

  g_clear_object (&app);
  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  g_free (signaling);
  return status;
}
