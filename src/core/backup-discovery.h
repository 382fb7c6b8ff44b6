/* backup-discovery.h: devices of the local network, through DNS-SD (Avahi)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A BackupDiscovery announces this device on the local network and lists
 * the other devices of this program that announce themselves there, so that
 * two machines on the same network can find each other before they pair.
 * It speaks to the Avahi daemon (the system's mDNS responder) over D-Bus,
 * with avahi-client driven by the thread-default GMainContext.
 *
 * The announcement is a service of type _distributed-backup._tcp: its
 * instance name is the device name (cut to the 63 bytes a DNS label holds;
 * "Name #2"… when another machine has it already), and its TXT records are
 *
 *   v=1         the version of this announcement
 *   fp=HEX      the SHA-256 fingerprint of this device's certificate, 64
 *               lower-case hexadecimal digits
 *   name=NAME   the device name, whole
 *   sig=1       (optional) the port is a signaling server of this device
 *               (distributed-backup-server's protocol) that a paired
 *               device reaches it through (backup-nearby.h)
 *   pair=1      (optional) the device accepts to pair with a device of
 *               this network at present, through that server, with a
 *               verification code its user confirms
 *
 * Nothing secret is announced: anyone on the network may read it, and it
 * only says who is there. What proves a device is its certificate, whose
 * fingerprint the two users compare (or a verification code, see
 * backup_device_compute_code()) when they pair.
 *
 * The daemon may be missing, or stop and come back: the object then says
 * so (BackupDiscovery:available is FALSE and backup_discovery_get_error()
 * tells why) and takes up again when the daemon returns; it never fails
 * for that.
 */
#pragma once

#include <gio/gio.h>

#include "rtc-certificate.h"

G_BEGIN_DECLS

#define BACKUP_DISCOVERY_SERVICE_TYPE "_distributed-backup._tcp"
#define BACKUP_DISCOVERY_TXT_VERSION "1"
/* The port announced when the caller gives none (the "discard" port): the
 * announcement then only says the device is there. */
#define BACKUP_DISCOVERY_ANNOUNCE_ONLY_PORT 9
/* The length of a verification code (backup_device_compute_code()). */
#define BACKUP_DISCOVERY_CODE_DIGITS 6

/* Which addresses to browse and announce on. */
typedef enum
{
  BACKUP_DISCOVERY_PROTOCOL_ANY,
  BACKUP_DISCOVERY_PROTOCOL_IPV4,
  BACKUP_DISCOVERY_PROTOCOL_IPV6,
} BackupDiscoveryProtocol;

#define BACKUP_TYPE_DISCOVERY_PROTOCOL (backup_discovery_protocol_get_type ())
GType backup_discovery_protocol_get_type (void) G_GNUC_CONST;

/* --- a device seen on the network --- */

typedef struct
{
  char *name;        /* the device name of its TXT record (checked) */
  char *fingerprint; /* "AB:CD:…", upper case, as BackupDevice has it */
  guint8 fingerprint_bytes[RTC_CERTIFICATE_FINGERPRINT_LEN];
  char *instance;    /* the DNS-SD instance name */
  char *host_name;   /* "host.local" */
  char *address;     /* an IP literal; "%IFNAME" after an IPv6 link-local one */
  guint16 port;
  int interface;     /* the index of the interface it was seen on */
  BackupDiscoveryProtocol protocol; /* IPV4 or IPV6: of the record seen */
  gboolean signaling; /* sig=1: a signaling server listens on @port */
  gboolean pairing;   /* pair=1: it accepts to pair (with @signaling) */
} BackupNearbyDevice;

#define BACKUP_TYPE_NEARBY_DEVICE (backup_nearby_device_get_type ())
GType backup_nearby_device_get_type (void) G_GNUC_CONST;
BackupNearbyDevice *backup_nearby_device_copy (const BackupNearbyDevice *device);
void backup_nearby_device_free (BackupNearbyDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupNearbyDevice, backup_nearby_device_free)

/* "AB:CD:EF:01:23:45:67:89": the first 8 bytes of @device's fingerprint, to
 * show in a list. */
char *backup_nearby_device_get_short_fingerprint (const BackupNearbyDevice *device);

/* Checks the TXT records of an announcement (each "key=value"; the order
 * does not matter, unknown keys are ignored): v must be 1, fp 64
 * hexadecimal digits, name a valid device name (backup_device_check_name).
 * On success, fills @fingerprint and @name (g_free). Errors are
 * BACKUP_ERROR_PROTOCOL, naming what is wrong. */
gboolean backup_discovery_parse_txt (const char *const *records,
                                     guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                     char **name,
                                     GError **error);

/* --- the discovery --- */

#define BACKUP_TYPE_DISCOVERY (backup_discovery_get_type ())
G_DECLARE_FINAL_TYPE (BackupDiscovery, backup_discovery, BACKUP, DISCOVERY, GObject)

/* A discovery for the device whose certificate has @fingerprint, named
 * @name (NULL: backup_device_default_name()). Nothing happens before
 * backup_discovery_start(). Properties to set before it:
 *
 *   announce   announce this device (default TRUE)
 *   browse     look for other devices (default TRUE)
 *   port       the port announced, 0: BACKUP_DISCOVERY_ANNOUNCE_ONLY_PORT
 *   interface  the index of the one interface to use, -1 (default): all
 *   protocol   a BackupDiscoveryProtocol (default ANY)
 *   signaling  the port is a signaling server (sig=1; default FALSE)
 *   pairing    pairing is open (pair=1; default FALSE)
 *
 * Signals: "device-added" and "device-removed" (a BackupNearbyDevice),
 * for each record (device, interface, protocol) that appears or goes;
 * records of this device (its fingerprint) and malformed ones are never
 * added. */
BackupDiscovery *backup_discovery_new (const guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                       const char *name);

/* Connects to the Avahi daemon, on the thread-default main context. A
 * missing daemon is no failure: see backup_discovery_get_available(). */
void backup_discovery_start (BackupDiscovery *self);

/* Stops announcing and browsing; the devices seen are removed (with
 * "device-removed"). Also done when the object is finalized. */
void backup_discovery_stop (BackupDiscovery *self);

/* TRUE when the daemon is there and the discovery runs (BackupDiscovery:
 * available). */
gboolean backup_discovery_get_available (BackupDiscovery *self);

/* Why the discovery is not available (not started, no daemon, or what the
 * daemon said), or NULL when it is. Owned by @self, valid until it changes
 * (notify::available). */
const GError *backup_discovery_get_error (BackupDiscovery *self);

/* The name announced at present (an alternative after a collision), or
 * NULL when nothing is announced. */
const char *backup_discovery_get_announced_name (BackupDiscovery *self);

/* The devices seen at present: a new array of BackupNearbyDevice copies,
 * in the order they were seen. */
GPtrArray *backup_discovery_get_devices (BackupDiscovery *self);

/* --- verification code --- */

/* A 6-digit code ("012345", g_free) that two devices about to pair show
 * their users, who compare them (numeric comparison, as Bluetooth does).
 * Each device has a certificate fingerprint and a fresh random nonce it
 * has told the other; the code is the same whichever device is "a":
 * the two (fingerprint, nonce) pairs are ordered by fingerprint, then by
 * nonce. It is HMAC-SHA256, keyed with the label
 * "distributed-backup verification code v1", of
 *
 *   "distributed-backup verification code v1" NUL
 *   nonce_len (4 bytes, big-endian)
 *   first fingerprint, first nonce, second fingerprint, second nonce
 *
 * whose first 8 bytes (a big-endian number) are reduced modulo 10^6 (the
 * bias, below 10^-13, is of no consequence). @nonce_len may be 0 (then the
 * nonces may be NULL). */
char *backup_device_compute_code (const guint8 fp_a[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                  const guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN],
                                  const guint8 *nonce_a,
                                  const guint8 *nonce_b,
                                  gsize nonce_len);

G_END_DECLS
