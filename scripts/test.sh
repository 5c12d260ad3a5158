#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
#   bash scripts/test.sh            (extra arguments go to pytest)
# Browser tests need Debian's chromium: installed here when running as root (CI)
# or with sudo; without it they skip with a reason, unless CROSSORIGIN_REQUIRE_BROWSER=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed and cannot be installed here: browser tests will skip" >&2
  fi
fi
# The Redis tests start Debian's redis-server themselves (never a mock).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is not installed and cannot be installed here: the Redis tests will fail" >&2
  fi
fi
# The metrics test starts Debian's prometheus itself, scraping the demo under gunicorn.
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "prometheus is not installed and cannot be installed here: the metrics test will fail" >&2
  fi
fi
if command -v chromium >/dev/null 2>&1; then
  # Chromium is here, so a browser test that cannot run is a failure, not a skip.
  export CROSSORIGIN_REQUIRE_BROWSER="${CROSSORIGIN_REQUIRE_BROWSER:-1}"
fi

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
python -m pytest "$@"
