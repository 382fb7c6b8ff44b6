/* backup-background.h: running without a window, through the Background portal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Asks org.freedesktop.portal.Background (xdg-desktop-portal, on the session
 * bus) whether the application may go on running with its windows closed,
 * and whether it starts at login, and tells the desktop what it does
 * meanwhile (SetStatus, from version 2 of the portal). The portal serves
 * applications inside a Flatpak sandbox and on the host alike.
 *
 * Every call fails with G_IO_ERROR_NOT_FOUND when no portal is on the bus,
 * and SetStatus with G_IO_ERROR_NOT_SUPPORTED when the portal is older than
 * version 2 (xdg-desktop-portal 1.16 has version 1): the caller then shows
 * the state another way.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BACKUP_TYPE_BACKGROUND (backup_background_get_type ())
G_DECLARE_FINAL_TYPE (BackupBackground, backup_background, BACKUP, BACKGROUND, GObject)

/* The portal on @bus (the application's session bus connection). */
BackupBackground *backup_background_new (GDBusConnection *bus);

/* RequestBackground: @reason is shown to the user when the portal asks
 * them; with @autostart, the portal starts @commandline (a NULL-terminated
 * argv; NULL: the application's own command) at login, and without it the
 * start at login is removed. @dbus_activatable tells the portal to start
 * the application through D-Bus rather than @commandline. The request is
 * withdrawn (Request.Close) when @cancellable is cancelled. */
void backup_background_request_async (BackupBackground *self,
                                      const char *parent_window,
                                      const char *reason,
                                      gboolean autostart,
                                      const char *const *commandline,
                                      gboolean dbus_activatable,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
/* Whether running in the background was granted (FALSE without @error:
 * the user or the desktop refused it); @autostart: whether the portal
 * will start the application at login. */
gboolean backup_background_request_finish (BackupBackground *self,
                                           GAsyncResult *result,
                                           gboolean *autostart,
                                           GError **error);

/* SetStatus: @message (at most 96 characters) says what the application
 * does while in the background, in the desktop's list of background
 * applications. */
void backup_background_set_status_async (BackupBackground *self,
                                         const char *message,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean backup_background_set_status_finish (BackupBackground *self,
                                              GAsyncResult *result,
                                              GError **error);

G_END_DECLS
