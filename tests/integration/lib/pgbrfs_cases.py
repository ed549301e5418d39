#!/usr/bin/python3
"""Deterministic reproductions of the differences the random model test (random_ops.py) finds between pgbrfs and a
local file system: each case runs a short fixed sequence in its own directory of the mount and prints
"RESULT ok|FAIL <what must hold>: <what happened>". Exit status 0 when every case held.

Usage: pgbrfs_cases.py --mount M --backing B --passfile P
Standard library only.
"""
import argparse
import errno
import os
import subprocess
import sys
import time

ATTR_TIMEOUT = 1.0   # pgbrfs sets entry/attr timeouts of 1 s (fs/fuse_bridge.cc)
results = []


def result(ok, check, detail=""):
    results.append(ok)
    print("RESULT %s %s%s" % ("ok" if ok else "FAIL", check, ": " + detail if detail else ""), flush=True)


def try_(fn):
    try:
        return fn()
    except OSError as e:
        return e


def show(x):
    if isinstance(x, OSError):
        return "%s (errno %d)" % (os.strerror(x.errno), x.errno)
    if isinstance(x, bytes):
        return "%d bytes %r" % (len(x), x[:24] + (b"..." if len(x) > 24 else b""))
    return repr(x)


class Cases:
    def __init__(self, args):
        self.mount, self.backing, self.passfile = args.mount, args.backing, args.passfile

    def dir(self, name):
        path = os.path.join(self.mount, "case-" + name)
        os.mkdir(path)
        return path

    def decrypt(self, rel):
        r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-md", "sha1", "-pass", "file:" + self.passfile,
                            "-in", os.path.join(self.backing, rel)], capture_output=True)
        return r.stdout if r.returncode == 0 else None

    def o_trunc_without_write(self):
        d = self.dir("otrunc")
        p = os.path.join(d, "f")
        with open(p, "wb") as f:
            f.write(b"hello world\n")
        os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))     # what `: > f` does
        right_after = os.stat(p).st_size
        time.sleep(ATTR_TIMEOUT + 0.3)
        later = os.stat(p).st_size
        content = open(p, "rb").read()
        backing = self.decrypt("case-otrunc/f")
        result(later == 0 and content == b"" and backing == b"",
               "open(O_TRUNC) then close(2) without a write empties the file (`: > f`)",
               "st_size %d right after, %d after %.1fs; reads %s; backing decrypts to %s" % (
                   right_after, later, ATTR_TIMEOUT + 0.3, show(content), show(backing)))

    def readdir_unpublished(self):
        d = self.dir("listing")
        fd = os.open(os.path.join(d, "new"), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"data")
        listed = sorted(os.listdir(d))
        exists = os.path.exists(os.path.join(d, "new"))
        os.close(fd)
        result(listed == ["new"], "readdir lists a file that is being written (created, not closed yet)",
               "stat finds it: %s; readdir lists %s (pgbrfs returns it with inode 0, which glibc's readdir skips)" % (
                   exists, listed))

    def readdir_dots(self):
        d = self.dir("dots")
        open(os.path.join(d, "a"), "wb").close()
        out = subprocess.run(["ls", "-a", d], capture_output=True, text=True).stdout.split()
        dups = sorted({x for x in out if out.count(x) > 1})
        result(not dups, "readdir returns '.' and '..' once", "ls -a lists %s" % out)

    def idle_writer(self):
        d = self.dir("idle")
        p = os.path.join(d, "f")
        with open(p, "wb") as f:
            f.write(b"Z" * 1000)
        fd = os.open(p, os.O_RDWR)            # reopened without O_TRUNC: nothing staged yet
        time.sleep(ATTR_TIMEOUT + 0.5)          # attributes expire; the kernel asks GETATTR with this handle
        steps = [("pread past EOF", try_(lambda: os.pread(fd, 10, 2000))),
                 ("pwrite", try_(lambda: os.pwrite(fd, b"x", 5))),
                 ("fstat", try_(lambda: os.fstat(fd).st_size)),
                 ("stat by name", try_(lambda: os.stat(p).st_size)),
                 ("close", try_(lambda: os.close(fd)))]
        bad = [s for s in steps if isinstance(s[1], OSError)]
        result(not bad, "a descriptor opened for writing and idle for more than attr_timeout keeps working",
               ", ".join("%s -> %s" % (n, show(v)) for n, v in steps))

    def renamed_while_source_open(self):
        d = self.dir("publish")
        tmp, final = os.path.join(d, "x.tmp"), os.path.join(d, "x")
        w = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(w, b"V" * 5000)
        keep = os.open(tmp, os.O_RDONLY)       # the temporary name still open (or its RELEASE still in flight)
        os.close(w)
        os.rename(tmp, final)                   # the pgBackRest way: write NAME.tmp, rename over NAME
        fd = os.open(final, os.O_RDONLY)
        time.sleep(ATTR_TIMEOUT + 0.2)
        steps = [("read", try_(lambda: len(os.read(fd, 65536)) + len(os.read(fd, 65536)))),
                 ("fstat", try_(lambda: os.fstat(fd).st_size)), ("close", try_(lambda: os.close(fd))),
                 ("stat by name", try_(lambda: os.stat(final).st_size))]
        try_(lambda: os.close(keep))
        bad = [s for s in steps if isinstance(s[1], OSError)]
        result(not bad, "a file renamed into place reads without EIO while its old name is still open",
               ", ".join("%s -> %s" % (n, show(v)) for n, v in steps))

    def stale_reader(self):
        d = self.dir("reader")
        p = os.path.join(d, "f")
        with open(p, "wb") as f:
            f.write(b"A" * 100000)
        r = os.open(p, os.O_RDONLY)
        with open(p, "wb") as f:               # rewritten through another descriptor, closed
            f.write(b"B" * 100000)
        time.sleep(ATTR_TIMEOUT + 0.2)
        os.close(os.open(p, os.O_RDONLY))      # an open revalidates the page cache (auto_cache)
        old = os.pread(r, 100000, 0)
        os.close(r)
        letters = "".join(sorted({chr(c) for c in old}))
        result(old == b"B" * 100000, "a descriptor opened before another one rewrote the file reads the new content",
               "it reads %d bytes of %r (the version replaced at close)" % (len(old), letters))

    def unlinked_file(self):
        d = self.dir("unlinked")
        p = os.path.join(d, "ro")
        with open(p, "wb") as f:
            f.write(b"Z" * 1000)
        r = os.open(p, os.O_RDONLY)
        os.unlink(p)
        steps = [("pread", try_(lambda: len(os.pread(r, 10, 0)))), ("fstat", try_(lambda: os.fstat(r).st_size)),
                 ("fsync", try_(lambda: os.fsync(r))), ("close", try_(lambda: os.close(r)))]
        bad = [s for s in steps if isinstance(s[1], OSError)]
        result(not bad, "a read-only descriptor of an unlinked file: read, fstat, fsync, close work",
               ", ".join("%s -> %s" % (n, show(v)) for n, v in steps))
        p = os.path.join(d, "rw")
        with open(p, "wb") as f:
            f.write(b"Z" * 100000)
        w = os.open(p, os.O_WRONLY)
        os.unlink(p)
        steps = [("pwrite", try_(lambda: os.pwrite(w, b"y" * 100, 1000))), ("fstat", try_(lambda: os.fstat(w).st_size)),
                 ("close", try_(lambda: os.close(w)))]
        bad = [s for s in steps if isinstance(s[1], OSError)]
        result(not bad, "a descriptor of an unlinked file opened for writing: write, fstat, close work",
               ", ".join("%s -> %s" % (n, show(v)) for n, v in steps))
        sub = os.path.join(d, "sub")
        os.mkdir(sub)
        p = os.path.join(sub, "x")
        with open(p, "wb") as f:
            f.write(b"X" * 1000)
        w = os.open(p, os.O_RDWR)
        os.unlink(p)
        os.rmdir(sub)
        steps = [("pwrite", try_(lambda: os.pwrite(w, b"y", 10))), ("fsync", try_(lambda: os.fsync(w))),
                 ("ftruncate", try_(lambda: os.ftruncate(w, 5))), ("close", try_(lambda: os.close(w)))]
        bad = [s for s in steps if isinstance(s[1], OSError)]
        result(not bad, "an unlinked file stays writable after its directory is removed",
               ", ".join("%s -> %s" % (n, show(v)) for n, v in steps))

    def replaced_by_rename(self):
        d = self.dir("replaced")
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        with open(a, "wb") as f:
            f.write(b"A" * 100000)
        with open(b, "wb") as f:
            f.write(b"B" * 50000)
        w = os.open(a, os.O_RDWR)               # open for writing, nothing written yet
        os.posix_fadvise(w, 0, 0, os.POSIX_FADV_DONTNEED)   # no cached pages: reads go to pgbrfs
        os.rename(b, a)                          # replaces the open file: w keeps the old, nameless one
        data = os.pread(w, 100000, 0)
        os.close(w)
        letters = "".join(sorted({chr(c) if 32 < c < 127 else "\\0" for c in data}))
        result(data == b"A" * 100000, "a descriptor of a file replaced by rename(2) keeps reading its own content",
               "it reads %d bytes of %r (the file that took its name has 50000 'B')" % (len(data), letters))

    def dir_rename_with_staged_file(self):
        d = self.dir("dirrename")
        old, new = os.path.join(d, "old"), os.path.join(d, "new")
        os.mkdir(old)
        with open(os.path.join(old, "f"), "wb") as f:
            f.write(b"a" * 2416)
        fd = os.open(os.path.join(old, "f"), os.O_RDWR)
        os.pwrite(fd, b"b" * 19548, 2409)
        os.fsync(fd)                            # staged in old/ beside the file
        os.rename(old, new)
        closed = try_(lambda: os.close(fd))
        plain = self.decrypt("case-dirrename/new/f")
        want = b"a" * 2409 + b"b" * 19548
        stale = [x for x in os.listdir(os.path.join(self.backing, "case-dirrename/new")) if x.startswith(".pgbrfs")]
        result(not isinstance(closed, OSError) and plain == want,
               "renaming the directory of an open file with staged changes loses nothing",
               "close -> %s; backing new/f decrypts to %s (want %d bytes); staging files left: %s" % (
                   show(closed) if closed is not None else "ok", show(plain), len(want), stale))

    def rmdir_with_new_file(self):
        d = self.dir("rmdir")
        sub = os.path.join(d, "sub")
        os.mkdir(sub)
        fd = os.open(os.path.join(sub, "new"), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"important data")
        os.fsync(fd)
        rm = try_(lambda: os.rmdir(sub))
        closed = try_(lambda: os.close(fd))
        survived = os.path.exists(os.path.join(sub, "new"))
        result(isinstance(rm, OSError) and rm.errno == errno.ENOTEMPTY,
               "rmdir(2) of a directory holding a file being written fails with ENOTEMPTY",
               "rmdir -> %s, close -> %s, file exists afterwards: %s" % (
                   "succeeded" if rm is None else show(rm), "ok" if closed is None else show(closed), survived))

    def rename_over_dir_with_staging(self):
        d = self.dir("dirover")
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        os.mkdir(a)
        os.mkdir(b)
        with open(os.path.join(a, "x"), "wb") as f:
            f.write(b"x" * 1000)
        fd = os.open(os.path.join(a, "x"), os.O_RDWR)
        os.pwrite(fd, b"y", 0)
        os.fsync(fd)                            # staged beside the file, in a/
        os.unlink(os.path.join(a, "x"))         # a/ is now empty
        listed = os.listdir(a)
        renamed = try_(lambda: os.rename(b, a))
        try_(lambda: os.close(fd))
        result(renamed is None, "rename(2) of a directory over an empty one works while an unlinked open file of it is staged",
               "a/ lists %s; rename b -> a: %s" % (listed, "ok" if renamed is None else show(renamed)))

    def run(self):
        for case in (self.o_trunc_without_write, self.readdir_unpublished, self.readdir_dots, self.idle_writer,
                     self.renamed_while_source_open, self.stale_reader, self.unlinked_file, self.replaced_by_rename,
                     self.dir_rename_with_staged_file, self.rmdir_with_new_file, self.rename_over_dir_with_staging):
            try:
                case()
            except Exception as e:   # a case that cannot even run is a failure of that case only
                result(False, case.__name__, "raised %r" % e)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mount", required=True)
    p.add_argument("--backing", required=True)
    p.add_argument("--passfile", required=True)
    args = p.parse_args()
    Cases(args).run()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
