/* backup-nearby.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The host is a BackupServer with small limits and a BackupDiscovery that
 * announces its port; the finder is a browsing BackupDiscovery with a
 * deadline. Both live on the thread-default main context of their caller.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "backup-device.h"
#include "backup-error.h"
#include "backup-fileio-store.h"
#include "backup-nearby.h"
#include "backup-server.h"

#define PAIRING_SESSION_LABEL "distributed-backup nearby pairing v1"
/* After a first answer, how long to wait for a better address (IPv4) of
 * the same device, or for a second device of the same name. */
#define SETTLE_MS 600
/* Enough for a few sessions' descriptions and candidates at once. */
#define HOST_MAX_UPLOAD (64 * 1024)
#define HOST_MAX_FILES 64
#define HOST_MAX_MEMORY (2 * 1024 * 1024)
#define HOST_MAX_EXPIRY (10 * 60)
#define HOST_RATE_LIMIT 600

gboolean
backup_nearby_is_location (const char *location)
{
  return location != NULL && g_ascii_strcasecmp (location, BACKUP_NEARBY_LOCATION) == 0;
}

char *
backup_nearby_get_pairing_session (const guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize length = sizeof digest;
  GString *text = g_string_new ("nearby-");

  g_checksum_update (checksum, (const guchar *)PAIRING_SESSION_LABEL, sizeof PAIRING_SESSION_LABEL);
  g_checksum_update (checksum, fingerprint, RTC_CERTIFICATE_FINGERPRINT_LEN);
  g_checksum_get_digest (checksum, digest, &length);
  for (gsize i = 0; i < 16; i++)
    g_string_append_printf (text, "%02x", digest[i]);
  return g_string_free (text, FALSE);
}

char *
backup_nearby_device_get_url (const BackupNearbyDevice *device)
{
  g_autofree char *host = NULL;
  const char *zone;

  g_return_val_if_fail (device != NULL, NULL);

  if (!device->signaling || device->address == NULL || device->port == 0)
    return NULL;
  if (strchr (device->address, ':') == NULL)
    return g_strdup_printf ("http://%s:%u/", device->address, device->port);
  /* RFC 6874: the zone of a link-local address, "%" written "%25". */
  zone = strchr (device->address, '%');
  if (zone != NULL)
    host = g_strdup_printf ("[%.*s%%25%s]", (int)(zone - device->address), device->address,
                            zone + 1);
  else
    host = g_strdup_printf ("[%s]", device->address);
  return g_strdup_printf ("http://%s:%u/", host, device->port);
}

/* --- hosting --- */

struct _BackupNearbyHost
{
  GObject parent_instance;

  RtcCertificate *certificate;
  char *name;
  char *listen_address;
  gboolean pairing;

  BackupServer *server;
  BackupDiscovery *discovery;
};

G_DEFINE_FINAL_TYPE (BackupNearbyHost, backup_nearby_host, G_TYPE_OBJECT)

BackupNearbyHost *
backup_nearby_host_new (RtcCertificate *certificate, const char *name, const char *listen_address,
                        gboolean pairing)
{
  BackupNearbyHost *self;

  g_return_val_if_fail (RTC_IS_CERTIFICATE (certificate), NULL);

  self = g_object_new (BACKUP_TYPE_NEARBY_HOST, NULL);
  self->certificate = g_object_ref (certificate);
  self->name = g_strdup (name);
  self->listen_address = g_strdup (listen_address);
  self->pairing = pairing;
  return self;
}

static BackupServer *
listen_on (const char *address, GError **error)
{
  BackupServerOptions options;
  g_autoptr (BackupServer) server = NULL;

  backup_server_options_init (&options);
  options.listen_address = address;
  options.port = 0;
  options.max_upload_size = HOST_MAX_UPLOAD;
  options.max_files_per_key = HOST_MAX_FILES;
  options.max_memory = HOST_MAX_MEMORY;
  options.max_expiry = HOST_MAX_EXPIRY;
  options.rate_limit = HOST_RATE_LIMIT;
  server = backup_server_new (&options);
  if (!backup_server_listen (server, error))
    return NULL;
  return g_steal_pointer (&server);
}

gboolean
backup_nearby_host_start (BackupNearbyHost *self, GError **error)
{
  g_autoptr (GError) cause = NULL;
  guint8 fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN];

  g_return_val_if_fail (BACKUP_IS_NEARBY_HOST (self), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

  if (self->listen_address != NULL)
    self->server = listen_on (self->listen_address, &cause);
  else
    {
      /* "::" takes IPv4 too where the system maps it; else IPv4 alone. */
      self->server = listen_on ("::", NULL);
      if (self->server == NULL)
        self->server = listen_on ("0.0.0.0", &cause);
    }
  if (self->server == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                   _ ("Cannot offer a signaling server on the local network: %s"), cause->message);
      return FALSE;
    }

  rtc_certificate_get_fingerprint (self->certificate, fingerprint);
  self->discovery = backup_discovery_new (fingerprint, self->name);
  g_object_set (self->discovery, "browse", FALSE, "port", backup_server_get_port (self->server),
                "signaling", TRUE, "pairing", self->pairing, NULL);
  backup_discovery_start (self->discovery);
  if (!backup_discovery_get_available (self->discovery))
    {
      const GError *why = backup_discovery_get_error (self->discovery);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                   _ ("Cannot announce this device on the local network: %s"),
                   why != NULL ? why->message : _ ("the Avahi daemon is not running"));
      g_clear_object (&self->discovery);
      g_clear_object (&self->server);
      return FALSE;
    }
  return TRUE;
}

BackupSignalingStore *
backup_nearby_host_open_store (BackupNearbyHost *self, GError **error)
{
  g_autofree char *url = NULL;
  const char *address;

  g_return_val_if_fail (BACKUP_IS_NEARBY_HOST (self), NULL);
  g_return_val_if_fail (self->server != NULL, NULL);

  /* This device reaches its own server on the address it listens on, or
   * on loopback when it listens on all. */
  address = self->listen_address;
  if (address == NULL)
    url = g_strdup_printf ("http://127.0.0.1:%u/", backup_server_get_port (self->server));
  else if (strchr (address, ':') != NULL)
    url = g_strdup_printf ("http://[%s]:%u/", address, backup_server_get_port (self->server));
  else
    url = g_strdup_printf ("http://%s:%u/", address, backup_server_get_port (self->server));
  return BACKUP_SIGNALING_STORE (backup_fileio_store_new (url, NULL, error));
}

guint
backup_nearby_host_get_port (BackupNearbyHost *self)
{
  g_return_val_if_fail (BACKUP_IS_NEARBY_HOST (self), 0);

  return self->server != NULL ? backup_server_get_port (self->server) : 0;
}

const char *
backup_nearby_host_get_announced_name (BackupNearbyHost *self)
{
  g_return_val_if_fail (BACKUP_IS_NEARBY_HOST (self), NULL);

  return self->discovery != NULL ? backup_discovery_get_announced_name (self->discovery) : NULL;
}

static void
backup_nearby_host_dispose (GObject *object)
{
  BackupNearbyHost *self = BACKUP_NEARBY_HOST (object);

  if (self->discovery != NULL)
    backup_discovery_stop (self->discovery);
  g_clear_object (&self->discovery);
  g_clear_object (&self->server);
  g_clear_object (&self->certificate);

  G_OBJECT_CLASS (backup_nearby_host_parent_class)->dispose (object);
}

static void
backup_nearby_host_finalize (GObject *object)
{
  BackupNearbyHost *self = BACKUP_NEARBY_HOST (object);

  g_free (self->name);
  g_free (self->listen_address);

  G_OBJECT_CLASS (backup_nearby_host_parent_class)->finalize (object);
}

static void
backup_nearby_host_class_init (BackupNearbyHostClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_nearby_host_dispose;
  object_class->finalize = backup_nearby_host_finalize;
}

static void
backup_nearby_host_init (BackupNearbyHost *self)
{
}

/* --- finding --- */

typedef enum
{
  QUERY_FINGERPRINT, /* the whole fingerprint */
  QUERY_PREFIX,      /* its start */
  QUERY_NAME,
} QueryKind;

typedef struct
{
  GTask *task; /* a reference while the search runs */
  QueryKind kind;
  char *query; /* upper-case hexadecimal digits, or the name casefolded */
  gboolean pairing;
  BackupDiscovery *discovery;
  GPtrArray *matches;        /* BackupNearbyDevice that answer */
  gboolean seen_not_pairing; /* one answered but does not accept to pair */
  guint deadline_id;
  guint settle_id;
  gulong cancelled_id;
  gboolean done;
} Find;

static void
find_free (Find *find)
{
  g_clear_handle_id (&find->deadline_id, g_source_remove);
  g_clear_handle_id (&find->settle_id, g_source_remove);
  if (find->discovery != NULL)
    {
      g_signal_handlers_disconnect_by_data (find->discovery, find);
      backup_discovery_stop (find->discovery);
    }
  g_clear_object (&find->discovery);
  g_clear_pointer (&find->matches, g_ptr_array_unref);
  g_free (find->query);
  g_free (find);
}

/* @text as upper-case hexadecimal digits without colons, or NULL when it
 * holds anything else. */
static char *
hex_digits (const char *text)
{
  GString *digits = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (digits, TRUE);
          return NULL;
        }
      g_string_append_c (digits, g_ascii_toupper (*p));
    }
  return g_string_free (digits, FALSE);
}

static gboolean
device_answers (Find *find, const BackupNearbyDevice *device)
{
  g_autofree char *digits = NULL;
  g_autofree char *name = NULL;

  switch (find->kind)
    {
    case QUERY_FINGERPRINT:
    case QUERY_PREFIX:
      digits = hex_digits (device->fingerprint);
      return digits != NULL && g_str_has_prefix (digits, find->query);
    case QUERY_NAME:
    default:
      name = g_utf8_casefold (device->name, -1);
      return g_strcmp0 (name, find->query) == 0;
    }
}

/* The best record of the one device found: IPv4 first. */
static BackupNearbyDevice *
best_record (Find *find, GError **error)
{
  BackupNearbyDevice *best = NULL;

  for (guint i = 0; i < find->matches->len; i++)
    {
      BackupNearbyDevice *device = g_ptr_array_index (find->matches, i);

      if (best != NULL && g_strcmp0 (best->fingerprint, device->fingerprint) != 0)
        {
          g_autofree char *shown = g_strdup (find->query);

          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _ ("Two devices nearby answer to “%s” (%s and %s): give more of the "
                          "fingerprint"),
                       shown, best->fingerprint, device->fingerprint);
          return NULL;
        }
      if (best == NULL
          || (best->protocol != BACKUP_DISCOVERY_PROTOCOL_IPV4
              && device->protocol == BACKUP_DISCOVERY_PROTOCOL_IPV4))
        best = device;
    }
  return backup_nearby_device_copy (best);
}

static void
find_return (Find *find, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&find->task);

  if (find->done)
    {
      g_clear_error (&error);
      return;
    }
  find->done = TRUE;
  g_clear_handle_id (&find->deadline_id, g_source_remove);
  g_clear_handle_id (&find->settle_id, g_source_remove);
  if (find->cancelled_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), find->cancelled_id);
      find->cancelled_id = 0;
    }
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  {
    GError *ambiguous = NULL;
    BackupNearbyDevice *device = best_record (find, &ambiguous);

    if (device == NULL)
      g_task_return_error (task, ambiguous);
    else
      g_task_return_pointer (task, device, (GDestroyNotify)backup_nearby_device_free);
  }
}

static gboolean
settle_cb (gpointer user_data)
{
  Find *find = user_data;

  find->settle_id = 0;
  find_return (find, NULL);
  return G_SOURCE_REMOVE;
}

static void
device_added_cb (BackupDiscovery *discovery, BackupNearbyDevice *device, gpointer user_data)
{
  Find *find = user_data;

  if (find->done || !device->signaling || !device_answers (find, device))
    return;
  if (find->pairing && !device->pairing)
    {
      find->seen_not_pairing = TRUE;
      return;
    }
  g_ptr_array_add (find->matches, backup_nearby_device_copy (device));
  if (find->settle_id == 0)
    find->settle_id = g_timeout_add (SETTLE_MS, settle_cb, find);
}

static gboolean
deadline_cb (gpointer user_data)
{
  Find *find = user_data;
  g_autofree char *shown = NULL;

  find->deadline_id = 0;
  if (find->matches->len > 0)
    {
      find_return (find, NULL);
      return G_SOURCE_REMOVE;
    }
  shown = g_strdup (find->query);
  if (find->seen_not_pairing)
    find_return (find, g_error_new (BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                                    _ ("The device “%s” is on this network but does not accept "
                                       "to pair now: invite from it first (--invite-nearby)"),
                                    shown));
  else
    find_return (find, g_error_new (BACKUP_ERROR, BACKUP_ERROR_TIMEOUT,
                                    _ ("No device “%s” found on the local network"), shown));
  return G_SOURCE_REMOVE;
}

static gboolean
find_cancelled_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  Find *find = g_task_get_task_data (task);

  if (!find->done)
    find_return (find, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled"));
  return G_SOURCE_REMOVE;
}

/* May run on another thread: the search ends on its own context. */
static void
find_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, find_cancelled_idle_cb, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
}

void
backup_nearby_find_async (const char *query, gboolean pairing,
                          const guint8 own_fingerprint[RTC_CERTIFICATE_FINGERPRINT_LEN],
                          guint timeout, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *digits = NULL;
  Find *find;

  g_return_if_fail (query != NULL);
  g_return_if_fail (own_fingerprint != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_nearby_find_async);
  find = g_new0 (Find, 1);
  g_task_set_task_data (task, find, (GDestroyNotify)find_free);
  find->pairing = pairing;
  find->matches = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_nearby_device_free);

  digits = hex_digits (query);
  if (digits != NULL && strlen (digits) == 2 * RTC_CERTIFICATE_FINGERPRINT_LEN)
    {
      find->kind = QUERY_FINGERPRINT;
      find->query = g_steal_pointer (&digits);
    }
  else if (digits != NULL && strlen (digits) >= 8)
    {
      find->kind = QUERY_PREFIX;
      find->query = g_steal_pointer (&digits);
    }
  else
    {
      find->kind = QUERY_NAME;
      find->query = g_utf8_casefold (query, -1);
    }

  find->discovery = backup_discovery_new (own_fingerprint, NULL);
  g_object_set (find->discovery, "announce", FALSE, NULL);
  g_signal_connect (find->discovery, "device-added", G_CALLBACK (device_added_cb), find);
  backup_discovery_start (find->discovery);
  if (!backup_discovery_get_available (find->discovery))
    {
      const GError *why = backup_discovery_get_error (find->discovery);

      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                               _ ("Cannot look for devices on the local network: %s"),
                               why != NULL ? why->message : _ ("the Avahi daemon is not running"));
      return;
    }
  find->task = g_object_ref (task);
  if (timeout > 0)
    find->deadline_id = g_timeout_add_seconds (timeout, deadline_cb, find);
  if (cancellable != NULL)
    find->cancelled_id
        = g_cancellable_connect (cancellable, G_CALLBACK (find_cancelled_cb), task, NULL);
}

BackupNearbyDevice *
backup_nearby_find_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_nearby_find_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
