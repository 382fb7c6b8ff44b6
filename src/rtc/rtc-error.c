/* rtc-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "rtc-error.h"

G_DEFINE_QUARK (rtc-error-quark, rtc_error)
