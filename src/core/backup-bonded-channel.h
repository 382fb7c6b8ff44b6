/* backup-bonded-channel.h: one BackupChannel over several
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A lossy long path holds one SCTP association to what its congestion window
 * allows; N associations, each with its own window, go about N times as fast.
 * A bonded channel carries one ordered, reliable message stream over N >= 2
 * member channels, the data channels of N associations: both ends create one
 * over the same number of members in the same order (member 0, the primary
 * channel, gives the label), and only this program speaks it.
 *
 * Every message travels as one binary message on one member: a 4-byte
 * big-endian sequence number (0, 1, 2, ... modulo 2^32), one byte of kind
 * (0 binary, 1 text), then the payload (a text one without its NUL). The
 * sender puts each message on the member with the least buffered; the
 * receiver puts them back in sequence order. Its buffered amount counts from
 * the oldest message not yet through to the newest sent, so a sender that
 * paces on it also bounds what the receiver holds out of order; a receiver
 * that would hold more than BACKUP_BONDED_MAX_HELD, or that sees a sequence
 * number twice, fails the channel.
 *
 * It is open when every member is there and open: "open" follows the last
 * member's (none if they all are open already: check
 * backup_channel_is_open()), and
 * "closed" the last member's "closed". A member lost or a broken stream
 * closes every member; a clean close by the peer waits for the peer to close
 * them all.
 */
#pragma once

#include "backup-channel.h"

G_BEGIN_DECLS

/* Bytes of framing added to every message. */
#define BACKUP_BONDED_HEADER_SIZE 5

/* The most a receiver holds out of order, in bytes of member messages. */
#define BACKUP_BONDED_MAX_HELD (64 * 1024 * 1024)

#define BACKUP_TYPE_BONDED_CHANNEL (backup_bonded_channel_get_type ())
G_DECLARE_FINAL_TYPE (BackupBondedChannel, backup_bonded_channel, BACKUP, BONDED_CHANNEL, GObject)

/* Takes a reference on each of the @n_members channels (n_members >= 2);
 * member 0 gives the label. */
BackupChannel *backup_bonded_channel_new (BackupChannel *const *members, guint n_members);
/* With @n_members places (n_members >= 2) that
 * backup_bonded_channel_set_member() fills as the members come; it opens
 * once every place holds an open member. */
BackupChannel *backup_bonded_channel_new_waiting (guint n_members);
/* Takes a reference on @member for place @position. A place holds its first
 * member; one that comes after close() is closed at once. */
void backup_bonded_channel_set_member (BackupBondedChannel *self, guint position,
                                       BackupChannel *member);

G_END_DECLS
