#!/usr/bin/env bash
# Restore by copying a snapshot out of the mount: `cp -a MOUNT/snapshot/demo/<label>/. "$PGDATA"`, recovery.signal
# and a restore_command (the real `pgbackrest archive-get` on the backing directory), then PostgreSQL 15 starts and
# its tables have the contents recorded when the backup was taken. Backups made by `pgbr backup` through an
# encrypted mount (full, diff, incr; a tablespace), and by the real pgbackrest 2.45 (the generated repositories):
# enc-gz-bundle (repo1-bundle=y: bundle members decrypted one by one; full and incr, whose files come from all three
# backups of the set), enc-none (diff) and enc-zst (incr); the unencrypted plain-gz incr compared entry by entry
# with `pgbackrest restore` of it (lib/restore_tree.py). Then a corrupted copy of enc-gz: the damaged file reads
# as EIO with one log line naming the snapshot file and the repository file, every other file copies as from the
# intact repository; and the snapshot refuses changes.
# Usage: pgbrfs_snapshot_test.sh BUILD_DIR GENERATED_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_generated_init "$1" "$2"
[[ -x $PGBRFS ]] || pg_die "'$PGBRFS' is not built"

elapsed() { python3 -c "print(round($(date +%s.%N) - $1, 1))"; }

# table_sums DIR PORT TABLE...: "name rows md5" per table, rows in key order (every table here has a column `id`
# or is a pgbench table).
table_sums() {
  local dir=$1 port=$2 sql="" table key
  shift 2
  for table in "$@"; do
    case $table in
      pgbench_accounts) key=aid ;; pgbench_branches) key=bid ;; pgbench_tellers) key=tid ;; *) key=id ;;
    esac
    [[ -z $sql ]] || sql+=" union all "
    sql+="select '$table ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' order by $key)), '-') from $table t"
  done
  pg_cluster_psql "$dir" "$port" "$sql"
}

# restore_and_check NAME SNAPSHOT RESTORE_COMMAND EXPECTED TABLE...: cp -a of the snapshot into a new data
# directory, recovery to the end of the backup, start, compare the table sums with EXPECTED.
restores=0 last_sums=""
restore_and_check() {
  local name=$1 snapshot=$2 restore_command=$3 expected=$4 dir port start sums i
  shift 4
  restores=$((restores + 1)) last_sums=""
  dir=$work/restored-$restores  # its own log file too
  start=$(date +%s.%N)
  if ! cp -a "$snapshot/." "$dir/" 2>"$work/cp.err"; then
    bad "$name: cp -a of the snapshot failed"
    head -5 "$work/cp.err" | sed 's/^/        /'
    return 0
  fi
  ok "$name: cp -a of $(du -sm "$dir" | cut -f1) MB in $(elapsed "$start") s"
  install -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0600 /dev/null "$dir/recovery.signal"
  pg_free_port port
  # pgbackrest archive-get insists that pg1-path is the cluster it serves.
  if ! pg_cluster_start "$dir" "$port" "restore_command=${restore_command//@PGDATA@/$dir}" "recovery_target=immediate" \
    "recovery_target_action=promote" "recovery_target_timeline=current"; then
    bad "$name: the restored cluster does not start"
    return 0
  fi
  for ((i = 0; i < 120; i++)); do
    [[ $(pg_cluster_psql "$dir" "$port" "select pg_is_in_recovery()" 2>/dev/null) == f ]] && break
    sleep 0.2
  done
  sums=$(table_sums "$dir" "$port" "$@" 2>&1) || true
  last_sums=$sums
  if [[ -z $expected ]]; then
    ok "$name: started ($(tr '\n' ';' <<<"$sums" | sed 's/ [0-9a-f]\{32\}//g'))"
  elif [[ $sums == "$expected" ]]; then
    ok "$name: started, tables as backed up ($(tr '\n' ';' <<<"$sums" | sed 's/ [0-9a-f]\{32\}//g'))"
  else
    bad "$name: tables differ"
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$sums") | sed 's/^/        /' || true
  fi
  grep -q 'restored log file ".*" from archive' "$(pg_cluster_log "$dir")" &&
    ok "$name: WAL replayed through restore_command" || bad "$name: no WAL restored by restore_command"
  pg_cluster_stop "$dir" immediate  # nothing of it is needed afterwards
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------------------------------
pg_step "pgbr backup through an encrypted mount: a cluster with a tablespace, full, diff, incr"
mkdir -p "$work/pgbr"
pgbr_repo_setup "$work/pgbr" encrypted
mkdir -p "$work/ts"
chown "$PG_OS_USER:" "$work/ts"
pgbr_write_config "$work/pgbr.conf" "$repo" "$cipher" "$work/pg"
pgbackrest_write_config "$work/pgbackrest.conf" "$backing" "$passphrase" "$work/pg" "$work/pgbr"
pg_free_port port
pg_cluster_start "$work/pg" "$port" "archive_command=$PGBR --config=$work/pgbr.conf --stanza=demo archive-push %p" \
  "archive_timeout=0" "max_wal_size=256MB"
backup_opts="--config=$work/pgbr.conf --stanza=demo --pg1-socket-path=$(pg_cluster_socket_dir "$work/pg") \
  --pg1-port=$port --start-fast --archive-timeout=60 --log-level-console=warn"
pgbr_run --config="$work/pgbr.conf" --stanza=demo stanza-create >/dev/null || pg_die "pgbr stanza-create failed"
pg_cluster_psql "$work/pg" "$port" "create tablespace ts1 location '$work/ts'"
ts_oid=$(pg_cluster_psql "$work/pg" "$port" "select oid from pg_tablespace where spcname = 'ts1'")
pg_cluster_pgbench_init "$work/pg" "$port" 1
pg_cluster_psql "$work/pg" "$port" "create table t_ts (id int primary key, pad text) tablespace ts1;
  insert into t_ts select g, md5(g::text) from generate_series(1, 20000) g"
tables=(pgbench_accounts pgbench_branches pgbench_tellers t_ts)
declare -a pgbr_labels=() pgbr_sums=()
for type in full diff incr; do
  if [[ $type != full ]]; then
    pg_cluster_psql "$work/pg" "$port" "update pgbench_accounts set abalance = abalance + 1 where aid % 7 = 0;
      insert into t_ts select g, '$type' from generate_series((select max(id) + 1 from t_ts), (select max(id) + 500 from t_ts)) g;
      delete from pgbench_tellers where tid % 3 = 0" >/dev/null
  fi
  out=$(pgbr_run $backup_opts --type=$type backup 2>&1) || { printf '%s\n' "$out" >&2; pg_die "pgbr backup --type=$type failed"; }
  label=$(ls "$repo/backup/demo" | grep -E '^[0-9]{8}-[0-9]{6}F' | sort | tail -1)
  pgbr_labels+=("$label")
  pgbr_sums+=("$(table_sums "$work/pg" "$port" "${tables[@]}")")
done
ok "pgbr backups ${pgbr_labels[*]}"
pg_cluster_stop "$work/pg" fast

snap=$repo/snapshot/demo
listing=$(ls "$snap")
expect "snapshot/demo lists the three labels and latest" \
  test "$listing" = "$(printf '%s\n' "${pgbr_labels[@]}" latest | LC_ALL=C sort)"
expect "latest is a link to the newest label" test "$(readlink "$snap/latest")" = "${pgbr_labels[2]}"
expect "the snapshot root lists snapshot" grep -qx snapshot <(ls "$repo")
expect "pg_tblspc/$ts_oid links into the snapshot" \
  test "$(readlink "$snap/${pgbr_labels[2]}/pg_tblspc/$ts_oid")" = "../pgbrfs_tblspc/$ts_oid"
expect "tablespace contents reachable through the link" test -d "$snap/${pgbr_labels[2]}/pg_tblspc/$ts_oid/PG_15_202209061"
expect "pg_wal present and empty" test -d "$snap/${pgbr_labels[0]}/pg_wal" -a -z "$(ls "$snap/${pgbr_labels[0]}/pg_wal" | grep -v archive_status)"
expect "backup_label present" grep -q '^START WAL LOCATION' "$snap/${pgbr_labels[0]}/backup_label"
expect "PG_VERSION has the manifest's owner and mode" test "$(stat -c '%U %a' "$snap/${pgbr_labels[0]}/PG_VERSION")" = "postgres 600"
if touch "$snap/latest/newfile" 2>"$work/err" || mkdir "$snap/x" 2>>"$work/err" || rm "$snap/latest/PG_VERSION" 2>>"$work/err"; then
  bad "the snapshot accepted a change"
else
  grep -q 'Read-only file system' "$work/err" && ok "changes under snapshot/ are refused (EROFS)" || bad "refusal: $(cat "$work/err")"
fi

restore_cmd="pgbackrest --config=$work/pgbackrest.conf --stanza=demo --pg1-path=@PGDATA@ archive-get %f \"%p\""
for i in 0 1 2; do
  restore_and_check "pgbr ${pgbr_labels[i]}" "$snap/${pgbr_labels[i]}" "$restore_cmd" "${pgbr_sums[i]}" "${tables[@]}"
done

# ---------------------------------------------------------------------------------------------------------------------
# Generated repositories: the same cluster at the same points in time in every repository, so a backup type gives
# the same table contents whatever the repository; the counts are those the generator wrote.
declare -A expected_sums=()
mount_generated() {
  local name=$1
  printf '%s\n' "$(pgbr_repo_field "$name" 6)" >"$work/pass-$name"
  chmod 600 "$work/pass-$name"
  pgbrfs_mount "$(pgbr_repo_field "$name" 3)" "$work/mnt-$name" -o passfile="$work/pass-$name"
}
labels_of() {  # the first full, diff and incr label of repository NAME (from the backing directory)
  local dir name full="" diff="" incr=""
  for dir in "$(pgbr_repo_field "$1" 3)"/backup/demo/*; do
    name=$(basename "$dir")
    case $name in
      *F) full=${full:-$name} ;; *D) diff=${diff:-$name} ;; *I) incr=${incr:-$name} ;;
    esac
  done
  echo "$full $diff $incr"
}
generated_tables() {
  case $1 in
    full) echo "t_main t_ts" ;; diff) echo "pgbench_accounts t_main t_ts" ;; incr) echo "pgbench_accounts t_incr t_main t_ts" ;;
  esac
}
expected_counts() {
  case $1 in
    full) echo "t_main 1000 t_ts 2000" ;; diff) echo "pgbench_accounts 100000 t_main 1000 t_ts 2000" ;;
    incr) echo "pgbench_accounts 100000 t_incr 500 t_main 667 t_ts 2500" ;;
  esac
}
# check_counts TYPE SUMS: the row counts in SUMS are those the generator wrote before a backup of TYPE.
check_counts() {
  [[ $(awk '{printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2}' <<<"$2") == "$(expected_counts "$1")" ]]
}

# Every restore must have the row counts the generator wrote; the first snapshot of a type sets the table contents
# the other repositories' snapshots of that type must have. The timeline-2 fork of the generated cluster happened
# before some of these backups: recovery stays on timeline 1.
for run in "enc-gz-bundle full" "enc-gz-bundle incr" "enc-none diff" "enc-zst incr"; do
  read -r name type <<<"$run"
  [[ -d $work/mnt-$name ]] || mount_generated "$name"
  read -r full diff incr <<<"$(labels_of "$name")"
  pg_step "pgbackrest-written $name: cp -a of the $type backup"
  config=$(pgbr_repo_field "$name" 2)
  restore_and_check "$name $type ${!type}" "$work/mnt-$name/snapshot/demo/${!type}" \
    "pgbackrest --config=$config --stanza=demo --pg1-path=@PGDATA@ archive-get %f \"%p\"" \
    "${expected_sums[$type]:-}" $(generated_tables "$type")
  check_counts "$type" "$last_sums" && ok "$name $type: row counts as the generator wrote them" ||
    bad "$name $type: row counts $(tr '\n' ';' <<<"$last_sums"), expected $(expected_counts "$type")"
  expected_sums[$type]=${expected_sums[$type]:-$last_sums}
done

# ---------------------------------------------------------------------------------------------------------------------
pg_step "unencrypted plain-gz (cipher-type=none): the copy of the incr snapshot equals pgbackrest restore"
mkdir -p "$work/mnt-plain-gz"
pgbrfs_mount "$(pgbr_repo_field plain-gz 3)" "$work/mnt-plain-gz" -o cipher-type=none
read -r full diff incr <<<"$(labels_of plain-gz)"
mine=$work/plain-mine oracle=$work/plain-oracle
cp -a "$work/mnt-plain-gz/snapshot/demo/$incr/." "$mine/"
install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0700 "$oracle"
pgbackrest_run --config="$(pgbr_repo_field plain-gz 2)" --stanza=demo --log-level-console=warn --pg1-path="$oracle" \
  --set="$incr" --tablespace-map-all="$oracle-ts" --process-max=2 restore
# restore_tree.py follows tablespace links by absolute path: move the snapshot's tablespace where pgbackrest put its.
for link in "$mine"/pg_tblspc/*; do
  oid=$(basename "$link")
  name=$(basename "$(readlink "$oracle/pg_tblspc/$oid")")
  [[ $(readlink "$link") == "../pgbrfs_tblspc/$oid" ]] || bad "pg_tblspc/$oid -> $(readlink "$link")"
  mkdir -p "$mine-ts"
  mv "$mine/pgbrfs_tblspc/$oid" "$mine-ts/$name"
  ln -sfn "$mine-ts/$name" "$link"
  chown -h "$PG_OS_USER:$PG_OS_USER" "$link"
done
rmdir "$mine/pgbrfs_tblspc"
if diff <("$here/lib/restore_tree.py" "$mine" --skip postgresql.auto.conf) \
  <("$here/lib/restore_tree.py" "$oracle" --skip postgresql.auto.conf --skip recovery.signal | grep -v '^pg_data/recovery.signal skipped$') \
  >"$work/tree.diff"; then
  ok "plain-gz $incr: paths, types, modes, owners, sizes, mtimes and SHA-1s equal pgbackrest restore ($(grep -c . <("$here/lib/restore_tree.py" "$mine")) entries)"
else
  bad "plain-gz $incr: the copy differs from pgbackrest restore"
  head -20 "$work/tree.diff" | sed 's/^/        /'
fi
rm -rf "$mine" "$mine-ts" "$oracle" "$oracle-ts"

# ---------------------------------------------------------------------------------------------------------------------
pg_step "a corrupted copy of enc-gz: EIO for the damaged file, a log line, every other file intact"
cp -a "$(pgbr_repo_field enc-gz 3)" "$work/corrupt"
read -r full diff incr <<<"$(labels_of enc-gz)"
victim=$(cd "$work/corrupt/backup/demo/$full" && find pg_data/base -name '*.gz' -size +20k | LC_ALL=C sort | head -1)
[[ -n $victim ]] || pg_die "no data file to corrupt in enc-gz $full"
size=$(stat -c %s "$work/corrupt/backup/demo/$full/$victim")
printf '\xff' | dd of="$work/corrupt/backup/demo/$full/$victim" bs=1 seek=$((size / 2)) conv=notrunc status=none
printf '%s\n' "$(pgbr_repo_field enc-gz 6)" >"$work/pass-corrupt"
chmod 600 "$work/pass-corrupt"
pgbrfs_mount "$work/corrupt" "$work/mnt-corrupt" -o passfile="$work/pass-corrupt"
mount_generated enc-gz
snapshot_file=${victim#pg_data/}
snapshot_file=${snapshot_file%.gz}
if cat "$work/mnt-corrupt/snapshot/demo/$full/$snapshot_file" >/dev/null 2>"$work/err"; then
  bad "the corrupted file read without error"
else
  grep -q 'Input/output error' "$work/err" && ok "reading $snapshot_file: EIO" || bad "reading $snapshot_file: $(cat "$work/err")"
fi
logged=$(grep -c "snapshot/demo/$full/$snapshot_file" "$work/mnt-corrupt.log" || true)
line=$(grep "snapshot/demo/$full/$snapshot_file" "$work/mnt-corrupt.log" | head -1)
[[ $logged == 1 && $line == *"backup/demo/$full/$victim"* ]] &&
  ok "one log line names the snapshot file and the repository file: ${line:0:200}" ||
  bad "log lines for the damaged file: $logged: $line"
rc=0
cp -a "$work/mnt-corrupt/snapshot/demo/$full/." "$work/copy-corrupt/" 2>"$work/err" || rc=$?
cp -a "$work/mnt-enc-gz/snapshot/demo/$full/." "$work/copy-intact/"
errors=$(grep -c . "$work/err" || true)
((rc != 0 && errors == 1)) && grep -q "$snapshot_file.*Input/output error" "$work/err" &&
  ok "cp -a of the damaged snapshot fails for that one file only" || bad "cp -a: exit $rc, errors: $(cat "$work/err")"
rm -f "$work/copy-intact/$snapshot_file" "$work/copy-corrupt/$snapshot_file"
if diff -r -q "$work/copy-intact" "$work/copy-corrupt" >"$work/diff"; then
  ok "every other file equals the copy from the intact repository ($(find "$work/copy-intact" -type f | wc -l) files)"
else
  bad "other files differ: $(head -3 "$work/diff")"
fi
expect "the corrupted repository is unchanged by reading" test "$(stat -c %s "$work/corrupt/backup/demo/$full/$victim")" = "$size"

pgbr_test_end
