/* backup-zip-writer.c: the blocking half of BackupArchiver
 *
 * One file: the two threads below and the chunk queue between them are one
 * pipeline with one set of invariants.
 *
 * Two threads share the work of one double zip:
 *
 *   inner thread: reads the source files, writes the inner archive (deflate or
 *                 store per entry, then encryption with password 1) into
 *                 fixed-size chunks;
 *   outer thread: takes the chunks in order, writes them as the single stored
 *                 entry of the outer archive (encryption with password 2) and
 *                 writes the result to the output stream.
 *
 * The chunks circulate between a free list and a full list (a bounded queue
 * of N_CHUNKS × CHUNK_SIZE bytes), so memory stays constant whatever the size
 * of the tree, and neither archive is ever copied to a temporary file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "backup-error.h"
#include "backup-zip-random.h"
#include "backup-zip-writer.h"

#define CHUNK_SIZE (1024 * 1024)
#define N_CHUNKS 4
#define READ_SIZE (1024 * 1024)
#define OUTER_BLOCK_SIZE (1024 * 1024)

/* Files at least this large are probed before choosing deflate or store. */
#define PROBE_MIN_SIZE 4096
#define PROBE_SIZE (64 * 1024)
/* Deflate must save at least 1/16 of the probe, or the entry is stored. */
#define PROBE_MIN_SAVING_SHIFT 4

typedef struct archive ZipArchive;
typedef struct archive_entry ZipArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZipArchive, archive_write_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZipArchiveEntry, archive_entry_free)

/* Macros, so that the translatable formats stay literals the compiler checks. */
#define set_errno_error(error, errsv, format, path)                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    int errsv_ = (errsv);                                                                          \
    g_autofree char *display_ = g_filename_display_name (path);                                    \
    g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv_), format, display_,          \
                 g_strerror (errsv_));                                                             \
  }                                                                                                \
  G_STMT_END

/* A failure of the other thread or of the output is recorded already and
 * says more than libarchive's message about it. */
#define fail_archive(state, a, format, path)                                                       \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (!state_is_aborted (state))                                                                 \
      {                                                                                            \
        g_autofree char *display_ = g_filename_display_name (path);                                \
        const char *why_ = archive_error_string (a);                                               \
        state_fail (state, g_error_new (BACKUP_ERROR, BACKUP_ERROR_FAILED, format, display_,       \
                                        why_ != NULL ? why_ : g_strerror (EIO)));                  \
      }                                                                                            \
  }                                                                                                \
  G_STMT_END

/* ------------------------------------------------------------------------ */
/* Scan */

static void
zip_entry_free (gpointer data)
{
  BackupZipEntry *entry = data;

  g_free (entry->path);
  g_free (entry->link_target);
  g_free (entry);
}

void
backup_zip_tree_free (BackupZipTree *tree)
{
  if (tree == NULL)
    return;
  g_free (tree->root);
  g_clear_pointer (&tree->entries, g_ptr_array_unref);
  g_free (tree);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static gboolean
scan_dir (BackupZipTree *tree, int dir_fd, const char *rel_dir, GCancellable *cancellable,
          GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *dir;
  struct dirent *de;
  int dup_fd;

  dup_fd = dup (dir_fd);
  if (dup_fd < 0 || (dir = fdopendir (dup_fd)) == NULL)
    {
      int errsv = errno;
      g_autofree char *full = g_build_filename (tree->root, rel_dir, NULL);

      if (dup_fd >= 0)
        close (dup_fd);
      set_errno_error (error, errsv, _ ("Could not read the folder “%s”: %s"), full);
      return FALSE;
    }

  errno = 0;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      g_ptr_array_add (names, g_strdup (de->d_name));
      errno = 0;
    }
  if (errno != 0)
    {
      int errsv = errno;
      g_autofree char *full = g_build_filename (tree->root, rel_dir, NULL);

      closedir (dir);
      set_errno_error (error, errsv, _ ("Could not read the folder “%s”: %s"), full);
      return FALSE;
    }
  closedir (dir);

  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *rel = *rel_dir ? g_strconcat (rel_dir, "/", name, NULL) : g_strdup (name);
      BackupZipEntry *entry;
      struct stat st;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        {
          int errsv = errno;
          g_autofree char *full = g_build_filename (tree->root, rel, NULL);

          set_errno_error (error, errsv, _ ("Could not read “%s”: %s"), full);
          return FALSE;
        }

      if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode) && !S_ISLNK (st.st_mode))
        {
          /* Sockets, FIFOs and devices have no content to back up. */
          g_debug ("Skipping special file %s", rel);
          continue;
        }

      if (!g_utf8_validate (rel, -1, NULL))
        {
          g_autofree char *full = g_build_filename (tree->root, rel, NULL);
          g_autofree char *display = g_filename_display_name (full);

          g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                       _ ("The name of “%s” is not valid UTF-8 and cannot be stored in a zip "
                          "archive"),
                       display);
          return FALSE;
        }

      entry = g_new0 (BackupZipEntry, 1);
      entry->path = g_steal_pointer (&rel);
      entry->mode = st.st_mode;
      entry->mtime = st.st_mtim.tv_sec;
      entry->mtime_nsec = st.st_mtim.tv_nsec;
      entry->ctime = st.st_ctim.tv_sec;
      entry->ctime_nsec = st.st_ctim.tv_nsec;
      entry->inode = st.st_ino;
      entry->uid = st.st_uid;
      entry->gid = st.st_gid;
      g_ptr_array_add (tree->entries, entry);

      if (S_ISREG (st.st_mode))
        {
          entry->size = st.st_size;
          tree->total_bytes += st.st_size;
        }
      else if (S_ISLNK (st.st_mode))
        {
          gsize cap = st.st_size > 0 ? (gsize)st.st_size + 1 : 256;

          for (;;)
            {
              g_autofree char *target = g_malloc (cap);
              ssize_t n = readlinkat (dir_fd, name, target, cap);

              if (n < 0)
                {
                  int errsv = errno;
                  g_autofree char *full = g_build_filename (tree->root, entry->path, NULL);

                  set_errno_error (error, errsv, _ ("Could not read the link “%s”: %s"), full);
                  return FALSE;
                }
              if ((gsize)n < cap)
                {
                  target[n] = '\0';
                  entry->link_target = g_steal_pointer (&target);
                  break;
                }
              cap *= 2;
            }
        }
      else
        {
          int sub_fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          gboolean ok;

          if (sub_fd < 0)
            {
              int errsv = errno;
              g_autofree char *full = g_build_filename (tree->root, entry->path, NULL);

              set_errno_error (error, errsv, _ ("Could not read the folder “%s”: %s"), full);
              return FALSE;
            }
          ok = scan_dir (tree, sub_fd, entry->path, cancellable, error);
          close (sub_fd);
          if (!ok)
            return FALSE;
        }
    }

  return TRUE;
}

BackupZipTree *
backup_zip_tree_scan (const char *root, GCancellable *cancellable, GError **error)
{
  g_autoptr (BackupZipTree) tree = g_new0 (BackupZipTree, 1);
  int fd;
  gboolean ok;

  tree->root = g_strdup (root);
  tree->entries = g_ptr_array_new_with_free_func (zip_entry_free);

  fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      set_errno_error (error, errno, _ ("Could not open the folder “%s”: %s"), root);
      return NULL;
    }
  ok = scan_dir (tree, fd, "", cancellable, error);
  close (fd);
  if (!ok)
    return NULL;

  g_debug ("Scanned %u entries, %" G_GINT64_FORMAT " bytes", tree->entries->len, tree->total_bytes);
  return g_steal_pointer (&tree);
}

/* ------------------------------------------------------------------------ */
/* The bounded chunk queue shared by the two threads */

typedef struct
{
  guint8 *data;
  gsize len;
} Chunk;

typedef struct
{
  const BackupZipWriteParams *params;

  GMutex lock;
  GCond cond;
  GQueue free_chunks;
  GQueue full_chunks;
  gboolean eof;     /* the inner thread finished its archive */
  gboolean aborted; /* one side failed or the operation was cancelled */
  GError *error;    /* the first failure */

  /* inner thread only */
  Chunk *current;
  GConverter *probe;
  guint8 *probe_out;
  gint64 bytes_done;
} WriteState;

static void
state_fail (WriteState *state, GError *error)
{
  g_mutex_lock (&state->lock);
  if (state->error == NULL)
    state->error = error;
  else
    g_error_free (error);
  state->aborted = TRUE;
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);
}

static gboolean
state_check_cancelled (WriteState *state)
{
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (state->params->cancellable, &error))
    {
      state_fail (state, error);
      return TRUE;
    }
  return FALSE;
}

static gboolean
state_is_aborted (WriteState *state)
{
  gboolean aborted;

  g_mutex_lock (&state->lock);
  aborted = state->aborted;
  g_mutex_unlock (&state->lock);
  return aborted;
}

static void
cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  WriteState *state = user_data;

  /* Wakes whichever thread waits for a chunk; the error is set by the
   * thread itself when it sees the cancellation. */
  g_mutex_lock (&state->lock);
  state->aborted = TRUE;
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);
}

/* Inner thread: hands the current chunk over and takes a free one. */
static gboolean
state_push_current (WriteState *state)
{
  g_mutex_lock (&state->lock);
  if (state->current != NULL && state->current->len > 0)
    {
      g_queue_push_tail (&state->full_chunks, state->current);
      state->current = NULL;
      g_cond_broadcast (&state->cond);
    }
  while (state->current == NULL && !state->aborted)
    {
      state->current = g_queue_pop_head (&state->free_chunks);
      if (state->current == NULL)
        g_cond_wait (&state->cond, &state->lock);
    }
  if (state->current != NULL)
    state->current->len = 0;
  g_mutex_unlock (&state->lock);

  return !state_is_aborted (state);
}

/* Outer thread: the next full chunk, or NULL at the end or on failure. */
static Chunk *
state_pop_full (WriteState *state, Chunk *done)
{
  Chunk *chunk = NULL;

  g_mutex_lock (&state->lock);
  if (done != NULL)
    {
      g_queue_push_tail (&state->free_chunks, done);
      g_cond_broadcast (&state->cond);
    }
  while (!state->aborted)
    {
      chunk = g_queue_pop_head (&state->full_chunks);
      if (chunk != NULL || state->eof)
        break;
      g_cond_wait (&state->cond, &state->lock);
    }
  g_mutex_unlock (&state->lock);

  return chunk;
}

static void
chunk_free (gpointer data)
{
  Chunk *chunk = data;

  if (chunk == NULL)
    return;
  g_free (chunk->data);
  g_free (chunk);
}

/* ------------------------------------------------------------------------ */
/* Inner level */

static la_ssize_t
inner_write_cb (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  WriteState *state = user_data;
  const guint8 *p = buffer;
  size_t left = length;

  while (left > 0)
    {
      size_t n;

      if (state->current == NULL || state->current->len == CHUNK_SIZE)
        {
          /* After a failure, data is dropped rather than refused: libarchive
           * 3.6.2 leaks its deflate and block buffers when a write fails
           * while it closes an entry. The threads stop on their own. */
          if (!state_push_current (state))
            return length;
        }
      n = MIN (left, CHUNK_SIZE - state->current->len);
      memcpy (state->current->data + state->current->len, p, n);
      state->current->len += n;
      p += n;
      left -= n;
    }

  return length;
}

static gboolean
set_zip_options (struct archive *a, BackupZipEncryption encryption, const char *password,
                 GError **error)
{
  const char *option = NULL;

  if (archive_write_set_format_zip (a) != ARCHIVE_OK)
    goto failed;

  if (password != NULL && *password != '\0')
    {
      switch (encryption)
        {
        case BACKUP_ZIP_ENCRYPTION_AES128:
          option = "aes128";
          break;
        case BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO:
          option = "zipcrypt";
          break;
        case BACKUP_ZIP_ENCRYPTION_AES256:
        default:
          option = "aes256";
          break;
        }
      if (archive_write_set_format_option (a, "zip", "encryption", option) != ARCHIVE_OK
          || archive_write_set_passphrase (a, password) != ARCHIVE_OK)
        goto failed;
    }

  return TRUE;

failed:
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _ ("Could not set up the zip writer: %s"),
               archive_error_string (a));
  return FALSE;
}

/* Reads until the buffer is full or the file ends. */
static gssize
read_full (int fd, guint8 *buffer, gsize size)
{
  gsize done = 0;

  while (done < size)
    {
      ssize_t n = read (fd, buffer + done, size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += n;
    }
  return done;
}

/* Whether deflate shrinks this sample enough to be worth its CPU time. */
static gboolean
probe_compressible (WriteState *state, const guint8 *data, gsize len)
{
  gsize limit = len - (len >> PROBE_MIN_SAVING_SHIFT);
  gsize in_done = 0, out_done = 0;
  gboolean compressible = FALSE;

  g_converter_reset (state->probe);
  while (out_done < limit)
    {
      g_autoptr (GError) error = NULL;
      gsize bytes_read = 0, bytes_written = 0;
      GConverterResult res;

      res = g_converter_convert (state->probe, data + in_done, len - in_done,
                                 state->probe_out + out_done, limit - out_done,
                                 G_CONVERTER_INPUT_AT_END, &bytes_read, &bytes_written, &error);
      if (res == G_CONVERTER_ERROR)
        break;
      in_done += bytes_read;
      out_done += bytes_written;
      if (res == G_CONVERTER_FINISHED)
        {
          compressible = TRUE;
          break;
        }
    }

  return compressible;
}

static gboolean
report_progress (WriteState *state, gsize n)
{
  state->bytes_done += n;
  if (state->params->progress != NULL)
    state->params->progress (state->bytes_done, state->params->progress_data);
  return TRUE;
}

static gboolean
write_regular_file (WriteState *state, struct archive *a, struct archive_entry *ae,
                    const BackupZipEntry *entry, const char *full, guint8 *buffer)
{
  struct stat st;
  gssize n;
  gint64 total = 0;
  int fd;

  fd = open (full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      GError *error = NULL;

      if (errno == ENOENT)
        {
          g_autofree char *display = g_filename_display_name (full);

          error = g_error_new (BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                               _ ("“%s” disappeared while the folder was being archived"), display);
        }
      else
        set_errno_error (&error, errno, _ ("Could not open “%s”: %s"), full);
      state_fail (state, error);
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_autofree char *display = g_filename_display_name (full);

      close (fd);
      state_fail (state,
                  g_error_new (BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                               _ ("“%s” changed while the folder was being archived"), display));
      return FALSE;
    }
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  n = read_full (fd, buffer, READ_SIZE);
  if (n >= 0)
    {
      if (n >= PROBE_MIN_SIZE && !probe_compressible (state, buffer, MIN (n, PROBE_SIZE)))
        archive_write_zip_set_compression_store (a);
      else
        archive_write_zip_set_compression_deflate (a);

      if (archive_write_header (a, ae) != ARCHIVE_OK)
        {
          close (fd);
          fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), full);
          return FALSE;
        }
    }

  while (n > 0)
    {
      total += n;
      if (total > entry->size)
        break;
      if (archive_write_data (a, buffer, n) != n)
        {
          close (fd);
          fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), full);
          return FALSE;
        }
      report_progress (state, n);
      if (state_check_cancelled (state) || state_is_aborted (state))
        {
          close (fd);
          return FALSE;
        }
      n = read_full (fd, buffer, READ_SIZE);
    }

  if (n < 0)
    {
      GError *error = NULL;

      set_errno_error (&error, errno, _ ("Could not read “%s”: %s"), full);
      close (fd);
      state_fail (state, error);
      return FALSE;
    }
  close (fd);

  if (total != entry->size)
    {
      g_autofree char *display = g_filename_display_name (full);

      state_fail (state, g_error_new (BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                                      _ ("“%s” changed size while the folder was being "
                                         "archived (%lld bytes expected)"),
                                      display, (long long) entry->size));
      return FALSE;
    }

  return TRUE;
}

static gboolean
write_inner_entry (WriteState *state, struct archive *a, const BackupZipEntry *entry,
                   guint8 *buffer)
{
  g_autoptr (ZipArchiveEntry) ae = archive_entry_new ();
  g_autofree char *full = g_build_filename (state->params->tree->root, entry->path, NULL);

  archive_entry_set_pathname_utf8 (ae, entry->path);
  archive_entry_set_mode (ae, entry->mode);
  archive_entry_set_mtime (ae, entry->mtime, entry->mtime_nsec);
  archive_entry_set_uid (ae, entry->uid);
  archive_entry_set_gid (ae, entry->gid);

  if (S_ISREG (entry->mode))
    {
      archive_entry_set_size (ae, entry->size);
      if (!write_regular_file (state, a, ae, entry, full, buffer))
        return FALSE;
    }
  else
    {
      archive_entry_set_size (ae, 0);
      if (S_ISLNK (entry->mode))
        archive_entry_set_symlink_utf8 (ae, entry->link_target);
      archive_write_zip_set_compression_store (a);
      if (archive_write_header (a, ae) != ARCHIVE_OK)
        {
          fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), full);
          return FALSE;
        }
    }

  if (archive_write_finish_entry (a) != ARCHIVE_OK)
    {
      fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), full);
      return FALSE;
    }
  return TRUE;
}

static gpointer
inner_thread (gpointer user_data)
{
  WriteState *state = user_data;
  const BackupZipWriteParams *params = state->params;
  g_autoptr (ZipArchive) a = archive_write_new ();
  g_autofree guint8 *buffer = g_malloc (READ_SIZE);
  g_autoptr (GError) error = NULL;
  locale_t utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  locale_t old = utf8 != (locale_t)0 ? uselocale (utf8) : (locale_t)0;
  gboolean ok = TRUE;

  if (params->reproducible_key != NULL)
    backup_zip_random_begin (params->reproducible_key, "inner");
  state->probe = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 1));
  state->probe_out = g_malloc (PROBE_SIZE);

  if (!set_zip_options (a, params->encryption, params->password1, &error))
    {
      state_fail (state, g_steal_pointer (&error));
      ok = FALSE;
    }
  if (ok
      && (archive_write_set_bytes_per_block (a, 0) != ARCHIVE_OK
          || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
          || archive_write_open2 (a, state, NULL, inner_write_cb, NULL, NULL) != ARCHIVE_OK))
    {
      fail_archive (state, a, _ ("Could not start the archive “%s”: %s"), params->inner_name);
      ok = FALSE;
    }

  for (guint i = 0; ok && i < params->tree->entries->len; i++)
    {
      if (state_check_cancelled (state) || state_is_aborted (state))
        ok = FALSE;
      else
        ok = write_inner_entry (state, a, g_ptr_array_index (params->tree->entries, i), buffer);
    }

  if (ok && archive_write_close (a) != ARCHIVE_OK)
    {
      fail_archive (state, a, _ ("Could not finish the archive “%s”: %s"), params->inner_name);
      ok = FALSE;
    }
  if (ok && state->current != NULL && state->current->len > 0)
    ok = state_push_current (state);

  g_mutex_lock (&state->lock);
  state->eof = TRUE;
  if (state->current != NULL)
    g_queue_push_tail (&state->free_chunks, g_steal_pointer (&state->current));
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);

  /* After a failure the write callback drops whatever libarchive still
   * writes while it closes. (archive_write_fail() would leak the block
   * buffer in libarchive 3.6.2.) */
  g_clear_pointer (&a, archive_write_free);

  g_clear_object (&state->probe);
  g_clear_pointer (&state->probe_out, g_free);
  backup_zip_random_end ();
  if (utf8 != (locale_t)0)
    {
      uselocale (old);
      freelocale (utf8);
    }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Outer level */

static la_ssize_t
outer_write_cb (struct archive *a, void *user_data, const void *buffer, size_t length)
{
  WriteState *state = user_data;
  GError *error = NULL;

  /* Dropped, not refused: see inner_write_cb(). */
  if (state_is_aborted (state))
    return length;
  if (!g_output_stream_write_all (state->params->out, buffer, length, NULL,
                                  state->params->cancellable, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          int code = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)
                         ? BACKUP_ERROR_NO_SPACE
                         : BACKUP_ERROR_IO;
          GError *wrapped = g_error_new (BACKUP_ERROR, code, _ ("Could not write “%s”: %s"),
                                         state->params->inner_name, error->message);

          g_error_free (error);
          error = wrapped;
        }
      state_fail (state, error);
    }
  return length;
}

static gboolean
outer_write (WriteState *state, struct archive *a)
{
  const BackupZipWriteParams *params = state->params;
  g_autoptr (ZipArchiveEntry) ae = archive_entry_new ();
  g_autoptr (GError) error = NULL;
  Chunk *chunk = NULL;

  if (!set_zip_options (a, params->encryption, params->password2, &error))
    {
      state_fail (state, g_steal_pointer (&error));
      return FALSE;
    }
  if (archive_write_set_bytes_per_block (a, OUTER_BLOCK_SIZE) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open2 (a, state, NULL, outer_write_cb, NULL, NULL) != ARCHIVE_OK)
    {
      fail_archive (state, a, _ ("Could not start the archive “%s”: %s"), params->inner_name);
      return FALSE;
    }

  /* The inner archive is already compressed: store it. Its size is not known
   * in advance, so libarchive writes a data descriptor with Zip64 sizes. */
  archive_write_zip_set_compression_store (a);
  archive_entry_set_pathname_utf8 (ae, params->inner_name);
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0644);
  archive_entry_set_mtime (ae,
                           params->reproducible_key != NULL ? params->outer_mtime
                                                            : g_get_real_time () / G_USEC_PER_SEC,
                           0);
  if (archive_write_header (a, ae) != ARCHIVE_OK)
    {
      fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), params->inner_name);
      return FALSE;
    }

  while ((chunk = state_pop_full (state, chunk)) != NULL)
    {
      if (archive_write_data (a, chunk->data, chunk->len) != (la_ssize_t)chunk->len)
        {
          fail_archive (state, a, _ ("Could not add “%s” to the archive: %s"), params->inner_name);
          chunk_free (chunk);
          return FALSE;
        }
    }

  if (state_is_aborted (state))
    return FALSE;

  if (archive_write_finish_entry (a) != ARCHIVE_OK || archive_write_close (a) != ARCHIVE_OK)
    {
      fail_archive (state, a, _ ("Could not finish the archive “%s”: %s"), params->inner_name);
      return FALSE;
    }
  if (state_is_aborted (state))
    return FALSE;
  if (!g_output_stream_flush (params->out, params->cancellable, &error))
    {
      state_fail (state, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_zip_write (const BackupZipWriteParams *params, GError **error)
{
  WriteState state = { 0 };
  g_autoptr (ZipArchive) a = archive_write_new ();
  locale_t utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  locale_t old = utf8 != (locale_t)0 ? uselocale (utf8) : (locale_t)0;
  GThread *thread;
  gulong handler = 0;
  gboolean ok;

  g_return_val_if_fail (params != NULL && params->tree != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (params->out), FALSE);

  state.params = params;
  g_mutex_init (&state.lock);
  g_cond_init (&state.cond);
  for (guint i = 0; i < N_CHUNKS; i++)
    {
      Chunk *chunk = g_new0 (Chunk, 1);

      chunk->data = g_malloc (CHUNK_SIZE);
      g_queue_push_tail (&state.free_chunks, chunk);
    }

  if (params->cancellable != NULL)
    handler = g_cancellable_connect (params->cancellable, G_CALLBACK (cancelled_cb), &state, NULL);

  thread = g_thread_try_new ("backup-zip", inner_thread, &state, error);
  if (thread == NULL)
    {
      g_cancellable_disconnect (params->cancellable, handler);
      ok = FALSE;
      goto out;
    }

  if (params->reproducible_key != NULL)
    backup_zip_random_begin (params->reproducible_key, "outer");
  ok = outer_write (&state, a);
  backup_zip_random_end ();
  if (!ok)
    {
      /* Stops the inner thread at its next chunk or file block. */
      g_mutex_lock (&state.lock);
      state.aborted = TRUE;
      g_cond_broadcast (&state.cond);
      g_mutex_unlock (&state.lock);
    }
  /* Frees libarchive's buffers; after a failure its last writes are dropped. */
  g_clear_pointer (&a, archive_write_free);
  g_thread_join (thread);
  g_cancellable_disconnect (params->cancellable, handler);

  if (state.error == NULL && state.aborted)
    g_cancellable_set_error_if_cancelled (params->cancellable, &state.error);
  if (state.error != NULL)
    {
      ok = FALSE;
      g_propagate_error (error, g_steal_pointer (&state.error));
    }
  else if (!ok)
    g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED, _ ("Could not write “%s”"),
                 params->inner_name);

out:
  g_queue_clear_full (&state.free_chunks, chunk_free);
  g_queue_clear_full (&state.full_chunks, chunk_free);
  g_mutex_clear (&state.lock);
  g_cond_clear (&state.cond);
  if (utf8 != (locale_t)0)
    {
      uselocale (old);
      freelocale (utf8);
    }
  return ok;
}
