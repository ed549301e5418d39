#!/usr/bin/env bash
# The WAL views of pgbrfs with a real PostgreSQL 15 cluster, checked by the real pgbackrest 2.45:
#  * archive_command = `test ! -f MOUNT/archive/demo/%f && cp %p MOUNT/archive/demo/%f` into an encrypted mount
#    (plus a plain copy of each file for comparison) archives 20+ segments, a .backup and, after a point-in-time
#    recovery, a .history file; `ls` of the stanza directory does not show WAL names; every name reads back
#    through the mount as PostgreSQL wrote it;
#  * bad input fails at close() with a line in the daemon log and leaves the repository unchanged: a segment of
#    another cluster, another segment under an archived name; an identical re-push succeeds;
#  * pgbackrest verify and pgbackrest archive-get accept everything on the backing directory;
#  * point-in-time recovery: pgbr backup through the mount, a restore point, more changes, pgbr restore to the
#    restore point with restore_command = `cp MOUNT/archive/demo/%f %p`: the data is as at the target, and the
#    promoted cluster archives its .history file through cp;
#  * a cipher-type=none mount with -o compress-type=zst: push with cp, read back, pgbackrest archive-get agrees;
#    invalid compress options are refused at mount.
# Usage: pgbrfs_wal_views_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"

pg_step "encrypted repository mounted with pgbrfs; cluster archiving with cp into the mount"
pg_tmpdir work
walcopy=$work/walcopy
install -d -o "$PG_OS_USER" -g "$PG_OS_USER" "$walcopy"
pgbr_repo_setup "$work" encrypted
mnt=$repo
pgbr_write_config "$work/pgbr.conf" "$repo" "$cipher" "$work/pg"
pgbackrest_write_config "$work/pgbackrest.conf" "$backing" "$passphrase" "$work/pg" "$work"
pgbr_opts="--config=$work/pgbr.conf --stanza=demo"
pgbackrest_opts="--config=$work/pgbackrest.conf --stanza=demo"
pg_free_port port
pg_free_port port2
pg_cluster_start "$work/pg" "$port" \
  "archive_command=test ! -f $mnt/archive/demo/%f && cp %p $mnt/archive/demo/%f && cp %p $walcopy/%f" \
  "archive_timeout=0" "max_wal_size=256MB"
pgbr_run $pgbr_opts stanza-create || pg_die "pgbr stanza-create through the mount failed"
ok "pgbr stanza-create through the mount"

pg_step "20+ segments under load, a full pgbr backup, a restore point, more changes"
pg_cluster_psql "$work/pg" "$port" "create table t (id int, batch int, pad text)"
for ((i = 0; i < 20; i++)); do
  pg_cluster_psql "$work/pg" "$port" "insert into t select g, 0, repeat('x', 200) from generate_series(1, 2000) g"
  pg_cluster_switch_wal "$work/pg" "$port" > /dev/null
done
backup_opts="$pgbr_opts --pg1-socket-path=$(pg_cluster_socket_dir "$work/pg") --pg1-port=$port --start-fast \
  --archive-timeout=60"
out=$(pgbr_run $backup_opts --type=full backup 2>&1) && ok "pgbr backup through the mount (WAL archived by cp)" ||
  { bad "pgbr backup"; printf '%s\n' "$out" | tail -n 20 >&2; }
pg_cluster_psql "$work/pg" "$port" "insert into t select g, 1, 'kept' from generate_series(1, 500) g"
pg_cluster_psql "$work/pg" "$port" "select pg_create_restore_point('before_batch_2')" > /dev/null
pg_cluster_psql "$work/pg" "$port" "insert into t select g, 2, 'after the target' from generate_series(1, 700) g"
last=$(pg_cluster_switch_wal "$work/pg" "$port")
pg_cluster_wait_archived "$work/pg" "$port" "$last" 120
expected_rows=$(pg_cluster_psql "$work/pg" "$port" "select count(*) from t where batch <= 1")
pg_cluster_stop "$work/pg"
segments=$(find "$walcopy" -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
expect "at least 20 segments archived through cp ($segments)" test "$segments" -ge 20
expect "a .backup file was archived through cp" compgen -G "$walcopy/*.backup" > /dev/null

pg_step "lookup through the mount"
listing=$(ls "$mnt/archive/demo")
expect "ls archive/demo shows archive.info, archive.info.copy and 15-1 only ($(echo $listing))" \
  test "$(echo $listing)" = "15-1 archive.info archive.info.copy"
bad_read=0 files=0
for file in "$walcopy"/*; do
  name=$(basename "$file")
  files=$((files + 1))
  [[ $(stat -c %s "$mnt/archive/demo/$name") == "$(stat -c %s "$file")" ]] || { bad_read=$((bad_read + 1)); pg_error "size of $name"; continue; }
  cmp -s "$file" "$mnt/archive/demo/$name" || { bad_read=$((bad_read + 1)); pg_error "$name differs"; }
done
expect "all $files archived files read back through the mount as PostgreSQL wrote them (stat size exact)" test "$bad_read" = 0
expect "an absent segment is ENOENT" bash -c "! test -e '$mnt/archive/demo/0000000900000000000000FF' && \
  cat '$mnt/archive/demo/0000000900000000000000FF' 2>&1 | grep -q 'No such file'"

pg_step "bad input fails at close(), the repository is unchanged"
repo_hash() { (cd "$backing" && find . -path ./.pgbrfs-staging -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha1sum) | sha1sum; }
before=$(repo_hash)
pg_as_postgres "$PG_BIN/initdb" -D "$work/other" -A trust --no-sync > /dev/null
foreign=$(ls "$work/other/pg_wal" | grep -E '^[0-9A-F]{24}$' | head -n 1)
first=$(ls "$walcopy" | grep -E '^[0-9A-F]{24}$' | sort | head -n 1)
second=$(ls "$walcopy" | grep -E '^[0-9A-F]{24}$' | sort | sed -n 2p)
if out=$(pg_as_postgres cp "$work/other/pg_wal/$foreign" "$mnt/archive/demo/0000000100000000000000F0" 2>&1); then
  bad "cp of a segment of another cluster succeeded"
else
  ok "cp of a segment of another cluster fails: $out"
fi
expect "... the daemon log names the file and the mismatch" \
  grep -q "0000000100000000000000F0' was not archived.*do not match stanza" "$mnt.log"
sleep 1.1  # the kernel keeps the name it created for its entry timeout (1 s) even though close() failed
expect "... and the name is still absent" bash -c "! test -e '$mnt/archive/demo/0000000100000000000000F0'"
if out=$(pg_as_postgres cp "$walcopy/$second" "$mnt/archive/demo/$first" 2>&1); then
  bad "cp of another segment under an archived name succeeded"
else
  ok "cp of another segment under an archived name fails: $out"
fi
expect "... the daemon log names the file and the duplicate" \
  grep -q "$first' was not archived.*already exists in the repo1 archive with a different checksum" "$mnt.log"
grep "was not archived" "$mnt.log" | sed 's/^/    log: /'
sleep 1.1  # the kernel's attribute cache still holds the refused write's size for 1 s
expect "... the archived file is unchanged" pg_as_postgres cmp -s "$walcopy/$first" "$mnt/archive/demo/$first"
expect "identical re-push succeeds" pg_as_postgres cp "$walcopy/$first" "$mnt/archive/demo/$first"
expect "the repository is unchanged by all of it" test "$(repo_hash)" = "$before"

pg_step "unmount; the real pgbackrest verifies and gets every file from the backing directory"
pgbrfs_unmount "$mnt"
verify=$(pgbackrest_run $pgbackrest_opts verify --output=text --verbose 2>&1) || true
expect "pgbackrest verify: status ok" grep -q "status: ok" <<< "$verify"
expect "pgbackrest verify: nothing invalid" grep -q "checksum invalid: 0, size invalid: 0, other: 0" <<< "$verify" ||
  printf '%s\n' "$verify" | sed 's/^/    /' >&2
bad_get=0 count=0
for file in "$walcopy"/*; do
  name=$(basename "$file")
  count=$((count + 1))
  rm -f "$work/got"
  pgbackrest_run $pgbackrest_opts archive-get "$name" "$work/got" > /dev/null 2>&1 ||
    { bad_get=$((bad_get + 1)); pg_error "pgbackrest archive-get $name failed"; continue; }
  cmp -s "$file" "$work/got" || { bad_get=$((bad_get + 1)); pg_error "$name differs"; }
done
expect "pgbackrest archive-get returns all $count files as PostgreSQL wrote them" test "$bad_get" = 0
expect "segments are stored gz compressed (the mount's default)" \
  compgen -G "$backing/archive/demo/15-1/0000000100000000/${first}-*.gz" > /dev/null

pg_step "point-in-time recovery with cp from the mount as restore_command"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass" -o cipher-type=aes-256-cbc
out=$(pgbr_run $pgbr_opts --pg1-path="$work/pitr" --type=name --target=before_batch_2 --target-action=promote \
  restore 2>&1) || { bad "pgbr restore"; printf '%s\n' "$out" >&2; }
sed -i "s|^restore_command = .*|restore_command = 'cp $mnt/archive/demo/%f \"%p\"'|" "$work/pitr/postgresql.auto.conf"
expect "restore_command is cp from the mount" grep -q "^restore_command = 'cp $mnt/archive/demo/%f" \
  "$work/pitr/postgresql.auto.conf"
pg_cluster_start "$work/pitr" "$port2" "archive_command=test ! -f $mnt/archive/demo/%f && cp %p $mnt/archive/demo/%f" \
  "archive_timeout=0"
for ((i = 0; i < 120; i++)); do
  [[ $(pg_cluster_psql "$work/pitr" "$port2" "select pg_is_in_recovery()") == f ]] && break
  sleep 0.5
done
got=$(pg_cluster_psql "$work/pitr" "$port2" "select count(*) || ' ' || max(batch) from t")
expect "recovered to the restore point: rows $got (expected $expected_rows 1)" test "$got" = "$expected_rows 1"
restored=$(grep -c 'restored log file ".*" from archive' "$(pg_cluster_log "$work/pitr")" || true)
expect "PostgreSQL restored WAL through cp from the mount ($restored files)" test "$restored" -ge 2
last=$(pg_cluster_switch_wal "$work/pitr" "$port2")
pg_cluster_wait_archived "$work/pitr" "$port2" "$last" 60
expect "the promoted cluster archived 00000002.history through cp" \
  pg_as_postgres cmp -s "$work/pitr/pg_wal/00000002.history" "$mnt/archive/demo/00000002.history"
pg_cluster_stop "$work/pitr"

pg_step "cipher-type=none mount with -o compress-type=zst"
backing2=$work/backing-none
mnt2=$work/mnt-none
install -d -o "$PG_OS_USER" -g "$PG_OS_USER" "$backing2"
pgbrfs_try_mount "$backing2" "$work/mnt-bad" -o cipher-type=none -o compress-type=xz
expect "-o compress-type=xz is refused (exit 1)" test "$PGBRFS_STATUS" = 1
expect "... naming the option" grep -q "invalid compress-type 'xz'" <<< "$PGBRFS_OUTPUT"
pgbrfs_try_mount "$backing2" "$work/mnt-bad" -o cipher-type=none -o compress-level=10
expect "-o compress-level=10 for gz is refused (exit 1)" test "$PGBRFS_STATUS" = 1
pgbrfs_mount "$backing2" "$mnt2" -o cipher-type=none -o compress-type=zst
pgbr_write_config "$work/pgbr-none.conf" "$mnt2" none "$work/pg"
pgbr_run --config="$work/pgbr-none.conf" --stanza=demo stanza-create > /dev/null 2>&1 && ok "stanza-create on the none mount" ||
  bad "stanza-create on the none mount"
expect "cp into the none mount's inbox" pg_as_postgres cp "$walcopy/$first" "$mnt2/archive/demo/$first"
expect "... reads back through the mount" pg_as_postgres cmp -s "$walcopy/$first" "$mnt2/archive/demo/$first"
stored=$backing2/archive/demo/15-1/0000000100000000/$first-$(sha1sum < "$walcopy/$first" | cut -c1-40).zst
expect "... stored as plain zst under its SHA-1" bash -c "zstd -qdc '$stored' | cmp -s - '$walcopy/$first'"
pgbackrest_write_config "$work/pgbackrest-none.conf" "$backing2" "" "$work/pg" "$work"
rm -f "$work/got"
pgbackrest_run --config="$work/pgbackrest-none.conf" --stanza=demo archive-get "$first" "$work/got" > /dev/null 2>&1 || true
expect "... pgbackrest archive-get returns it" cmp -s "$walcopy/$first" "$work/got"

pgbr_test_end
