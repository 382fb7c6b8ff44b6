/* backup-options.h: the command line of distributed-backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The options are parsed the way the original tool's parser (Go's pflag) does:
 * "-a KEY", "-a=KEY", "-aKEY", "--apikey KEY", "--apikey=KEY"; grouped
 * short booleans ("-ez"); booleans also as "--zipdir=false" or "-z=true";
 * "--" ends the options. No positional argument is accepted.
 */
#pragma once

#include <stdio.h>

#include <gio/gio.h>

#include "backup-device.h"
#include "backup-profile.h"
#include "backup-s3.h"

G_BEGIN_DECLS

#define BACKUP_OPTIONS_DEFAULT_STUN "stun.l.google.com:19302"
#define BACKUP_OPTIONS_DEFAULT_TIMEOUT 120
/* How long --nearby looks, when --timeout is not given. */
#define BACKUP_OPTIONS_NEARBY_TIMEOUT 5
#define BACKUP_OPTIONS_DEFAULT_ZIP_ENCRYPTION "aes256"
#define BACKUP_OPTIONS_DEFAULT_MAX_TRANSFERS 4
/* An API key from the environment, for services (not shown in the process list). */
#define BACKUP_OPTIONS_APIKEY_ENV "DISTRIBUTED_BACKUP_APIKEY"

typedef enum
{
  BACKUP_OPTIONS_PROGRESS_AUTO, /* when stderr is a terminal */
  BACKUP_OPTIONS_PROGRESS_ON,
  BACKUP_OPTIONS_PROGRESS_OFF,
} BackupOptionsProgress;

typedef struct
{
  /* The original tool's options. NULL: not given. */
  char *apikey;        /* -a, --apikey */
  char *apikey_file;   /* --apikey-file */
  char *dstdir;        /* -d, --dstdir */
  gboolean encrypt;    /* -e, --encrypt */
  char *outfile;       /* -o, --outfile */
  char *passfile;      /* -p, --passfile */
  char *password1;     /* -1, --password1 (see below) */
  char *password2;     /* -2, --password2 (see below) */
  char *srcentry;      /* -s, --srcentry */
  GPtrArray *stun;     /* -S, --stun: "host:port" strings, empty when not given */
  gboolean stun_given; /* -S was given (possibly empty: no STUN server at all) */
  char *uuid;          /* -u, --uuid */
  guint16 versions;    /* -v, --versions: 1 .. 65535, default 1 */
  gboolean zipdir;     /* -z, --zipdir */

  /* Options of this program. */
  char *signaling;          /* --signaling: URL or directory, as given */
  char *signaling_ca;       /* --signaling-ca: PEM file of trusted CAs, or NULL */
  GPtrArray *turn;          /* --turn: "turn:user:pass@host:port[?transport=tcp]" */
  GPtrArray *ice_addresses; /* --ice-address: IP literals */
  gboolean relay_only;      /* --relay-only */
  char *vault_key;          /* --vault-key */
  char *zip_encryption;     /* --zip-encryption: "aes256", "aes128" or "zipcrypto" */
  guint timeout;            /* --timeout, seconds; 0 = wait without limit */
  gboolean keep_listening;  /* --keep-listening */
  gboolean all_devices;     /* --all-devices: serve every paired device */
  guint max_transfers;      /* --max-transfers: 1 .. 1000, default 4 */
  guint64 quota;            /* --quota: bytes, 0 when not given */
  /* A receiver into S3-compatible object storage (-d s3://BUCKET/PREFIX). */
  char *s3_endpoint;         /* --s3-endpoint URL */
  char *s3_region;           /* --s3-region, NULL: us-east-1 */
  char *s3_ca_file;          /* --s3-ca-file FILE */
  gboolean s3_path_style;    /* --s3-path-style: BUCKET in the path, not the host name */
  char *s3_credentials_file; /* --s3-credentials-file FILE (mode 0600), else the environment */
  gboolean s3_save_keys;     /* --s3-save-keys */
  gboolean s3_forget_keys;   /* --s3-forget-keys */
  char *s3_keys_line;        /* set by validation for --s3-save-keys: the secret to keep */
  BackupOptionsProgress progress; /* --progress / --no-progress */
  gboolean quiet;           /* -q, --quiet */
  gboolean help;            /* -h, --help: print help, nothing else happens */
  gboolean version;         /* --version */

  /* Restore (backup-cli-restore.c). In these modes -1/-2 give the
   * passwords directly, instead of -p. */
  char *restore;           /* --restore ARCHIVE: extract into -d */
  char *list;              /* --list ARCHIVE */
  char *verify;            /* --verify ARCHIVE */
  gboolean force;          /* --force: replace existing files when restoring */
  gboolean show_passwords; /* --show-passwords: print the passwords of -p */
  gboolean yes;            /* --yes: no confirmation for --show-passwords */

  /* Versions and retention (backup-cli-prune.c): the policy applied by a
   * receiver (-d) after each backup, or now with --prune; a rule given is
   * 1 to 65535, 0 when not given. With a policy and no -v, versions is
   * the largest, 65535 (set by backup_options_validate()). */
  BackupRetention retention; /* --keep-last/-hourly/-daily/-weekly/-monthly */
  gboolean prune;            /* --prune: apply the policy to -d now, no transfer */
  gboolean dry_run;          /* --dry-run: with --prune, only show what would go */

  /* Paired devices (backup-cli-device.c). */
  char *device;      /* --device NAME: back up with this paired device (-s or -d) */
  gboolean invite;   /* --invite: print an invitation link and wait */
  char *pair;        /* --pair LINK: pair with the device that made LINK */
  char *device_name; /* --device-name NAME: this device's name for --invite/--pair */
  gboolean devices;  /* --devices: list the paired devices */
  char *unpair;      /* --unpair NAME: forget a paired device */
  gboolean invite_nearby; /* --invite-nearby: wait for a device of the network to pair */
  char *pair_nearby;      /* --pair-nearby DEVICE: pair with it on the network */
  gboolean nearby;      /* --nearby: list the devices on the local network */
  gboolean no_announce; /* --no-announce: a receiver that keeps listening, or
                         * --nearby, does not announce this device */

  /* A profile file (--config): it says everything the options of a backup
   * would; only how to run (progress, quiet, where secrets are) may be
   * added. */
  char *config;
  /* Which options were given: bit N for the option of index N in the
   * parser's table. */
  guint64 given;

  /* Set by backup_options_validate() in backup mode. */
  char *apikey_resolved; /* the API key to use (-a, --apikey-file or the environment), or NULL */
  GTlsDatabase *signaling_ca_database; /* the CAs of --signaling-ca, or NULL */
  char *signaling_url; /* http(s) URL of a FILE.io-compatible server, or NULL */
  char *signaling_dir; /* directory of a directory store, or NULL */
  gboolean show_progress;
  /* Lines to show on standard error before going on (an --apikey-file that
   * other users can read); empty when all is well. */
  GPtrArray *warnings;
  /* In backup mode with -p, password1 and password2 hold the passwords read
   * from the password file (empty strings without -p). */
  /* With --config: the profile to run, secrets included. */
  BackupProfile *profile;
  /* Set by backup_options_validate() for --invite, --pair, --nearby and --device:
   * this device's certificate; the link (--pair's, or --invite's new one,
   * its secret wiped when freed); this device's name; the paired device. */
  RtcCertificate *certificate;
  BackupDeviceLink *link;
  char *own_device_name;
  BackupDevice *paired_device;
  /* Set by backup_options_validate() for -d s3://… (a receiver, or
   * --prune): the bucket to receive into or prune, its client configured,
   * credentials included. */
  BackupStorage *storage;
  /* Set by backup_options_validate() when --restore, --list or --verify
   * names s3://BUCKET/KEY: the client of the S3 service, configured, with
   * its keys. */
  BackupS3Client *s3_client;
} BackupOptions;

BackupOptions *backup_options_new (void);
void backup_options_free (BackupOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupOptions, backup_options_free)

/* Parses @argv (argv[0] is the program). Errors are BACKUP_ERROR_INVALID_ARGUMENT
 * with a message such as "unknown flag: --foo". With -h/--help or --version
 * the parse stops there and succeeds. */
gboolean backup_options_parse (int             argc,
                               char          **argv,
                               BackupOptions **out,
                               GError        **error);

/* Checks the options of encryption mode or backup mode before anything else
 * happens, and in backup mode reads the password file (-p). Errors with
 * BACKUP_ERROR_INVALID_ARGUMENT are usage errors; others come from the
 * password file. On success, @options->warnings holds what the user should
 * be told before the backup goes on. */
gboolean backup_options_validate (BackupOptions *options,
                                  GError       **error);

/* The STUN servers to use: those of -S, or the default when -S was not
 * given. */
const char *const *backup_options_get_stun_servers (BackupOptions *options);

/* Splits a --turn URL "turn:USER:PASSWORD@HOST:PORT[?transport=udp|tcp]". */
gboolean backup_options_parse_turn (const char *url,
                                    char      **user,
                                    char      **password,
                                    char      **host,
                                    guint16    *port,
                                    gboolean   *tcp,
                                    GError    **error);

/* Checks a session id (-u): 1 to 128 characters of [A-Za-z0-9._-]. */
gboolean backup_options_check_uuid (const char *uuid,
                                    GError    **error);

void backup_options_print_help (FILE *stream);

G_END_DECLS
