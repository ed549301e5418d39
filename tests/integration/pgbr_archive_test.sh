#!/usr/bin/env bash
# pgbr with a real PostgreSQL 15 cluster, checked by the real pgbackrest 2.45. MODE "encrypted": the repository is
# a pgbrfs mount (aes-256-cbc) and pgbackrest reads the backing directory with the passphrase; MODE "plain": an
# unencrypted directory used by both. Flow: pgbr stanza-create; archive_command = pgbr archive-push (plus a copy of
# each file for comparison); pgbr check; 20+ segments; pg_basebackup (a .backup file); a standby restored with
# restore_command = pgbr archive-get, promoted (a .history file and timeline 2); then pgbackrest info, verify and
# archive-get of every archived file equal to what PostgreSQL produced. The other way round: segments pushed by
# pgbackrest archive-push come back byte-identical from pgbr archive-get.
# Usage: pgbr_archive_test.sh BUILD_DIR encrypted|plain
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
mode=${2:?usage: pgbr_archive_test.sh BUILD_DIR encrypted|plain}

pg_step "repository ($mode)"
pg_tmpdir work
walcopy=$work/walcopy
mkdir -p "$walcopy"
chown "$PG_OS_USER:" "$walcopy"
pgbr_repo_setup "$work" "$mode"
pgbr_write_config "$work/pgbr.conf" "$repo" "$cipher" "$work/pg"
pgbackrest_write_config "$work/pgbackrest.conf" "$backing" "$passphrase" "$work/pg" "$work"
pgbr_opts="--config=$work/pgbr.conf --stanza=demo"
pgbackrest_opts="--config=$work/pgbackrest.conf --stanza=demo"

pg_step "cluster with archive_command = pgbr archive-push"
pg_free_port port
pg_cluster_start "$work/pg" "$port" \
  "archive_command=$PGBR $pgbr_opts archive-push %p && cp %p $walcopy/%f" "archive_timeout=0" "max_wal_size=256MB"
pgbr_run $pgbr_opts --log-level-console=info stanza-create || pg_die "pgbr stanza-create failed"
ok "stanza-create"
expect "stanza-create again is valid" pgbr_run $pgbr_opts stanza-create
if [[ $mode == encrypted ]]; then
  expect "archive.info is stored encrypted" test "$(head -c 8 "$backing/archive/demo/archive.info")" = "Salted__"
  expect "archive.info has a 64-character archive sub-pass" \
    grep -qE '^cipher-pass="[A-Za-z0-9+/]{64}"$' "$repo/archive/demo/archive.info"
else
  expect "plain archive.info has no [cipher]" bash -c "! grep -q cipher '$repo/archive/demo/archive.info'"
fi
expect "check" pgbr_run $pgbr_opts --pg1-socket-path="$(pg_cluster_socket_dir "$work/pg")" --pg1-port="$port" \
  --archive-timeout=30 check

pg_step "20+ segments and a backup history file"
pg_cluster_psql "$work/pg" "$port" "create table t(id int, pad text)"
for ((i = 0; i < 20; i++)); do
  pg_cluster_psql "$work/pg" "$port" "insert into t select g, repeat('x', 200) from generate_series(1, 2000) g" 
  pg_cluster_switch_wal "$work/pg" "$port" > /dev/null
done
pg_as_postgres "$PG_BIN/pg_basebackup" -h "$(pg_cluster_socket_dir "$work/pg")" -p "$port" -D "$work/standby" \
  -X stream -c fast
last=$(pg_cluster_switch_wal "$work/pg" "$port")
pg_cluster_wait_archived "$work/pg" "$port" "$last" 120
expect "a .backup file was archived" compgen -G "$walcopy/*.backup" > /dev/null

pg_step "standby restoring with pgbr archive-get, promoted"
pg_free_port port2
touch "$work/standby/standby.signal"
chown "$PG_OS_USER:" "$work/standby/standby.signal"
pg_cluster_start "$work/standby" "$port2" \
  "restore_command=$PGBR $pgbr_opts archive-get %f \"%p\"" \
  "archive_command=$PGBR $pgbr_opts archive-push %p && cp %p $walcopy/%f" "archive_timeout=0"
for ((i = 0; i < 100; i++)); do
  replayed=$(pg_cluster_psql "$work/standby" "$port2" "select count(*) from t") || true
  [[ $replayed == 40000 ]] && break
  sleep 0.3
done
expect "the standby replayed every row from the archive" test "$replayed" = 40000
pg_as_postgres "$PG_BIN/pg_ctl" -D "$work/standby" promote -w > /dev/null
pg_cluster_psql "$work/standby" "$port2" "insert into t select g, 'tl2' from generate_series(1, 100) g"
last2=$(pg_cluster_switch_wal "$work/standby" "$port2")
pg_cluster_wait_archived "$work/standby" "$port2" "$last2" 120
expect "00000002.history was archived" test -f "$walcopy/00000002.history"
pg_cluster_stop "$work/standby"
pg_cluster_stop "$work/pg"
segments=$(find "$walcopy" -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
expect "at least 20 segments archived ($segments)" test "$segments" -ge 20

pg_step "pgbr archive-get of every file"
bad_get=0
for file in "$walcopy"/*; do
  name=$(basename "$file")
  pgbr_run $pgbr_opts archive-get "$name" "$work/got" > /dev/null || { bad_get=$((bad_get + 1)); continue; }
  cmp -s "$file" "$work/got" || bad_get=$((bad_get + 1))
done
expect "pgbr archive-get returns every file as PostgreSQL wrote it" test "$bad_get" = 0
pgbr_expect_status "archive-get of a segment not archived is exit 1" 1 pgbr_run $pgbr_opts --log-level-console=info \
  archive-get 0000000900000000000000FF "$work/none"
expect "... with pgBackRest's message" grep -q "unable to find 0000000900000000000000FF in the archive" <<< "$PGBR_OUT"

pgbr_run $pgbr_opts info > "$work/pgbr-info.txt" || bad "pgbr info"
pgbr_run $pgbr_opts --output=json info > "$work/pgbr-info.json" || bad "pgbr info --output=json"

if [[ $mode == encrypted ]]; then
  pg_step "unmount; the real pgbackrest reads the backing directory"
  pgbrfs_unmount "$repo"
fi
pg_step "pgbackrest info, verify and archive-get"
info=$(pgbackrest_run $pgbackrest_opts info)
printf '%s\n' "$info" | sed 's/^/    /'
expect "pgbackrest info shows the cipher" grep -q "cipher: $cipher" <<< "$info"
expect "pgbackrest info shows WAL up to timeline 2" grep -qE "wal archive min/max \(15\): 0000000100000000000000[0-9A-F]{2}/00000002" <<< "$info"
expect "pgbr info (text) is what pgbackrest info prints" diff <(printf '%s\n' "$info") "$work/pgbr-info.txt"
expect "pgbr info --output=json is what pgbackrest prints" \
  diff <(pgbackrest_run $pgbackrest_opts --output=json info) "$work/pgbr-info.json"
verify=$(pgbackrest_run $pgbackrest_opts verify --output=text --verbose 2>&1) || true
printf '%s\n' "$verify" | sed 's/^/    /'
expect "pgbackrest verify: status ok" grep -q "status: ok" <<< "$verify"
expect "pgbackrest verify: nothing invalid" grep -q "checksum invalid: 0, size invalid: 0, other: 0" <<< "$verify"
bad_get=0 count=0
for file in "$walcopy"/*; do
  name=$(basename "$file")
  count=$((count + 1))
  rm -f "$work/got"
  pgbackrest_run $pgbackrest_opts archive-get "$name" "$work/got" > /dev/null 2>&1 || { bad_get=$((bad_get + 1)); pg_error "pgbackrest archive-get $name failed"; continue; }
  cmp -s "$file" "$work/got" || { bad_get=$((bad_get + 1)); pg_error "$name differs"; }
done
expect "pgbackrest archive-get returns all $count files as PostgreSQL wrote them" test "$bad_get" = 0

pg_step "segments pushed by pgbackrest come back from pgbr archive-get"
pgbackrest_run --config="$work/pgbackrest.conf" --stanza=real --no-online stanza-create
pushed=()
for file in $(find "$walcopy" -regextype posix-extended -regex '.*/[0-9A-F]{24}' | sort | head -n 8); do
  pgbackrest_run --config="$work/pgbackrest.conf" --stanza=real archive-push "$file"
  pushed+=("$file")
done
if [[ $mode == encrypted ]]; then
  pgbrfs_mount "$backing" "$repo" -o passfile="$work/pass" -o cipher-type=aes-256-cbc
fi
bad_get=0
for file in "${pushed[@]}"; do
  rm -f "$work/got"
  pgbr_run --config="$work/pgbr.conf" --stanza=real archive-get "$(basename "$file")" "$work/got" ||
    { bad_get=$((bad_get + 1)); continue; }
  cmp -s "$file" "$work/got" || bad_get=$((bad_get + 1))
done
expect "pgbr archive-get returns the ${#pushed[@]} segments pgbackrest pushed" test "$bad_get" = 0

pgbr_test_end
