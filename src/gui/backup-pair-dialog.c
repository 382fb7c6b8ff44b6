/* backup-pair-dialog.c: pairing with the computer that made an invitation
 * link
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "backup-device-pairing.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-pair-dialog.h"
#include "backup-profile.h"
#include "backup-signaling-open.h"

/* How long to wait for the inviting computer, in seconds. */
#define PAIR_TIMEOUT_S 120

typedef struct
{
  BackupWindow *window;
  GSettings *settings;
  char *api_key;
  BackupDeviceLink *link;
  char *shown_name; /* the inviter's name, escaped */
  AdwMessageDialog *waiting;
  GCancellable *cancellable;
  gboolean inviting; /* this computer made the link */
} PairFlow;

static void
close_waiting (PairFlow *flow)
{
  if (flow->waiting == NULL)
    return;
  g_signal_handlers_disconnect_by_data (flow->waiting, flow);
  gtk_window_destroy (GTK_WINDOW (flow->waiting));
  g_clear_object (&flow->waiting);
}

static void
pair_flow_clear (PairFlow *flow)
{
  g_clear_object (&flow->window);
  g_clear_object (&flow->settings);
  if (flow->api_key != NULL)
    {
      explicit_bzero (flow->api_key, strlen (flow->api_key));
      g_free (flow->api_key);
    }
  g_clear_pointer (&flow->link, backup_device_link_free);
  g_free (flow->shown_name);
  close_waiting (flow);
  g_clear_object (&flow->cancellable);
}

/* A flow lives as long as a dialog or an operation holds a reference. */
static PairFlow *
pair_flow_ref (PairFlow *flow)
{
  return g_rc_box_acquire (flow);
}

static void
pair_flow_unref (PairFlow *flow)
{
  g_rc_box_release_full (flow, (GDestroyNotify) pair_flow_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PairFlow, pair_flow_unref)


static AdwMessageDialog *
message_dialog (BackupWindow *window, const char *heading, const char *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), heading, body);

  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  return ADW_MESSAGE_DIALOG (dialog);
}

static void
show_error (BackupWindow *window, const char *heading, const char *message)
{
  g_autofree char *shown = backup_display_name (message, -1);
  AdwMessageDialog *dialog = message_dialog (window, heading, shown);

  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The end: a toast naming @device, or the error (unless cancelled). */
static void
pair_flow_end (PairFlow *flow, BackupDevice *device, const GError *error)
{
  /* The secret is no longer needed. */
  g_clear_pointer (&flow->link, backup_device_link_free);
  close_waiting (flow);

  if (device != NULL)
    {
      g_autofree char *name = backup_display_name (device->name, -1);
      g_autofree char *text = g_strdup_printf (_("Paired with “%s”"), name);

      backup_window_show_toast (flow->window, text);
      return;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (flow->window, _("Pairing Failed"), error->message);
}

static void
paired_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PairFlow) flow = user_data;
  g_autoptr (GError) error = NULL;
  BackupDevice *device = backup_device_pair_finish (result, &error);

  pair_flow_end (flow, device, error);
  g_clear_pointer (&device, backup_device_free);
}

static void
waiting_response_cb (AdwMessageDialog *dialog, const char *response, PairFlow *flow)
{
  /* The dialog closes itself. */
  g_signal_handlers_disconnect_by_data (flow->waiting, flow);
  g_clear_object (&flow->waiting);
  g_cancellable_cancel (flow->cancellable);
}

static void
certificate_worker (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  RtcCertificate *certificate = backup_device_load_certificate (NULL, TRUE, &error);

  if (certificate == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, certificate, g_object_unref);
}

static void show_invitation (PairFlow *flow, RtcCertificate *certificate, const char *location);

/* This device's certificate is ready: join the pairing, or make the link
 * and wait for the other computer. */
static void
certificate_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (PairFlow) flow = user_data;
  g_autoptr (RtcCertificate) certificate = NULL;
  g_autoptr (BackupProfile) profile = NULL;
  g_autoptr (BackupSignalingStore) signaling = NULL;
  g_autoptr (RtcConfiguration) config = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *own_name = NULL;

  certificate = g_task_propagate_pointer (G_TASK (result), &error);
  if (certificate == NULL || g_cancellable_set_error_if_cancelled (flow->cancellable, &error))
    {
      pair_flow_end (flow, NULL, error);
      return;
    }

  /* The ICE settings of the preferences; the link's signaling location,
   * or for a new link the preferences' own, named in the link. */
  profile = backup_gui_profile_new (BACKUP_PROFILE_ROLE_SEND, flow->settings, flow->api_key,
                                    NULL);
  own_name = backup_device_default_name ();
  if (flow->inviting)
    {
      g_autofree char *url = NULL;
      g_autofree char *dir = NULL;

      if (!backup_signaling_resolve (backup_profile_get_signaling (profile), flow->api_key, &url,
                                     &dir, &error))
        {
          pair_flow_end (flow, NULL, error);
          return;
        }
      flow->link = backup_device_link_new (url != NULL ? url : dir, certificate, own_name);
      show_invitation (flow, certificate, url != NULL ? url : dir);
    }
  backup_profile_set_signaling (profile, flow->link->signaling);
  signaling = backup_profile_open_signaling (profile, &error);
  if (signaling == NULL)
    {
      pair_flow_end (flow, NULL, error);
      return;
    }
  config = backup_profile_get_rtc_configuration (profile);
  g_set_object (&config->certificate, certificate);
  backup_device_pair_async (flow->inviting ? BACKUP_DEVICE_PAIRING_INVITER
                                           : BACKUP_DEVICE_PAIRING_JOINER,
                            flow->link, own_name, signaling, config, NULL, PAIR_TIMEOUT_S,
                            flow->cancellable, paired_cb, pair_flow_ref (flow));
}

/* Shows @dialog as what waits for the other computer, with Cancel. */
static void
wait_in (PairFlow *flow, AdwMessageDialog *dialog)
{
  flow->waiting = g_object_ref_sink (dialog);
  adw_message_dialog_add_response (flow->waiting, "cancel", _("_Cancel"));
  adw_message_dialog_set_close_response (flow->waiting, "cancel");
  g_signal_connect (flow->waiting, "response", G_CALLBACK (waiting_response_cb), flow);
  gtk_window_present (GTK_WINDOW (flow->waiting));
}

/* Gets this device's certificate (made at the first pairing) in a thread,
 * then goes on in certificate_cb(). */
static void
start_flow (PairFlow *flow)
{
  g_autoptr (GTask) task = NULL;

  flow->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, flow->cancellable, certificate_cb, pair_flow_ref (flow));
  g_task_run_in_thread (task, certificate_worker);
}

static void
confirm_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  PairFlow *flow = user_data;
  g_autofree char *heading = NULL;
  AdwMessageDialog *waiting;
  GtkWidget *spinner;

  if (g_strcmp0 (response, "pair") != 0)
    return;

  heading = g_strdup_printf (_("Pairing With “%s”…"), flow->shown_name);
  waiting = message_dialog (flow->window, heading, _("Waiting for the other computer"));
  spinner = gtk_spinner_new ();
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_widget_set_size_request (spinner, 32, 32);
  adw_message_dialog_set_extra_child (waiting, spinner);
  wait_in (flow, waiting);
  start_flow (flow);
}

static void
copy_link_cb (GtkButton *button, gpointer user_data)
{
  const char *link = g_object_get_data (G_OBJECT (button), "link");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), link);
  gtk_button_set_label (button, _("Copied"));
}

/* The link is made: show it until the other computer comes, with the
 * certificate's fingerprint to compare. */
static void
show_invitation (PairFlow *flow, RtcCertificate *certificate, const char *location)
{
  g_autofree char *link = backup_device_link_format (flow->link);
  g_autofree char *fingerprint = backup_device_link_get_fingerprint (flow->link);
  g_autofree char *body = NULL;
  g_autofree char *local_note = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *box, *label, *button;
  gboolean local = !g_str_has_prefix (location, "http://") && !g_str_has_prefix (location, "https://");

  if (local)
    local_note = g_strdup_printf (
        "\n\n%s", _("The link goes through a folder of this computer: it pairs only with "
                     "a program that sees that folder. To invite another computer, choose a "
                     "signaling server in the preferences first."));
  body = g_strdup_printf (_("Open this link on the other computer within %u minutes: click it "
                            "there, or run “distributed-backup --pair LINK”. Whoever has the "
                            "link can pair with this computer until then.\n\nThis computer’s "
                            "certificate fingerprint:\n%s%s"),
                          PAIR_TIMEOUT_S / 60, fingerprint, local_note != NULL ? local_note : "");
  dialog = message_dialog (flow->window, _("Invite a Device"), body);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  label = gtk_label_new (link);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Invitation link"), -1);
  gtk_box_append (GTK_BOX (box), label);
  button = gtk_button_new_with_mnemonic (_("C_opy Link"));
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  g_object_set_data_full (G_OBJECT (button), "link", g_steal_pointer (&link), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (copy_link_cb), NULL);
  gtk_box_append (GTK_BOX (box), button);
  adw_message_dialog_set_extra_child (dialog, box);
  wait_in (flow, dialog);
}

void
backup_pair_dialog_invite (BackupWindow *window, GSettings *settings, const char *api_key)
{
  g_autoptr (PairFlow) flow = NULL;

  g_return_if_fail (BACKUP_IS_WINDOW (window));

  flow = g_rc_box_new0 (PairFlow);
  flow->window = g_object_ref (window);
  flow->settings = settings != NULL ? g_object_ref (settings) : NULL;
  flow->api_key = g_strdup (api_key);
  flow->inviting = TRUE;
  start_flow (flow);
}

static void
join_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  PairFlow *flow = user_data;
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *link = NULL;

  if (g_strcmp0 (response, "next") != 0)
    return;
  link = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  gtk_editable_set_text (entry, "");
  backup_pair_dialog_open (flow->window, flow->settings, flow->api_key, link);
  explicit_bzero (link, strlen (link));
}

static void
join_entry_changed_cb (GtkEditable *entry, AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "next", *text != '\0');
}

void
backup_pair_dialog_ask_link (BackupWindow *window, GSettings *settings, const char *api_key)
{
  g_autoptr (PairFlow) flow = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *entry;

  g_return_if_fail (BACKUP_IS_WINDOW (window));

  flow = g_rc_box_new0 (PairFlow);
  flow->window = g_object_ref (window);
  flow->settings = settings != NULL ? g_object_ref (settings) : NULL;
  flow->api_key = g_strdup (api_key);

  dialog = message_dialog (window, _("Pair With a Link"),
                           _("Paste the invitation link the other computer shows."));
  entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Invitation link"), -1);
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "next", _("_Next"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "next", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (dialog, "next", FALSE);
  adw_message_dialog_set_default_response (dialog, "next");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (entry, "changed", G_CALLBACK (join_entry_changed_cb), dialog);
  g_signal_connect_data (dialog, "response", G_CALLBACK (join_response_cb),
                         g_steal_pointer (&flow), (GClosureNotify) (void (*) (void)) pair_flow_unref,
                         0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

void
backup_pair_dialog_open (BackupWindow *window,
                         GSettings *settings,
                         const char *api_key,
                         const char *link)
{
  g_autoptr (PairFlow) flow = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  g_autofree char *fingerprint = NULL;
  AdwMessageDialog *dialog;

  g_return_if_fail (BACKUP_IS_WINDOW (window));
  g_return_if_fail (link != NULL);

  flow = g_rc_box_new0 (PairFlow);
  flow->link = backup_device_link_parse (link, &error);
  if (flow->link == NULL)
    {
      show_error (window, _("Cannot Pair"), error->message);
      return;
    }
  flow->window = g_object_ref (window);
  flow->settings = settings != NULL ? g_object_ref (settings) : NULL;
  flow->api_key = g_strdup (api_key);
  flow->shown_name = backup_display_name (flow->link->name, -1);
  fingerprint = backup_device_link_get_fingerprint (flow->link);

  heading = g_strdup_printf (_("Pair With “%s”?"), flow->shown_name);
  body = g_strdup_printf (_("This computer and “%s” will be able to back up to each other, "
                            "and to nothing else under that name. Pair only if this link comes "
                            "from that computer.\n\nIts certificate fingerprint:\n%s"),
                          flow->shown_name, fingerprint);
  dialog = message_dialog (window, heading, body);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "pair", _("_Pair"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "pair", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "pair");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (confirm_response_cb),
                         g_steal_pointer (&flow), (GClosureNotify) (void (*) (void)) pair_flow_unref,
                         0);
  gtk_window_present (GTK_WINDOW (dialog));
}
