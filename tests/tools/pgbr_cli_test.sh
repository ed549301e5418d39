#!/usr/bin/env bash
# pgbr's command line as a user meets it, without a repository or server: help and version, unknown options and
# commands with hints and exit codes, and pgBackRest's precedence (command line > environment > [STANZA:COMMAND] >
# [STANZA] > [global:COMMAND] > [global], --no-/--reset-) seen through the "command begin" log line.
# Usage: pgbr_cli_test.sh PGBR
set -uo pipefail
pgbr=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check NAME WANT_STATUS PATTERN CMD...: exit status and an output line matching PATTERN (grep -E)
  local name=$1 want=$2 pattern=$3 out got=0
  shift 3
  out=$("$@" 2>&1) || got=$?
  if [[ $got == "$want" ]] && grep -qE -- "$pattern" <<< "$out"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name (exit $got, expected $want; pattern '$pattern')"; sed 's/^/     /' <<< "$out"
  fi
}

check "no arguments prints help" 0 "^Commands:" "$pgbr"
check "help lists archive-push" 0 "archive-push +push a WAL file" "$pgbr" help
check "help COMMAND lists its options" 0 "^    --compress-type=TYPE" "$pgbr" help archive-push
check "help COMMAND omits other commands' options" 0 "^    --stanza=NAME" "$pgbr" help stanza-create
check "version" 0 "^pgbr [0-9.]+ \(pgBackRest 2.45 repository format\)" "$pgbr" version
check "unknown command" 48 "did you mean 'archive-get'" "$pgbr" archive-gett
check "unknown option" 31 "invalid option '--repo1-paht'" "$pgbr" --repo1-paht=/x check
check "unknown option hint" 31 "HINT: did you mean --repo1-path\?" "$pgbr" --repo1-paht=/x check
check "abbreviations are not options" 31 "invalid option '--stan'" "$pgbr" --stan=demo check
check "option of another command" 31 "option 'compress-type' not valid for command 'archive-get'" \
  "$pgbr" --compress-type=lz4 archive-get 000000010000000000000001 /tmp/x
check "passphrase refused on the command line" 31 "not allowed on the command-line" "$pgbr" --repo1-cipher-pass=x check
check "value given to a boolean" 31 "does not allow an argument" "$pgbr" --archive-header-check=n archive-push x
check "option twice" 31 "cannot be set multiple times" "$pgbr" --stanza=a --stanza=b check
check "bad backup type" 32 "'weekly' is not allowed for 'type' option" "$pgbr" --stanza=a --type=weekly backup
check "process-max out of range" 32 "'0' is out of range for 'process-max' option" "$pgbr" --stanza=a --process-max=0 backup
check "missing argument" 43 "too few arguments for command 'archive-push'" "$pgbr" archive-push
: > "$work/empty.conf"
check "missing stanza" 37 "archive-push command requires option: stanza" "$pgbr" --config="$work/empty.conf" archive-push x
check "missing config file" 27 "unable to open missing file .*none.conf" "$pgbr" --config="$work/none.conf" --stanza=demo archive-push x
check "bad log level" 32 "'loud' is not allowed for 'log-level-console' option" "$pgbr" --log-level-console=loud check

# Precedence. The repository does not exist, so commands fail after the begin line (exit 73): enough to read it.
cat > "$work/p.conf" <<'CONF'
[global]
repo1-path=/nonexistent/global
compress-level=1
log-level-console=info

[global:archive-push]
compress-level=2
compress-type=zst

[demo]
compress-level=3

[demo:archive-push]
compress-level=4
CONF
run() { "$pgbr" --config="$work/p.conf" --stanza=demo "$@"; }
check "a list option may be given twice (backup --exclude)" 73 " --exclude=junk/,scratch " run --pg1-path=/tmp \
  --exclude=junk/ --exclude=scratch backup
check "stanza:command section wins over the others" 73 " --compress-level=4 " run archive-push /tmp/000000010000000000000001
check "global:command applies to its command" 73 " --compress-type=zst " run archive-push /tmp/000000010000000000000001
check "environment beats the file" 73 " --compress-level=7 " env PGBACKREST_COMPRESS_LEVEL=7 "$pgbr" --config="$work/p.conf" --stanza=demo archive-push /tmp/000000010000000000000001
check "command line beats the environment" 73 " --compress-level=8 " env PGBACKREST_COMPRESS_LEVEL=7 "$pgbr" --config="$work/p.conf" --stanza=demo --compress-level=8 archive-push /tmp/000000010000000000000001
check "--reset- drops the configured value" 73 "begin [^ ]+: \[/tmp/000000010000000000000001\] --config=[^ ]+ --log-level-console=info --repo1-path" run --reset-compress-level --reset-compress-type archive-push /tmp/000000010000000000000001
check "--no- negates a boolean" 73 " --no-archive-header-check " run --no-archive-header-check archive-push /tmp/000000010000000000000001
check "the repository path comes from [global]" 73 "repo1-path '/nonexistent/global' does not exist" run archive-push /tmp/000000010000000000000001
check "command end line on failure" 73 "archive-push command end: aborted with exception \[073\]" run archive-push /tmp/000000010000000000000001
check "options after the command" 73 " --compress-level=9 " "$pgbr" --config="$work/p.conf" archive-push --stanza=demo /tmp/000000010000000000000001 --compress-level=9
check "compress level checked against the type" 32 "'30' is out of range for 'compress-level' option" run --compress-level=30 --compress-type=gz --repo1-path=/tmp archive-push /tmp/000000010000000000000001

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
