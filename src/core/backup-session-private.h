/* backup-session-private.h: what the parts of BackupSession share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * backup-session.c: the run, its data channel and its end;
 * backup-session-connect.c: pairing and the peer connection, up to an open
 * data channel; backup-session-sender.c and backup-session-receiver.c: the two roles
 * on the data channel, each driven by its state machine
 * (backup-transfer-machine.h).
 */
#pragma once

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "backup-admission.h"
#include "backup-archiver.h"
#include "backup-bonded-channel.h"
#include "backup-channel.h"
#include "backup-frame.h"
#include "backup-pairing.h"
#include "backup-reception.h"
#include "backup-restart-exchange.h"
#include "backup-resume.h"
#include "backup-session.h"
#include "backup-storage.h"
#include "backup-store.h"
#include "backup-transfer-machine.h"
#include "rtc-peer-connection.h"

G_BEGIN_DECLS

/* Pacing of the sender on the channel's buffered amount, which counts what
 * SCTP holds until the peer acknowledges it: the low mark is above the
 * largest window SCTP may have in flight (our receive window, 4 MiB), so
 * that SCTP never runs out of data to send; the high mark bounds what a
 * transfer holds on the sender (8 MiB and one chunk). */
#define HIGH_WATER (8 * 1024 * 1024)
#define LOW_WATER (6 * 1024 * 1024)
/* SCTP associations offered to a peer of this program: on a long path with
 * random loss, where each loss halves one association's window, eight carry
 * several times what one does (50 ms, 0.5 %: 4.1 MB/s against 0.4;
 * bench/README.md). */
#define SESSION_SCTP_LANES 8
/* Content message size with a peer of this program. */
#define CHUNK_SIZE (64 * 1024)
/* How long gathering may take before the SDP is sent anyway (the rest is
 * trickled). */
#define GATHER_WAIT_MS 3000
/* How long to wait for the last steps once the data is through. */
#define FINISH_TIMEOUT_S 60
/* The member of our descriptions' extensions that says we restart ICE
 * through the store when the path breaks (backup-session-restart.c). */
#define SESSION_RESTART_EXTENSION "restart"

typedef enum
{
  MODE_SEND,
  MODE_RECEIVE,
} Mode;


/* The state of one run: the task data of the run's GTask, so that it lives
 * exactly as long as the run can still be reached (an async call or a
 * source in flight holds a reference on the task) and nothing is carried
 * over from one run to the next. Every function below works on a run. */
typedef struct
{
  BackupSession *session; /* the task's source object */
  GTask *task;            /* owns this run */
  gboolean returned;      /* the task has returned its result */
  GCancellable *cancellable;
  gulong cancelled_id;
  BackupPairing *pairing;
  gboolean pairing_closed;
  RtcPeerConnection *pc;
  BackupChannel *channel;
  /* With several SCTP associations (lanes): the bonded channel that
   * run->channel is, which takes each lane's channel as it comes, and the
   * offerer's own lane-0 channel until the lanes are known. */
  BackupBondedChannel *bonded;
  BackupChannel *primary;
  guint offered_lanes;
  gboolean is_offerer;
  gboolean description_created;
  gboolean description_sent;
  guint gather_timeout_id;
  guint finish_timeout_id;
  gboolean peer_is_legacy;
  guint peer_protocol; /* the peer's BACKUP_FRAME_PROTOCOL_VERSION; 0: the original framing */
  BackupRestartExchange *restarts; /* once connected, with a peer that restarts ICE */
  guint restart_generation;        /* of the last ICE restart begun */
  gboolean restarts_closing;       /* the exchange is removing our last file */
  guint64 resumed;     /* bytes of the content not sent again: the receiver kept them */
  gnutls_hash_hd_t hash;
  guint8 digest[BACKUP_FRAME_SHA256_LEN]; /* of the whole content, once known */
  GError *failure;
  gboolean completing;

  /* Sender run. */
  GInputStream *input;
  BackupArchiver *archiver;
  gboolean archiver_done;
  gboolean input_eof;
  gboolean reading;
  guint64 sent;
  BackupSenderState sender;
  GCancellable *source_cancellable; /* the archiver's, replaced when the source starts over */
  char *resume_key;                 /* the ticket's key, when the receiver can resume */
  BackupResumeTicket ticket;
  gboolean awaiting_offset;         /* the header is sent; no content before the offset */
  guint64 skip_to;                  /* > 0: the first skip_to bytes are hashed, not sent */
  guint8 skip_sha256[BACKUP_FRAME_SHA256_LEN];

  /* Receiver run. */
  BackupReceiverState receiver;
  gboolean stop_requested; /* cancelled while the commit could not stop */
  BackupStorageWriter *reception;
  BackupLegacyParser *legacy;
  gboolean extended;
  guint64 received;
  gboolean awaiting_resume; /* the kept bytes are offered; no content before the answer */
  gboolean offset_sent;
  guint64 offered;
  /* A receiver that serves several senders (backup_session_set_admission,
   * backup_session_set_quota): the header waits for a slot and the
   * measure of the storage before anything begins. */
  BackupFrame *pending_header;
  gboolean admitted;         /* holds a slot of the admission */
  gboolean has_quota;
  guint64 quota_left;        /* bytes the content may take */
  guint64 quota_used;        /* what the versions took when measured */
} SessionRun;

struct _BackupSession
{
  GObject parent_instance;

  Mode mode;
  BackupSignalingStore *signaling;
  char *session_id;
  RtcConfiguration *rtc_config;
  guint timeout;

  /* Sender. */
  GFile *source;
  char *outer_name;
  char *password1;
  char *password2;
  BackupZipEncryption encryption;

  /* Receiver. */
  BackupStorage *store;
  BackupAdmission *admission; /* NULL: no limit */
  guint64 quota;              /* 0: none */

  /* What the last run showed (properties). */
  BackupSessionState state;
  char *file_name;
  guint64 bytes_done;
  gint64 total_bytes;
  guint64 resumed_bytes;
  gboolean reconnecting;
  char *peer_name;
  gboolean peer_is_legacy;

  /* The run in progress, or NULL: its task (a reference, dropped when it
   * returns) holds the run. */
  GTask *task;
};

/* The run a reference on its task (an async call's user data) leads to. */
static inline SessionRun *
session_run_from_task (GTask *task)
{
  return g_task_get_task_data (task);
}

/* backup-session.c */
G_GNUC_INTERNAL void session_set_state (SessionRun *run, BackupSessionState state);
G_GNUC_INTERNAL void session_report_progress (SessionRun *run, guint64 done);
G_GNUC_INTERNAL void session_set_total (SessionRun *run, gint64 total);
G_GNUC_INTERNAL void session_set_file_name (SessionRun *run, const char *name);
G_GNUC_INTERNAL void session_set_resumed (SessionRun *run, guint64 resumed);
G_GNUC_INTERNAL void session_set_peer_name (SessionRun *run, const char *name);
/* The error of an interrupted transfer, after which a receiver keeps what
 * it got (a lost transport, a timeout, a cancellation), as opposed to
 * content or a peer that cannot be trusted. */
G_GNUC_INTERNAL gboolean session_error_is_interruption (const GError *error);
G_GNUC_INTERNAL char *session_hex_digest (const guint8 *digest);
G_GNUC_INTERNAL gboolean session_send_frame (SessionRun *run, BackupFrame *frame,
                                             GError **error);
G_GNUC_INTERNAL void session_arm_finish_timeout (SessionRun *run);
G_GNUC_INTERNAL BackupTransferAction session_receiver_step (SessionRun *run,
                                                            BackupReceiverEvent event);
G_GNUC_INTERNAL BackupTransferAction session_sender_step (SessionRun *run,
                                                          BackupSenderEvent event);
/* Carries out what a state machine decided; @error (taken) is why, for FAIL. */
G_GNUC_INTERNAL void session_act (SessionRun *run, BackupTransferAction action, GError *error);
/* A failure of any kind (taken); the state machine says whether it matters. */
G_GNUC_INTERNAL void session_fail (SessionRun *run, GError *error);
G_GNUC_INTERNAL void session_fail_run (SessionRun *run, GError *error);
G_GNUC_INTERNAL void session_succeed (SessionRun *run);
G_GNUC_INTERNAL void session_finish_run_now (SessionRun *run);
/* The connection ended under the data channel before it was closed. */
G_GNUC_INTERNAL void session_transport_lost (SessionRun *run, const GError *error);
G_GNUC_INTERNAL void session_adopt_channel (SessionRun *run, BackupChannel *channel);

/* Runs only the transfer, on @channel (open, or "open" follows), without
 * pairing or connecting: how the tests drive both roles through a fake
 * channel. @peer_protocol: the version the peer advertised, 0 for the
 * original framing (a receiver also tells it from the first message).
 * Finish with backup_session_run_finish(). */
void backup_session_transfer_async (BackupSession *self,
                                    BackupChannel *channel,
                                    guint peer_protocol,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);

/* backup-session-connect.c */
G_GNUC_INTERNAL void session_connect (SessionRun *run);

/* backup-session-sender.c */
G_GNUC_INTERNAL void sender_start (SessionRun *run);
G_GNUC_INTERNAL void sender_pump (SessionRun *run);
G_GNUC_INTERNAL void sender_on_control (SessionRun *run, BackupFrame *frame);

/* backup-session-receiver.c */
G_GNUC_INTERNAL void receiver_start (SessionRun *run);
G_GNUC_INTERNAL void receiver_on_message (SessionRun *run, GBytes *data, gboolean is_string);
/* The sender closed the data channel cleanly (it reset its stream). */
G_GNUC_INTERNAL void receiver_on_channel_closed (SessionRun *run);

/* backup-session.c: the "reconnecting" property. */
void session_set_reconnecting (SessionRun *run, gboolean reconnecting);

/* backup-session-restart.c: ICE restarts, with a peer that does them. */
void session_restart_setup (SessionRun *run);
void session_restart_release (SessionRun *run);
/* backup-session.c: returns the run's result, unless the store is still
 * being cleaned (it is called again then). */
void session_complete (SessionRun *run);

G_END_DECLS
