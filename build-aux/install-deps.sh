#!/usr/bin/env bash
# Installs every Debian 12 package needed to build Distributed Backup and run its
# tests and benchmarks. Idempotent and non-interactive; run as root (or via sudo).
#
#   build-aux/install-deps.sh            build + test dependencies
#   build-aux/install-deps.sh --bench    also the peers the benchmarks compare with
set -euo pipefail

build_pkgs=(
  meson ninja-build pkg-config gcc clang gettext
  libglib2.0-dev libglib2.0-bin
  libgtk-4-dev libgtk-4-bin libadwaita-1-dev
  libnice-dev libusrsctp-dev libgnutls28-dev
  libsoup-3.0-dev libjson-glib-dev libarchive-dev libsecret-1-dev
  libavahi-client-dev libavahi-glib-dev nettle-dev zlib1g-dev libcurl4-gnutls-dev
  appstream desktop-file-utils systemd
)
test_pkgs=(
  7zip libarchive-tools unzip zip openssl
  coturn python3-aiortc python3-gi
  iproute2 iptables procps psmisc util-linux strace
  xvfb xauth xdotool dbus dbus-x11 python3-dogtail at-spi2-core gsettings-desktop-schemas
  gnome-keyring avahi-daemon avahi-utils
  ceph-mon ceph-osd radosgw
  libclang-rt-14-dev libfuzzer-14-dev
  golang-go golang-github-pion-webrtc.v3-dev curl time flatpak-builder man-db
)
bench_pkgs=(hyperfine linux-perf valgrind)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [ "${1:-}" = "--bench" ]; then
  want+=("${bench_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages already installed"
  exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# coturn's package starts a system service on some setups; tests start their own.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
fi
