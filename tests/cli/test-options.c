/* test-options.c: the pflag-compatible command line parser and its checks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "backup-cli-signals.h"
#include "backup-cli.h"
#include "backup-error.h"
#include "backup-options.h"
#include "backup-s3-store.h"
#include "backup-vault.h"

/* Parses the NULL-terminated arguments after the program name. */
static BackupOptions *
parse_v (GError **error, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  BackupOptions *options = NULL;

  g_ptr_array_add (argv, g_strdup ("distributed-backup"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  if (!backup_options_parse (argv->len - 1, (char **) argv->pdata, &options, error))
    {
      g_assert_null (options);
      return NULL;
    }
  g_assert_nonnull (options);
  return options;
}

#define PARSE_OK(...) parse_ok ((const char *const[]){ __VA_ARGS__, NULL })
#define PARSE_FAILS(substring, ...) \
  parse_fails (substring, (const char *const[]){ __VA_ARGS__, NULL })

static BackupOptions *
parse_ok (const char *const *args)
{
  GError *error = NULL;
  BackupOptions *options = parse_v (&error, args);

  g_assert_no_error (error);
  return options;
}

/* @error is a usage error whose message contains @substring; clears it. */
static void
assert_usage_error (GError **error, const char *substring)
{
  g_assert_error (*error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  if (strstr ((*error)->message, substring) == NULL)
    g_error ("“%s” does not contain “%s”", (*error)->message, substring);
  g_clear_error (error);
}

static void
parse_fails (const char *substring, const char *const *args)
{
  GError *error = NULL;
  BackupOptions *options = parse_v (&error, args);

  g_assert_null (options);
  assert_usage_error (&error, substring);
}

typedef struct
{
  char short_name;
  const char *long_name;
  gsize offset; /* of a char * field */
  const char *value;
} StringOption;

static const StringOption string_options[] = {
  { 'a', "apikey", G_STRUCT_OFFSET (BackupOptions, apikey), "TZEBHA7.ZFD42EP-QSF41WR" },
  { 'd', "dstdir", G_STRUCT_OFFSET (BackupOptions, dstdir), "/path/to/dst/dir" },
  { 'o', "outfile", G_STRUCT_OFFSET (BackupOptions, outfile), "output.zip" },
  { 'p', "passfile", G_STRUCT_OFFSET (BackupOptions, passfile), "/path/to/passwords.txt" },
  { '1', "password1", G_STRUCT_OFFSET (BackupOptions, password1), "qwerty" },
  { '2', "password2", G_STRUCT_OFFSET (BackupOptions, password2), "asdfgh" },
  { 's', "srcentry", G_STRUCT_OFFSET (BackupOptions, srcentry), "/path/to/src/file.txt" },
  { 'u', "uuid", G_STRUCT_OFFSET (BackupOptions, uuid), "91c04021-045a-40ad-a4b0-0596cd604d8e" },
  { 0, "signaling", G_STRUCT_OFFSET (BackupOptions, signaling), "https://example.invalid/x" },
  { 0, "vault-key", G_STRUCT_OFFSET (BackupOptions, vault_key), "/path/to/vault.key" },
  { 0, "zip-encryption", G_STRUCT_OFFSET (BackupOptions, zip_encryption), "zipcrypto" },
  { 0, "device", G_STRUCT_OFFSET (BackupOptions, device), "nas" },
  { 0, "device-name", G_STRUCT_OFFSET (BackupOptions, device_name), "Anna’s laptop" },
  { 0, "unpair", G_STRUCT_OFFSET (BackupOptions, unpair), "old laptop" },
  { 0, "pair", G_STRUCT_OFFSET (BackupOptions, pair), "distributed-backup:pair?v=1&name=x" },
};

static void
check_string_option (const StringOption *option, const char *const *args)
{
  g_autoptr (BackupOptions) options = parse_ok (args);
  const char *value = G_STRUCT_MEMBER (char *, options, option->offset);

  g_assert_cmpstr (value, ==, option->value);
}

static void
test_spellings (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (string_options); i++)
    {
      const StringOption *option = &string_options[i];
      g_autofree char *long_eq = g_strdup_printf ("--%s=%s", option->long_name, option->value);
      g_autofree char *long_name = g_strdup_printf ("--%s", option->long_name);

      check_string_option (option, (const char *const[]){ long_eq, NULL });
      check_string_option (option, (const char *const[]){ long_name, option->value, NULL });

      if (option->short_name != 0)
        {
          g_autofree char *short_eq = g_strdup_printf ("-%c=%s", option->short_name, option->value);
          g_autofree char *short_glued = g_strdup_printf ("-%c%s", option->short_name,
                                                          option->value);
          g_autofree char *short_name = g_strdup_printf ("-%c", option->short_name);

          check_string_option (option, (const char *const[]){ short_eq, NULL });
          check_string_option (option, (const char *const[]){ short_glued, NULL });
          check_string_option (option, (const char *const[]){ short_name, option->value, NULL });
        }
    }

  /* Values that look like options are values (as in pflag). */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-a", "-d", "--uuid", "--zipdir");

    g_assert_cmpstr (options->apikey, ==, "-d");
    g_assert_cmpstr (options->uuid, ==, "--zipdir");
    g_assert_null (options->dstdir);
    g_assert_false (options->zipdir);
  }

  /* '=' inside a value, an empty value, the last one wins. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-1=a=b", "--password2=", "-u=first",
                                                  "--uuid", "second", "-o", "");

    g_assert_cmpstr (options->password1, ==, "a=b");
    g_assert_cmpstr (options->password2, ==, "");
    g_assert_cmpstr (options->uuid, ==, "second");
    g_assert_cmpstr (options->outfile, ==, "");
  }

  /* The original's example commands, verbatim. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-e", "-p=/path/to/passwords.txt", "-1=qwerty",
                                                  "-2=asdfgh");

    g_assert_true (options->encrypt);
    g_assert_cmpstr (options->passfile, ==, "/path/to/passwords.txt");
    g_assert_cmpstr (options->password1, ==, "qwerty");
    g_assert_cmpstr (options->password2, ==, "asdfgh");
  }
  {
    g_autoptr (BackupOptions) options =
      PARSE_OK ("-a=TZEBHA7.ZFD42EP-QSF41WR-QNFGB8R-A9G2V7E",
                "-u=91c04021-045a-40ad-a4b0-0596cd604d8e", "-d=/path/to/dst/dir", "-v=3");

    g_assert_cmpstr (options->apikey, ==, "TZEBHA7.ZFD42EP-QSF41WR-QNFGB8R-A9G2V7E");
    g_assert_cmpstr (options->uuid, ==, "91c04021-045a-40ad-a4b0-0596cd604d8e");
    g_assert_cmpstr (options->dstdir, ==, "/path/to/dst/dir");
    g_assert_cmpuint (options->versions, ==, 3);
  }
  {
    g_autoptr (BackupOptions) options =
      PARSE_OK ("-a=TZEBHA7.ZFD42EP-QSF41WR-QNFGB8R-A9G2V7E",
                "-u=91c04021-045a-40ad-a4b0-0596cd604d8e", "-z", "-s=/path/to/src/dir",
                "-o=output.zip", "-p=/path/to/passwords.txt");

    g_assert_true (options->zipdir);
    g_assert_cmpstr (options->srcentry, ==, "/path/to/src/dir");
    g_assert_cmpstr (options->outfile, ==, "output.zip");
  }
}

static void
test_defaults (void)
{
  g_autoptr (BackupOptions) options = PARSE_OK ("-q");
  const char *const *stun;

  g_assert_true (options->quiet);
  g_assert_false (options->encrypt);
  g_assert_false (options->zipdir);
  g_assert_cmpuint (options->versions, ==, 1);
  g_assert_cmpuint (options->timeout, ==, 120);
  g_assert_cmpstr (options->zip_encryption, ==, "aes256");
  g_assert_cmpint (options->progress, ==, BACKUP_OPTIONS_PROGRESS_AUTO);
  g_assert_null (options->apikey);
  g_assert_null (options->password1);
  g_assert_false (options->stun_given);
  g_assert_cmpuint (options->stun->len, ==, 0);
  g_assert_cmpuint (options->turn->len, ==, 0);
  g_assert_cmpuint (options->ice_addresses->len, ==, 0);

  /* The default STUN server applies only when -S is not given. */
  stun = backup_options_get_stun_servers (options);
  g_assert_cmpstrv (stun, ((const char *const[]){ "stun.l.google.com:19302", NULL }));
}

typedef struct
{
  const char *args[4];
  gboolean encrypt, zipdir, quiet;
} BoolCase;

static void
test_booleans (void)
{
  static const BoolCase cases[] = {
    { { "-e" }, TRUE, FALSE, FALSE },
    { { "--encrypt" }, TRUE, FALSE, FALSE },
    { { "-z" }, FALSE, TRUE, FALSE },
    { { "--zipdir" }, FALSE, TRUE, FALSE },
    { { "--zipdir=true" }, FALSE, TRUE, FALSE },
    { { "--zipdir=false" }, FALSE, FALSE, FALSE },
    { { "-z", "--zipdir=false" }, FALSE, FALSE, FALSE },
    { { "-z=true" }, FALSE, TRUE, FALSE },
    { { "-z=false" }, FALSE, FALSE, FALSE },
    { { "-z=1" }, FALSE, TRUE, FALSE },
    { { "-z=0" }, FALSE, FALSE, FALSE },
    { { "-z=T" }, FALSE, TRUE, FALSE },
    { { "-z=F" }, FALSE, FALSE, FALSE },
    { { "--encrypt=TRUE" }, TRUE, FALSE, FALSE },
    { { "--encrypt=False" }, FALSE, FALSE, FALSE },
    { { "-ez" }, TRUE, TRUE, FALSE },
    { { "-ze" }, TRUE, TRUE, FALSE },
    { { "-ezq" }, TRUE, TRUE, TRUE },
    { { "-ez=false" }, TRUE, FALSE, FALSE },
    { { "-q", "--quiet=false" }, FALSE, FALSE, FALSE },
    /* A boolean never takes the next argument as its value. */
    { { "-z", "-e" }, TRUE, TRUE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[5] = { cases[i].args[0], cases[i].args[1], cases[i].args[2],
                              cases[i].args[3], NULL };
      g_autoptr (BackupOptions) options = parse_ok (args);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, args[0]);
      g_assert_cmpint (options->encrypt, ==, cases[i].encrypt);
      g_assert_cmpint (options->zipdir, ==, cases[i].zipdir);
      g_assert_cmpint (options->quiet, ==, cases[i].quiet);
    }

  /* Grouped booleans followed by an option with a value. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-eza", "KEY");

    g_assert_true (options->encrypt);
    g_assert_true (options->zipdir);
    g_assert_cmpstr (options->apikey, ==, "KEY");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-ezaKEY");

    g_assert_cmpstr (options->apikey, ==, "KEY");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-za=KEY");

    g_assert_true (options->zipdir);
    g_assert_cmpstr (options->apikey, ==, "KEY");
  }
  {
    /* After a value option, the rest of the group is its value. */
    g_autoptr (BackupOptions) options = PARSE_OK ("-aez");

    g_assert_cmpstr (options->apikey, ==, "ez");
    g_assert_false (options->encrypt);
  }

  /* The other booleans. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--relay-only", "--keep-listening",
                                                  "--no-progress");

    g_assert_true (options->relay_only);
    g_assert_true (options->keep_listening);
    g_assert_cmpint (options->progress, ==, BACKUP_OPTIONS_PROGRESS_OFF);
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--no-progress", "--progress");

    g_assert_cmpint (options->progress, ==, BACKUP_OPTIONS_PROGRESS_ON);
  }

  PARSE_FAILS ("invalid argument “maybe” for “-z, --zipdir”", "--zipdir=maybe");
  PARSE_FAILS ("invalid argument “yes” for “-z, --zipdir”", "-z=yes");
  PARSE_FAILS ("invalid argument “” for “-e, --encrypt”", "-e=");
  PARSE_FAILS ("invalid argument “2” for “--relay-only”", "--relay-only=2");
}

static void
test_end_of_options (void)
{
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-e", "--");

    g_assert_true (options->encrypt);
  }
  {
    /* Nothing after "--" is parsed. */
    g_autoptr (BackupOptions) options = parse_ok ((const char *const[]){ "--", NULL });

    g_assert_false (options->encrypt);
  }

  PARSE_FAILS ("unexpected argument “-z”", "-e", "--", "-z");
  PARSE_FAILS ("unexpected argument “file.txt”", "-e", "file.txt");
  PARSE_FAILS ("unexpected argument “-”", "-");
  PARSE_FAILS ("unexpected argument “”", "");
  PARSE_FAILS ("unexpected argument “extra”", "-a", "KEY", "extra");
}

static void
test_stun (void)
{
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-S", "a.example:1,b.example:2", "-S=c:3",
                                                  "--stun=d:4", "--stun", "e:5,f:6", "-Sg:7");
    const char *const expected[] = { "a.example:1", "b.example:2", "c:3", "d:4",
                                     "e:5", "f:6", "g:7", NULL };

    g_assert_true (options->stun_given);
    g_assert_cmpstrv ((const char *const *) options->stun->pdata, expected);
    g_assert_cmpstrv (backup_options_get_stun_servers (options), expected);
  }
  {
    /* An empty value: no STUN server at all (not the default). */
    g_autoptr (BackupOptions) options = PARSE_OK ("--stun=");

    g_assert_true (options->stun_given);
    g_assert_null (backup_options_get_stun_servers (options)[0]);
  }

  PARSE_FAILS ("empty item", "-S", "a:1,,b:2");
  PARSE_FAILS ("empty item", "-S", "a:1,");
  PARSE_FAILS ("flag needs an argument: --stun", "--stun");
  PARSE_FAILS ("flag needs an argument: “S” in -S", "-S");

  /* --ice-address and --turn accumulate too. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--ice-address=127.0.0.1,::1",
                                                  "--ice-address", "10.1.2.3",
                                                  "--turn", "turn:u:p@127.0.0.1:3478",
                                                  "--turn=turn:v:q@[::1]:5349?transport=tcp");
    const char *const addresses[] = { "127.0.0.1", "::1", "10.1.2.3", NULL };

    g_assert_cmpstrv ((const char *const *) options->ice_addresses->pdata, addresses);
    g_assert_cmpuint (options->turn->len, ==, 2);
    g_assert_cmpstr (g_ptr_array_index (options->turn, 1), ==,
                     "turn:v:q@[::1]:5349?transport=tcp");
  }
}

static void
test_versions (void)
{
  static const struct
  {
    const char *value;
    guint expected; /* 0: an error */
  } cases[] = {
    { "1", 1 },    { "3", 3 },       { "65535", 65535 }, { "0", 0 },  { "65536", 0 },
    { "-1", 0 },   { "abc", 0 },     { "", 0 },          { " 5", 0 }, { "+5", 0 },
    { "0x10", 0 }, { "99999999999999999999", 0 }, { "5 ", 0 },        { "010", 10 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *short_eq = g_strdup_printf ("-v=%s", cases[i].value);
      g_autofree char *long_eq = g_strdup_printf ("--versions=%s", cases[i].value);
      const char *const spellings[][3] = {
        { short_eq, NULL, NULL },
        { long_eq, NULL, NULL },
        { "-v", cases[i].value, NULL },
        { "--versions", cases[i].value, NULL },
      };

      for (gsize j = 0; j < G_N_ELEMENTS (spellings); j++)
        {
          GError *error = NULL;
          g_autoptr (BackupOptions) options = parse_v (&error, spellings[j]);

          if (cases[i].expected != 0)
            {
              g_assert_no_error (error);
              g_assert_cmpuint (options->versions, ==, cases[i].expected);
            }
          else
            {
              g_assert_null (options);
              g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
              g_assert_nonnull (strstr (error->message, "-v, --versions"));
              g_assert_nonnull (strstr (error->message, "1 to 65535"));
              g_clear_error (&error);
            }
        }
    }

  PARSE_FAILS ("flag needs an argument: “v” in -v", "-v");
}

static void
test_other_values (void)
{
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--timeout=0", "--zip-encryption", "aes128");

    g_assert_cmpuint (options->timeout, ==, 0);
    g_assert_cmpstr (options->zip_encryption, ==, "aes128");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--timeout", "3600");

    g_assert_cmpuint (options->timeout, ==, 3600);
  }

  PARSE_FAILS ("“--timeout”", "--timeout=-5");
  PARSE_FAILS ("“--timeout”", "--timeout=soon");
  PARSE_FAILS ("“--timeout”", "--timeout=99999999999");
  PARSE_FAILS ("expected aes256, aes128 or zipcrypto", "--zip-encryption=des");
  PARSE_FAILS ("“--turn”", "--turn=");
}

static void
test_unknown (void)
{
  PARSE_FAILS ("unknown flag: --foo", "--foo");
  PARSE_FAILS ("unknown flag: --foo", "--foo=bar");
  PARSE_FAILS ("unknown flag: --foo", "-e", "--foo", "-z");
  PARSE_FAILS ("unknown flag: --ZIPDIR", "--ZIPDIR");
  PARSE_FAILS ("unknown flag: --zip", "--zip"); /* no abbreviations */
  PARSE_FAILS ("unknown flag: --", "--=x");
  PARSE_FAILS ("unknown shorthand flag: “x” in -x", "-x");
  PARSE_FAILS ("unknown shorthand flag: “x” in -ezx", "-ezx");
  PARSE_FAILS ("unknown shorthand flag: “V” in -V", "-V");
  /* GOption's own spellings are not ours. */
  PARSE_FAILS ("unknown flag: --gapplication-service", "--gapplication-service");
}

static void
test_missing_values (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (string_options); i++)
    {
      const StringOption *option = &string_options[i];
      g_autofree char *long_name = g_strdup_printf ("--%s", option->long_name);
      g_autofree char *expected_long = g_strdup_printf ("flag needs an argument: --%s",
                                                        option->long_name);

      parse_fails (expected_long, (const char *const[]){ "-e", long_name, NULL });
      if (option->short_name != 0)
        {
          g_autofree char *short_name = g_strdup_printf ("-%c", option->short_name);
          g_autofree char *group = g_strdup_printf ("-ez%c", option->short_name);
          g_autofree char *expected_short =
            g_strdup_printf ("flag needs an argument: “%c” in -%c", option->short_name,
                             option->short_name);
          g_autofree char *expected_group =
            g_strdup_printf ("flag needs an argument: “%c” in -ez%c", option->short_name,
                             option->short_name);

          parse_fails (expected_short, (const char *const[]){ "-e", short_name, NULL });
          parse_fails (expected_group, (const char *const[]){ group, NULL });
        }
    }

  /* -a as the last argument, after a complete command. */
  PARSE_FAILS ("flag needs an argument: “a” in -a", "-u=x", "-d=/tmp", "-a");
}

static void
test_help_version (void)
{
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-h");

    g_assert_true (options->help);
  }
  {
    /* Parsing stops at the help request, as pflag does. */
    g_autoptr (BackupOptions) options = PARSE_OK ("-e", "--help", "--foo");

    g_assert_true (options->help);
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-eh", "-x");

    g_assert_true (options->help);
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--version");

    g_assert_true (options->version);
  }

  /* The help lists every option and its default. */
  {
    char *text = NULL;
    size_t len = 0;
    FILE *stream = open_memstream (&text, &len);
    static const char *const expected[] = {
      "-a, --apikey", "-d, --dstdir", "-e, --encrypt", "-o, --outfile", "-p, --passfile",
      "-1, --password1", "-2, --password2", "-s, --srcentry", "-S, --stun", "-u, --uuid",
      "-v, --versions", "-z, --zipdir", "--signaling", "--turn", "--ice-address",
      "--relay-only", "--vault-key", "--zip-encryption", "--timeout", "--keep-listening",
      "--progress", "--no-progress", "-q, --quiet", "--version ", "-h, --help",
      "stun.l.google.com:19302", "(default: 1)", "(default: 120)", "(default: aes256)",
      "-e -p=/path/to/passwords.txt -1=qwerty -2=asdfgh",
      "-z -s=/path/to/src/dir -o=output.zip -p=/path/to/passwords.txt",
    };
    const char *previous = NULL;

    backup_options_print_help (stream);
    fclose (stream);
    for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
      {
        const char *found = strstr (text, expected[i]);

        if (found == NULL)
          g_error ("the help lacks “%s”", expected[i]);
        /* The options come in the original's order, then the new ones. */
        if (i < 25)
          {
            g_assert_true (previous == NULL || found > previous);
            previous = found;
          }
      }
    free (text);
  }
}

static void
test_wants_cli (void)
{
  static const struct
  {
    const char *args[4];
    gboolean cli;
  } cases[] = {
    { { NULL }, FALSE },
    { { "--gapplication-service" }, FALSE },
    { { "--gapplication-app-id", "io.example.Other" }, FALSE },
    { { "--gapplication-app-id", "io.example.Other", "--gapplication-replace" }, FALSE },
    { { "-h" }, TRUE },
    { { "--help" }, TRUE },
    { { "--version" }, TRUE },
    { { "-e" }, TRUE },
    { { "-a=KEY" }, TRUE },
    { { "-d", "/tmp" }, TRUE },
    { { "--keep-listening" }, TRUE },
    { { "--foo" }, TRUE },
    { { "file.txt" }, TRUE },          /* does not exist: an error on the terminal */
    { { "/" }, FALSE },                /* an existing path opens the desktop application */
    { { "/", "-e" }, TRUE },
    { { "--gapplication-service", "-e" }, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *argv[6] = { (char *) "distributed-backup" };
      int argc = 1;

      for (guint j = 0; cases[i].args[j] != NULL; j++)
        argv[argc++] = (char *) cases[i].args[j];
      g_assert_cmpint (backup_cli_wants_cli (argc, argv), ==, cases[i].cli);
    }
}

static void
test_turn (void)
{
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  gboolean tcp = TRUE;
  GError *error = NULL;
  static const char *const bad[] = {
    "stun:127.0.0.1:3478",
    "turn:127.0.0.1:3478",
    "turn:user@127.0.0.1:3478",
    "turn::pass@127.0.0.1:3478",
    "turn:u:p@",
    "turn:u:p@127.0.0.1:99999",
    "turn:u:p@127.0.0.1:3478?transport=sctp",
    "turn:u:p@127.0.0.1:3478?foo",
  };

  g_assert_true (backup_options_parse_turn ("turn:alice:s%40cret@127.0.0.1:3479", &user,
                                            &password, &host, &port, &tcp, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "alice");
  g_assert_cmpstr (password, ==, "s@cret");
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpuint (port, ==, 3479);
  g_assert_false (tcp);
  g_clear_pointer (&user, g_free);
  g_clear_pointer (&password, g_free);
  g_clear_pointer (&host, g_free);

  g_assert_true (backup_options_parse_turn ("turn:bob:p:w@[::1]?transport=tcp", &user, &password,
                                            &host, &port, &tcp, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "bob");
  g_assert_cmpstr (password, ==, "p:w");
  g_assert_cmpstr (host, ==, "::1");
  g_assert_cmpuint (port, ==, 3478);
  g_assert_true (tcp);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (backup_options_parse_turn (bad[i], NULL, NULL, NULL, NULL, NULL, &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "--turn"));
      g_clear_error (&error);
    }
}

static void
test_uuid (void)
{
  g_autofree char *longest = g_strnfill (128, 'a');
  g_autofree char *too_long = g_strnfill (129, 'a');
  static const char *const bad[] = { "", "a b", "a/b", "ü", "a\tb", "a;b", "../x" };
  GError *error = NULL;

  g_assert_true (backup_options_check_uuid ("91c04021-045a-40ad-a4b0-0596cd604d8e", NULL));
  g_assert_true (backup_options_check_uuid ("Backup_1.x", NULL));
  g_assert_true (backup_options_check_uuid (longest, NULL));
  g_assert_false (backup_options_check_uuid (too_long, &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (backup_options_check_uuid (bad[i], &error));
      g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

/* Validation reads the password file and resolves the signaling. */
static void
test_validate_backup_mode (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-options-XXXXXX", &error);
  g_autofree char *passfile = g_build_filename (dir, "passwords.txt", NULL);
  g_autofree char *key = g_build_filename (dir, "vault.key", NULL);
  g_autofree char *file_uri = g_filename_to_uri (dir, NULL, NULL);

  g_assert_no_error (error);
  g_assert_true (backup_vault_write (passfile, "inner secret", "outer secret", key, &error));
  g_assert_no_error (error);

  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "session-1", "-p", passfile,
                                                  "--vault-key", key, "--signaling", file_uri,
                                                  "--no-progress");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (options->password1, ==, "inner secret");
    g_assert_cmpstr (options->password2, ==, "outer secret");
    g_assert_cmpstr (options->signaling_dir, ==, dir);
    g_assert_null (options->signaling_url);
    g_assert_false (options->show_progress);
  }
  {
    /* -a alone: FILE.io; no -p: empty passwords. */
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "session-1", "-a", "KEY",
                                                  "--progress");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (options->password1, ==, "");
    g_assert_cmpstr (options->password2, ==, "");
    g_assert_cmpstr (options->signaling_url, ==, "https://file.io");
    g_assert_null (options->signaling_dir);
    g_assert_true (options->show_progress);
  }
  {
    /* The key is needed: a missing or another key is refused. */
    g_autofree char *other_key = g_build_filename (dir, "other.key", NULL);
    g_autofree char *other_passfile = g_build_filename (dir, "other.txt", NULL);
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "session-1", "-p", passfile,
                                                  "--vault-key", other_key, "--signaling", dir);

    g_assert_false (backup_options_validate (options, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND);
    g_clear_error (&error);

    g_assert_true (backup_vault_write (other_passfile, "x", "y", other_key, &error));
    g_assert_no_error (error);
    g_assert_false (backup_options_validate (options, &error));
    g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT);
    g_clear_error (&error);
    g_unlink (other_passfile);
    g_unlink (other_key);
  }

  g_unlink (passfile);
  g_unlink (key);
  g_rmdir (dir);
}

static void
validate_fails (BackupOptions *options, const char *substring)
{
  GError *error = NULL;

  g_assert_false (backup_options_validate (options, &error));
  assert_usage_error (&error, substring);
}

/* The API key comes from -a, --apikey-file or the environment, and decides
 * FILE.io as the default signaling. */
static void
test_apikey_sources (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-options-XXXXXX", &error);
  g_autofree char *keyfile = g_build_filename (dir, "apikey", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (keyfile, "  FILE-KEY \r\nsecond line\n", -1, &error));
  g_assert_true (g_file_set_contents (empty, "\n", -1, &error));
  g_assert_no_error (error);
  g_unsetenv (BACKUP_OPTIONS_APIKEY_ENV);

  {
    /* The first line of the file, trimmed. */
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "--apikey-file", keyfile);

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (options->apikey_resolved, ==, "FILE-KEY");
    g_assert_cmpstr (options->signaling_url, ==, "https://file.io");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "-a", "K",
                                                  "--apikey-file", keyfile);

    validate_fails (options, "not both");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "--apikey-file", missing);

    validate_fails (options, "--apikey-file");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "--apikey-file", empty);

    validate_fails (options, "holds no key");
  }
  PARSE_FAILS ("--apikey-file", "-d", dir, "-u", "s", "--apikey-file=");

  g_setenv (BACKUP_OPTIONS_APIKEY_ENV, "ENV-KEY", TRUE);
  {
    /* The environment, when no key is given... */
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (options->apikey_resolved, ==, "ENV-KEY");
    g_assert_cmpstr (options->signaling_url, ==, "https://file.io");
  }
  {
    /* ...but -a wins, and an empty -a means no key at all. */
    g_autoptr (BackupOptions) with_a = PARSE_OK ("-d", dir, "-u", "s", "-a", "A-KEY");
    g_autoptr (BackupOptions) empty_a = PARSE_OK ("-d", dir, "-u", "s", "-a", "");

    g_assert_true (backup_options_validate (with_a, &error));
    g_assert_cmpstr (with_a->apikey_resolved, ==, "A-KEY");
    g_assert_true (backup_options_validate (empty_a, &error));
    g_assert_no_error (error);
    g_assert_null (empty_a->apikey_resolved);
    g_assert_null (empty_a->signaling_url);
  }
  g_unsetenv (BACKUP_OPTIONS_APIKEY_ENV);

  g_unlink (keyfile);
  g_unlink (empty);
  g_rmdir (dir);
}

/* An API key file that other users can read is used, with one warning
 * that says so and how to fix it; a private one gives none. */
static void
test_apikey_file_mode (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-options-XXXXXX", &error);
  g_autofree char *keyfile = g_build_filename (dir, "apikey", NULL);
  static const struct
  {
    int mode;
    gboolean warned;
  } cases[] = {
    { 0644, TRUE }, { 0604, TRUE }, { 0640, TRUE }, { 0600, FALSE }, { 0400, FALSE },
  };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (keyfile, "FILE-KEY\n", -1, &error));
  g_assert_no_error (error);
  g_unsetenv (BACKUP_OPTIONS_APIKEY_ENV);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "--apikey-file",
                                                    keyfile, "--signaling", dir);

      g_test_message ("mode %04o", (guint) cases[i].mode);
      g_assert_cmpint (g_chmod (keyfile, cases[i].mode), ==, 0);
      g_assert_true (backup_options_validate (options, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (options->apikey_resolved, ==, "FILE-KEY");
      if (cases[i].warned)
        {
          const char *warning;

          g_assert_cmpuint (options->warnings->len, ==, 1);
          warning = g_ptr_array_index (options->warnings, 0);
          g_assert_nonnull (strstr (warning, "readable by other users"));
          g_assert_nonnull (strstr (warning, "chmod 600"));
          g_assert_nonnull (strstr (warning, keyfile));
          g_assert_null (strchr (warning, '\n'));
        }
      else
        g_assert_cmpuint (options->warnings->len, ==, 0);
    }

  /* A key from -a or the environment has no file to check. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", dir, "-u", "s", "-a", "K",
                                                  "--signaling", dir);

    g_assert_true (backup_options_validate (options, &error));
    g_assert_cmpuint (options->warnings->len, ==, 0);
  }

  g_unlink (keyfile);
  g_rmdir (dir);
}

/* Runs backup_cli_main() on the NULL-terminated arguments. */
static int
run_cli (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("distributed-backup"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return backup_cli_main (argv->len - 1, (char **) argv->pdata);
}

#define RUN_CLI(...) run_cli ((const char *const[]){ __VA_ARGS__, NULL })

/* Bad input, a bad password file included, is exit status 2; a stop by a
 * signal is 128 + its number. */
static void
test_exit_status (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-options-XXXXXX", &error);
  g_autofree char *missing = g_build_filename (dir, "missing.txt", NULL);
  g_autofree char *corrupt = g_build_filename (dir, "corrupt.txt", NULL);
  g_autofree char *key = g_build_filename (dir, "vault.key", NULL);
  g_autofree char *other_key = g_build_filename (dir, "other.key", NULL);
  g_autofree char *passfile = g_build_filename (dir, "passwords.txt", NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (corrupt, "not a password file\n", -1, &error));
  g_assert_true (backup_vault_write (passfile, "a", "b", key, &error));
  g_assert_no_error (error);

  g_assert_cmpint (RUN_CLI ("-d", dir, "-u", "s", "--signaling", dir, "-p", missing,
                            "--vault-key", key),
                   ==, 2);
  g_assert_cmpint (RUN_CLI ("-d", dir, "-u", "s", "--signaling", dir, "-p", corrupt,
                            "--vault-key", key),
                   ==, 2);
  g_assert_cmpint (RUN_CLI ("-d", dir, "-u", "s", "--signaling", dir, "-p", dir,
                            "--vault-key", key),
                   ==, 2);
  /* The password file of another key. */
  g_assert_cmpint (RUN_CLI ("-d", dir, "-u", "s", "--signaling", dir, "-p", passfile,
                            "--vault-key", other_key),
                   ==, 2);
  /* As any other bad input. */
  g_assert_cmpint (RUN_CLI ("-d", missing, "-u", "s", "--signaling", dir), ==, 2);
  g_assert_cmpint (RUN_CLI ("--foo"), ==, 2);

  g_assert_cmpint (backup_cli_exit_status_for_signal (SIGINT), ==, 130);
  g_assert_cmpint (backup_cli_exit_status_for_signal (SIGTERM), ==, 143);
  g_assert_cmpint (backup_cli_exit_status_for_signal (SIGHUP), ==, 129);

  g_unlink (corrupt);
  g_unlink (passfile);
  g_unlink (key);
  g_unlink (other_key);
  g_rmdir (dir);
}

/* The options of paired devices: booleans, empty values, and the modes
 * they cannot be mixed with (checked before anything is read or created). */
static void
test_device_options (void)
{
  g_autoptr (BackupOptions) flags = PARSE_OK ("--invite", "--devices=false");
  GError *error = NULL;

  g_assert_true (flags->invite);
  g_assert_false (flags->devices);
  PARSE_FAILS ("expected a device name", "--device=");
  PARSE_FAILS ("expected a device name", "--unpair", "");
  PARSE_FAILS ("expected a device name", "--device-name=");
  PARSE_FAILS ("expected an invitation link", "--pair=");

  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--invite", "--pair", "x");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "only one of");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--devices", "-u", "x");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "-u, --uuid cannot be used with --devices");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--device-name", "x", "--devices");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "--device-name is only used with --invite, --pair, "
                                "--invite-nearby or --pair-nearby");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--pair", "https://example.com/pair");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "Invalid invitation link");
    g_assert_null (options->certificate);
  }
  /* Pairing on the local network: one mode, its own few options. */
  PARSE_FAILS ("expected a device name or fingerprint", "--pair-nearby=");
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--invite-nearby", "--pair-nearby", "x");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "only one of");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--invite-nearby", "-d", "/tmp");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "-d, --dstdir cannot be used with --invite-nearby");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--pair-nearby", "x", "--signaling",
                                                  "http://127.0.0.1:1/");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "--signaling cannot be used with --pair-nearby");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("-d", "/tmp", "-u",
                                                  "00000000-0000-0000-0000-000000000000",
                                                  "--signaling", "nearby:");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "is the signaling of devices paired on the local network");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--device", "x", "-e", "-p", "/tmp/p");

    g_assert_false (backup_options_validate (options, &error));
    assert_usage_error (&error, "--device cannot be used in encryption mode");
  }
}

/* The --s3-… options go with an s3://… location: -d of a receiver or of
 * --prune, or the archive of --restore, --list and --verify; each of these
 * needs the endpoint and the keys.  Nothing is asked of the service. */
static void
test_s3_options (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-options-XXXXXX", &error);
  g_autofree char *archive = g_build_filename (dir, "backup.zip", NULL);
  g_autofree char *keys = g_build_filename (dir, "keys", NULL);
  const char *endpoint = "http://127.0.0.1:9";

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (archive, "PK", -1, &error));
  g_assert_true (g_file_set_contents (keys, "AWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=b\n", -1,
                                      &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (keys, 0644), ==, 0);
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "secret", TRUE);
  g_unsetenv ("AWS_SESSION_TOKEN");

  {
    /* --prune of a bucket: its store, with the policy's bound. */
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://bucket/backups",
                                                  "--keep-last", "2", "--s3-endpoint", endpoint,
                                                  "--dry-run");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_true (BACKUP_IS_S3_STORE (options->storage));
    g_assert_cmpstr (backup_s3_store_get_bucket (BACKUP_S3_STORE (options->storage)), ==,
                     "bucket");
    g_assert_cmpstr (backup_s3_store_get_prefix (BACKUP_S3_STORE (options->storage)), ==,
                     "backups/");
    g_assert_cmpuint (backup_storage_get_versions (options->storage), ==,
                      BACKUP_STORE_MAX_VERSIONS);
    g_assert_null (options->s3_client);
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://bucket", "-v", "3",
                                                  "--s3-endpoint", endpoint);

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (backup_storage_get_versions (options->storage), ==, 3);
  }
  {
    /* The history commands: a client, no store. */
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", "s3://bucket/backups/", "--s3-endpoint",
                                                  endpoint, "--s3-region", "eu-west-3");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_true (BACKUP_IS_S3_CLIENT (options->s3_client));
    g_assert_cmpstr (backup_s3_client_get_region (options->s3_client), ==, "eu-west-3");
    g_assert_null (options->storage);
  }
  {
    g_autoptr (BackupOptions) options
        = PARSE_OK ("--restore", "s3://bucket/a/b.zip/20240101T000000.000000Z-x", "-d", dir,
                    "--s3-endpoint", endpoint, "--s3-path-style", "--no-progress");

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_true (backup_s3_client_get_path_style (options->s3_client));
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--verify", "s3://bucket/k", "--s3-endpoint",
                                                  endpoint);

    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
  }

  /* Refusals, one line each. */
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", "s3://bucket/k");

    validate_fails (options, "--list s3://… needs --s3-endpoint URL");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", archive, "--s3-endpoint", endpoint);

    validate_fails (options, "--s3-endpoint is only used with an s3://… location");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--restore", archive, "-d", dir, "--s3-region",
                                                  "x");

    validate_fails (options, "--s3-region is only used with an s3://… location");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", dir, "--keep-last", "1",
                                                  "--s3-path-style");

    validate_fails (options, "--s3-path-style is only used with an s3://… location");
  }
  {
    /* -d s3://… is the bucket of a receiver or --prune, never a restore's. */
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", archive, "-d", "s3://bucket/x",
                                                  "--s3-endpoint", endpoint);

    validate_fails (options, "--s3-endpoint is only used with an s3://… location");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--restore", "s3://bucket/k", "-d",
                                                  "s3://bucket/x", "--s3-endpoint", endpoint);

    validate_fails (options, "--restore writes into a folder, not into -d s3://…");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", "s3://b!/k", "--s3-endpoint",
                                                  endpoint);

    validate_fails (options, "cannot open “s3://b!/k” (--list)");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://x/p", "-v", "2",
                                                  "--s3-endpoint", endpoint);

    validate_fails (options, "cannot prune s3://x/p (-d)");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://bucket/p", "-v", "2",
                                                  "--s3-endpoint", "ftp://example.com");

    validate_fails (options, "--s3-endpoint: ");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://bucket/p", "--keep-last",
                                                  "1", "-1", "x", "--s3-endpoint", endpoint);

    validate_fails (options, "-1 and -2 cannot be used with --prune");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--verify", "s3://bucket/k", "--keep-daily",
                                                  "1", "--s3-endpoint", endpoint);

    validate_fails (options, "--keep-daily cannot be used with --verify");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--verify", "s3://bucket/k", "--s3-endpoint",
                                                  endpoint, "--s3-credentials-file", keys);

    validate_fails (options, "chmod 600");
  }
  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--verify", "s3://bucket/k", "--s3-endpoint",
                                                  endpoint);

    validate_fails (options, "--verify s3://… needs the S3 keys in $AWS_ACCESS_KEY_ID");
  }
  {
    g_autoptr (BackupOptions) options = PARSE_OK ("--prune", "-d", "s3://bucket/p", "-v", "2",
                                                  "--s3-endpoint", endpoint);

    validate_fails (options, "-d s3://… needs the S3 keys in $AWS_ACCESS_KEY_ID");
  }
  {
    /* The keys from a private file instead. */
    g_autoptr (BackupOptions) options = PARSE_OK ("--list", "s3://bucket/", "--s3-endpoint",
                                                  endpoint, "--s3-credentials-file", keys);

    g_assert_cmpint (g_chmod (keys, 0600), ==, 0);
    g_assert_true (backup_options_validate (options, &error));
    g_assert_no_error (error);
    g_assert_true (backup_s3_client_has_credentials (options->s3_client));
  }

  g_unlink (archive);
  g_unlink (keys);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/options/spellings", test_spellings);
  g_test_add_func ("/options/defaults", test_defaults);
  g_test_add_func ("/options/booleans", test_booleans);
  g_test_add_func ("/options/end-of-options", test_end_of_options);
  g_test_add_func ("/options/stun", test_stun);
  g_test_add_func ("/options/versions", test_versions);
  g_test_add_func ("/options/other-values", test_other_values);
  g_test_add_func ("/options/unknown", test_unknown);
  g_test_add_func ("/options/missing-values", test_missing_values);
  g_test_add_func ("/options/help-version", test_help_version);
  g_test_add_func ("/options/wants-cli", test_wants_cli);
  g_test_add_func ("/options/turn", test_turn);
  g_test_add_func ("/options/uuid", test_uuid);
  g_test_add_func ("/options/validate-backup-mode", test_validate_backup_mode);
  g_test_add_func ("/options/apikey-sources", test_apikey_sources);
  g_test_add_func ("/options/apikey-file-mode", test_apikey_file_mode);
  g_test_add_func ("/options/exit-status", test_exit_status);
  g_test_add_func ("/options/device-options", test_device_options);
  g_test_add_func ("/options/s3-options", test_s3_options);

  return g_test_run ();
}
