/* backup-signaling-error.h: the error domain of the signaling layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BACKUP_SIGNALING_ERROR (backup_signaling_error_quark ())

typedef enum
{
  BACKUP_SIGNALING_ERROR_FAILED,
  BACKUP_SIGNALING_ERROR_INVALID_URL,   /* a backend URL we do not understand */
  BACKUP_SIGNALING_ERROR_AUTH,          /* "API key rejected" (HTTP 401/403 on auth) */
  BACKUP_SIGNALING_ERROR_RATE_LIMITED,  /* HTTP 429 after every retry */
  BACKUP_SIGNALING_ERROR_NOT_FOUND,     /* the file is gone (already downloaded/deleted) */
  BACKUP_SIGNALING_ERROR_MALFORMED,     /* a file or answer that is not what the protocol says */
  BACKUP_SIGNALING_ERROR_TIMEOUT,       /* no peer showed up in time */
  BACKUP_SIGNALING_ERROR_HTTP,          /* any other HTTP failure */
  BACKUP_SIGNALING_ERROR_UNTRUSTED,     /* the server's TLS certificate is not trusted */
} BackupSignalingError;

GQuark backup_signaling_error_quark (void);

G_END_DECLS
