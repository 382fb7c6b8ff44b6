/* backup-error.h: the error domain of the core layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BACKUP_ERROR (backup_error_quark ())

typedef enum
{
  BACKUP_ERROR_FAILED,
  BACKUP_ERROR_INVALID_ARGUMENT, /* a bad option or option combination */
  BACKUP_ERROR_INVALID_NAME,     /* a received name that is not one safe path component */
  BACKUP_ERROR_NOT_FOUND,        /* a source, destination or password file is missing */
  BACKUP_ERROR_PERMISSION,       /* not readable / not writable */
  BACKUP_ERROR_NO_SPACE,         /* the destination filesystem is full */
  BACKUP_ERROR_CORRUPT,          /* tampered, truncated or foreign data */
  BACKUP_ERROR_BAD_PASSWORD,     /* a password that does not open the data */
  BACKUP_ERROR_PROTOCOL,         /* the peer broke the transfer protocol */
  BACKUP_ERROR_HASH_MISMATCH,    /* received data does not match its announced SHA-256 */
  BACKUP_ERROR_TIMEOUT,
  BACKUP_ERROR_IO,
} BackupError;

GQuark backup_error_quark (void);

/* Maps an errno value from a file operation to the closest BackupError code. */
BackupError backup_error_from_errno (int errsv);

G_END_DECLS
