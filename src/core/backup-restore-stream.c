/* backup-restore-stream.c: the streaming engine of the restore
 *
 * The outer archive is read from the file through libarchive (its seeking
 * reader when the central directory is intact, its streaming reader
 * otherwise); when its first entry is a zip, a second libarchive reader
 * (streaming) takes its content block by block straight from the first one,
 * so the inner archive never exists anywhere as a whole. Each entry is read
 * to its end and handed to the destination (backup-restore-dest.c); the
 * inner archive's central directory, at its end, gives its entries their
 * types and modes (backup-restore-directory.c). When the stream cannot
 * read an inner entry that may have been misread, the inner archive is read
 * again by its central directory (backup-restore-indexed.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore-private.h"

#define INNER_CHUNK_SIZE (4 * 1024)
#define SIG_LOCAL 0x04034b50u
#define LOCAL_SIZE 30
#define METHOD_STORED 0
#define METHOD_AES 99
#define FLAG_DATA_DESCRIPTOR 0x0008
#define EXTRA_AES 0x9901

/* ------------------------------------------------------------------------ */
/* Readers */

/* libarchive asks for one more password once those it was given failed. */
static const char *
outer_password_cb (struct archive *a, void *data)
{
  Restore *r = data;

  r->outer_asked = TRUE;
  return NULL;
}

static const char *
inner_password_cb (struct archive *a, void *data)
{
  Restore *r = data;

  r->inner_asked = TRUE;
  return NULL;
}

/* Sets @a up as a zip reader of one level: streaming, seeking, or either
 * (the outer level: seeking when it can). */
gboolean
restore_setup_reader (Restore *r, Archive *a, gboolean inner, gboolean seekable, GError **error)
{
  const char *password = restore_password (inner ? r->params->password1 : r->params->password2);
  int ret;

  if (!inner)
    ret = archive_read_support_format_zip (a);
  else if (seekable)
    ret = archive_read_support_format_zip_seekable (a);
  else
    ret = archive_read_support_format_zip_streamable (a);
  if (ret != ARCHIVE_OK
      || (password[0] != '\0' && archive_read_add_passphrase (a, password) != ARCHIVE_OK)
      || archive_read_set_passphrase_callback (a, r, inner ? inner_password_cb : outer_password_cb)
             != ARCHIVE_OK)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, "%s", archive_error_string (a));
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Entry content */

/* Reads the rest of the current entry of @a (the inner level when @inner),
 * writing it to @fd unless it is -1, and keeping its first bytes in
 * @capture (up to one more than the longest link target) unless NULL. */
gboolean
restore_read_content (Restore *r, Archive *a, gboolean inner, int fd, GByteArray *capture,
                      const char *display, guint64 *out_size, GError **error)
{
  guint64 end = 0;

  for (;;)
    {
      const void *buffer;
      size_t len;
      la_int64_t offset;
      int ret;

      if (!restore_check_cancelled (r, error))
        return FALSE;

      if (!inner && r->pending_len > 0)
        {
          buffer = r->pending;
          len = r->pending_len;
          offset = 0;
          r->pending_len = 0;
          ret = ARCHIVE_OK;
        }
      else
        ret = archive_read_data_block (a, &buffer, &len, &offset);

      if (ret == ARCHIVE_EOF)
        break;
      if (ret != ARCHIVE_OK)
        {
          /* Not the outer level failing under it, nor a password. */
          r->misread = inner && r->entry_may_misread && r->outer_error == NULL && !r->inner_asked
                       && !g_cancellable_is_cancelled (r->cancellable);
          restore_set_read_error (r, a, inner, display, error);
          return FALSE;
        }
      if (offset < 0)
        offset = end;

      if (fd >= 0 && len > 0 && !restore_write_at (fd, buffer, len, offset, display, error))
        return FALSE;
      if (capture != NULL && capture->len <= RESTORE_MAX_LINK_TARGET)
        g_byte_array_append (capture, buffer, MIN (len, RESTORE_MAX_LINK_TARGET + 1 - capture->len));
      end = MAX (end, (guint64) offset + len);
      restore_report_progress (r, FALSE);
    }

  /* Holes at the end still count. */
  if (fd >= 0 && ftruncate (fd, end) < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot write “%s”: %s"), display);
      return FALSE;
    }
  *out_size = end;
  return TRUE;
}

static gboolean
restore_entry_file (Restore *r, Archive *a, gboolean inner, struct archive_entry *entry,
                    GPtrArray *parts, const struct timespec *mtime, const char *display,
                    guint64 *size, GError **error)
{
  RestoreFile file = { -1, -1, NULL, NULL };
  gboolean ok;

  ok = restore_file_begin (r, &file, parts, display, error)
       && restore_read_content (r, a, inner, file.fd, NULL, display, size, error)
       && restore_file_commit (r, &file, r->deferred ? 0600 : archive_entry_perm (entry) & 0777,
                               mtime, display, error);
  restore_file_clear (&file);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Entries */

/* Handles the entry of @a whose header was just read. */
gboolean
restore_process_entry (Restore *r, Archive *a, gboolean inner, struct archive_entry *entry,
                       GError **error)
{
  BackupRestoreMode mode = r->params->mode;
  const char *path = archive_entry_pathname (entry);
  g_autofree char *display = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autoptr (GByteArray) capture = NULL;
  const char *target = NULL;
  guint32 type = archive_entry_filetype (entry);
  struct timespec mtime_value = { 0, 0 };
  const struct timespec *mtime = NULL;
  guint64 size = 0;

  if (path == NULL)
    path = archive_entry_pathname_utf8 (entry);
  if (path == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The archive is damaged: an entry has no name"));
      return FALSE;
    }
  display = backup_display_name (path, -1);
  g_free (r->last_display);
  r->last_display = g_strdup (display);
  if (archive_entry_mtime_is_set (entry))
    {
      mtime_value.tv_sec = archive_entry_mtime (entry);
      mtime_value.tv_nsec = archive_entry_mtime_nsec (entry);
      mtime = &mtime_value;
    }

  if (type == AE_IFLNK)
    {
      target = archive_entry_symlink (entry);
      if (target == NULL)
        target = archive_entry_symlink_utf8 (entry);
      if (target == NULL)
        target = "";
    }

  if (mode != BACKUP_RESTORE_LIST)
    {
      parts = restore_split_path (path, display, error);
      if (parts == NULL)
        return FALSE;
      if (parts->len == 0 && type != AE_IFDIR)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _("Refused “%s”: it names no file"), display);
          return FALSE;
        }
      if (type == AE_IFLNK
          && !restore_check_link_target (target, parts->len - 1, display, error))
        return FALSE;
      if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                       _("Cannot restore “%s”: it is neither a file, a folder nor a symbolic "
                         "link"),
                       display);
          return FALSE;
        }
    }

  if (mode == BACKUP_RESTORE_EXTRACT && type == AE_IFREG)
    {
      if (!restore_entry_file (r, a, inner, entry, parts, mtime, display, &size, error))
        return FALSE;
    }
  else
    {
      /* A streamed entry may turn out to be a link: what it holds is its
       * target, which verifying checks once the directory says so. */
      if (r->deferred && mode == BACKUP_RESTORE_VERIFY && type == AE_IFREG)
        capture = g_byte_array_new ();
      if (!restore_read_content (r, a, inner, -1, capture, display, &size, error))
        return FALSE;
      if (capture != NULL)
        restore_note_content (r, parts, capture);
      if (mode == BACKUP_RESTORE_EXTRACT && type == AE_IFLNK
          && !restore_link (r, parts, target, mtime, display, error))
        return FALSE;
      if (mode == BACKUP_RESTORE_EXTRACT && type == AE_IFDIR
          && !restore_folder (r, parts, r->deferred ? 0700 : archive_entry_perm (entry), mtime,
                              display, error))
        return FALSE;
    }

  if (r->deferred)
    {
      /* Counted and reported from the central directory. */
      r->n_deferred++;
      if (mode == BACKUP_RESTORE_EXTRACT && type == AE_IFREG)
        g_hash_table_insert (r->entries, restore_join_path (parts),
                             GUINT_TO_POINTER (RESTORE_ENTRY_FILE));
      return TRUE;
    }

  if (type == AE_IFLNK)
    size = strlen (target); /* as ls shows it */
  restore_count_entry (r, path, archive_entry_mode (entry), size,
                       mtime != NULL ? mtime->tv_sec : G_MININT64, target);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The inner archive, streamed out of the outer entry */

/* The inner reader stops where the central directory starts, somewhere in
 * the last blocks it was handed: copies of those are kept. */
static void
keep_in_window (Restore *r, const void *block, size_t len)
{
  g_clear_pointer (&r->window[0], g_bytes_unref);
  for (int i = 0; i + 1 < RESTORE_WINDOW_BLOCKS; i++)
    {
      r->window[i] = r->window[i + 1];
      r->window_offset[i] = r->window_offset[i + 1];
    }
  r->window[RESTORE_WINDOW_BLOCKS - 1] = g_bytes_new (block, len);
  r->window_offset[RESTORE_WINDOW_BLOCKS - 1] = r->handed;
  r->handed += len;
}

/* Copies @len bytes of the inner stream at @offset out of the window;
 * FALSE when it does not hold them all. */
static gboolean
copy_from_window (Restore *r, guint64 offset, guint8 *dest, gsize len)
{
  for (int i = 0; i < RESTORE_WINDOW_BLOCKS && len > 0; i++)
    {
      gsize block_len;
      const guint8 *data;

      if (r->window[i] == NULL)
        continue;
      data = g_bytes_get_data (r->window[i], &block_len);
      if (offset >= r->window_offset[i] && offset < r->window_offset[i] + block_len)
        {
          gsize skip = offset - r->window_offset[i];
          gsize n = MIN (len, block_len - skip);

          memcpy (dest, data + skip, n);
          dest += n;
          offset += n;
          len -= n;
        }
    }
  return len == 0;
}

static guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

/* Whether the local header of the entry @a just read says it is stored
 * (under AES or not) with its size after its data: a streaming reader ends
 * such an entry at the first data descriptor signature it meets. A header
 * no longer in the window counts as one. */
static gboolean
stored_with_descriptor (Restore *r, Archive *a)
{
  guint64 end = archive_filter_bytes (a, 0);
  guint64 start = archive_read_header_position (a);

  /* The header follows what the previous entry left (its descriptor). */
  for (; start + LOCAL_SIZE <= end; start++)
    {
      guint8 h[LOCAL_SIZE];
      guint16 name_len, extra_len;
      g_autofree guint8 *extra = NULL;

      if (!copy_from_window (r, start, h, sizeof h))
        return TRUE;
      if (h[0] != 'P' || h[1] != 'K' || h[2] != 3 || h[3] != 4)
        continue;
      name_len = get16 (h + 26);
      extra_len = get16 (h + 28);
      if (start + LOCAL_SIZE + name_len + extra_len != end)
        continue;

      if (!(get16 (h + 6) & FLAG_DATA_DESCRIPTOR))
        return FALSE;
      if (get16 (h + 8) == METHOD_STORED)
        return TRUE;
      if (get16 (h + 8) != METHOD_AES)
        return FALSE;
      extra = g_malloc (extra_len);
      if (!copy_from_window (r, start + LOCAL_SIZE + name_len, extra, extra_len))
        return TRUE;
      for (guint off = 0; off + 4 <= extra_len;)
        {
          guint16 id = get16 (extra + off);
          guint16 len = get16 (extra + off + 2);

          if (off + 4 + len > extra_len)
            break;
          /* Version, vendor, strength, then the method under AES. */
          if (id == EXTRA_AES && len >= 7)
            return get16 (extra + off + 4 + 5) == METHOD_STORED;
          off += 4 + len;
        }
      return FALSE;
    }
  return TRUE;
}

/* Every entry of @a; @first is the header read already, if any. */
static gboolean
process_entries (Restore *r, Archive *a, gboolean inner, struct archive_entry *first,
                 GError **error)
{
  struct archive_entry *entry = first;

  for (;;)
    {
      if (entry == NULL)
        {
          int ret = archive_read_next_header (a, &entry);

          if (ret == ARCHIVE_EOF)
            return TRUE;
          if (ret < ARCHIVE_WARN)
            {
              restore_set_read_error (r, a, inner, NULL, error);
              return FALSE;
            }
        }
      r->entry_may_misread = inner && r->deferred && stored_with_descriptor (r, a);
      if (!restore_process_entry (r, a, inner, entry, error))
        return FALSE;
      entry = NULL;
    }
}

static la_ssize_t
inner_read_cb (struct archive *a, void *data, const void **buffer)
{
  Restore *r = data;
  size_t len;

  while (r->pending_len == 0)
    {
      const void *block;
      la_int64_t offset;
      int ret;

      if (r->outer_eof)
        return 0;
      if (g_cancellable_set_error_if_cancelled (r->cancellable, &r->outer_error))
        {
          archive_set_error (a, ECANCELED, "cancelled");
          return -1;
        }
      ret = archive_read_data_block (r->outer, &block, &len, &offset);
      if (ret == ARCHIVE_EOF)
        {
          r->outer_eof = TRUE;
          return 0;
        }
      if (ret != ARCHIVE_OK)
        {
          g_autoptr (GError) local_error = NULL;

          restore_set_read_error (r, r->outer, FALSE, r->outer_name, &local_error);
          g_clear_error (&r->outer_error);
          r->outer_error = g_steal_pointer (&local_error);
          archive_set_error (a, EIO, "%s", r->outer_error->message);
          return -1;
        }
      restore_report_progress (r, FALSE);
      r->pending = block;
      r->pending_len = len;
    }

  /* Small pieces: libarchive decrypts all it is handed past the start of
   * an entry whose size comes only after its data, and drops the rest. */
  len = MIN (r->pending_len, INNER_CHUNK_SIZE);
  keep_in_window (r, r->pending, len);
  *buffer = r->pending;
  r->pending = (const guint8 *) r->pending + len;
  r->pending_len -= len;
  return len;
}

/* Hands the central directory, from @start in the inner stream, to its
 * reader: the part in the window, then the rest of the outer block the last
 * piece came from. */
static gboolean
feed_directory_from_window (Restore *r, guint64 start, GError **error)
{
  gboolean found = FALSE;

  for (int i = 0; i < RESTORE_WINDOW_BLOCKS; i++)
    {
      gsize len;
      const guint8 *data;

      if (r->window[i] == NULL)
        continue;
      data = g_bytes_get_data (r->window[i], &len);
      if (!found && start >= r->window_offset[i] && start < r->window_offset[i] + len)
        {
          gsize skip = start - r->window_offset[i];

          found = TRUE;
          data += skip;
          len -= skip;
        }
      if (found && !restore_feed_directory (r, data, len, error))
        return FALSE;
    }
  if (!found)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory is missing"));
      return FALSE;
    }
  if (!restore_feed_directory (r, r->pending, r->pending_len, error))
    return FALSE;
  r->pending_len = 0;
  return TRUE;
}

static gboolean
process_inner (Restore *r, GError **error)
{
  g_autoptr (Archive) inner = archive_read_new ();

  if (!restore_setup_reader (r, inner, TRUE, FALSE, error))
    return FALSE;
  if (archive_read_open (inner, r, NULL, inner_read_cb, NULL) != ARCHIVE_OK)
    {
      restore_set_read_error (r, inner, TRUE, NULL, error);
      return FALSE;
    }

  g_clear_pointer (&r->last_display, g_free);
  r->deferred = TRUE;
  if (!process_entries (r, inner, TRUE, NULL, error))
    return FALSE;
  r->entry_may_misread = FALSE;

  /* The inner reader stopped at the central directory, which the blocks it
   * was last handed hold the start of. */
  if (!feed_directory_from_window (r, archive_filter_bytes (inner, 0), error))
    return FALSE;
  for (int i = 0; i < RESTORE_WINDOW_BLOCKS; i++)
    g_clear_pointer (&r->window[i], g_bytes_unref);
  if (archive_read_close (inner) != ARCHIVE_OK)
    {
      restore_set_read_error (r, inner, TRUE, NULL, error);
      return FALSE;
    }

  /* The rest of the outer entry: the rest of the central directory, and
   * the outer checksum, checked at its end. */
  while (!r->outer_eof)
    {
      const void *block;
      size_t len;

      if (!restore_next_outer_block (r, &block, &len, error)
          || !restore_feed_directory (r, block, len, error))
        return FALSE;
    }

  if (!r->directory_done || r->n_directory != r->n_deferred)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory does not list its "
                     "entries"));
      return FALSE;
    }
  r->deferred = FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The outer archive */

/* The next block of the outer entry; at its end, r->outer_eof and an
 * empty block. */
gboolean
restore_next_outer_block (Restore *r, const void **block, size_t *len, GError **error)
{
  la_int64_t offset;
  int ret;

  if (!restore_check_cancelled (r, error))
    return FALSE;
  ret = archive_read_data_block (r->outer, block, len, &offset);
  if (ret == ARCHIVE_EOF)
    {
      r->outer_eof = TRUE;
      *len = 0;
      return TRUE;
    }
  if (ret != ARCHIVE_OK)
    {
      restore_set_read_error (r, r->outer, FALSE, r->outer_name, error);
      return FALSE;
    }
  restore_report_progress (r, FALSE);
  return TRUE;
}

/* Opens the archive file (again) and reads its first header into @entry,
 * NULL for an empty zip. */
gboolean
restore_open_outer (Restore *r, struct archive_entry **entry, GError **error)
{
  const char *name;
  int ret;

  g_clear_pointer (&r->outer, archive_read_free);
  g_clear_error (&r->outer_error);
  g_clear_pointer (&r->outer_name, g_free);
  r->outer_asked = FALSE;
  r->outer_eof = FALSE;
  r->pending_len = 0;
  r->outer_size = -1;
  *entry = NULL;
  if (lseek (r->source.fd, 0, SEEK_SET) < 0)
    {
      g_autofree char *display = backup_display_name (r->params->archive, -1);

      restore_set_errno_error (error, errno, _("Cannot read “%s”: %s"), display);
      return FALSE;
    }
  r->position = 0;

  r->outer = archive_read_new ();
  if (!restore_setup_reader (r, r->outer, FALSE, TRUE, error)
      || !restore_attach_source (&r->source, r->outer, error))
    return FALSE;
  if (archive_read_open1 (r->outer) != ARCHIVE_OK)
    {
      restore_set_read_error (r, r->outer, FALSE, NULL, error);
      return FALSE;
    }

  ret = archive_read_next_header (r->outer, entry);
  if (ret == ARCHIVE_EOF)
    {
      *entry = NULL;
      return TRUE;
    }
  if (ret < ARCHIVE_WARN)
    {
      restore_set_read_error (r, r->outer, FALSE, NULL, error);
      return FALSE;
    }
  name = archive_entry_pathname (*entry);
  if (name == NULL)
    name = archive_entry_pathname_utf8 (*entry);
  r->outer_name = backup_display_name (name, -1);
  if (archive_entry_size_is_set (*entry))
    r->outer_size = archive_entry_size (*entry);
  return TRUE;
}

/* The inner archive must be the outer archive's only entry. */
gboolean
restore_check_outer_end (Restore *r, GError **error)
{
  struct archive_entry *entry;
  int ret = archive_read_next_header (r->outer, &entry);
  g_autofree char *extra_display = NULL;

  if (ret == ARCHIVE_EOF)
    return TRUE;
  if (ret < ARCHIVE_WARN)
    {
      restore_set_read_error (r, r->outer, FALSE, NULL, error);
      return FALSE;
    }
  extra_display = backup_display_name (archive_entry_pathname (entry), -1);
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
               _("The archive holds “%s” after the inner archive “%s”: it is not a backup of "
                 "this program"),
               extra_display, r->outer_name);
  return FALSE;
}

gboolean
restore_zip (Restore *r, GError **error)
{
  struct archive_entry *entry;

  if (!restore_open_outer (r, &entry, error))
    return FALSE;
  if (entry == NULL)
    {
      r->summary->kind = BACKUP_RESTORE_KIND_ZIP;
      return TRUE; /* an empty zip */
    }

  /* A first entry that is a file whose content starts like a zip is the
   * inner archive. */
  if (archive_entry_filetype (entry) == AE_IFREG)
    {
      const void *block = NULL;
      size_t len = 0;
      la_int64_t offset;
      int ret;

      /* The first non-empty block, or the end of an empty entry. */
      do
        {
          ret = archive_read_data_block (r->outer, &block, &len, &offset);
          restore_report_progress (r, FALSE);
        }
      while (ret == ARCHIVE_OK && len == 0);
      if (ret != ARCHIVE_OK && ret != ARCHIVE_EOF)
        {
          restore_set_read_error (r, r->outer, FALSE, r->outer_name, error);
          return FALSE;
        }
      r->outer_eof = ret == ARCHIVE_EOF;
      r->pending = block;
      r->pending_len = ret == ARCHIVE_OK ? len : 0;

      if (ret == ARCHIVE_OK && restore_has_zip_magic (block, len))
        {
          g_autoptr (GError) local_error = NULL;

          r->summary->kind = BACKUP_RESTORE_KIND_DOUBLE_ZIP;
          if (process_inner (r, &local_error))
            return restore_check_outer_end (r, error);
          if (!r->misread)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          g_debug ("The streamed inner archive failed (%s): reading it by its central directory",
                   local_error->message);
          return restore_inner_indexed (r, error);
        }
    }

  /* One level: the outer entries are the backup. */
  r->summary->kind = BACKUP_RESTORE_KIND_ZIP;
  return process_entries (r, r->outer, FALSE, entry, error);
}
