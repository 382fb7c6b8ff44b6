/* backup-sent-history.h: the backups this computer sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A short list of the backups sent from the desktop application, newest
 * first, at most BACKUP_SENT_HISTORY_MAX: what was sent, when, how big and
 * to which session and device. It is kept in a JSON file of the user's data folder,
 * $XDG_DATA_HOME/distributed-backup/sent-history.json (mode 0600):
 *
 *   { "sent": [ { "name": "documents.zip", "session": "91c0…",
 *                 "time": "2025-03-10T18:02:11.512000Z", "size": 1234,
 *                 "device": "nas" }, … ] }
 *
 * ("device", the name the receiver gave, only when it gave one.)
 *
 * The file is read once, when the history is created, and written again
 * (to a temporary file, then renamed) after each backup_sent_history_add(),
 * both in a worker thread. A missing file is an empty history; a damaged
 * one, or entries that are not of this form, are left out rather than
 * guessed at. ::changed is emitted when the entries change.
 *
 * Home context: the thread-default main context at creation.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_SENT_HISTORY_MAX 100

typedef struct
{
  char *name;       /* the name the receiver stores it under */
  char *session_id; /* the session it went to */
  char *device;     /* the receiving device's name, as it gave it, or NULL */
  gint64 time;      /* µs since the epoch, when the receiver confirmed it */
  guint64 size;     /* bytes sent */
} BackupSentEntry;

void backup_sent_entry_free (BackupSentEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BackupSentEntry, backup_sent_entry_free)

#define BACKUP_TYPE_SENT_HISTORY (backup_sent_history_get_type ())
G_DECLARE_FINAL_TYPE (BackupSentHistory, backup_sent_history, BACKUP, SENT_HISTORY, GObject)

/* The history kept in @file; its reading starts at once. */
BackupSentHistory *backup_sent_history_new (GFile *file);
/* The history of this user (the file above), shared by the application. */
BackupSentHistory *backup_sent_history_get_default (void);

GFile *backup_sent_history_get_file (BackupSentHistory *self);

/* The entries, newest first (BackupSentEntry; owned by the history). */
GPtrArray *backup_sent_history_get_entries (BackupSentHistory *self);

/* Adds a backup sent now; the oldest entries past the limit go. */
void backup_sent_history_add (BackupSentHistory *self, const char *name, const char *session_id,
                              const char *device, guint64 size);

/* TRUE while the file is read or written. */
gboolean backup_sent_history_get_busy (BackupSentHistory *self);

/* Parses the contents of a history file (for the tests): the entries,
 * newest first, at most BACKUP_SENT_HISTORY_MAX. */
GPtrArray *backup_sent_history_parse (const char *data, gsize length, GError **error);
/* The contents of a history file holding @entries. */
char *backup_sent_history_serialize (GPtrArray *entries);

G_END_DECLS
