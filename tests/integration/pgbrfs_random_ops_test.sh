#!/usr/bin/env bash
# pgbrfs against a model: at least 10,000 random file operations (create, writes at random offsets from 1 byte to
# 1 MiB, O_APPEND, truncate by descriptor and by name, reopen without O_TRUNC, renames within and across directories,
# unlink while open and further use of the descriptor, several descriptors per file, fsync, reads of random ranges,
# mkdir/rmdir) applied both to a pgbrfs mount and to a plain directory, every outcome compared (lib/random_ops.py);
# after each close and at the end contents and st_size are compared, and at the end every backing file is decrypted
# with openssl and compared with the model. Then a remount (cold caches) and the comparison again, and deterministic
# reproductions of each kind of difference the model test finds (lib/pgbrfs_cases.py).
#
# Usage: pgbrfs_random_ops_test.sh BUILD_DIR
#   RANDOPS_SEED=N    repeat a run (the seed is printed at the start)
#   RANDOPS_OPS=N     number of operations (default 10000); RANDOPS_TIME_LIMIT=S caps their run time (default 90)
#   RANDOPS_SKIP=...  operations to leave out (see lib/random_ops.py), RANDOPS_VERBOSE=1 logs every operation
#   PGBR_TEST_TMPFS=0 backing and model directories on disk instead of a private tmpfs (every close fsyncs: slower)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
PGBRFS=$1/fs/pgbrfs
PY=/usr/bin/python3
passed=0 failed=0
ok() { passed=$((passed + 1)); pg_log "ok: $*"; }
bad() { failed=$((failed + 1)); pg_error "FAILED: $*" || true; }
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# A killed daemon stays a zombie child of this shell: kill -0 would still succeed.
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
# The helpers print "RESULT ok|FAIL <check>: <detail>" lines: one check each.
results() {
  local line n=0
  while IFS= read -r line; do
    case $line in
      "RESULT ok "*) ok "${line#RESULT ok }"; n=$((n + 1)) ;;
      "RESULT FAIL "*) bad "${line#RESULT FAIL }"; n=$((n + 1)) ;;
    esac
  done <"$1"
  ((n > 0)) || bad "$2 reported no results (see its output above)"
}

seed=${RANDOPS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ops=${RANDOPS_OPS:-10000}
pg_log "seed $seed (RANDOPS_SEED=$seed repeats this run), $ops operations"

pg_tmpdir work
mkdir "$work/fs"
if [[ ${PGBR_TEST_TMPFS:-1} == 1 ]]; then
  mount -t tmpfs -o size=1g,mode=0755 tmpfs "$work/fs"
  pg_cleanup_register "umount -l '$work/fs'"
fi
backing=$work/fs/backing model=$work/fs/model mnt=$work/mnt
mkdir "$backing" "$model"
head -c 24 /dev/urandom | base64 >"$work/pass"
chmod 600 "$work/pass"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"

pg_step "$ops random operations on the mount and on a plain directory (seed $seed)"
verbose=()
[[ ${RANDOPS_VERBOSE:-0} == 1 ]] && verbose=(--verbose)
started=$SECONDS rc=0
timeout -k 10 180 "$PY" "$here/lib/random_ops.py" --mount "$mnt" --model "$model" --backing "$backing" \
  --passfile "$work/pass" --seed "$seed" --ops "$ops" --time-limit "${RANDOPS_TIME_LIMIT:-90}" "${verbose[@]}" \
  >"$work/randops.out" 2>&1 || rc=$?
grep -v '^RESULT ' "$work/randops.out" >&2 || true
pg_log "model test: exit status $rc after $((SECONDS - started))s"
expect "the model test ran to its end (no timeout, no crash)" grep -q '^operations: ' "$work/randops.out"
done_ops=$(sed -n 's/^operations: \([0-9]*\) .*/\1/p' "$work/randops.out")
expect "at least 10,000 operations were made (${done_ops:-0})" test "${done_ops:-0}" -ge "$((ops < 10000 ? ops : 10000))"
results "$work/randops.out" "the model test"

pg_step "remount (cold caches): the last copy again, through the mount and decrypted from the backing directory"
expect "unmount after the random operations" pgbrfs_unmount "$mnt"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
"$PY" "$here/lib/random_ops.py" --final-only --mount "$mnt" --model "$model" --backing "$backing" \
  --passfile "$work/pass" >"$work/remount.out" 2>&1 || true
grep -v '^RESULT ' "$work/remount.out" >&2 || true
results "$work/remount.out" "the comparison after the remount"

pg_step "reproductions of the differences the model test looks for"
"$PY" "$here/lib/pgbrfs_cases.py" --mount "$mnt" --backing "$backing" --passfile "$work/pass" >"$work/cases.out" 2>&1 || true
grep -v '^RESULT ' "$work/cases.out" >&2 || true
results "$work/cases.out" "the reproductions"

pg_step "daemon health"
expect "the daemon is still running" alive "$PGBRFS_PID"
errors=$(grep -c ' ERROR: ' "$mnt.log" || true)
if [[ $errors -gt 0 ]]; then
  grep ' ERROR: ' "$mnt.log" | head -n 20 >&2
  bad "the daemon logged $errors errors"
else
  ok "the daemon logged no errors"
fi
grep ' WARN: ' "$mnt.log" | head -n 10 >&2 || true
expect "clean unmount" pgbrfs_unmount "$mnt"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
