/* backup-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>

#include "backup-error.h"

G_DEFINE_QUARK (backup-error-quark, backup_error)

BackupError
backup_error_from_errno (int errsv)
{
  switch (errsv)
    {
    case ENOENT:
    case ENOTDIR:
      return BACKUP_ERROR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
      return BACKUP_ERROR_PERMISSION;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return BACKUP_ERROR_NO_SPACE;
    case ENAMETOOLONG:
    case EINVAL:
      return BACKUP_ERROR_INVALID_NAME;
    default:
      return BACKUP_ERROR_IO;
    }
}
