/* backup-nearby-dialog.c: pairing with a computer of the local network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One flow per window: this device's certificate (loaded in a thread, it
 * may come from the keyring), its BackupNearbyHost with an inviting
 * pairing run on its own server, a browsing BackupDiscovery for the list,
 * and at most one question on screen. Choosing a device replaces the
 * inviting run by a joining one on that device's server. The flow lives
 * as long as the window or a run holds a reference.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "backup-device-pairing.h"
#include "backup-display.h"
#include "backup-gui-utils.h"
#include "backup-nearby-dialog.h"
#include "backup-nearby.h"
#include "backup-profile.h"

/* How long a joining run waits for the chosen device, in seconds. */
#define JOIN_TIMEOUT_S 120

typedef struct
{
  BackupWindow *window;
  GSettings *settings;
  GtkWindow *dialog; /* NULL once closed */
  GtkListBox *list;
  GtkLabel *intro;
  GtkLabel *status;
  GtkSpinner *spinner;
  GCancellable *cancellable;     /* the whole flow */
  GCancellable *run_cancellable; /* the pairing run under way */
  RtcCertificate *certificate;
  char *own_name;
  RtcConfiguration *config;
  BackupNearbyHost *host;
  BackupSignalingStore *own_store;
  BackupDiscovery *discovery;
  GHashTable *rows; /* fingerprint → AdwActionRow */
  AdwMessageDialog *question;
  BackupPairingQuestion *pending;
  gboolean joining;
  gboolean declined; /* this computer's user refused the code */
  gboolean finished;
} NearbyFlow;

static void
close_question (NearbyFlow *flow)
{
  flow->pending = NULL;
  if (flow->question == NULL)
    return;
  g_signal_handlers_disconnect_by_data (flow->question, flow);
  gtk_window_destroy (GTK_WINDOW (flow->question));
  g_clear_object (&flow->question);
}

static void
nearby_flow_clear (NearbyFlow *flow)
{
  close_question (flow);
  if (flow->discovery != NULL)
    {
      g_signal_handlers_disconnect_by_data (flow->discovery, flow);
      backup_discovery_stop (flow->discovery);
    }
  g_clear_object (&flow->discovery);
  g_clear_object (&flow->own_store);
  g_clear_object (&flow->host);
  g_clear_pointer (&flow->config, rtc_configuration_free);
  g_clear_object (&flow->certificate);
  g_free (flow->own_name);
  g_clear_pointer (&flow->rows, g_hash_table_unref);
  g_clear_object (&flow->run_cancellable);
  g_clear_object (&flow->cancellable);
  g_clear_object (&flow->settings);
  g_clear_object (&flow->window);
}

static NearbyFlow *
nearby_flow_ref (NearbyFlow *flow)
{
  return g_rc_box_acquire (flow);
}

static void
nearby_flow_unref (NearbyFlow *flow)
{
  g_rc_box_release_full (flow, (GDestroyNotify)nearby_flow_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NearbyFlow, nearby_flow_unref)

static void
set_status (NearbyFlow *flow, const char *text, gboolean busy)
{
  if (flow->dialog == NULL)
    return;
  gtk_label_set_text (flow->status, text);
  gtk_spinner_set_spinning (flow->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (flow->spinner), busy);
}

static void
show_error (BackupWindow *window, const char *message)
{
  g_autofree char *shown = backup_display_name (message, -1);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), _ ("Pairing Failed"), shown);

  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The end, once: the window goes, then a toast naming @device or the
 * error (unless cancelled). */
static void
finish (NearbyFlow *flow, BackupDevice *device, const GError *error)
{
  GtkWindow *dialog = g_steal_pointer (&flow->dialog);

  if (flow->finished)
    return;
  flow->finished = TRUE;
  close_question (flow);
  g_cancellable_cancel (flow->cancellable);
  if (dialog != NULL)
    gtk_window_destroy (dialog);
  if (device != NULL)
    {
      g_autofree char *name = backup_display_name (device->name, -1);
      g_autofree char *text = g_strdup_printf (_ ("Paired with “%s”"), name);

      backup_window_show_toast (flow->window, text);
    }
  else if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (flow->window, error->message);
}

/* --- the question --- */

static void
question_response_cb (AdwMessageDialog *dialog, const char *response, NearbyFlow *flow)
{
  BackupPairingQuestion *question = g_steal_pointer (&flow->pending);
  gboolean confirmed = g_strcmp0 (response, "pair") == 0;

  /* The dialog closes itself. */
  g_signal_handlers_disconnect_by_data (flow->question, flow);
  g_clear_object (&flow->question);
  if (question == NULL)
    return;
  if (confirmed)
    set_status (flow, _ ("Waiting for the other device to confirm…"), TRUE);
  flow->declined = !confirmed;
  backup_pairing_question_answer (question, confirmed);
}

static void
code_cb (BackupPairingQuestion *question, const char *code, const char *name,
         const char *fingerprint, gpointer user_data)
{
  NearbyFlow *flow = user_data;
  g_autofree char *shown = backup_display_name (name, -1);
  g_autofree char *heading = g_strdup_printf (_ ("Pair With “%s”?"), shown);
  g_autofree char *check
      = g_markup_printf_escaped (_ ("Pair only if “%s” shows the same code:"), shown);
  g_autofree char *digits = g_markup_printf_escaped ("%.3s %s", code, code + 3);
  g_autofree char *print
      = g_markup_printf_escaped (_ ("Its certificate fingerprint: %s"), fingerprint);
  g_autofree char *body = g_strdup_printf (
      "%s\n\n<span size=\"xx-large\" weight=\"bold\">%s</span>\n\n<small>%s</small>", check, digits,
      print);
  GtkWindow *parent = flow->dialog != NULL ? flow->dialog : GTK_WINDOW (flow->window);

  if (flow->finished)
    {
      backup_pairing_question_answer (question, FALSE);
      return;
    }
  close_question (flow);
  flow->pending = question;
  flow->question
      = ADW_MESSAGE_DIALOG (g_object_ref_sink (adw_message_dialog_new (parent, heading, NULL)));
  adw_message_dialog_set_body_use_markup (flow->question, TRUE);
  adw_message_dialog_set_body (flow->question, body);
  gtk_window_set_modal (GTK_WINDOW (flow->question), TRUE);
  adw_message_dialog_add_responses (flow->question, "cancel", _ ("_Cancel"), "pair", _ ("_Pair"),
                                    NULL);
  adw_message_dialog_set_response_appearance (flow->question, "pair", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (flow->question, "pair");
  adw_message_dialog_set_close_response (flow->question, "cancel");
  g_signal_connect (flow->question, "response", G_CALLBACK (question_response_cb), flow);
  set_status (flow, _ ("Compare the codes on both screens"), FALSE);
  gtk_window_present (GTK_WINDOW (flow->question));
}

/* --- pairing runs --- */

static void
paired_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (NearbyFlow) flow = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupDevice) device = backup_device_pair_finish (result, &error);

  /* The inviting run cancelled for a joining one says nothing. */
  if (device == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_cancellable_is_cancelled (flow->cancellable))
    return;
  /* Nor does a code this computer's user refused: the window just goes. */
  if (device == NULL && flow->declined)
    g_clear_error (&error);
  finish (flow, device, error);
}

/* A new run, the one under way cancelled. */
static GCancellable *
new_run (NearbyFlow *flow)
{
  if (flow->run_cancellable != NULL)
    g_cancellable_cancel (flow->run_cancellable);
  g_clear_object (&flow->run_cancellable);
  flow->run_cancellable = g_cancellable_new ();
  g_signal_connect_object (flow->cancellable, "cancelled", G_CALLBACK (g_cancellable_cancel),
                           flow->run_cancellable, G_CONNECT_SWAPPED);
  return flow->run_cancellable;
}

static void
start_inviting (NearbyFlow *flow)
{
  g_autoptr (BackupDeviceLink) own
      = backup_device_link_new (BACKUP_NEARBY_LOCATION, flow->certificate, flow->own_name);

  /* No time limit: it waits for as long as the window is open. */
  backup_device_pair_nearby_async (BACKUP_DEVICE_PAIRING_INVITER, own, flow->own_name,
                                   flow->own_store, flow->config, NULL, 0, code_cb, flow,
                                   new_run (flow), paired_cb, nearby_flow_ref (flow));
}

static void
join (NearbyFlow *flow, const BackupNearbyDevice *device)
{
  g_autoptr (BackupDeviceLink) seen = g_new0 (BackupDeviceLink, 1);
  g_autoptr (BackupSignalingStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *url = backup_nearby_device_get_url (device);
  g_autofree char *shown = backup_display_name (device->name, -1);
  g_autofree char *text = g_strdup_printf (_ ("Asking “%s” to pair…"), shown);

  if (flow->joining || flow->pending != NULL || flow->finished)
    return;
  store = url != NULL ? backup_signaling_open (url, NULL, NULL, &error) : NULL;
  if (store == NULL)
    {
      finish (flow, NULL, error);
      return;
    }
  flow->joining = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (flow->list), FALSE);
  set_status (flow, text, TRUE);
  seen->signaling = g_strdup (BACKUP_NEARBY_LOCATION);
  seen->name = g_strdup (device->name);
  memcpy (seen->fingerprint, device->fingerprint_bytes, sizeof seen->fingerprint);
  backup_device_pair_nearby_async (BACKUP_DEVICE_PAIRING_JOINER, seen, flow->own_name, store,
                                   flow->config, NULL, JOIN_TIMEOUT_S, code_cb, flow,
                                   new_run (flow), paired_cb, nearby_flow_ref (flow));
}

/* --- the list --- */

static void
row_activated_cb (GtkListBox *list, GtkListBoxRow *row, NearbyFlow *flow)
{
  BackupNearbyDevice *device = g_object_get_data (G_OBJECT (row), "device");

  if (device != NULL && device->pairing)
    join (flow, device);
}

/* Shows @device (the best record of its fingerprint) in @row: a device
 * ready to pair can be chosen; another one is there, greyed, saying what
 * to do on it. */
static void
row_show (GtkWidget *row, const BackupNearbyDevice *device)
{
  g_autofree char *fingerprint = backup_nearby_device_get_short_fingerprint (device);
  g_autofree char *subtitle = NULL;

  if (device->pairing)
    subtitle = g_strdup_printf ("%s…", fingerprint);
  else
    /* Translators: the start of a device's certificate fingerprint, then
     * why it cannot be chosen */
    subtitle = g_strdup_printf (_ ("%s… — not ready: open this window on it too"), fingerprint);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), device->name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_sensitive (row, device->pairing);
  g_object_set_data_full (G_OBJECT (row), "device", backup_nearby_device_copy (device),
                          (GDestroyNotify)backup_nearby_device_free);
}

static void
device_added_cb (BackupDiscovery *discovery, BackupNearbyDevice *device, NearbyFlow *flow)
{
  GtkWidget *row = g_hash_table_lookup (flow->rows, device->fingerprint);

  if (row != NULL)
    {
      BackupNearbyDevice *shown = g_object_get_data (G_OBJECT (row), "device");

      /* The announcement of the pairing window wins over the plain one. */
      if (device->pairing && !shown->pairing)
        row_show (row, device);
      return;
    }
  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  row_show (row, device);
  gtk_list_box_append (flow->list, row);
  g_hash_table_insert (flow->rows, g_strdup (device->fingerprint), row);
}

static void
device_removed_cb (BackupDiscovery *discovery, BackupNearbyDevice *device, NearbyFlow *flow)
{
  g_autoptr (GPtrArray) left = backup_discovery_get_devices (discovery);
  BackupNearbyDevice *best = NULL;
  GtkWidget *row = g_hash_table_lookup (flow->rows, device->fingerprint);

  if (row == NULL)
    return;
  /* Another record (address, protocol, the other announcement) of the same
   * device keeps its row. */
  for (guint i = 0; i < left->len; i++)
    {
      BackupNearbyDevice *other = g_ptr_array_index (left, i);

      if (g_strcmp0 (other->fingerprint, device->fingerprint) == 0
          && (best == NULL || (other->pairing && !best->pairing)))
        best = other;
    }
  if (best != NULL)
    {
      row_show (row, best);
      return;
    }
  gtk_list_box_remove (flow->list, row);
  g_hash_table_remove (flow->rows, device->fingerprint);
}

/* --- start --- */

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

static void
certificate_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (NearbyFlow) flow = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BackupProfile) profile = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *intro = NULL;
  guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];
  const char *address;

  flow->certificate = g_task_propagate_pointer (G_TASK (result), &error);
  if (flow->certificate == NULL || g_cancellable_set_error_if_cancelled (flow->cancellable, &error))
    {
      finish (flow, NULL, error);
      return;
    }
  /* The ICE settings of the preferences; the signaling is the host's. */
  profile = backup_gui_profile_new (BACKUP_PROFILE_ROLE_SEND, flow->settings, NULL, NULL);
  flow->config = backup_profile_get_rtc_configuration (profile);
  g_set_object (&flow->config->certificate, flow->certificate);
  address = flow->config->local_addresses != NULL ? flow->config->local_addresses[0] : NULL;

  flow->host = backup_nearby_host_new (flow->certificate, flow->own_name, address, TRUE);
  if (!backup_nearby_host_start (flow->host, &error)
      || (flow->own_store = backup_nearby_host_open_store (flow->host, &error)) == NULL)
    {
      g_autofree char *text = backup_display_name (error->message, -1);

      g_clear_object (&flow->host);
      if (flow->dialog != NULL)
        gtk_widget_set_visible (GTK_WIDGET (flow->list), FALSE);
      set_status (flow, text, FALSE);
      return;
    }
  /* The name the lists show (an instance name may have a suffix). */
  shown = backup_display_name (flow->own_name, -1);
  intro = g_strdup_printf (_ ("While this window is open, devices nearby see this computer as "
                              "“%s”. Open this window on the other computer too, then choose "
                              "it below, or wait for it to choose this one."),
                           shown);
  if (flow->dialog != NULL)
    gtk_label_set_text (flow->intro, intro);
  start_inviting (flow);

  rtc_certificate_get_fingerprint (flow->certificate, own);
  flow->discovery = backup_discovery_new (own, NULL);
  g_object_set (flow->discovery, "announce", FALSE, NULL);
  g_signal_connect (flow->discovery, "device-added", G_CALLBACK (device_added_cb), flow);
  g_signal_connect (flow->discovery, "device-removed", G_CALLBACK (device_removed_cb), flow);
  backup_discovery_start (flow->discovery);
  set_status (flow, _ ("Looking for devices nearby…"), TRUE);
}

static void
dialog_destroy_cb (GtkWidget *dialog, gpointer user_data)
{
  NearbyFlow *flow = user_data;

  /* Closed by the user: everything stops, nothing stored. */
  flow->dialog = NULL;
  finish (flow, NULL, NULL);
  nearby_flow_unref (flow);
}

GtkWindow *
backup_nearby_dialog_show (BackupWindow *window, GSettings *settings)
{
  NearbyFlow *flow = g_rc_box_new0 (NearbyFlow);
  g_autoptr (GTask) task = NULL;
  GtkWidget *dialog = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *status_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *placeholder = gtk_label_new (_ ("No device of this program is seen on the local network yet"));

  g_return_val_if_fail (BACKUP_IS_WINDOW (window), NULL);

  flow->window = g_object_ref (window);
  flow->settings = g_object_ref (settings);
  flow->cancellable = g_cancellable_new ();
  flow->own_name = backup_device_default_name ();
  flow->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  gtk_window_set_title (GTK_WINDOW (dialog), _ ("Pair With a Device Nearby"));
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (window));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 440, 480);
  {
    GtkEventController *shortcuts = gtk_shortcut_controller_new ();

    gtk_shortcut_controller_add_shortcut (
        GTK_SHORTCUT_CONTROLLER (shortcuts),
        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                          gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (dialog, shortcuts);
  }

  flow->intro = GTK_LABEL (gtk_label_new (_ ("Getting this computer's certificate…")));
  gtk_label_set_wrap (flow->intro, TRUE);
  gtk_label_set_xalign (flow->intro, 0);
  flow->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (flow->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (flow->list), "boxed-list");
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_list_box_set_placeholder (flow->list, placeholder);
  gtk_accessible_update_property (GTK_ACCESSIBLE (flow->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Devices nearby"), -1);
  g_signal_connect (flow->list, "row-activated", G_CALLBACK (row_activated_cb), flow);
  flow->spinner = GTK_SPINNER (gtk_spinner_new ());
  flow->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (flow->status, TRUE);
  gtk_label_set_xalign (flow->status, 0);
  gtk_widget_add_css_class (GTK_WIDGET (flow->status), "dim-label");
  gtk_box_append (GTK_BOX (status_box), GTK_WIDGET (flow->spinner));
  gtk_box_append (GTK_BOX (status_box), GTK_WIDGET (flow->status));

  gtk_box_append (GTK_BOX (content), GTK_WIDGET (flow->intro));
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (flow->list));
  gtk_box_append (GTK_BOX (content), status_box);
  gtk_widget_set_margin_top (content, 18);
  gtk_widget_set_margin_bottom (content, 18);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  adw_clamp_set_child (ADW_CLAMP (clamp), content);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), scrolled);
  adw_window_set_content (ADW_WINDOW (dialog), box);

  flow->dialog = GTK_WINDOW (dialog);
  set_status (flow, NULL, TRUE);
  /* The window's reference, dropped when it goes. */
  g_signal_connect (dialog, "destroy", G_CALLBACK (dialog_destroy_cb), flow);
  gtk_window_present (GTK_WINDOW (dialog));

  task = g_task_new (NULL, flow->cancellable, certificate_cb, nearby_flow_ref (flow));
  g_task_run_in_thread (task, certificate_worker);
  return GTK_WINDOW (dialog);
}
