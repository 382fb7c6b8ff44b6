/* fuzz-common.h: the libFuzzer entry point every target defines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#ifndef FUZZ_REPLAY
/* In the target's own file only (fuzz-replay.c, linked beside it in the
 * replay tests, defines FUZZ_REPLAY): a log writer can be set once.
 *
 * A warning or a critical (a g_return_if_fail() that failed) is a finding:
 * abort() at once, which libFuzzer catches and saves the input for, where
 * G_DEBUG=fatal-warnings would stop with a SIGTRAP it does not catch. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput result = g_log_writer_standard_streams (level, fields, n_fields, data);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
  return result;
}

__attribute__ ((constructor)) static void
fuzz_fatal_logs (void)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}
#endif
