/* backup-signaling-message.h: names and contents of the signaling files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Largest signaling file accepted, in bytes. */
#define BACKUP_SIGNALING_MESSAGE_MAX_SIZE (64 * 1024)

typedef enum
{
  BACKUP_SIGNALING_KIND_PING,
  BACKUP_SIGNALING_KIND_SDP,
  BACKUP_SIGNALING_KIND_CANDIDATE,
  BACKUP_SIGNALING_KIND_RESTART, /* this program's: an ICE restart (never a pairing file) */
} BackupSignalingKind;

/* Bounds of a restart message's parts. */
#define BACKUP_SIGNALING_RESTART_MAX_CANDIDATES 32
#define BACKUP_SIGNALING_RESTART_MAX_LINE 1024

typedef struct
{
  BackupSignalingKind kind;
  char *sdp_type;       /* "offer" or "answer" (kind SDP) */
  char *sdp;            /* the session description (kind SDP) */
  char *candidate;      /* "candidate:…" without "a=" and line end (kind CANDIDATE) */
  guint generation;     /* kind RESTART: 1 for the first restart of a connection, … */
  char *ice_ufrag;      /* kind RESTART: the writer's new ICE credentials */
  char *ice_pwd;
  GStrv candidates;     /* kind RESTART: "candidate:…", never NULL */
  JsonObject *extensions; /* members other than "type" and "payload"; never NULL */
} BackupSignalingMessage;

const char *backup_signaling_kind_to_string (BackupSignalingKind kind);

char *backup_signaling_make_name (const char *session,
                                  BackupSignalingKind kind,
                                  const char *instance);

gboolean backup_signaling_parse_name (const char *name,
                                      const char *session,
                                      BackupSignalingKind *kind,
                                      char **instance,
                                      GError **error);

gboolean backup_signaling_name_is_of_session (const char *name,
                                              const char *session);

GBytes *backup_signaling_message_encode_ping (JsonObject *extensions);
GBytes *backup_signaling_message_encode_sdp (const char *type,
                                             const char *sdp,
                                             JsonObject *extensions);
GBytes *backup_signaling_message_encode_candidate (const char *candidate,
                                                   JsonObject *extensions);
/* {"type":"restart","payload":base64 of {"generation":N,"ufrag":…,"pwd":…,
 * "candidates":["candidate:…",…]}}. */
GBytes *backup_signaling_message_encode_restart (guint generation,
                                                 const char *ufrag,
                                                 const char *pwd,
                                                 const char *const *candidates,
                                                 JsonObject *extensions);

/* Checks JSON text received from a peer before json-glib parses it, and
 * refuses (BACKUP_SIGNALING_ERROR_MALFORMED) what would not reach the caller
 * exactly as written:
 * - bytes that are not UTF-8, NUL bytes included;
 * - any spelling of U+0000 in a string or member name: json-glib hands
 *   strings over NUL-terminated, so "a\u0000b" would arrive as "a";
 * - escapes JSON does not define, which json-glib reads loosely (octal "\0"
 *   as U+0000, "\U" as "U", a "\u" without four hex digits as U+0000);
 * - unpaired surrogates, which json-glib turns into bytes that are not UTF-8;
 * - integers outside the 64-bit range, which json-glib wraps around;
 * - characters outside the JSON syntax (comments, single-quoted strings);
 * - more than BACKUP_SIGNALING_JSON_MAX_DEPTH nested arrays and objects.
 * The grammar itself is left to json-glib. Also used for the control
 * messages of the data channel. */
#define BACKUP_SIGNALING_JSON_MAX_DEPTH 32

gboolean backup_signaling_json_check (const char *text,
                                      gsize length,
                                      GError **error);

BackupSignalingMessage *backup_signaling_message_parse (GBytes *bytes,
                                                        GError **error);
void backup_signaling_message_free (BackupSignalingMessage *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupSignalingMessage, backup_signaling_message_free)

G_END_DECLS
