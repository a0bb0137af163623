# Sourced by scripts/test.sh and scripts/start.sh: installs npm packages when missing or stale,
# and (for tests) Debian's Chromium and numpy when they are missing.
ensure_npm_packages() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing npm packages (npm ci)..."
    npm ci --no-audit --no-fund
  fi
}

# Installs a Debian package ($1) when running as root with apt-get; says why ($2).
apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get > /dev/null; then
    echo "Installing Debian's $1 $2..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" > /dev/null
  fi
}

ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$CHROMIUM_PATH" ]; then return 0; fi
  apt_install chromium "for the browser tests"
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "Chromium is needed for the end-to-end tests but is not at $CHROMIUM_PATH." >&2
    echo "Install it as root with 'apt-get install chromium', or set CHROMIUM_PATH to a Chromium binary." >&2
    exit 1
  fi
}

# The Python reference reader's tests (test/unit/export/pythonReader.test.ts) need numpy; without
# it they skip, saying so.
ensure_numpy() {
  if command -v python3 > /dev/null && python3 -c 'import numpy' 2> /dev/null; then return 0; fi
  apt_install python3-numpy "for the Python reader's tests" \
    || echo "python3-numpy could not be installed: the Python reader's tests will skip."
}

ensure_npm_packages
if [ "${NEEDS_CHROMIUM:-1}" = "1" ]; then
  ensure_chromium
  ensure_numpy
fi
