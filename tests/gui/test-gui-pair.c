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
#include "backup-device-row.h"
#include "backup-device.h"
#include "backup-error.h"
#include "backup-receive-page.h"
#include "backup-send-page.h"
#include "backup-store.h"
#include "backup-resources.h"
#include "backup-vault.h"
#include "backup-window-private.h"
#include "rtc-certificate.h"

#define WAIT_UNTIL GUI_TEST_WAIT_UNTIL
#define find_dialog gui_test_find_dialog

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static BackupApplication *app;
static char *tmpdir;
static char *signaling;

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

/* The descendants of @widget of type @type, in the order of the tree. */
static void
collect_of_type (GtkWidget *widget, GType type, GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_of_type (child, type, found);
}

static gpointer
first_of_type (GtkWidget *widget, GType type)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new ();

  collect_of_type (widget, type, found);
  g_assert_cmpuint (found->len, >, 0);
  return g_ptr_array_index (found, 0);
}

static gboolean
row_lists (BackupDeviceRow *row, const char *name)
{
  GListModel *model = adw_combo_row_get_model (ADW_COMBO_ROW (row));

  for (guint i = 1; i < g_list_model_get_n_items (model); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (model), i), name) == 0)
      return TRUE;
  return FALSE;
}

/* The key @key of the group of the device @name in @path, or -1. */
static gint64
policy_key (const char *path, const char *name, const char *key)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *group = g_strconcat ("Device ", name, NULL);
  g_autoptr (GError) error = NULL;
  gint64 value;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    return -1;
  value = g_key_file_get_int64 (file, group, key, &error);
  return error != NULL ? -1 : value;
}

static gboolean
runner_gone (gpointer page)
{
  return BACKUP_IS_RECEIVE_PAGE (page) ? backup_receive_page_get_runner (page) == NULL
                                       : backup_send_page_get_runner (page) == NULL;
}

/* Runs the command line as Alpha (the device paired by the test above),
 * with the extra arguments, and waits for its end. */
static GSubprocess *
spawn_alpha (const char *first, ...)
{
  g_autofree char *alpha_home = g_build_filename (tmpdir, "alpha-config", NULL);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *process;
  va_list args;

  g_ptr_array_add (argv, (char *)g_getenv ("DISTRIBUTED_BACKUP"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", alpha_home, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

/* With a paired device, the Send and Receive pages back up to and receive
 * from it by name, and the Receive page keeps a policy of versions for
 * each device, in the paired devices file, which the receiver applies. */
static void
test_backups_with_device (void)
{
  g_autofree char *beta_file = paired_file (g_get_user_config_dir ());
  g_autofree char *this_device = backup_device_default_name ();
  g_autofree char *dest = g_build_filename (tmpdir, "received-from-alpha", NULL);
  g_autofree char *alpha_dest = g_build_filename (tmpdir, "received-by-alpha", NULL);
  g_autofree char *source = g_build_filename (tmpdir, "from-alpha.txt", NULL);
  g_autofree char *sent = g_build_filename (tmpdir, "to-alpha.txt", NULL);
  g_autoptr (GFile) dest_file = g_file_new_for_path (dest);
  g_autoptr (GFile) sent_file = g_file_new_for_path (sent);
  g_autoptr (BackupDevice) alpha = NULL;
  g_autoptr (GError) error = NULL;
  GSettings *settings = backup_application_get_settings (app);
  BackupReceivePage *receive_page;
  BackupSendPage *send_page;
  BackupDeviceRow *receive_row, *send_row;
  g_autoptr (GPtrArray) spins = g_ptr_array_new ();
  AdwExpanderRow *age_row;
  GtkWidget *session_row;
  Exit exit_ = { 0 };

  alpha = backup_device_find (NULL, "Alpha", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (alpha_dest, 0700), ==, 0);
  g_assert_true (g_file_set_contents (source, "from Alpha\n", -1, NULL));
  g_assert_true (g_file_set_contents (sent, "to Alpha\n", -1, NULL));
  g_settings_set_uint (settings, "versions", 4);
  g_settings_set_boolean (settings, "keep-by-age", FALSE);

  g_application_activate (G_APPLICATION (app));
  WAIT_UNTIL (gtk_application_get_active_window (GTK_APPLICATION (app)) != NULL, "the window");
  receive_page = backup_window_get_receive_page (the_window ());
  send_page = backup_window_get_send_page (the_window ());
  receive_row = first_of_type (GTK_WIDGET (receive_page), BACKUP_TYPE_DEVICE_ROW);
  send_row = first_of_type (GTK_WIDGET (send_page), BACKUP_TYPE_DEVICE_ROW);
  collect_of_type (GTK_WIDGET (receive_page), GTK_TYPE_SPIN_BUTTON, spins);
  g_assert_cmpuint (spins->len, ==, 5); /* versions, hours, days, weeks, months */
  age_row = first_of_type (GTK_WIDGET (receive_page), ADW_TYPE_EXPANDER_ROW);
  session_row = first_of_type (GTK_WIDGET (receive_page), ADW_TYPE_ENTRY_ROW);

  /* Both pages list the device paired before. */
  g_assert_true (row_lists (receive_row, "Alpha"));
  g_assert_true (row_lists (send_row, "Alpha"));
  g_assert_null (backup_device_row_get_device (receive_row));
  g_assert_cmpfloat (gtk_spin_button_get_value (g_ptr_array_index (spins, 0)), ==, 4);

  /* Chosen on the Receive page: no session id to type, and the policy rows
   * become Alpha's own, written to the paired devices file. */
  backup_device_row_set_device (receive_row, "Alpha");
  {
    g_autofree char *kept = g_settings_get_string (settings, "receive-device");

    g_assert_cmpstr (kept, ==, "Alpha");
  }
  g_assert_false (gtk_widget_get_visible (session_row));
  gtk_spin_button_set_value (g_ptr_array_index (spins, 0), 2);
  adw_expander_row_set_enable_expansion (age_row, TRUE);
  gtk_spin_button_set_value (g_ptr_array_index (spins, 2), 3);
  WAIT_UNTIL (policy_key (beta_file, "Alpha", "keep-daily") == 3, "Alpha's policy written");
  g_assert_cmpint (policy_key (beta_file, "Alpha", "keep-last"), ==, 2);
  g_assert_cmpint (policy_key (beta_file, "Alpha", "versions"), ==, BACKUP_STORE_MAX_VERSIONS);
  /* The receiver's own policy, for any computer, is untouched. */
  g_assert_cmpuint (g_settings_get_uint (settings, "versions"), ==, 4);
  g_assert_false (g_settings_get_boolean (settings, "keep-by-age"));

  /* Back to any computer: the rows show the settings again; back to
   * Alpha: its policy. */
  backup_device_row_set_device (receive_row, NULL);
  g_assert_true (gtk_widget_get_visible (session_row));
  g_assert_cmpfloat (gtk_spin_button_get_value (g_ptr_array_index (spins, 0)), ==, 4);
  g_assert_false (adw_expander_row_get_enable_expansion (age_row));
  backup_device_row_set_device (receive_row, "Alpha");
  g_assert_cmpfloat (gtk_spin_button_get_value (g_ptr_array_index (spins, 0)), ==, 2);
  g_assert_true (adw_expander_row_get_enable_expansion (age_row));
  g_assert_cmpfloat (gtk_spin_button_get_value (g_ptr_array_index (spins, 2)), ==, 3);

  /* Receiving from Alpha: its session, its certificate only, its policy. */
  backup_receive_page_set_destination (receive_page, dest_file);
  gtk_widget_activate_action (GTK_WIDGET (receive_page), "receive.start", NULL);
  g_assert_nonnull (backup_receive_page_get_runner (receive_page));
  {
    BackupProfile *profile = backup_runner_get_profile (backup_receive_page_get_runner (receive_page));
    BackupRetention retention;

    g_assert_cmpstr (backup_profile_get_session_id (profile), ==, alpha->session_id);
    g_assert_cmpstr (backup_profile_get_peer_fingerprint (profile), ==, alpha->fingerprint);
    g_assert_true (backup_profile_get_retention (profile, &retention));
    g_assert_cmpuint (retention.last, ==, 2);
    g_assert_cmpuint (retention.daily, ==, 3);
  }
  {
    g_autoptr (GSubprocess) sender = spawn_alpha ("--device", this_device, "-s", source,
                                                  "--ice-address", "127.0.0.1", "--stun=",
                                                  "--timeout", "60", "-q", NULL);

    g_subprocess_wait_check_async (sender, NULL, exited_cb, &exit_);
    WAIT_UNTIL (exit_.done, "Alpha's backup");
    g_assert_true (exit_.ok);
  }
  WAIT_UNTIL (runner_gone (receive_page), "the receiver's end");
  {
    g_autofree char *stored = g_build_filename (dest, "from-alpha.txt", NULL);
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (stored, &contents, NULL, NULL));
    g_assert_cmpstr (contents, ==, "from Alpha\n");
  }
  gtk_widget_activate_action (GTK_WIDGET (receive_page), "receive.done", NULL);

  /* Sending to Alpha from the Send page. */
  backup_send_page_choose_source (send_page, sent_file);
  WAIT_UNTIL (backup_send_page_get_source (send_page) != NULL, "the file chosen");
  backup_device_row_set_device (send_row, "Alpha");
  {
    g_autofree char *kept = g_settings_get_string (settings, "send-device");

    g_assert_cmpstr (kept, ==, "Alpha");
  }
  {
    g_autoptr (GSubprocess) receiver = spawn_alpha ("--device", this_device, "-d", alpha_dest,
                                                    "--ice-address", "127.0.0.1", "--stun=",
                                                    "--timeout", "60", "-q", NULL);
    g_autofree char *stored = g_build_filename (alpha_dest, "to-alpha.txt", NULL);
    g_autofree char *contents = NULL;

    exit_ = (Exit){ 0 };
    g_subprocess_wait_check_async (receiver, NULL, exited_cb, &exit_);
    gtk_widget_activate_action (GTK_WIDGET (send_page), "send.start", NULL);
    g_assert_nonnull (backup_send_page_get_runner (send_page));
    g_assert_cmpstr (backup_profile_get_peer_fingerprint (
                         backup_runner_get_profile (backup_send_page_get_runner (send_page))),
                     ==, alpha->fingerprint);
    WAIT_UNTIL (exit_.done, "Alpha's reception");
    g_assert_true (exit_.ok);
    WAIT_UNTIL (runner_gone (send_page), "the sender's end");
    g_assert_true (g_file_get_contents (stored, &contents, NULL, NULL));
    g_assert_cmpstr (contents, ==, "to Alpha\n");
  }

  /* Unpaired elsewhere (the command line): both pages forget it. */
  g_assert_true (backup_device_remove (NULL, "Alpha", &error));
  g_assert_no_error (error);
  WAIT_UNTIL (!row_lists (receive_row, "Alpha") && !row_lists (send_row, "Alpha"),
              "the pages following the unpairing");
  g_assert_null (backup_device_row_get_device (receive_row));
  g_assert_null (backup_device_row_get_device (send_row));
  g_assert_true (gtk_widget_get_visible (session_row));
  g_settings_reset (settings, "versions");
  g_settings_reset (settings, "keep-by-age");
  gtk_window_destroy (GTK_WINDOW (the_window ()));
}

static gboolean
folder_is_empty (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

/* The label of @dialog showing an invitation link, or NULL. */
static GtkLabel *
link_label (AdwMessageDialog *dialog)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();

  collect_of_type (GTK_WIDGET (dialog), GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_str_has_prefix (gtk_label_get_text (g_ptr_array_index (labels, i)),
                          "distributed-backup:pair?"))
      return g_ptr_array_index (labels, i);
  return NULL;
}

static void
clipboard_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, NULL);
  if (*text == NULL)
    *text = g_strdup ("");
}

/* Inviting from the desktop: the link shown (and copied) pairs the
 * command line's --pair with this computer; cancelling the invitation
 * leaves nothing behind. */
static void
test_invite (void)
{
  g_autofree char *delta_home = g_build_filename (tmpdir, "delta-config", NULL);
  g_autofree char *beta_file = paired_file (g_get_user_config_dir ());
  g_autofree char *delta_file = paired_file (delta_home);
  g_autofree char *this_device = backup_device_default_name ();
  g_autofree char *this_group = g_strconcat ("Device ", this_device, NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) joiner = NULL;
  g_autoptr (RtcCertificate) own = NULL;
  g_autoptr (GKeyFile) beta = g_key_file_new ();
  g_autoptr (GKeyFile) delta = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *own_fingerprint = NULL;
  g_autofree char *copied = NULL;
  g_autofree char *link = NULL;
  GSettings *settings = backup_application_get_settings (app);
  AdwMessageDialog *dialog;
  GtkLabel *label;
  Exit exit_ = { 0 };

  g_settings_set_string (settings, "signaling-url", signaling);
  g_application_activate (G_APPLICATION (app));
  WAIT_UNTIL (gtk_application_get_active_window (GTK_APPLICATION (app)) != NULL, "the window");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (the_window ()), "win.invite-device",
                                             NULL));
  WAIT_UNTIL ((dialog = find_dialog ("Invite a Device")) != NULL, "the invitation");
  label = link_label (dialog);
  g_assert_nonnull (label);
  link = g_strdup (gtk_label_get_text (label));
  own = backup_device_load_certificate (NULL, FALSE, &error);
  g_assert_no_error (error);
  own_fingerprint = rtc_certificate_get_fingerprint_string (own);
  /* The fingerprint to compare, and a word on a folder store. */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), own_fingerprint));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "folder of this computer"));
  {
    g_autoptr (BackupDeviceLink) parsed = backup_device_link_parse (link, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (parsed->signaling, ==, signaling);
    g_assert_cmpstr (parsed->name, ==, this_device);
  }

  /* Copy Link puts it on the clipboard. */
  {
    g_autoptr (GPtrArray) buttons = g_ptr_array_new ();

    collect_of_type (GTK_WIDGET (dialog), GTK_TYPE_BUTTON, buttons);
    for (guint i = 0; i < buttons->len; i++)
      if (g_strcmp0 (gtk_button_get_label (g_ptr_array_index (buttons, i)), "C_opy Link") == 0)
        g_signal_emit_by_name (g_ptr_array_index (buttons, i), "clicked");
    gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (dialog)), NULL,
                                   clipboard_cb, &copied);
    WAIT_UNTIL (copied != NULL, "the clipboard");
    g_assert_cmpstr (copied, ==, link);
  }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", delta_home, TRUE);
  joiner = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("DISTRIBUTED_BACKUP"),
                                        "--pair", link, "--device-name", "Delta",
                                        "--ice-address", "127.0.0.1", "--stun=", "--timeout",
                                        "60", "-q", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check_async (joiner, NULL, exited_cb, &exit_);
  WAIT_UNTIL (toast_is ("Paired with “Delta”"), "the toast");
  WAIT_UNTIL (exit_.done, "the joiner's end");
  g_assert_true (exit_.ok);
  g_assert_null (find_dialog ("Invite a Device"));
  g_assert_true (g_key_file_load_from_file (beta, beta_file, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  g_assert_true (g_key_file_has_group (beta, "Device Delta"));
  g_assert_true (g_key_file_load_from_file (delta, delta_file, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  {
    g_autofree char *stored = g_key_file_get_string (delta, this_group, "fingerprint", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (stored, ==, own_fingerprint);
  }

  /* Cancelled while it waits: the store is cleaned up, nothing is said. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (the_window ()), "win.invite-device",
                                             NULL));
  WAIT_UNTIL ((dialog = find_dialog ("Invite a Device")) != NULL, "the second invitation");
  WAIT_UNTIL (!folder_is_empty (signaling), "the invitation in the signaling store");
  adw_message_dialog_response (dialog, "cancel");
  WAIT_UNTIL (folder_is_empty (signaling), "the signaling store cleaned up");
  g_assert_null (find_dialog ("Pairing Failed"));

  /* A link pasted from the menu: a bad one says why. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (the_window ()), "win.pair-with-link",
                                             NULL));
  WAIT_UNTIL ((dialog = find_dialog ("Pair With a Link")) != NULL, "the link question");
  g_assert_false (adw_message_dialog_get_response_enabled (dialog, "next"));
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)),
                         " distributed-backup:pair?v=1&secret=short ");
  g_assert_true (adw_message_dialog_get_response_enabled (dialog, "next"));
  adw_message_dialog_response (dialog, "next");
  WAIT_UNTIL ((dialog = find_dialog ("Cannot Pair")) != NULL, "the error");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "Invalid invitation link"));
  adw_message_dialog_response (dialog, "close");
  g_settings_reset (settings, "signaling-url");
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

/* The titles of the Devices page's rows, joined by ",". */
static char *
device_titles (BackupDevicesPage *page)
{
  GString *text = g_string_new (NULL);

  for (GList *l = backup_devices_page_get_device_rows (page); l != NULL; l = l->next)
    g_string_append_printf (text, "%s%s", text->len > 0 ? "," : "",
                            adw_preferences_row_get_title (l->data));
  return g_string_free (text, FALSE);
}

static gboolean
titles_are (BackupDevicesPage *page, const char *expected)
{
  g_autofree char *titles = device_titles (page);

  return g_strcmp0 (titles, expected) == 0;
}

static const char *
page_state (BackupDevicesPage *page)
{
  GtkWidget *stack = GTK_WIDGET (
      gtk_widget_get_template_child (GTK_WIDGET (page), BACKUP_TYPE_DEVICES_PAGE, "content_stack"));

  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

/* The Devices page lists what paired.conf holds, follows changes made
 * elsewhere, forgets a device after asking, and shows this device's own
 * fingerprint; with no device left it offers the ways to pair. */
static void
test_devices_page (void)
{
  g_autoptr (GPtrArray) before = backup_device_list (NULL, NULL);
  g_autoptr (BackupDevice) zeta = backup_device_new (
      "Zeta",
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89",
      "nearby:", "device-00112233445566778899aabbccddeeff");
  g_autoptr (BackupDevice) eta = backup_device_new (
      "Eta",
      "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
      "CD:EF",
      "/srv/signaling", "device-ffeeddccbbaa99887766554433221100");
  g_autoptr (GError) error = NULL;
  g_autofree char *own = NULL;
  g_autofree char *name = NULL;
  g_autoptr (RtcCertificate) certificate = backup_device_load_certificate (NULL, TRUE, NULL);
  BackupDevicesPage *page;
  BackupWindow *window;
  GtkWindow *question;
  GtkWidget *zeta_row;
  const char *subtitle;

  /* Start from no device at all. */
  for (guint i = 0; before != NULL && i < before->len; i++)
    g_assert_true (backup_device_remove (
        NULL, ((BackupDevice *) g_ptr_array_index (before, i))->name, NULL));

  g_application_activate (G_APPLICATION (app));
  WAIT_UNTIL (gtk_application_get_active_window (GTK_APPLICATION (app)) != NULL, "the window");
  window = the_window ();
  page = backup_window_get_devices_page (window);
  WAIT_UNTIL (g_str_equal (page_state (page), "empty"), "the empty page");

  /* Paired elsewhere: the page follows the file. */
  name = backup_device_add (NULL, zeta, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (titles_are (page, "Zeta"), "Zeta's row");
  g_assert_cmpstr (page_state (page), ==, "list");
  zeta_row = backup_devices_page_get_device_rows (page)->data;
  subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (zeta_row));
  g_assert_nonnull (strstr (subtitle, zeta->fingerprint));
  g_assert_nonnull (strstr (subtitle, "On the local network"));
  g_clear_pointer (&name, g_free);
  name = backup_device_add (NULL, eta, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (titles_are (page, "Zeta,Eta"), "Eta's row");

  /* This device's own fingerprint, as its certificate says. */
  own = backup_device_read_fingerprint (NULL, &error);
  g_assert_no_error (error);
  {
    AdwActionRow *row = ADW_ACTION_ROW (gtk_widget_get_template_child (
        GTK_WIDGET (page), BACKUP_TYPE_DEVICES_PAGE, "own_fingerprint_row"));

    g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, own);
  }
  if (g_getenv ("SCREENSHOT_DIR") != NULL)
    {
      adw_view_stack_set_visible_child_name (
          ADW_VIEW_STACK (gtk_widget_get_template_child (GTK_WIDGET (window), BACKUP_TYPE_WINDOW,
                                                         "stack")),
          "devices");
      gui_test_save_png (GTK_WIDGET (window), "devices.png");
    }

  /* Cancel keeps it; Forget removes it and says so. */
  question = backup_devices_page_ask_forget (page, "Zeta");
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (question)), ==,
                   "Forget “Zeta”?");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (question), "cancel");
  {
    g_autoptr (BackupDevice) kept = backup_device_find (NULL, "Zeta", NULL);

    g_assert_nonnull (kept);
  }
  question = backup_devices_page_ask_forget (page, "Zeta");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (question), "forget");
  WAIT_UNTIL (toast_is ("Forgot “Zeta”"), "the toast");
  {
    g_autoptr (GError) gone = NULL;
    g_autoptr (BackupDevice) kept = backup_device_find (NULL, "Zeta", &gone);

    g_assert_null (kept);
    g_assert_error (gone, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
  }
  WAIT_UNTIL (titles_are (page, "Eta"), "Zeta's row gone");

  /* Unpaired in a terminal: the page offers to pair again. */
  g_assert_true (backup_device_remove (NULL, "Eta", NULL));
  WAIT_UNTIL (g_str_equal (page_state (page), "empty"), "the empty page again");
  gtk_window_destroy (GTK_WINDOW (window));
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
  g_test_add_func ("/gui/pair/backups-with-device", test_backups_with_device);
  g_test_add_func ("/gui/pair/invite", test_invite);
  g_test_add_func ("/gui/pair/bad-link", test_bad_link);
  g_test_add_func ("/gui/pair/cancel", test_cancel);
  g_test_add_func ("/gui/pair/devices-page", test_devices_page);
  status = g_test_run ();

  g_clear_object (&app);
  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  g_free (signaling);
  return status;
}
