/* backup-device.h: this installation's device identity, the devices it is
 * paired with, and the invitation links that pair them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each installation has one long-lived certificate (ECDSA P-256) that it
 * presents over DTLS to the devices it is paired with; a paired device is
 * known by its name, the SHA-256 fingerprint of its certificate, where to
 * reach it (a signaling location) and the session id of the backups
 * between the two. Files, in $XDG_CONFIG_HOME/distributed-backup/device/
 * (mode 0700):
 *
 *   certificate.pem  the self-signed certificate, in PEM, mode 0644, when
 *                the private key is in the keyring (backup-secrets.h:
 *                BACKUP_SECRET_DEVICE_KEY, with the attributes "folder",
 *                this folder, and "fingerprint", the certificate's)
 *   key.pem      without a Secret Service: the private key (PKCS#8) and
 *                the certificate, in PEM, mode 0600. Also what versions
 *                before the keyring kept: moved into the keyring when one
 *                is there (stored, read back, certificate.pem written, then
 *                key.pem removed), keeping the fingerprint
 *   .key.lock    held while the identity is created or moved (mode 0600)
 *   paired.conf  the paired devices (a key file), mode 0600; each change
 *                is written to a temporary file, synced and renamed into
 *                place, under a lock (.paired.lock)
 *
 * Either file is written once: a temporary file, synced and linked into
 * place (the key first stored in the keyring), under .key.lock, so that
 * two first runs end with one identity.
 *
 * An invitation link is a URI:
 *
 *   distributed-backup:pair?v=1&signaling=LOCATION&secret=SECRET
 *     &fingerprint=HEX&name=NAME
 *
 * (one line; every value percent-encoded): the inviter's signaling
 * location, a fresh 128-bit secret (base64url, no padding), the SHA-256
 * fingerprint of the inviter's certificate (64 hexadecimal digits, or the
 * "AB:CD:…" form) and the inviter's device name. Both sides derive from the
 * secret the session id of the pairing and the session id of their
 * backups, and the joiner proves knowledge of it with
 * backup_device_compute_proof().
 */
#pragma once

#include <gio/gio.h>

#include "backup-retention.h"
#include "rtc-certificate.h"

G_BEGIN_DECLS

#define BACKUP_DEVICE_SECRET_LEN 16
#define BACKUP_DEVICE_PROOF_LEN 32
#define BACKUP_DEVICE_MAX_NAME 64
#define BACKUP_DEVICE_LINK_SCHEME "distributed-backup"

/* Days the device certificate is valid (about 30 years: it is pinned, not
 * checked against a clock). */
#define BACKUP_DEVICE_CERTIFICATE_DAYS (30 * 365)

/* --- names and folders --- */

/* A device name: 1 to 64 characters of valid UTF-8, no control character,
 * no "[" or "]", no leading or trailing space. Errors are
 * BACKUP_ERROR_INVALID_ARGUMENT. */
gboolean backup_device_check_name (const char *name, GError **error);

/* This machine's name: the PRETTY_HOSTNAME of /etc/machine-info, else the
 * host name, made a valid device name. */
char *backup_device_default_name (void);

/* $XDG_CONFIG_HOME/distributed-backup/device */
char *backup_device_get_default_folder (void);

/* --- the device identity --- */

/* Loads the certificate kept in @folder (NULL: the default), creating it
 * first (with the folder, mode 0700) when @create and there is none: its
 * key in the keyring when a Secret Service can be reached (else key.pem).
 * Refuses a key file that other users may read or write
 * (BACKUP_ERROR_PERMISSION), a broken one, and an identity partly lost (a
 * certificate.pem whose key the keyring does not hold, or a key in the
 * keyring for this folder without certificate.pem: BACKUP_ERROR_CORRUPT,
 * saying how to start again); a certificate.pem whose keyring cannot be
 * reached is BACKUP_ERROR_IO, a locked one BACKUP_ERROR_PERMISSION.
 * Without @create, absence is BACKUP_ERROR_NOT_FOUND. Blocking: key
 * generation, file I/O and libsecret's _sync calls. */
RtcCertificate *backup_device_load_certificate (const char *folder,
                                                gboolean create,
                                                GError **error);

/* This device's certificate fingerprint ("AB:CD:…"), read from @folder
 * (NULL: the default) without its key: certificate.pem, else key.pem.
 * Nothing is created; without an identity, BACKUP_ERROR_NOT_FOUND. */
char *backup_device_read_fingerprint (const char *folder, GError **error);

/* --- paired devices --- */

/* The file of the paired devices, in the devices folder. */
#define BACKUP_DEVICE_PAIRED_FILE_NAME "paired.conf"

/* Whether an event of a GFileMonitor on that file means that what it
 * holds may have changed (written, replaced, removed). */
gboolean backup_device_file_event_changes_contents (GFileMonitorEvent event);

typedef struct
{
  char *name;
  char *fingerprint; /* "AB:CD:…", upper case */
  char *signaling;   /* a location as backup_signaling_resolve() takes it */
  char *session_id;  /* of the backups between the two devices */
  gint64 paired;     /* unix time of the pairing, 0 when unknown */
  /* How the versions received from this device are kept: @versions is
   * -v (0: no policy of its own, the receiver's applies) and @retention
   * the rules of backup-retention.h, checked with backup_retention_check()
   * against @versions. */
  guint versions;
  BackupRetention retention;
} BackupDevice;

BackupDevice *backup_device_new (const char *name,
                                 const char *fingerprint,
                                 const char *signaling,
                                 const char *session_id);
BackupDevice *backup_device_copy (const BackupDevice *device);
void backup_device_free (BackupDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupDevice, backup_device_free)

/* The paired devices of @folder (NULL: the default), in the order of the
 * file; an absent file is no device. Errors: BACKUP_ERROR_CORRUPT for a file
 * that is not one, BACKUP_ERROR_PERMISSION for one that other users may
 * read or write. */
GPtrArray *backup_device_list (const char *folder, GError **error);

/* The device named @name, or NULL with BACKUP_ERROR_NOT_FOUND. */
BackupDevice *backup_device_find (const char *folder, const char *name, GError **error);

/* Stores @device: it replaces the device with the same fingerprint; a name
 * taken by another device gets " 2", " 3"… Returns the name stored. */
char *backup_device_add (const char *folder, const BackupDevice *device, GError **error);

/* Sets how the versions received from the device named @name are kept
 * (@versions 0: the device has no policy of its own; @retention may then be
 * NULL). Refuses a policy backup_retention_check() refuses
 * (BACKUP_ERROR_INVALID_ARGUMENT) and an unknown device
 * (BACKUP_ERROR_NOT_FOUND). Pairing again with the device keeps it. */
gboolean backup_device_set_policy (const char *folder,
                                   const char *name,
                                   guint versions,
                                   const BackupRetention *retention,
                                   GError **error);

/* Removes the device named @name (BACKUP_ERROR_NOT_FOUND if there is none). */
gboolean backup_device_remove (const char *folder, const char *name, GError **error);

/* --- invitation links --- */

typedef struct
{
  char *signaling;
  guint8 secret[BACKUP_DEVICE_SECRET_LEN];
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  char *name;
} BackupDeviceLink;

/* A link with a fresh secret. */
BackupDeviceLink *backup_device_link_new (const char *signaling,
                                          RtcCertificate *certificate,
                                          const char *name);
void backup_device_link_free (BackupDeviceLink *link); /* wipes the secret */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupDeviceLink, backup_device_link_free)

char *backup_device_link_format (const BackupDeviceLink *link);
/* Errors are BACKUP_ERROR_INVALID_ARGUMENT, naming what is wrong and never
 * repeating the secret. */
BackupDeviceLink *backup_device_link_parse (const char *text, GError **error);

/* "AB:CD:…" of the link's fingerprint. */
char *backup_device_link_get_fingerprint (const BackupDeviceLink *link);

/* The session id of the pairing ("pair-" and 32 hexadecimal digits) and of
 * the backups between the two devices ("device-" and 32), each an
 * HMAC-SHA256 of a label under the secret: one cannot be told from the
 * other, nor the secret from either. */
char *backup_device_link_get_pairing_session (const BackupDeviceLink *link);
char *backup_device_link_get_backup_session (const BackupDeviceLink *link);

/* The joiner's proof: HMAC-SHA256 under the secret of a label, both
 * fingerprints (32 bytes each, inviter first) and both names (each
 * preceded by its length in 4 bytes, big-endian). */
void backup_device_compute_proof (const guint8 secret[BACKUP_DEVICE_SECRET_LEN],
                                  const guint8 inviter_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                  const guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                  const char *inviter_name,
                                  const char *joiner_name,
                                  guint8 proof[BACKUP_DEVICE_PROOF_LEN]);
/* Compares in constant time. */
gboolean backup_device_check_proof (const guint8 secret[BACKUP_DEVICE_SECRET_LEN],
                                    const guint8 inviter_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                    const guint8 joiner_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                    const char *inviter_name,
                                    const char *joiner_name,
                                    const guint8 proof[BACKUP_DEVICE_PROOF_LEN]);

/* TRUE when the @len bytes of @a and @b are equal, in a time that does not
 * depend on where they differ. */
gboolean backup_device_equal_secure (const guint8 *a, const guint8 *b, gsize len);

G_END_DECLS
