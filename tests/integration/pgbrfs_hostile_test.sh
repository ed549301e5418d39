#!/usr/bin/env bash
# pgbrfs over a hostile backing directory: a copy of the pgBackRest 2.45 vectors (tests/fixtures) with truncated,
# bit-flipped, wrong-key, zero-length and sparse multi-GiB encrypted files, symlinks leading out of the repository
# (also in place of a manifest the daemon reads for a key), an info file with a 4 MiB line and a manifest that
# references a missing backup. Each bad path gives an error and a log line, the daemon keeps serving the good
# files, nothing outside the backing directory is read by the daemon, and `pgbr info`/`pgbr verify` fail clearly.
# Usage: pgbrfs_hostile_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
source "$here/lib/pgbr_repo.sh"
pgbr_test_init "$1"
[[ -x $PGBR && -x $PGBRFS ]] || pg_die "'$PGBR' or '$PGBRFS' is not built"
vectors=$here/../fixtures/pgbackrest-2.45
pass_of() { grep "^$1 " "$vectors/passphrases.txt" | cut -d' ' -f2; }
encrypt() { openssl enc -aes-256-cbc -md sha1 -pass "pass:$1" 2>/dev/null; }
# read_fails NAME PATH: reading PATH through the mount fails (within 20 s: a hostile file must not hang a reader).
read_fails() {
  local out status=0
  out=$(timeout 20 cat "$2" 2>&1 >/dev/null) || status=$?
  if ((status != 0 && status != 124)); then ok "$1 ($out)"; else bad "$1: status $status"; fi
}
daemon_alive() { kill -0 "$PGBRFS_PID" 2>/dev/null && mountpoint -q "$mnt"; }

pg_tmpdir work
backing=$work/backing mnt=$work/mnt outside=$work/outside
cp -r "$vectors/repo-enc" "$backing"
mkdir -p "$outside"
pass_of repo > "$work/pass"
chmod 600 "$work/pass"
repo_pass=$(pass_of repo) archive_pass=$(pass_of repo-enc.archive)
full=backup/demo/20261128-051344F diff=backup/demo/20261128-051344F_20261128-051356D
incr=backup/demo/20261128-051344F_20261128-051359I
arch=archive/demo/15-1
good_history=$(sha1sum < "$vectors/plaintext/repo-enc/$arch/00000002.history" | cut -d' ' -f1)
good_version=$(sha1sum < "$vectors/plaintext/repo-enc/$full/pg_data/PG_VERSION" | cut -d' ' -f1)

pg_step "build the hostile files"
h=$backing/$arch
src=$h/00000002.history                                                       # 64 bytes: header + 3 blocks
head -c 40 "$src" > "$h/00000003.history"                                      # truncated mid-block
head -c 48 "$src" > "$h/00000004.history"                                      # truncated at a block boundary
cp "$src" "$h/00000005.history"; printf '\x55' | dd of="$h/00000005.history" bs=1 seek=63 conv=notrunc status=none
printf '1\t0/C000100\tforged\n' | openssl enc -aes-256-cbc -md sha1 -S 0102030405060708 -pass pass:another-key \
  > "$h/00000006.history" 2>/dev/null                                          # another passphrase
: > "$h/00000007.history"                                                      # zero-length
truncate -s 4G "$h/00000008.history"                                           # sparse, no header
{ head -c 16 "$src"; } > "$h/00000009.history"; truncate -s $((4 * 1024 * 1024 * 1024 + 16)) "$h/00000009.history"
expect "the wrong-key file does not decrypt with the archive pass (padding check)" \
  bash -c "! openssl enc -d -aes-256-cbc -md sha1 -pass 'pass:$archive_pass' -in '$h/00000006.history' >/dev/null 2>&1"
expect "the bit-flipped file does not decrypt (padding check)" \
  bash -c "! openssl enc -d -aes-256-cbc -md sha1 -pass 'pass:$archive_pass' -in '$h/00000005.history' >/dev/null 2>&1"

# Symlinks out of the repository: a plain one, one whose intermediate component leads out, and the manifest of
# the incr set replaced by a link to a genuine copy outside (the daemon reads it for the set's key; following
# the link would make the set's files readable).
printf 'outside-marker-%s\n' "$RANDOM$RANDOM" > "$outside/secret"
marker=$(cat "$outside/secret")
ln -s "$outside/secret" "$h/escape.history"
ln -s /etc/shadow "$h/shadow.history"
cp -r "$backing/$arch" "$outside/15-9"
ln -s "$outside/15-9" "$backing/archive/demo/15-9"
cp "$backing/$incr/backup.manifest" "$outside/incr.manifest"
ln -sf "$outside/incr.manifest" "$backing/$incr/backup.manifest"
ln -s ../../../../outside/incr.manifest "$backing/$incr/backup.manifest.copy"
# The diff set has no data files in the vectors; it gets the full set's PG_VERSION (same manifest sub-pass): the
# control that a set's files are readable when its manifest is a real file.
mkdir -p "$backing/$diff/pg_data"
cp "$backing/$full/pg_data/PG_VERSION.gz" "$backing/$diff/pg_data/PG_VERSION.gz"

pg_step "mount and read"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
log=$mnt.log
m=$mnt/$arch
read_fails "truncated mid-block: read fails" "$m/00000003.history"
read_fails "truncated at a block boundary: read fails" "$m/00000004.history"
read_fails "bit flip in the last block: read fails" "$m/00000005.history"
read_fails "another passphrase: read fails" "$m/00000006.history"
read_fails "zero-length: read fails" "$m/00000007.history"
read_fails "4 GiB sparse without header: read fails" "$m/00000008.history"
read_fails "4 GiB sparse with a header: read fails" "$m/00000009.history"
status=0; timeout 20 dd if="$m/00000009.history" of=/dev/null bs=1M skip=2048 count=1 status=none 2>/dev/null || status=$?
expect "4 GiB sparse: a read in the middle fails within 20 s" test "$status" -ne 0 -a "$status" -ne 124
expect "the daemon is still serving" daemon_alive
expect "a good file still reads correctly" test "$(sha1sum < "$m/00000002.history" | cut -d' ' -f1)" = "$good_history"
for n in 3 4 5 6 7 8 9; do
  grep -q "0000000$n.history" "$log" || bad "no log line for 0000000$n.history"
done
ok "each bad file has a log line naming it"

pg_step "symlinks out of the repository"
expect "a symlink stays a symlink" test "$(stat -c %F "$m/escape.history")" = "symbolic link"
expect "readlink shows its target unchanged" test "$(readlink "$m/escape.history")" = "$outside/secret"
expect "opening the link without following it fails: the mount serves a link, not content" \
  bash -c "! dd if='$m/shadow.history' iflag=nofollow of=/dev/null status=none 2>/dev/null"
expect "the intermediate link is a link too" test "$(stat -c %F "$mnt/archive/demo/15-9")" = "symbolic link"
expect "control: a set whose manifest is a file reads" \
  test "$(zcat "$mnt/$diff/pg_data/PG_VERSION.gz" | sha1sum | cut -d' ' -f1)" = "$good_version"
read_fails "a set whose manifest is a link out of the repository: its files do not read" \
  "$mnt/$incr/pg_data/backup_label.gz"
expect "... and the log says why" grep -q "backup_label.gz" "$log"
expect "the daemon never wrote the marker anywhere in its log" bash -c "! grep -q '$marker' '$log'"
# What the daemon has open, and the files it mapped, are all beneath the backing directory (or its own).
outside_fds=$(ls -l "/proc/$PGBRFS_PID/fd" 2>/dev/null | grep -c -- "-> $outside" || true)
expect "the daemon holds no file outside the backing directory open" test "$outside_fds" -eq 0

pg_step "a huge info-file line and a manifest with a missing backup, added while mounted"
mkdir -p "$backing/archive/huge" "$backing/backup/huge"
{ printf '[backrest]\nbackrest-format=5\n\n[db]\ndb-id=1\ndb-system-id='; head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' 7
  printf '\n'; } | encrypt "$repo_pass" > "$backing/archive/huge/archive.info"
cp "$backing/archive/huge/archive.info" "$backing/backup/huge/backup.info"
cp "$backing/archive/demo/15-1/00000002.history" "$backing/archive/huge/00000002.history"
status=0; out=$(timeout 30 cat "$mnt/archive/huge/archive.info" | wc -c) || status=$?
expect "the info file with a 4 MiB line reads as a file ($out bytes)" test "$status" -eq 0 -a "${out:-0}" -gt 4000000
read_fails "a file whose key is behind that info file: read fails" "$mnt/archive/huge/00000002.history"
# backup/missing: the incr set's manifest and backup.info, without the full set the manifest references.
mkdir -p "$backing/backup/missing/20261128-051344F_20261128-051359I/pg_data"
cp "$vectors/repo-enc/$incr/backup.manifest" "$backing/backup/missing/20261128-051344F_20261128-051359I/"
cp "$vectors/repo-enc/backup/demo/backup.info" "$backing/backup/missing/backup.info"
cp "$vectors/repo-enc/$incr/pg_data/backup_label.gz" "$backing/backup/missing/20261128-051344F_20261128-051359I/pg_data/"
expect "a set whose reference is missing still reads its own files" \
  bash -c "zcat '$mnt/backup/missing/20261128-051344F_20261128-051359I/pg_data/backup_label.gz' | grep -q 'START WAL LOCATION'"
expect "the daemon is still serving" daemon_alive
expect "good files still read correctly" \
  test "$(zcat "$mnt/$full/pg_data/PG_VERSION.gz" | sha1sum | cut -d' ' -f1)" = "$good_version"

pg_step "pgbr info and verify on the hostile repository"
pgbr_write_config "$work/pgbr.conf" "$mnt" aes-256-cbc "$work/pg" "lock-path=$work/lock" "log-path=$work"
mkdir -p "$work/lock" && chown "$PG_OS_USER:" "$work/lock"
# As pgbackrest info: exit 0, each stanza with its status; the damaged one names its file and the reason.
printf '[huge]\npg1-path=%s\n\n[missing]\npg1-path=%s\n' "$work/pg" "$work/pg" >> "$work/pgbr.conf"
status=0; PGBR_OUT=$(pgbr_run --config="$work/pgbr.conf" info 2>&1) || status=$?
expect "pgbr info runs over every stanza (exit $status)" test "$status" -eq 0
expect "... the good stanza is ok" grep -Pzq 'stanza: demo\n    status: ok' <<<"$PGBR_OUT"
expect "... the stanza with the huge line is in error, naming the file and the reason" \
  grep -Pzq 'stanza: huge\n    status: error \(other\)\n.*backup/huge/backup.info.*\n.*number out of range' <<<"$PGBR_OUT"
status=0; PGBR_OUT=$(pgbr_run --config="$work/pgbr.conf" --stanza=demo verify 2>&1) || status=$?
printf '%s\n' "$PGBR_OUT" | tail -n 5 | sed 's/^/     /' >&2
expect "pgbr verify --stanza=demo refuses the link out of the repository (exit $status)" test "$status" -eq 41
expect "... naming it and why" grep -q "archive/demo/15-9.*leads outside the repository" <<<"$PGBR_OUT"
# Without that link: the damaged WAL segment (a block of ciphertext flipped) and the rest of the damage reported.
rm "$backing/archive/demo/15-9"
seg=$(cd "$backing/$arch/0000000100000000" && ls 000000010000000000000003-*.gz)
mv "$backing/$arch/0000000100000000/$seg" "$work/seg.saved"
head -c 8000 "$work/seg.saved" > "$backing/$arch/0000000100000000/$seg"
status=0; PGBR_OUT=$(pgbr_run --config="$work/pgbr.conf" --stanza=demo verify 2>&1) || status=$?
printf '%s\n' "$PGBR_OUT" | tail -n 8 | sed 's/^/     /' >&2
expect "pgbr verify --stanza=demo finds the damage (exit $status)" test "$status" -eq 104
expect "... naming the truncated WAL segment" grep -q "$seg" <<<"$PGBR_OUT"
expect "... and the manifest that is a link" grep -q "$incr/backup.manifest: .*symbolic link where a file is expected" <<<"$PGBR_OUT"
mv "$work/seg.saved" "$backing/$arch/0000000100000000/$seg"
status=0; PGBR_OUT=$(pgbr_run --config="$work/pgbr.conf" --stanza=missing verify 2>&1) || status=$?
printf '%s\n' "$PGBR_OUT" | tail -n 3 | sed 's/^/     /' >&2
expect "pgbr verify --stanza=missing fails (exit $status)" test "$status" -ne 0
expect "... naming the missing backup" grep -q '20261128-051344F' <<<"$PGBR_OUT"
expect "the daemon is still serving after the tools ran" daemon_alive
pgbrfs_unmount "$mnt"

pg_step "a damaged info file at mount time"
pgbrfs_try_mount "$backing" "$work/mnt2" -o passfile="$work/pass"
expect "the mount refuses with exit 16 (corrupt repository)" test "$PGBRFS_STATUS" = 16
expect "... naming the damaged info file" grep -q "archive/huge/archive.info" <<<"$PGBRFS_OUTPUT"

pgbr_test_end
