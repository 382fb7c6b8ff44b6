/* backup-preferences.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-preferences.h"
#include "backup-signaling-open.h"

struct _BackupPreferences
{
  AdwPreferencesWindow parent_instance;

  /* Template widgets. */
  AdwEntryRow *signaling_row;
  GtkWidget *signaling_error_icon;
  GtkLabel *signaling_error_label;
  AdwPasswordEntryRow *api_key_row;
  AdwEntryRow *stun_row;
  AdwEntryRow *addresses_row;
  AdwComboRow *encryption_row;
  AdwActionRow *autostart_row;
  GtkSwitch *autostart_switch;

  GSettings *settings; /* NULL without the schema */
  gboolean loading;    /* while the rows are filled from the settings */
};

G_DEFINE_FINAL_TYPE (BackupPreferences, backup_preferences, ADW_TYPE_PREFERENCES_WINDOW)

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_API_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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
  const char *key;
  g_auto (GStrv) values = NULL;

  if (self->settings == NULL || self->loading)
    return;
  key = editable == GTK_EDITABLE (self->stun_row) ? "stun-servers" : "ice-addresses";
  values = split_list (gtk_editable_get_text (editable));
  g_settings_set_strv (self->settings, key, (const char *const *)values);
}

/* The location is checked as it is typed, the way a run checks it, and
 * saved as it is shown (a run with it fails with the same message). */
static void
signaling_changed_cb (GtkEditable *editable, gpointer user_data)
{
  BackupPreferences *self = user_data;
  g_autofree char *location = g_strstrip (g_strdup (gtk_editable_get_text (editable)));
  g_autoptr (GError) error = NULL;
  gboolean valid = backup_signaling_resolve (location, NULL, NULL, NULL, &error);

  gtk_widget_set_visible (self->signaling_error_icon, !valid);
  gtk_widget_set_visible (GTK_WIDGET (self->signaling_error_label), !valid);
  if (valid)
    gtk_widget_remove_css_class (GTK_WIDGET (self->signaling_row), "error");
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->signaling_row), "error");
      gtk_label_set_label (self->signaling_error_label, error->message);
      gtk_widget_set_tooltip_text (self->signaling_error_icon, error->message);
    }
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->signaling_row),
                               GTK_ACCESSIBLE_STATE_INVALID,
                               valid ? GTK_ACCESSIBLE_INVALID_FALSE : GTK_ACCESSIBLE_INVALID_TRUE,
                               -1);
  if (self->settings != NULL && !self->loading)
    g_settings_set_string (self->settings, "signaling-url", gtk_editable_get_text (editable));
}

static void
api_key_changed_cb (GtkEditable *editable, gpointer user_data)
{
  g_object_notify_by_pspec (G_OBJECT (user_data), properties[PROP_API_KEY]);
}

static void
encryption_changed_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BackupPreferences *self = user_data;

  if (self->settings == NULL || self->loading)
    return;
  g_settings_set_enum (self->settings, "zip-encryption",
                       (int)adw_combo_row_get_selected (ADW_COMBO_ROW (object)));
}

static void
load_settings (BackupPreferences *self)
{
  g_auto (GStrv) stun = NULL;
  g_auto (GStrv) addresses = NULL;
  g_autofree char *stun_text = NULL;
  g_autofree char *addresses_text = NULL;
  g_autofree char *signaling = NULL;

  if (self->settings == NULL)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->signaling_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->stun_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->addresses_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->encryption_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->autostart_row), FALSE);
      return;
    }

  stun = g_settings_get_strv (self->settings, "stun-servers");
  addresses = g_settings_get_strv (self->settings, "ice-addresses");
  stun_text = g_strjoinv (", ", stun);
  addresses_text = g_strjoinv (", ", addresses);

  signaling = g_settings_get_string (self->settings, "signaling-url");

  self->loading = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->signaling_row), signaling);
  gtk_editable_set_text (GTK_EDITABLE (self->stun_row), stun_text);
  gtk_editable_set_text (GTK_EDITABLE (self->addresses_row), addresses_text);
  adw_combo_row_set_selected (self->encryption_row,
                              (guint)g_settings_get_enum (self->settings, "zip-encryption"));
  self->loading = FALSE;
  /* The application asks the Background portal as it changes. */
  g_settings_bind (self->settings, "autostart", self->autostart_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
}

static void
backup_preferences_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupPreferences *self = BACKUP_PREFERENCES (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_API_KEY:
      if (self->api_key_row != NULL) /* not disposed */
        g_value_set_string (value, gtk_editable_get_text (GTK_EDITABLE (self->api_key_row)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_preferences_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  BackupPreferences *self = BACKUP_PREFERENCES (object);
  const char *key;

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_API_KEY:
      key = g_value_get_string (value);
      if (key == NULL)
        key = "";
      if (self->api_key_row != NULL /* not disposed */
          && g_strcmp0 (key, gtk_editable_get_text (GTK_EDITABLE (self->api_key_row))) != 0)
        gtk_editable_set_text (GTK_EDITABLE (self->api_key_row), key);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_preferences_constructed (GObject *object)
{
  G_OBJECT_CLASS (backup_preferences_parent_class)->constructed (object);

  load_settings (BACKUP_PREFERENCES (object));
}

static void
backup_preferences_dispose (GObject *object)
{
  BackupPreferences *self = BACKUP_PREFERENCES (object);

  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_PREFERENCES);

  G_OBJECT_CLASS (backup_preferences_parent_class)->dispose (object);
}

static void
backup_preferences_class_init (BackupPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_preferences_get_property;
  object_class->set_property = backup_preferences_set_property;
  object_class->constructed = backup_preferences_constructed;
  object_class->dispose = backup_preferences_dispose;

  properties[PROP_SETTINGS]
      = g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_API_KEY]
      = g_param_spec_string ("api-key", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, signaling_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, signaling_error_icon);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, signaling_error_label);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, api_key_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, stun_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, addresses_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, encryption_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, autostart_row);
  gtk_widget_class_bind_template_child (widget_class, BackupPreferences, autostart_switch);
  gtk_widget_class_bind_template_callback (widget_class, list_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, api_key_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, signaling_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, encryption_changed_cb);
}

static void
backup_preferences_init (BackupPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

BackupPreferences *
backup_preferences_new (GSettings *settings)
{
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (BACKUP_TYPE_PREFERENCES, "settings", settings, NULL);
}
