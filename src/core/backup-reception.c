/* backup-reception.c: one file being received into a BackupStore
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-reception-private.h"
#include "backup-storage.h"
#include "backup-store-private.h"
#include "backup-versions-private.h"

/* Longest part of the received name kept in the temporary file name, so
 * that ".NAME.XXXXXX.recv.part" stays within NAME_MAX. */
#define PART_NAME_MAX 200

typedef enum
{
  RECEPTION_OPEN,
  RECEPTION_COMMITTING,
  RECEPTION_COMMITTED,
  RECEPTION_ABORTED, /* by the caller, or after a failed write or commit */
} ReceptionState;

struct _BackupReception
{
  GObject parent_instance;

  BackupStore *store; /* its policy, clock and hooks */
  char *name;
  char *display;     /* @name, escaped for messages */
  char *dir_display;
  int dir_fd;
  int fd;
  int lock_fd;       /* holds the lock on the temporary file, or -1 */
  char *part_name;
  guint versions;
  guint64 bytes_written;
  GOutputStream *stream;
  ReceptionState state;
  char *origin;           /* the sender's device name, or NULL */
  gboolean resumable;     /* the file is named by the backup's id */
  guint64 resume_offset;  /* bytes kept from an earlier transfer */
};

static void backup_reception_writer_init (BackupStorageWriterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupReception, backup_reception, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_STORAGE_WRITER,
                                                      backup_reception_writer_init))

enum
{
  PROP_0,
  PROP_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
close_part_file (BackupReception *self)
{
  if (self->stream != NULL)
    g_output_stream_close (self->stream, NULL, NULL);

  if (self->fd >= 0)
    {
      off_t pos = lseek (self->fd, 0, SEEK_CUR);

      if (pos >= 0)
        self->bytes_written = (guint64) pos;
      close (self->fd);
      self->fd = -1;
    }
}

/* Gives up the lock, once the temporary file is gone or renamed. */
static void
release_lock (BackupReception *self)
{
  if (self->lock_fd >= 0)
    {
      close (self->lock_fd);
      self->lock_fd = -1;
    }
}

static void
remove_part_file (BackupReception *self)
{
  close_part_file (self);

  if (self->part_name != NULL)
    {
      if (unlinkat (self->dir_fd, self->part_name, 0) != 0 && errno != ENOENT)
        {
          g_autofree char *shown = backup_display_name (self->part_name, -1);

          g_warning ("Could not remove temporary file “%s” in “%s”: %s", shown,
                     self->dir_display, g_strerror (errno));
        }
      g_clear_pointer (&self->part_name, g_free);
    }
  release_lock (self);
}

static void
backup_reception_dispose (GObject *object)
{
  BackupReception *self = BACKUP_RECEPTION (object);

  if (self->state == RECEPTION_OPEN)
    {
      g_debug ("Reception of a file dropped before commit: removing its temporary file");
      backup_reception_abort (self);
    }
  g_clear_object (&self->stream);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (backup_reception_parent_class)->dispose (object);
}

static void
backup_reception_finalize (GObject *object)
{
  BackupReception *self = BACKUP_RECEPTION (object);

  if (self->fd >= 0)
    close (self->fd);
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  if (self->dir_fd >= 0)
    close (self->dir_fd);
  g_free (self->name);
  g_free (self->display);
  g_free (self->dir_display);
  g_free (self->part_name);
  g_free (self->origin);

  G_OBJECT_CLASS (backup_reception_parent_class)->finalize (object);
}

static void
backup_reception_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupReception *self = BACKUP_RECEPTION (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_reception_class_init (BackupReceptionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_reception_dispose;
  object_class->finalize = backup_reception_finalize;
  object_class->get_property = backup_reception_get_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_reception_init (BackupReception *self)
{
  self->dir_fd = -1;
  self->fd = -1;
  self->lock_fd = -1;
  self->state = RECEPTION_OPEN;
}

int
_backup_part_lock (int fd)
{
  struct flock lock = {
    .l_type = F_WRLCK,
    .l_whence = SEEK_SET,
    .l_start = 0,
    .l_len = 0, /* the whole file, however long it grows */
  };

  if (fcntl (fd, F_OFD_SETLK, &lock) == 0)
    return 0;
  return errno;
}

/* ".NAME.XXXXXX" @mark ".part", with NAME cut to PART_NAME_MAX bytes. */
char *
_backup_reception_make_part_name (const char *name, const char *mark)
{
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char random_part[BACKUP_RECEPTION_RANDOM_LEN + 1];
  gsize len = strlen (name);

  for (guint i = 0; i < BACKUP_RECEPTION_RANDOM_LEN; i++)
    random_part[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  random_part[BACKUP_RECEPTION_RANDOM_LEN] = '\0';

  return g_strdup_printf (".%.*s.%s%s" BACKUP_RECEPTION_PART_SUFFIX,
                          (int) MIN (len, PART_NAME_MAX), name, random_part, mark);
}

typedef enum
{
  PART_LOCKED,
  PART_NOT_LOCKABLE, /* a filesystem without locks */
  PART_TAKEN,        /* a scan of stale files locked it first */
} PartLock;

static PartLock
lock_new_part (BackupReception *self, int fd)
{
  int errsv = _backup_part_lock (fd);

  if (errsv == 0)
    return PART_LOCKED;
  if (errsv == EAGAIN || errsv == EACCES)
    return PART_TAKEN;

  /* Without a lock, the file is only removed as stale once old enough. */
  g_debug ("Cannot lock temporary files in “%s”: %s", self->dir_display, g_strerror (errsv));
  return PART_NOT_LOCKABLE;
}

/* A reception that owns @dir_fd and has no temporary file yet. */
static BackupReception *
reception_new (BackupStore *store,
               int dir_fd,
               const char *dir_display,
               const char *name,
               guint versions)
{
  BackupReception *self = g_object_new (BACKUP_TYPE_RECEPTION, NULL);

  self->store = g_object_ref (store);
  self->dir_fd = dir_fd;
  self->dir_display = g_strdup (dir_display);
  self->name = g_strdup (name);
  self->display = backup_display_name (name, -1);
  self->versions = versions;
  /* Until the temporary file exists, there is nothing to remove: dispose
   * stays quiet. */
  self->state = RECEPTION_ABORTED;
  return self;
}

BackupReception *
_backup_reception_new (BackupStore *store,
                       int dir_fd,
                       const char *dir_display,
                       const char *name,
                       guint versions,
                       GError **error)
{
  g_autoptr (BackupReception) self = reception_new (store, dir_fd, dir_display, name, versions);
  int errsv = EEXIST;

  for (guint attempt = 0; attempt < 100; attempt++)
    {
      g_autofree char *part_name
          = _backup_reception_make_part_name (name, BACKUP_RECEPTION_DATA_MARK);
      int fd = openat (dir_fd, part_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       0600);
      PartLock lock;

      if (fd < 0)
        {
          errsv = errno;
          if (errsv == EEXIST)
            continue;
          break;
        }

      lock = lock_new_part (self, fd);
      if (lock == PART_TAKEN)
        {
          /* The scan removes the file; another name is used. */
          g_debug ("A scan of stale files took a new temporary file: trying another name");
          close (fd);
          continue;
        }

      /* A second descriptor of the same open file keeps the lock until the
       * file is renamed into place, after @fd is closed. */
      if (lock == PART_LOCKED)
        {
          self->lock_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
          if (self->lock_fd < 0)
            {
              errsv = errno;
              unlinkat (dir_fd, part_name, 0);
              close (fd);
              break;
            }
        }

      self->fd = fd;
      self->part_name = g_steal_pointer (&part_name);
      self->state = RECEPTION_OPEN;
      g_debug ("Receiving “%s” into a temporary file", self->display);
      return g_steal_pointer (&self);
    }

  _backup_store_set_errno_error (error, errsv, name, dir_display);
  return NULL;
}

static gboolean check_open (BackupReception *self, GError **error);

/* ".NAME.<id>.resume.part", with NAME cut to PART_NAME_MAX bytes. */
static char *
make_resume_part_name (const char *name, const char *id)
{
  gsize len = strlen (name);

  return g_strdup_printf (".%.*s.%s" BACKUP_RECEPTION_RESUME_MARK BACKUP_RECEPTION_PART_SUFFIX,
                          (int) MIN (len, PART_NAME_MAX), name, id);
}

/* Opens (or creates) the kept file @part_name and locks it. -1 with errno
 * EAGAIN when another reception holds it, or on any error. */
static int
open_resume_part (BackupReception *self, const char *part_name, GTimeSpan window, guint64 *kept)
{
  struct stat st;
  int fd;

  *kept = 0;
  fd = openat (self->dir_fd, part_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd >= 0)
    {
      gint64 age;

      if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ())
        {
          close (fd);
          errno = EEXIST;
          return -1;
        }
      if (_backup_part_lock (fd) != 0)
        {
          close (fd);
          errno = EAGAIN;
          return -1;
        }
      age = g_get_real_time ()
            - ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000);
      if (age < 0 || age >= window)
        {
          g_debug ("The kept part of “%s” is too old to resume: starting over", self->display);
          if (ftruncate (fd, 0) != 0)
            {
              int errsv = errno;

              close (fd);
              errno = errsv;
              return -1;
            }
        }
      else
        *kept = (guint64) st.st_size;
      if (lseek (fd, (off_t) *kept, SEEK_SET) < 0)
        {
          int errsv = errno;

          close (fd);
          errno = errsv;
          return -1;
        }
      return fd;
    }
  if (errno != ENOENT)
    return -1;

  fd = openat (self->dir_fd, part_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -1;
  if (lock_new_part (self, fd) == PART_TAKEN)
    {
      /* A scan found it unlocked and removes it. */
      close (fd);
      errno = EAGAIN;
      return -1;
    }
  return fd;
}

BackupReception *
_backup_reception_new_resumable (BackupStore *store,
                                 int dir_fd,
                                 const char *dir_display,
                                 const char *name,
                                 guint versions,
                                 const char *id,
                                 GTimeSpan window,
                                 GError **error)
{
  g_autoptr (BackupReception) self = reception_new (store, dir_fd, dir_display, name, versions);
  g_autofree char *part_name = make_resume_part_name (name, id);
  guint64 kept;
  int fd;

  fd = open_resume_part (self, part_name, window, &kept);
  if (fd < 0)
    {
      int errsv = errno;

      if (errsv != EAGAIN && errsv != EEXIST)
        {
          _backup_store_set_errno_error (error, errsv, name, dir_display);
          return NULL;
        }
      /* Another receiver has this id: this one cannot resume. */
      g_debug ("The kept part of “%s” is in use: receiving without resume", self->display);
      self->dir_fd = -1;
      return _backup_reception_new (store, dir_fd, dir_display, name, versions, error);
    }

  self->lock_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (self->lock_fd < 0)
    {
      int errsv = errno;

      close (fd);
      self->dir_fd = -1;
      _backup_store_set_errno_error (error, errsv, name, dir_display);
      close (dir_fd);
      return NULL;
    }
  self->fd = fd;
  self->part_name = g_steal_pointer (&part_name);
  self->resumable = TRUE;
  self->resume_offset = kept;
  self->bytes_written = kept;
  self->state = RECEPTION_OPEN;
  g_debug ("Receiving “%s” into a resumable file (%" G_GUINT64_FORMAT " bytes kept)",
           self->display, kept);
  return g_steal_pointer (&self);
}

void
backup_reception_set_origin (BackupReception *self, const char *origin)
{
  g_return_if_fail (BACKUP_IS_RECEPTION (self));

  g_free (self->origin);
  self->origin = g_strdup (origin);
}

gboolean
backup_reception_is_resumable (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);

  return self->resumable;
}

guint64
backup_reception_get_resume_offset (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), 0);

  return self->resume_offset;
}

gboolean
backup_reception_restart (BackupReception *self, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);

  if (!check_open (self, error))
    return FALSE;
  if (ftruncate (self->fd, 0) != 0 || lseek (self->fd, 0, SEEK_SET) < 0)
    {
      _backup_store_set_errno_error (error, errno, self->name, self->dir_display);
      remove_part_file (self);
      self->state = RECEPTION_ABORTED;
      return FALSE;
    }
  self->bytes_written = 0;
  self->resume_offset = 0;
  return TRUE;
}

gboolean
backup_reception_keep (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);

  if (self->state != RECEPTION_OPEN)
    return FALSE;
  if (!self->resumable)
    {
      backup_reception_abort (self);
      return FALSE;
    }

  /* What is kept is read back and hashed before it is used again, so a
   * sync is not needed for safety; it keeps the most after a power cut. */
  if (self->fd >= 0 && fdatasync (self->fd) != 0)
    g_debug ("Syncing the kept part of “%s”: %s", self->display, g_strerror (errno));
  close_part_file (self);
  g_clear_pointer (&self->part_name, g_free);
  release_lock (self);
  self->state = RECEPTION_ABORTED;
  g_debug ("Kept %" G_GUINT64_FORMAT " bytes of “%s” to resume", self->bytes_written,
           self->display);
  return TRUE;
}

typedef struct
{
  int fd;
  guint64 length;
  BackupReceptionReadFunc func;
  gpointer func_data;
} ReadKept;

static void
read_kept_free (gpointer data)
{
  ReadKept *rk = data;

  if (rk->fd >= 0)
    close (rk->fd);
  g_free (rk);
}

static void
read_kept_worker (GTask *task, gpointer source_object, gpointer task_data,
                  GCancellable *cancellable)
{
  BackupReception *self = source_object;
  ReadKept *rk = task_data;
  g_autofree guint8 *buffer = g_malloc (1024 * 1024);
  guint64 offset = 0;

  while (offset < rk->length)
    {
      ssize_t n = pread (rk->fd, buffer, MIN (rk->length - offset, 1024 * 1024), (off_t) offset);

      if (g_task_return_error_if_cancelled (task))
        return;
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          GError *error = NULL;

          _backup_store_set_errno_error (&error, n < 0 ? errno : EIO, self->name,
                                         self->dir_display);
          g_task_return_error (task, error);
          return;
        }
      rk->func (buffer, (gsize) n, rk->func_data);
      offset += (guint64) n;
    }
  g_task_return_boolean (task, TRUE);
}

void
backup_reception_read_kept_async (BackupReception *self,
                                  BackupReceptionReadFunc func,
                                  gpointer func_data,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ReadKept *rk;

  g_return_if_fail (BACKUP_IS_RECEPTION (self));
  g_return_if_fail (func != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_reception_read_kept_async);
  rk = g_new0 (ReadKept, 1);
  rk->fd = -1;
  rk->length = self->resume_offset;
  rk->func = func;
  rk->func_data = func_data;
  g_task_set_task_data (task, rk, read_kept_free);

  /* The worker reads its own descriptor: the reception may end meanwhile. */
  if (self->state != RECEPTION_OPEN || self->fd < 0
      || (rk->fd = fcntl (self->fd, F_DUPFD_CLOEXEC, 0)) < 0)
    {
      g_task_return_new_error (task, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                               _("The reception of “%s” is already finished"), self->display);
      return;
    }
  g_task_run_in_thread (task, read_kept_worker);
}

gboolean
backup_reception_read_kept_finish (BackupReception *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
backup_reception_get_name (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), NULL);

  return self->name;
}

static gboolean
check_open (BackupReception *self, GError **error)
{
  if (self->state != RECEPTION_OPEN || self->fd < 0)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_FAILED,
                   _("The reception of “%s” is already finished"), self->display);
      return FALSE;
    }
  return TRUE;
}

gboolean
backup_reception_write (BackupReception *self, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;

  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_open (self, error))
    return FALSE;

  while (len > 0)
    {
      ssize_t n = write (self->fd, p, MIN (len, (gsize) G_MAXSSIZE));

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;

          _backup_store_set_errno_error (error, errsv, self->name, self->dir_display);
          g_debug ("Writing “%s” failed: removing its temporary file", self->display);
          remove_part_file (self);
          self->state = RECEPTION_ABORTED;
          return FALSE;
        }

      p += n;
      len -= (gsize) n;
      self->bytes_written += (guint64) n;
    }

  return TRUE;
}

GOutputStream *
backup_reception_get_output_stream (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), NULL);
  g_return_val_if_fail (self->state == RECEPTION_OPEN && self->fd >= 0, NULL);

  if (self->stream == NULL)
    self->stream = g_unix_output_stream_new (self->fd, FALSE);

  return self->stream;
}

guint64
backup_reception_get_bytes_written (BackupReception *self)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), 0);

  /* Writes through the output stream bypass the counter. */
  if (self->fd >= 0 && self->stream != NULL)
    {
      off_t pos = lseek (self->fd, 0, SEEK_CUR);

      if (pos >= 0)
        self->bytes_written = (guint64) pos;
    }

  return self->bytes_written;
}

static char *
version_name (const char *name, guint version)
{
  if (version == 0)
    return g_strdup (name);
  return g_strdup_printf ("%s.%u", name, version);
}

/* TRUE when @path exists in the directory; a directory in the way is an error. */
static gboolean
entry_exists (BackupReception *self, const char *path, gboolean *exists, GError **error)
{
  struct stat st;

  if (fstatat (self->dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        {
          *exists = FALSE;
          return TRUE;
        }
      _backup_store_set_errno_error (error, errsv, path, self->dir_display);
      return FALSE;
    }

  if (S_ISDIR (st.st_mode))
    {
      _backup_store_set_errno_error (error, EISDIR, path, self->dir_display);
      return FALSE;
    }

  *exists = TRUE;
  return TRUE;
}

static gboolean
rename_entry (BackupReception *self, const char *from, const char *to, GError **error)
{
  if (renameat (self->dir_fd, from, self->dir_fd, to) != 0)
    {
      _backup_store_set_errno_error (error, errno, to, self->dir_display);
      return FALSE;
    }
  return TRUE;
}

/* Makes NAME.1 a copy of NAME without a moment where NAME is missing: a
 * hard link under a temporary name, renamed over NAME.1.  Where the
 * filesystem has no hard links, NAME is renamed to NAME.1 instead; only
 * then is there a short window without NAME. */
static gboolean
keep_previous (BackupReception *self, const char *name, const char *name_1, GError **error)
{
  g_autofree char *link_name
      = _backup_reception_make_part_name (name, BACKUP_RECEPTION_LINK_MARK);

  if (linkat (self->dir_fd, name, self->dir_fd, link_name, 0) == 0)
    {
      if (!rename_entry (self, link_name, name_1, error))
        {
          unlinkat (self->dir_fd, link_name, 0);
          return FALSE;
        }
      return TRUE;
    }

  if (errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK)
    {
      g_debug ("No hard links in “%s” (%s): renaming instead", self->dir_display,
               g_strerror (errno));
      return rename_entry (self, name, name_1, error);
    }

  _backup_store_set_errno_error (error, errno, name, self->dir_display);
  return FALSE;
}

/* Rotation with N = versions, every step an atomic rename(2) inside the
 * destination directory, so that NAME, the newest complete version, exists
 * at every moment, even across a crash:
 *
 *   1. check that none of NAME, NAME.1 … NAME.(N-1) is a directory
 *      (so that nothing is moved when the final rename could not happen);
 *   2. NAME.(N-2) → NAME.(N-1), …, NAME.1 → NAME.2 (each rename replaces
 *      the next older version; the first one drops the oldest);
 *   3. NAME is hard-linked under a temporary name, renamed over NAME.1;
 *   4. the new file is renamed over NAME;
 *   5. versions past N left by an earlier, larger setting are removed;
 *   6. the directory is synced.
 *
 * With N = 1, steps 2 and 3 do nothing: the new file replaces NAME.
 * A crash between steps leaves the older versions shifted by one but never
 * loses NAME; a leftover temporary file is removed by
 * backup_store_remove_stale_parts().
 */
static gboolean
rotate_and_install (BackupReception *self, GError **error)
{
  gboolean exists;

  for (guint v = 0; v < self->versions; v++)
    {
      g_autofree char *path = version_name (self->name, v);

      if (!entry_exists (self, path, &exists, error))
        return FALSE;
    }

  for (guint v = self->versions; v >= 3; v--)
    {
      g_autofree char *from = version_name (self->name, v - 2);
      g_autofree char *to = version_name (self->name, v - 1);

      if (!entry_exists (self, from, &exists, error))
        return FALSE;
      if (exists && !rename_entry (self, from, to, error))
        return FALSE;
    }

  if (self->versions >= 2)
    {
      g_autofree char *name_1 = version_name (self->name, 1);

      if (!entry_exists (self, self->name, &exists, error))
        return FALSE;
      if (exists && !keep_previous (self, self->name, name_1, error))
        return FALSE;
    }

  if (!rename_entry (self, self->part_name, self->name, error))
    return FALSE;
  g_clear_pointer (&self->part_name, g_free);
  release_lock (self);

  for (guint v = self->versions; v < self->versions + 1000; v++)
    {
      g_autofree char *path = version_name (self->name, v);

      if (unlinkat (self->dir_fd, path, 0) != 0)
        break;
      g_debug ("Removed an old version of “%s”", self->display);
    }

  if (fsync (self->dir_fd) != 0 && errno != EINVAL)
    {
      _backup_store_set_errno_error (error, errno, self->name, self->dir_display);
      return FALSE;
    }

  return TRUE;
}

/* With a retention policy: every version moves up one number (kept
 * under both for a moment), the new file is renamed over NAME, then the
 * policy is applied (see backup-versions-private.h).  Either the new
 * version is in place, or the versions are as they were (possibly with one
 * of them under two numbers, which the next start repairs).  A prune that
 * fails after that does not undo the commit: it is reported, and the next
 * commit or start finishes it. */
static gboolean
install_with_policy (BackupReception *self, gint64 time, GError **error)
{
  g_autoptr (GError) prune_error = NULL;

  if (!_backup_versions_shift (self->store, self->dir_fd, self->dir_display, self->name, error)
      || !_backup_store_step (self->store, "install", error)
      || !rename_entry (self, self->part_name, self->name, error))
    return FALSE;
  g_clear_pointer (&self->part_name, g_free);
  release_lock (self);

  if (!_backup_versions_prune (self->store, self->dir_fd, self->dir_display, self->name, &time,
                               FALSE, FALSE, NULL, &prune_error))
    g_warning ("Stored “%s”, but its old versions could not be pruned: %s", self->display,
               prune_error->message);

  if (fsync (self->dir_fd) != 0 && errno != EINVAL)
    {
      _backup_store_set_errno_error (error, errno, self->name, self->dir_display);
      return FALSE;
    }
  return TRUE;
}

static gboolean
install (BackupReception *self, gint64 time, GError **error)
{
  BackupRetention retention;
  gboolean locked = _backup_versions_lock (self->dir_fd);
  gboolean ok;

  if (backup_store_get_retention (self->store, &retention))
    ok = install_with_policy (self, time, error);
  else
    ok = rotate_and_install (self, error);
  _backup_versions_unlock (self->dir_fd, locked);
  return ok;
}

gboolean
backup_reception_commit (BackupReception *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  BackupRetention retention;
  gint64 time = 0;

  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_open (self, error))
    return FALSE;
  self->state = RECEPTION_COMMITTING;

  if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    goto failed;

  if (self->stream != NULL && !g_output_stream_flush (self->stream, cancellable, &local_error))
    goto failed;

  /* With a policy, the version's time is that of its commit, kept in the
   * index and as its modification time, from which the index is rebuilt. */
  if (backup_store_get_retention (self->store, &retention))
    {
      struct timespec times[2];

      time = _backup_store_now (self->store);
      times[0].tv_sec = times[1].tv_sec = time / G_USEC_PER_SEC;
      times[0].tv_nsec = times[1].tv_nsec = (time % G_USEC_PER_SEC) * 1000;
      if (futimens (self->fd, times) != 0)
        {
          _backup_store_set_errno_error (&local_error, errno, self->name, self->dir_display);
          goto failed;
        }
    }

  if (self->origin != NULL
      && fsetxattr (self->fd, BACKUP_RECEPTION_ORIGIN_XATTR, self->origin, strlen (self->origin),
                    0)
             != 0)
    g_debug ("Cannot keep the origin of “%s”: %s", self->display, g_strerror (errno));

  if (fsync (self->fd) != 0)
    {
      _backup_store_set_errno_error (&local_error, errno, self->name, self->dir_display);
      goto failed;
    }
  if (self->stream != NULL)
    g_output_stream_close (self->stream, NULL, NULL);
  self->bytes_written = backup_reception_get_bytes_written (self);
  /* close(2) may report a late write error on network filesystems. */
  if (close (self->fd) != 0)
    {
      int errsv = errno;

      self->fd = -1;
      _backup_store_set_errno_error (&local_error, errsv, self->name, self->dir_display);
      goto failed;
    }
  self->fd = -1;

  if (!install (self, time, &local_error))
    goto failed;

  self->state = RECEPTION_COMMITTED;
  g_debug ("Stored “%s” (%" G_GUINT64_FORMAT " bytes) in “%s”", self->display, self->bytes_written,
           self->dir_display);
  return TRUE;

failed:
  g_debug ("Commit of “%s” failed: removing its temporary file", self->display);
  remove_part_file (self);
  self->state = RECEPTION_ABORTED;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static void
commit_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  BackupReception *self = source_object;
  GError *error = NULL;

  if (backup_reception_commit (self, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
backup_reception_commit_async (BackupReception *self,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BACKUP_IS_RECEPTION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_reception_commit_async);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, commit_worker);
}

gboolean
backup_reception_commit_finish (BackupReception *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BACKUP_IS_RECEPTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_reception_commit_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
backup_reception_abort (BackupReception *self)
{
  g_return_if_fail (BACKUP_IS_RECEPTION (self));

  if (self->state != RECEPTION_OPEN)
    return;

  g_debug ("Reception of “%s” aborted", self->display);
  remove_part_file (self);
  self->state = RECEPTION_ABORTED;
}

/* --- BackupStorageWriter ------------------------------------------------- */

static const char *
writer_get_name (BackupStorageWriter *writer)
{
  return backup_reception_get_name (BACKUP_RECEPTION (writer));
}

static gboolean
writer_write (BackupStorageWriter *writer, const void *data, gsize len, GError **error)
{
  return backup_reception_write (BACKUP_RECEPTION (writer), data, len, error);
}

static guint64
writer_get_bytes_written (BackupStorageWriter *writer)
{
  return backup_reception_get_bytes_written (BACKUP_RECEPTION (writer));
}

static void
writer_set_origin (BackupStorageWriter *writer, const char *origin)
{
  backup_reception_set_origin (BACKUP_RECEPTION (writer), origin);
}

/* The caller hashed what it wrote here and checked it: @expected_sha256
 * adds nothing. */
static void
writer_commit_async (BackupStorageWriter *writer,
                     const guint8 *expected_sha256,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  backup_reception_commit_async (BACKUP_RECEPTION (writer), cancellable, callback, user_data);
}

static gboolean
writer_commit_finish (BackupStorageWriter *writer, GAsyncResult *result, GError **error)
{
  return backup_reception_commit_finish (BACKUP_RECEPTION (writer), result, error);
}

static void
writer_abort (BackupStorageWriter *writer)
{
  backup_reception_abort (BACKUP_RECEPTION (writer));
}

static gboolean
writer_is_resumable (BackupStorageWriter *writer)
{
  return backup_reception_is_resumable (BACKUP_RECEPTION (writer));
}

static guint64
writer_get_resume_offset (BackupStorageWriter *writer)
{
  return backup_reception_get_resume_offset (BACKUP_RECEPTION (writer));
}

static gboolean
writer_restart (BackupStorageWriter *writer, GError **error)
{
  return backup_reception_restart (BACKUP_RECEPTION (writer), error);
}

static gboolean
writer_keep (BackupStorageWriter *writer)
{
  return backup_reception_keep (BACKUP_RECEPTION (writer));
}

static void
writer_read_kept_async (BackupStorageWriter *writer,
                        BackupStorageReadFunc func,
                        gpointer func_data,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  backup_reception_read_kept_async (BACKUP_RECEPTION (writer), func, func_data, cancellable,
                                    callback, user_data);
}

static gboolean
writer_read_kept_finish (BackupStorageWriter *writer, GAsyncResult *result, GError **error)
{
  return backup_reception_read_kept_finish (BACKUP_RECEPTION (writer), result, error);
}

static void
backup_reception_writer_init (BackupStorageWriterInterface *iface)
{
  iface->get_name = writer_get_name;
  iface->write = writer_write;
  iface->get_bytes_written = writer_get_bytes_written;
  iface->set_origin = writer_set_origin;
  iface->commit_async = writer_commit_async;
  iface->commit_finish = writer_commit_finish;
  iface->abort = writer_abort;
  iface->is_resumable = writer_is_resumable;
  iface->get_resume_offset = writer_get_resume_offset;
  iface->restart = writer_restart;
  iface->keep = writer_keep;
  iface->read_kept_async = writer_read_kept_async;
  iface->read_kept_finish = writer_read_kept_finish;
}
