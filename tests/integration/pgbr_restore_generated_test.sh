#!/usr/bin/env bash
# `pgbr restore` of backups made by the real pgbackrest 2.45 (the generated repositories): enc-gz and enc-none through
# an encrypted pgbrfs mount, plain-gz directly; the full, diff and first incr set of each. Every restore is compared
# with `pgbackrest restore` of the same set (the oracle) entry by entry: paths, types, modes, owners, sizes, mtimes,
# SHA-1s, link targets, tablespace contents (lib/restore_tree.py). The one file that legitimately differs is
# postgresql.auto.conf: its generated block names the tool in restore_command and carries the restore time; it is
# compared with those two lines normalised. The incr set of enc-gz is then started with PostgreSQL 15 (recovering
# through `pgbr archive-get` on the mount) and its tables counted. enc-gz-bundle must be refused with a message naming
# the limitation (bundle members are encrypted one by one; the mount cannot serve them).
#
# pgbr runs as root, so owners are restored from the manifest; pgbackrest runs as postgres.
# Usage: pgbr_restore_generated_test.sh BUILD_DIR GENERATED_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
generated=$2
tree=$here/lib/restore_tree.py

[[ -f $generated/repos.txt ]] || pg_die "no generated repositories in '$generated' (run tests/fixtures/generate-repos)"
[[ -x $PGBR ]] || pg_die "'$PGBR' is not built"
pg_tmpdir work

# auto_conf FILE: postgresql.auto.conf with the tool's command and the restore time normalised.
auto_conf() {
  sed -E -e "s/^(restore_command = ')[^ ]*(pgbackrest|pgbr) .*archive-get/\1TOOL archive-get/" \
    -e 's/(restore on) [0-9-]+ [0-9:]+/\1 TIME/' "$1"
}

# compare_restores NAME PGBR_DIR ORACLE_DIR
compare_restores() {
  local name=$1 mine=$2 oracle=$3
  if diff <("$tree" "$mine" --skip postgresql.auto.conf --skip recovery.signal) \
    <("$tree" "$oracle" --skip postgresql.auto.conf --skip recovery.signal) \
    >"$work/tree.diff"; then
    ok "$name: tree equals pgbackrest restore ($(wc -l <"$work/tree.diff") differences, $("$tree" "$mine" | wc -l) entries)"
  else
    bad "$name: tree differs from pgbackrest restore"
    head -20 "$work/tree.diff" | sed 's/^/        /'
  fi
  if diff <(auto_conf "$mine/postgresql.auto.conf" | grep -v '^restore_command') \
    <(auto_conf "$oracle/postgresql.auto.conf" | grep -v '^restore_command') >"$work/conf.diff"; then
    ok "$name: postgresql.auto.conf equals pgbackrest's but for restore_command"
  else
    bad "$name: postgresql.auto.conf differs"
    sed 's/^/        /' "$work/conf.diff"
  fi
}

declare -A view conf
while IFS=$'\t' read -r name config repo cipher compress pass bundle; do
  [[ $name == \#* || -z $name ]] && continue
  case $name in enc-gz | enc-none | plain-gz | enc-gz-bundle) ;; *) continue ;; esac
  conf[$name]=$config
  view[$name]=$repo
  if [[ $cipher != none ]]; then
    view[$name]=$work/mnt-$name
    printf '%s\n' "$pass" >"$work/pass-$name"
    chmod 600 "$work/pass-$name"
    pgbrfs_mount "$repo" "${view[$name]}" -o passfile="$work/pass-$name"
  fi
done <"$generated/repos.txt"

for name in enc-gz enc-none plain-gz; do
  pg_step "$name: full, diff and incr sets"
  labels=$(pgbackrest_run --config="${conf[$name]}" --stanza=demo --output=json info |
    python3 -c 'import json,sys
seen={}
for b in json.load(sys.stdin)[0]["backup"]: seen.setdefault(b["type"], b["label"])
print(seen["full"], seen["diff"], seen["incr"])')
  for label in $labels; do
    mine=$work/pgbr-$name-$label oracle=$work/oracle-$name-$label
    install -d -o postgres -g postgres -m 0700 "$oracle"
    start=$(date +%s.%N)
    pgbackrest_run --config="${conf[$name]}" --stanza=demo --log-level-console=warn --process-max=2 \
      --pg1-path="$oracle" --set="$label" --tablespace-map-all="$oracle-ts" --type=immediate \
      --target-action=promote restore
    oracle_time=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
    # enc-none maps the tablespace by name, the others all tablespaces at once: the same place either way.
    map=--tablespace-map-all="$mine-ts"
    [[ $name == enc-none ]] && map=--tablespace-map=ts1="$mine-ts/ts1"
    start=$(date +%s.%N)
    if "$PGBR" --config="${conf[$name]}" --repo1-path="${view[$name]}" --stanza=demo --log-level-file=off \
      --log-level-console=info --pg1-path="$mine" --set="$label" "$map" \
      --type=immediate --target-action=promote --process-max=2 restore >"$work/restore.log" 2>&1; then
      ok "$name $label: pgbr restore $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s" \
        "(pgbackrest $oracle_time s), $(grep -o 'restore size = .*' "$work/restore.log")"
    else
      bad "$name $label: pgbr restore failed"
      tail -5 "$work/restore.log" | sed 's/^/        /'
      continue
    fi
    compare_restores "$name $label" "$mine" "$oracle"
    grep -q "^restore_command = '$PGBR --config=${conf[$name]} --pg1-path=$mine --repo1-path=${view[$name]} --stanza=demo archive-get %f \"%p\"'\$" \
      "$mine/postgresql.auto.conf" && ok "$name $label: restore_command runs pgbr archive-get on the repository" ||
      bad "$name $label: restore_command: $(grep '^restore_command' "$mine/postgresql.auto.conf")"
    [[ -f $mine/recovery.signal ]] && ok "$name $label: recovery.signal" || bad "$name $label: no recovery.signal"
    rm -rf "$oracle" "$oracle-ts"
    last=$mine
  done
  [[ $name == enc-gz ]] && incr_dir=$last
  for label in $labels; do [[ $work/pgbr-$name-$label == "${incr_dir:-}" ]] || rm -rf "$work/pgbr-$name-$label" "$work/pgbr-$name-$label-ts"; done
done

pg_step "PostgreSQL 15 on the pgbr restore of the enc-gz incr set"
pg_free_port port
pg_cluster_start "$incr_dir" "$port"
for i in $(seq 1 60); do
  [[ $(pg_cluster_psql "$incr_dir" "$port" "select pg_is_in_recovery()") == f ]] && break
  sleep 0.5
done
counts=$(pg_cluster_psql "$incr_dir" "$port" "select (select count(*) from t_ts) || ' ' || (select count(*) from t_main)
  || ' ' || (select count(*) from t_incr) || ' ' || (select count(*) from pgbench_accounts)")
[[ $counts == "2500 667 500 100000" ]] && ok "restored cluster promoted; t_ts, t_main, t_incr, pgbench_accounts: $counts" ||
  bad "restored cluster data: $counts (expected 2500 667 500 100000)"
grep -q 'restored log file ".*" from archive' "$(pg_cluster_log "$incr_dir")" &&
  ok "PostgreSQL recovered WAL through pgbr archive-get" || bad "no WAL restored by restore_command"
pg_cluster_stop "$incr_dir"

pg_step "enc-gz-bundle: bundled sets through an encrypted mount (members read through the snapshot view)"
name=enc-gz-bundle
label=$(pgbackrest_run --config="${conf[$name]}" --stanza=demo --output=json info |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
mine=$work/pgbr-$name oracle=$work/oracle-$name
install -d -o postgres -g postgres -m 0700 "$oracle"
pgbackrest_run --config="${conf[$name]}" --stanza=demo --log-level-console=warn --pg1-path="$oracle" --set="$label" \
  --tablespace-map-all="$oracle-ts" --type=immediate --target-action=promote restore
if "$PGBR" --config="${conf[$name]}" --repo1-path="${view[$name]}" --stanza=demo --log-level-file=off \
  --log-level-console=info --pg1-path="$mine" --set="$label" --tablespace-map-all="$mine-ts" \
  --type=immediate --target-action=promote --process-max=2 restore >"$work/restore.log" 2>&1; then
  ok "$name $label: pgbr restore, $(grep -o 'restore size = .*' "$work/restore.log")"
  compare_restores "$name $label" "$mine" "$oracle"
else
  bad "$name $label: pgbr restore failed"
  tail -5 "$work/restore.log" | sed 's/^/        /'
fi

pgbr_test_end
