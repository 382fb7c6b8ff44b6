/* signaling-test-util.h: blocking wrappers over BackupSignalingStore for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "signaling/backup-signaling-store.h"

G_BEGIN_DECLS

char *test_store_upload (BackupSignalingStore *store, const char *name, const char *text, GError **error);
GPtrArray *test_store_list (BackupSignalingStore *store, const char *pattern, GError **error);
GBytes *test_store_download (BackupSignalingStore *store, const char *key, GError **error);
gboolean test_store_delete (BackupSignalingStore *store, const char *key, GError **error);
GAsyncResult *test_wait_result (GAsyncResult **slot);
void test_store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data);
char *test_make_temp_dir (void);
void test_remove_tree (const char *path);
guint test_count_dir_entries (const char *path, gboolean include_hidden);
void test_wait_last_ref (gpointer object);

G_END_DECLS
