/* backup-display.h: names from outside shown safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns @name (its first @length bytes, or up to its NUL when @length is
 * negative) as valid UTF-8 that is safe to print on a terminal, in a log
 * or in a label: every byte that is not part of valid UTF-8, every control
 * character (C0, DEL, C1) is shown as "\xNN", and every bidirectional
 * control (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) and
 * line or paragraph separator (U+2028, U+2029) as "\u{NNNN}".  Nothing is
 * cut.  A backslash is kept as it is, so escaping an escaped name again
 * changes nothing.  A NULL @name with a negative @length is an empty
 * name.  Free with g_free(). */
char *backup_display_name (const char *name,
                           gssize      length);

G_END_DECLS
