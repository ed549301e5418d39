#!/usr/bin/env python3
"""Prints one line per entry of a restored data directory (and the tablespaces its pg_tblspc links point at):
path, type, mode, owner, and for files size, mtime and SHA-1, for links the target. Two restores of the same backup
set must print the same lines, except for the files listed with --skip (compared by the caller) and the paths of
tablespace links (printed as 'link -> <tablespace dir>/<name>' relative to their own root).

Usage: restore_tree.py PGDATA [--skip RELPATH]..."""
import hashlib
import os
import pwd
import grp
import stat
import sys


def owner(st):
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"{user}:{group}"


def sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def walk(root, label, skip, out):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.join(label, os.path.relpath(path, root))
            st = os.lstat(path)
            mode = oct(stat.S_IMODE(st.st_mode))
            if os.path.relpath(path, root) in skip:
                out.append(f"{rel} skipped")
            elif stat.S_ISLNK(st.st_mode):
                target = os.readlink(path)
                out.append(f"{rel} link {owner(st)} -> {os.path.basename(target)}")
                if rel.startswith("pg_data/pg_tblspc/"):
                    walk(target, "pg_tblspc/" + name, skip, out)
            elif stat.S_ISDIR(st.st_mode):
                out.append(f"{rel} dir {mode} {owner(st)}")
            else:
                out.append(f"{rel} file {mode} {owner(st)} {st.st_size} {int(st.st_mtime)} {sha1(path)}")


def main():
    args = sys.argv[1:]
    root = args.pop(0)
    skip = set()
    while args:
        flag = args.pop(0)
        if flag != "--skip" or not args:
            sys.exit(__doc__)
        skip.add(args.pop(0))
    out = []
    st = os.lstat(root)
    out.append(f"pg_data dir {oct(stat.S_IMODE(st.st_mode))} {owner(st)}")
    walk(root, "pg_data", skip, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
