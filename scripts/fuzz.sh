#!/usr/bin/env bash
# Runs every fuzz target in the root module for the given time each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== fuzz $pkg $target ($fuzztime)" >&2
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null || { echo "fuzz $pkg $target failed" >&2; status=1; }
  done
done
exit $status
