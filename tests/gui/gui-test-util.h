/* gui-test-util.h: what the C tests of the desktop application share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <adwaita.h>
#include <gtk/gtk.h>

/* Removes @path and everything below it, without following links. */
static inline void
gui_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_path = g_build_filename (path, name, NULL);

      if (g_file_test (child_path, G_FILE_TEST_IS_DIR)
          && !g_file_test (child_path, G_FILE_TEST_IS_SYMLINK))
        gui_test_remove_tree (child_path);
      else
        g_unlink (child_path);
    }
  g_rmdir (path);
}

static inline gboolean
gui_test_set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context for @ms milliseconds. */
static inline void
gui_test_run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, gui_test_set_flag_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

/* Renders @widget (a window) with GTK's own renderer (no screen grab) to
 * the PNG file @name, in the test's build directory or $SCREENSHOT_DIR
 * (build-aux/screenshots.sh). */
static inline void
gui_test_save_png (GtkWidget *widget, const char *name)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width, height;

  for (guint i = 0; i < 100 && gtk_widget_get_width (widget) == 0; i++)
    gui_test_run_for (50);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  for (guint i = 0; i < 100 && node == NULL; i++)
    {
      g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_to_node (snapshot);
      if (node == NULL)
        gui_test_run_for (50);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (g_getenv ("SCREENSHOT_DIR") != NULL)
    path = g_build_filename (g_getenv ("SCREENSHOT_DIR"), name, NULL);
  else
    path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("rendered %s (%dx%d)", path, width, height);
}

static inline gboolean
gui_test_give_up_cb (gpointer user_data)
{
  g_error ("%s did not happen within 90 s", (const char *) user_data);
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @cond holds; aborts after 90 s, naming
 * @what. */
#define GUI_TEST_WAIT_UNTIL(cond, what)                                                            \
  G_STMT_START                                                                                     \
  {                                                                                                \
    guint give_up_ = g_timeout_add_seconds (90, gui_test_give_up_cb, (gpointer) (what));           \
    while (!(cond))                                                                                \
      g_main_context_iteration (NULL, TRUE);                                                       \
    g_source_remove (give_up_);                                                                    \
  }                                                                                                \
  G_STMT_END

/* The message dialog on screen whose heading is @heading, or NULL. */
static inline AdwMessageDialog *
gui_test_find_dialog (const char *heading)
{
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data)
        && g_strcmp0 (adw_message_dialog_get_heading (l->data), heading) == 0)
      return l->data;
  return NULL;
}
