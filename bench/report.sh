#!/usr/bin/env bash
# Writes DIR/report.md and DIR/*.png from DIR/raw/*.jsonl (as bench/run.sh leaves them).
#   bench/report.sh DIR [MODE] [SECONDS]
# Needs only awk and gnuplot, so a report can be made again from a copied raw/ folder.
set -euo pipefail
DIR=${1:?usage: bench/report.sh DIR [MODE] [SECONDS]}
MODE=${2:-?}
RUN_SECONDS=${3:-?}
RAW=$DIR/raw

# Every figure as "bench<TAB>size<TAB>name<TAB>value<TAB>unit".
cat "$RAW"/*.jsonl | awk '
  function field(key,   m) {
    if (match($0, "\"" key "\":\"[^\"]*\"")) return substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
    if (match($0, "\"" key "\":[-0-9.eE+]+")) return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
    return ""
  }
  { printf "%s\t%s\t%s\t%s\t%s\n", field("bench"), field("size"), field("name"), field("value"), field("unit") }
' >"$DIR/figures.tsv"

# get NAME [SIZE]: the figure's value (the largest size when none is given), or "".
get() {
  awk -F'\t' -v n="$1" -v s="${2:-}" '$3 == n && (s == "" || $2 == s) { if (s != "" || $2 + 0 >= best) { best = $2 + 0; v = $4 } }
    END { print v }' "$DIR/figures.tsv"
}
fmt() { [[ -z $1 ]] && { echo "–"; return; }; awk -v v="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, v }'; }
ratio() { [[ -z $1 || -z $2 ]] && { echo "–"; return; }; awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "–"; else printf "%.3f", a / b }'; }
sizes() { awk -F'\t' -v b="$1" '$1 == b { print $2 }' "$DIR/figures.tsv" | sort -n -u; }

READ_SIZES=$(sizes read-path)
INGEST_SIZES=$(sizes ingest)
LOG_SIZES=$(sizes access-log)
LARGEST_READ=$(echo "$READ_SIZES" | tail -n 1)
LOADS=$(awk -F'\t' -v s="$LARGEST_READ" '$1 == "read-path" && $2 == s && $3 ~ /^read_path_open_loop@.*_rate$/ {
  sub(/^read_path_open_loop@/, "", $3); sub(/_rate$/, "", $3); print $3 }' "$DIR/figures.tsv" | sort -n)

{
  echo "# Benchmark report"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), mode \`$MODE\`, ${RUN_SECONDS} s per timed run, on $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) memory);"
  if [[ -s $RAW/postgres-settings.txt ]]; then
    echo "PostgreSQL started with $(<"$RAW/postgres-settings.txt") (the rest as initdb left them)."
  else
    echo "PostgreSQL's settings were not recorded (raw/postgres-settings.txt is missing or empty)."
  fi
  echo "Every figure stands beside a baseline measured in the same run on the same machine;"
  echo "compare the ratios, not the bare numbers: the machine is shared and noisy."
  echo
  echo "## Summary"
  echo
  echo "| figure | value | baseline (same run) | baseline value | ratio | goal |"
  echo "|---|---|---|---|---|---|"
  r=$(get read_path_get_profile_per_s); h=$(get baseline_health_check_per_s); pg=$(get baseline_pgbench_select_only_tps)
  echo "| GetProfile/s, 20 fields, consent + durable event, $LARGEST_READ customers | $(fmt "$r") | Health/Check/s, same server | $(fmt "$h") | $(ratio "$r" "$h") | ≥ 0.6 |"
  c=$(get read_path_cached_get_profile_per_s)
  echo "| GetProfile/s over 1000 profiles held in the profile cache, $LARGEST_READ customers | $(fmt "$c") | Health/Check/s, same server | $(fmt "$h") | $(ratio "$c" "$h") | ≥ 0.6 |"
  echo "| GetProfile/s | $(fmt "$r") | PostgreSQL select-only (pgbench -S, 16 clients) | $(fmt "$pg") | $(ratio "$r" "$pg") | |"
  echo "| GetProfile p99 / p99.9 at its maximum rate, ms | $(fmt "$(get read_path_p99_at_max)" 2) / $(fmt "$(get read_path_p999_at_max)" 2) | Health/Check p99.9 at its maximum | $(fmt "$(get baseline_health_p999_at_max)" 2) | $(ratio "$(get read_path_p999_at_max)" "$(get baseline_health_p999_at_max)") | |"
  hr=$(get read_path_p99_at_half_rate); hc=$(get baseline_commit_p99_at_half_rate)
  echo "| GetProfile p99 at half its maximum rate (open loop), ms | $(fmt "$hr" 2) | one-row INSERT + COMMIT p99, same rate and clients | $(fmt "$hc" 2) | $(ratio "$hr" "$hc") | < 5 ms |"
  a=$(get access_log_appends_20_per_call_per_s); s=$(get access_log_sequencer_appends_per_s)
  echo "| access-log appends/s, 20 events per call | $(fmt "$a") | 1 event per call | $(fmt "$(get access_log_appends_per_s)") | $(ratio "$a" "$(get access_log_appends_per_s)") | > 20,000 |"
  echo "| the sequencer alone (in process), events/s | $(fmt "$s") | | | | > 20,000 |"
  echo "| inclusion proof p50 / p99, ms | $(fmt "$(get inclusion_proof_p50)" 3) / $(fmt "$(get inclusion_proof_p99)" 3) | | | | < 1 ms |"
  echo "| VerifyLog through the service, events/s | $(fmt "$(get verify_log_events_per_s)") | | | | 1,000,000 |"
  for n in $LOG_SIZES; do
    v=$(get access_log_verify_per_s "$n"); sc=$(get baseline_scan_rows_per_s "$n")
    ap=$(get access_log_append_per_s "$n"); pi=$(get baseline_plain_insert_per_s "$n")
    echo "| access log of $n events: appends/s (in process, batched) | $(fmt "$ap") | plain INSERT + COMMIT rows/s | $(fmt "$pi") | $(ratio "$ap" "$pi") | > 20,000 |"
    echo "| access log of $n events: inclusion proof p99, ms | $(fmt "$(get access_log_proof_p99 "$n")" 3) | primary-key SELECT p99 | $(fmt "$(get baseline_pk_select_p99 "$n")" 3) | $(ratio "$(get access_log_proof_p99 "$n")" "$(get baseline_pk_select_p99 "$n")") | < 1 ms |"
    echo "| access log of $n events: verification, events/s | $(fmt "$v") | sequential scan rows/s | $(fmt "$sc") | $(ratio "$v" "$sc") | 1,000,000 |"
  done
  d=$(get consent.decide.per_second); hb=$(get consent.decide.baseline_hash_lookup.per_second)
  echo "| consent decisions/s (in process) | $(fmt "$d") | a hash lookup | $(fmt "$hb") | $(ratio "$d" "$hb") | |"
  u=$(get consent_update_per_s); pi=$(get baseline_pg_insert_commit_per_s)
  echo "| UpdateConsent/s | $(fmt "$u") | PostgreSQL insert + commit/s | $(fmt "$pi") | $(ratio "$u" "$pi") | |"
  echo "| revocation reaching a replica, p50 / p99 after the answer, ms | $(fmt "$(get consent_propagation_from_ack_p50)" 2) / $(fmt "$(get consent_propagation_from_ack_p99)" 2) | | | | |"
  m=$(get mixed_reads_per_s); ma=$(get baseline_reads_alone_per_s)
  echo "| mixed load (agents, chatbot, $(fmt "$(get mixed_records_written_per_s)") records/s written, $(fmt "$(get mixed_consent_changes_per_s)" 1) consent changes/s): GetProfile/s | $(fmt "$m") | the same reads alone | $(fmt "$ma") | $(ratio "$m" "$ma") | |"
  echo "| revocation reaching the next read under the mixed load, p50 / p99 ms | $(fmt "$(get mixed_revocation_p50)" 2) / $(fmt "$(get mixed_revocation_p99)" 2) | on the idle platform, p99 | $(fmt "$(get baseline_idle_revocation_p99)" 2) | $(ratio "$(get mixed_revocation_p99)" "$(get baseline_idle_revocation_p99)") | |"
  for n in $INGEST_SIZES; do
    i=$(get ingest_bulk_records_per_s "$n"); p=$(get baseline_plain_insert_rows_per_s "$n")
    cost=$(awk -v r="$i" 'BEGIN { if (r > 0) printf "%.1f", 1e6 / r }')
    echo "| ingestion with resolution, $n people: records/s (µs per record) | $(fmt "$i") ($cost) | plain INSERT rows/s | $(fmt "$p") | $(ratio "$i" "$p") | > 20,000 |"
  done
  n=$(echo "$INGEST_SIZES" | tail -n 1)
  if [[ -n $n ]]; then
    o=$(get ingest_one_record_p99 "$n"); hp=$(get baseline_health_check_p99 "$n")
    echo "| one new record resolved and stored at $n people, p50 / p99 ms | $(fmt "$(get ingest_one_record_p50 "$n")" 2) / $(fmt "$o" 2) | Health/Check round trip p99, same server | $(fmt "$hp" 2) | $(ratio "$o" "$hp") | p99 < 10 ms |"
    cp=$(get baseline_commit_p99 "$n")
    echo "| the same, beside the disk | | one-row INSERT + COMMIT p99, same pace | $(fmt "$cp" 2) | $(ratio "$o" "$cp") | |"
    e=$(get ingest_erase_one_p99 "$n")
    echo "| one customer erased at $n people (ingestion waits meanwhile), p50 / p99 ms | $(fmt "$(get ingest_erase_one_p50 "$n")" 2) / $(fmt "$e" 2) | one new record p99, same run | $(fmt "$o" 2) | $(ratio "$e" "$o") | |"
  fi
  echo
  echo "## Identity resolution quality"
  echo
  echo "| data set | precision | recall | F1 | records/s | exact-match baseline F1 |"
  echo "|---|---|---|---|---|---|"
  awk -F'\t' '$1 == "resolution" && $3 ~ /_f1$/ && $3 !~ /unguarded|baseline/ { sub(/_f1$/, "", $3); print $3 }' "$DIR/figures.tsv" |
    while read -r set; do
      echo "| $set | $(fmt "$(get "${set}_precision")" 4) | $(fmt "$(get "${set}_recall")" 4) | $(fmt "$(get "${set}_f1")" 4) | $(fmt "$(get "${set}_records_per_s")") | $(fmt "$(get "${set}_baseline_exact_f1")" 4) |"
    done
  echo
  echo "## Latency against load ($LARGEST_READ customers, open loop)"
  echo
  echo "![latency against load](latency-vs-load.png)"
  echo
  echo "| load (share of max) | GetProfile/s offered | p50 | p99 | p99.9 | Health/Check p50 | p99 | p99.9 | INSERT + COMMIT p50 | p99 | p99.9 |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for l in $LOADS; do
    echo "| $l | $(fmt "$(get "read_path_open_loop@${l}_rate" "$LARGEST_READ")") | $(fmt "$(get "read_path_open_loop@${l}_p50" "$LARGEST_READ")" 2) | $(fmt "$(get "read_path_open_loop@${l}_p99" "$LARGEST_READ")" 2) | $(fmt "$(get "read_path_open_loop@${l}_p999" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_health_open_loop@${l}_p50" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_health_open_loop@${l}_p99" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_health_open_loop@${l}_p999" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_commit_open_loop@${l}_p50" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_commit_open_loop@${l}_p99" "$LARGEST_READ")" 2) | $(fmt "$(get "baseline_commit_open_loop@${l}_p999" "$LARGEST_READ")" 2) |"
  done
  echo
  echo "## Against data size"
  echo
  echo "![throughput against data size](throughput-vs-size.png) ![memory against data size](memory-vs-size.png)"
  echo
  echo "| customers | GetProfile/s | Health/Check/s | ratio | GetProfile/s, cached hot set | ratio | p99 at half rate, ms | peak MB consent | ingest | audit | profile |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for n in $READ_SIZES; do
    r=$(get read_path_get_profile_per_s "$n"); h=$(get baseline_health_check_per_s "$n"); c=$(get read_path_cached_get_profile_per_s "$n")
    echo "| $n | $(fmt "$r") | $(fmt "$h") | $(ratio "$r" "$h") | $(fmt "$c") | $(ratio "$c" "$h") | $(fmt "$(get read_path_p99_at_half_rate "$n")" 2) | $(fmt "$(get peak_rss_consent "$n")") | $(fmt "$(get peak_rss_ingest "$n")") | $(fmt "$(get peak_rss_audit "$n")") | $(fmt "$(get peak_rss_profile "$n")") |"
  done
  echo
  echo "| events in the access log | appends/s | proof p99 ms | verification events/s | start-up, events loaded/s | peak MB of the log's process |"
  echo "|---|---|---|---|---|---|"
  for n in $LOG_SIZES; do
    echo "| $n | $(fmt "$(get access_log_append_per_s "$n")") | $(fmt "$(get access_log_proof_p99 "$n")" 3) | $(fmt "$(get access_log_verify_per_s "$n")") | $(fmt "$(get access_log_start_per_s "$n")") | $(fmt "$(get access_log_peak_rss "$n")") |"
  done
  echo
  echo "| people ingested | records/s | plain INSERT rows/s | ratio | µs per record | CPU µs per record: service / PostgreSQL / client | peak MB of cdp-ingest |"
  echo "|---|---|---|---|---|---|---|"
  for n in $INGEST_SIZES; do
    i=$(get ingest_bulk_records_per_s "$n"); p=$(get baseline_plain_insert_rows_per_s "$n")
    cpu="$(fmt "$(get ingest_cpu_per_record_service "$n")" 1) / $(fmt "$(get ingest_cpu_per_record_postgres "$n")" 1) / $(fmt "$(get ingest_cpu_per_record_client "$n")" 1)"
    echo "| $n | $(fmt "$i") | $(fmt "$p") | $(ratio "$i" "$p") | $(awk -v r="$i" 'BEGIN { if (r > 0) printf "%.1f", 1e6 / r }') | $cpu | $(fmt "$(get ingest_service_peak_rss "$n")") |"
  done
  echo
  echo "## Not measured yet"
  echo
  echo "- Peak memory of the audit service at the access log's sizes: the access-log benchmark"
  echo "  runs the log in its own process, whose peak is given above."
  echo
  echo "Raw figures: \`raw/*.jsonl\` (one JSON line each), each benchmark's own table in \`raw/*.txt\`,"
  echo "PostgreSQL's settings in \`raw/postgres-settings.txt\`."
} >"$DIR/report.md"

# Plots (PNG, gnuplot from Debian).
if command -v gnuplot >/dev/null; then
  for l in $LOADS; do
    printf '%s %s %s %s %s %s %s %s\n' "$l" \
      "$(get "read_path_open_loop@${l}_p50" "$LARGEST_READ")" "$(get "read_path_open_loop@${l}_p99" "$LARGEST_READ")" \
      "$(get "read_path_open_loop@${l}_p999" "$LARGEST_READ")" "$(get "baseline_health_open_loop@${l}_p50" "$LARGEST_READ")" \
      "$(get "baseline_health_open_loop@${l}_p99" "$LARGEST_READ")" "$(get "baseline_health_open_loop@${l}_p999" "$LARGEST_READ")" \
      "$(get "baseline_commit_open_loop@${l}_p99" "$LARGEST_READ")"
  done >"$DIR/latency-vs-load.dat"
  for n in $READ_SIZES; do
    printf '%s %s %s %s %s %s %s\n' "$n" "$(get read_path_get_profile_per_s "$n")" "$(get baseline_health_check_per_s "$n")" \
      "$(get peak_rss_consent "$n")" "$(get peak_rss_ingest "$n")" "$(get peak_rss_audit "$n")" "$(get peak_rss_profile "$n")"
  done >"$DIR/read-vs-size.dat"
  for n in $INGEST_SIZES; do
    printf '%s %s %s %s\n' "$n" "$(get ingest_bulk_records_per_s "$n")" "$(get baseline_plain_insert_rows_per_s "$n")" \
      "$(get ingest_service_peak_rss "$n")"
  done >"$DIR/ingest-vs-size.dat"
  gnuplot <<GP
set terminal pngcairo size 900,540 noenhanced font "DejaVu Sans,10"
set grid
set key top left
set output "$DIR/latency-vs-load.png"
set title "Latency against load, open loop ($LARGEST_READ customers)"
set xlabel "offered load (share of each call's maximum rate)"
set ylabel "latency (ms)"
set logscale y
plot "$DIR/latency-vs-load.dat" using 1:2 with linespoints title "GetProfile p50", \
     "" using 1:3 with linespoints title "GetProfile p99", \
     "" using 1:4 with linespoints title "GetProfile p99.9", \
     "" using 1:5 with linespoints dashtype 2 title "Health/Check p50 (baseline)", \
     "" using 1:6 with linespoints dashtype 2 title "Health/Check p99 (baseline)", \
     "" using 1:7 with linespoints dashtype 2 title "Health/Check p99.9 (baseline)", \
     "" using 1:8 with linespoints dashtype 3 title "one-row INSERT + COMMIT p99, same rate (baseline)"
unset logscale y
set output "$DIR/throughput-vs-size.png"
set title "Throughput against data size"
set xlabel "customers (read path) / people (ingestion)"
set ylabel "per second"
set logscale x
set logscale y
plot "$DIR/read-vs-size.dat" using 1:2 with linespoints title "GetProfile/s", \
     "" using 1:3 with linespoints dashtype 2 title "Health/Check/s (baseline)", \
     "$DIR/ingest-vs-size.dat" using 1:2 with linespoints title "ingested records/s", \
     "" using 1:3 with linespoints dashtype 2 title "plain INSERT rows/s (baseline)"
unset logscale y
set output "$DIR/memory-vs-size.png"
set title "Peak memory of each service against data size"
set ylabel "peak resident memory (MB)"
plot "$DIR/read-vs-size.dat" using 1:4 with linespoints title "cdp-consent", \
     "" using 1:5 with linespoints title "cdp-ingest (read-path run)", \
     "" using 1:6 with linespoints title "cdp-audit", \
     "" using 1:7 with linespoints title "cdp-profile", \
     "$DIR/ingest-vs-size.dat" using 1:4 with linespoints title "cdp-ingest (ingestion run)"
GP
fi
