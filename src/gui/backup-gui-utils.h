/* backup-gui-utils.h: what the pages of the window share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "backup-profile.h"

G_BEGIN_DECLS

/* A profile for one run of the desktop application: @session_id, the
 * signaling store, STUN servers and local addresses of @settings (none
 * when @settings is NULL), the FILE.io @api_key, and no limit on the wait
 * for the peer. The caller adds the source or the destination. */
BackupProfile *backup_gui_profile_new (BackupProfileRole role, GSettings *settings,
                                       const char *api_key, const char *session_id);

/* The STUN servers and local addresses of @settings and the API key, on a
 * profile made elsewhere (a scheduled backup's: its device gives the
 * signaling). */
void backup_gui_profile_apply_network (BackupProfile *profile, GSettings *settings,
                                       const char *api_key);

/* A toast showing @text as it is (no markup), for five seconds. */
AdwToast *backup_gui_toast_new (const char *text);

/* Shows @file (its path, or its URI when it has none) as the subtitle of
 * @row, or @fallback without a file. */
void backup_gui_row_set_file (AdwActionRow *row, GFile *file, const char *fallback);

typedef void (*BackupChosenFunc) (GtkWidget *owner, GFile *file);

/* Shows a file chooser, modal on the window of @owner, and calls @func
 * with the file chosen, if any. @current (a folder for
 * GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, a file otherwise) sets where it
 * opens; @current_name proposes a name to save. A chooser that @owner
 * shows already is closed first; backup_gui_close_chooser() closes it
 * (call it from dispose). */
void backup_gui_choose_file (GtkWidget *owner, const char *title, GtkFileChooserAction action,
                             const char *accept, GFile *current, const char *current_name,
                             BackupChosenFunc func);
void backup_gui_close_chooser (GtkWidget *owner);

/* The chooser backup_gui_choose_file() shows for @owner, or NULL. */
GtkFileChooser *backup_gui_get_chooser (GtkWidget *owner);

/* @name in the folder where password files are kept: the user's
 * configuration folder of the application (created, mode 0700). */
GFile *backup_gui_password_folder_file (const char *name);

/* The application of the window @widget is in, or NULL. */
GApplication *backup_gui_get_application (GtkWidget *widget);

/* A run of the page @widget failed with @message: when its window is not
 * in front, the desktop is told through "app.notify-failed". */
void backup_gui_notify_failed (GtkWidget *widget, const char *message);

/* Gives the focus to @widget, a child of @page, when the focus is in @page
 * or nowhere (the button that had it went away): a page that changes its
 * controls under the keyboard keeps it there, but takes nothing from
 * another page or window. */
void backup_gui_focus_in (GtkWidget *page, GtkWidget *widget);

/* How hard a password is to guess, from its length and the kinds of
 * characters it uses (no dictionary: an honest lower bound it is not, an
 * upper one for words). */
typedef enum
{
  BACKUP_GUI_STRENGTH_VERY_WEAK,
  BACKUP_GUI_STRENGTH_WEAK,
  BACKUP_GUI_STRENGTH_FAIR,
  BACKUP_GUI_STRENGTH_GOOD,
  BACKUP_GUI_STRENGTH_STRONG,
} BackupGuiStrength;

/* The estimate in bits: each character counts for the bits of the
 * alphabet the password draws from (lower case, upper case, digits,
 * symbols, other scripts), a character that repeats the previous one or
 * continues a run ("aaa", "abc", "321") for a quarter of that. */
double backup_gui_password_bits (const char *password);
BackupGuiStrength backup_gui_password_strength (const char *password);
/* "Very weak" … "Strong". */
const char *backup_gui_strength_label (BackupGuiStrength strength);

/* The release notes of @version in @metainfo (an AppStream metainfo file,
 * as msgfmt merges its translations: each paragraph and list item followed
 * by its translations, marked with xml:lang) as the markup AdwAboutWindow
 * shows: <p>, <ul>, <ol>, <li>, <em> and <code>, each paragraph and item in
 * the first of @languages it is translated to (g_get_language_names()),
 * else untranslated. NULL, with @error set, when the file cannot be read or
 * has no notes for @version. */
char *backup_gui_release_notes (const char *metainfo, gssize length, const char *version,
                                const char *const *languages, GError **error);

G_END_DECLS
