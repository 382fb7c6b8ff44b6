#!/bin/sh
# go-offline-build.sh MAIN_GO OUTPUT: builds one Go program offline against
# Debian's Go sources in /usr/share/gocode (golang-go and the -dev packages
# it imports, such as golang-github-pion-webrtc.v3-dev).
#
# Debian installs module trees such as github.com/pion/webrtc/v3 without their
# major-version suffix, so a private GOPATH maps each suffixed module path to
# its directory, and the program is built in GOPATH mode with no network.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

main=${1:?usage: go-offline-build.sh MAIN_GO OUTPUT}
out=${2:?usage: go-offline-build.sh MAIN_GO OUTPUT}
case $out in
  /*) ;;
  *) out=$(pwd)/$out ;;
esac
name=$(basename "$out")
gocode=${GOCODE:-/usr/share/gocode}
work=$(mktemp -d "${TMPDIR:-/tmp}/go-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src/$name"
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
cp "$main" "$work/src/$name/main.go"

cd "$work/src/$name"
GOPATH="$work:$gocode" GO111MODULE=off GOFLAGS= GOPROXY=off \
  GOCACHE=${GOCACHE:-$work/cache} CGO_ENABLED=0 \
  go build -o "$work/$name.out" .
mv "$work/$name.out" "$out"
