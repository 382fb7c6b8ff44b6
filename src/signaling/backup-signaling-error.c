/* backup-signaling-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "backup-signaling-error.h"

G_DEFINE_QUARK (backup-signaling-error-quark, backup_signaling_error)
