#!/usr/bin/env bash
# pgbrfs over repositories written by the real pgBackRest 2.45 (tests/fixtures/generate-repos): for every repo,
# through the mount every file reads, its st_size is exact and its bytes equal `pgbackrest repo-get`, every backup
# file decompresses to its manifest checksum and size, and `ls -lR` matches the backing tree. Then a WAL segment
# copied through the mount to its canonical archive path is accepted by `pgbackrest archive-get` and `verify`.
# Usage: pgbrfs_generated_test.sh BUILD_DIR GENERATED_DIR   (GENERATED_DIR made by generate-repos)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
PGBRFS=$1/fs/pgbrfs
generated=$2
PYTHON=/usr/bin/python3
passed=0 failed=0
ok() { passed=$((passed + 1)); pg_log "ok: $*"; }
bad() { failed=$((failed + 1)); pg_error "FAILED: $*" || true; }
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

[[ -f $generated/repos.txt ]] || pg_die "no generated repositories in '$generated' (run tests/fixtures/generate-repos)"
pg_tmpdir work

while IFS=$'\t' read -r name conf repo cipher compress pass bundle; do
  [[ $name == \#* || -z $name ]] && continue
  pg_step "repository $name ($cipher, $compress, bundle $bundle)"
  mnt=$work/mnt-$name
  if [[ $cipher == none ]]; then
    pgbrfs_mount "$repo" "$mnt" -o cipher-type=none
  else
    printf '%s\n' "$pass" > "$work/pass-$name"; chmod 600 "$work/pass-$name"
    pgbrfs_mount "$repo" "$mnt" -o passfile="$work/pass-$name"
  fi
  if out=$("$PYTHON" "$here/lib/repo_through_mount.py" --backing "$repo" --mount "$mnt" --config "$conf" \
             --compress "$compress" --sample "${PGBR_REPO_GET_SAMPLE:-10}" 2>&1); then
    ok "$name: $(tail -1 <<<"$out")"
  else
    bad "$name: $out"
  fi
  # The mount adds its snapshot view at the root (checked by integration.pgbrfs_snapshot).
  expect "$name: ls -lR names match the backing tree, plus the snapshot view" \
    diff <(cd "$repo" && { find . -path ./.pgbrfs-staging -prune -o -print; echo ./snapshot; } | sort) \
      <(cd "$mnt" && find . -path ./snapshot -print -prune -o -print | sort)

  if [[ $name == enc-gz ]]; then
    pg_step "$name: a WAL segment written through the mount is accepted by pgbackrest"
    seg_file=$(cd "$mnt" && find archive/demo -name '00000001000000000000000[0-9A-F]-*.gz' | sort | sed -n 3p)
    seg=$(basename "$seg_file"); seg=${seg%%-*}
    zcat "$mnt/$seg_file" > "$work/$seg"
    sha=$(sha1sum < "$work/$seg" | cut -d' ' -f1)
    rm "$mnt/$seg_file"
    gzip -c "$work/$seg" > "$work/$seg.gz"
    cp "$work/$seg.gz" "$mnt/$(dirname "$seg_file")/$seg-$sha.gz"
    # pgbackrest archive-get checks the cluster's pg_control: give it one from the latest backup.
    stub=$work/pgdata-$name
    mkdir -p "$stub/global"
    latest=$(readlink "$mnt/backup/demo/latest")
    zcat "$mnt/backup/demo/$latest/pg_data/global/pg_control.gz" > "$stub/global/pg_control"
    zcat "$mnt/backup/demo/$latest/pg_data/PG_VERSION.gz" > "$stub/PG_VERSION"
    chown -R postgres "$stub"
    chown postgres "$work"
    expect "$name: pgbackrest archive-get returns the segment byte for byte" bash -c \
      "runuser -u postgres -- pgbackrest --config='$conf' --stanza=demo --pg1-path='$stub' archive-get $seg '$work/got-$seg' && cmp -s '$work/got-$seg' '$work/$seg'"
    verify_out=$(runuser -u postgres -- pgbackrest --config="$conf" --stanza=demo --log-level-console=info verify 2>&1 || true)
    expect "$name: pgbackrest verify is clean" bash -c "! grep -qiE 'invalid|error|missing' <<<\"\$1\"" _ "$verify_out"
  fi
  pgbrfs_unmount "$mnt"
done < "$generated/repos.txt"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
