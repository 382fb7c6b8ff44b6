#!/usr/bin/env bash
# check-manifest.sh MANIFEST SOURCE_ROOT: the Flatpak manifest, checked as far
# as can be without a runtime (none can be downloaded here):
# - flatpak-builder parses it without a remark, and it names the application;
# - a supported GNOME runtime (50 or newer);
# - every source pinned: git by commit, archives and files by sha256; no
#   "dir" source;
# - the narrowest permissions: no file system, no bus names (file choosers,
#   drops, notifications and secrets go through portals);
# - the application's build options install nothing the Flatpak does not use:
#   meson, configured with them, lists no server and no systemd unit among
#   the installed files, and the desktop program among them.
set -eu
manifest=${1:?usage: check-manifest.sh MANIFEST SOURCE_ROOT}
source_root=${2:?usage: check-manifest.sh MANIFEST SOURCE_ROOT}
work=$(mktemp -d "${TMPDIR:-/tmp}/manifest.XXXXXX")
trap 'rm -rf "$work"' EXIT

out=$(flatpak-builder --show-manifest "$manifest" 2>"$work/err")
if [ -s "$work/err" ]; then echo "FAIL: flatpak-builder: $(cat "$work/err")" >&2; exit 1; fi
echo "$out" | grep -q '"id" : "io.github.DistributedBackup"' || { echo "FAIL: wrong id" >&2; exit 1; }

# The options the application is built with, one per line.
/usr/bin/python3 - "$manifest" > "$work/options" <<'PY'
import json, re, sys

manifest = json.load(open(sys.argv[1]))
problems = []
if manifest.get("command") != "distributed-backup":
    problems.append("the command is not distributed-backup")
version = manifest.get("runtime-version", "")
if manifest.get("runtime") != "org.gnome.Platform" or not version.isdigit() or int(version) < 50:
    problems.append(f"runtime {manifest.get('runtime')} {version}: use GNOME 50 or newer")
# Local-network discovery has no portal: the Avahi daemon's name, and only
# it, may be talked to on the system bus.
ALLOWED = {"--system-talk-name=org.freedesktop.Avahi"}
for arg in manifest.get("finish-args", []):
    if arg in ALLOWED:
        continue
    if arg.startswith(("--filesystem", "--talk-name", "--own-name", "--system-talk-name",
                       "--socket=session-bus", "--socket=system-bus", "--device=all")):
        problems.append(f"permission {arg}: go through a portal instead")
app = None
for module in manifest.get("modules", []):
    if isinstance(module, str):
        problems.append(f"module {module}: inline every module")
        continue
    if module.get("name") == "distributed-backup":
        app = module
    for source in module.get("sources", []):
        kind = source.get("type")
        if kind == "git":
            if not re.fullmatch(r"[0-9a-f]{40}", source.get("commit", "")):
                problems.append(f"{module['name']}: a git source without its commit")
        elif kind in ("archive", "file"):
            if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
                problems.append(f"{module['name']}: an {kind} source without its sha256")
        else:
            problems.append(f"{module['name']}: a source of type {kind}")
if app is None:
    problems.append("no distributed-backup module")
else:
    options = app.get("config-opts", [])
    for wanted in ("-Dtests=false", "-Dinstall_server=false", "-Dinstall_systemd_units=false"):
        if wanted not in options:
            problems.append(f"the application is not built with {wanted}")
    print("\n".join(options))
for problem in problems:
    print(f"FAIL: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# What a build with those options installs.
mapfile -t options < "$work/options"
meson setup "$work/build" "$source_root" "${options[@]}" --prefix=/app >"$work/setup.log" 2>&1 \
  || { cat "$work/setup.log" >&2; echo "FAIL: meson setup with the manifest's options" >&2; exit 1; }
meson introspect --installed "$work/build" > "$work/installed.json"
/usr/bin/python3 - "$work/installed.json" <<'PY'
import json, sys

installed = sorted(json.load(open(sys.argv[1])).values())
problems = [path for path in installed
            if path.endswith(("/distributed-backup-server", ".service", ".timer"))]
for path in problems:
    print(f"FAIL: installed but not used in the Flatpak: {path}", file=sys.stderr)
if "/app/bin/distributed-backup" not in installed:
    print("FAIL: /app/bin/distributed-backup is not installed", file=sys.stderr)
    problems.append("program")
sys.exit(1 if problems else 0)
PY
echo "PASS: $(basename "$manifest")"
