/* backup-preferences.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-preferences.h"

struct _BackupPreferences
{
  AdwPreferencesWindow parent_instance;

  BackupApplication *application;
  AdwEntryRow *signaling_row;
  AdwEntryRow *stun_row;
  AdwPasswordEntryRow *api_key_row;
};

G_DEFINE_FINAL_TYPE (BackupPreferences, backup_preferences, ADW_TYPE_PREFERENCES_WINDOW)

static void
signaling_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;
  GSettings *settings = backup_application_get_settings (self->application);

  if (settings != NULL)
    g_settings_set_string (settings, "signaling-url", gtk_editable_get_text (editable));
}

static void
stun_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;
  GSettings *settings = backup_application_get_settings (self->application);
  g_auto (GStrv) parts = g_strsplit_set (gtk_editable_get_text (editable), ", ", -1);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) servers = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_strv_builder_add (builder, parts[i]);
  servers = g_strv_builder_end (builder);
  if (settings != NULL)
    g_settings_set_strv (settings, "stun-servers", (const char *const *) servers);
}

static void
api_key_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;

  backup_application_set_api_key (self->application, gtk_editable_get_text (editable));
}

static void
backup_preferences_dispose (GObject *object)
{
  BackupPreferences *self = BACKUP_PREFERENCES (object);

  g_clear_object (&self->application);

  G_OBJECT_CLASS (backup_preferences_parent_class)->dispose (object);
}

static void
backup_preferences_class_init (BackupPreferencesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = backup_preferences_dispose;
}

static void
backup_preferences_init (BackupPreferences *self)
{
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());

  adw_preferences_group_set_title (group, _("Finding the Other Machine"));
  adw_preferences_group_set_description (
    group, _("Both machines must use the same signaling store. Empty: a folder on this machine."));

  self->signaling_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->signaling_row),
                                 _("Signaling server or shared folder"));
  adw_preferences_group_add (group, GTK_WIDGET (self->signaling_row));

  self->api_key_row = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->api_key_row),
                                 _("API key (not saved)"));
  adw_preferences_group_add (group, GTK_WIDGET (self->api_key_row));

  self->stun_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->stun_row),
                                 _("STUN servers (host:port, comma-separated)"));
  adw_preferences_group_add (group, GTK_WIDGET (self->stun_row));

  adw_preferences_page_add (page, group);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
}

BackupPreferences *
backup_preferences_new (BackupApplication *application)
{
  BackupPreferences *self = g_object_new (BACKUP_TYPE_PREFERENCES, NULL);
  GSettings *settings = backup_application_get_settings (application);
  const char *key = backup_application_get_api_key (application);

  self->application = g_object_ref (application);
  if (settings != NULL)
    {
      g_autofree char *url = g_settings_get_string (settings, "signaling-url");
      g_auto (GStrv) stun = g_settings_get_strv (settings, "stun-servers");
      g_autofree char *stun_text = g_strjoinv (", ", stun);

      gtk_editable_set_text (GTK_EDITABLE (self->signaling_row), url);
      gtk_editable_set_text (GTK_EDITABLE (self->stun_row), stun_text);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->api_key_row), key != NULL ? key : "");
  g_signal_connect (self->signaling_row, "changed", G_CALLBACK (signaling_changed_cb), self);
  g_signal_connect (self->stun_row, "changed", G_CALLBACK (stun_changed_cb), self);
  g_signal_connect (self->api_key_row, "changed", G_CALLBACK (api_key_changed_cb), self);
  return self;
}
