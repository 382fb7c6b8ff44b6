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

#include "backup-error.h"
#include "backup-reception-private.h"
#include "backup-store.h"

#define NAME_MAX_BYTES 255

struct _BackupStore
{
  GObject parent_instance;

  GFile *directory;
  guint versions;
  GMainContext *context; /* home context */
};

G_DEFINE_FINAL_TYPE (BackupStore, backup_store, G_TYPE_OBJECT)

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
  self->context = g_main_context_ref_thread_default ();
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

/* ".NAME.XXXXXX.part" with a non-empty NAME and XXXXXX letters and digits. */
static gboolean
is_part_name (const char *name, gsize len)
{
  gsize suffix_len = strlen (BACKUP_RECEPTION_PART_SUFFIX);
  gsize tail = 1 + BACKUP_RECEPTION_RANDOM_LEN + suffix_len;
  const char *random_part;

  if (len < 2 + tail || name[0] != '.')
    return FALSE;
  if (memcmp (name + len - suffix_len, BACKUP_RECEPTION_PART_SUFFIX, suffix_len) != 0)
    return FALSE;

  random_part = name + len - suffix_len - BACKUP_RECEPTION_RANDOM_LEN;
  if (random_part[-1] != '.')
    return FALSE;
  for (guint i = 0; i < BACKUP_RECEPTION_RANDOM_LEN; i++)
    if (!g_ascii_isalnum (random_part[i]))
      return FALSE;

  return TRUE;
}

/* A hostile name shown in a message: valid UTF-8, no control characters,
 * at most 64 bytes of the original. */
static char *
display_name (const char *name, gsize len)
{
  g_autofree char *valid = g_utf8_make_valid (name, MIN (len, 64));
  GString *out = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_unichar (out, c);
    }
  if (len > 64)
    g_string_append (out, "…");

  return g_string_free (out, FALSE);
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
  else if (is_part_name (name, len))
    reason = _("the name has the form of a temporary file");

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

BackupReception *
backup_store_begin (BackupStore *self, const char *name, gsize name_len, GError **error)
{
  g_autofree char *display = NULL;
  g_autofree char *checked = NULL;
  int dir_fd;

  g_return_val_if_fail (BACKUP_IS_STORE (self), NULL);
  g_return_val_if_fail (name != NULL || name_len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!backup_store_check_name_len (name, name_len, error))
    return NULL;

  /* NAME.(versions-1) must be a valid file name too. */
  if (self->versions > 1 && name_len + 1 + count_digits (self->versions - 1) > NAME_MAX_BYTES)
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

  return _backup_reception_new (dir_fd, display, checked, self->versions, error);
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
      struct stat st;
      gint64 mtime;

      if (!is_part_name (entry->d_name, strlen (entry->d_name)))
        continue;
      if (fstatat (dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      if (!S_ISREG (st.st_mode) || st.st_uid != uid)
        continue;

      mtime = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
      if (now - mtime < min_age)
        continue;

      if (unlinkat (dir_fd, entry->d_name, 0) == 0)
        {
          g_debug ("Removed stale temporary file “%s” in “%s”", entry->d_name, display);
          removed++;
        }
      else if (errno != ENOENT)
        {
          g_debug ("Could not remove stale temporary file “%s”: %s", entry->d_name,
                   g_strerror (errno));
        }
    }

  closedir (dir);

  if (n_removed != NULL)
    *n_removed = removed;
  return TRUE;
}
