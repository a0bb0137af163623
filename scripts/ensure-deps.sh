# Sourced by scripts/test.sh and scripts/start.sh: installs npm packages when missing or stale,
# and (for tests) Debian's Chromium when it is missing.
ensure_npm_packages() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing npm packages (npm ci)..."
    npm ci --no-audit --no-fund
  fi
}

ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$CHROMIUM_PATH" ]; then return 0; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get > /dev/null; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  fi
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "Chromium is needed for the end-to-end tests but is not at $CHROMIUM_PATH." >&2
    echo "Install it as root with 'apt-get install chromium', or set CHROMIUM_PATH to a Chromium binary." >&2
    exit 1
  fi
}

ensure_npm_packages
if [ "${NEEDS_CHROMIUM:-1}" = "1" ]; then ensure_chromium; fi
