#!/usr/bin/env bash
# Every benchmark of the project, and a report: as root on Debian 12, installs what is
# missing (gnuplot too), builds in release mode, starts a PostgreSQL of its own in a state
# directory apart from deploy/local/run.sh's, runs each benchmark beside its baseline
# measured in the same run, and writes a report folder:
#
#   report.md        the summary table (figure, value, baseline, ratio) and the curves
#   raw/*.jsonl      every figure as a JSON line {"name","value","unit","bench","size"}
#   raw/*.txt        each benchmark's own table and progress
#   raw/postgres-settings.txt   the settings PostgreSQL was started with
#   *.png            latency against load, throughput and memory against data size
#
#   bench/run.sh --quick          a few minutes (default): small data sizes, short runs
#   bench/run.sh --full           every size (read path up to 200k customers, ingestion up to
#                                 1M people, the access log up to 10M events): an hour or
#                                 more on two cores
#   --out=DIR                     report folder (default bench/reports/<date-time>)
#   --seconds=N                   length of each timed run (quick 3, full 10)
#
# Figures are only comparable as ratios to their baseline: these machines are shared.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/lib.sh"

MODE=quick
OUT=""
SECONDS_PER_RUN=""
for arg in "$@"; do
  case $arg in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    --out=*) OUT=${arg#--out=} ;;
    --seconds=*) SECONDS_PER_RUN=${arg#--seconds=} ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) cdp_die "unknown argument $arg (see --help)" ;;
  esac
done
if [[ $MODE == quick ]]; then
  READ_SIZES=(2000 20000); INGEST_SIZES=(10000); RESOLUTION_SIZES=10000; LOG_SIZES=(100000 1000000)
  LOADS=0.25,0.5,0.75,0.9; : "${SECONDS_PER_RUN:=3}"
else
  READ_SIZES=(2000 20000 200000); INGEST_SIZES=(10000 100000 1000000); RESOLUTION_SIZES=10000,100000
  LOG_SIZES=(1000000 10000000)
  LOADS=0.1,0.25,0.5,0.75,0.9,1.0; : "${SECONDS_PER_RUN:=10}"
fi
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || cdp_die "--seconds: a whole number of seconds"
OUT=${OUT:-$CDP_ROOT/bench/reports/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)

cdp_require_root
cdp_install_packages "${CDP_PACKAGES[@]}" gnuplot-nox
cdp_say "building in release mode"
cdp_build cdp-consent cdp-ingest cdp-audit cdp-profile cdp-bench-consent-decision cdp-bench-consent-service \
  cdp-bench-resolution cdp-bench-ingest cdp-bench-read-path cdp-bench-access-log cdp-bench-mixed

# A PostgreSQL of its own, with fsync on as in production, in its own state directory.
STATE=${CDP_BENCH_HOME:-$CDP_ROOT/.cdp-bench}
mkdir -p "$STATE"
chmod 755 "$STATE"
cdp_ensure_pg_user
cdp_pg_running "$STATE/pg" && cdp_pg_stop "$STATE/pg"
rm -rf "$STATE/pg" "$STATE/run"
cdp_pg_init "$STATE/pg"
PG_PORT=$(cdp_free_port)
cdp_pg_start "$STATE/pg" "$STATE/run" "$PG_PORT" "$STATE/postgres.log"
trap 'cdp_pg_stop "$STATE/pg" || true' EXIT
export CDP_TEST_PG_DSN="host=$STATE/run port=$PG_PORT user=postgres dbname=postgres"
# The services' logs and keys of this run, kept for a look until the next run.
export TMPDIR="$STATE/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
cdp_say "PostgreSQL for the benchmarks on port $PG_PORT; report in $OUT"
# The settings the server was started with (cdp_pg_start, CDP_PG_OPTIONS), as it runs with
# them, for the report.
psql "$CDP_TEST_PG_DSN" -qAtc "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name)
  FROM pg_settings WHERE source = 'command line'
  AND name NOT IN ('listen_addresses', 'port', 'unix_socket_directories')" >"$OUT/raw/postgres-settings.txt"

# Runs one benchmark: its output to raw/NAME.txt, its figures (tagged) to raw/NAME.jsonl.
run() {
  local name=$1 size=$2; shift 2
  cdp_say "$name${size:+ at $size}"
  local started=$SECONDS
  if ! "$@" >"$OUT/raw/$name.txt" 2>"$OUT/raw/$name.log"; then
    tail -n 20 "$OUT/raw/$name.log" >&2
    cdp_die "$name failed (its output: $OUT/raw/$name.txt, $OUT/raw/$name.log)"
  fi
  grep '^{' "$OUT/raw/$name.txt" | sed "s/}\$/,\"bench\":\"${name%%-[0-9]*}\",\"size\":${size:-0}}/" >"$OUT/raw/$name.jsonl"
  echo "  $((SECONDS - started)) s" >&2
}
B=$CDP_BUILD_DIR/bench
run consent-decision "" "$B/cdp-bench-consent-decision"
run consent-service "" "$B/cdp-bench-consent-service" --seconds="$SECONDS_PER_RUN"
# The public record-linkage sets live beside the checkout (../shared/data/record-linkage)
# or where CDP_RECORD_LINKAGE_DIR says; without them the quality figures are left out.
LINKAGE=${CDP_RECORD_LINKAGE_DIR:-$CDP_ROOT/../shared/data/record-linkage}
if [[ -r $LINKAGE/febrl_dataset4a.csv ]]; then
  run resolution "" "$B/cdp-bench-resolution" --data_dir="$LINKAGE" --generated="$RESOLUTION_SIZES"
else
  cdp_say "no record-linkage data in $LINKAGE: resolution quality left out (set CDP_RECORD_LINKAGE_DIR)"
fi
for n in "${INGEST_SIZES[@]}"; do run "ingest-$n" "$n" "$B/cdp-bench-ingest" --people="$n"; done
for n in "${LOG_SIZES[@]}"; do run "access-log-$n" "$n" "$B/cdp-bench-access-log" --events="$n"; done
for n in "${READ_SIZES[@]}"; do
  run "read-path-$n" "$n" "$B/cdp-bench-read-path" --people="$n" --seconds="$SECONDS_PER_RUN" --loads="$LOADS"
done

run mixed "${READ_SIZES[-1]}" "$B/cdp-bench-mixed" --people="${READ_SIZES[-1]}" --seconds="$SECONDS_PER_RUN"

# PostgreSQL's own select-only throughput on the same server (pgbench -S): the ceiling of
# any read that takes one query.
cdp_say "pgbench -S (PostgreSQL's own select-only rate)"
psql "$CDP_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS bench_pgbench" -c "CREATE DATABASE bench_pgbench" >/dev/null
"$PG_BIN/pgbench" -q -i -s 10 -h "$STATE/run" -p "$PG_PORT" -U postgres bench_pgbench >"$OUT/raw/pgbench.log" 2>&1
"$PG_BIN/pgbench" -S -c 16 -j 2 -T "$SECONDS_PER_RUN" -h "$STATE/run" -p "$PG_PORT" -U postgres bench_pgbench \
  >"$OUT/raw/pgbench.txt" 2>>"$OUT/raw/pgbench.log"
tps=$(awk '/^tps = / {print $3; exit}' "$OUT/raw/pgbench.txt")
echo "{\"name\":\"baseline_pgbench_select_only_tps\",\"value\":${tps:-0},\"unit\":\"1/s\",\"bench\":\"pgbench\",\"size\":0}" \
  >"$OUT/raw/pgbench.jsonl"

cdp_say "writing the report"
"$CDP_ROOT/bench/report.sh" "$OUT" "$MODE" "$SECONDS_PER_RUN"
cdp_say "report: $OUT/report.md"
