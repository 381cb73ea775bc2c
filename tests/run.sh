#!/usr/bin/env bash
# The test command: as root on Debian 12, installs what is missing, builds, starts a
# throwaway PostgreSQL in a temporary directory on a free port, runs every test with
# ctest (labels: unit, pg, e2e), stops the server and exits with ctest's status.
#
#   tests/run.sh                 everything
#   tests/run.sh -L unit         only some tests: arguments go to ctest
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

cdp_require_root
# Browser tests need Debian's chromium and a Node.js with npm (the machine's own, or Debian's).
cdp_install_packages "${CDP_PACKAGES[@]}" chromium fonts-dejavu-core
command -v npm >/dev/null || cdp_install_packages nodejs npm
# playwright-core and axe-core from the npm registry, as package-lock.json pins them;
# installed again only when the lock file changes.
BROWSER_DIR=$CDP_ROOT/tests/browser
if [[ ! $BROWSER_DIR/node_modules/.installed -nt $BROWSER_DIR/package-lock.json ]]; then
  cdp_say "installing the browser tests' npm packages"
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.installed) ||
    cdp_die "npm ci in tests/browser failed"
fi
cdp_build

cdp_ensure_pg_user
PG_TMP=$(mktemp -d /tmp/cdp-test-pg.XXXXXX)
chmod 755 "$PG_TMP"
cleanup() {
  cdp_pg_stop "$PG_TMP/data" || true
  rm -rf "$PG_TMP"
}
trap cleanup EXIT
cdp_pg_init "$PG_TMP/data"
# Durability is not under test here, so the throwaway server skips fsync. Its data is
# small, so it keeps PostgreSQL's memory defaults (cdp_pg_memory_options): with 4 GB of WAL
# between checkpoints, the copies of template1 that every test database's creation writes
# to WAL would pile up in the temporary directory.
for attempt in 1 2 3 4 5; do
  PG_PORT=$(cdp_free_port)
  CDP_PG_FSYNC=off CDP_PG_MEMORY=default cdp_pg_start "$PG_TMP/data" "$PG_TMP/run" "$PG_PORT" "$PG_TMP/postgres.log" && break
  [[ $attempt == 5 ]] && { tail -n 20 "$PG_TMP/postgres.log" >&2; cdp_die "cannot start the test PostgreSQL"; }
done
cdp_say "test PostgreSQL on port $PG_PORT (socket $PG_TMP/run)"

export CDP_TEST_PG_DSN="host=$PG_TMP/run port=$PG_PORT user=postgres dbname=postgres"
# The tests' own directories (service logs, keys, the browser's profile) go with this one.
export TMPDIR="$PG_TMP/tmp"
mkdir -p "$TMPDIR"
set +e
ctest --test-dir "$CDP_BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
status=$?
set -e
exit $status
