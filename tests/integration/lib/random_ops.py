#!/usr/bin/python3
"""Differential model test for pgbrfs: the same random file operations applied to a pgbrfs mount and to a plain
directory (the model), with every outcome compared: return values and errnos, bytes read, st_size, directory listings
and, after each close, the whole file. At checkpoints and at the end every backing file is decrypted with openssl and
compared with the model.

A mismatch is recorded (category, op number, the recent ops and every op on that file) and the run goes on in a fresh
copy of the model (all descriptors closed, a new directory r<N> on both sides), so one bug does not hide the next.
The summary has one "RESULT ok|FAIL <kind of check>: N checks, M differed; first ..." line per kind of check.
Exit status 0 when nothing differed, 1 otherwise.

Usage: random_ops.py --mount M --model D --backing B --passfile P [--seed S] [--ops N] [--time-limit SEC] [--verbose]
       random_ops.py --final-only ...   (after a remount: compare the last copy and its backing files again)
RANDOPS_SKIP=op,op,... leaves operations out (names as in OPS), to look past a known bug; "trunc_write" makes every
O_TRUNC open write one byte at once (leaving out the pattern "O_TRUNC then close without a write").
Standard library only.
"""
import argparse
import collections
import errno
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import time

KiB = 1024
MiB = 1024 * 1024
MAX_FDS = 10
MAX_FILE = 5 * MiB           # writes stay inside, truncates shrink beyond this
DIRS = ["d0", "d1", "d2", "d0/e0"]  # candidate directories (the root "" always exists)
NAMES = ["f%d" % i for i in range(8)]


def errname(e):
    return errno.errorcode.get(e, str(e))


class Outcome:
    __slots__ = ("ok", "value", "err")

    def __init__(self, ok, value=None, err=None):
        self.ok, self.value, self.err = ok, value, err

    def __eq__(self, other):
        return self.ok == other.ok and (self.value == other.value if self.ok else self.err == other.err)

    def __repr__(self):
        if not self.ok:
            return "errno %s" % errname(self.err)
        v = self.value
        if isinstance(v, (bytes, bytearray)):
            return "%d bytes" % len(v)
        return "ok %r" % (v,)


def attempt(fn):
    try:
        return Outcome(True, fn())
    except OSError as e:
        return Outcome(False, err=e.errno)


class Fd:
    """One open(2) made on both sides."""
    _next = 0

    def __init__(self, mfd, dfd, path, flags):
        """mfd: the mount's descriptor, dfd: the model's."""
        Fd._next += 1
        self.id = Fd._next
        self.mfd, self.dfd, self.path, self.flags = mfd, dfd, path, flags  # path None once unlinked/replaced

    @property
    def readable(self):
        return (self.flags & os.O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)

    @property
    def writable(self):
        return (self.flags & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)

    @property
    def append(self):
        return bool(self.flags & os.O_APPEND)

    def describe(self):
        acc = {os.O_RDONLY: "RDONLY", os.O_WRONLY: "WRONLY", os.O_RDWR: "RDWR"}[self.flags & os.O_ACCMODE]
        extra = "".join("|" + n for n, f in (("APPEND", os.O_APPEND), ("TRUNC", os.O_TRUNC), ("CREAT", os.O_CREAT),
                                               ("EXCL", os.O_EXCL)) if self.flags & f)
        return "fd#%d(%s%s %s)" % (self.id, acc, extra, self.path if self.path is not None else "<unlinked>")


class Mismatch(Exception):
    pass


class RandomOps:
    def __init__(self, args):
        self.top_mount, self.top_model, self.top_backing = args.mount, args.model, args.backing
        self.round_log = []
        self.cur_path = None
        self.enter_round(0)
        self.leftovers = []
        self.passfile = args.passfile
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.ops_target, self.time_limit = args.ops, args.time_limit
        self.fds = []
        self.n = 0
        self.history = collections.deque(maxlen=25)
        self.mismatches = collections.OrderedDict()  # category -> [count, first detail, op number, recent ops]
        self.checks = collections.Counter()
        self.opcount = collections.Counter()
        self.verbose = args.verbose
        self.resyncs = 0
        self.skip = set(filter(None, os.environ.get("RANDOPS_SKIP", "").split(",")))

    # -- helpers --------------------------------------------------------------------------------------------------
    def m(self, rel):
        return os.path.join(self.mount, rel)

    def d(self, rel):
        return os.path.join(self.model, rel)

    def log(self, text):
        entry = "#%d %s" % (self.n, text)
        self.history.append(entry)
        self.round_log.append(entry)
        if self.verbose:
            print(entry, flush=True)

    # Outcomes whose difference leaves both sides in the same state: counted, no resync needed.
    HARMLESS = ("fstat", "fsync", "close outcome", "stat", "readdir", "pread", "file position", "tree listing")

    def mismatch(self, category, detail, path=None):
        first = category not in self.mismatches
        if first:
            self.mismatches[category] = [0, detail, self.n, list(self.history)]
            print("MISMATCH [%s] at op #%d (seed %d): %s" % (category, self.n, self.seed, detail), flush=True)
            print("  recent ops:\n    " + "\n    ".join(self.history), flush=True)
            path = path or self.cur_path
            if path:
                # Everything this round did to that name (renames to and from it included), to the descriptors that
                # had it open (under any name), and directory changes.
                pat = re.compile(r"(^|[ (])%s([ )]|$)" % re.escape(path))
                fds = {m.group(0) for e in self.round_log if pat.search(e) for m in re.finditer(r"fd#\d+\(", e)}
                related = [e for e in self.round_log if pat.search(e) or any(x in e for x in fds) or
                           re.search(r"#\d+ (mkdir|rmdir|rename d\S+ -> d\S+$)", e) and not re.search(r"/f\d", e)]
                print("  ops on %s and directory changes since the last fresh copy:\n    " % path +
                      "\n    ".join(related[-60:]), flush=True)
        self.mismatches[category][0] += 1
        if not category.startswith(self.HARMLESS):
            raise Mismatch(category)

    def check(self, category, model, mount, what):
        self.checks[category] += 1
        if model != mount:
            self.mismatch(category, "%s: model %r, mount %r" % (what, model, mount))

    def model_dirs(self):
        return [""] + [x for x in DIRS if os.path.isdir(self.d(x))]

    def model_files(self):
        out = []
        for root, dirs, files in os.walk(self.model):
            rel = os.path.relpath(root, self.model)
            rel = "" if rel == "." else rel
            out.extend(os.path.join(rel, f) for f in files)
        return sorted(out)

    def random_path(self, existing_bias=0.6):
        files = self.model_files()
        if files and self.rng.random() < existing_bias:
            self.cur_path = self.rng.choice(files)
            return self.cur_path
        dirs = self.model_dirs()
        if self.rng.random() < 0.03:
            dirs = DIRS  # sometimes a directory that may not exist: ENOENT on both sides
        self.cur_path = os.path.join(self.rng.choice(dirs), self.rng.choice(NAMES))
        return self.cur_path

    def data(self, size):
        return self.rng.randbytes(size)

    def write_size(self):
        r = self.rng.random()
        if r < 0.30:
            return self.rng.randint(1, 17)
        if r < 0.58:
            return self.rng.randint(18, 4096)
        if r < 0.83:
            return self.rng.randint(4097, 64 * KiB)
        if r < 0.95:
            return self.rng.randint(64 * KiB, 300 * KiB)
        return self.rng.choice([MiB, MiB - 1, MiB + 1, MiB + 4096])

    def offset_for(self, size, length):
        r = self.rng.random()
        if size + length > MAX_FILE:
            return self.rng.randint(0, max(0, size - length))
        if r < 0.15:
            return 0
        if r < 0.50 and size > 0:
            return self.rng.randint(0, size - 1)          # overwrite inside (may run past the end)
        if r < 0.75:
            return size                                    # append at the end
        if r < 0.90:
            return size + self.rng.randint(1, 64 * KiB)    # a hole past the end
        return size + self.rng.randint(64 * KiB, 600 * KiB)

    def read_all(self, path, direct=False):
        flags = os.O_RDONLY | (os.O_DIRECT if direct else 0)
        fd = os.open(path, flags)
        try:
            chunks = []
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks), os.fstat(fd).st_size
        finally:
            os.close(fd)

    def decrypt_backing(self, rel):
        r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-md", "sha1", "-pass", "file:" + self.passfile,
                            "-in", os.path.join(self.backing, rel)], capture_output=True)
        if r.returncode != 0:
            return None, r.stderr.decode(errors="replace").strip().splitlines()[-1:]
        return r.stdout, None

    def first_difference(self, a, b):
        for i in range(min(len(a), len(b))):
            if a[i] != b[i]:
                return i
        return min(len(a), len(b))

    def describe_difference(self, want, got):
        i = self.first_difference(want, got)
        return "model %d bytes, mount %d bytes, first difference at byte %d" % (len(want), len(got), i)

    # -- comparisons ----------------------------------------------------------------------------------------------
    def compare_file(self, rel, why, cold=True):
        """Whole content and sizes of one file, through a fresh open on both sides."""
        mo = attempt(lambda: self.read_all(self.d(rel)))
        mt = attempt(lambda: self.read_all(self.m(rel)))
        if mo.ok != mt.ok or (not mo.ok and mo.err != mt.err):
            brief = lambda o: "%d bytes" % len(o.value[0]) if o.ok else "errno %s" % errname(o.err)
            self.check("file exists (%s)" % why, brief(mo), brief(mt), "open+read of %s" % rel)
        if not mo.ok:
            return
        (want, want_size), (got, fsize) = mo.value, mt.value
        self.checks["content (%s)" % why] += 1
        if want != got:
            self.mismatch("content (%s)" % why, "%s: %s" % (rel, self.describe_difference(want, got)), rel)
        self.check("fstat st_size of a fresh open (%s)" % why, want_size, fsize, "fstat of %s" % rel)
        ssize = attempt(lambda: os.stat(self.m(rel)).st_size)
        self.check("stat st_size (%s)" % why, Outcome(True, want_size), ssize, "stat of %s" % rel)
        if cold:
            direct = attempt(lambda: self.read_all(self.m(rel), direct=True)[0])
            self.checks["O_DIRECT content (%s)" % why] += 1
            if not direct.ok:
                self.mismatch("O_DIRECT read (%s)" % why, "%s: %r" % (rel, direct))
            if direct.value != want:
                self.mismatch("O_DIRECT content (%s)" % why, "%s: %s" % (rel, self.describe_difference(want, direct.value)),
                              rel)

    def compare_tree(self, why):
        def walk(top):
            out = set()
            for root, dirs, files in os.walk(top):
                rel = os.path.relpath(root, top)
                rel = "" if rel == "." else rel
                out.update(os.path.join(rel, x) + "/" for x in dirs)
                out.update(os.path.join(rel, x) for x in files)
            return out
        self.check("tree listing (%s)" % why, sorted(walk(self.model)), sorted(walk(self.mount)), "find")
        for rel in self.model_files():
            self.compare_file(rel, why)

    def compare_backing(self, why, only_closed=True):
        """Every file the model has and no descriptor holds must be in the backing directory, decryptable by openssl to
        the model's content; nothing else (no staging files) may be left when no descriptor is open."""
        busy = {f.path for f in self.fds if f.path is not None}
        for rel in self.model_files():
            if rel in busy and only_closed:
                continue
            want = open(self.d(rel), "rb").read()
            got, err = self.decrypt_backing(rel)
            self.checks["backing decrypts to the model (%s)" % why] += 1
            if got is None:
                self.mismatch("backing decrypts to the model (%s)" % why, "%s: openssl failed: %s" % (rel, err))
            if got != want:
                self.mismatch("backing decrypts to the model (%s)" % why, "%s: %s" % (rel, self.describe_difference(want, got)),
                              rel)
        if not self.fds:
            found = []
            for root, dirs, files in os.walk(self.backing):
                rel = os.path.relpath(root, self.backing)
                found.extend(os.path.normpath(os.path.join(rel, f)) for f in files)
            self.check("backing holds exactly the model's files (%s)" % why, self.model_files(), sorted(found),
                       "files in the backing directory")

    # -- operations -----------------------------------------------------------------------------------------------
    def both(self, fn):
        """fn(root) on the model then on the mount; returns both outcomes."""
        return attempt(lambda: fn(self.model)), attempt(lambda: fn(self.mount))

    def op_open(self, kind):
        path = self.random_path(0.75 if kind != "create" else 0.4)
        if kind == "create":
            flags = self.rng.choice([os.O_WRONLY, os.O_RDWR]) | os.O_CREAT
            flags |= self.rng.choice([os.O_TRUNC, os.O_TRUNC, 0, os.O_EXCL])
        elif kind == "rw":
            flags = self.rng.choice([os.O_WRONLY, os.O_RDWR, os.O_RDWR])  # reopen without O_TRUNC
        else:
            flags = os.O_RDONLY
        if kind != "ro" and self.rng.random() < 0.25:
            flags |= os.O_APPEND
        mo = attempt(lambda: os.open(self.d(path), flags, 0o644))
        mt = attempt(lambda: os.open(self.m(path), flags, 0o644))
        f = Fd(mt.value if mt.ok else None, mo.value if mo.ok else None, path, flags)
        self.log("open %s -> model %r, mount %r" % (f.describe(), mo, mt))
        if mo.ok and mt.ok:
            self.fds.append(f)
            if flags & os.O_TRUNC and "trunc_write" in self.skip:
                # Exploration knob (RANDOPS_SKIP=trunc_write): never leave an O_TRUNC open without a write.
                self.log("pwrite %s 1 byte at 0 (trunc_write)" % f.describe())
                attempt(lambda: os.pwrite(f.dfd, b"t", 0))
                attempt(lambda: os.pwrite(f.mfd, b"t", 0))
        else:
            if mo.ok:
                os.close(mo.value)
            if mt.ok:
                os.close(mt.value)
        self.check("open outcome", mo.ok and True or mo.err, mt.ok and True or mt.err, "open %s" % f.describe())

    def pick_fd(self, need=None):
        cands = [f for f in self.fds if need is None or getattr(f, need)]
        f = self.rng.choice(cands) if cands else None
        self.cur_path = f.path if f else None
        return f

    def op_write(self):
        f = self.pick_fd("writable")
        if f is None:
            return self.op_open("create")
        size = os.fstat(f.dfd).st_size
        length = self.write_size()
        buf = self.data(length)
        if f.append or self.rng.random() < 0.2:
            # write(2) at the file position (O_APPEND: at the end, whatever the position)
            if not f.append:
                off = self.offset_for(size, length)
                os.lseek(f.dfd, off, os.SEEK_SET)
                os.lseek(f.mfd, off, os.SEEK_SET)
                desc = "lseek %d + write" % off
            else:
                desc = "append write"
            self.log("%s %s %d bytes (size %d)" % (desc, f.describe(), length, size))
            mo, mt = attempt(lambda: os.write(f.dfd, buf)), attempt(lambda: os.write(f.mfd, buf))
            self.check("write outcome", mo, mt, "%s %s" % (desc, f.describe()))
            self.check("file position after write", os.lseek(f.dfd, 0, os.SEEK_CUR), os.lseek(f.mfd, 0, os.SEEK_CUR),
                       "lseek(SEEK_CUR) %s" % f.describe())
        else:
            off = self.offset_for(size, length)
            self.log("pwrite %s %d bytes at %d (size %d)" % (f.describe(), length, off, size))
            mo, mt = attempt(lambda: os.pwrite(f.dfd, buf, off)), attempt(lambda: os.pwrite(f.mfd, buf, off))
            self.check("write outcome", mo, mt, "pwrite %s" % f.describe())

    def op_read(self):
        f = self.pick_fd("readable")
        if f is None:
            return self.op_open("ro")
        size = os.fstat(f.dfd).st_size
        r = self.rng.random()
        off = self.rng.randint(0, size + 100) if r < 0.9 or size == 0 else self.rng.randint(max(0, size - 20), size)
        length = self.rng.choice([1, 15, 16, 17, 4096, 4097, 65536, 200000, MiB + 10])
        self.log("pread %s %d bytes at %d (size %d)" % (f.describe(), length, off, size))
        mo, mt = attempt(lambda: os.pread(f.dfd, length, off)), attempt(lambda: os.pread(f.mfd, length, off))
        self.checks["pread bytes"] += 1
        if mo.ok and mt.ok and mo.value != mt.value:
            self.mismatch("pread bytes", "pread %s %d at %d (size %d): %s" % (
                f.describe(), length, off, size, self.describe_difference(mo.value, mt.value)))
        elif mo.ok != mt.ok or (mo.ok and mo.value != mt.value) or (not mo.ok and mo.err != mt.err):
            self.check("pread outcome", mo, mt, "pread %s" % f.describe())

    def op_ftruncate(self):
        f = self.pick_fd("writable")
        if f is None:
            return self.op_open("rw")
        size = os.fstat(f.dfd).st_size
        new = self.new_size(size)
        self.log("ftruncate %s %d -> %d" % (f.describe(), size, new))
        mo, mt = attempt(lambda: os.ftruncate(f.dfd, new)), attempt(lambda: os.ftruncate(f.mfd, new))
        self.check("ftruncate outcome", mo, mt, "ftruncate %s to %d" % (f.describe(), new))

    def new_size(self, size):
        r = self.rng.random()
        if size > MAX_FILE or (r < 0.5 and size > 0):
            return self.rng.choice([0, self.rng.randint(0, size), max(0, size - self.rng.randint(1, 40))])
        return size + self.rng.choice([1, 15, 16, 17, self.rng.randint(1, 4096), self.rng.randint(4096, 400 * KiB)])

    def op_truncate_name(self):
        path = self.random_path(0.95)
        size = os.stat(self.d(path)).st_size if os.path.isfile(self.d(path)) else 0
        new = self.new_size(size)
        self.log("truncate %s %d -> %d" % (path, size, new))
        mo, mt = self.both(lambda root: os.truncate(os.path.join(root, path), new))
        self.check("truncate outcome", mo, mt, "truncate %s to %d" % (path, new))

    def op_fstat(self):
        f = self.pick_fd()
        if f is None:
            return
        self.log("fstat %s" % f.describe())
        mo, mt = attempt(lambda: os.fstat(f.dfd)), attempt(lambda: os.fstat(f.mfd))
        self.check("fstat outcome", mo.ok or mo.err, mt.ok or mt.err, "fstat %s" % f.describe())
        if mo.ok and mt.ok:
            self.check("fstat st_size", mo.value.st_size, mt.value.st_size, "fstat %s" % f.describe())
            self.check("fstat file type", stat.S_IFMT(mo.value.st_mode), stat.S_IFMT(mt.value.st_mode),
                       "fstat %s" % f.describe())

    def op_fsync(self):
        f = self.pick_fd()
        if f is None:
            return
        fn = os.fdatasync if self.rng.random() < 0.3 else os.fsync
        self.log("%s %s" % (fn.__name__, f.describe()))
        mo, mt = attempt(lambda: fn(f.dfd)), attempt(lambda: fn(f.mfd))
        self.check("fsync outcome", mo, mt, "%s %s" % (fn.__name__, f.describe()))

    def op_close(self, f=None, compare=True):
        f = f or self.pick_fd()
        if f is None:
            return
        self.cur_path = f.path
        self.fds.remove(f)
        self.log("close %s" % f.describe())
        mo, mt = attempt(lambda: os.close(f.dfd)), attempt(lambda: os.close(f.mfd))
        if compare:
            self.check("close outcome", mo, mt, "close %s" % f.describe())
            if f.path is not None and os.path.exists(self.d(f.path)):
                self.compare_file(f.path, "after close", cold=self.rng.random() < 0.3)

    def op_rename(self, dirs=False):
        if dirs:
            cands = [x for x in DIRS if os.path.isdir(self.d(x))]
            if not cands:
                return
            src = self.rng.choice(cands)
            dst = self.rng.choice([x for x in DIRS if x != src] + ["d3"])
        else:
            src = self.random_path(0.97)
            dst = self.random_path(0.4)
            if self.rng.random() < 0.3:   # same directory
                dst = os.path.join(os.path.dirname(src), self.rng.choice(NAMES))
        self.log("rename %s -> %s" % (src, dst))
        mo, mt = self.both(lambda root: os.rename(os.path.join(root, src), os.path.join(root, dst)))
        if mo.ok and src != dst:
            for f in self.fds:
                if f.path == dst:
                    f.path = None   # replaced: the descriptor keeps the old, now nameless, file
            for f in self.fds:
                if f.path is not None and (f.path == src or f.path.startswith(src + "/")):
                    f.path = dst + f.path[len(src):]
        self.check("rename outcome", mo, mt, "rename %s -> %s" % (src, dst))

    def op_unlink(self):
        path = self.random_path(0.95)
        # Prefer files that are open: unlink while open, then keep using the descriptor.
        open_paths = [f.path for f in self.fds if f.path is not None]
        if open_paths and self.rng.random() < 0.5:
            path = self.rng.choice(open_paths)
        self.log("unlink %s" % path)
        mo, mt = self.both(lambda root: os.unlink(os.path.join(root, path)))
        if mo.ok:
            for f in self.fds:
                if f.path == path:
                    f.path = None
        self.check("unlink outcome", mo, mt, "unlink %s" % path)

    def op_mkdir(self):
        path = self.rng.choice(DIRS)
        self.log("mkdir %s" % path)
        mo, mt = self.both(lambda root: os.mkdir(os.path.join(root, path)))
        self.check("mkdir outcome", mo, mt, "mkdir %s" % path)

    def op_rmdir(self):
        path = self.rng.choice(DIRS)
        self.log("rmdir %s" % path)
        mo, mt = self.both(lambda root: os.rmdir(os.path.join(root, path)))
        self.check("rmdir outcome", mo, mt, "rmdir %s" % path)

    def op_stat(self):
        path = self.random_path(0.9)
        self.log("stat %s" % path)
        mo, mt = self.both(lambda root: os.stat(os.path.join(root, path)))
        self.check("stat outcome", mo.ok or mo.err, mt.ok or mt.err, "stat %s" % path)
        if mo.ok and mt.ok and stat.S_ISREG(mo.value.st_mode):
            self.check("stat st_size", mo.value.st_size, mt.value.st_size, "stat %s" % path)

    def op_listdir(self):
        path = self.rng.choice(self.model_dirs())
        self.log("listdir %s" % (path or "."))
        mo, mt = self.both(lambda root: sorted(os.listdir(os.path.join(root, path))))
        self.check("readdir", mo, mt, "listdir %s" % (path or "."))

    OPS = [  # (weight, name)
        (9, "create"), (6, "open_rw"), (4, "open_ro"), (24, "write"), (10, "read"), (4, "ftruncate"),
        (3, "truncate"), (4, "fstat"), (2, "fsync"), (11, "close"), (4, "rename"), (0.4, "rename_dir"),
        (3, "unlink"), (1.5, "mkdir"), (1.5, "rmdir"), (3, "stat"), (1, "listdir"),
    ]

    def step(self):
        self.cur_path = None
        names = [n for w, n in self.OPS]
        weights = [w for w, n in self.OPS]
        name = self.rng.choices(names, weights)[0]
        if name in ("create", "open_rw", "open_ro") and len(self.fds) >= MAX_FDS:
            name = "close"
        if name in self.skip:
            return
        self.opcount[name] += 1
        {
            "create": lambda: self.op_open("create"), "open_rw": lambda: self.op_open("rw"),
            "open_ro": lambda: self.op_open("ro"), "write": self.op_write, "read": self.op_read,
            "ftruncate": self.op_ftruncate, "truncate": self.op_truncate_name, "fstat": self.op_fstat,
            "fsync": self.op_fsync, "close": self.op_close, "rename": self.op_rename,
            "rename_dir": lambda: self.op_rename(dirs=True), "unlink": self.op_unlink, "mkdir": self.op_mkdir,
            "rmdir": self.op_rmdir, "stat": self.op_stat, "listdir": self.op_listdir,
        }[name]()

    # -- resynchronisation after a mismatch -----------------------------------------------------------------------
    def close_all(self, compare):
        while self.fds:
            self.op_close(self.fds[0], compare=compare)

    def enter_round(self, k):
        """Operations run in ROOT/r<k> on each side; a mismatch starts a new round (a copy of the model)."""
        self.round = k
        self.round_log = []
        self.mount = os.path.join(self.top_mount, "r%d" % k)
        self.model = os.path.join(self.top_model, "r%d" % k)
        self.backing = os.path.join(self.top_backing, "r%d" % k)

    def resync(self):
        """After a mismatch the two sides differ in ways the model cannot follow: close every descriptor, copy the
        model into a fresh directory on both sides (new names, so no cached kernel state carries over), drop the old
        round's directories, and go on there."""
        self.resyncs += 1
        self.log("resync: closing every descriptor, continuing in a fresh copy r%d" % (self.round + 1))
        for f in list(self.fds):
            self.fds.remove(f)
            for fd in (f.dfd, f.mfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        old_model, old_mount = self.model, self.mount
        self.enter_round(self.round + 1)
        shutil.copytree(old_model, self.model)
        os.mkdir(self.mount)
        for root, dirs, files in os.walk(self.model):
            rel = os.path.relpath(root, self.model)
            rel = "" if rel == "." else rel
            for x in dirs:
                os.mkdir(self.m(os.path.join(rel, x)))
            for x in files:
                p = os.path.join(rel, x)
                with open(self.d(p), "rb") as src, open(self.m(p), "wb") as out:
                    out.write(src.read())
        shutil.rmtree(old_model)
        try:
            shutil.rmtree(old_mount)
        except OSError as e:
            self.leftovers.append("%s (%s)" % (old_mount, e))
        try:
            self.compare_tree("after resync")
        except Mismatch:
            print("FATAL: a fresh copy of the model already differs in the mount; stopping", flush=True)
            self.report()
            sys.exit(1)

    def report(self, prefix=""):
        """One RESULT line per kind of check (the variants "after close", "checkpoint", "final" taken together)."""
        base = lambda c: re.sub(r" \(.*\)$", "", c)
        made, differed, first = collections.Counter(), collections.Counter(), {}
        for c, n in self.checks.items():
            made[base(c)] += n
        for c, (count, detail, at, _) in self.mismatches.items():
            differed[base(c)] += count
            first.setdefault(base(c), "first at op #%d (%s): %s" % (at, c, detail))
        for b in sorted(set(made) | set(differed)):
            print("RESULT %s %s%s: %d checks, %d differed%s" % (
                "FAIL" if differed[b] else "ok", prefix, b, made[b], differed[b],
                "; " + first[b] if b in first else ""), flush=True)

    # -- main loop ------------------------------------------------------------------------------------------------
    def run(self):
        start = time.monotonic()
        last_report = start
        for root in (self.model, self.mount, self.d("d0"), self.m("d0")):
            os.mkdir(root)
        while self.n < self.ops_target:
            if time.monotonic() - start > self.time_limit:
                print("time limit of %ds reached after %d operations" % (self.time_limit, self.n), flush=True)
                break
            self.n += 1
            try:
                self.step()
                if self.n % 1000 == 0:
                    self.log("checkpoint: whole tree")
                    self.compare_tree("checkpoint")
                if self.n % 2500 == 0:
                    self.log("checkpoint: backing files of closed files")
                    self.compare_backing("checkpoint")
            except Mismatch:
                self.resync()
            now = time.monotonic()
            if now - last_report > 10:
                last_report = now
                print("  %d operations, %d open descriptors, %.0fs" % (self.n, len(self.fds), now - start), flush=True)
        ops_done = self.n
        # The end: close everything, compare the tree, the backing directory (openssl), nothing staged left.
        for attempt in range(3):
            try:
                self.n += 1
                self.close_all(compare=True)
                self.compare_tree("final")
                self.compare_backing("final")
                break
            except Mismatch:
                self.resync()
        elapsed = time.monotonic() - start
        print("operations: %d in %.1fs (%s)" % (ops_done, elapsed, ", ".join(
            "%s %d" % (k, v) for k, v in sorted(self.opcount.items()))), flush=True)
        print("checks made: %d; resyncs (fresh copies after a mismatch): %d" % (sum(self.checks.values()), self.resyncs),
              flush=True)
        for x in self.leftovers:
            print("could not remove an abandoned copy in the mount: %s" % x, flush=True)
        self.report()
        return 0 if not self.mismatches else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mount", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--backing", required=True)
    p.add_argument("--passfile", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--ops", type=int, default=10000)
    p.add_argument("--time-limit", type=float, default=100)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--final-only", action="store_true", help="only compare the tree and backing (after a remount)")
    args = p.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "little")
    if args.final_only:
        r = RandomOps(args)
        rounds = [int(x[1:]) for x in os.listdir(args.model) if x.startswith("r")]
        r.enter_round(max(rounds))
        try:
            r.compare_tree("after remount")
            r.compare_backing("after remount")
        except Mismatch:
            pass
        r.report("after remount: ")
        return 0 if not r.mismatches else 1
    print("seed %d (set RANDOPS_SEED=%d to repeat), %d operations" % (args.seed, args.seed, args.ops), flush=True)
    return RandomOps(args).run()


if __name__ == "__main__":
    sys.exit(main())
