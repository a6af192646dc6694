#!/usr/bin/env bash
# Runs every benchmark in the root module; pass -count etc. through BENCHFLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchmem ${BENCHFLAGS:--count=5} ./...
