#!/usr/bin/env bash
# Installs what the lab needs, builds it, and serves the built copy. Prints the URL to open.
set -euo pipefail
cd "$(dirname "$0")/.."
NEEDS_CHROMIUM=0
source scripts/ensure-deps.sh
npx vite build
PORT="${PORT:-4173}"
echo
echo "RecSys Compression Lab: open http://localhost:${PORT}/ in Chrome (WebGPU is used when the browser has it)."
echo
exec npx vite preview --port "$PORT" --strictPort
