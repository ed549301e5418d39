#!/usr/bin/env bash
# `pgbr verify` on every generated repository (encrypted ones through a pgbrfs mount, plain-gz directly):
#   * clean: exit 0, status ok in json (and text for plain-gz), and per archive id the same WAL counts as
#     `pgbackrest verify --verbose` (the oracle, on the backing directory), per backup the same "total files checked"
#     (for enc-gz-bundle through the mount: checked + skipped bundle members = pgBackRest's count, and every
#     bundle is listed as "bundle on an encrypted mount");
#   * corrupted: on copies, a WAL segment and a backup file whose PLAINTEXT was changed (through the mount for
#     enc-gz: read, gunzip, flip a byte, gzip, write back; directly for plain-gz) make pgbr verify exit 104
#     naming both files, in text and json.
#
# Usage: pgbr_verify_test.sh BUILD_DIR GENERATED_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_generated_init "$1" "$2"

# counts FILE: "archiveId: X, total WAL checked: N" and "backup: L, ... total files checked: N" lines, normalised.
oracle_counts() {
  sed -nE 's/^ *archiveId: ([^,]*), total WAL checked: ([0-9]+).*/wal \1 \2/p;
           s/^ *backup: ([^,]*), status: [^,]*, total files checked: ([0-9]+).*/backup \1 \2/p' "$1"
}
pgbr_counts() {
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for a in r["archive"]: print("wal", a["archiveId"], a["checked"])
for b in r["backup"]: print("backup", b["label"], b["checked"] + b["skipped"])' "$1"
}

# flip_gz FILE: the plaintext of a gzip file with one byte changed (in the middle), written back in place.
flip_gz() {
  /usr/bin/python3 - "$1" <<'EOF'
import gzip, sys
path = sys.argv[1]
data = bytearray(gzip.decompress(open(path, "rb").read()))
data[len(data) // 2] ^= 0x5a
open(path, "wb").write(gzip.compress(bytes(data)))
EOF
}

while IFS=$'\t' read -r name conf repo cipher compress pass bundle; do
  [[ $name == \#* || -z $name ]] && continue
  pg_step "repository $name ($cipher, $compress, bundle $bundle)"
  view=$repo config=$work/pgbr-$name.conf
  if [[ $cipher != none ]]; then
    view=$work/mnt-$name
    printf '%s\n' "$pass" >"$work/pass-$name"
    chmod 600 "$work/pass-$name"
    pgbrfs_mount "$repo" "$view" -o passfile="$work/pass-$name"
  fi
  pgbr_write_config "$config" "$view" "$cipher" "$work/pg"
  started=$SECONDS
  if [[ $name == plain-gz ]]; then
    pgbr_expect_status "$name: pgbr verify" 0 pgbr_run --config="$config" --stanza=demo verify
    printf '%s\n' "$PGBR_OUT" | sed 's/^/        /' | head -12
  fi
  pgbr_expect_status "$name: pgbr verify --output=json" 0 \
    pgbr_run --config="$config" --stanza=demo --output=json --log-level-console=off --log-level-stderr=off verify
  printf '%s\n' "$PGBR_OUT" >"$work/$name.json"
  expect "$name: json status ok" grep -q '"status":"ok"' "$work/$name.json"
  pgbackrest_run --config="$conf" --stanza=demo verify --verbose --output=text >"$work/$name.oracle" 2>&1 || true
  if diff <(oracle_counts "$work/$name.oracle") <(pgbr_counts "$work/$name.json") >"$work/$name.diff"; then
    ok "$name: WAL and file counts match pgbackrest verify ($(oracle_counts "$work/$name.oracle" | wc -l) lines, $((SECONDS - started)) s)"
  else
    bad "$name: counts differ from pgbackrest verify (< pgbackrest, > pgbr)"
    sed 's/^/        /' "$work/$name.diff" >&2
  fi
  if [[ $bundle == y && $cipher != none ]]; then
    expect "$name: bundles reported as skipped on the encrypted mount" \
      grep -q '"reason":"bundle on an encrypted mount"' "$work/$name.json"
  fi
  if [[ $cipher != none ]]; then pgbrfs_unmount "$view"; fi
done <"$generated/repos.txt"

for name in plain-gz enc-gz; do
  pg_step "corruption in a copy of $name"
  repo=$(pgbr_repo_field "$name" 3) pass=$(pgbr_repo_field "$name" 6) cipher=$(pgbr_repo_field "$name" 4)
  copy=$work/corrupt-$name view=$work/corrupt-$name
  cp -a "$repo" "$copy"
  if [[ $cipher != none ]]; then
    view=$work/mnt-corrupt-$name
    printf '%s\n' "$pass" >"$work/pass-corrupt"
    chmod 600 "$work/pass-corrupt"
    pgbrfs_mount "$copy" "$view" -o passfile="$work/pass-corrupt"
  fi
  wal=$(cd "$view" && find archive/demo -name '000000010000000000000005-*.gz' | head -1)
  full=$(cd "$view/backup/demo" && ls -d 2*F | head -1)
  file=backup/demo/$full/pg_data/PG_VERSION.gz
  [[ -n $wal && -f $view/$file ]] || pg_die "$name: no WAL segment 5 or PG_VERSION in the copy"
  flip_gz "$view/$wal"
  flip_gz "$view/$file"
  pgbr_write_config "$work/corrupt.conf" "$view" "$cipher" "$work/pg"
  pgbr_expect_status "$name: pgbr verify of the corrupted copy" 104 pgbr_run --config="$work/corrupt.conf" --stanza=demo verify
  expect "$name: names the corrupted WAL file" grep -q "$wal: checksum mismatch" <<<"$PGBR_OUT"
  expect "$name: names the corrupted backup file" grep -q "$file: checksum mismatch" <<<"$PGBR_OUT"
  expect "$name: error line with a hint" grep -q 'ERROR: \[104\]: verify command found' <<<"$PGBR_OUT"
  printf '%s\n' "$PGBR_OUT" | grep -E 'errors|mismatch|ERROR|HINT' | sed 's/^/        /'
  pgbr_run --config="$work/corrupt.conf" --stanza=demo --output=json verify >"$work/corrupt.json" 2>/dev/null || true
  expect "$name: json names both files" /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
files = {e["file"] for e in r["error"] if e["kind"] == "checksum mismatch"}
sys.exit(0 if r["status"] == "error" and {sys.argv[2], sys.argv[3]} <= files else 1)' "$work/corrupt.json" "$wal" "$file"
  if [[ $cipher != none ]]; then pgbrfs_unmount "$view"; fi
  rm -rf "$copy"
done

pgbr_test_end
