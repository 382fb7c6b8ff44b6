/* test-gui-secrets.c: the API key typed in the preferences is kept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * test-gui-secrets keyring  inside dbus-run-session and tests/with-keyring.sh:
 *   a key typed in the preferences goes to the keyring (not to GSettings,
 *   not to a file), a new application finds it at start, a replaced key
 *   replaces it and an empty key removes it.
 * test-gui-secrets failure  on a bus without any Secret Service, with a
 *   configuration folder that cannot be created: the failure is shown once
 *   in the preferences, and the key is the key of the run all the same.
 */
#include "config.h"

#include "gui-test-util.h"

#include <string.h>

#include "backup-application.h"
#include "backup-preferences.h"
#include "backup-resources.h"
#include "backup-secrets.h"

#define KEY_1 "gui-api-key-one-0123"
#define KEY_2 "gui-api-key-two-4567"

static char *tmpdir;

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the application has looked up or kept its key. */
static void
wait_kept (BackupApplication *app)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (30, timeout_cb, &expired);

  while (backup_application_is_keeping_api_key (app) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (expired);
  g_source_remove (id);
}

static BackupApplication *
start_application (void)
{
  static guint runs;
  g_autoptr (GError) error = NULL;
  g_autofree char *id = g_strdup_printf ("%s.Run%u", APP_ID, ++runs);
  BackupApplication *app = backup_application_new ();

  /* Each run in a process of its own would own the id: here the earlier
   * runs' objects are still exported under theirs. */
  g_application_set_application_id (G_APPLICATION (app), id);
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (backup_application_is_keeping_api_key (app));
  wait_kept (app);
  return app;
}

static void
stop_application (BackupApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  while (windows != NULL)
    {
      gtk_window_destroy (windows->data);
      windows = gtk_application_get_windows (GTK_APPLICATION (app));
    }
  g_object_unref (app);
}

/* Opens the preferences the way the menu does; returns them. */
static BackupPreferences *
open_preferences (BackupApplication *app)
{
  BackupWindow *window = backup_application_new_window (app);
  g_autoptr (GListModel) toplevels = NULL;

  gtk_window_present (GTK_WINDOW (window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  toplevels = g_object_ref (gtk_window_get_toplevels ());
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (BACKUP_IS_PREFERENCES (toplevel))
        return BACKUP_PREFERENCES (toplevel);
    }
  g_error ("the preferences did not open");
  return NULL;
}

static GtkEditable *
api_key_row (BackupPreferences *prefs)
{
  return GTK_EDITABLE (
      gtk_widget_get_template_child (GTK_WIDGET (prefs), BACKUP_TYPE_PREFERENCES, "api_key_row"));
}

static void
type_key (BackupPreferences *prefs, const char *key)
{
  gtk_editable_set_text (api_key_row (prefs), key);
}

/* What the keyring holds, asked through libsecret itself. */
static char *
keyring_api_key (void)
{
  g_autoptr (GError) error = NULL;
  char *found = secret_password_lookup_sync (backup_secrets_get_schema (), NULL, &error, "kind",
                                             "api-key", NULL);
  char *copy;

  g_assert_no_error (error);
  copy = g_strdup (found);
  secret_password_free (found);
  return copy;
}

/* No setting of the application holds @secret. */
static void
assert_not_in_settings (BackupApplication *app, const char *secret)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autoptr (GSettingsSchema) schema = NULL;
  g_auto (GStrv) keys = NULL;

  g_assert_nonnull (settings);
  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  g_assert_cmpuint (g_strv_length (keys), >, 0);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr (GVariant) value = g_settings_get_value (settings, keys[i]);
      g_autofree char *text = g_variant_print (value, FALSE);

      g_assert_null (strstr (text, secret));
    }
}

static void
test_keyring (void)
{
  g_autofree char *fallback = backup_secret_get_fallback_path (BACKUP_SECRET_API_KEY);
  BackupApplication *app;
  BackupPreferences *prefs;
  char *kept;

  /* Nothing kept yet. */
  app = start_application ();
  g_assert_null (backup_application_get_api_key (app));
  prefs = open_preferences (app);
  g_assert_cmpstr (gtk_editable_get_text (api_key_row (prefs)), ==, "");

  type_key (prefs, KEY_1);
  g_assert_cmpstr (backup_application_get_api_key (app), ==, KEY_1);
  g_assert_true (backup_application_is_keeping_api_key (app));
  wait_kept (app);
  kept = keyring_api_key ();
  g_assert_cmpstr (kept, ==, KEY_1);
  g_free (kept);
  g_assert_false (g_file_test (fallback, G_FILE_TEST_EXISTS));
  assert_not_in_settings (app, KEY_1);
  gtk_window_destroy (GTK_WINDOW (prefs));
  stop_application (app);

  /* The next run finds it, and shows it in the preferences. */
  app = start_application ();
  g_assert_cmpstr (backup_application_get_api_key (app), ==, KEY_1);
  prefs = open_preferences (app);
  g_assert_cmpstr (gtk_editable_get_text (api_key_row (prefs)), ==, KEY_1);

  /* Replaced while typing: only the last one is kept. */
  type_key (prefs, "gui-api");
  type_key (prefs, KEY_2);
  wait_kept (app);
  kept = keyring_api_key ();
  g_assert_cmpstr (kept, ==, KEY_2);
  g_free (kept);
  assert_not_in_settings (app, KEY_2);
  gtk_window_destroy (GTK_WINDOW (prefs));
  stop_application (app);

  app = start_application ();
  g_assert_cmpstr (backup_application_get_api_key (app), ==, KEY_2);

  /* An empty key removes the kept one. */
  prefs = open_preferences (app);
  type_key (prefs, "");
  g_assert_null (backup_application_get_api_key (app));
  wait_kept (app);
  g_assert_null (keyring_api_key ());
  gtk_window_destroy (GTK_WINDOW (prefs));
  stop_application (app);

  app = start_application ();
  g_assert_null (backup_application_get_api_key (app));
  stop_application (app);
  g_assert_false (g_file_test (fallback, G_FILE_TEST_EXISTS));
}

/* The labels under @widget whose text holds @text. */
static guint
count_labels (GtkWidget *widget, const char *text)
{
  guint count = 0;

  if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL)
    count++;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    count += count_labels (child, text);
  return count;
}

static void
test_failure (void)
{
  g_autofree char *fallback = backup_secret_get_fallback_path (BACKUP_SECRET_API_KEY);
  g_autofree char *folder = g_path_get_dirname (fallback);
  BackupApplication *app;
  BackupPreferences *prefs;

  app = start_application ();
  g_assert_null (backup_application_get_api_key (app));
  /* The folder of the private file cannot be made. */
  g_assert_true (g_file_set_contents (folder, "in the way", -1, NULL));

  prefs = open_preferences (app);
  type_key (prefs, KEY_1);
  wait_kept (app);
  g_assert_cmpuint (count_labels (GTK_WIDGET (prefs), "could not be saved"), ==, 1);
  g_assert_cmpuint (count_labels (GTK_WIDGET (prefs), KEY_1), ==, 0);
  /* The key is the key of this run all the same. */
  g_assert_cmpstr (backup_application_get_api_key (app), ==, KEY_1);

  /* Shown once a run. */
  type_key (prefs, KEY_2);
  wait_kept (app);
  g_assert_cmpuint (count_labels (GTK_WIDGET (prefs), "could not be saved"), ==, 1);
  g_assert_cmpstr (backup_application_get_api_key (app), ==, KEY_2);
  assert_not_in_settings (app, KEY_2);

  gtk_window_destroy (GTK_WINDOW (prefs));
  stop_application (app);
  g_assert_cmpint (g_unlink (folder), ==, 0);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *mode;
  int status;

  g_test_init (&argc, &argv, NULL);
  mode = argc > 1 ? argv[1] : "";
  tmpdir = g_dir_make_tmp ("test-gui-secrets-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CONFIG_HOME", tmpdir, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  gtk_init ();
  adw_init ();
  backup_register_resource ();

  if (g_str_equal (mode, "keyring"))
    g_test_add_func ("/gui/secrets/keyring", test_keyring);
  else if (g_str_equal (mode, "failure"))
    g_test_add_func ("/gui/secrets/failure", test_failure);
  else
    g_error ("usage: test-gui-secrets keyring|failure");
  status = g_test_run ();

  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
