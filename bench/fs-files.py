#!/usr/bin/env python3
"""Small-file workload helper for bench/fs (one process, so process spawning does not dominate).

    fs-files.py create ROOT COUNT SIZE DIRS   # COUNT files of SIZE bytes spread over DIRS sub-directories
    fs-files.py read   ROOT COUNT SIZE DIRS   # reads them back and checks every byte

The content is the same deterministic pseudo-random block in every file (no compression can help any subject).
Prints the seconds the work took (interpreter start-up excluded: it takes up to a second on a loaded machine);
exits 1 (with a message) on a short read or a content mismatch.
"""
import os
import random
import sys
import time


def names(root, count, dirs):
    for i in range(count):
        yield os.path.join(root, "d%03d" % (i % dirs), "f%05d" % i)


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("create", "read"):
        sys.exit(__doc__)
    mode, root = sys.argv[1], sys.argv[2]
    count, size, dirs = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    block = random.Random(4242).randbytes(size)
    start = time.monotonic()
    if mode == "create":
        os.makedirs(root, exist_ok=True)
        for d in range(dirs):
            os.mkdir(os.path.join(root, "d%03d" % d))
        for path in names(root, count, dirs):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                if os.write(fd, block) != size:
                    sys.exit("short write: " + path)
            finally:
                os.close(fd)
        print("%.6f" % (time.monotonic() - start))
        return
    bad = 0
    for path in names(root, count, dirs):
        fd = os.open(path, os.O_RDONLY)
        try:
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if data != block:
            bad += 1
            if bad <= 5:
                print("content mismatch: %s (%d bytes read)" % (path, len(data)), file=sys.stderr)
    if bad:
        sys.exit("%d of %d files differ" % (bad, count))
    print("%.6f" % (time.monotonic() - start))


if __name__ == "__main__":
    main()
