#!/usr/bin/env bash
# The Flatpak manifest parses, names the application, and flatpak-builder has
# nothing to warn about. (No runtime can be installed offline, so this is
# what can be checked without building.)
set -eu
manifest=${1:?manifest}
out=$(flatpak-builder --show-manifest "$manifest" 2>"${TMPDIR:-/tmp}/manifest.$$.err")
err=$(cat "${TMPDIR:-/tmp}/manifest.$$.err"); rm -f "${TMPDIR:-/tmp}/manifest.$$.err"
if [ -n "$err" ]; then echo "flatpak-builder: $err" >&2; exit 1; fi
echo "$out" | grep -q '"id" : "io.github.DistributedBackup"' || { echo "wrong id" >&2; exit 1; }
echo "$out" | grep -q '"command" : "distributed-backup"' || { echo "wrong command" >&2; exit 1; }
for module in usrsctp libnice distributed-backup; do
  echo "$out" | grep -q "\"name\" : \"$module\"" || { echo "module $module missing" >&2; exit 1; }
done
