/* backup-restore-indexed.c: the inner archive read by its central directory
 *
 * A streaming zip reader ends a stored entry whose size comes after its
 * data (a data descriptor) at the first "PK\7\10" it meets, and encrypted
 * data holds these four bytes by chance (about once in 4 GiB): with AES
 * AE-2, whose descriptor has no CRC to tell a false one, the entry then
 * ends early and its authentication code does not match. When reading such
 * an entry in the stream fails, the restore comes here: the inner archive
 * (still encrypted with password 1) is copied out of the outer one into a
 * scratch file that has no name, and read again by libarchive's seeking
 * reader, which takes every entry's size from the central directory.
 *
 * Entries the stream wrote before are ours: they get their modes, times and
 * types as the central directory would have given them, without being read
 * again or taken for existing files. Nothing was counted or reported by the
 * stream, so every entry is counted and reported here, once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore-private.h"

typedef struct
{
  int dir_fd; /* where the scratch file is */
  char *dir_display;
  guint64 needed; /* the size of the inner archive, or an upper bound */
  RestoreSource source;
} Scratch;

static void
scratch_clear (Scratch *scratch)
{
  if (scratch->source.fd >= 0)
    close (scratch->source.fd);
  if (scratch->dir_fd >= 0)
    close (scratch->dir_fd);
  g_free (scratch->dir_display);
  g_free (scratch->source.buffer);
}

static void
set_space_error (Scratch *scratch, int errsv, GError **error)
{
  g_autofree char *needed = g_format_size (scratch->needed);

  g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
               _("Cannot read the inner archive by its index: a copy of it needs %s of free space "
                 "in “%s”: %s"),
               needed, scratch->dir_display, g_strerror (errsv));
}

/* Creates the scratch file next to the destination (elsewhere: in the
 * temporary folder), where the inner archive fits. */
static gboolean
scratch_open (Restore *r, Scratch *scratch, GError **error)
{
  const char *dir = r->params->mode == BACKUP_RESTORE_EXTRACT ? r->params->destination
                                                               : g_get_tmp_dir ();
  struct statvfs st;

  scratch->dir_display = backup_display_name (dir, -1);
  scratch->needed = r->outer_size >= 0 ? (guint64) r->outer_size : r->size;
  scratch->dir_fd = r->params->mode == BACKUP_RESTORE_EXTRACT
                        ? openat (r->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                        : open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scratch->dir_fd < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot open the folder “%s”: %s"),
                               scratch->dir_display);
      return FALSE;
    }
  if (fstatvfs (scratch->dir_fd, &st) == 0
      && (guint64) st.f_bavail * st.f_frsize < scratch->needed)
    {
      set_space_error (scratch, ENOSPC, error);
      return FALSE;
    }
  scratch->source.fd = restore_open_scratch (scratch->dir_fd, scratch->dir_display, error);
  return scratch->source.fd >= 0;
}

/* Copies the outer entry, read again from the start and checked to its
 * end, into the scratch file. */
static gboolean
copy_inner (Restore *r, Scratch *scratch, GError **error)
{
  struct archive_entry *entry;
  guint64 done = 0;

  if (!restore_open_outer (r, &entry, error))
    return FALSE;
  if (entry == NULL || archive_entry_filetype (entry) != AE_IFREG)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The archive changed while it was read"));
      return FALSE;
    }
  if (r->outer_size >= 0)
    scratch->needed = r->outer_size;

  while (!r->outer_eof)
    {
      const void *block;
      size_t len;

      if (!restore_next_outer_block (r, &block, &len, error))
        return FALSE;
      for (const guint8 *p = block; len > 0;)
        {
          gssize n = pwrite (scratch->source.fd, p, len, done);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              set_space_error (scratch, errno, error);
              return FALSE;
            }
          p += n;
          len -= n;
          done += n;
        }
    }
  return restore_check_outer_end (r, error);
}

/* An entry of the seeking reader; @entries holds those the stream wrote. */
static gboolean
process_indexed_entry (Restore *r, Archive *inner, struct archive_entry *entry, GError **error)
{
  const char *path = archive_entry_pathname (entry);
  g_autofree char *display = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autofree char *joined = NULL;
  const char *target = archive_entry_symlink (entry);
  gint64 mtime = archive_entry_mtime_is_set (entry) ? archive_entry_mtime (entry) : G_MININT64;
  guint64 size;

  if (path == NULL || r->params->mode != BACKUP_RESTORE_EXTRACT)
    return restore_process_entry (r, inner, TRUE, entry, error);
  display = backup_display_name (path, -1);
  parts = restore_split_path (path, display, error);
  if (parts == NULL)
    return FALSE;
  joined = restore_join_path (parts);
  if (!g_hash_table_contains (r->entries, joined))
    return restore_process_entry (r, inner, TRUE, entry, error);

  /* Written, and its data checked, by the stream. */
  g_free (r->last_display);
  r->last_display = g_steal_pointer (&display);
  if (!restore_apply_to_destination (r, path, archive_entry_mode (entry), mtime,
                                     archive_entry_mtime_nsec (entry), error))
    return FALSE;
  if (archive_read_data_skip (inner) != ARCHIVE_OK)
    {
      restore_set_read_error (r, inner, TRUE, r->last_display, error);
      return FALSE;
    }
  size = target != NULL ? strlen (target) : (guint64) archive_entry_size (entry);
  restore_count_entry (r, path, archive_entry_mode (entry), size, mtime, target);
  return TRUE;
}

gboolean
restore_inner_indexed (Restore *r, GError **error)
{
  Scratch scratch = { -1, NULL, 0, { r, -1, NULL, FALSE } };
  g_autoptr (Archive) inner = NULL;
  gboolean ok = FALSE;

  r->deferred = FALSE;
  r->inner_asked = FALSE;
  r->entry_may_misread = FALSE;
  for (int i = 0; i < RESTORE_WINDOW_BLOCKS; i++)
    g_clear_pointer (&r->window[i], g_bytes_unref);

  if (!scratch_open (r, &scratch, error) || !copy_inner (r, &scratch, error))
    goto out;

  scratch.source.buffer = g_malloc (RESTORE_READ_BLOCK_SIZE);
  inner = archive_read_new ();
  if (lseek (scratch.source.fd, 0, SEEK_SET) < 0)
    {
      set_space_error (&scratch, errno, error);
      goto out;
    }
  if (!restore_setup_reader (r, inner, TRUE, TRUE, error)
      || !restore_attach_source (&scratch.source, inner, error))
    goto out;
  if (archive_read_open1 (inner) != ARCHIVE_OK)
    {
      restore_set_read_error (r, inner, TRUE, NULL, error);
      goto out;
    }

  g_clear_pointer (&r->last_display, g_free);
  for (;;)
    {
      struct archive_entry *entry;
      int ret = archive_read_next_header (inner, &entry);

      if (ret == ARCHIVE_EOF)
        break;
      if (ret < ARCHIVE_WARN)
        {
          restore_set_read_error (r, inner, TRUE, NULL, error);
          goto out;
        }
      if (!process_indexed_entry (r, inner, entry, error))
        goto out;
    }

  if (g_hash_table_size (r->entries) > 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory does not list its "
                     "entries"));
      goto out;
    }
  ok = TRUE;

out:
  scratch_clear (&scratch);
  return ok;
}
