#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs, then type-checks, lints,
# checks formatting, runs the unit tests, builds the app and runs the end-to-end tests in
# Debian's Chromium (a WebGPU lane and a fallback lane).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh

step() { printf '\n=== %s ===\n' "$1"; }
step "type-check";       npx tsc -b
step "lint";             npx eslint . --max-warnings=0
step "format";           npx prettier --check . > /dev/null && echo "prettier: all files formatted"
step "unit tests";       npx vitest run
step "build";            npx vite build
step "end-to-end tests"; npx playwright test
