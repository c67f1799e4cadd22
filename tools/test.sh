#!/usr/bin/env bash
# Runs every check and every test, from a fresh clone: the README's test
# command, and what .ci/run calls.
#
#   1. tools/bootstrap.sh            installs what the build needs (idempotent)
#   2. generated code is up to date  tools/genproto.sh + tools/gazelle.sh, then no diff
#   3. gofmt and go vet
#   4. bazel test //...              every go_test, as Bazel builds it
#   5. bazel test --config=race //... the same under the race detector
#   6. go test -race ./...           the go command's view, also under race
#
# Ends with one plain line "N passed, N failed": individual go tests (and
# subtests) of step 6 plus Bazel test targets of steps 4 and 5.
# Set REALM_TEST_QUICK=1 to skip step 5 during development.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
start=$SECONDS
failures=0
step() { echo; echo "==> $* ($((SECONDS - start))s)"; }
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

step "bootstrap"
tools/bootstrap.sh || { echo "bootstrap failed"; echo "0 passed, 1 failed"; exit 1; }

step "generated code and BUILD files are up to date"
tools/genproto.sh || fail "genproto"
tools/gazelle.sh || fail "gazelle"
if [ -n "$(git status --porcelain -- '*.pb.go' '*BUILD.bazel' deps.bzl)" ]; then
  git status --porcelain -- '*.pb.go' '*BUILD.bazel' deps.bzl
  git --no-pager diff --stat -- '*.pb.go' '*BUILD.bazel' deps.bzl
  fail "generated files differ from the committed ones: run tools/genproto.sh and tools/gazelle.sh, then commit"
fi

step "gofmt and go vet"
unformatted="$(gofmt -l $(git ls-files '*.go' | grep -v '\.pb\.go$'))"
[ -z "$unformatted" ] || { echo "$unformatted"; fail "gofmt"; }
go vet ./... || fail "go vet"

bazel_passed=0 bazel_failed=0
bazel_tests() { # label args...
  local log; log="$(mktemp)"
  bazel test "$@" 2>&1 | tee "$log" | grep -E '^//|^FAIL|^ERROR|Executed' 
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE)|^//.* FAILED TO BUILD' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; sed -n '/^ERROR/,$p' "$log" | head -40; fi
  # A failed target's own log is only on this machine: print why it failed.
  local testlog
  for testlog in $(sed -n 's/^FAIL: .* (see \(.*test\.log\))$/\1/p' "$log"); do
    echo "--- $testlog (failures, then the last 40 lines)"
    grep -E -A3 -- '--- FAIL|^panic:|_test\.go:[0-9]+:' "$testlog" | head -60
    tail -n 40 "$testlog"
  done
  bazel_passed=$((bazel_passed + p)); bazel_failed=$((bazel_failed + f))
  rm -f "$log"
  return "$rc"
}

step "bazel test //..."
bazel_tests //... || fail "bazel test"

if [ -z "${REALM_TEST_QUICK:-}" ]; then
  step "bazel test --config=race //..."
  bazel_tests --config=race //... || fail "bazel test --config=race"
fi

step "go test -race ./..."
summary="$(mktemp)"
go test -race -count=1 -json ./... 2>&1 | go run ./tools/testsummary | tee "$summary"
[ "${PIPESTATUS[1]}" -eq 0 ] || fail "go test -race"
read -r go_passed _ go_failed _ < <(tail -n 1 "$summary")
rm -f "$summary"

step "done in $((SECONDS - start))s: bazel targets $bazel_passed passed, $bazel_failed failed; go tests $go_passed passed, $go_failed failed; $failures step(s) failed"
total_failed=$((bazel_failed + go_failed))
[ "$failures" -eq 0 ] || [ "$total_failed" -gt 0 ] || total_failed=$failures
echo "$((bazel_passed + go_passed)) passed, $total_failed failed"
[ "$failures" -eq 0 ]
