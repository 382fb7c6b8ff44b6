/* backup-encrypt-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each password is typed twice and its strength shown as it is typed;
 * "Save Password File…" is enabled once both are given and confirmed, and
 * its dialog opens in the folder where the application keeps its secrets.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "backup-encrypt-page.h"
#include "backup-gui-utils.h"
#include "backup-vault.h"

#include <string.h>

struct _BackupEncryptPage
{
  AdwBin parent_instance;

  /* Template widgets. */
  AdwPreferencesPage *form;
  AdwPasswordEntryRow *password1_row;
  AdwPasswordEntryRow *confirm1_row;
  AdwActionRow *strength1_row;
  GtkLevelBar *strength1_bar;
  AdwPasswordEntryRow *password2_row;
  AdwPasswordEntryRow *confirm2_row;
  AdwActionRow *strength2_row;
  GtkLevelBar *strength2_bar;
  GtkLabel *hint_label;
  GtkWidget *save_button;

  GCancellable *cancellable; /* while a password file is written */
};

G_DEFINE_FINAL_TYPE (BackupEncryptPage, backup_encrypt_page, ADW_TYPE_BIN)

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

static const char *
text_of (AdwPasswordEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

/* Shows the strength of what @password_row holds in @row and @bar, and
 * marks @confirm_row when it differs. Returns what is missing, or NULL. */
static const char *
check_password (AdwPasswordEntryRow *password_row, AdwPasswordEntryRow *confirm_row,
                AdwActionRow *row, GtkLevelBar *bar, gboolean first)
{
  const char *password = text_of (password_row);
  const char *confirm = text_of (confirm_row);
  BackupGuiStrength strength = backup_gui_password_strength (password);
  gboolean differs = *confirm != '\0' && strcmp (password, confirm) != 0;
  gboolean too_long = strlen (password) > BACKUP_VAULT_MAX_PASSWORD;

  if (*password == '\0')
    {
      gtk_level_bar_set_value (bar, 0);
      adw_action_row_set_subtitle (row, _("Nothing typed yet"));
    }
  else if (too_long)
    {
      gtk_level_bar_set_value (bar, 0);
      adw_action_row_set_subtitle (row, _("Too long: at most 255 bytes"));
    }
  else
    {
      g_autofree char *text = NULL;

      gtk_level_bar_set_value (bar, strength + 0.0);
      if (strength < BACKUP_GUI_STRENGTH_GOOD)
        /* Translators: %s is a strength ("Weak"); the rest is advice */
        text = g_strdup_printf (_("%s: add more characters, or use several unrelated words"),
                                backup_gui_strength_label (strength));
      else
        text = g_strdup (backup_gui_strength_label (strength));
      adw_action_row_set_subtitle (row, text);
    }
  if (differs)
    gtk_widget_add_css_class (GTK_WIDGET (confirm_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (confirm_row), "error");

  if (*password == '\0')
    return first ? _("Type the first password") : _("Type the second password");
  if (too_long)
    return first ? _("The first password is too long") : _("The second password is too long");
  if (differs)
    return first ? _("The two entries of the first password differ")
                 : _("The two entries of the second password differ");
  if (*confirm == '\0')
    return first ? _("Type the first password again to confirm it")
                 : _("Type the second password again to confirm it");
  return NULL;
}

/* Save is enabled once both passwords are typed twice alike. */
static void
update_state (BackupEncryptPage *self)
{
  const char *missing1;
  const char *missing2;
  const char *hint;

  if (self->password1_row == NULL) /* disposed */
    return;
  missing1 = check_password (self->password1_row, self->confirm1_row, self->strength1_row,
                             self->strength1_bar, TRUE);
  missing2 = check_password (self->password2_row, self->confirm2_row, self->strength2_row,
                             self->strength2_bar, FALSE);
  hint = missing1 != NULL ? missing1 : missing2;
  if (hint == NULL && strcmp (text_of (self->password1_row), text_of (self->password2_row)) == 0)
    hint = _("Both passwords are the same: two different ones protect better");
  else if (hint == NULL)
    hint = _("Both passwords are confirmed");
  gtk_label_set_label (self->hint_label, hint);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "encrypt.save-passfile",
                                 self->cancellable == NULL && missing1 == NULL && missing2 == NULL);
}

static void
password_changed_cb (GtkEditable *editable, gpointer user_data)
{
  update_state (user_data);
}

static void
set_writing (BackupEncryptPage *self, GCancellable *cancellable)
{
  g_set_object (&self->cancellable, cancellable);
  update_state (self);
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
  gtk_editable_set_text (GTK_EDITABLE (self->confirm1_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->password2_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->confirm2_row), "");
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
  /* Translators: proposed name of a password file */
  const char *file_name = _("backup-passwords.bin");
  /* Password files are kept in the user's configuration folder. */
  g_autoptr (GFile) where = backup_gui_password_folder_file (file_name);

  backup_gui_choose_file (widget, _("Save Password File"), GTK_FILE_CHOOSER_ACTION_SAVE,
                          _("_Save"), where, file_name, password_file_chosen);
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
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, form);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, password1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, confirm1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, strength1_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, strength1_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, password2_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, confirm2_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, strength2_row);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, strength2_bar);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, BackupEncryptPage, save_button);
  gtk_widget_class_bind_template_callback (widget_class, password_changed_cb);

  gtk_widget_class_install_action (widget_class, "encrypt.save-passfile", NULL,
                                   save_passfile_action);
}

static void
backup_encrypt_page_init (BackupEncryptPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_state (self);
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
