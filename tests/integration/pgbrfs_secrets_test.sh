#!/usr/bin/env bash
# Where the repository passphrase and plaintext must never be: the daemon's /proc/<pid>/cmdline and environ (the
# passphrase given by PGBACKREST_REPO1_CIPHER_PASS, even twice in the block, is wiped in place at start-up), its
# log at debug level with FUSE debugging on, a core dump (the daemon is non-dumpable; its secrets sit in locked
# pages marked MADV_DONTDUMP), the backing directory and its staging area (while a file is open for writing and
# after), modes (staging directory 0700, no widening of what a client asked), the mount of another user without
# allow_other, and the repository passphrase rotation of SECURITY.md. Usage: pgbrfs_secrets_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
vectors=$here/../fixtures/pgbackrest-2.45
REAL_PGBRFS=$PGBRFS
PGBR_CIPHER=$(dirname "$PGBR")/pgbr-cipher

pg_tmpdir work
backing=$work/backing mnt=$work/mnt
cp -r "$vectors/repo-enc" "$backing"
pass=$(grep '^repo ' "$vectors/passphrases.txt" | cut -d' ' -f2)
mapfile -t all_passes < <(grep -v '^#' "$vectors/passphrases.txt" | cut -d' ' -f2)
# contains_secret FILE: FILE holds the repository passphrase or any sub-passphrase of the vectors.
contains_secret() { local p; for p in "${all_passes[@]}"; do grep -aqF -- "$p" "$1" && return 0; done; return 1; }

pg_step "passphrase from the environment, twice in the block"
# A launcher that execs pgbrfs with a raw environment block holding the variable twice (the shell would merge them).
cat > "$work/launch.py" <<'PY'
import ctypes, os, sys
env = [f"{k}={v}".encode() for k, v in os.environ.items() if not k.startswith("PGBACKREST_")]
p = os.environ["PGBACKREST_REPO1_CIPHER_PASS"].encode()
env += [b"PGBACKREST_REPO1_CIPHER_PASS=" + p, b"PGBACKREST_REPO1_CIPHER_TYPE=aes-256-cbc",
        b"PGBACKREST_REPO1_CIPHER_PASS=" + p]
argv = [a.encode() for a in sys.argv[1:]]
libc = ctypes.CDLL(None, use_errno=True)
arr = lambda xs: (ctypes.c_char_p * (len(xs) + 1))(*xs, None)
libc.execve(argv[0], arr(argv), arr(env))
sys.exit("execve failed: " + os.strerror(ctypes.get_errno()))
PY
printf '#!/bin/sh\nexec python3 %s %s "$@"\n' "$work/launch.py" "$REAL_PGBRFS" > "$work/pgbrfs-launcher"
chmod +x "$work/pgbrfs-launcher"
PGBRFS=$work/pgbrfs-launcher
: > "$work/empty.conf"   # not /etc/pgbackrest/pgbackrest.conf: the passphrase must come from the environment
PGBACKREST_REPO1_CIPHER_PASS=$pass pgbrfs_mount "$backing" "$mnt" -d -o log-level=debug,config="$work/empty.conf"
PGBRFS=$REAL_PGBRFS
pid=$PGBRFS_PID
expect "the daemon runs pgbrfs (pid $pid)" test "$(readlink "/proc/$pid/exe")" = "$(realpath "$REAL_PGBRFS")"
expect "the environment block held the variable twice" \
  test "$(tr '\0' '\n' < "/proc/$pid/environ" | grep -c '^PGBACKREST_REPO1_CIPHER_PASS=')" -eq 2
cp "/proc/$pid/environ" "$work/environ"
cp "/proc/$pid/cmdline" "$work/cmdline"
expect "the passphrase is not in /proc/<pid>/environ" bash -c "! grep -aqF -- '$pass' '$work/environ'"
expect "the passphrase is not in /proc/<pid>/cmdline" bash -c "! grep -aqF -- '$pass' '$work/cmdline'"
expect "control: another process's environ shows such a variable" \
  bash -c "PGBACKREST_REPO1_CIPHER_PASS='$pass' cat /proc/self/environ | grep -aqF -- '$pass'"

pg_step "the daemon's memory: non-dumpable, secrets locked and left out of dumps"
locked=$(awk '/^VmFlags:/ && / lo/ && / dd/ { n++ } END { print n + 0 }' "/proc/$pid/smaps")
expect "mappings locked and marked don't-dump hold the secrets ($locked)" test "$locked" -ge 1
expect "VmLck counts locked memory" bash -c "awk '/^VmLck:/ { exit !(\$2 > 0) }' /proc/$pid/status"
# A non-dumpable process's /proc/<pid>/ entries belong to root whatever its user; prctl is read with gdb below.
if command -v gdb >/dev/null; then
  dumpable=$(timeout 120 gdb -p "$pid" -batch -ex 'print (int)prctl(3,0,0,0,0)' 2>/dev/null | sed -n 's/^\$1 = //p')
  if [[ -n $dumpable ]]; then
    expect "prctl(PR_GET_DUMPABLE) is 0 in the daemon (read with gdb)" test "$dumpable" = 0
  else
    pg_log "skip: gdb could not call prctl in the daemon; PR_GET_DUMPABLE not read"
  fi
else
  pg_log "skip: gdb not installed, PR_GET_DUMPABLE not read"
fi

pg_step "plaintext never reaches the backing directory"
marker="pgbrfs-plaintext-marker-$(openssl rand -hex 8)"
mkdir -p "$mnt/scratch"
# Holds the file open after writing (and fsync) while the backing tree is searched, then closes it.
python3 - "$mnt/scratch/marked" "$marker" "$backing" "$work" <<'PY' || bad "writing the marked file"
import os, subprocess, sys
path, marker, backing, work = sys.argv[1:]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
os.write(fd, (marker + "\n").encode() * 5000)
os.fsync(fd)
staging = os.path.join(backing, ".pgbrfs-staging")
open(os.path.join(work, "staging-while-open"), "w").write("\n".join(
    f"{n} {oct(os.stat(os.path.join(staging, n)).st_mode & 0o777)}" for n in os.listdir(staging)) + "\n")
r = subprocess.run(["grep", "-raqF", marker, backing])
open(os.path.join(work, "grep-while-open"), "w").write(str(r.returncode))
os.close(fd)
PY
expect "a staging file existed while the file was open" test -s "$work/staging-while-open"
expect "while open: the marker is nowhere in the backing directory (staging included)" \
  test "$(cat "$work/grep-while-open")" = 1
expect "after close: the marker is nowhere in the backing directory" bash -c "! grep -raqF '$marker' '$backing'"
expect "control: the marker reads back through the mount" grep -qF "$marker" "$mnt/scratch/marked"
expect "the staging directory is 0700" test "$(stat -c %a "$backing/.pgbrfs-staging")" = 700
expect "a file created 0640 is 0640 in the backing directory" test "$(stat -c %a "$backing/scratch/marked")" = 640
(umask 077 && echo private > "$mnt/scratch/private")
expect "a file created under umask 077 is 0600" test "$(stat -c %a "$backing/scratch/private")" = 600

pg_step "nothing secret in the log (debug level, FUSE debug on)"
cat "$mnt/backup/demo/20261128-051344F/pg_data/PG_VERSION.gz" > /dev/null
cat "$mnt/archive/demo/archive.info" > /dev/null
cp "$mnt/archive/demo/15-1/00000002.history" "$mnt/scratch/copy.history"
expect "the log has debug lines" test "$(wc -l < "$mnt.log")" -gt 20
if contains_secret "$mnt.log"; then bad "a passphrase or sub-passphrase is in the log"; else ok "no passphrase or sub-passphrase in the log"; fi
expect "no plaintext marker in the log" bash -c "! grep -aqF '$marker' '$mnt.log'"

pg_step "allow_other is off by default"
pgbrfs_unmount "$mnt"
mkdir -p "$work/mnt-private"
printf '%s\n' "$pass" > "$work/pass"; chmod 600 "$work/pass"
"$REAL_PGBRFS" -f -o passfile="$work/pass" "$backing" "$work/mnt-private" >>"$work/mnt-private.log" 2>&1 &
private_pid=$!
pg_cleanup_register "pgbrfs__teardown '$work/mnt-private' $private_pid"
for ((i = 0; i < 200; i++)); do mountpoint -q "$work/mnt-private" && break; sleep 0.05; done
expect "root reads the mount" test -f "$work/mnt-private/archive/demo/archive.info"
expect "another user ($PG_OS_USER) cannot enter it" bash -c "! runuser -u '$PG_OS_USER' -- ls '$work/mnt-private' >/dev/null 2>&1"
expect "/proc/mounts shows no allow_other" bash -c "! grep -F '$work/mnt-private' /proc/mounts | grep -q allow_other"
expect "the man page documents allow_other with default_permissions" \
  grep -q 'allow_other,default_permissions' "$here/../../man/pgbrfs.8"

pg_step "rotating the repository passphrase as SECURITY.md describes"
cp -r "$vectors/repo-enc" "$work/rotated"
printf 'rotated-%s\n' "$(openssl rand -hex 16)" > "$work/new-pass"; chmod 600 "$work/new-pass"
status=0
(cd "$work/rotated" && set -o pipefail &&
  for f in archive/*/archive.info archive/*/archive.info.copy backup/*/backup.info backup/*/backup.info.copy; do
    [[ -f $f ]] || continue
    "$PGBR_CIPHER" decrypt --pass-file="$work/pass" < "$f" |
      "$PGBR_CIPHER" encrypt --pass-file="$work/new-pass" > "$f.new" && mv "$f.new" "$f" || exit 1
  done) || status=$?
expect "the four info files are re-encrypted" test "$status" -eq 0
pgbrfs_try_mount "$work/rotated" "$work/mnt-rotated" -o passfile="$work/pass"
expect "the old passphrase no longer mounts (exit 12)" test "$PGBRFS_STATUS" = 12
pgbrfs_mount "$work/rotated" "$work/mnt-rotated" -o passfile="$work/new-pass"
expect "the new one does, and data files (sub-passphrases unchanged) read" \
  test "$(zcat "$work/mnt-rotated/backup/demo/20261128-051344F/pg_data/PG_VERSION.gz")" = 15
pgbrfs_unmount "$work/mnt-rotated"

pg_step "no core dump"
# SIGABRT with an unlimited core size in a directory of its own: a dumpable control process leaves a core there
# when the kernel writes cores to files (core_pattern); the daemon must not.
mkdir -p "$work/cores" && chmod 777 "$work/cores"
pattern=$(cat /proc/sys/kernel/core_pattern)
(cd "$work/cores" && ulimit -c unlimited && exec sleep 60) &
control=$!
sleep 0.2; kill -ABRT "$control"; wait "$control" 2>/dev/null || true
if [[ -n $(ls -A "$work/cores") ]]; then
  rm -f "$work/cores"/*
  fusermount3 -u "$work/mnt-private"; wait "$private_pid" 2>/dev/null || true
  (cd "$work/cores" && ulimit -c unlimited && exec "$REAL_PGBRFS" -f -o passfile="$work/pass" "$backing" "$work/mnt-private") \
    >>"$work/mnt-private.log" 2>&1 &
  private_pid=$!
  pg_cleanup_register "pgbrfs__teardown '$work/mnt-private' $private_pid"
  for ((i = 0; i < 200; i++)); do mountpoint -q "$work/mnt-private" && break; sleep 0.05; done
  cat "$work/mnt-private/archive/demo/archive.info" > /dev/null
  kill -ABRT "$private_pid"; wait "$private_pid" 2>/dev/null || true
  fusermount3 -uz "$work/mnt-private" 2>/dev/null || true
  expect "SIGABRT of the daemon leaves no core (the control did, core_pattern '$pattern')" test -z "$(ls -A "$work/cores")"
else
  pg_log "skip: core_pattern '$pattern' writes no core file here (the control left none); non-dumpable checked above"
fi

pgbr_test_end
