#!/bin/sh
# build.sh OUTPUT: build legacy-tool offline against Debian's Go sources
# (golang-go, golang-github-pion-webrtc.v3-dev) in /usr/share/gocode.
#
# Debian installs module trees such as github.com/pion/webrtc/v3 without their
# major-version suffix, so a private GOPATH maps each suffixed module path to
# its directory, and the program is built in GOPATH mode with no network.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

out=${1:?usage: build.sh OUTPUT}
case $out in
  /*) ;;
  *) out=$(pwd)/$out ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
gocode=${GOCODE:-/usr/share/gocode}
work=$(mktemp -d "${TMPDIR:-/tmp}/legacy-tool-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src/legacy-tool"
find "$gocode/src" -name go.mod | while read -r mod; do
  dir=${mod%/go.mod}
  rel=${dir#"$gocode/src/"}
  path=$(sed -n 's/^module[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' "$mod" | head -n 1)
  if [ -n "$path" ] && [ "$path" != "$rel" ] && [ ! -e "$gocode/src/$path" ] \
     && [ ! -e "$work/src/$path" ]; then
    mkdir -p "$work/src/$(dirname "$path")"
    ln -s "$dir" "$work/src/$path"
  fi
done
cp "$here/legacy-tool/main.go" "$work/src/legacy-tool/"

cd "$work/src/legacy-tool"
GOPATH="$work:$gocode" GO111MODULE=off GOFLAGS= GOPROXY=off \
  GOCACHE=${GOCACHE:-$work/cache} CGO_ENABLED=0 \
  go build -o "$work/legacy-tool" .
mv "$work/legacy-tool" "$out"
