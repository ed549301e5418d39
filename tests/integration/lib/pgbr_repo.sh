# shellcheck shell=bash
# Helpers of the pgbr integration tests: configuration files for pgbr (the product, pointed at the mount or plain
# directory) and for the real pgbackrest (the oracle, pointed at the backing directory with the passphrase), running
# both as postgres, and a hash of a repository tree to prove that a failing command changed nothing.
# Requires pg_cluster.sh sourced first; pgbr_test_init sets PGBR and PGBRFS and the ok/bad/expect counters.

# pgbr_test_init BUILD_DIR: binaries of the build and the pass/fail counters every pgbr test reports with.
pgbr_test_init() {
  local build
  build=$(realpath "$1")
  PGBRFS=$build/fs/pgbrfs
  PGBR=$build/tools/pgbr
  passed=0 failed=0
}
ok() { passed=$((passed + 1)); pg_log "ok: $*"; }
bad() { failed=$((failed + 1)); pg_error "FAILED: $*" || true; }
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# pgbr_test_end: the summary line and the script's exit status.
pgbr_test_end() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

# pgbr_write_config FILE REPO_PATH CIPHER_TYPE PG_PATH [EXTRA_LINE...]: a pgBackRest-style config for pgbr.
pgbr_write_config() {
  local file=$1 repo=$2 cipher=$3 pg=$4
  shift 4
  {
    printf '[global]\nrepo1-path=%s\nrepo1-cipher-type=%s\nlog-level-file=off\n' "$repo" "$cipher"
    printf '%s\n' "$@"
    printf '\n[demo]\npg1-path=%s\n\n[real]\npg1-path=%s\n' "$pg" "$pg"
  } > "$file"
  chown "$PG_OS_USER:" "$file"
}

# pgbackrest_write_config FILE REPO_PATH PASSPHRASE|"" PG_PATH WORKDIR: a config for the real pgbackrest 2.45.
pgbackrest_write_config() {
  local file=$1 repo=$2 pass=$3 pg=$4 workdir=$5
  {
    printf '[global]\nrepo1-path=%s\nlog-level-file=off\nlog-level-console=warn\n' "$repo"
    printf 'lock-path=%s/lock\nspool-path=%s/spool\nlog-path=%s/log\n' "$workdir" "$workdir" "$workdir"
    if [[ -n $pass ]]; then printf 'repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=%s\n' "$pass"; fi
    printf '\n[demo]\npg1-path=%s\n\n[real]\npg1-path=%s\n' "$pg" "$pg"
  } > "$file"
  chmod 600 "$file"
  chown "$PG_OS_USER:" "$file"
}

# pgbr_repo_setup WORKDIR MODE: the repository of a test. Both modes: WORKDIR/backing (what the real pgbackrest
# reads) and WORKDIR/lock, spool, log for pgbackrest, owned by postgres. MODE encrypted: pgbrfs mounted over the
# backing directory at WORKDIR/mnt with a new passphrase (file WORKDIR/pass); plain: the backing directory itself.
# Sets backing, repo (what pgbr writes to), cipher and passphrase ("" when plain). Run it in the test's main shell
# (the mount registers its cleanup).
pgbr_repo_setup() {
  local workdir=$1 mode=$2
  backing=$workdir/backing
  mkdir -p "$backing" "$workdir/lock" "$workdir/spool" "$workdir/log"
  chown "$PG_OS_USER:" "$backing" "$workdir/lock" "$workdir/spool" "$workdir/log"
  passphrase="" repo=$backing cipher=none
  [[ $mode == encrypted ]] || return 0
  passphrase="pgbr-it-$(openssl rand -hex 12)"
  printf '%s\n' "$passphrase" > "$workdir/pass"
  chmod 600 "$workdir/pass"
  repo=$workdir/mnt cipher=aes-256-cbc
  pgbrfs_mount "$backing" "$repo" -o passfile="$workdir/pass" -o cipher-type=aes-256-cbc
}

pgbr_run() { pg_as_postgres "$PGBR" "$@"; }
pgbackrest_run() { pg_as_postgres pgbackrest "$@"; }

# pgbr_tree_hash DIR: one hash over every path, type, size and content below DIR.
pgbr_tree_hash() {
  (cd "$1" && find . -printf '%p %y %s\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z |
    xargs -0 -r sha1sum) | sha1sum | cut -d' ' -f1
}

# pgbr_expect_status NAME STATUS CMD...: runs CMD, records ok/bad by its exit status; output in $PGBR_OUT.
pgbr_expect_status() {
  local name=$1 want=$2 got=0
  shift 2
  PGBR_OUT=$("$@" 2>&1) || got=$?
  if [[ $got == "$want" ]]; then ok "$name (exit $got)"; else bad "$name: exit $got, expected $want"; printf '%s\n' "$PGBR_OUT" >&2; fi
}

# pgbr_generated_init BUILD_DIR GENERATED_DIR: pgbr_test_init, then $generated (the output of
# tests/fixtures/generate-repos, checked) and $work (a temp dir). Call it in the test's main shell.
pgbr_generated_init() {
  pgbr_test_init "$1"
  generated=$2
  [[ -f $generated/repos.txt ]] || pg_die "no generated repositories in '$generated' (run tests/fixtures/generate-repos)"
  [[ -x $PGBR ]] || pg_die "'$PGBR' is not built"
  pg_tmpdir work
}
# pgbr_repo_field NAME FIELD: a field of repository NAME in $generated/repos.txt (2 config, 3 repo path, 4 cipher,
# 5 compress, 6 passphrase, 7 bundle).
pgbr_repo_field() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$generated/repos.txt"; }
