/* backup-transfer-machine.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-transfer-machine.h"

const char *
backup_receiver_state_to_string (BackupReceiverState state)
{
  switch (state)
    {
    case BACKUP_RECEIVER_WAITING:
      return "waiting";
    case BACKUP_RECEIVER_RECEIVING:
      return "receiving";
    case BACKUP_RECEIVER_COMMITTING:
      return "committing";
    case BACKUP_RECEIVER_STORED:
      return "stored";
    case BACKUP_RECEIVER_DONE:
      return "done";
    case BACKUP_RECEIVER_FAILED:
      return "failed";
    default:
      return "?";
    }
}

const char *
backup_sender_state_to_string (BackupSenderState state)
{
  switch (state)
    {
    case BACKUP_SENDER_WAITING:
      return "waiting";
    case BACKUP_SENDER_SENDING:
      return "sending";
    case BACKUP_SENDER_FINISHING:
      return "finishing";
    case BACKUP_SENDER_DONE:
      return "done";
    case BACKUP_SENDER_FAILED:
      return "failed";
    default:
      return "?";
    }
}

static BackupTransferAction
receiver_go (BackupReceiverState *state, BackupReceiverState next, BackupTransferAction action)
{
  *state = next;
  return action;
}

BackupTransferAction
backup_receiver_step (BackupReceiverState *state, BackupReceiverEvent event, gboolean legacy)
{
  g_return_val_if_fail (state != NULL, BACKUP_TRANSFER_ACTION_IGNORE);

  switch (*state)
    {
    case BACKUP_RECEIVER_WAITING:
      switch (event)
        {
        case BACKUP_RECEIVER_EVENT_BEGIN:
          return receiver_go (state, BACKUP_RECEIVER_RECEIVING, BACKUP_TRANSFER_ACTION_NONE);
        case BACKUP_RECEIVER_EVENT_DATA:         /* content before a name */
        case BACKUP_RECEIVER_EVENT_END_VERIFIED: /* an end before a header */
        case BACKUP_RECEIVER_EVENT_CLEAN_CLOSE:  /* closed before anything came */
        case BACKUP_RECEIVER_EVENT_FAILURE:
          return receiver_go (state, BACKUP_RECEIVER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_RECEIVER_EVENT_COMMIT_DONE:
        case BACKUP_RECEIVER_EVENT_COMMIT_FAILED:
        case BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT:
        default:
          break;
        }
      break;

    case BACKUP_RECEIVER_RECEIVING:
      switch (event)
        {
        case BACKUP_RECEIVER_EVENT_DATA:
          return BACKUP_TRANSFER_ACTION_NONE;
        case BACKUP_RECEIVER_EVENT_END_VERIFIED:
          if (legacy) /* the original framing has no end message */
            return receiver_go (state, BACKUP_RECEIVER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
          return receiver_go (state, BACKUP_RECEIVER_COMMITTING, BACKUP_TRANSFER_ACTION_COMMIT);
        case BACKUP_RECEIVER_EVENT_CLEAN_CLOSE:
          /* The end of the file in the original framing only. */
          if (legacy)
            return receiver_go (state, BACKUP_RECEIVER_COMMITTING, BACKUP_TRANSFER_ACTION_COMMIT);
          return receiver_go (state, BACKUP_RECEIVER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_RECEIVER_EVENT_BEGIN: /* a second header */
        case BACKUP_RECEIVER_EVENT_FAILURE:
          return receiver_go (state, BACKUP_RECEIVER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_RECEIVER_EVENT_COMMIT_DONE:
        case BACKUP_RECEIVER_EVENT_COMMIT_FAILED:
        case BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT:
        default:
          break;
        }
      break;

    case BACKUP_RECEIVER_COMMITTING:
      switch (event)
        {
        case BACKUP_RECEIVER_EVENT_COMMIT_DONE:
          if (legacy) /* nothing to acknowledge to the original tool */
            return receiver_go (state, BACKUP_RECEIVER_DONE, BACKUP_TRANSFER_ACTION_SUCCEED);
          return receiver_go (state, BACKUP_RECEIVER_STORED, BACKUP_TRANSFER_ACTION_ACKNOWLEDGE);
        case BACKUP_RECEIVER_EVENT_COMMIT_FAILED:
          return receiver_go (state, BACKUP_RECEIVER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_RECEIVER_EVENT_BEGIN:
        case BACKUP_RECEIVER_EVENT_DATA:
        case BACKUP_RECEIVER_EVENT_END_VERIFIED:
        case BACKUP_RECEIVER_EVENT_CLEAN_CLOSE:
        case BACKUP_RECEIVER_EVENT_FAILURE:
          /* The file is complete: the commit decides alone. */
          return BACKUP_TRANSFER_ACTION_IGNORE;
        case BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT:
        default:
          break;
        }
      break;

    case BACKUP_RECEIVER_STORED:
      switch (event)
        {
        case BACKUP_RECEIVER_EVENT_CLEAN_CLOSE:
        case BACKUP_RECEIVER_EVENT_FAILURE:
        case BACKUP_RECEIVER_EVENT_CLOSE_TIMEOUT:
          /* Stored and acknowledged: whatever ends the connection now. */
          return receiver_go (state, BACKUP_RECEIVER_DONE, BACKUP_TRANSFER_ACTION_SUCCEED);
        case BACKUP_RECEIVER_EVENT_BEGIN:
        case BACKUP_RECEIVER_EVENT_DATA:
        case BACKUP_RECEIVER_EVENT_END_VERIFIED:
          return BACKUP_TRANSFER_ACTION_IGNORE;
        case BACKUP_RECEIVER_EVENT_COMMIT_DONE:
        case BACKUP_RECEIVER_EVENT_COMMIT_FAILED:
        default:
          break;
        }
      break;

    case BACKUP_RECEIVER_DONE:
    case BACKUP_RECEIVER_FAILED:
      /* Over: late events of the connection or the store change nothing. */
      return BACKUP_TRANSFER_ACTION_IGNORE;

    default:
      break;
    }

  g_error ("receiver: event %d cannot happen in state %s", event,
           backup_receiver_state_to_string (*state));
  return BACKUP_TRANSFER_ACTION_IGNORE;
}

static BackupTransferAction
sender_go (BackupSenderState *state, BackupSenderState next, BackupTransferAction action)
{
  *state = next;
  return action;
}

BackupTransferAction
backup_sender_step (BackupSenderState *state, BackupSenderEvent event, gboolean legacy)
{
  g_return_val_if_fail (state != NULL, BACKUP_TRANSFER_ACTION_IGNORE);

  switch (*state)
    {
    case BACKUP_SENDER_WAITING:
      switch (event)
        {
        case BACKUP_SENDER_EVENT_OPEN:
          return sender_go (state, BACKUP_SENDER_SENDING, BACKUP_TRANSFER_ACTION_NONE);
        case BACKUP_SENDER_EVENT_ACK:         /* acknowledged before anything was sent */
        case BACKUP_SENDER_EVENT_CLEAN_CLOSE:
        case BACKUP_SENDER_EVENT_FAILURE:
          return sender_go (state, BACKUP_SENDER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_SENDER_EVENT_SOURCE_END:
        case BACKUP_SENDER_EVENT_CLOSE_TIMEOUT:
        default:
          break;
        }
      break;

    case BACKUP_SENDER_SENDING:
      switch (event)
        {
        case BACKUP_SENDER_EVENT_SOURCE_END:
          return sender_go (state, BACKUP_SENDER_FINISHING, BACKUP_TRANSFER_ACTION_SEND_END);
        case BACKUP_SENDER_EVENT_ACK:         /* acknowledged too early */
        case BACKUP_SENDER_EVENT_CLEAN_CLOSE: /* the receiver closed in the middle */
        case BACKUP_SENDER_EVENT_FAILURE:
          return sender_go (state, BACKUP_SENDER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_SENDER_EVENT_OPEN:
        case BACKUP_SENDER_EVENT_CLOSE_TIMEOUT:
        default:
          break;
        }
      break;

    case BACKUP_SENDER_FINISHING:
      switch (event)
        {
        case BACKUP_SENDER_EVENT_ACK:
          /* The original tool acknowledges nothing: one that does is not it. */
          if (legacy)
            return sender_go (state, BACKUP_SENDER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
          return sender_go (state, BACKUP_SENDER_DONE, BACKUP_TRANSFER_ACTION_SUCCEED);
        case BACKUP_SENDER_EVENT_CLEAN_CLOSE:
          /* The original receiver stores what it got on this close; ours
           * must acknowledge first. */
          if (legacy)
            return sender_go (state, BACKUP_SENDER_DONE, BACKUP_TRANSFER_ACTION_SUCCEED);
          return sender_go (state, BACKUP_SENDER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_SENDER_EVENT_FAILURE:
        case BACKUP_SENDER_EVENT_CLOSE_TIMEOUT:
          return sender_go (state, BACKUP_SENDER_FAILED, BACKUP_TRANSFER_ACTION_FAIL);
        case BACKUP_SENDER_EVENT_OPEN:
        case BACKUP_SENDER_EVENT_SOURCE_END:
        default:
          break;
        }
      break;

    case BACKUP_SENDER_DONE:
    case BACKUP_SENDER_FAILED:
      return BACKUP_TRANSFER_ACTION_IGNORE;

    default:
      break;
    }

  g_error ("sender: event %d cannot happen in state %s", event,
           backup_sender_state_to_string (*state));
  return BACKUP_TRANSFER_ACTION_IGNORE;
}
