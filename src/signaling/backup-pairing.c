/* backup-pairing.c: two peers of a session find each other and exchange
 * their session descriptions through a signaling store
 *
 * One file: the ping rule, the polling with back-off and the ordered uploads
 * all act on one tick of the store; they are one state machine.
 *
 * Roles, by the ping rule of the original tool: a peer that finds another
 * instance's ping deletes it and becomes the offerer; otherwise it uploads
 * its own ping and waits. A waiting peer becomes the answerer when its ping
 * disappears (an offerer consumed it). When two peers uploaded pings at the
 * same time, the lower instance id withdraws its own ping, then consumes
 * the other's and offers; a higher instance id does the same only after a
 * grace period (the other may be the original tool, which never does). A
 * peer only becomes an offerer by deleting someone's ping and only becomes
 * an answerer when its ping was deleted by someone else, so it never holds
 * both roles.
 *
 * Downloads consume files, so a peer takes only what is meant for it: a
 * waiting peer takes nothing; an answerer takes the first valid offer and
 * from then on only files of that instance; an offerer only files of the
 * instance whose ping it consumed. Candidates that arrive before the
 * description are held back until it has been emitted.
 *
 * Addressing (an extension the original tool never sees): our files carry
 * the member "addr": 1. A ping is claimed by downloading it (which consumes
 * it like a delete), so the offerer learns whether the answerer is one of
 * ours; if so, and once a peer knows its partner, its files are named
 * "{session}_{kind}_{instance}-for-{partner}.json", and peers skip files
 * addressed to someone else instead of stealing them. Files for the
 * original tool keep the plain names.
 *
 * Home context: the thread-default context at construction. Signals are
 * emitted there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include <string.h>

#include "backup-signaling-enum-types.h"
#include "backup-pairing.h"
#include "backup-signaling-error.h"
#include "backup-signaling-message.h"

#define TIE_GRACE_MIN_MS 2000
#define MAX_CONSECUTIVE_ERRORS 3

typedef enum
{
  STATE_IDLE,
  STATE_RESOLVING, /* no ping of ours in the store */
  STATE_WAITING,   /* our ping is in the store */
  STATE_PAIRED,
  STATE_FAILED,
  STATE_CLOSED,
} State;

typedef struct
{
  BackupSignalingEntry *entry;
  BackupSignalingKind kind;
  char *instance; /* the writer */
  char *target;   /* the instance it is addressed to, or NULL */
} Item;

struct _BackupPairing
{
  GObject parent_instance;

  BackupSignalingStore *store;
  char *session;
  char *instance;
  char *peer;
  gboolean peer_addressed; /* the peer understands addressed names */
  GMainContext *context;
  GCancellable *cancellable;

  State state;
  BackupPairingRole role;
  guint timeout;
  guint poll_min;
  guint poll_max;

  GTask *start_task;
  GSource *start_cancel_source;
  GSource *poll_source;
  GSource *timeout_source;
  gulong changed_id;

  gboolean busy;
  gboolean dirty;
  guint idle_ticks;
  guint errors;
  gboolean got_something;

  char *ping_key;
  char *tie_other;
  gint64 tie_since;

  GQueue pending_items;      /* Item*, to download during this tick */
  GQueue held_candidates;    /* char*, before the description */
  gboolean have_description;
  JsonObject *remote_extensions;
  GHashTable *ignored;       /* files not to look at again (see ignore_id) */
  GHashTable *our_keys;      /* keys of our uploads */

  GQueue outgoing;           /* Outgoing*, uploaded in order */
  gboolean uploading;

  BackupPairingCheckFunc check_func;
  gpointer check_data;
  GDestroyNotify check_notify;
};

typedef struct
{
  char *name;
  GBytes *contents;
} Outgoing;

G_DEFINE_FINAL_TYPE (BackupPairing, backup_pairing, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STORE,
  PROP_SESSION_ID,
  PROP_INSTANCE_ID,
  PROP_ROLE,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  REMOTE_DESCRIPTION,
  REMOTE_CANDIDATE,
  FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void tick (BackupPairing *self);
static void schedule_poll (BackupPairing *self, guint delay_ms);
static void process_next_item (BackupPairing *self);

static void
item_free (Item *item)
{
  backup_signaling_entry_free (item->entry);
  g_free (item->instance);
  g_free (item->target);
  g_free (item);
}

#define ADDRESS_SEPARATOR "-for-"
#define ADDRESSING_MEMBER "addr"

/* Splits the instance part of a name into writer and addressee. */
static void
split_instance (const char *instance_part, char **writer, char **target)
{
  const char *sep = strstr (instance_part, ADDRESS_SEPARATOR);

  if (sep == NULL || sep == instance_part || sep[strlen (ADDRESS_SEPARATOR)] == '\0')
    {
      *writer = g_strdup (instance_part);
      *target = NULL;
      return;
    }
  *writer = g_strndup (instance_part, sep - instance_part);
  *target = g_strdup (sep + strlen (ADDRESS_SEPARATOR));
}

/* Extension members of every file we write, with the caller's. */
static JsonObject *
our_extensions (JsonObject *extra)
{
  JsonObject *ext = json_object_new ();

  if (extra != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      json_object_iter_init (&iter, extra);
      while (json_object_iter_next (&iter, &member, &node))
        json_object_set_member (ext, member, json_node_copy (node));
    }
  json_object_set_int_member (ext, ADDRESSING_MEMBER, 1);
  return ext;
}

/* Some stores reuse a key once its file is gone (the directory store's
 * keys are file names): a file is the key with its creation time. */
static char *
ignore_id (const BackupSignalingEntry *entry)
{
  return g_strdup_printf ("%s\n%" G_GINT64_FORMAT, entry->key, entry->created);
}

static gboolean
has_addressing (JsonObject *extensions)
{
  return extensions != NULL && json_object_has_member (extensions, ADDRESSING_MEMBER);
}

static void
outgoing_free (Outgoing *outgoing)
{
  g_free (outgoing->name);
  g_bytes_unref (outgoing->contents);
  g_free (outgoing);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static gboolean
is_active (BackupPairing *self)
{
  return self->state == STATE_RESOLVING || self->state == STATE_WAITING ||
         self->state == STATE_PAIRED;
}

static void
stop_polling (BackupPairing *self)
{
  clear_source (&self->poll_source);
  clear_source (&self->timeout_source);
  clear_source (&self->start_cancel_source);
  g_queue_clear_full (&self->pending_items, (GDestroyNotify) item_free);
  self->busy = FALSE;
  self->dirty = FALSE;
}

/* Ends the pairing with @error (taken): the start fails if it is still
 * pending, otherwise "failed" is emitted. */
static void
fail (BackupPairing *self, GError *error)
{
  g_autoptr (GError) owned = error;

  if (!is_active (self))
    return;

  g_debug ("Pairing of session %s failed: %s", self->session, error->message);
  self->state = STATE_FAILED;
  stop_polling (self);
  g_cancellable_cancel (self->cancellable);

  if (self->start_task != NULL)
    {
      g_autoptr (GTask) task = g_steal_pointer (&self->start_task);

      g_task_return_error (task, g_steal_pointer (&owned));
    }
  else
    g_signal_emit (self, signals[FAILED], 0, owned);
}

static void
become (BackupPairing *self, BackupPairingRole role, const char *peer)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->start_task);

  g_debug ("Session %s: instance %s is the %s%s%s", self->session, self->instance,
           role == BACKUP_PAIRING_ROLE_OFFERER ? "offerer" : "answerer",
           peer != NULL ? " of " : "", peer != NULL ? peer : "");

  self->state = STATE_PAIRED;
  self->role = role;
  g_free (self->peer);
  self->peer = g_strdup (peer);
  g_clear_pointer (&self->ping_key, g_free);
  self->idle_ticks = 0;
  self->got_something = TRUE;
  clear_source (&self->start_cancel_source);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROLE]);

  if (task != NULL)
    g_task_return_int (task, role);
}

/* ---- uploads, in order ---- */

static void pump_outgoing (BackupPairing *self);

static void
on_uploaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupPairing) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;

  key = backup_signaling_store_upload_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  self->uploading = FALSE;
  if (key != NULL)
    g_hash_table_add (self->our_keys, g_strdup (key));

  if (!is_active (self))
    return;

  if (key == NULL)
    {
      g_prefix_error (&error, _("Could not send to the peer: "));
      fail (self, g_steal_pointer (&error));
      return;
    }
  pump_outgoing (self);
}

static void
pump_outgoing (BackupPairing *self)
{
  Outgoing *outgoing;

  if (self->uploading || !is_active (self))
    return;

  outgoing = g_queue_pop_head (&self->outgoing);
  if (outgoing == NULL)
    return;

  self->uploading = TRUE;
  backup_signaling_store_upload_async (self->store, outgoing->name, outgoing->contents,
                                       self->cancellable, on_uploaded, g_object_ref (self));
  outgoing_free (outgoing);
}

static void
queue_upload (BackupPairing *self, BackupSignalingKind kind, GBytes *contents)
{
  Outgoing *outgoing = g_new0 (Outgoing, 1);

  if (self->peer != NULL && self->peer_addressed)
    {
      g_autofree char *addressed = g_strconcat (self->instance, ADDRESS_SEPARATOR, self->peer, NULL);

      outgoing->name = backup_signaling_make_name (self->session, kind, addressed);
    }
  else
    outgoing->name = backup_signaling_make_name (self->session, kind, self->instance);
  outgoing->contents = contents;
  g_queue_push_tail (&self->outgoing, outgoing);
  pump_outgoing (self);
}

/* ---- received files ---- */

static void
emit_description (BackupPairing *self, BackupSignalingMessage *message)
{
  g_autoptr (BackupPairing) hold = g_object_ref (self);

  self->have_description = TRUE;
  clear_source (&self->timeout_source);
  g_clear_pointer (&self->remote_extensions, json_object_unref);
  /* the members of this layer stay here */
  self->remote_extensions = json_object_ref (message->extensions);
  json_object_remove_member (self->remote_extensions, ADDRESSING_MEMBER);

  g_signal_emit (self, signals[REMOTE_DESCRIPTION], 0, message->sdp_type, message->sdp);

  while (is_active (self) && !g_queue_is_empty (&self->held_candidates))
    {
      g_autofree char *candidate = g_queue_pop_head (&self->held_candidates);

      g_signal_emit (self, signals[REMOTE_CANDIDATE], 0, candidate);
    }
}

static void
handle_message (BackupPairing *self, Item *item, GBytes *bytes)
{
  g_autoptr (BackupSignalingMessage) message = NULL;
  g_autoptr (GError) error = NULL;

  message = backup_signaling_message_parse (bytes, &error);
  if (message == NULL)
    {
      g_message ("Skipping signaling file “%s”: %s", item->entry->name, error->message);
      return;
    }
  if (message->kind != item->kind)
    {
      g_message ("Skipping signaling file “%s”: its type does not match its name",
                 item->entry->name);
      return;
    }

  if (message->kind == BACKUP_SIGNALING_KIND_SDP)
    {
      const char *expected = self->role == BACKUP_PAIRING_ROLE_OFFERER ? "answer" : "offer";

      if (!g_str_equal (message->sdp_type, expected))
        {
          g_message ("Skipping signaling file “%s”: an %s where an %s was expected",
                     item->entry->name, message->sdp_type, expected);
          return;
        }
      if (self->have_description)
        {
          g_message ("Skipping signaling file “%s”: a second description", item->entry->name);
          return;
        }
      if (self->check_func != NULL
          && !self->check_func (message->sdp_type, message->sdp, self->check_data, &error))
        {
          g_message ("Skipping signaling file “%s”: %s", item->entry->name, error->message);
          return;
        }
      if (self->peer == NULL)
        {
          self->peer = g_strdup (item->instance);
          g_debug ("Session %s: the offer comes from %s", self->session, self->peer);
        }
      self->peer_addressed = has_addressing (message->extensions);
      emit_description (self, message);
    }
  else if (message->kind == BACKUP_SIGNALING_KIND_CANDIDATE)
    {
      if (self->have_description)
        g_signal_emit (self, signals[REMOTE_CANDIDATE], 0, message->candidate);
      else
        g_queue_push_tail (&self->held_candidates, g_strdup (message->candidate));
    }
}

static void
on_downloaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupPairing) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  Item *item;

  bytes = backup_signaling_store_download_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (!is_active (self))
    return;

  item = g_queue_pop_head (&self->pending_items);
  if (bytes != NULL)
    {
      self->errors = 0;
      self->got_something = TRUE;
      handle_message (self, item, bytes);
    }
  else if (g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND))
    {
      g_debug ("“%s” was taken by someone else", item->entry->name);
      g_hash_table_add (self->ignored, ignore_id (item->entry));
    }
  else if (g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED))
    {
      g_message ("Skipping signaling file “%s”: %s", item->entry->name, error->message);
      g_hash_table_add (self->ignored, ignore_id (item->entry));
    }
  else
    {
      item_free (item);
      g_prefix_error (&error, _("Could not receive from the peer: "));
      fail (self, g_steal_pointer (&error));
      return;
    }
  item_free (item);

  if (is_active (self))
    process_next_item (self);
}

static void
finish_tick (BackupPairing *self)
{
  guint delay;

  self->busy = FALSE;
  if (!is_active (self))
    return;

  if (self->got_something)
    self->idle_ticks = 0;
  else if (self->idle_ticks < 32)
    self->idle_ticks++;
  self->got_something = FALSE;

  if (self->dirty)
    {
      self->dirty = FALSE;
      delay = 0;
    }
  else
    {
      double d = self->poll_min;

      for (guint i = 0; i < self->idle_ticks && d < self->poll_max; i++)
        d *= 1.5;
      delay = (guint) MIN (d, (double) self->poll_max);
    }
  schedule_poll (self, delay);
}

static void
process_next_item (BackupPairing *self)
{
  Item *item = g_queue_peek_head (&self->pending_items);

  if (item == NULL)
    {
      finish_tick (self);
      return;
    }

  /* The answerer locks onto the first offer: skip files of other
   * instances that were listed before the lock. */
  if (self->peer != NULL && g_strcmp0 (item->instance, self->peer) != 0)
    {
      item_free (g_queue_pop_head (&self->pending_items));
      process_next_item (self);
      return;
    }

  backup_signaling_store_download_async (self->store, item->entry->key, self->cancellable,
                                         on_downloaded, g_object_ref (self));
}

/* ---- pings ---- */

static void
on_ping_uploaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupPairing) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;

  key = backup_signaling_store_upload_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (key != NULL)
    g_hash_table_add (self->our_keys, g_strdup (key));
  if (!is_active (self))
    return;

  if (key == NULL)
    {
      g_prefix_error (&error, _("Could not announce this peer: "));
      fail (self, g_steal_pointer (&error));
      return;
    }

  g_debug ("Session %s: waiting with ping %s", self->session, key);
  self->ping_key = g_steal_pointer (&key);
  self->state = STATE_WAITING;
  self->got_something = TRUE;
  finish_tick (self);
}

typedef struct
{
  BackupPairing *self;
  char *other_key;
  BackupSignalingEntry *entry;
  char *other_instance;
} Claim;

static void
claim_free (Claim *claim)
{
  g_object_unref (claim->self);
  g_free (claim->other_key);
  g_free (claim->other_instance);
  backup_signaling_entry_free (claim->entry);
  g_free (claim);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Claim, claim_free)

static void
on_other_ping_taken (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Claim) claim = user_data;
  BackupPairing *self = claim->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ping = NULL;

  /* Downloading consumes the ping just as deleting does, and tells us
   * whether the peer is one of ours. */
  ping = backup_signaling_store_download_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (ping != NULL || g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED))
    {
      g_autoptr (BackupSignalingMessage) message = NULL;

      if (!is_active (self))
        return;
      if (ping != NULL)
        message = backup_signaling_message_parse (ping, NULL);
      /* before become (): the start callback may send right away */
      self->peer_addressed = message != NULL && has_addressing (message->extensions);
      become (self, BACKUP_PAIRING_ROLE_OFFERER, claim->other_instance);
      finish_tick (self);
      return;
    }

  if (!is_active (self))
    return;

  if (g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND))
    {
      /* Someone else took it: look again. */
      g_debug ("Ping %s was taken by someone else", claim->other_key);
      g_hash_table_add (self->ignored, ignore_id (claim->entry));
      self->dirty = TRUE;
      self->got_something = TRUE;
      finish_tick (self);
      return;
    }

  g_prefix_error (&error, _("Could not answer the peer's announcement: "));
  fail (self, g_steal_pointer (&error));
}

static void
claim_other (BackupPairing *self, Claim *claim)
{
  backup_signaling_store_download_async (self->store, claim->other_key, self->cancellable,
                                         on_other_ping_taken, claim);
}

static void
on_own_ping_withdrawn (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Claim *claim = user_data;
  BackupPairing *self = claim->self;
  g_autoptr (GError) error = NULL;

  if (backup_signaling_store_delete_finish (BACKUP_SIGNALING_STORE (source), result, &error))
    {
      g_hash_table_remove (self->our_keys, self->ping_key);
      g_clear_pointer (&self->ping_key, g_free);
      if (!is_active (self))
        {
          claim_free (claim);
          return;
        }
      self->state = STATE_RESOLVING;
      claim_other (self, claim);
      return;
    }

  if (!is_active (self))
    {
      claim_free (claim);
      return;
    }

  if (g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND))
    {
      /* An offerer consumed our ping in the meantime. */
      claim_free (claim);
      become (self, BACKUP_PAIRING_ROLE_ANSWERER, NULL);
      finish_tick (self);
      return;
    }

  claim_free (claim);
  g_prefix_error (&error, _("Could not withdraw this peer's announcement: "));
  fail (self, g_steal_pointer (&error));
}

/* ---- one poll ---- */

static Item *
item_for_entry (BackupPairing *self, BackupSignalingEntry *entry)
{
  g_autoptr (GError) error = NULL;
  Item *item;
  BackupSignalingKind kind;
  char *instance = NULL;
  g_autofree char *id = ignore_id (entry);

  if (g_hash_table_contains (self->ignored, id))
    return NULL;

  if (!backup_signaling_parse_name (entry->name, self->session, &kind, &instance, &error))
    {
      if (g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_MALFORMED))
        g_message ("Skipping signaling file: %s", error->message);
      g_hash_table_add (self->ignored, g_steal_pointer (&id));
      return NULL;
    }
  /* An ICE restart of a connection (BackupRestartExchange), not ours. */
  if (kind == BACKUP_SIGNALING_KIND_RESTART)
    {
      g_free (instance);
      g_hash_table_add (self->ignored, g_steal_pointer (&id));
      return NULL;
    }

  item = g_new0 (Item, 1);
  item->entry = backup_signaling_entry_copy (entry);
  item->kind = kind;
  split_instance (instance, &item->instance, &item->target);
  g_free (instance);
  return item;
}

static void
on_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupPairing) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  Item *other_ping = NULL;
  gboolean own_ping = FALSE;

  entries = backup_signaling_store_list_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (!is_active (self))
    return;

  if (entries == NULL)
    {
      if (error->domain == BACKUP_SIGNALING_ERROR &&
          (error->code == BACKUP_SIGNALING_ERROR_AUTH ||
           error->code == BACKUP_SIGNALING_ERROR_UNTRUSTED ||
           error->code == BACKUP_SIGNALING_ERROR_RATE_LIMITED ||
           ++self->errors >= MAX_CONSECUTIVE_ERRORS))
        {
          fail (self, g_steal_pointer (&error));
          return;
        }
      g_debug ("Listing the signaling store failed (%u): %s", self->errors, error->message);
      finish_tick (self);
      return;
    }
  self->errors = 0;

  for (guint i = 0; i < entries->len; i++)
    {
      Item *item = item_for_entry (self, g_ptr_array_index (entries, i));

      if (item != NULL)
        g_ptr_array_add (items, item);
    }

  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      if (item->kind != BACKUP_SIGNALING_KIND_PING)
        continue;
      if (g_str_equal (item->instance, self->instance))
        own_ping = TRUE;
      else if (other_ping == NULL)
        other_ping = item;
    }

  if (self->state == STATE_RESOLVING)
    {
      if (other_ping != NULL)
        {
          Claim *claim = g_new0 (Claim, 1);

          claim->self = g_object_ref (self);
          claim->other_key = g_strdup (other_ping->entry->key);
          claim->entry = backup_signaling_entry_copy (other_ping->entry);
          claim->other_instance = g_strdup (other_ping->instance);
          claim_other (self, claim);
          return;
        }

      {
        g_autofree char *name = backup_signaling_make_name (self->session, BACKUP_SIGNALING_KIND_PING,
                                                            self->instance);
        g_autoptr (JsonObject) ext = our_extensions (NULL);
        g_autoptr (GBytes) ping = backup_signaling_message_encode_ping (ext);

        backup_signaling_store_upload_async (self->store, name, ping, self->cancellable,
                                             on_ping_uploaded, g_object_ref (self));
      }
      return;
    }

  if (self->state == STATE_WAITING)
    {
      if (!own_ping)
        {
          become (self, BACKUP_PAIRING_ROLE_ANSWERER, NULL);
        }
      else if (other_ping != NULL)
        {
          gint64 now = g_get_monotonic_time ();
          guint grace = MAX (TIE_GRACE_MIN_MS, 4 * self->poll_min);

          if (g_strcmp0 (self->tie_other, other_ping->instance) != 0)
            {
              g_free (self->tie_other);
              self->tie_other = g_strdup (other_ping->instance);
              self->tie_since = now;
            }

          if (strcmp (self->instance, other_ping->instance) < 0 ||
              now - self->tie_since >= (gint64) grace * 1000)
            {
              Claim *claim = g_new0 (Claim, 1);

              g_debug ("Session %s: both peers announced; %s takes %s", self->session,
                       self->instance, other_ping->instance);
              claim->self = g_object_ref (self);
              claim->other_key = g_strdup (other_ping->entry->key);
              claim->entry = backup_signaling_entry_copy (other_ping->entry);
              claim->other_instance = g_strdup (other_ping->instance);
              backup_signaling_store_delete_async (self->store, self->ping_key, self->cancellable,
                                                   on_own_ping_withdrawn, claim);
              return;
            }
          finish_tick (self);
          return;
        }
      else
        {
          finish_tick (self);
          return;
        }
    }

  /* Paired: take what the peer sent us. */
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      if (item->kind == BACKUP_SIGNALING_KIND_PING || g_str_equal (item->instance, self->instance))
        continue;
      /* addressed to someone else: not ours to take */
      if (item->target != NULL && !g_str_equal (item->target, self->instance))
        continue;
      if (self->peer != NULL ? !g_str_equal (item->instance, self->peer)
                             : item->kind != BACKUP_SIGNALING_KIND_SDP)
        continue;
      g_queue_push_tail (&self->pending_items, g_ptr_array_steal_index (items, i));
      i--;
    }
  process_next_item (self);
}

static void
tick (BackupPairing *self)
{
  g_autofree char *pattern = NULL;

  if (!is_active (self))
    return;
  if (self->busy)
    {
      self->dirty = TRUE;
      return;
    }

  self->busy = TRUE;
  pattern = g_strdup_printf ("%s_", self->session);
  backup_signaling_store_list_async (self->store, pattern, self->cancellable, on_listed,
                                     g_object_ref (self));
}

static gboolean
on_poll (gpointer user_data)
{
  BackupPairing *self = user_data;

  g_clear_pointer (&self->poll_source, g_source_unref);
  tick (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_poll (BackupPairing *self, guint delay_ms)
{
  guint backoff = backup_signaling_store_get_backoff (self->store);

  clear_source (&self->poll_source);
  self->poll_source = g_timeout_source_new (MAX (delay_ms, backoff));
  g_source_set_callback (self->poll_source, on_poll, self, NULL);
  g_source_attach (self->poll_source, self->context);
}

static void
on_store_changed (BackupSignalingStore *store, gpointer user_data)
{
  BackupPairing *self = user_data;

  if (!is_active (self))
    return;
  if (self->busy)
    self->dirty = TRUE;
  else
    schedule_poll (self, 0);
}

static gboolean
on_timeout (gpointer user_data)
{
  BackupPairing *self = user_data;

  g_clear_pointer (&self->timeout_source, g_source_unref);
  if (self->state == STATE_PAIRED)
    fail (self, g_error_new (BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_TIMEOUT,
                             _("The peer of session %s sent no session description within %u s"),
                             self->session, self->timeout));
  else
    fail (self, g_error_new (BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_TIMEOUT,
                             _("No peer showed up for session %s within %u s"),
                             self->session, self->timeout));
  return G_SOURCE_REMOVE;
}

static gboolean
on_start_cancelled (GCancellable *cancellable, gpointer user_data)
{
  BackupPairing *self = user_data;

  g_clear_pointer (&self->start_cancel_source, g_source_unref);
  fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
  return G_SOURCE_REMOVE;
}

/* The session id becomes part of file names and URLs. */
gboolean
backup_pairing_check_session_id (const char *session_id, GError **error)
{
  gsize len;

  g_return_val_if_fail (session_id != NULL, FALSE);

  len = strlen (session_id);
  if (len == 0 || len > BACKUP_PAIRING_MAX_SESSION_ID || session_id[0] == '.'
      || strspn (session_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
           != len)
    {
      g_set_error (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                   _("“%s” cannot be a session id (use letters, digits and “-”, "
                     "at most 128 characters)"),
                   session_id);
      return FALSE;
    }
  return TRUE;
}

/**
 * backup_pairing_start_async:
 *
 * Finds the peer of the session and resolves this peer's role. Fails with
 * BACKUP_SIGNALING_ERROR_TIMEOUT when nobody shows up within the timeout.
 * After it resolved, the pairing keeps polling for the peer's description
 * and candidates until closed; later errors arrive as #BackupPairing::failed.
 */
void
backup_pairing_start_async (BackupPairing *self,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (BACKUP_IS_PAIRING (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_pairing_start_async);

  if (self->state != STATE_IDLE)
    {
      g_task_return_new_error (task, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_FAILED,
                               _("The pairing was already started"));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;
  if (!backup_pairing_check_session_id (self->session, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_debug ("Session %s: instance %s looks for its peer", self->session, self->instance);
  self->state = STATE_RESOLVING;
  self->start_task = g_steal_pointer (&task);

  if (self->poll_min == 0)
    self->poll_min = MAX (backup_signaling_store_get_poll_interval (self->store), 10);
  if (self->poll_max < self->poll_min)
    self->poll_max = MAX (self->poll_min * 6, 2000);

  self->changed_id = g_signal_connect (self->store, "changed", G_CALLBACK (on_store_changed), self);

  if (self->timeout > 0)
    {
      self->timeout_source = g_timeout_source_new_seconds (self->timeout);
      g_source_set_callback (self->timeout_source, on_timeout, self, NULL);
      g_source_attach (self->timeout_source, self->context);
    }
  if (cancellable != NULL)
    {
      self->start_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->start_cancel_source, G_SOURCE_FUNC (on_start_cancelled), self, NULL);
      g_source_attach (self->start_cancel_source, self->context);
    }

  tick (self);
}

BackupPairingRole
backup_pairing_start_finish (BackupPairing *self,
                             GAsyncResult *result,
                             GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gssize role;

  g_return_val_if_fail (BACKUP_IS_PAIRING (self), BACKUP_PAIRING_ROLE_NONE);
  g_return_val_if_fail (g_task_is_valid (result, self), BACKUP_PAIRING_ROLE_NONE);

  role = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return BACKUP_PAIRING_ROLE_NONE;
    }
  return (BackupPairingRole) role;
}

/**
 * backup_pairing_send_description:
 * @type: "offer" or "answer"
 * @sdp: the session description (with every candidate gathered so far)
 * @extensions: (nullable): extra members for the file, e.g. `"ext": {…}`
 *
 * Uploads the description. Errors arrive as #BackupPairing::failed.
 */
void
backup_pairing_send_description (BackupPairing *self,
                                 const char *type,
                                 const char *sdp,
                                 JsonObject *extensions)
{
  g_return_if_fail (BACKUP_IS_PAIRING (self));
  g_return_if_fail (type != NULL && sdp != NULL);

  if (!is_active (self))
    return;
  {
    g_autoptr (JsonObject) ext = our_extensions (extensions);

    queue_upload (self, BACKUP_SIGNALING_KIND_SDP, backup_signaling_message_encode_sdp (type, sdp, ext));
  }
}

/* Uploads one trickled candidate ("candidate:…"). */
void
backup_pairing_send_candidate (BackupPairing *self,
                               const char *candidate)
{
  g_return_if_fail (BACKUP_IS_PAIRING (self));
  g_return_if_fail (candidate != NULL);

  if (!is_active (self))
    return;
  {
    g_autoptr (JsonObject) ext = our_extensions (NULL);

    queue_upload (self, BACKUP_SIGNALING_KIND_CANDIDATE,
                  backup_signaling_message_encode_candidate (candidate, ext));
  }
}

/**
 * backup_pairing_get_remote_extensions:
 *
 * Returns: (transfer none) (nullable): the members of the peer's
 *   description file other than "type" and "payload" (empty for the
 *   original tool), or %NULL before the description arrived
 */
JsonObject *
backup_pairing_get_remote_extensions (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), NULL);

  return self->remote_extensions;
}

/* The descriptions and candidates queued or being uploaded. */
guint
backup_pairing_get_n_pending_sends (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), 0);

  return g_queue_get_length (&self->outgoing) + (self->uploading ? 1 : 0);
}

/* ---- close ---- */

typedef struct
{
  GPtrArray *keys;
  guint next;
  GError *first_error;
} CloseData;

static void
close_data_free (CloseData *data)
{
  g_ptr_array_unref (data->keys);
  g_clear_error (&data->first_error);
  g_free (data);
}

static void close_delete_next (GTask *task);

static void
on_close_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CloseData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!backup_signaling_store_delete_finish (BACKUP_SIGNALING_STORE (source), result, &error) &&
      !g_error_matches (error, BACKUP_SIGNALING_ERROR, BACKUP_SIGNALING_ERROR_NOT_FOUND) &&
      data->first_error == NULL)
    data->first_error = g_steal_pointer (&error);

  close_delete_next (g_steal_pointer (&task));
}

static void
close_delete_next (GTask *task)
{
  BackupPairing *self = g_task_get_source_object (task);
  CloseData *data = g_task_get_task_data (task);

  if (data->next < data->keys->len)
    {
      const char *key = g_ptr_array_index (data->keys, data->next++);

      g_debug ("Session %s: removing %s", self->session, key);
      g_hash_table_remove (self->our_keys, key);
      backup_signaling_store_delete_async (self->store, key, g_task_get_cancellable (task),
                                           on_close_deleted, task);
      return;
    }

  if (data->first_error != NULL)
    {
      g_prefix_error (&data->first_error, _("Could not remove this peer's signaling files: "));
      g_task_return_error (task, g_steal_pointer (&data->first_error));
    }
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
add_key_once (GPtrArray *keys, const char *key)
{
  if (!g_ptr_array_find_with_equal_func (keys, key, g_str_equal, NULL))
    g_ptr_array_add (keys, g_strdup (key));
}

static void
on_close_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BackupPairing *self = g_task_get_source_object (task);
  CloseData *data = g_task_get_task_data (task);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;

  entries = backup_signaling_store_list_finish (BACKUP_SIGNALING_STORE (source), result, &error);
  if (entries == NULL)
    {
      g_debug ("Could not list the store to clean up: %s", error->message);
      data->first_error = g_steal_pointer (&error);
    }
  else
    for (guint i = 0; i < entries->len; i++)
      {
        BackupSignalingEntry *entry = g_ptr_array_index (entries, i);
        g_autofree char *instance = NULL;
        g_autofree char *writer = NULL;
        g_autofree char *target = NULL;

        if (!backup_signaling_parse_name (entry->name, self->session, NULL, &instance, NULL))
          continue;
        split_instance (instance, &writer, &target);
        if (g_str_equal (writer, self->instance))
          add_key_once (data->keys, entry->key);
      }

  close_delete_next (task);
}

/**
 * backup_pairing_close_async:
 *
 * Stops the pairing (a pending start fails with G_IO_ERROR_CANCELLED) and
 * removes every file of this instance from the store: its ping, its
 * description and its candidates.
 */
void
backup_pairing_close_async (BackupPairing *self,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task;
  CloseData *data;
  GHashTableIter iter;
  gpointer key;
  g_autofree char *pattern = NULL;
  gboolean started;

  g_return_if_fail (BACKUP_IS_PAIRING (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_pairing_close_async);

  started = self->state != STATE_IDLE;
  if (self->start_task != NULL)
    fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
  self->state = STATE_CLOSED;
  stop_polling (self);
  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->outgoing, (GDestroyNotify) outgoing_free);
  g_clear_signal_handler (&self->changed_id, self->store);

  data = g_new0 (CloseData, 1);
  data->keys = g_ptr_array_new_with_free_func (g_free);
  if (self->ping_key != NULL)
    add_key_once (data->keys, self->ping_key);
  g_hash_table_iter_init (&iter, self->our_keys);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    add_key_once (data->keys, key);
  g_task_set_task_data (task, data, (GDestroyNotify) close_data_free);

  if (!started)
    {
      close_delete_next (task);
      return;
    }

  /* Also catch an upload that was under way when we cancelled it. */
  pattern = g_strdup_printf ("%s_", self->session);
  backup_signaling_store_list_async (self->store, pattern, cancellable, on_close_listed, task);
}

gboolean
backup_pairing_close_finish (BackupPairing *self,
                             GAsyncResult *result,
                             GError **error)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- object ---- */

static void
clear_check (BackupPairing *self)
{
  if (self->check_notify != NULL)
    self->check_notify (self->check_data);
  self->check_func = NULL;
  self->check_data = NULL;
  self->check_notify = NULL;
}

void
backup_pairing_set_description_check (BackupPairing *self,
                                      BackupPairingCheckFunc func,
                                      gpointer user_data,
                                      GDestroyNotify notify)
{
  g_return_if_fail (BACKUP_IS_PAIRING (self));

  clear_check (self);
  self->check_func = func;
  self->check_data = user_data;
  self->check_notify = notify;
}

static void
backup_pairing_dispose (GObject *object)
{
  BackupPairing *self = BACKUP_PAIRING (object);

  stop_polling (self);
  clear_check (self);
  g_cancellable_cancel (self->cancellable);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (backup_pairing_parent_class)->dispose (object);
}

static void
backup_pairing_finalize (GObject *object)
{
  BackupPairing *self = BACKUP_PAIRING (object);

  g_assert (self->start_task == NULL);
  g_free (self->session);
  g_free (self->instance);
  g_free (self->peer);
  g_free (self->ping_key);
  g_free (self->tie_other);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_queue_clear_full (&self->held_candidates, g_free);
  g_queue_clear_full (&self->outgoing, (GDestroyNotify) outgoing_free);
  g_clear_pointer (&self->remote_extensions, json_object_unref);
  g_hash_table_unref (self->ignored);
  g_hash_table_unref (self->our_keys);

  G_OBJECT_CLASS (backup_pairing_parent_class)->finalize (object);
}

static void
backup_pairing_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupPairing *self = BACKUP_PAIRING (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_SESSION_ID:
      g_value_set_string (value, self->session);
      break;
    case PROP_INSTANCE_ID:
      g_value_set_string (value, self->instance);
      break;
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_pairing_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BackupPairing *self = BACKUP_PAIRING (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case PROP_SESSION_ID:
      self->session = g_value_dup_string (value);
      break;
    case PROP_TIMEOUT:
      backup_pairing_set_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_pairing_class_init (BackupPairingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_pairing_dispose;
  object_class->finalize = backup_pairing_finalize;
  object_class->get_property = backup_pairing_get_property;
  object_class->set_property = backup_pairing_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, BACKUP_TYPE_SIGNALING_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION_ID] =
    g_param_spec_string ("session-id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INSTANCE_ID] =
    g_param_spec_string ("instance-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL, BACKUP_TYPE_PAIRING_ROLE, BACKUP_PAIRING_ROLE_NONE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT / 1000, BACKUP_PAIRING_DEFAULT_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BackupPairing::remote-description:
   * @type: "offer" or "answer"
   * @sdp: the peer's session description
   */
  signals[REMOTE_DESCRIPTION] =
    g_signal_new ("remote-description", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * BackupPairing::remote-candidate:
   * @candidate: "candidate:…", always after the description
   */
  signals[REMOTE_CANDIDATE] =
    g_signal_new ("remote-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * BackupPairing::failed:
   * @error: what went wrong after the start resolved
   */
  signals[FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
backup_pairing_init (BackupPairing *self)
{
  self->instance = g_uuid_string_random ();
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  self->timeout = BACKUP_PAIRING_DEFAULT_TIMEOUT;
  self->ignored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->our_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * backup_pairing_new:
 * @store: where the two peers meet
 * @session_id: the id both peers were given
 */
BackupPairing *
backup_pairing_new (BackupSignalingStore *store,
                    const char *session_id)
{
  g_return_val_if_fail (BACKUP_IS_SIGNALING_STORE (store), NULL);
  g_return_val_if_fail (session_id != NULL && *session_id != '\0', NULL);

  return g_object_new (BACKUP_TYPE_PAIRING, "store", store, "session-id", session_id, NULL);
}

const char *
backup_pairing_get_session_id (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), NULL);
  return self->session;
}

const char *
backup_pairing_get_instance_id (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), NULL);
  return self->instance;
}

/* The instance id of the peer, once known. */
const char *
backup_pairing_get_remote_instance_id (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), NULL);
  return self->peer;
}

BackupPairingRole
backup_pairing_get_role (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), BACKUP_PAIRING_ROLE_NONE);
  return self->role;
}

BackupSignalingStore *
backup_pairing_get_store (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), NULL);
  return self->store;
}

guint
backup_pairing_get_timeout (BackupPairing *self)
{
  g_return_val_if_fail (BACKUP_IS_PAIRING (self), 0);
  return self->timeout;
}

/* Seconds to wait for the peer before failing with TIMEOUT; 0 waits forever.
 * Takes effect at the next start. */
void
backup_pairing_set_timeout (BackupPairing *self,
                            guint seconds)
{
  g_return_if_fail (BACKUP_IS_PAIRING (self));

  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/* Bounds of the poll interval in milliseconds: polling starts at @min_ms
 * and slows down to @max_ms while nothing happens. 0 = the store's choice. */
void
backup_pairing_set_poll_interval (BackupPairing *self,
                                  guint min_ms,
                                  guint max_ms)
{
  g_return_if_fail (BACKUP_IS_PAIRING (self));

  self->poll_min = min_ms;
  self->poll_max = max_ms;
}
