#!/usr/bin/python3
"""Read every file of a pgBackRest repository back through `pgbackrest repo-get` and sanity-check the plaintext.

repo-get picks the passphrase from the path (FORMAT.md §2/§3: info files -> user pass, archive -> archive sub-pass,
manifests -> backup sub-pass, backup files -> manifest sub-pass) and prints the file decrypted but still compressed.
A wrong pass almost always fails the padding check, so success is the main signal; on top of it each kind of file
must look right (info/manifest text, WAL SHA-1 = name, compression magic, gzip/bz2 streams that decompress).

Bundles (repo-bundle=y, FORMAT.md §12) are the exception: `bundle/<n>` is a concatenation of independently
compressed+encrypted members, so repo-get cannot decrypt it as one stream (it fails with "[095] unable to flush").
Instead every member is located through its backup's manifest (bni/bno/repo-size), cut out and decrypted with
`openssl enc -d -aes-256-cbc -md sha1` and the manifest sub-pass, then checked against the manifest size/checksum.

Cost: one pgbackrest process per file (~50 ms CPU, more for backup files, whose manifest it loads), i.e. minutes
for the ~1000 files of every full backup. --sample=N therefore checks only every Nth data file (or bundle member) of
FULL backups, plus pg_control, backup_label, tablespace_map, tablespace and pgbr_fixture files; everything else —
info files, manifests, WAL, history files, every data file of diff/incr backups — is always checked. --sample=1 = all.

Run as the repository owner (postgres). Standard library only. Exit status 0 = every checked file passed.
usage: repo_get_check.py --config=CONF --repo-path=DIR --compress=gz|bz2|lz4|zst|none [--stanza=demo] [--jobs=2]
                         [--sample=N] [--unencrypted]
"""

import argparse
import bz2
import concurrent.futures
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib

MAGIC = {
    "gz": b"\x1f\x8b",
    "bz2": b"BZh",
    "lz4": b"\x04\x22\x4d\x18",
    "zst": b"\x28\xb5\x2f\xfd",
}
EXT = {"gz": ".gz", "bz2": ".bz2", "lz4": ".lz4", "zst": ".zst", "none": ""}
WAL_SEGMENT = re.compile(r"^([0-9A-F]{24})(\.partial)?-([0-9a-f]{40})(\.gz|\.bz2|\.lz4|\.zst)?$")
INFO_TEXT_START = b"[backrest]\nbackrest-format=5\n"


def decompress(data, compress):
    """Whole-stream decompression for the types the standard library knows; None when it cannot check."""
    if compress == "gz":
        return gzip.decompress(data)
    if compress == "bz2":
        return bz2.decompress(data)
    if compress == "none":
        return data
    return None


def classify(rel):
    name = os.path.basename(rel)
    parts = rel.split("/")
    if name in ("archive.info", "archive.info.copy", "backup.info", "backup.info.copy"):
        return "info"
    if name in ("backup.manifest", "backup.manifest.copy"):
        return "manifest"
    if "backup.history" in parts and name.endswith(".manifest.gz"):
        return "history-manifest"
    if parts[0] == "archive":
        if WAL_SEGMENT.match(name):
            return "wal"
        if re.match(r"^[0-9A-F]{8}\.history$", name):
            return "timeline-history"
        if re.match(r"^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$", name):
            return "backup-history"
        return "other"
    if len(parts) >= 5 and parts[3] == "bundle":
        return "bundle"
    if len(parts) >= 5 and parts[3] in ("pg_data", "pg_tblspc"):
        return "data"
    return "other"


def check_content(kind, rel, data, compress, encrypted):
    """Returns an error message, or None when the plaintext looks right."""
    if kind in ("info", "manifest"):
        if not data.startswith(INFO_TEXT_START):
            return "plaintext does not start with [backrest] backrest-format=5"
        if encrypted and b"\n[cipher]\ncipher-pass=\"" not in data:
            return "no [cipher] cipher-pass in an encrypted repo"
        if not data.endswith(b"\"\n") or b"\n[backrest]\nbackrest-checksum=\"" not in data:
            return "no trailing backrest-checksum"
        return None
    if kind == "history-manifest":
        text = gzip.decompress(data)
        return None if text.startswith(INFO_TEXT_START) else "gunzipped text does not start with [backrest]"
    if kind == "timeline-history":
        return None if re.match(rb"^1\t[0-9A-F]+/[0-9A-F]+\t", data) else "not a timeline history file"
    if kind == "backup-history":
        return None if data.startswith(b"START WAL LOCATION: ") else "not a WAL backup history file"
    if kind == "wal":
        m = WAL_SEGMENT.match(os.path.basename(rel))
        ext = m.group(4) or ""
        if ext != EXT[compress]:
            return "WAL extension %r does not match compress type %s" % (ext, compress)
        if compress != "none" and not data.startswith(MAGIC[compress]):
            return "no %s magic" % compress
        raw = decompress(data, compress)
        if raw is None:
            return None
        if len(raw) == 0 or len(raw) % (1024 * 1024) != 0:
            return "segment size %d is not a whole number of MiB" % len(raw)
        if hashlib.sha1(raw).hexdigest() != m.group(3):
            return "SHA-1 of the segment does not match its name"
        return None
    if kind == "data":
        if compress == "none":
            return None
        if not rel.endswith(EXT[compress]):
            return "data file without %s extension" % EXT[compress]
        if not data.startswith(MAGIC[compress]):
            return "no %s magic" % compress
        decompress(data, compress)  # raises on a broken stream
        return None
    if kind == "bundle":
        if compress != "none" and not data.startswith(MAGIC[compress]):
            return "first bundle member has no %s magic" % compress
        return None
    return None


def parse_ini(text):
    """Strict-ini reader of FORMAT.md §4: {section: {key: json value}}; keys may contain '=' (split where JSON parses)."""
    sections, current = {}, None
    for line in text.decode().split("\n"):
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        pos = line.find("=")
        while pos != -1:
            try:
                current[line[:pos]] = json.loads(line[pos + 1:])
                break
            except ValueError:
                pos = line.find("=", pos + 1)
        if pos == -1:
            raise ValueError("unparsable manifest line: %r" % line[:100])
    return sections


def check_bundle(pool, path, label, bni, manifest, compress, encrypted, sample):
    """Checks the members of bundle/<bni> of backup <label> (every Nth of a full backup with sample N, like data
    files); returns (members checked, list of errors)."""
    files = manifest.get("target:file", {})
    cipher_pass = manifest.get("cipher", {}).get("cipher-pass")
    if encrypted and not cipher_pass:
        return 0, ["manifest of %s has no cipher-pass" % label]
    with open(path, "rb") as f:
        blob = f.read()

    def member(item):
        name, entry = item
        offset, size = entry.get("bno", 0), entry["size"]
        repo_size = entry.get("repo-size", size)
        data = blob[offset:offset + repo_size]
        if len(data) != repo_size:
            return "%s: member %s runs past the end of the bundle" % (path, name)
        if encrypted:
            proc = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-md", "sha1", "-pass", "env:PGBR_PASS"],
                                  input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=dict(os.environ, PGBR_PASS=cipher_pass))
            if proc.returncode != 0:
                return "%s: openssl could not decrypt member %s" % (path, name)
            data = proc.stdout
        try:
            raw = decompress(data, compress)
        except (OSError, EOFError, ValueError, zlib.error) as e:
            return "%s: member %s does not decompress: %s" % (path, name, e)
        if raw is None:
            return None
        if len(raw) != size or hashlib.sha1(raw).hexdigest() != entry.get("checksum", hashlib.sha1(b"").hexdigest()):
            return "%s: member %s does not match the manifest size/checksum" % (path, name)
        return None

    items = [(n, e) for n, e in sorted(files.items()) if e.get("bni") == bni and "reference" not in e]
    if sample > 1 and label.endswith("F"):
        items = [item for i, item in enumerate(items) if i % sample == 0 or always_checked("/pg_data/" + item[0])]
    errors = [e for e in pool.map(member, items) if e]
    return len(items), errors


def always_checked(rel):
    """Data files of a full backup that --sample never skips."""
    return (rel.endswith(("/global/pg_control", "/global/pg_control.gz", "/global/pg_control.bz2",
                          "/global/pg_control.lz4", "/global/pg_control.zst"))
            or "/pg_data/backup_label" in rel or "/pg_data/tablespace_map" in rel
            or "/pg_tblspc/" in rel or "/pg_data/pgbr_fixture/" in rel)


def select_files(files, sample):
    """Applies --sample to the data files of full backups (labels ending in F); keeps everything else."""
    if sample <= 1:
        return files, 0
    chosen, skipped, seen = [], 0, {}
    for rel in files:
        parts = rel.split("/")
        if classify(rel) == "data" and parts[2].endswith("F") and not always_checked(rel):
            seen[parts[2]] = seen.get(parts[2], 0) + 1
            if (seen[parts[2]] - 1) % sample != 0:
                skipped += 1
                continue
        chosen.append(rel)
    return chosen, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--repo-path", required=True)
    parser.add_argument("--compress", required=True, choices=sorted(EXT))
    parser.add_argument("--stanza", default="demo")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=1, help="check every Nth data file of full backups (1 = all)")
    parser.add_argument("--unencrypted", action="store_true", help="repo has no cipher (no [cipher] expected)")
    parser.add_argument("--pgbackrest", default="pgbackrest")
    args = parser.parse_args()

    files = []
    for root, _dirs, names in os.walk(args.repo_path):
        for name in names:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            files.append(os.path.relpath(path, args.repo_path))
    files.sort()
    if not files:
        print("repo_get_check: no files under %s" % args.repo_path, file=sys.stderr)
        return 1
    files, skipped = select_files(files, args.sample)

    def one(rel):
        kind = classify(rel)
        if kind == "bundle":
            return rel, kind, None, None  # checked member by member below
        proc = subprocess.run(
            [args.pgbackrest, "--config=" + args.config, "--stanza=" + args.stanza, "--log-level-file=off",
             "--log-level-console=warn", "repo-get", rel],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            error = "repo-get exit %d: %s" % (proc.returncode, proc.stderr.decode(errors="replace").strip())
            return rel, kind, error, None
        if proc.stderr:
            return rel, kind, "repo-get wrote to stderr: %s" % proc.stderr.decode(errors="replace").strip(), None
        try:
            return rel, kind, check_content(kind, rel, proc.stdout, args.compress, not args.unencrypted), proc.stdout
        except (OSError, EOFError, ValueError, zlib.error) as e:
            return rel, kind, "%s: %s" % (type(e).__name__, e), None

    counts, failures, manifests, bundles = {}, [], {}, []
    members = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for rel, kind, error, data in pool.map(one, files):
            if kind == "bundle":
                bundles.append(rel)
                continue
            counts[kind] = counts.get(kind, 0) + 1
            if error:
                failures.append((rel, error))
            elif kind == "manifest" and rel.endswith("/backup.manifest"):
                manifests[rel.split("/")[2]] = data

        for rel in bundles:
            parts = rel.split("/")  # backup/<stanza>/<label>/bundle/<n>
            label, bni = parts[2], int(parts[4])
            if label not in manifests:
                failures.append((rel, "no readable backup.manifest for %s" % label))
                continue
            try:
                checked, errors = check_bundle(pool, os.path.join(args.repo_path, rel), label, bni,
                                               parse_ini(manifests[label]), args.compress, not args.unencrypted,
                                               args.sample)
            except (OSError, ValueError, KeyError) as e:
                checked, errors = 0, ["%s: %s" % (type(e).__name__, e)]
            members += checked
            failures.extend((rel, e) for e in errors)

    summary = ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts))
    print("repo-get %d files (%s): %d failed" % (len(files) - len(bundles), summary, len(failures)))
    if skipped:
        print("sampled: %d data files of full backups not read (--sample=%d)" % (skipped, args.sample))
    if bundles:
        print("bundles: %d files, %d members decrypted with openssl and checked against their manifest"
              % (len(bundles), members))
    for rel, error in failures[:20]:
        print("  FAILED %s: %s" % (rel, error))
    if len(failures) > 20:
        print("  ... and %d more" % (len(failures) - 20))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
