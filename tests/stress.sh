#!/usr/bin/env bash
# Run the README's test command N times in a row (default 3) while two CPU hogs load the machine, and print
# each run's exit code and wall time. Usage: bash tests/stress.sh [N] [pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}; shift || true
command -v stress-ng >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng >/dev/null; }
stress-ng --cpu 2 --timeout 4h --quiet &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  bash tests/run.sh "$@"
  rc=$?
  echo "== stress run $i/$runs: exit $rc in $(( $(date +%s) - start )) s"
  [ "$rc" -eq 0 ] || failed=1
done
exit $failed
