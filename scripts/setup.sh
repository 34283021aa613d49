#!/usr/bin/env bash
# Create the virtual environment and install Tadamun into it (with the test tools if asked).
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv" && "$python" -m venv "$venv"
    else
      echo "Cannot create a virtual environment: install python3-venv (apt-get install python3-venv)." >&2
      exit 1
    fi
  fi
  "$venv/bin/pip" install -q --upgrade pip
fi
extras=""
[ "${1:-}" = "test" ] && extras="[test]"
stamp="$venv/.installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -e ".$extras"
  touch "$stamp"
fi
