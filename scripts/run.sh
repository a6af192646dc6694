#!/usr/bin/env bash
# The main job; grows with the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/engine demo --plugins build/plugins
