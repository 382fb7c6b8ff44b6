#!/bin/sh
# build.sh OUTPUT: builds legacy-tool offline against Debian's Go sources.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../../build-aux/go-offline-build.sh" "$here/legacy-tool/main.go" \
  "${1:?usage: build.sh OUTPUT}"
