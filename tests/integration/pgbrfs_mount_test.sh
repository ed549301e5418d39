#!/usr/bin/env bash
# pgbrfs on a real FUSE mount, over a copy of the repository written by pgBackRest 2.45 (tests/fixtures):
# reads equal the recorded plaintext, writes of many sizes are stored as openssl-compatible ciphertext under the
# key of their path, nothing torn after SIGKILL, ENOSPC reported and nothing lost, and each mount-time error has
# its exit status. Usage: pgbrfs_mount_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
PGBRFS=$1/fs/pgbrfs
vectors=$here/../fixtures/pgbackrest-2.45
passed=0 failed=0
ok() { passed=$((passed + 1)); pg_log "ok: $*"; }
bad() { failed=$((failed + 1)); pg_error "FAILED: $*" || true; }
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
pass_of() { grep "^$1 " "$vectors/passphrases.txt" | cut -d' ' -f2; }
decrypt() { openssl enc -d -aes-256-cbc -md sha1 -pass "pass:$2" -in "$1" 2>/dev/null; }

pg_tmpdir work
backing=$work/backing mnt=$work/mnt
cp -r "$vectors/repo-enc" "$backing"
pass_of repo > "$work/pass"
chmod 600 "$work/pass"

pg_step "mount-time errors"
pgbrfs_try_mount "$work/missing" "$mnt" -o passfile="$work/pass"
expect "missing backing dir is exit 10" test "$PGBRFS_STATUS" = 10
printf 'wrong-passphrase\n' > "$work/wrong"; chmod 600 "$work/wrong"
pgbrfs_try_mount "$backing" "$mnt" -o passfile="$work/wrong"
expect "wrong passphrase is exit 12" test "$PGBRFS_STATUS" = 12
expect "wrong passphrase names the file" grep -q "archive.info" <<<"$PGBRFS_OUTPUT"
pgbrfs_try_mount "$backing" "$mnt" -o config="$work/none.conf",cipher-type=none
expect "encrypted repo without passphrase is exit 13" test "$PGBRFS_STATUS" = 13
cp -r "$vectors/repo-plain" "$work/plain"
pgbrfs_try_mount "$work/plain" "$mnt" -o passfile="$work/pass"
expect "passphrase for an unencrypted repo is exit 14" test "$PGBRFS_STATUS" = 14
pgbrfs_try_mount "$backing" "$mnt" -o pass=secret
expect "passphrase on the command line is exit 15" test "$PGBRFS_STATUS" = 15
expect "refusal explains itself" grep -q "not allowed" <<<"$PGBRFS_OUTPUT"
mkdir -p "$work/empty"
pgbrfs_mount "$work/empty" "$work/mnt-empty" -o passfile="$work/pass"
expect "an empty repository mounts" mountpoint -q "$work/mnt-empty"
pgbrfs_try_mount "$backing" "$work/mnt-empty" -o passfile="$work/pass"
expect "busy mountpoint is exit 11" test "$PGBRFS_STATUS" = 11
mkdir -p "$work/mnt-second"
pgbrfs_try_mount "$work/empty" "$work/mnt-second"
expect "a second daemon on the same backing directory is exit 10" test "$PGBRFS_STATUS" = 10
expect "... and says why" grep -q "already served by another pgbrfs" <<<"$PGBRFS_OUTPUT"
pgbrfs_unmount "$work/mnt-empty"

pg_step "reading the pgBackRest-written repository"
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
checked=0
while IFS= read -r -d '' file; do
  rel=${file#"$backing"/}
  plain=$vectors/plaintext/repo-enc/${rel%.gz}
  if [[ $rel == *.gz ]]; then got=$(zcat "$mnt/$rel" | sha1sum); else got=$(sha1sum < "$mnt/$rel"); fi
  [[ $got == "$(sha1sum < "$plain")" ]] || bad "content of $rel"
  size=$(stat -c %s "$mnt/$rel")
  [[ $size == "$(decrypt "$file" "$(pass_of repo-enc.archive)" | wc -c)" || $size == "$(cat "$mnt/$rel" | wc -c)" ]] || bad "st_size of $rel"
  checked=$((checked + 1))
done < <(find "$backing" -path "$backing/.pgbrfs-staging" -prune -o -type f -print0)
expect "every file read ($checked) equals its plaintext" test "$checked" -eq 18
expect "ls -lR lists the backing tree (and the snapshot view at the root)" \
  diff <(cd "$backing" && { find . -path ./.pgbrfs-staging -prune -o -print; echo ./snapshot; } | sort) \
    <(cd "$mnt" && find . -path ./snapshot -print -prune -o -print | sort)
expect "cipher type attribute" test "$(getfattr --only-values -n user.pgbrfs.cipher-type "$mnt/archive/demo/archive.info")" = aes-256-cbc

pg_step "writing files of many sizes"
mkdir "$mnt/scratch"
for size in 0 1 15 16 17 4096 131071 131072 131073 16777216 104857600; do
  head -c "$size" /dev/urandom > "$work/in"
  cp "$work/in" "$mnt/scratch/f$size"
  [[ $(stat -c %s "$mnt/scratch/f$size") == "$size" ]] || bad "size of f$size"
  cmp -s "$work/in" "$mnt/scratch/f$size" || bad "read back f$size"
  decrypt "$backing/scratch/f$size" "$(pass_of repo)" | cmp -s "$work/in" - || bad "openssl decrypts f$size"
done
ok "cp of 11 sizes: read back and openssl-decrypted"
head -c 100000 /dev/urandom > "$work/in"
cp "$work/in" "$mnt/backup/demo/20261128-051344F/pg_data/extra"
expect "a backup file takes its manifest's key" \
  bash -c "openssl enc -d -aes-256-cbc -md sha1 -pass pass:$(pass_of repo-enc.manifest.20261128-051344F) -in '$backing/backup/demo/20261128-051344F/pg_data/extra' 2>/dev/null | cmp -s '$work/in' -"
expect "mv across keys copies" mv "$mnt/scratch/f4096" "$mnt/archive/demo/15-1/f4096"
expect "... and re-encrypts with the archive key" \
  bash -c "openssl enc -d -aes-256-cbc -md sha1 -pass pass:$(pass_of repo-enc.archive) -in '$backing/archive/demo/15-1/f4096' 2>/dev/null | wc -c | grep -qx 4096"
expect "no staging file left" test -z "$(find "$backing" -name '.pgbrfs-stage.*'; ls -A "$backing/.pgbrfs-staging")"

pg_step "ownership, mount(8) and fstab-style options"
mkdir "$mnt/shared" && chmod 777 "$mnt/shared"
runuser -u postgres -- sh -c "echo by-postgres > '$mnt/shared/p' && mkdir '$mnt/shared/d'"
expect "a file created by postgres belongs to postgres" test "$(stat -c %U "$mnt/shared/p")" = postgres
expect "... in the backing directory too" test "$(stat -c %U "$backing/shared/p")" = postgres
expect "... and so does a directory" test "$(stat -c %U "$backing/shared/d")" = postgres
chmod 600 "$mnt/shared/p"
expect "permissions apply to other users (default_permissions)" bash -c "! runuser -u nobody -- cat '$mnt/shared/p' 2>/dev/null"
expect "postgres reads its own file" test "$(runuser -u postgres -- cat "$mnt/shared/p")" = by-postgres
expect "O_DIRECT opens are served" dd if="$mnt/shared/p" of=/dev/null iflag=direct status=none
expect "unknown xattrs are absent, not errors" bash -c "! getfattr -n user.other '$mnt/shared/p' 2>&1 | grep -qv 'No such attribute'"
pgbrfs_unmount "$mnt"
mkdir -p "$work/mnt-fstab"
# mount(8) runs "pgbrfs" from the default PATH for -t fuse.pgbrfs; the uninstalled binary is named with "prog#source".
expect "mount -t fuse with fstab options (nofail, _netdev, x-systemd.*)" \
  mount -t fuse "$PGBRFS#$backing" "$work/mnt-fstab" \
  -o "passfile=$work/pass,nofail,_netdev,x-systemd.automount,allow_other,default_permissions"
pg_cleanup_register "fusermount3 -uz '$work/mnt-fstab' 2>/dev/null || true"
expect "... and serves the repository" test -s "$work/mnt-fstab/archive/demo/archive.info"
fusermount3 -u "$work/mnt-fstab" || true
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"

pg_step "SIGKILL of the daemon during a 100 MiB write"
before=$(sha1sum < "$mnt/scratch/f16777216")
# One process (one open file: every close(2) publishes) writing slowly enough to be caught in the middle.
python3 -c '
import os, sys, time
with open(sys.argv[1], "wb") as f:
    for i in range(100):
        f.write(os.urandom(1 << 20)); time.sleep(0.04)
' "$mnt/scratch/f16777216" 2>/dev/null &
writer=$!
for ((i = 0; i < 200; i++)); do [[ -n $(ls -A "$backing/.pgbrfs-staging") ]] && break; sleep 0.05; done
sleep 0.5
expect "the write is staged when the daemon is killed" test -n "$(ls -A "$backing/.pgbrfs-staging")"
kill -9 "$PGBRFS_PID"
wait "$writer" || true
fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" || true
pgbrfs_mount "$backing" "$mnt" -o passfile="$work/pass"
expect "the file under its final name is the previous version" test "$(sha1sum < "$mnt/scratch/f16777216")" = "$before"
expect "the other files are intact" cmp -s "$work/in" "$mnt/backup/demo/20261128-051344F/pg_data/extra"
expect "staging files are hidden" test -z "$(find "$mnt" -name '.pgbrfs-stag*')"
expect "the killed daemon's staging file was swept at remount" test -z "$(ls -A "$backing/.pgbrfs-staging")"
expect "the sweep is logged" grep -q "staging file(s) left by a daemon that did not stop cleanly" "$mnt.log"
pgbrfs_unmount "$mnt"

pg_step "full backing file system"
mkdir -p "$work/small"
mount -t tmpfs -o size=24m tmpfs "$work/small"
pg_cleanup_register "umount -l '$work/small'"
cp -r "$vectors/repo-enc" "$work/small/repo"
pgbrfs_mount "$work/small/repo" "$work/mnt-small" -o passfile="$work/pass"
head -c 1000 /dev/urandom > "$work/small-in"
cp "$work/small-in" "$work/mnt-small/keep"
if cp "$work/in" "$work/mnt-small/keep" 2>/dev/null && head -c 40000000 /dev/urandom | cp /dev/stdin "$work/mnt-small/big" 2>"$work/err"; then
  bad "a write larger than the file system succeeded"
else
  grep -q "No space left" "$work/err" && ok "cp reports ENOSPC" || bad "cp error was: $(cat "$work/err")"
fi
expect "an existing file survives ENOSPC" cmp -s "$work/in" "$work/mnt-small/keep"
expect "the failed file has no final name" test ! -e "$work/small/repo/big"
rm -f "$work/mnt-small/big"
expect "after freeing space, writes work again" cp "$work/small-in" "$work/mnt-small/after"
pgbrfs_unmount "$work/mnt-small"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
