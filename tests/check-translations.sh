#!/bin/sh
# check-translations.sh SOURCE_ROOT [LANG…]: every catalogue of po/LINGUAS
# (or each LANG given) is complete and well formed against a template made
# afresh from po/POTFILES.in. Nothing under SOURCE_ROOT is written: the
# template and the merged catalogues go to a temporary folder.
#
# Fails when po/POTFILES.in misses a file with translatable strings
# (check-potfiles.sh), when xgettext, msgmerge or msgfmt --check
# --check-format report an error, or when a merged catalogue keeps an
# untranslated or fuzzy message (a string added or changed in the sources
# and not yet translated).
set -u
root=${1:?usage: check-translations.sh SOURCE_ROOT [LANG…]}
shift
here=$(cd "$(dirname "$0")" && pwd)
domain=distributed-backup

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-translations-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
fail() {
  echo "FAIL: $*"
  status=1
}

"$here/check-potfiles.sh" "$root" || status=1

# The options of meson's i18n.gettext (preset: 'glib'), which makes the
# template that translators get ("ninja distributed-backup-pot").
if ! (cd "$root" && xgettext --package-name="$domain" --files-from=po/POTFILES.in \
        --directory="$root" --output="$tmp/$domain.pot" \
        --from-code=UTF-8 --add-comments \
        --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
        --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
        --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
        --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
        --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
        --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
        --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format \
        --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
        --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format \
        2>"$tmp/xgettext.log"); then
  cat "$tmp/xgettext.log"
  fail "xgettext could not make the template"
  exit 1
fi
# A warning of xgettext (a string it cannot read as the source means it,
# a format it cannot check) counts as an error.
if [ -s "$tmp/xgettext.log" ]; then
  cat "$tmp/xgettext.log"
  fail "xgettext warned"
fi
total=$(msgattrib --no-obsolete "$tmp/$domain.pot" | grep -c '^msgid ')
total=$((total - 1)) # the header
echo "template: $total messages"
[ "$total" -gt 0 ] || fail "the template is empty"

linguas=$(sed -e 's/#.*//' "$root/po/LINGUAS" | tr -s ' \t' '\n\n' | grep -v '^$')
[ -n "$linguas" ] || fail "po/LINGUAS lists no language"
for po in "$root"/po/*.po; do
  [ -e "$po" ] || continue
  lang=$(basename "$po" .po)
  echo "$linguas" | grep -qx "$lang" || fail "po/$lang.po is not listed in po/LINGUAS"
done
[ $# -gt 0 ] && linguas=$*

for lang in $linguas; do
  po="$root/po/$lang.po"
  if [ ! -e "$po" ]; then
    fail "po/LINGUAS lists $lang, but po/$lang.po is missing"
    continue
  fi
  # The committed file itself: its header, formats and plural forms.
  if ! msgfmt --check --check-format -o /dev/null "$po" 2>"$tmp/$lang.committed.log"; then
    cat "$tmp/$lang.committed.log"
    fail "po/$lang.po: msgfmt --check"
  fi
  if ! msgmerge --quiet --previous -o "$tmp/$lang.po" "$po" "$tmp/$domain.pot" 2>"$tmp/$lang.merge.log"; then
    cat "$tmp/$lang.merge.log"
    fail "po/$lang.po: msgmerge"
    continue
  fi
  if ! msgfmt --check --check-format --statistics -o /dev/null "$tmp/$lang.po" \
      2>"$tmp/$lang.log"; then
    cat "$tmp/$lang.log"
    fail "po/$lang.po: msgfmt --check against the template"
    continue
  fi
  stats=$(cat "$tmp/$lang.log")
  echo "$lang: $stats"
  # Anything msgfmt said besides its count is a warning.
  if [ "$(wc -l <"$tmp/$lang.log")" -ne 1 ]; then
    fail "po/$lang.po: msgfmt warned"
  fi
  case "$stats" in
    *fuzzy* | *untranslated*)
      fail "po/$lang.po is incomplete:"
      msgattrib --only-fuzzy --no-obsolete "$tmp/$lang.po" | grep -A1 '^msgid ' | head -40
      msgattrib --untranslated --no-obsolete "$tmp/$lang.po" | grep -A1 '^msgid ' | head -40
      ;;
  esac
  translated=$(msgattrib --translated --no-fuzzy --no-obsolete "$tmp/$lang.po" | grep -c '^msgid ')
  translated=$((translated - 1))
  [ "$translated" -eq "$total" ] \
    || fail "po/$lang.po: $translated of $total messages translated"
  # Obsolete entries (#~) stay out of the committed catalogue.
  if grep -q '^#~' "$po"; then
    fail "po/$lang.po keeps obsolete messages (#~): merge it again"
  fi
done

[ $status = 0 ] && echo "every catalogue is complete and well formed"
exit $status
