/* test-display.c: backup_display_name(), names from outside shown safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-display.h"

/* @shown is valid UTF-8 without a single control character, bidirectional
 * control or line separator, and escaping it again changes nothing. */
static void
assert_safe (const char *shown)
{
  g_autofree char *again = NULL;

  g_assert_true (g_utf8_validate (shown, -1, NULL));
  for (const char *p = shown; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_false (g_unichar_iscntrl (c));
      g_assert_cmpuint (c, !=, 0x061C);
      g_assert_false (c == 0x200E || c == 0x200F);
      g_assert_false (c >= 0x202A && c <= 0x202E);
      g_assert_false (c >= 0x2066 && c <= 0x2069);
      g_assert_false (c == 0x2028 || c == 0x2029);
    }

  again = backup_display_name (shown, -1);
  g_assert_cmpstr (again, ==, shown);
}

static void
check (const char *name, gssize length, const char *expected)
{
  g_autofree char *shown = backup_display_name (name, length);

  g_assert_cmpstr (shown, ==, expected);
  assert_safe (shown);
}

static void
test_plain (void)
{
  /* Printable text, in any script, is shown as it is. */
  check ("backup.zip", -1, "backup.zip");
  check ("a b", -1, "a b");
  check ("\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x81", -1,
         "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x81");
  /* Hebrew and Arabic letters are not controls. */
  check ("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85", -1,
         "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85");
  check ("", -1, "");
  check (NULL, -1, "");
  /* The length bounds what is read. */
  check ("abcdef", 3, "abc");
  check ("abcdef", 0, "");
}

static void
test_c0 (void)
{
  /* Every C0 control, one at a time. */
  for (guint c = 1; c < 0x20; c++)
    {
      char name[4] = { 'a', (char) c, 'b', '\0' };
      g_autofree char *expected = g_strdup_printf ("a\\x%02xb", c);

      check (name, -1, expected);
    }

  /* The sequences a terminal or a log would obey. */
  check ("\x1b]0;owned\x07", -1, "\\x1b]0;owned\\x07");
  check ("\x1b[2J\x1b[H", -1, "\\x1b[2J\\x1b[H");
  check ("name\nMar 1 12:00:00 host sshd[1]: fake", -1,
         "name\\x0aMar 1 12:00:00 host sshd[1]: fake");
  check ("a\rb\tc\bd", -1, "a\\x0db\\x09c\\x08d");

  /* A NUL byte inside the given length is a C0 control too. */
  check ("a\0b", 3, "a\\x00b");
}

static void
test_del_c1 (void)
{
  check ("a\x7f" "b", -1, "a\\x7fb");

  /* C1 controls are U+0080 to U+009F, encoded on two bytes. */
  for (guint c = 0x80; c <= 0x9f; c++)
    {
      char name[5] = { 'x', (char) 0xc2, (char) c, 'y', '\0' };
      g_autofree char *expected = g_strdup_printf ("x\\x%02xy", c);

      check (name, -1, expected);
    }
  /* CSI (U+009B), the one-character form of ESC [. */
  check ("\xc2\x9b" "2J", -1, "\\x9b2J");
  /* U+00A0 and later are not controls. */
  check ("\xc2\xa0\xc2\xa9", -1, "\xc2\xa0\xc2\xa9");
}

static void
test_bidi (void)
{
  static const struct
  {
    gunichar c;
    const char *escape;
  } controls[] = {
    { 0x061C, "\\u{061C}" }, { 0x200E, "\\u{200E}" }, { 0x200F, "\\u{200F}" },
    { 0x202A, "\\u{202A}" }, { 0x202B, "\\u{202B}" }, { 0x202C, "\\u{202C}" },
    { 0x202D, "\\u{202D}" }, { 0x202E, "\\u{202E}" }, { 0x2066, "\\u{2066}" },
    { 0x2067, "\\u{2067}" }, { 0x2068, "\\u{2068}" }, { 0x2069, "\\u{2069}" },
    { 0x2028, "\\u{2028}" }, { 0x2029, "\\u{2029}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (controls); i++)
    {
      char utf8[8] = { 0 };
      g_autofree char *name = NULL;
      g_autofree char *expected = NULL;

      g_unichar_to_utf8 (controls[i].c, utf8);
      name = g_strconcat ("report", utf8, "fdp.exe", NULL);
      expected = g_strconcat ("report", controls[i].escape, "fdp.exe", NULL);
      check (name, -1, expected);
    }

  /* Their neighbours are shown as they are. */
  check ("\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xaa", -1, "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xaa");
}

static void
test_invalid_utf8 (void)
{
  /* Stray bytes, a cut sequence, an overlong form, a surrogate, a code
   * point past U+10FFFF: each byte that is not part of a valid character
   * is shown as its value, and what follows is decoded again. */
  check ("a\xff" "b", -1, "a\\xffb");
  check ("\xfe\xfe", -1, "\\xfe\\xfe");
  check ("\x80" "x", -1, "\\x80x");
  check ("caf\xc3", -1, "caf\\xc3");
  check ("\xe2\x82" "x", -1, "\\xe2\\x82x");
  check ("\xc0\xaf", -1, "\\xc0\\xaf");
  check ("\xed\xa0\x80", -1, "\\xed\\xa0\\x80");
  check ("\xf4\x90\x80\x80", -1, "\\xf4\\x90\\x80\\x80");
  /* Latin-1, as an old sender may write it. */
  check ("\xe9t\xe9.txt", -1, "\\xe9t\\xe9.txt");
  /* A character cut by the length is invalid there. */
  check ("\xc3\xa9", 1, "\\xc3");
}

static void
test_idempotent (void)
{
  static const char *const names[] = {
    "\x1b]0;title\x07", "a\nb", "\xff\xfe", "x\xe2\x80\xaey", "\\x1b", "\\u{202E}",
    "C:\\path\\file", "\\", "\\\\x", "plain", "\xc2\x9b", "\xf0\x9f\x93\x81",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *once = backup_display_name (names[i], -1);
      g_autofree char *twice = backup_display_name (once, -1);
      g_autofree char *thrice = backup_display_name (twice, -1);

      g_assert_cmpstr (twice, ==, once);
      g_assert_cmpstr (thrice, ==, once);
      assert_safe (once);
    }

  /* A backslash is not escaped. */
  check ("a\\b", -1, "a\\b");
  check ("\\x1b", -1, "\\x1b");
}

static void
test_no_truncation (void)
{
  g_autofree char *name = g_strnfill (300, '\x1b');
  g_autofree char *shown = backup_display_name (name, -1);
  g_autoptr (GString) expected = g_string_new (NULL);

  for (guint i = 0; i < 300; i++)
    g_string_append (expected, "\\x1b");
  g_assert_cmpstr (shown, ==, expected->str);

  {
    g_autofree char *long_name = g_strnfill (1000, 'n');
    g_autofree char *long_shown = backup_display_name (long_name, -1);

    g_assert_cmpstr (long_shown, ==, long_name);
  }
}

/* Every byte string of up to two bytes, and random ones: the result is
 * always safe and stable. */
static void
test_all_bytes (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);

  for (guint a = 0; a < 256; a++)
    for (guint b = 0; b < 256; b++)
      {
        char name[2] = { (char) a, (char) b };
        g_autofree char *shown = backup_display_name (name, 2);

        assert_safe (shown);
      }

  for (guint i = 0; i < 2000; i++)
    {
      char name[16];
      g_autofree char *shown = NULL;

      for (guint j = 0; j < sizeof name; j++)
        name[j] = (char) g_rand_int_range (rand, 0, 256);
      shown = backup_display_name (name, sizeof name);
      assert_safe (shown);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/display/plain", test_plain);
  g_test_add_func ("/display/c0", test_c0);
  g_test_add_func ("/display/del-c1", test_del_c1);
  g_test_add_func ("/display/bidi", test_bidi);
  g_test_add_func ("/display/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/display/idempotent", test_idempotent);
  g_test_add_func ("/display/no-truncation", test_no_truncation);
  g_test_add_func ("/display/all-bytes", test_all_bytes);

  return g_test_run ();
}
