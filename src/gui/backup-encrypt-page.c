/* backup-encrypt-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-encrypt-page.h"
#include "backup-gui-utils.h"
#include "backup-vault.h"

struct _BackupEncryptPage
{
  AdwPreferencesPage parent_instance;

  /* Template widgets. */
  AdwPasswordEntryRow *password1_row;
  AdwPasswordEntryRow *password2_row;

  GCancellable *cancellable; /* while a password file is written */
};

G_DEFINE_FINAL_TYPE (BackupEncryptPage, backup_encrypt_page, ADW_TYPE_PREFERENCES_PAGE)

enum
{
  PROP_0,
  PROP_WRITING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  TOAST,
  PASSWORD_FILE_SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (BackupEncryptPage *self, const char *text)
{
  g_autoptr (AdwToast) toast = backup_gui_toast_new (text);

  g_signal_emit (self, signals[TOAST], 0, toast);
}

static const char *
password1 (BackupEncryptPage *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->password1_row));
}

static const char *
password2 (BackupEncryptPage *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->password2_row));
}

static void
set_writing (BackupEncryptPage *self, GCancellable *cancellable)
{
  g_set_object (&self->cancellable, cancellable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "encrypt.save-passfile", cancellable == NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WRITING]);
}

typedef struct
{
  BackupEncryptPage *self;
  GFile *file;
} VaultWrite;

static void
vault_write_free (VaultWrite *write)
{
  g_object_unref (write->self);
  g_object_unref (write->file);
  g_free (write);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VaultWrite, vault_write_free)

static void
vault_write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VaultWrite) write = user_data;
  BackupEncryptPage *self = write->self;
  g_autoptr (GError) error = NULL;
  gboolean ok = backup_vault_write_finish (result, &error);

  if (self->password1_row == NULL) /* disposed */
    return;
  set_writing (self, NULL);
  if (!ok)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password1_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password2_row), "");
  g_signal_emit (self, signals[PASSWORD_FILE_SAVED], 0, write->file);
  toast (self, _("Password file saved"));
}

void
backup_encrypt_page_write_password_file (BackupEncryptPage *self, GFile *file)
{
  g_autofree char *path = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  VaultWrite *write;

  g_return_if_fail (BACKUP_IS_ENCRYPT_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      toast (self, _("The password file must be on this computer"));
      return;
    }
  if (self->cancellable != NULL)
    return;

  write = g_new0 (VaultWrite, 1);
  write->self = g_object_ref (self);
  write->file = g_object_ref (file);
  cancellable = g_cancellable_new ();
  set_writing (self, cancellable);
  backup_vault_write_async (path, password1 (self), password2 (self), NULL, cancellable,
                            vault_write_done_cb, write);
}

static void
password_file_chosen (GtkWidget *widget, GFile *file)
{
  backup_encrypt_page_write_password_file (BACKUP_ENCRYPT_PAGE (widget), file);
}

static void
save_passfile_action (GtkWidget *widget, const char *name, GVariant *param)
{
  BackupEncryptPage *self = BACKUP_ENCRYPT_PAGE (widget);

  if (*password1 (self) == '\0' && *password2 (self) == '\0')
    {
      toast (self, _("Enter at least one password"));
      return;
    }
  backup_gui_choose_file (widget, _("Save Password File"), GTK_FILE_CHOOSER_ACTION_SAVE,
                          _("_Save"), NULL,
                          /* Translators: proposed name of a password file */
                          _("backup-passwords.bin"), password_file_chosen);
}

static void
backup_encrypt_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupEncryptPage *self = BACKUP_ENCRYPT_PAGE (object);

  switch (prop_id)
    {
    case PROP_WRITING:
      g_value_set_boolean (value, backup_encrypt_page_get_writing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_encrypt_page_dispose (GObject *object)
{
  BackupEncryptPage *self = BACKUP_ENCRYPT_PAGE (object);

  /* A write under way stops, and leaves no file behind. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  backup_gui_close_chooser (GTK_WIDGET (self));
  gtk_widget_dispose_template (GTK_WIDGET (self), BACKUP_TYPE_ENCRYPT_PAGE);

  G_OBJECT_CLASS (backup_encrypt_page_parent_class)->dispose (object);
}

static void
backup_encrypt_page_class_init (BackupEncryptPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = backup_encrypt_page_get_property;
  object_class->dispose = backup_encrypt_page_dispose;

  properties[PROP_WRITING] = g_param_spec_boolean ("writing", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupEncryptPage::toast:
   * @toast: a message for the user
   */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, ADW_TYPE_TOAST);
  /**
   * BackupEncryptPage::password-file-saved:
   * @file: the password file written
   */
  signals[PASSWORD_FILE_SAVED]
      = g_signal_new ("password-file-saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_FILE);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/DistributedBackup/backup-encrypt-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, password1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, password2_row);

  gtk_widget_class_install_action (widget_class, "encrypt.save-passfile", NULL,
                                   save_passfile_action);
}

static void
backup_encrypt_page_init (BackupEncryptPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
backup_encrypt_page_new (void)
{
  return g_object_new (BACKUP_TYPE_ENCRYPT_PAGE, NULL);
}

gboolean
backup_encrypt_page_get_writing (BackupEncryptPage *self)
{
  g_return_val_if_fail (BACKUP_IS_ENCRYPT_PAGE (self), FALSE);

  return self->cancellable != NULL;
}
