/* backup-server-stream.h: a client connection, lent to SoupServer for one request
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * BackupServer hands every request of a connection to SoupServer as a new
 * connection (soup_server_accept_iostream()), so that SoupServer never keeps
 * a connection waiting for a next request (libsoup 3.2 does not notice when
 * a client closes such a connection: it would stay open for good). A
 * BackupServerStream is what SoupServer gets: it reads the bytes of the
 * connection already received (@pending), then the connection itself, and
 * writes to the connection.
 *
 * When SoupServer closes it, the stream calls @closed instead of closing
 * the connection itself. When the server takes the connection back after an
 * answer (soup_server_message_steal_connection()),
 * backup_server_stream_detach() collects the bytes of the next requests that
 * SoupServer had already read, and the stream gives up the connection.
 *
 * A stream lives on the thread-default main context of the thread that
 * created it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_SERVER_STREAM (backup_server_stream_get_type ())
G_DECLARE_FINAL_TYPE (BackupServerStream, backup_server_stream, BACKUP, SERVER_STREAM, GIOStream)

/* Called once, when the stream is closed (or finalized) before being
 * detached. */
typedef void (*BackupServerStreamClosed) (gpointer user_data);

/* @base must have pollable input and output streams (a GSocketConnection or
 * a GTlsConnection). */
BackupServerStream *backup_server_stream_new (GIOStream *base,
                                              GBytes *pending,
                                              BackupServerStreamClosed closed,
                                              gpointer user_data,
                                              GDestroyNotify destroy);

/* Gives up the connection: afterwards reads would block and closing does
 * nothing. Returns the bytes received from the connection that nobody has
 * consumed yet: those that @reader (a pollable stream reading from this
 * stream, or NULL) buffered, then those this stream still held. */
GBytes *backup_server_stream_detach (BackupServerStream *self,
                                     GInputStream *reader);

/* Bytes read through the stream so far (the pending ones included). */
guint64 backup_server_stream_get_received (BackupServerStream *self);

G_END_DECLS
