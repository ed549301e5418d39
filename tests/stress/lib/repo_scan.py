#!/usr/bin/python3
"""Checks an encrypted pgBackRest repository written through a pgbrfs mount after a fault (stress tests).

Every file of the backing directory except pgbrfs's staging area must be complete ciphertext under the key of its
path, decrypted here with OpenSSL's libcrypto (as `openssl enc -d -aes-256-cbc -md sha1`) independently of pgbrfs (repository pass for the info files, archive sub-pass for
WAL, backup sub-pass for manifests, the manifest sub-pass of its backup for backup files); the mount must list the
same files and read the same plaintext; under a final name (not *.pgbackrest.tmp) a .gz file must decompress to its
end and a WAL file's content must match the SHA-1 in its name. With --archived, every WAL segment named there (what
PostgreSQL reported archived) must be in the archive exactly once, and equal to pg_wal/NAME while PostgreSQL still
keeps it (--pgwal).

Usage:
  repo_scan.py --backing B --mount M --passfile P [--stanza S] [--cache F] [--archived F] [--pgwal DIR] [--hashes F]
Prints "RESULT ok|FAIL <check>: detail" lines and a "SCAN ..." summary; exit 0 when every check passed.
--cache remembers files already checked (by path, inode, size, mtime) so that repeated scans only read new files.
--hashes writes "sha256 relpath" of every backing file (staging excluded), for before/after comparisons.
Standard library and libcrypto (ctypes) only.
"""
import argparse
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import sys
import time
import zlib

STAGING = ".pgbrfs-staging"
TMP = ".pgbackrest.tmp"
WAL_RE = re.compile(r"^([0-9A-F]{24}(?:\.[0-9A-F]{8}\.backup)?)-([0-9a-f]{40})(\.gz)?$")


class _LibCrypto:
    """OpenSSL's libcrypto through ctypes: what `openssl enc -d -aes-256-cbc -md sha1` does, without a process per
    file (thousands of files per scan)."""

    def __init__(self):
        lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
        for name, res, args in (
                ("EVP_sha1", ctypes.c_void_p, []), ("EVP_aes_256_cbc", ctypes.c_void_p, []),
                ("EVP_BytesToKey", ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                                  ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p]),
                ("EVP_CIPHER_CTX_new", ctypes.c_void_p, []), ("EVP_CIPHER_CTX_free", None, [ctypes.c_void_p]),
                ("EVP_DecryptInit_ex", ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                                      ctypes.c_char_p, ctypes.c_char_p]),
                ("EVP_DecryptUpdate", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                                     ctypes.c_char_p, ctypes.c_int]),
                ("EVP_DecryptFinal_ex", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p,
                                                       ctypes.POINTER(ctypes.c_int)])):
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        self.lib = lib

    def decrypt(self, data, passphrase):
        lib = self.lib
        if len(data) < 32 or data[:8] != b"Salted__" or len(data) % 16:
            return None, "not pgBackRest ciphertext (%d bytes, header %r)" % (len(data), data[:8])
        key, iv = ctypes.create_string_buffer(32), ctypes.create_string_buffer(16)
        pw = passphrase.encode()
        lib.EVP_BytesToKey(lib.EVP_aes_256_cbc(), lib.EVP_sha1(), data[8:16], pw, len(pw), 1, key, iv)
        ctx = lib.EVP_CIPHER_CTX_new()
        try:
            body = data[16:]
            out = ctypes.create_string_buffer(len(body) + 32)
            n, m = ctypes.c_int(0), ctypes.c_int(0)
            if not lib.EVP_DecryptInit_ex(ctx, lib.EVP_aes_256_cbc(), None, key, iv) or \
                    not lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(n), body, len(body)):
                return None, "decryption failed"
            tail = ctypes.create_string_buffer(32)
            if not lib.EVP_DecryptFinal_ex(ctx, tail, ctypes.byref(m)):
                return None, "bad decrypt (wrong key or torn ciphertext: the padding of the last block is invalid)"
            return out.raw[:n.value] + tail.raw[:m.value], None
        finally:
            lib.EVP_CIPHER_CTX_free(ctx)


_CRYPTO = None


def openssl_decrypt(data, passphrase):
    global _CRYPTO
    if _CRYPTO is None:
        _CRYPTO = _LibCrypto()
    return _CRYPTO.decrypt(data, passphrase)


def cipher_pass(plain_info):
    m = re.search(rb'^cipher-pass="([^"]+)"$', plain_info or b"", re.M)
    return m.group(1).decode() if m else None


class Scan:
    def __init__(self, args):
        self.args = args
        self.repo_pass = open(args.passfile).read().splitlines()[0]
        self.failures = {}
        self.counts = {"files": 0, "new": 0, "tmp": 0, "gz": 0, "wal": 0}
        self.keys = {}
        try:
            with open(args.cache) as f:
                self.cache = set(tuple(x) for x in json.load(f)) if args.cache else set()
        except (OSError, ValueError, TypeError):
            self.cache = set()

    def fail(self, check, what):
        self.failures.setdefault(check, []).append(what)

    def plain_of(self, rel, key):
        """The plaintext of backing file rel decrypted with key (None when it does not decrypt)."""
        with open(os.path.join(self.args.backing, rel), "rb") as f:
            data = f.read()
        plain, err = openssl_decrypt(data, key)
        if plain is None:
            return None, "%d bytes of ciphertext: %s" % (len(data), err)
        return plain, None

    def key_of(self, rel):
        """The passphrase of a repository path (format.md §3); None when it cannot be known."""
        parts = rel.split("/")
        base = parts[-1][:-len(TMP)] if parts[-1].endswith(TMP) else parts[-1]
        st = self.args.stanza
        if parts[0] in ("archive", "backup") and base in ("archive.info", "archive.info.copy", "backup.info",
                                                          "backup.info.copy"):
            return self.repo_pass
        if parts[0] == "archive":
            return self.sub_pass("archive/%s/archive.info" % st, self.repo_pass)
        if parts[0] == "backup" and len(parts) >= 3:
            backup_pass = self.sub_pass("backup/%s/backup.info" % st, self.repo_pass)
            if parts[2] == "backup.history" or base in ("backup.manifest", "backup.manifest.copy"):
                return backup_pass
            label = parts[2]
            for m in ("backup.manifest", "backup.manifest.copy"):
                k = self.sub_pass("backup/%s/%s/%s" % (st, label, m), backup_pass)
                if k:
                    return k
        return None

    def sub_pass(self, rel, key):
        if (rel, key) not in self.keys:
            found = None
            for cand in (rel, rel + ".copy"):
                if key and os.path.exists(os.path.join(self.args.backing, cand)):
                    plain, _ = self.plain_of(cand, key)
                    found = cipher_pass(plain)
                    if found:
                        break
            self.keys[(rel, key)] = found
        return self.keys[(rel, key)]

    def files(self):
        out = []
        for root, dirs, names in os.walk(self.args.backing):
            rel_root = os.path.relpath(root, self.args.backing)
            if rel_root == ".":
                dirs[:] = [d for d in dirs if d != STAGING]
            for n in names:
                out.append(os.path.normpath(os.path.join(rel_root, n)))
        return sorted(out)

    def mount_problem(self, rel, plain):
        try:
            with open(os.path.join(self.args.mount, rel), "rb") as f:
                through = f.read()
        except OSError as e:
            return "reading through the mount: %s" % e
        if through != plain:
            return "the mount reads %d bytes, openssl decrypts %d bytes%s" % (
                len(through), len(plain), "" if len(through) != len(plain) else " (different content)")
        return None

    def check_file(self, rel):
        path = os.path.join(self.args.backing, rel)
        st = os.lstat(path)
        ident = (rel, st.st_ino, st.st_size, st.st_mtime_ns)
        if ident in self.cache:
            return
        self.counts["new"] += 1
        key = self.key_of(rel)
        if key is None:
            self.fail("decrypt", "%s: no key known for this path (no manifest with a cipher-pass)" % rel)
            return
        plain, err = self.plain_of(rel, key)
        if plain is None:
            self.fail("decrypt", "%s: %s" % (rel, err))
            return
        problem = self.mount_problem(rel, plain)
        if problem:
            # Once more after the kernel's attribute timeout (1 s): tells a stale cache from a lasting error.
            time.sleep(2)
            again = self.mount_problem(rel, plain)
            self.fail("mount", "%s: %s; 2 s later: %s" % (rel, problem, again or "reads correctly"))
            return  # not cached: the next scan reads it again
        base = os.path.basename(rel)
        if base.endswith(TMP):
            self.counts["tmp"] += 1
            self.cache.add(ident)
            return
        content = plain
        if base.endswith(".gz"):
            self.counts["gz"] += 1
            d = zlib.decompressobj(wbits=31)
            try:
                content = d.decompress(plain) + d.flush()
                if not d.eof:
                    self.fail("gz", "%s: gzip stream ends early (%d bytes decompressed)" % (rel, len(content)))
                    return
                if d.unused_data:
                    self.fail("gz", "%s: %d bytes after the end of the gzip stream" % (rel, len(d.unused_data)))
            except zlib.error as e:
                self.fail("gz", "%s: %s" % (rel, e))
                return
        m = WAL_RE.match(base)
        if rel.startswith("archive/") and m:
            self.counts["wal"] += 1
            got = hashlib.sha1(content).hexdigest()
            if got != m.group(2):
                self.fail("wal", "%s: content SHA-1 %s differs from its name" % (rel, got))
                return
        self.cache.add(ident)

    def archived(self, names):
        arch = os.path.join(self.args.backing, "archive", self.args.stanza)
        ids = [d for d in os.listdir(arch) if re.match(r"^\d+-\d+$", d)] if os.path.isdir(arch) else []
        n = 0
        for name in names:
            found = []
            for i in ids:
                d = os.path.join(arch, i, name[:16])
                if os.path.isdir(d):
                    # Segments carry their SHA-1 (NAME-SHA1[.gz]); .backup files keep their own name.
                    found += [f for f in os.listdir(d) if (f == name or f.startswith(name + "-")) and
                              not f.endswith(TMP)]
            if len(found) != 1:
                self.fail("archived", "%s: %s in the archive" % (name, "not" if not found else " and ".join(found)))
                continue
            n += 1
            if self.args.pgwal:
                seg = os.path.join(self.args.pgwal, name)
                done = os.path.join(self.args.pgwal, "archive_status", name + ".done")
                try:
                    with open(seg, "rb") as f:
                        h = hashlib.sha1(f.read()).hexdigest()
                except OSError:
                    continue
                # A checkpoint may recycle the segment meanwhile: compare only while its .done is still there.
                m = WAL_RE.match(found[0])
                if m and os.path.exists(done) and h != m.group(2):
                    self.fail("archived", "%s: archived as %s, pg_wal holds SHA-1 %s" % (name, found[0], h))
        return n

    def run(self):
        results = []

        def result(ok, check, detail=""):
            results.append(ok)
            print("RESULT %s %s%s" % ("ok" if ok else "FAIL", check, ": " + detail if detail else ""), flush=True)

        files = self.files()
        self.counts["files"] = len(files)
        if self.args.hashes:
            with open(self.args.hashes, "w") as out:
                for rel in files:
                    with open(os.path.join(self.args.backing, rel), "rb") as f:
                        out.write("%s %s\n" % (hashlib.sha256(f.read()).hexdigest(), rel))
        for rel in files:
            self.check_file(rel)
        try:
            listed = []
            for root, dirs, names in os.walk(self.args.mount):
                if root == self.args.mount and "snapshot" in dirs:
                    dirs.remove("snapshot")  # the snapshot view (checked by integration.pgbrfs_snapshot)
                listed += [os.path.normpath(os.path.relpath(os.path.join(root, n), self.args.mount)) for n in names]
            if sorted(listed) != files:
                # Archiving and backups go on while the files are checked: a name counts as missing from the mount
                # only if the backing dir held it before and after the walk, as extra only if it held it at neither.
                a, before, after = set(listed), set(files), set(self.files())
                extra, missing = a - before - after, (before & after) - a
                if extra or missing:
                    self.fail("mount", "listing differs: only in the mount %s, only in the backing dir %s" % (
                        sorted(extra)[:5], sorted(missing)[:5]))
        except OSError as e:
            self.fail("mount", "listing the mount: %s" % e)
        names = []
        if self.args.archived:
            names = sorted(set(open(self.args.archived).read().split()))
            self.archived(names)

        def detail(check):
            f = self.failures.get(check, [])
            return "%d: %s" % (len(f), "; ".join(f[:4])) if f else ""

        result("decrypt" not in self.failures, "every backing file (staging aside) decrypts with openssl under "
               "the key of its path", detail("decrypt"))
        result("mount" not in self.failures, "the mount lists the backing files and reads what openssl decrypts",
               detail("mount"))
        result("gz" not in self.failures and "wal" not in self.failures,
               "no torn file under a final name (gzip complete, WAL content = SHA-1 in its name)",
               detail("gz") + detail("wal"))
        if self.args.archived:
            result("archived" not in self.failures, "the %d segments PostgreSQL reported archived are in the "
                   "archive once, equal to pg_wal" % len(names), detail("archived"))
        print("SCAN files %(files)d, newly read %(new)d (gz %(gz)d, WAL %(wal)d, temporary %(tmp)d)" % self.counts,
              flush=True)
        if self.args.cache:
            with open(self.args.cache, "w") as f:
                json.dump(sorted(self.cache), f)
        return all(results)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backing", required=True)
    p.add_argument("--mount", required=True)
    p.add_argument("--passfile", required=True)
    p.add_argument("--stanza", default="demo")
    p.add_argument("--cache")
    p.add_argument("--archived")
    p.add_argument("--pgwal")
    p.add_argument("--hashes")
    args = p.parse_args()
    return 0 if Scan(args).run() else 1


if __name__ == "__main__":
    sys.exit(main())
