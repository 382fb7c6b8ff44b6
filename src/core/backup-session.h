/* backup-session.h: one backup, as sender or receiver
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A session pairs with its peer through a signaling store, connects a
 * WebRTC data channel, and then sends a file (or a double-zipped folder) or
 * receives one into a BackupStore. The command line and the desktop
 * application are thin front ends over it.
 *
 * Protocol: with a peer that advertises the extended protocol in signaling
 * (every peer of this program does) the transfer carries a header, the
 * content, an end message with the byte count and SHA-256, and the
 * receiver's acknowledgement once the file is stored; the sender reports
 * success only then. With the original tool the legacy framing is used in
 * both directions (see backup-frame.h).
 *
 * Home context: the thread-default context at creation; every signal is
 * emitted there.
 */
#pragma once

#include <gio/gio.h>

#include "backup-admission.h"
#include "backup-archiver.h"
#include "backup-signaling-store.h"
#include "backup-storage.h"
#include "backup-store.h"
#include "rtc-configuration.h"

G_BEGIN_DECLS

typedef enum
{
  BACKUP_SESSION_STATE_IDLE,
  BACKUP_SESSION_STATE_PAIRING,      /* looking for the peer in the signaling store */
  BACKUP_SESSION_STATE_CONNECTING,   /* ICE, DTLS, SCTP and the channel */
  BACKUP_SESSION_STATE_TRANSFERRING, /* data flows */
  BACKUP_SESSION_STATE_FINISHING,    /* storing / waiting for the acknowledgement */
  BACKUP_SESSION_STATE_DONE,
  BACKUP_SESSION_STATE_FAILED,
} BackupSessionState;


#define BACKUP_TYPE_SESSION (backup_session_get_type ())
G_DECLARE_FINAL_TYPE (BackupSession, backup_session, BACKUP, SESSION, GObject)

/* Sends @source: a regular file, or with @outer_name a directory zipped twice
 * (inner level with @password1, outer with @password2; empty = unencrypted). */
BackupSession *backup_session_new_sender (BackupSignalingStore *signaling,
                                          const char *session_id,
                                          const RtcConfiguration *rtc_config,
                                          GFile *source,
                                          const char *outer_name,
                                          const char *password1,
                                          const char *password2,
                                          BackupZipEncryption encryption);

/* Receives one file into @storage (a folder, a bucket…). */
BackupSession *backup_session_new_receiver_for_storage (BackupSignalingStore *signaling,
                                                        const char *session_id,
                                                        const RtcConfiguration *rtc_config,
                                                        BackupStorage *storage);
/* The same, into the folder of @store. */
BackupSession *backup_session_new_receiver (BackupSignalingStore *signaling,
                                            const char *session_id,
                                            const RtcConfiguration *rtc_config,
                                            BackupStore *store);

/* Seconds to wait for the peer to show up in signaling (0: no limit). */
void backup_session_set_timeout (BackupSession *self, guint seconds);

/* Receiver, between runs: a slot of @admission (shared with other
 * sessions; NULL: none) is taken when the sender's header arrives, before
 * anything is stored, and given back when the run ends. A sender of
 * protocol version 2 waits for it (the receiver's offer comes only then);
 * an older one that finds every slot taken is refused as busy. */
void backup_session_set_admission (BackupSession *self, BackupAdmission *admission);
/* Receiver, between runs: the most that the versions in the storage, with
 * the one being received, may take (0: no limit). A backup that would go
 * beyond it fails (BACKUP_ERROR_NO_SPACE), its sender told why, and every
 * version stays as it was. */
void backup_session_set_quota (BackupSession *self, guint64 bytes);

BackupSessionState backup_session_get_state (BackupSession *self);
/* Bytes of the source consumed (sender) or received (receiver). */
guint64 backup_session_get_bytes_done (BackupSession *self);
/* Total bytes when known, -1 otherwise. */
gint64 backup_session_get_total_bytes (BackupSession *self);
/* Bytes of the content that were not sent again, because the receiver
 * kept them from an interrupted transfer of the same backup. */
guint64 backup_session_get_resumed_bytes (BackupSession *self);
/* The connection went silent and a new path is being looked for (ICE
 * restart, with a peer of this program); FALSE again once data moves (a
 * run that ends meanwhile leaves it as it was, until the next run). Also
 * the "reconnecting" property. */
gboolean backup_session_get_reconnecting (BackupSession *self);
/* The device name the peer gave (a peer of this program, from protocol
 * version 2 on), or NULL; as the peer sent it: escape it to show it. */
const char *backup_session_get_peer_name (BackupSession *self);
/* The name of the file on the wire, once known. */
const char *backup_session_get_file_name (BackupSession *self);
/* TRUE when the peer speaks only the original tool's protocol. */
gboolean backup_session_get_peer_is_legacy (BackupSession *self);

void backup_session_run_async (BackupSession *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean backup_session_run_finish (BackupSession *self, GAsyncResult *result, GError **error);

G_END_DECLS
