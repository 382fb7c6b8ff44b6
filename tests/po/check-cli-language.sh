#!/bin/sh
# check-cli-language.sh EXECUTABLE LANG MESSAGE: with LANGUAGE=LANG the
# command line prints MESSAGE (its translation of a usage error), and in
# English without it; so the catalogue is compiled, found and used.
set -u
exe=${1:?usage: check-cli-language.sh EXECUTABLE LANG MESSAGE}
lang=${2:?}
message=${3:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-cli-language-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# LANGUAGE is ignored under the "C" locale, not under C.UTF-8.
LC_ALL=C.UTF-8 LANGUAGE=C "$exe" -e nothing >"$tmp/out" 2>"$tmp/en"
status=$?
[ $status = 2 ] || { echo "FAIL: exit status $status, not 2"; cat "$tmp/en"; exit 1; }
grep -q 'unexpected argument “nothing”' "$tmp/en" \
  || { echo "FAIL: the English message changed:"; cat "$tmp/en"; exit 1; }

LC_ALL=C.UTF-8 LANGUAGE=$lang "$exe" -e nothing >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/err"
[ $status = 2 ] || { echo "FAIL: exit status $status, not 2"; exit 1; }
grep -qF "$message" "$tmp/err" || { echo "FAIL: not in $lang: $message"; exit 1; }
echo "$lang: translated"
