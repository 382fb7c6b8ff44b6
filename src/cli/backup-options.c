/* backup-options.c: the command line of distributed-backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file: the pflag-compatible parser, the checks of each option and the
 * help text share the one table of options below.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "backup-admission.h"
#include "backup-cli-config.h"
#include "backup-display.h"
#include "backup-error.h"
#include "backup-options.h"
#include "backup-pairing.h"
#include "backup-profile.h"
#include "backup-s3-store.h"
#include "backup-secrets.h"
#include "backup-signaling-open.h"
#include "backup-store.h"
#include "rtc-configuration.h"
#include "backup-vault.h"

#define MAX_NAME_LEN 255
/* How long the keyring may take to give the kept API key. */
#define KEPT_APIKEY_TIMEOUT_MS 5000
/* So that the timeout in milliseconds fits in a gint. */
#define MAX_TIMEOUT (G_MAXINT / 1000)

typedef enum
{
  OPT_APIKEY,
  OPT_APIKEY_FILE,
  OPT_DSTDIR,
  OPT_ENCRYPT,
  OPT_OUTFILE,
  OPT_PASSFILE,
  OPT_PASSWORD1,
  OPT_PASSWORD2,
  OPT_SRCENTRY,
  OPT_STUN,
  OPT_UUID,
  OPT_VERSIONS,
  OPT_ZIPDIR,
  OPT_SIGNALING,
  OPT_SIGNALING_CA,
  OPT_TURN,
  OPT_ICE_ADDRESS,
  OPT_RELAY_ONLY,
  OPT_VAULT_KEY,
  OPT_ZIP_ENCRYPTION,
  OPT_TIMEOUT,
  OPT_KEEP_LISTENING,
  OPT_S3_ENDPOINT,
  OPT_S3_REGION,
  OPT_S3_CA_FILE,
  OPT_S3_PATH_STYLE,
  OPT_S3_CREDENTIALS_FILE,
  OPT_PROGRESS,
  OPT_NO_PROGRESS,
  OPT_QUIET,
  OPT_RESTORE,
  OPT_LIST,
  OPT_VERIFY,
  OPT_FORCE,
  OPT_SHOW_PASSWORDS,
  OPT_YES,
  OPT_CONFIG,
  OPT_KEEP_LAST,
  OPT_KEEP_HOURLY,
  OPT_KEEP_DAILY,
  OPT_KEEP_WEEKLY,
  OPT_KEEP_MONTHLY,
  OPT_PRUNE,
  OPT_DRY_RUN,
  OPT_DEVICE,
  OPT_INVITE,
  OPT_PAIR,
  OPT_DEVICE_NAME,
  OPT_DEVICES,
  OPT_UNPAIR,
  OPT_NEARBY,
  OPT_NO_ANNOUNCE,
  OPT_INVITE_NEARBY,
  OPT_PAIR_NEARBY,
  OPT_ALL_DEVICES,
  OPT_MAX_TRANSFERS,
  OPT_QUOTA,
  OPT_S3_SAVE_KEYS,
  OPT_S3_FORGET_KEYS,
  OPT_VERSION,
  OPT_HELP,
} OptionId;

/* BackupOptions.given has a bit for each. */
G_STATIC_ASSERT (OPT_HELP < 64);

typedef struct
{
  OptionId id;
  char short_name; /* 0: long name only */
  const char *long_name;
  const char *value_name; /* NULL: a boolean */
  const char *description;
  const char *default_value; /* NULL: no default shown */
} OptionSpec;

/* In the order of the help text: the original tool's options first. */
static const OptionSpec option_specs[] = {
  { OPT_APIKEY, 'a', "apikey", N_("KEY"), N_("FILE.io API key for signaling"), NULL },
  { OPT_DSTDIR, 'd', "dstdir", N_("DIR"),
    N_("Receive: store files received from the other peer in DIR"), NULL },
  { OPT_ENCRYPT, 'e', "encrypt", NULL,
    N_("Encryption mode: write the password file (-p) from --password1 and --password2, "
       "then exit"),
    NULL },
  { OPT_OUTFILE, 'o', "outfile", N_("NAME"),
    N_("Name of the archive sent when a directory is zipped (-z)"), NULL },
  { OPT_PASSFILE, 'p', "passfile", N_("FILE"),
    N_("Password file: written in encryption mode, read in backup mode"), NULL },
  { OPT_PASSWORD1, '1', "password1", N_("PASSWORD"),
    N_("Inner zip password (encryption mode; asked for when missing)"), NULL },
  { OPT_PASSWORD2, '2', "password2", N_("PASSWORD"),
    N_("Outer zip password (encryption mode; asked for when missing)"), NULL },
  { OPT_SRCENTRY, 's', "srcentry", N_("PATH"), N_("Send: the file or directory to send"), NULL },
  { OPT_STUN, 'S', "stun", N_("HOST:PORT,…"),
    N_("STUN servers, comma-separated, repeatable (an empty value: none)"),
    BACKUP_OPTIONS_DEFAULT_STUN },
  { OPT_UUID, 'u', "uuid", N_("UUID"), N_("Session id shared by the two peers"), NULL },
  { OPT_VERSIONS, 'v', "versions", N_("N"),
    N_("Receive: versions kept of files with the same name (1 to 65535)"), "1" },
  { OPT_ZIPDIR, 'z', "zipdir", NULL,
    N_("Send: zip the directory -s twice, with the passwords of -p, as -o"), NULL },
  { OPT_SIGNALING, 0, "signaling", N_("URL|DIR"),
    N_("Signaling: the https:// or http:// URL of a FILE.io-compatible server, or a shared "
       "directory (path or file:// URL)"),
    N_("https://file.io with -a, else a directory of this machine") },
  { OPT_APIKEY_FILE, 0, "apikey-file", N_("FILE"),
    N_("Read the API key from the first line of FILE instead of -a (which other users can "
       "see in the process list); also $DISTRIBUTED_BACKUP_APIKEY"),
    NULL },
  { OPT_SIGNALING_CA, 0, "signaling-ca", N_("FILE"),
    N_("Trust only the CA certificates of this PEM file for an https:// signaling server (a "
       "self-hosted one with its own certificate)"),
    N_("the system's") },
  { OPT_TURN, 0, "turn", N_("URL"),
    N_("TURN server turn:USER:PASSWORD@HOST:PORT[?transport=tcp], repeatable"), NULL },
  { OPT_ICE_ADDRESS, 0, "ice-address", N_("ADDR,…"),
    N_("Use only these local IP addresses for the connection, repeatable"), N_("all") },
  { OPT_RELAY_ONLY, 0, "relay-only", NULL, N_("Connect only through the TURN servers"), NULL },
  { OPT_VAULT_KEY, 0, "vault-key", N_("FILE"),
    N_("Key of the password file (also $DISTRIBUTED_BACKUP_VAULT_KEY)"),
    N_("$XDG_CONFIG_HOME/distributed-backup/vault.key") },
  { OPT_ZIP_ENCRYPTION, 0, "zip-encryption", N_("METHOD"),
    N_("Send: zip encryption, aes256, aes128 or zipcrypto"), BACKUP_OPTIONS_DEFAULT_ZIP_ENCRYPTION },
  { OPT_TIMEOUT, 0, "timeout", N_("SECONDS"),
    N_("Give up when the peers have not connected after SECONDS (0: never)"), "120" },
  { OPT_KEEP_LISTENING, 0, "keep-listening", NULL,
    N_("Receive: stay up and receive one backup after another"), NULL },
  /* A receiver into S3-compatible object storage. */
  { OPT_S3_ENDPOINT, 0, "s3-endpoint", N_("URL"),
    N_("The https:// (or http://) address of the S3 service of -d s3://BUCKET/PREFIX (to "
       "receive into, or --prune) or of --restore, --list or --verify s3://BUCKET/KEY; the keys "
       "come from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN, or "
       "--s3-credentials-file"),
    NULL },
  { OPT_S3_REGION, 0, "s3-region", N_("REGION"), N_("The region of the S3 service"),
    "us-east-1" },
  { OPT_S3_CA_FILE, 0, "s3-ca-file", N_("FILE"),
    N_("Trust only the CA certificates of this PEM file for the S3 service"), N_("the system's") },
  { OPT_S3_PATH_STYLE, 0, "s3-path-style", NULL,
    N_("Name the bucket in the path of each request, not in the host name (Ceph, MinIO, an "
       "address without DNS)"),
    NULL },
  { OPT_S3_CREDENTIALS_FILE, 0, "s3-credentials-file", N_("FILE"),
    N_("Read the S3 keys from FILE (lines AWS_ACCESS_KEY_ID=…, AWS_SECRET_ACCESS_KEY=…, "
       "optionally AWS_SESSION_TOKEN=…), which only its owner may read"),
    NULL },
  /* Versions and retention. */
  { OPT_KEEP_LAST, 0, "keep-last", N_("N"),
    N_("Receive, --prune: keep the N newest versions of each name (with the rules below, a "
       "version stays if any rule keeps it; -v is then the most kept)"),
    NULL },
  { OPT_KEEP_HOURLY, 0, "keep-hourly", N_("N"),
    N_("Keep the newest version of each of the last N hours that have one (local time)"), NULL },
  { OPT_KEEP_DAILY, 0, "keep-daily", N_("N"),
    N_("Keep the newest version of each of the last N days that have one"), NULL },
  { OPT_KEEP_WEEKLY, 0, "keep-weekly", N_("N"),
    N_("Keep the newest version of each of the last N weeks (ISO, from Monday) that have one"),
    NULL },
  { OPT_KEEP_MONTHLY, 0, "keep-monthly", N_("N"),
    N_("Keep the newest version of each of the last N months that have one"), NULL },
  { OPT_PRUNE, 0, "prune", NULL,
    N_("Apply the --keep-… rules (or -v) to the versions in -d (a folder or "
       "s3://BUCKET/PREFIX) now, without a transfer"),
    NULL },
  { OPT_DRY_RUN, 0, "dry-run", NULL,
    N_("With --prune: list what would be kept and removed, and change nothing"), NULL },
  { OPT_PROGRESS, 0, "progress", NULL, N_("Show progress on standard error"),
    N_("when standard error is a terminal") },
  { OPT_NO_PROGRESS, 0, "no-progress", NULL, N_("Do not show progress"), NULL },
  { OPT_QUIET, 'q', "quiet", NULL, N_("Print only errors"), NULL },
  { OPT_RESTORE, 0, "restore", N_("ARCHIVE"),
    N_("Restore a received backup into -d, with the passwords of -p (or -1 and -2); "
       "s3://BUCKET/KEY is the version of that key in S3, downloaded and checked whole before "
       "anything is written"),
    NULL },
  { OPT_LIST, 0, "list", N_("ARCHIVE"),
    N_("List the entries of a received backup (also s3://BUCKET/KEY); an s3:// location that "
       "ends with “/”, names only the bucket, or names no object lists the versions stored "
       "under it instead: name, time, size, origin and key, the newest first"),
    NULL },
  { OPT_VERIFY, 0, "verify", N_("ARCHIVE"),
    N_("Read a received backup whole and check its integrity (also s3://BUCKET/KEY)"), NULL },
  { OPT_FORCE, 0, "force", NULL, N_("Restore: replace files that exist already"), NULL },
  { OPT_SHOW_PASSWORDS, 0, "show-passwords", NULL,
    N_("Print both passwords of the password file (-p), to keep them offline"), NULL },
  { OPT_YES, 0, "yes", NULL, N_("Do not ask before showing the passwords"), NULL },
  { OPT_CONFIG, 0, "config", N_("FILE"),
    N_("Run the backup profile of FILE (a receiver or a sender, see the README); options "
       "that the profile sets cannot be given with it"),
    NULL },
  { OPT_INVITE, 0, "invite", NULL,
    N_("Pair with another device: print an invitation link, then wait (see --timeout) for it "
       "to be opened with --pair"),
    NULL },
  { OPT_PAIR, 0, "pair", N_("LINK"),
    N_("Pair with the device that printed the invitation LINK (“-”: read it from standard "
       "input, which other users cannot see)"),
    NULL },
  { OPT_DEVICE_NAME, 0, "device-name", N_("NAME"),
    N_("This device's name, shown to the device it pairs with"),
    N_("the host's pretty name or host name") },
  { OPT_DEVICES, 0, "devices", NULL, N_("List the paired devices"), NULL },
  { OPT_UNPAIR, 0, "unpair", N_("NAME"), N_("Forget the paired device NAME"), NULL },
  { OPT_NEARBY, 0, "nearby", NULL,
    N_("List the devices of this program on the local network, seen within --timeout seconds "
       "(5 unless given), announcing this one meanwhile"),
    NULL },
  { OPT_INVITE_NEARBY, 0, "invite-nearby", NULL,
    N_("Pair with a device on the local network, without a server: announce this device as "
       "open to pairing, wait (see --timeout) for one to ask, then confirm the verification code "
       "that both show"),
    NULL },
  { OPT_PAIR_NEARBY, 0, "pair-nearby", N_("DEVICE"),
    N_("Pair with DEVICE on the local network (a name or fingerprint that --nearby lists), "
       "which waits with --invite-nearby; confirm the verification code that both show"),
    NULL },
  { OPT_NO_ANNOUNCE, 0, "no-announce", NULL,
    N_("Do not announce this device on the local network (a receiver with --keep-listening, "
       "and --nearby, announce it otherwise)"),
    NULL },
  { OPT_DEVICE, 0, "device", N_("NAME"),
    N_("Send or receive with the paired device NAME (its session id and signaling, and only "
       "its certificate), instead of -u"),
    NULL },
  { OPT_ALL_DEVICES, 0, "all-devices", NULL,
    N_("Receive from every paired device at once, each into a folder (or S3 prefix) of -d named "
       "after it, until stopped; devices paired or forgotten meanwhile are followed"),
    NULL },
  { OPT_MAX_TRANSFERS, 0, "max-transfers", N_("N"),
    N_("With --all-devices: receive at most N backups at once (1 to 1000); the other senders "
       "wait their turn"),
    "4" },
  { OPT_QUOTA, 0, "quota", N_("SIZE"),
    N_("Receive: the most that the versions in -d may take (for each device with "
       "--all-devices), e.g. 500G or 2TiB; a backup that would go beyond it is refused, and "
       "every version stays"),
    NULL },
  { OPT_S3_SAVE_KEYS, 0, "s3-save-keys", NULL,
    N_("Keep the S3 keys of $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN "
       "(or of --s3-credentials-file) in the keyring (else in a file only you can read), for "
       "the s3:// locations given without keys, then exit"),
    NULL },
  { OPT_S3_FORGET_KEYS, 0, "s3-forget-keys", NULL, N_("Forget the kept S3 keys, then exit"),
    NULL },
  { OPT_VERSION, 0, "version", NULL, N_("Print the version and exit"), NULL },
  { OPT_HELP, 'h', "help", NULL, N_("Print this help and exit"), NULL },
};

static const char *const default_stun[] = { BACKUP_OPTIONS_DEFAULT_STUN, NULL };

BackupOptions *
backup_options_new (void)
{
  BackupOptions *options = g_new0 (BackupOptions, 1);

  options->stun = g_ptr_array_new_null_terminated (1, g_free, TRUE);
  options->turn = g_ptr_array_new_null_terminated (1, g_free, TRUE);
  options->ice_addresses = g_ptr_array_new_null_terminated (1, g_free, TRUE);
  options->warnings = g_ptr_array_new_null_terminated (1, g_free, TRUE);
  options->versions = 1;
  options->zip_encryption = g_strdup (BACKUP_OPTIONS_DEFAULT_ZIP_ENCRYPTION);
  options->timeout = BACKUP_OPTIONS_DEFAULT_TIMEOUT;
  options->progress = BACKUP_OPTIONS_PROGRESS_AUTO;
  return options;
}

static void
free_secret (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

void
backup_options_free (BackupOptions *options)
{
  if (options == NULL)
    return;

  free_secret (options->apikey);
  free_secret (options->apikey_resolved);
  g_free (options->apikey_file);
  g_free (options->dstdir);
  g_free (options->outfile);
  g_free (options->passfile);
  free_secret (options->password1);
  free_secret (options->password2);
  g_free (options->srcentry);
  g_ptr_array_unref (options->stun);
  g_free (options->uuid);
  g_free (options->signaling);
  g_free (options->signaling_ca);
  g_clear_object (&options->signaling_ca_database);
  g_ptr_array_unref (options->turn);
  g_ptr_array_unref (options->ice_addresses);
  g_ptr_array_unref (options->warnings);
  g_free (options->vault_key);
  g_free (options->zip_encryption);
  g_free (options->signaling_url);
  g_free (options->signaling_dir);
  g_free (options->config);
  g_clear_object (&options->profile);
  g_free (options->restore);
  g_free (options->list);
  g_free (options->verify);
  g_free (options->device);
  free_secret (options->pair);
  g_free (options->device_name);
  g_free (options->unpair);
  g_free (options->pair_nearby);
  g_free (options->s3_endpoint);
  g_free (options->s3_region);
  g_free (options->s3_ca_file);
  g_free (options->s3_credentials_file);
  free_secret (options->s3_keys_line);
  g_clear_object (&options->storage);
  g_clear_object (&options->s3_client);
  g_clear_object (&options->certificate);
  g_clear_pointer (&options->link, backup_device_link_free);
  g_free (options->own_device_name);
  g_clear_pointer (&options->paired_device, backup_device_free);
  g_free (options);
}

const char *const *
backup_options_get_stun_servers (BackupOptions *options)
{
  g_return_val_if_fail (options != NULL, NULL);

  if (!options->stun_given)
    return default_stun;
  return (const char *const *) options->stun->pdata;
}

/* "-a, --apikey" or "--signaling", as the option is named in messages. */
static char *
option_display_name (const OptionSpec *spec)
{
  if (spec->short_name != 0)
    return g_strdup_printf ("-%c, --%s", spec->short_name, spec->long_name);
  return g_strdup_printf ("--%s", spec->long_name);
}

static gboolean
invalid_value (const OptionSpec *spec, const char *value, const char *expected, GError **error)
{
  g_autofree char *name = option_display_name (spec);

  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
               _("invalid argument “%s” for “%s”: %s"), value, name, expected);
  return FALSE;
}

/* The spellings of Go's strconv.ParseBool, which pflag uses. */
static gboolean
parse_bool (const OptionSpec *spec, const char *value, gboolean *out, GError **error)
{
  static const char *const true_values[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
  static const char *const false_values[] = { "0", "f", "F", "FALSE", "false", "False", NULL };

  if (g_strv_contains (true_values, value))
    *out = TRUE;
  else if (g_strv_contains (false_values, value))
    *out = FALSE;
  else
    return invalid_value (spec, value, _("expected true or false"), error);
  return TRUE;
}

static gboolean
parse_unsigned (const char *value, guint64 min, guint64 max, guint64 *out)
{
  guint64 number;

  /* Digits only: no sign, no space, no base prefix. */
  if (value[0] == '\0' || strspn (value, "0123456789") != strlen (value))
    return FALSE;
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL))
    return FALSE;
  *out = number;
  return TRUE;
}

static gboolean
append_list (const OptionSpec *spec, GPtrArray *list, const char *value, GError **error)
{
  g_auto (GStrv) items = NULL;

  /* An empty value gives an empty list (as pflag does). */
  if (value[0] == '\0')
    return TRUE;

  items = g_strsplit (value, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (items[i][0] == '\0')
        return invalid_value (spec, value, _("empty item in the list"), error);
      g_ptr_array_add (list, g_strdup (items[i]));
    }
  return TRUE;
}

static void
replace_string (char **field, const char *value, gboolean secret)
{
  if (secret)
    free_secret (*field);
  else
    g_free (*field);
  *field = g_strdup (value);
}

/* The member of the policy that a --keep-… option sets. */
static guint *
retention_rule (BackupOptions *options, OptionId id)
{
  switch (id)
    {
    case OPT_KEEP_LAST:
      return &options->retention.last;
    case OPT_KEEP_HOURLY:
      return &options->retention.hourly;
    case OPT_KEEP_DAILY:
      return &options->retention.daily;
    case OPT_KEEP_WEEKLY:
      return &options->retention.weekly;
    case OPT_KEEP_MONTHLY:
      return &options->retention.monthly;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
set_option (BackupOptions *options, const OptionSpec *spec, const char *value, GError **error)
{
  gboolean flag = TRUE;
  guint64 number;

  if (spec->value_name == NULL && value != NULL && !parse_bool (spec, value, &flag, error))
    return FALSE;
  options->given |= G_GUINT64_CONSTANT (1) << spec->id;

  switch (spec->id)
    {
    case OPT_APIKEY_FILE:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a file name"), error);
      replace_string (&options->apikey_file, value, FALSE);
      break;
    case OPT_APIKEY:
      replace_string (&options->apikey, value, TRUE);
      break;
    case OPT_DSTDIR:
      replace_string (&options->dstdir, value, FALSE);
      break;
    case OPT_S3_ENDPOINT:
      replace_string (&options->s3_endpoint, value, FALSE);
      break;
    case OPT_S3_REGION:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a region name"), error);
      replace_string (&options->s3_region, value, FALSE);
      break;
    case OPT_S3_CA_FILE:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a file of PEM certificates"), error);
      replace_string (&options->s3_ca_file, value, FALSE);
      break;
    case OPT_S3_PATH_STYLE:
      options->s3_path_style = flag;
      break;
    case OPT_S3_CREDENTIALS_FILE:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a file name"), error);
      replace_string (&options->s3_credentials_file, value, FALSE);
      break;
    case OPT_ENCRYPT:
      options->encrypt = flag;
      break;
    case OPT_OUTFILE:
      replace_string (&options->outfile, value, FALSE);
      break;
    case OPT_PASSFILE:
      replace_string (&options->passfile, value, FALSE);
      break;
    case OPT_PASSWORD1:
      replace_string (&options->password1, value, TRUE);
      break;
    case OPT_PASSWORD2:
      replace_string (&options->password2, value, TRUE);
      break;
    case OPT_SRCENTRY:
      replace_string (&options->srcentry, value, FALSE);
      break;
    case OPT_STUN:
      options->stun_given = TRUE;
      return append_list (spec, options->stun, value, error);
    case OPT_UUID:
      replace_string (&options->uuid, value, FALSE);
      break;
    case OPT_VERSIONS:
      if (!parse_unsigned (value, 1, G_MAXUINT16, &number))
        return invalid_value (spec, value, _("expected a number from 1 to 65535"), error);
      options->versions = number;
      break;
    case OPT_ZIPDIR:
      options->zipdir = flag;
      break;
    case OPT_SIGNALING:
      replace_string (&options->signaling, value, FALSE);
      break;
    case OPT_SIGNALING_CA:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a file of PEM certificates"), error);
      replace_string (&options->signaling_ca, value, FALSE);
      break;
    case OPT_TURN:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a turn: URL"), error);
      g_ptr_array_add (options->turn, g_strdup (value));
      break;
    case OPT_ICE_ADDRESS:
      return append_list (spec, options->ice_addresses, value, error);
    case OPT_RELAY_ONLY:
      options->relay_only = flag;
      break;
    case OPT_VAULT_KEY:
      replace_string (&options->vault_key, value, FALSE);
      break;
    case OPT_ZIP_ENCRYPTION:
      if (g_strcmp0 (value, "aes256") != 0 && g_strcmp0 (value, "aes128") != 0
          && g_strcmp0 (value, "zipcrypto") != 0)
        return invalid_value (spec, value, _("expected aes256, aes128 or zipcrypto"), error);
      replace_string (&options->zip_encryption, value, FALSE);
      break;
    case OPT_TIMEOUT:
      if (!parse_unsigned (value, 0, MAX_TIMEOUT, &number))
        {
          g_autofree char *expected = g_strdup_printf (_("expected a number of seconds from 0 to %d"),
                                                       MAX_TIMEOUT);
          return invalid_value (spec, value, expected, error);
        }
      options->timeout = number;
      break;
    case OPT_KEEP_LISTENING:
      options->keep_listening = flag;
      break;
    case OPT_PROGRESS:
      options->progress = flag ? BACKUP_OPTIONS_PROGRESS_ON : BACKUP_OPTIONS_PROGRESS_OFF;
      break;
    case OPT_NO_PROGRESS:
      options->progress = flag ? BACKUP_OPTIONS_PROGRESS_OFF : BACKUP_OPTIONS_PROGRESS_ON;
      break;
    case OPT_QUIET:
      options->quiet = flag;
      break;
    case OPT_RESTORE:
    case OPT_LIST:
    case OPT_VERIFY:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected an archive"), error);
      replace_string (spec->id == OPT_RESTORE ? &options->restore
                      : spec->id == OPT_LIST  ? &options->list
                                              : &options->verify,
                      value, FALSE);
      break;
    case OPT_FORCE:
      options->force = flag;
      break;
    case OPT_SHOW_PASSWORDS:
      options->show_passwords = flag;
      break;
    case OPT_YES:
      options->yes = flag;
      break;
    case OPT_CONFIG:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a file name"), error);
      replace_string (&options->config, value, FALSE);
      break;
    case OPT_KEEP_LAST:
    case OPT_KEEP_HOURLY:
    case OPT_KEEP_DAILY:
    case OPT_KEEP_WEEKLY:
    case OPT_KEEP_MONTHLY:
      if (!parse_unsigned (value, 1, BACKUP_RETENTION_MAX, &number))
        return invalid_value (spec, value, _("expected a number from 1 to 65535"), error);
      *retention_rule (options, spec->id) = (guint) number;
      break;
    case OPT_PRUNE:
      options->prune = flag;
      break;
    case OPT_ALL_DEVICES:
      options->all_devices = flag;
      break;
    case OPT_S3_SAVE_KEYS:
      options->s3_save_keys = flag;
      break;
    case OPT_S3_FORGET_KEYS:
      options->s3_forget_keys = flag;
      break;
    case OPT_MAX_TRANSFERS:
      if (!parse_unsigned (value, 1, BACKUP_ADMISSION_MAX, &number))
        return invalid_value (spec, value, _("expected a number from 1 to 1000"), error);
      options->max_transfers = (guint) number;
      break;
    case OPT_QUOTA:
      {
        g_autoptr (GError) cause = NULL;

        if (!backup_parse_size (value, &options->quota, &cause))
          return invalid_value (spec, value, cause->message, error);
      }
      break;
    case OPT_DRY_RUN:
      options->dry_run = flag;
      break;
    case OPT_DEVICE:
    case OPT_UNPAIR:
    case OPT_DEVICE_NAME:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a device name"), error);
      replace_string (spec->id == OPT_DEVICE     ? &options->device
                      : spec->id == OPT_UNPAIR ? &options->unpair
                                               : &options->device_name,
                      value, FALSE);
      break;
    case OPT_PAIR_NEARBY:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected a device name or fingerprint"), error);
      replace_string (&options->pair_nearby, value, FALSE);
      break;
    case OPT_PAIR:
      if (value[0] == '\0')
        return invalid_value (spec, value, _("expected an invitation link"), error);
      replace_string (&options->pair, value, TRUE);
      break;
    case OPT_INVITE:
      options->invite = flag;
      break;
    case OPT_DEVICES:
      options->devices = flag;
      break;
    case OPT_INVITE_NEARBY:
      options->invite_nearby = flag;
      break;
    case OPT_NEARBY:
      options->nearby = flag;
      break;
    case OPT_NO_ANNOUNCE:
      options->no_announce = flag;
      break;
    case OPT_VERSION:
      options->version = flag;
      break;
    case OPT_HELP:
      options->help = flag;
      break;
    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

static const OptionSpec *
find_long (const char *name, gsize len)
{
  for (gsize i = 0; i < G_N_ELEMENTS (option_specs); i++)
    if (strlen (option_specs[i].long_name) == len
        && strncmp (option_specs[i].long_name, name, len) == 0)
      return &option_specs[i];
  return NULL;
}

static const OptionSpec *
find_short (char name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (option_specs); i++)
    if (option_specs[i].short_name == name)
      return &option_specs[i];
  return NULL;
}

static gboolean
stops_parsing (BackupOptions *options)
{
  return options->help || options->version;
}

/* --name, --name=value, --name value. */
static gboolean
parse_long (BackupOptions *options, int argc, char **argv, int *index, GError **error)
{
  const char *arg = argv[*index] + 2;
  const char *equals = strchr (arg, '=');
  gsize name_len = equals != NULL ? (gsize) (equals - arg) : strlen (arg);
  const OptionSpec *spec = find_long (arg, name_len);
  const char *value = equals != NULL ? equals + 1 : NULL;

  if (spec == NULL || name_len == 0)
    {
      g_autofree char *name = g_strndup (arg, name_len);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, _("unknown flag: --%s"),
                   name);
      return FALSE;
    }

  if (spec->value_name != NULL && value == NULL)
    {
      if (*index + 1 >= argc)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("flag needs an argument: --%s"), spec->long_name);
          return FALSE;
        }
      *index += 1;
      value = argv[*index];
    }

  return set_option (options, spec, value, error);
}

/* -a value, -a=value, -avalue, grouped booleans -ez, -z=false. */
static gboolean
parse_short (BackupOptions *options, int argc, char **argv, int *index, GError **error)
{
  const char *group = argv[*index];
  const char *p = group + 1;

  while (*p != '\0' && !stops_parsing (options))
    {
      const OptionSpec *spec = find_short (*p);
      const char *value = NULL;

      if (spec == NULL)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("unknown shorthand flag: “%c” in %s"), *p, group);
          return FALSE;
        }

      if (p[1] == '=')
        {
          /* The rest of the argument is the value, for any kind of option. */
          value = p + 2;
          p += strlen (p);
        }
      else if (spec->value_name != NULL && p[1] != '\0')
        {
          value = p + 1;
          p += strlen (p);
        }
      else if (spec->value_name != NULL)
        {
          if (*index + 1 >= argc)
            {
              g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("flag needs an argument: “%c” in %s"), *p, group);
              return FALSE;
            }
          *index += 1;
          value = argv[*index];
          p++;
        }
      else
        p++;

      if (!set_option (options, spec, value, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
backup_options_parse (int argc, char **argv, BackupOptions **out, GError **error)
{
  g_autoptr (BackupOptions) options = backup_options_new ();

  g_return_val_if_fail (argc >= 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (int i = 1; i < argc && !stops_parsing (options); i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--") == 0)
        {
          if (i + 1 < argc)
            {
              g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("unexpected argument “%s”: only options are accepted"), argv[i + 1]);
              return FALSE;
            }
          break;
        }

      if (g_str_has_prefix (arg, "--"))
        {
          if (!parse_long (options, argc, argv, &i, error))
            return FALSE;
        }
      else if (arg[0] == '-' && arg[1] != '\0')
        {
          if (!parse_short (options, argc, argv, &i, error))
            return FALSE;
        }
      else
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                       _("unexpected argument “%s”: only options are accepted"), arg);
          return FALSE;
        }
    }

  *out = g_steal_pointer (&options);
  return TRUE;
}

static gboolean
usage_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
usage_error (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
backup_options_check_uuid (const char *uuid, GError **error)
{
  if (uuid[0] == '\0')
    return usage_error (error, _("the session id (-u) is empty"));
  if (!backup_pairing_check_session_id (uuid, NULL))
    return usage_error (error,
                        _("invalid session id (-u): use 1 to %d letters, digits, “-”, “_” or “.”"),
                        BACKUP_PAIRING_MAX_SESSION_ID);
  return TRUE;
}

static gboolean
check_outfile (const char *name, GError **error)
{
  if (name[0] == '\0' || strlen (name) > MAX_NAME_LEN || strchr (name, '/') != NULL
      || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return usage_error (error,
                        _("invalid archive name “%s” (-o): use a file name of at most %d bytes, "
                          "without “/”"),
                        name, MAX_NAME_LEN);
  return TRUE;
}

gboolean
backup_options_parse_turn (const char *url,
                           char **user,
                           char **password,
                           char **host,
                           guint16 *port,
                           gboolean *tcp,
                           GError **error)
{
  g_return_val_if_fail (url != NULL, FALSE);

  /* The URL holds a password: it is not repeated. */
  if (!rtc_configuration_parse_turn_server (url, user, password, host, port, tcp, NULL))
    return usage_error (error, _("invalid TURN server (--turn): expected %s"),
                        "turn:USER:PASSWORD@HOST:PORT[?transport=udp|tcp]");
  return TRUE;
}

/* The network options, checked by the parsers that will use them. */
static gboolean
check_network_options (BackupOptions *options, GError **error)
{
  for (guint i = 0; i < options->stun->len; i++)
    {
      const char *server = g_ptr_array_index (options->stun, i);

      if (!rtc_configuration_parse_stun_server (server, NULL, NULL, NULL))
        return usage_error (error, _("invalid STUN server “%s” (-S): expected HOST:PORT"), server);
    }

  for (guint i = 0; i < options->turn->len; i++)
    if (!backup_options_parse_turn (g_ptr_array_index (options->turn, i), NULL, NULL, NULL, NULL,
                                    NULL, error))
      return FALSE;

  for (guint i = 0; i < options->ice_addresses->len; i++)
    {
      const char *text = g_ptr_array_index (options->ice_addresses, i);

      if (!rtc_configuration_check_local_address (text, NULL))
        return usage_error (error,
                            _("invalid local address “%s” (--ice-address): expected an IP "
                              "address"),
                            text);
    }

  if (options->relay_only && options->turn->len == 0)
    return usage_error (error, _("--relay-only needs at least one TURN server (--turn)"));

  return TRUE;
}

static gboolean
check_signaling (BackupOptions *options, GError **error)
{
  const char *signaling = options->signaling;
  g_autofree char *url = NULL;
  g_autofree char *path = NULL;

  if (signaling == NULL)
    {
      /* Neither: the embedded default, a folder shared by the peers of
       * this machine (signaling_url and signaling_dir stay NULL). */
      if (options->apikey_resolved == NULL)
        return TRUE;
      options->signaling_url = g_strdup (BACKUP_SIGNALING_DEFAULT_URL);
      return TRUE;
    }

  if (signaling[0] == '\0')
    return usage_error (error, _("--signaling is empty"));
  if (g_ascii_strcasecmp (signaling, BACKUP_SIGNALING_NEARBY) == 0)
    {
      /* A device paired on the local network: found when the backup starts. */
      if (options->paired_device != NULL)
        return TRUE;
      return usage_error (error, _("“%s” is the signaling of devices paired on the local "
                                   "network (--pair-nearby): use --device"),
                          signaling);
    }

  if (!backup_signaling_resolve (signaling, NULL, &url, &path, NULL))
    return usage_error (error,
                        _("invalid signaling “%s”: use an https://, http:// or file:// URL, "
                          "or a directory"),
                        signaling);

  if (url != NULL)
    {
      g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
        return usage_error (error, _("invalid signaling URL “%s”: no host"), signaling);
      options->signaling_url = g_steal_pointer (&url);
      return TRUE;
    }

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *display = g_filename_display_name (path);

      return usage_error (error, _("the signaling directory “%s” does not exist"), display);
    }
  options->signaling_dir = g_steal_pointer (&path);
  return TRUE;
}

/* A warning when other users can read the API key file, as ssh warns of a
 * private key file that is not private. */
static void
check_apikey_file_mode (BackupOptions *options, const char *display)
{
  struct stat st;

  if (stat (options->apikey_file, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
    return;

  g_ptr_array_add (options->warnings,
                   g_strdup_printf (_("warning: the API key file “%s” (--apikey-file) is "
                                      "readable by other users; make it private with "
                                      "“chmod 600 %s”"),
                                    display, display));
}

/* The API key: -a, else the first line of --apikey-file, else
 * $DISTRIBUTED_BACKUP_APIKEY; an empty one counts as none. */
static gboolean
resolve_apikey (BackupOptions *options, GError **error)
{
  const char *env = g_getenv (BACKUP_OPTIONS_APIKEY_ENV);

  if (options->apikey != NULL && options->apikey_file != NULL)
    return usage_error (error, _("give the API key with -a or with --apikey-file, not both"));

  if (options->apikey_file != NULL)
    {
      g_autofree char *display = g_filename_display_name (options->apikey_file);
      g_autoptr (GError) local_error = NULL;
      char *contents = NULL;
      gsize length = 0;
      char *end;

      if (!g_file_get_contents (options->apikey_file, &contents, &length, &local_error))
        return usage_error (error, _("cannot read the API key file “%s” (--apikey-file): %s"),
                            display, local_error->message);
      end = contents + strcspn (contents, "\r\n");
      *end = '\0';
      g_strstrip (contents);
      if (contents[0] != '\0')
        options->apikey_resolved = g_strdup (contents);
      explicit_bzero (contents, length);
      g_free (contents);
      if (options->apikey_resolved == NULL)
        return usage_error (error, _("the API key file “%s” (--apikey-file) holds no key"),
                            display);
      check_apikey_file_mode (options, display);
      return TRUE;
    }

  if (options->apikey != NULL && options->apikey[0] != '\0')
    options->apikey_resolved = g_strdup (options->apikey);
  else if (options->apikey == NULL && env != NULL && env[0] != '\0')
    options->apikey_resolved = g_strdup (env);
  return TRUE;
}

/* No key given (-a, --apikey-file, $DISTRIBUTED_BACKUP_APIKEY) and a
 * server at @url to talk to: the key that the desktop application keeps
 * (keyring or private file), when there is one. Never asked for; a key
 * that cannot be read is a warning, as if none was kept. An explicit
 * empty -a means no key. */
static void
use_kept_apikey (BackupOptions *options, const char *url)
{
  g_autoptr (GError) error = NULL;
  char *kept;

  if (url == NULL || options->apikey_resolved != NULL || options->apikey != NULL)
    return;
  kept = backup_secret_lookup_sync (BACKUP_SECRET_API_KEY, KEPT_APIKEY_TIMEOUT_MS, NULL, NULL,
                                    &error);
  if (error != NULL)
    {
      g_ptr_array_add (options->warnings,
                       /* Translators: %s says why (from the keyring or the file system) */
                       g_strdup_printf (_("warning: the saved API key could not be read: %s"),
                                        error->message));
      return;
    }
  options->apikey_resolved = kept;
}

/* --signaling-ca: only with an https:// server, and a file that holds
 * certificates, loaded here for the connection. */
static gboolean
check_signaling_ca (BackupOptions *options, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *display = NULL;

  if (options->signaling_ca == NULL)
    return TRUE;
  if (options->signaling_url == NULL
      || g_ascii_strncasecmp (options->signaling_url, "https://", 8) != 0)
    return usage_error (error, _("--signaling-ca needs an https:// signaling server"));

  display = g_filename_display_name (options->signaling_ca);
  options->signaling_ca_database = g_tls_file_database_new (options->signaling_ca, &local_error);
  if (options->signaling_ca_database == NULL)
    return usage_error (error, _("cannot use “%s” (--signaling-ca): %s"), display,
                        local_error->message);
  return TRUE;
}

static gboolean
check_sender (BackupOptions *options, GError **error)
{
  g_autofree char *display = g_filename_display_name (options->srcentry);
  struct stat st;

  if (options->srcentry[0] == '\0')
    return usage_error (error, _("the source (-s) is empty"));
  if (stat (options->srcentry, &st) < 0)
    return usage_error (error, _("cannot send “%s” (-s): %s"), display, g_strerror (errno));

  if (options->zipdir)
    {
      if (!S_ISDIR (st.st_mode))
        return usage_error (error, _("-z sends a directory, but “%s” (-s) is not a directory"),
                            display);
      if (options->outfile == NULL)
        return usage_error (error, _("-z needs -o NAME, the name of the archive to send"));
      if (!check_outfile (options->outfile, error))
        return FALSE;
      if (options->passfile == NULL)
        return usage_error (error,
                            _("-z needs -p FILE, the password file written with -e"));
    }
  else
    {
      if (S_ISDIR (st.st_mode))
        return usage_error (error, _("“%s” (-s) is a directory: send it zipped with -z -o NAME"),
                            display);
      if (!S_ISREG (st.st_mode))
        return usage_error (error, _("“%s” (-s) is not a regular file"), display);
      if (options->outfile != NULL)
        return usage_error (error, _("-o names the archive of -z; it needs -z"));
    }

  if (access (options->srcentry, R_OK) < 0)
    return usage_error (error, _("cannot send “%s” (-s): %s"), display, g_strerror (errno));

  return TRUE;
}

/* --- -d s3://BUCKET/PREFIX -------------------------------------------------- */


static gboolean given (BackupOptions *options, OptionId id);

static const OptionId s3_options[] = {
  OPT_S3_ENDPOINT, OPT_S3_REGION, OPT_S3_CA_FILE, OPT_S3_PATH_STYLE, OPT_S3_CREDENTIALS_FILE,
};

/* Reads AWS_ACCESS_KEY_ID=…, AWS_SECRET_ACCESS_KEY=… and AWS_SESSION_TOKEN=…
 * lines from a file that only its owner may read. */
/* The one line a kept secret holds, or NULL (with @error) for keys that
 * cannot be one. */
static char *
s3_keys_line (const char *id, const char *secret, const char *token, GError **error)
{
  const char *parts[] = { id, secret, token };

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL && strpbrk (parts[i], " \t\r\n") != NULL)
      {
        usage_error (error, _("an S3 key cannot hold spaces"));
        return NULL;
      }
  if (token != NULL && *token != '\0')
    return g_strdup_printf ("%s %s %s", id, secret, token);
  return g_strdup_printf ("%s %s", id, secret);
}

/* The keys kept with --s3-save-keys, if any: TRUE when @client got them,
 * FALSE without @error when none are kept. */
static gboolean
use_kept_s3_keys (BackupS3Client *client, GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_auto (GStrv) parts = NULL;
  char *kept;

  kept = backup_secret_lookup_sync (BACKUP_SECRET_S3_KEYS, KEPT_APIKEY_TIMEOUT_MS, NULL, NULL,
                                    &cause);
  if (kept == NULL)
    {
      if (cause != NULL)
        usage_error (error, _("the kept S3 keys cannot be read: %s"), cause->message);
      return FALSE;
    }
  parts = g_strsplit (kept, " ", 4);
  backup_secret_free (kept);
  if (g_strv_length (parts) < 2 || g_strv_length (parts) > 3 || *parts[0] == '\0'
      || *parts[1] == '\0')
    {
      for (guint i = 0; parts[i] != NULL; i++)
        explicit_bzero (parts[i], strlen (parts[i]));
      usage_error (error, _("the kept S3 keys are damaged: keep them again with --s3-save-keys"));
      return FALSE;
    }
  backup_s3_client_set_credentials (client, parts[0], parts[1], parts[2]);
  for (guint i = 0; parts[i] != NULL; i++)
    explicit_bzero (parts[i], strlen (parts[i]));
  return TRUE;
}

static gboolean
read_s3_credentials (BackupOptions *options, BackupS3Client *client, GError **error)
{
  g_autofree char *display = g_filename_display_name (options->s3_credentials_file);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) cause = NULL;
  const char *id = NULL, *secret = NULL, *token = NULL;
  gsize length = 0;
  struct stat st;

  if (stat (options->s3_credentials_file, &st) < 0)
    return usage_error (error, _("cannot read “%s” (--s3-credentials-file): %s"), display,
                        g_strerror (errno));
  if (!S_ISREG (st.st_mode))
    return usage_error (error, _("“%s” (--s3-credentials-file) is not a regular file"), display);
  if ((st.st_mode & 077) != 0)
    return usage_error (error,
                        _("“%s” (--s3-credentials-file) can be read by other users: make it "
                          "private with chmod 600"),
                        display);
  if (!g_file_get_contents (options->s3_credentials_file, &contents, &length, &cause))
    return usage_error (error, _("cannot read “%s” (--s3-credentials-file): %s"), display,
                        cause->message);
  lines = g_strsplit (contents, "\n", -1);
  explicit_bzero (contents, length);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "AWS_ACCESS_KEY_ID="))
        id = line + strlen ("AWS_ACCESS_KEY_ID=");
      else if (g_str_has_prefix (line, "AWS_SECRET_ACCESS_KEY="))
        secret = line + strlen ("AWS_SECRET_ACCESS_KEY=");
      else if (g_str_has_prefix (line, "AWS_SESSION_TOKEN="))
        token = line + strlen ("AWS_SESSION_TOKEN=");
    }
  if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
    {
      for (guint i = 0; lines[i] != NULL; i++)
        explicit_bzero (lines[i], strlen (lines[i]));
      return usage_error (error,
                          _("“%s” (--s3-credentials-file) needs an AWS_ACCESS_KEY_ID= and an "
                            "AWS_SECRET_ACCESS_KEY= line"),
                          display);
    }
  if (client != NULL)
    backup_s3_client_set_credentials (client, id, secret, token != NULL && *token ? token : NULL);
  else
    options->s3_keys_line = s3_keys_line (id, secret, token, error);
  for (guint i = 0; lines[i] != NULL; i++)
    explicit_bzero (lines[i], strlen (lines[i]));
  return client != NULL || options->s3_keys_line != NULL;
}

static gboolean check_no_backup_options (BackupOptions *options, const char *mode, GError **error);

/* --s3-save-keys, --s3-forget-keys: nothing else. */
static gboolean
validate_s3_keys_mode (BackupOptions *options, GError **error)
{
  const char *mode = options->s3_save_keys ? "--s3-save-keys" : "--s3-forget-keys";
  const char *id = g_getenv ("AWS_ACCESS_KEY_ID");
  const char *secret = g_getenv ("AWS_SECRET_ACCESS_KEY");
  const char *token = g_getenv ("AWS_SESSION_TOKEN");

  if (options->s3_save_keys && options->s3_forget_keys)
    return usage_error (error, _("use only one of --s3-save-keys and --s3-forget-keys"));
  if (!check_no_backup_options (options, mode, error))
    return FALSE;
  if (options->dstdir != NULL || options->prune || options->restore != NULL
      || options->list != NULL || options->verify != NULL || options->encrypt)
    return usage_error (error, _("%s is used alone (with --s3-credentials-file)"), mode);
  for (guint i = 0; i < G_N_ELEMENTS (s3_options); i++)
    if (s3_options[i] != OPT_S3_CREDENTIALS_FILE && given (options, s3_options[i]))
      return usage_error (error, _("%s is used alone (with --s3-credentials-file)"), mode);
  if (options->s3_forget_keys)
    {
      if (options->s3_credentials_file != NULL)
        return usage_error (error, _("%s is used alone"), mode);
      return TRUE;
    }
  if (options->s3_credentials_file != NULL)
    return read_s3_credentials (options, NULL, error);
  if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
    return usage_error (error, _("--s3-save-keys keeps the keys of $AWS_ACCESS_KEY_ID and "
                                 "$AWS_SECRET_ACCESS_KEY, or of --s3-credentials-file FILE: "
                                 "give them there"));
  options->s3_keys_line = s3_keys_line (id, secret, token, error);
  return options->s3_keys_line != NULL;
}

/* The client of an s3://… location given with @option ("-d", "--restore",
 * "--list" or "--verify"): the service, its CA and the keys. */
static BackupS3Client *
make_s3_client (BackupOptions *options, const char *option, GError **error)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (GError) cause = NULL;
  gboolean receiver = g_str_equal (option, "-d");

  if (options->s3_endpoint == NULL || options->s3_endpoint[0] == '\0')
    {
      if (receiver)
        usage_error (error, _("-d s3://… needs --s3-endpoint URL, the address of the S3 "
                              "service"));
      else
        usage_error (error, _("%s s3://… needs --s3-endpoint URL, the address of the S3 service"),
                     option);
      return NULL;
    }
  client = backup_s3_client_new (options->s3_endpoint, options->s3_region, &cause);
  if (client == NULL)
    {
      usage_error (error, _("--s3-endpoint: %s"), cause->message);
      return NULL;
    }
  backup_s3_client_set_path_style (client, options->s3_path_style);
  if (options->s3_ca_file != NULL)
    {
      g_autofree char *display = g_filename_display_name (options->s3_ca_file);

      if (access (options->s3_ca_file, R_OK) < 0)
        {
          usage_error (error, _("cannot read “%s” (--s3-ca-file): %s"), display,
                       g_strerror (errno));
          return NULL;
        }
      backup_s3_client_set_ca_file (client, options->s3_ca_file);
    }
  if (options->s3_credentials_file != NULL)
    {
      if (!read_s3_credentials (options, client, error))
        return NULL;
    }
  else if (!backup_s3_client_set_credentials_from_environment (client, NULL)
           && !use_kept_s3_keys (client, error))
    {
      if (error != NULL && *error != NULL)
        return NULL;
      if (receiver)
        usage_error (error, _("-d s3://… needs the S3 keys in $AWS_ACCESS_KEY_ID and "
                              "$AWS_SECRET_ACCESS_KEY, in --s3-credentials-file FILE, or kept "
                              "with --s3-save-keys"));
      else
        usage_error (error,
                     _("%s s3://… needs the S3 keys in $AWS_ACCESS_KEY_ID and "
                       "$AWS_SECRET_ACCESS_KEY, in --s3-credentials-file FILE, or kept with "
                       "--s3-save-keys"),
                     option);
      return NULL;
    }
  return g_steal_pointer (&client);
}

/* -d s3://BUCKET/PREFIX of a receiver or of --prune: the service, the keys,
 * and the store. */
static gboolean
check_s3_receiver (BackupOptions *options, GError **error)
{
  g_autoptr (BackupS3Client) client = NULL;
  g_autoptr (BackupS3Store) store = NULL;
  g_autoptr (GError) cause = NULL;
  g_autofree char *bucket = NULL;
  g_autofree char *prefix = NULL;

  if (!backup_s3_parse_location (options->dstdir, &bucket, &prefix, &cause))
    {
      if (options->prune)
        return usage_error (error, _("cannot prune %s (-d): %s"), options->dstdir,
                            cause->message);
      return usage_error (error, _("cannot receive into %s (-d): %s"), options->dstdir,
                          cause->message);
    }
  client = make_s3_client (options, "-d", error);
  if (client == NULL)
    return FALSE;

  store = backup_s3_store_new (client, bucket, prefix, options->versions);
  g_set_object (&options->storage, BACKUP_STORAGE (store));
  return TRUE;
}

/* The archive of --restore, --list or --verify, or NULL. */
static const char *
restore_archive (BackupOptions *options)
{
  if (options->restore != NULL)
    return options->restore;
  if (options->list != NULL)
    return options->list;
  return options->verify;
}

/* The --s3-… options go with an s3://… location: -d of a receiver or of
 * --prune, or the archive of --restore, --list or --verify. */
static gboolean
check_s3_options (BackupOptions *options, GError **error)
{
  const char *archive = restore_archive (options);

  if (archive != NULL ? g_str_has_prefix (archive, "s3://")
                      : options->dstdir != NULL && g_str_has_prefix (options->dstdir, "s3://"))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (s3_options); i++)
    if (given (options, s3_options[i]))
      {
        for (guint j = 0; j < G_N_ELEMENTS (option_specs); j++)
          if (option_specs[j].id == s3_options[i])
            return usage_error (error,
                                _("--%s is only used with an s3://… location (-d, --prune -d, "
                                  "--restore, --list or --verify)"),
                                option_specs[j].long_name);
      }
  return TRUE;
}

static gboolean
check_receiver (BackupOptions *options, GError **error)
{
  g_autofree char *display = g_filename_display_name (options->dstdir);
  struct stat st;

  if (g_str_has_prefix (options->dstdir, "s3://") && !options->zipdir && options->outfile == NULL)
    return check_s3_receiver (options, error);

  if (options->zipdir)
    return usage_error (error, _("-z is only used when sending (-s)"));
  if (options->outfile != NULL)
    return usage_error (error, _("-o is only used when sending a directory (-s with -z)"));
  if (options->dstdir[0] == '\0')
    return usage_error (error, _("the destination directory (-d) is empty"));
  if (stat (options->dstdir, &st) < 0)
    return usage_error (error, _("cannot receive into “%s” (-d): %s"), display,
                        g_strerror (errno));
  if (!S_ISDIR (st.st_mode))
    return usage_error (error, _("cannot receive into “%s” (-d): not a directory"), display);
  if (access (options->dstdir, W_OK | X_OK) < 0)
    return usage_error (error, _("cannot receive into “%s” (-d): %s"), display,
                        g_strerror (errno));
  return TRUE;
}

static gboolean
validate_encryption_mode (BackupOptions *options, GError **error)
{
  if (options->passfile == NULL || options->passfile[0] == '\0')
    return usage_error (error, _("encryption mode (-e) needs -p FILE, the password file to write"));
  if (options->srcentry != NULL)
    return usage_error (error, _("-s cannot be used in encryption mode (-e)"));
  if (options->dstdir != NULL)
    return usage_error (error, _("-d cannot be used in encryption mode (-e)"));
  if (options->zipdir)
    return usage_error (error, _("-z cannot be used in encryption mode (-e)"));
  if (options->outfile != NULL)
    return usage_error (error, _("-o cannot be used in encryption mode (-e)"));
  if (options->device != NULL)
    return usage_error (error, _("--device cannot be used in encryption mode (-e)"));
  return TRUE;
}

static void
resolve_progress (BackupOptions *options)
{
  switch (options->progress)
    {
    case BACKUP_OPTIONS_PROGRESS_ON:
      options->show_progress = TRUE;
      break;
    case BACKUP_OPTIONS_PROGRESS_OFF:
      options->show_progress = FALSE;
      break;
    case BACKUP_OPTIONS_PROGRESS_AUTO:
    default:
      options->show_progress = !options->quiet && isatty (STDERR_FILENO);
      break;
    }
}

/* Options of backup mode that restoring and showing passwords do not use. */
static gboolean
check_no_backup_options (BackupOptions *options, const char *mode, GError **error)
{
  if (options->srcentry != NULL)
    return usage_error (error, _("-s cannot be used with %s"), mode);
  if (options->zipdir)
    return usage_error (error, _("-z cannot be used with %s"), mode);
  if (options->outfile != NULL)
    return usage_error (error, _("-o cannot be used with %s"), mode);
  if (options->uuid != NULL)
    return usage_error (error, _("-u cannot be used with %s"), mode);
  if (options->keep_listening)
    return usage_error (error, _("--keep-listening cannot be used with %s"), mode);
  if (options->device != NULL)
    return usage_error (error, _("--device cannot be used with %s"), mode);
  return TRUE;
}

/* --show-passwords: the password file is read here, like in backup mode. */
static gboolean
validate_show_passwords (BackupOptions *options, GError **error)
{
  char *password1 = NULL;
  char *password2 = NULL;

  if (!check_no_backup_options (options, "--show-passwords", error))
    return FALSE;
  if (options->dstdir != NULL)
    return usage_error (error, _("-d cannot be used with --show-passwords"));
  if (options->force)
    return usage_error (error, _("--force is only used with --restore"));
  if (options->password1 != NULL || options->password2 != NULL)
    return usage_error (error, _("--show-passwords reads the passwords from -p; do not give -1 "
                                 "or -2"));
  if (options->passfile == NULL || options->passfile[0] == '\0')
    return usage_error (error, _("--show-passwords needs -p FILE, the password file to read"));
  if (!backup_vault_read (options->passfile, options->vault_key, &password1, &password2, error))
    return FALSE;
  replace_string (&options->password1, NULL, TRUE);
  replace_string (&options->password2, NULL, TRUE);
  options->password1 = password1;
  options->password2 = password2;
  return TRUE;
}

/* --restore, --list, --verify: the archive, the destination and where the
 * passwords come from. Passwords missing without -p are asked for later,
 * and only when the archive is a zip. */
static gboolean
validate_restore_mode (BackupOptions *options, GError **error)
{
  const char *mode = options->restore != NULL ? "--restore"
                     : options->list != NULL  ? "--list"
                                              : "--verify";
  const char *archive = options->restore != NULL ? options->restore
                        : options->list != NULL  ? options->list
                                                 : options->verify;
  g_autofree char *display = g_filename_display_name (archive);
  struct stat st;

  if ((options->restore != NULL) + (options->list != NULL) + (options->verify != NULL) > 1)
    return usage_error (error, _("use only one of --restore, --list and --verify"));
  if (options->encrypt)
    return usage_error (error, _("-e cannot be used with %s"), mode);
  if (!check_no_backup_options (options, mode, error))
    return FALSE;
  if (options->yes)
    return usage_error (error, _("--yes is only used with --show-passwords"));
  if (options->restore != NULL && (options->dstdir == NULL || options->dstdir[0] == '\0'))
    return usage_error (error, _("--restore needs -d DIR, the folder to restore into"));
  if (options->restore == NULL && options->dstdir != NULL)
    return usage_error (error, _("-d cannot be used with %s"), mode);
  if (options->restore == NULL && options->force)
    return usage_error (error, _("--force is only used with --restore"));

  if (options->restore != NULL && g_str_has_prefix (options->dstdir, "s3://"))
    return usage_error (error, _("--restore writes into a folder, not into -d s3://…"));

  if (g_str_has_prefix (archive, "s3://"))
    {
      g_autoptr (GError) cause = NULL;

      if (!backup_s3_parse_location (archive, NULL, NULL, &cause))
        return usage_error (error, _("cannot open “%s” (%s): %s"), display, mode,
                            cause->message);
      options->s3_client = make_s3_client (options, mode, error);
      if (options->s3_client == NULL)
        return FALSE;
    }
  else if (stat (archive, &st) < 0)
    return usage_error (error, _("cannot open “%s” (%s): %s"), display, mode,
                        g_strerror (errno));
  else if (!S_ISREG (st.st_mode))
    return usage_error (error, _("“%s” (%s) is not a file"), display, mode);

  if (options->passfile != NULL)
    {
      char *password1 = NULL;
      char *password2 = NULL;

      if (options->passfile[0] == '\0')
        return usage_error (error, _("the password file name (-p) is empty"));
      if (options->password1 != NULL || options->password2 != NULL)
        return usage_error (error, _("give the passwords with -p or with -1 and -2, not both"));
      if (!backup_vault_read (options->passfile, options->vault_key, &password1, &password2,
                              error))
        return FALSE;
      options->password1 = password1;
      options->password2 = password2;
    }

  resolve_progress (options);
  return TRUE;
}

/* What a profile file says: these options cannot be added to it. */
static const OptionId profile_options[] = {
  OPT_DSTDIR, OPT_ENCRYPT, OPT_OUTFILE, OPT_PASSWORD1, OPT_PASSWORD2, OPT_SRCENTRY,
  OPT_STUN, OPT_UUID, OPT_VERSIONS, OPT_ZIPDIR, OPT_SIGNALING, OPT_TURN, OPT_ICE_ADDRESS,
  OPT_RELAY_ONLY, OPT_ZIP_ENCRYPTION, OPT_TIMEOUT, OPT_KEEP_LISTENING, OPT_RESTORE, OPT_LIST,
  OPT_VERIFY, OPT_FORCE, OPT_SHOW_PASSWORDS, OPT_YES, OPT_KEEP_LAST, OPT_KEEP_HOURLY,
  OPT_KEEP_DAILY, OPT_KEEP_WEEKLY, OPT_KEEP_MONTHLY, OPT_DEVICE, OPT_QUOTA, OPT_ALL_DEVICES,
  OPT_MAX_TRANSFERS,
};

static gboolean
profile_error (GError **error, const char *path, GError *cause)
{
  g_autofree char *shown = g_filename_display_name (path);

  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT, _("Profile %s: %s"), shown,
               cause->message);
  g_error_free (cause);
  return FALSE;
}

/* --config FILE: the profile, completed with its secrets. */
static gboolean
validate_config_mode (BackupOptions *options, GError **error)
{
  g_autoptr (BackupCliConfig) config = NULL;
  BackupProfile *profile;
  GError *cause = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (profile_options); i++)
    if (options->given & (G_GUINT64_CONSTANT (1) << profile_options[i]))
      {
        g_autofree char *name = NULL;

        for (gsize j = 0; j < G_N_ELEMENTS (option_specs); j++)
          if (option_specs[j].id == profile_options[i])
            name = option_display_name (&option_specs[j]);
        return usage_error (error, _("%s cannot be given with --config: the profile says it"),
                            name);
      }

  config = backup_cli_config_load (options->config, error);
  if (config == NULL)
    return FALSE;
  profile = config->profile;

  /* Where the secrets are: the command line first, then the profile. */
  if (options->apikey_file == NULL && options->apikey == NULL && config->api_key_file != NULL)
    options->apikey_file = g_strdup (config->api_key_file);
  if (options->passfile == NULL && config->password_file != NULL)
    options->passfile = g_strdup (config->password_file);
  if (options->vault_key == NULL && config->vault_key != NULL)
    options->vault_key = g_strdup (config->vault_key);
  if (!config->stun_given)
    backup_profile_set_stun_servers (profile, default_stun);
  if (backup_profile_get_device_name (profile) != NULL
      && !backup_profile_load_device (profile, backup_profile_get_device_name (profile), NULL,
                                      &cause))
    return profile_error (error, options->config, cause);

  if (!resolve_apikey (options, error) || !check_signaling_ca (options, error))
    return FALSE;
  if (options->apikey_resolved == NULL)
    {
      g_autofree char *url = NULL;

      if (backup_signaling_resolve (backup_profile_get_signaling (profile), NULL, &url, NULL,
                                    NULL))
        use_kept_apikey (options, url);
    }
  backup_profile_set_api_key (profile, options->apikey_resolved);
  backup_profile_set_signaling_trust (profile, options->signaling_ca_database);

  if (backup_profile_get_role (profile) == BACKUP_PROFILE_ROLE_SEND
      && backup_profile_get_archive_name (profile) != NULL && options->passfile == NULL)
    return profile_error (error, options->config,
                          g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                               _("an archive needs “password-file”, or -p")));
  if (options->passfile != NULL)
    {
      g_autofree char *password1 = NULL;
      g_autofree char *password2 = NULL;

      if (!backup_vault_read (options->passfile, options->vault_key, &password1, &password2,
                              error))
        return FALSE;
      backup_profile_set_passwords (profile, password1, password2);
      explicit_bzero (password1, strlen (password1));
      explicit_bzero (password2, strlen (password2));
    }

  if (config->all_devices)
    {
      /* Each paired device gives its session id and signaling. */
      if (backup_profile_get_role (profile) != BACKUP_PROFILE_ROLE_RECEIVE
          || backup_profile_get_session_id (profile) != NULL
          || backup_profile_get_device_name (profile) != NULL)
        return profile_error (error, options->config,
                              g_error_new_literal (BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                                                   _("“all-devices” is a receiver's, without "
                                                     "“session-id” or “device”")));
      options->certificate = backup_device_load_certificate (NULL, FALSE, &cause);
      if (options->certificate == NULL)
        return profile_error (error, options->config, cause);
      if (!backup_profile_check_files (profile, &cause))
        return profile_error (error, options->config, cause);
      options->all_devices = TRUE;
      options->max_transfers = config->max_transfers != 0 ? config->max_transfers
                                                          : BACKUP_OPTIONS_DEFAULT_MAX_TRANSFERS;
      backup_profile_set_keep_listening (profile, TRUE);
      resolve_progress (options);
      g_set_object (&options->profile, profile);
      return TRUE;
    }
  if (!backup_profile_validate (profile, &cause) || !backup_profile_check_files (profile, &cause))
    return profile_error (error, options->config, cause);

  resolve_progress (options);
  g_set_object (&options->profile, profile);
  return TRUE;
}

/* --- Versions and retention: --keep-…, --prune, --dry-run ------------- */

static gboolean
given (BackupOptions *options, OptionId id)
{
  return (options->given & (G_GUINT64_CONSTANT (1) << id)) != 0;
}

static const OptionId keep_options[] = {
  OPT_KEEP_LAST, OPT_KEEP_HOURLY, OPT_KEEP_DAILY, OPT_KEEP_WEEKLY, OPT_KEEP_MONTHLY,
};

/* The first --keep-… given, for messages. */
static const char *
first_keep_option (BackupOptions *options)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keep_options); i++)
    if (given (options, keep_options[i]))
      for (gsize j = 0; j < G_N_ELEMENTS (option_specs); j++)
        if (option_specs[j].id == keep_options[i])
          return option_specs[j].long_name;
  return NULL;
}

/* Where the policy may be given and how it goes with -v: with a policy,
 * -v is the most versions kept (65535 when not given), and a rule that
 * alone keeps more than -v is a contradiction. */
static gboolean
check_retention_options (BackupOptions *options, GError **error)
{
  const char *keep = first_keep_option (options);
  const char *mode = options->restore != NULL  ? "--restore"
                     : options->list != NULL   ? "--list"
                     : options->verify != NULL ? "--verify"
                     : options->show_passwords ? "--show-passwords"
                     : options->encrypt        ? "-e"
                                               : NULL;

  if (options->dry_run && !options->prune)
    return usage_error (error, _("--dry-run is only used with --prune"));
  if (mode != NULL && options->prune)
    return usage_error (error, _("--prune cannot be used with %s"), mode);
  if (mode != NULL && keep != NULL)
    return usage_error (error, _("--%s cannot be used with %s"), keep, mode);
  /* With --config, the profile holds the policy (--keep-… is refused
   * there like every option the profile says). */
  if (options->config != NULL)
    return TRUE;

  if (options->prune)
    {
      if (options->dstdir == NULL || options->dstdir[0] == '\0')
        return usage_error (error, _("--prune needs -d DIR, the folder of the versions"));
      if (keep == NULL && !given (options, OPT_VERSIONS))
        return usage_error (error, _("--prune needs a policy (--keep-last, --keep-hourly, "
                                     "--keep-daily, --keep-weekly, --keep-monthly) or -v"));
      if (!check_no_backup_options (options, "--prune", error))
        return FALSE;
    }
  else if (keep != NULL && options->srcentry != NULL)
    return usage_error (error, _("--%s is only used when receiving (-d) or with --prune"), keep);

  if (keep == NULL)
    return TRUE;
  if (!given (options, OPT_VERSIONS))
    {
      options->versions = BACKUP_STORE_MAX_VERSIONS;
      return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (keep_options); i++)
    {
      guint count = *retention_rule (options, keep_options[i]);

      if (count > options->versions)
        for (gsize j = 0; j < G_N_ELEMENTS (option_specs); j++)
          if (option_specs[j].id == keep_options[i])
            return usage_error (error,
                                _("--%s %u keeps more versions than -v %u allows: raise -v or "
                                  "leave it out"),
                                option_specs[j].long_name, count, (guint) options->versions);
    }
  return TRUE;
}

/* --prune: a folder or a bucket to prune, nothing else of backup mode. */
static gboolean
validate_prune_mode (BackupOptions *options, GError **error)
{
  g_autofree char *display = g_filename_display_name (options->dstdir);
  struct stat st;

  if (options->password1 != NULL || options->password2 != NULL)
    return usage_error (error, _("-1 and -2 cannot be used with --prune"));
  if (g_str_has_prefix (options->dstdir, "s3://"))
    {
      if (!check_s3_receiver (options, error))
        return FALSE;
      resolve_progress (options);
      return TRUE;
    }
  if (stat (options->dstdir, &st) < 0)
    return usage_error (error, _("cannot prune “%s” (-d): %s"), display, g_strerror (errno));
  if (!S_ISDIR (st.st_mode))
    return usage_error (error, _("cannot prune “%s” (-d): not a directory"), display);
  resolve_progress (options);
  return TRUE;
}

/* --config FILE --prune: the profile must be a receiver's. */
static gboolean
check_config_prune (BackupOptions *options, GError **error)
{
  if (options->prune
      && backup_profile_get_role (options->profile) != BACKUP_PROFILE_ROLE_RECEIVE)
    return usage_error (error, _("--prune needs the profile of a receiver (role=receive)"));
  return TRUE;
}


/* --- Paired devices: --invite, --pair, --devices, --unpair, --device --- */

/* The options each mode of paired devices may be given with. */
static const OptionId invite_options[] = {
  OPT_INVITE, OPT_APIKEY, OPT_APIKEY_FILE, OPT_SIGNALING, OPT_SIGNALING_CA, OPT_STUN, OPT_TURN,
  OPT_ICE_ADDRESS, OPT_RELAY_ONLY, OPT_TIMEOUT, OPT_DEVICE_NAME, OPT_QUIET, OPT_PROGRESS,
  OPT_NO_PROGRESS,
};
static const OptionId pair_options[] = {
  OPT_PAIR, OPT_APIKEY, OPT_APIKEY_FILE, OPT_SIGNALING_CA, OPT_STUN, OPT_TURN, OPT_ICE_ADDRESS,
  OPT_RELAY_ONLY, OPT_TIMEOUT, OPT_DEVICE_NAME, OPT_QUIET, OPT_PROGRESS, OPT_NO_PROGRESS,
};
static const OptionId invite_nearby_options[] = {
  OPT_INVITE_NEARBY, OPT_STUN, OPT_ICE_ADDRESS, OPT_TIMEOUT, OPT_DEVICE_NAME, OPT_QUIET,
  OPT_PROGRESS, OPT_NO_PROGRESS,
};
static const OptionId pair_nearby_options[] = {
  OPT_PAIR_NEARBY, OPT_STUN, OPT_ICE_ADDRESS, OPT_TIMEOUT, OPT_DEVICE_NAME, OPT_QUIET,
  OPT_PROGRESS, OPT_NO_PROGRESS,
};
static const OptionId list_options[] = { OPT_DEVICES, OPT_QUIET };
static const OptionId unpair_options[] = { OPT_UNPAIR, OPT_QUIET };
static const OptionId nearby_options[] = { OPT_NEARBY, OPT_NO_ANNOUNCE, OPT_TIMEOUT, OPT_QUIET };

static char *
option_name_of (OptionId id)
{
  for (gsize j = 0; j < G_N_ELEMENTS (option_specs); j++)
    if (option_specs[j].id == id)
      return option_display_name (&option_specs[j]);
  g_return_val_if_reached (NULL);
}

/* Every option given is one of @allowed. */
static gboolean
check_only (BackupOptions *options, const OptionId *allowed, gsize n_allowed, const char *mode,
            GError **error)
{
  for (guint id = 0; id <= OPT_HELP; id++)
    {
      gboolean ok = FALSE;

      if ((options->given & (G_GUINT64_CONSTANT (1) << id)) == 0)
        continue;
      for (gsize i = 0; i < n_allowed; i++)
        ok |= allowed[i] == id;
      if (!ok)
        {
          g_autofree char *name = option_name_of (id);

          return usage_error (error, _("%s cannot be used with %s"), name, mode);
        }
    }
  return TRUE;
}

/* This device's certificate, created on first use, and its name. */
static gboolean
load_identity (BackupOptions *options, gboolean want_name, GError **error)
{
  g_autoptr (GError) cause = NULL;

  options->certificate = backup_device_load_certificate (NULL, TRUE, &cause);
  if (options->certificate == NULL)
    return usage_error (error, "%s", cause->message);
  if (!want_name)
    return TRUE;
  if (options->device_name != NULL)
    {
      if (!backup_device_check_name (options->device_name, &cause))
        return usage_error (error, _("invalid --device-name: %s"), cause->message);
      options->own_device_name = g_strdup (options->device_name);
    }
  else
    options->own_device_name = backup_device_default_name ();
  return TRUE;
}

/* "--pair -": the link is the first line of standard input (which other
 * users cannot see, unlike the command line). */
static gboolean
read_link_from_stdin (BackupOptions *options, GError **error)
{
  g_autoptr (GIOChannel) channel = g_io_channel_unix_new (STDIN_FILENO);
  g_autofree char *line = NULL;
  gsize length = 0;

  if (g_io_channel_read_line (channel, &line, &length, NULL, NULL) != G_IO_STATUS_NORMAL
      || line == NULL)
    return usage_error (error, _("--pair -: no invitation link on standard input"));
  g_strchomp (line);
  free_secret (options->pair);
  options->pair = g_strdup (line);
  explicit_bzero (line, length);
  return TRUE;
}

static gboolean
validate_invite (BackupOptions *options, GError **error)
{
  g_autofree char *location = NULL;

  if (!check_only (options, invite_options, G_N_ELEMENTS (invite_options), "--invite", error)
      || !resolve_apikey (options, error) || !check_network_options (options, error)
      || !check_signaling (options, error) || !check_signaling_ca (options, error))
    return FALSE;
  use_kept_apikey (options, options->signaling_url);

  /* The link names the store explicitly, so that the other device need not
   * guess the default. */
  if (options->signaling_url != NULL)
    location = g_strdup (options->signaling_url);
  else if (options->signaling_dir != NULL)
    location = g_strdup (options->signaling_dir);
  else if (!backup_signaling_resolve (NULL, NULL, NULL, &location, NULL) || location == NULL)
    return usage_error (error, _("there is no signaling store to invite through: use --signaling"));

  if (!load_identity (options, TRUE, error))
    return FALSE;
  options->link = backup_device_link_new (location, options->certificate,
                                          options->own_device_name);
  resolve_progress (options);
  return TRUE;
}

static gboolean
validate_pair (BackupOptions *options, GError **error)
{
  g_autoptr (GError) cause = NULL;
  guint8 own[RTC_CERTIFICATE_FINGERPRINT_LEN];
  g_autofree char *url = NULL;
  g_autofree char *dir = NULL;

  if (!check_only (options, pair_options, G_N_ELEMENTS (pair_options), "--pair", error))
    return FALSE;
  if (g_str_equal (options->pair, "-") && !read_link_from_stdin (options, error))
    return FALSE;
  options->link = backup_device_link_parse (options->pair, &cause);
  if (options->link == NULL)
    return usage_error (error, "%s", cause->message);
  if (!resolve_apikey (options, error) || !check_network_options (options, error))
    return FALSE;
  if (!backup_signaling_resolve (options->link->signaling, options->apikey_resolved, &url, &dir,
                                 &cause))
    return usage_error (error, _("Invalid invitation link: %s"), cause->message);
  options->signaling_url = g_steal_pointer (&url);
  options->signaling_dir = g_steal_pointer (&dir);
  use_kept_apikey (options, options->signaling_url);
  if (options->signaling_dir != NULL && !g_file_test (options->signaling_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *shown = g_filename_display_name (options->signaling_dir);

      return usage_error (error,
                          _("the invitation's signaling directory “%s” does not exist on this "
                            "machine"),
                          shown);
    }
  if (!check_signaling_ca (options, error) || !load_identity (options, TRUE, error))
    return FALSE;
  rtc_certificate_get_fingerprint (options->certificate, own);
  if (memcmp (own, options->link->fingerprint, sizeof own) == 0)
    return usage_error (error, _("this invitation link is this device's own"));
  resolve_progress (options);
  return TRUE;
}

/* --invite-nearby and --pair-nearby: this device's identity; the rest is
 * found on the network. */
static gboolean
validate_nearby_pairing (BackupOptions *options, GError **error)
{
  const char *mode = options->invite_nearby ? "--invite-nearby" : "--pair-nearby";

  if (options->invite_nearby
          ? !check_only (options, invite_nearby_options, G_N_ELEMENTS (invite_nearby_options),
                         mode, error)
          : !check_only (options, pair_nearby_options, G_N_ELEMENTS (pair_nearby_options), mode,
                         error))
    return FALSE;
  if (!check_network_options (options, error) || !load_identity (options, TRUE, error))
    return FALSE;
  resolve_progress (options);
  return TRUE;
}

static gboolean
validate_device_modes (BackupOptions *options, GError **error)
{
  int modes = (options->invite != FALSE) + (options->pair != NULL) + (options->devices != FALSE)
              + (options->unpair != NULL) + (options->invite_nearby != FALSE)
              + (options->pair_nearby != NULL);

  if (modes > 1)
    return usage_error (error, _("use only one of --invite, --pair, --invite-nearby, "
                                 "--pair-nearby, --devices and --unpair"));
  if (options->invite)
    return validate_invite (options, error);
  if (options->pair != NULL)
    return validate_pair (options, error);
  if (options->invite_nearby || options->pair_nearby != NULL)
    return validate_nearby_pairing (options, error);
  if (options->devices)
    return check_only (options, list_options, G_N_ELEMENTS (list_options), "--devices", error);
  return check_only (options, unpair_options, G_N_ELEMENTS (unpair_options), "--unpair", error);
}

/* --nearby: this device's certificate and name are announced (and its
 * own announcement is not listed). */
static gboolean
validate_nearby (BackupOptions *options, GError **error)
{
  if (!check_only (options, nearby_options, G_N_ELEMENTS (nearby_options), "--nearby", error))
    return FALSE;
  if ((options->given & (G_GUINT64_CONSTANT (1) << OPT_TIMEOUT)) == 0)
    options->timeout = BACKUP_OPTIONS_NEARBY_TIMEOUT;
  else if (options->timeout == 0)
    return usage_error (error, _("--nearby needs a --timeout of at least 1 second"));
  return load_identity (options, TRUE, error);
}

/* --no-announce: only where this device would be announced. */
static gboolean
check_no_announce (BackupOptions *options, GError **error)
{
  gboolean announcing;

  if (!options->no_announce)
    return TRUE;
  if (options->profile != NULL)
    announcing = backup_profile_get_role (options->profile) == BACKUP_PROFILE_ROLE_RECEIVE
                 && backup_profile_get_keep_listening (options->profile);
  else
    announcing = options->dstdir != NULL && (options->keep_listening || options->all_devices);
  if (!announcing)
    return usage_error (error, _("--no-announce is only used with --nearby or a receiver that "
                                 "keeps listening (--keep-listening)"));
  return TRUE;
}

/* --device NAME with -s or -d: the device gives the session id and the
 * signaling; this device's certificate is used. */
static gboolean
resolve_device (BackupOptions *options, GError **error)
{
  g_autoptr (GError) cause = NULL;

  if (options->uuid != NULL)
    return usage_error (error, _("-u cannot be used with --device: the paired device gives the "
                                 "session id"));
  if (options->signaling != NULL)
    return usage_error (error, _("--signaling cannot be used with --device: the paired device "
                                 "gives it"));
  options->paired_device = backup_device_find (NULL, options->device, &cause);
  if (options->paired_device == NULL)
    return usage_error (error, "%s", cause->message);
  options->certificate = backup_device_load_certificate (NULL, FALSE, &cause);
  if (options->certificate == NULL)
    return usage_error (error, "%s", cause->message);
  if (options->no_announce
      && g_ascii_strcasecmp (options->paired_device->signaling, BACKUP_SIGNALING_NEARBY) == 0)
    return usage_error (error, _("--no-announce cannot be used with a device paired on the local "
                                 "network: it finds this device through its announcement"));
  options->signaling = g_strdup (options->paired_device->signaling);
  options->uuid = g_strdup (options->paired_device->session_id);
  /* A receiver keeps the versions of this device as set for it (on the
   * desktop), unless -v or --keep-… say otherwise. */
  if (options->dstdir != NULL && options->paired_device->versions != 0
      && !given (options, OPT_VERSIONS) && first_keep_option (options) == NULL)
    {
      options->versions = options->paired_device->versions;
      options->retention = options->paired_device->retention;
    }
  return TRUE;
}

/* --max-transfers and --all-devices go together; --quota is a receiver's. */
static gboolean
check_receiver_limits (BackupOptions *options, GError **error)
{
  if (given (options, OPT_MAX_TRANSFERS) && !options->all_devices)
    return usage_error (error, _("--max-transfers is only used with --all-devices"));
  if (options->quota > 0 && options->dstdir == NULL)
    return usage_error (error, _("--quota is only used when receiving (-d)"));
  if (options->all_devices && options->dstdir == NULL)
    return usage_error (error, _("--all-devices needs -d DIR (or -d s3://…), where each device "
                                 "gets a folder of its own"));
  return TRUE;
}

/* --all-devices: every paired device gives its session id and signaling;
 * this device's certificate is needed. */
static gboolean
validate_all_devices (BackupOptions *options, GError **error)
{
  g_autoptr (GError) cause = NULL;
  g_autoptr (GPtrArray) devices = NULL;
  gboolean over_http = FALSE;

  if (options->uuid != NULL)
    return usage_error (error, _("-u cannot be used with --all-devices: each paired device gives "
                                 "its session id"));
  if (options->device != NULL)
    return usage_error (error, _("--device cannot be used with --all-devices"));
  if (options->signaling != NULL)
    return usage_error (error, _("--signaling cannot be used with --all-devices: each paired "
                                 "device gives it"));
  options->certificate = backup_device_load_certificate (NULL, FALSE, &cause);
  if (options->certificate == NULL)
    {
      if (g_error_matches (cause, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND))
        return usage_error (error, _("--all-devices: this device has no identity yet; pair it "
                                     "with a device first (--invite, --pair, --invite-nearby)"));
      return usage_error (error, "%s", cause->message);
    }
  devices = backup_device_list (NULL, &cause);
  if (devices == NULL)
    return usage_error (error, "%s", cause->message);
  for (guint i = 0; i < devices->len; i++)
    {
      const BackupDevice *device = g_ptr_array_index (devices, i);

      if (g_ascii_strncasecmp (device->signaling, "http", 4) == 0)
        over_http = TRUE;
    }
  if (!resolve_apikey (options, error) || !check_network_options (options, error))
    return FALSE;
  if (options->signaling_ca != NULL)
    {
      g_autofree char *display = g_filename_display_name (options->signaling_ca);

      options->signaling_ca_database = g_tls_file_database_new (options->signaling_ca, &cause);
      if (options->signaling_ca_database == NULL)
        return usage_error (error, _("cannot use “%s” (--signaling-ca): %s"), display,
                            cause->message);
    }
  if (over_http)
    use_kept_apikey (options, BACKUP_SIGNALING_DEFAULT_URL);
  if (options->max_transfers == 0)
    options->max_transfers = BACKUP_OPTIONS_DEFAULT_MAX_TRANSFERS;
  options->keep_listening = TRUE;
  resolve_progress (options);
  return TRUE;
}

gboolean
backup_options_validate (BackupOptions *options, GError **error)
{
  char *password1 = NULL;
  char *password2 = NULL;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Validating again starts afresh. */
  free_secret (g_steal_pointer (&options->apikey_resolved));
  g_clear_object (&options->signaling_ca_database);
  g_clear_pointer (&options->signaling_url, g_free);
  g_clear_pointer (&options->signaling_dir, g_free);
  g_ptr_array_set_size (options->warnings, 0);

  g_clear_object (&options->profile);
  g_clear_object (&options->storage);
  g_clear_object (&options->s3_client);
  g_clear_object (&options->certificate);
  g_clear_pointer (&options->link, backup_device_link_free);
  g_clear_pointer (&options->own_device_name, g_free);
  free_secret (g_steal_pointer (&options->s3_keys_line));
  if (options->device_name != NULL && !options->invite && options->pair == NULL
      && !options->invite_nearby && options->pair_nearby == NULL)
    return usage_error (error, _("--device-name is only used with --invite, --pair, "
                                 "--invite-nearby or --pair-nearby"));
  if (options->nearby)
    return validate_nearby (options, error);
  if (options->invite || options->pair != NULL || options->devices || options->unpair != NULL
      || options->invite_nearby || options->pair_nearby != NULL)
    return validate_device_modes (options, error);
  if (options->config == NULL && !check_no_announce (options, error))
    return FALSE;
  if (!check_retention_options (options, error))
    return FALSE;
  if (options->s3_save_keys || options->s3_forget_keys)
    return validate_s3_keys_mode (options, error);
  if (!check_s3_options (options, error))
    return FALSE;
  if (options->config != NULL)
    return validate_config_mode (options, error) && check_config_prune (options, error)
           && check_no_announce (options, error);
  if (options->prune)
    return validate_prune_mode (options, error);
  if (options->restore != NULL || options->list != NULL || options->verify != NULL)
    return validate_restore_mode (options, error);
  if (options->show_passwords)
    return validate_show_passwords (options, error);
  if (options->force)
    return usage_error (error, _("--force is only used with --restore"));
  if (options->yes)
    return usage_error (error, _("--yes is only used with --show-passwords"));

  if (options->encrypt)
    return validate_encryption_mode (options, error);

  if (options->password1 != NULL)
    return usage_error (error, _("-1 (--password1) is only used in encryption mode (-e)"));
  if (options->password2 != NULL)
    return usage_error (error, _("-2 (--password2) is only used in encryption mode (-e)"));

  if (options->srcentry != NULL && options->dstdir != NULL)
    return usage_error (error, _("-s (send) and -d (receive) cannot be used together"));
  if (options->srcentry == NULL && options->dstdir == NULL)
    return usage_error (error,
                        _("nothing to do: use -s PATH to send, -d DIR to receive, or -e to write "
                          "a password file"));

  if (options->srcentry != NULL && !check_sender (options, error))
    return FALSE;
  if (options->dstdir != NULL && !check_receiver (options, error))
    return FALSE;
  if (!check_receiver_limits (options, error))
    return FALSE;
  if (options->all_devices)
    return validate_all_devices (options, error);
  if (options->device != NULL && options->paired_device == NULL
      && !resolve_device (options, error))
    return FALSE;

  if (options->uuid == NULL)
    return usage_error (error, _("backup mode needs -u UUID, the session id shared by both peers"));
  if (!backup_options_check_uuid (options->uuid, error))
    return FALSE;

  if (options->passfile != NULL && options->passfile[0] == '\0')
    return usage_error (error, _("the password file name (-p) is empty"));

  if (!resolve_apikey (options, error) || !check_network_options (options, error)
      || !check_signaling (options, error)
      || !check_signaling_ca (options, error))
    return FALSE;
  use_kept_apikey (options, options->signaling_url);

  if (options->passfile != NULL)
    {
      if (!backup_vault_read (options->passfile, options->vault_key, &password1, &password2,
                              error))
        return FALSE;
    }
  else
    {
      password1 = g_strdup ("");
      password2 = g_strdup ("");
    }
  replace_string (&options->password1, NULL, TRUE);
  replace_string (&options->password2, NULL, TRUE);
  options->password1 = password1;
  options->password2 = password2;

  resolve_progress (options);
  return TRUE;
}

void
backup_options_print_help (FILE *stream)
{
  const char *program = "distributed-backup";

  g_return_if_fail (stream != NULL);

  fprintf (stream, _("Usage: %s [OPTION…]\n"), program);
  fprintf (stream, "\n%s\n\n",
           _("Sends a file, or a directory zipped twice with two passwords, to another machine "
             "over a peer-to-peer connection, and keeps versions of what it receives."));
  fprintf (stream, "%s\n", _("Options:"));

  for (gsize i = 0; i < G_N_ELEMENTS (option_specs); i++)
    {
      const OptionSpec *spec = &option_specs[i];
      g_autofree char *names = NULL;
      g_autofree char *left = NULL;

      if (spec->short_name != 0)
        names = g_strdup_printf ("-%c, --%s", spec->short_name, spec->long_name);
      else
        names = g_strdup_printf ("    --%s", spec->long_name);
      if (spec->value_name != NULL)
        left = g_strdup_printf ("%s %s", names, _(spec->value_name));
      else
        left = g_strdup (names);

      if (spec->id == OPT_SIGNALING)
        fprintf (stream, "\n%s\n", _("Options of this version:"));

      /* Left column of 28 display characters (the value names may be UTF-8). */
      fprintf (stream, "  %s", left);
      for (glong pad = 28 - g_utf8_strlen (left, -1); pad > 0; pad--)
        fputc (' ', stream);
      if (g_utf8_strlen (left, -1) >= 28)
        fputs ("\n                              ", stream); /* 2 + 28 spaces */
      fprintf (stream, " %s", _(spec->description));
      if (spec->default_value != NULL)
        {
          g_autofree char *text = g_strdup_printf (_("(default: %s)"), _(spec->default_value));

          fprintf (stream, " %s", text);
        }
      fputc ('\n', stream);
    }

  fprintf (stream, "\n%s\n", _("Examples:"));
  fprintf (stream, "  %s\n", _("Write the password file (encryption mode; prints nothing):"));
  fprintf (stream, "    %s -e -p=/path/to/passwords.txt -1=qwerty -2=asdfgh\n", program);
  fprintf (stream, "  %s\n", _("Receive into a directory, keeping 3 versions of each file:"));
  fprintf (stream, "    %s -a=API-KEY -u=91c04021-045a-40ad-a4b0-0596cd604d8e -d=/path/to/dst/dir -v=3\n",
           program);
  fprintf (stream, "  %s\n", _("Send a file:"));
  fprintf (stream, "    %s -a=API-KEY -u=91c04021-045a-40ad-a4b0-0596cd604d8e -s=/path/to/src/file.txt\n",
           program);
  fprintf (stream, "  %s\n", _("Send a directory zipped twice with the passwords of the password file:"));
  fprintf (stream,
           "    %s -a=API-KEY -u=91c04021-045a-40ad-a4b0-0596cd604d8e -z -s=/path/to/src/dir "
           "-o=output.zip -p=/path/to/passwords.txt\n",
           program);
  fprintf (stream, "  %s\n", _("Pair through a shared directory instead of FILE.io:"));
  fprintf (stream, "    %s --signaling=/mnt/shared/signaling -u=backup-1 -d=/path/to/dst/dir\n",
           program);
  fprintf (stream, "  %s\n", _("Restore a received folder backup into a directory:"));
  fprintf (stream, "    %s --restore=/path/to/dst/dir/output.zip -p=/path/to/passwords.txt "
           "-d=/path/to/restored\n",
           program);
  fprintf (stream, "  %s\n",
           _("List the versions a receiver keeps in S3, then restore one of them by its key:"));
  fprintf (stream, "    %s --list=s3://bucket/backups/ --s3-endpoint=https://s3.example.com\n",
           program);
  fprintf (stream,
           "    %s --restore=s3://bucket/backups/output.zip/20240501T080000.000000Z-laptop "
           "--s3-endpoint=https://s3.example.com -p=/path/to/passwords.txt -d=/path/to/restored\n",
           program);
  fprintf (stream, "\n%s\n",
           _("Both peers use the same API key (or signaling) and the same session id (-u); "
             "either may start first."));
}
