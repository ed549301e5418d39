#!/usr/bin/env bash
# Standard I/O tools on a pgbrfs mount: PostgreSQL's pg_test_fsync (-s 1; opens with O_DIRECT, which pgbrfs must
# accept), and fio writing 64 MiB files with crc32c verification headers (sequential 256 KiB writes, 256 random 4 KiB
# buffered writes, random 1 MiB O_DIRECT writes over the whole file), each verified twice: by fio in the same run, and by a second fio run
# with --verify_only and O_DIRECT reads (served by the daemon, not the page cache) after the file was closed; then the
# file read through the mount must equal its backing file decrypted with openssl.
#
# Usage: pgbrfs_tools_test.sh BUILD_DIR
#   PGBR_TEST_TMPFS=0 backing directory on disk instead of a private tmpfs
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
PGBRFS=$1/fs/pgbrfs
passed=0 failed=0
ok() { passed=$((passed + 1)); pg_log "ok: $*"; }
bad() { failed=$((failed + 1)); pg_error "FAILED: $*" || true; }
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

pg_tmpdir work
mkdir "$work/fs"
if [[ ${PGBR_TEST_TMPFS:-1} == 1 ]]; then
  mount -t tmpfs -o size=512m,mode=0755 tmpfs "$work/fs"
  pg_cleanup_register "umount -l '$work/fs'"
fi
backing=$work/fs/backing mnt=$work/mnt
mkdir "$backing"
head -c 24 /dev/urandom | base64 >"$work/pass"
chmod 600 "$work/pass"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
decrypt() { openssl enc -d -aes-256-cbc -md sha1 -pass file:"$work/pass" -in "$1" 2>/dev/null; }

pg_step "pg_test_fsync -s 1 on a file in the mount"
rc=0 started=$SECONDS
timeout -k 10 240 "$PG_BIN/pg_test_fsync" -f "$mnt/pg_test_fsync.out" -s 1 >"$work/pg_test_fsync.log" 2>&1 || rc=$?
cat "$work/pg_test_fsync.log" >&2
pg_log "pg_test_fsync: exit status $rc after $((SECONDS - started))s"
expect "pg_test_fsync exits 0" test "$rc" = 0
expect "pg_test_fsync opens with O_DIRECT (no method reported n/a*)" \
  bash -c "grep -q 'O_DIRECT supported' '$work/pg_test_fsync.log' && ! grep -q 'n/a\*' '$work/pg_test_fsync.log'"
rates=$(grep -c 'ops/sec' "$work/pg_test_fsync.log" || true)
expect "pg_test_fsync measured every method ($rates rates)" test "$rates" -ge 15
expect "pg_test_fsync's file is gone from the mount and the backing directory" \
  test ! -e "$mnt/pg_test_fsync.out" -a ! -e "$backing/pg_test_fsync.out"

pg_step "fio --verify=crc32c on 64 MiB files"
if ! command -v fio >/dev/null; then
  bad "fio is installed (apt-get install fio)"
else
  mkdir "$mnt/fio"
  # fio_check NAME PRECREATE JOB-OPTIONS...: write with verification headers (fio verifies in the same run), then
  # verify again after close with O_DIRECT reads, then compare the mount with the openssl-decrypted backing file.
  fio_check() {
    local name=$1 precreate=$2 file=$mnt/fio/$1 rc=0 t=$SECONDS
    shift 2
    local common=(--name="$name" --filename="$file" --size=64m --ioengine=psync --verify=crc32c --randseed=1234
      --verify_state_save=0 "$@")
    if [[ $precreate == 1 ]]; then
      # Random jobs on a file of the full size (fio cannot lay it out: pgbrfs has no fallocate, and verify_only
      # would otherwise re-create a shorter file).
      if ! head -c 64M /dev/zero >"$file" 2>"$work/$name.pre"; then
        bad "fio $name: creating the 64 MiB file: $(cat "$work/$name.pre")"
        return
      fi
    fi
    fio "${common[@]}" --do_verify=1 --end_fsync=1 --output="$work/$name.write" >/dev/null 2>&1 || rc=$?
    if [[ $rc == 0 ]]; then
      ok "fio $name: writes and fio's own verification succeed ($((SECONDS - t))s)"
    else
      grep -h -i -E 'error|verify|bad' "$work/$name.write" | head -n 5 >&2 || true
      bad "fio $name: writes and fio's own verification succeed (exit $rc: $(grep -o 'err=[^)]*' "$work/$name.write" | head -n 1))"
    fi
    rc=0 t=$SECONDS
    fio "${common[@]}" --verify_only --direct=1 --output="$work/$name.verify" >/dev/null 2>&1 || rc=$?
    if [[ $rc == 0 ]]; then
      ok "fio $name: verify_only with O_DIRECT reads after close ($((SECONDS - t))s)"
    else
      grep -h -i -E 'error|verify|bad' "$work/$name.verify" | head -n 5 >&2 || true
      bad "fio $name: verify_only with O_DIRECT reads after close (exit $rc: $(grep -o 'err=[^)]*' "$work/$name.verify" | head -n 1))"
    fi
    local mount_sum backing_sum
    mount_sum=$(sha1sum <"$file" 2>&1 | cut -c1-40) || true
    backing_sum=$(decrypt "$backing/fio/$name" | sha1sum | cut -c1-40)
    expect "fio $name: the mount reads what openssl decrypts from the backing file ($(stat -c %s "$file" 2>/dev/null || echo '?') bytes)" \
      test "$mount_sum" = "$backing_sum"
  }
  fio_check seq-256k 0 --rw=write --bs=256k
  # A write inside an encrypted file re-encrypts from there to the end (CBC): ~50 ms per random 4 KiB write into
  # this 64 MiB file (a full 64 MiB of them took 6 minutes), so 1 MiB of them (256 writes) spread over the file.
  fio_check rand-4k-buffered 1 --rw=randwrite --bs=4k --io_size=1m
  fio_check rand-1m-direct 1 --rw=randwrite --bs=1m --direct=1
fi

pg_step "unmount"
expect "no staging files left" test -z "$(find "$backing" -name '.pgbrfs-stage.*'; ls -A "$backing/.pgbrfs-staging")"
expect "clean unmount" pgbrfs_unmount "$mnt"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
