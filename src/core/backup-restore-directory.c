/* backup-restore-directory.c: the central directory of a streamed inner zip
 *
 * A streamed zip tells the type and mode of its entries only in its central
 * directory, at its end. The streaming engine (backup-restore-stream.c)
 * writes the entries as files and folders of private modes first; the
 * records below, parsed as their bytes arrive, then give each entry its
 * mode and time, turn links into links (checking their targets), count and
 * report them. When only verifying, what a link would point to is known
 * from the entry's content, noted while it streamed by.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-restore-private.h"

#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define CENTRAL_SIZE 46
#define HOST_UNIX 3

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint64
le64 (const guint8 *p)
{
  return (guint64) le32 (p) | (guint64) le32 (p + 4) << 32;
}

/* MS-DOS date and time, in local time. */
static gint64
dos_time_to_unix (guint16 time, guint16 date)
{
  g_autoptr (GDateTime) dt = g_date_time_new_local (1980 + (date >> 9), MAX ((date >> 5) & 15, 1),
                                                    MAX (date & 31, 1), MIN (time >> 11, 23),
                                                    MIN ((time >> 5) & 63, 59),
                                                    MIN ((time & 31) * 2, 59));

  return dt != NULL ? g_date_time_to_unix (dt) : G_MININT64;
}

static gboolean
mismatch (const char *display, GError **error)
{
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
               _("The inner archive is damaged: its central directory does not match the "
                 "entry “%s”"),
               display);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Links */

/* Replaces the file written for a link entry by the link it holds. */
static gboolean
turn_into_link (Restore *r, int dir_fd, GPtrArray *parts, const struct timespec *link_mtime,
                const char *display, GError **error)
{
  const char *name = g_ptr_array_index (parts, parts->len - 1);
  char target[RESTORE_MAX_LINK_TARGET + 1];
  struct stat st;
  gssize n = -1;
  int fd;

  fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      restore_set_errno_error (error, errno, _("Cannot restore the symbolic link “%s”: %s"),
                               display);
      return FALSE;
    }
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size <= RESTORE_MAX_LINK_TARGET)
    {
      do
        n = pread (fd, target, st.st_size, 0);
      while (n < 0 && errno == EINTR);
    }
  close (fd);
  if (n < 0 || n != st.st_size || memchr (target, '\0', n) != NULL)
    {
      unlinkat (dir_fd, name, 0);
      return mismatch (display, error);
    }
  target[n] = '\0';

  if (!restore_check_link_target (target, parts->len - 1, display, error))
    {
      unlinkat (dir_fd, name, 0);
      return FALSE;
    }
  /* Over the file this restore wrote in its place. */
  return restore_replace_by_link (r, dir_fd, name, target,
                                  link_mtime != NULL ? link_mtime : &st.st_mtim, display, error);
}

/* Verifying: notes the content of a streamed entry that, should the
 * directory say it is a link, would be refused as its target. */
void
restore_note_content (Restore *r, GPtrArray *parts, GByteArray *content)
{
  g_autofree char *target = NULL;

  if (content->len > RESTORE_MAX_LINK_TARGET)
    return; /* too long for a link: its size in the directory says so */
  if (memchr (content->data, '\0', content->len) != NULL)
    {
      g_hash_table_insert (r->bad_links, restore_join_path (parts), NULL);
      return;
    }
  target = g_strndup ((const char *) content->data, content->len);
  if (parts->len == 0 || !restore_check_link_target (target, parts->len - 1, NULL, NULL))
    g_hash_table_insert (r->bad_links, restore_join_path (parts), g_steal_pointer (&target));
}

/* Verifying: the link at @path, of target length @size, as restoring
 * would judge it. */
static gboolean
check_late_link (Restore *r, const char *path, guint64 size, GError **error)
{
  g_autofree char *display = backup_display_name (path, -1);
  g_autoptr (GPtrArray) parts = restore_split_path (path, display, error);
  g_autofree char *joined = NULL;
  gpointer target;

  if (parts == NULL)
    return FALSE;
  if (parts->len == 0 || size > RESTORE_MAX_LINK_TARGET)
    return mismatch (display, error);
  joined = restore_join_path (parts);
  if (!g_hash_table_lookup_extended (r->bad_links, joined, NULL, &target))
    return TRUE;
  if (target == NULL)
    return mismatch (display, error);
  return restore_check_link_target (target, parts->len - 1, display, error);
}

/* ------------------------------------------------------------------------ */
/* Records */

/* Gives the entry written at @path its type and mode, and its time when
 * the directory knows it better than the local header (@mtime is
 * G_MININT64 otherwise). */
gboolean
restore_apply_to_destination (Restore *r, const char *path, guint32 mode, gint64 mtime,
                              long mtime_nsec, GError **error)
{
  struct timespec when = { mtime, mtime_nsec };
  struct timespec times[2] = { { 0, UTIME_OMIT }, { mtime, mtime_nsec } };
  g_autofree char *display = backup_display_name (path, -1);
  g_autoptr (GPtrArray) parts = restore_split_path (path, display, error);
  g_autofree char *joined = NULL;
  gpointer value;
  guint index;
  gboolean ok;
  int dir_fd;

  if (parts == NULL)
    return FALSE;
  if (parts->len == 0)
    return TRUE; /* the destination itself */
  joined = restore_join_path (parts);

  if (!g_hash_table_lookup_extended (r->entries, joined, NULL, &value))
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                   _("The inner archive is damaged: its central directory lists “%s”, which it "
                     "does not hold"),
                   display);
      return FALSE;
    }
  g_hash_table_remove (r->entries, joined);
  index = GPOINTER_TO_UINT (value);

  if (index != RESTORE_ENTRY_FILE)
    {
      FolderFixup *fixup = &g_array_index (r->folders, FolderFixup, index - 1);

      if ((mode & S_IFMT) != S_IFDIR)
        return mismatch (display, error);
      fixup->mode = (mode & 01777) | 0700;
      if (mtime != G_MININT64)
        {
          fixup->has_mtime = TRUE;
          fixup->mtime = mtime;
          fixup->mtime_nsec = mtime_nsec;
        }
      return TRUE;
    }

  dir_fd = restore_open_folder (r, parts, parts->len - 1, FALSE, display, error);
  if (dir_fd < 0)
    return FALSE;
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      {
        const char *name = g_ptr_array_index (parts, parts->len - 1);
        int fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        if (times[1].tv_nsec < 0 || times[1].tv_nsec >= 1000000000)
          times[1].tv_nsec = 0;
        ok = fd >= 0 && fchmod (fd, mode & 0777) == 0
             && (mtime == G_MININT64 || futimens (fd, times) == 0);
        if (!ok)
          restore_set_errno_error (error, errno, _("Cannot set the mode of “%s”: %s"), display);
        if (fd >= 0)
          close (fd);
      }
      break;
    case S_IFLNK:
      ok = turn_into_link (r, dir_fd, parts, mtime != G_MININT64 ? &when : NULL, display, error);
      break;
    default:
      ok = mismatch (display, error);
      break;
    }
  close (dir_fd);
  return ok;
}

/* One record of the central directory: the entry's type, mode, size and
 * time, which a streamed reader cannot know before. */
static gboolean
apply_directory_record (Restore *r, const guint8 *p, GError **error)
{
  guint16 made_by = le16 (p + 4);
  guint64 size = le32 (p + 24);
  guint16 name_len = le16 (p + 28);
  guint16 extra_len = le16 (p + 30);
  guint32 external = le32 (p + 38);
  const guint8 *extra = p + CENTRAL_SIZE + name_len;
  g_autofree char *path = g_strndup ((const char *) p + CENTRAL_SIZE, name_len);
  gint64 mtime = dos_time_to_unix (le16 (p + 12), le16 (p + 14));
  gboolean dir_name = name_len > 0 && path[strlen (path) - 1] == '/';
  long mtime_nsec = 0;
  gboolean precise = FALSE;
  guint32 mode;

  for (guint off = 0; off + 4 <= extra_len;)
    {
      guint16 id = le16 (extra + off);
      guint16 len = le16 (extra + off + 2);
      const guint8 *data = extra + off + 4;

      if (off + 4 + len > extra_len)
        break;
      if (id == 0x0001 && len >= 8 && le32 (p + 24) == 0xffffffffu)
        size = le64 (data); /* zip64: the uncompressed size comes first */
      else if (id == 0x5455 && len >= 5 && (data[0] & 1))
        {
          mtime = (gint32) le32 (data + 1); /* extended timestamp */
          mtime_nsec = 0;
          precise = TRUE;
        }
      else if (id == 0x000a && len >= 32 && le16 (data + 4) == 1 && le16 (data + 6) >= 24)
        {
          /* NTFS times: 100 ns units since 1601 (7-Zip writes these). */
          guint64 ticks = le64 (data + 8);

          mtime = (gint64) (ticks / 10000000) - G_GINT64_CONSTANT (11644473600);
          mtime_nsec = (long) (ticks % 10000000) * 100;
          precise = TRUE;
        }
      off += 4 + len;
    }

  if ((made_by >> 8) == HOST_UNIX && (external >> 16) != 0)
    mode = external >> 16;
  else if (dir_name || (external & 0x10))
    mode = S_IFDIR | 0755;
  else
    mode = S_IFREG | 0644;

  r->n_directory++;
  if (r->params->mode == BACKUP_RESTORE_EXTRACT
      && !restore_apply_to_destination (r, path, mode, precise ? mtime : G_MININT64, mtime_nsec,
                                        error))
    return FALSE;
  if (r->params->mode == BACKUP_RESTORE_VERIFY && S_ISLNK (mode)
      && !check_late_link (r, path, size, error))
    return FALSE;
  restore_count_entry (r, path, mode, size, mtime, NULL);
  return TRUE;
}

/* Parses the central directory as its bytes come, keeping only an
 * incomplete record. */
gboolean
restore_feed_directory (Restore *r, const void *data, gsize len, GError **error)
{
  gsize pos = 0;

  if (r->directory_done || len == 0)
    return TRUE;
  g_byte_array_append (r->directory, data, len);

  while (!r->directory_done)
    {
      const guint8 *p = r->directory->data + pos;
      gsize avail = r->directory->len - pos;
      guint32 signature;
      gsize need;

      if (avail < 4)
        break;
      signature = le32 (p);
      if (signature == SIG_END || signature == SIG_END64)
        {
          r->directory_done = TRUE;
          break;
        }
      if (signature != SIG_CENTRAL)
        {
          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                       _("The inner archive is damaged: its central directory cannot be read"));
          return FALSE;
        }
      if (avail < CENTRAL_SIZE)
        break;
      need = CENTRAL_SIZE + le16 (p + 28) + le16 (p + 30) + le16 (p + 32);
      if (avail < need)
        break;
      if (!restore_check_cancelled (r, error) || !apply_directory_record (r, p, error))
        return FALSE;
      pos += need;
    }

  if (r->directory_done)
    g_byte_array_set_size (r->directory, 0);
  else
    g_byte_array_remove_range (r->directory, 0, pos);
  return TRUE;
}
