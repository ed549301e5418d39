#!/usr/bin/env bash
# Integration test of tests/fixtures/generate-repos, using the real tools only (pgbackrest 2.45, openssl):
# runs the generator into a temp dir, then checks for every repo that `pgbackrest info` shows the expected backups,
# that `pgbackrest verify` is clean, that every file of every encrypted repo reads back through `pgbackrest repo-get`
# (bundle members through openssl, see lib/repo_get_check.py), and that openssl decrypts archive.info with the repo
# passphrase and a WAL segment with the archive sub-pass. Prints one line per check and ends with "N passed, M failed".
# Exit 0 = every check passed. Run as root: tests/integration/generate_repos_test.sh  (about 4-6 minutes)
# Knobs: PGBR_TEST_KEEP=1 keeps the temp dir; PGBR_REPO_GET_JOBS (default 2) parallel repo-get calls;
#        PGBR_REPO_GET_SAMPLE=N (default 10) repo-get only every Nth data file of FULL backups (1 = every file; that
#        is ~6000 pgbackrest processes, 5+ minutes, too slow for the ctest timeout);
#        PGBR_GENERATED_DIR=DIR skips the generator and checks repos it made earlier into DIR (to debug the checks).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/pg_cluster.sh
source "$here/lib/pg_cluster.sh"

PYTHON=${PYTHON:-/usr/bin/python3}   # must be runnable by postgres (a pyenv shim under /root is not)
STANZA=demo
passed=0
failed=0

# check DESCRIPTION CMD...: run one check; its output is shown indented; never aborts the test.
check() {
  local desc=$1 output rc=0
  shift
  output=$("$@" 2>&1) || rc=$?
  if ((rc == 0)); then
    passed=$((passed + 1))
    printf 'ok   %s\n' "$desc"
  else
    failed=$((failed + 1))
    printf 'FAIL %s (exit %d)\n' "$desc" "$rc"
  fi
  [[ -z $output ]] || printf '%s\n' "$output" | sed 's/^/     /'
}

pgbr() {
  local conf=$1
  shift
  pg_as_postgres pgbackrest --config="$conf" --stanza="$STANZA" "$@"
}

# expected_types NAME: backup types, oldest first, that the generator makes in repo NAME.
expected_types() {
  case $1 in
    enc-gz) echo "full diff incr full" ;;
    plain-gz) echo "full diff incr incr" ;;
    *) echo "full diff incr" ;;
  esac
}

# check_info NAME CONF CIPHER: status ok, cipher, backup types, WAL reaching timeline 2, timeline history archived.
check_info() {
  local name=$1 conf=$2 cipher=$3 json
  json=$(pgbr "$conf" info --output=json) || { echo "pgbackrest info failed"; return 1; }
  INFO_JSON=$json "$PYTHON" - "$name" "$cipher" "$(expected_types "$name")" <<'EOF'
import json, os, sys
name, cipher, expected = sys.argv[1], sys.argv[2], sys.argv[3].split()
stanza = json.loads(os.environ["INFO_JSON"])[0]
errors = []
if stanza["status"]["code"] != 0:
    errors.append("status %r" % stanza["status"]["message"])
if stanza["cipher"] != cipher:
    errors.append("cipher %r, expected %r" % (stanza["cipher"], cipher))
backups = stanza.get("backup", [])
types = [b["type"] for b in backups]
if types != expected:
    errors.append("backup types %s, expected %s" % (types, expected))
if any(b.get("error") for b in backups):
    errors.append("a backup has page checksum errors")
archive = stanza.get("archive", [])
if len(archive) != 1 or not archive[0]["max"].startswith("00000002"):
    errors.append("WAL archive does not reach timeline 2: %s" % archive)
timelines = sorted({b["archive"]["start"][:8] for b in backups})
print("%s: %s; WAL %s..%s; backups on timelines %s" % (
    name, " ".join("%s(%s)" % (b["type"], b["label"]) for b in backups),
    archive[0]["min"] if archive else "-", archive[0]["max"] if archive else "-", ",".join(timelines)))
for e in errors:
    print("error: " + e)
sys.exit(1 if errors else 0)
EOF
}

# check_verify CONF: verify exits 0, reports status ok and no invalid/missing file, and logs no warning or error.
check_verify() {
  local conf=$1 out rc=0
  out=$(pgbr "$conf" verify --output=text --verbose 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -E '^ *archiveId|^ *backup:' | sed 's/, total/ total/' | cut -c1-110
  ((rc == 0)) || { echo "verify exit $rc"; printf '%s\n' "$out"; return 1; }
  if ! grep -q '^status: ok$' <<<"$out"; then
    echo "verify did not report 'status: ok'"; printf '%s\n' "$out"; return 1
  fi
  if grep -E -i 'error|warn|status: invalid|(missing|invalid|other): [1-9]' <<<"$out"; then
    echo "verify reported problems"; return 1
  fi
}

# check_openssl_archive_info REPO PASS: openssl alone decrypts archive.info with the repo (user) passphrase, and a WAL
# segment with the archive sub-pass found inside it (FORMAT.md §2, §3).
check_openssl_archive_info() {
  local repo=$1 pass=$2 text subpass wal
  text=$(openssl enc -d -aes-256-cbc -md sha1 -pass "pass:$pass" -in "$repo/archive/$STANZA/archive.info" 2>/dev/null) ||
    { echo "openssl could not decrypt archive.info"; return 1; }
  grep -q '^backrest-format=5$' <<<"$text" || { echo "decrypted archive.info has no backrest-format=5"; return 1; }
  subpass=$(sed -n 's/^cipher-pass="\(.*\)"$/\1/p' <<<"$text")
  [[ ${#subpass} == 64 ]] || { echo "archive sub-pass is not 64 characters"; return 1; }
  wal=$(find "$repo/archive/$STANZA" -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}-[0-9a-f]{40}(\.[a-z0-9]+)?' | sort | head -n 1)
  [[ -n $wal ]] || { echo "no WAL segment in the archive"; return 1; }
  openssl enc -d -aes-256-cbc -md sha1 -pass "pass:$subpass" -in "$wal" -out /dev/null 2>/dev/null ||
    { echo "openssl could not decrypt $(basename "$wal") with the archive sub-pass"; return 1; }
  echo "archive.info and $(basename "$wal") decrypted"
}

# check_plain_is_plain REPO: the unencrypted repo stores info files as text and has no [cipher] anywhere.
check_plain_is_plain() {
  local repo=$1
  head -c 10 "$repo/archive/$STANZA/archive.info" | grep -q '^\[backrest\]' || { echo "archive.info is not plain text"; return 1; }
  if grep -rl --include='*.info' --include='backup.manifest' '^\[cipher\]' "$repo"; then
    echo "an unencrypted repo must not contain [cipher] (FORMAT.md §11a)"; return 1
  fi
}

# check_layout CONF REPO BUNDLE: timeline history archived; the first full's manifest (read through repo-get) has
# tablespace ts1 and the odd file name, the diff's has the annotation; bundle repos have bundle/ files, others none.
check_layout() {
  local conf=$1 repo=$2 bundle=$3 n label manifest
  [[ -n $(find "$repo/archive/$STANZA" -name 00000002.history) ]] || { echo "no 00000002.history"; return 1; }
  label=$(find "$repo/backup/$STANZA" -maxdepth 1 -type d -name '*F' -printf '%f\n' | sort | head -n 1)
  [[ -n $label ]] || { echo "no full backup dir"; return 1; }
  manifest=$(pgbr "$conf" repo-get "backup/$STANZA/$label/backup.manifest") || { echo "repo-get of the manifest failed"; return 1; }
  grep -q '"tablespace-name":"ts1"' <<<"$manifest" || { echo "tablespace ts1 missing from $label/backup.manifest"; return 1; }
  grep -qF 'pg_data/pgbr_fixture/we=ird"na\me.txt={' <<<"$manifest" ||
    { echo "odd file name missing from $label/backup.manifest"; return 1; }
  label=$(find "$repo/backup/$STANZA" -maxdepth 1 -type d -name '*D' -printf '%f\n' | sort | head -n 1)
  [[ -n $label ]] || { echo "no diff backup dir"; return 1; }
  manifest=$(pgbr "$conf" repo-get "backup/$STANZA/$label/backup.manifest") || { echo "repo-get of the manifest failed"; return 1; }
  grep -qF 'annotation={"pgbr-fixture":"diff-after-pgbench"}' <<<"$manifest" ||
    { echo "annotation missing from $label/backup.manifest"; return 1; }
  if [[ $bundle == y ]]; then
    n=$(find "$repo/backup/$STANZA" -path '*/bundle/*' -type f | wc -l)
    ((n > 0)) || { echo "repo-bundle=y but no bundle/ file"; return 1; }
    echo "$n bundle files"
  else
    [[ -z $(find "$repo/backup/$STANZA" -type d -name bundle) ]] || { echo "unexpected bundle/ dir"; return 1; }
  fi
}

# ---------------------------------------------------------------------------------------------------------------------

pg_step "generate repos"
start=$SECONDS
if [[ -n ${PGBR_GENERATED_DIR:-} ]]; then
  out=$PGBR_GENERATED_DIR
  echo "using repos generated earlier in $out"
else
  work=""   # assigned by name
  pg_tmpdir work pgbr-gentest
  out=$work/out
  # Not through check(): its progress should show while it runs.
  if "$here/../fixtures/generate-repos" "$out" 2>&1 | sed 's/^/     /'; then
    passed=$((passed + 1))
    echo "ok   generate-repos runs"
  else
    failed=$((failed + 1))
    echo "FAIL generate-repos runs"
  fi
fi
gen_seconds=$((SECONDS - start))
echo "     (generator took ${gen_seconds}s)"
[[ -f $out/repos.txt ]] || pg_die "no $out/repos.txt; cannot go on ($passed passed, $((failed + 1)) failed)"

names=()
declare -A conf_of repo_of cipher_of compress_of pass_of bundle_of
while IFS=$'\t' read -r name conf repo cipher compress pass bundle; do
  [[ -z $name || $name == \#* ]] && continue
  names+=("$name")
  conf_of[$name]=$conf repo_of[$name]=$repo cipher_of[$name]=$cipher compress_of[$name]=$compress
  pass_of[$name]=$pass bundle_of[$name]=$bundle
done <"$out/repos.txt"

pg_step "repos.txt"
check "repos.txt lists the expected repos" bash -c '
  for want in enc-gz plain-gz enc-none enc-lz4 enc-zst enc-gz-bundle; do
    grep -q "^$want	" "$1" || { echo "missing $want"; exit 1; }
  done
  echo "$(grep -vc "^#" "$1") repos"' _ "$out/repos.txt"

for name in "${names[@]}"; do
  conf=${conf_of[$name]} repo=${repo_of[$name]}
  pg_step "repo $name"
  check "$name: pgbackrest info shows the expected backups" check_info "$name" "$conf" "${cipher_of[$name]}"
  check "$name: pgbackrest verify is clean" check_verify "$conf"
  check "$name: layout (tablespace, odd file name, 00000002.history, bundles)" check_layout "$conf" "$repo" "${bundle_of[$name]}"
  if [[ ${cipher_of[$name]} == none ]]; then
    check "$name: stored unencrypted" check_plain_is_plain "$repo"
    continue
  fi
  check "$name: openssl decrypts archive.info (repo pass) and a WAL file (archive sub-pass)" \
    check_openssl_archive_info "$repo" "${pass_of[$name]}"
  check "$name: every file reads back through pgbackrest repo-get" pg_as_postgres "$PYTHON" \
    "$here/lib/repo_get_check.py" --config="$conf" --repo-path="$repo" --compress="${compress_of[$name]}" \
    --stanza="$STANZA" --jobs="${PGBR_REPO_GET_JOBS:-2}" --sample="${PGBR_REPO_GET_SAMPLE:-10}"
done

pg_step "summary"
echo "generator: ${gen_seconds}s; repos: ${names[*]}; total time $((SECONDS - start))s"
echo "$passed passed, $failed failed"
((failed == 0))
