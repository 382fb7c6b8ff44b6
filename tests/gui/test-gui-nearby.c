/* test-gui-nearby.c: the "Pair With a Device Nearby" window, one side of a
 * pairing whose other side is the command line on another machine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run by tests/e2e/test-nearby-pair.sh on a machine of its lab (its own
 * network namespace, system bus and avahi-daemon), under Xvfb:
 *
 *   test-gui-nearby join PEER ANSWER CODE_FILE ADDRESS
 *       chooses PEER in the list (it waits with --invite-nearby)
 *   test-gui-nearby invite PEER ANSWER CODE_FILE ADDRESS
 *       waits in the window for PEER to ask (--pair-nearby)
 *
 * Either way it writes the code the question shows to CODE_FILE (for the
 * script to compare with the other side's), answers ANSWER ("pair" or
 * "cancel") and checks the end: with "pair", the toast "Paired with
 * “PEER”" and PEER among the paired devices; with "cancel", the window
 * gone, no error dialog, nothing stored. ICE uses ADDRESS only. Exits 0
 * when all holds; a step that does not happen within 90 s aborts. With
 * $SCREENSHOT_DIR, the list (when joining) and the question are rendered
 * there (nearby-list.png, nearby-code.png).
 */
#include "config.h"

#include "gui-test-util.h"

#include <string.h>

#include "backup-application.h"
#include "backup-device.h"
#include "backup-nearby-dialog.h"
#include "backup-resources.h"
#include "backup-window-private.h"

#define WAIT_UNTIL GUI_TEST_WAIT_UNTIL
#define find_dialog gui_test_find_dialog

const char *__asan_default_options (void);

__attribute__ ((used)) const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static GtkWidget *
find_list (GtkWidget *widget)
{
  if (GTK_IS_LIST_BOX (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_list (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The row of the list titled @name, ready to pair, or NULL. */
static GtkWidget *
find_row (GtkWidget *list, const char *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (ADW_IS_ACTION_ROW (child) && gtk_widget_get_sensitive (child)
        && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child)), name) == 0)
      return child;
  return NULL;
}

static gboolean
is_open (GtkWindow *window)
{
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();

  return g_list_find (toplevels, window) != NULL;
}

/* "123 456" from the question's body. */
static char *
code_of (AdwMessageDialog *question)
{
  const char *body = adw_message_dialog_get_body (question);
  const char *start = strstr (body, "weight=\"bold\">");
  const char *end;

  g_assert_nonnull (start);
  start += strlen ("weight=\"bold\">");
  end = strstr (start, "</span>");
  g_assert_nonnull (end);
  g_assert_cmpint (end - start, ==, 7);
  return g_strndup (start, end - start);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupApplication) app = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *toast = NULL;
  g_autofree char *code = NULL;
  g_autoptr (BackupDevice) stored = NULL;
  const char *addresses[2] = { NULL, NULL };
  const char *mode, *peer, *answer, *code_file;
  BackupWindow *window;
  GtkWindow *dialog;
  AdwMessageDialog *question;
  GSettings *settings;

  if (argc != 6)
    g_error ("usage: test-gui-nearby join|invite PEER pair|cancel CODE_FILE ADDRESS");
  mode = argv[1];
  peer = argv[2];
  answer = argv[3];
  code_file = argv[4];
  addresses[0] = argv[5];
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("LANGUAGE", "C", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);

  gtk_init ();
  adw_init ();
  backup_register_resource ();
  app = backup_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  settings = backup_application_get_settings (app);
  g_settings_set_strv (settings, "ice-addresses", addresses);
  g_settings_set_strv (settings, "stun-servers", NULL);
  g_application_activate (G_APPLICATION (app));
  window = BACKUP_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);

  dialog = backup_nearby_dialog_show (window, settings);
  if (g_str_equal (mode, "join"))
    {
      GtkWidget *list = find_list (GTK_WIDGET (dialog));
      GtkWidget *row;

      g_assert_nonnull (list);
      WAIT_UNTIL ((row = find_row (list, peer)) != NULL, "the peer's row");
      g_print ("the list shows %s\n", peer);
      if (g_getenv ("SCREENSHOT_DIR") != NULL)
        gui_test_save_png (GTK_WIDGET (dialog), "nearby-list.png");
      g_signal_emit_by_name (list, "row-activated", row);
    }
  else
    g_assert_cmpstr (mode, ==, "invite");

  heading = g_strdup_printf ("Pair With “%s”?", peer);
  WAIT_UNTIL ((question = find_dialog (heading)) != NULL, "the question");
  code = code_of (question);
  g_print ("the code shown: %s\n", code);
  if (g_getenv ("SCREENSHOT_DIR") != NULL)
    gui_test_save_png (GTK_WIDGET (question), "nearby-code.png");
  if (!g_file_set_contents (code_file, code, -1, &error))
    g_error ("%s", error->message);

  adw_message_dialog_response (question, answer);
  if (g_str_equal (answer, "pair"))
    {
      toast = g_strdup_printf ("Paired with “%s”", peer);
      WAIT_UNTIL (g_strcmp0 (backup_window_get_last_toast (window), toast) == 0, "the toast");
      g_assert_false (is_open (dialog));
      stored = backup_device_find (NULL, peer, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (stored->signaling, ==, "nearby:");
      g_print ("paired with %s (%s)\n", peer, stored->fingerprint);
    }
  else
    {
      g_autoptr (GPtrArray) devices = NULL;

      WAIT_UNTIL (!is_open (dialog), "the window's end");
      /* A little longer: no error dialog follows the user's own refusal. */
      gui_test_run_for (200);
      g_assert_null (find_dialog ("Pairing Failed"));
      devices = backup_device_list (NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < devices->len; i++)
        g_assert_cmpstr (((BackupDevice *)g_ptr_array_index (devices, i))->name, !=, peer);
      g_print ("refused %s, nothing stored\n", peer);
    }
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
