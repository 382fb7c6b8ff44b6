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
} BackupSignalingKind;

typedef struct
{
  BackupSignalingKind kind;
  char *sdp_type;       /* "offer" or "answer" (kind SDP) */
  char *sdp;            /* the session description (kind SDP) */
  char *candidate;      /* "candidate:…" without "a=" and line end (kind CANDIDATE) */
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

BackupSignalingMessage *backup_signaling_message_parse (GBytes *bytes,
                                                        GError **error);
void backup_signaling_message_free (BackupSignalingMessage *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupSignalingMessage, backup_signaling_message_free)

G_END_DECLS
