#!/usr/bin/env bash
# pgbr-cipher as a user meets it: round trip with openssl, exit codes, and refusal of passphrases in argv.
# Usage: pgbr_cipher_test.sh PATH_TO_PGBR_CIPHER
set -uo pipefail
cipher=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check NAME EXPECTED_STATUS COMMAND...
  local name=$1 expected=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"; local status=$?
  cp "$work/err" "$work/last-err"
  if [[ $status -eq $expected ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $name: exit $status, expected $expected"; cat "$work/err"; fi
}
said() {  # said NAME PATTERN: the last checked command's stderr contains PATTERN
  if grep -q -- "$2" "$work/last-err"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1: stderr lacks '$2':"; cat "$work/last-err"; fi
}
printf 'secret-pass\n' > "$work/pass"
head -c 100003 /dev/urandom > "$work/plain"

check "encrypt" 0 sh -c "'$cipher' encrypt --pass-file='$work/pass' < '$work/plain' > '$work/enc'"
check "openssl decrypts ours" 0 sh -c "openssl enc -d -aes-256-cbc -md sha1 -pass file:'$work/pass' -in '$work/enc' 2>/dev/null | cmp - '$work/plain'"
check "ours decrypts ours" 0 sh -c "'$cipher' decrypt --pass-file='$work/pass' < '$work/enc' | cmp - '$work/plain'"
check "env passphrase" 0 sh -c "PGBR_CIPHER_PASS=secret-pass '$cipher' decrypt < '$work/enc' | cmp - '$work/plain'"
check "size" 0 sh -c "test \"\$('$cipher' size --pass-file='$work/pass' '$work/enc')\" = 100003"
check "wrong passphrase is exit 2" 2 sh -c "PGBR_CIPHER_PASS=wrong '$cipher' decrypt < '$work/enc' > /dev/null"
said "wrong passphrase message" "bad padding"
check "plain input is exit 2" 2 sh -c "'$cipher' decrypt --pass-file='$work/pass' < '$work/plain' > /dev/null"
said "plain input hint" "HINT: is or was the repo encrypted?"
check "truncated input is exit 2" 2 sh -c "head -c 1000 '$work/enc' | '$cipher' decrypt --pass-file='$work/pass' > /dev/null"
check "passphrase in argv refused" 1 "$cipher" decrypt --pass=secret-pass
said "refusal says why" "not allowed on the command line"
check "no passphrase is exit 1" 1 sh -c "env -u PGBR_CIPHER_PASS '$cipher' decrypt < '$work/enc'"
check "missing pass file is exit 3" 3 "$cipher" decrypt --pass-file="$work/nope"
check "sub-pass shape" 0 sh -c "'$cipher' sub-pass | grep -Eq '^[A-Za-z0-9+/]{64}\$'"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
