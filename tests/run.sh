#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, start PostgreSQL, run the suite on
# SQLite, then the `postgres`-marked tests again on PostgreSQL. Both passes always run; the exit code is
# non-zero if either failed.
#   bash tests/run.sh [pytest args]               locked dependencies (requirements/test.lock, in .venv)
#   DEPS=latest bash tests/run.sh [pytest args]   the newest versions pyproject.toml allows (in .venv-latest)
#   TEST_WORKERS=0 bash tests/run.sh              one process (default: 2 pytest-xdist workers; most tests wait
#                                                 on servers and subprocesses, so two share 2 cores well)
set -uo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v stress-ng >/dev/null || need+=(stress-ng)  # tests/stress.sh loads the CPU with it
[ -x /usr/sbin/nginx ] || need+=(nginx-light)  # tests/processes/test_nginx_site.py runs the shipped site
[ -x /usr/bin/redis-server ] || need+=(redis-server)  # tests/topology runs Debian's redis-server (policy-rc.d: not started)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || exit 1
fi
if [ "${DEPS:-locked}" = latest ]; then
  bash scripts/install.sh latest || exit 1
  PY=.venv-latest/bin/python
  echo "newest allowed versions: $(grep -iE '^(redis|rq|peewee|flask|pytelegrambotapi|pydantic)==' .venv-latest/resolved.txt | tr '\n' ' ')"
else
  bash scripts/install.sh test || exit 1
  PY=.venv/bin/python
fi

# A throwaway PostgreSQL server on 127.0.0.1:5433 (initdb refuses root: run it as postgres).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDIR=$(mktemp -d /tmp/helpdesk-pg.XXXXXX)
chown postgres: "$PGDIR"
trap '(cd /tmp && su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -m fast -w stop" >/dev/null 2>&1); rm -rf "$PGDIR"' EXIT
(cd /tmp && su postgres -c "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres -E UTF8 --no-locale" >/dev/null) || exit 1
(cd /tmp && su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -w -o '-p 5433 -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null) || exit 1
"$PGBIN/createdb" -h 127.0.0.1 -p 5433 -U postgres helpdesk_test || exit 1

# Each xdist worker has its own Redis, temporary files and (tests/conftest.py) PostgreSQL database.
workers=(-n "${TEST_WORKERS:-2}" --dist worksteal)
echo "== pass 1: the whole suite on SQLite"
"$PY" -m pytest "${workers[@]}" "$@"
sqlite_rc=$?
echo "== pass 2: the postgres-marked tests on PostgreSQL"
TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/helpdesk_test "$PY" -m pytest "${workers[@]}" -m postgres "$@"
pg_rc=$?
# Arguments that select no postgres-marked test (e.g. one file) make pytest exit 5: that pass ran nothing to fail.
[ "$pg_rc" -eq 5 ] && [ $# -gt 0 ] && pg_rc=0
echo "== SQLite pass: exit $sqlite_rc; PostgreSQL pass: exit $pg_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
