#!/usr/bin/env bash
# pgbr's failures as a user meets them, each with its pgBackRest exit code, its message, and the repository
# unchanged (a hash of the backing tree before and after): duplicate pushes (same content: warning and success;
# different content: 45), WAL of another cluster (44), stanza-create for another cluster (28), a stanza that was
# never created (103), an unencrypted directory configured as aes-256-cbc (95). No server is needed: clusters are
# only initdb'd, their first WAL segment and pg_control are enough. Usage: pgbr_errors_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
# unchanged NAME DIR HASH: the tree under DIR still hashes to HASH.
unchanged() { expect "$1: repository unchanged" test "$(pgbr_tree_hash "$2")" = "$3"; }

pg_step "two clusters (initdb only) and an encrypted mount"
pg_tmpdir work
for c in a b; do
  pg_as_postgres "$PG_BIN/initdb" -D "$work/$c" --data-checksums -A trust -U postgres --no-sync > /dev/null
done
seg=000000010000000000000001
mkdir -p "$work/wal-a" "$work/wal-a2" "$work/wal-b" "$work/backing" "$work/plain"
cp "$work/a/pg_wal/$seg" "$work/wal-a/$seg"
cp "$work/b/pg_wal/$seg" "$work/wal-b/$seg"
# Same name, same header, different content: one byte changed after the first page.
cp "$work/a/pg_wal/$seg" "$work/wal-a2/$seg"
printf '\x01' | dd of="$work/wal-a2/$seg" bs=1 seek=9000 conv=notrunc status=none
chown -R "$PG_OS_USER:" "$work"
printf 'pgbr-errors-%s\n' "$(openssl rand -hex 8)" > "$work/pass"
chmod 600 "$work/pass"
pgbrfs_mount "$work/backing" "$work/mnt" -o passfile="$work/pass" -o cipher-type=aes-256-cbc
pgbr_write_config "$work/pgbr.conf" "$work/mnt" aes-256-cbc "$work/a"
opts=(--config="$work/pgbr.conf" --stanza=demo)

pg_step "missing stanza"
hash=$(pgbr_tree_hash "$work/backing")
pgbr_expect_status "archive-push before stanza-create" 103 pgbr_run "${opts[@]}" archive-push "$work/wal-a/$seg"
expect "... says to run stanza-create" grep -q "HINT: has a stanza-create been performed?" <<< "$PGBR_OUT"
pgbr_expect_status "archive-get before stanza-create" 103 pgbr_run "${opts[@]}" archive-get "$seg" "$work/x"
unchanged "missing stanza" "$work/backing" "$hash"

pg_step "duplicate pushes"
pgbr_run "${opts[@]}" stanza-create
pgbr_expect_status "first push" 0 pgbr_run "${opts[@]}" archive-push "$work/wal-a/$seg"
hash=$(pgbr_tree_hash "$work/backing")
pgbr_expect_status "same segment again succeeds" 0 pgbr_run "${opts[@]}" archive-push "$work/wal-a/$seg"
expect "... with pgBackRest's warning" grep -q "already exists in the repo1 archive with the same checksum" <<< "$PGBR_OUT"
unchanged "same segment again" "$work/backing" "$hash"
pgbr_expect_status "same name, different content" 45 pgbr_run "${opts[@]}" archive-push "$work/wal-a2/$seg"
expect "... says so" grep -q "\[045\]: WAL file '$seg' already exists in the repo1 archive with a different checksum" <<< "$PGBR_OUT"
unchanged "different content" "$work/backing" "$hash"

pg_step "another cluster"
pgbr_expect_status "WAL of another cluster" 44 pgbr_run "${opts[@]}" --reset-pg1-path archive-push "$work/wal-b/$seg"
expect "... names both system ids" grep -q "do not match stanza version 15, system-id" <<< "$PGBR_OUT"
pgbr_expect_status "WAL pushed with pg1-path of another cluster" 44 pgbr_run "${opts[@]}" --pg1-path="$work/b" archive-push "$work/wal-b/$seg"
pgbr_expect_status "stanza-create for another cluster" 28 pgbr_run "${opts[@]}" --pg1-path="$work/b" stanza-create
expect "... says the files do not match the database" grep -q "do not match the database" <<< "$PGBR_OUT"
unchanged "another cluster" "$work/backing" "$hash"

pg_step "one backup, expire or stanza-create per stanza at a time (pgBackRest's lock file)"
mkdir -p "$work/lock"
chown "$PG_OS_USER:" "$work/lock"
# The real pgbackrest holds the same lock while it expires; flock(1) stands in for it here.
pg_as_postgres flock "$work/lock/demo-backup.lock" sleep 30 &
holder=$!
for ((i = 0; i < 100; i++)); do [[ -e $work/lock/demo-backup.lock ]] && break; sleep 0.05; done
sleep 0.2
hash=$(pgbr_tree_hash "$work/backing")
pgbr_expect_status "expire while another process holds the lock" 50 pgbr_run "${opts[@]}" --lock-path="$work/lock" expire
expect "... names the lock file and says why" \
  grep -q "unable to acquire lock on file '$work/lock/demo-backup.lock'.*HINT: is another pgbr or pgBackRest process" \
  <<< "$(tr '\n' ' ' <<< "$PGBR_OUT")"
pgbr_expect_status "stanza-create too" 50 pgbr_run "${opts[@]}" --lock-path="$work/lock" stanza-create
unchanged "refused while locked" "$work/backing" "$hash"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
pkill -f "sleep 30" -U "$PG_OS_USER" 2>/dev/null || true
pgbr_expect_status "expire once the lock is free" 0 pgbr_run "${opts[@]}" --lock-path="$work/lock" expire

pg_step "aes-256-cbc configured on a plain directory"
pgbr_write_config "$work/plain.conf" "$work/plain" aes-256-cbc "$work/a"
hash=$(pgbr_tree_hash "$work/plain")
for command in stanza-create "archive-push $work/wal-a/$seg" "archive-get $seg $work/x"; do
  # shellcheck disable=SC2086
  pgbr_expect_status "$command refused" 95 pgbr_run --config="$work/plain.conf" --stanza=demo $command
done
expect "... telling to mount it first" grep -q "HINT: mount the repository with pgbrfs first" <<< "$PGBR_OUT"
unchanged "aes-256-cbc on a plain directory" "$work/plain" "$hash"

pg_step "the passphrase stays out of pgbr"
pgbr_expect_status "repo1-cipher-pass on the command line" 31 pgbr_run "${opts[@]}" --repo1-cipher-pass=x check
sed -i '1a repo1-cipher-pass=config-secret-value' "$work/pgbr.conf"
pgbr_expect_status "a passphrase in the configuration is never printed" 0 pgbr_run "${opts[@]}" --log-level-console=info archive-push "$work/wal-a/$seg"
expect "... only shown redacted" grep -q -- "--repo1-cipher-pass=<redacted>" <<< "$PGBR_OUT"
expect "... never in clear" bash -c "! grep -q config-secret-value <<< \"\$1\"" _ "$PGBR_OUT"

pgbr_test_end
