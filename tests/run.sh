#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, start PostgreSQL, run the suite
# on SQLite, then the storage/ticket tests again on PostgreSQL. Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

# A throwaway PostgreSQL server on 127.0.0.1:5433 (initdb refuses root: run it as postgres).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDIR=$(mktemp -d /tmp/helpdesk-pg.XXXXXX)
chown postgres: "$PGDIR"
(cd /tmp && su postgres -c "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres -E UTF8 --no-locale" >/dev/null)
(cd /tmp && su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -w -o '-p 5433 -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null)
trap '(cd /tmp && su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -m fast -w stop" >/dev/null 2>&1); rm -rf "$PGDIR"' EXIT
"$PGBIN/createdb" -h 127.0.0.1 -p 5433 -U postgres helpdesk_test

python3 -m pytest "$@"
TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/helpdesk_test python3 -m pytest -m postgres "$@"
