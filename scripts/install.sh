#!/usr/bin/env bash
# Create a virtual environment and install the project's dependencies into it.
#   bash scripts/install.sh         .venv from requirements/app.lock (what `run.py` needs)
#   bash scripts/install.sh test    .venv from requirements/test.lock (app + test tools)
#   bash scripts/install.sh latest  .venv-latest with the newest versions pyproject.toml allows (app + test)
# VENV=DIR overrides the folder. Nothing needs to be installed first: on a Debian Python without the
# venv module it installs python3-venv (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-app}
case "$kind" in
  app|test) venv=${VENV:-.venv} ;;
  latest) venv=${VENV:-.venv-latest} ;;
  *) echo "usage: bash scripts/install.sh [app|test|latest]" >&2; exit 2 ;;
esac

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# This machine's pip config names find-links folders that may be absent: drop that noise, keep real errors.
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

if [ "$kind" = latest ]; then
  quiet "${pip[@]}" --upgrade uv
  # Resolve afresh from pyproject.toml's ranges, ignoring the lock: a new release is found here first.
  "$venv/bin/uv" pip install -q --python "$venv/bin/python" --upgrade -r pyproject.toml --extra test
  "$venv/bin/uv" pip list --python "$venv/bin/python" --format freeze > "$venv/resolved.txt"
else
  quiet "${pip[@]}" --require-hashes -r "requirements/$kind.lock"
fi
