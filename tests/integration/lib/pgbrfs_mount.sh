# shellcheck shell=bash
# Mounting pgbrfs in integration tests: start the daemon in the foreground (in the background of the test), wait
# for the mount, and register an unmount with the cleanup registry of pg_cluster.sh so it goes even when a test
# fails. Requires PGBRFS (path of the pgbrfs binary) and pg_cluster.sh sourced first.
#
#   pgbrfs_mount BACKING MNT [pgbrfs options...]   # sets PGBRFS_PID; daemon log in MNT.log
#   pgbrfs_unmount MNT                             # clean unmount, waits for the daemon to exit
#   pgbrfs_try_mount BACKING MNT [options...]      # for failure tests: exit status in PGBRFS_STATUS, output in PGBRFS_OUTPUT

pgbrfs_mount() {
  local backing=$1 mnt=$2
  shift 2
  mkdir -p "$mnt"
  "$PGBRFS" -f -o allow_other,default_permissions "$@" "$backing" "$mnt" >>"$mnt.log" 2>&1 &
  PGBRFS_PID=$!
  pg_cleanup_register "pgbrfs__teardown '$mnt' $PGBRFS_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    if mountpoint -q "$mnt"; then return 0; fi
    if ! kill -0 "$PGBRFS_PID" 2>/dev/null; then
      wait "$PGBRFS_PID"
      pg_error "pgbrfs exited with status $? before mounting $mnt:"
      cat "$mnt.log" >&2
      return 1
    fi
    sleep 0.05
  done
  pg_error "pgbrfs did not mount $mnt within 10 s"
  return 1
}

pgbrfs__teardown() {
  local mnt=$1 pid=$2
  if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
  kill "$pid" 2>/dev/null || true
  return 0
}

pgbrfs_unmount() {
  local mnt=$1
  fusermount3 -u "$mnt" || return 1
  if [[ -n ${PGBRFS_PID:-} ]]; then wait "$PGBRFS_PID" 2>/dev/null || true; fi
}

pgbrfs_try_mount() {
  local backing=$1 mnt=$2
  shift 2
  mkdir -p "$mnt"
  local was_mounted=0
  if mountpoint -q "$mnt"; then was_mounted=1; fi
  PGBRFS_STATUS=0
  PGBRFS_OUTPUT=$(timeout 20 "$PGBRFS" "$@" "$backing" "$mnt" 2>&1 </dev/null) || PGBRFS_STATUS=$?
  if [[ $was_mounted == 0 ]] && mountpoint -q "$mnt"; then fusermount3 -u "$mnt"; fi
}
