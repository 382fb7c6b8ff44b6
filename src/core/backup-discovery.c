/* backup-discovery.c: devices of the local network, through DNS-SD (Avahi)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why Avahi: it is the mDNS responder of the Linux desktop, already running
 * where this program runs; answering mDNS ourselves would mean a second
 * responder on port 5353 beside it. avahi-client talks to the daemon over
 * the system bus, and the avahi-glib poll adapter runs it on our main
 * context, so every callback below comes from that context.
 *
 * The client is created with AVAHI_CLIENT_NO_FAIL: without a daemon it
 * waits in AVAHI_CLIENT_CONNECTING instead of failing. When the daemon goes
 * away, the client fails (AVAHI_ERR_DISCONNECTED) and every object made
 * from it is dead: they are freed and a new client waits for the daemon's
 * return, when the service is announced again and browsing starts afresh.
 * A host name collision (AVAHI_CLIENT_S_COLLISION, S_REGISTERING) withdraws
 * the announcement until the daemon runs again; a service name collision
 * announces the next alternative name ("Name #2").
 *
 * Browsing: each service that appears is resolved once (name, host,
 * address, port, TXT); the resolver is freed when it answers. What the
 * records say is checked (backup_discovery_parse_txt()) and a record of
 * this device's own fingerprint is dropped, so the list holds only other
 * devices of this program, each as many times as it is seen (interface,
 * protocol).
 *
 * The verification code (backup_device_compute_code()) lives here rather
 * than in backup-device.c: it belongs to pairing on the same network.
 */
#include "config.h"

#include <net/if.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>
#include <glib/gi18n.h>

#include "backup-device.h"
#include "backup-discovery.h"
#include "backup-error.h"

/* A DNS label, which the instance name is, holds 63 bytes; a TXT string 255. */
#define MAX_INSTANCE_BYTES 63
#define MAX_TXT_BYTES 255
/* After a failure other than the daemon going away, wait before trying
 * again. */
#define RETRY_S 5

#define CODE_LABEL "distributed-backup verification code v1"

/* --- BackupNearbyDevice --- */

BackupNearbyDevice *
backup_nearby_device_copy (const BackupNearbyDevice *device)
{
  BackupNearbyDevice *copy;

  g_return_val_if_fail (device != NULL, NULL);

  copy = g_new0 (BackupNearbyDevice, 1);
  *copy = *device;
  copy->name = g_strdup (device->name);
  copy->fingerprint = g_strdup (device->fingerprint);
  copy->instance = g_strdup (device->instance);
  copy->host_name = g_strdup (device->host_name);
  copy->address = g_strdup (device->address);
  return copy;
}

void
backup_nearby_device_free (BackupNearbyDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->name);
  g_free (device->fingerprint);
  g_free (device->instance);
  g_free (device->host_name);
  g_free (device->address);
  g_free (device);
}

G_DEFINE_BOXED_TYPE (BackupNearbyDevice, backup_nearby_device, backup_nearby_device_copy,
                     backup_nearby_device_free)

static char *
format_fingerprint (const guint8 *bytes, gsize len, const char *separator)
{
  GString *text = g_string_sized_new (len * 3);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (text, "%s%02X", i > 0 ? separator : "", bytes[i]);
  return g_string_free (text, FALSE);
}

char *
backup_nearby_device_get_short_fingerprint (const BackupNearbyDevice *device)
{
  g_return_val_if_fail (device != NULL, NULL);

  return format_fingerprint (device->fingerprint_bytes, 8, ":");
}

/* --- TXT records --- */

static gboolean
txt_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
txt_error (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL, message);
  return FALSE;
}

gboolean
backup_discovery_parse_txt (const char *const *records,
                            guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                            char **name,
                            GError **error)
{
  const char *version = NULL;
  const char *hex = NULL;
  const char *device_name = NULL;
  g_autoptr (GError) cause = NULL;

  g_return_val_if_fail (records != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; records[i] != NULL; i++)
    {
      const char *record = records[i];
      const char **field = NULL;

      if (g_str_has_prefix (record, "v="))
        field = &version;
      else if (g_str_has_prefix (record, "fp="))
        field = &hex;
      else if (g_str_has_prefix (record, "name="))
        field = &device_name;
      else
        continue;
      /* The same key twice is ambiguous. */
      if (*field != NULL)
        return txt_error (error, "the TXT record “%.*s” appears twice",
                          (int) (strchr (record, '=') - record), record);
      *field = strchr (record, '=') + 1;
    }

  if (version == NULL)
    return txt_error (error, "the TXT record “v” is missing");
  if (strcmp (version, BACKUP_DISCOVERY_TXT_VERSION) != 0)
    return txt_error (error, "unknown announcement version “%s”", version);
  if (hex == NULL)
    return txt_error (error, "the TXT record “fp” is missing");
  if (strlen (hex) != 2 * RTC_CERTIFICATE_FINGERPRINT_LEN)
    return txt_error (error, "the fingerprint is not 64 hexadecimal digits");
  for (gsize i = 0; i < RTC_CERTIFICATE_FINGERPRINT_LEN; i++)
    {
      int high = g_ascii_xdigit_value (hex[2 * i]);
      int low = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (high < 0 || low < 0)
        return txt_error (error, "the fingerprint is not 64 hexadecimal digits");
      fingerprint[i] = (guint8) (high << 4 | low);
    }
  if (device_name == NULL)
    return txt_error (error, "the TXT record “name” is missing");
  if (!backup_device_check_name (device_name, &cause))
    return txt_error (error, "invalid device name: %s", cause->message);
  if (name != NULL)
    *name = g_strdup (device_name);
  return TRUE;
}

/* The strings of @list; NULL when one holds a NUL byte (no valid record
 * does). */
static GStrv
txt_to_strv (AvahiStringList *list)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (AvahiStringList *item = list; item != NULL; item = avahi_string_list_get_next (item))
    {
      const char *text = (const char *) avahi_string_list_get_text (item);
      gsize size = avahi_string_list_get_size (item);
      g_autofree char *copy = NULL;

      if (memchr (text, '\0', size) != NULL)
        return NULL;
      copy = g_strndup (text, size);
      g_strv_builder_add (builder, copy);
    }
  return g_strv_builder_end (builder);
}

/* The longest start of @text of at most @max bytes that ends between two
 * characters, without trailing spaces. */
static char *
cut_utf8 (const char *text, gsize max)
{
  const char *end = text + strlen (text);

  while ((gsize) (end - text) > max)
    end = g_utf8_find_prev_char (text, end);
  while (end > text && end[-1] == ' ')
    end--;
  return g_strndup (text, end - text);
}

/* --- the discovery --- */

G_DEFINE_ENUM_TYPE (BackupDiscoveryProtocol, backup_discovery_protocol,
                    G_DEFINE_ENUM_VALUE (BACKUP_DISCOVERY_PROTOCOL_ANY, "any"),
                    G_DEFINE_ENUM_VALUE (BACKUP_DISCOVERY_PROTOCOL_IPV4, "ipv4"),
                    G_DEFINE_ENUM_VALUE (BACKUP_DISCOVERY_PROTOCOL_IPV6, "ipv6"))

/* A service being resolved. */
typedef struct
{
  BackupDiscovery *self;
  char *key;
  AvahiServiceResolver *resolver;
} Pending;

/* A device in the list, under the key of the service it was seen as. */
typedef struct
{
  char *key;
  BackupNearbyDevice *device;
} Record;

struct _BackupDiscovery
{
  GObject parent_instance;

  /* Settings. */
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];
  char *name;
  gboolean announce;
  gboolean browse;
  guint port;
  gboolean signaling;
  gboolean pairing;
  int interface;
  BackupDiscoveryProtocol protocol;

  /* The connection to the daemon. */
  gboolean started;
  GMainContext *context; /* the thread-default context of the start */
  AvahiGLibPoll *poll;
  AvahiClient *client;
  AvahiEntryGroup *group;
  AvahiServiceBrowser *browser;
  GHashTable *pending; /* key → Pending */
  GPtrArray *records;  /* Record, in the order seen */
  GSource *retry_source;

  char *instance;  /* the instance name to announce (an alternative after a collision) */
  char *announced; /* the instance name announced, once established */
  gboolean available;
  GError *error;
};

G_DEFINE_FINAL_TYPE (BackupDiscovery, backup_discovery, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_ANNOUNCE,
  PROP_BROWSE,
  PROP_PORT,
  PROP_INTERFACE,
  PROP_PROTOCOL,
  PROP_SIGNALING,
  PROP_PAIRING,
  PROP_AVAILABLE,
  PROP_ANNOUNCED_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  DEVICE_ADDED,
  DEVICE_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void connect_client (BackupDiscovery *self);

static AvahiProtocol
avahi_protocol (BackupDiscoveryProtocol protocol)
{
  switch (protocol)
    {
    case BACKUP_DISCOVERY_PROTOCOL_IPV4:
      return AVAHI_PROTO_INET;
    case BACKUP_DISCOVERY_PROTOCOL_IPV6:
      return AVAHI_PROTO_INET6;
    case BACKUP_DISCOVERY_PROTOCOL_ANY:
    default:
      return AVAHI_PROTO_UNSPEC;
    }
}

static AvahiIfIndex
avahi_interface (BackupDiscovery *self)
{
  return self->interface >= 0 ? self->interface : AVAHI_IF_UNSPEC;
}

static void
pending_free (Pending *pending)
{
  if (pending->resolver != NULL)
    avahi_service_resolver_free (pending->resolver);
  g_free (pending->key);
  g_free (pending);
}

static void
record_free (Record *record)
{
  g_free (record->key);
  backup_nearby_device_free (record->device);
  g_free (record);
}

/* Sets whether the discovery runs and, when it does not, why. */
static void
set_available (BackupDiscovery *self, gboolean available, GError *error)
{
  gboolean changed = self->available != available;

  g_clear_error (&self->error);
  self->error = available ? NULL : error;
  if (available && error != NULL)
    g_error_free (error);
  self->available = available;
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
}

static void
set_unavailable_literal (BackupDiscovery *self, int code, const char *message)
{
  set_available (self, FALSE, g_error_new_literal (BACKUP_ERROR, code, message));
}

static void
set_announced (BackupDiscovery *self, const char *name)
{
  if (g_strcmp0 (self->announced, name) == 0)
    return;
  g_free (self->announced);
  self->announced = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANNOUNCED_NAME]);
}

static void
remove_record_at (BackupDiscovery *self, guint index, gboolean emit)
{
  Record *record = g_ptr_array_steal_index (self->records, index);

  if (emit)
    g_signal_emit (self, signals[DEVICE_REMOVED], 0, record->device);
  record_free (record);
}

static gint
find_record (BackupDiscovery *self, const char *key)
{
  for (guint i = 0; i < self->records->len; i++)
    if (strcmp (((Record *) g_ptr_array_index (self->records, i))->key, key) == 0)
      return (gint) i;
  return -1;
}

/* Every device goes (the daemon went, or the discovery stops). */
static void
clear_records (BackupDiscovery *self, gboolean emit)
{
  while (self->records->len > 0)
    remove_record_at (self, self->records->len - 1, emit);
}

/* Frees everything made from the client, then the client. */
static void
drop_client (BackupDiscovery *self, gboolean emit)
{
  g_hash_table_remove_all (self->pending);
  g_clear_pointer (&self->browser, avahi_service_browser_free);
  g_clear_pointer (&self->group, avahi_entry_group_free);
  g_clear_pointer (&self->client, avahi_client_free);
  set_announced (self, NULL);
  clear_records (self, emit);
}

/* --- announcing --- */

static void announce (BackupDiscovery *self, AvahiClient *client);

static void
entry_group_cb (AvahiEntryGroup *group, AvahiEntryGroupState state, void *user_data)
{
  BackupDiscovery *self = user_data;

  switch (state)
    {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      set_announced (self, self->instance);
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      {
        /* Another machine has this name: take the next one. */
        char *alternative = avahi_alternative_service_name (self->instance);

        g_debug ("The name “%s” is taken on the network; announcing “%s”", self->instance,
                 alternative);
        g_free (self->instance);
        self->instance = g_strdup (alternative);
        avahi_free (alternative);
        set_announced (self, NULL);
        announce (self, avahi_entry_group_get_client (group));
        break;
      }
    case AVAHI_ENTRY_GROUP_FAILURE:
      g_debug ("The announcement failed: %s",
               avahi_strerror (avahi_client_errno (avahi_entry_group_get_client (group))));
      set_announced (self, NULL);
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    default:
      break;
    }
}

/* Adds the service to the entry group (made first) and commits it. */
static void
announce (BackupDiscovery *self, AvahiClient *client)
{
  g_autofree char *hex = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *txt_name = NULL;
  g_autofree char *name_record = NULL;
  g_autofree char *fp_record = NULL;
  AvahiStringList *txt;
  int status;

  if (!self->announce)
    return;
  if (self->group == NULL)
    {
      self->group = avahi_entry_group_new (client, entry_group_cb, self);
      if (self->group == NULL)
        {
          g_debug ("Cannot announce: %s", avahi_strerror (avahi_client_errno (client)));
          return;
        }
    }
  else
    avahi_entry_group_reset (self->group);

  hex = format_fingerprint (self->fingerprint, sizeof self->fingerprint, "");
  fp = g_ascii_strdown (hex, -1);
  txt_name = cut_utf8 (self->name, MAX_TXT_BYTES - strlen ("name="));
  name_record = g_strconcat ("name=", txt_name, NULL);
  fp_record = g_strconcat ("fp=", fp, NULL);
  /* Copied into the list. */
  txt = avahi_string_list_new ("v=" BACKUP_DISCOVERY_TXT_VERSION, fp_record, name_record, NULL);
  if (self->signaling && self->port != 0)
    txt = avahi_string_list_add (txt, "sig=1");
  if (self->pairing && self->signaling && self->port != 0)
    txt = avahi_string_list_add (txt, "pair=1");
  status = avahi_entry_group_add_service_strlst (
      self->group, avahi_interface (self), avahi_protocol (self->protocol), 0, self->instance,
      BACKUP_DISCOVERY_SERVICE_TYPE, NULL, NULL,
      self->port != 0 ? self->port : BACKUP_DISCOVERY_ANNOUNCE_ONLY_PORT, txt);
  avahi_string_list_free (txt);
  if (status == AVAHI_ERR_COLLISION)
    {
      entry_group_cb (self->group, AVAHI_ENTRY_GROUP_COLLISION, self);
      return;
    }
  if (status < 0 || (status = avahi_entry_group_commit (self->group)) < 0)
    g_debug ("Cannot announce “%s”: %s", self->instance, avahi_strerror (status));
}

/* --- browsing --- */

static void
add_device (BackupDiscovery *self, const char *key, BackupNearbyDevice *device)
{
  Record *record;
  gint index = find_record (self, key);

  if (index >= 0)
    {
      Record *old = g_ptr_array_index (self->records, index);

      /* The same record seen again, unchanged: nothing to say. */
      if (g_strcmp0 (old->device->name, device->name) == 0
          && g_strcmp0 (old->device->fingerprint, device->fingerprint) == 0
          && g_strcmp0 (old->device->host_name, device->host_name) == 0
          && g_strcmp0 (old->device->address, device->address) == 0
          && old->device->port == device->port && old->device->signaling == device->signaling
          && old->device->pairing == device->pairing)
        {
          backup_nearby_device_free (device);
          return;
        }
      remove_record_at (self, index, TRUE);
    }
  record = g_new0 (Record, 1);
  record->key = g_strdup (key);
  record->device = device;
  g_ptr_array_add (self->records, record);
  g_signal_emit (self, signals[DEVICE_ADDED], 0, device);
}

static char *
address_to_string (const AvahiAddress *address, AvahiIfIndex interface)
{
  char text[AVAHI_ADDRESS_STR_MAX];
  char ifname[IF_NAMESIZE];

  avahi_address_snprint (text, sizeof text, address);
  /* fe80::/10 needs its interface to mean anything. */
  if (address->proto == AVAHI_PROTO_INET6 && address->data.ipv6.address[0] == 0xfe
      && (address->data.ipv6.address[1] & 0xc0) == 0x80 && interface >= 0
      && if_indextoname ((unsigned) interface, ifname) != NULL)
    return g_strdup_printf ("%s%%%s", text, ifname);
  return g_strdup (text);
}

/* Whether @records hold @record ("key=1") exactly. */
static gboolean
txt_flag (const char *const *records, const char *record)
{
  return g_strv_contains (records, record);
}

static void
resolver_cb (AvahiServiceResolver *resolver,
             AvahiIfIndex interface,
             AvahiProtocol protocol,
             AvahiResolverEvent event,
             const char *name,
             const char *type,
             const char *domain,
             const char *host_name,
             const AvahiAddress *address,
             uint16_t port,
             AvahiStringList *txt,
             AvahiLookupResultFlags flags,
             void *user_data)
{
  Pending *pending = user_data;
  BackupDiscovery *self = pending->self;
  g_autofree char *key = g_strdup (pending->key);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) records = NULL;
  g_autoptr (BackupNearbyDevice) device = NULL;

  if (event != AVAHI_RESOLVER_FOUND)
    {
      g_debug ("Cannot resolve “%s”: %s", name,
               avahi_strerror (avahi_client_errno (avahi_service_resolver_get_client (resolver))));
      g_hash_table_remove (self->pending, key);
      return;
    }

  device = g_new0 (BackupNearbyDevice, 1);
  records = txt_to_strv (txt);
  if (records == NULL)
    g_set_error_literal (&error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL,
                         "a TXT record holds a NUL byte");
  if (records == NULL
      || !backup_discovery_parse_txt ((const char *const *) records, device->fingerprint_bytes,
                                      &device->name, &error))
    g_debug ("Ignoring the announcement “%s”: %s", name, error->message);
  else if (memcmp (device->fingerprint_bytes, self->fingerprint, sizeof self->fingerprint) == 0)
    g_debug ("Ignoring this device’s own announcement “%s”", name);
  else
    {
      device->fingerprint = format_fingerprint (device->fingerprint_bytes,
                                                RTC_CERTIFICATE_FINGERPRINT_LEN, ":");
      device->instance = g_strdup (name);
      device->host_name = g_strdup (host_name);
      device->address = address_to_string (address, interface);
      device->port = port;
      device->interface = interface;
      device->protocol = protocol == AVAHI_PROTO_INET6 ? BACKUP_DISCOVERY_PROTOCOL_IPV6
                                                       : BACKUP_DISCOVERY_PROTOCOL_IPV4;
      device->signaling = txt_flag ((const char *const *) records, "sig=1")
                          && port != BACKUP_DISCOVERY_ANNOUNCE_ONLY_PORT;
      device->pairing = device->signaling && txt_flag ((const char *const *) records, "pair=1");
    }
  /* Resolved once: the resolver goes (pending and @resolver with it)
   * before anything is said, so that a handler may stop the discovery. */
  g_hash_table_remove (self->pending, key);
  if (device->fingerprint != NULL)
    add_device (self, key, g_steal_pointer (&device));
}

static void
browser_cb (AvahiServiceBrowser *browser,
            AvahiIfIndex interface,
            AvahiProtocol protocol,
            AvahiBrowserEvent event,
            const char *name,
            const char *type,
            const char *domain,
            AvahiLookupResultFlags flags,
            void *user_data)
{
  BackupDiscovery *self = user_data;
  g_autofree char *key = NULL;
  AvahiClient *client = avahi_service_browser_get_client (browser);

  switch (event)
    {
    case AVAHI_BROWSER_NEW:
      {
        Pending *pending;

        key = g_strdup_printf ("%d %d %s %s", interface, protocol, domain, name);
        if (g_hash_table_contains (self->pending, key))
          break;
        pending = g_new0 (Pending, 1);
        pending->self = self;
        pending->key = g_strdup (key);
        pending->resolver = avahi_service_resolver_new (client, interface, protocol, name, type,
                                                        domain, protocol, 0, resolver_cb,
                                                        pending);
        if (pending->resolver == NULL)
          {
            g_debug ("Cannot resolve “%s”: %s", name, avahi_strerror (avahi_client_errno (client)));
            pending_free (pending);
            break;
          }
        g_hash_table_insert (self->pending, pending->key, pending);
        break;
      }
    case AVAHI_BROWSER_REMOVE:
      {
        gint index;

        key = g_strdup_printf ("%d %d %s %s", interface, protocol, domain, name);
        g_hash_table_remove (self->pending, key);
        index = find_record (self, key);
        if (index >= 0)
          remove_record_at (self, index, TRUE);
        break;
      }
    case AVAHI_BROWSER_FAILURE:
      g_debug ("Browsing failed: %s", avahi_strerror (avahi_client_errno (client)));
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    default:
      break;
    }
}

static void
start_browsing (BackupDiscovery *self, AvahiClient *client)
{
  if (!self->browse || self->browser != NULL)
    return;
  self->browser = avahi_service_browser_new (client, avahi_interface (self),
                                             avahi_protocol (self->protocol),
                                             BACKUP_DISCOVERY_SERVICE_TYPE, NULL, 0, browser_cb,
                                             self);
  if (self->browser == NULL)
    g_debug ("Cannot browse: %s", avahi_strerror (avahi_client_errno (client)));
}

/* --- the client --- */

static gboolean
retry_cb (gpointer user_data)
{
  BackupDiscovery *self = user_data;

  g_clear_pointer (&self->retry_source, g_source_unref);
  drop_client (self, TRUE);
  connect_client (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (BackupDiscovery *self, guint seconds)
{
  if (self->retry_source != NULL)
    return;
  self->retry_source = seconds == 0 ? g_idle_source_new () : g_timeout_source_new_seconds (seconds);
  g_source_set_callback (self->retry_source, retry_cb, self, NULL);
  g_source_attach (self->retry_source, self->context);
}

static void
set_not_running (BackupDiscovery *self)
{
  set_unavailable_literal (self, BACKUP_ERROR_NOT_FOUND, _("the Avahi daemon is not running"));
}

/* May come from within avahi_client_new(), before self->client is set. */
static void
client_cb (AvahiClient *client, AvahiClientState state, void *user_data)
{
  BackupDiscovery *self = user_data;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
      set_available (self, TRUE, NULL);
      announce (self, client);
      start_browsing (self, client);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      /* The daemon registers the host name again (another machine had
       * it): what was announced is withdrawn, and announced again when
       * it runs. */
      set_available (self, TRUE, NULL);
      if (self->group != NULL)
        avahi_entry_group_reset (self->group);
      set_announced (self, NULL);
      break;
    case AVAHI_CLIENT_CONNECTING:
      set_not_running (self);
      break;
    case AVAHI_CLIENT_FAILURE:
      {
        int code = avahi_client_errno (client);

        /* Every object of the client is dead: start again with a new one
         * (not from within the client's own callback). */
        if (code == AVAHI_ERR_DISCONNECTED)
          {
            set_not_running (self);
            schedule_retry (self, 0);
          }
        else
          {
            set_available (self,
                           FALSE,
                           g_error_new (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                        _("the Avahi daemon failed: %s"), avahi_strerror (code)));
            schedule_retry (self, RETRY_S);
          }
        break;
      }
    default:
      break;
    }
}

static void
connect_client (BackupDiscovery *self)
{
  int code = 0;

  self->client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL,
                                   client_cb, self, &code);
  if (self->client == NULL)
    {
      /* No system bus, or not even memory: try again later. */
      g_debug ("Cannot connect to the Avahi daemon: %s", avahi_strerror (code));
      set_not_running (self);
      schedule_retry (self, RETRY_S);
      return;
    }
  /* Without a daemon, the client may have said nothing yet. */
  if (avahi_client_get_state (self->client) == AVAHI_CLIENT_CONNECTING)
    set_not_running (self);
}

void
backup_discovery_start (BackupDiscovery *self)
{
  g_return_if_fail (BACKUP_IS_DISCOVERY (self));

  if (self->started)
    return;
  self->started = TRUE;
  g_free (self->instance);
  self->instance = cut_utf8 (self->name, MAX_INSTANCE_BYTES);
  self->context = g_main_context_ref_thread_default ();
  self->poll = avahi_glib_poll_new (self->context, G_PRIORITY_DEFAULT);
  connect_client (self);
}

static void
stop (BackupDiscovery *self, gboolean emit)
{
  if (self->retry_source != NULL)
    {
      g_source_destroy (self->retry_source);
      g_clear_pointer (&self->retry_source, g_source_unref);
    }
  drop_client (self, emit);
  g_clear_pointer (&self->poll, avahi_glib_poll_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->started = FALSE;
}

void
backup_discovery_stop (BackupDiscovery *self)
{
  g_return_if_fail (BACKUP_IS_DISCOVERY (self));

  stop (self, TRUE);
  set_available (self, FALSE,
                 g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                      _("the discovery of nearby devices is not started")));
}

gboolean
backup_discovery_get_available (BackupDiscovery *self)
{
  g_return_val_if_fail (BACKUP_IS_DISCOVERY (self), FALSE);

  return self->available;
}

const GError *
backup_discovery_get_error (BackupDiscovery *self)
{
  g_return_val_if_fail (BACKUP_IS_DISCOVERY (self), NULL);

  return self->error;
}

const char *
backup_discovery_get_announced_name (BackupDiscovery *self)
{
  g_return_val_if_fail (BACKUP_IS_DISCOVERY (self), NULL);

  return self->announced;
}

GPtrArray *
backup_discovery_get_devices (BackupDiscovery *self)
{
  GPtrArray *devices;

  g_return_val_if_fail (BACKUP_IS_DISCOVERY (self), NULL);

  devices = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_nearby_device_free);
  for (guint i = 0; i < self->records->len; i++)
    g_ptr_array_add (devices,
                     backup_nearby_device_copy (((Record *) g_ptr_array_index (self->records,
                                                                               i))->device));
  return devices;
}

BackupDiscovery *
backup_discovery_new (const guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN], const char *name)
{
  g_autofree char *default_name = NULL;
  BackupDiscovery *self;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  if (name == NULL)
    name = default_name = backup_device_default_name ();
  self = g_object_new (BACKUP_TYPE_DISCOVERY, "name", name, NULL);
  memcpy (self->fingerprint, fingerprint, sizeof self->fingerprint);
  return self;
}

static void
backup_discovery_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupDiscovery *self = BACKUP_DISCOVERY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ANNOUNCE:
      g_value_set_boolean (value, self->announce);
      break;
    case PROP_BROWSE:
      g_value_set_boolean (value, self->browse);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_SIGNALING:
      g_value_set_boolean (value, self->signaling);
      break;
    case PROP_PAIRING:
      g_value_set_boolean (value, self->pairing);
      break;
    case PROP_INTERFACE:
      g_value_set_int (value, self->interface);
      break;
    case PROP_PROTOCOL:
      g_value_set_enum (value, self->protocol);
      break;
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_ANNOUNCED_NAME:
      g_value_set_string (value, self->announced);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_discovery_set_property (GObject *object,
                               guint prop_id,
                               const GValue *value,
                               GParamSpec *pspec)
{
  BackupDiscovery *self = BACKUP_DISCOVERY (object);

  /* The settings are read when the discovery starts. */
  switch (prop_id)
    {
    case PROP_NAME:
      {
        const char *name = g_value_get_string (value);

        g_free (self->name);
        if (name == NULL || !backup_device_check_name (name, NULL))
          {
            g_critical ("BackupDiscovery: “%s” is not a valid device name", name);
            self->name = backup_device_default_name ();
          }
        else
          self->name = g_strdup (name);
        break;
      }
    case PROP_ANNOUNCE:
      self->announce = g_value_get_boolean (value);
      break;
    case PROP_BROWSE:
      self->browse = g_value_get_boolean (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_SIGNALING:
      self->signaling = g_value_get_boolean (value);
      break;
    case PROP_PAIRING:
      self->pairing = g_value_get_boolean (value);
      break;
    case PROP_INTERFACE:
      self->interface = g_value_get_int (value);
      break;
    case PROP_PROTOCOL:
      self->protocol = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_discovery_dispose (GObject *object)
{
  BackupDiscovery *self = BACKUP_DISCOVERY (object);

  stop (self, FALSE);
  G_OBJECT_CLASS (backup_discovery_parent_class)->dispose (object);
}

static void
backup_discovery_finalize (GObject *object)
{
  BackupDiscovery *self = BACKUP_DISCOVERY (object);

  g_hash_table_unref (self->pending);
  g_ptr_array_unref (self->records);
  g_free (self->name);
  g_free (self->instance);
  g_free (self->announced);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (backup_discovery_parent_class)->finalize (object);
}

static void
backup_discovery_class_init (BackupDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = backup_discovery_get_property;
  object_class->set_property = backup_discovery_set_property;
  object_class->dispose = backup_discovery_dispose;
  object_class->finalize = backup_discovery_finalize;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
                                                 | G_PARAM_STATIC_STRINGS);
  properties[PROP_ANNOUNCE] = g_param_spec_boolean ("announce", NULL, NULL, TRUE, rw);
  properties[PROP_BROWSE] = g_param_spec_boolean ("browse", NULL, NULL, TRUE, rw);
  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, rw);
  properties[PROP_SIGNALING] = g_param_spec_boolean ("signaling", NULL, NULL, FALSE, rw);
  properties[PROP_PAIRING] = g_param_spec_boolean ("pairing", NULL, NULL, FALSE, rw);
  properties[PROP_INTERFACE] = g_param_spec_int ("interface", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_PROTOCOL] = g_param_spec_enum ("protocol", NULL, NULL,
                                                 BACKUP_TYPE_DISCOVERY_PROTOCOL,
                                                 BACKUP_DISCOVERY_PROTOCOL_ANY, rw);
  properties[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE, ro);
  properties[PROP_ANNOUNCED_NAME] = g_param_spec_string ("announced-name", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[DEVICE_ADDED] = g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        BACKUP_TYPE_NEARBY_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[DEVICE_REMOVED] = g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          BACKUP_TYPE_NEARBY_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
backup_discovery_init (BackupDiscovery *self)
{
  self->announce = TRUE;
  self->browse = TRUE;
  self->interface = -1;
  self->protocol = BACKUP_DISCOVERY_PROTOCOL_ANY;
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) pending_free);
  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  self->error = g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_FAILED,
                                     _("the discovery of nearby devices is not started"));
}

/* --- verification code --- */

static void
append_pair (GHmac *hmac, const guint8 *fingerprint, const guint8 *nonce, gsize nonce_len)
{
  g_hmac_update (hmac, fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);
  if (nonce_len > 0)
    g_hmac_update (hmac, nonce, nonce_len);
}

static int
compare_pairs (const guint8 *fp_a, const guint8 *nonce_a, const guint8 *fp_b,
               const guint8 *nonce_b, gsize nonce_len)
{
  int order = memcmp (fp_a, fp_b, RTC_CERTIFICATE_FINGERPRINT_LEN);

  if (order == 0 && nonce_len > 0)
    order = memcmp (nonce_a, nonce_b, nonce_len);
  return order;
}

char *
backup_device_compute_code (const guint8 fp_a[RTC_CERTIFICATE_FINGERPRINT_LEN],
                            const guint8 fp_b[RTC_CERTIFICATE_FINGERPRINT_LEN],
                            const guint8 *nonce_a,
                            const guint8 *nonce_b,
                            gsize nonce_len)
{
  static const guint8 label[] = CODE_LABEL; /* with its NUL */
  g_autoptr (GHmac) hmac = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  guint8 length[4];
  guint64 number = 0;

  g_return_val_if_fail (fp_a != NULL && fp_b != NULL, NULL);
  g_return_val_if_fail (nonce_len == 0 || (nonce_a != NULL && nonce_b != NULL), NULL);
  g_return_val_if_fail (nonce_len <= G_MAXUINT32, NULL);

  /* Whichever device computes it, the same order. */
  if (compare_pairs (fp_a, nonce_a, fp_b, nonce_b, nonce_len) > 0)
    {
      const guint8 *fp = fp_a, *nonce = nonce_a;

      fp_a = fp_b;
      nonce_a = nonce_b;
      fp_b = fp;
      nonce_b = nonce;
    }

  length[0] = (guint8) (nonce_len >> 24);
  length[1] = (guint8) (nonce_len >> 16);
  length[2] = (guint8) (nonce_len >> 8);
  length[3] = (guint8) nonce_len;

  hmac = g_hmac_new (G_CHECKSUM_SHA256, label, strlen (CODE_LABEL));
  g_hmac_update (hmac, label, sizeof label);
  g_hmac_update (hmac, length, sizeof length);
  append_pair (hmac, fp_a, nonce_a, nonce_len);
  append_pair (hmac, fp_b, nonce_b, nonce_len);
  g_hmac_get_digest (hmac, digest, &digest_len);

  for (guint i = 0; i < 8; i++)
    number = number << 8 | digest[i];
  return g_strdup_printf ("%06u", (guint) (number % 1000000));
}
