#!/usr/bin/env bash
# `pgbr restore` against a live cluster, cross-checked with the real pgbackrest 2.45: a PostgreSQL 15 cluster archives
# with pgbackrest into an unencrypted repository with repo1-bundle=y; pgbackrest makes a full and an incr backup
# (bundled files, references); rows are committed before and after a recorded time.
#  * point-in-time recovery: pgbr restore --type=time --target=T of the full set, started with PostgreSQL (WAL through
#    pgbr archive-get), holds exactly the rows committed before T; --type=xid --target-exclusive likewise;
#  * the bundled incr set restored by pgbr equals pgbackrest's restore of it (paths, modes, owners, SHA-1s), with
#    --process-max=2;
#  * --delta over that restore after damaging it (changed, removed and stray files) gives the same tree again and
#    reuses the unchanged files;
#  * errors: a non-empty directory (40), an unknown set (75), a corrupt bundle member and a missing repository file
#    make restore fail naming the file, global/pg_control not restored.
# Usage: pgbr_restore_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
tree=$here/lib/restore_tree.py

pg_tmpdir work
pg_free_port port
pg_free_port port2
repo=$work/repo
pgdata=$work/pg
install -d -o postgres -g postgres -m 0750 "$repo"
pgbackrest_write_config "$work/pgbackrest.conf" "$repo" "" "$pgdata" "$work"
sed -i 's/^\[global\]$/[global]\nrepo1-bundle=y\nrepo1-retention-full=5\nstart-fast=y\narchive-timeout=60/' "$work/pgbackrest.conf"
sed -i "s|^pg1-path=$pgdata\$|pg1-path=$pgdata\npg1-port=$port\npg1-socket-path=$pgdata.sock|" "$work/pgbackrest.conf"
conf=$work/pgbackrest.conf
pgbr_restore() { "$PGBR" --config="$conf" --stanza=demo --log-level-file=off "$@" restore; }

pg_step "cluster archiving with pgbackrest; full backup (bundled)"
pg_cluster_start "$pgdata" "$port" "archive_command=pgbackrest --config=$conf --stanza=demo archive-push %p"
pgbackrest_run --config="$conf" --stanza=demo stanza-create
pg_cluster_psql "$pgdata" "$port" "create table t (id int primary key, batch int, at timestamptz default clock_timestamp());
  insert into t select g, 0 from generate_series(1, 1000) g"
pgbackrest_run --config="$conf" --stanza=demo --type=full backup
full=$(pgbackrest_run --config="$conf" --stanza=demo --output=json info | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')

pg_step "rows before and after a recorded time"
pg_cluster_psql "$pgdata" "$port" "insert into t select g, 1 from generate_series(1001, 1100) g"
sleep 1.2
target=$(pg_cluster_psql "$pgdata" "$port" "select clock_timestamp()")
sleep 1.2
pg_cluster_psql "$pgdata" "$port" "insert into t select g, 2 from generate_series(1101, 1300) g"
xid=$(pg_cluster_psql "$pgdata" "$port" "insert into t values (5000, 3) returning xmin" | head -1)
pg_cluster_psql "$pgdata" "$port" "insert into t values (5001, 4)"
pgbackrest_run --config="$conf" --stanza=demo --type=incr backup
incr=$(pgbackrest_run --config="$conf" --stanza=demo --output=json info | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
seg=$(pg_cluster_switch_wal "$pgdata" "$port")
pg_cluster_wait_archived "$pgdata" "$port" "$seg" 60
grep -q '"bni"' <(cat "$repo/backup/demo/$incr/backup.manifest") && ok "incr set $incr has bundled files" ||
  bad "no bundled files in $incr"
pg_cluster_stop "$pgdata"

# recover NAME DIR QUERY EXPECTED: start DIR (recovery to its target, promote), run QUERY, stop.
recover() {
  local name=$1 dir=$2 query=$3 expected=$4 got i
  pg_cluster_start "$dir" "$port2"
  for i in $(seq 1 120); do
    [[ $(pg_cluster_psql "$dir" "$port2" "select pg_is_in_recovery()") == f ]] && break
    sleep 0.5
  done
  got=$(pg_cluster_psql "$dir" "$port2" "$query")
  [[ $got == "$expected" ]] && ok "$name: $got" || bad "$name: got '$got', expected '$expected'"
  pg_cluster_stop "$dir"
}

pg_step "point-in-time recovery: --type=time"
pgbr_restore --set="$full" --pg1-path="$work/pitr" --type=time --target="$target" --target-action=promote >"$work/log" 2>&1 ||
  { bad "pgbr restore --type=time"; cat "$work/log"; }
grep -q "^recovery_target_time = '$target'\$" "$work/pitr/postgresql.auto.conf" && ok "recovery_target_time written" ||
  bad "postgresql.auto.conf: $(cat "$work/pitr/postgresql.auto.conf")"
recover "--type=time --target='$target'" "$work/pitr" "select count(*) || ' ' || max(batch) from t" "1100 1"

pg_step "point-in-time recovery: --type=xid --target-exclusive"
pgbr_restore --set="$full" --pg1-path="$work/xid" --type=xid --target="$xid" --target-exclusive --target-action=promote \
  >"$work/log" 2>&1 || { bad "pgbr restore --type=xid"; cat "$work/log"; }
recover "--type=xid --target=$xid --target-exclusive" "$work/xid" "select count(*) || ' ' || max(batch) from t" "1300 2"

pg_step "--type=standby: a hot standby replaying the archive"
pgbr_restore --set="$incr" --pg1-path="$work/standby" --type=standby >"$work/log" 2>&1 ||
  { bad "pgbr restore --type=standby"; cat "$work/log"; }
[[ -f $work/standby/standby.signal && ! -e $work/standby/recovery.signal ]] && ok "standby.signal, no recovery.signal" ||
  bad "signal files: $(ls "$work/standby" | grep signal)"
pg_cluster_start "$work/standby" "$port2"
for i in $(seq 1 120); do
  got=$(pg_cluster_psql "$work/standby" "$port2" "select pg_is_in_recovery() || ' ' || count(*) from t")
  [[ $got == "true 1302" ]] && break
  sleep 0.5
done
[[ $got == "true 1302" ]] && ok "standby in recovery with every archived row: $got" || bad "standby: got '$got', expected 'true 1302'"
pg_cluster_stop "$work/standby"
rm -rf "$work/standby"

pg_step "bundled incr set: pgbr restore equals pgbackrest restore"
install -d -o postgres -g postgres -m 0700 "$work/oracle"
pgbackrest_run --config="$conf" --stanza=demo --pg1-path="$work/oracle" --set="$incr" restore
start=$(date +%s.%N)
pgbr_restore --set="$incr" --pg1-path="$work/mine" --process-max=2 --log-level-console=info >"$work/log" 2>&1 ||
  { bad "pgbr restore of $incr"; cat "$work/log"; }
ok "pgbr restore of $incr with --process-max=2: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s, $(grep -o 'restore size = .*' "$work/log")"
same_tree() {
  diff <("$tree" "$1" --skip postgresql.auto.conf --skip recovery.signal) \
    <("$tree" "$2" --skip postgresql.auto.conf --skip recovery.signal) >"$work/tree.diff"
}
same_tree "$work/mine" "$work/oracle" && ok "tree equals pgbackrest restore ($("$tree" "$work/mine" | wc -l) entries)" ||
  { bad "tree differs from pgbackrest restore"; head -20 "$work/tree.diff"; }
grep -q 'restore progress\|restore size' "$work/log" && ok "progress and summary lines" || bad "no progress line"

pg_step "--delta over a damaged restore"
printf 'garbage' >"$work/mine/PG_VERSION"
rm -f "$work/mine/base/1/1259"
printf 'stray' >"$work/mine/stray-file"
mkdir -p "$work/mine/base/stray-dir"
touch "$work/mine/recovery.signal"
pgbr_expect_status "restore into a non-empty directory without --delta" 40 pgbr_restore --set="$incr" --pg1-path="$work/mine"
pgbr_restore --set="$incr" --pg1-path="$work/mine" --delta --log-level-console=detail >"$work/log" 2>&1 ||
  { bad "pgbr restore --delta"; cat "$work/log"; }
same_tree "$work/mine" "$work/oracle" && ok "--delta: tree equals pgbackrest restore again" ||
  { bad "--delta: tree differs"; head -20 "$work/tree.diff"; }
reused=$(grep -c 'exists and matches backup' "$work/log" || true)
((reused > 900)) && ok "--delta reused $reused unchanged files" || bad "--delta reused only $reused files"
grep -q "remove invalid path/file/link '$work/mine/stray-file'" "$work/log" && ok "--delta removed the stray file" ||
  bad "stray file not reported removed"

pg_step "errors"
pgbr_expect_status "unknown set" 75 pgbr_restore --set=20000101-000000F --pg1-path="$work/e1"
grep -q 'backup set 20000101-000000F is not valid' <<<"$PGBR_OUT" && ok "message names the set" || bad "message: $PGBR_OUT"
member=$(python3 - "$repo/backup/demo/$incr/backup.manifest" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("pg_data/") and '"bni"' in line and '"reference"' not in line:
        name, value = line.rstrip("\n").split("={", 1)
        v = json.loads("{" + value)
        if v.get("repo-size", v["size"]) > 40:
            print(name, v["bni"], v.get("bno", 0), v.get("repo-size", v["size"]))
            break
PY
)
read -r mname mbni mbno msize <<<"$member"
bundle=$repo/backup/demo/$incr/bundle/$mbni
cp -a "$bundle" "$work/bundle.orig"
python3 - "$bundle" "$((mbno + msize / 2))" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))
PY
PGBR_OUT=$(pgbr_restore --set="$incr" --pg1-path="$work/e2" 2>&1) && status=0 || status=$?
if [[ $status == 26 || $status == 29 ]] && grep -q "$mname" <<<"$PGBR_OUT"; then
  ok "corrupt bundle member: exit $status naming '$mname'"
else
  bad "corrupt bundle member: exit $status: $PGBR_OUT"
fi
[[ ! -e $work/e2/global/pg_control ]] && ok "global/pg_control not restored after the failure" || bad "pg_control restored"
cp -a "$work/bundle.orig" "$bundle"
mv "$repo/backup/demo/$full/bundle" "$work/full-bundle"
pgbr_expect_status "missing repository file" 55 pgbr_restore --set="$full" --pg1-path="$work/e3"
grep -q "repository file '$repo/backup/demo/$full/bundle/[0-9]*' is missing" <<<"$PGBR_OUT" && ok "message names the missing file" ||
  bad "message: $PGBR_OUT"
mv "$work/full-bundle" "$repo/backup/demo/$full/bundle"

pgbr_test_end
