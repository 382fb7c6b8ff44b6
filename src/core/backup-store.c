/* backup-store.c: the receiver's versioned storage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup-display.h"
#include "backup-error.h"
#include "backup-reception-private.h"
#include "backup-resume.h"
#include "backup-storage.h"
#include "backup-store-private.h"
#include "backup-versions-private.h"

#define NAME_MAX_BYTES 255
/* Bytes of a hostile name shown in an error message. */
#define DISPLAY_MAX_BYTES 64

struct _BackupStore
{
  GObject parent_instance;

  GFile *directory;
  guint versions;
  GMainContext *context; /* home context */

  BackupRetention retention; /* all 0: none */
  BackupStoreClock clock;    /* NULL: the real time */
  gpointer clock_data;
  GTimeZone *zone;           /* of the periods of the policy */
  BackupStoreStepHook step_hook;
  gpointer step_data;
  GTimeSpan resume_window;   /* how long kept parts may resume */
};

static void backup_store_storage_init (BackupStorageInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupStore, backup_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_STORAGE,
                                                      backup_store_storage_init))

enum
{
  PROP_0,
  PROP_DIRECTORY,
  PROP_VERSIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
backup_store_dispose (GObject *object)
{
  BackupStore *self = BACKUP_STORE (object);

  g_clear_object (&self->directory);

  G_OBJECT_CLASS (backup_store_parent_class)->dispose (object);
}

static void
backup_store_finalize (GObject *object)
{
  BackupStore *self = BACKUP_STORE (object);

  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->zone, g_time_zone_unref);

  G_OBJECT_CLASS (backup_store_parent_class)->finalize (object);
}

static void
backup_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BackupStore *self = BACKUP_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      g_value_set_object (value, self->directory);
      break;
    case PROP_VERSIONS:
      g_value_set_uint (value, self->versions);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_store_set_property (GObject *object,
                          guint prop_id,
                          const GValue *value,
                          GParamSpec *pspec)
{
  BackupStore *self = BACKUP_STORE (object);

  switch (prop_id)
    {
    case PROP_DIRECTORY:
      self->directory = g_value_dup_object (value);
      break;
    case PROP_VERSIONS:
      self->versions = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
backup_store_class_init (BackupStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = backup_store_dispose;
  object_class->finalize = backup_store_finalize;
  object_class->get_property = backup_store_get_property;
  object_class->set_property = backup_store_set_property;

  properties[PROP_DIRECTORY]
      = g_param_spec_object ("directory", NULL, NULL, G_TYPE_FILE,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VERSIONS]
      = g_param_spec_uint ("versions", NULL, NULL, 1, BACKUP_STORE_MAX_VERSIONS, 1,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
backup_store_init (BackupStore *self)
{
  self->versions = 1;
  self->resume_window = BACKUP_RESUME_WINDOW;
  self->context = g_main_context_ref_thread_default ();
  self->zone = g_time_zone_new_local ();
}

BackupStore *
backup_store_new (GFile *directory, guint versions)
{
  g_return_val_if_fail (G_IS_FILE (directory), NULL);
  g_return_val_if_fail (versions >= 1 && versions <= BACKUP_STORE_MAX_VERSIONS, NULL);

  return g_object_new (BACKUP_TYPE_STORE, "directory", directory, "versions", versions, NULL);
}

GFile *
backup_store_get_directory (BackupStore *self)
{
  g_return_val_if_fail (BACKUP_IS_STORE (self), NULL);

  return self->directory;
}

guint
backup_store_get_versions (BackupStore *self)
{
  g_return_val_if_fail (BACKUP_IS_STORE (self), 0);

  return self->versions;
}

void
backup_store_set_retention (BackupStore *self, const BackupRetention *retention)
{
  static const BackupRetention none = { 0 };

  g_return_if_fail (BACKUP_IS_STORE (self));

  self->retention = retention != NULL ? *retention : none;
}

gboolean
backup_store_get_retention (BackupStore *self, BackupRetention *retention)
{
  g_return_val_if_fail (BACKUP_IS_STORE (self), FALSE);
  g_return_val_if_fail (retention != NULL, FALSE);

  *retention = self->retention;
  return backup_retention_is_set (&self->retention);
}

void
_backup_store_set_clock (BackupStore *self, BackupStoreClock clock, gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_STORE (self));

  self->clock = clock;
  self->clock_data = user_data;
}

void
_backup_store_set_time_zone (BackupStore *self, GTimeZone *zone)
{
  g_return_if_fail (BACKUP_IS_STORE (self));
  g_return_if_fail (zone != NULL);

  g_time_zone_unref (self->zone);
  self->zone = g_time_zone_ref (zone);
}

void
_backup_store_set_step_hook (BackupStore *self, BackupStoreStepHook hook, gpointer user_data)
{
  g_return_if_fail (BACKUP_IS_STORE (self));

  self->step_hook = hook;
  self->step_data = user_data;
}

gint64
_backup_store_now (BackupStore *self)
{
  g_autoptr (GDateTime) now = NULL;

  if (self->clock == NULL)
    return g_get_real_time ();
  now = self->clock (self->clock_data);
  return g_date_time_to_unix (now) * G_USEC_PER_SEC + g_date_time_get_microsecond (now);
}

GTimeZone *
_backup_store_get_time_zone (BackupStore *self)
{
  return self->zone;
}

gboolean
_backup_store_step (BackupStore *self, const char *step, GError **error)
{
  if (self->step_hook == NULL || self->step_hook (step, self->step_data))
    return TRUE;
  g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_IO, "Stopped before the step “%s”", step);
  return FALSE;
}

void
backup_store_version_free (BackupStoreVersion *version)
{
  if (version == NULL)
    return;
  g_free (version->name);
  g_free (version->file);
  g_free (version->new_file);
  g_free (version->origin);
  g_free (version);
}

/* @tail (of @tail_len bytes) ends the first @len bytes of @name after
 * ".NAME.XXXXXX" with a non-empty NAME and XXXXXX letters and digits. */
static gboolean
has_part_form (const char *name, gsize len, const char *tail, gsize tail_len)
{
  gsize random_end;
  const char *random_part;

  if (len < 2 + 1 + BACKUP_RECEPTION_RANDOM_LEN + tail_len || name[0] != '.')
    return FALSE;
  if (memcmp (name + len - tail_len, tail, tail_len) != 0)
    return FALSE;

  random_end = len - tail_len;
  random_part = name + random_end - BACKUP_RECEPTION_RANDOM_LEN;
  if (random_part[-1] != '.')
    return FALSE;
  for (guint i = 0; i < BACKUP_RECEPTION_RANDOM_LEN; i++)
    if (!g_ascii_isalnum (random_part[i]))
      return FALSE;

  return TRUE;
}

/* ".NAME.<id>.resume.part" with a non-empty NAME and an id of
 * BACKUP_RECEPTION_ID_CHARS lower-case hex digits. */
static gboolean
has_resume_form (const char *name, gsize len)
{
  static const char tail[] = BACKUP_RECEPTION_RESUME_MARK BACKUP_RECEPTION_PART_SUFFIX;
  gsize tail_len = sizeof tail - 1;
  const char *id;

  if (len < 2 + 1 + BACKUP_RECEPTION_ID_CHARS + tail_len || name[0] != '.')
    return FALSE;
  if (memcmp (name + len - tail_len, tail, tail_len) != 0)
    return FALSE;
  id = name + len - tail_len - BACKUP_RECEPTION_ID_CHARS;
  if (id[-1] != '.')
    return FALSE;
  for (guint i = 0; i < BACKUP_RECEPTION_ID_CHARS; i++)
    if (!g_ascii_isdigit (id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
      return FALSE;
  return TRUE;
}

BackupPartKind
_backup_part_kind (const char *name, gsize len)
{
  static const char data_tail[] = BACKUP_RECEPTION_DATA_MARK BACKUP_RECEPTION_PART_SUFFIX;
  static const char link_tail[] = BACKUP_RECEPTION_LINK_MARK BACKUP_RECEPTION_PART_SUFFIX;
  static const char legacy_tail[] = BACKUP_RECEPTION_PART_SUFFIX;

  if (has_resume_form (name, len))
    return BACKUP_PART_RESUME;
  if (has_part_form (name, len, data_tail, sizeof data_tail - 1))
    return BACKUP_PART_DATA;
  if (has_part_form (name, len, link_tail, sizeof link_tail - 1))
    return BACKUP_PART_LINK;
  if (has_part_form (name, len, legacy_tail, sizeof legacy_tail - 1))
    return BACKUP_PART_LEGACY;
  return BACKUP_PART_NONE;
}

/* A hostile name shown in a message: escaped by backup_display_name(),
 * at most DISPLAY_MAX_BYTES of the original (cut between characters). */
static char *
display_name (const char *name, gsize len)
{
  gsize shown = len;
  g_autofree char *escaped = NULL;

  if (len > DISPLAY_MAX_BYTES)
    {
      shown = DISPLAY_MAX_BYTES;
      /* Back to the start of a UTF-8 sequence cut by the limit. */
      for (guint i = 0; i < 3 && shown > 0 && ((guchar) name[shown] & 0xc0) == 0x80; i++)
        shown--;
    }

  escaped = backup_display_name (name, (gssize) shown);
  if (shown < len)
    return g_strconcat (escaped, "…", NULL);
  return g_steal_pointer (&escaped);
}

gboolean
backup_store_check_name_len (const char *name, gsize len, GError **error)
{
  const char *reason = NULL;

  g_return_val_if_fail (name != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    reason = _("the name is empty");
  else if (len > NAME_MAX_BYTES)
    reason = _("the name is longer than 255 bytes");
  else if (memchr (name, '\0', len) != NULL)
    reason = _("the name contains a NUL byte");
  else if (memchr (name, '/', len) != NULL)
    reason = _("the name contains a “/”");
  else if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    reason = _("“.” and “..” are not file names");
  else if (_backup_part_kind (name, len) != BACKUP_PART_NONE)
    reason = _("the name has the form of a temporary file");
  else if (_backup_versions_is_index_name (name, len))
    reason = _("the name has the form of a version index");

  if (reason != NULL)
    {
      g_autofree char *shown = display_name (name != NULL ? name : "", len);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                   _("Refusing to store a file named “%s”: %s"), shown, reason);
      return FALSE;
    }

  return TRUE;
}

gboolean
backup_store_check_name (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, FALSE);

  return backup_store_check_name_len (name, strlen (name), error);
}

void
_backup_store_set_errno_error (GError **error,
                               int errsv,
                               const char *name,
                               const char *dir_display)
{
  BackupError code = backup_error_from_errno (errsv);
  g_autofree char *shown = display_name (name, strlen (name));

  switch (code)
    {
    case BACKUP_ERROR_NO_SPACE:
      g_set_error (error, BACKUP_ERROR, code,
                   _("Not enough space in “%s” to store “%s”: %s"), dir_display, shown,
                   g_strerror (errsv));
      break;
    case BACKUP_ERROR_PERMISSION:
      g_set_error (error, BACKUP_ERROR, code,
                   _("Not allowed to write “%s” in “%s”: %s"), shown, dir_display,
                   g_strerror (errsv));
      break;
    case BACKUP_ERROR_NOT_FOUND:
      g_set_error (error, BACKUP_ERROR, code,
                   _("Cannot store “%s”: “%s” is not an existing folder: %s"), shown,
                   dir_display, g_strerror (errsv));
      break;
    default:
      g_set_error (error, BACKUP_ERROR, code, _("Cannot store “%s” in “%s”: %s"), shown,
                   dir_display, g_strerror (errsv));
      break;
    }
}

static guint
count_digits (guint value)
{
  guint digits = 1;

  while (value >= 10)
    {
      value /= 10;
      digits++;
    }
  return digits;
}

/* Opens the destination directory for *at() calls and fsync. */
static int
open_directory (BackupStore *self, const char *name, char **display, GError **error)
{
  g_autofree char *path = g_file_get_path (self->directory);
  int fd;

  *display = g_file_get_parse_name (self->directory);
  if (path == NULL)
    {
      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a local folder"), *display);
      return -1;
    }

  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      _backup_store_set_errno_error (error, errno, name, *display);
      return -1;
    }

  return fd;
}

static BackupReception *
begin_reception (BackupStore *self,
                 const char *name,
                 gsize name_len,
                 const char *id,
                 GError **error)
{
  g_autofree char *display = NULL;
  g_autofree char *checked = NULL;
  int dir_fd;

  g_return_val_if_fail (BACKUP_IS_STORE (self), NULL);
  g_return_val_if_fail (name != NULL || name_len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!backup_store_check_name_len (name, name_len, error))
    return NULL;

  /* NAME.(versions-1) must be a valid file name too (NAME.versions with a
   * policy, for a moment during a commit). */
  if (self->versions > 1
      && name_len + 1
                 + count_digits (backup_retention_is_set (&self->retention) ? self->versions
                                                                            : self->versions - 1)
             > NAME_MAX_BYTES)
    {
      g_autofree char *shown = display_name (name, name_len);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME,
                   _("Refusing to store a file named “%s”: the name is too long to keep "
                     "%u versions"), shown, self->versions);
      return NULL;
    }

  checked = g_strndup (name, name_len);
  dir_fd = open_directory (self, checked, &display, error);
  if (dir_fd < 0)
    return NULL;

  if (id != NULL)
    return _backup_reception_new_resumable (self, dir_fd, display, checked, self->versions, id,
                                            self->resume_window, error);
  return _backup_reception_new (self, dir_fd, display, checked, self->versions, error);
}

BackupReception *
backup_store_begin (BackupStore *self, const char *name, gsize name_len, GError **error)
{
  return begin_reception (self, name, name_len, NULL, error);
}

BackupReception *
backup_store_begin_resumable (BackupStore *self,
                              const char *name,
                              gsize name_len,
                              const char *id,
                              GError **error)
{
  g_return_val_if_fail (id != NULL && strlen (id) == BACKUP_RECEPTION_ID_CHARS, NULL);
  for (const char *p = id; *p != '\0'; p++)
    g_return_val_if_fail (g_ascii_isdigit (*p) || (*p >= 'a' && *p <= 'f'), NULL);

  return begin_reception (self, name, name_len, id, error);
}

void
backup_store_set_resume_window (BackupStore *self, GTimeSpan window)
{
  g_return_if_fail (BACKUP_IS_STORE (self));
  g_return_if_fail (window >= 0);

  self->resume_window = window;
}

/* Removes the ".recv.part" file @name (@st from lstat) if nobody holds its
 * lock: its owner is gone.  The lock is taken, so that a receiver that
 * has just created the file and not yet locked it picks another name
 * instead of writing into a removed file; it is held until the file is
 * gone. */
static gboolean
remove_if_unowned (int dir_fd, const char *name, const struct stat *st)
{
  struct stat fd_st, now_st;
  gboolean removed = FALSE;
  int errsv;
  int fd;

  fd = openat (dir_fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &fd_st) != 0 || !S_ISREG (fd_st.st_mode) || fd_st.st_dev != st->st_dev
      || fd_st.st_ino != st->st_ino)
    {
      close (fd);
      return FALSE;
    }

  errsv = _backup_part_lock (fd);
  if (errsv != 0)
    {
      /* EAGAIN or EACCES: a live receiver's file.  Anything else: the
       * filesystem has no locks, so only the age tells. */
      if (errsv != EAGAIN && errsv != EACCES)
        g_debug ("Cannot lock temporary files: %s", g_strerror (errsv));
      close (fd);
      return FALSE;
    }

  /* Still the same file under that name. */
  if (fstatat (dir_fd, name, &now_st, AT_SYMLINK_NOFOLLOW) == 0 && now_st.st_dev == st->st_dev
      && now_st.st_ino == st->st_ino)
    removed = unlinkat (dir_fd, name, 0) == 0;
  close (fd);
  return removed;
}

static void repair_interrupted (BackupStore *self, const char *display);

static gint64
timespec_to_us (const struct timespec *ts)
{
  return (gint64) ts->tv_sec * G_USEC_PER_SEC + ts->tv_nsec / 1000;
}

gboolean
backup_store_remove_stale_parts (BackupStore *self,
                                 GTimeSpan min_age,
                                 guint *n_removed,
                                 GError **error)
{
  g_autofree char *display = NULL;
  gint64 now = g_get_real_time ();
  guint removed = 0;
  uid_t uid = geteuid ();
  struct dirent *entry;
  DIR *dir;
  int dir_fd;

  g_return_val_if_fail (BACKUP_IS_STORE (self), FALSE);
  g_return_val_if_fail (min_age >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  dir_fd = open_directory (self, ".", &display, error);
  if (dir_fd < 0)
    return FALSE;

  dir = fdopendir (dir_fd);
  if (dir == NULL)
    {
      _backup_store_set_errno_error (error, errno, ".", display);
      close (dir_fd);
      return FALSE;
    }

  while ((entry = readdir (dir)) != NULL)
    {
      BackupPartKind kind = _backup_part_kind (entry->d_name, strlen (entry->d_name));
      g_autofree char *shown = NULL;
      struct stat st;
      gint64 changed;
      gboolean gone;

      if (kind == BACKUP_PART_NONE)
        continue;
      if (fstatat (dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      if (!S_ISREG (st.st_mode) || st.st_uid != uid)
        continue;

      /* A second name of a version is as old as its last link or rename
       * (ctime); data is as old as its last write (mtime). */
      changed = timespec_to_us (kind == BACKUP_PART_LINK ? &st.st_ctim : &st.st_mtim);
      shown = backup_display_name (entry->d_name, -1);

      if (kind == BACKUP_PART_RESUME)
        {
          /* Kept to resume, for as long as a transfer may resume. */
          gone = now - changed >= self->resume_window
                 && remove_if_unowned (dir_fd, entry->d_name, &st);
        }
      else if (now - changed >= min_age)
        {
          gone = unlinkat (dir_fd, entry->d_name, 0) == 0;
          if (!gone && errno != ENOENT)
            g_debug ("Could not remove stale temporary file “%s”: %s", shown,
                     g_strerror (errno));
        }
      else if (kind == BACKUP_PART_DATA)
        gone = remove_if_unowned (dir_fd, entry->d_name, &st);
      else
        gone = FALSE;

      if (gone)
        {
          g_debug ("Removed stale temporary file “%s” in “%s”", shown, display);
          removed++;
        }
    }

  closedir (dir);

  repair_interrupted (self, display);

  if (n_removed != NULL)
    *n_removed = removed;
  return TRUE;
}

/* Names whose commit or prune was interrupted (one file under two
 * numbers) get a clean numbering back; nothing else is removed. */
static void
repair_interrupted (BackupStore *self, const char *display)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *unused = NULL;
  gboolean locked;
  int dir_fd;

  dir_fd = open_directory (self, ".", &unused, NULL);
  if (dir_fd < 0)
    return;
  locked = _backup_versions_lock (dir_fd);
  _backup_versions_find_interrupted (dir_fd, names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *shown = backup_display_name (name, -1);
      g_autoptr (GError) error = NULL;

      if (_backup_versions_prune (self, dir_fd, display, name, NULL, FALSE, TRUE, NULL, &error))
        g_debug ("Finished the numbering of the versions of “%s” in “%s”", shown, display);
      else
        g_debug ("Cannot finish the numbering of the versions of “%s”: %s", shown,
                 error->message);
    }
  _backup_versions_unlock (dir_fd, locked);
  close (dir_fd);
}

gboolean
backup_store_prune (BackupStore *self,
                    const char *name,
                    gboolean dry_run,
                    GPtrArray **versions_out,
                    GCancellable *cancellable,
                    GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) orphans = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) report = NULL;
  g_autofree char *display = NULL;
  gboolean locked;
  gboolean ok = TRUE;
  int dir_fd;

  g_return_val_if_fail (BACKUP_IS_STORE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (name != NULL && !backup_store_check_name (name, error))
    return FALSE;
  if (versions_out != NULL)
    report = g_ptr_array_new_with_free_func ((GDestroyNotify) backup_store_version_free);

  dir_fd = open_directory (self, name != NULL ? name : ".", &display, error);
  if (dir_fd < 0)
    return FALSE;
  locked = _backup_versions_lock (dir_fd);

  if (name != NULL)
    g_ptr_array_add (names, g_strdup (name));
  else
    ok = _backup_versions_list_names (dir_fd, names, orphans, error);

  for (guint i = 0; ok && i < names->len; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else
        ok = _backup_versions_prune (self, dir_fd, display, g_ptr_array_index (names, i), NULL,
                                     dry_run, FALSE, report, error);
    }

  for (guint i = 0; ok && !dry_run && i < orphans->len; i++)
    if (unlinkat (dir_fd, g_ptr_array_index (orphans, i), 0) == 0)
      g_debug ("Removed the version index of a name that is gone");

  _backup_versions_unlock (dir_fd, locked);
  close (dir_fd);

  if (ok && versions_out != NULL)
    *versions_out = g_steal_pointer (&report);
  return ok;
}

typedef struct
{
  char *name;
  gboolean dry_run;
} PruneData;

static void
prune_data_free (PruneData *data)
{
  g_free (data->name);
  g_free (data);
}

static void
prune_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  PruneData *data = task_data;
  GPtrArray *versions = NULL;
  GError *error = NULL;

  if (backup_store_prune (source_object, data->name, data->dry_run, &versions, cancellable,
                          &error))
    g_task_return_pointer (task, versions, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, error);
}

void
backup_store_prune_async (BackupStore *self,
                          const char *name,
                          gboolean dry_run,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  PruneData *data;

  g_return_if_fail (BACKUP_IS_STORE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (PruneData, 1);
  data->name = g_strdup (name);
  data->dry_run = dry_run;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, backup_store_prune_async);
  g_task_set_task_data (task, data, (GDestroyNotify) prune_data_free);
  g_task_run_in_thread (task, prune_worker);
}

gboolean
backup_store_prune_finish (BackupStore *self,
                           GAsyncResult *result,
                           GPtrArray **versions_out,
                           GError **error)
{
  GPtrArray *versions;

  g_return_val_if_fail (BACKUP_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == backup_store_prune_async,
                        FALSE);

  versions = g_task_propagate_pointer (G_TASK (result), error);
  if (versions == NULL)
    return FALSE;
  if (versions_out != NULL)
    *versions_out = versions;
  else
    g_ptr_array_unref (versions);
  return TRUE;
}

/* --- BackupStorage ------------------------------------------------------- */

static char *
store_describe (BackupStorage *storage)
{
  return g_file_get_parse_name (BACKUP_STORE (storage)->directory);
}

static gboolean
store_check_name (BackupStorage *storage, const char *name, gsize name_len, GError **error)
{
  return backup_store_check_name_len (name, name_len, error);
}

static BackupStorageWriter *
store_begin (BackupStorage *storage, const char *name, gsize name_len, GError **error)
{
  return BACKUP_STORAGE_WRITER (backup_store_begin (BACKUP_STORE (storage), name, name_len, error));
}

static BackupStorageWriter *
store_begin_resumable (BackupStorage *storage,
                       const char *name,
                       gsize name_len,
                       const char *id,
                       GError **error)
{
  return BACKUP_STORAGE_WRITER (
      backup_store_begin_resumable (BACKUP_STORE (storage), name, name_len, id, error));
}

static gboolean
store_remove_stale_parts (BackupStorage *storage,
                          GTimeSpan min_age,
                          guint *n_removed,
                          GCancellable *cancellable,
                          GError **error)
{
  return backup_store_remove_stale_parts (BACKUP_STORE (storage), min_age, n_removed, error);
}

static guint
store_get_versions (BackupStorage *storage)
{
  return backup_store_get_versions (BACKUP_STORE (storage));
}

static void
store_set_retention (BackupStorage *storage, const BackupRetention *retention)
{
  backup_store_set_retention (BACKUP_STORE (storage), retention);
}

static gboolean
store_get_retention (BackupStorage *storage, BackupRetention *retention)
{
  return backup_store_get_retention (BACKUP_STORE (storage), retention);
}

static gboolean
store_prune (BackupStorage *storage,
             const char *name,
             gboolean dry_run,
             GPtrArray **versions_out,
             GCancellable *cancellable,
             GError **error)
{
  return backup_store_prune (BACKUP_STORE (storage), name, dry_run, versions_out, cancellable,
                             error);
}

/* The subfolder @name, made private (0700) when it is created. */
static BackupStorage *
store_open_child (BackupStorage *storage, const char *name, guint versions, GError **error)
{
  BackupStore *self = BACKUP_STORE (storage);
  g_autoptr (GFile) child = g_file_get_child (self->directory, name);
  g_autofree char *path = g_file_get_path (child);
  BackupStore *store;
  struct stat st;

  if (path == NULL)
    {
      g_set_error_literal (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_ARGUMENT,
                           _("The destination is not a local folder"));
      return NULL;
    }
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    {
      int errsv = errno;
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                   _("Cannot create the folder “%s”: %s"), shown, g_strerror (errsv));
      return NULL;
    }
  if (lstat (path, &st) < 0 || !S_ISDIR (st.st_mode))
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, BACKUP_ERROR_NOT_FOUND,
                   _("“%s” is not a folder"), shown);
      return NULL;
    }
  store = backup_store_new (child, versions != 0 ? versions : self->versions);
  backup_store_set_retention (store, &self->retention);
  store->clock = self->clock;
  store->clock_data = self->clock_data;
  store->resume_window = self->resume_window;
  return BACKUP_STORAGE (store);
}

/* The regular files of the folder but the hidden ones (receptions under
 * way, parts kept to resume). */
static gboolean
store_measure (BackupStorage *storage, guint64 *bytes, GCancellable *cancellable, GError **error)
{
  BackupStore *self = BACKUP_STORE (storage);
  g_autofree char *path = g_file_get_path (self->directory);
  guint64 total = 0;
  struct dirent *entry;
  DIR *dir;
  int errsv;

  dir = path != NULL ? opendir (path) : NULL;
  if (dir == NULL)
    {
      g_autofree char *shown = path != NULL ? g_filename_display_name (path) : g_strdup ("?");

      errsv = path != NULL ? errno : ENOENT;
      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                   _("Cannot read the folder “%s”: %s"), shown, g_strerror (errsv));
      return FALSE;
    }
  errno = 0;
  while ((entry = readdir (dir)) != NULL)
    {
      struct stat st;

      if (entry->d_name[0] == '.')
        continue;
      if (fstatat (dirfd (dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISREG (st.st_mode))
        total += (guint64) st.st_size;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          closedir (dir);
          return FALSE;
        }
      errno = 0;
    }
  errsv = errno;
  closedir (dir);
  if (errsv != 0)
    {
      g_autofree char *shown = g_filename_display_name (path);

      g_set_error (error, BACKUP_ERROR, backup_error_from_errno (errsv),
                   _("Cannot read the folder “%s”: %s"), shown, g_strerror (errsv));
      return FALSE;
    }
  *bytes = total;
  return TRUE;
}

static void
backup_store_storage_init (BackupStorageInterface *iface)
{
  iface->describe = store_describe;
  iface->check_name = store_check_name;
  iface->begin = store_begin;
  iface->begin_resumable = store_begin_resumable;
  iface->remove_stale_parts = store_remove_stale_parts;
  iface->get_versions = store_get_versions;
  iface->set_retention = store_set_retention;
  iface->get_retention = store_get_retention;
  iface->prune = store_prune;
  iface->open_child = store_open_child;
  iface->measure = store_measure;
}
