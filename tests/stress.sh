#!/usr/bin/env bash
# The suite on a loaded machine: stress-ng keeps HOGS CPU hogs (default 2, the CI machine's cores) busy while the
# whole suite runs RUNS times in a row (default 2) on SQLite; prints each run's exit code and wall time.
#   bash tests/stress.sh [pytest args]          PY=path/to/python to use another interpreter (default .venv/bin/python)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
command -v stress-ng >/dev/null || { echo "stress-ng is not installed (apt-get install stress-ng)" >&2; exit 1; }
stress-ng --cpu "${HOGS:-2}" --timeout 0 >/dev/null 2>&1 &
hogs=$!
trap 'kill "$hogs" 2>/dev/null; wait "$hogs" 2>/dev/null' EXIT
rc=0
for run in $(seq "${RUNS:-2}"); do
  started=$(date +%s)
  "$PY" -m pytest -q "$@"
  code=$?
  echo "== loaded run $run: exit $code, $(( $(date +%s) - started )) s"
  [ "$code" -eq 0 ] || rc=$code
done
exit "$rc"
