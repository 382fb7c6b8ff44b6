/* backup-sent-history.c: the backups this computer sent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "backup-sent-history.h"

/* A history file is small: one much larger is not one. */
#define MAX_FILE_SIZE (1024 * 1024)

struct _BackupSentHistory
{
  GObject parent_instance;

  GFile *file;
  GPtrArray *entries; /* BackupSentEntry, newest first */
  gboolean loading;   /* the file is being read */
  gboolean writing;   /* the file is being written */
  gboolean dirty;     /* entries changed since the last write began */
};

G_DEFINE_FINAL_TYPE (BackupSentHistory, backup_sent_history, G_TYPE_OBJECT)

enum
{
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
backup_sent_entry_free (BackupSentEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->name);
  g_free (entry->session_id);
  g_free (entry->device);
  g_free (entry);
}

/* ------------------------------------------------------------------------ */
/* The file's form                                                          */

static gint
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const BackupSentEntry *x = *(BackupSentEntry *const *)a;
  const BackupSentEntry *y = *(BackupSentEntry *const *)b;

  return (x->time < y->time) - (x->time > y->time);
}

GPtrArray *
backup_sent_history_parse (const char *data, gsize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_sent_entry_free);
  JsonNode *root;
  JsonNode *sent;
  JsonArray *array;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > MAX_FILE_SIZE || length > G_MAXSSIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The history of sent backups is too large"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize)length, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The history of sent backups is not of a known form"));
      return NULL;
    }
  sent = json_object_get_member (json_node_get_object (root), "sent");
  if (sent == NULL || !JSON_NODE_HOLDS_ARRAY (sent))
    return g_steal_pointer (&entries);

  array = json_node_get_array (sent);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      g_autoptr (BackupSentEntry) entry = NULL;
      g_autoptr (GDateTime) time = NULL;
      JsonObject *item;
      const char *name, *session, *text, *device;
      gint64 size;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      item = json_node_get_object (node);
      name = json_object_get_string_member_with_default (item, "name", NULL);
      session = json_object_get_string_member_with_default (item, "session", "");
      text = json_object_get_string_member_with_default (item, "time", NULL);
      size = json_object_get_int_member_with_default (item, "size", -1);
      device = json_object_get_string_member_with_default (item, "device", NULL);
      if (name == NULL || *name == '\0' || text == NULL || size < 0 || session == NULL)
        continue;
      time = g_date_time_new_from_iso8601 (text, NULL);
      if (time == NULL)
        continue;
      entry = g_new0 (BackupSentEntry, 1);
      entry->name = g_strdup (name);
      entry->session_id = g_strdup (session);
      entry->device = device != NULL && *device != '\0' ? g_strdup (device) : NULL;
      entry->time
          = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
      entry->size = (guint64)size;
      g_ptr_array_add (entries, g_steal_pointer (&entry));
    }
  g_ptr_array_sort (entries, compare_newest_first);
  if (entries->len > BACKUP_SENT_HISTORY_MAX)
    g_ptr_array_set_size (entries, BACKUP_SENT_HISTORY_MAX);
  return g_steal_pointer (&entries);
}

char *
backup_sent_history_serialize (GPtrArray *entries)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sent");
  json_builder_begin_array (builder);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const BackupSentEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (entry->time / G_USEC_PER_SEC);
      g_autoptr (GDateTime) exact = NULL;
      g_autofree char *text = NULL;

      if (time == NULL)
        continue;
      exact = g_date_time_add (time, entry->time % G_USEC_PER_SEC);
      text = g_date_time_format_iso8601 (exact);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, entry->name);
      json_builder_set_member_name (builder, "session");
      json_builder_add_string_value (builder, entry->session_id);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64)MIN (entry->size, (guint64)G_MAXINT64));
      if (entry->device != NULL)
        {
          json_builder_set_member_name (builder, "device");
          json_builder_add_string_value (builder, entry->device);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* ------------------------------------------------------------------------ */
/* Reading and writing, in a worker thread                                  */

static void
load_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *entries;
  gsize length;

  if (path == NULL || !g_file_get_contents (path, &contents, &length, &error))
    {
      if (error != NULL && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_debug ("Cannot read the history of sent backups: %s", error->message);
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  entries = backup_sent_history_parse (contents, length, &error);
  if (entries == NULL)
    g_debug ("Ignoring the history of sent backups: %s", error->message);
  g_task_return_pointer (task, entries, (GDestroyNotify)g_ptr_array_unref);
}

static void
write_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  BackupSentHistory *self = source_object;
  const char *contents = task_data;
  g_autofree char *path = g_file_get_path (self->file);
  g_autofree char *folder = NULL;
  GError *error = NULL;

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _ ("The history of sent backups must be on this computer"));
      return;
    }
  folder = g_path_get_dirname (path);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", folder,
                               g_strerror (errsv));
      return;
    }
  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void write_now (BackupSentHistory *self);

static void
write_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupSentHistory *self = BACKUP_SENT_HISTORY (object);
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Cannot keep the history of sent backups: %s", error->message);
  self->writing = FALSE;
  if (self->dirty)
    write_now (self);
}

static void
write_now (BackupSentHistory *self)
{
  g_autoptr (GTask) task = NULL;

  if (self->loading || self->writing)
    return; /* written once that is over */
  self->dirty = FALSE;
  self->writing = TRUE;
  task = g_task_new (self, NULL, write_done_cb, NULL);
  g_task_set_source_tag (task, write_now);
  g_task_set_task_data (task, backup_sent_history_serialize (self->entries), g_free);
  g_task_run_in_thread (task, write_worker);
}

static void
load_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BackupSentHistory) self = user_data;
  g_autoptr (GPtrArray) loaded = g_task_propagate_pointer (G_TASK (result), NULL);

  self->loading = FALSE;
  /* What was added meanwhile is newer than what the file holds. */
  for (guint i = 0; loaded != NULL && i < loaded->len; i++)
    g_ptr_array_add (self->entries, g_steal_pointer (&g_ptr_array_index (loaded, i)));
  if (self->entries->len > BACKUP_SENT_HISTORY_MAX)
    g_ptr_array_set_size (self->entries, BACKUP_SENT_HISTORY_MAX);
  if (self->dirty)
    write_now (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

/* ------------------------------------------------------------------------ */
/* Object                                                                   */

static void
backup_sent_history_finalize (GObject *object)
{
  BackupSentHistory *self = BACKUP_SENT_HISTORY (object);

  g_clear_object (&self->file);
  g_clear_pointer (&self->entries, g_ptr_array_unref);

  G_OBJECT_CLASS (backup_sent_history_parent_class)->finalize (object);
}

static void
backup_sent_history_class_init (BackupSentHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = backup_sent_history_finalize;

  /**
   * BackupSentHistory::changed:
   *
   * The entries changed: read from the file, or one added.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
}

static void
backup_sent_history_init (BackupSentHistory *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify)backup_sent_entry_free);
}

BackupSentHistory *
backup_sent_history_new (GFile *file)
{
  BackupSentHistory *self;
  g_autoptr (GTask) task = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  self = g_object_new (BACKUP_TYPE_SENT_HISTORY, NULL);
  self->file = g_object_ref (file);
  self->loading = TRUE;
  /* The task holds the history until the file is read. */
  task = g_task_new (NULL, NULL, load_done_cb, g_object_ref (self));
  g_task_set_source_tag (task, backup_sent_history_new);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_worker);
  return self;
}

BackupSentHistory *
backup_sent_history_get_default (void)
{
  static BackupSentHistory *history;

  if (history == NULL)
    {
      g_autofree char *path = g_build_filename (g_get_user_data_dir (), "distributed-backup",
                                                "sent-history.json", NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);

      history = backup_sent_history_new (file);
    }
  return history;
}

GFile *
backup_sent_history_get_file (BackupSentHistory *self)
{
  g_return_val_if_fail (BACKUP_IS_SENT_HISTORY (self), NULL);

  return self->file;
}

GPtrArray *
backup_sent_history_get_entries (BackupSentHistory *self)
{
  g_return_val_if_fail (BACKUP_IS_SENT_HISTORY (self), NULL);

  return self->entries;
}

void
backup_sent_history_add (BackupSentHistory *self, const char *name, const char *session_id,
                         const char *device, guint64 size)
{
  BackupSentEntry *entry;

  g_return_if_fail (BACKUP_IS_SENT_HISTORY (self));
  g_return_if_fail (name != NULL);

  entry = g_new0 (BackupSentEntry, 1);
  entry->name = g_strdup (name);
  entry->session_id = g_strdup (session_id != NULL ? session_id : "");
  entry->device = device != NULL && *device != '\0' ? g_strdup (device) : NULL;
  entry->time = g_get_real_time ();
  entry->size = size;
  g_ptr_array_insert (self->entries, 0, entry);
  if (self->entries->len > BACKUP_SENT_HISTORY_MAX)
    g_ptr_array_set_size (self->entries, BACKUP_SENT_HISTORY_MAX);
  self->dirty = TRUE;
  write_now (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

gboolean
backup_sent_history_get_busy (BackupSentHistory *self)
{
  g_return_val_if_fail (BACKUP_IS_SENT_HISTORY (self), FALSE);

  return self->loading || self->writing;
}
