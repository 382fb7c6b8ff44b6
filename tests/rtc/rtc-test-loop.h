/* rtc-test-loop.h: iterating the default main context in tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Iterates the default context until @done returns TRUE; fails the test
 * after @limit_ms. */
void rtc_test_wait_until (gboolean (*done) (gpointer), gpointer data, guint limit_ms);

/* Iterates the default context for @ms milliseconds. */
void rtc_test_spin (guint ms);

G_END_DECLS
