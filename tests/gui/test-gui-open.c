/* test-gui-open.c: opening a file or folder with the application, and the
 * window in each translation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (xvfb-run), a session bus of its own (dbus-run-session)
 * and the schema of the build (GSETTINGS_SCHEMA_DIR). $DISTRIBUTED_BACKUP
 * is the executable; $DISTRIBUTED_BACKUP_LOCALEDIR the catalogues of the
 * build (po/LANG/LC_MESSAGES).
 */
#include "config.h"

#include "gui-test-util.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <string.h>

#include "backup-application.h"
#include "backup-cli.h"
#include "backup-resources.h"
#include "backup-vault.h"
#include "backup-window-private.h"

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static BackupApplication *app;
static char *tmpdir;

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

  g_timeout_add (ms, timeout_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

static gpointer
template_child (gpointer widget, GType type, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (object);
  return object;
}

/* The window that g_application_open() made, once it took the file. */
static BackupWindow *
opened_window (void)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  BackupSendPage *page;

  g_assert_true (BACKUP_IS_WINDOW (window));
  page = backup_window_get_send_page (BACKUP_WINDOW (window));
  while (backup_send_page_get_choosing_source (page))
    g_main_context_iteration (NULL, TRUE);
  run_for (200);
  return g_object_ref (BACKUP_WINDOW (window));
}

static void
destroy_window (BackupWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_assert_finalize_object (window);
}

/* Opens @file as the application would be opened with it (a file
 * manager's "Open With", or a path on the command line). */
static void
open_file (GFile *file)
{
  GFile *files[] = { file };

  g_application_open (G_APPLICATION (app), files, 1, "");
}

/* The file becomes the source of the Send page, whichever page showed,
 * and Send Backup has the focus; when something is still missing (a
 * folder's password file), the field that misses it has it. */
static void
assert_opened (BackupWindow *window, GFile *file)
{
  BackupSendPage *page = backup_window_get_send_page (window);
  GtkWidget *send_button = template_child (page, BACKUP_TYPE_SEND_PAGE, "send_button");
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

  g_assert_true (g_file_equal (backup_send_page_get_source (page), file));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (
                       template_child (window, BACKUP_TYPE_WINDOW, "stack")),
                   ==, "send");
  g_assert_nonnull (focus);
  if (gtk_widget_is_sensitive (send_button))
    g_assert_true (focus == send_button);
  else
    g_assert_true (gtk_widget_is_ancestor (focus, GTK_WIDGET (page)));
}

/* A folder given by its path, as "distributed-backup FOLDER" does. */
static void
test_open_folder_path (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "Photos", NULL);
  g_autoptr (GFile) folder = NULL;
  BackupWindow *window;

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  folder = g_file_new_for_commandline_arg (path);
  open_file (folder);
  window = opened_window ();
  assert_opened (window, folder);
  destroy_window (window);
}

/* A file given by a file:// URI (the desktop file's %U), while the window
 * already shows another page. */
static void
test_open_file_uri (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "notes.txt", NULL);
  g_autofree char *uri = NULL;
  g_autoptr (GFile) file = NULL;
  BackupWindow *window = backup_application_new_window (app);

  g_object_ref (window);
  gtk_window_present (GTK_WINDOW (window));
  adw_view_stack_set_visible_child_name (template_child (window, BACKUP_TYPE_WINDOW, "stack"),
                                         "receive");
  run_for (200);
  g_assert_true (g_file_set_contents (path, "notes", -1, NULL));
  uri = g_filename_to_uri (path, NULL, NULL);
  file = g_file_new_for_commandline_arg (uri);
  open_file (file);
  g_object_unref (opened_window ()); /* the same window */
  assert_opened (window, file);
  g_assert_true (gtk_widget_is_sensitive (
      template_child (backup_window_get_send_page (window), BACKUP_TYPE_SEND_PAGE, "send_button")));
  destroy_window (window);
}

/* A file that is not on this computer is refused as a drop of it is. */
static void
test_open_remote (void)
{
  g_autoptr (GFile) remote = g_file_new_for_uri ("sftp://backup.example/home/me/notes.txt");
  BackupWindow *window;

  open_file (remote);
  window = opened_window ();
  g_assert_null (backup_send_page_get_source (backup_window_get_send_page (window)));
  g_assert_cmpstr (backup_window_get_last_toast (window), ==,
                   "Only files on this computer can be backed up");
  destroy_window (window);
}

/* A path or a URI alone opens the desktop application; any option of the
 * command line keeps it on the command line. */
static void
test_open_wants_cli (void)
{
  g_autofree char *uri = g_filename_to_uri (tmpdir, NULL, NULL);
  const struct
  {
    const char *args[4];
    gboolean cli;
  } cases[] = {
    { { tmpdir }, FALSE },
    { { uri }, FALSE },
    { { "file:///no/such/folder" }, FALSE },
    { { "sftp://backup.example/home/me/notes.txt" }, FALSE },
    { { "--gapplication-service" }, FALSE },
    { { tmpdir, "-e" }, TRUE },
    { { "-s", tmpdir }, TRUE },
    { { "-s" }, TRUE },
    { { "--srcentry", tmpdir }, TRUE },
    { { "--srcentry=/tmp" }, TRUE },
    { { "-s", uri }, TRUE },
    { { "-d", tmpdir }, TRUE },
    { { "-i", "session" }, TRUE },
    { { "--config", "profile.conf" }, TRUE },
    { { "--restore" }, TRUE },
    { { "--prune" }, TRUE },
    { { "--version" }, TRUE },
    { { "--help" }, TRUE },
    { { "-" }, TRUE },
    { { "no-such-file.txt" }, TRUE },
    { { "host:3478" }, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *argv[6] = { (char *)"distributed-backup" };
      int argc = 1;

      for (guint j = 0; cases[i].args[j] != NULL; j++)
        argv[argc++] = (char *)cases[i].args[j];
      g_test_message ("%s…", argv[1]);
      g_assert_cmpint (backup_cli_wants_cli (argc, argv), ==, cases[i].cli);
    }
}

static void
exited_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  gboolean *exited = user_data;

  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL));
  *exited = TRUE;
}

/* The executable with a folder's URI opens a window and stays until it is
 * closed (SIGTERM closes every window); with an option it is the command
 * line, which ends at once. */
static void
test_open_executable (void)
{
  const char *exe = g_getenv ("DISTRIBUTED_BACKUP");
  g_autofree char *uri = g_filename_to_uri (tmpdir, NULL, NULL);
  g_autoptr (GSubprocess) gui = NULL;
  g_autoptr (GSubprocess) cli = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gboolean exited = FALSE;

  if (exe == NULL)
    {
      g_test_skip ("DISTRIBUTED_BACKUP is not set");
      return;
    }
  gui = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, exe, uri, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (gui, NULL, exited_cb, &exited);
  run_for (3000);
  g_assert_false (exited);
  g_subprocess_send_signal (gui, SIGTERM);
  while (!exited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_subprocess_get_if_exited (gui));
  g_assert_cmpint (g_subprocess_get_exit_status (gui), ==, 0);

  cli = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                          exe, "--srcentry", uri, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (cli, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (cli));
  g_assert_cmpint (g_subprocess_get_exit_status (cli), !=, 0);
  g_assert_nonnull (strstr (err, "distributed-backup:"));
}

/* ------------------------------------------------------------------------ */
/* Translations                                                             */

/* Collects the mnemonic keys of the labels under @widget that are shown;
 * a row counts once, whichever of its labels shows its title, and so does
 * a page's name in the view switchers. */
static void
collect_mnemonics (GtkWidget *widget, GHashTable *keys, GString *clashes)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget) && gtk_label_get_use_underline (GTK_LABEL (widget)))
    {
      guint key = gdk_keyval_to_lower (gtk_label_get_mnemonic_keyval (GTK_LABEL (widget)));
      GtkWidget *owner = gtk_widget_get_ancestor (widget, ADW_TYPE_PREFERENCES_ROW);
      GtkWidget *other;

      /* The view switcher title holds a wide and a narrow switcher, both
       * shown while it changes from one to the other: a page's name counts
       * once. */
      if (owner == NULL && gtk_widget_get_ancestor (widget, ADW_TYPE_VIEW_SWITCHER) != NULL)
        owner = (GtkWidget *) g_intern_string (gtk_label_get_label (GTK_LABEL (widget)));
      if (owner == NULL)
        owner = widget;
      other = g_hash_table_lookup (keys, GUINT_TO_POINTER (key));
      if (key != GDK_KEY_VoidSymbol && other != NULL && other != owner)
        g_string_append_printf (clashes, "“%s” and another; ",
                                gtk_label_get_label (GTK_LABEL (widget)));
      else if (key != GDK_KEY_VoidSymbol)
        g_hash_table_insert (keys, GUINT_TO_POINTER (key), owner);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    collect_mnemonics (c, keys, clashes);
}

static void
assert_mnemonics_unique (BackupWindow *window, const char *lang, const char *page)
{
  g_autoptr (GHashTable) keys = g_hash_table_new (NULL, NULL);
  g_autoptr (GString) clashes = g_string_new ("");

  adw_view_stack_set_visible_child_name (template_child (window, BACKUP_TYPE_WINDOW, "stack"),
                                         page);
  run_for (300);
  /* What a crossfade still shows of the previous state does not count. */
  for (guint i = 0; i < 100; i++)
    {
      if (!gtk_stack_get_transition_running (template_child (
              backup_window_get_send_page (window), BACKUP_TYPE_SEND_PAGE, "content_stack"))
          && !gtk_stack_get_transition_running (
              template_child (backup_window_get_receive_page (window), BACKUP_TYPE_RECEIVE_PAGE,
                              "content_stack")))
        break;
      run_for (50);
    }
  collect_mnemonics (GTK_WIDGET (window), keys, clashes);
  g_test_message ("%s, %s: %u mnemonics", lang, page, g_hash_table_size (keys));
  if (clashes->len > 0)
    g_error ("%s, %s page: one mnemonic for %s", lang, page, clashes->str);
  g_assert_cmpuint (g_hash_table_size (keys), >=, 3);
}

/* Each page of the window, in the language @data, is translated and no
 * Alt+key is used twice on it. */
static void
test_translated_window (gconstpointer data)
{
  const char *lang = data;
  const char *localedir = g_getenv ("DISTRIBUTED_BACKUP_LOCALEDIR");
  g_autofree char *mo = NULL;
  g_autofree char *folder = g_build_filename (tmpdir, "Übersetzt", NULL);
  g_autoptr (GFile) dir = NULL;
  BackupWindow *window;

  if (localedir == NULL)
    {
      g_test_skip ("DISTRIBUTED_BACKUP_LOCALEDIR is not set");
      return;
    }
  mo = g_build_filename (localedir, lang, "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_assert_true (g_file_test (mo, G_FILE_TEST_IS_REGULAR));

  /* LANGUAGE chooses the catalogue under any locale but "C"; setting the
   * locale again drops the translations gettext has cached. */
  g_setenv ("LANGUAGE", lang, TRUE);
  setlocale (LC_ALL, "");
  g_assert_cmpstr (_("_Send"), !=, "_Send");
  g_assert_cmpstr (_("_Receive"), !=, "_Receive");

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  dir = g_file_new_for_path (folder);
  window = backup_application_new_window (app);
  g_object_ref (window);
  gtk_window_present (GTK_WINDOW (window));
  run_for (300);
  assert_mnemonics_unique (window, lang, "send");
  backup_window_set_source (window, dir);
  while (backup_send_page_get_choosing_source (backup_window_get_send_page (window)))
    g_main_context_iteration (NULL, TRUE);
  assert_mnemonics_unique (window, lang, "send");
  assert_mnemonics_unique (window, lang, "receive");
  assert_mnemonics_unique (window, lang, "encrypt");
  destroy_window (window);
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "");
  g_assert_cmpstr (_("_Send"), ==, "_Send");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_path = NULL;
  const char *localedir = g_getenv ("DISTRIBUTED_BACKUP_LOCALEDIR");
  int status;

  tmpdir = g_dir_make_tmp ("test-gui-open-XXXXXX", &error);
  g_assert_no_error (error);
  key_path = g_build_filename (tmpdir, "vault.key", NULL);
  g_setenv (BACKUP_VAULT_KEY_ENV, key_path, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* English first; a C.UTF-8 locale lets LANGUAGE choose a catalogue. */
  g_setenv ("LANGUAGE", "C", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);

  g_test_init (&argc, &argv, NULL);
  setlocale (LC_ALL, "");
  if (localedir != NULL)
    bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_init ();
  adw_init ();
  backup_register_resource ();

  app = backup_application_new ();
  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  /* A session id remembered: a file opened is ready to send. */
  g_settings_set_string (backup_application_get_settings (app), "session-id", "open-session");

  g_test_add_func ("/gui/open/wants-cli", test_open_wants_cli);
  g_test_add_func ("/gui/open/folder-path", test_open_folder_path);
  g_test_add_func ("/gui/open/file-uri", test_open_file_uri);
  g_test_add_func ("/gui/open/remote", test_open_remote);
  g_test_add_func ("/gui/open/executable", test_open_executable);
  g_test_add_data_func ("/gui/translations/de", "de", test_translated_window);
  g_test_add_data_func ("/gui/translations/ru", "ru", test_translated_window);
  status = g_test_run ();

  g_clear_object (&app);
  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
