#!/usr/bin/env bash
# Runs the tests of every Go module in the repository (race detector on),
# then a short run of every fuzz target, and ends with one summary line
# counting test packages and fuzz targets
# ("summary: N passed, N failed").
set -uo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1
export ENGINE_TEST_DATABASE_URL="${ENGINE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
timeout="${TEST_TIMEOUT:-25m}"
fuzztime="${FUZZTIME:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for mod in $(find . -name go.mod -not -path './build/*' -not -path './.git/*' -printf '%h\n' | sort); do
  echo "== go test $mod" >&2
  (cd "$mod" && go test -race -count=1 -timeout "$timeout" ./... 2>&1) | tee -a "$log" || status=1
done
passed=$(grep -c '^ok ' "$log" || true)
failed=$(grep -c '^FAIL[[:space:]]' "$log" || true)
fuzz_out=$(mktemp)
if [ "$fuzztime" != "0" ]; then
  ./scripts/fuzz.sh "$fuzztime" 2>&1 | tee "$fuzz_out" >&2 || status=1
fi
fuzz_run=$(grep -c '^== fuzz ' "$fuzz_out" || true)
fuzz_failed=$(grep -c '^fuzz .* failed:' "$fuzz_out" || true)
rm -f "$fuzz_out"
echo
echo "summary: $((passed + fuzz_run - fuzz_failed)) passed, $((failed + fuzz_failed)) failed"
exit $status
