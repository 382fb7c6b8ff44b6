/* backup-bonded-channel.c: one BackupChannel over several
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The buffered amount: each member keeps, in sending order, the messages it
 * has not yet passed on, each with the bonded byte offset where it begins
 * and the bytes queued on that member once it was. A member has passed on
 * what was queued on it less what it still buffers; the oldest message still
 * held by some member begins the bonded amount, the newest sent ends it.
 *
 * The members' own "buffered-amount-low" does not line up with that amount,
 * so every member is told to report each MEMBER_LOW_STEP of progress (and
 * its last byte): each report recomputes the amount and, when it fell to the
 * bonded threshold from above it, emits the bonded "buffered-amount-low".
 * A member that has nothing buffered reports nothing more, and then holds
 * none of the amount: once the last one drains, the amount is 0.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-bonded-channel.h"
#include "backup-error.h"

/* How much progress a member reports at a time. */
#define MEMBER_LOW_STEP (64 * 1024)

#define KIND_BINARY 0
#define KIND_TEXT 1

typedef struct
{
  guint64 start;      /* the bonded byte offset where the message begins */
  guint64 member_end; /* bytes queued on its member, this message included */
} InFlight;

typedef struct
{
  GBytes *payload;
  gboolean is_string;
  gsize size; /* of the member message, as counted in held_bytes */
} Held;

typedef struct
{
  BackupBondedChannel *self; /* not a reference */
  BackupChannel *channel;
  guint index;
  guint64 queued;   /* counted from the member's buffered amount at construction */
  GQueue in_flight; /* of InFlight, oldest first */
  gboolean closed;
} Member;

struct _BackupBondedChannel
{
  GObject parent_instance;

  Member *members;
  guint n_members;
  char *label;

  /* sending */
  guint32 next_send;
  guint64 sent_total; /* bytes of member messages sent on all members */
  guint64 low_threshold;
  guint64 reported; /* the buffered amount at the last send or member report */
  gboolean sending;

  /* receiving */
  guint32 next_receive;
  GHashTable *held; /* sequence number → Held, received ahead of a missing one */
  guint64 held_bytes;

  gboolean open_emitted;
  gboolean error_emitted;
  gboolean closing; /* the members were told to close */
  gboolean failed;  /* the stream broke: nothing more is delivered */
  gboolean closed_emitted;
  GError *close_error;
};

static void backup_bonded_channel_iface_init (BackupChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupBondedChannel, backup_bonded_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_CHANNEL,
                                                      backup_bonded_channel_iface_init))

static void
held_free (gpointer data)
{
  Held *held = data;

  g_bytes_unref (held->payload);
  g_free (held);
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

static const char *
label_of (BackupBondedChannel *self)
{
  return self->label != NULL ? self->label : "";
}

static gboolean
all_open (BackupBondedChannel *self)
{
  if (self->closing || self->failed || self->members == NULL)
    return FALSE;
  for (guint i = 0; i < self->n_members; i++)
    {
      Member *member = &self->members[i];

      if (member->closed || member->channel == NULL || !backup_channel_is_open (member->channel))
        return FALSE;
    }
  return TRUE;
}

/* Forgets the messages @member has passed on. */
static void
member_pop_passed (Member *member)
{
  InFlight *head;
  guint64 buffered;
  guint64 passed;

  if (member->channel == NULL || member->closed)
    return;
  buffered = backup_channel_get_buffered_amount (member->channel);
  passed = member->queued > buffered ? member->queued - buffered : 0;
  while ((head = g_queue_peek_head (&member->in_flight)) != NULL && head->member_end <= passed)
    g_free (g_queue_pop_head (&member->in_flight));
}

/* From the oldest message some member still holds to the newest sent. */
static guint64
bonded_amount (BackupBondedChannel *self)
{
  gboolean any = FALSE;
  guint64 oldest = 0;

  for (guint i = 0; i < self->n_members; i++)
    {
      Member *member = &self->members[i];
      InFlight *head;

      member_pop_passed (member);
      head = g_queue_peek_head (&member->in_flight);
      if (head != NULL && (!any || head->start < oldest))
        {
          oldest = head->start;
          any = TRUE;
        }
    }
  return any ? self->sent_total - oldest : 0;
}

/* Each member reports its next MEMBER_LOW_STEP of progress, or its last byte. */
static void
pace_members (BackupBondedChannel *self)
{
  for (guint i = 0; i < self->n_members; i++)
    {
      Member *member = &self->members[i];
      guint64 buffered;

      if (member->channel == NULL || member->closed)
        continue;
      buffered = backup_channel_get_buffered_amount (member->channel);
      backup_channel_set_buffered_amount_low_threshold (
        member->channel, buffered > MEMBER_LOW_STEP ? buffered - MEMBER_LOW_STEP : 0);
    }
}

/* After a member reported progress: the W3C rule, on the bonded amount. */
static void
recheck_low (BackupBondedChannel *self)
{
  gboolean was_above;
  guint64 amount;

  if (self->sending || self->closed_emitted)
    return; /* the send recomputes it */
  was_above = self->reported > self->low_threshold;
  amount = bonded_amount (self);
  self->reported = amount;
  if (was_above && amount <= self->low_threshold)
    g_signal_emit_by_name (self, "buffered-amount-low");
}

static void
emit_error (BackupBondedChannel *self, const GError *error)
{
  if (self->error_emitted)
    return;
  self->error_emitted = TRUE;
  g_signal_emit_by_name (self, "error", error);
}

static void
close_members (BackupBondedChannel *self)
{
  if (self->closing)
    return;
  self->closing = TRUE;
  /* A place still empty stays so: a member that comes now is closed at once. */
  for (guint i = 0; i < self->n_members; i++)
    if (self->members[i].channel == NULL)
      self->members[i].closed = TRUE;
  /* A member may close at once, and finish the bonded channel. */
  for (guint i = 0; i < self->n_members; i++)
    {
      Member *member = &self->members[i];

      if (member->channel != NULL && !member->closed)
        backup_channel_close (member->channel);
    }
}

/* "closed", once every member is. */
static void
maybe_finish (BackupBondedChannel *self)
{
  if (self->closed_emitted)
    return;
  for (guint i = 0; i < self->n_members; i++)
    if (!self->members[i].closed)
      return;

  self->closed_emitted = TRUE;
  if (self->close_error == NULL && g_hash_table_size (self->held) > 0)
    self->close_error = g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                     _("The transfer ended incomplete: the peer closed the "
                                       "connection with message %u missing"),
                                     self->next_receive);
  g_hash_table_remove_all (self->held);
  self->held_bytes = 0;
  g_debug ("bonded channel '%s' closed%s%s", label_of (self),
           self->close_error != NULL ? ": " : "",
           self->close_error != NULL ? self->close_error->message : "");
  g_signal_emit_by_name (self, "closed");
}

/* The stream cannot go on: tell, and close every member. */
static void
fail (BackupBondedChannel *self, GError *error)
{
  g_autoptr (GError) owned = error;

  if (self->failed || self->closed_emitted)
    return;
  self->failed = TRUE;
  g_debug ("bonded channel '%s' failed: %s", label_of (self), error->message);
  if (self->close_error == NULL)
    self->close_error = g_steal_pointer (&owned);
  g_hash_table_remove_all (self->held);
  self->held_bytes = 0;
  emit_error (self, error);
  close_members (self);
  maybe_finish (self);
}

/* ------------------------------------------------------------------------ */
/* BackupChannel                                                            */

static const char *
get_label (BackupChannel *channel)
{
  return label_of (BACKUP_BONDED_CHANNEL (channel));
}

static gboolean
is_open (BackupChannel *channel)
{
  return all_open (BACKUP_BONDED_CHANNEL (channel));
}

static guint64
get_max_message_size (BackupChannel *channel)
{
  BackupBondedChannel *self = BACKUP_BONDED_CHANNEL (channel);
  guint64 least = 0;

  for (guint i = 0; i < self->n_members; i++)
    {
      guint64 max;

      if (self->members[i].channel == NULL)
        continue;
      max = backup_channel_get_max_message_size (self->members[i].channel);
      if (max != 0 && (least == 0 || max < least))
        least = max;
    }
  if (least == 0)
    return 0;
  return least > BACKUP_BONDED_HEADER_SIZE ? least - BACKUP_BONDED_HEADER_SIZE : 1;
}

static guint64
get_buffered_amount (BackupChannel *channel)
{
  return bonded_amount (BACKUP_BONDED_CHANNEL (channel));
}

static void
set_buffered_amount_low_threshold (BackupChannel *channel, guint64 threshold)
{
  BACKUP_BONDED_CHANNEL (channel)->low_threshold = threshold;
}

static gboolean
send_message (BackupBondedChannel *self, const void *payload, gsize length, guint8 kind,
              GError **error)
{
  g_autoptr (BackupBondedChannel) hold = NULL;
  g_autoptr (GBytes) message = NULL;
  Member *member = NULL;
  guint64 least = 0;
  InFlight *in_flight;
  guint32 sequence;
  guint8 *data;
  gsize size;
  gboolean sent;

  if (!all_open (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("The connection is closed"));
      return FALSE;
    }

  for (guint i = 0; i < self->n_members; i++)
    {
      guint64 buffered = backup_channel_get_buffered_amount (self->members[i].channel);

      if (member == NULL || buffered < least)
        {
          member = &self->members[i];
          least = buffered;
        }
    }
  g_assert (member != NULL);

  sequence = self->next_send++;
  size = BACKUP_BONDED_HEADER_SIZE + length;
  data = g_malloc (size);
  data[0] = (guint8) (sequence >> 24);
  data[1] = (guint8) (sequence >> 16);
  data[2] = (guint8) (sequence >> 8);
  data[3] = (guint8) sequence;
  data[4] = kind;
  if (length > 0)
    memcpy (data + BACKUP_BONDED_HEADER_SIZE, payload, length);
  message = g_bytes_new_take (data, size);

  /* Counted before the send: a member may report progress from inside it. */
  in_flight = g_new (InFlight, 1);
  in_flight->start = self->sent_total;
  in_flight->member_end = member->queued + size;
  g_queue_push_tail (&member->in_flight, in_flight);
  member->queued += size;
  self->sent_total += size;

  hold = g_object_ref (self);
  self->sending = TRUE;
  sent = backup_channel_send_bytes (member->channel, message, error);
  self->sending = FALSE;
  if (!sent)
    {
      /* Never sent: the next message takes its sequence number. */
      if (g_queue_remove (&member->in_flight, in_flight))
        g_free (in_flight);
      member->queued -= size;
      self->sent_total -= size;
      if (self->next_send == sequence + 1)
        self->next_send = sequence;
      return FALSE;
    }

  if (!self->closed_emitted)
    {
      self->reported = bonded_amount (self);
      pace_members (self);
    }
  return TRUE;
}

static gboolean
send_bytes (BackupChannel *channel, GBytes *data, GError **error)
{
  gsize length;
  const void *payload;

  g_return_val_if_fail (data != NULL, FALSE);

  payload = g_bytes_get_data (data, &length);
  return send_message (BACKUP_BONDED_CHANNEL (channel), payload, length, KIND_BINARY, error);
}

static gboolean
send_text (BackupChannel *channel, const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);

  return send_message (BACKUP_BONDED_CHANNEL (channel), text, strlen (text), KIND_TEXT, error);
}

static void
close_channel (BackupChannel *channel)
{
  BackupBondedChannel *self = BACKUP_BONDED_CHANNEL (channel);
  g_autoptr (BackupBondedChannel) hold = g_object_ref (self);

  /* Each member sends what it queued before it closes. */
  close_members (self);
  maybe_finish (self);
}

static const GError *
get_close_error (BackupChannel *channel)
{
  return BACKUP_BONDED_CHANNEL (channel)->close_error;
}

static void
backup_bonded_channel_iface_init (BackupChannelInterface *iface)
{
  iface->get_label = get_label;
  iface->is_open = is_open;
  iface->get_max_message_size = get_max_message_size;
  iface->get_buffered_amount = get_buffered_amount;
  iface->set_buffered_amount_low_threshold = set_buffered_amount_low_threshold;
  iface->send_bytes = send_bytes;
  iface->send_text = send_text;
  iface->close = close_channel;
  iface->get_close_error = get_close_error;
}

/* ------------------------------------------------------------------------ */
/* The members' events                                                      */

static void deliver_held (BackupBondedChannel *self);

/* "open", once, when the last member is there and open. */
static void
maybe_open (BackupBondedChannel *self)
{
  g_autoptr (BackupBondedChannel) hold = NULL;

  if (self->open_emitted || !all_open (self))
    return;
  hold = g_object_ref (self);
  self->open_emitted = TRUE;
  g_debug ("bonded channel '%s' open over %u members", label_of (self),
           self->n_members);
  g_signal_emit_by_name (self, "open");
  deliver_held (self);
}

static void
member_open_cb (BackupChannel *channel, gpointer user_data)
{
  maybe_open (((Member *) user_data)->self);
}

/* Delivers the held messages that follow in sequence. */
static void
deliver_held (BackupBondedChannel *self)
{
  gpointer value;

  while (!self->failed && !self->closed_emitted && self->open_emitted
         && g_hash_table_steal_extended (self->held, GUINT_TO_POINTER (self->next_receive), NULL,
                                         &value))
    {
      Held *held = value;

      self->held_bytes -= held->size;
      self->next_receive++;
      g_signal_emit_by_name (self, "message", held->payload, held->is_string);
      held_free (held);
    }
}

static void
member_message_cb (BackupChannel *channel, GBytes *data, gboolean is_string, gpointer user_data)
{
  Member *member = user_data;
  g_autoptr (BackupBondedChannel) self = g_object_ref (member->self);
  g_autoptr (GBytes) payload = NULL;
  const guint8 *bytes;
  guint32 sequence;
  gint32 ahead;
  Held *held;
  gsize size;

  if (self->failed || self->closed_emitted)
    return;

  bytes = g_bytes_get_data (data, &size);
  if (is_string || size < BACKUP_BONDED_HEADER_SIZE || bytes[4] > KIND_TEXT)
    {
      fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                               _("The peer sent a malformed message on connection %u"),
                               member->index));
      return;
    }

  sequence = ((guint32) bytes[0] << 24) | ((guint32) bytes[1] << 16) | ((guint32) bytes[2] << 8)
             | (guint32) bytes[3];
  ahead = (gint32) (sequence - self->next_receive);
  if (ahead < 0
      || (ahead >= 0 && g_hash_table_contains (self->held, GUINT_TO_POINTER (sequence))))
    {
      fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                               _("The peer sent message %u twice"), sequence));
      return;
    }

  payload = g_bytes_new_from_bytes (data, BACKUP_BONDED_HEADER_SIZE,
                                    size - BACKUP_BONDED_HEADER_SIZE);
  /* The members are separate associations: one may carry the peer's first
   * messages before another's channel is open here. They wait for "open". */
  if (ahead > 0 || !self->open_emitted)
    {
      if (self->held_bytes + size > BACKUP_BONDED_MAX_HELD)
        {
          fail (self, g_error_new (BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                                   _("The peer sent messages out of bounds (message %u, "
                                     "more than %u MiB past message %u)"),
                                   sequence, BACKUP_BONDED_MAX_HELD / (1024 * 1024),
                                   self->next_receive));
          return;
        }
      held = g_new (Held, 1);
      held->payload = g_steal_pointer (&payload);
      held->is_string = bytes[4] == KIND_TEXT;
      held->size = size;
      g_hash_table_insert (self->held, GUINT_TO_POINTER (sequence), held);
      self->held_bytes += size;
      return;
    }

  self->next_receive++;
  g_signal_emit_by_name (self, "message", payload, bytes[4] == KIND_TEXT);
  deliver_held (self);
}

static void
member_low_cb (BackupChannel *channel, gpointer user_data)
{
  Member *member = user_data;
  g_autoptr (BackupBondedChannel) self = g_object_ref (member->self);

  recheck_low (self);
  if (!self->sending && !self->closed_emitted)
    pace_members (self);
}

static void
member_error_cb (BackupChannel *channel, GError *error, gpointer user_data)
{
  Member *member = user_data;
  g_autoptr (BackupBondedChannel) self = g_object_ref (member->self);

  g_debug ("bonded channel '%s': member %u failed: %s", label_of (self), member->index,
           error->message);
  /* What it carried is lost, and the stream with it. */
  fail (self, g_error_copy (error));
}

static void
member_closed_cb (BackupChannel *channel, gpointer user_data)
{
  Member *member = user_data;
  g_autoptr (BackupBondedChannel) self = g_object_ref (member->self);
  const GError *error;

  if (member->closed)
    return;
  member->closed = TRUE;
  g_queue_clear_full (&member->in_flight, g_free);

  error = backup_channel_get_close_error (channel);
  g_debug ("bonded channel '%s': member %u closed%s%s", label_of (self), member->index,
           error != NULL ? ": " : "", error != NULL ? error->message : "");
  if (error != NULL && self->close_error == NULL)
    self->close_error = g_error_copy (error);
  /* Lost: close the others. Closed by the peer: it closes them all. */
  if (error != NULL)
    close_members (self);
  maybe_finish (self);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
backup_bonded_channel_dispose (GObject *object)
{
  BackupBondedChannel *self = BACKUP_BONDED_CHANNEL (object);

  for (guint i = 0; i < self->n_members; i++)
    {
      Member *member = &self->members[i];

      if (member->channel != NULL)
        {
          g_signal_handlers_disconnect_by_data (member->channel, member);
          g_clear_object (&member->channel);
        }
      g_queue_clear_full (&member->in_flight, g_free);
    }
  g_hash_table_remove_all (self->held);
  self->held_bytes = 0;
  G_OBJECT_CLASS (backup_bonded_channel_parent_class)->dispose (object);
}

static void
backup_bonded_channel_finalize (GObject *object)
{
  BackupBondedChannel *self = BACKUP_BONDED_CHANNEL (object);

  g_free (self->members);
  g_free (self->label);
  g_hash_table_unref (self->held);
  g_clear_error (&self->close_error);
  G_OBJECT_CLASS (backup_bonded_channel_parent_class)->finalize (object);
}

static void
backup_bonded_channel_class_init (BackupBondedChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_bonded_channel_dispose;
  object_class->finalize = backup_bonded_channel_finalize;
}

static void
backup_bonded_channel_init (BackupBondedChannel *self)
{
  self->held = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, held_free);
}

static void
member_attach (BackupBondedChannel *self, guint position, BackupChannel *channel)
{
  Member *member = &self->members[position];

  member->channel = g_object_ref (channel);
  /* What it buffers already is not ours to count. */
  member->queued = backup_channel_get_buffered_amount (channel);
  if (position == 0)
    self->label = g_strdup (backup_channel_get_label (channel));
  g_signal_connect (channel, "open", G_CALLBACK (member_open_cb), member);
  g_signal_connect (channel, "message", G_CALLBACK (member_message_cb), member);
  g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (member_low_cb), member);
  g_signal_connect (channel, "error", G_CALLBACK (member_error_cb), member);
  g_signal_connect (channel, "closed", G_CALLBACK (member_closed_cb), member);
}

BackupChannel *
backup_bonded_channel_new_waiting (guint n_members)
{
  BackupBondedChannel *self;

  g_return_val_if_fail (n_members >= 2, NULL);

  self = g_object_new (BACKUP_TYPE_BONDED_CHANNEL, NULL);
  self->members = g_new0 (Member, n_members);
  self->n_members = n_members;
  for (guint i = 0; i < n_members; i++)
    {
      self->members[i].self = self;
      self->members[i].index = i;
      g_queue_init (&self->members[i].in_flight);
    }
  return BACKUP_CHANNEL (self);
}

void
backup_bonded_channel_set_member (BackupBondedChannel *self, guint position,
                                  BackupChannel *member)
{
  g_autoptr (BackupBondedChannel) hold = NULL;

  g_return_if_fail (BACKUP_IS_BONDED_CHANNEL (self));
  g_return_if_fail (position < self->n_members);
  g_return_if_fail (BACKUP_IS_CHANNEL (member));

  if (self->members[position].channel != NULL)
    {
      if (self->members[position].channel != member)
        g_debug ("bonded channel '%s': member %u is there already",
                 label_of (self), position);
      return;
    }
  if (self->members[position].closed)
    {
      /* Closing already: the peer sees this one close too. */
      backup_channel_close (member);
      return;
    }
  hold = g_object_ref (self);
  member_attach (self, position, member);
  /* The session checked is_open() already and waits for "open". */
  maybe_open (self);
}

BackupChannel *
backup_bonded_channel_new (BackupChannel *const *members, guint n_members)
{
  BackupBondedChannel *self;

  g_return_val_if_fail (members != NULL, NULL);
  g_return_val_if_fail (n_members >= 2, NULL);
  for (guint i = 0; i < n_members; i++)
    g_return_val_if_fail (BACKUP_IS_CHANNEL (members[i]), NULL);

  self = BACKUP_BONDED_CHANNEL (backup_bonded_channel_new_waiting (n_members));
  for (guint i = 0; i < n_members; i++)
    member_attach (self, i, members[i]);
  /* Open already: nothing to emit, as for a BackupRtcChannel over an open
   * data channel (the session checks backup_channel_is_open()). */
  self->open_emitted = all_open (self);
  return BACKUP_CHANNEL (self);
}
