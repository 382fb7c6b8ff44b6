/* backup-reception-private.h: what BackupStore uses to create receptions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "backup-reception.h"

G_BEGIN_DECLS

/* Suffix and random part of temporary file names: ".NAME.XXXXXX.part". */
#define BACKUP_RECEPTION_PART_SUFFIX ".part"
#define BACKUP_RECEPTION_RANDOM_LEN 6

/* Takes ownership of @dir_fd.  Creates the temporary file. */
BackupReception *_backup_reception_new (int dir_fd,
                                        const char *dir_display,
                                        const char *name,
                                        guint versions,
                                        GError **error);

/* Sets @error from @errsv (an errno value) with a message naming @name and
 * the directory @dir_display. */
void _backup_store_set_errno_error (GError **error,
                                    int errsv,
                                    const char *name,
                                    const char *dir_display);

G_END_DECLS
