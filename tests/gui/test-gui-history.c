/* test-gui-history.c: the Backups page, in-process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (xvfb-run), a session bus of its own (dbus-run-session)
 * and the schema of the build; settings live in memory. The receive
 * folder is filled with real received-style versions: double zips written
 * by BackupArchiver and plain files. Renders the page's states to PNG
 * files in the build directory, or in $SCREENSHOT_DIR.
 */
#include "config.h"

#include "gui-test-util.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "backup-application.h"
#include "backup-archiver.h"
#include "backup-device.h"
#include "backup-gui-utils.h"
#include "backup-resources.h"
#include "backup-sent-history.h"
#include "backup-vault.h"
#include "backup-version-trash.h"
#include "backup-window-private.h"

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

#define PASSWORD1 "inner history secret"
#define PASSWORD2 "outer history secret"

static BackupApplication *app;
static char *tmpdir;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void
iterate (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, timeout_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

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

static gboolean
page_idle (gpointer data)
{
  BackupHistoryPage *page = data;

  return !backup_history_page_get_loading (page) && !backup_history_page_get_busy (page)
         && !backup_history_page_get_changing (page);
}

static gboolean
page_not_busy (gpointer data)
{
  return !backup_history_page_get_busy (data);
}

static void
wait_idle (BackupHistoryPage *page)
{
  wait_until (page_idle, page, "the Backups page");
}

static BackupWindow *
new_window (void)
{
  BackupWindow *window = backup_application_new_window (app);

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

static gpointer
page_child (gpointer page, const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (page), G_OBJECT_TYPE (page), name);

  g_assert_nonnull (object);
  return object;
}

static const char *
state_of (BackupHistoryPage *page)
{
  return gtk_stack_get_visible_child_name (page_child (page, "content_stack"));
}

/* Every descendant of @widget of type @type, in order. */
static void
collect (GtkWidget *widget, GType type, GPtrArray *found)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        g_ptr_array_add (found, c);
      collect (c, type, found);
    }
}

static GPtrArray *
rows_of (gpointer widget, GType type)
{
  GPtrArray *found = g_ptr_array_new ();

  collect (GTK_WIDGET (widget), type, found);
  return found;
}

/* The row of the received name @name. */
static AdwExpanderRow *
name_row (BackupHistoryPage *page, const char *name)
{
  g_autoptr (GPtrArray) rows = rows_of (page_child (page, "received_group"), ADW_TYPE_EXPANDER_ROW);

  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), name) == 0)
      return g_ptr_array_index (rows, i);
  return NULL;
}

static GPtrArray *
version_rows (BackupHistoryPage *page, const char *name)
{
  AdwExpanderRow *row = name_row (page, name);
  g_autoptr (GPtrArray) rows = NULL;
  GPtrArray *versions = g_ptr_array_new ();

  g_assert_nonnull (row);
  /* (The expander row's own header is an action row too.) */
  rows = rows_of (row, ADW_TYPE_ACTION_ROW);
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr (GPtrArray) buttons = rows_of (g_ptr_array_index (rows, i), GTK_TYPE_MENU_BUTTON);

      if (buttons->len > 0)
        g_ptr_array_add (versions, g_ptr_array_index (rows, i));
    }
  return versions;
}

/* The action and URI of the item @label of the menu of @row. */
static void
menu_item (AdwActionRow *row, const char *label, char **action, char **uri)
{
  g_autoptr (GPtrArray) buttons = rows_of (row, GTK_TYPE_MENU_BUTTON);
  GMenuModel *menu;
  g_autoptr (GPtrArray) models = g_ptr_array_new ();

  g_assert_cmpuint (buttons->len, ==, 1);
  menu = gtk_menu_button_get_menu_model (g_ptr_array_index (buttons, 0));
  g_ptr_array_add (models, menu);
  for (guint m = 0; m < models->len; m++)
    {
      GMenuModel *model = g_ptr_array_index (models, m);

      for (int i = 0; i < g_menu_model_get_n_items (model); i++)
        {
          g_autofree char *text = NULL;
          GMenuModel *section = g_menu_model_get_item_link (model, i, G_MENU_LINK_SECTION);

          if (section != NULL)
            {
              g_ptr_array_add (models, section);
              g_object_unref (section); /* the menu holds it */
              continue;
            }
          if (g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_LABEL, "s", &text)
              && g_str_equal (text, label))
            {
              g_assert_true (
                  g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_ACTION, "s", action));
              g_assert_true (
                  g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_TARGET, "s", uri));
              return;
            }
        }
    }
  g_error ("no menu item “%s”", label);
}

/* Activates the menu item @label of @row, as choosing it does. */
static void
activate_item (BackupHistoryPage *page, AdwActionRow *row, const char *label)
{
  g_autofree char *action = NULL;
  g_autofree char *uri = NULL;

  menu_item (row, label, &action, &uri);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (row), action, "s", uri));
}

/* The version row whose subtitle starts with @file. */
static AdwActionRow *
version_row (BackupHistoryPage *page, const char *name, const char *file)
{
  g_autoptr (GPtrArray) rows = version_rows (page, name);
  g_autofree char *prefix = g_strconcat (file, " · ", NULL);

  for (guint i = 0; i < rows->len; i++)
    if (g_str_has_prefix (adw_action_row_get_subtitle (g_ptr_array_index (rows, i)), prefix))
      return g_ptr_array_index (rows, i);
  g_error ("no row for %s", file);
  return NULL;
}

static char *
read_file (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *)data;
}

typedef struct
{
  gboolean done;
  GError *error;
} Wait;

static void
scan_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &wait->error);
  wait->done = TRUE;
}

static void
write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &wait->error);
  wait->done = TRUE;
}

/* A double zip of @source, as a sender with -z writes it, in @path. */
static void
make_double_zip (const char *source, const char *outer_name, const char *path)
{
  g_autoptr (GFile) dir = g_file_new_for_path (source);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (BackupArchiver) archiver = backup_archiver_new (dir, outer_name, PASSWORD1, PASSWORD2);
  g_autoptr (GFileOutputStream) out = NULL;
  g_autoptr (GError) error = NULL;
  Wait wait = { FALSE, NULL };

  backup_archiver_scan_async (archiver, G_PRIORITY_DEFAULT, NULL, scan_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);
  wait.done = FALSE;
  backup_archiver_write_async (archiver, G_OUTPUT_STREAM (out), G_PRIORITY_DEFAULT, NULL,
                               write_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (backup_archiver_get_bytes_done (archiver), >, 0);
}

/* A folder to back up, with @text in a file and a sub-folder. */
static char *
make_source (const char *name, const char *text)
{
  g_autofree char *dir = g_build_filename (tmpdir, "sources", name, NULL);
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autofree char *file = g_build_filename (dir, "readme.txt", NULL);
  g_autofree char *nested = g_build_filename (sub, "nested.txt", NULL);
  g_autofree char *more = g_strdup_printf ("%s, nested\n", text);

  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, text, -1, NULL));
  g_assert_true (g_file_set_contents (nested, more, -1, NULL));
  return g_steal_pointer (&dir);
}

static void
set_time (const char *path, gint64 seconds)
{
  struct timespec times[2] = { { seconds, 0 }, { seconds, 0 } };

  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

static guint64
size_of (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return (guint64)st.st_size;
}

/* A receive folder as a receiver leaves it: documents.zip (three double
 * zips of three states of a folder), notes.txt (two plain versions). */
static char *
fill_folder (const char *name)
{
  g_autofree char *folder = g_build_filename (tmpdir, name, NULL);
  const char *files[] = { "documents.zip", "documents.zip.1", "documents.zip.2" };
  const char *texts[] = { "third state\n", "second state\n", "first state\n" };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *source_name = g_strdup_printf ("%s-%u", name, i);
      g_autofree char *source = make_source (source_name, texts[i]);
      g_autofree char *path = g_build_filename (folder, files[i], NULL);

      make_double_zip (source, "documents.zip", path);
      set_time (path, now - 3600 * (gint64)(i + 1));
    }
  {
    g_autofree char *newest = g_build_filename (folder, "notes.txt", NULL);
    g_autofree char *older = g_build_filename (folder, "notes.txt.1", NULL);

    g_assert_true (g_file_set_contents (newest, "notes, newest\n", -1, NULL));
    g_assert_true (g_file_set_contents (older, "notes, older version\n", -1, NULL));
    set_time (newest, now - 60);
    set_time (older, now - 86400);
  }
  return g_steal_pointer (&folder);
}

static void
write_password_file (const char *path)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_vault_write (path, PASSWORD1, PASSWORD2, NULL, &error));
  g_assert_no_error (error);
}

/* A window whose Receive page keeps backups in @folder. */
static BackupWindow *
window_on (const char *folder)
{
  BackupWindow *window = new_window ();
  g_autoptr (GFile) dir = g_file_new_for_path (folder);
  BackupHistoryPage *page = backup_window_get_history_page (window);

  backup_receive_page_set_destination (backup_window_get_receive_page (window), dir);
  g_assert_true (g_file_equal (backup_history_page_get_folder (page), dir));
  wait_idle (page);
  return window;
}

static AdwToast *last_toast;

static void
toast_cb (BackupHistoryPage *page, AdwToast *toast, gpointer user_data)
{
  g_set_object (&last_toast, toast);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void
test_page_new_destroy (void)
{
  GtkWidget *page = backup_history_page_new ();

  g_object_ref_sink (page);
  g_assert_null (backup_history_page_get_folder (BACKUP_HISTORY_PAGE (page)));
  g_assert_cmpstr (state_of (BACKUP_HISTORY_PAGE (page)), ==, "empty");
  g_assert_finalize_object (page);
}

/* Nothing received, nothing sent: the empty state. What an earlier run
 * left in the trash folder is gone once the page has looked. */
static void
test_empty (void)
{
  g_autofree char *folder = g_build_filename (tmpdir, "empty", NULL);
  g_autofree char *trash = g_build_filename (folder, BACKUP_VERSION_TRASH_DIR, NULL);
  g_autofree char *left = g_build_filename (trash, "1-deadbeef-0", NULL);
  BackupWindow *window;
  BackupHistoryPage *page;
  AdwViewStack *stack;

  g_assert_cmpint (g_mkdir_with_parents (trash, 0700), ==, 0);
  g_assert_true (g_file_set_contents (left, "deleted before a crash", -1, NULL));

  window = window_on (folder);
  page = backup_window_get_history_page (window);
  stack = ADW_VIEW_STACK (
      gtk_widget_get_template_child (GTK_WIDGET (window), BACKUP_TYPE_WINDOW, "stack"));
  g_assert_nonnull (adw_view_stack_get_child_by_name (stack, "history"));
  g_assert_cmpstr (state_of (page), ==, "empty");
  g_assert_cmpstr (adw_status_page_get_title (page_child (page, "empty_status")), ==,
                   "No Backups Yet");
  g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (trash, G_FILE_TEST_EXISTS));
  destroy_window (window);
}

/* The list: names, version counts, times and sizes. */
static void
test_list (void)
{
  g_autofree char *folder = fill_folder ("list");
  BackupWindow *window = window_on (folder);
  BackupHistoryPage *page = backup_window_get_history_page (window);
  g_autoptr (GPtrArray) names
      = rows_of (page_child (page, "received_group"), ADW_TYPE_EXPANDER_ROW);
  g_autoptr (GPtrArray) documents = NULL;
  g_autoptr (GPtrArray) notes = NULL;

  g_assert_cmpstr (state_of (page), ==, "list");
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (names, 0)), ==,
                   "documents.zip");
  g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (names, 1)), ==, "notes.txt");
  g_assert_cmpstr (adw_preferences_group_get_description (page_child (page, "received_group")), ==,
                   folder);
  documents = version_rows (page, "documents.zip");
  notes = version_rows (page, "notes.txt");
  g_assert_cmpuint (documents->len, ==, 3);
  g_assert_cmpuint (notes->len, ==, 2);
  g_assert_true (g_str_has_prefix (adw_expander_row_get_subtitle (name_row (page, "documents.zip")),
                                   "3 versions · newest "));

  /* Each version: its time as the title, its file and size below. */
  {
    const char *files[] = { "documents.zip", "documents.zip.1", "documents.zip.2" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (folder, files[i], NULL);
        g_autofree char *size = g_format_size (size_of (path));
        g_autofree char *subtitle = g_strdup_printf ("%s · %s", files[i], size);
        GStatBuf st;
        g_autoptr (GDateTime) utc = NULL;
        g_autoptr (GDateTime) local = NULL;
        g_autofree char *time = NULL;

        g_assert_cmpint (g_stat (path, &st), ==, 0);
        utc = g_date_time_new_from_unix_utc (st.st_mtime);
        local = g_date_time_to_local (utc);
        time = g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
        g_assert_cmpstr (adw_action_row_get_subtitle (g_ptr_array_index (documents, i)), ==,
                         subtitle);
        g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (documents, i)), ==,
                         time);
      }
  }
  /* Each version's menu acts on its own file. */
  {
    g_autofree char *action = NULL;
    g_autofree char *uri = NULL;
    g_autofree char *path = g_build_filename (folder, "notes.txt.1", NULL);
    g_autofree char *expected = g_filename_to_uri (path, NULL, NULL);

    menu_item (g_ptr_array_index (notes, 1), "_Delete", &action, &uri);
    g_assert_cmpstr (action, ==, "history.delete");
    g_assert_cmpstr (uri, ==, expected);
  }
  destroy_window (window);
}

static void
assert_same_tree (const char *expected, const char *actual)
{
  g_autofree char *a = g_build_filename (expected, "readme.txt", NULL);
  g_autofree char *b = g_build_filename (actual, "readme.txt", NULL);
  g_autofree char *c = g_build_filename (expected, "sub", "nested.txt", NULL);
  g_autofree char *d = g_build_filename (actual, "sub", "nested.txt", NULL);
  g_autofree char *ta = read_file (a);
  g_autofree char *tb = read_file (b);
  g_autofree char *tc = read_file (c);
  g_autofree char *td = read_file (d);

  g_assert_nonnull (ta);
  g_assert_cmpstr (ta, ==, tb);
  g_assert_nonnull (tc);
  g_assert_cmpstr (tc, ==, td);
}

/* Restore a version into a folder: the folder chooser, then progress,
 * then how it ended; the files are those of that version. */
static void
test_restore (void)
{
  g_autofree char *folder = fill_folder ("restore");
  g_autofree char *passfile = g_build_filename (tmpdir, "restore-passwords.bin", NULL);
  g_autofree char *target = g_build_filename (tmpdir, "restored", NULL);
  g_autofree char *plain_target = g_build_filename (tmpdir, "restored-plain", NULL);
  g_autofree char *expected = g_build_filename (tmpdir, "sources", "restore-1", NULL);
  g_autoptr (GFile) passfile_file = g_file_new_for_path (passfile);
  g_autoptr (GFile) target_dir = NULL;
  BackupWindow *window;
  BackupHistoryPage *page;
  GtkFileChooser *chooser;

  write_password_file (passfile);
  g_assert_cmpint (g_mkdir_with_parents (target, 0700), ==, 0);
  target_dir = g_file_new_for_path (target);
  window = window_on (folder);
  page = backup_window_get_history_page (window);
  /* The Send page's password file opens the zips. */
  backup_send_page_set_password_file (backup_window_get_send_page (window), passfile_file);
  g_assert_true (g_file_equal (backup_history_page_get_password_file (page), passfile_file));

  /* Restore… asks where, with a folder chooser; choosing a folder starts
   * the restore. */
  activate_item (page, version_row (page, "documents.zip", "documents.zip.1"),
                 "_Restore to a Folder…");
  chooser = backup_gui_get_chooser (GTK_WIDGET (page));
  g_assert_nonnull (chooser);
  g_assert_true (GTK_IS_FILE_CHOOSER_NATIVE (chooser));
  g_assert_cmpint (gtk_file_chooser_get_action (chooser), ==,
                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  /* What choosing a folder there does (the chooser's own dialog is not
   * driven: without a portal it answers with the folder it last showed). */
  backup_gui_close_chooser (GTK_WIDGET (page));
  g_assert_null (backup_gui_get_chooser (GTK_WIDGET (page)));
  {
    g_autofree char *version_path = g_build_filename (folder, "documents.zip.1", NULL);
    g_autoptr (GFile) version = g_file_new_for_path (version_path);

    backup_history_page_restore (page, version, target_dir);
  }
  g_assert_true (backup_history_page_get_busy (page));
  g_assert_cmpstr (state_of (page), ==, "run");
  g_assert_true (gtk_widget_get_visible (page_child (page, "run_cancel_button")));
  wait_until (page_not_busy, page, "the restore");

  g_assert_cmpstr (adw_status_page_get_title (page_child (page, "run_status")), ==,
                   "Backup Restored");
  {
    g_autofree char *description
        = g_strdup_printf ("2 files of documents.zip.1 were restored into %s.", target);

    g_assert_cmpstr (adw_status_page_get_description (page_child (page, "run_status")), ==,
                     description);
  }
  g_assert_false (gtk_widget_get_visible (page_child (page, "run_cancel_button")));
  g_assert_true (gtk_widget_get_visible (page_child (page, "run_open_button")));
  assert_same_tree (expected, target);

  /* Done goes back to the list. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "history.done", NULL));
  wait_idle (page);
  g_assert_cmpstr (state_of (page), ==, "list");

  /* A plain file is copied. */
  {
    g_autoptr (GFile) plain_dir = g_file_new_for_path (plain_target);
    g_autofree char *version_path = g_build_filename (folder, "notes.txt.1", NULL);
    g_autoptr (GFile) version = g_file_new_for_path (version_path);
    g_autofree char *copied = g_build_filename (plain_target, "notes.txt.1", NULL);
    g_autofree char *text = NULL;

    backup_history_page_restore (page, version, plain_dir);
    wait_until (page_not_busy, page, "the copy");
    g_assert_cmpstr (adw_status_page_get_title (page_child (page, "run_status")), ==,
                     "Backup Restored");
    text = read_file (copied);
    g_assert_cmpstr (text, ==, "notes, older version\n");
    gtk_widget_activate_action (GTK_WIDGET (page), "history.done", NULL);
  }

  /* Cancel stops a restore and goes back to the list, saying nothing. */
  {
    g_autofree char *again = g_build_filename (tmpdir, "restored-cancelled", NULL);
    g_autoptr (GFile) again_dir = g_file_new_for_path (again);
    g_autofree char *version_path = g_build_filename (folder, "documents.zip", NULL);
    g_autoptr (GFile) version = g_file_new_for_path (version_path);

    backup_history_page_restore (page, version, again_dir);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "history.cancel", NULL));
    wait_until (page_not_busy, page, "the cancelled restore");
    wait_idle (page);
    g_assert_cmpstr (state_of (page), ==, "list");
  }
  destroy_window (window);
}

/* Verify: an intact version is said to be intact; a damaged one fails,
 * naming the entry; without a password file the passwords are asked
 * for. */
static void
test_verify (void)
{
  g_autofree char *folder = fill_folder ("verify");
  g_autofree char *passfile = g_build_filename (tmpdir, "verify-passwords.bin", NULL);
  g_autofree char *broken = g_build_filename (folder, "broken.zip", NULL);
  g_autoptr (GFile) passfile_file = g_file_new_for_path (passfile);
  BackupWindow *window;
  BackupHistoryPage *page;
  AdwStatusPage *status;

  write_password_file (passfile);
  /* A folder whose one big file fills the archive, then a byte of it
   * changed in the middle. */
  {
    g_autofree char *source = g_build_filename (tmpdir, "sources", "broken", NULL);
    g_autofree char *big = g_build_filename (source, "big.bin", NULL);
    g_autofree guint8 *data = g_malloc (256 * 1024);
    g_autofree char *contents = NULL;
    gsize length;

    g_assert_cmpint (g_mkdir_with_parents (source, 0700), ==, 0);
    for (guint i = 0; i < 256 * 1024; i++)
      data[i] = (guint8)g_random_int ();
    g_assert_true (g_file_set_contents (big, (const char *)data, 256 * 1024, NULL));
    make_double_zip (source, "broken.zip", broken);
    g_assert_true (g_file_get_contents (broken, &contents, &length, NULL));
    contents[length / 2] ^= 0x5a;
    g_assert_true (g_file_set_contents (broken, contents, (gssize)length, NULL));
  }

  window = window_on (folder);
  page = backup_window_get_history_page (window);
  status = page_child (page, "run_status");
  backup_send_page_set_password_file (backup_window_get_send_page (window), passfile_file);

  activate_item (page, version_row (page, "documents.zip", "documents.zip.2"), "_Verify");
  g_assert_true (backup_history_page_get_busy (page));
  wait_until (page_not_busy, page, "the verification");
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "Backup Verified");
  g_assert_cmpstr (adw_status_page_get_description (status), ==,
                   "Every entry of documents.zip.2 is intact: 2 files.");
  gtk_widget_activate_action (GTK_WIDGET (page), "history.done", NULL);
  wait_idle (page);

  activate_item (page, version_row (page, "broken.zip", "broken.zip"), "_Verify");
  wait_until (page_not_busy, page, "the verification of a damaged zip");
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "Verification Failed");
  g_test_message ("damaged: %s", adw_status_page_get_description (status));
  g_assert_nonnull (strstr (adw_status_page_get_description (status), "big.bin"));
  g_assert_true (gtk_widget_get_visible (page_child (page, "run_done_button")));
  gtk_widget_activate_action (GTK_WIDGET (page), "history.done", NULL);
  wait_idle (page);

  /* No password file: the passwords are asked for; wrong ones are said
   * to be wrong. */
  backup_send_page_set_password_file (backup_window_get_send_page (window), NULL);
  activate_item (page, version_row (page, "documents.zip", "documents.zip"), "_Verify");
  {
    gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    GtkWidget *dialog = NULL;

    while (dialog == NULL)
      {
        GListModel *toplevels = gtk_window_get_toplevels ();

        for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
          {
            g_autoptr (GObject) item = g_list_model_get_item (toplevels, i);

            if (ADW_IS_MESSAGE_DIALOG (item))
              dialog = GTK_WIDGET (item);
          }
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        g_main_context_iteration (NULL, FALSE);
      }
    {
      g_autoptr (GPtrArray) entries = rows_of (dialog, GTK_TYPE_PASSWORD_ENTRY);

      g_assert_cmpuint (entries->len, ==, 2);
      gtk_editable_set_text (g_ptr_array_index (entries, 0), PASSWORD1);
      gtk_editable_set_text (g_ptr_array_index (entries, 1), "not the outer password");
    }
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "open");
    wait_until (page_not_busy, page, "the verification with passwords typed");
    g_assert_cmpstr (adw_status_page_get_title (status), ==, "Verification Failed");
    g_test_message ("wrong password: %s", adw_status_page_get_description (status));
    g_assert_nonnull (strstr (adw_status_page_get_description (status), "password"));
  }
  destroy_window (window);
}

static char *
checksum_of (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, length);
}

static gboolean
trash_is_empty (gpointer data)
{
  return !g_file_test (data, G_FILE_TEST_EXISTS);
}

/* Delete a version: the older ones are numbered down at once; Undo puts
 * it back byte for byte; once the toast goes it is gone for good. */
static void
test_delete_undo (void)
{
  g_autofree char *folder = fill_folder ("delete");
  g_autofree char *trash = g_build_filename (folder, BACKUP_VERSION_TRASH_DIR, NULL);
  g_autofree char *v0 = g_build_filename (folder, "documents.zip", NULL);
  g_autofree char *v1 = g_build_filename (folder, "documents.zip.1", NULL);
  g_autofree char *v2 = g_build_filename (folder, "documents.zip.2", NULL);
  g_autofree char *sum0 = checksum_of (v0);
  g_autofree char *sum1 = checksum_of (v1);
  g_autofree char *sum2 = checksum_of (v2);
  BackupWindow *window = window_on (folder);
  BackupHistoryPage *page = backup_window_get_history_page (window);
  g_autoptr (GPtrArray) rows = NULL;
  gulong handler;

  handler = g_signal_connect (page, "toast", G_CALLBACK (toast_cb), NULL);

  /* Delete documents.zip.1: documents.zip.2 becomes documents.zip.1. */
  activate_item (page, version_row (page, "documents.zip", "documents.zip.1"), "_Delete");
  wait_idle (page);
  g_assert_nonnull (last_toast);
  g_assert_cmpstr (adw_toast_get_title (last_toast), ==, "documents.zip.1 deleted");
  g_assert_cmpstr (adw_toast_get_button_label (last_toast), ==, "_Undo");
  g_assert_false (g_file_test (v2, G_FILE_TEST_EXISTS));
  {
    g_autofree char *now1 = checksum_of (v1);
    g_autofree char *now0 = checksum_of (v0);

    g_assert_cmpstr (now1, ==, sum2);
    g_assert_cmpstr (now0, ==, sum0);
  }
  rows = version_rows (page, "documents.zip");
  g_assert_cmpuint (rows->len, ==, 2);
  g_clear_pointer (&rows, g_ptr_array_unref);
  /* It waits in the trash folder until the toast goes. */
  g_assert_true (g_file_test (trash, G_FILE_TEST_IS_DIR));

  /* Undo: the toast's button, then the toast goes. */
  g_signal_emit_by_name (last_toast, "button-clicked");
  adw_toast_dismiss (last_toast);
  wait_idle (page);
  {
    g_autofree char *now0 = checksum_of (v0);
    g_autofree char *now1 = checksum_of (v1);
    g_autofree char *now2 = checksum_of (v2);

    g_assert_cmpstr (now0, ==, sum0);
    g_assert_cmpstr (now1, ==, sum1);
    g_assert_cmpstr (now2, ==, sum2);
  }
  rows = version_rows (page, "documents.zip");
  g_assert_cmpuint (rows->len, ==, 3);
  g_clear_pointer (&rows, g_ptr_array_unref);
  wait_until (trash_is_empty, trash, "the trash folder to go");

  /* Delete it again and let the toast go: gone for good, the older
   * version numbered down. */
  g_clear_object (&last_toast);
  activate_item (page, version_row (page, "documents.zip", "documents.zip.1"), "_Delete");
  wait_idle (page);
  g_assert_nonnull (last_toast);
  adw_toast_dismiss (last_toast);
  wait_until (trash_is_empty, trash, "the deleted version to go");
  wait_idle (page);
  {
    g_autofree char *now0 = checksum_of (v0);
    g_autofree char *now1 = checksum_of (v1);

    g_assert_cmpstr (now0, ==, sum0);
    g_assert_cmpstr (now1, ==, sum2);
    g_assert_false (g_file_test (v2, G_FILE_TEST_EXISTS));
  }
  backup_history_page_refresh (page);
  wait_idle (page);
  rows = version_rows (page, "documents.zip");
  g_assert_cmpuint (rows->len, ==, 2);
  g_clear_pointer (&rows, g_ptr_array_unref);

  /* Deleting the newest: documents.zip.1 becomes documents.zip. */
  g_clear_object (&last_toast);
  activate_item (page, version_row (page, "documents.zip", "documents.zip"), "_Delete");
  wait_idle (page);
  g_assert_nonnull (last_toast);
  {
    g_autofree char *now0 = checksum_of (v0);

    g_assert_cmpstr (now0, ==, sum2);
    g_assert_false (g_file_test (v1, G_FILE_TEST_EXISTS));
  }

  g_signal_handler_disconnect (page, handler);
  /* A window that closes while a deletion could be undone makes it
   * final. */
  destroy_window (window);
  wait_until (trash_is_empty, trash, "the deletion to be final");
  g_clear_object (&last_toast);
}

/* The trash folder's own rules: a crash between the steps of a deletion
 * leaves one file under two numbers, which the next look at the folder
 * numbers again; nothing else is lost. */
static void
test_trash_interrupted (void)
{
  g_autofree char *folder = g_build_filename (tmpdir, "interrupted", NULL);
  g_autofree char *a = g_build_filename (folder, "x.bin", NULL);
  g_autofree char *b = g_build_filename (folder, "x.bin.1", NULL);
  g_autofree char *c = g_build_filename (folder, "x.bin.2", NULL);
  g_autoptr (GFile) dir = g_file_new_for_path (folder);
  g_autoptr (GError) error = NULL;
  g_autofree char *trashed = NULL;
  g_autofree char *text = NULL;
  BackupWindow *window;
  BackupHistoryPage *page;
  g_autoptr (GPtrArray) rows = NULL;
  guint number = 99;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (a, "A", -1, NULL));
  g_assert_true (g_file_set_contents (b, "B", -1, NULL));
  g_assert_true (g_file_set_contents (c, "C", -1, NULL));

  /* Take x.bin.1, put it back, take it again. */
  g_assert_true (backup_version_trash_take (dir, "x.bin", 1, &trashed, &error));
  g_assert_no_error (error);
  text = read_file (b);
  g_assert_cmpstr (text, ==, "C");
  g_clear_pointer (&text, g_free);
  g_assert_false (g_file_test (c, G_FILE_TEST_EXISTS));
  g_assert_true (backup_version_trash_restore (dir, "x.bin", 1, trashed, &number, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (number, ==, 1);
  text = read_file (b);
  g_assert_cmpstr (text, ==, "B");
  g_clear_pointer (&text, g_free);
  text = read_file (c);
  g_assert_cmpstr (text, ==, "C");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&trashed, g_free);
  g_assert_false (backup_version_trash_take (dir, "x.bin", 3, &trashed, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* What a crash in the middle of renumbering leaves: x.bin.2 a second
   * name of x.bin.1. */
  g_assert_cmpint (g_unlink (b), ==, 0);
  g_assert_cmpint (link (c, b), ==, 0);
  window = window_on (folder);
  page = backup_window_get_history_page (window);
  rows = version_rows (page, "x.bin");
  g_assert_cmpuint (rows->len, ==, 2);
  text = read_file (b);
  g_assert_cmpstr (text, ==, "C");
  g_assert_false (g_file_test (c, G_FILE_TEST_EXISTS));
  destroy_window (window);
}

static gboolean
history_idle (gpointer data)
{
  return !backup_sent_history_get_busy (data);
}

static const char damaged[] = "{\"sent\":[{\"name\":\"a\"},{\"name\":\"b\",\"session\":\"s\","
                              "\"time\":\"2025-03-10T18:02:11Z\",\"size\":3},{\"time\":\"x\"}]}";

/* The history file: newest first, at most 100, damaged entries left
 * out. */
static void
test_sent_history_file (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "history", "sent.json", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (BackupSentHistory) history = backup_sent_history_new (file);
  g_autoptr (BackupSentHistory) again = NULL;
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  GPtrArray *entries;
  GStatBuf st;

  wait_until (history_idle, history, "the history to be read");
  g_assert_cmpuint (backup_sent_history_get_entries (history)->len, ==, 0);
  for (guint i = 0; i < 105; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%03u", i);

      backup_sent_history_add (history, name, "session-a", i % 2 ? "nas" : NULL, i * 10);
      g_usleep (10);
    }
  entries = backup_sent_history_get_entries (history);
  g_assert_cmpuint (entries->len, ==, BACKUP_SENT_HISTORY_MAX);
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (entries, 0))->name, ==, "file-104");
  wait_until (history_idle, history, "the history to be written");

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  parsed = backup_sent_history_parse (contents, length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 100);
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 0))->name, ==, "file-104");
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 99))->name, ==, "file-005");
  g_assert_cmpuint (((BackupSentEntry *)g_ptr_array_index (parsed, 0))->size, ==, 1040);
  /* The receiving device, where it gave its name. */
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 0))->device, ==, NULL);
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 1))->device, ==, "nas");

  /* Read again by a new history. */
  again = backup_sent_history_new (file);
  wait_until (history_idle, again, "the history to be read again");
  g_assert_cmpuint (backup_sent_history_get_entries (again)->len, ==, 100);

  /* Damaged: not JSON, or entries without a name or time. */
  g_clear_pointer (&parsed, g_ptr_array_unref);
  parsed = backup_sent_history_parse ("{\"sent\": [", 10, &error);
  g_assert_null (parsed);
  g_assert_nonnull (error);
  g_clear_error (&error);
  parsed = backup_sent_history_parse (damaged, strlen (damaged), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 1);
  g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 0))->name, ==, "b");
}

static gboolean
runner_is_gone (gpointer data)
{
  return backup_receive_page_get_runner (data) == NULL;
}

static gboolean
send_is_over (gpointer data)
{
  return backup_send_page_get_runner (data) == NULL;
}

static void
runner_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (backup_runner_run_finish (BACKUP_RUNNER (object), result, &error));
  g_assert_no_error (error);
  *(gboolean *)user_data = TRUE;
}

static gboolean
name_listed (gpointer data)
{
  BackupHistoryPage *page = data;

  return !backup_history_page_get_loading (page) && name_row (page, "arrived.txt") != NULL;
}

/* A backup received by the Receive page appears on the Backups page by
 * itself; one sent by the Send page is listed in the sent group and kept
 * in the history file. */
static void
test_received_and_sent (void)
{
  GSettings *settings = backup_application_get_settings (app);
  g_autofree char *signaling = g_build_filename (tmpdir, "signaling", NULL);
  g_autofree char *dest = g_build_filename (tmpdir, "arrivals", NULL);
  g_autofree char *elsewhere = g_build_filename (tmpdir, "elsewhere", NULL);
  g_autofree char *source_path = g_build_filename (tmpdir, "arrived.txt", NULL);
  const char *addresses[] = { "127.0.0.1", NULL };
  g_autoptr (GFile) source = NULL;
  BackupSentHistory *history = backup_sent_history_get_default ();
  BackupWindow *window;
  BackupHistoryPage *page;
  BackupReceivePage *receive_page;
  BackupSendPage *send_page;

  g_assert_cmpint (g_mkdir_with_parents (signaling, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (elsewhere, 0700), ==, 0);
  g_assert_true (g_file_set_contents (source_path, "arrived\n", -1, NULL));
  source = g_file_new_for_path (source_path);
  g_settings_set_string (settings, "signaling-url", signaling);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_strv (settings, "stun-servers", NULL);
  g_settings_set_string (settings, "destination-directory", dest);
  g_settings_set_string (settings, "session-id", "history-receive-test");

  window = new_window ();
  page = backup_window_get_history_page (window);
  receive_page = backup_window_get_receive_page (window);
  send_page = backup_window_get_send_page (window);
  wait_idle (page);
  g_assert_null (name_row (page, "arrived.txt"));

  /* Received by the Receive page, keeping older versions by age: the
   * versions kept become the newest kept, the periods come from the
   * settings, and the store keeps the versions' times in its index. */
  g_settings_set_uint (settings, "versions", 2);
  g_settings_set_boolean (settings, "keep-by-age", TRUE);
  g_settings_set_uint (settings, "keep-daily", 3);
  gtk_widget_activate_action (GTK_WIDGET (receive_page), "receive.start", NULL);
  g_assert_nonnull (backup_receive_page_get_runner (receive_page));
  {
    BackupProfile *profile = backup_runner_get_profile (backup_receive_page_get_runner (receive_page));
    BackupRetention retention;

    g_assert_true (backup_profile_get_retention (profile, &retention));
    g_assert_cmpuint (retention.last, ==, 2);
    g_assert_cmpuint (retention.hourly, ==, 24);
    g_assert_cmpuint (retention.daily, ==, 3);
    g_assert_cmpuint (retention.weekly, ==, 4);
    g_assert_cmpuint (retention.monthly, ==, 12);
    g_assert_cmpuint (backup_profile_get_versions (profile), ==, BACKUP_STORE_MAX_VERSIONS);
  }
  {
    g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_SEND);
    g_autoptr (BackupRunner) sender = NULL;
    gboolean sent = FALSE;

    backup_profile_set_session_id (profile, "history-receive-test");
    backup_profile_set_signaling (profile, signaling);
    backup_profile_set_ice_addresses (profile, addresses);
    backup_profile_set_source (profile, source);
    backup_profile_set_timeout (profile, 30);
    sender = backup_runner_new (profile);
    backup_runner_run_async (sender, NULL, runner_done_cb, &sent);
    wait_until (is_true, &sent, "the sender");
    wait_until (runner_is_gone, receive_page, "the receiver");
  }
  wait_until (name_listed, page, "the received backup on the Backups page");
  {
    g_autofree char *index = g_build_filename (dest, ".arrived.txt.versions", NULL);

    g_assert_true (g_file_test (index, G_FILE_TEST_IS_REGULAR));
    g_settings_reset (settings, "keep-by-age");
    g_settings_reset (settings, "keep-daily");
    g_settings_reset (settings, "versions");
  }
  {
    g_autoptr (GPtrArray) rows = version_rows (page, "arrived.txt");
    g_autofree char *device = backup_device_default_name ();
    g_autofree char *from = g_strdup_printf (" · from %s", device);
    g_autofree char *probe = g_build_filename (tmpdir, "xattr-probe", NULL);
    const char *subtitle;
    gboolean xattrs;

    g_assert_cmpuint (rows->len, ==, 1);
    subtitle = adw_action_row_get_subtitle (g_ptr_array_index (rows, 0));
    /* The device it came from, where the filesystem keeps it. */
    g_assert_true (g_file_set_contents (probe, "", 0, NULL));
    xattrs = setxattr (probe, "user.probe", "1", 1, 0) == 0;
    g_remove (probe);
    if (xattrs)
      g_assert_true (g_str_has_suffix (subtitle, from));
    else
      g_assert_null (strstr (subtitle, " · from "));
  }
  gtk_widget_activate_action (GTK_WIDGET (receive_page), "receive.done", NULL);

  /* Sent by the Send page. */
  {
    g_autoptr (BackupProfile) profile = backup_profile_new (BACKUP_PROFILE_ROLE_RECEIVE);
    g_autoptr (BackupRunner) receiver = NULL;
    g_autoptr (GFile) there = g_file_new_for_path (elsewhere);
    gboolean received = FALSE;
    g_autoptr (GPtrArray) rows = NULL;
    const BackupSentEntry *entry;

    backup_send_page_set_session_id (send_page, "history-send-test");
    backup_profile_set_session_id (profile, "history-send-test");
    backup_profile_set_signaling (profile, signaling);
    backup_profile_set_ice_addresses (profile, addresses);
    backup_profile_set_destination (profile, there);
    backup_profile_set_timeout (profile, 30);
    receiver = backup_runner_new (profile);
    backup_runner_run_async (receiver, NULL, runner_done_cb, &received);

    backup_window_set_source (window, source);
    while (backup_send_page_get_choosing_source (send_page))
      g_main_context_iteration (NULL, TRUE);
    gtk_widget_activate_action (GTK_WIDGET (send_page), "send.start", NULL);
    g_assert_nonnull (backup_send_page_get_runner (send_page));
    wait_until (send_is_over, send_page, "the Send page");
    wait_until (is_true, &received, "the receiver");

    entry = g_ptr_array_index (backup_sent_history_get_entries (history), 0);
    g_assert_cmpstr (entry->name, ==, "arrived.txt");
    g_assert_cmpstr (entry->session_id, ==, "history-send-test");
    {
      g_autofree char *device = backup_device_default_name ();

      /* The receiver gave its device name. */
      g_assert_cmpstr (entry->device, ==, device);
    }
    g_assert_cmpuint (entry->size, ==, strlen ("arrived\n"));
    g_assert_cmpint (g_get_real_time () - entry->time, <, 120 * G_USEC_PER_SEC);

    rows = rows_of (page_child (page, "sent_group"), ADW_TYPE_ACTION_ROW);
    g_assert_cmpuint (rows->len, >=, 1);
    g_assert_true (gtk_widget_get_visible (page_child (page, "sent_group")));
    g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (rows, 0)), ==,
                     "arrived.txt");
    {
      g_autofree char *device = backup_device_default_name ();
      g_autofree char *to = g_strdup_printf (" · to %s", device);

      g_assert_true (g_str_has_suffix (adw_action_row_get_subtitle (g_ptr_array_index (rows, 0)),
                                       to));
    }
  }
  /* Kept in the user's data folder. */
  wait_until (history_idle, history, "the history file");
  {
    g_autofree char *path = g_build_filename (g_get_user_data_dir (), "distributed-backup",
                                              "sent-history.json", NULL);
    g_autofree char *contents = NULL;
    g_autoptr (GPtrArray) parsed = NULL;
    gsize length;

    g_assert_true (g_str_has_prefix (path, tmpdir));
    g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
    parsed = backup_sent_history_parse (contents, length, NULL);
    g_assert_nonnull (parsed);
    g_assert_cmpstr (((BackupSentEntry *)g_ptr_array_index (parsed, 0))->session_id, ==,
                     "history-send-test");
  }

  destroy_window (window);
  g_settings_reset (settings, "signaling-url");
  g_settings_reset (settings, "ice-addresses");
  g_settings_reset (settings, "stun-servers");
  g_settings_reset (settings, "destination-directory");
  g_settings_reset (settings, "session-id");
}

/* Show in Files asks the file manager to show the version. */
static const char file_manager_xml[]
    = "<node><interface name='org.freedesktop.FileManager1'>"
      "<method name='ShowItems'><arg type='as' direction='in'/><arg type='s' direction='in'/>"
      "</method></interface></node>";

static char *shown_uri;
static gboolean name_owned;

static void
file_manager_call_cb (GDBusConnection *connection, const char *sender, const char *path,
                      const char *interface, const char *method, GVariant *params,
                      GDBusMethodInvocation *invocation, gpointer user_data)
{
  g_autofree const char **uris = NULL;

  g_variant_get (params, "(^a&ss)", &uris, NULL);
  if (g_str_equal (method, "ShowItems") && uris[0] != NULL)
    shown_uri = g_strdup (uris[0]);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable file_manager_vtable = { file_manager_call_cb, NULL, NULL, { 0 } };

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  name_owned = TRUE;
}

static gboolean
uri_shown (gpointer data)
{
  return shown_uri != NULL;
}

static void
test_show_in_files (void)
{
  g_autofree char *folder = g_build_filename (tmpdir, "show", NULL);
  g_autofree char *path = g_build_filename (folder, "shown.txt", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (file_manager_xml, NULL);
  BackupWindow *window;
  BackupHistoryPage *page;
  guint registration, owner;

  g_assert_nonnull (bus);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "shown", -1, NULL));
  registration = g_dbus_connection_register_object (bus, "/org/freedesktop/FileManager1",
                                                    info->interfaces[0], &file_manager_vtable, NULL,
                                                    NULL, NULL);
  owner = g_bus_own_name_on_connection (bus, "org.freedesktop.FileManager1",
                                        G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired_cb, NULL, NULL,
                                        NULL);
  wait_until (is_true, &name_owned, "the file manager's name");

  window = window_on (folder);
  page = backup_window_get_history_page (window);
  activate_item (page, version_row (page, "shown.txt", "shown.txt"), "_Show in Files");
  wait_until (uri_shown, NULL, "ShowItems");
  g_assert_cmpstr (shown_uri, ==, uri);
  destroy_window (window);

  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (bus, registration);
  g_clear_pointer (&shown_uri, g_free);
}

/* ------------------------------------------------------------------------ */
static void
render (int width, const char *prefix)
{
  g_autofree char *empty = g_build_filename (tmpdir, "render-empty", NULL);
  g_autofree char *name = g_strdup_printf ("render-%s", prefix);
  g_autofree char *filled = fill_folder (name);
  g_autofree char *png = NULL;
  BackupWindow *window = window_on (empty);
  BackupHistoryPage *page = backup_window_get_history_page (window);
  g_autoptr (GFile) dir = g_file_new_for_path (filled);
  BackupSentHistory *history = backup_sent_history_get_default ();
  g_autoptr (GPtrArray) saved = g_ptr_array_new ();
  GPtrArray *entries = backup_sent_history_get_entries (history);

  /* The empty state: no sent backups either. */
  while (entries->len > 0)
    g_ptr_array_add (saved, g_ptr_array_steal_index (entries, 0));
  g_signal_emit_by_name (history, "changed");

  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  gtk_window_set_default_size (GTK_WINDOW (window), width, 640);
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (gtk_widget_get_template_child (
                                             GTK_WIDGET (window), BACKUP_TYPE_WINDOW, "stack")),
                                         "history");
  gtk_window_present (GTK_WINDOW (window));
  run_for (600);
  wait_idle (page);
  g_assert_cmpstr (state_of (page), ==, "empty");
  png = g_strdup_printf ("%s-history-empty.png", prefix);
  gui_test_save_png (GTK_WIDGET (window), png);

  /* Filled: two received names, two sent backups. */
  for (guint i = 0; i < 2; i++)
    backup_sent_history_add (history, i == 0 ? "photos.zip" : "thesis.pdf",
                             "0f4b6c1e-2d7a-4f52-9b1e-6c3a8d9e0f12", i == 0 ? "nas" : NULL,
                             1843200 * (i + 1));
  backup_receive_page_set_destination (backup_window_get_receive_page (window), dir);
  wait_idle (page);
  run_for (600);
  g_assert_cmpstr (state_of (page), ==, "list");
  /* The page works on a phone, in every state. */
  {
    int min_width = 0;

    gtk_widget_measure (GTK_WIDGET (page), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL,
                        NULL);
    g_assert_cmpint (min_width, <=, 360);
  }
  g_free (png);
  png = g_strdup_printf ("%s-history-list.png", prefix);
  gui_test_save_png (GTK_WIDGET (window), png);

  /* Restored. */
  {
    g_autofree char *passfile = g_build_filename (tmpdir, "render-passwords.bin", NULL);
    g_autoptr (GFile) passfile_file = g_file_new_for_path (passfile);
    g_autofree char *out = g_build_filename (tmpdir, "render-restored", prefix, NULL);
    g_autoptr (GFile) out_dir = g_file_new_for_path (out);
    g_autofree char *version_path = g_build_filename (filled, "documents.zip", NULL);
    g_autoptr (GFile) version = g_file_new_for_path (version_path);

    write_password_file (passfile);
    backup_send_page_set_password_file (backup_window_get_send_page (window), passfile_file);
    g_assert_cmpint (g_mkdir_with_parents (out, 0700), ==, 0);
    backup_history_page_restore (page, version, out_dir);
    wait_until (page_not_busy, page, "the restore");
    g_assert_cmpstr (adw_status_page_get_title (page_child (page, "run_status")), ==,
                     "Backup Restored");
    run_for (600);
    g_free (png);
    png = g_strdup_printf ("%s-history-restored.png", prefix);
    gui_test_save_png (GTK_WIDGET (window), png);
  }
  destroy_window (window);

  /* The sent history as it was. */
  while (entries->len > 2)
    g_ptr_array_remove_index (entries, entries->len - 1);
  g_ptr_array_set_size (entries, 0);
  for (guint i = 0; i < saved->len; i++)
    g_ptr_array_add (entries, g_ptr_array_index (saved, i));
  wait_until (history_idle, history, "the history file");
}

static void
test_render (void)
{
  render (720, "window");
}

static void
test_render_narrow (void)
{
  render (360, "narrow");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *data_home = NULL;
  int status;

  tmpdir = g_dir_make_tmp ("test-gui-history-XXXXXX", &error);
  g_assert_no_error (error);
  key_path = g_build_filename (tmpdir, "vault.key", NULL);
  data_home = g_build_filename (tmpdir, "data", NULL);
  g_setenv (BACKUP_VAULT_KEY_ENV, key_path, TRUE);
  /* The history of sent backups of this run only. */
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  backup_register_resource ();

  app = backup_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  g_test_add_func ("/gui/history/new-destroy", test_page_new_destroy);
  g_test_add_func ("/gui/history/empty", test_empty);
  g_test_add_func ("/gui/history/list", test_list);
  g_test_add_func ("/gui/history/restore", test_restore);
  g_test_add_func ("/gui/history/verify", test_verify);
  g_test_add_func ("/gui/history/delete-undo", test_delete_undo);
  g_test_add_func ("/gui/history/trash-interrupted", test_trash_interrupted);
  g_test_add_func ("/gui/history/sent-history-file", test_sent_history_file);
  g_test_add_func ("/gui/history/received-and-sent", test_received_and_sent);
  g_test_add_func ("/gui/history/show-in-files", test_show_in_files);
  g_test_add_func ("/gui/history/render", test_render);
  g_test_add_func ("/gui/history/render-narrow", test_render_narrow);
  status = g_test_run ();

  g_clear_object (&app);
  gui_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return status;
}
