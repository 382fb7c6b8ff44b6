/* backup-zip-writer.c: the blocking half of BackupArchiver
 *
 * One file: the two threads below and the chunk queue between them are one
 * pipeline with one set of invariants.
 *
 * Two threads share the work of one double zip:
 *
 *   inner thread: reads the source files, writes the inner archive (deflate or
 *                 store per entry, then encryption with password 1) straight
 *                 into fixed-size chunks;
 *   outer thread: takes the chunks in order, writes them as the single stored
 *                 entry of the outer archive (encryption with password 2) and
 *                 writes the result to the output stream.
 *
 * The chunks circulate between a free list and a full list (a bounded queue
 * of N_CHUNKS × CHUNK_SIZE bytes), so memory stays constant whatever the size
 * of the tree, and neither archive is ever copied to a temporary file. The
 * zip structures and the ciphers are in backup-zip-output.c and
 * backup-zip-cipher.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <glib/gi18n.h>

#include "backup-error.h"
#include "backup-zip-output.h"
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
/* Files up to this size are deflated at once, and stored when that does
 * not save enough: no probe. */
#define SMALL_MAX_SIZE PROBE_SIZE
#define SMALL_OUT_SIZE (SMALL_MAX_SIZE - (SMALL_MAX_SIZE >> PROBE_MIN_SAVING_SHIFT))
/* Small files read ahead (see Job). */
#define N_JOBS 8
/* Files smaller than this have the inner level's AES done by the outer
 * thread (see inner_defer()). */
#define DEFER_MAX_SIZE (1024 * 1024)

/* A macro, so that the translatable formats stay literals the compiler checks. */
#define set_errno_error(error, errsv, format, path)                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    int errsv_ = (errsv);                                                                          \
    g_autofree char *display_ = g_filename_display_name (path);                                    \
    g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv_), format, display_,          \
                 g_strerror (errsv_));                                                             \
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

/* A raw deflate stream at the inner level's compression level. */
typedef struct
{
  z_stream zs;
  gboolean ready;
} Deflater;

/* Small files are read ahead into a ring of jobs and deflated by whichever
 * thread is free: the inner one, or the outer one while it waits for a
 * chunk. The inner thread writes their entries in order. */
typedef enum
{
  JOB_EMPTY,
  JOB_READY, /* read, to deflate */
  JOB_BUSY,  /* being deflated */
  JOB_DONE,
} JobState;

typedef struct
{
  JobState state; /* under WriteState.lock */
  guint index;    /* of the entry */
  guint8 *in;     /* the whole file: SMALL_MAX_SIZE + 1 bytes */
  gsize len;
  guint8 *out;   /* SMALL_OUT_SIZE bytes */
  gsize out_len; /* 0: stored */
} Job;

typedef struct
{
  guint8 *data;
  gsize len;
  GArray *deferred; /* of BackupZipDeferred: the inner level's AES, left to the outer thread */
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
  Job jobs[N_JOBS]; /* a ring: job_count jobs from job_first */
  guint job_first;
  guint job_count;

  /* inner thread only */
  Chunk *current;
  z_stream probe;
  gboolean probe_ready;
  guint8 *probe_out;
  Deflater small;
  guint next_ahead; /* the next entry to consider for reading ahead */
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

/* Deflates the whole file of @job; out_len stays 0 when that does not save
 * enough. Called without the lock, by the thread that made the job busy. */
static void
deflater_run (Deflater *d, Job *job)
{
  z_stream *zs = &d->zs;
  gsize limit = job->len - (job->len >> PROBE_MIN_SAVING_SHIFT);

  job->out_len = 0;
  if (!d->ready)
    {
      if (deflateInit2 (zs, backup_zip_output_deflate_level (), Z_DEFLATED, -MAX_WBITS, 8,
                        Z_DEFAULT_STRATEGY)
          != Z_OK)
        return;
      d->ready = TRUE;
    }
  else
    deflateReset (zs);

  zs->next_in = job->in;
  zs->avail_in = (uInt)job->len;
  zs->next_out = job->out;
  zs->avail_out = (uInt)MIN (limit, SMALL_OUT_SIZE);
  if (deflate (zs, Z_FINISH) == Z_STREAM_END)
    job->out_len = zs->total_out;
}

static void
deflater_clear (Deflater *d)
{
  if (d->ready)
    deflateEnd (&d->zs);
  d->ready = FALSE;
}

/* With the lock held: the most recently read job still to deflate, which
 * the inner thread will need last. */
static Job *
state_youngest_ready (WriteState *state)
{
  for (guint i = state->job_count; i > 0; i--)
    {
      Job *job = &state->jobs[(state->job_first + i - 1) % N_JOBS];

      if (job->state == JOB_READY)
        return job;
    }
  return NULL;
}

/* With the lock held: deflates @job, unlocking meanwhile. */
static void
state_run_job (WriteState *state, Deflater *d, Job *job)
{
  job->state = JOB_BUSY;
  g_mutex_unlock (&state->lock);
  deflater_run (d, job);
  g_mutex_lock (&state->lock);
  job->state = JOB_DONE;
  g_cond_broadcast (&state->cond);
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
    {
      state->current->len = 0;
      g_array_set_size (state->current->deferred, 0);
    }
  g_mutex_unlock (&state->lock);

  return !state_is_aborted (state);
}

/* Outer thread: the next full chunk, or NULL at the end or on failure.
 * While there is none, it deflates small files for the inner thread. */
static Chunk *
state_pop_full (WriteState *state, Chunk *done, Deflater *d)
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
      Job *job;

      chunk = g_queue_pop_head (&state->full_chunks);
      if (chunk != NULL || state->eof)
        break;
      job = state_youngest_ready (state);
      if (job != NULL)
        state_run_job (state, d, job);
      else
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
  g_array_unref (chunk->deferred);
  g_free (chunk);
}

/* ------------------------------------------------------------------------ */
/* Inner level */

/* The inner archive is written straight into the current chunk: a full
 * chunk goes to the outer thread and a free one takes its place. */
static guint8 *
inner_flush (guint8 *buffer, gsize len, gpointer user_data)
{
  WriteState *state = user_data;

  g_assert (state->current != NULL && buffer == state->current->data);
  state->current->len = len;
  if (!state_push_current (state))
    return NULL;
  return state->current->data;
}

/* The inner level's AES work for small files is recorded with the chunk it
 * applies to and done by the outer thread (outer_write()): there, the key
 * derivation of each entry (PBKDF2, 1000 rounds) dominates, while deflate
 * keeps the inner thread busy. Large files are encrypted by the inner
 * thread itself, which has little else to do for them while the outer
 * thread encrypts its own level. */
static void
inner_defer (const BackupZipDeferred *op, gpointer user_data)
{
  WriteState *state = user_data;
  GArray *ops = state->current->deferred;

  if (op->kind == BACKUP_ZIP_DEFERRED_DATA && ops->len > 0)
    {
      BackupZipDeferred *last = &g_array_index (ops, BackupZipDeferred, ops->len - 1);

      if (last->kind == BACKUP_ZIP_DEFERRED_DATA && last->offset + last->len == op->offset)
        {
          last->len += op->len;
          return;
        }
    }
  g_array_append_val (ops, *op);
}

static gboolean
inner_aes_deferred (const BackupZipWriteParams *params)
{
  return params->password1 != NULL && *params->password1 != '\0'
         && params->encryption != BACKUP_ZIP_ENCRYPTION_ZIPCRYPTO;
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
  z_stream *zs = &state->probe;
  gsize limit = len - (len >> PROBE_MIN_SAVING_SHIFT);
  int ret;

  if (!state->probe_ready)
    {
      if (deflateInit2 (zs, 1, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return TRUE;
      state->probe_ready = TRUE;
    }
  else
    deflateReset (zs);

  zs->next_in = (Bytef *)data;
  zs->avail_in = (uInt)len;
  zs->next_out = state->probe_out;
  zs->avail_out = (uInt)limit;
  ret = deflate (zs, Z_FINISH);
  /* Finished within the limit: it compresses. */
  return ret == Z_STREAM_END;
}

static void
report_progress (WriteState *state, gsize n)
{
  state->bytes_done += n;
  if (state->params->progress != NULL)
    state->params->progress (state->bytes_done, state->params->progress_data);
}

/* Opens a regular file of the tree; -1 after a failure, recorded. */
static int
open_source (WriteState *state, const char *full)
{
  struct stat st;
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
      return -1;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_autofree char *display = g_filename_display_name (full);

      close (fd);
      state_fail (state,
                  g_error_new (BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                               _ ("“%s” changed while the folder was being archived"), display));
      return -1;
    }
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

static void
fail_changed_size (WriteState *state, const char *full, gint64 size)
{
  g_autofree char *display = g_filename_display_name (full);

  state_fail (state, g_error_new (BACKUP_ERROR, BACKUP_ERROR_CORRUPT,
                                  _ ("“%s” changed size while the folder was being "
                                     "archived (%lld bytes expected)"),
                                  display, (long long)size));
}

static gboolean
is_small_file (const BackupZipEntry *entry)
{
  return S_ISREG (entry->mode) && entry->size > 0 && entry->size <= SMALL_MAX_SIZE;
}

/* Reads the small file of entry @index into the next free job. */
static gboolean
read_job (WriteState *state, guint index)
{
  const BackupZipEntry *entry = g_ptr_array_index (state->params->tree->entries, index);
  g_autofree char *full = g_build_filename (state->params->tree->root, entry->path, NULL);
  Job *job = &state->jobs[(state->job_first + state->job_count) % N_JOBS];
  gssize n;
  int fd;

  g_assert (job->state == JOB_EMPTY);
  fd = open_source (state, full);
  if (fd < 0)
    return FALSE;
  /* One byte more than expected shows a file that grew. */
  n = read_full (fd, job->in, entry->size + 1);
  if (n < 0)
    {
      GError *error = NULL;

      set_errno_error (&error, errno, _ ("Could not read “%s”: %s"), full);
      close (fd);
      state_fail (state, error);
      return FALSE;
    }
  close (fd);
  if (n != entry->size)
    {
      fail_changed_size (state, full, entry->size);
      return FALSE;
    }

  job->index = index;
  job->len = n;
  g_mutex_lock (&state->lock);
  job->state = JOB_READY;
  state->job_count++;
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);
  return TRUE;
}

/* Writes the small file of entry @index, read ahead with the next ones. */
static gboolean
write_small_file (WriteState *state, BackupZipOutput *zip, guint index)
{
  const GPtrArray *entries = state->params->tree->entries;
  const BackupZipEntry *entry = g_ptr_array_index (entries, index);
  BackupZipOutputEntry ze = {
    .name = entry->path,
    .mode = entry->mode,
    .mtime = entry->mtime,
    .uid = entry->uid,
    .gid = entry->gid,
    .size = entry->size,
  };
  Job *job;
  gboolean ok;

  state->next_ahead = MAX (state->next_ahead, index);
  while (state->job_count < N_JOBS && state->next_ahead < entries->len)
    {
      if (is_small_file (g_ptr_array_index (entries, state->next_ahead))
          && !read_job (state, state->next_ahead))
        return FALSE;
      state->next_ahead++;
    }

  g_mutex_lock (&state->lock);
  job = &state->jobs[state->job_first];
  g_assert (state->job_count > 0 && job->index == index);
  while (job->state != JOB_DONE && !state->aborted)
    {
      Job *other = job->state == JOB_READY ? job : state_youngest_ready (state);

      /* While the outer thread deflates this one, another one. */
      if (other != NULL)
        state_run_job (state, &state->small, other);
      else
        g_cond_wait (&state->cond, &state->lock);
    }
  ok = !state->aborted;
  g_mutex_unlock (&state->lock);
  if (!ok)
    return FALSE;

  ze.method = job->out_len > 0 ? BACKUP_ZIP_METHOD_DEFLATE : BACKUP_ZIP_METHOD_STORE;
  ok = backup_zip_output_add_entry (zip, &ze)
       && (job->out_len > 0
               ? backup_zip_output_write_deflated (zip, job->in, job->len, job->out, job->out_len)
               : backup_zip_output_write (zip, job->in, job->len))
       && backup_zip_output_end_entry (zip);
  if (ok)
    report_progress (state, job->len);

  g_mutex_lock (&state->lock);
  job->state = JOB_EMPTY;
  state->job_first = (state->job_first + 1) % N_JOBS;
  state->job_count--;
  g_mutex_unlock (&state->lock);
  return ok;
}

static gboolean
write_regular_file (WriteState *state, BackupZipOutput *zip, BackupZipOutputEntry *ze,
                    const BackupZipEntry *entry, const char *full, guint8 *buffer)
{
  gssize n;
  gint64 total = 0;
  int fd;

  fd = open_source (state, full);
  if (fd < 0)
    return FALSE;

  n = read_full (fd, buffer, READ_SIZE);
  if (n >= 0 && entry->size > 0)
    {
      if (n >= PROBE_MIN_SIZE && !probe_compressible (state, buffer, MIN (n, PROBE_SIZE)))
        ze->method = BACKUP_ZIP_METHOD_STORE;
      else
        ze->method = BACKUP_ZIP_METHOD_DEFLATE;
      if (!backup_zip_output_add_entry (zip, ze))
        {
          close (fd);
          return FALSE;
        }
    }

  while (n > 0)
    {
      total += n;
      if (total > entry->size)
        break;
      if (!backup_zip_output_write (zip, buffer, n))
        {
          close (fd);
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
      fail_changed_size (state, full, entry->size);
      return FALSE;
    }

  if (entry->size == 0)
    return backup_zip_output_add_entry (zip, ze);
  return backup_zip_output_end_entry (zip);
}

static gboolean
write_inner_entry (WriteState *state, BackupZipOutput *zip, const BackupZipEntry *entry,
                   guint8 *buffer)
{
  BackupZipOutputEntry ze = {
    .name = entry->path,
    .mode = entry->mode,
    .mtime = entry->mtime,
    .uid = entry->uid,
    .gid = entry->gid,
    .size = S_ISREG (entry->mode) ? entry->size : 0,
    .method = BACKUP_ZIP_METHOD_STORE,
    .link_target = entry->link_target,
  };

  if (S_ISREG (entry->mode))
    {
      g_autofree char *full = g_build_filename (state->params->tree->root, entry->path, NULL);

      return write_regular_file (state, zip, &ze, entry, full, buffer);
    }
  return backup_zip_output_add_entry (zip, &ze);
}

static gpointer
inner_thread (gpointer user_data)
{
  WriteState *state = user_data;
  const BackupZipWriteParams *params = state->params;
  g_autoptr (BackupZipOutput) zip = NULL;
  g_autofree guint8 *buffer = g_malloc (READ_SIZE);
  gboolean ok;

  if (params->reproducible_key != NULL)
    backup_zip_random_begin (params->reproducible_key, "inner");
  state->probe_out = g_malloc (PROBE_SIZE);

  ok = state_push_current (state);
  if (ok)
    zip = backup_zip_output_new (params->encryption, params->password1, state->current->data,
                                 CHUNK_SIZE, inner_flush, state);
  /* The restore reads the inner archive as a stream (see
   * backup-restore-indexed.c): stored entries keep their CRC. */
  if (zip != NULL)
    backup_zip_output_set_aes_stored_crc (zip, TRUE);
  if (zip != NULL && inner_aes_deferred (params))
    backup_zip_output_defer_aes (zip, DEFER_MAX_SIZE, inner_defer, state);

  for (guint i = 0; ok && i < params->tree->entries->len; i++)
    {
      const BackupZipEntry *entry = g_ptr_array_index (params->tree->entries, i);

      if (state_check_cancelled (state) || state_is_aborted (state))
        ok = FALSE;
      else if (is_small_file (entry))
        ok = write_small_file (state, zip, i);
      else
        ok = write_inner_entry (state, zip, entry, buffer);
    }
  if (ok)
    ok = backup_zip_output_close (zip);

  g_mutex_lock (&state->lock);
  state->eof = TRUE;
  if (state->current != NULL)
    g_queue_push_tail (&state->free_chunks, g_steal_pointer (&state->current));
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);

  g_clear_pointer (&zip, backup_zip_output_free);
  if (state->probe_ready)
    deflateEnd (&state->probe);
  g_clear_pointer (&state->probe_out, g_free);
  deflater_clear (&state->small);
  backup_zip_random_end ();
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Outer level */

static guint8 *
outer_flush (guint8 *buffer, gsize len, gpointer user_data)
{
  WriteState *state = user_data;
  GError *error = NULL;

  if (state_is_aborted (state))
    return NULL;
  if (!g_output_stream_write_all (state->params->out, buffer, len, NULL,
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
      return NULL;
    }
  return buffer;
}

static gboolean
outer_write (WriteState *state)
{
  const BackupZipWriteParams *params = state->params;
  g_autofree guint8 *block = g_malloc (OUTER_BLOCK_SIZE);
  g_autoptr (BackupZipOutput) zip = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree BackupZipAes *inner_aes = g_new0 (BackupZipAes, 1);
  Deflater deflater = { 0 };
  gboolean ok = TRUE;
  Chunk *chunk = NULL;
  /* The inner archive is already compressed: it is stored, and its size is
   * not known in advance. */
  BackupZipOutputEntry ze = {
    .name = params->inner_name,
    .mode = S_IFREG | 0644,
    .mtime = params->reproducible_key != NULL ? params->outer_mtime
                                              : g_get_real_time () / G_USEC_PER_SEC,
    .size = -1,
    .method = BACKUP_ZIP_METHOD_STORE,
  };

  zip = backup_zip_output_new (params->encryption, params->password2, block, OUTER_BLOCK_SIZE,
                               outer_flush, state);
  if (!backup_zip_output_add_entry (zip, &ze))
    return FALSE;

  while (ok && (chunk = state_pop_full (state, chunk, &deflater)) != NULL)
    {
      for (guint i = 0; i < chunk->deferred->len; i++)
        backup_zip_deferred_apply (inner_aes, params->encryption, params->password1, chunk->data,
                                   &g_array_index (chunk->deferred, BackupZipDeferred, i));
      if (!backup_zip_output_write (zip, chunk->data, chunk->len))
        {
          chunk_free (chunk);
          ok = FALSE;
        }
    }
  backup_zip_aes_clear (inner_aes);
  deflater_clear (&deflater);

  if (!ok || state_is_aborted (state))
    return FALSE;
  if (!backup_zip_output_end_entry (zip) || !backup_zip_output_close (zip))
    return FALSE;
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
      chunk->deferred = g_array_new (FALSE, FALSE, sizeof (BackupZipDeferred));
      g_queue_push_tail (&state.free_chunks, chunk);
    }
  for (guint i = 0; i < N_JOBS; i++)
    {
      state.jobs[i].in = g_malloc (SMALL_MAX_SIZE + 1);
      state.jobs[i].out = g_malloc (SMALL_OUT_SIZE);
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
  ok = outer_write (&state);
  backup_zip_random_end ();
  if (!ok)
    {
      /* Stops the inner thread at its next chunk or file block. */
      g_mutex_lock (&state.lock);
      state.aborted = TRUE;
      g_cond_broadcast (&state.cond);
      g_mutex_unlock (&state.lock);
    }
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
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_free (state.jobs[i].in);
      g_free (state.jobs[i].out);
    }
  g_queue_clear_full (&state.free_chunks, chunk_free);
  g_queue_clear_full (&state.full_chunks, chunk_free);
  g_mutex_clear (&state.lock);
  g_cond_clear (&state.cond);
  return ok;
}
