/* test-resume.c: an interrupted transfer resumes where it stopped
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The parts, one by one: the store keeps the bytes of an interrupted
 * reception under the backup's id and hands them to the next reception of
 * that id (and to nothing else); the sender's tickets give the same id and
 * secret for an unchanged source; the archiver writes the same bytes again
 * with the same secret. Then whole transfers: a sender session and a
 * receiver session joined by a link the test cuts after a given number of
 * bytes, run again, must store exactly the source while the second run
 * skips what the first one delivered (or starts over when the kept bytes
 * or the source changed).
 *
 * One file, although long: the link channel and the fixture serve every
 * case, and the cases read best next to the parts they rely on.
 */
#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <utime.h>

#include "backup-archiver.h"
#include "backup-channel.h"
#include "backup-device.h"
#include "backup-error.h"
#include "backup-frame.h"
#include "backup-restore.h"
#include "backup-resume.h"
#include "backup-session-private.h"
#include "backup-session.h"
#include "backup-signaling-open.h"
#include "backup-store.h"
#include "store-test-util.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"

/* ------------------------------------------------------------------------ */
/* A link between two channels that the test can cut                         */

#define LINK_TYPE_CHANNEL (link_channel_get_type ())
G_DECLARE_FINAL_TYPE (LinkChannel, link_channel, LINK, CHANNEL, GObject)

typedef struct
{
  guint64 binary_delivered; /* content bytes that reached the receiver's end */
  guint64 cut_after;        /* 0: never cut */
  gboolean cut;
} Link;

struct _LinkChannel
{
  GObject parent_instance;

  Link *link;
  LinkChannel *peer; /* not a reference */
  gboolean open;
  gboolean closed;
  GQueue queue; /* of Message, on the way to the peer */
  guint64 buffered;
  guint64 low_threshold;
  guint pump_id;
  GError *close_error;
};

typedef struct
{
  GBytes *data;
  gboolean is_string;
} Message;

static void link_channel_iface_init (BackupChannelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LinkChannel, link_channel, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BACKUP_TYPE_CHANNEL, link_channel_iface_init))

static void
message_free (gpointer data)
{
  Message *message = data;

  g_bytes_unref (message->data);
  g_free (message);
}

static void
link_end (LinkChannel *self, const GError *error)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  self->open = FALSE;
  g_queue_clear_full (&self->queue, message_free);
  self->buffered = 0;
  g_clear_handle_id (&self->pump_id, g_source_remove);
  if (error != NULL)
    {
      self->close_error = g_error_copy (error);
      g_signal_emit_by_name (self, "error", error);
    }
  g_signal_emit_by_name (self, "closed");
}

/* Both ends lose the transport, as a killed peer or a dead path does. */
static void
link_cut (LinkChannel *self)
{
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                                  "the test cut the link");
  g_autoptr (LinkChannel) peer = self->peer != NULL ? g_object_ref (self->peer) : NULL;
  g_autoptr (LinkChannel) keep = g_object_ref (self);

  self->link->cut = TRUE;
  link_end (self, error);
  if (peer != NULL)
    link_end (peer, error);
}

static gboolean
link_pump_cb (gpointer user_data)
{
  LinkChannel *self = user_data;
  g_autoptr (LinkChannel) keep = g_object_ref (self);
  guint n = 0;

  /* A few messages per turn, so both sides get to run. */
  while (n++ < 8 && !self->closed && !g_queue_is_empty (&self->queue))
    {
      Message *message = g_queue_pop_head (&self->queue);
      gsize length = g_bytes_get_size (message->data);
      g_autoptr (LinkChannel) peer = self->peer != NULL ? g_object_ref (self->peer) : NULL;

      self->buffered -= length;
      if (!message->is_string && self->link->cut_after > 0
          && self->link->binary_delivered + length > self->link->cut_after)
        {
          message_free (message);
          link_cut (self);
          break;
        }
      if (!message->is_string)
        self->link->binary_delivered += length;
      if (peer != NULL && peer->open)
        g_signal_emit_by_name (peer, "message", message->data, message->is_string);
      message_free (message);
      if (self->buffered <= self->low_threshold && !self->closed)
        g_signal_emit_by_name (self, "buffered-amount-low");
    }
  if (self->closed || g_queue_is_empty (&self->queue))
    {
      self->pump_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
link_send (LinkChannel *self, GBytes *data, gboolean is_string, GError **error)
{
  Message *message;

  if (!self->open)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the link is closed");
      return FALSE;
    }
  message = g_new0 (Message, 1);
  message->data = g_bytes_ref (data);
  message->is_string = is_string;
  g_queue_push_tail (&self->queue, message);
  self->buffered += g_bytes_get_size (data);
  if (self->pump_id == 0)
    self->pump_id = g_idle_add (link_pump_cb, self);
  return TRUE;
}

static const char *
link_get_label (BackupChannel *channel)
{
  return "data";
}

static gboolean
link_is_open (BackupChannel *channel)
{
  return LINK_CHANNEL (channel)->open;
}

static guint64
link_get_max_message_size (BackupChannel *channel)
{
  return 0;
}

static guint64
link_get_buffered_amount (BackupChannel *channel)
{
  return LINK_CHANNEL (channel)->buffered;
}

static void
link_set_low_threshold (BackupChannel *channel, guint64 threshold)
{
  LINK_CHANNEL (channel)->low_threshold = threshold;
}

static gboolean
link_send_bytes (BackupChannel *channel, GBytes *data, GError **error)
{
  return link_send (LINK_CHANNEL (channel), data, FALSE, error);
}

static gboolean
link_send_text (BackupChannel *channel, const char *text, GError **error)
{
  g_autoptr (GBytes) data = g_bytes_new (text, strlen (text));

  return link_send (LINK_CHANNEL (channel), data, TRUE, error);
}

/* A clean close: once the queue is through, both ends close. */
static gboolean
link_close_cb (gpointer user_data)
{
  LinkChannel *self = user_data;

  if (!g_queue_is_empty (&self->queue) && !self->closed)
    return G_SOURCE_CONTINUE;
  if (self->peer != NULL)
    link_end (self->peer, NULL);
  link_end (self, NULL);
  return G_SOURCE_REMOVE;
}

static void
link_close (BackupChannel *channel)
{
  g_timeout_add_full (G_PRIORITY_DEFAULT, 1, link_close_cb, g_object_ref (channel),
                      g_object_unref);
}

static const GError *
link_get_close_error (BackupChannel *channel)
{
  return LINK_CHANNEL (channel)->close_error;
}

static void
link_channel_iface_init (BackupChannelInterface *iface)
{
  iface->get_label = link_get_label;
  iface->is_open = link_is_open;
  iface->get_max_message_size = link_get_max_message_size;
  iface->get_buffered_amount = link_get_buffered_amount;
  iface->set_buffered_amount_low_threshold = link_set_low_threshold;
  iface->send_bytes = link_send_bytes;
  iface->send_text = link_send_text;
  iface->close = link_close;
  iface->get_close_error = link_get_close_error;
}

static void
link_channel_finalize (GObject *object)
{
  LinkChannel *self = LINK_CHANNEL (object);

  g_queue_clear_full (&self->queue, message_free);
  g_clear_handle_id (&self->pump_id, g_source_remove);
  g_clear_error (&self->close_error);
  G_OBJECT_CLASS (link_channel_parent_class)->finalize (object);
}

static void
link_channel_class_init (LinkChannelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = link_channel_finalize;
}

static void
link_channel_init (LinkChannel *self)
{
  g_queue_init (&self->queue);
}

static void
link_open (LinkChannel *a, LinkChannel *b)
{
  a->open = b->open = TRUE;
  g_signal_emit_by_name (a, "open");
  g_signal_emit_by_name (b, "open");
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */

typedef struct
{
  char *root;
  char *dest;
  char *state;
  BackupSignalingStore *signaling;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *signaling_dir = NULL;

  f->root = g_dir_make_tmp ("test-resume-XXXXXX", &error);
  g_assert_no_error (error);
  f->dest = g_build_filename (f->root, "dest", NULL);
  g_assert_cmpint (g_mkdir (f->dest, 0700), ==, 0);
  f->state = backup_resume_default_directory ();
  signaling_dir = g_build_filename (f->root, "signaling", NULL);
  g_assert_cmpint (g_mkdir (signaling_dir, 0700), ==, 0);
  f->signaling = backup_signaling_open (signaling_dir, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && g_file_enumerator_iterate (children, &info, NULL, NULL, NULL)
         && info != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->signaling);
  remove_tree (f->root);
  remove_tree (f->state);
  g_free (f->root);
  g_free (f->dest);
  g_free (f->state);
}

/* The hidden files of a folder that hold kept bytes. */
static GPtrArray *
kept_parts (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".resume.part"))
      g_ptr_array_add (parts, g_build_filename (dir, name, NULL));
  return parts;
}

static guint
kept_count (const char *dir)
{
  g_autoptr (GPtrArray) parts = kept_parts (dir);

  return parts->len;
}

/* The sorted names in @dir are @expected (comma-separated). */
static void
assert_listing (const char *dir, const char *expected)
{
  g_autofree char *listing = store_test_list (dir);

  g_assert_cmpstr (listing, ==, expected);
}

static guint64
file_size (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (guint64) st.st_size;
}

static GBytes *
random_bytes (gsize size)
{
  guint8 *data = g_malloc (size);

  g_assert_cmpint (gnutls_rnd (GNUTLS_RND_NONCE, data, size), ==, 0);
  return g_bytes_new_take (data, size);
}

static void
write_file (const char *path, GBytes *content)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (content, NULL),
                       (gssize) g_bytes_get_size (content), &error);
  g_assert_no_error (error);
}

static void
assert_file_is (const char *path, GBytes *expected)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

/* ------------------------------------------------------------------------ */
/* The store                                                                 */

static BackupStore *
new_store (Fixture *f)
{
  g_autoptr (GFile) dest = g_file_new_for_path (f->dest);

  return backup_store_new (dest, 2);
}

static void
test_store_keeps_and_resumes (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (BackupReception) first = NULL;
  g_autoptr (BackupReception) second = NULL;
  g_autoptr (BackupReception) other = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autoptr (GError) error = NULL;

  first = backup_store_begin_resumable (store, "data", 4, ID_A, &error);
  g_assert_no_error (error);
  g_assert_true (backup_reception_is_resumable (first));
  g_assert_cmpuint (backup_reception_get_resume_offset (first), ==, 0);
  g_assert_true (backup_reception_write (first, "hello ", 6, &error));

  /* While it lives, the same id cannot be taken over: another receiver
   * gets a plain reception. */
  other = backup_store_begin_resumable (store, "data", 4, ID_A, &error);
  g_assert_no_error (error);
  g_assert_false (backup_reception_is_resumable (other));
  backup_reception_abort (other);

  g_assert_true (backup_reception_keep (first));
  g_clear_object (&first);
  parts = kept_parts (f->dest);
  g_assert_cmpuint (parts->len, ==, 1);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (parts, 0), "/.data." ID_A ".resume.part"));
  g_assert_cmpuint (file_size (g_ptr_array_index (parts, 0)), ==, 6);

  /* Another id, or another name, starts from nothing. */
  other = backup_store_begin_resumable (store, "data", 4, ID_B, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backup_reception_get_resume_offset (other), ==, 0);
  backup_reception_abort (other);
  g_clear_object (&other);
  other = backup_store_begin_resumable (store, "else", 4, ID_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backup_reception_get_resume_offset (other), ==, 0);
  backup_reception_abort (other);

  /* The same id and name take the kept bytes over and go on after them. */
  second = backup_store_begin_resumable (store, "data", 4, ID_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (backup_reception_get_resume_offset (second), ==, 6);
  g_assert_true (backup_reception_write (second, "world", 5, &error));
  g_assert_true (backup_reception_commit (second, NULL, &error));
  g_assert_no_error (error);
  store_test_assert_contents (f->dest, "data", "hello world");
  g_assert_cmpuint (kept_count (f->dest), ==, 0);
}

static void
test_store_restart_and_abort (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GError) error = NULL;

  reception = backup_store_begin_resumable (store, "data", 4, ID_A, &error);
  g_assert_true (backup_reception_write (reception, "stale", 5, &error));
  g_assert_true (backup_reception_keep (reception));
  g_clear_object (&reception);

  /* Restart drops the kept bytes. */
  reception = backup_store_begin_resumable (store, "data", 4, ID_A, &error);
  g_assert_cmpuint (backup_reception_get_resume_offset (reception), ==, 5);
  g_assert_true (backup_reception_restart (reception, &error));
  g_assert_cmpuint (backup_reception_get_resume_offset (reception), ==, 0);
  g_assert_true (backup_reception_write (reception, "fresh", 5, &error));
  g_assert_true (backup_reception_commit (reception, NULL, &error));
  store_test_assert_contents (f->dest, "data", "fresh");
  g_clear_object (&reception);

  /* Abort removes, as for any reception; a plain one is never kept. */
  reception = backup_store_begin_resumable (store, "data", 4, ID_B, &error);
  g_assert_true (backup_reception_write (reception, "x", 1, &error));
  backup_reception_abort (reception);
  g_clear_object (&reception);
  reception = backup_store_begin (store, "data", 4, &error);
  g_assert_true (backup_reception_write (reception, "y", 1, &error));
  g_assert_false (backup_reception_keep (reception));
  g_clear_object (&reception);
  g_assert_cmpuint (kept_count (f->dest), ==, 0);
  assert_listing (f->dest, "data");
}

static void
age_file (const char *path, gint64 seconds)
{
  struct utimbuf times;

  times.actime = times.modtime = time (NULL) - seconds;
  g_assert_cmpint (utime (path, &times), ==, 0);
}

static void
test_store_window (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (BackupReception) reception = NULL;
  g_autoptr (GPtrArray) versions = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *young = NULL;
  g_autofree char *old = NULL;
  guint removed = 99;

  reception = backup_store_begin_resumable (store, "young", 5, ID_A, &error);
  g_assert_true (backup_reception_write (reception, "12345", 5, &error));
  g_assert_true (backup_reception_keep (reception));
  g_clear_object (&reception);
  reception = backup_store_begin_resumable (store, "old", 3, ID_A, &error);
  g_assert_true (backup_reception_write (reception, "12345", 5, &error));
  g_assert_true (backup_reception_keep (reception));
  g_clear_object (&reception);
  young = g_build_filename (f->dest, ".young." ID_A ".resume.part", NULL);
  old = g_build_filename (f->dest, ".old." ID_A ".resume.part", NULL);
  age_file (old, 25 * 3600);

  /* Kept parts are not versions, and a peer cannot name a file like one. */
  g_assert_true (backup_store_prune (store, NULL, TRUE, &versions, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (versions->len, ==, 0);
  g_assert_false (backup_store_check_name (".young." ID_A ".resume.part", &error));
  g_assert_error (error, BACKUP_ERROR, BACKUP_ERROR_INVALID_NAME);
  g_clear_error (&error);

  /* Too old to resume: the next reception starts from nothing. */
  reception = backup_store_begin_resumable (store, "old", 3, ID_A, &error);
  g_assert_cmpuint (backup_reception_get_resume_offset (reception), ==, 0);
  g_assert_true (backup_reception_keep (reception));
  g_clear_object (&reception);
  age_file (old, 25 * 3600);

  /* The sweep removes what is older than the window, whatever the age
   * asked for the other temporary files, and keeps the rest. */
  g_assert_true (backup_store_remove_stale_parts (store, 0, &removed, &error));
  g_assert_cmpuint (removed, ==, 1);
  g_assert_true (g_file_test (young, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));

  /* A shorter window. */
  backup_store_set_resume_window (store, 0);
  g_assert_true (backup_store_remove_stale_parts (store, 0, &removed, &error));
  g_assert_cmpuint (removed, ==, 1);
  assert_listing (f->dest, "");
}

/* ------------------------------------------------------------------------ */
/* Tickets and reproducible archives                                          */

static void
test_tickets (Fixture *f, gconstpointer data)
{
  guint8 fp1[BACKUP_RESUME_FINGERPRINT_LEN] = { 1 };
  guint8 fp2[BACKUP_RESUME_FINGERPRINT_LEN] = { 2 };
  BackupResumeTicket a, b, c, d, e;
  g_autofree char *path = g_build_filename (f->state, "k1.ticket", NULL);
  struct stat st;

  backup_resume_ticket_get (f->state, "k1", fp1, 1000000, BACKUP_RESUME_WINDOW, &a);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (a.created, ==, 1000000);

  /* The same source within the window: the same id and secret. */
  backup_resume_ticket_get (f->state, "k1", fp1, 1000000 + 3600, BACKUP_RESUME_WINDOW, &b);
  g_assert_cmpmem (a.id, sizeof a.id, b.id, sizeof b.id);
  g_assert_cmpmem (a.secret, sizeof a.secret, b.secret, sizeof b.secret);
  g_assert_cmpint (b.created, ==, 1000000);

  /* A changed source: new ones. */
  backup_resume_ticket_get (f->state, "k1", fp2, 1000000 + 3600, BACKUP_RESUME_WINDOW, &c);
  g_assert_true (memcmp (a.id, c.id, sizeof a.id) != 0);
  g_assert_true (memcmp (a.secret, c.secret, sizeof a.secret) != 0);

  /* Past the window: new ones. */
  backup_resume_ticket_get (f->state, "k1", fp2, 1000000 + 3600 + 25 * 3600,
                            BACKUP_RESUME_WINDOW, &d);
  g_assert_true (memcmp (c.id, d.id, sizeof c.id) != 0);

  /* Forgotten after a success: new ones. */
  backup_resume_ticket_forget (f->state, "k1");
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  backup_resume_ticket_get (f->state, "k1", fp2, 1000000 + 3600 + 25 * 3600,
                            BACKUP_RESUME_WINDOW, &e);
  g_assert_true (memcmp (d.id, e.id, sizeof d.id) != 0);
}

static void
make_tree (const char *root, gsize file_size_each, guint n_files)
{
  g_autofree char *sub = g_build_filename (root, "sub", NULL);

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u", i);
      g_autofree char *path = g_build_filename (i % 2 ? sub : root, name, NULL);
      g_autoptr (GBytes) content = random_bytes (file_size_each);

      write_file (path, content);
    }
}

typedef struct
{
  gboolean done;
  GError *error;
} Wait;

static void
archiver_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  if (g_task_get_source_tag (G_TASK (result)) == backup_archiver_scan_async)
    backup_archiver_scan_finish (BACKUP_ARCHIVER (object), result, &wait->error);
  else
    backup_archiver_write_finish (BACKUP_ARCHIVER (object), result, &wait->error);
  wait->done = TRUE;
}

static GBytes *
archive_tree (const char *root, const guint8 *key, guint8 fingerprint[32])
{
  g_autoptr (GFile) dir = g_file_new_for_path (root);
  g_autoptr (BackupArchiver) archiver = backup_archiver_new (dir, "tree.zip", "one", "two");
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  Wait wait = { 0 };

  backup_archiver_set_reproducible (archiver, key, 1700000000);
  backup_archiver_scan_async (archiver, G_PRIORITY_DEFAULT, NULL, archiver_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  g_assert_true (backup_archiver_get_fingerprint (archiver, fingerprint));

  wait.done = FALSE;
  backup_archiver_write_async (archiver, out, G_PRIORITY_DEFAULT, NULL, archiver_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  g_output_stream_close (out, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static void
test_reproducible_archive (Fixture *f, gconstpointer data)
{
  g_autofree char *tree = g_build_filename (f->root, "tree", NULL);
  g_autofree char *changed = NULL;
  guint8 key1[32], key2[32];
  guint8 fp1[32], fp2[32], fp3[32], fp4[32];
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GBytes) c = NULL;
  g_autoptr (GBytes) d = NULL;
  g_autoptr (GBytes) e = NULL;

  memset (key1, 1, sizeof key1);
  memset (key2, 2, sizeof key2);
  make_tree (tree, 100000, 6);

  a = archive_tree (tree, key1, fp1);
  b = archive_tree (tree, key1, fp2);
  g_assert_true (g_bytes_equal (a, b));
  g_assert_cmpmem (fp1, sizeof fp1, fp2, sizeof fp2);

  /* Another key: other salts, so other bytes; no key: fresh salts. */
  c = archive_tree (tree, key2, fp3);
  g_assert_cmpuint (g_bytes_get_size (a), ==, g_bytes_get_size (c));
  g_assert_false (g_bytes_equal (a, c));
  d = archive_tree (tree, NULL, fp3);
  e = archive_tree (tree, NULL, fp3);
  g_assert_false (g_bytes_equal (d, e));

  /* Any change to a file changes the fingerprint, even with the same size
   * and modification time. */
  changed = g_build_filename (tree, "file-0", NULL);
  {
    struct stat st;
    struct timespec times[2];
    g_autoptr (GBytes) content = random_bytes (100000);

    g_assert_cmpint (stat (changed, &st), ==, 0);
    g_usleep (20000);
    write_file (changed, content);
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    g_assert_cmpint (utimensat (AT_FDCWD, changed, times, 0), ==, 0);
  }
  g_clear_pointer (&e, g_bytes_unref);
  e = archive_tree (tree, key1, fp4);
  g_assert_true (memcmp (fp1, fp4, sizeof fp1) != 0);
}

/* ------------------------------------------------------------------------ */
/* Whole transfers over a link the test cuts                                 */

typedef struct
{
  gboolean finished;
  gboolean ok;
  GError *error;
} RunResult;

static void
run_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  RunResult *r = user_data;

  r->ok = backup_session_run_finish (BACKUP_SESSION (object), result, &r->error);
  r->finished = TRUE;
}

static gboolean
give_up_cb (gpointer user_data)
{
  g_error ("the transfer did not end within 60 s");
  return G_SOURCE_REMOVE;
}

typedef struct
{
  gboolean ok;           /* both runs succeeded */
  guint64 sender_resumed;
  guint64 receiver_resumed;
  guint64 delivered;     /* content bytes over the link */
  char *sender_error;
  char *receiver_error;
  char *sender_peer;   /* the device name each side got from the other */
  char *receiver_peer;
} Transfer;

static void
transfer_clear (Transfer *t)
{
  g_free (t->sender_error);
  g_free (t->receiver_error);
  g_free (t->sender_peer);
  g_free (t->receiver_peer);
}

/* One backup of @source (a file, or with @outer a folder) over a fresh link
 * cut after @cut_after content bytes (0: never). */
static Transfer
transfer (Fixture *f, const char *source, const char *outer, guint64 cut_after)
{
  g_autoptr (GFile) source_file = g_file_new_for_path (source);
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (BackupSession) sender = NULL;
  g_autoptr (BackupSession) receiver = NULL;
  g_autoptr (LinkChannel) a = g_object_new (LINK_TYPE_CHANNEL, NULL);
  g_autoptr (LinkChannel) b = g_object_new (LINK_TYPE_CHANNEL, NULL);
  Link link = { .cut_after = cut_after };
  RunResult rs = { 0 }, rr = { 0 };
  Transfer t = { 0 };
  guint give_up;

  a->link = b->link = &link;
  a->peer = b;
  b->peer = a;
  sender = backup_session_new_sender (f->signaling, "resume", NULL, source_file, outer,
                                      outer != NULL ? "one" : NULL,
                                      outer != NULL ? "two" : NULL,
                                      BACKUP_ZIP_ENCRYPTION_AES256);
  receiver = backup_session_new_receiver (f->signaling, "resume", NULL, store);
  backup_session_transfer_async (sender, BACKUP_CHANNEL (a), BACKUP_FRAME_PROTOCOL_VERSION, NULL,
                                 run_done_cb, &rs);
  backup_session_transfer_async (receiver, BACKUP_CHANNEL (b), BACKUP_FRAME_PROTOCOL_VERSION,
                                 NULL, run_done_cb, &rr);
  link_open (a, b);

  give_up = g_timeout_add_seconds (60, give_up_cb, NULL);
  while (!rs.finished || !rr.finished)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (give_up);

  t.ok = rs.ok && rr.ok;
  t.sender_resumed = backup_session_get_resumed_bytes (sender);
  t.receiver_resumed = backup_session_get_resumed_bytes (receiver);
  t.delivered = link.binary_delivered;
  t.sender_peer = g_strdup (backup_session_get_peer_name (sender));
  t.receiver_peer = g_strdup (backup_session_get_peer_name (receiver));
  if (rs.error != NULL)
    t.sender_error = g_strdup (rs.error->message);
  if (rr.error != NULL)
    t.receiver_error = g_strdup (rr.error->message);
  g_clear_error (&rs.error);
  g_clear_error (&rr.error);
  /* Let the links' last sources go. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return t;
}

#define FILE_SIZE (8 * 1024 * 1024)

/* The stored version of @name says which device sent it (where the
 * filesystem keeps extended attributes). */
static void
assert_origin (Fixture *f, const char *name)
{
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (GPtrArray) versions = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *probe = g_build_filename (f->root, "xattr-probe", NULL);
  g_autoptr (GBytes) nothing = g_bytes_new_static ("", 0);
  g_autofree char *this_device = backup_device_default_name ();
  gboolean xattrs;

  write_file (probe, nothing);
  xattrs = setxattr (probe, "user.probe", "1", 1, 0) == 0;
  g_assert_true (backup_store_prune (store, name, TRUE, &versions, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (versions->len, >=, 1);
  if (xattrs)
    g_assert_cmpstr (((BackupStoreVersion *) g_ptr_array_index (versions, 0))->origin, ==,
                     this_device);
  else
    {
      g_test_message ("this filesystem keeps no extended attributes: no origin");
      g_assert_null (((BackupStoreVersion *) g_ptr_array_index (versions, 0))->origin);
    }
}

static void
test_file_resumes (Fixture *f, gconstpointer data)
{
  g_autofree char *source = g_build_filename (f->root, "data.bin", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "data.bin", NULL);
  g_autoptr (GBytes) content = random_bytes (FILE_SIZE);
  g_autoptr (GPtrArray) parts = NULL;
  g_autofree char *this_device = backup_device_default_name ();
  Transfer first, second;
  guint64 kept;

  write_file (source, content);
  first = transfer (f, source, NULL, FILE_SIZE / 2);
  g_assert_false (first.ok);
  g_assert_nonnull (strstr (first.receiver_error, "is kept"));
  g_assert_false (g_file_test (stored, G_FILE_TEST_EXISTS));
  parts = kept_parts (f->dest);
  g_assert_cmpuint (parts->len, ==, 1);
  kept = file_size (g_ptr_array_index (parts, 0));
  g_assert_cmpuint (kept, ==, first.delivered);
  g_assert_cmpuint (kept, >, FILE_SIZE / 4);

  second = transfer (f, source, NULL, 0);
  g_assert_true (second.ok);
  g_assert_cmpuint (second.sender_resumed, ==, kept);
  g_assert_cmpuint (second.receiver_resumed, ==, kept);
  /* Only the rest went over the link. */
  g_assert_cmpuint (second.delivered, ==, FILE_SIZE - kept);
  assert_file_is (stored, content);
  g_assert_cmpuint (kept_count (f->dest), ==, 0);
  /* Each side learnt the other's device name. */
  g_assert_cmpstr (second.sender_peer, ==, this_device);
  g_assert_cmpstr (second.receiver_peer, ==, this_device);
  /* The sender's ticket went with the success. */
  assert_listing (f->state, "");
  assert_origin (f, "data.bin");
  transfer_clear (&first);
  transfer_clear (&second);
}

static void
test_file_changed (Fixture *f, gconstpointer data)
{
  g_autofree char *source = g_build_filename (f->root, "data.bin", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "data.bin", NULL);
  g_autoptr (GBytes) content = random_bytes (FILE_SIZE);
  g_autoptr (GBytes) other = random_bytes (FILE_SIZE);
  Transfer first, second;

  write_file (source, content);
  first = transfer (f, source, NULL, FILE_SIZE / 2);
  g_assert_false (first.ok);

  /* A new content is a new backup: nothing is skipped, and the old kept
   * bytes are never mixed in. */
  g_usleep (20000);
  write_file (source, other);
  second = transfer (f, source, NULL, 0);
  g_assert_true (second.ok);
  g_assert_cmpuint (second.sender_resumed, ==, 0);
  g_assert_cmpuint (second.delivered, ==, FILE_SIZE);
  assert_file_is (stored, other);
  transfer_clear (&first);
  transfer_clear (&second);
}

static void
test_kept_bytes_damaged (Fixture *f, gconstpointer data)
{
  g_autofree char *source = g_build_filename (f->root, "data.bin", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "data.bin", NULL);
  g_autoptr (GBytes) content = random_bytes (FILE_SIZE);
  g_autoptr (GPtrArray) parts = NULL;
  Transfer first, second;
  FILE *file;

  write_file (source, content);
  first = transfer (f, source, NULL, FILE_SIZE / 2);
  g_assert_false (first.ok);
  parts = kept_parts (f->dest);
  g_assert_cmpuint (parts->len, ==, 1);

  /* One byte of the kept part changes (a disk, a power cut): the hash of
   * the kept bytes tells, and the transfer starts over. */
  file = fopen (g_ptr_array_index (parts, 0), "r+");
  g_assert_nonnull (file);
  g_assert_cmpint (fseek (file, 1000, SEEK_SET), ==, 0);
  g_assert_cmpint (fputc (((const guint8 *) g_bytes_get_data (content, NULL))[1000] ^ 0xff, file),
                   !=, EOF);
  fclose (file);

  second = transfer (f, source, NULL, 0);
  g_assert_true (second.ok);
  g_assert_cmpuint (second.sender_resumed, ==, 0);
  g_assert_cmpuint (second.delivered, ==, FILE_SIZE);
  assert_file_is (stored, content);
  g_assert_cmpuint (kept_count (f->dest), ==, 0);
  transfer_clear (&first);
  transfer_clear (&second);
}

static void
test_folder_resumes (Fixture *f, gconstpointer data)
{
  g_autofree char *tree = g_build_filename (f->root, "tree", NULL);
  g_autofree char *stored = g_build_filename (f->dest, "tree.zip", NULL);
  g_autofree char *restored = g_build_filename (f->root, "restored", NULL);
  BackupRestoreParams params = { 0 };
  BackupRestoreSummary summary = { 0 };
  g_autoptr (GPtrArray) parts = NULL;
  g_autoptr (GError) error = NULL;
  Transfer first, second;
  guint64 kept;

  make_tree (tree, 1024 * 1024, 10);
  first = transfer (f, tree, "tree.zip", 5 * 1024 * 1024);
  g_assert_false (first.ok);
  parts = kept_parts (f->dest);
  g_assert_cmpuint (parts->len, ==, 1);
  kept = file_size (g_ptr_array_index (parts, 0));
  g_assert_cmpuint (kept, >, 2 * 1024 * 1024);

  second = transfer (f, tree, "tree.zip", 0);
  g_assert_true (second.ok);
  g_assert_cmpuint (second.sender_resumed, ==, kept);
  g_assert_cmpuint (second.delivered, ==, file_size (stored) - kept);

  /* The stored archive is whole: every entry opens with its passwords. */
  params.mode = BACKUP_RESTORE_EXTRACT;
  params.archive = stored;
  params.destination = restored;
  params.password1 = "one";
  params.password2 = "two";
  g_assert_true (backup_restore_run (&params, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.n_files, ==, 10);
  g_assert_cmpuint (summary.n_bytes, ==, 10 * 1024 * 1024);
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("%sfile-%u", i % 2 ? "sub/" : "", i);
      g_autofree char *original = g_build_filename (tree, name, NULL);
      g_autofree char *copy = g_build_filename (restored, name, NULL);
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;
      gsize la, lb;

      g_assert_true (g_file_get_contents (original, &a, &la, NULL));
      g_assert_true (g_file_get_contents (copy, &b, &lb, NULL));
      g_assert_cmpmem (a, la, b, lb);
    }
  transfer_clear (&first);
  transfer_clear (&second);
}

/* The receiver refuses content before the sender answered its offer, and
 * keeps nothing of a peer that breaks the protocol. */
static void
test_data_before_resume (Fixture *f, gconstpointer data)
{
  g_autoptr (BackupStore) store = new_store (f);
  g_autoptr (BackupSession) receiver = NULL;
  g_autoptr (LinkChannel) end = g_object_new (LINK_TYPE_CHANNEL, NULL);
  g_autoptr (BackupFrame) header = backup_frame_new (BACKUP_FRAME_HEADER);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GBytes) content = g_bytes_new_static ("data", 4);
  Link link = { 0 };
  RunResult rr = { 0 };

  end->link = &link;
  receiver = backup_session_new_receiver (f->signaling, "resume", NULL, store);
  backup_session_transfer_async (receiver, BACKUP_CHANNEL (end), BACKUP_FRAME_PROTOCOL_VERSION,
                                 NULL, run_done_cb, &rr);
  end->open = TRUE;
  g_signal_emit_by_name (end, "open");

  header->name = g_strdup ("data");
  header->size = 4;
  header->id = g_strdup (ID_A);
  encoded = backup_frame_encode (header);
  g_signal_emit_by_name (end, "message", encoded, TRUE);
  g_signal_emit_by_name (end, "message", content, FALSE);
  while (!rr.finished)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (rr.error, BACKUP_ERROR, BACKUP_ERROR_PROTOCOL);
  g_assert_cmpuint (kept_count (f->dest), ==, 0);
  assert_listing (f->dest, "");
  g_clear_error (&rr.error);
}

int
main (int argc, char **argv)
{
  g_autofree char *state = NULL;

  /* The sender's tickets go to a folder of this test. */
  state = g_dir_make_tmp ("test-resume-state-XXXXXX", NULL);
  g_setenv ("XDG_STATE_HOME", state, TRUE);
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/resume/store/keeps-and-resumes", test_store_keeps_and_resumes);
  ADD ("/resume/store/restart-and-abort", test_store_restart_and_abort);
  ADD ("/resume/store/window", test_store_window);
  ADD ("/resume/tickets", test_tickets);
  ADD ("/resume/reproducible-archive", test_reproducible_archive);
  ADD ("/resume/transfer/file", test_file_resumes);
  ADD ("/resume/transfer/file-changed", test_file_changed);
  ADD ("/resume/transfer/kept-bytes-damaged", test_kept_bytes_damaged);
  ADD ("/resume/transfer/folder", test_folder_resumes);
  ADD ("/resume/transfer/data-before-resume", test_data_before_resume);
#undef ADD

  {
    int status = g_test_run ();

    remove_tree (state);
    return status;
  }
}
