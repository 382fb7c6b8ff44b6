/* backup-gui-utils.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "backup-gui-utils.h"

#define CHOOSER_KEY "backup-gui-chooser"
#define CHOSEN_FUNC_KEY "backup-gui-chosen-func"

BackupProfile *
backup_gui_profile_new (BackupProfileRole role, GSettings *settings, const char *api_key,
                        const char *session_id)
{
  g_autoptr (BackupProfile) profile = backup_profile_new (role);

  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  backup_profile_set_session_id (profile, session_id);
  /* The window waits for the other computer as long as the user does. */
  backup_profile_set_timeout (profile, 0);
  if (settings != NULL)
    {
      g_autofree char *location = g_settings_get_string (settings, "signaling-url");

      backup_profile_set_signaling (profile, g_strstrip (location));
    }
  backup_gui_profile_apply_network (profile, settings, api_key);
  return g_steal_pointer (&profile);
}

void
backup_gui_profile_apply_network (BackupProfile *profile, GSettings *settings,
                                  const char *api_key)
{
  g_return_if_fail (BACKUP_IS_PROFILE (profile));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  backup_profile_set_api_key (profile, api_key);
  if (settings != NULL)
    {
      g_auto (GStrv) stun = g_settings_get_strv (settings, "stun-servers");
      g_auto (GStrv) addresses = g_settings_get_strv (settings, "ice-addresses");

      backup_profile_set_stun_servers (profile, (const char *const *)stun);
      backup_profile_set_ice_addresses (profile, (const char *const *)addresses);
    }
}

AdwToast *
backup_gui_toast_new (const char *text)
{
  g_autofree char *markup = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (markup);

  adw_toast_set_timeout (toast, 5);
  return toast;
}

void
backup_gui_row_set_file (AdwActionRow *row, GFile *file, const char *fallback)
{
  g_autofree char *name = NULL;

  g_return_if_fail (ADW_IS_ACTION_ROW (row));

  if (file != NULL)
    {
      name = g_file_get_path (file);
      if (name == NULL)
        name = g_file_get_parse_name (file);
    }
  adw_action_row_set_subtitle (row, name != NULL ? name : fallback);
}

static void
destroy_chooser (gpointer data)
{
  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (data));
  g_object_unref (data);
}

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GtkWidget *owner = user_data;
  BackupChosenFunc func = g_object_get_data (G_OBJECT (dialog), CHOSEN_FUNC_KEY);

  /* The owner closes its chooser when it goes, so it is still there. */
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        func (owner, file);
    }
  if (g_object_get_data (G_OBJECT (owner), CHOOSER_KEY) == dialog)
    g_object_set_data (G_OBJECT (owner), CHOOSER_KEY, NULL);
}

void
backup_gui_choose_file (GtkWidget *owner, const char *title, GtkFileChooserAction action,
                        const char *accept, GFile *current, const char *current_name,
                        BackupChosenFunc func)
{
  GtkRoot *root;
  GtkFileChooserNative *chooser;

  g_return_if_fail (GTK_IS_WIDGET (owner));
  g_return_if_fail (func != NULL);

  backup_gui_close_chooser (owner);
  root = gtk_widget_get_root (owner);
  chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         action, accept, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (current != NULL)
    {
      if (action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), current, NULL);
      else
        {
          g_autoptr (GFile) parent = g_file_get_parent (current);

          if (parent != NULL)
            gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), parent, NULL);
        }
    }
  if (current_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), current_name);
  g_object_set_data (G_OBJECT (chooser), CHOSEN_FUNC_KEY, func);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), owner);
  g_object_set_data_full (G_OBJECT (owner), CHOOSER_KEY, chooser, destroy_chooser);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
backup_gui_close_chooser (GtkWidget *owner)
{
  g_return_if_fail (GTK_IS_WIDGET (owner));

  g_object_set_data (G_OBJECT (owner), CHOOSER_KEY, NULL);
}

GApplication *
backup_gui_get_application (GtkWidget *widget)
{
  GtkRoot *root;
  GtkApplication *application;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  root = gtk_widget_get_root (widget);
  if (!GTK_IS_WINDOW (root))
    return NULL;
  application = gtk_window_get_application (GTK_WINDOW (root));
  return application != NULL ? G_APPLICATION (application) : NULL;
}

GtkFileChooser *
backup_gui_get_chooser (GtkWidget *owner)
{
  g_return_val_if_fail (GTK_IS_WIDGET (owner), NULL);

  return g_object_get_data (G_OBJECT (owner), CHOOSER_KEY);
}

GFile *
backup_gui_password_folder_file (const char *name)
{
  g_autofree char *folder = g_build_filename (g_get_user_config_dir (), "distributed-backup", NULL);
  g_autofree char *path = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  /* One mkdir of a local folder (where the vault keeps its key too). */
  if (g_mkdir_with_parents (folder, 0700) != 0)
    g_debug ("cannot create %s: %s", folder, g_strerror (errno));
  path = g_build_filename (folder, name, NULL);
  return g_file_new_for_path (path);
}

void
backup_gui_notify_failed (GtkWidget *widget, const char *message)
{
  GtkRoot *root;
  GApplication *application;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (message != NULL);

  root = gtk_widget_get_root (widget);
  application = backup_gui_get_application (widget);
  if (application == NULL
      || (GTK_IS_WINDOW (root) && gtk_widget_get_mapped (GTK_WIDGET (root))
          && gtk_window_is_active (GTK_WINDOW (root))))
    return;
  if (g_action_group_has_action (G_ACTION_GROUP (application), "notify-failed"))
    g_action_group_activate_action (G_ACTION_GROUP (application), "notify-failed",
                                    g_variant_new_string (message));
}

void
backup_gui_focus_in (GtkWidget *page, GtkWidget *widget)
{
  GtkRoot *root;
  GtkWidget *focus;

  g_return_if_fail (GTK_IS_WIDGET (page));
  g_return_if_fail (GTK_IS_WIDGET (widget));

  root = gtk_widget_get_root (page);
  if (root == NULL || !gtk_widget_get_mapped (page))
    return;
  focus = gtk_root_get_focus (root);
  if (focus == NULL || !gtk_widget_get_mapped (focus) || focus == page
      || gtk_widget_is_ancestor (focus, page))
    gtk_widget_grab_focus (widget);
}

double
backup_gui_password_bits (const char *password)
{
  gboolean lower = FALSE, upper = FALSE, digit = FALSE, symbol = FALSE, other = FALSE;
  double length = 0;
  gunichar previous = 0;
  int pool = 0;

  g_return_val_if_fail (password != NULL, 0);

  if (!g_utf8_validate (password, -1, NULL))
    return 0;
  for (const char *p = password; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gint64 step = (gint64)c - (gint64)previous;

      if (c >= 'a' && c <= 'z')
        lower = TRUE;
      else if (c >= 'A' && c <= 'Z')
        upper = TRUE;
      else if (c >= '0' && c <= '9')
        digit = TRUE;
      else if (c < 128)
        symbol = TRUE;
      else
        other = TRUE;
      /* "aaaa", "abcd" and "4321" add little. */
      length += previous != 0 && (step == 0 || step == 1 || step == -1) ? 0.25 : 1;
      previous = c;
    }
  pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0)
         + (other ? 100 : 0);
  return pool > 0 ? length * log2 (pool) : 0;
}

BackupGuiStrength
backup_gui_password_strength (const char *password)
{
  double bits = backup_gui_password_bits (password);

  if (bits < 30)
    return BACKUP_GUI_STRENGTH_VERY_WEAK;
  if (bits < 40)
    return BACKUP_GUI_STRENGTH_WEAK;
  if (bits < 60)
    return BACKUP_GUI_STRENGTH_FAIR;
  if (bits < 80)
    return BACKUP_GUI_STRENGTH_GOOD;
  return BACKUP_GUI_STRENGTH_STRONG;
}

const char *
backup_gui_strength_label (BackupGuiStrength strength)
{
  switch (strength)
    {
    case BACKUP_GUI_STRENGTH_VERY_WEAK:
      return _("Very weak");
    case BACKUP_GUI_STRENGTH_WEAK:
      return _("Weak");
    case BACKUP_GUI_STRENGTH_FAIR:
      return _("Fair");
    case BACKUP_GUI_STRENGTH_GOOD:
      return _("Good");
    case BACKUP_GUI_STRENGTH_STRONG:
    default:
      return _("Strong");
    }
}

/* ------------------------------------------------------------------------ */
/* Release notes                                                            */

/* A paragraph or a list item of the notes, in one language (NULL:
 * untranslated), or the start or end of a list (text NULL). */
typedef struct
{
  char *tag;
  char *lang;
  char *text;
} NotesPart;

static void
notes_part_free (gpointer data)
{
  NotesPart *part = data;

  g_free (part->tag);
  g_free (part->lang);
  g_free (part->text);
  g_free (part);
}

typedef struct
{
  const char *version;
  gboolean found;   /* the release of that version was met */
  int release_depth; /* > 0 inside that release */
  int depth;
  gboolean in_description;
  GPtrArray *parts; /* of NotesPart */
  GString *text;    /* of the paragraph or item being read, NULL outside */
} NotesParser;

static gboolean
is_block (const char *name)
{
  return g_str_equal (name, "p") || g_str_equal (name, "li");
}

static gboolean
is_inline (const char *name)
{
  return g_str_equal (name, "em") || g_str_equal (name, "code");
}

static void
notes_start (GMarkupParseContext *context, const char *name, const char **attribute_names,
             const char **attribute_values, gpointer user_data, GError **error)
{
  NotesParser *parser = user_data;

  parser->depth++;
  if (parser->release_depth == 0)
    {
      const char *version = NULL;

      if (!g_str_equal (name, "release"))
        return;
      for (guint i = 0; attribute_names[i] != NULL; i++)
        if (g_str_equal (attribute_names[i], "version"))
          version = attribute_values[i];
      if (g_strcmp0 (version, parser->version) == 0 && !parser->found)
        {
          parser->found = TRUE;
          parser->release_depth = parser->depth;
        }
      return;
    }
  if (parser->depth == parser->release_depth + 1 && g_str_equal (name, "description"))
    {
      parser->in_description = TRUE;
      return;
    }
  if (!parser->in_description)
    return;
  if (parser->text != NULL && is_inline (name))
    g_string_append_printf (parser->text, "<%s>", name);
  else if (parser->text == NULL && is_block (name))
    {
      NotesPart *part = g_new0 (NotesPart, 1);

      part->tag = g_strdup (name);
      for (guint i = 0; attribute_names[i] != NULL; i++)
        if (g_str_equal (attribute_names[i], "xml:lang"))
          part->lang = g_strdup (attribute_values[i]);
      g_ptr_array_add (parser->parts, part);
      parser->text = g_string_new (NULL);
    }
  else if (parser->text == NULL && (g_str_equal (name, "ul") || g_str_equal (name, "ol")))
    {
      NotesPart *part = g_new0 (NotesPart, 1);

      part->tag = g_strdup (name);
      g_ptr_array_add (parser->parts, part);
    }
}

static void
notes_end (GMarkupParseContext *context, const char *name, gpointer user_data, GError **error)
{
  NotesParser *parser = user_data;

  if (parser->release_depth > 0 && parser->in_description)
    {
      if (parser->text != NULL && is_block (name))
        {
          NotesPart *part = g_ptr_array_index (parser->parts, parser->parts->len - 1);
          g_auto (GStrv) words = g_strsplit_set (parser->text->str, " \t\r\n", -1);
          g_autoptr (GString) text = g_string_new (NULL);

          /* Line breaks and indentation of the file are no part of it. */
          for (guint i = 0; words[i] != NULL; i++)
            if (*words[i] != '\0')
              g_string_append_printf (text, "%s%s", text->len > 0 ? " " : "", words[i]);
          part->text = g_string_free (g_steal_pointer (&text), FALSE);
          g_string_free (g_steal_pointer (&parser->text), TRUE);
        }
      else if (parser->text != NULL && is_inline (name))
        g_string_append_printf (parser->text, "</%s>", name);
      else if (parser->text == NULL && (g_str_equal (name, "ul") || g_str_equal (name, "ol")))
        {
          NotesPart *part = g_new0 (NotesPart, 1);

          part->tag = g_strconcat ("/", name, NULL);
          g_ptr_array_add (parser->parts, part);
        }
      else if (parser->depth == parser->release_depth + 1 && g_str_equal (name, "description"))
        parser->in_description = FALSE;
    }
  if (parser->depth == parser->release_depth)
    parser->release_depth = 0;
  parser->depth--;
}

static void
notes_text (GMarkupParseContext *context, const char *text, gsize length, gpointer user_data,
            GError **error)
{
  NotesParser *parser = user_data;

  if (parser->text != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (text, (gssize)length);

      g_string_append (parser->text, escaped);
    }
}

/* Among the parts from @first (untranslated) to before @end (its
 * translations), the one to show. */
static NotesPart *
choose_translation (GPtrArray *parts, guint first, guint end, const char *const *languages)
{
  for (guint l = 0; languages != NULL && languages[l] != NULL; l++)
    for (guint i = first + 1; i < end; i++)
      {
        NotesPart *part = g_ptr_array_index (parts, i);

        if (g_strcmp0 (part->lang, languages[l]) == 0)
          return part;
      }
  return g_ptr_array_index (parts, first);
}

char *
backup_gui_release_notes (const char *metainfo, gssize length, const char *version,
                          const char *const *languages, GError **error)
{
  static const GMarkupParser callbacks = { notes_start, notes_end, notes_text, NULL, NULL };
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (notes_part_free);
  g_autoptr (GString) notes = g_string_new (NULL);
  NotesParser parser = { .version = version, .parts = parts };
  g_autoptr (GMarkupParseContext) context = NULL;
  gboolean parsed;

  g_return_val_if_fail (metainfo != NULL, NULL);
  g_return_val_if_fail (version != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  context = g_markup_parse_context_new (&callbacks, G_MARKUP_PREFIX_ERROR_POSITION, &parser, NULL);
  parsed = g_markup_parse_context_parse (context, metainfo, length, error)
           && g_markup_parse_context_end_parse (context, error);
  if (parser.text != NULL)
    g_string_free (parser.text, TRUE);
  if (!parsed)
    return NULL;

  for (guint i = 0; i < parts->len;)
    {
      NotesPart *part = g_ptr_array_index (parts, i);
      guint end = i + 1;

      if (part->text == NULL)
        {
          g_string_append_printf (notes, "<%s>", part->tag);
          i++;
          continue;
        }
      /* An untranslated part, then its translations. */
      while (end < parts->len && ((NotesPart *)g_ptr_array_index (parts, end))->lang != NULL)
        end++;
      if (part->lang == NULL)
        {
          NotesPart *shown = choose_translation (parts, i, end, languages);

          g_string_append_printf (notes, "<%s>%s</%s>", part->tag, shown->text, part->tag);
        }
      i = end;
    }
  if (notes->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No release notes for version %s",
                   version);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&notes), FALSE);
}
