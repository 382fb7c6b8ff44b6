#!/usr/bin/python3
# make-archiver-tree.py: the source tree of bench/archiver-bench.sh
#
# 2,000 compressible text files of 1-43 KiB in 20 folders, plus four 64 MiB
# files of random data (about 300 MiB in all). The text is deterministic
# (seeded), the random files come from os.urandom.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import random
import sys

WORDS = """the quick brown fox jumps over a lazy dog while backup archives
stream through encrypted deflate blocks and every folder keeps its modes
times links names versions receivers senders channels candidates offers
answers packets frames chunks bytes hashes keys passwords levels""".split()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-archiver-tree.py DIR")
    root = sys.argv[1]
    rng = random.Random(20240601)
    for i in range(2000):
        sub = os.path.join(root, "docs", "part%02d" % (i % 20))
        os.makedirs(sub, exist_ok=True)
        size = rng.randint(1024, 43 * 1024)
        lines = []
        total = 0
        while total < size:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))) + "\n"
            lines.append(line)
            total += len(line)
        text = "".join(lines)[:size]
        with open(os.path.join(sub, "note-%04d.txt" % i), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(root, "media"), exist_ok=True)
    for i in range(4):
        with open(os.path.join(root, "media", "blob%d.bin" % i), "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1024 * 1024))


if __name__ == "__main__":
    main()
