/* backup-nearby.h: pairing and backups with a device of the local network,
 * with no server to set up and no account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two devices of one network reach each other through a signaling server
 * that one of them runs (BackupNearbyHost: distributed-backup-server's
 * protocol, on a port of its own) and announces with its device
 * (backup-discovery.h, "sig=1"); the other finds it by its certificate
 * fingerprint or its name (backup_nearby_find_async()).
 *
 *  - Pairing: the inviting device hosts and announces "pair=1"; the joining
 *    device connects to it, and both confirm a verification code
 *    (backup_device_pair_nearby_async() in backup-device-pairing.h).
 *  - Backups with a device paired so: its signaling location is
 *    BACKUP_NEARBY_LOCATION. The receiver hosts (for as long as it
 *    listens), the sender finds it by the fingerprint pinned at pairing.
 *
 * The server is open to the network, as a signaling server is: what goes
 * through it are descriptions of connections, under session ids derived
 * from a secret the two devices share (backup-device.h), and each device
 * accepts only the other's certificate. Its limits are small (a few
 * kilobytes per file, a few megabytes in all).
 */
#pragma once

#include <gio/gio.h>

#include "backup-discovery.h"
#include "backup-signaling-open.h"
#include "backup-signaling-store.h"
#include "rtc-certificate.h"

G_BEGIN_DECLS

/* The signaling location of a device paired on the local network. */
#define BACKUP_NEARBY_LOCATION BACKUP_SIGNALING_NEARBY

/* Whether @location is BACKUP_NEARBY_LOCATION (case does not matter). */
gboolean backup_nearby_is_location (const char *location);

/* The pairing session of the device whose certificate has @fingerprint,
 * when it invites on the local network: "nearby-" and 32 hexadecimal
 * digits (g_free). Anyone may compute it; the verification code is what
 * keeps a third device out. */
char *backup_nearby_get_pairing_session (const guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN]);

/* "http://ADDRESS:PORT/" of the signaling server @device announces
 * (brackets and "%25ZONE" for IPv6), or NULL when it announces none. */
char *backup_nearby_device_get_url (const BackupNearbyDevice *device);

/* --- hosting --- */

#define BACKUP_TYPE_NEARBY_HOST (backup_nearby_host_get_type ())
G_DECLARE_FINAL_TYPE (BackupNearbyHost, backup_nearby_host, BACKUP, NEARBY_HOST, GObject)

/* A host for the device of @certificate, announced as @name (NULL: the
 * default device name), its server listening on @listen_address (an IP
 * literal; NULL: every address of the machine, IPv6 and IPv4), announcing
 * "pair=1" when @pairing. Nothing happens before _start(). */
BackupNearbyHost *backup_nearby_host_new (RtcCertificate *certificate,
                                          const char *name,
                                          const char *listen_address,
                                          gboolean pairing);

/* Starts the server and the announcement, on the thread-default main
 * context. Fails when the server cannot listen, or when the Avahi daemon
 * is not there (BACKUP_ERROR_NOT_FOUND: nobody could find this device);
 * once started, a daemon that goes and comes back is followed. */
gboolean backup_nearby_host_start (BackupNearbyHost *self, GError **error);

/* A store on the host's own server, for this device's side of a pairing
 * or a backup (after _start()). */
BackupSignalingStore *backup_nearby_host_open_store (BackupNearbyHost *self, GError **error);

guint backup_nearby_host_get_port (BackupNearbyHost *self);

/* The name announced at present (see backup_discovery_get_announced_name()). */
const char *backup_nearby_host_get_announced_name (BackupNearbyHost *self);

/* --- finding --- */

/* Looks on the local network for a device that announces a signaling
 * server (and pairing, when @pairing), for up to @timeout seconds (0: until
 * found or cancelled).
 * @query is its whole certificate fingerprint ("AB:CD:…" or 64 hexadecimal
 * digits), the start of one (at least 8 hexadecimal digits, colons
 * allowed) or its name (ignoring case). @own_fingerprint: this device's,
 * never found. An IPv4 address is preferred when the device has both.
 * Errors: BACKUP_ERROR_NOT_FOUND (no Avahi daemon, or the device is there
 * but does not accept to pair), BACKUP_ERROR_TIMEOUT (not seen in time),
 * BACKUP_ERROR_INVALID_ARGUMENT (two devices answer to @query). */
void backup_nearby_find_async (const char *query,
                               gboolean pairing,
                               const guint8 own_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                               guint timeout,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
BackupNearbyDevice *backup_nearby_find_finish (GAsyncResult *result, GError **error);

G_END_DECLS
