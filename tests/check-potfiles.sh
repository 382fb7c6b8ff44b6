#!/bin/sh
# check-potfiles.sh SOURCE_ROOT: every source file with a translatable string
# (_(" or N_(" in C, translatable="yes" in a .ui file) is listed in
# po/POTFILES.in, and every file listed there exists.
set -u
root=${1:?usage: check-potfiles.sh SOURCE_ROOT}
cd "$root" || exit 1
status=0
for f in $(find src -name '*.c' -o -name '*.ui' | sort); do
  if grep -q -e '_("' -e 'N_("' -e 'translatable="yes"' "$f"; then
    if ! grep -qx "$f" po/POTFILES.in; then
      echo "not in po/POTFILES.in: $f"
      status=1
    fi
  fi
done
for f in $(grep -v '^#' po/POTFILES.in | grep -v '^$'); do
  if [ ! -e "$f" ]; then
    echo "listed in po/POTFILES.in but missing: $f"
    status=1
  fi
done
[ $status = 0 ] && echo "po/POTFILES.in lists every file with translatable strings"
exit $status
