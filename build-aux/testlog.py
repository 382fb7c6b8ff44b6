#!/usr/bin/python3
# testlog.py: reads meson's testlog.json for build-aux/run-tests.sh.
#
#   testlog.py failed LOG        names of the tests that failed (not OK, not SKIP)
#   testlog.py skipped LOG       names of the skipped tests
#   testlog.py count LOG         "PASSED FAILED": OK results, and all others
#   testlog.py report LOG TAG [AGAIN_LOG]
#                                each test that did not pass, with the end of its
#                                output; with AGAIN_LOG, only those that passed there
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import sys


def tests(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def short(name):
    # "project:suite / name" -> "name", which meson test accepts as a filter.
    return name.rsplit(" / ", 1)[-1]


def main(argv):
    command, path = argv[1], argv[2]
    if command == "failed":
        for t in tests(path):
            if t["result"] not in ("OK", "SKIP"):
                print(short(t["name"]))
    elif command == "skipped":
        for t in tests(path):
            if t["result"] == "SKIP":
                print(short(t["name"]))
    elif command == "count":
        results = [t["result"] for t in tests(path)]
        passed = sum(1 for r in results if r == "OK")
        print(passed, len(results) - passed)
    elif command == "report":
        tag = argv[3] if len(argv) > 3 else None
        passed_again = None
        if len(argv) > 4:
            passed_again = {short(t["name"]) for t in tests(argv[4]) if t["result"] == "OK"}
        for t in tests(path):
            if t["result"] == "OK":
                continue
            if passed_again is not None and short(t["name"]) not in passed_again:
                continue
            print("=== %s: %s (%s, %.1f s)" % (tag or t["result"], t["name"], path, t["duration"]))
            output = (t.get("stdout") or "") + (t.get("stderr") or "")
            for text in output.splitlines()[-40:]:
                print("    " + text[:300])
    else:
        print("testlog.py: unknown command %r" % command, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
