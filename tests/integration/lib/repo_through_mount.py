#!/usr/bin/env python3
"""Checks a pgBackRest repository through a pgbrfs mount of it (standard library only; lz4/zstd via their CLIs).

For every regular file of the backing repository: the file is visible through the mount, st_size equals the bytes
read, and (for a sample, or every file) the bytes equal `pgbackrest repo-get` of it. For every backup manifest read
through the mount: every file stored in a backup (not bundled) decompresses to the manifest's checksum and size.
Prints one line per problem and a summary; exit status 0 when everything held.

usage: repo_through_mount.py --backing DIR --mount DIR --config FILE --compress TYPE [--sample N] [--stanza demo]
"""
import argparse
import bz2
import gzip
import hashlib
import os
import subprocess
import sys

EXT = {"gz": ".gz", "none": "", "lz4": ".lz4", "zst": ".zst", "bz2": ".bz2"}


def decompress(data, ext):
    if ext == ".gz":
        return gzip.decompress(data)
    if ext == ".bz2":
        return bz2.decompress(data)
    if ext == ".lz4":
        return subprocess.run(["lz4", "-dc"], input=data, capture_output=True, check=True).stdout
    if ext == ".zst":
        return subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    return data


def manifest_files(text):
    """(name, attributes) of [target:file] in a manifest's plaintext."""
    import json
    files, section = [], None
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section != "target:file" or "=" not in line:
            continue
        # Keys may contain '=': split at the first '=' after which the rest is valid JSON.
        pos = line.find("=")
        while pos >= 0:
            try:
                files.append((line[:pos], json.loads(line[pos + 1:])))
                break
            except ValueError:
                pos = line.find("=", pos + 1)
    return files


def option(text, section, key):
    current = None
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.startswith(key + "="):
            return line[len(key) + 1:].strip('"')
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backing", required=True)
    ap.add_argument("--mount", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--compress", required=True, choices=sorted(EXT))
    ap.add_argument("--sample", type=int, default=10)
    ap.add_argument("--stanza", default="demo")
    args = ap.parse_args()

    problems, files, compared, verified, bundled = [], 0, 0, 0, 0
    for root, dirs, names in os.walk(args.backing):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, args.backing)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if "/bundle/" in "/" + rel:
                bundled += 1  # separately encrypted members: read through the snapshot view, not the raw view
                continue
            files += 1
            mounted = os.path.join(args.mount, rel)
            try:
                with open(mounted, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append(f"{rel}: unreadable through the mount: {e}")
                continue
            if os.stat(mounted).st_size != len(data):
                problems.append(f"{rel}: st_size {os.stat(mounted).st_size} but {len(data)} bytes read")
            # Governing files, WAL and history always; data files of backups every Nth.
            is_data = "/pg_data/" in rel or "/pg_tblspc/" in rel
            if not is_data or files % args.sample == 0:
                got = subprocess.run(["runuser", "-u", "postgres", "--", "pgbackrest", f"--config={args.config}",
                                      f"--stanza={args.stanza}", "repo-get", rel], capture_output=True)
                if got.returncode != 0:
                    problems.append(f"{rel}: pgbackrest repo-get failed: {got.stderr.decode(errors='replace')[:200]}")
                elif got.stdout != data:
                    problems.append(f"{rel}: mount bytes differ from pgbackrest repo-get")
                compared += 1

    ext = EXT[args.compress]
    backup_dir = os.path.join(args.mount, "backup", args.stanza)
    for label in sorted(os.listdir(backup_dir)):
        manifest = os.path.join(backup_dir, label, "backup.manifest")
        if not os.path.isfile(manifest):
            continue
        with open(manifest, "rb") as f:
            text = f.read().decode()
        for index, (name, attrs) in enumerate(manifest_files(text)):
            if "bni" in attrs or attrs.get("size", 0) == 0 and "rck" not in attrs:
                continue
            # lz4 and zstd have no module in Python's standard library: one CLI process per file is slow, so
            # every 5th file is checked (gz, bz2 and none: every file).
            if ext in (".lz4", ".zst") and index % 5 != 0:
                continue
            holder = attrs.get("reference", label)
            path = os.path.join(backup_dir, holder, name + ext)
            try:
                with open(path, "rb") as f:
                    plain = decompress(f.read(), ext)
            except Exception as e:  # noqa: BLE001 - report any failure with the file named
                problems.append(f"{label}: {name}: unreadable: {e}")
                continue
            expected = attrs.get("checksum", hashlib.sha1(b"").hexdigest())
            if hashlib.sha1(plain).hexdigest() != expected or len(plain) != attrs["size"]:
                problems.append(f"{label}: {name}: checksum/size differ from the manifest")
            verified += 1

    for p in problems[:50]:
        print("FAIL", p)
    print(f"{files} files read through the mount, {compared} compared with repo-get, {verified} backup files "
          f"verified against their manifests, {bundled} bundle files skipped, {len(problems)} problems")
    return 0 if not problems and files > 0 and verified > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
