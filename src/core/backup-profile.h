/* backup-profile.h: everything one backup run needs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A profile says who the peer is (session id, signaling, ICE servers and
 * addresses), what to send or where to keep what arrives, and for how long
 * to wait. Every front end builds one (the command line from its options,
 * the desktop application from its pages and GSettings) and hands it to a
 * BackupRunner; none assembles stores, configurations or loops of its own.
 *
 * Secrets (the API key, the zip passwords) are held here only, wiped when
 * replaced or freed, and never exposed as properties.
 */
#pragma once

#include <gio/gio.h>

#include "backup-archiver.h"
#include "backup-device.h"
#include "backup-retention.h"
#include "backup-session.h"
#include "backup-signaling-store.h"
#include "rtc-configuration.h"

G_BEGIN_DECLS

typedef enum
{
  BACKUP_PROFILE_ROLE_SEND,
  BACKUP_PROFILE_ROLE_RECEIVE,
} BackupProfileRole;

#define BACKUP_TYPE_PROFILE (backup_profile_get_type ())

G_DECLARE_FINAL_TYPE (BackupProfile, backup_profile, BACKUP, PROFILE, GObject)

BackupProfile *backup_profile_new (BackupProfileRole role);

BackupProfileRole backup_profile_get_role (BackupProfile *self);

/* The peers' shared session id. */
const char *backup_profile_get_session_id (BackupProfile *self);
void backup_profile_set_session_id (BackupProfile *self, const char *session_id);

/* Signaling: a location as backup_signaling_resolve() takes it (NULL: the
 * default), the FILE.io API key (a secret) and the only trust for an
 * https:// server (NULL: the system's). */
const char *backup_profile_get_signaling (BackupProfile *self);
void backup_profile_set_signaling (BackupProfile *self, const char *location);
void backup_profile_set_api_key (BackupProfile *self, const char *api_key);
void backup_profile_set_signaling_trust (BackupProfile *self, GTlsDatabase *database);

/* ICE: STUN and TURN servers, local addresses and relay-only, as
 * RtcConfiguration takes them. The connection deadline is the timeout. */
void backup_profile_set_stun_servers (BackupProfile *self, const char *const *servers);
void backup_profile_set_turn_servers (BackupProfile *self, const char *const *servers);
void backup_profile_set_ice_addresses (BackupProfile *self, const char *const *addresses);
void backup_profile_set_relay_only (BackupProfile *self, gboolean relay_only);

/* A paired device (backup-device.h): its name (for messages and profile
 * files), the fingerprint its certificate must have (the peer is refused
 * otherwise), and this device's certificate for DTLS. Without them (the
 * original tool's mode) each run has a fresh certificate and any peer of
 * the session id is accepted. */
const char *backup_profile_get_device_name (BackupProfile *self);
void backup_profile_set_device_name (BackupProfile *self, const char *name);
const char *backup_profile_get_peer_fingerprint (BackupProfile *self);
void backup_profile_set_peer_fingerprint (BackupProfile *self, const char *fingerprint);
RtcCertificate *backup_profile_get_certificate (BackupProfile *self);
void backup_profile_set_certificate (BackupProfile *self, RtcCertificate *certificate);
/* All of the above and the device's session id and signaling location. */
void backup_profile_set_device (BackupProfile *self,
                                const BackupDevice *device,
                                RtcCertificate *certificate);
/* backup_profile_set_device() with the device named @name of @folder and
 * this device's certificate (NULL: the default folder). Blocking (small
 * files). Errors are those of backup_device_find() and
 * backup_device_load_certificate(). */
gboolean backup_profile_load_device (BackupProfile *self,
                                     const char *name,
                                     const char *folder,
                                     GError **error);

/* How long to wait for the peer, in seconds, and then for the connection;
 * 0: wait for the peer without limit (the connection still has the
 * default). */
guint backup_profile_get_timeout (BackupProfile *self);
void backup_profile_set_timeout (BackupProfile *self, guint seconds);

/* Sender: a file, or with an archive name a folder sent double-zipped with
 * the two passwords (empty: that level is not encrypted). */
GFile *backup_profile_get_source (BackupProfile *self);
void backup_profile_set_source (BackupProfile *self, GFile *source);
const char *backup_profile_get_archive_name (BackupProfile *self);
void backup_profile_set_archive_name (BackupProfile *self, const char *name);
void backup_profile_set_passwords (BackupProfile *self,
                                   const char *password1,
                                   const char *password2);
void backup_profile_set_zip_encryption (BackupProfile *self, BackupZipEncryption encryption);

/* Receiver: the destination folder, the versions kept of each name, and
 * whether to receive one backup after another until cancelled. */
GFile *backup_profile_get_destination (BackupProfile *self);
void backup_profile_set_destination (BackupProfile *self, GFile *destination);
/* Receiver: a storage to receive into instead of the destination folder
 * (a bucket, say); it keeps the versions it was made with, and gets the
 * profile's retention policy. */
BackupStorage *backup_profile_get_storage (BackupProfile *self);
void backup_profile_set_storage (BackupProfile *self, BackupStorage *storage);
guint backup_profile_get_versions (BackupProfile *self);
void backup_profile_set_versions (BackupProfile *self, guint versions);
gboolean backup_profile_get_keep_listening (BackupProfile *self);
void backup_profile_set_keep_listening (BackupProfile *self, gboolean keep_listening);

/* Receiver: the retention policy applied after each backup (see
 * backup-retention.h); NULL or no rule: none, versions alone.  With a
 * policy, the versions are its upper bound (BACKUP_STORE_MAX_VERSIONS for
 * none); validation refuses a rule above them. get_retention copies the
 * policy and says whether one is set. */
void backup_profile_set_retention (BackupProfile *self, const BackupRetention *retention);
gboolean backup_profile_get_retention (BackupProfile *self, BackupRetention *retention);

/* Receiver: the most the versions in the destination may take, with the
 * one being received (0: no limit); see backup_session_set_quota(). */
guint64 backup_profile_get_quota (BackupProfile *self);
void backup_profile_set_quota (BackupProfile *self, guint64 bytes);

/* A new profile with every setting and secret of @self. */
BackupProfile *backup_profile_copy (BackupProfile *self);

/* Reads a size: a number of bytes, or a number (fractions allowed) with K,
 * M, G or T (powers of 1000, also KB…) or KiB, MiB, GiB or TiB (of 1024);
 * at least one byte. Errors: BACKUP_ERROR_INVALID_ARGUMENT. */
gboolean backup_parse_size (const char *text, guint64 *bytes, GError **error);

/* Checks what every front end must have checked before a run: a session id
 * that can be one, servers and addresses that parse, a signaling location
 * that names a store, a source or a destination, an archive name that can
 * be a received name. Errors are BACKUP_ERROR_INVALID_ARGUMENT. */
gboolean backup_profile_validate (BackupProfile *self, GError **error);

/* Checks what the file system says of the source (a regular file, or a
 * folder when sent as an archive) or the destination (a writable folder).
 * Same errors. */
gboolean backup_profile_check_files (BackupProfile *self, GError **error);

/* A profile as a group of a key file (a receiver's or a sender's config
 * file): role = send|receive, session-id, signaling, stun-servers,
 * turn-servers, ice-addresses, relay-only, timeout, then source,
 * archive-name and zip-encryption, or destination, versions,
 * keep-listening and the policy: keep-last, keep-hourly, keep-daily,
 * keep-weekly, keep-monthly (0 to 65535, 0 or absent: that rule is off; a
 * policy without "versions" has no other bound), and quota (a size as
 * backup_parse_size() reads it; written as bytes). With a paired device,
 * "device" names it instead of session-id and signaling (which it gives;
 * loading leaves it to the caller to backup_profile_load_device()). Secrets (the API key, the zip passwords) are never
 * written; loading fails with BACKUP_ERROR_INVALID_ARGUMENT on a missing
 * or bad value, and leaves what is not given at its default. */
void backup_profile_save (BackupProfile *self, GKeyFile *key_file, const char *group);
BackupProfile *backup_profile_load (GKeyFile *key_file, const char *group, GError **error);

/* What a run is made of (see BackupRunner). */
BackupSignalingStore *backup_profile_open_signaling (BackupProfile *self, GError **error);
RtcConfiguration *backup_profile_get_rtc_configuration (BackupProfile *self);
/* Receiver: the storage set, else a BackupStore of the destination folder
 * with the versions; with the retention policy applied.  A new reference. */
BackupStorage *backup_profile_create_storage (BackupProfile *self);
BackupSession *backup_profile_create_session (BackupProfile *self,
                                              BackupSignalingStore *signaling);

G_END_DECLS
