/* backup-server-stream.c: a client connection, lent to SoupServer for one request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "backup-server-stream.h"

/* The input side: the pending bytes, then the connection's input. */

#define BACKUP_TYPE_SERVER_STREAM_INPUT (backup_server_stream_input_get_type ())
G_DECLARE_FINAL_TYPE (BackupServerStreamInput, backup_server_stream_input, BACKUP,
                      SERVER_STREAM_INPUT, GInputStream)

struct _BackupServerStreamInput
{
  GInputStream parent_instance;

  GInputStream *base; /* pollable */
  GBytes *pending;
  gsize offset;       /* into pending */
  guint64 received;   /* bytes read through this stream */
  gboolean detached;
};

static void backup_server_stream_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BackupServerStreamInput, backup_server_stream_input,
                               G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      backup_server_stream_input_pollable_init))

static gsize
input_pending_size (BackupServerStreamInput *self)
{
  return self->pending != NULL ? g_bytes_get_size (self->pending) - self->offset : 0;
}

/* Copies pending bytes to @buffer; 0 when there are none. */
static gsize
input_take_pending (BackupServerStreamInput *self,
                    void *buffer,
                    gsize count)
{
  gsize n = MIN (count, input_pending_size (self));

  if (n == 0)
    return 0;

  memcpy (buffer, (const guint8 *) g_bytes_get_data (self->pending, NULL) + self->offset, n);
  self->offset += n;
  if (input_pending_size (self) == 0)
    {
      g_clear_pointer (&self->pending, g_bytes_unref);
      self->offset = 0;
    }
  return n;
}

static gssize
backup_server_stream_input_read (GInputStream *stream,
                                 void *buffer,
                                 gsize count,
                                 GCancellable *cancellable,
                                 GError **error)
{
  BackupServerStreamInput *self = BACKUP_SERVER_STREAM_INPUT (stream);
  gsize n;
  gssize got;

  if (self->detached)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The connection was taken back from this stream");
      return -1;
    }
  if ((n = input_take_pending (self, buffer, count)) > 0)
    got = (gssize) n;
  else
    got = g_input_stream_read (self->base, buffer, count, cancellable, error);
  if (got > 0)
    self->received += (guint64) got;
  return got;
}

static gboolean
backup_server_stream_input_close (GInputStream *stream,
                                  GCancellable *cancellable,
                                  GError **error)
{
  /* The connection outlives this view of it. */
  return TRUE;
}

static gboolean
backup_server_stream_input_is_readable (GPollableInputStream *stream)
{
  BackupServerStreamInput *self = BACKUP_SERVER_STREAM_INPUT (stream);

  if (self->detached)
    return FALSE;
  if (input_pending_size (self) > 0)
    return TRUE;
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
backup_server_stream_input_create_source (GPollableInputStream *stream,
                                          GCancellable *cancellable)
{
  BackupServerStreamInput *self = BACKUP_SERVER_STREAM_INPUT (stream);
  g_autoptr (GSource) child = NULL;

  if (self->detached)
    child = NULL; /* never ready */
  else if (input_pending_size (self) > 0)
    child = g_timeout_source_new (0);
  else
    child = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base),
                                                   NULL);

  return g_pollable_source_new_full (self, child, cancellable);
}

static gssize
backup_server_stream_input_read_nonblocking (GPollableInputStream *stream,
                                             void *buffer,
                                             gsize count,
                                             GError **error)
{
  BackupServerStreamInput *self = BACKUP_SERVER_STREAM_INPUT (stream);
  gsize n;
  gssize got;

  if (self->detached)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "The connection was taken back from this stream");
      return -1;
    }
  if ((n = input_take_pending (self, buffer, count)) > 0)
    got = (gssize) n;
  else
    got = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base), buffer,
                                                    count, NULL, error);
  if (got > 0)
    self->received += (guint64) got;
  return got;
}

static void
backup_server_stream_input_finalize (GObject *object)
{
  BackupServerStreamInput *self = BACKUP_SERVER_STREAM_INPUT (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->pending, g_bytes_unref);

  G_OBJECT_CLASS (backup_server_stream_input_parent_class)->finalize (object);
}

static void
backup_server_stream_input_class_init (BackupServerStreamInputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = backup_server_stream_input_finalize;
  input_class->read_fn = backup_server_stream_input_read;
  input_class->close_fn = backup_server_stream_input_close;
}

static void
backup_server_stream_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->is_readable = backup_server_stream_input_is_readable;
  iface->create_source = backup_server_stream_input_create_source;
  iface->read_nonblocking = backup_server_stream_input_read_nonblocking;
}

static void
backup_server_stream_input_init (BackupServerStreamInput *self)
{
}

/* The stream */

struct _BackupServerStream
{
  GIOStream parent_instance;

  GIOStream *base;
  BackupServerStreamInput *input;
  BackupServerStreamClosed closed;
  gpointer user_data;
  GDestroyNotify destroy;
  gboolean detached;
};

G_DEFINE_FINAL_TYPE (BackupServerStream, backup_server_stream, G_TYPE_IO_STREAM)

BackupServerStream *
backup_server_stream_new (GIOStream *base,
                          GBytes *pending,
                          BackupServerStreamClosed closed,
                          gpointer user_data,
                          GDestroyNotify destroy)
{
  BackupServerStream *self;
  GInputStream *base_input;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);

  base_input = g_io_stream_get_input_stream (base);
  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (base_input), NULL);

  self = g_object_new (BACKUP_TYPE_SERVER_STREAM, NULL);
  self->base = g_object_ref (base);
  self->input = g_object_new (BACKUP_TYPE_SERVER_STREAM_INPUT, NULL);
  self->input->base = g_object_ref (base_input);
  if (pending != NULL && g_bytes_get_size (pending) > 0)
    self->input->pending = g_bytes_ref (pending);
  self->closed = closed;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

GBytes *
backup_server_stream_detach (BackupServerStream *self,
                             GInputStream *reader)
{
  g_autoptr (GByteArray) held = g_byte_array_new ();

  g_return_val_if_fail (BACKUP_IS_SERVER_STREAM (self), NULL);
  g_return_val_if_fail (!self->detached, NULL);

  self->detached = TRUE;
  self->input->detached = TRUE;

  /* Whatever @reader still returns now comes from its buffer, since this
   * stream, underneath, would block. */
  if (reader != NULL && G_IS_POLLABLE_INPUT_STREAM (reader) &&
      reader != G_INPUT_STREAM (self->input))
    {
      guint8 buffer[4096];

      for (;;)
        {
          gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (reader),
                                                               buffer, sizeof buffer, NULL,
                                                               NULL);

          if (n <= 0)
            break;
          g_byte_array_append (held, buffer, (guint) n);
        }
    }

  if (input_pending_size (self->input) > 0)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (self->input->pending, &size);

      g_byte_array_append (held, data + self->input->offset, (guint) (size - self->input->offset));
    }
  g_clear_pointer (&self->input->pending, g_bytes_unref);

  return g_byte_array_free_to_bytes (g_steal_pointer (&held));
}

guint64
backup_server_stream_get_received (BackupServerStream *self)
{
  g_return_val_if_fail (BACKUP_IS_SERVER_STREAM (self), 0);

  return self->input->received;
}

static GInputStream *
backup_server_stream_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (BACKUP_SERVER_STREAM (stream)->input);
}

static GOutputStream *
backup_server_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (BACKUP_SERVER_STREAM (stream)->base);
}

static gboolean
backup_server_stream_close (GIOStream *stream,
                            GCancellable *cancellable,
                            GError **error)
{
  BackupServerStream *self = BACKUP_SERVER_STREAM (stream);
  BackupServerStreamClosed closed = self->closed;

  self->closed = NULL;
  if (!self->detached && closed != NULL)
    closed (self->user_data);
  return TRUE;
}

/* Closing is immediate: no worker thread. */
static void
backup_server_stream_close_async (GIOStream *stream,
                                  int io_priority,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (stream, cancellable, callback, user_data);

  g_task_set_source_tag (task, backup_server_stream_close_async);
  backup_server_stream_close (stream, cancellable, NULL);
  g_task_return_boolean (task, TRUE);
}

static gboolean
backup_server_stream_close_finish (GIOStream *stream,
                                   GAsyncResult *result,
                                   GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
backup_server_stream_finalize (GObject *object)
{
  BackupServerStream *self = BACKUP_SERVER_STREAM (object);

  /* GIOStream closes an open stream when it is disposed, so the callback
   * has run by now unless the stream was detached. */
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_object (&self->input);
  g_clear_object (&self->base);

  G_OBJECT_CLASS (backup_server_stream_parent_class)->finalize (object);
}

static void
backup_server_stream_class_init (BackupServerStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = backup_server_stream_finalize;
  stream_class->get_input_stream = backup_server_stream_get_input_stream;
  stream_class->get_output_stream = backup_server_stream_get_output_stream;
  stream_class->close_fn = backup_server_stream_close;
  stream_class->close_async = backup_server_stream_close_async;
  stream_class->close_finish = backup_server_stream_close_finish;
}

static void
backup_server_stream_init (BackupServerStream *self)
{
}
