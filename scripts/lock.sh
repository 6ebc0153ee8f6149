#!/usr/bin/env bash
# Refresh requirements/*.lock from pyproject.toml (exact versions with hashes, for Python 3.11).
# Pass uv options through, e.g. `bash scripts/lock.sh --upgrade-package redis`. Without --upgrade,
# versions already locked are kept when they still satisfy pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
.venv/bin/python -m pip install -q --disable-pip-version-check "uv==0.13.9"
for kind in app test; do
  extra=(); [ "$kind" = test ] && extra=(--extra test)
  .venv/bin/uv pip compile -q pyproject.toml "${extra[@]}" --python-version 3.11 --generate-hashes \
    --output-file "requirements/$kind.lock" --custom-compile-command "bash scripts/lock.sh" "$@"
done
