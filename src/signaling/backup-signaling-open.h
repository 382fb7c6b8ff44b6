/* backup-signaling-open.h: which signaling store a location names, and
 * opening it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one place that knows every backend of BackupSignalingStore, so that
 * the interface knows none and no caller needs to know which one it got.
 */
#pragma once

#include "backup-signaling-store.h"

G_BEGIN_DECLS

/* A paired device of the local network: no store to open here, the
 * runner finds one when a backup starts (core/backup-nearby.h). */
#define BACKUP_SIGNALING_NEARBY "nearby:"

/* The FILE.io service, used with an API key when no location is given. */
#define BACKUP_SIGNALING_DEFAULT_URL "https://file.io"

/**
 * backup_signaling_resolve:
 * @location: (nullable): `https://…` or `http://…` for a FILE.io-compatible
 *   server, `file://…` or a path for a folder
 * @api_key: (nullable): the FILE.io API key (empty counts as none)
 * @url: (out) (optional): the server's URL, or %NULL for a folder
 * @directory: (out) (optional): the folder, or %NULL for a server
 *
 * BACKUP_SIGNALING_NEARBY is valid and gives neither @url nor @directory.
 * With no @location: FILE.io when an API key is given, otherwise a folder
 * under the user's runtime directory that two peers on one machine share.
 * Fails with BACKUP_SIGNALING_ERROR_INVALID_URL for another scheme or a
 * file URL that names no local path.
 */
gboolean backup_signaling_resolve (const char *location,
                                   const char *api_key,
                                   char **url,
                                   char **directory,
                                   GError **error);

/* Opens the store @location names (see backup_signaling_resolve()).
 * @tls_database, when not %NULL, is the only trust for an https:// server. */
BackupSignalingStore *backup_signaling_open (const char *location,
                                             const char *api_key,
                                             GTlsDatabase *tls_database,
                                             GError **error);

G_END_DECLS
