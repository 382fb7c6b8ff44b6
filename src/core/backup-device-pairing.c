/* backup-device-pairing.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One run is the task data of its GTask; every callback reaches it through
 * a reference on the task, and signal handlers are disconnected when the
 * run ends.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "backup-device-pairing-private.h"
#include "backup-discovery.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-nearby.h"
#include "backup-pairing.h"
#include "rtc-error.h"
#include "rtc-peer-connection.h"
#include "rtc-sdp.h"

#define CHANNEL_LABEL "pair"
#define PROTOCOL_VERSION 1
/* How long gathering may take before the description goes out anyway. */
#define GATHER_WAIT_MS 3000
/* How long the exchange on the channel may take once it is open. */
#define EXCHANGE_TIMEOUT_S 30
#define MAX_MESSAGE 4096
/* On the local network the exchange waits for two people to compare codes. */
#define NEARBY_EXCHANGE_TIMEOUT_S 120
#define NONCE_LEN 16
#define COMMIT_LEN 32

/* Where a pairing on the local network stands (see the header). */
typedef enum
{
  NEARBY_WAIT_REQUEST, /* inviter: for "pair-nearby" */
  NEARBY_WAIT_NONCE,   /* joiner: for "nonce" */
  NEARBY_WAIT_REVEAL,  /* inviter: for "reveal" */
  NEARBY_CONFIRMING,   /* both: the code is shown */
} NearbyStep;

typedef struct
{
  GTask *task; /* a reference while the run is under way, dropped as it
                * returns (the run is the task's data) */
  BackupDevicePairingRole role;
  BackupDeviceLink *link;
  char *own_name;
  char *folder;
  guint timeout;
  BackupSignalingStore *signaling;
  RtcConfiguration *config;
  GCancellable *cancellable; /* ours, cancelled when the run ends */
  GCancellable *caller_cancellable;
  gulong cancelled_id;

  BackupPairing *pairing;
  RtcPeerConnection *pc;
  RtcDataChannel *channel;
  gboolean is_offerer;
  gboolean description_created;
  gboolean description_sent;
  guint gather_timeout_id;
  guint exchange_timeout_id;
  gboolean request_sent;
  gboolean answered; /* the one message expected came */
  gboolean storing;  /* the other device is being stored */

  BackupDevice *stored; /* the result, once stored */
  gboolean finishing;
  GError *failure;

  /* On the local network only. */
  gboolean nearby;
  BackupPairingCodeFunc code_func;
  gpointer code_data;
  NearbyStep step;
  guint8 own_nonce[NONCE_LEN];
  guint8 peer_nonce[NONCE_LEN];
  guint8 commit[COMMIT_LEN];
  char *peer_name;
  char *peer_fingerprint;
  gboolean own_confirmed;
  gboolean peer_confirmed;
} PairRun;

static void
pair_run_free (PairRun *run)
{
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  g_clear_handle_id (&run->exchange_timeout_id, g_source_remove);
  if (run->caller_cancellable != NULL && run->cancelled_id != 0)
    g_cancellable_disconnect (run->caller_cancellable, run->cancelled_id);
  g_clear_object (&run->caller_cancellable);
  if (run->channel != NULL)
    g_signal_handlers_disconnect_by_data (run->channel, run);
  g_clear_object (&run->channel);
  if (run->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->pc, run);
      rtc_peer_connection_close (run->pc);
    }
  g_clear_object (&run->pc);
  if (run->pairing != NULL)
    g_signal_handlers_disconnect_by_data (run->pairing, run);
  g_clear_object (&run->pairing);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->signaling);
  g_clear_pointer (&run->config, rtc_configuration_free);
  g_clear_pointer (&run->link, backup_device_link_free);
  g_free (run->own_name);
  g_free (run->folder);
  g_clear_pointer (&run->stored, backup_device_free);
  g_clear_error (&run->failure);
  g_free (run->peer_name);
  g_free (run->peer_fingerprint);
  explicit_bzero (run->own_nonce, sizeof run->own_nonce);
  g_free (run);
}

static void
return_result (PairRun *run)
{
  g_autoptr (GTask) task = g_steal_pointer (&run->task);

  if (run->failure != NULL)
    g_task_return_error (task, g_steal_pointer (&run->failure));
  else
    g_task_return_pointer (task, g_steal_pointer (&run->stored),
                           (GDestroyNotify) backup_device_free);
}

static void
pairing_closed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_pairing_close_finish (BACKUP_PAIRING (object), result, &error))
    g_debug ("cleaning up the signaling store: %s", error->message);
  return_result (g_task_get_task_data (task));
}

/* Ends the run: with @error (taken), or with the device stored. What we
 * left in the signaling store is removed first. */
static void
finish (PairRun *run, GError *error)
{
  if (run->finishing)
    {
      if (error != NULL)
        g_error_free (error);
      return;
    }
  run->finishing = TRUE;
  run->failure = error;
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  g_clear_handle_id (&run->exchange_timeout_id, g_source_remove);
  if (run->channel != NULL)
    g_signal_handlers_disconnect_by_data (run->channel, run);
  if (run->pc != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->pc, run);
      rtc_peer_connection_close (run->pc);
    }
  if (run->pairing != NULL)
    {
      g_signal_handlers_disconnect_by_data (run->pairing, run);
      backup_pairing_close_async (run->pairing, NULL, pairing_closed_cb, g_object_ref (run->task));
      return;
    }
  return_result (run);
}

static void
fail (PairRun *run, GError *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("pairing failed: %s", error->message);
  finish (run, error);
}

static gboolean
cancelled_idle_cb (gpointer user_data)
{
  PairRun *run = g_task_get_task_data (user_data);

  if (!run->finishing)
    fail (run, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
  return G_SOURCE_REMOVE;
}

/* May run on the canceller's thread: the run ends on its own context,
 * after this handler returned. */
static void
caller_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  PairRun *run = g_task_get_task_data (task);
  g_autoptr (GSource) idle = g_idle_source_new ();

  g_cancellable_cancel (run->cancellable);
  g_source_set_callback (idle, cancelled_idle_cb, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

/* --- the exchange on the channel --- */

static gboolean
send_json (PairRun *run, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autoptr (GError) error = NULL;

  if (!rtc_data_channel_send_text (run->channel, text, &error))
    {
      fail (run, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

static char *
hex_of (const guint8 *data, gsize length)
{
  GString *text = g_string_sized_new (length * 2);

  for (gsize i = 0; i < length; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

static gboolean
parse_hex (const char *text, guint8 *out, gsize length)
{
  if (text == NULL || strlen (text) != 2 * length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      int high = g_ascii_xdigit_value (text[2 * i]);
      int low = g_ascii_xdigit_value (text[2 * i + 1]);

      if (high < 0 || low < 0)
        return FALSE;
      out[i] = (guint8) (high << 4 | low);
    }
  return TRUE;
}

static gboolean
fingerprint_bytes (const char *text, guint8 out[RTC_CERTIFICATE_FINGERPRINT_LEN])
{
  return text != NULL && rtc_sdp_fingerprint_from_string (text, out, NULL);
}

/* Joiner: the request with its proof, once the channel is open. */
static void
send_request (PairRun *run)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *own = rtc_certificate_get_fingerprint_string (run->config->certificate);
  guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 proof[BACKUP_DEVICE_PROOF_LEN];
  g_autofree char *proof_hex = NULL;

  if (run->request_sent)
    return;
  run->request_sent = TRUE;
  rtc_certificate_get_fingerprint (run->config->certificate, joiner_fingerprint);
  backup_device_compute_proof (run->link->secret, run->link->fingerprint, joiner_fingerprint,
                               run->link->name, run->own_name, proof);
  proof_hex = hex_of (proof, sizeof proof);
  explicit_bzero (proof, sizeof proof);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "pair");
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, PROTOCOL_VERSION);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, run->own_name);
  json_builder_set_member_name (builder, "proof");
  json_builder_add_string_value (builder, proof_hex);
  json_builder_end_object (builder);
  g_debug ("sending the pairing request of %s", own);
  send_json (run, builder);
}

static void
send_answer (PairRun *run, const char *type, const char *member, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
  send_json (run, builder);
}

static void send_accepted_with_secret (PairRun *run);

/* Storing the other device: the devices file is written (and synced) in a
 * worker thread. */
typedef struct
{
  char *folder;
  BackupDevice *device;
} StoreJob;

static void
store_job_free (StoreJob *job)
{
  g_free (job->folder);
  backup_device_free (job->device);
  g_free (job);
}

static void
store_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  StoreJob *job = task_data;
  GError *error = NULL;
  char *name = backup_device_add (job->folder, job->device, &error);

  if (name == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, name, g_free);
}

static void
stored_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) run_task = user_data;
  PairRun *run = g_task_get_task_data (run_task);
  StoreJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_task_propagate_pointer (G_TASK (result), &error);

  run->storing = FALSE;
  if (run->finishing)
    return;
  if (name == NULL)
    {
      if (run->role == BACKUP_DEVICE_PAIRING_INVITER)
        send_answer (run, "refused", "reason", "cannot store");
      fail (run, g_steal_pointer (&error));
      return;
    }
  run->stored = backup_device_copy (job->device);
  g_free (run->stored->name);
  run->stored->name = g_steal_pointer (&name);

  if (run->role == BACKUP_DEVICE_PAIRING_INVITER && run->nearby)
    send_accepted_with_secret (run);
  else if (run->role == BACKUP_DEVICE_PAIRING_INVITER)
    /* Done once the joiner closes the channel (or the exchange times out). */
    send_answer (run, "accepted", "name", run->link->name);
  else if (rtc_data_channel_get_ready_state (run->channel) == RTC_DATA_CHANNEL_STATE_CLOSED)
    finish (run, NULL);
  else
    /* Our close tells the inviter we stored it; "closed" ends the run. */
    rtc_data_channel_close (run->channel);
}

static void
store_peer (PairRun *run, const char *name, const char *fingerprint)
{
  g_autofree char *session = backup_device_link_get_backup_session (run->link);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, stored_cb, g_object_ref (run->task));
  StoreJob *job = g_new0 (StoreJob, 1);

  job->folder = g_strdup (run->folder);
  job->device = backup_device_new (name, fingerprint, run->link->signaling, session);
  run->storing = TRUE;
  g_task_set_source_tag (task, store_peer);
  g_task_set_task_data (task, job, (GDestroyNotify) store_job_free);
  g_task_run_in_thread (task, store_worker);
}

static void
inviter_receive (PairRun *run, JsonObject *message)
{
  const char *type = json_object_get_string_member_with_default (message, "type", "");
  const char *name = json_object_get_string_member_with_default (message, "name", NULL);
  const char *proof_hex = json_object_get_string_member_with_default (message, "proof", NULL);
  g_autofree char *joiner = rtc_peer_connection_get_remote_fingerprint (run->pc);
  guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 proof[BACKUP_DEVICE_PROOF_LEN];
  gboolean proven;

  if (!g_str_equal (type, "pair") || name == NULL || !backup_device_check_name (name, NULL)
      || !parse_hex (proof_hex, proof, sizeof proof)
      || !fingerprint_bytes (joiner, joiner_fingerprint))
    {
      send_answer (run, "refused", "reason", "malformed request");
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The other device sent a malformed pairing request")));
      return;
    }
  proven = backup_device_check_proof (run->link->secret, run->link->fingerprint,
                                      joiner_fingerprint, run->link->name, name, proof);
  explicit_bzero (proof, sizeof proof);
  if (!proven)
    {
      send_answer (run, "refused", "reason", "wrong proof");
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                                      _("Pairing refused: the other device does not know the "
                                        "invitation's secret; nothing was stored")));
      return;
    }
  if (backup_device_equal_secure (joiner_fingerprint, run->link->fingerprint,
                                  RTC_CERTIFICATE_FINGERPRINT_LEN))
    {
      send_answer (run, "refused", "reason", "same device");
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                      _("The invitation was opened by this same device")));
      return;
    }
  store_peer (run, name, joiner);
}

static void
joiner_receive (PairRun *run, JsonObject *message)
{
  const char *type = json_object_get_string_member_with_default (message, "type", "");

  if (g_str_equal (type, "accepted"))
    {
      g_autofree char *inviter = backup_device_link_get_fingerprint (run->link);

      store_peer (run, run->link->name, inviter);
      return;
    }
  if (g_str_equal (type, "refused"))
    {
      const char *reason = json_object_get_string_member_with_default (message, "reason", "");
      g_autofree char *shown = backup_display_name (reason, -1);

      fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                              _("The inviting device refused the pairing (%s); nothing was "
                                "stored"),
                              shown));
      return;
    }
  fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                  _("The inviting device sent a malformed answer")));
}

/* --- the exchange on the local network --- */

static void
random_bytes (guint8 *out, gsize length)
{
  if (gnutls_rnd (GNUTLS_RND_RANDOM, out, length) < 0)
    g_error ("no random numbers");
}

static void
compute_commit (const guint8 nonce[NONCE_LEN], guint8 commit[COMMIT_LEN])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize length = COMMIT_LEN;

  g_checksum_update (checksum, nonce, NONCE_LEN);
  g_checksum_get_digest (checksum, commit, &length);
}

static void
send_fields (PairRun *run, const char *type, const char *const *members)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  for (gsize i = 0; members != NULL && members[i] != NULL; i += 2)
    {
      json_builder_set_member_name (builder, members[i]);
      json_builder_add_string_value (builder, members[i + 1]);
    }
  json_builder_end_object (builder);
  send_json (run, builder);
}

static void
send_accepted_with_secret (PairRun *run)
{
  g_autofree char *secret = hex_of (run->link->secret, sizeof run->link->secret);
  const char *members[] = { "name", run->link->name, "secret", secret, NULL };

  send_fields (run, "accepted", members);
  explicit_bzero (secret, strlen (secret));
}

/* Joiner: the request, committing to its nonce. */
static void
send_nearby_request (PairRun *run)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *commit = NULL;

  if (run->request_sent)
    return;
  run->request_sent = TRUE;
  random_bytes (run->own_nonce, NONCE_LEN);
  compute_commit (run->own_nonce, run->commit);
  commit = hex_of (run->commit, COMMIT_LEN);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "pair-nearby");
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, PROTOCOL_VERSION);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, run->own_name);
  json_builder_set_member_name (builder, "commit");
  json_builder_add_string_value (builder, commit);
  json_builder_end_object (builder);
  run->step = NEARBY_WAIT_NONCE;
  send_json (run, builder);
}

/* Both nonces are known: the code goes to the user. */
static void
ask_user (PairRun *run)
{
  guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];
  guint8 peer[RTC_CERTIFICATE_FINGERPRINT_LEN];
  g_autofree char *code = NULL;

  run->step = NEARBY_CONFIRMING;
  rtc_certificate_get_fingerprint (run->config->certificate, own);
  if (!fingerprint_bytes (run->peer_fingerprint, peer))
    {
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The other device's certificate is unknown")));
      return;
    }
  code = backup_device_compute_code (own, peer, run->own_nonce, run->peer_nonce, NONCE_LEN);
  run->code_func ((BackupPairingQuestion *) run->task, code, run->peer_name,
                  run->peer_fingerprint, run->code_data);
}

static void
nearby_refused (PairRun *run, JsonObject *message)
{
  const char *reason = json_object_get_string_member_with_default (message, "reason", "");
  g_autofree char *shown = backup_display_name (reason, -1);

  fail (run, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                          _("The other device refused the pairing (%s); nothing was stored"),
                          shown));
}

static void
nearby_malformed (PairRun *run)
{
  send_answer (run, "refused", "reason", "malformed message");
  fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                  _("The other device sent a malformed pairing message")));
}

static void
nearby_receive (PairRun *run, JsonObject *message)
{
  const char *type = json_object_get_string_member_with_default (message, "type", "");
  const char *name = json_object_get_string_member_with_default (message, "name", NULL);
  const char *nonce = json_object_get_string_member_with_default (message, "nonce", NULL);
  gboolean inviter = run->role == BACKUP_DEVICE_PAIRING_INVITER;

  if (g_str_equal (type, "refused"))
    {
      nearby_refused (run, message);
      return;
    }
  switch (run->step)
    {
    case NEARBY_WAIT_REQUEST:
      {
        const char *commit = json_object_get_string_member_with_default (message, "commit", NULL);
        guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];
        guint8 joiner[RTC_CERTIFICATE_FINGERPRINT_LEN];
        g_autofree char *nonce_hex = NULL;

        run->peer_fingerprint = rtc_peer_connection_get_remote_fingerprint (run->pc);
        if (!g_str_equal (type, "pair-nearby") || name == NULL
            || !backup_device_check_name (name, NULL)
            || !parse_hex (commit, run->commit, COMMIT_LEN)
            || !fingerprint_bytes (run->peer_fingerprint, joiner))
          {
            nearby_malformed (run);
            return;
          }
        rtc_certificate_get_fingerprint (run->config->certificate, own);
        if (memcmp (own, joiner, sizeof own) == 0)
          {
            send_answer (run, "refused", "reason", "same device");
            fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                            _("A device cannot pair with itself")));
            return;
          }
        run->peer_name = g_strdup (name);
        random_bytes (run->own_nonce, NONCE_LEN);
        nonce_hex = hex_of (run->own_nonce, NONCE_LEN);
        run->step = NEARBY_WAIT_REVEAL;
        {
          const char *members[] = { "name", run->link->name, "nonce", nonce_hex, NULL };

          send_fields (run, "nonce", members);
        }
        return;
      }
    case NEARBY_WAIT_NONCE:
      {
        g_autofree char *own_hex = NULL;

        if (!g_str_equal (type, "nonce") || name == NULL || !backup_device_check_name (name, NULL)
            || !parse_hex (nonce, run->peer_nonce, NONCE_LEN))
          {
            nearby_malformed (run);
            return;
          }
        run->peer_name = g_strdup (name);
        run->peer_fingerprint = rtc_peer_connection_get_remote_fingerprint (run->pc);
        own_hex = hex_of (run->own_nonce, NONCE_LEN);
        send_answer (run, "reveal", "nonce", own_hex);
        if (!run->finishing)
          ask_user (run);
        return;
      }
    case NEARBY_WAIT_REVEAL:
      {
        guint8 commit[COMMIT_LEN];

        if (!g_str_equal (type, "reveal") || !parse_hex (nonce, run->peer_nonce, NONCE_LEN))
          {
            nearby_malformed (run);
            return;
          }
        compute_commit (run->peer_nonce, commit);
        if (!backup_device_equal_secure (commit, run->commit, COMMIT_LEN))
          {
            send_answer (run, "refused", "reason", "nonce does not match its commitment");
            fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                                            _("Pairing refused: the other device changed its "
                                              "random number; nothing was stored")));
            return;
          }
        ask_user (run);
        return;
      }
    case NEARBY_CONFIRMING:
    default:
      if (g_str_equal (type, "confirmed") && !run->peer_confirmed)
        {
          run->peer_confirmed = TRUE;
          if (inviter && run->own_confirmed)
            store_peer (run, run->peer_name, run->peer_fingerprint);
          return;
        }
      if (g_str_equal (type, "accepted") && !inviter && run->own_confirmed && run->peer_confirmed)
        {
          const char *secret = json_object_get_string_member_with_default (message, "secret",
                                                                           NULL);

          if (!parse_hex (secret, run->link->secret, sizeof run->link->secret))
            {
              nearby_malformed (run);
              return;
            }
          store_peer (run, run->peer_name, run->peer_fingerprint);
          return;
        }
      nearby_malformed (run);
      return;
    }
}

void
backup_pairing_question_answer (BackupPairingQuestion *question, gboolean confirmed)
{
  GTask *task = (GTask *) question;
  PairRun *run;

  g_return_if_fail (G_IS_TASK (task));
  run = g_task_get_task_data (task);
  if (run->finishing || run->step != NEARBY_CONFIRMING || run->own_confirmed)
    return;
  if (!confirmed)
    {
      send_answer (run, "refused", "reason", "the code was not confirmed");
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PERMISSION,
                                      _("The verification code was not confirmed; nothing was "
                                        "stored")));
      return;
    }
  run->own_confirmed = TRUE;
  send_fields (run, "confirmed", NULL);
  if (!run->finishing && run->role == BACKUP_DEVICE_PAIRING_INVITER && run->peer_confirmed)
    store_peer (run, run->peer_name, run->peer_fingerprint);
}

static void
channel_message_cb (RtcDataChannel *channel, GBytes *data, gboolean is_text, gpointer user_data)
{
  PairRun *run = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize length = 0;
  const char *text = g_bytes_get_data (data, &length);
  JsonNode *root;

  /* One request, one answer: what follows is not listened to. On the
   * local network, one message per step. */
  if (run->finishing || run->storing || run->stored != NULL || run->answered)
    return;
  run->answered = !run->nearby;
  if (!is_text || length == 0 || length > MAX_MESSAGE
      || !json_parser_load_from_data (parser, text, length, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                      _("The other device sent a malformed pairing message")));
      return;
    }
  if (run->nearby)
    nearby_receive (run, json_node_get_object (root));
  else if (run->role == BACKUP_DEVICE_PAIRING_INVITER)
    inviter_receive (run, json_node_get_object (root));
  else
    joiner_receive (run, json_node_get_object (root));
}

static gboolean
exchange_timeout_cb (gpointer user_data)
{
  PairRun *run = user_data;

  run->exchange_timeout_id = 0;
  if (run->storing)
    return G_SOURCE_REMOVE; /* the store ends the run */
  if (run->stored != NULL)
    {
      finish (run, NULL); /* stored; the other side did not say goodbye */
      return G_SOURCE_REMOVE;
    }
  fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
                                  _("The other device did not complete the pairing")));
  return G_SOURCE_REMOVE;
}

static void
channel_open_cb (RtcDataChannel *channel, gpointer user_data)
{
  PairRun *run = user_data;

  g_debug ("pairing channel open");
  if (run->exchange_timeout_id == 0)
    run->exchange_timeout_id = g_timeout_add_seconds (
        run->nearby ? NEARBY_EXCHANGE_TIMEOUT_S : EXCHANGE_TIMEOUT_S, exchange_timeout_cb, run);
  if (run->role == BACKUP_DEVICE_PAIRING_JOINER && run->nearby)
    send_nearby_request (run);
  else if (run->role == BACKUP_DEVICE_PAIRING_JOINER)
    send_request (run);
}

static void
channel_closed_cb (RtcDataChannel *channel, gpointer user_data)
{
  PairRun *run = user_data;
  const GError *error = rtc_data_channel_get_close_error (channel);

  if (run->storing)
    return; /* the store ends the run */
  if (run->stored != NULL)
    {
      finish (run, NULL);
      return;
    }
  if (error != NULL)
    fail (run, g_error_copy (error));
  else
    fail (run, g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                    _("The other device closed the connection before the "
                                      "pairing was complete")));
}

static void
adopt_channel (PairRun *run, RtcDataChannel *channel)
{
  if (run->channel != NULL)
    return;
  run->channel = g_object_ref (channel);
  g_signal_connect (channel, "open", G_CALLBACK (channel_open_cb), run);
  g_signal_connect (channel, "message", G_CALLBACK (channel_message_cb), run);
  g_signal_connect (channel, "closed", G_CALLBACK (channel_closed_cb), run);
  if (rtc_data_channel_get_ready_state (channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    channel_open_cb (channel, run);
}

/* --- the connection --- */

/* The joiner met another device than the link's: say which. */
static GError *
explain_mismatch (PairRun *run, const GError *error)
{
  g_autofree char *name = backup_display_name (run->link->name, -1);

  return g_error_new (RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH,
                      _("Not the inviting device “%s”: %s"), name, error->message);
}

static void
pc_state_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  PairRun *run = user_data;
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);

  switch (rtc_peer_connection_get_connection_state (pc))
    {
    case RTC_PEER_CONNECTION_STATE_FAILED:
      {
        const GError *error = rtc_peer_connection_get_error (pc);

        if (error != NULL && g_error_matches (error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH)
            && run->role == BACKUP_DEVICE_PAIRING_JOINER)
          fail (run, explain_mismatch (run, error));
        else if (error != NULL)
          fail (run, g_error_copy (error));
        else
          fail (run, g_error_new_literal (RTC_ERROR, RTC_ERROR_FAILED,
                                          _("The connection failed")));
        break;
      }
    case RTC_PEER_CONNECTION_STATE_CLOSED:
      if (run->storing)
        break; /* the store ends the run */
      if (run->stored != NULL)
        finish (run, NULL);
      else
        fail (run, g_error_new_literal (RTC_ERROR, RTC_ERROR_CLOSED,
                                        _("The other device closed the connection")));
      break;
    case RTC_PEER_CONNECTION_STATE_NEW:
    case RTC_PEER_CONNECTION_STATE_CONNECTING:
    case RTC_PEER_CONNECTION_STATE_CONNECTED:
    default:
      break;
    }
}

static void
pc_data_channel_cb (RtcPeerConnection *pc, RtcDataChannel *channel, gpointer user_data)
{
  PairRun *run = user_data;

  if (g_strcmp0 (rtc_data_channel_get_label (channel), CHANNEL_LABEL) != 0)
    {
      rtc_data_channel_close (channel);
      return;
    }
  adopt_channel (run, channel);
}

static void
send_description (PairRun *run)
{
  g_autofree char *sdp = NULL;

  if (run->description_sent || !run->description_created || run->finishing)
    return;
  run->description_sent = TRUE;
  g_clear_handle_id (&run->gather_timeout_id, g_source_remove);
  sdp = rtc_peer_connection_get_local_description (run->pc);
  backup_pairing_send_description (run->pairing, run->is_offerer ? "offer" : "answer", sdp, NULL);
}

static void
pc_local_candidate_cb (RtcPeerConnection *pc, const char *candidate, gpointer user_data)
{
  PairRun *run = user_data;

  if (run->description_sent && !run->finishing)
    backup_pairing_send_candidate (run->pairing, candidate);
}

static void
pc_gathering_done_cb (RtcPeerConnection *pc, gpointer user_data)
{
  send_description (user_data);
}

static gboolean
gather_timeout_cb (gpointer user_data)
{
  PairRun *run = user_data;

  run->gather_timeout_id = 0;
  send_description (run);
  return G_SOURCE_REMOVE;
}

static void
local_description_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PairRun *run = g_task_get_task_data (task);
  RtcPeerConnection *pc = RTC_PEER_CONNECTION (object);
  g_autoptr (GError) error = NULL;
  g_autofree char *sdp = NULL;

  if (run->is_offerer)
    sdp = rtc_peer_connection_create_offer_finish (pc, result, &error);
  else
    sdp = rtc_peer_connection_create_answer_finish (pc, result, &error);
  if (run->finishing)
    return;
  if (sdp == NULL)
    {
      fail (run, g_steal_pointer (&error));
      return;
    }
  run->description_created = TRUE;
  if (rtc_peer_connection_is_gathering_done (run->pc))
    send_description (run);
  else
    run->gather_timeout_id = g_timeout_add (GATHER_WAIT_MS, gather_timeout_cb, run);
}

static void
remote_description_cb (BackupPairing *pairing, const char *type, const char *sdp,
                       gpointer user_data)
{
  PairRun *run = user_data;
  g_autoptr (GError) error = NULL;
  RtcSdpType sdp_type;

  if (run->finishing)
    return;
  if (!rtc_sdp_type_from_string (type, &sdp_type))
    return; /* the description check refused it already */
  if (!rtc_peer_connection_set_remote_description (run->pc, sdp_type, sdp, &error))
    {
      if (g_error_matches (error, RTC_ERROR, RTC_ERROR_FINGERPRINT_MISMATCH)
          && run->role == BACKUP_DEVICE_PAIRING_JOINER)
        fail (run, explain_mismatch (run, error));
      else
        {
          g_prefix_error (&error, _("The other device's session description was refused: "));
          fail (run, g_steal_pointer (&error));
        }
      return;
    }
  if (sdp_type == RTC_SDP_TYPE_OFFER)
    rtc_peer_connection_create_answer_async (run->pc, run->cancellable, local_description_cb,
                                             g_object_ref (run->task));
}

static gboolean
check_remote_description (const char *type, const char *sdp, gpointer user_data, GError **error)
{
  return rtc_sdp_check_as (type, sdp, error);
}

static void
remote_candidate_cb (BackupPairing *pairing, const char *candidate, gpointer user_data)
{
  PairRun *run = user_data;
  g_autoptr (GError) error = NULL;

  if (run->finishing)
    return;
  if (!rtc_peer_connection_add_remote_candidate (run->pc, candidate, &error))
    g_debug ("ignoring a remote candidate: %s", error->message);
}

static void
pairing_failed_cb (BackupPairing *pairing, GError *error, gpointer user_data)
{
  PairRun *run = user_data;

  /* Once connected, signaling no longer matters. */
  if (run->channel != NULL
      && rtc_data_channel_get_ready_state (run->channel) == RTC_DATA_CHANNEL_STATE_OPEN)
    return;
  fail (run, g_error_copy (error));
}

static void
pairing_started_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  PairRun *run = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  BackupPairingRole role;

  role = backup_pairing_start_finish (BACKUP_PAIRING (object), result, &error);
  if (run->finishing)
    return;
  if (role == BACKUP_PAIRING_ROLE_NONE)
    {
      fail (run, g_steal_pointer (&error));
      return;
    }
  run->is_offerer = role == BACKUP_PAIRING_ROLE_OFFERER;
  if (run->is_offerer)
    {
      g_autoptr (RtcDataChannel) channel = NULL;

      channel = rtc_peer_connection_create_data_channel (run->pc, CHANNEL_LABEL, "", &error);
      if (channel == NULL)
        {
          fail (run, g_steal_pointer (&error));
          return;
        }
      adopt_channel (run, channel);
      rtc_peer_connection_create_offer_async (run->pc, run->cancellable, local_description_cb,
                                              g_object_ref (run->task));
    }
}

static void start_pairing (BackupDevicePairingRole role,
                           const BackupDeviceLink *link,
                           const char *session_id,
                           const char *own_name,
                           BackupSignalingStore *signaling,
                           const RtcConfiguration *config,
                           const char *folder,
                           guint timeout,
                           BackupPairingCodeFunc code_func,
                           gpointer code_data,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);

void
backup_device_pair_async (BackupDevicePairingRole role,
                          const BackupDeviceLink *link,
                          const char *own_name,
                          BackupSignalingStore *signaling,
                          const RtcConfiguration *config,
                          const char *folder,
                          guint timeout,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  backup_device_pair_in_session_async (role, link, NULL, own_name, signaling, config, folder,
                                       timeout, cancellable, callback, user_data);
}

void
backup_device_pair_in_session_async (BackupDevicePairingRole role,
                                     const BackupDeviceLink *link,
                                     const char *session_id,
                                     const char *own_name,
                                     BackupSignalingStore *signaling,
                                     const RtcConfiguration *config,
                                     const char *folder,
                                     guint timeout,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  start_pairing (role, link, session_id, own_name, signaling, config, folder, timeout, NULL,
                 NULL, cancellable, callback, user_data);
}

void
backup_device_pair_nearby_async (BackupDevicePairingRole role,
                                 const BackupDeviceLink *link,
                                 const char *own_name,
                                 BackupSignalingStore *signaling,
                                 const RtcConfiguration *config,
                                 const char *folder,
                                 guint timeout,
                                 BackupPairingCodeFunc code_func,
                                 gpointer code_data,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autofree char *session = NULL;

  g_return_if_fail (link != NULL);
  g_return_if_fail (code_func != NULL);

  session = backup_nearby_get_pairing_session (link->fingerprint);
  start_pairing (role, link, session, own_name, signaling, config, folder, timeout, code_func,
                 code_data, cancellable, callback, user_data);
}

/* One pairing; with @code_func, on the local network. */
static void
start_pairing (BackupDevicePairingRole role,
               const BackupDeviceLink *link,
               const char *session_id,
               const char *own_name,
               BackupSignalingStore *signaling,
               const RtcConfiguration *config,
               const char *folder,
               guint timeout,
               BackupPairingCodeFunc code_func,
               gpointer code_data,
               GCancellable *cancellable,
               GAsyncReadyCallback callback,
               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *session = NULL;
  PairRun *run;

  g_return_if_fail (link != NULL);
  g_return_if_fail (own_name != NULL);
  g_return_if_fail (BACKUP_IS_SIGNALING_STORE (signaling));
  g_return_if_fail (config != NULL && RTC_IS_CERTIFICATE (config->certificate));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_device_pair_async);
  g_task_set_name (task, "backup_device_pair_async");
  run = g_new0 (PairRun, 1);
  g_task_set_task_data (task, run, (GDestroyNotify) pair_run_free);
  run->task = g_object_ref (task);
  run->role = role;
  run->nearby = code_func != NULL;
  run->code_func = code_func;
  run->code_data = code_data;
  run->step = role == BACKUP_DEVICE_PAIRING_INVITER ? NEARBY_WAIT_REQUEST : NEARBY_WAIT_NONCE;
  run->link = g_new0 (BackupDeviceLink, 1);
  run->link->signaling = g_strdup (link->signaling);
  run->link->name = g_strdup (link->name);
  memcpy (run->link->secret, link->secret, sizeof link->secret);
  memcpy (run->link->fingerprint, link->fingerprint, sizeof link->fingerprint);
  run->own_name = g_strdup (own_name);
  run->folder = g_strdup (folder);
  run->timeout = timeout;
  run->signaling = g_object_ref (signaling);
  run->config = rtc_configuration_copy (config);
  /* The joiner talks to the link's device only. */
  g_clear_pointer (&run->config->peer_fingerprint, g_free);
  if (role == BACKUP_DEVICE_PAIRING_JOINER)
    run->config->peer_fingerprint = backup_device_link_get_fingerprint (link);
  if (run->config->ice_timeout_ms == 0)
    run->config->ice_timeout_ms
        = (timeout > 0 ? timeout : BACKUP_PAIRING_DEFAULT_TIMEOUT) * 1000;

  run->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      run->caller_cancellable = g_object_ref (cancellable);
      run->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                 task, NULL);
    }

  run->pc = rtc_peer_connection_new (run->config);
  g_signal_connect (run->pc, "notify::connection-state", G_CALLBACK (pc_state_cb), run);
  g_signal_connect (run->pc, "data-channel", G_CALLBACK (pc_data_channel_cb), run);
  g_signal_connect (run->pc, "local-candidate", G_CALLBACK (pc_local_candidate_cb), run);
  g_signal_connect (run->pc, "gathering-done", G_CALLBACK (pc_gathering_done_cb), run);

  session = session_id != NULL ? g_strdup (session_id)
                               : backup_device_link_get_pairing_session (link);
  run->pairing = backup_pairing_new (signaling, session);
  backup_pairing_set_timeout (run->pairing, timeout);
  backup_pairing_set_description_check (run->pairing, check_remote_description, NULL, NULL);
  g_signal_connect (run->pairing, "remote-description", G_CALLBACK (remote_description_cb), run);
  g_signal_connect (run->pairing, "remote-candidate", G_CALLBACK (remote_candidate_cb), run);
  g_signal_connect (run->pairing, "failed", G_CALLBACK (pairing_failed_cb), run);
  backup_pairing_start_async (run->pairing, run->cancellable, pairing_started_cb,
                              g_object_ref (task));
}

BackupDevice *
backup_device_pair_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_device_pair_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
