/* backup-transfer-machine.h: the sender's and the receiver's rules, as state
 * machines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What may happen during a transfer, and what it means, is decided here and
 * only here: BackupSession feeds every event of the data channel, the
 * connection, the store and the user into one transition function per role
 * and carries out the action it returns. The functions do no I/O, so every
 * event in every state is tested directly (tests/core/test-transfer-machine.c).
 *
 * End of file: in this program's framing, the end message with the right
 * byte count and SHA-256 (the session verifies it and reports END_VERIFIED);
 * in the original framing, only the clean close of the data channel (the
 * sender reset its stream). Any failure before that means the transfer was
 * interrupted and nothing is stored; from COMMITTING on the data is complete
 * and no failure changes the outcome: the commit decides it.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  BACKUP_TRANSFER_ACTION_NONE,    /* nothing to do (a message that goes on as before) */
  BACKUP_TRANSFER_ACTION_IGNORE,  /* the event no longer matters: log it, do nothing */
  BACKUP_TRANSFER_ACTION_FAIL,    /* end the run with the event's error */
  BACKUP_TRANSFER_ACTION_SUCCEED, /* end the run: the backup is done */
  /* Receiver */
  BACKUP_TRANSFER_ACTION_COMMIT,  /* rotate versions and put the file in place */
  BACKUP_TRANSFER_ACTION_ACKNOWLEDGE, /* stored: acknowledge, then wait for the close */
  /* Sender */
  BACKUP_TRANSFER_ACTION_SEND_END, /* everything is sent: the end message, or the channel close */
} BackupTransferAction;

/* --- receiver ------------------------------------------------------------ */

typedef enum
{
  BACKUP_RECEIVER_WAITING,    /* nothing received yet */
  BACKUP_RECEIVER_RECEIVING,  /* the name is known; content goes to the temporary file */
  BACKUP_RECEIVER_COMMITTING, /* the end of the file is here: rotating and renaming */
  BACKUP_RECEIVER_STORED,     /* the new version is in place; waiting for the sender's close */
  BACKUP_RECEIVER_DONE,
  BACKUP_RECEIVER_FAILED,
} BackupReceiverState;

typedef enum
{
  BACKUP_RECEIVER_EVENT_BEGIN,        /* a header or a legacy name, accepted by the store */
  BACKUP_RECEIVER_EVENT_DATA,         /* content */
  BACKUP_RECEIVER_EVENT_END_VERIFIED, /* the end message, byte count and SHA-256 right */
  BACKUP_RECEIVER_EVENT_CLEAN_CLOSE,  /* the sender reset the channel's stream */
  BACKUP_RECEIVER_EVENT_FAILURE,      /* the transport ended, the peer or the disk failed,
                                       * a protocol error, a timeout, a cancellation */
  BACKUP_RECEIVER_EVENT_COMMIT_DONE,  /* the commit put the file in place */
  BACKUP_RECEIVER_EVENT_COMMIT_FAILED,
  BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT, /* stored, and the sender's close did not come */
} BackupReceiverEvent;

/* Moves @state on @event; @legacy: the sender speaks the original framing.
 * An event that cannot happen in a state (a commit result without a commit)
 * is a programming error: it is asserted. */
BackupTransferAction backup_receiver_step (BackupReceiverState *state,
                                           BackupReceiverEvent event,
                                           gboolean legacy);

/* --- sender -------------------------------------------------------------- */

typedef enum
{
  BACKUP_SENDER_WAITING,   /* the channel is not open yet */
  BACKUP_SENDER_SENDING,
  BACKUP_SENDER_FINISHING, /* everything sent; waiting for the acknowledgement or the close */
  BACKUP_SENDER_DONE,
  BACKUP_SENDER_FAILED,
} BackupSenderState;

typedef enum
{
  BACKUP_SENDER_EVENT_OPEN,        /* the data channel is open */
  BACKUP_SENDER_EVENT_SOURCE_END,  /* the source (or the archive) is read to its end */
  BACKUP_SENDER_EVENT_ACK,         /* the receiver stored what was sent (count and hash right) */
  BACKUP_SENDER_EVENT_CLEAN_CLOSE, /* the channel closed cleanly, both ways */
  BACKUP_SENDER_EVENT_FAILURE,     /* the transport ended, the receiver reported an error or
                                    * acknowledged something else, a protocol error, the
                                    * source failed, a timeout, a cancellation */
  BACKUP_SENDER_EVENT_CLOSE_TIMEOUT, /* the acknowledgement or the close did not come */
} BackupSenderEvent;

/* Moves @state on @event; @legacy: the receiver is the original tool, which
 * acknowledges nothing: the clean close of the channel is its receipt. */
BackupTransferAction backup_sender_step (BackupSenderState *state,
                                         BackupSenderEvent event,
                                         gboolean legacy);

const char *backup_receiver_state_to_string (BackupReceiverState state);
const char *backup_sender_state_to_string (BackupSenderState state);

G_END_DECLS
