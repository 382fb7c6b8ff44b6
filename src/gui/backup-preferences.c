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
  GSettings *settings; /* NULL without the schema */
  AdwEntryRow *signaling_row;
  AdwPasswordEntryRow *api_key_row;
  AdwEntryRow *stun_row;
  AdwEntryRow *addresses_row;
  AdwComboRow *encryption_row;
};

G_DEFINE_FINAL_TYPE (BackupPreferences, backup_preferences, ADW_TYPE_PREFERENCES_WINDOW)

/* The values of a comma- or space-separated list, without empty ones. */
static GStrv
split_list (const char *text)
{
  g_auto (GStrv) parts = g_strsplit_set (text, ", \t", -1);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_strv_builder_add (builder, parts[i]);
  return g_strv_builder_end (builder);
}

static void
list_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;
  const char *key = g_object_get_data (G_OBJECT (editable), "settings-key");
  g_auto (GStrv) values = split_list (gtk_editable_get_text (editable));

  if (self->settings != NULL)
    g_settings_set_strv (self->settings, key, (const char *const *)values);
}

static void
api_key_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;

  backup_application_set_api_key (self->application, gtk_editable_get_text (editable));
}

static void
encryption_changed_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupPreferences *self = user_data;

  if (self->settings != NULL)
    g_settings_set_enum (self->settings, "zip-encryption",
                         (int)adw_combo_row_get_selected (ADW_COMBO_ROW (object)));
}

static AdwEntryRow *
add_entry_row (AdwPreferencesGroup *group, const char *title)
{
  AdwEntryRow *row = ADW_ENTRY_ROW (adw_entry_row_new ());

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_preferences_group_add (group, GTK_WIDGET (row));
  return row;
}

static void
backup_preferences_dispose (GObject *object)
{
  BackupPreferences *self = BACKUP_PREFERENCES (object);

  g_clear_object (&self->settings);
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
  AdwPreferencesGroup *network = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  AdwPreferencesGroup *archives = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  const char *const encryptions[]
      = { /* Translators: zip encryption methods */
          _("AES-256 (recommended)"), _("AES-128"), _("ZipCrypto (for old tools, weak)"), NULL
        };
  g_autoptr (GtkStringList) model = gtk_string_list_new (encryptions);

  gtk_window_set_default_size (GTK_WINDOW (self), 560, 520);
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);

  adw_preferences_group_set_title (group, _("Finding the Other Computer"));
  adw_preferences_group_set_description (
      group,
      _("Both computers must use the same signaling store. Empty: a folder on this computer."));
  self->signaling_row = add_entry_row (group, _("_Signaling Server or Shared Folder"));
  self->api_key_row = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->api_key_row),
                                 _("API _Key (not saved)"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->api_key_row), TRUE);
  adw_preferences_group_add (group, GTK_WIDGET (self->api_key_row));

  adw_preferences_group_set_title (network, _("Network"));
  adw_preferences_group_set_description (
      network,
      _("Lists are separated by commas. No STUN server: only this network is reachable."));
  self->stun_row = add_entry_row (network, _("S_TUN Servers (host:port)"));
  g_object_set_data (G_OBJECT (self->stun_row), "settings-key", (gpointer) "stun-servers");
  self->addresses_row = add_entry_row (network, _("_Local Addresses (empty: all but loopback)"));
  g_object_set_data (G_OBJECT (self->addresses_row), "settings-key", (gpointer) "ice-addresses");

  adw_preferences_group_set_title (archives, _("Folder Archives"));
  self->encryption_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->encryption_row), _("_Encryption"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->encryption_row), TRUE);
  adw_combo_row_set_model (self->encryption_row, G_LIST_MODEL (model));
  adw_preferences_group_add (archives, GTK_WIDGET (self->encryption_row));

  adw_preferences_page_add (page, group);
  adw_preferences_page_add (page, network);
  adw_preferences_page_add (page, archives);
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
      g_auto (GStrv) stun = g_settings_get_strv (settings, "stun-servers");
      g_auto (GStrv) addresses = g_settings_get_strv (settings, "ice-addresses");
      g_autofree char *stun_text = g_strjoinv (", ", stun);
      g_autofree char *addresses_text = g_strjoinv (", ", addresses);

      self->settings = g_object_ref (settings);
      g_settings_bind (settings, "signaling-url", self->signaling_row, "text",
                       G_SETTINGS_BIND_DEFAULT);
      gtk_editable_set_text (GTK_EDITABLE (self->stun_row), stun_text);
      gtk_editable_set_text (GTK_EDITABLE (self->addresses_row), addresses_text);
      adw_combo_row_set_selected (self->encryption_row,
                                  (guint)g_settings_get_enum (settings, "zip-encryption"));
    }
  else
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->signaling_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->stun_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->addresses_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->encryption_row), FALSE);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->api_key_row), key != NULL ? key : "");
  g_signal_connect (self->stun_row, "changed", G_CALLBACK (list_changed_cb), self);
  g_signal_connect (self->addresses_row, "changed", G_CALLBACK (list_changed_cb), self);
  g_signal_connect (self->api_key_row, "changed", G_CALLBACK (api_key_changed_cb), self);
  g_signal_connect (self->encryption_row, "notify::selected", G_CALLBACK (encryption_changed_cb),
                    self);
  return self;
}
