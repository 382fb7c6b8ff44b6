#!/usr/bin/env bash
# check-man-pages.sh PROGRAM MANPAGE: the manual page of PROGRAM documents
# every option its --help lists, and no option it does not have; and man
# renders it without a warning.
set -eu
program=${1:?usage: check-man-pages.sh PROGRAM MANPAGE}
page=${2:?usage: check-man-pages.sh PROGRAM MANPAGE}

# Long options of --help: "--name" at the start of an option line.
help_options=$("$program" --help | sed -n 's/^ *\(-[^-], \)\{0,1\}\(--[a-z0-9-]*\).*/\2/p' | sort -u)
# Long options of the page's option tags (".TP" then a line naming them);
# roff writes "\-" for "-".
page_options=$(awk 'prev == ".TP" { print } { prev = $1 }' "$page" | sed 's/\\-/-/g' \
  | grep -o -- '--[a-z0-9-]*' | sort -u)

missing=$(comm -23 <(echo "$help_options") <(echo "$page_options"))
extra=$(comm -13 <(echo "$help_options") <(echo "$page_options"))
status=0
if [ -n "$missing" ]; then
  echo "FAIL: $(basename "$page") does not document:" $missing >&2
  status=1
fi
if [ -n "$extra" ]; then
  echo "FAIL: $(basename "$page") documents options --help does not list:" $extra >&2
  status=1
fi
if command -v man >/dev/null 2>&1; then
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  if [ -n "$warnings" ]; then
    echo "FAIL: man: $warnings" >&2
    status=1
  fi
fi
[ $status = 0 ] && echo "PASS: $(basename "$page"): $(echo "$help_options" | wc -l) options"
exit $status
