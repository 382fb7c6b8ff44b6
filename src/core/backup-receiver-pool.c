/* backup-receiver-pool.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-device.h"
#include "backup-error.h"
#include "backup-nearby.h"
#include "backup-receiver-pool.h"
#include "backup-runner.h"
#include "backup-store.h"

/* The devices file is read again this long after it changed (an editor or
 * a pairing writes it in several steps), and every TICK_S seconds in any
 * case (a device to try again, a file system without notification). */
#define RELOAD_DELAY_MS 200
#define TICK_S 15

struct _BackupReceiverPool
{
  GObject parent_instance;

  BackupProfile *profile;
  char *folder;
  BackupAdmission *admission;

  /* While it runs. */
  GTask *task;
  RtcCertificate *certificate;
  BackupStorage *root;
  GHashTable *members; /* fingerprint → Member */
  GFileMonitor *monitor;
  BackupNearbyHost *host;
  gulong cancelled_id;
  guint reload_id;
  guint tick_id;
  guint n_running; /* runners that have not ended */
  gboolean stopping;
};

G_DEFINE_FINAL_TYPE (BackupReceiverPool, backup_receiver_pool, G_TYPE_OBJECT)

enum
{
  DEVICE_ADDED,
  DEVICE_REMOVED,
  DEVICE_FAILED,
  SESSION_STARTED,
  SESSION_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One paired device served. Owned by the members table; a member dropped
 * while its runner runs is freed when the runner ends. */
typedef struct
{
  BackupReceiverPool *pool;
  BackupDevice *device;
  BackupRunner *runner; /* NULL between a failure and the next try */
  GCancellable *cancellable;
  gint64 restart_at; /* monotonic µs, when runner is NULL */
  gboolean dropped;
  gboolean changed; /* paired again or its policy changed: restart when idle */
} Member;

static void start_member (Member *member);

static void
member_free (Member *member)
{
  g_assert (member->runner == NULL);
  backup_device_free (member->device);
  g_clear_object (&member->cancellable);
  g_free (member);
}

/* --- names -------------------------------------------------------------- */

char *
backup_receiver_pool_folder_name (const char *name, const char *fingerprint)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (fingerprint != NULL, NULL);

  if (name[0] == '.')
    g_string_append_c (out, '_');
  for (const char *p = name; *p != '\0'; p++)
    g_string_append_c (out, *p == '/' || *p == '\\' ? '_' : *p);
  if (backup_store_check_name (out->str, NULL))
    return g_string_free (g_steal_pointer (&out), FALSE);

  g_string_truncate (out, 0);
  for (const char *p = fingerprint; *p != '\0'; p++)
    if (*p != ':')
      g_string_append_c (out, g_ascii_tolower (*p));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* --- the run ------------------------------------------------------------ */

static void
maybe_finish (BackupReceiverPool *self)
{
  g_autoptr (GTask) task = NULL;

  if (!self->stopping || self->n_running > 0 || self->task == NULL)
    return;
  task = g_steal_pointer (&self->task);
  g_clear_handle_id (&self->reload_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  g_clear_object (&self->host);
  g_clear_object (&self->root);
  g_clear_object (&self->certificate);
  if (self->cancelled_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), self->cancelled_id);
  self->cancelled_id = 0;
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The receiver stopped");
}

/* Stops serving @member's device (taken from the table). */
static void
drop_member (BackupReceiverPool *self, Member *member, gboolean removed)
{
  g_autofree char *name = g_strdup (member->device->name);

  if (removed)
    g_signal_emit (self, signals[DEVICE_REMOVED], 0, name);
  if (member->runner == NULL)
    {
      member_free (member);
      return;
    }
  member->dropped = TRUE;
  g_cancellable_cancel (member->cancellable);
}

static void
runner_session_started_cb (BackupRunner *runner, BackupSession *session, gpointer user_data)
{
  Member *member = user_data;

  g_signal_emit (member->pool, signals[SESSION_STARTED], 0, member->device->name, session);
}

static void
runner_session_finished_cb (BackupRunner *runner,
                            BackupSession *session,
                            const GError *error,
                            gpointer user_data)
{
  Member *member = user_data;

  g_signal_emit (member->pool, signals[SESSION_FINISHED], 0, member->device->name, session,
                 error);
}

static void
runner_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Member *member = user_data;
  BackupReceiverPool *self = member->pool;
  g_autoptr (GError) error = NULL;

  backup_runner_run_finish (BACKUP_RUNNER (object), result, &error);
  g_signal_handlers_disconnect_by_data (member->runner, member);
  g_clear_object (&member->runner);
  self->n_running--;

  if (member->dropped)
    member_free (member);
  else if (!self->stopping)
    {
      /* A receiver that keeps listening ends only on setup failures. */
      if (error == NULL)
        error = g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                     _("The receiver of this device stopped"));
      member->restart_at
          = g_get_monotonic_time () + BACKUP_RECEIVER_POOL_RESTART_S * G_USEC_PER_SEC;
      g_signal_emit (self, signals[DEVICE_FAILED], 0, member->device->name, error);
    }
  maybe_finish (self);
}

static void
member_failed (Member *member, GError *error)
{
  member->restart_at = g_get_monotonic_time () + BACKUP_RECEIVER_POOL_RESTART_S * G_USEC_PER_SEC;
  g_signal_emit (member->pool, signals[DEVICE_FAILED], 0, member->device->name, error);
  g_error_free (error);
}

/* The signaling server of the devices of the local network, started with
 * the first of them. */
static BackupNearbyHost *
ensure_host (BackupReceiverPool *self, GError **error)
{
  g_autoptr (RtcConfiguration) config = NULL;
  g_autoptr (BackupNearbyHost) host = NULL;
  const char *address;

  if (self->host != NULL)
    return self->host;
  config = backup_profile_get_rtc_configuration (self->profile);
  address = config->local_addresses != NULL ? config->local_addresses[0] : NULL;
  host = backup_nearby_host_new (self->certificate, NULL, address, FALSE);
  if (!backup_nearby_host_start (host, error))
    return NULL;
  self->host = g_steal_pointer (&host);
  return self->host;
}

static void
start_member (Member *member)
{
  BackupReceiverPool *self = member->pool;
  const BackupDevice *device = member->device;
  g_autoptr (BackupProfile) profile = backup_profile_copy (self->profile);
  g_autoptr (BackupStorage) storage = NULL;
  g_autofree char *folder = backup_receiver_pool_folder_name (device->name, device->fingerprint);
  GError *error = NULL;

  g_assert (member->runner == NULL);

  backup_profile_set_device (profile, device, self->certificate);
  /* The device's own policy, else the receiver's. */
  if (device->versions != 0)
    backup_profile_set_retention (profile, &device->retention);
  storage = backup_storage_open_child (self->root, folder, device->versions, &error);
  if (storage == NULL)
    {
      member_failed (member, error);
      return;
    }
  backup_profile_set_destination (profile, NULL);
  backup_profile_set_storage (profile, storage);
  backup_profile_set_keep_listening (profile, TRUE);

  member->runner = backup_runner_new (profile);
  backup_runner_set_admission (member->runner, self->admission);
  if (backup_nearby_is_location (device->signaling))
    {
      BackupNearbyHost *host = ensure_host (self, &error);

      if (host == NULL)
        {
          g_clear_object (&member->runner);
          member_failed (member, error);
          return;
        }
      backup_runner_set_nearby_host (member->runner, host);
    }
  g_signal_connect (member->runner, "session-started", G_CALLBACK (runner_session_started_cb),
                    member);
  g_signal_connect (member->runner, "session-finished", G_CALLBACK (runner_session_finished_cb),
                    member);
  g_clear_object (&member->cancellable);
  member->cancellable = g_cancellable_new ();
  member->changed = FALSE;
  self->n_running++;
  backup_runner_run_async (member->runner, member->cancellable, runner_done_cb, member);
}

static gboolean
same_connection (const BackupDevice *a, const BackupDevice *b)
{
  return g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->session_id, b->session_id) == 0
         && g_strcmp0 (a->signaling, b->signaling) == 0;
}

static gboolean
same_policy (const BackupDevice *a, const BackupDevice *b)
{
  return a->versions == b->versions && memcmp (&a->retention, &b->retention, sizeof a->retention) == 0;
}

/* No transfer under way: only waiting for the sender. */
static gboolean
member_is_idle (Member *member)
{
  BackupSession *session = member->runner != NULL ? backup_runner_get_session (member->runner)
                                                  : NULL;

  return session == NULL || backup_session_get_state (session) <= BACKUP_SESSION_STATE_PAIRING;
}

/* Brings the members in line with the devices file. */
static void
reconcile (BackupReceiverPool *self)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (GHashTable) seen = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = g_get_monotonic_time ();

  if (self->stopping)
    return;
  devices = backup_device_list (self->folder, &error);
  if (devices == NULL)
    {
      /* What is served goes on; the file is read again later. */
      g_warning ("%s", error->message);
      return;
    }
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < devices->len; i++)
    {
      const BackupDevice *device = g_ptr_array_index (devices, i);
      Member *member = g_hash_table_lookup (self->members, device->fingerprint);

      g_hash_table_add (seen, device->fingerprint);
      if (member != NULL && (!same_connection (member->device, device)
                             || !same_policy (member->device, device)))
        {
          /* The table's key is the device's: replace both. */
          g_hash_table_steal (self->members, device->fingerprint);
          backup_device_free (member->device);
          member->device = backup_device_copy (device);
          member->changed = TRUE;
          g_hash_table_insert (self->members, member->device->fingerprint, member);
        }
      if (member == NULL)
        {
          member = g_new0 (Member, 1);
          member->pool = self;
          member->device = backup_device_copy (device);
          g_hash_table_insert (self->members, member->device->fingerprint, member);
          g_signal_emit (self, signals[DEVICE_ADDED], 0, member->device->name);
          start_member (member);
          continue;
        }
      if (member->changed && member->runner != NULL && member_is_idle (member))
        {
          /* Served anew: the old runner goes, a new one starts. */
          Member *renewed = g_new0 (Member, 1);

          renewed->pool = self;
          renewed->device = backup_device_copy (device);
          g_hash_table_steal (self->members, device->fingerprint);
          drop_member (self, member, FALSE);
          g_hash_table_insert (self->members, renewed->device->fingerprint, renewed);
          start_member (renewed);
        }
      else if (member->runner == NULL && now >= member->restart_at)
        start_member (member);
    }

  g_hash_table_iter_init (&iter, self->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (seen, key))
      {
        g_hash_table_iter_steal (&iter);
        drop_member (self, value, TRUE);
      }
}

static gboolean
reload_cb (gpointer user_data)
{
  BackupReceiverPool *self = user_data;

  self->reload_id = 0;
  reconcile (self);
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer user_data)
{
  reconcile (user_data);
  return G_SOURCE_CONTINUE;
}

static void
file_changed_cb (GFileMonitor *monitor,
                 GFile *file,
                 GFile *other,
                 GFileMonitorEvent event,
                 gpointer user_data)
{
  BackupReceiverPool *self = user_data;

  if (!backup_device_file_event_changes_contents (event))
    return;
  g_clear_handle_id (&self->reload_id, g_source_remove);
  self->reload_id = g_timeout_add (RELOAD_DELAY_MS, reload_cb, self);
}

static void
cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  BackupReceiverPool *self = user_data;
  GHashTableIter iter;
  gpointer value;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_hash_table_iter_init (&iter, self->members);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_hash_table_iter_steal (&iter);
      drop_member (self, value, FALSE);
    }
  maybe_finish (self);
}

static gboolean
cancelled_idle_cb (gpointer user_data)
{
  cancelled_cb (NULL, user_data);
  return G_SOURCE_REMOVE;
}

static void
cancelled_signal_cb (GCancellable *cancellable, gpointer user_data)
{
  /* Not inside the handler: disconnecting it there would wait for it. */
  g_idle_add_full (G_PRIORITY_DEFAULT, cancelled_idle_cb, g_object_ref (user_data),
                   g_object_unref);
}

void
backup_receiver_pool_run_async (BackupReceiverPool *self,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (BACKUP_IS_RECEIVER_POOL (self));
  g_return_if_fail (self->task == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_receiver_pool_run_async);
  if (backup_profile_get_role (self->profile) != BACKUP_PROFILE_ROLE_RECEIVE)
    {
      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                               _("Only a receiver serves several devices"));
      return;
    }
  self->certificate = backup_device_load_certificate (self->folder, FALSE, &error);
  if (self->certificate == NULL)
    {
      if (g_error_matches (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          g_set_error_literal (&error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                               _("This device has no identity yet: pair it with a device first "
                                 "(--invite, --pair, --invite-nearby)"));
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The devices file must be readable now; later failures keep what runs. */
  g_clear_pointer (&self->members, g_hash_table_unref);
  {
    g_autoptr (GPtrArray) devices = backup_device_list (self->folder, &error);

    if (devices == NULL)
      {
        g_clear_object (&self->certificate);
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  }
  self->root = backup_profile_create_storage (self->profile);
  self->members = g_hash_table_new (g_str_hash, g_str_equal);
  self->stopping = FALSE;
  self->task = g_steal_pointer (&task);

  folder = self->folder != NULL ? g_strdup (self->folder) : backup_device_get_default_folder ();
  path = g_build_filename (folder, BACKUP_DEVICE_PAIRED_FILE_NAME, NULL);
  file = g_file_new_for_path (path);
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (file_changed_cb), self);
  else
    g_debug ("the paired devices file is read every %d s: %s", TICK_S, error->message);
  self->tick_id = g_timeout_add_seconds (TICK_S, tick_cb, self);
  if (cancellable != NULL)
    self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_signal_cb),
                                                self, NULL);
  reconcile (self);
}

gboolean
backup_receiver_pool_run_finish (BackupReceiverPool *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVER_POOL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

BackupAdmission *
backup_receiver_pool_get_admission (BackupReceiverPool *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEIVER_POOL (self), NULL);

  return self->admission;
}

char **
backup_receiver_pool_list_devices (BackupReceiverPool *self)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (BACKUP_IS_RECEIVER_POOL (self), NULL);

  if (self->members != NULL)
    {
      g_hash_table_iter_init (&iter, self->members);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        g_ptr_array_add (names, g_strdup (((Member *) value)->device->name));
    }
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* --- object ------------------------------------------------------------- */

static void
backup_receiver_pool_dispose (GObject *object)
{
  BackupReceiverPool *self = BACKUP_RECEIVER_POOL (object);

  /* A run holds the pool: nothing runs here. */
  g_assert (self->task == NULL);
  g_clear_pointer (&self->members, g_hash_table_unref);
  g_clear_object (&self->profile);
  g_clear_object (&self->admission);

  G_OBJECT_CLASS (backup_receiver_pool_parent_class)->dispose (object);
}

static void
backup_receiver_pool_finalize (GObject *object)
{
  BackupReceiverPool *self = BACKUP_RECEIVER_POOL (object);

  g_free (self->folder);

  G_OBJECT_CLASS (backup_receiver_pool_parent_class)->finalize (object);
}

static void
backup_receiver_pool_class_init (BackupReceiverPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_receiver_pool_dispose;
  object_class->finalize = backup_receiver_pool_finalize;

  signals[DEVICE_ADDED] = g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        G_TYPE_STRING);
  signals[DEVICE_REMOVED] = g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          G_TYPE_STRING);
  signals[DEVICE_FAILED] = g_signal_new ("device-failed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         G_TYPE_STRING, G_TYPE_ERROR);
  signals[SESSION_STARTED] = g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                           G_TYPE_STRING, BACKUP_TYPE_SESSION);
  signals[SESSION_FINISHED] = g_signal_new ("session-finished", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                            3, G_TYPE_STRING, BACKUP_TYPE_SESSION, G_TYPE_ERROR);
}

static void
backup_receiver_pool_init (BackupReceiverPool *self)
{
}

BackupReceiverPool *
backup_receiver_pool_new (BackupProfile *profile, const char *devices_folder, guint max_transfers)
{
  BackupReceiverPool *self;

  g_return_val_if_fail (BACKUP_IS_PROFILE (profile), NULL);
  g_return_val_if_fail (max_transfers >= 1 && max_transfers <= BACKUP_ADMISSION_MAX, NULL);

  self = g_object_new (BACKUP_TYPE_RECEIVER_POOL, NULL);
  self->profile = g_object_ref (profile);
  self->folder = g_strdup (devices_folder);
  self->admission = backup_admission_new (max_transfers);
  return self;
}
