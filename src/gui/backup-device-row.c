/* backup-device-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The model is a GtkStringList of what is shown; the devices themselves
 * are kept beside it, in the same order after the first item. The file is
 * small and read on the main thread, as the rest of the window reads its
 * settings.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-device-row.h"
#include "backup-display.h"
#include "backup-gui-utils.h"

struct _BackupDeviceRow
{
  AdwComboRow parent_instance;

  GtkStringList *model;
  GPtrArray *devices; /* BackupDevice, item i + 1 of the model */
  GFileMonitor *monitor;
  char *device;       /* the name chosen, or NULL */
  gboolean reloading; /* the model is being rebuilt: selections are ours */
  gboolean loaded;    /* the file was read once */
};

G_DEFINE_FINAL_TYPE (BackupDeviceRow, backup_device_row, ADW_TYPE_COMBO_ROW)

enum
{
  PROP_0,
  PROP_DEVICE,
  PROP_N_DEVICES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The position of the device named @name in the model, or 0. */
static guint
position_of (BackupDeviceRow *self, const char *name)
{
  if (name == NULL)
    return 0;
  for (guint i = 0; i < self->devices->len; i++)
    {
      BackupDevice *device = g_ptr_array_index (self->devices, i);

      if (g_str_equal (device->name, name))
        return i + 1;
    }
  return 0;
}

static void
choose (BackupDeviceRow *self, const char *name)
{
  guint position = position_of (self, name);
  const char *chosen = NULL;

  if (position > 0)
    chosen = ((BackupDevice *)g_ptr_array_index (self->devices, position - 1))->name;
  self->reloading = TRUE;
  adw_combo_row_set_selected (ADW_COMBO_ROW (self), position);
  self->reloading = FALSE;
  if (g_strcmp0 (chosen, self->device) != 0)
    {
      g_free (self->device);
      self->device = g_strdup (chosen);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
    }
}

void
backup_device_row_reload (BackupDeviceRow *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *chosen = NULL;
  gboolean count_changed;

  g_return_if_fail (BACKUP_IS_DEVICE_ROW (self));

  devices = backup_device_list (NULL, &error);
  if (devices == NULL)
    {
      /* Translators: %s says why the paired devices cannot be read */
      g_autofree char *text = g_strdup_printf (_("Paired devices unavailable: %s"),
                                               error->message);

      /* Said where the devices are chosen, not in a dialog of its own. */
      g_debug ("%s", error->message);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self), text);
      devices = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_device_free);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self), "");

  g_ptr_array_add (names, g_strdup (_("By Session ID")));
  for (guint i = 0; i < devices->len; i++)
    {
      BackupDevice *device = g_ptr_array_index (devices, i);

      g_ptr_array_add (names, backup_display_name (device->name, -1));
    }
  g_ptr_array_add (names, NULL);

  chosen = g_strdup (self->device);
  /* The first device paired (in this window, or elsewhere while it is
   * open) is the one to use, unless one was chosen. */
  if (self->loaded && self->devices->len == 0 && devices->len > 0 && chosen == NULL)
    chosen = g_strdup (((BackupDevice *)g_ptr_array_index (devices, 0))->name);
  count_changed = self->devices->len != devices->len;
  self->loaded = TRUE;
  g_ptr_array_unref (self->devices);
  self->devices = g_steal_pointer (&devices);
  self->reloading = TRUE;
  gtk_string_list_splice (self->model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->model)),
                          (const char *const *)names->pdata);
  self->reloading = FALSE;
  choose (self, chosen);
  if (count_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DEVICES]);
}

static void
selected_cb (BackupDeviceRow *self, GParamSpec *pspec, gpointer user_data)
{
  guint position = adw_combo_row_get_selected (ADW_COMBO_ROW (self));
  const char *name = NULL;

  if (self->reloading)
    return;
  if (position != GTK_INVALID_LIST_POSITION && position > 0 && position <= self->devices->len)
    name = ((BackupDevice *)g_ptr_array_index (self->devices, position - 1))->name;
  if (g_strcmp0 (name, self->device) == 0)
    return;
  g_free (self->device);
  self->device = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
}

static void
file_changed_cb (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                 gpointer user_data)
{
  BackupDeviceRow *self = user_data;

  if (backup_device_file_event_changes_contents (event))
    backup_device_row_reload (self);
}

static void
backup_device_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupDeviceRow *self = BACKUP_DEVICE_ROW (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      g_value_set_string (value, self->device);
      break;
    case PROP_N_DEVICES:
      g_value_set_uint (value, self->devices->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_device_row_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  BackupDeviceRow *self = BACKUP_DEVICE_ROW (object);

  switch (prop_id)
    {
    case PROP_DEVICE:
      backup_device_row_set_device (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_device_row_dispose (GObject *object)
{
  BackupDeviceRow *self = BACKUP_DEVICE_ROW (object);

  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }

  G_OBJECT_CLASS (backup_device_row_parent_class)->dispose (object);
}

static void
backup_device_row_finalize (GObject *object)
{
  BackupDeviceRow *self = BACKUP_DEVICE_ROW (object);

  g_clear_object (&self->model);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_free (self->device);

  G_OBJECT_CLASS (backup_device_row_parent_class)->finalize (object);
}

static void
backup_device_row_class_init (BackupDeviceRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = backup_device_row_get_property;
  object_class->set_property = backup_device_row_set_property;
  object_class->dispose = backup_device_row_dispose;
  object_class->finalize = backup_device_row_finalize;

  properties[PROP_DEVICE]
      = g_param_spec_string ("device", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_DEVICES]
      = g_param_spec_uint ("n-devices", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_device_row_init (BackupDeviceRow *self)
{
  g_autofree char *folder = backup_device_get_default_folder ();
  g_autofree char *path = g_build_filename (folder, "paired.conf", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  self->devices = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_device_free);
  self->model = gtk_string_list_new (NULL);
  adw_combo_row_set_model (ADW_COMBO_ROW (self), G_LIST_MODEL (self->model));
  g_signal_connect (self, "notify::selected", G_CALLBACK (selected_cb), NULL);

  /* A pairing in this window, an unpairing in a terminal: the row follows. */
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (file_changed_cb), self);
  else
    g_debug ("the paired devices are not followed: %s", error->message);
  backup_device_row_reload (self);
}

GtkWidget *
backup_device_row_new (void)
{
  return g_object_new (BACKUP_TYPE_DEVICE_ROW, NULL);
}

const char *
backup_device_row_get_device (BackupDeviceRow *self)
{
  g_return_val_if_fail (BACKUP_IS_DEVICE_ROW (self), NULL);

  return self->device;
}

void
backup_device_row_set_device (BackupDeviceRow *self, const char *name)
{
  g_return_if_fail (BACKUP_IS_DEVICE_ROW (self));

  choose (self, name != NULL && *name != '\0' ? name : NULL);
}

guint
backup_device_row_get_n_devices (BackupDeviceRow *self)
{
  g_return_val_if_fail (BACKUP_IS_DEVICE_ROW (self), 0);

  return self->devices->len;
}

const BackupDevice *
backup_device_row_get_device_info (BackupDeviceRow *self)
{
  guint position;

  g_return_val_if_fail (BACKUP_IS_DEVICE_ROW (self), NULL);

  position = position_of (self, self->device);
  return position > 0 ? g_ptr_array_index (self->devices, position - 1) : NULL;
}
