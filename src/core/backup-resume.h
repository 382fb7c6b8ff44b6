/* backup-resume.h: what a sender keeps to resume an interrupted transfer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A transfer that a lost connection, a sleep or a killed process
 * interrupted resumes when the same backup is sent again within a window
 * (BACKUP_RESUME_WINDOW): the receiver keeps the bytes it got under the
 * backup's id, and the sender, given the same id, skips them once it has
 * checked their hash (see backup-frame.h, version 2).
 *
 * The sender must therefore send the same bytes under the same id. A file
 * is its own content; a folder backup is a double zip whose salts are
 * random, so the sender derives them from a secret of the backup
 * (backup_archiver_set_reproducible()). A ticket holds the id and that
 * secret, and is kept (mode 0600, in the user's state folder) until the
 * backup succeeds, for as long as what the sender sees of its source (the
 * fingerprint: sizes, times, inode numbers) does not change. A changed
 * source gets a new ticket: a new id, so the receiver starts over, and a
 * new secret, so no salt is ever used for two contents.
 */
#pragma once

#include <gio/gio.h>

#include "backup-frame.h"

G_BEGIN_DECLS

#define BACKUP_RESUME_WINDOW (24 * G_TIME_SPAN_HOUR)
#define BACKUP_RESUME_SECRET_LEN 32
#define BACKUP_RESUME_FINGERPRINT_LEN 32

typedef struct
{
  guint8 id[BACKUP_FRAME_ID_LEN];
  guint8 secret[BACKUP_RESUME_SECRET_LEN];
  gint64 created; /* seconds since the epoch */
} BackupResumeTicket;

/* The folder tickets are kept in: $XDG_STATE_HOME/distributed-backup/resume. */
char *backup_resume_default_directory (void);

/* Blocking. The ticket kept under @key in @directory when its fingerprint
 * is @fingerprint and it is younger than @window; else a new one, kept.
 * Tickets older than @window are removed. When no ticket can be kept (an
 * unwritable folder), a new one is still returned, and the transfer cannot
 * resume later. @now: seconds since the epoch. */
void backup_resume_ticket_get (const char *directory,
                               const char *key,
                               const guint8 fingerprint[BACKUP_RESUME_FINGERPRINT_LEN],
                               gint64 now,
                               GTimeSpan window,
                               BackupResumeTicket *ticket);

/* Removes the ticket of @key (after the backup succeeded). Blocking. */
void backup_resume_ticket_forget (const char *directory, const char *key);

/* The key of a backup: who it goes to (the session id), what (the source's
 * path) and as what (the archive name, or NULL for a file). */
char *backup_resume_key (const char *session_id, GFile *source, const char *archive_name);

/* The fingerprint of a file: its device, inode, size and times. Blocking. */
gboolean backup_resume_file_fingerprint (GFile *file,
                                         guint8 out[BACKUP_RESUME_FINGERPRINT_LEN],
                                         GError **error);

void backup_resume_ticket_clear (BackupResumeTicket *ticket);

G_END_DECLS
