#!/usr/bin/env bash
# `pgbr expire` against the real `pgbackrest expire` (2.45, the oracle) on generated repositories: for each
# retention setting the repository is copied twice (cp -a of the backing directory); pgbr expires copy A (through a
# pgbrfs mount for encrypted repositories, directly for plain-gz), pgbackrest expires copy B with the same options.
# Then both must hold the same backups and WAL:
#   * the same tree of names and types (backup directories, manifests, WAL files, .history files, backup.history,
#     info files and their copies);
#   * the same backup.info plaintext (read through a mount of each copy), byte for byte — nothing legitimately
#     differs: both keep the loaded backrest-version and sub-pass, so the checksum matches too (the ciphertext
#     differs: new salt);
#   * the same `latest` link target;
#   * the same exit status (an adhoc expire of the only full: "[075]: repo1: ..." then exit 104 in both);
#   * the same "repo1: ..." log lines at detail level (expired sets, removed backups, archive retention and removed
#     WAL ranges, history files), in the same order.
#
# Usage: pgbr_expire_test.sh BUILD_DIR GENERATED_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_generated_init "$1" "$2"

# labels NAME: the backup labels of a generated repository, oldest first.
labels() {
  pg_as_postgres pgbackrest --config="$(pgbr_repo_field "$1" 2)" --stanza=demo --output=json info |
    /usr/bin/python3 -c 'import json,sys; print(" ".join(b["label"] for b in json.load(sys.stdin)[0]["backup"]))'
}

# tree DIR: names and types below DIR (what expire changes), sorted; without pgbrfs's staging directory in the
# backing root (the mount's, not the repository's).
tree() { (cd "$1" && find . -mindepth 1 -path ./.pgbrfs-staging -prune -o -printf '%P %y\n' | LC_ALL=C sort); }
# repo_lines LOG: the messages about the repository ("repo1: ...") without timestamp, process and level, in order.
repo_lines() { sed -nE 's/^.*(P00 +[A-Z]+|ERROR|WARN): (\[[0-9]+\]: )?((\[DRY-RUN\] )?repo1: .*)$/\3/p' "$1"; }
# unmount MNT PID: pgbrfs_unmount waits for $PGBRFS_PID, the daemon of the last mount; give it the right one.
unmount() { PGBRFS_PID=$2 pgbrfs_unmount "$1"; }

# compare_expire NAME CASE OPTIONS...: one retention setting on fresh copies of repository NAME.
compare_expire() {
  local name=$1 case=$2
  shift 2
  local repo pass cipher dir=$work/$name-$case
  repo=$(pgbr_repo_field "$name" 3) cipher=$(pgbr_repo_field "$name" 4) pass=$(pgbr_repo_field "$name" 6)
  mkdir -p "$dir"
  cp -a "$repo" "$dir/a"
  cp -a "$repo" "$dir/b"
  chown postgres: "$dir"
  local view=$dir/a
  if [[ $cipher != none ]]; then
    printf '%s\n' "$pass" >"$dir/pass"
    chmod 600 "$dir/pass"
    view=$dir/mnt-a
    pgbrfs_mount "$dir/a" "$view" -o passfile="$dir/pass"
    pid_a=$PGBRFS_PID
    pgbr_write_config "$dir/pgbr.conf" "$view" aes-256-cbc "$dir/pg"
    pgbackrest_write_config "$dir/pgbackrest.conf" "$dir/b" "$pass" "$dir/pg" "$dir"
  else
    pass=""
    pgbr_write_config "$dir/pgbr.conf" "$view" none "$dir/pg"
    pgbackrest_write_config "$dir/pgbackrest.conf" "$dir/b" "" "$dir/pg" "$dir"
  fi
  local pgbr_status=0 oracle_status=0
  pgbr_run --config="$dir/pgbr.conf" --stanza=demo --log-level-console=detail "$@" expire >"$dir/pgbr.log" 2>&1 ||
    pgbr_status=$?
  pgbackrest_run --config="$dir/pgbackrest.conf" --stanza=demo --log-level-console=detail "$@" expire \
    >"$dir/pgbackrest.log" 2>&1 || oracle_status=$?
  local what="$name $case ($*)"
  if [[ $pgbr_status == "$oracle_status" ]]; then ok "$what: exit $pgbr_status in both"; else
    bad "$what: pgbr exit $pgbr_status, pgbackrest exit $oracle_status"
    sed 's/^/        pgbr: /' "$dir/pgbr.log" >&2
    sed 's/^/        pgbackrest: /' "$dir/pgbackrest.log" >&2
  fi
  if [[ $cipher != none ]]; then unmount "$view" "$pid_a"; fi
  if diff <(repo_lines "$dir/pgbr.log") <(repo_lines "$dir/pgbackrest.log") >"$dir/log.diff"; then
    ok "$what: same $(repo_lines "$dir/pgbr.log" | wc -l) 'repo1:' log lines"
  else
    bad "$what: 'repo1:' log lines differ (< pgbr, > pgbackrest)"
    head -20 "$dir/log.diff" | sed 's/^/        /' >&2
  fi
  if diff <(tree "$dir/a") <(tree "$dir/b") >"$dir/tree.diff"; then
    ok "$what: same backups, WAL and files ($(grep -c ' f$' < <(tree "$dir/a")) files)"
  else
    bad "$what: repository trees differ (< pgbr, > pgbackrest)"
    head -20 "$dir/tree.diff" | sed 's/^/        /' >&2
  fi
  if [[ $(readlink "$dir/a/backup/demo/latest") == "$(readlink "$dir/b/backup/demo/latest")" ]]; then
    ok "$what: latest -> $(readlink "$dir/a/backup/demo/latest")"
  else
    bad "$what: latest -> $(readlink "$dir/a/backup/demo/latest") (pgbr), $(readlink "$dir/b/backup/demo/latest") (pgbackrest)"
  fi
  local info_a=$dir/a/backup/demo/backup.info info_b=$dir/b/backup/demo/backup.info
  if [[ $cipher != none ]]; then
    pgbrfs_mount "$dir/a" "$dir/mnt-a" -o passfile="$dir/pass"
    pid_a=$PGBRFS_PID
    pgbrfs_mount "$dir/b" "$dir/mnt-b" -o passfile="$dir/pass"
    pid_b=$PGBRFS_PID
    info_a=$dir/mnt-a/backup/demo/backup.info info_b=$dir/mnt-b/backup/demo/backup.info
  fi
  if cmp -s "$info_a" "$info_b" && cmp -s "$info_a" "$info_a.copy" && cmp -s "$info_b" "$info_b.copy"; then
    ok "$what: backup.info (and copy) identical: $(grep -c '^20' "$info_a") backups"
  else
    bad "$what: backup.info differs"
    diff "$info_a" "$info_b" | head -20 | sed 's/^/        /' >&2
  fi
  if [[ $cipher != none ]]; then
    unmount "$dir/mnt-a" "$pid_a"
    unmount "$dir/mnt-b" "$pid_b"
  fi
  grep -E 'expire|remove' "$dir/pgbr.log" | sed 's/^/        /' | head -8
  rm -rf "$dir"
}

# enc-gz: F D I F(timeline 2); plain-gz: F D I I(timeline 2), one full only.
for name in enc-gz plain-gz; do
  pg_step "repository $name"
  read -r -a all <<<"$(labels "$name")"
  [[ ${#all[@]} -ge 4 ]] || pg_die "$name: expected at least 4 backups, found: ${all[*]}"
  compare_expire "$name" full1 --repo1-retention-full=1
  compare_expire "$name" archive-incr1 --repo1-retention-archive=1 --repo1-retention-archive-type=incr
  compare_expire "$name" set-first --set="${all[0]}"
  compare_expire "$name" set-latest --set="${all[-1]}"
  [[ $name == enc-gz ]] || continue
  compare_expire "$name" full2-diff1 --repo1-retention-full=2 --repo1-retention-diff=1
  compare_expire "$name" archive-diff --repo1-retention-full=2 --repo1-retention-archive=1 \
    --repo1-retention-archive-type=diff
  compare_expire "$name" archive-incr --repo1-retention-full=2 --repo1-retention-archive=2 \
    --repo1-retention-archive-type=incr
  compare_expire "$name" time --repo1-retention-full=1 --repo1-retention-full-type=time
  compare_expire "$name" set-diff --set="${all[1]}"
  compare_expire "$name" set-absent --set=20000101-000000F --repo1-retention-full=1
  compare_expire "$name" dry-run --repo1-retention-full=1 --dry-run
done

pgbr_test_end
