#!/usr/bin/env bash
# Runs every fuzz target of every Go module in the repository for the given
# time each (default 5s): a short smoke run in `make test`, longer by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for mod in $(find . -name go.mod -not -path './build/*' -not -path './.git/*' -printf '%h\n' | sort); do
  for dir in $(cd "$mod" && go list -f '{{.Dir}}' ./...); do
    targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
    for target in $targets; do
      echo "== fuzz ${dir#$PWD/} $target ($fuzztime)" >&2
      ok=0
      for try in 1 2; do
        if (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" . >"$log" 2>&1); then
          ok=1
          break
        fi
        # The fuzzing engine sometimes stops on its own time limit while a
        # worker is still starting ("context deadline exceeded") without
        # having found anything; that is retried once. A real finding
        # writes a failing input and is reported at once.
        if grep -q 'Failing input written' "$log" || ! grep -q 'context deadline exceeded' "$log"; then
          break
        fi
        echo "   (the fuzzing engine timed out without a finding; running it again)" >&2
      done
      if [ "$ok" != 1 ]; then
        echo "fuzz ${dir#$PWD/} $target failed:" >&2
        tail -40 "$log" >&2
        status=1
      fi
    done
  done
done
exit $status
