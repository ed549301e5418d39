#!/usr/bin/env bash
# pgbrfs under concurrency (lib/concurrency.py): for a bounded time, writer processes publish files by writing a
# temporary name and renaming it over the final one, other writers rewrite files in place (one at a time per file),
# two writers write pages of one shared file at the same time through their own descriptors, a renamer moves and
# unlinks files under the readers, readers verify every version they see through the mount, and a checker decrypts
# the backing files with openssl: nobody may see a torn mix of two versions, files closed last (and each page of the
# shared file) must read back exactly, and a watchdog fails the test if any process stops making progress
# (deadlock). Then 20,000 open/write/close cycles of small files, with the daemon's VmRSS compared before and after
# and its peak (VmHWM) reported. tests/stress/concurrency runs this longer, with 100,000 files.
#
# Usage: pgbrfs_concurrency_test.sh BUILD_DIR
#   CONC_DURATION=S   length of the race (default 30)      CONC_SEED=N  repeat a run (printed at the start)
#   CONC_CYCLES=N     open/close cycles for the memory check (default 20000)
#   CONC_READ_EVERY=N reopen and read back every Nth file of the memory check (default 4)
#   CONC_MAX_GROWTH_KB=N  VmRSS growth allowed over the cycles (default 8192)
#   CONC_WATCHDOG_SELFTEST=S  stop the daemon (SIGSTOP) S seconds into the race: the watchdog must report the hang
#                     (and end the connection) 20 s later, so this run is expected to fail
#   PGBR_TEST_TMPFS=0 backing directory on disk instead of a private tmpfs
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

duration=${CONC_DURATION:-30}
seed=${CONC_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
cycles=${CONC_CYCLES:-20000}
read_every=${CONC_READ_EVERY:-4}
max_growth_kb=${CONC_MAX_GROWTH_KB:-8192}

pg_tmpdir work
mkdir "$work/fs" "$work/state"
if [[ ${PGBR_TEST_TMPFS:-1} == 1 ]]; then
  mount -t tmpfs -o size=1g,mode=0755 tmpfs "$work/fs"
  pg_cleanup_register "umount -l '$work/fs'"
fi
backing=$work/fs/backing mnt=$work/mnt
mkdir "$backing"
head -c 24 /dev/urandom | base64 >"$work/pass"
chmod 600 "$work/pass"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
daemon=$PGBRFS_PID

pg_step "race for ${duration}s: 2 rename-publishing writers, 2 in-place writers, 2 writers of one shared file, 3 readers, a renamer, a backing checker (seed $seed)"
rc=0
# The helper's own watchdog fires after 20 s without progress; this one catches the helper itself.
timeout -k 10 "$((duration + 120))" "$PY" "$here/lib/concurrency.py" race --mount "$mnt" --backing "$backing" \
  --passfile "$work/pass" --work "$work/state" --daemon-pid "$daemon" --duration "$duration" --seed "$seed" \
  --stop-daemon-after "${CONC_WATCHDOG_SELFTEST:-0}" >"$work/race.out" 2>&1 || rc=$?
grep -v '^RESULT ' "$work/race.out" >&2 || true
[[ $rc == 124 || $rc == 137 ]] && bad "the race helper itself did not finish within $((duration + 120))s (hung)"
results "$work/race.out" "the race"

pg_step "daemon memory over $cycles open/write/close cycles of small files (reopened and read back: every ${read_every})"
if alive "$daemon"; then
  ok "the daemon survived the race"
  pg_log "daemon after the race: $(grep -E '^Vm(RSS|HWM)' /proc/"$daemon"/status | tr -s ' \t\n' ' ')"
  "$PY" "$here/lib/concurrency.py" rss --mount "$mnt" --daemon-pid "$daemon" --cycles "$cycles" --seed "$seed" \
    --read-every "$read_every" --max-growth-kb "$max_growth_kb" \
    >"$work/rss.out" 2>&1 || true
  grep -v '^RESULT ' "$work/rss.out" >&2 || true
  results "$work/rss.out" "the memory check"
  pg_log "daemon peak RSS (VmHWM): $(sed -n 's/^PEAK_RSS_KB //p' "$work/rss.out") kB"
else
  bad "the daemon survived the race (it is gone: the memory check cannot run)"
fi

pg_step "unmount"
expect "clean unmount" pgbrfs_unmount "$mnt"
expect "no staging files left in the backing directory" test -z "$(find "$backing" -name '.pgbrfs-stage.*'; ls -A "$backing/.pgbrfs-staging")"
errors=$(grep -c ' ERROR: ' "$mnt.log" || true)
[[ $errors -eq 0 ]] || grep ' ERROR: ' "$mnt.log" | head -n 20 >&2
expect "the daemon logged no errors ($errors)" test "$errors" -eq 0

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
