/* test-gui-window.c: the main window, in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (run under xvfb-run) and the schema of the build
 * (GSETTINGS_SCHEMA_DIR); settings live in memory (GSETTINGS_BACKEND=memory).
 * Renders each page to PNG files in the build directory.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include "backup-application.h"
#include "backup-preferences.h"
#include "backup-progress-view.h"
#include "backup-resources.h"
#include "backup-vault.h"
#include "backup-window-private.h"

static BackupApplication *app;
static char *tmpdir;

/* The widget of the window's template, or of one of its pages' templates,
 * with the id @name. */
static gpointer
child (BackupWindow *window, const char *name)
{
  struct
  {
    GtkWidget *widget;
    GType type;
  } templates[] = {
    { GTK_WIDGET (window), BACKUP_TYPE_WINDOW },
    { GTK_WIDGET (backup_window_get_send_page (window)), BACKUP_TYPE_SEND_PAGE },
    { GTK_WIDGET (backup_window_get_receive_page (window)), BACKUP_TYPE_RECEIVE_PAGE },
    { GTK_WIDGET (backup_window_get_encrypt_page (window)), BACKUP_TYPE_ENCRYPT_PAGE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (templates); i++)
    {
      GObject *object = gtk_widget_get_template_child (templates[i].widget, templates[i].type, name);

      if (object != NULL)
        return object;
    }
  g_error ("no widget “%s” in the window", name);
  return NULL;
}

/* Dispatches what is pending, without waiting (bounded: a running
 * animation keeps the context busy). */
static void
iterate (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms milliseconds. */
static void
run_for (guint ms)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &expired);

  while (!expired)
    g_main_context_iteration (NULL, TRUE);
  (void)id;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_path = g_build_filename (path, name, NULL);

      if (g_file_test (child_path, G_FILE_TEST_IS_DIR)
          && !g_file_test (child_path, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child_path);
      else
        g_unlink (child_path);
    }
  g_rmdir (path);
}

static BackupWindow *
new_window (void)
{
  BackupWindow *window = backup_application_new_window (app);

  /* GTK owns toplevels; the test holds its own reference to check that
   * destroying the window frees it. */
  g_object_ref (window);
  return window;
}

static void
destroy_window (BackupWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  iterate ();
  g_assert_finalize_object (window);
}

/* Chooses a source and waits until the Send page has looked at it. */
static void
choose_source (BackupWindow *window, GFile *file)
{
  BackupSendPage *page = backup_window_get_send_page (window);

  backup_window_set_source (window, file);
  g_assert_true (backup_send_page_get_choosing_source (page));
  while (backup_send_page_get_choosing_source (page))
    g_main_context_iteration (NULL, TRUE);
}

static void
test_window_new_destroy (void)
{
  BackupWindow *window = new_window ();

  g_assert_true (BACKUP_IS_WINDOW (window));
  g_assert_true (gtk_window_get_application (GTK_WINDOW (window)) == GTK_APPLICATION (app));
  destroy_window (window);
}

static void
test_preferences_new_destroy (void)
{
  GSettings *settings = backup_application_get_settings (app);
  BackupPreferences *prefs = backup_preferences_new (settings);

  g_object_ref (prefs);
  gtk_window_present (GTK_WINDOW (prefs));
  iterate ();
  gtk_window_destroy (GTK_WINDOW (prefs));
  iterate ();
  g_assert_finalize_object (prefs);
  /* Opening and closing the preferences changes no setting. */
  g_assert_cmpint (g_settings_get_enum (settings, "zip-encryption"), ==, 0);
  {
    g_auto (GStrv) stun = g_settings_get_strv (settings, "stun-servers");
    g_assert_cmpuint (g_strv_length (stun), ==, 0);
  }
}

/* The preferences show the settings and write back what is edited; the
 * API key is the application's, never a setting. */
static void
test_preferences_settings (void)
{
  GSettings *settings = backup_application_get_settings (app);
  const char *stun[] = { "stun.example.org:3478", "192.0.2.1:3478", NULL };
  BackupPreferences *prefs;
  GtkEditable *stun_row;
  g_auto (GStrv) addresses = NULL;
  g_autofree char *key = NULL;

  g_settings_set_strv (settings, "stun-servers", stun);
  g_settings_set_enum (settings, "zip-encryption", 2);
  g_settings_set_string (settings, "signaling-url", "/srv/signaling");

  prefs = g_object_ref (backup_preferences_new (settings));
  g_object_bind_property (app, "api-key", prefs, "api-key",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  stun_row = GTK_EDITABLE (
      gtk_widget_get_template_child (GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "stun_row"));
  g_assert_cmpstr (gtk_editable_get_text (stun_row), ==, "stun.example.org:3478, 192.0.2.1:3478");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (gtk_widget_get_template_child (
                        GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "encryption_row"))),
                    ==, 2);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (gtk_widget_get_template_child (
                       GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "signaling_row"))),
                   ==, "/srv/signaling");

  gtk_editable_set_text (
      GTK_EDITABLE (gtk_widget_get_template_child (GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES,
                                                   "addresses_row")),
      "127.0.0.1,  ::1");
  addresses = g_settings_get_strv (settings, "ice-addresses");
  g_assert_cmpuint (g_strv_length (addresses), ==, 2);
  g_assert_cmpstr (addresses[0], ==, "127.0.0.1");
  g_assert_cmpstr (addresses[1], ==, "::1");

  gtk_editable_set_text (
      GTK_EDITABLE (gtk_widget_get_template_child (GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES,
                                                   "api_key_row")),
      "typed-key");
  g_assert_cmpstr (backup_application_get_api_key (app), ==, "typed-key");
  g_object_get (prefs, "api-key", &key, NULL);
  g_assert_cmpstr (key, ==, "typed-key");

  gtk_window_destroy (GTK_WINDOW (prefs));
  iterate ();
  g_assert_finalize_object (prefs);
  backup_application_set_api_key (app, NULL);
  g_settings_reset (settings, "stun-servers");
  g_settings_reset (settings, "zip-encryption");
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
}

static void
test_window_pages (void)
{
  BackupWindow *window = new_window ();
  AdwViewStack *stack = child (window, "stack");

  g_assert_nonnull (adw_view_stack_get_child_by_name (stack, "send"));
  g_assert_nonnull (adw_view_stack_get_child_by_name (stack, "receive"));
  g_assert_nonnull (adw_view_stack_get_child_by_name (stack, "encrypt"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "send");
  /* Nothing runs: no progress shown, nothing to cancel. */
  g_assert_false (gtk_revealer_get_reveal_child (child (window, "progress_revealer")));
  destroy_window (window);
}

static void
test_window_send_sensitivity (void)
{
  BackupWindow *window = new_window ();
  GtkWidget *send_button = child (window, "send_button");
  GtkWidget *archive_group = child (window, "archive_group");
  GtkEditable *session_row = child (window, "send_session_row");
  GtkEditable *outer_row = child (window, "outer_name_row");
  g_autofree char *folder = g_build_filename (tmpdir, "Photos 2024", NULL);
  g_autofree char *file_path = g_build_filename (tmpdir, "notes.txt", NULL);
  g_autoptr (GFile) dir = NULL;
  g_autoptr (GFile) file = NULL;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file_path, "hello", -1, NULL));
  dir = g_file_new_for_path (folder);
  file = g_file_new_for_path (file_path);

  gtk_editable_set_text (session_row, "");
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_assert_false (gtk_widget_get_visible (archive_group));

  /* A session id alone is not enough. */
  gtk_editable_set_text (session_row, "a-session");
  g_assert_false (gtk_widget_get_sensitive (send_button));

  /* A folder: the archive group appears with a proposed outer name. */
  choose_source (window, dir);
  g_assert_true (gtk_widget_get_visible (archive_group));
  g_assert_cmpstr (gtk_editable_get_text (outer_row), ==, "Photos 2024-backup.zip");
  g_assert_true (gtk_widget_get_sensitive (send_button));

  /* The archive of a folder needs a name. */
  gtk_editable_set_text (outer_row, "");
  g_assert_false (gtk_widget_get_sensitive (send_button));
  gtk_editable_set_text (outer_row, "photos.zip");
  g_assert_true (gtk_widget_get_sensitive (send_button));

  /* Without a session id (blanks do not count) nothing can be sent. */
  gtk_editable_set_text (session_row, "   ");
  g_assert_false (gtk_widget_get_sensitive (send_button));
  gtk_editable_set_text (session_row, "a-session");

  /* A regular file: no archive. */
  choose_source (window, file);
  g_assert_false (gtk_widget_get_visible (archive_group));
  g_assert_true (gtk_widget_get_sensitive (send_button));

  /* Something that is neither is refused with a message, and the previous
   * choice stays. */
  {
    g_autofree char *missing_path = g_build_filename (tmpdir, "missing", NULL);
    g_autoptr (GFile) missing = g_file_new_for_path (missing_path);

    choose_source (window, missing);
    g_assert_cmpstr (backup_window_get_last_toast (window), ==,
                     "Only files and folders can be backed up");
    g_assert_true (gtk_widget_get_sensitive (send_button));
    g_assert_cmpstr (adw_action_row_get_subtitle (child (window, "source_row")), ==, file_path);
  }

  destroy_window (window);
}

static void
test_window_receive_sensitivity (void)
{
  BackupWindow *window = new_window ();
  GtkWidget *receive_button = child (window, "receive_button");
  GtkEditable *session_row = child (window, "receive_session_row");

  /* The destination defaults to a folder (Downloads or home). */
  g_assert_nonnull (adw_action_row_get_subtitle (child (window, "dest_row")));
  gtk_editable_set_text (session_row, "");
  g_assert_false (gtk_widget_get_sensitive (receive_button));
  gtk_editable_set_text (session_row, "abc");
  g_assert_true (gtk_widget_get_sensitive (receive_button));
  destroy_window (window);
}

static void
test_window_settings (void)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *dest = g_build_filename (tmpdir, "received", NULL);
  BackupWindow *window;

  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_settings_set_string (settings, "session-id", "remembered-id");
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_uint (settings, "versions", 4);

  window = new_window ();
  g_assert_cmpstr (gtk_editable_get_text (child (window, "send_session_row")), ==, "remembered-id");
  g_assert_cmpstr (gtk_editable_get_text (child (window, "receive_session_row")), ==,
                   "remembered-id");
  g_assert_cmpstr (adw_action_row_get_subtitle (child (window, "dest_row")), ==, dest);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (child (window, "versions_spin")), ==, 4);

  /* Versions go back to the settings. */
  gtk_spin_button_set_value (child (window, "versions_spin"), 7);
  g_assert_cmpuint (g_settings_get_uint (settings, "versions"), ==, 7);

  /* A new session id fills both pages. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.generate-session-id", NULL);
  g_assert_true (
      g_uuid_string_is_valid (gtk_editable_get_text (child (window, "send_session_row"))));
  g_assert_cmpstr (gtk_editable_get_text (child (window, "send_session_row")), ==,
                   gtk_editable_get_text (child (window, "receive_session_row")));

  destroy_window (window);
  g_settings_reset (settings, "session-id");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "versions");
}

static void
test_window_password_file (void)
{
  BackupWindow *window = new_window ();
  BackupEncryptPage *page = backup_window_get_encrypt_page (window);
  BackupSendPage *send_page = backup_window_get_send_page (window);
  GtkEditable *p1 = child (window, "password1_row");
  GtkEditable *p2 = child (window, "password2_row");
  g_autofree char *path = g_build_filename (tmpdir, "passwords.bin", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *read1 = NULL;
  g_autofree char *read2 = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  /* Without any password nothing is written and no dialog opens. */
  gtk_widget_activate_action (GTK_WIDGET (page), "encrypt.save-passfile", NULL);
  g_assert_cmpstr (backup_window_get_last_toast (window), ==, "Enter at least one password");

  gtk_editable_set_text (p1, "inner secret");
  gtk_editable_set_text (p2, "outer secret");
  backup_encrypt_page_write_password_file (page, file);
  g_assert_true (backup_encrypt_page_get_writing (page));
  while (backup_encrypt_page_get_writing (page))
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (backup_window_get_last_toast (window), ==, "Password file saved");
  g_assert_cmpstr (gtk_editable_get_text (p1), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (p2), ==, "");
  g_assert_true (g_file_equal (backup_send_page_get_password_file (send_page), file));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (window, "passfile_row")), ==, path);
  g_assert_true (gtk_widget_get_visible (child (window, "clear_passfile_button")));

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (backup_vault_read (path, NULL, &read1, &read2, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (read1, ==, "inner secret");
  g_assert_cmpstr (read2, ==, "outer secret");

  /* A password too long for the format: the core's message is shown and
   * the fields keep what was typed. */
  {
    g_autofree char *long_password = g_strnfill (300, 'x');
    g_autofree char *bad_path = g_build_filename (tmpdir, "too-long.bin", NULL);
    g_autoptr (GFile) bad = g_file_new_for_path (bad_path);

    gtk_editable_set_text (p1, long_password);
    backup_encrypt_page_write_password_file (page, bad);
    while (backup_encrypt_page_get_writing (page))
      g_main_context_iteration (NULL, TRUE);
    g_assert_cmpstr (backup_window_get_last_toast (window), !=, "Password file saved");
    g_assert_cmpstr (gtk_editable_get_text (p1), ==, long_password);
    g_assert_false (g_file_test (bad_path, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_equal (backup_send_page_get_password_file (send_page), file));
  }

  destroy_window (window);
}

/* Iterates the main loop until @done returns TRUE; fails after 60 s. */
static void
wait_until (gboolean (*done) (gpointer), gpointer data, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_send_page_new_destroy (void)
{
  GSettings *settings = backup_application_get_settings (app);
  BackupSendPage *page = BACKUP_SEND_PAGE (g_object_ref_sink (backup_send_page_new ()));
  GSettings *got = NULL;

  g_settings_set_string (settings, "session-id", "page-session");
  g_assert_null (backup_send_page_get_runner (page));
  g_assert_null (backup_send_page_get_source (page));
  g_assert_null (backup_send_page_get_password_file (page));
  g_assert_cmpstr (backup_send_page_get_session_id (page), ==, "");

  /* The settings give the session id; the page keeps a reference. */
  g_object_set (page, "settings", settings, "api-key", "secret", NULL);
  g_object_get (page, "settings", &got, NULL);
  g_assert_true (got == settings);
  g_object_unref (got);
  g_assert_cmpstr (backup_send_page_get_session_id (page), ==, "page-session");

  g_settings_reset (settings, "session-id");
  g_assert_finalize_object (page);
}

static void
test_receive_page_new_destroy (void)
{
  GSettings *settings = backup_application_get_settings (app);
  BackupReceivePage *page = BACKUP_RECEIVE_PAGE (g_object_ref_sink (backup_receive_page_new ()));
  g_autofree char *dest = g_build_filename (tmpdir, "page-received", NULL);

  /* Without settings: a default folder, nothing running. */
  g_assert_nonnull (backup_receive_page_get_destination (page));
  g_assert_null (backup_receive_page_get_runner (page));

  g_settings_set_string (settings, "session-id", "page-session");
  g_settings_set_string (settings, "destination-directory", dest);
  backup_receive_page_set_settings (page, settings);
  g_assert_cmpstr (backup_receive_page_get_session_id (page), ==, "page-session");
  {
    g_autofree char *path = g_file_get_path (backup_receive_page_get_destination (page));

    g_assert_cmpstr (path, ==, dest);
  }

  g_settings_reset (settings, "session-id");
  g_settings_reset (settings, "destination-directory");
  g_assert_finalize_object (page);
}

static void
test_encrypt_page_new_destroy (void)
{
  BackupEncryptPage *page = BACKUP_ENCRYPT_PAGE (g_object_ref_sink (backup_encrypt_page_new ()));

  g_assert_false (backup_encrypt_page_get_writing (page));
  g_assert_finalize_object (page);
}

static void
test_progress_view_new_destroy (void)
{
  BackupProgressView *view
      = BACKUP_PROGRESS_VIEW (g_object_ref_sink (backup_progress_view_new ()));
  g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
  BackupRunner *runner = backup_runner_new (profile);

  g_assert_null (backup_progress_view_get_runner (view));
  backup_progress_view_set_runner (view, runner);
  g_assert_true (backup_progress_view_get_runner (view) == runner);
  g_assert_cmpstr (backup_progress_view_get_status (view), ==, "Waiting for the other computer…");

  /* The view lets its runner go when it is destroyed. */
  g_assert_finalize_object (view);
  g_assert_finalize_object (runner);
}

/* A session id the core refuses: the Send page says why and starts
 * nothing. */
static void
test_window_send_refused (void)
{
  BackupWindow *window = new_window ();
  BackupSendPage *page = backup_window_get_send_page (window);
  g_autofree char *file_path = g_build_filename (tmpdir, "refused.txt", NULL);
  g_autoptr (GFile) file = NULL;

  g_assert_true (g_file_set_contents (file_path, "hello", -1, NULL));
  file = g_file_new_for_path (file_path);
  choose_source (window, file);
  gtk_editable_set_text (child (window, "send_session_row"), "not a session");
  g_assert_true (gtk_widget_get_sensitive (child (window, "send_button")));

  gtk_widget_activate_action (GTK_WIDGET (page), "send.start", NULL);
  g_assert_nonnull (backup_window_get_last_toast (window));
  g_assert_true (g_str_has_prefix (backup_window_get_last_toast (window),
                                   "“not a session” cannot be a session id"));
  g_assert_null (backup_send_page_get_runner (page));
  g_assert_false (gtk_revealer_get_reveal_child (child (window, "progress_revealer")));
  destroy_window (window);
}

static gboolean
runner_is_gone (gpointer data)
{
  return backup_receive_page_get_runner (data) == NULL;
}

static gboolean
toast_is_received (gpointer data)
{
  return g_strcmp0 (backup_window_get_last_toast (data), "Received keep.txt") == 0;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *)data;
}

static void
sender_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_runner_run_finish (BACKUP_RUNNER (object), result, &error));
  g_assert_no_error (error);
  *(gboolean *)user_data = TRUE;
}

/* The Receive page runs its profile with a runner; Keep Listening turned
 * off while it waits ends the run after the backup that comes next. */
static void
test_window_receive_keep_listening (void)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *signaling = g_build_filename (tmpdir, "signaling", NULL);
  g_autofree char *dest = g_build_filename (tmpdir, "keep", NULL);
  g_autofree char *source_path = g_build_filename (tmpdir, "keep.txt", NULL);
  g_autofree char *stored_path = g_build_filename (dest, "keep.txt", NULL);
  g_autofree char *stored = NULL;
  const char *addresses[] = { "127.0.0.1", NULL };
  g_autoptr (GFile) source = NULL;
  g_autoptr (BackupProfile) sender_profile = NULL;
  g_autoptr (BackupRunner) sender = NULL;
  gboolean sent = FALSE;
  BackupWindow *window;
  BackupReceivePage *page;
  BackupRunner *runner;
  GtkSwitch *keep_listening;

  g_assert_cmpint (g_mkdir_with_parents (signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_assert_true (g_file_set_contents (source_path, "kept\n", -1, NULL));
  g_settings_set_string (settings, "signaling-url", signaling);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_string (settings, "session-id", "keep-listening-test");

  window = new_window ();
  page = backup_window_get_receive_page (window);
  keep_listening = child (window, "keep_listening_switch");
  gtk_switch_set_active (keep_listening, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (page), "receive.start", NULL);

  /* The page runs a receiver that keeps listening, the window shows it
   * and locks the Send page. */
  runner = backup_receive_page_get_runner (page);
  g_assert_nonnull (runner);
  g_assert_true (backup_profile_get_role (backup_runner_get_profile (runner))
                 == BACKUP_PROFILE_ROLE_RECEIVE);
  g_assert_true (backup_profile_get_keep_listening (backup_runner_get_profile (runner)));
  g_assert_cmpuint (backup_profile_get_timeout (backup_runner_get_profile (runner)), ==, 0);
  g_assert_cmpstr (backup_profile_get_session_id (backup_runner_get_profile (runner)), ==,
                   "keep-listening-test");
  g_assert_true (gtk_revealer_get_reveal_child (child (window, "progress_revealer")));
  g_assert_true (backup_progress_view_get_runner (child (window, "progress_view")) == runner);
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (backup_window_get_send_page (window))));
  g_assert_false (gtk_widget_get_sensitive (child (window, "receive_button")));
  g_assert_false (gtk_widget_get_sensitive (child (window, "dest_row")));

  /* Only whether to keep listening can change while it runs. */
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (keep_listening)));
  gtk_switch_set_active (keep_listening, FALSE);
  g_assert_false (backup_profile_get_keep_listening (backup_runner_get_profile (runner)));

  /* A backup comes: it is stored, and the run ends after it. */
  source = g_file_new_for_path (source_path);
  sender_profile = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
  backup_profile_set_session_id (sender_profile, "keep-listening-test");
  backup_profile_set_signaling (sender_profile, signaling);
  backup_profile_set_ice_addresses (sender_profile, addresses);
  backup_profile_set_source (sender_profile, source);
  backup_profile_set_timeout (sender_profile, 30);
  sender = backup_runner_new (sender_profile);
  backup_runner_run_async (sender, NULL, sender_done_cb, &sent);

  wait_until (is_true, &sent, "the sender");
  wait_until (toast_is_received, window, "the Received toast");
  wait_until (runner_is_gone, page, "the end of listening");
  g_assert_true (g_file_get_contents (stored_path, &stored, NULL, NULL));
  g_assert_cmpstr (stored, ==, "kept\n");
  g_assert_false (gtk_revealer_get_reveal_child (child (window, "progress_revealer")));
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (backup_window_get_send_page (window))));
  g_assert_true (gtk_widget_get_sensitive (child (window, "receive_button")));

  destroy_window (window);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

static void
save_png (GtkWidget *widget, const char *name)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_nonnull (texture);
  path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("rendered %s (%dx%d)", path, width, height);
}

static void
render_window (int width, const char *prefix)
{
  BackupWindow *window = new_window ();
  AdwViewStack *stack = child (window, "stack");
  g_autofree char *folder = g_build_filename (tmpdir, "Documents", NULL);
  g_autoptr (GFile) dir = NULL;
  const char *pages[] = { "send", "receive", "encrypt" };
  int min_width = 0;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  dir = g_file_new_for_path (folder);
  gtk_editable_set_text (child (window, "send_session_row"),
                         "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12");
  choose_source (window, dir);

  /* The window works on a phone: nothing needs more than 360 pixels. */
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL,
                      NULL);
  if (min_width > 360)
    {
      const char *names[]
          = { "source_row",        "archive_group", "outer_name_row", "passfile_row",
              "send_session_row",  "send_button",   "dest_row",       "receive_session_row",
              "progress_revealer", "stack",         "toast_overlay" };

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          int w = 0;

          gtk_widget_measure (child (window, names[i]), GTK_ORIENTATION_HORIZONTAL, -1, &w, NULL,
                              NULL, NULL);
          g_test_message ("%s needs %d pixels", names[i], w);
        }
    }
  g_assert_cmpint (min_width, <=, 360);

  gtk_window_set_default_size (GTK_WINDOW (window), width, 640);
  gtk_window_present (GTK_WINDOW (window));
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.png", prefix, pages[i]);

      adw_view_stack_set_visible_child_name (stack, pages[i]);
      run_for (width < 400 ? 1200 : 400);
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), >=, width - 24);
      save_png (GTK_WIDGET (window), name);
    }
  /* Narrow: the page switcher moves to the bottom. */
  g_assert_true (adw_view_switcher_bar_get_reveal (child (window, "switcher_bar"))
                 == (width < 400));
  destroy_window (window);
}

static void
test_window_render (void)
{
  render_window (720, "gui-wide");
}

static void
test_window_render_narrow (void)
{
  render_window (360, "gui-narrow");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_path = NULL;
  int status;

  tmpdir = g_dir_make_tmp ("test-gui-window-XXXXXX", &error);
  g_assert_no_error (error);
  key_path = g_build_filename (tmpdir, "vault.key", NULL);
  g_setenv (BACKUP_VAULT_KEY_ENV, key_path, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  backup_register_resource ();

  app = backup_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (backup_application_get_settings (app));

  g_test_add_func ("/gui/window/new-destroy", test_window_new_destroy);
  g_test_add_func ("/gui/preferences/new-destroy", test_preferences_new_destroy);
  g_test_add_func ("/gui/preferences/settings", test_preferences_settings);
  g_test_add_func ("/gui/send-page/new-destroy", test_send_page_new_destroy);
  g_test_add_func ("/gui/receive-page/new-destroy", test_receive_page_new_destroy);
  g_test_add_func ("/gui/encrypt-page/new-destroy", test_encrypt_page_new_destroy);
  g_test_add_func ("/gui/progress-view/new-destroy", test_progress_view_new_destroy);
  g_test_add_func ("/gui/window/pages", test_window_pages);
  g_test_add_func ("/gui/window/send-sensitivity", test_window_send_sensitivity);
  g_test_add_func ("/gui/window/receive-sensitivity", test_window_receive_sensitivity);
  g_test_add_func ("/gui/window/settings", test_window_settings);
  g_test_add_func ("/gui/window/password-file", test_window_password_file);
  g_test_add_func ("/gui/window/send-refused", test_window_send_refused);
  g_test_add_func ("/gui/window/receive-keep-listening", test_window_receive_keep_listening);
  g_test_add_func ("/gui/window/render", test_window_render);
  g_test_add_func ("/gui/window/render-narrow", test_window_render_narrow);
  status = g_test_run ();

  /* A registered GtkApplication is still referenced by GTK at this point:
   * it is only unreferenced. */
  g_clear_object (&app);
  remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
