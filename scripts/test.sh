#!/usr/bin/env bash
# Runs the tests of every Go module in the repository. CGO is needed for
# the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1
export ENGINE_TEST_DATABASE_URL="${ENGINE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
timeout="${TEST_TIMEOUT:-25m}"
status=0
for mod in $(find . -name go.mod -not -path './build/*' -not -path './.git/*' -printf '%h\n' | sort); do
  echo "== go test $mod" >&2
  (cd "$mod" && go test -race -count=1 -timeout "$timeout" ./...) || status=1
done
exit $status
