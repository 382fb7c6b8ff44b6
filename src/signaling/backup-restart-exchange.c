/* backup-restart-exchange.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Once connected, a session's pairing has cleaned the store and stopped
 * polling it. When the path breaks (an address gone, another network),
 * both sides restart ICE and must swap new credentials and candidates,
 * with the data channel silent: through the store again. Each side writes
 * "{session}_restart_{instance}-for-{peer}.json" (kind "restart", a
 * generation number, the credentials and every candidate at once) and
 * reads the peer's, which the download consumes. A new generation replaces
 * the writer's previous file. The pairing skips these files, and the
 * original tool never pairs with a peer that would write them.
 *
 * One upload and one poll at a time; the latest restart to send waits for
 * the upload before it. Polling only runs while the caller asks (while the
 * connection is silent), about once a second and when the store says it
 * changed.
 */
#include "config.h"

#include "backup-restart-exchange.h"
#include "backup-signaling-error.h"

#define MIN_POLL_MS 1000

struct _BackupRestartExchange
{
  GObject parent_instance;

  BackupSignalingStore *store;
  char *session;
  char *name;    /* of our file */
  char *pattern; /* of every restart file of the session */
  char *peer_part; /* "{peer}-for-{instance}": the peer's file to us */
  GCancellable *cancellable;
  GMainContext *context;

  GBytes *next_upload; /* waits for the upload in flight */
  gboolean store_busy; /* an upload or a delete of ours is in flight */
  char *our_key;       /* of our last upload, to replace or remove */

  gboolean polling;
  gboolean listing;
  gboolean dirty; /* the store changed during a poll */
  GSource *poll_source;
  gulong changed_id;
  GQueue downloads; /* keys of the peer's files, one download at a time */

  gboolean closed;
  GTask *close_task;
};

G_DEFINE_FINAL_TYPE (BackupRestartExchange, backup_restart_exchange, G_TYPE_OBJECT)

enum
{
  SIGNAL_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void poll_now (BackupRestartExchange *self);

/* --- uploads --- */

static void start_upload (BackupRestartExchange *self);

static void
deleted_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupRestartExchange) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!backup_signaling_store_delete_finish (BACKUP_SIGNALING_STORE (source), result, &error))
    g_debug ("restart exchange: removing our earlier file: %s", error->message);
  self->store_busy = FALSE;
  start_upload (self);
}

/* Removes our last file, then goes on with the next upload: in that order,
 * so that a store which names a second file of one name apart (the
 * directory store) never does. Not cancelled by close: removing our file
 * is what close is for. */
static gboolean
delete_ours (BackupRestartExchange *self)
{
  g_autofree char *key = g_steal_pointer (&self->our_key);

  if (key == NULL)
    return FALSE;
  self->store_busy = TRUE;
  backup_signaling_store_delete_async (self->store, key, NULL, deleted_cb, g_object_ref (self));
  return TRUE;
}

static void
uploaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupRestartExchange) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;

  self->store_busy = FALSE;
  key = backup_signaling_store_upload_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (key == NULL)
    g_message ("Could not send the new connection details: %s", error->message);
  else
    {
      g_free (self->our_key);
      self->our_key = g_steal_pointer (&key);
    }
  start_upload (self);
}

static void
start_upload (BackupRestartExchange *self)
{
  g_autoptr (GBytes) contents = NULL;

  if (self->store_busy)
    return;
  /* After close, or before a newer file: the last one goes first. */
  if ((self->closed || self->next_upload != NULL) && delete_ours (self))
    return;
  contents = g_steal_pointer (&self->next_upload);
  if (self->closed)
    {
      /* Nothing of ours is left in the store. */
      if (self->close_task != NULL)
        {
          g_autoptr (GTask) task = g_steal_pointer (&self->close_task);

          g_task_return_boolean (task, TRUE);
        }
      return;
    }
  if (contents == NULL)
    return;
  self->store_busy = TRUE;
  /* Never cancelled: close removes the file once it is up. */
  backup_signaling_store_upload_async (self->store, self->name, contents, NULL, uploaded_cb,
                                       g_object_ref (self));
}

void
backup_restart_exchange_send (BackupRestartExchange *self,
                              guint generation,
                              const char *ufrag,
                              const char *pwd,
                              const char *const *candidates)
{
  g_return_if_fail (BACKUP_IS_RESTART_EXCHANGE (self));
  g_return_if_fail (generation > 0 && ufrag != NULL && pwd != NULL);

  if (self->closed)
    return;
  g_clear_pointer (&self->next_upload, g_bytes_unref);
  self->next_upload
      = backup_signaling_message_encode_restart (generation, ufrag, pwd, candidates, NULL);
  start_upload (self);
}

/* --- polling --- */

static void next_download (BackupRestartExchange *self);

static void
downloaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupRestartExchange) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (BackupSignalingMessage) message = NULL;

  bytes = backup_signaling_store_download_finish (BACKUP_SIGNALING_STORE (source), result,
                                                  &error);
  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("restart exchange: download: %s", error->message);
    }
  else if ((message = backup_signaling_message_parse (bytes, &error)) == NULL)
    g_message ("Skipping a restart file: %s", error->message);
  else if (message->kind != BACKUP_SIGNALING_KIND_RESTART)
    g_message ("Skipping a restart file that holds a %s",
               backup_signaling_kind_to_string (message->kind));
  else if (!self->closed)
    g_signal_emit (self, signals[SIGNAL_RECEIVED], 0, message);
  next_download (self);
}

static void
next_download (BackupRestartExchange *self)
{
  g_autofree char *key = g_queue_pop_head (&self->downloads);

  if (key == NULL || self->closed)
    {
      self->listing = FALSE;
      if (self->dirty && self->polling)
        poll_now (self);
      return;
    }
  backup_signaling_store_download_async (self->store, key, self->cancellable, downloaded_cb,
                                         g_object_ref (self));
}

static void
listed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupRestartExchange) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  entries = backup_signaling_store_list_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (entries == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("restart exchange: listing the store: %s", error->message);
    }
  else
    for (guint i = 0; i < entries->len; i++)
      {
        BackupSignalingEntry *entry = g_ptr_array_index (entries, i);
        BackupSignalingKind kind;
        g_autofree char *instance = NULL;

        /* Only the peer's files to us: others are not ours to consume. */
        if (backup_signaling_parse_name (entry->name, self->session, &kind, &instance, NULL)
            && kind == BACKUP_SIGNALING_KIND_RESTART && g_str_equal (instance, self->peer_part))
          g_queue_push_tail (&self->downloads, g_strdup (entry->key));
      }
  next_download (self);
}

static void
poll_now (BackupRestartExchange *self)
{
  /* A store that asked for a pause (HTTP 429) gets it: the next tick. */
  if (self->closed || !self->polling || backup_signaling_store_get_backoff (self->store) > 0)
    return;
  if (self->listing)
    {
      self->dirty = TRUE;
      return;
    }
  self->listing = TRUE;
  self->dirty = FALSE;
  backup_signaling_store_list_async (self->store, self->pattern, self->cancellable, listed_cb,
                                     g_object_ref (self));
}

static gboolean
poll_tick_cb (gpointer user_data)
{
  poll_now (user_data);
  return G_SOURCE_CONTINUE;
}

static void
store_changed_cb (BackupSignalingStore *store, gpointer user_data)
{
  poll_now (user_data);
}

static void
stop_polling (BackupRestartExchange *self)
{
  self->polling = FALSE;
  if (self->poll_source != NULL)
    {
      g_source_destroy (self->poll_source);
      g_clear_pointer (&self->poll_source, g_source_unref);
    }
}

void
backup_restart_exchange_set_polling (BackupRestartExchange *self, gboolean polling)
{
  guint interval;

  g_return_if_fail (BACKUP_IS_RESTART_EXCHANGE (self));

  if (!polling || self->closed)
    {
      stop_polling (self);
      return;
    }
  if (self->polling)
    return;
  self->polling = TRUE;
  interval = MAX (backup_signaling_store_get_poll_interval (self->store), MIN_POLL_MS);
  self->poll_source = g_timeout_source_new (interval);
  g_source_set_callback (self->poll_source, poll_tick_cb, self, NULL);
  g_source_attach (self->poll_source, self->context);
  poll_now (self);
}

void
backup_restart_exchange_close_async (BackupRestartExchange *self,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BACKUP_IS_RESTART_EXCHANGE (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, backup_restart_exchange_close_async);
  if (self->closed)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  self->close_task = g_steal_pointer (&task);
  self->closed = TRUE;
  stop_polling (self);
  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_pointer (&self->next_upload, g_bytes_unref);
  g_cancellable_cancel (self->cancellable);
  /* An upload in flight removes its file when it ends. */
  start_upload (self);
}

void
backup_restart_exchange_close_finish (BackupRestartExchange *self, GAsyncResult *result)
{
  g_return_if_fail (g_task_is_valid (result, self));

  g_task_propagate_boolean (G_TASK (result), NULL);
}

/* --- object --- */

static void
backup_restart_exchange_dispose (GObject *object)
{
  BackupRestartExchange *self = BACKUP_RESTART_EXCHANGE (object);

  stop_polling (self);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (backup_restart_exchange_parent_class)->dispose (object);
}

static void
backup_restart_exchange_finalize (GObject *object)
{
  BackupRestartExchange *self = BACKUP_RESTART_EXCHANGE (object);

  g_clear_object (&self->store);
  g_free (self->session);
  g_free (self->name);
  g_free (self->pattern);
  g_free (self->peer_part);
  g_free (self->our_key);
  g_clear_pointer (&self->next_upload, g_bytes_unref);
  g_queue_clear_full (&self->downloads, g_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->close_task);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (backup_restart_exchange_parent_class)->finalize (object);
}

static void
backup_restart_exchange_class_init (BackupRestartExchangeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_restart_exchange_dispose;
  object_class->finalize = backup_restart_exchange_finalize;

  /**
   * BackupRestartExchange::received:
   * @message: (type gpointer): a BackupSignalingMessage of kind RESTART
   *   from the peer, valid during the emission only
   */
  signals[SIGNAL_RECEIVED] =
    g_signal_new ("received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
backup_restart_exchange_init (BackupRestartExchange *self)
{
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->downloads);
}

BackupRestartExchange *
backup_restart_exchange_new (BackupSignalingStore *store,
                             const char *session,
                             const char *instance,
                             const char *peer)
{
  BackupRestartExchange *self;
  g_autofree char *ours = NULL;

  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (store), NULL);
  g_return_val_if_fail (session != NULL && instance != NULL && peer != NULL, NULL);

  self = g_object_new (BACKUP_TYPE_RESTART_EXCHANGE, NULL);
  self->store = g_object_ref (store);
  self->session = g_strdup (session);
  ours = g_strdup_printf ("%s-for-%s", instance, peer);
  self->name = backup_signaling_make_name (session, BACKUP_SIGNALING_KIND_RESTART, ours);
  self->pattern = g_strdup_printf ("%s_%s_", session,
                                   backup_signaling_kind_to_string (BACKUP_SIGNALING_KIND_RESTART));
  self->peer_part = g_strdup_printf ("%s-for-%s", peer, instance);
  self->changed_id = g_signal_connect (store, "changed", G_CALLBACK (store_changed_cb), self);
  return self;
}
