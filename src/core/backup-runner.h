/* backup-runner.h: runs a profile, once or one backup after another
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one place where a run is put together, for every front end: it checks
 * the profile, opens the signaling store, clears the destination of partial
 * files that dead receivers left, and runs a BackupSession; a receiver that
 * keeps listening runs one session after another until cancelled. After a
 * session that failed before any data moved (the signaling store is down,
 * nobody connected), the next one waits a little longer each time (from 1 s
 * up to a minute), so a broken setup does not spin.
 *
 * Signals are emitted on the context run_async was called from.
 */
#pragma once

#include "backup-admission.h"
#include "backup-nearby.h"
#include "backup-profile.h"

G_BEGIN_DECLS

/* Partial files older than this are removed at start-up even if a receiver
 * still holds them; those whose receiver died go at once. */
#define BACKUP_RUNNER_STALE_PART_AGE (24 * G_TIME_SPAN_HOUR)

#define BACKUP_TYPE_RUNNER (backup_runner_get_type ())

G_DECLARE_FINAL_TYPE (BackupRunner, backup_runner, BACKUP, RUNNER, GObject)

BackupRunner *backup_runner_new (BackupProfile *profile);

BackupProfile *backup_runner_get_profile (BackupRunner *self);
/* The session under way, or NULL between two. */
BackupSession *backup_runner_get_session (BackupRunner *self);

/* A receiver's sessions take their transfers' slots from @admission
 * (shared by the runners of one BackupReceiverPool; NULL: no limit). */
void backup_runner_set_admission (BackupRunner *self, BackupAdmission *admission);
/* A receiver with a device of the local network uses @host, started by
 * the caller and shared, instead of a signaling server of its own. */
void backup_runner_set_nearby_host (BackupRunner *self, BackupNearbyHost *host);

/* Ends with the result of the last session; a receiver that keeps
 * listening ends only when @cancellable is cancelled (G_IO_ERROR_CANCELLED),
 * or when its setup cannot work (the profile is invalid, the signaling
 * store or the destination cannot be used). */
void backup_runner_run_async (BackupRunner *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean backup_runner_run_finish (BackupRunner *self,
                                   GAsyncResult *result,
                                   GError **error);

G_END_DECLS
