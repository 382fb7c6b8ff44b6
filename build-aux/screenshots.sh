#!/usr/bin/env bash
# Renders every page and state of the desktop application into
# data/screenshots/, with GTK's own renderer (no screen grab), on a
# private X server and session bus:
#
#   build-aux/screenshots.sh [BUILD_DIR]      (default: _build/polish)
#
# SCREENSHOT_DIR=FOLDER renders into FOLDER instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/_build/polish}
out=${SCREENSHOT_DIR:-$root/data/screenshots}
test_bin=$build/tests/gui/test-gui-window
history_bin=$build/tests/gui/test-gui-history
schedules_bin=$build/tests/gui/test-gui-schedules
pair_bin=$build/tests/gui/test-gui-pair
if [ ! -x "$test_bin" ] || [ ! -x "$history_bin" ] || [ ! -x "$schedules_bin" ] \
  || [ ! -x "$pair_bin" ]; then
  echo "screenshots: build $build first (ninja -C $build)" >&2
  exit 1
fi
mkdir -p "$out"
export GSETTINGS_SCHEMA_DIR=$build/data GSETTINGS_BACKEND=memory GDK_DEBUG=gl-disable
export SCREENSHOT_DIR=$out LC_ALL=C.UTF-8
xvfb-run -a -s '-screen 0 1024x768x24' dbus-run-session -- "$test_bin" \
  -p /gui/window/render -p /gui/window/render-narrow -p /gui/window/render-states \
  -p /gui/window/drop -p /gui/window/shortcuts -p /gui/window/escape-asks \
  -p /gui/preferences/signaling-check 2>/dev/null | grep -E '^(ok|not ok)'
# The Backups page: empty, a folder with versions and sent backups, a
# restore that ended (window-, narrow-history-*.png).
xvfb-run -a -s '-screen 0 1024x768x24' dbus-run-session -- "$history_bin" \
  -p /gui/history/render -p /gui/history/render-narrow 2>/dev/null | grep -E '^(ok|not ok)'
# The Schedules page with two schedules (schedules.png), its dialog
# (schedule-dialog.png). The first run's screenshots (first-run-*.png) come
# from tests/gui/test-gui-first-run.py, through AT-SPI on a real screen.
xvfb-run -a -s '-screen 0 1024x768x24' dbus-run-session -- "$schedules_bin" \
  -p /gui/schedules/render 2>/dev/null | grep -E '^(ok|not ok)'
# The Devices page with two paired devices (devices.png), its device key and
# devices in a temporary configuration folder. The window "Pair With a
# Device Nearby" (nearby-*.png) is rendered by tests/e2e/test-nearby-pair.sh
# with NEARBY_SCREENSHOT_DIR, on its network namespaces.
config=$(mktemp -d)
XDG_CONFIG_HOME=$config xvfb-run -a -s '-screen 0 1024x768x24' dbus-run-session \
  --config-file="$build/tests/gui/session-bus.conf" -- "$pair_bin" \
  -p /gui/pair/devices-page 2>/dev/null | grep -E '^(ok|not ok)'
rm -rf "$config"
ls "$out"
