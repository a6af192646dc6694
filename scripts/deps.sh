#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when they
# are missing. Safe to run repeatedly; needs root (or sudo) only when
# something is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
have tesseract || need+=(tesseract-ocr)
have wat2wasm || need+=(wabt)
have clang-14 || need+=(clang-14)
have wasm-ld-14 || need+=(lld-14)
pkg_installed wasi-libc || need+=(wasi-libc)
pkg_installed libclang-rt-14-dev-wasm32 || need+=(libclang-rt-14-dev-wasm32)
have python3 || need+=(python3)  # examples/agents: the Python agent's test

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
