/* backup-frame.h: what travels on the data channel of a backup
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Legacy framing (the original tool's, always understood): one byte N, N
 * bytes of file name, then the file content until the sender closes the
 * channel. Message boundaries carry no meaning; BackupLegacyParser accepts
 * any split. A sender talking to the original receiver sends the length
 * byte alone, the name alone, then content messages of at most
 * BACKUP_FRAME_LEGACY_CHUNK bytes.
 *
 * Extended protocol (used when both peers advertise it in signaling): text
 * messages carry one JSON object each, binary messages carry content:
 *
 *   sender → receiver  {"type":"header","name":NAME,"size":N|-1,"kind":"file"|"zip"}
 *                      (and, optional, "from":DEVICE: the sender's device name,
 *                      at most BACKUP_FRAME_MAX_FROM bytes)
 *   sender → receiver  binary content messages
 *   sender → receiver  {"type":"end","bytes":N,"sha256":HEX}
 *   receiver → sender  {"type":"ack","bytes":N,"sha256":HEX}        (stored safely)
 *                  or  {"type":"error","message":TEXT}              (nothing stored)
 *
 * The sender reports success only after the ack.
 *
 * Version 2 adds resuming an interrupted transfer. The header carries the
 * backup's id (32 hex digits; the same when the same content is sent
 * again), and no content flows before two more messages:
 *
 *   receiver → sender  {"type":"offset","bytes":N,"sha256":HEX} (and, optional,
 *                      "from":DEVICE: the receiver's device name)
 *                      N bytes of this id are kept from an interrupted
 *                      transfer, with that SHA-256 (N = 0: none)
 *   sender → receiver  {"type":"resume","bytes":M}
 *                      M = N when the sender's first N bytes have that hash
 *                      (content follows from byte N), else M = 0 (the kept
 *                      bytes are dropped, content follows from the start)
 *
 * End and ack still count and hash the whole content.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BACKUP_FRAME_LEGACY_CHUNK 32768
#define BACKUP_FRAME_SHA256_LEN 32
/* Control messages are small; anything longer is refused. */
#define BACKUP_FRAME_MAX_CONTROL 4096

/* The member a peer adds to its signaling SDP file to advertise the
 * extended protocol, and the version it speaks. */
#define BACKUP_FRAME_EXTENSION "distributed-backup"
#define BACKUP_FRAME_PROTOCOL_VERSION 2
/* The first version that resumes. */
#define BACKUP_FRAME_PROTOCOL_RESUME 2
/* Bytes of a backup id (sent as twice as many hex digits). */
#define BACKUP_FRAME_ID_LEN 16
#define BACKUP_FRAME_MAX_FROM 255

typedef enum
{
  BACKUP_FRAME_HEADER,
  BACKUP_FRAME_END,
  BACKUP_FRAME_ACK,
  BACKUP_FRAME_ERROR,
  BACKUP_FRAME_OFFSET,
  BACKUP_FRAME_RESUME,
} BackupFrameType;

typedef enum
{
  BACKUP_FRAME_KIND_FILE,
  BACKUP_FRAME_KIND_ZIP,
} BackupFrameKind;

typedef struct
{
  BackupFrameType type;
  char *name;      /* HEADER */
  gint64 size;     /* HEADER: -1 when unknown */
  BackupFrameKind kind; /* HEADER */
  char *id;        /* HEADER: 32 lower-case hex digits, or NULL */
  char *from;      /* HEADER, OFFSET: the device name of its sender, or NULL */
  guint64 bytes;   /* END, ACK, OFFSET, RESUME */
  guint8 sha256[BACKUP_FRAME_SHA256_LEN]; /* END, ACK, OFFSET */
  char *message;   /* ERROR */
} BackupFrame;

BackupFrame *backup_frame_new (BackupFrameType type);
void backup_frame_free (BackupFrame *frame);

/* TRUE when @id is a backup id: BACKUP_FRAME_ID_LEN bytes as lower-case hex. */
gboolean backup_frame_check_id (const char *id);
char *backup_frame_id_from_bytes (const guint8 id[BACKUP_FRAME_ID_LEN]);

/* Encodes a control message as compact JSON (UTF-8, no terminator). */
GBytes *backup_frame_encode (const BackupFrame *frame);

/* Decodes one control message; fails with BACKUP_ERROR_PROTOCOL on anything
 * that is not exactly one of the messages above, including strict JSON
 * (backup_signaling_json_check): no string may hold U+0000, so the name and
 * the message are exactly what the peer sent, and valid UTF-8. The name of a
 * header is not checked otherwise here (the store does it). */
BackupFrame *backup_frame_decode (const guint8 *data, gsize length, GError **error);

/* Incremental parser of the legacy framing. */
typedef struct _BackupLegacyParser BackupLegacyParser;

typedef struct
{
  /* Called once, when the whole name has arrived; return FALSE (with
   * @error set) to refuse it. */
  gboolean (*name) (const char *name, gsize length, gpointer user_data, GError **error);
  /* Called for each run of content bytes after the name. */
  gboolean (*content) (const guint8 *data, gsize length, gpointer user_data, GError **error);
} BackupLegacyParserFuncs;

BackupLegacyParser *backup_legacy_parser_new (const BackupLegacyParserFuncs *funcs,
                                              gpointer user_data);
void backup_legacy_parser_free (BackupLegacyParser *parser);
/* Feeds received bytes, whatever their boundaries. */
gboolean backup_legacy_parser_feed (BackupLegacyParser *parser,
                                    const guint8 *data,
                                    gsize length,
                                    GError **error);
/* TRUE once the name has been received. */
gboolean backup_legacy_parser_has_name (BackupLegacyParser *parser);
guint64 backup_legacy_parser_get_content_bytes (BackupLegacyParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupFrame, backup_frame_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupLegacyParser, backup_legacy_parser_free)

G_END_DECLS
