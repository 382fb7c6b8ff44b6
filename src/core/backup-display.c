/* backup-display.c: names from outside shown safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-display.h"

/* Characters that change the direction of the text around them, and those
 * that break a line, neither of which shows as itself. */
static gboolean
is_invisible_format (gunichar c)
{
  return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E)
         || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

char *
backup_display_name (const char *name, gssize length)
{
  GString *out;
  const char *p;
  const char *end;

  g_return_val_if_fail (name != NULL || length <= 0, NULL);

  if (name == NULL)
    return g_strdup ("");
  if (length < 0)
    length = (gssize) strlen (name);

  out = g_string_sized_new ((gsize) length + 1);
  p = name;
  end = name + length;
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      const char *next;

      /* Not the start of a valid, complete character: one byte shown as
       * its value.  A NUL byte is a C0 control. */
      if (c == (gunichar) -1 || c == (gunichar) -2 || *p == '\0')
        {
          g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
          p++;
          continue;
        }

      next = g_utf8_next_char (p);
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        g_string_append_printf (out, "\\x%02x", (guint) c);
      else if (is_invisible_format (c))
        g_string_append_printf (out, "\\u{%04X}", (guint) c);
      else
        g_string_append_len (out, p, next - p);
      p = next;
    }

  return g_string_free (out, FALSE);
}
