/* backup-history-page.c: the Backups page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The list comes from the store itself (a dry-run prune of the folder,
 * which reads the versions' times as the store does), in a worker thread;
 * restoring and verifying run backup_restore_run_async(); deleting and
 * undoing run the functions of backup-version-trash.h in a worker thread.
 * The page shows how many versions a name has as the store numbers them:
 * the store records no origin for a version, so none is shown. One file:
 * the rows, their actions and the run they start share the page's state
 * (one run at a time, the pending delete); the rows' model is the seam to
 * split along when the page grows.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-gui-utils.h"
#include "backup-history-page.h"
#include "backup-restore.h"
#include "backup-runner.h"
#include "backup-store.h"
#include "backup-vault.h"
#include "backup-version-trash.h"

/* A deletion that can still be undone. */
typedef struct
{
  GFile *folder;
  char *name;
  guint number;
  char *trashed;
  AdwToast *toast;
} Pending;

static void
pending_free (Pending *pending)
{
  g_clear_object (&pending->folder);
  g_free (pending->name);
  g_free (pending->trashed);
  g_clear_object (&pending->toast);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

struct _BackupHistoryPage
{
  AdwBin parent_instance;

  /* Template widgets. */
  GtkStack *content_stack;
  AdwStatusPage *empty_status;
  AdwPreferencesPage *list_page;
  AdwPreferencesGroup *received_group;
  AdwPreferencesGroup *sent_group;
  AdwStatusPage *run_status;
  GtkProgressBar *run_progress;
  GtkWidget *run_cancel_button;
  GtkWidget *run_open_button;
  GtkWidget *run_done_button;

  GFile *folder;
  GFile *password_file;
  BackupSentHistory *sent_history;

  GPtrArray *received_rows; /* widgets added to received_group */
  GPtrArray *sent_rows;     /* widgets added to sent_group */
  GPtrArray *versions;      /* BackupStoreVersion of listed_folder, or NULL */
  GFile *listed_folder;
  char *list_error;   /* why the folder could not be listed */
  GHashTable *purged; /* URIs of the folders whose trash was purged */

  GCancellable *load_cancellable;
  gboolean loading;

  /* A restore or verification. */
  GCancellable *run_cancellable;
  gboolean busy;
  gboolean showing_run;
  BackupRestoreMode run_mode;
  GFile *run_version;
  GFile *run_destination;
  char *run_name; /* shown */
  GtkWidget *password_dialog;
  GFile *choosing_for; /* the version "history.restore" asks a folder for */

  Pending *pending;
  guint changing;
};

G_DEFINE_FINAL_TYPE (BackupHistoryPage, backup_history_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_FOLDER,
  PROP_PASSWORD_FILE,
  PROP_LOADING,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void refresh (BackupHistoryPage *self);

static gboolean
is_disposed (BackupHistoryPage *self)
{
  return self->content_stack == NULL;
}

static void
emit_toast (BackupHistoryPage *self, AdwToast *toast)
{
  if (!is_disposed (self))
    g_signal_emit (self, signals[TOAST], 0, toast);
}

static void
toast_text (BackupHistoryPage *self, const char *text)
{
  g_autoptr (AdwToast) toast = backup_gui_toast_new (text);

  emit_toast (self, toast);
}

/* @time (µs since the epoch) in local time, as the command line's --prune
 * shows it. */
static char *
format_time (gint64 time)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

/* Text for a row's title or subtitle, which are markup. */
static char *
row_text (const char *text)
{
  return g_markup_escape_text (text, -1);
}

/* ------------------------------------------------------------------------ */
/* The list                                                                 */

static void
clear_rows (AdwPreferencesGroup *group, GPtrArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static void
add_row (AdwPreferencesGroup *group, GPtrArray *rows, GtkWidget *row)
{
  adw_preferences_group_add (group, row);
  g_ptr_array_add (rows, row);
}

static GtkWidget *
placeholder_row (const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *escaped = row_text (title);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped);
  if (subtitle != NULL)
    {
      g_autofree char *sub = row_text (subtitle);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
    }
  gtk_widget_add_css_class (row, "dim-label");
  return row;
}

static GtkWidget *
version_row (BackupHistoryPage *self, const BackupStoreVersion *version)
{
  g_autoptr (GFile) file = g_file_get_child (self->listed_folder, version->file);
  g_autofree char *uri = g_file_get_uri (file);
  g_autofree char *shown = backup_display_name (version->file, -1);
  g_autofree char *time = format_time (version->time);
  g_autofree char *size = g_format_size (version->size);
  g_autofree char *title = row_text (time);
  g_autofree char *subtitle_text = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *restore_label = NULL;
  g_autofree char *more_label = NULL;
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) last = g_menu_new ();
  struct
  {
    GMenu *section;
    const char *label;
    const char *action;
  } items[] = {
    { menu, N_ ("_Restore to a Folder…"), "history.restore" },
    { menu, N_ ("_Verify"), "history.verify" },
    { menu, N_ ("_Show in Files"), "history.show-in-files" },
    { last, N_ ("_Delete"), "history.delete" },
  };
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *restore;
  GtkWidget *more;

  if (version->origin != NULL)
    {
      g_autofree char *origin = backup_display_name (version->origin, -1);

      /* Translators: a version's file name, its size, and the name of the
       * device it came from */
      subtitle_text = g_strdup_printf (_ ("%s · %s · from %s"), shown, size, origin);
    }
  else
    /* Translators: a version's file name, then its size */
    subtitle_text = g_strdup_printf (_ ("%s · %s"), shown, size);
  subtitle = row_text (subtitle_text);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  restore = gtk_button_new_from_icon_name ("document-revert-symbolic");
  gtk_widget_set_valign (restore, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (restore, "flat");
  gtk_widget_set_tooltip_text (restore, _ ("Restore to a Folder…"));
  /* Translators: %s is the file of a version ("notes.txt.1") */
  restore_label = g_strdup_printf (_ ("Restore %s"), shown);
  gtk_accessible_update_property (GTK_ACCESSIBLE (restore), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  restore_label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (restore), "history.restore");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (restore), g_variant_new_string (uri));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), restore);

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_autoptr (GMenuItem) item = g_menu_item_new (_ (items[i].label), NULL);

      g_menu_item_set_action_and_target_value (item, items[i].action, g_variant_new_string (uri));
      g_menu_append_item (items[i].section, item);
    }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (last));
  more = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (more), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (more), G_MENU_MODEL (menu));
  gtk_widget_set_valign (more, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (more, "flat");
  gtk_widget_set_tooltip_text (more, _ ("More Actions"));
  /* Translators: %s is the file of a version ("notes.txt.1") */
  more_label = g_strdup_printf (_ ("More Actions for %s"), shown);
  gtk_accessible_update_property (GTK_ACCESSIBLE (more), GTK_ACCESSIBLE_PROPERTY_LABEL, more_label,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), more);
  return row;
}

/* One row per name, its versions inside. The versions come sorted by
 * name, then number. */
static void
fill_received (BackupHistoryPage *self)
{
  g_autofree char *description = NULL;
  guint n_names = 0;

  clear_rows (self->received_group, self->received_rows);
  if (self->folder != NULL)
    {
      description = g_file_get_path (self->folder);
      if (description == NULL)
        description = g_file_get_parse_name (self->folder);
    }
  adw_preferences_group_set_description (self->received_group, description);

  if (self->folder == NULL)
    {
      add_row (self->received_group, self->received_rows,
               placeholder_row (_ ("No folder for received backups"),
                                _ ("Choose one on the Receive page")));
      return;
    }
  if (self->list_error != NULL)
    {
      add_row (self->received_group, self->received_rows,
               placeholder_row (_ ("Cannot read this folder"), self->list_error));
      return;
    }

  for (guint i = 0; self->versions != NULL && i < self->versions->len;)
    {
      const BackupStoreVersion *first = g_ptr_array_index (self->versions, i);
      g_autofree char *shown = backup_display_name (first->name, -1);
      g_autofree char *title = row_text (shown);
      g_autofree char *newest = format_time (first->time);
      g_autofree char *subtitle_text = NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_expander_row_new ();
      guint64 total = 0;
      guint n = 0;

      for (; i < self->versions->len; i++, n++)
        {
          const BackupStoreVersion *version = g_ptr_array_index (self->versions, i);

          if (g_strcmp0 (version->name, first->name) != 0)
            break;
          total += version->size;
          adw_expander_row_add_row (ADW_EXPANDER_ROW (row), version_row (self, version));
        }
      {
        g_autofree char *size = g_format_size (total);

        /* Translators: the number of versions, the newest's time, the size of all */
        subtitle_text = g_strdup_printf (
            ngettext ("%u version · %s · %s", "%u versions · newest %s · %s", n), n, newest, size);
      }
      subtitle = row_text (subtitle_text);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle);
      /* libadwaita 1.2 names an expander row for screen readers by nothing. */
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, shown,
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle_text, -1);
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), n_names == 0);
      add_row (self->received_group, self->received_rows, row);
      n_names++;
    }
  if (n_names == 0)
    add_row (self->received_group, self->received_rows,
             placeholder_row (_ ("Nothing received yet"),
                              _ ("Backups the Receive page stores in this folder appear here")));
}

static void
fill_sent (BackupHistoryPage *self)
{
  GPtrArray *entries
      = self->sent_history != NULL ? backup_sent_history_get_entries (self->sent_history) : NULL;

  clear_rows (self->sent_group, self->sent_rows);
  gtk_widget_set_visible (GTK_WIDGET (self->sent_group), entries != NULL && entries->len > 0);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const BackupSentEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *shown = backup_display_name (entry->name, -1);
      g_autofree char *session = backup_display_name (entry->session_id, -1);
      g_autofree char *title = row_text (shown);
      g_autofree char *time = format_time (entry->time);
      g_autofree char *size = g_format_size (entry->size);
      g_autofree char *subtitle_text = NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      if (entry->device != NULL)
        {
          g_autofree char *device = backup_display_name (entry->device, -1);

          /* Translators: when, how big, and the name of the device it was sent to */
          subtitle_text = g_strdup_printf (_ ("%s · %s · to %s"), time, size, device);
        }
      else
        /* Translators: when, how big, and the session id it was sent to */
        subtitle_text = g_strdup_printf (_ ("%s · %s · session %s"), time, size, session);
      subtitle = row_text (subtitle_text);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      add_row (self->sent_group, self->sent_rows, row);
    }
}

static void
update_content (BackupHistoryPage *self)
{
  gboolean received = self->versions != NULL && self->versions->len > 0;
  GPtrArray *sent
      = self->sent_history != NULL ? backup_sent_history_get_entries (self->sent_history) : NULL;

  if (is_disposed (self) || self->showing_run)
    return;
  if (!received && self->list_error == NULL && (sent == NULL || sent->len == 0))
    gtk_stack_set_visible_child_name (self->content_stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->content_stack, "list");
}

static void
sent_changed_cb (BackupSentHistory *history, gpointer user_data)
{
  BackupHistoryPage *self = user_data;

  fill_sent (self);
  update_content (self);
}

typedef struct
{
  GFile *folder;
  gboolean purge;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->folder);
  g_free (data);
}

static void
load_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr (BackupStore) store = backup_store_new (data->folder, BACKUP_STORE_MAX_VERSIONS);
  GPtrArray *versions = NULL;
  GError *error = NULL;

  if (data->purge)
    {
      g_autoptr (GError) purge_error = NULL;

      /* What a run that ended left in the trash is gone for good; a
       * renumbering it did not finish is finished. */
      if (!backup_version_trash_purge (data->folder, NULL, &purge_error)
          || !backup_store_remove_stale_parts (store, BACKUP_RUNNER_STALE_PART_AGE, NULL,
                                               &purge_error))
        g_debug ("Cannot tidy the folder of received backups: %s", purge_error->message);
    }
  /* A dry run of a store without a policy that keeps everything: the
   * versions, their times and sizes, nothing changed. */
  if (!backup_store_prune (store, NULL, TRUE, &versions, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, versions, (GDestroyNotify)g_ptr_array_unref);
}

static void
load_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);
  LoadData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) versions = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* a newer listing is under way */
  g_clear_object (&self->load_cancellable);
  self->loading = FALSE;
  g_clear_pointer (&self->versions, g_ptr_array_unref);
  g_clear_pointer (&self->list_error, g_free);
  g_set_object (&self->listed_folder, data->folder);
  if (versions != NULL)
    self->versions = g_steal_pointer (&versions);
  else if (!g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND))
    self->list_error = g_strdup (error->message);
  /* (A folder that does not exist yet holds nothing.) */

  if (!is_disposed (self))
    {
      fill_received (self);
      update_content (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
refresh (BackupHistoryPage *self)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *uri = NULL;
  LoadData *data;

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (self->folder == NULL)
    {
      g_clear_pointer (&self->versions, g_ptr_array_unref);
      g_clear_pointer (&self->list_error, g_free);
      g_clear_object (&self->listed_folder);
      if (!is_disposed (self))
        {
          fill_received (self);
          update_content (self);
        }
      if (self->loading)
        {
          self->loading = FALSE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
        }
      return;
    }

  uri = g_file_get_uri (self->folder);
  data = g_new0 (LoadData, 1);
  data->folder = g_object_ref (self->folder);
  data->purge = !g_hash_table_contains (self->purged, uri);
  if (data->purge)
    g_hash_table_add (self->purged, g_steal_pointer (&uri));

  self->load_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->load_cancellable, load_done_cb, NULL);
  g_task_set_source_tag (task, refresh);
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_free);
  g_task_run_in_thread (task, load_worker);
  if (!self->loading)
    {
      self->loading = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
}

/* The version listed whose file has the URI @uri, or NULL. */
static const BackupStoreVersion *
find_version (BackupHistoryPage *self, const char *uri)
{
  g_autoptr (GFile) file = g_file_new_for_uri (uri);

  for (guint i = 0; self->versions != NULL && i < self->versions->len; i++)
    {
      const BackupStoreVersion *version = g_ptr_array_index (self->versions, i);
      g_autoptr (GFile) listed = g_file_get_child (self->listed_folder, version->file);

      if (g_file_equal (listed, file))
        return version;
    }
  return NULL;
}

static void
refresh_action (GtkWidget *widget, const char *name, GVariant *param)
{
  refresh (BACKUP_HISTORY_PAGE (widget));
}

/* ------------------------------------------------------------------------ */
/* Restoring and verifying                                                  */

static void
update_run_actions (BackupHistoryPage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "history.cancel", self->busy);
  gtk_widget_action_set_enabled (widget, "history.done", !self->busy && self->showing_run);
}

static void
set_busy (BackupHistoryPage *self, gboolean busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  update_run_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* The run state: a title, a description, and which of the buttons. */
static void
show_run (BackupHistoryPage *self, const char *icon, const char *title, const char *description,
          gboolean running, const char *folder_uri)
{
  if (is_disposed (self))
    return;
  self->showing_run = TRUE;
  adw_status_page_set_icon_name (self->run_status, icon);
  adw_status_page_set_title (self->run_status, title);
  adw_status_page_set_description (self->run_status, description);
  gtk_widget_set_visible (GTK_WIDGET (self->run_progress), running);
  gtk_widget_set_visible (self->run_cancel_button, running);
  gtk_widget_set_visible (self->run_done_button, !running);
  gtk_widget_set_visible (self->run_open_button, !running && folder_uri != NULL);
  /* "win.open-folder" is the window's; it takes the folder's URI. */
  if (folder_uri != NULL)
    {
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->run_open_button),
                                              g_variant_new_string (folder_uri));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->run_open_button), "win.open-folder");
    }
  gtk_stack_set_visible_child_name (self->content_stack, "run");
  update_run_actions (self);
  gtk_widget_grab_focus (running ? self->run_cancel_button : self->run_done_button);
}

static void
end_run (BackupHistoryPage *self)
{
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->run_version);
  g_clear_object (&self->run_destination);
  g_clear_pointer (&self->run_name, g_free);
  set_busy (self, FALSE);
}

/* Back to the list (a cancelled run says nothing). */
static void
leave_run (BackupHistoryPage *self)
{
  if (is_disposed (self))
    return;
  self->showing_run = FALSE;
  update_run_actions (self);
  update_content (self);
  refresh (self);
}

static void
show_failed (BackupHistoryPage *self, const char *message)
{
  show_run (self, "dialog-error-symbolic",
            self->run_mode == BACKUP_RESTORE_VERIFY ? _ ("Verification Failed")
                                                    : _ ("Restore Failed"),
            message, FALSE, NULL);
}

static void
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  BackupHistoryPage *self = user_data;

  if (is_disposed (self) || total == 0)
    return;
  gtk_progress_bar_set_fraction (self->run_progress, MIN (1.0, (double)done / (double)total));
}

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupHistoryPage) self = user_data;
  g_autoptr (GError) error = NULL;
  BackupRestoreSummary summary = { 0 };
  g_autofree char *description = NULL;
  g_autofree char *folder_uri = NULL;
  g_autofree char *folder = NULL;

  if (!backup_restore_run_finish (result, &summary, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          end_run (self);
          leave_run (self);
          return;
        }
      show_failed (self, error->message);
      end_run (self);
      return;
    }

  if (self->run_mode == BACKUP_RESTORE_VERIFY)
    {
      if (summary.kind == BACKUP_RESTORE_KIND_FILE)
        /* Translators: %s is the file of a version */
        description
            = g_strdup_printf (_ ("%s is not a zip: it was read to its end."), self->run_name);
      else
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, summary.n_files);

          /* Translators: the file of a version, then a number of files */
          description = g_strdup_printf (ngettext ("Every entry of %s is intact: %s file.",
                                                   "Every entry of %s is intact: %s files.",
                                                   (gulong)MIN (summary.n_files, G_MAXULONG)),
                                         self->run_name, count);
        }
      show_run (self, "emblem-ok-symbolic", _ ("Backup Verified"), description, FALSE, NULL);
    }
  else
    {
      folder_uri = g_file_get_uri (self->run_destination);
      folder = g_file_get_parse_name (self->run_destination);
      if (summary.kind == BACKUP_RESTORE_KIND_FILE)
        /* Translators: a file name, then a folder */
        description = g_strdup_printf (_ ("%s was copied into %s."), self->run_name, folder);
      else
        {
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, summary.n_files);

          /* Translators: a number of files, the file of a version, then a folder */
          description = g_strdup_printf (ngettext ("%s file of %s was restored into %s.",
                                                   "%s files of %s were restored into %s.",
                                                   (gulong)MIN (summary.n_files, G_MAXULONG)),
                                         count, self->run_name, folder);
        }
      show_run (self, "emblem-ok-symbolic", _ ("Backup Restored"), description, FALSE, folder_uri);
    }
  end_run (self);
}

static void
run_restore (BackupHistoryPage *self, const char *password1, const char *password2)
{
  g_autofree char *archive = g_file_get_path (self->run_version);
  g_autofree char *destination
      = self->run_destination != NULL ? g_file_get_path (self->run_destination) : NULL;
  BackupRestoreParams params = { 0 };
  g_autofree char *title = NULL;

  params.mode = self->run_mode;
  params.archive = archive;
  params.destination = destination;
  params.password1 = password1;
  params.password2 = password2;
  params.progress_func = progress_cb;
  params.progress_data = self;

  /* Translators: %s is the file of a version */
  title = g_strdup_printf (self->run_mode == BACKUP_RESTORE_VERIFY ? _ ("Verifying %s")
                                                                   : _ ("Restoring %s"),
                           self->run_name);
  gtk_progress_bar_set_fraction (self->run_progress, 0.0);
  show_run (self, "document-revert-symbolic", title, NULL, TRUE, NULL);
  /* The task holds the page until it ends, and with it the progress
   * data. */
  backup_restore_run_async (&params, self->run_cancellable, run_done_cb, g_object_ref (self));
}

/* Passwords asked for, when no password file is chosen. */
static void
password_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  BackupHistoryPage *self = user_data;
  GtkEditable *first = g_object_get_data (G_OBJECT (dialog), "password1");
  GtkEditable *second = g_object_get_data (G_OBJECT (dialog), "password2");

  /* One answer: closing after it says nothing more. The focus leaves the
   * entries first: GTK 4.8's password entries follow the keyboard's Caps
   * Lock while focused and forget to stop when destroyed with it. */
  g_signal_handlers_disconnect_by_func (dialog, password_response_cb, self);
  gtk_window_set_focus (GTK_WINDOW (dialog), NULL);
  if (self->password_dialog == GTK_WIDGET (dialog))
    self->password_dialog = NULL;
  if (!self->busy)
    return;
  if (g_strcmp0 (response, "open") != 0)
    {
      end_run (self);
      leave_run (self);
      return;
    }
  run_restore (self, gtk_editable_get_text (first), gtk_editable_get_text (second));
  gtk_editable_set_text (first, "");
  gtk_editable_set_text (second, "");
}

static void
ask_passwords (BackupHistoryPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *heading = NULL;
  GtkWidget *dialog;
  GtkWidget *list;
  GtkWidget *first;
  GtkWidget *second;

  /* Translators: %s is the file of a version */
  heading = g_strdup_printf (_ ("Passwords of %s"), self->run_name);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   _ ("This backup is a zip opened by two passwords. A password "
                                      "file chosen on the Send page gives them without asking."));
  /* Plain password entries: the entry rows of libadwaita 1.2 outlive a
   * message dialog badly. */
  list = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  first = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (first), TRUE);
  g_object_set (first, "placeholder-text", _ ("First Password"), "activates-default", TRUE, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (first), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("First Password"), -1);
  second = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (second), TRUE);
  g_object_set (second, "placeholder-text", _ ("Second Password"), "activates-default", TRUE, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (second), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Second Password"), -1);
  gtk_box_append (GTK_BOX (list), first);
  gtk_box_append (GTK_BOX (list), second);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), list);
  g_object_set_data (G_OBJECT (dialog), "password1", first);
  g_object_set_data (G_OBJECT (dialog), "password2", second);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "open",
                                    _ ("_Open"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "open",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "open");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (password_response_cb), self, 0);
  self->password_dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (first);
}

/* Before a run: whether the version is a zip, and the passwords of the
 * password file (in a worker thread: both read files). */
typedef struct
{
  GFile *version;
  GFile *password_file;
  gboolean is_zip;
  char *password1;
  char *password2;
} Prepare;

static void
prepare_free (Prepare *prepare)
{
  g_clear_object (&prepare->version);
  g_clear_object (&prepare->password_file);
  g_clear_pointer (&prepare->password1, backup_vault_password_free);
  g_clear_pointer (&prepare->password2, backup_vault_password_free);
  g_free (prepare);
}

static void
prepare_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Prepare *prepare = task_data;
  g_autofree char *path = g_file_get_path (prepare->version);
  GError *error = NULL;

  prepare->is_zip = backup_restore_is_zip (path, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (prepare->is_zip && prepare->password_file != NULL)
    {
      g_autofree char *passfile = g_file_get_path (prepare->password_file);

      if (passfile == NULL
          || !backup_vault_read (passfile, NULL, &prepare->password1, &prepare->password2, &error))
        {
          if (error == NULL)
            g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                         _ ("The password file must be on this computer"));
          g_prefix_error (&error, _ ("Cannot read the password file: "));
          g_task_return_error (task, error);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
prepare_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);
  Prepare *prepare = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || is_disposed (self))
        {
          end_run (self);
          leave_run (self);
          return;
        }
      show_failed (self, error->message);
      end_run (self);
      return;
    }
  if (g_cancellable_is_cancelled (self->run_cancellable) || is_disposed (self))
    {
      end_run (self);
      if (!is_disposed (self))
        leave_run (self);
      return;
    }
  if (prepare->is_zip && prepare->password_file == NULL)
    ask_passwords (self);
  else
    run_restore (self, prepare->password1, prepare->password2);
}

static void
start_run (BackupHistoryPage *self, BackupRestoreMode mode, GFile *version, GFile *destination)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *basename = NULL;
  Prepare *prepare;

  if (self->busy || is_disposed (self))
    return;
  if (g_file_peek_path (version) == NULL
      || (destination != NULL && g_file_peek_path (destination) == NULL))
    {
      toast_text (self, _ ("Only files on this computer can be restored"));
      return;
    }
  basename = g_file_get_basename (version);
  self->run_mode = mode;
  self->run_version = g_object_ref (version);
  self->run_destination = destination != NULL ? g_object_ref (destination) : NULL;
  self->run_name = backup_display_name (basename, -1);
  self->run_cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_progress_bar_set_fraction (self->run_progress, 0.0);
  show_run (self, "document-revert-symbolic",
            mode == BACKUP_RESTORE_VERIFY ? _ ("Verifying") : _ ("Restoring"), self->run_name, TRUE,
            NULL);

  prepare = g_new0 (Prepare, 1);
  prepare->version = g_object_ref (version);
  prepare->password_file = self->password_file != NULL ? g_object_ref (self->password_file) : NULL;
  task = g_task_new (self, self->run_cancellable, prepare_done_cb, NULL);
  g_task_set_source_tag (task, start_run);
  g_task_set_task_data (task, prepare, (GDestroyNotify)prepare_free);
  g_task_run_in_thread (task, prepare_worker);
}

void
backup_history_page_restore (BackupHistoryPage *self, GFile *version, GFile *destination)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));
  g_return_if_fail (G_IS_FILE (version));
  g_return_if_fail (G_IS_FILE (destination));

  start_run (self, BACKUP_RESTORE_EXTRACT, version, destination);
}

void
backup_history_page_verify (BackupHistoryPage *self, GFile *version)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));
  g_return_if_fail (G_IS_FILE (version));

  start_run (self, BACKUP_RESTORE_VERIFY, version, NULL);
}

static void
destination_chosen (GtkWidget *widget, GFile *folder)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);
  g_autoptr (GFile) version = g_steal_pointer (&self->choosing_for);

  if (version != NULL)
    backup_history_page_restore (self, version, folder);
}

static void
restore_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);
  const char *uri = g_variant_get_string (param, NULL);
  g_autoptr (GFile) home = g_file_new_for_path (g_get_home_dir ());

  if (self->busy)
    return;
  g_clear_object (&self->choosing_for);
  self->choosing_for = g_file_new_for_uri (uri);
  backup_gui_choose_file (widget, _ ("Restore to a Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                          _ ("_Restore Here"), home, NULL, destination_chosen);
}

static void
verify_action (GtkWidget *widget, const char *name, GVariant *param)
{
  g_autoptr (GFile) version = g_file_new_for_uri (g_variant_get_string (param, NULL));

  backup_history_page_verify (BACKUP_HISTORY_PAGE (widget), version);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);

  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
}

static void
done_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);

  if (!self->busy)
    leave_run (self);
}

/* ------------------------------------------------------------------------ */
/* Show in Files                                                            */

typedef struct
{
  BackupHistoryPage *page; /* a reference */
  char *uri;
} ShowData;

static void
show_data_free (ShowData *data)
{
  g_object_unref (data->page);
  g_free (data->uri);
  g_free (data);
}

/* No file manager to select it: its folder is opened. */
static void
show_folder (ShowData *data)
{
  g_autoptr (GFile) file = g_file_new_for_uri (data->uri);
  g_autoptr (GFile) parent = g_file_get_parent (file);
  g_autofree char *folder_uri = parent != NULL ? g_file_get_uri (parent) : NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (data->page));

  if (folder_uri != NULL)
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, folder_uri, GDK_CURRENT_TIME);
}

static void
show_items_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  ShowData *data = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_debug ("The file manager cannot show the version: %s", error->message);
      show_folder (data);
    }
  show_data_free (data);
}

static void
bus_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  ShowData *data = user_data;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) error = NULL;
  const char *uris[] = { data->uri, NULL };

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_debug ("No session bus: %s", error->message);
      show_folder (data);
      show_data_free (data);
      return;
    }
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL, G_DBUS_CALL_FLAGS_NONE, 5000,
                          NULL, show_items_cb, data);
}

static void
show_in_files_action (GtkWidget *widget, const char *name, GVariant *param)
{
  ShowData *data = g_new0 (ShowData, 1);

  data->page = g_object_ref (BACKUP_HISTORY_PAGE (widget));
  data->uri = g_variant_dup_string (param, NULL);
  g_bus_get (G_BUS_TYPE_SESSION, NULL, bus_cb, data);
}

/* ------------------------------------------------------------------------ */
/* Deleting, with undo                                                      */

typedef struct
{
  GFile *folder;
  char *name;
  guint number;
  char *trashed;
} TrashData;

static void
trash_data_free (TrashData *data)
{
  g_clear_object (&data->folder);
  g_free (data->name);
  g_free (data->trashed);
  g_free (data);
}

static void
take_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TrashData *data = task_data;
  GError *error = NULL;

  if (!backup_version_trash_take (data->folder, data->name, data->number, &data->trashed, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
restore_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TrashData *data = task_data;
  GError *error = NULL;

  if (!backup_version_trash_restore (data->folder, data->name, data->number, data->trashed, NULL,
                                     &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
purge_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  TrashData *data = task_data;
  g_autoptr (GError) error = NULL;

  if (!backup_version_trash_purge (data->folder, data->trashed, &error))
    g_debug ("Cannot delete a version for good: %s (it goes at the next start)", error->message);
  g_task_return_boolean (task, TRUE);
}

static TrashData *
trash_data_new (Pending *pending)
{
  TrashData *data = g_new0 (TrashData, 1);

  data->folder = g_object_ref (pending->folder);
  data->name = g_strdup (pending->name);
  data->number = pending->number;
  data->trashed = g_strdup (pending->trashed);
  return data;
}

/* Deletes for good, whether or not the page is still there. */
static void
purge (Pending *pending)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_source_tag (task, purge);
  g_task_set_task_data (task, trash_data_new (pending), (GDestroyNotify)trash_data_free);
  g_task_run_in_thread (task, purge_worker);
}

static void
change_done (BackupHistoryPage *self)
{
  self->changing--;
  if (!is_disposed (self))
    refresh (self);
}

static void
undo_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    toast_text (self, error->message);
  change_done (self);
}

static void
toast_undo_cb (AdwToast *toast, gpointer user_data)
{
  BackupHistoryPage *self = user_data;
  g_autoptr (Pending) pending = NULL;
  g_autoptr (GTask) task = NULL;

  if (self->pending == NULL || self->pending->toast != toast)
    return;
  pending = g_steal_pointer (&self->pending);
  self->changing++;
  task = g_task_new (self, NULL, undo_done_cb, NULL);
  g_task_set_source_tag (task, toast_undo_cb);
  g_task_set_task_data (task, trash_data_new (pending), (GDestroyNotify)trash_data_free);
  g_task_run_in_thread (task, restore_worker);
}

static void
toast_dismissed_cb (AdwToast *toast, gpointer user_data)
{
  BackupHistoryPage *self = user_data;
  g_autoptr (Pending) pending = NULL;

  if (self->pending == NULL || self->pending->toast != toast)
    return; /* undone */
  pending = g_steal_pointer (&self->pending);
  purge (pending);
}

/* The deletion waiting for its toast to go is final now. */
static void
finish_pending (BackupHistoryPage *self)
{
  g_autoptr (Pending) pending = g_steal_pointer (&self->pending);

  if (pending == NULL)
    return;
  g_signal_handlers_disconnect_by_data (pending->toast, self);
  adw_toast_dismiss (pending->toast);
  purge (pending);
}

static void
take_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);
  TrashData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *file = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *text = NULL;
  Pending *pending;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      toast_text (self, error->message);
      change_done (self);
      return;
    }

  pending = g_new0 (Pending, 1);
  pending->folder = g_object_ref (data->folder);
  pending->name = g_strdup (data->name);
  pending->number = data->number;
  pending->trashed = g_strdup (data->trashed);
  if (is_disposed (self))
    {
      purge (pending);
      pending_free (pending);
      change_done (self);
      return;
    }

  file = data->number == 0 ? g_strdup (data->name)
                           : g_strdup_printf ("%s.%u", data->name, data->number);
  shown = backup_display_name (file, -1);
  /* Translators: %s is the file of a version */
  text = g_strdup_printf (_ ("%s deleted"), shown);
  pending->toast = backup_gui_toast_new (text);
  adw_toast_set_button_label (pending->toast, _ ("_Undo"));
  g_signal_connect_object (pending->toast, "button-clicked", G_CALLBACK (toast_undo_cb), self, 0);
  g_signal_connect_object (pending->toast, "dismissed", G_CALLBACK (toast_dismissed_cb), self, 0);
  self->pending = pending;
  emit_toast (self, pending->toast);
  change_done (self);
}

static void
delete_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);
  const BackupStoreVersion *version = find_version (self, g_variant_get_string (param, NULL));
  g_autoptr (GTask) task = NULL;
  TrashData *data;

  if (version == NULL)
    {
      toast_text (self, _ ("This version is not there any more"));
      refresh (self);
      return;
    }
  /* One deletion can be undone at a time. */
  finish_pending (self);

  data = g_new0 (TrashData, 1);
  data->folder = g_object_ref (self->listed_folder);
  data->name = g_strdup (version->name);
  data->number = version->number;
  self->changing++;
  task = g_task_new (self, NULL, take_done_cb, NULL);
  g_task_set_source_tag (task, delete_action);
  g_task_set_task_data (task, data, (GDestroyNotify)trash_data_free);
  g_task_run_in_thread (task, take_worker);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
map_cb (GtkWidget *widget, gpointer user_data)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (widget);

  if (!self->busy)
    refresh (self);
}

static void
backup_history_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);

  switch (prop_id)
    {
    case PROP_FOLDER:
      g_value_set_object (value, self->folder);
      break;
    case PROP_PASSWORD_FILE:
      g_value_set_object (value, self->password_file);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_history_page_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);

  switch (prop_id)
    {
    case PROP_FOLDER:
      backup_history_page_set_folder (self, g_value_get_object (value));
      break;
    case PROP_PASSWORD_FILE:
      backup_history_page_set_password_file (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_history_page_dispose (GObject *object)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);

  /* A deletion not undone by now is final. */
  if (self->pending != NULL)
    finish_pending (self);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
  if (self->password_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->password_dialog));
  backup_gui_close_chooser (GTK_WIDGET (self));
  if (self->sent_history != NULL)
    g_signal_handlers_disconnect_by_data (self->sent_history, self);
  g_clear_object (&self->sent_history);
  if (self->received_rows != NULL)
    g_ptr_array_set_size (self->received_rows, 0);
  if (self->sent_rows != NULL)
    g_ptr_array_set_size (self->sent_rows, 0);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_HISTORY_PAGE);

  G_OBJECT_CLASS (backup_history_page_parent_class)->dispose (object);
}

static void
backup_history_page_finalize (GObject *object)
{
  BackupHistoryPage *self = BACKUP_HISTORY_PAGE (object);

  g_clear_object (&self->folder);
  g_clear_object (&self->password_file);
  g_clear_pointer (&self->received_rows, g_ptr_array_unref);
  g_clear_pointer (&self->sent_rows, g_ptr_array_unref);
  g_clear_pointer (&self->versions, g_ptr_array_unref);
  g_clear_object (&self->listed_folder);
  g_free (self->list_error);
  g_clear_pointer (&self->purged, g_hash_table_unref);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->run_version);
  g_clear_object (&self->run_destination);
  g_clear_object (&self->choosing_for);
  g_free (self->run_name);

  G_OBJECT_CLASS (backup_history_page_parent_class)->finalize (object);
}

static void
backup_history_page_class_init (BackupHistoryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = backup_history_page_dispose;
  object_class->finalize = backup_history_page_finalize;
  object_class->get_property = backup_history_page_get_property;
  object_class->set_property = backup_history_page_set_property;

  properties[PROP_FOLDER]
      = g_param_spec_object ("folder", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PASSWORD_FILE]
      = g_param_spec_object ("password-file", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupHistoryPage::toast:
   * @toast: a message for the user
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-history-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, empty_status);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, list_page);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, received_group);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, sent_group);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, run_status);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, run_progress);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, run_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, run_open_button);
  gtk_widget_class_bind_template_child (widget_class, BackupHistoryPage, run_done_button);

  gtk_widget_class_install_action (widget_class, "history.restore", "s", restore_action);
  gtk_widget_class_install_action (widget_class, "history.verify", "s", verify_action);
  gtk_widget_class_install_action (widget_class, "history.show-in-files", "s",
                                   show_in_files_action);
  gtk_widget_class_install_action (widget_class, "history.delete", "s", delete_action);
  gtk_widget_class_install_action (widget_class, "history.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "history.done", NULL, done_action);
  gtk_widget_class_install_action (widget_class, "history.refresh", NULL, refresh_action);
}

static void
backup_history_page_init (BackupHistoryPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->received_rows = g_ptr_array_new ();
  self->sent_rows = g_ptr_array_new ();
  self->purged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  update_run_actions (self);
  backup_history_page_set_sent_history (self, backup_sent_history_get_default ());
  fill_received (self);
}

GtkWidget *
backup_history_page_new (void)
{
  return g_object_new (BACKUP_TYPE_HISTORY_PAGE, NULL);
}

GFile *
backup_history_page_get_folder (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), NULL);

  return self->folder;
}

void
backup_history_page_set_folder (BackupHistoryPage *self, GFile *folder)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));
  g_return_if_fail (folder == NULL || G_IS_FILE (folder));

  if (is_disposed (self))
    return;
  if (self->folder == folder
      || (self->folder != NULL && folder != NULL && g_file_equal (self->folder, folder)))
    return;
  g_set_object (&self->folder, folder);
  refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLDER]);
}

GFile *
backup_history_page_get_password_file (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), NULL);

  return self->password_file;
}

void
backup_history_page_set_password_file (BackupHistoryPage *self, GFile *file)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  if (g_set_object (&self->password_file, file))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASSWORD_FILE]);
}

BackupSentHistory *
backup_history_page_get_sent_history (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), NULL);

  return self->sent_history;
}

void
backup_history_page_set_sent_history (BackupHistoryPage *self, BackupSentHistory *history)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));
  g_return_if_fail (history == NULL || BACKUP_IS_SENT_HISTORY (history));

  if (self->sent_history == history || is_disposed (self))
    return;
  if (self->sent_history != NULL)
    g_signal_handlers_disconnect_by_data (self->sent_history, self);
  g_set_object (&self->sent_history, history);
  if (history != NULL)
    g_signal_connect (history, "changed", G_CALLBACK (sent_changed_cb), self);
  fill_sent (self);
  update_content (self);
}

void
backup_history_page_refresh (BackupHistoryPage *self)
{
  g_return_if_fail (BACKUP_IS_HISTORY_PAGE (self));

  if (!is_disposed (self))
    refresh (self);
}

gboolean
backup_history_page_get_loading (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), FALSE);

  return self->loading;
}

gboolean
backup_history_page_get_busy (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), FALSE);

  return self->busy;
}

gboolean
backup_history_page_get_changing (BackupHistoryPage *self)
{
  g_return_val_if_fail (BACKUP_IS_HISTORY_PAGE (self), FALSE);

  return self->changing > 0;
}
