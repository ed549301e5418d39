#!/usr/bin/env bash
# pgbr backup with a real PostgreSQL 15 cluster (pgbench data and a tablespace, archive_command = pgbr archive-push)
# through an encrypted pgbrfs mount (MODE encrypted) or into a plain directory (MODE plain), checked by the real
# pgbackrest 2.45 on the backing directory: incr with no prior
# (becomes full), changes, diff, more changes, incr; a backup killed mid-way (nothing valid left, the next backup
# succeeds); then pgbackrest info and verify are clean and pgbackrest restore of each backup starts on its own port
# with the per-table checksums recorded when the backup was taken.
# Usage: pgbr_backup_test.sh BUILD_DIR encrypted|plain
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
mode=${2:?usage: pgbr_backup_test.sh BUILD_DIR encrypted|plain}

pg_step "$mode repository and cluster with a tablespace"
pg_tmpdir work
pgbr_repo_setup "$work" "$mode"
mkdir -p "$work/ts"
chown "$PG_OS_USER:" "$work/ts"
pgbr_write_config "$work/pgbr.conf" "$repo" "$cipher" "$work/pg"
pgbackrest_write_config "$work/pgbackrest.conf" "$backing" "$passphrase" "$work/pg" "$work"
pg_free_port port
pg_cluster_start "$work/pg" "$port" "archive_command=$PGBR --config=$work/pgbr.conf --stanza=demo archive-push %p" \
  "archive_timeout=0" "max_wal_size=256MB"
pgbr_opts="--config=$work/pgbr.conf --stanza=demo"
backup_opts="$pgbr_opts --pg1-socket-path=$(pg_cluster_socket_dir "$work/pg") --pg1-port=$port --start-fast \
  --archive-timeout=60 --log-level-console=info --exclude=junk/ --exclude=scratch"
mkdir -p "$work/pg/junk" "$work/pg/scratch"
echo junk > "$work/pg/junk/file"
echo scratch > "$work/pg/scratch/file"
chown -R "$PG_OS_USER:" "$work/pg/junk" "$work/pg/scratch"
pgbr_run $pgbr_opts stanza-create || pg_die "pgbr stanza-create failed"
pg_cluster_psql "$work/pg" "$port" "create tablespace ts1 location '$work/ts'"
ts_oid=$(pg_cluster_psql "$work/pg" "$port" "select oid from pg_tablespace where spcname = 'ts1'")
pg_cluster_pgbench_init "$work/pg" "$port" 1
pg_cluster_psql "$work/pg" "$port" "create table t_ts (id int primary key, pad text) tablespace ts1;
  insert into t_ts select g, md5(g::text) from generate_series(1, 20000) g;
  create unlogged table t_unlogged as select g from generate_series(1, 1000) g"

# One line per table: name and the md5 of its rows in key order.
table_sums() {
  pg_cluster_psql "$1" "$2" "
    select 'accounts ' || md5(string_agg(t::text, ',' order by aid)) from pgbench_accounts t union all
    select 'branches ' || md5(string_agg(t::text, ',' order by bid)) from pgbench_branches t union all
    select 'tellers ' || md5(string_agg(t::text, ',' order by tid)) from pgbench_tellers t union all
    select 'history ' || coalesce(md5(string_agg(t::text, ',' order by tid, bid, aid, mtime)), '-')
      from pgbench_history t union all
    select 't_ts ' || md5(string_agg(t::text, ',' order by id)) from t_ts t"
}

lacks_in_file() { ! grep -qE "$1" "$2"; }

declare -a labels=() sums=()
# run_backup NAME ARGS...: a pgbr backup that must succeed; records its label and the table sums.
run_backup() {
  local name=$1 out label
  shift
  if ! out=$(pgbr_run $backup_opts "$@" backup 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    bad "$name"
    return 1
  fi
  label=$(sed -n 's/.*new backup label = \([0-9F_DI-]*\).*/\1/p' <<< "$out")
  ok "$name ($label)"
  labels+=("$label")
  sums+=("$(table_sums "$work/pg" "$port")")
  PGBR_OUT=$out
}

pg_step "backup with no prior backup: incr becomes full"
run_backup "pgbr backup (default type)"
expect "... warns that incr became full" grep -q "no prior backup exists, incr backup has been changed to full" \
  <<< "$PGBR_OUT"
expect "... the label is a full label" grep -qE '^[0-9]{8}-[0-9]{6}F$' <<< "${labels[0]}"
expect "... progress and size are reported" grep -q "full backup size = " <<< "$PGBR_OUT"
if [[ $mode == encrypted ]]; then
  expect "... backup.manifest has a 64-character manifest sub-pass" \
    grep -qE '^cipher-pass="[A-Za-z0-9+/]{64}"$' "$repo/backup/demo/${labels[0]}/backup.manifest"
  expect "... files are stored encrypted" test "$(head -c 8 "$backing/backup/demo/${labels[0]}/pg_data/PG_VERSION.gz")" = "Salted__"
else
  expect "... no [cipher] in a plain repository" bash -c "! grep -q cipher '$repo/backup/demo/${labels[0]}/backup.manifest'"
  expect "... stored files have their rck" grep -q '"rck":' "$repo/backup/demo/${labels[0]}/backup.manifest"
fi
expect "... the tablespace link is in the backup" test -L "$repo/backup/demo/${labels[0]}/pg_data/pg_tblspc/$ts_oid"
expect "... --exclude=junk/ keeps the directory, not its file" bash -c "
  grep -q '^pg_data/junk=' '$repo/backup/demo/${labels[0]}/backup.manifest' &&
    ! grep -q '^pg_data/junk/file=' '$repo/backup/demo/${labels[0]}/backup.manifest'"
expect "... --exclude=scratch leaves the directory out" bash -c "! grep -q '^pg_data/scratch' '$repo/backup/demo/${labels[0]}/backup.manifest'"
expect "... postmaster.pid is not backed up" \
  bash -c "! grep -q 'pg_data/postmaster.pid=' '$repo/backup/demo/${labels[0]}/backup.manifest'"
expect "... the unlogged table's main fork is not backed up" bash -c "
  f=\$(runuser -u $PG_OS_USER -- $PG_BIN/psql -X -At -h $(pg_cluster_socket_dir "$work/pg") -p $port \
    -c \"select pg_relation_filepath('t_unlogged')\")
  grep -q \"pg_data/\${f}_init=\" '$repo/backup/demo/${labels[0]}/backup.manifest' &&
    ! grep -q \"pg_data/\${f}=\" '$repo/backup/demo/${labels[0]}/backup.manifest'"

pg_step "changes, diff backup"
pg_cluster_pgbench "$work/pg" "$port" -n -t 300 -c 2 postgres > /dev/null
pg_cluster_psql "$work/pg" "$port" "update t_ts set pad = 'diff' where id % 7 = 0"
run_backup "pgbr backup --type=diff" --type=diff
expect "... the label is a diff of the full" grep -qE "^${labels[0]}_[0-9]{8}-[0-9]{6}D$" <<< "${labels[1]}"
expect "... unchanged files are references to the full" \
  grep -q "\"reference\":\"${labels[0]}\"" "$repo/backup/demo/${labels[1]}/backup.manifest"
[[ $mode == plain ]] || expect "... the manifest sub-pass is inherited from the full" test \
  "$(grep cipher-pass "$repo/backup/demo/${labels[0]}/backup.manifest")" = \
  "$(grep cipher-pass "$repo/backup/demo/${labels[1]}/backup.manifest")"

pg_step "page checksums: checked in relation files, a damaged page is reported"
full_manifest="$repo/backup/demo/${labels[0]}/backup.manifest"
expect "the full backup ran page checks (the cluster has data checksums)" grep -q '^option-checksum-page=true' "$full_manifest"
expect "... relation files record checksum-page true" grep -q '^pg_data/base/1/1259={.*"checksum-page":true' "$full_manifest"
expect "... pg_control is not page-checked" lacks_in_file '^pg_data/global/pg_control={.*checksum-page' "$full_manifest"
# A byte flipped in the rows of a table's first page on disk (the page is clean after the checkpoint, so
# PostgreSQL does not write it again).
pg_cluster_psql "$work/pg" "$port" "create table t_damaged as select g from generate_series(1, 100) g; checkpoint"
damaged_file=$(pg_cluster_psql "$work/pg" "$port" "select pg_relation_filepath('t_damaged')")
printf '\xff' | dd of="$work/pg/$damaged_file" bs=1 seek=8000 conv=notrunc status=none
pg_step "more changes, incr backup with --delta and process-max 2"
pg_cluster_pgbench "$work/pg" "$port" -n -t 300 -c 2 postgres > /dev/null
pg_cluster_psql "$work/pg" "$port" "insert into t_ts select g, 'incr' from generate_series(20001, 25000) g"
run_backup "pgbr backup --type=incr --delta --process-max=2" --type=incr --delta --process-max=2
expect "... the manifest records delta" grep -q '^option-delta=true' "$repo/backup/demo/${labels[2]}/backup.manifest"
expect "... the label is an incr of the full" grep -qE "^${labels[0]}_[0-9]{8}-[0-9]{6}I$" <<< "${labels[2]}"
expect "... warns about the damaged page" grep -q "invalid page checksums found in file $work/pg/$damaged_file at pages 0" <<< "$PGBR_OUT"
expect "... and records it in the manifest" \
  grep -q "^pg_data/$damaged_file={.*\"checksum-page\":false,\"checksum-page-error\":\[0\]" \
  "$repo/backup/demo/${labels[2]}/backup.manifest"

pg_step "a backup killed mid-way leaves nothing valid; the next one succeeds"
pg_cluster_pgbench "$work/pg" "$port" -n -t 100 -c 1 postgres > /dev/null
before=$(ls "$repo/backup/demo")
pg_as_postgres "$PGBR" $backup_opts --type=full --compress-type=bz2 backup > /dev/null 2>&1 &
killed_pid=$!
killed=""
for ((i = 0; i < 300; i++)); do
  for dir in "$repo"/backup/demo/*F; do
    name=$(basename "$dir")
    if ! grep -qx "$name" <<< "$before" && [[ -e $dir/backup.manifest.copy ]]; then killed=$name; break 2; fi
  done
  sleep 0.02
done
kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}
kill_tree "$killed_pid"
wait "$killed_pid" 2>/dev/null || true
expect "the backup was killed while copying ($killed)" test -n "$killed" -a ! -e "$repo/backup/demo/$killed/backup.manifest"
info=$(pgbr_run $pgbr_opts info)
lacks() { ! grep -qE "$1" <<< "$2"; }
expect "pgbr info does not list the killed backup" lacks "$killed" "$info"
out=$(pgbr_run $backup_opts --type=incr backup 2>&1) && ok "the next backup succeeds" || bad "the next backup: $out"
expect "... and removes the incomplete one" test ! -e "$repo/backup/demo/$killed"
expect "... with a warning" grep -q "backup '$killed' was not completed" <<< "$out"

pg_step "pgbackrest info and verify on the backing directory"
pg_cluster_stop "$work/pg"
[[ $mode == plain ]] || pgbrfs_unmount "$repo"
pgbackrest_opts="--config=$work/pgbackrest.conf --stanza=demo"
info=$(pgbackrest_run $pgbackrest_opts info)
printf '%s\n' "$info" | sed 's/^/    /'
expect "pgbackrest info: status ok" grep -q "status: ok" <<< "$info"
for label in "${labels[@]}"; do
  expect "pgbackrest info lists $label" grep -q "backup: $label" <<< "$info"
done
verify=$(pgbackrest_run $pgbackrest_opts verify --output=text --verbose 2>&1) || true
printf '%s\n' "$verify" | sed 's/^/    /'
expect "pgbackrest verify: status ok" grep -q "status: ok" <<< "$verify"
expect "pgbackrest verify: nothing invalid" lacks "checksum invalid: [1-9]|size invalid: [1-9]|other: [1-9]" "$verify"

pg_step "pgbackrest restore of each backup; PostgreSQL starts with the data of the backup"
for i in "${!labels[@]}"; do
  label=${labels[$i]}
  target=$work/restore$i
  mkdir -p "$target" "$target.ts"
  chmod 700 "$target"
  chown "$PG_OS_USER:" "$target" "$target.ts"
  if ! out=$(pgbackrest_run $pgbackrest_opts --pg1-path="$target" --set="$label" --type=immediate \
    --target-action=promote --tablespace-map="$ts_oid=$target.ts" \
    --recovery-option="restore_command=pgbackrest $pgbackrest_opts --pg1-path=$target archive-get %f \"%p\"" restore 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    bad "pgbackrest restore --set=$label"
    continue
  fi
  ok "pgbackrest restore --set=$label"
  pg_free_port rport
  pg_cluster_start "$target" "$rport" "archive_mode=off"
  for ((j = 0; j < 150; j++)); do
    [[ $(pg_cluster_psql "$target" "$rport" "select pg_is_in_recovery()") == f ]] && break
    sleep 0.2
  done
  got=$(table_sums "$target" "$rport") || got=""
  expect "restored $label: every table matches the backup" test "$got" = "${sums[$i]}"
  expect "restored $label: the tablespace is at the mapped location" \
    test "$(readlink "$target/pg_tblspc/$ts_oid")" = "$target.ts"
  pg_cluster_stop "$target"
done

pg_step "pgbackrest backup --type=incr on top of pgbr's backups"
pg_cluster_start "$work/pg" "$port" "archive_command=pgbackrest $pgbackrest_opts archive-push %p" "archive_timeout=0"
if out=$(pgbackrest_run $pgbackrest_opts --pg1-socket-path="$(pg_cluster_socket_dir "$work/pg")" --pg1-port="$port" \
  --start-fast --type=incr --no-expire-auto backup 2>&1); then
  ok "pgbackrest backup --type=incr with a pgbr backup as prior"
else
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  bad "pgbackrest backup --type=incr with a pgbr backup as prior"
fi
pg_cluster_stop "$work/pg"
verify=$(pgbackrest_run $pgbackrest_opts verify --output=text --verbose 2>&1) || true
printf '%s\n' "$verify" | sed 's/^/    /'
expect "pgbackrest verify after its own incr: status ok" grep -q "status: ok" <<< "$verify"
expect "... nothing invalid" lacks "checksum invalid: [1-9]|size invalid: [1-9]|other: [1-9]" "$verify"

pgbr_test_end
