/* rtc-error.h: the error domain of the WebRTC data-channel stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RTC_ERROR (rtc_error_quark ())

typedef enum
{
  RTC_ERROR_FAILED,
  RTC_ERROR_INVALID_SDP,          /* a session description we refuse to guess about */
  RTC_ERROR_INVALID_CANDIDATE,    /* a candidate line that cannot be used */
  RTC_ERROR_INVALID_STATE,        /* an operation not allowed in the current state */
  RTC_ERROR_ICE_FAILED,           /* no candidate pair could be connected */
  RTC_ERROR_DTLS_FAILED,          /* handshake or record-layer failure */
  RTC_ERROR_FINGERPRINT_MISMATCH, /* peer certificate does not match a=fingerprint */
  RTC_ERROR_SCTP_FAILED,          /* association could not be set up or was aborted */
  RTC_ERROR_PROTOCOL,             /* malformed DCEP or SCTP data from the peer */
  RTC_ERROR_MESSAGE_TOO_LARGE,    /* larger than the peer's max-message-size */
  RTC_ERROR_TIMEOUT,              /* connection set-up or liveness timeout */
  RTC_ERROR_CLOSED,               /* the channel or connection is closed */
} RtcError;

GQuark rtc_error_quark (void);

G_END_DECLS
