#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
#   bash scripts/test.sh            (extra arguments go to pytest)
# Debian packages the tests start for real (never a mock), installed here when running
# as root (CI) or with sudo:
#   chromium      the browser tests (without it they skip, unless CROSSORIGIN_REQUIRE_BROWSER=1)
#   redis-server  the Redis tests start their own on a free loopback port
#   prometheus    the metrics test scrapes the demo under gunicorn with it
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for program in chromium redis-server prometheus; do
  command -v "$program" >/dev/null 2>&1 || missing+=("$program")  # package = program
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo"
  else
    as_root="no"
    echo "not installed, and cannot be installed here: ${missing[*]}; their tests will" \
      "fail (chromium's skip)" >&2
  fi
  if [ "$as_root" != "no" ]; then
    $as_root apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
if command -v chromium >/dev/null 2>&1; then
  # Chromium is here, so a browser test that cannot run is a failure, not a skip.
  export CROSSORIGIN_REQUIRE_BROWSER="${CROSSORIGIN_REQUIRE_BROWSER:-1}"
fi

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
python -m pytest "$@"
