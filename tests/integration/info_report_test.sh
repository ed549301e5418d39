#!/usr/bin/env bash
# `pgbr info` against the real `pgbackrest info` (2.45, the oracle) on every generated repository: text and
# --output=json, for all stanzas, --stanza=demo, an absent stanza, --set of every backup and of an absent label.
# Unencrypted repositories are read directly; encrypted ones through a pgbrfs mount of the repository (the plain
# view), with the passphrase from repos.txt. Both tools run with the same TZ (not UTC, so local time is exercised).
# Outputs must be byte-identical.
#
# Usage: info_report_test.sh BUILD_DIR GENERATED_DIR
# pgbr runs with the repository's own configuration file (as pgbackrest does) and --repo1-path pointing at the view;
# it never reads the passphrase in that file: it learns the cipher from the mount.
#
# Differences by nature: none expected for these repositories. (Not covered here because the generated repositories
# do not produce them: error statuses, whose messages carry our own hints rather than pgBackRest's — see
# tests/unit/backup/info_report_test.cc; and the lock flag, always false because pgBackRest's lock files are local
# to the host that runs it.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/pg_cluster.sh"
source "$here/lib/pgbrfs_mount.sh"
PGBRFS=$1/fs/pgbrfs
generated=$2
pgbr=$1/tools/pgbr
export TZ=America/Sao_Paulo
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

[[ -f $generated/repos.txt ]] || pg_die "no generated repositories in '$generated' (run tests/fixtures/generate-repos)"
[[ -x $pgbr ]] || pg_die "'$pgbr' is not built"
pg_tmpdir work

# compare NAME CONF REPO_PATH VIEW CIPHER ARGS...: one check, text and json.
compare() {
  local name=$1 conf=$2 repo=$3 view=$4 cipher=$5
  shift 5
  local output expected actual
  for output in text json; do
    expected=$work/expected.$output actual=$work/actual.$output
    if ! runuser -u postgres -- pgbackrest --config="$conf" --log-level-console=off --log-level-stderr=error \
      "$@" --output="$output" info >"$expected" 2>"$work/pgbackrest.err"; then
      bad "$name: pgbackrest info $* --output=$output failed: $(cat "$work/pgbackrest.err")"
      continue
    fi
    if ! "$pgbr" --config="$conf" --repo1-path="$view" "$@" --output="$output" info >"$actual" 2>"$work/report.err"; then
      bad "$name: pgbr info $* --output=$output failed: $(cat "$work/report.err")"
      continue
    fi
    if cmp -s "$expected" "$actual"; then
      ok "$name: info $* --output=$output"
    else
      bad "$name: info $* --output=$output differs from pgbackrest"
      diff <(tr ',' '\n' <"$expected") <(tr ',' '\n' <"$actual") | head -20 | sed 's/^/        /'
    fi
  done
}

while IFS=$'\t' read -r name conf repo cipher compress pass bundle; do
  [[ $name == \#* || -z $name ]] && continue
  pg_step "repository $name ($cipher, $compress, bundle $bundle)"
  view=$repo
  if [[ $cipher != none ]]; then
    view=$work/mnt-$name
    printf '%s\n' "$pass" >"$work/pass-$name"
    chmod 600 "$work/pass-$name"
    pgbrfs_mount "$repo" "$view" -o passfile="$work/pass-$name"
  fi
  compare "$name" "$conf" "$repo" "$view" "$cipher"
  compare "$name" "$conf" "$repo" "$view" "$cipher" --stanza=demo
  compare "$name" "$conf" "$repo" "$view" "$cipher" --stanza=absent
  compare "$name" "$conf" "$repo" "$view" "$cipher" --stanza=demo --set=20000101-000000F
  labels=$(runuser -u postgres -- pgbackrest --config="$conf" --stanza=demo --output=json info |
    /usr/bin/python3 -c 'import json,sys; print(" ".join(b["label"] for b in json.load(sys.stdin)[0]["backup"]))')
  [[ -n $labels ]] || bad "$name: pgbackrest lists no backups"
  for label in $labels; do
    compare "$name" "$conf" "$repo" "$view" "$cipher" --stanza=demo --set="$label"
  done
  if [[ $cipher != none ]]; then pgbrfs_unmount "$view"; fi
done <"$generated/repos.txt"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
