#!/usr/bin/python3
"""Concurrency test for pgbrfs: writer, reader, renamer and backing-checker processes racing on a mount for a bounded
time, with a watchdog that fails the run if any process stops making progress (a deadlock) and checks that whatever a
reader sees is one complete version of a file, never a torn mix.

Every file's content is derived from its (name, generation): a fixed-width header "NAME GEN LENGTH" followed by
bytes from random.Random(NAME/GEN), so any reader can verify any complete version it meets.

Families of files:
  c/A*, d/A*  written to a private temporary name, closed, then renamed over the final name (atomic publish by the
              application); a renamer moves and unlinks them; readers through the mount must only ever see complete
              versions that a writer completed.
  f/S         one file of S_REGIONS pages written at the same time by two writers through their own descriptors
              (O_RDWR, pwrite of whole pages, close), each owning every other page; readers check the size and that
              no page holds another region (a page read while it is being written may mix two versions of it, as on
              a local file system: counted), the backing checker that every page of the decrypted backing file is
              one complete version, and at the end every page holds the last version its owner wrote.
  e/B*        rewritten in place through the mount (O_TRUNC, or reopened and overwritten then ftruncated) by several
              writers, one at a time per file (flock on a lock file outside the mount). Under the shared lock, the
              mount and the backing file (decrypted with openssl) must hold exactly the last version written: close(2)
              publishes atomically, so no reader may see a torn mix in the backing directory either.

Usage:
  concurrency.py race --mount M --backing B --passfile P --work W --daemon-pid PID [--duration S] [--seed N]
  concurrency.py rss --mount M --daemon-pid PID [--cycles N] [--read-every N] [--max-growth-kb N]
Prints "RESULT ok|FAIL <check>: detail" lines; exit status 0 when every check passed. Standard library only.
"""
import argparse
import collections
import errno
import fcntl
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

HDR_FMT = "%-6s %-14s %012d\n"
HDR = len(HDR_FMT % ("x", "y", 0))
A_NAMES = ["A%d" % i for i in range(6)]
B_NAMES = ["B%d" % i for i in range(4)]
S_REGIONS, PAGE = 16, 4096
HANG_SECONDS = 20.0
EXPECTED_ERRNOS = {errno.ENOENT}


def version(name, gen, total):
    header = (HDR_FMT % (name, gen, total)).encode()
    return header + random.Random("%s/%s" % (name, gen)).randbytes(total - HDR)


def verify(data):
    """None when data is one complete version, else a description of what is wrong."""
    if len(data) < HDR:
        return "short file: %d bytes (no complete header)" % len(data)
    try:
        name, gen, total = data[:HDR].decode().split()
        total = int(total)
    except (UnicodeDecodeError, ValueError):
        return "no valid header (first bytes %r)" % data[:24]
    if len(data) != total:
        return "%s gen %s: %d bytes, the version has %d" % (name, gen, len(data), total)
    want = version(name, gen, total)
    if data != want:
        first = next(i for i in range(total) if data[i] != want[i])
        return "%s gen %s (%d bytes): torn, differs from byte %d" % (name, gen, total, first)
    return None


def s_page(region, gen):
    return version("S%02d" % region, gen, PAGE)


def s_problems(data):
    """Pages of the shared file f/S that are not one complete version of their region."""
    if len(data) != S_REGIONS * PAGE:
        return ["f/S short file: %d bytes, %d expected" % (len(data), S_REGIONS * PAGE)]
    out = []
    for r in range(S_REGIONS):
        page = data[r * PAGE:(r + 1) * PAGE]
        problem = verify(page)
        if problem is None and header_of(page)[0] != "S%02d" % r:
            out.append("f/S page %d holds the page of %s" % (r, header_of(page)[0]))
        elif problem:
            out.append("f/S page %d torn: %s" % (r, problem))
    return out


def header_of(data):
    try:
        name, gen, total = data[:HDR].decode().split()
        return name, gen
    except (UnicodeDecodeError, ValueError):
        return None


def pick_size(rng):
    r = rng.random()
    if r < 0.6:
        return rng.randint(HDR, 16 * 1024)
    if r < 0.9:
        return rng.randint(16 * 1024, 256 * 1024)
    return rng.randint(256 * 1024, 1536 * 1024)


def decrypt(ciphertext, passfile):
    r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-md", "sha1", "-pass", "file:" + passfile],
                       input=ciphertext, capture_output=True)
    if r.returncode != 0:
        return None, (r.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
    return r.stdout, None


class Worker:
    """State shared by every role: heartbeat, current-operation text, statistics, failures."""

    def __init__(self, index, role, args, shared):
        self.index, self.role, self.args = index, role, args
        self.hb, self.doing, self.stop = shared["hb"], shared["doing"], shared["stop"]
        self.rng = random.Random("%d/%s/%d" % (args.seed, role, index))
        self.stats = collections.Counter()
        self.errors = collections.Counter()
        self.failures = []
        self.completed = []   # versions this worker completed: (name, gen)
        self.s_last = {}      # ws writers: region of f/S -> last generation written (None: unknown after an error)
        self.name = "%s%d" % (role, index)

    def beat(self, what):
        self.hb[self.index] = time.monotonic()
        text = ("%s: %s" % (self.name, what)).encode()[:95]
        self.doing[self.index * 96:(self.index + 1) * 96] = text.ljust(96, b"\0")

    def last_step(self):
        return bytes(self.doing[self.index * 96:(self.index + 1) * 96]).rstrip(b"\0").decode(errors="replace")

    def fail(self, what):
        self.stats["failures"] += 1
        if len(self.failures) < 20:
            self.failures.append("%.3f %s %s" % (time.monotonic(), self.name, what))

    def error(self, op, e):
        self.errors["%s %s" % (op, errno.errorcode.get(e.errno, e.errno))] += 1

    def p(self, rel):
        return os.path.join(self.args.mount, rel)

    def write_version(self, path, data, flags):
        """Writes data into path (opened with flags) in random pieces, sometimes out of order; closes. True if close
        succeeded."""
        self.beat("open %s" % path)
        fd = os.open(path, flags, 0o644)
        try:
            pos = 0
            if self.rng.random() < 0.15 and len(data) > 2:
                half = self.rng.randint(1, len(data) - 1)     # the second half first
                self.beat("pwrite %s @%d" % (path, half))
                os.pwrite(fd, data[half:], half)
                self.beat("pwrite %s @0" % path)
                os.pwrite(fd, data[:half], 0)
            else:
                while pos < len(data):
                    n = min(len(data) - pos, self.rng.choice([1, 17, 4096, 65536, 131072, 1 << 20]))
                    self.beat("pwrite %s @%d" % (path, pos))
                    os.pwrite(fd, data[pos:pos + n], pos)
                    pos += n
            if not flags & os.O_TRUNC:
                self.beat("ftruncate %s" % path)
                os.ftruncate(fd, len(data))
            if self.rng.random() < 0.2:
                self.beat("fsync %s" % path)
                os.fsync(fd)
        except OSError:
            os.close(fd)
            raise
        self.beat("close %s" % path)
        os.close(fd)
        return True

    def read_file(self, path):
        self.beat("open %s" % path)
        fd = os.open(path, os.O_RDONLY)
        try:
            chunks = []
            while True:
                self.beat("read %s" % path)
                b = os.read(fd, self.rng.choice([4096, 65536, 1 << 20]))
                if not b:
                    break
                chunks.append(b)
            data = b"".join(chunks)
            self.beat("fstat %s" % path)
            try:
                size = os.fstat(fd).st_size
            except OSError as e:
                # Recorded apart: the content read is still checked.
                self.error("fstat", e)
                self.fail("fstat of open %s failed: %s" % (path, e))
                size = len(data)
            return data, size
        finally:
            self.beat("close %s" % path)
            os.close(fd)

    def lock(self, name, kind):
        self.beat("lock %s" % name)
        fd = os.open(os.path.join(self.args.work, name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, kind)
        return fd

    def current_b(self, name):
        """Under the lock: the last generation completed for a B file ("-" when removed, None when never written)."""
        try:
            with open(os.path.join(self.args.work, name + ".current")) as f:
                text = f.read().split()
                return text if text else None
        except FileNotFoundError:
            return None

    def set_current_b(self, name, gen, total):
        tmp = os.path.join(self.args.work, name + ".current.tmp")
        with open(tmp, "w") as f:
            f.write("%s %d" % (gen, total))
        os.rename(tmp, os.path.join(self.args.work, name + ".current"))

    # -- roles ----------------------------------------------------------------------------------------------------
    def run_wa(self):
        """Atomic publish by rename: write a private temporary file, close it, rename it over c/A*."""
        n = 0
        while not self.stop.is_set():
            n += 1
            name = self.rng.choice(A_NAMES)
            gen = "%s-%d" % (self.name, n)
            data = version(name, gen, pick_size(self.rng))
            tmp = self.p("c/tmp-%s" % self.name)
            try:
                self.write_version(tmp, data, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            except OSError as e:
                self.error("write tmp", e)
                self.fail("writing %s (gen %s) failed: %s" % (tmp, gen, e))
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                continue
            self.beat("rename %s -> c/%s" % (tmp, name))
            try:
                os.rename(tmp, self.p("c/" + name))
                self.completed.append((name, gen))
                self.stats["versions published"] += 1
            except OSError as e:
                self.error("rename", e)
                self.fail("rename of %s to c/%s failed: %s" % (tmp, name, e))

    def run_wb(self):
        """In-place rewrites of e/B*, one writer at a time per file."""
        n = 0
        while not self.stop.is_set():
            n += 1
            name = self.rng.choice(B_NAMES)
            gen = "%s-%d" % (self.name, n)
            data = version(name, gen, pick_size(self.rng))
            lk = self.lock(name, fcntl.LOCK_EX)
            try:
                if self.rng.random() < 0.5:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                else:
                    flags = os.O_RDWR | os.O_CREAT     # reopen without O_TRUNC: overwrite, then ftruncate
                try:
                    self.write_version(self.p("e/" + name), data, flags)
                    self.set_current_b(name, gen, len(data))
                    self.completed.append((name, gen))
                    self.stats["versions written"] += 1
                except OSError as e:
                    self.error("write", e)
                    self.fail("rewriting e/%s (gen %s, %s) failed: %s" % (
                        name, gen, "O_TRUNC" if flags & os.O_TRUNC else "in place", e))
                    # What is there now is unknown: remove it so later checks start from a known state.
                    try:
                        os.unlink(self.p("e/" + name))
                    except OSError:
                        pass
                    self.set_current_b(name, "-", 0)
            finally:
                os.close(lk)
            time.sleep(self.rng.random() * 0.01)

    def run_ws(self):
        """Concurrent writers of one file: each pwrites whole pages of the regions it owns through its own
        descriptor and closes; the other writer does the same at the same time."""
        k = int(self.name[2:]) - 1
        mine = [r for r in range(S_REGIONS) if r % 2 == k]
        n = 0
        while not self.stop.is_set():
            n += 1
            gen = "%s-%d" % (self.name, n)
            regions = self.rng.sample(mine, self.rng.randint(1, 3))
            try:
                self.beat("open f/S")
                fd = os.open(self.p("f/S"), os.O_RDWR)
                try:
                    for r in regions:
                        self.beat("pwrite f/S page %d" % r)
                        os.pwrite(fd, s_page(r, gen), r * PAGE)
                    if self.rng.random() < 0.2:
                        self.beat("fsync f/S")
                        os.fsync(fd)
                finally:
                    self.beat("close f/S")
                    os.close(fd)
                for r in regions:
                    self.s_last[r] = gen
                self.stats["shared-file writes"] += 1
            except OSError as e:
                self.error("write S", e)
                self.fail("writing f/S pages %s (gen %s) failed: %s" % (regions, gen, e))
                for r in regions:
                    self.s_last[r] = None
            time.sleep(self.rng.random() * 0.005)

    def run_rn(self):
        """Renames and unlinks of the A files racing with readers and writers."""
        while not self.stop.is_set():
            r = self.rng.random()
            a, b = self.rng.choice(A_NAMES), self.rng.choice(A_NAMES)
            d1, d2 = self.rng.choice(["c", "d"]), self.rng.choice(["c", "d"])
            try:
                if r < 0.55:
                    self.beat("rename %s/%s -> %s/%s" % (d1, a, d2, b))
                    os.rename(self.p("%s/%s" % (d1, a)), self.p("%s/%s" % (d2, b)))
                    self.stats["renames"] += 1
                elif r < 0.75:
                    self.beat("unlink %s/%s" % (d1, a))
                    os.unlink(self.p("%s/%s" % (d1, a)))
                    self.stats["unlinks"] += 1
                elif r < 0.85:
                    name = self.rng.choice(B_NAMES)
                    lk = self.lock(name, fcntl.LOCK_EX)
                    try:
                        self.beat("unlink e/%s" % name)
                        os.unlink(self.p("e/" + name))
                        self.set_current_b(name, "-", 0)
                        self.stats["unlinks"] += 1
                    finally:
                        os.close(lk)
                else:
                    self.beat("listdir %s" % d1)
                    names = os.listdir(self.p(d1))
                    if len(names) != len(set(names)):
                        self.fail("listdir %s lists a name twice: %s" % (d1, sorted(names)))
                    if any(x.startswith(".pgbrfs-stage") for x in names):
                        self.fail("listdir %s shows a staging file: %s" % (d1, sorted(names)))
                    self.stats["listdirs"] += 1
            except OSError as e:
                if e.errno not in EXPECTED_ERRNOS:
                    self.error("rename/unlink", e)
                    self.fail("rename/unlink/listdir: %s" % e)
                else:
                    self.stats["ENOENT (expected)"] += 1
            time.sleep(self.rng.random() * 0.005)

    def run_rd(self):
        """Readers through the mount: A files (any complete version), B files under the lock (exactly the last),
        the shared file f/S (every page a complete version)."""
        while not self.stop.is_set():
            if self.rng.random() < 0.15:
                try:
                    data, _ = self.read_file(self.p("f/S"))
                except OSError as e:
                    self.error("read S", e)
                    self.fail("reading f/S: %s (at: %s)" % (e, self.last_step()))
                    continue
                problems = s_problems(data)
                # A read racing a pwrite of the same page may see part of each version: Linux does not make buffered
                # reads atomic against writes, on a local file system either (tmpfs and ext4 show the same rate).
                # Counted, not failed; published content (backing checker) and the end state are exact.
                mixed = [x for x in problems if x.startswith("f/S page ") and " torn: " in x]
                if len(mixed) < len(problems):
                    self.fail("read f/S through the mount: %s" % "; ".join(problems[:3]))
                elif mixed:
                    self.stats["S reads with a page mid-write (allowed)"] += 1
                else:
                    self.stats["S reads verified"] += 1
            elif self.rng.random() < 0.7:
                rel = "%s/%s" % (self.rng.choice(["c", "d"]), self.rng.choice(A_NAMES))
                try:
                    data, size = self.read_file(self.p(rel))
                except OSError as e:
                    if e.errno in EXPECTED_ERRNOS:
                        self.stats["ENOENT (expected)"] += 1
                    else:
                        self.error("read A", e)
                        self.fail("reading %s: %s (at: %s)" % (rel, e, self.last_step()))
                    continue
                problem = verify(data)
                if problem:
                    self.fail("read %s through the mount: %s" % (rel, problem))
                elif size != len(data):
                    self.fail("read %s: fstat st_size %d but %d bytes read" % (rel, size, len(data)))
                else:
                    self.stats["A reads verified"] += 1
            else:
                name = self.rng.choice(B_NAMES)
                lk = self.lock(name, fcntl.LOCK_SH)
                try:
                    cur = self.current_b(name)
                    try:
                        data, size = self.read_file(self.p("e/" + name))
                    except OSError as e:
                        if e.errno == errno.ENOENT and (cur is None or cur[0] == "-"):
                            self.stats["B absent as expected"] += 1
                        else:
                            self.error("read B", e)
                            self.fail("reading e/%s (last version %s): %s" % (name, cur, e))
                        continue
                    if cur is None or cur[0] == "-":
                        self.fail("e/%s exists (%d bytes, header %s) but was removed" % (name, len(data), header_of(data)))
                        continue
                    want = version(name, cur[0], int(cur[1]))
                    if data != want:
                        self.fail("e/%s through the mount is not the last version %s (%d bytes): got %d bytes, header %s%s"
                                  % (name, cur[0], len(want), len(data), header_of(data),
                                     ", " + verify(data) if verify(data) else ""))
                    elif size != len(data):
                        self.fail("e/%s: fstat st_size %d, %d bytes read" % (name, size, len(data)))
                    else:
                        self.stats["B reads exact"] += 1
                finally:
                    os.close(lk)

    def run_bk(self):
        """The backing directory, decrypted with openssl: only complete versions, exactly the last one for B files,
        complete pages in f/S."""
        while not self.stop.is_set():
            if self.rng.random() < 0.15:
                self.beat("read backing f/S")
                with open(os.path.join(self.args.backing, "f/S"), "rb") as f:
                    cipher = f.read()
                self.beat("openssl f/S")
                plain, err = decrypt(cipher, self.args.passfile)
                if plain is None:
                    self.fail("backing f/S (%d bytes of ciphertext) does not decrypt: %s" % (len(cipher), err))
                    continue
                problems = s_problems(plain)
                if problems:
                    self.fail("backing f/S: %s" % "; ".join(problems[:3]))
                else:
                    self.stats["backing S verified"] += 1
                continue
            if self.rng.random() < 0.5:
                rel = "%s/%s" % (self.rng.choice(["c", "d"]), self.rng.choice(A_NAMES))
                lk, cur = None, None
            else:
                name = self.rng.choice(B_NAMES)
                rel = "e/" + name
                lk = self.lock(name, fcntl.LOCK_SH)
                cur = self.current_b(name)
            try:
                self.beat("read backing %s" % rel)
                try:
                    with open(os.path.join(self.args.backing, rel), "rb") as f:
                        cipher = f.read()
                except FileNotFoundError:
                    if lk is not None and cur is not None and cur[0] != "-":
                        self.fail("backing e/%s is missing; last version %s" % (rel, cur))
                    continue
                self.beat("openssl %s" % rel)
                plain, err = decrypt(cipher, self.args.passfile)
                if plain is None:
                    self.fail("backing %s (%d bytes of ciphertext) does not decrypt: %s" % (rel, len(cipher), err))
                    continue
                problem = verify(plain)
                if problem:
                    self.fail("backing %s: %s" % (rel, problem))
                elif lk is not None:
                    if cur is None or cur[0] == "-":
                        self.fail("backing %s exists (header %s) but was removed" % (rel, header_of(plain)))
                    elif header_of(plain) != (rel[2:], cur[0]):
                        self.fail("backing %s holds %s, the last version closed is %s" % (rel, header_of(plain), cur))
                    else:
                        self.stats["backing B exact"] += 1
                else:
                    self.stats["backing A verified"] += 1
            finally:
                if lk is not None:
                    os.close(lk)

    def main(self):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.beat("start")
        try:
            getattr(self, "run_" + self.role)()
        except Exception as e:   # an unexpected exception is a failure of this worker, not a crash of the test
            self.fail("worker died: %r" % e)
        self.beat("done")
        with open(os.path.join(self.args.work, "stats-%s.json" % self.name), "w") as f:
            json.dump({"stats": self.stats, "errors": self.errors, "failures": self.failures,
                       "completed": self.completed, "s_last": self.s_last}, f)


def daemon_stacks(pid):
    out = []
    try:
        for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
            try:
                wchan = open("/proc/%d/task/%s/wchan" % (pid, tid)).read()
                stack = open("/proc/%d/task/%s/stack" % (pid, tid)).read().strip().replace("\n", " | ")
            except OSError as e:
                wchan, stack = "?", str(e)
            out.append("  daemon thread %s: wchan %s; %s" % (tid, wchan, stack[:400]))
    except OSError as e:
        out.append("  daemon %d: %s" % (pid, e))
    return out


def fuse_connection(mount):
    """The FUSE connection number of a mount point, from /proc/self/mountinfo: looking at the mount itself would
    block when the daemon hangs."""
    target = os.path.realpath(mount)
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        if fields[4].encode().decode("unicode_escape") == target and " - fuse" in line:
            return int(fields[2].split(":")[1])
    return None


def abort_fuse(connection, daemon_pid):
    """Ends the hung connection so that blocked processes return and later steps fail fast instead of hanging: through
    fusectl when it is mounted, else by killing the daemon (its /dev/fuse descriptor closing aborts the connection)."""
    path = "/sys/fs/fuse/connections/%s/abort" % connection
    if os.path.exists(path):
        try:
            with open(path, "w") as f:
                f.write("1")
            return "aborted the FUSE connection (%s)" % path
        except OSError:
            pass
    try:
        os.kill(daemon_pid, signal.SIGKILL)
        return "killed the daemon (pid %d) to end the hung FUSE connection (fusectl is not mounted)" % daemon_pid
    except OSError as e:
        return "could not end the hung FUSE connection: %s" % e


def race(args):
    results = []

    def result(ok, check, detail=""):
        results.append(ok)
        print("RESULT %s %s%s" % ("ok" if ok else "FAIL", check, ": " + detail if detail else ""), flush=True)

    for d in ("c", "d", "e", "f"):
        os.makedirs(os.path.join(args.mount, d), exist_ok=True)
    with open(os.path.join(args.mount, "f/S"), "wb") as f:
        f.write(b"".join(s_page(r, "init") for r in range(S_REGIONS)))
    connection = fuse_connection(args.mount)
    roles = ["wa", "wa", "wb", "wb", "ws", "ws", "rd", "rd", "rd", "rn", "bk"]
    shared = {"hb": multiprocessing.Array("d", len(roles), lock=False),
              "doing": multiprocessing.Array("c", 96 * len(roles), lock=False),
              "stop": multiprocessing.Event()}
    procs = []
    counts = collections.Counter()
    for i, role in enumerate(roles):
        counts[role] += 1
        w = Worker(i, role, args, shared)
        w.name = "%s%d" % (role, counts[role])
        p = multiprocessing.Process(target=w.main, name=w.name)
        shared["hb"][i] = time.monotonic()
        p.start()
        procs.append((w.name, p))
    print("started %d processes: %s; running %ds (seed %d)" % (len(procs), " ".join(n for n, _ in procs),
                                                                   args.duration, args.seed), flush=True)
    start = time.monotonic()
    hung = []
    stopped = False
    while True:
        time.sleep(0.25)
        now = time.monotonic()
        if now - start > args.duration and not shared["stop"].is_set():
            shared["stop"].set()
        alive = [(i, n, p) for i, (n, p) in enumerate(procs) if p.is_alive()]
        if not alive:
            break
        if args.stop_daemon_after and now - start > args.stop_daemon_after and not stopped:
            os.kill(args.daemon_pid, signal.SIGSTOP)   # self-test of the watchdog: a daemon that stops answering
            stopped = True
            print("self-test: stopped the daemon (SIGSTOP)", flush=True)
        if any(now - shared["hb"][i] > HANG_SECONDS for i, n, p in alive):
            # Every process that is behind, not just the first: together they show what waits on what.
            for i, n, p in alive:
                age = now - shared["hb"][i]
                if age < 2:
                    continue
                doing = bytes(shared["doing"][i * 96:(i + 1) * 96]).rstrip(b"\0").decode(errors="replace")
                try:
                    state = [x for x in open("/proc/%d/status" % p.pid).read().splitlines() if x.startswith("State")][0]
                    stack = open("/proc/%d/stack" % p.pid).read().strip().replace("\n", " | ")
                except OSError as e:
                    state, stack = "?", str(e)
                hung.append("%s (pid %d) no progress for %.0fs, last step '%s', %s, kernel stack: %s" % (
                    n, p.pid, age, doing, state, stack[:600]))
            print("HANG detected:\n  " + "\n  ".join(hung), flush=True)
            print("\n".join(daemon_stacks(args.daemon_pid)), flush=True)
            if stopped:
                os.kill(args.daemon_pid, signal.SIGCONT)
            print(abort_fuse(connection, args.daemon_pid), flush=True)
            for i, n, p in alive:
                p.kill()
            for n, p in procs:
                p.join(5)
            break
    elapsed = time.monotonic() - start
    result(not hung, "no process hung (watchdog: %.0fs without progress)" % HANG_SECONDS,
           "; ".join(hung) if hung else "%d processes ran %.1fs and stopped on time" % (len(procs), elapsed))
    if hung:
        return results

    stats, errors, failures, completed = collections.Counter(), collections.Counter(), [], set()
    s_last = {r: "init" for r in range(S_REGIONS)}
    for n, p in procs:
        try:
            with open(os.path.join(args.work, "stats-%s.json" % n)) as f:
                s = json.load(f)
        except (OSError, ValueError) as e:
            failures.append("%s left no statistics (%s)" % (n, e))
            continue
        stats.update(s["stats"])
        errors.update(s["errors"])
        failures.extend(s["failures"])
        completed.update(tuple(x) for x in s["completed"])
        s_last.update({int(r): g for r, g in s["s_last"].items()})
    print("activity: " + ", ".join("%s %d" % kv for kv in sorted(stats.items())), flush=True)
    if errors:
        print("errors met: " + ", ".join("%s x%d" % kv for kv in sorted(errors.items())), flush=True)
    for f in failures[:40]:
        print("  failure: %s" % f, flush=True)

    def failures_of(*words):
        return [f for f in failures if any(w in f for w in words)]

    torn = failures_of("torn", "no valid header", "short file", "bytes, the version has", "does not decrypt")
    result(not torn, "readers never saw a torn or partial version (mount and backing)",
           "%d: %s" % (len(torn), torn[0]) if torn else "%d A reads, %d backing A reads verified" % (
               stats["A reads verified"], stats["backing A verified"]))
    stale = failures_of("is not the last version", "holds", "but was removed", "is missing")
    result(not stale, "under the lock, B files read back exactly the last version closed (mount and backing)",
           "%d: %s" % (len(stale), stale[0]) if stale else "%d mount reads, %d backing reads exact" % (
               stats["B reads exact"], stats["backing B exact"]))
    werr = failures_of("rewriting", "writing", "rename of")
    result(not werr, "writers' open/write/close/rename succeeded",
           "%d: %s" % (len(werr), werr[0]) if werr else "%d versions published by rename, %d rewritten in place, "
           "%d concurrent writes of f/S" % (stats["versions published"], stats["versions written"],
                                           stats["shared-file writes"]))
    def total(prefix):
        return sum(n for k, n in errors.items() if k.startswith(prefix))

    fstat = failures_of("fstat of open")
    result(not fstat, "fstat(2) of an open file works (also once a rename replaced it)",
           "%d failed, first: %s" % (total("fstat"), fstat[0]) if fstat else "")
    rerr = failures_of("reading")
    result(not rerr, "reads through the mount fail only with ENOENT (no EIO)",
           "%d failed, first: %s" % (total("read"), rerr[0]) if rerr else "")
    other = [f for f in failures if f not in torn + stale + werr + fstat + rerr]
    result(not other, "no other errors (renames, unlinks, listings)",
           "%d: %s" % (len(other), other[0]) if other else "%d renames, %d unlinks, %d listings" % (
               stats["renames"], stats["unlinks"], stats["listdirs"]))
    if stats["versions published"] + stats["versions written"] == 0 or stats["A reads verified"] == 0 or \
            stats["shared-file writes"] == 0 or stats["S reads verified"] == 0:
        result(False, "the race did some work", "nothing was written or verified")

    # The end state, with nothing running: mount and backing agree, every file is a complete version.
    end_problems = []
    for d in ("c", "d", "e"):
        names = sorted(os.listdir(os.path.join(args.mount, d)))
        backing = sorted(os.listdir(os.path.join(args.backing, d)))
        if names != backing:
            end_problems.append("%s/: mount lists %s, backing has %s" % (d, names, backing))
        for x in names:
            rel = "%s/%s" % (d, x)
            data = open(os.path.join(args.mount, rel), "rb").read()
            plain, err = decrypt(open(os.path.join(args.backing, rel), "rb").read(), args.passfile)
            problem = verify(data)
            if problem:
                end_problems.append("%s: %s" % (rel, problem))
            elif plain != data:
                end_problems.append("%s: the backing file decrypts to something else (%s)" % (rel, err or "differs"))
            elif header_of(data) not in completed:
                end_problems.append("%s holds %s, which no writer completed" % (rel, header_of(data)))
            if d == "e":
                cur = open(os.path.join(args.work, x + ".current")).read().split()
                if cur[0] == "-" or header_of(data)[1] != cur[0]:
                    end_problems.append("%s holds %s; the last version closed is %s" % (rel, header_of(data), cur))
        for x in B_NAMES if d == "e" else []:
            try:
                cur = open(os.path.join(args.work, x + ".current")).read().split()
            except FileNotFoundError:
                continue
            if cur[0] != "-" and x not in names:
                end_problems.append("e/%s is missing; the last version closed is %s" % (x, cur))
    s_data = open(os.path.join(args.mount, "f/S"), "rb").read()
    s_plain, err = decrypt(open(os.path.join(args.backing, "f/S"), "rb").read(), args.passfile)
    if s_plain != s_data:
        end_problems.append("f/S: the backing file decrypts to something else (%s)" % (err or "differs"))
    for r in range(S_REGIONS):
        page = s_data[r * PAGE:(r + 1) * PAGE]
        if s_last[r] is not None and page != s_page(r, s_last[r]):
            end_problems.append("f/S page %d holds %s; its writer's last version is %s" % (
                r, header_of(page), s_last[r]))
    result(not end_problems, "at the end every file reads back exactly (mount = openssl-decrypted backing; "
           "each page of f/S = its writer's last version)",
           "; ".join(end_problems[:5]) if end_problems else "")
    leftovers = [os.path.join(r, f) for r, _, fs in os.walk(args.backing) for f in fs
                 if f.startswith((".pgbrfs-stage", "tmp-")) or os.path.basename(r) == ".pgbrfs-staging"]
    result(not leftovers, "no staging or temporary files left in the backing directory", " ".join(leftovers[:5]))
    return results


def vm(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    return -1


def rss(args):
    """Open/close cycles of small files: the daemon's resident memory must not grow with them."""
    results = []

    def result(ok, check, detail=""):
        results.append(ok)
        print("RESULT %s %s%s" % ("ok" if ok else "FAIL", check, ": " + detail if detail else ""), flush=True)

    top = os.path.join(args.mount, "rss")
    os.makedirs(top, exist_ok=True)
    rng = random.Random(args.seed)
    errors = collections.Counter()

    def cycles(n, tag):
        for i in range(n):
            # Half the names are reused (replacing files), half are new and removed again.
            if i % 2:
                path = os.path.join(top, "r%03d" % rng.randrange(300))
            else:
                path = os.path.join(top, "%s-%d" % (tag, i))
            data = rng.randbytes(rng.randint(1, 3000))
            try:
                # Every third file the way pgBackRest writes: a temporary name, then a rename over the final one.
                target = path + ".tmp" if i % 3 == 1 else path
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.write(fd, data)
                os.close(fd)
                if target != path:
                    os.rename(target, path)
                if i % args.read_every == 0:
                    fd = os.open(path, os.O_RDONLY)
                    got = os.read(fd, 4096)
                    os.close(fd)
                    if got != data:
                        errors["read back differs"] += 1
                if i % 2 == 0:
                    os.unlink(path)
            except OSError as e:
                errors[errno.errorcode.get(e.errno, str(e.errno))] += 1

    pid = args.daemon_pid
    print("daemon before: VmRSS %d kB, VmHWM %d kB" % (vm(pid, "VmRSS"), vm(pid, "VmHWM")), flush=True)
    t0 = time.monotonic()
    cycles(2000, "warm")
    before = vm(pid, "VmRSS")
    t1 = time.monotonic()
    cycles(args.cycles, "run")
    after = vm(pid, "VmRSS")
    t2 = time.monotonic()
    hwm = vm(pid, "VmHWM")
    print("daemon: VmRSS %d kB after 2000 warm-up cycles (%.1fs), %d kB after %d more (%.1fs); peak VmHWM %d kB" % (
        before, t1 - t0, after, args.cycles, t2 - t1, hwm), flush=True)
    print("PEAK_RSS_KB %d" % hwm, flush=True)
    result(not errors, "%d open/write/close cycles of small files succeeded" % (args.cycles + 2000),
           ", ".join("%s x%d" % kv for kv in errors.items()))
    growth = after - before
    result(growth <= args.max_growth_kb, "daemon VmRSS does not grow with open/close cycles",
           "grew %d kB over %d cycles (limit %d kB)" % (growth, args.cycles, args.max_growth_kb))
    return results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["race", "rss"])
    p.add_argument("--mount", required=True)
    p.add_argument("--backing")
    p.add_argument("--passfile")
    p.add_argument("--work")
    p.add_argument("--daemon-pid", type=int, required=True)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--cycles", type=int, default=20000)
    p.add_argument("--max-growth-kb", type=int, default=8192)
    p.add_argument("--read-every", type=int, default=4, help="rss: reopen and read back every Nth file")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--stop-daemon-after", type=float, default=0,
                   help="self-test of the watchdog: SIGSTOP the daemon after this many seconds")
    args = p.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "little")
    results = race(args) if args.mode == "race" else rss(args)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
