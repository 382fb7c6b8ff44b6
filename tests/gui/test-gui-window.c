/* test-gui-window.c: the main window, in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (run under xvfb-run), a session bus of its own
 * (dbus-run-session) and the schema of the build (GSETTINGS_SCHEMA_DIR);
 * settings live in memory (GSETTINGS_BACKEND=memory). Renders each page
 * and each state to PNG files in the build directory, or in
 * $SCREENSHOT_DIR (build-aux/screenshots.sh).
 */
#include "config.h"

#include "gui-test-util.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "backup-application.h"
#include "backup-gui-utils.h"
#include "backup-preferences.h"
#include "backup-progress-view.h"
#include "backup-resources.h"
#include "backup-vault.h"
#include "backup-window-private.h"

/* Under AddressSanitizer: GLib has no frame pointers, so only the slow
 * unwinder sees where its allocations come from (what lsan.supp matches). */
const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

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

/* The widget @name of the template of @page (a page of @window). */
static gpointer
page_child (gpointer page, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (page), G_OBJECT_TYPE (page), name);

  g_assert_nonnull (object);
  return object;
}

/* The run view of a page. */
static BackupProgressView *
progress_of (gpointer page)
{
  return page_child (page, "progress_view");
}

static const char *
content_of (gpointer page)
{
  return gtk_stack_get_visible_child_name (page_child (page, "content_stack"));
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
  /* Nothing chosen: the Send page shows its empty state, with no bottom
   * bar; the Receive page its form. Nothing runs, nothing to cancel. */
  g_assert_cmpstr (content_of (backup_window_get_send_page (window)), ==, "empty");
  g_assert_false (gtk_action_bar_get_revealed (child (window, "action_bar")));
  g_assert_cmpstr (content_of (backup_window_get_receive_page (window)), ==, "form");
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

  /* A folder: the form replaces the empty state, the archive group
   * appears with a proposed outer name. A folder is encrypted unless the
   * user says otherwise: without a password file it cannot be sent. */
  choose_source (window, dir);
  g_assert_cmpstr (content_of (backup_window_get_send_page (window)), ==, "form");
  g_assert_true (gtk_action_bar_get_revealed (child (window, "action_bar")));
  g_assert_true (gtk_widget_get_visible (archive_group));
  g_assert_cmpstr (gtk_editable_get_text (outer_row), ==, "Photos 2024-backup.zip");
  g_assert_true (gtk_switch_get_active (child (window, "encrypt_switch")));
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_assert_cmpstr (adw_action_row_get_subtitle (child (window, "passfile_row")), ==,
                   "Choose one, or write one on the Encrypt page");
  /* "No password" is an explicit choice. */
  gtk_switch_set_active (child (window, "encrypt_switch"), FALSE);
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
  GtkEditable *c1 = child (window, "confirm1_row");
  GtkEditable *p2 = child (window, "password2_row");
  GtkEditable *c2 = child (window, "confirm2_row");
  GtkWidget *save = child (window, "save_button");
  g_autofree char *path = g_build_filename (tmpdir, "passwords.bin", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *read1 = NULL;
  g_autofree char *read2 = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  /* Save is disabled until each password is typed twice alike. */
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (p1, "inner secret");
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (c1, "inner secret");
  gtk_editable_set_text (p2, "outer secret");
  gtk_editable_set_text (c2, "outer secreT");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (c2), "error"));
  g_assert_cmpstr (gtk_label_get_label (child (window, "hint_label")), ==,
                   "The two entries of the second password differ");
  gtk_editable_set_text (c2, "outer secret");
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (c2), "error"));
  g_assert_true (gtk_widget_get_sensitive (save));
  backup_encrypt_page_write_password_file (page, file);
  g_assert_true (backup_encrypt_page_get_writing (page));
  while (backup_encrypt_page_get_writing (page))
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (backup_window_get_last_toast (window), ==, "Password file saved");
  g_assert_cmpstr (gtk_editable_get_text (p1), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (c1), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (p2), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (c2), ==, "");
  g_assert_false (gtk_widget_get_sensitive (save));
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
  g_assert_cmpstr (backup_progress_view_get_state (view), ==, "waiting");
  g_assert_cmpstr (backup_progress_view_get_status (view), ==, "Waiting for a Backup");
  backup_progress_view_show_failed (view, "It broke.");
  g_assert_cmpstr (backup_progress_view_get_state (view), ==, "failed");
  g_assert_cmpstr (backup_progress_view_get_status (view), ==, "Backup Failed");
  {
    g_autofree char *details = backup_progress_view_dup_details (view);

    g_assert_cmpstr (details, ==, "It broke.");
  }
  backup_progress_view_show_done (view, "Backup Sent", "a <b> is there.", NULL);
  g_assert_cmpstr (backup_progress_view_get_state (view), ==, "done");
  {
    g_autofree char *details = backup_progress_view_dup_details (view);

    g_assert_cmpstr (details, ==, "a <b> is there.");
  }

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

  /* The failed state says why, whole, with Retry and Open Preferences. */
  gtk_widget_activate_action (GTK_WIDGET (page), "send.start", NULL);
  g_assert_null (backup_send_page_get_runner (page));
  g_assert_cmpstr (content_of (page), ==, "run");
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (page)), ==, "failed");
  g_assert_cmpstr (backup_progress_view_get_status (progress_of (page)), ==, "Backup Failed");
  {
    g_autofree char *details = backup_progress_view_dup_details (progress_of (page));

    g_assert_true (g_str_has_prefix (details, "“not a session” cannot be a session id"));
  }
  g_assert_cmpstr (gtk_actionable_get_action_name (page_child (progress_of (page), "retry_button")),
                   ==, "send.start");
  g_assert_cmpstr (
      gtk_actionable_get_action_name (page_child (progress_of (page), "preferences_button")), ==,
      "app.preferences");
  /* The bottom bar offers Done, which goes back to the form. */
  g_assert_cmpstr (gtk_stack_get_visible_child_name (child (window, "button_stack")), ==, "done");
  gtk_widget_activate_action (GTK_WIDGET (page), "send.done", NULL);
  g_assert_cmpstr (content_of (page), ==, "form");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (child (window, "button_stack")), ==, "start");
  destroy_window (window);
}

static gboolean
runner_is_gone (gpointer data)
{
  return backup_receive_page_get_runner (data) == NULL;
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
  g_assert_cmpstr (content_of (page), ==, "run");
  g_assert_true (backup_progress_view_get_runner (progress_of (page)) == runner);
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (page)), ==, "waiting");
  g_assert_cmpstr (backup_progress_view_get_status (progress_of (page)), ==,
                   "Waiting for a Backup");
  g_assert_true (gtk_spinner_get_spinning (page_child (progress_of (page), "spinner")));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (page_child (page, "button_stack")), ==,
                   "cancel");
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (backup_window_get_send_page (window))));
  g_assert_false (gtk_widget_get_sensitive (child (window, "receive_button")));
  g_assert_false (gtk_widget_get_sensitive (child (window, "dest_row")));

  /* Only whether to keep listening can change while it runs: the run
   * view has its own check button for it. */
  g_assert_true (gtk_widget_get_visible (page_child (page, "run_keep_listening_check")));
  g_assert_true (gtk_check_button_get_active (page_child (page, "run_keep_listening_check")));
  gtk_check_button_set_active (page_child (page, "run_keep_listening_check"), FALSE);
  g_assert_false (gtk_switch_get_active (keep_listening));
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
  wait_until (runner_is_gone, page, "the end of listening");
  g_assert_true (g_file_get_contents (stored_path, &stored, NULL, NULL));
  g_assert_cmpstr (stored, ==, "kept\n");
  /* The run ended with this backup: the done state says what was stored
   * where, and opens the folder. */
  g_assert_cmpstr (content_of (page), ==, "run");
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (page)), ==, "done");
  g_assert_cmpstr (backup_progress_view_get_status (progress_of (page)), ==, "Backup Received");
  {
    g_autofree char *details = backup_progress_view_dup_details (progress_of (page));
    g_autofree char *expected = g_strdup_printf ("keep.txt is stored in %s.", dest);
    g_autofree char *uri = g_filename_to_uri (dest, NULL, NULL);
    GtkWidget *open = page_child (progress_of (page), "open_folder_button");
    g_autoptr (GVariant) target = NULL;

    g_assert_cmpstr (details, ==, expected);
    g_assert_true (gtk_widget_get_visible (open));
    g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (open)), ==,
                     "win.open-folder");
    target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (open));
    g_variant_ref (target);
    g_assert_cmpstr (g_variant_get_string (target, NULL), ==, uri);
  }
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (backup_window_get_send_page (window))));
  gtk_widget_activate_action (GTK_WIDGET (page), "receive.done", NULL);
  g_assert_cmpstr (content_of (page), ==, "form");
  g_assert_true (gtk_widget_get_sensitive (child (window, "receive_button")));

  destroy_window (window);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

/* Renders @widget to the PNG file @name; FALSE (with @must_draw FALSE)
 * when it never settled into one frame to render (a window redrawn all the
 * time under a sanitizer). */
static gboolean
render_png (GtkWidget *widget, const char *name, gboolean must_draw)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width, height;
  GskRenderer *renderer;

  /* A window just shown may not be allocated yet (slower under ASan). */
  for (guint i = 0; i < 100 && gtk_widget_get_width (widget) == 0; i++)
    run_for (50);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_to_node (snapshot);
  /* Nothing drawn yet: wait for the first frames. */
  for (guint i = 0; i < 100 && node == NULL; i++)
    {
      g_autoptr (GtkSnapshot) again = gtk_snapshot_new ();

      run_for (50);
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (again), width, height);
      node = gtk_snapshot_to_node (again);
    }
  if (node == NULL && !must_draw)
    {
      g_test_message ("%s not rendered: the window never settled", name);
      return FALSE;
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_nonnull (texture);
  if (g_getenv ("SCREENSHOT_DIR") != NULL)
    path = g_build_filename (g_getenv ("SCREENSHOT_DIR"), name, NULL);
  else
    path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("rendered %s (%dx%d)", path, width, height);
  return TRUE;
}

static void
save_png (GtkWidget *widget, const char *name)
{
  render_png (widget, name, TRUE);
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
  gtk_editable_set_text (child (window, "password1_row"), "correct horse");
  gtk_editable_set_text (child (window, "confirm1_row"), "correct horse");
  gtk_editable_set_text (child (window, "password2_row"), "Tr0ub4dor&3 battery staple");
  gtk_editable_set_text (child (window, "confirm2_row"), "Tr0ub4dor&3 battery");

  /* The window works on a phone: nothing needs more than 360 pixels. */
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL,
                      NULL);
  if (min_width > 360)
    {
      const char *names[]
          = { "source_row",        "archive_group", "outer_name_row", "passfile_row",
              "send_session_row",  "send_button",   "dest_row",       "receive_session_row",
              "action_bar",        "stack",         "toast_overlay" };

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
  render_window (920, "gui-wide");
}

static void
test_window_render_narrow (void)
{
  render_window (360, "gui-narrow");
}

/* ------------------------------------------------------------------------ */
/* What a user sees                                                         */

/* @widget's bounds in @window's coordinates. */
static graphene_rect_t
bounds_in (GtkWidget *widget, GtkWidget *window)
{
  graphene_rect_t bounds;

  g_assert_true (gtk_widget_compute_bounds (widget, window, &bounds));
  return bounds;
}

static void
assert_inside_window (GtkWidget *widget, GtkWidget *window)
{
  graphene_rect_t bounds = bounds_in (widget, window);

  g_test_message ("%s at %.0f,%.0f %.0fx%.0f in a window of %dx%d",
                  G_OBJECT_TYPE_NAME (widget), bounds.origin.x, bounds.origin.y, bounds.size.width,
                  bounds.size.height, gtk_widget_get_width (window),
                  gtk_widget_get_height (window));
  g_assert_true (gtk_widget_get_mapped (widget));
  g_assert_cmpfloat (bounds.size.height, >, 0);
  g_assert_cmpfloat (bounds.origin.x, >=, 0);
  g_assert_cmpfloat (bounds.origin.y, >=, 0);
  g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (window));
  g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=, gtk_widget_get_height (window));
  /* Outside the scrolled content: it never scrolls away. */
  g_assert_null (gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW));
}

/* The form of @page needs no scrolling at the window's size. */
static void
assert_form_fits (gpointer page)
{
  AdwPreferencesPage *form = page_child (page, "form");
  GtkWidget *scrolled = gtk_widget_get_first_child (GTK_WIDGET (form));
  GtkAdjustment *adjustment;

  while (scrolled != NULL && !GTK_IS_SCROLLED_WINDOW (scrolled))
    scrolled = gtk_widget_get_next_sibling (scrolled);
  g_assert_nonnull (scrolled);
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  g_test_message ("%s form: %.0f of %.0f pixels shown", G_OBJECT_TYPE_NAME (page),
                  gtk_adjustment_get_page_size (adjustment), gtk_adjustment_get_upper (adjustment));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adjustment), <=,
                     gtk_adjustment_get_page_size (adjustment) + 1);
}

/* At the default size, with a folder chosen, the primary button and the
 * bottom bar are in the window, and a typical page needs no scrolling. */
static void
test_window_bottom_bar (void)
{
  BackupWindow *window = new_window ();
  BackupSendPage *send_page = backup_window_get_send_page (window);
  BackupReceivePage *receive_page = backup_window_get_receive_page (window);
  AdwViewStack *stack = child (window, "stack");
  g_autofree char *folder = g_build_filename (tmpdir, "Bottom Bar Folder", NULL);
  g_autoptr (GFile) dir = NULL;
  int width = 0, height = 0;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  dir = g_file_new_for_path (folder);
  gtk_editable_set_text (child (window, "send_session_row"), "bottom-bar-session");
  choose_source (window, dir);

  /* The window's size is the default one (the settings' defaults). */
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 920);
  g_assert_cmpint (height, ==, 700);
  gtk_window_present (GTK_WINDOW (window));
  run_for (500);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window)), >=, height - 24);

  assert_inside_window (page_child (send_page, "send_button"), GTK_WIDGET (window));
  assert_form_fits (send_page);

  adw_view_stack_set_visible_child_name (stack, "receive");
  run_for (300);
  assert_inside_window (page_child (receive_page, "receive_button"), GTK_WIDGET (window));
  assert_form_fits (receive_page);

  adw_view_stack_set_visible_child_name (stack, "encrypt");
  run_for (300);
  assert_inside_window (child (window, "save_button"), GTK_WIDGET (window));
  assert_form_fits (backup_window_get_encrypt_page (window));
  destroy_window (window);
}

/* Collects the mnemonic keys of the labels under @widget that are shown. */
static void
collect_mnemonics (GtkWidget *widget, GHashTable *keys, GString *clashes)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && gtk_label_get_use_underline (GTK_LABEL (widget)))
    {
      guint key = gdk_keyval_to_lower (gtk_label_get_mnemonic_keyval (GTK_LABEL (widget)));
      const char *text = gtk_label_get_label (GTK_LABEL (widget));

      /* An entry row shows its title in two labels (over the text and in
       * place of it): one control, one mnemonic. */
      GtkWidget *owner = gtk_widget_get_ancestor (widget, ADW_TYPE_PREFERENCES_ROW);

      if (owner == NULL)
        owner = widget;
      if (key != GDK_KEY_VoidSymbol)
        {
          GtkWidget *other = g_hash_table_lookup (keys, GUINT_TO_POINTER (key));

          if (other != NULL && other != owner)
            g_string_append_printf (clashes, "“%s” (%s) and “%s” (%s); ", text,
                                    G_OBJECT_TYPE_NAME (owner),
                                    GTK_IS_LABEL (other) ? gtk_label_get_label (GTK_LABEL (other))
                                                         : adw_preferences_row_get_title (
                                                             ADW_PREFERENCES_ROW (other)),
                                    G_OBJECT_TYPE_NAME (other));
          else
            g_hash_table_insert (keys, GUINT_TO_POINTER (key), owner);
        }
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    collect_mnemonics (c, keys, clashes);
}

static void
assert_mnemonics_unique (BackupWindow *window, const char *what)
{
  g_autoptr (GHashTable) keys = g_hash_table_new (NULL, NULL);
  g_autoptr (GString) clashes = g_string_new ("");

  /* What a crossfade still shows of the previous state does not count. */
  for (guint i = 0; i < 100; i++)
    {
      if (!gtk_stack_get_transition_running (
              page_child (backup_window_get_send_page (window), "content_stack"))
          && !gtk_stack_get_transition_running (
              page_child (backup_window_get_receive_page (window), "content_stack")))
        break;
      run_for (50);
    }
  collect_mnemonics (GTK_WIDGET (window), keys, clashes);
  g_test_message ("%s: %u mnemonics", what, g_hash_table_size (keys));
  if (clashes->len > 0)
    g_error ("%s: one mnemonic for %s", what, clashes->str);
  g_assert_cmpuint (g_hash_table_size (keys), >=, 4);
}

/* No key of Alt+key is used twice on what a page shows, in any state. */
static void
test_window_mnemonics (void)
{
  BackupWindow *window = new_window ();
  BackupSendPage *send_page = backup_window_get_send_page (window);
  AdwViewStack *stack = child (window, "stack");
  g_autofree char *folder = g_build_filename (tmpdir, "Mnemonics", NULL);
  g_autoptr (GFile) dir = NULL;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  dir = g_file_new_for_path (folder);
  gtk_window_present (GTK_WINDOW (window));
  run_for (300);
  assert_mnemonics_unique (window, "send, empty");
  choose_source (window, dir);
  run_for (300);
  assert_mnemonics_unique (window, "send, a folder");
  gtk_editable_set_text (child (window, "send_session_row"), "not a session");
  gtk_switch_set_active (child (window, "encrypt_switch"), FALSE);
  gtk_widget_activate_action (GTK_WIDGET (send_page), "send.start", NULL);
  run_for (300);
  assert_mnemonics_unique (window, "send, failed");
  adw_view_stack_set_visible_child_name (stack, "receive");
  run_for (300);
  assert_mnemonics_unique (window, "receive");
  adw_view_stack_set_visible_child_name (stack, "encrypt");
  run_for (300);
  assert_mnemonics_unique (window, "encrypt");
  destroy_window (window);
}

/* Ctrl+? shows the shortcuts window (GtkApplication loads it from
 * gtk/help-overlay.ui), Ctrl+W closes the window. */
static void
test_window_shortcuts (void)
{
  BackupWindow *window = new_window ();
  g_auto (GStrv) help_accels = NULL;
  g_auto (GStrv) close_accels = NULL;
  GtkShortcutsWindow *overlay;

  help_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                       "win.show-help-overlay");
  g_assert_true (g_strv_contains ((const char *const *)help_accels, "<Control>question"));
  close_accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "window.close");
  g_assert_true (g_strv_contains ((const char *const *)close_accels, "<Control>w"));

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  run_for (200);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
  save_png (GTK_WIDGET (overlay), "shortcuts.png");
  gtk_window_close (GTK_WINDOW (overlay));
  run_for (100);

  /* Ctrl+W: the window's own close action, as its close button. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "window.close", NULL));
  iterate ();
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (window)));
  iterate ();
  g_assert_finalize_object (window);
}

static gboolean
runner_is_set (gpointer data)
{
  return backup_receive_page_get_runner (data) != NULL;
}

static gboolean
receive_is_over (gpointer data)
{
  return backup_receive_page_get_runner (data) == NULL;
}

/* Escape while a backup runs asks first; "Keep Running" keeps it, "Stop
 * Backup" stops it (the window stays). */
static void
test_window_escape_asks (void)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *signaling = g_build_filename (tmpdir, "escape-signaling", NULL);
  g_autofree char *dest = g_build_filename (tmpdir, "escape-dest", NULL);
  const char *addresses[] = { "127.0.0.1", NULL };
  BackupWindow *window;
  BackupReceivePage *page;
  GtkWidget *dialog;

  g_assert_cmpint (g_mkdir_with_parents (signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_settings_set_string (settings, "signaling-url", signaling);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_string (settings, "session-id", "escape-test");

  window = new_window ();
  page = backup_window_get_receive_page (window);
  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_activate_action (GTK_WIDGET (page), "receive.start", NULL);
  wait_until (runner_is_set, page, "the receiver");

  /* Escape is the window's binding: it asks, and stops nothing yet. */
  g_assert_null (backup_window_get_stop_dialog (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL));
  dialog = backup_window_get_stop_dialog (window);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Stop the Backup?");
  run_for (200);
  save_png (dialog, "stop-dialog.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  run_for (100);
  g_assert_nonnull (backup_receive_page_get_runner (page));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL);
  dialog = backup_window_get_stop_dialog (window);
  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "stop");
  wait_until (receive_is_over, page, "the receiver to stop");
  /* Stopped, not failed: back to the form, the window still there. */
  g_assert_cmpstr (content_of (page), ==, "form");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));

  destroy_window (window);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

/* Emits ::drop on the window's drop target with @value, as GTK does when
 * a drag from another application ends over the window. */
static gboolean
deliver_drop (BackupWindow *window, const GValue *value)
{
  GtkDropTarget *target = backup_window_get_drop_target (window);
  gboolean accepted = FALSE;

  g_signal_emit_by_name (target, "drop", value, 10.0, 10.0, &accepted);
  return accepted;
}

static void
file_list_value (GValue *value, GFile *first, GFile *second)
{
  GSList *files = NULL;

  if (second != NULL)
    files = g_slist_prepend (files, second);
  files = g_slist_prepend (files, first);
  g_value_init (value, GDK_TYPE_FILE_LIST);
  g_value_set_boxed (value, files);
  g_slist_free (files);
}

static void
test_window_drop (void)
{
  BackupWindow *window = new_window ();
  BackupSendPage *page = backup_window_get_send_page (window);
  GtkDropTarget *target = backup_window_get_drop_target (window);
  GtkRevealer *highlight = child (window, "drop_revealer");
  AdwStatusPage *status = child (window, "drop_status");
  g_autofree char *path = g_build_filename (tmpdir, "dropped.txt", NULL);
  g_autofree char *other_path = g_build_filename (tmpdir, "other.txt", NULL);
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFile) other = NULL;
  g_autoptr (GFile) remote = g_file_new_for_uri ("sftp://backup.example/home/me/notes.txt");
  GdkDragAction action = 0;

  g_assert_true (g_file_set_contents (path, "dropped", -1, NULL));
  g_assert_true (g_file_set_contents (other_path, "other", -1, NULL));
  file = g_file_new_for_path (path);
  other = g_file_new_for_path (other_path);
  gtk_editable_set_text (child (window, "send_session_row"), "drop-session");
  adw_view_stack_set_visible_child_name (child (window, "stack"), "receive");
  gtk_window_present (GTK_WINDOW (window));
  run_for (200);

  /* Dragging over the window shows the highlight. */
  g_assert_false (gtk_revealer_get_reveal_child (highlight));
  g_signal_emit_by_name (target, "enter", 100.0, 100.0, &action);
  g_assert_cmpint (action, ==, GDK_ACTION_COPY);
  g_assert_true (gtk_revealer_get_reveal_child (highlight));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "Drop a file or folder to back it up");
  run_for (300);
  save_png (GTK_WIDGET (window), "drop-highlight.png");
  g_signal_emit_by_name (target, "leave");
  g_assert_false (gtk_revealer_get_reveal_child (highlight));

  /* Several files: refused, and the user is told why. */
  {
    g_auto (GValue) value = G_VALUE_INIT;

    file_list_value (&value, file, other);
    g_assert_false (deliver_drop (window, &value));
    g_assert_cmpstr (backup_window_get_last_toast (window), ==,
                     "Drop one file or folder at a time");
    g_assert_null (backup_send_page_get_source (page));
  }
  /* A file that is not on this computer: refused too. */
  {
    g_auto (GValue) value = G_VALUE_INIT;

    file_list_value (&value, remote, NULL);
    g_assert_false (deliver_drop (window, &value));
    g_assert_cmpstr (backup_window_get_last_toast (window), ==,
                     "Only files on this computer can be backed up");
  }
  /* One local file: it becomes the source, the Send page shows, and Send
   * Backup has the focus. */
  {
    g_auto (GValue) value = G_VALUE_INIT;

    file_list_value (&value, file, NULL);
    g_assert_true (deliver_drop (window, &value));
    g_assert_false (gtk_revealer_get_reveal_child (highlight));
    while (backup_send_page_get_choosing_source (page))
      g_main_context_iteration (NULL, TRUE);
    g_assert_true (g_file_equal (backup_send_page_get_source (page), file));
    g_assert_cmpstr (adw_view_stack_get_visible_child_name (child (window, "stack")), ==, "send");
    run_for (200);
    g_assert_true (gtk_root_get_focus (GTK_ROOT (window)) == child (window, "send_button"));
  }
  destroy_window (window);
}

/* The name typed as a signaling location is checked as it is typed, with
 * the core's rules, and the reason shown under the row. */
static void
test_preferences_signaling_check (void)
{
  GSettings *settings = backup_application_get_settings (app);
  BackupPreferences *prefs = g_object_ref (backup_preferences_new (settings));
  GtkEditable *row = GTK_EDITABLE (
      gtk_widget_get_template_child (GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "signaling_row"));
  GtkLabel *error_label = GTK_LABEL (gtk_widget_get_template_child (
      GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "signaling_error_label"));
  g_autofree char *saved = NULL;

  gtk_window_present (GTK_WINDOW (prefs));
  gtk_editable_set_text (row, "/srv/signaling");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (row), "error"));
  saved = g_settings_get_string (settings, "signaling-url");
  g_assert_cmpstr (saved, ==, "/srv/signaling");
  g_clear_pointer (&saved, g_free);

  gtk_editable_set_text (row, "ftp://backup.example/");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (row), "error"));
  g_assert_true (g_str_has_prefix (gtk_label_get_label (error_label),
                                   "Unsupported signaling URL “ftp://backup.example/”"));
  saved = g_settings_get_string (settings, "signaling-url");
  g_assert_cmpstr (saved, ==, "ftp://backup.example/");
  g_clear_pointer (&saved, g_free);
  run_for (300);
  save_png (GTK_WIDGET (prefs), "preferences-error.png");

  gtk_editable_set_text (row, "https://signal.example");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  saved = g_settings_get_string (settings, "signaling-url");
  g_assert_cmpstr (saved, ==, "https://signal.example");

  gtk_window_destroy (GTK_WINDOW (prefs));
  iterate ();
  g_assert_finalize_object (prefs);
  g_settings_reset (settings, "signaling-url");
}

static void
test_password_strength (void)
{
  g_assert_cmpint (backup_gui_password_strength (""), ==, BACKUP_GUI_STRENGTH_VERY_WEAK);
  g_assert_cmpint (backup_gui_password_strength ("qwerty"), ==, BACKUP_GUI_STRENGTH_VERY_WEAK);
  /* Runs and repeats add little. */
  g_assert_cmpint (backup_gui_password_strength ("aaaaaaaaaaaaaaaaaaaa"), ==,
                   BACKUP_GUI_STRENGTH_VERY_WEAK);
  g_assert_cmpint (backup_gui_password_strength ("abcdefghijklmnopqrst"), ==,
                   BACKUP_GUI_STRENGTH_VERY_WEAK);
  g_assert_cmpint (backup_gui_password_strength ("12345678901234567890"), ==,
                   BACKUP_GUI_STRENGTH_VERY_WEAK);
  g_assert_cmpint (backup_gui_password_strength ("password"), ==, BACKUP_GUI_STRENGTH_WEAK);
  g_assert_cmpint (backup_gui_password_strength ("Tr0ub4dor&3"), ==, BACKUP_GUI_STRENGTH_GOOD);
  g_assert_cmpint (backup_gui_password_strength ("correct horse battery staple"), ==,
                   BACKUP_GUI_STRENGTH_STRONG);
  /* More kinds of characters, more bits for each. */
  g_assert_cmpfloat (backup_gui_password_bits ("mountain"), <, backup_gui_password_bits ("Mount4in"));
  g_assert_cmpfloat (backup_gui_password_bits ("\xff\xfe"), ==, 0);
}

/* The Encrypt page shows each password's strength, and its save dialog
 * opens in the user's configuration folder. */
static void
test_encrypt_page_strength_and_folder (void)
{
  BackupWindow *window = new_window ();
  BackupEncryptPage *page = backup_window_get_encrypt_page (window);
  GtkLevelBar *bar = child (window, "strength1_bar");
  g_autofree char *expected = g_build_filename (g_get_user_config_dir (), "distributed-backup",
                                                NULL);
  GtkFileChooser *chooser;
  g_autoptr (GFile) folder = NULL;
  g_autofree char *folder_path = NULL;

  g_assert_cmpfloat (gtk_level_bar_get_value (bar), ==, 0);
  gtk_editable_set_text (child (window, "password1_row"), "qwerty");
  g_assert_cmpfloat (gtk_level_bar_get_value (bar), ==, BACKUP_GUI_STRENGTH_VERY_WEAK);
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (child (window, "strength1_row")),
                                   "Very weak"));
  gtk_editable_set_text (child (window, "password1_row"), "correct horse battery staple");
  g_assert_cmpfloat (gtk_level_bar_get_value (bar), ==, BACKUP_GUI_STRENGTH_STRONG);
  g_assert_cmpstr (adw_action_row_get_subtitle (child (window, "strength1_row")), ==, "Strong");

  gtk_editable_set_text (child (window, "confirm1_row"), "correct horse battery staple");
  gtk_editable_set_text (child (window, "password2_row"), "a second one, different");
  gtk_editable_set_text (child (window, "confirm2_row"), "a second one, different");
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "encrypt.save-passfile", NULL));
  chooser = backup_gui_get_chooser (GTK_WIDGET (page));
  g_assert_nonnull (chooser);
  run_for (300);
  folder = gtk_file_chooser_get_current_folder (chooser);
  g_assert_nonnull (folder);
  folder_path = g_file_get_path (folder);
  g_assert_cmpstr (folder_path, ==, expected);
  backup_gui_close_chooser (GTK_WIDGET (page));
  destroy_window (window);
}

/* ------------------------------------------------------------------------ */
/* Notifications, through a stand-in org.gtk.Notifications in this process */

static const char notifications_xml[]
    = "<node><interface name='org.gtk.Notifications'>"
      "<method name='AddNotification'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
      "<arg type='a{sv}' direction='in'/></method>"
      "<method name='RemoveNotification'><arg type='s' direction='in'/>"
      "<arg type='s' direction='in'/></method>"
      "</interface></node>";

static GPtrArray *notifications; /* of GVariant (ssa{sv}) */
static gboolean notifications_owned;

static void
notifications_call_cb (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *method, GVariant *params,
                       GDBusMethodInvocation *invocation, gpointer user_data)
{
  if (g_str_equal (method, "AddNotification"))
    g_ptr_array_add (notifications, g_variant_ref (params));
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable notifications_vtable = { notifications_call_cb, NULL, NULL, { 0 } };

static void
notifications_name_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  notifications_owned = TRUE;
}

static gboolean
notifications_at_least (gpointer data)
{
  return notifications->len >= GPOINTER_TO_UINT (data);
}

static gboolean
owned (gpointer data)
{
  return notifications_owned;
}

static const char *
notification_string (GVariant *call, const char *key)
{
  g_autoptr (GVariant) dict = g_variant_get_child_value (call, 2);
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return NULL;
  return value;
}

/* Each received backup has a notification of its own that opens the
 * folder and offers "Show in Files"; a run that fails while its window is
 * not in front is announced; the sender is the application's name. */
static void
test_notifications (void)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (app));
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  g_autofree char *dest = g_build_filename (tmpdir, "notified", NULL);
  g_autofree char *dest_uri = g_filename_to_uri (dest, NULL, NULL);
  g_autofree char *file_uri = NULL;
  g_autofree char *not_a_folder = g_build_filename (tmpdir, "not-a-folder", NULL);
  GSettings *settings = backup_application_get_settings (app);
  const char *addresses[] = { "127.0.0.1", NULL };
  guint registration, owner;
  BackupWindow *window;
  BackupReceivePage *page;

  g_assert_nonnull (bus);
  notifications = g_ptr_array_new_with_free_func ((GDestroyNotify)g_variant_unref);
  registration = g_dbus_connection_register_object (bus, "/org/gtk/Notifications",
                                                    info->interfaces[0], &notifications_vtable,
                                                    NULL, NULL, NULL);
  g_assert_cmpuint (registration, >, 0);
  owner = g_bus_own_name_on_connection (bus, "org.gtk.Notifications", G_BUS_NAME_OWNER_FLAGS_NONE,
                                        notifications_name_cb, NULL, NULL, NULL);
  wait_until (owned, NULL, "org.gtk.Notifications");

  g_assert_cmpstr (g_get_application_name (), ==, "Distributed Backup");

  /* Two backups of one name: two notifications, neither replaces the
   * other. */
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_action_group_activate_action (G_ACTION_GROUP (app), "notify-received",
                                  g_variant_new ("(ss)", "notes.txt", dest));
  g_action_group_activate_action (G_ACTION_GROUP (app), "notify-received",
                                  g_variant_new ("(ss)", "notes.txt", dest));
  wait_until (notifications_at_least, GUINT_TO_POINTER (2), "two notifications");
  file_uri = g_strconcat (dest_uri, "/notes.txt", NULL);
  for (guint i = 0; i < 2; i++)
    {
      GVariant *call = notifications->pdata[i];
      g_autoptr (GVariant) dict = g_variant_get_child_value (call, 2);
      g_autoptr (GVariant) target = NULL;
      g_autoptr (GVariant) buttons = NULL;
      g_autoptr (GVariant) button = NULL;
      const char *label = NULL;
      const char *action = NULL;
      g_autoptr (GVariant) button_target = NULL;
      g_autofree char *body = g_strdup_printf ("notes.txt was stored safely in %s.", dest);
      g_autofree char *printed = g_variant_print (call, FALSE);

      g_test_message ("notification %s", printed);
      g_assert_cmpstr (notification_string (call, "title"), ==, "Backup Received");
      g_assert_cmpstr (notification_string (call, "body"), ==, body);
      g_assert_cmpstr (notification_string (call, "default-action"), ==, "app.open-folder");
      target = g_variant_lookup_value (dict, "default-action-target", NULL);
      g_assert_nonnull (target);
      g_assert_cmpstr (g_variant_get_string (target, NULL), ==, dest_uri);
      buttons = g_variant_lookup_value (dict, "buttons", G_VARIANT_TYPE ("aa{sv}"));
      g_assert_nonnull (buttons);
      g_assert_cmpuint (g_variant_n_children (buttons), ==, 1);
      button = g_variant_get_child_value (buttons, 0);
      g_assert_true (g_variant_lookup (button, "label", "&s", &label));
      g_assert_cmpstr (label, ==, "Show in Files");
      g_assert_true (g_variant_lookup (button, "action", "&s", &action));
      g_assert_cmpstr (action, ==, "app.show-in-files");
      button_target = g_variant_lookup_value (button, "target", NULL);
      g_assert_nonnull (button_target);
      g_assert_cmpstr (g_variant_get_string (button_target, NULL), ==, file_uri);
    }
  {
    const char *id0 = NULL;
    const char *id1 = NULL;

    g_variant_get_child (notifications->pdata[0], 1, "&s", &id0);
    g_variant_get_child (notifications->pdata[1], 1, "&s", &id1);
    g_assert_cmpstr (id0, !=, id1);
  }

  /* A receiver whose signaling folder is a file fails while its window is
   * not in front (never shown here): the failed state, and a
   * notification. */
  g_assert_true (g_file_set_contents (not_a_folder, "a file", -1, NULL));
  g_settings_set_string (settings, "signaling-url", not_a_folder);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_string (settings, "session-id", "notify-failed");
  window = new_window ();
  page = backup_window_get_receive_page (window);
  gtk_widget_activate_action (GTK_WIDGET (page), "receive.start", NULL);
  wait_until (receive_is_over, page, "the receiver to fail");
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (page)), ==, "failed");
  wait_until (notifications_at_least, GUINT_TO_POINTER (3), "the failure's notification");
  {
    GVariant *call = notifications->pdata[2];
    g_autofree char *details = backup_progress_view_dup_details (progress_of (page));

    g_test_message ("failure: %s", details);
    g_assert_cmpstr (notification_string (call, "title"), ==, "Backup Failed");
    g_assert_cmpstr (notification_string (call, "body"), ==, details);
    g_assert_cmpstr (notification_string (call, "priority"), ==, "high");
  }
  destroy_window (window);

  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (bus, registration);
  g_clear_pointer (&notifications, g_ptr_array_unref);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

static int
truncate_file (const char *path, gint64 size)
{
  return truncate (path, size) == 0 || (g_file_set_contents (path, "", 0, NULL)
                                        && truncate (path, size) == 0)
             ? 0
             : -1;
}

static void
receiver_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  backup_runner_run_finish (BACKUP_RUNNER (object), result, NULL);
  *(gboolean *)user_data = TRUE;
}

static gboolean
view_in_progress (gpointer data)
{
  return g_strcmp0 (backup_progress_view_get_state (data), "progress") == 0;
}

static gboolean
send_is_over (gpointer data)
{
  return backup_send_page_get_runner (data) == NULL;
}

/* Each state of a run, as a user sees it, rendered. */
static void
test_window_render_states (void)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *signaling = g_build_filename (tmpdir, "states-signaling", NULL);
  g_autofree char *dest = g_build_filename (tmpdir, "Backups", NULL);
  const char *addresses[] = { "127.0.0.1", NULL };
  BackupWindow *window;
  BackupSendPage *send_page;
  BackupReceivePage *receive_page;
  g_autofree char *path = g_build_filename (tmpdir, "report.pdf", NULL);
  g_autoptr (GFile) file = NULL;

  g_assert_cmpint (g_mkdir_with_parents (signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "report", -1, NULL));
  file = g_file_new_for_path (path);
  g_settings_set_string (settings, "signaling-url", signaling);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_string (settings, "session-id", "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12");

  window = new_window ();
  send_page = backup_window_get_send_page (window);
  receive_page = backup_window_get_receive_page (window);
  gtk_window_present (GTK_WINDOW (window));
  run_for (400);
  g_assert_cmpstr (content_of (send_page), ==, "empty");
  save_png (GTK_WIDGET (window), "state-send-empty.png");

  choose_source (window, file);
  gtk_editable_set_text (child (window, "send_session_row"), "not a session");
  gtk_widget_activate_action (GTK_WIDGET (send_page), "send.start", NULL);
  run_for (400);
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (send_page)), ==, "failed");
  save_png (GTK_WIDGET (window), "state-send-failed.png");
  gtk_widget_activate_action (GTK_WIDGET (send_page), "send.done", NULL);

  /* In progress: a file large enough to be seen on its way. */
  {
    g_autofree char *big_path = g_build_filename (tmpdir, "disk.img", NULL);
    g_autofree char *inbox = g_build_filename (tmpdir, "inbox", NULL);
    g_autoptr (GFile) big = NULL;
    g_autoptr (GFile) inbox_dir = NULL;
    g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
    g_autoptr (BackupRunner) receiver = NULL;
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    BackupProgressView *view = progress_of (send_page);
    g_autofree char *details = NULL;
    gboolean received = FALSE;

    g_assert_cmpint (g_mkdir_with_parents (inbox, 0700), ==, 0);
    g_assert_cmpint (truncate_file (big_path, 1024 * 1024 * 1024), ==, 0);
    big = g_file_new_for_path (big_path);
    inbox_dir = g_file_new_for_path (inbox);
    backup_profile_set_session_id (profile, "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12");
    backup_profile_set_signaling (profile, signaling);
    backup_profile_set_ice_addresses (profile, addresses);
    backup_profile_set_destination (profile, inbox_dir);
    backup_profile_set_timeout (profile, 30);
    receiver = backup_runner_new (profile);
    backup_runner_run_async (receiver, cancellable, receiver_done_cb, &received);

    choose_source (window, big);
    gtk_editable_set_text (child (window, "send_session_row"),
                           "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12");
    gtk_widget_activate_action (GTK_WIDGET (send_page), "send.start", NULL);
    wait_until (view_in_progress, view, "the progress state");
    run_for (1500);
    g_assert_cmpstr (backup_progress_view_get_state (view), ==, "progress");
    g_assert_cmpstr (backup_progress_view_get_status (view), ==, "Sending disk.img");
    details = backup_progress_view_dup_details (view);
    g_test_message ("progress: %s", details);
    g_assert_nonnull (strstr (details, " of 1.1"));
    g_assert_nonnull (strstr (details, "/s — "));
    g_assert_nonnull (strstr (details, " left"));
    render_png (GTK_WIDGET (window), "state-send-progress.png", FALSE);
    backup_send_page_cancel (send_page);
    g_cancellable_cancel (cancellable);
    wait_until (send_is_over, send_page, "the sender to stop");
    wait_until (is_true, &received, "the receiver to stop");
    g_assert_cmpstr (content_of (send_page), ==, "form");
  }

  /* Waiting: the spinner, the session id to use on the other side. */
  adw_view_stack_set_visible_child_name (child (window, "stack"), "receive");
  gtk_widget_activate_action (GTK_WIDGET (receive_page), "receive.start", NULL);
  wait_until (runner_is_set, receive_page, "the receiver");
  run_for (400);
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (receive_page)), ==, "waiting");
  save_png (GTK_WIDGET (window), "state-receive-waiting.png");
  /* A backup comes: how it is shown once the run ended. */
  {
    g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
    g_autoptr (BackupRunner) sender = NULL;
    gboolean sent = FALSE;

    backup_profile_set_session_id (profile, "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12");
    backup_profile_set_signaling (profile, signaling);
    backup_profile_set_ice_addresses (profile, addresses);
    backup_profile_set_source (profile, file);
    backup_profile_set_timeout (profile, 30);
    sender = backup_runner_new (profile);
    backup_runner_run_async (sender, NULL, sender_done_cb, &sent);
    wait_until (is_true, &sent, "the sender");
    wait_until (receive_is_over, receive_page, "the receiver to end");
  }
  g_assert_cmpstr (backup_progress_view_get_state (progress_of (receive_page)), ==, "done");
  g_assert_true (gtk_widget_get_sensitive (page_child (receive_page, "done_button")));
  run_for (400);
  save_png (GTK_WIDGET (window), "state-receive-done.png");

  destroy_window (window);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

/* The release notes of a version, from a metainfo file with translations
 * merged in; the first language they are translated to. */
static void
test_release_notes (void)
{
  static const char metainfo[]
      = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<component type=\"desktop-application\">\n"
        "  <description><p>Not a release note.</p></description>\n"
        "  <releases>\n"
        "    <release version=\"0.3.0\" date=\"2027-01-01\">\n"
        "      <description>\n"
        "        <p>Faster &amp; <em>smaller</em>.</p>\n"
        "        <p xml:lang=\"de\">Schneller &amp; <em>kleiner</em>.</p>\n"
        "        <ul>\n"
        "          <li>One\n"
        "              item</li>\n"
        "          <li xml:lang=\"ru\">Один</li>\n"
        "          <li xml:lang=\"de\">Eins</li>\n"
        "          <li>Two &lt;items&gt;</li>\n"
        "        </ul>\n"
        "      </description>\n"
        "    </release>\n"
        "    <release version=\"0.2.0\" date=\"2026-12-06\">\n"
        "      <description><p>Older.</p></description>\n"
        "    </release>\n"
        "    <release version=\"0.1.0\" date=\"2026-11-27\"/>\n"
        "  </releases>\n"
        "</component>\n";
  const char *none[] = { "C", NULL };
  const char *german[] = { "de_DE.UTF-8", "de_DE", "de", "C", NULL };
  const char *russian[] = { "ru", "C", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *de = NULL;
  g_autofree char *ru = NULL;
  g_autofree char *older = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *broken = NULL;

  plain = backup_gui_release_notes (metainfo, -1, "0.3.0", none, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plain, ==,
                   "<p>Faster &amp; <em>smaller</em>.</p>"
                   "<ul><li>One item</li><li>Two &lt;items&gt;</li></ul>");
  de = backup_gui_release_notes (metainfo, -1, "0.3.0", german, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (de, ==,
                   "<p>Schneller &amp; <em>kleiner</em>.</p>"
                   "<ul><li>Eins</li><li>Two &lt;items&gt;</li></ul>");
  ru = backup_gui_release_notes (metainfo, -1, "0.3.0", russian, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ru, ==,
                   "<p>Faster &amp; <em>smaller</em>.</p>"
                   "<ul><li>Один</li><li>Two &lt;items&gt;</li></ul>");
  older = backup_gui_release_notes (metainfo, -1, "0.2.0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (older, ==, "<p>Older.</p>");

  missing = backup_gui_release_notes (metainfo, -1, "9.9.9", none, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (missing);
  g_clear_error (&error);
  empty = backup_gui_release_notes (metainfo, -1, "0.1.0", none, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (empty);
  g_clear_error (&error);
  broken = backup_gui_release_notes ("<component><releases><release version=\"0.3.0\">", -1,
                                     "0.3.0", none, &error);
  g_assert_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_PARSE);
  g_assert_null (broken);
}

/* The notes of PACKAGE_VERSION as data/…metainfo.xml.in writes them: the
 * markup of its <description>, without the line breaks and indentation. */
static char *
expected_release_notes (void)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *release = g_strdup_printf ("<release version=\"%s\"", PACKAGE_VERSION);
  g_autoptr (GError) error = NULL;
  g_autoptr (GRegex) space = NULL;
  const char *start, *end;
  g_autofree char *notes = NULL;

  path = g_build_filename (g_getenv ("SOURCE_ROOT"), "data", APP_ID ".metainfo.xml.in", NULL);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  start = strstr (contents, release);
  g_assert_nonnull (start); /* the project's version has its release in the metainfo */
  start = strstr (start, "<description>");
  g_assert_nonnull (start);
  start += strlen ("<description>");
  end = strstr (start, "</description>");
  g_assert_nonnull (end);
  g_assert_null (g_strstr_len (start, end - start, "</release>"));
  notes = g_strndup (start, end - start);
  space = g_regex_new (">\\s+<", 0, 0, &error);
  g_assert_no_error (error);
  return g_strstrip (g_regex_replace_literal (space, notes, -1, 0, "><", 0, &error));
}

/* About shows the version of the build and its release notes, from the
 * metainfo file. */
static void
test_about (void)
{
  g_autofree char *expected = expected_release_notes ();
  g_autoptr (GList) toplevels = NULL;
  g_autofree char *version = NULL;
  g_autofree char *notes_version = NULL;
  g_autofree char *notes = NULL;
  GtkWindow *about = NULL;

  g_setenv ("LANGUAGE", "C", TRUE);
  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  iterate ();
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_ABOUT_WINDOW (l->data))
      about = l->data;
  g_assert_nonnull (about);
  g_object_get (about, "version", &version, "release-notes-version", &notes_version,
                "release-notes", &notes, NULL);
  g_assert_cmpstr (version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (notes_version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (notes, ==, expected);

  g_object_ref (about);
  gtk_window_destroy (about);
  iterate ();
  g_assert_finalize_object (about);
  g_unsetenv ("LANGUAGE");
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
  g_test_add_func ("/gui/window/bottom-bar", test_window_bottom_bar);
  g_test_add_func ("/gui/window/mnemonics", test_window_mnemonics);
  g_test_add_func ("/gui/window/shortcuts", test_window_shortcuts);
  g_test_add_func ("/gui/window/escape-asks", test_window_escape_asks);
  g_test_add_func ("/gui/window/drop", test_window_drop);
  g_test_add_func ("/gui/preferences/signaling-check", test_preferences_signaling_check);
  g_test_add_func ("/gui/encrypt-page/password-strength", test_password_strength);
  g_test_add_func ("/gui/encrypt-page/strength-and-folder", test_encrypt_page_strength_and_folder);
  g_test_add_func ("/gui/application/notifications", test_notifications);
  g_test_add_func ("/gui/application/release-notes", test_release_notes);
  g_test_add_func ("/gui/application/about", test_about);
  g_test_add_func ("/gui/window/render", test_window_render);
  g_test_add_func ("/gui/window/render-narrow", test_window_render_narrow);
  g_test_add_func ("/gui/window/render-states", test_window_render_states);
  status = g_test_run ();

  /* A registered GtkApplication is still referenced by GTK at this point:
   * it is only unreferenced. */
  g_clear_object (&app);
  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
