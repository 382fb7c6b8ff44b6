#!/bin/sh
# with-keyring.sh COMMAND [ARG…]: runs COMMAND with a gnome-keyring-daemon of
# its own, unlocked, serving org.freedesktop.secrets on the session bus. Run
# it inside dbus-run-session: the daemon, its keyrings and the home folder
# of COMMAND live in a temporary folder, so the user's keyring is never
# touched (even a daemon that the bus would start on demand gets that home).
set -eu
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no session bus: run it inside dbus-run-session" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/keyring.XXXXXX")
daemon=
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$work" "$XDG_RUNTIME_DIR"

bus_call() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method "org.freedesktop.DBus.$1" "$2"
}
bus_call UpdateActivationEnvironment "{'HOME': '$HOME', 'XDG_DATA_HOME': '$XDG_DATA_HOME', \
'XDG_CONFIG_HOME': '$XDG_CONFIG_HOME', 'XDG_CACHE_HOME': '$XDG_CACHE_HOME', \
'XDG_RUNTIME_DIR': '$XDG_RUNTIME_DIR'}" >/dev/null

# The login keyring's password goes on standard input (printf is a builtin:
# it is in no process's arguments). The test's G_DEBUG=fatal-warnings and
# MALLOC_PERTURB_ are for the code under test, not for the daemon.
printf '%s' "with-keyring-password" \
  | env -u G_DEBUG -u MALLOC_PERTURB_ \
      gnome-keyring-daemon --foreground --components=secrets --unlock \
      >"$work/daemon.out" 2>"$work/daemon.err" &
daemon=$!
tries=0
until bus_call NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true; do
  tries=$((tries + 1))
  if [ $tries -ge 200 ] || ! kill -0 "$daemon" 2>/dev/null; then
    echo "with-keyring.sh: gnome-keyring-daemon did not come up:" >&2
    cat "$work/daemon.err" >&2
    exit 1
  fi
  sleep 0.05
done

status=0
"$@" || status=$?
exit $status
