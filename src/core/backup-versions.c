/* backup-versions.c: the numbered versions of one name, their times and
 * their pruning
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * See backup-versions-private.h for the invariant every step keeps.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-frame.h"
#include "backup-reception-private.h"
#include "backup-store-private.h"
#include "backup-versions-private.h"

#define INDEX_SUFFIX ".versions"
#define NAME_MAX_BYTES 255
/* Bytes of a long name kept in its index file name, before a hash. */
#define INDEX_PREFIX_MAX 200
/* An index larger than this is damaged. */
#define INDEX_MAX_BYTES (16 * 1024 * 1024)
/* The numbering goes one past the largest -v during a commit. */
#define MAX_NUMBER (BACKUP_STORE_MAX_VERSIONS + 1)

typedef struct
{
  guint number; /* the lowest of its numbers */
  guint n_numbers;
  dev_t dev;
  ino_t ino;
  guint64 size;
  gint64 mtime;  /* µs */
  gint64 btime;  /* µs, 0: unknown */
  gint64 time;   /* µs: from the index, else mtime */
  BackupRetentionReason reasons;
  guint target; /* its number after the prune */
} Version;

typedef struct
{
  guint64 ino;
  guint64 size;
  gint64 btime;
  gint64 time;
} IndexEntry;

gboolean
_backup_versions_lock (int dir_fd)
{
  while (flock (dir_fd, LOCK_EX) != 0)
    {
      if (errno == EINTR)
        continue;
      g_debug ("Cannot lock the destination folder (%s): going on without", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

void
_backup_versions_unlock (int dir_fd, gboolean locked)
{
  if (locked)
    flock (dir_fd, LOCK_UN);
}

static char *
version_name (const char *name, guint number)
{
  if (number == 0)
    return g_strdup (name);
  return g_strdup_printf ("%s.%u", name, number);
}

char *
_backup_versions_index_name (const char *name)
{
  gsize len = strlen (name);
  g_autofree char *hash = NULL;

  if (1 + len + strlen (INDEX_SUFFIX) <= NAME_MAX_BYTES)
    return g_strconcat (".", name, INDEX_SUFFIX, NULL);

  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, (gssize) len);
  return g_strdup_printf (".%.*s.%.16s" INDEX_SUFFIX, INDEX_PREFIX_MAX, name, hash);
}

gboolean
_backup_versions_is_index_name (const char *name, gsize len)
{
  gsize suffix_len = strlen (INDEX_SUFFIX);

  return len > 1 + suffix_len && name[0] == '.'
         && memcmp (name + len - suffix_len, INDEX_SUFFIX, suffix_len) == 0;
}

static gboolean
set_errno_error (GError **error, int errsv, const char *file, const char *dir_display)
{
  _backup_store_set_errno_error (error, errsv, file, dir_display);
  return FALSE;
}

static gint64
timespec_us (const struct timespec *ts)
{
  return (gint64) ts->tv_sec * G_USEC_PER_SEC + ts->tv_nsec / 1000;
}

/* What a number holds: FALSE with @exists FALSE when nothing. */
static gboolean
stat_number (int dir_fd,
             const char *dir_display,
             const char *file,
             gboolean *exists,
             Version *out,
             GError **error)
{
  struct statx stx;

  if (statx (dir_fd, file, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &stx) != 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        {
          *exists = FALSE;
          return TRUE;
        }
      if (errsv == ENOSYS)
        {
          struct stat st;

          if (fstatat (dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0)
            {
              if (errno == ENOENT)
                {
                  *exists = FALSE;
                  return TRUE;
                }
              return set_errno_error (error, errno, file, dir_display);
            }
          if (S_ISDIR (st.st_mode))
            return set_errno_error (error, EISDIR, file, dir_display);
          *exists = TRUE;
          out->dev = st.st_dev;
          out->ino = st.st_ino;
          out->size = (guint64) st.st_size;
          out->mtime = timespec_us (&st.st_mtim);
          out->btime = 0;
          return TRUE;
        }
      return set_errno_error (error, errsv, file, dir_display);
    }

  if (S_ISDIR (stx.stx_mode))
    return set_errno_error (error, EISDIR, file, dir_display);
  *exists = TRUE;
  out->dev = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  out->ino = stx.stx_ino;
  out->size = stx.stx_size;
  out->mtime = (gint64) stx.stx_mtime.tv_sec * G_USEC_PER_SEC + stx.stx_mtime.tv_nsec / 1000;
  out->btime = (stx.stx_mask & STATX_BTIME)
                   ? (gint64) stx.stx_btime.tv_sec * G_USEC_PER_SEC
                         + stx.stx_btime.tv_nsec / 1000
                   : 0;
  return TRUE;
}

/* The numbers of @name up to the first gap: @versions gets one Version
 * per file (at its lowest number), @n_numbers how many numbers there are. */
static gboolean
scan (int dir_fd,
      const char *dir_display,
      const char *name,
      GArray *versions,
      guint *n_numbers,
      GError **error)
{
  g_autoptr (GHashTable) by_inode = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                           NULL);
  guint number;

  for (number = 0; number <= MAX_NUMBER; number++)
    {
      g_autofree char *file = version_name (name, number);
      Version version = { 0 };
      gboolean exists;
      gint64 key;
      gpointer found;

      if (!stat_number (dir_fd, dir_display, file, &exists, &version, error))
        return FALSE;
      if (!exists)
        break;

      /* One filesystem: the inode tells a file. */
      key = (gint64) version.ino;
      if (g_hash_table_lookup_extended (by_inode, &key, NULL, &found))
        {
          g_array_index (versions, Version, GPOINTER_TO_UINT (found)).n_numbers++;
          continue;
        }
      version.number = number;
      version.n_numbers = 1;
      g_hash_table_insert (by_inode, g_memdup2 (&key, sizeof key),
                           GUINT_TO_POINTER (versions->len));
      g_array_append_val (versions, version);
    }

  *n_numbers = number;
  return TRUE;
}

static gboolean
step (BackupStore *store, const char *what, GError **error)
{
  return _backup_store_step (store, what, error);
}

/* Gives the file at number @from the number @to (replacing what is
 * there), keeping @from: a hard link renamed into place.  Without hard
 * links, a rename. */
static gboolean
copy_number (BackupStore *store,
             int dir_fd,
             const char *dir_display,
             const char *name,
             guint from,
             guint to,
             GError **error)
{
  g_autofree char *from_file = version_name (name, from);
  g_autofree char *to_file = version_name (name, to);
  g_autofree char *link_name = _backup_reception_make_part_name (name,
                                                                 BACKUP_RECEPTION_LINK_MARK);

  if (linkat (dir_fd, from_file, dir_fd, link_name, 0) != 0)
    {
      int errsv = errno;

      if (errsv == EPERM || errsv == EOPNOTSUPP || errsv == EMLINK)
        {
          g_debug ("No hard links in “%s” (%s): renaming instead", dir_display,
                   g_strerror (errsv));
          if (renameat (dir_fd, from_file, dir_fd, to_file) != 0)
            return set_errno_error (error, errno, to_file, dir_display);
          return TRUE;
        }
      return set_errno_error (error, errsv, from_file, dir_display);
    }

  /* Here a crash leaves a second name that the scan of stale files
   * removes. */
  if (!step (store, "link", error))
    return FALSE;

  if (renameat (dir_fd, link_name, dir_fd, to_file) != 0)
    {
      int errsv = errno;

      unlinkat (dir_fd, link_name, 0);
      return set_errno_error (error, errsv, to_file, dir_display);
    }
  /* rename(2) of two names of one file does nothing. */
  unlinkat (dir_fd, link_name, 0);
  return TRUE;
}

gboolean
_backup_versions_shift (BackupStore *store,
                        int dir_fd,
                        const char *dir_display,
                        const char *name,
                        GError **error)
{
  g_autoptr (GArray) versions = g_array_new (FALSE, TRUE, sizeof (Version));
  guint n_numbers;

  if (!scan (dir_fd, dir_display, name, versions, &n_numbers, error))
    return FALSE;
  if (n_numbers > BACKUP_STORE_MAX_VERSIONS)
    {
      g_autofree char *shown = backup_display_name (name, -1);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO,
                   _("Cannot keep more than %u versions of “%s” in “%s”"),
                   BACKUP_STORE_MAX_VERSIONS, shown, dir_display);
      return FALSE;
    }

  /* From the oldest: each step gives a file its next number and keeps the
   * old one until the next step replaces it. */
  for (guint number = n_numbers; number-- > 0;)
    if (!step (store, "shift", error)
        || !copy_number (store, dir_fd, dir_display, name, number, number + 1, error))
      return FALSE;
  return TRUE;
}

/* --- The index ------------------------------------------------------- */

static gboolean
read_index_file (int dir_fd, const char *index_name, char **contents, gsize *len)
{
  struct stat st;
  g_autofree char *data = NULL;
  gsize done = 0;
  int fd;

  fd = openat (dir_fd, index_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > INDEX_MAX_BYTES)
    {
      close (fd);
      return FALSE;
    }
  data = g_malloc ((gsize) st.st_size + 1);
  while (done < (gsize) st.st_size)
    {
      ssize_t n = read (fd, data + done, (gsize) st.st_size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  close (fd);
  data[done] = '\0';
  *contents = g_steal_pointer (&data);
  *len = done;
  return TRUE;
}

static gboolean
get_int (JsonObject *object, const char *member, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

/* The name an index says it is for. */
static char *
index_get_name (JsonObject *root)
{
  const char *text;

  if (json_object_has_member (root, "name-base64"))
    {
      gsize len;
      guchar *decoded;

      text = json_object_get_string_member_with_default (root, "name-base64", "");
      decoded = g_base64_decode (text, &len);
      if (decoded == NULL || memchr (decoded, '\0', len) != NULL)
        {
          g_free (decoded);
          return NULL;
        }
      decoded = g_realloc (decoded, len + 1);
      decoded[len] = '\0';
      return (char *) decoded;
    }
  text = json_object_get_string_member_with_default (root, "name", NULL);
  return g_strdup (text);
}

/* The entries of the index of @name; an index that is missing, damaged
 * or of another name gives none (the times come from the files then). */
static GArray *
load_index (int dir_fd, const char *name)
{
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (IndexEntry));
  g_autofree char *index_name = _backup_versions_index_name (name);
  g_autofree char *contents = NULL;
  g_autofree char *indexed_name = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonArray *array;
  gsize len;

  if (!read_index_file (dir_fd, index_name, &contents, &len))
    return entries;
  if (!json_parser_load_from_data (parser, contents, (gssize) len, &error))
    {
      g_debug ("Ignoring a damaged version index: %s", error->message);
      return entries;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return entries;
  object = json_node_get_object (root);
  indexed_name = index_get_name (object);
  if (g_strcmp0 (indexed_name, name) != 0)
    {
      g_debug ("Ignoring a version index of another name");
      return entries;
    }
  if (!json_object_has_member (object, "versions")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "versions")))
    return entries;

  array = json_object_get_array_member (object, "versions");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *item;
      IndexEntry entry = { 0 };
      g_autoptr (GDateTime) time = NULL;
      gint64 ino, size, btime = 0;
      const char *text;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      item = json_node_get_object (node);
      text = json_object_get_string_member_with_default (item, "time", NULL);
      if (text == NULL || !get_int (item, "inode", &ino) || !get_int (item, "size", &size)
          || ino < 0 || size < 0)
        continue;
      time = g_date_time_new_from_iso8601 (text, NULL);
      if (time == NULL)
        continue;
      get_int (item, "birth", &btime);
      entry.ino = (guint64) ino;
      entry.size = (guint64) size;
      entry.btime = btime;
      entry.time = g_date_time_to_unix (time) * G_USEC_PER_SEC
                   + g_date_time_get_microsecond (time);
      g_array_append_val (entries, entry);
    }
  return entries;
}

static char *
format_time (gint64 time_us)
{
  g_autoptr (GDateTime) seconds = g_date_time_new_from_unix_utc (
      time_us / G_USEC_PER_SEC - (time_us % G_USEC_PER_SEC < 0));
  g_autoptr (GDateTime) time = NULL;

  if (seconds == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  time = g_date_time_add (seconds, ((time_us % G_USEC_PER_SEC) + G_USEC_PER_SEC)
                                       % G_USEC_PER_SEC);
  return g_date_time_format_iso8601 (time);
}

/* Writes the index of the kept versions (under their new numbers):
 * a temporary file, synced, renamed over the index. */
static gboolean
write_index (BackupStore *store,
             int dir_fd,
             const char *dir_display,
             const char *name,
             GArray *versions,
             GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *index_name = _backup_versions_index_name (name);
  g_autofree char *data = NULL;
  g_autofree char *part_name = NULL;
  gsize len, done = 0;
  int errsv = 0;
  int fd = -1;

  json_builder_begin_object (builder);
  if (g_utf8_validate (name, -1, NULL))
    {
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
    }
  else
    {
      g_autofree char *encoded = g_base64_encode ((const guchar *) name, strlen (name));

      json_builder_set_member_name (builder, "name-base64");
      json_builder_add_string_value (builder, encoded);
    }
  json_builder_set_member_name (builder, "versions");
  json_builder_begin_array (builder);
  for (guint i = 0; i < versions->len; i++)
    {
      const Version *v = &g_array_index (versions, Version, i);
      g_autofree char *time = NULL;

      if (v->reasons == BACKUP_RETENTION_REASON_NONE)
        continue;
      time = format_time (v->time);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "number");
      json_builder_add_int_value (builder, v->target);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, time);
      json_builder_set_member_name (builder, "inode");
      json_builder_add_int_value (builder, (gint64) v->ino);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) v->size);
      if (v->btime != 0)
        {
          json_builder_set_member_name (builder, "birth");
          json_builder_add_int_value (builder, v->btime);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &len);

  if (!step (store, "index", error))
    return FALSE;

  for (guint attempt = 0; attempt < 100 && fd < 0; attempt++)
    {
      g_free (part_name);
      part_name = _backup_reception_make_part_name (name, BACKUP_RECEPTION_DATA_MARK);
      fd = openat (dir_fd, part_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                   0600);
      if (fd < 0 && errno != EEXIST)
        return set_errno_error (error, errno, index_name, dir_display);
      /* Locked like a reception's data, so that a scan of stale files
       * leaves it alone. */
      if (fd >= 0)
        {
          int lock_errno = _backup_part_lock (fd);

          if (lock_errno == EAGAIN || lock_errno == EACCES)
            {
              close (fd);
              fd = -1;
            }
        }
    }
  if (fd < 0)
    return set_errno_error (error, EEXIST, index_name, dir_display);

  while (done < len && errsv == 0)
    {
      ssize_t n = write (fd, data + done, len - done);

      if (n < 0 && errno != EINTR)
        errsv = errno;
      else if (n > 0)
        done += (gsize) n;
    }
  if (errsv == 0 && fsync (fd) != 0)
    errsv = errno;
  if (errsv == 0 && renameat (dir_fd, part_name, dir_fd, index_name) != 0)
    errsv = errno;
  if (errsv != 0)
    unlinkat (dir_fd, part_name, 0);
  close (fd);
  if (errsv != 0)
    return set_errno_error (error, errsv, index_name, dir_display);
  return TRUE;
}

static gboolean
index_exists (int dir_fd, const char *name)
{
  g_autofree char *index_name = _backup_versions_index_name (name);
  struct stat st;

  return fstatat (dir_fd, index_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* --- Pruning ---------------------------------------------------------- */

static void
decide_times (GArray *versions, GArray *entries, const gint64 *newest_time)
{
  for (guint i = 0; i < versions->len; i++)
    {
      Version *v = &g_array_index (versions, Version, i);

      v->time = v->mtime;
      for (guint j = 0; j < entries->len; j++)
        {
          const IndexEntry *e = &g_array_index (entries, IndexEntry, j);

          if (e->ino == (guint64) v->ino && e->size == v->size
              && (e->btime == 0 || v->btime == 0 || e->btime == v->btime))
            {
              v->time = e->time;
              break;
            }
        }
    }
  if (newest_time != NULL && versions->len > 0
      && g_array_index (versions, Version, 0).number == 0)
    g_array_index (versions, Version, 0).time = *newest_time;
}

/* The origin kept with @file (see backup_reception_set_origin()). */
static char *
read_origin (int dir_fd, const char *file)
{
  char value[BACKUP_FRAME_MAX_FROM + 1];
  ssize_t n;
  int fd = openat (dir_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    return NULL;
  n = fgetxattr (fd, BACKUP_RECEPTION_ORIGIN_XATTR, value, sizeof value - 1);
  close (fd);
  if (n <= 0)
    return NULL;
  value[n] = '\0';
  if (strlen (value) != (gsize) n || !g_utf8_validate (value, n, NULL))
    return NULL;
  return g_strdup (value);
}

static void
add_report (GPtrArray *report, int dir_fd, const char *name, GArray *versions)
{
  for (guint i = 0; i < versions->len; i++)
    {
      const Version *v = &g_array_index (versions, Version, i);
      BackupStoreVersion *entry = g_new0 (BackupStoreVersion, 1);

      entry->name = g_strdup (name);
      entry->number = v->number;
      entry->file = version_name (name, v->number);
      entry->new_file = v->reasons != BACKUP_RETENTION_REASON_NONE ? version_name (name, v->target)
                                                                    : NULL;
      entry->time = v->time;
      entry->size = v->size;
      entry->reasons = v->reasons;
      entry->origin = read_origin (dir_fd, entry->file);
      g_ptr_array_add (report, entry);
    }
}

gboolean
_backup_versions_prune (BackupStore *store,
                        int dir_fd,
                        const char *dir_display,
                        const char *name,
                        const gint64 *newest_time,
                        gboolean dry_run,
                        gboolean repair,
                        GPtrArray *report,
                        GError **error)
{
  g_autoptr (GArray) versions = g_array_new (FALSE, TRUE, sizeof (Version));
  g_autoptr (GArray) entries = NULL;
  g_autofree gint64 *times = NULL;
  g_autofree BackupRetentionReason *reasons = NULL;
  BackupRetention retention;
  guint n_numbers, kept = 0;
  gboolean changes = FALSE;

  if (!scan (dir_fd, dir_display, name, versions, &n_numbers, error))
    return FALSE;
  if (versions->len == 0)
    return TRUE;

  entries = load_index (dir_fd, name);
  decide_times (versions, entries, newest_time);

  times = g_new (gint64, versions->len);
  reasons = g_new0 (BackupRetentionReason, versions->len);
  for (guint i = 0; i < versions->len; i++)
    times[i] = g_array_index (versions, Version, i).time;
  if (repair)
    for (guint i = 0; i < versions->len; i++)
      reasons[i] = BACKUP_RETENTION_REASON_VERSIONS;
  else
    {
      backup_store_get_retention (store, &retention);
      backup_retention_select (&retention, backup_store_get_versions (store), times,
                               versions->len, _backup_store_get_time_zone (store), reasons);
    }

  /* The kept files take the numbers 0, 1, 2… in the order of their
   * numbers now. */
  for (guint i = 0; i < versions->len; i++)
    {
      Version *v = &g_array_index (versions, Version, i);

      v->reasons = reasons[i];
      if (v->reasons == BACKUP_RETENTION_REASON_NONE)
        continue;
      v->target = kept++;
      if (v->target != v->number)
        changes = TRUE;
    }
  if (kept != n_numbers)
    changes = TRUE;

  if (report != NULL)
    add_report (report, dir_fd, name, versions);
  if (dry_run)
    return TRUE;

  if (changes)
    {
      g_autofree char *shown = backup_display_name (name, -1);

      g_debug ("Pruning “%s”: keeping %u of %u versions", shown, kept, versions->len);
    }

  /* Down, in increasing order of the new numbers: a number is replaced
   * only once the file there has its own new, lower number (or goes). */
  for (guint i = 0; i < versions->len; i++)
    {
      const Version *v = &g_array_index (versions, Version, i);

      if (v->reasons == BACKUP_RETENTION_REASON_NONE || v->target == v->number)
        continue;
      if (!step (store, "move", error)
          || !copy_number (store, dir_fd, dir_display, name, v->number, v->target, error))
        return FALSE;
    }

  /* Then the numbers past the kept ones, from the highest down: no gap
   * at any moment. */
  for (guint number = n_numbers; number-- > kept;)
    {
      g_autofree char *file = version_name (name, number);

      if (!step (store, "unlink", error))
        return FALSE;
      if (unlinkat (dir_fd, file, 0) != 0 && errno != ENOENT)
        return set_errno_error (error, errno, file, dir_display);
    }

  /* A name of one version needs no index to know its time (prunes of a
   * folder of single files leave no index beside each); a commit writes
   * one, and an index that is there is kept up to date. */
  if (kept > 1 || newest_time != NULL || index_exists (dir_fd, name))
    {
      if (!write_index (store, dir_fd, dir_display, name, versions, error))
        return FALSE;
    }

  if (fsync (dir_fd) != 0 && errno != EINVAL)
    return set_errno_error (error, errno, name, dir_display);
  return TRUE;
}

/* --- Names in a directory ---------------------------------------------- */

/* "A.K" (K > 0, without leading zeros): A and K. */
static gboolean
split_number (const char *file, char **base, guint *number)
{
  const char *dot = strrchr (file, '.');
  guint64 value;

  if (dot == NULL || dot == file || dot[1] == '\0' || dot[1] == '0')
    return FALSE;
  if (strspn (dot + 1, "0123456789") != strlen (dot + 1))
    return FALSE;
  if (!g_ascii_string_to_unsigned (dot + 1, 10, 1, MAX_NUMBER, &value, NULL))
    return FALSE;
  *base = g_strndup (file, (gsize) (dot - file));
  *number = (guint) value;
  return TRUE;
}

static gint
compare_length (gconstpointer a, gconstpointer b)
{
  const char *x = *(const char *const *) a;
  const char *y = *(const char *const *) b;
  gsize lx = strlen (x), ly = strlen (y);

  if (lx != ly)
    return lx < ly ? -1 : 1;
  return strcmp (x, y);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* How many numbers @base has without a gap (0 when @base is missing). */
static guint
count_numbers (GHashTable *files, const char *base)
{
  guint count = 0;

  while (count <= MAX_NUMBER)
    {
      g_autofree char *file = version_name (base, count);

      if (!g_hash_table_contains (files, file))
        break;
      count++;
    }
  return count;
}

gboolean
_backup_versions_list_names (int dir_fd,
                             GPtrArray *names,
                             GPtrArray *orphan_indexes,
                             GError **error)
{
  g_autoptr (GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) is_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr (GPtrArray) indexes = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  DIR *dir;
  int fd;

  fd = fcntl (dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                   _("Cannot read the destination folder: %s"), g_strerror (errsv));
      return FALSE;
    }
  rewinddir (dir);
  while ((entry = readdir (dir)) != NULL)
    {
      const char *file = entry->d_name;
      gsize len = strlen (file);
      struct stat st;

      if (strcmp (file, ".") == 0 || strcmp (file, "..") == 0)
        continue;
      if (_backup_part_kind (file, len) != BACKUP_PART_NONE)
        continue;
      if (_backup_versions_is_index_name (file, len))
        {
          g_ptr_array_add (indexes, g_strdup (file));
          continue;
        }
      if (fstatat (dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR (st.st_mode))
        continue;
      g_hash_table_add (files, g_strdup (file));
    }
  closedir (dir);

  /* Shorter first: whether "A.K" is a version of "A" depends on whether
   * "A" is a name. */
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, files);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (candidates, key);
  }
  g_ptr_array_sort (candidates, compare_length);

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *file = g_ptr_array_index (candidates, i);
      g_autofree char *base = NULL;
      guint number;

      if (split_number (file, &base, &number) && g_hash_table_contains (is_name, base))
        {
          gpointer count;

          if (!g_hash_table_lookup_extended (counts, base, NULL, &count))
            {
              count = GUINT_TO_POINTER (count_numbers (files, base));
              g_hash_table_insert (counts, g_strdup (base), count);
            }
          if (number < GPOINTER_TO_UINT (count))
            continue;
        }
      g_hash_table_add (is_name, (gpointer) file);
      g_ptr_array_add (names, g_strdup (file));
    }
  g_ptr_array_sort (names, compare_names);

  if (orphan_indexes != NULL)
    for (guint i = 0; i < indexes->len; i++)
      {
        const char *index = g_ptr_array_index (indexes, i);
        gboolean used = FALSE;

        for (guint j = 0; j < names->len && !used; j++)
          {
            g_autofree char *expected = _backup_versions_index_name (g_ptr_array_index (names, j));

            used = g_str_equal (expected, index);
          }
        if (!used)
          g_ptr_array_add (orphan_indexes, g_strdup (index));
      }
  return TRUE;
}

/* The names of which "@a" and "@b", two names of one file, are two
 * numbers. */
static char *
common_base (const char *a, const char *b)
{
  g_autofree char *base_a = NULL;
  g_autofree char *base_b = NULL;
  guint number_a = 0, number_b = 0;
  gboolean numbered_a = split_number (a, &base_a, &number_a);
  gboolean numbered_b = split_number (b, &base_b, &number_b);

  if (numbered_a && numbered_b && g_str_equal (base_a, base_b))
    return g_steal_pointer (&base_a);
  if (numbered_b && g_str_equal (base_b, a))
    return g_strdup (a);
  if (numbered_a && g_str_equal (base_a, b))
    return g_strdup (b);
  return NULL;
}

void
_backup_versions_find_interrupted (int dir_fd, GPtrArray *names)
{
  g_autoptr (GHashTable) by_inode = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                           g_free);
  struct dirent *entry;
  DIR *dir;
  int fd;

  fd = fcntl (dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return;
    }
  rewinddir (dir);
  while ((entry = readdir (dir)) != NULL)
    {
      const char *file = entry->d_name;
      gint64 key;
      struct stat st;
      const char *other;

      if (file[0] == '.' && (file[1] == '\0' || (file[1] == '.' && file[2] == '\0')))
        continue;
      if (_backup_part_kind (file, strlen (file)) != BACKUP_PART_NONE)
        continue;
      /* Only a file of several names can be one. */
      if (fstatat (dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode)
          || st.st_nlink < 2)
        continue;
      key = (gint64) st.st_ino;
      other = g_hash_table_lookup (by_inode, &key);
      if (other == NULL)
        {
          g_hash_table_insert (by_inode, g_memdup2 (&key, sizeof key), g_strdup (file));
          continue;
        }
      {
        g_autofree char *base = common_base (other, file);

        if (base != NULL && !g_ptr_array_find_with_equal_func (names, base, g_str_equal, NULL))
          g_ptr_array_add (names, g_steal_pointer (&base));
      }
    }
  closedir (dir);
}
