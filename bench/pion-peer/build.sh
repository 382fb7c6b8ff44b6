#!/bin/sh
# build.sh OUTPUT: build pion-peer offline against Debian's Go sources
# (golang-github-pion-webrtc.v3-dev) in /usr/share/gocode.
#
# Debian installs module trees such as github.com/pion/webrtc/v3 without their
# major-version suffix, so a private GOPATH maps each suffixed module path to
# its directory before a GOPATH-mode build.
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
work=$(mktemp -d "${TMPDIR:-/tmp}/pion-peer-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src/pion-peer"
find "$gocode/src" -name go.mod | while read -r mod; do
  dir=${mod%/go.mod}
  rel=${dir#"$gocode/src/"}
  path=$(sed -n 's/^module[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}.*/\1/p' "$mod" | head -n 1)
  if [ -n "$path" ] && [ "$path" != "$rel" ] && [ ! -e "$gocode/src/$path" ]; then
    mkdir -p "$work/src/$(dirname "$path")"
    ln -s "$dir" "$work/src/$path"
  fi
done
cp "$here/main.go" "$work/src/pion-peer/"

cd "$work/src/pion-peer"
GOPATH="$work:$gocode" GO111MODULE=off GOFLAGS= GOPROXY=off \
  GOCACHE=${GOCACHE:-$work/cache} CGO_ENABLED=0 \
  go build -o "$work/pion-peer" .
mv "$work/pion-peer" "$out"
