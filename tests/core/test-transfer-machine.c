/* test-transfer-machine.c: every event in every state of the sender's and the
 * receiver's state machines, in both framings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>

#include "backup-transfer-machine.h"

/* Shorter names for the tables. */
#define W BACKUP_RECEIVER_WAITING
#define R BACKUP_RECEIVER_RECEIVING
#define C BACKUP_RECEIVER_COMMITTING
#define S BACKUP_RECEIVER_STORED
#define D BACKUP_RECEIVER_DONE
#define F BACKUP_RECEIVER_FAILED

#define NONE BACKUP_TRANSFER_ACTION_NONE
#define IGNORE BACKUP_TRANSFER_ACTION_IGNORE
#define FAIL BACKUP_TRANSFER_ACTION_FAIL
#define SUCCEED BACKUP_TRANSFER_ACTION_SUCCEED
#define COMMIT BACKUP_TRANSFER_ACTION_COMMIT
#define ACK BACKUP_TRANSFER_ACTION_ACKNOWLEDGE
#define SEND_END BACKUP_TRANSFER_ACTION_SEND_END
#define ILLEGAL -1

#define N_RX_STATES 6
#define N_RX_EVENTS 8
#define N_TX_STATES 5
#define N_TX_EVENTS 6

typedef struct
{
  int next;
  int action;
} Outcome;

/* [legacy][state][event]: events in the order of BackupReceiverEvent:
 * BEGIN, DATA, END_VERIFIED, CLEAN_CLOSE, FAILURE, COMMIT_DONE,
 * COMMIT_FAILED, CLOSE_TIMEOUT. */
static const Outcome receiver_table[2][N_RX_STATES][N_RX_EVENTS] = {
  /* this program's framing */
  {
    /* WAITING */
    { { R, NONE }, { F, FAIL }, { F, FAIL }, { F, FAIL }, { F, FAIL },
      { W, ILLEGAL }, { W, ILLEGAL }, { W, ILLEGAL } },
    /* RECEIVING: only the verified end message ends the file */
    { { F, FAIL }, { R, NONE }, { C, COMMIT }, { F, FAIL }, { F, FAIL },
      { R, ILLEGAL }, { R, ILLEGAL }, { R, ILLEGAL } },
    /* COMMITTING: the commit decides alone */
    { { C, IGNORE }, { C, IGNORE }, { C, IGNORE }, { C, IGNORE }, { C, IGNORE },
      { S, ACK }, { F, FAIL }, { C, ILLEGAL } },
    /* STORED: acknowledged; whatever ends the connection is success */
    { { S, IGNORE }, { S, IGNORE }, { S, IGNORE }, { D, SUCCEED }, { D, SUCCEED },
      { S, ILLEGAL }, { S, ILLEGAL }, { D, SUCCEED } },
    /* DONE */
    { { D, IGNORE }, { D, IGNORE }, { D, IGNORE }, { D, IGNORE }, { D, IGNORE },
      { D, IGNORE }, { D, IGNORE }, { D, IGNORE } },
    /* FAILED */
    { { F, IGNORE }, { F, IGNORE }, { F, IGNORE }, { F, IGNORE }, { F, IGNORE },
      { F, IGNORE }, { F, IGNORE }, { F, IGNORE } },
  },
  /* the original framing */
  {
    /* WAITING */
    { { R, NONE }, { F, FAIL }, { F, FAIL }, { F, FAIL }, { F, FAIL },
      { W, ILLEGAL }, { W, ILLEGAL }, { W, ILLEGAL } },
    /* RECEIVING: only the clean close of the channel ends the file */
    { { F, FAIL }, { R, NONE }, { F, FAIL }, { C, COMMIT }, { F, FAIL },
      { R, ILLEGAL }, { R, ILLEGAL }, { R, ILLEGAL } },
    /* COMMITTING: nothing to acknowledge to the original tool */
    { { C, IGNORE }, { C, IGNORE }, { C, IGNORE }, { C, IGNORE }, { C, IGNORE },
      { D, SUCCEED }, { F, FAIL }, { C, ILLEGAL } },
    /* STORED (not reached in this framing; its rules hold all the same) */
    { { S, IGNORE }, { S, IGNORE }, { S, IGNORE }, { D, SUCCEED }, { D, SUCCEED },
      { S, ILLEGAL }, { S, ILLEGAL }, { D, SUCCEED } },
    /* DONE */
    { { D, IGNORE }, { D, IGNORE }, { D, IGNORE }, { D, IGNORE }, { D, IGNORE },
      { D, IGNORE }, { D, IGNORE }, { D, IGNORE } },
    /* FAILED */
    { { F, IGNORE }, { F, IGNORE }, { F, IGNORE }, { F, IGNORE }, { F, IGNORE },
      { F, IGNORE }, { F, IGNORE }, { F, IGNORE } },
  },
};

#define TW BACKUP_SENDER_WAITING
#define TS BACKUP_SENDER_SENDING
#define TF BACKUP_SENDER_FINISHING
#define TD BACKUP_SENDER_DONE
#define TX BACKUP_SENDER_FAILED

/* [legacy][state][event]: OPEN, SOURCE_END, ACK, CLEAN_CLOSE, FAILURE,
 * CLOSE_TIMEOUT. */
static const Outcome sender_table[2][N_TX_STATES][N_TX_EVENTS] = {
  /* this program's framing: success is the acknowledgement */
  {
    { { TS, NONE }, { TW, ILLEGAL }, { TX, FAIL }, { TX, FAIL }, { TX, FAIL }, { TW, ILLEGAL } },
    { { TS, ILLEGAL }, { TF, SEND_END }, { TX, FAIL }, { TX, FAIL }, { TX, FAIL },
      { TS, ILLEGAL } },
    { { TF, ILLEGAL }, { TF, ILLEGAL }, { TD, SUCCEED }, { TX, FAIL }, { TX, FAIL },
      { TX, FAIL } },
    { { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE },
      { TD, IGNORE } },
    { { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE },
      { TX, IGNORE } },
  },
  /* the original receiver: success is the clean close of the channel */
  {
    { { TS, NONE }, { TW, ILLEGAL }, { TX, FAIL }, { TX, FAIL }, { TX, FAIL }, { TW, ILLEGAL } },
    { { TS, ILLEGAL }, { TF, SEND_END }, { TX, FAIL }, { TX, FAIL }, { TX, FAIL },
      { TS, ILLEGAL } },
    { { TF, ILLEGAL }, { TF, ILLEGAL }, { TX, FAIL }, { TD, SUCCEED }, { TX, FAIL },
      { TX, FAIL } },
    { { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE }, { TD, IGNORE },
      { TD, IGNORE } },
    { { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE }, { TX, IGNORE },
      { TX, IGNORE } },
  },
};

static void
test_receiver_table (void)
{
  for (int legacy = 0; legacy < 2; legacy++)
    for (int state = 0; state < N_RX_STATES; state++)
      for (int event = 0; event < N_RX_EVENTS; event++)
        {
          const Outcome *expected = &receiver_table[legacy][state][event];
          BackupReceiverState s = (BackupReceiverState) state;
          BackupTransferAction action;

          if (expected->action == ILLEGAL)
            continue;
          action = backup_receiver_step (&s, (BackupReceiverEvent) event, legacy);
          g_test_message ("receiver %s, %s, event %d → %s, action %d",
                          legacy ? "legacy" : "ours",
                          backup_receiver_state_to_string ((BackupReceiverState) state), event,
                          backup_receiver_state_to_string (s), action);
          g_assert_cmpint (action, ==, expected->action);
          g_assert_cmpint (s, ==, expected->next);
        }
}

static void
test_sender_table (void)
{
  for (int legacy = 0; legacy < 2; legacy++)
    for (int state = 0; state < N_TX_STATES; state++)
      for (int event = 0; event < N_TX_EVENTS; event++)
        {
          const Outcome *expected = &sender_table[legacy][state][event];
          BackupSenderState s = (BackupSenderState) state;
          BackupTransferAction action;

          if (expected->action == ILLEGAL)
            continue;
          action = backup_sender_step (&s, (BackupSenderEvent) event, legacy);
          g_assert_cmpint (action, ==, expected->action);
          g_assert_cmpint (s, ==, expected->next);
        }
}

/* An event that cannot happen in a state is a programming error. */
static void
test_illegal (void)
{
  if (g_test_subprocess ())
    {
      const char *which = g_getenv ("TRANSFER_MACHINE_CASE");
      int legacy, state, event;

      g_assert_nonnull (which);
      g_assert_cmpint (sscanf (which, "%d %d %d", &legacy, &state, &event), ==, 3);
      if (state >= 100)
        {
          BackupSenderState s = (BackupSenderState) (state - 100);

          backup_sender_step (&s, (BackupSenderEvent) event, legacy);
        }
      else
        {
          BackupReceiverState s = (BackupReceiverState) state;

          backup_receiver_step (&s, (BackupReceiverEvent) event, legacy);
        }
      return;
    }

  for (int legacy = 0; legacy < 2; legacy++)
    {
      for (int state = 0; state < N_RX_STATES; state++)
        for (int event = 0; event < N_RX_EVENTS; event++)
          if (receiver_table[legacy][state][event].action == ILLEGAL)
            {
              g_autofree char *spec = g_strdup_printf ("%d %d %d", legacy, state, event);

              g_setenv ("TRANSFER_MACHINE_CASE", spec, TRUE);
              g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
              g_test_trap_assert_failed ();
              g_test_trap_assert_stderr ("*cannot happen in state*");
            }
      for (int state = 0; state < N_TX_STATES; state++)
        for (int event = 0; event < N_TX_EVENTS; event++)
          if (sender_table[legacy][state][event].action == ILLEGAL)
            {
              g_autofree char *spec = g_strdup_printf ("%d %d %d", legacy, 100 + state, event);

              g_setenv ("TRANSFER_MACHINE_CASE", spec, TRUE);
              g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
              g_test_trap_assert_failed ();
              g_test_trap_assert_stderr ("*cannot happen in state*");
            }
    }
}

/* Whole runs as a session drives them. */
static void
test_receiver_runs (void)
{
  BackupReceiverState s = BACKUP_RECEIVER_WAITING;

  /* The original sender, interrupted (DTLS close_notify before any stream
   * reset): nothing is committed. */
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_BEGIN, TRUE), ==, NONE);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_FAILURE, TRUE), ==, FAIL);
  g_assert_cmpint (s, ==, BACKUP_RECEIVER_FAILED);

  /* A browser: stream reset, then an ABORT while the commit runs. */
  s = BACKUP_RECEIVER_WAITING;
  backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_BEGIN, TRUE);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_CLEAN_CLOSE, TRUE), ==, COMMIT);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_FAILURE, TRUE), ==, IGNORE);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_COMMIT_DONE, TRUE), ==, SUCCEED);
  g_assert_cmpint (s, ==, BACKUP_RECEIVER_DONE);

  /* Ours: end message, commit, acknowledgement, the sender's close. */
  s = BACKUP_RECEIVER_WAITING;
  backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_BEGIN, FALSE);
  backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_DATA, FALSE);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_END_VERIFIED, FALSE), ==, COMMIT);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_COMMIT_DONE, FALSE), ==, ACK);
  g_assert_cmpint (backup_receiver_step (&s, BACKUP_RECEIVER_EVENT_CLEAN_CLOSE, FALSE), ==,
                   SUCCEED);
  g_assert_cmpint (s, ==, BACKUP_RECEIVER_DONE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/transfer-machine/receiver", test_receiver_table);
  g_test_add_func ("/transfer-machine/sender", test_sender_table);
  g_test_add_func ("/transfer-machine/illegal", test_illegal);
  g_test_add_func ("/transfer-machine/receiver-runs", test_receiver_runs);
  return g_test_run ();
}
