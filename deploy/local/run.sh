#!/usr/bin/env bash
# Runs the whole platform on this machine: one command, as root, on Debian 12.
#
#   deploy/local/run.sh          install what is missing, build, start everything, stay in
#                                the foreground (Ctrl-C stops it all)
#   deploy/local/run.sh stop     stop a running platform from another shell
#   deploy/local/run.sh status   show what is running
#
# State (PostgreSQL cluster, certificates, logs) lives in CDP_HOME (default: .cdp in the
# checkout). Ports: CDP_GRPC_PORT_BASE (7100: consent +1 ... rights +5), CDP_PORTAL_PORT
# (8443), CDP_METRICS_PORT_BASE (9100), CDP_PG_PORT (55432).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/demo-data.sh"

CDP_HOME=${CDP_HOME:-$CDP_ROOT/.cdp}
CDP_HOME=$(mkdir -p "$CDP_HOME" && cd "$CDP_HOME" && pwd)
GRPC_BASE=${CDP_GRPC_PORT_BASE:-7100}
PORTAL_PORT=${CDP_PORTAL_PORT:-8443}
METRICS_BASE=${CDP_METRICS_PORT_BASE:-9100}
PG_PORT=${CDP_PG_PORT:-55432}
PG_DATA=$CDP_HOME/pg/data
PG_SOCK=$CDP_HOME/pg/run
PKI=$CDP_HOME/pki
KEYS=$CDP_HOME/keys
LOGS=$CDP_HOME/logs
RUN=$CDP_HOME/run
SERVICE_USER=cdp
GRPC_SERVICES=(consent ingest profile audit rights)
ALL_SERVICES=("${GRPC_SERVICES[@]}" portal)
# Demo callers: internal services that will read profiles, plus the operator's cdpctl.
DEMO_CALLERS=(service/support-desk service/chatbot service/webshop service/billing
              service/marketing service/field-service operator/cdpctl)

# Position of a service in a list, from 1.
index_of() {
  local want=$1 i=1 s
  shift
  for s in "$@"; do
    if [[ $s == "$want" ]]; then echo "$i"; return 0; fi
    i=$((i + 1))
  done
  return 1
}
grpc_port() { echo $((GRPC_BASE + $(index_of "$1" "${GRPC_SERVICES[@]}"))); }
metrics_port() { echo $((METRICS_BASE + $(index_of "$1" "${ALL_SERVICES[@]}"))); }
cdpctl() {
  "$CDP_BUILD_DIR/tools/cdpctl/cdpctl" --tls_cert="$PKI/operator-cdpctl.crt" \
    --tls_key="$PKI/operator-cdpctl.key" --tls_ca="$PKI/ca.crt" "$@"
}

stop_all() {
  local svc pid
  touch "$RUN/stopping" 2>/dev/null || true
  for svc in "${ALL_SERVICES[@]}"; do
    [[ -f $RUN/$svc.pid ]] || continue
    pid=$(cat "$RUN/$svc.pid")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for svc in "${ALL_SERVICES[@]}"; do
    [[ -f $RUN/$svc.pid ]] || continue
    pid=$(cat "$RUN/$svc.pid")
    # Services drain for up to 10 s; give them a little more before forcing.
    timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$RUN/$svc.pid"
  done
  if [[ -f $PG_DATA/PG_VERSION ]] && cdp_pg_running "$PG_DATA"; then
    cdp_pg_stop "$PG_DATA"
  fi
}

status() {
  local svc pid
  for svc in "${ALL_SERVICES[@]}"; do
    pid=$(cat "$RUN/$svc.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then echo "$svc: running (pid $pid)"; else echo "$svc: stopped"; fi
  done
  if [[ -f $PG_DATA/PG_VERSION ]] && cdp_pg_running "$PG_DATA"; then echo "postgres: running"; else echo "postgres: stopped"; fi
}

case ${1:-start} in
  start) ;;
  stop) cdp_require_root; stop_all; echo "stopped"; exit 0 ;;
  status) status; exit 0 ;;
  -h|--help|help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "run.sh: unknown command '$1' (start, stop, status, --help)" >&2; exit 2 ;;
esac

cdp_require_root
mkdir -p "$LOGS" "$RUN"
if [[ -f $PG_DATA/PG_VERSION ]] && cdp_pg_running "$PG_DATA"; then
  cdp_die "the platform in $CDP_HOME is already running; stop it with: deploy/local/run.sh stop"
fi
rm -f "$RUN/stopping"

cdp_install_packages "${CDP_PACKAGES[@]}"
cdp_build cdp-consent cdp-ingest cdp-profile cdp-audit cdp-rights cdp-portal cdpctl

# Certificates: a development CA, one per service, one per demo caller.
identities=()
for svc in "${ALL_SERVICES[@]}"; do identities+=("service/$svc"); done
identities+=(auditor/console)   # the portal's auditor console
[[ -s $PKI/ca.crt ]] || cdp_say "creating a development CA and certificates in $PKI"
"$CDP_ROOT/deploy/local/pki.sh" "$PKI" "${identities[@]}" "${DEMO_CALLERS[@]}"

# PostgreSQL, run by an unprivileged user; services run as their own unprivileged user.
cdp_ensure_pg_user
id -u "$SERVICE_USER" >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
cdp_pg_init "$PG_DATA"
cdp_say "starting PostgreSQL on 127.0.0.1:$PG_PORT and $PG_SOCK"
cdp_pg_start "$PG_DATA" "$PG_SOCK" "$PG_PORT" "$LOGS/postgres.log"
chgrp "$SERVICE_USER" "$PG_SOCK" && chmod 750 "$PG_SOCK"
# Ignore SIGPIPE in the handler: the terminal or a pipe reading our output may be gone.
trap 'trap "" PIPE; echo >&2; cdp_say stopping || true; stop_all; exit 0' INT TERM
# Two databases: the data, and the key store (the customers' wrapped data keys), apart so
# that backups of the data hold ciphertext only and an erasure reaches them too.
for db in cdp cdp_keys; do
  psql -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
    psql -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
done
chgrp "$SERVICE_USER" "$PKI" "$PKI"/service-*.key "$PKI"/auditor-console.key && chmod 750 "$PKI" &&
  chmod 640 "$PKI"/service-*.key "$PKI"/auditor-console.key
# The portal's e-mail, written as files instead of sent.
OUTBOX=$CDP_HOME/outbox
mkdir -p "$OUTBOX" && chown "$SERVICE_USER:$SERVICE_USER" "$OUTBOX" && chmod 750 "$OUTBOX"
# The key that signs consent receipts (Ed25519), made once; losing it only means new
# receipts are signed by a new key.
mkdir -p "$KEYS"
[[ -s $KEYS/receipt-signing.key ]] || (umask 077 && openssl genpkey -algorithm ed25519 -out "$KEYS/receipt-signing.key")
# The key that signs the access log's tree heads (Ed25519); its public key is all a
# verifier needs.
[[ -s $KEYS/log-signing.key ]] || (umask 077 && openssl genpkey -algorithm ed25519 -out "$KEYS/log-signing.key")
[[ -s $KEYS/log-signing.pub ]] || openssl pkey -in "$KEYS/log-signing.key" -pubout -out "$KEYS/log-signing.pub"
# The master key that wraps every customer's data key (AES-256-GCM) and keys the lookup
# hashes. Losing it loses the data; back it up apart from the database.
[[ -s $KEYS/master.key ]] ||
  (umask 077 && printf 'cdp-master-key-v1:%s\n' "$(openssl rand -base64 32)" >"$KEYS/master.key")
chgrp "$SERVICE_USER" "$KEYS" "$KEYS/receipt-signing.key" "$KEYS/log-signing.key" "$KEYS/master.key" &&
  chmod 750 "$KEYS" && chmod 640 "$KEYS/receipt-signing.key" "$KEYS/log-signing.key" "$KEYS/master.key"

cdp_say "starting services"
for svc in "${ALL_SERVICES[@]}"; do
  if [[ $svc == portal ]]; then bin=$CDP_BUILD_DIR/services/portal/cdp-portal; listen=127.0.0.1:$PORTAL_PORT
  else bin=$CDP_BUILD_DIR/services/cdp-$svc; listen=127.0.0.1:$(grpc_port "$svc"); fi
  extra=()
  [[ $svc == consent ]] && extra=(--catalog="$CDP_ROOT/consent/catalog/default.textproto"
                                  --receipt_key="$KEYS/receipt-signing.key")
  [[ $svc == profile ]] && extra=(--catalog="$CDP_ROOT/consent/catalog/default.textproto"
                                  --consent_target="127.0.0.1:$(grpc_port consent)"
                                  --ingest_target="127.0.0.1:$(grpc_port ingest)"
                                  --audit_target="127.0.0.1:$(grpc_port audit)")
  [[ $svc == audit ]] && extra=(--catalog="$CDP_ROOT/consent/catalog/default.textproto"
                                --log_key="$KEYS/log-signing.key")
  [[ $svc == rights ]] && extra=(--catalog="$CDP_ROOT/consent/catalog/default.textproto"
                                 --receipt_key="$KEYS/receipt-signing.key"
                                 --ingest_target="127.0.0.1:$(grpc_port ingest)"
                                 --consent_target="127.0.0.1:$(grpc_port consent)"
                                 --profile_target="127.0.0.1:$(grpc_port profile)"
                                 --audit_target="127.0.0.1:$(grpc_port audit)")
  [[ $svc == portal ]] && extra=(--consent_target="127.0.0.1:$(grpc_port consent)"
                                 --profile_target="127.0.0.1:$(grpc_port profile)"
                                 --audit_target="127.0.0.1:$(grpc_port audit)"
                                 --rights_target="127.0.0.1:$(grpc_port rights)"
                                 --public_url="https://localhost:$PORTAL_PORT"
                                 --outbox_dir="$OUTBOX" --log_public_key="$KEYS/log-signing.pub"
                                 --console_tls_cert="$PKI/auditor-console.crt"
                                 --console_tls_key="$PKI/auditor-console.key")
  [[ $svc == ingest ]] && extra=(--catalog="$CDP_ROOT/consent/catalog/default.textproto"
                                 --master_key="$KEYS/master.key"
                                 --key_db_dsn="host=$PG_SOCK port=$PG_PORT dbname=cdp_keys user=cdp_ingest application_name=cdp-ingest-keys"
                                 --key_db_admin_dsn="host=$PG_SOCK port=$PG_PORT dbname=cdp_keys user=postgres application_name=cdp-ingest-keys-migrate"
                                 --consent_target="127.0.0.1:$(grpc_port consent)")
  setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- "$bin" "${extra[@]}" \
    --listen="$listen" --metrics_listen="127.0.0.1:$(metrics_port "$svc")" \
    --tls_cert="$PKI/service-$svc.crt" --tls_key="$PKI/service-$svc.key" --tls_ca="$PKI/ca.crt" \
    --db_dsn="host=$PG_SOCK port=$PG_PORT dbname=cdp user=cdp_$svc application_name=cdp-$svc" \
    --db_admin_dsn="host=$PG_SOCK port=$PG_PORT dbname=cdp user=postgres application_name=cdp-$svc-migrate" \
    >>"$LOGS/$svc.log" 2>&1 &
  echo $! >"$RUN/$svc.pid"
done

failed=()
for svc in "${GRPC_SERVICES[@]}"; do
  cdpctl health --target="127.0.0.1:$(grpc_port "$svc")" --wait=60s >/dev/null 2>&1 || failed+=("$svc")
done
curl -fsS --retry 30 --retry-delay 1 --retry-all-errors --cacert "$PKI/ca.crt" \
  "https://localhost:$PORTAL_PORT/healthz" >/dev/null 2>&1 || failed+=(portal)
if ((${#failed[@]})); then
  for svc in "${failed[@]}"; do echo "--- $svc did not become healthy; last lines of $LOGS/$svc.log:" >&2; tail -n 5 "$LOGS/$svc.log" >&2; done
  stop_all
  exit 1
fi

cdp_say "loading demo data"
CDP_DEMO_DIR=$CDP_HOME/demo
if ! cdp_seed_demo_records "$CDP_HOME" "127.0.0.1:$(grpc_port ingest)" ||
   ! CDP_TARGET=127.0.0.1:$(grpc_port consent) cdp_seed_demo_consent ||
   ! CDP_PROFILE_TARGET=127.0.0.1:$(grpc_port profile) cdp_seed_demo_reads ||
   ! cdp_seed_demo_auditor "$KEYS" "host=$PG_SOCK port=$PG_PORT dbname=cdp user=postgres"; then
  echo "--- loading the demo data failed; last lines of the ingest, consent and profile logs:" >&2
  tail -n 5 "$LOGS/ingest.log" "$LOGS/consent.log" "$LOGS/profile.log" >&2
  stop_all
  exit 1
fi

rel() { local p=$1; echo "${p#"$PWD"/}"; }
cat <<TXT

The customer-data platform is running. State: $(rel "$CDP_HOME")

  service   gRPC over mTLS     metrics
TXT
for svc in "${GRPC_SERVICES[@]}"; do
  printf '  %-9s 127.0.0.1:%-8s http://127.0.0.1:%s/metrics\n' "$svc" "$(grpc_port "$svc")" "$(metrics_port "$svc")"
done
cat <<TXT

  portal    https://localhost:$PORTAL_PORT/   (health: /healthz; trust $(rel "$PKI")/ca.crt)
  postgres  127.0.0.1:$PG_PORT and socket $(rel "$PG_SOCK"), databases cdp (data) and cdp_keys (data keys)
  logs      $(rel "$LOGS")/<service>.log (JSON lines)

Ask a service from another shell, as the operator:
  $(rel "$CDP_BUILD_DIR")/tools/cdpctl/cdpctl services --target=127.0.0.1:$(grpc_port consent) \\
      --tls_cert=$(rel "$PKI")/operator-cdpctl.crt --tls_key=$(rel "$PKI")/operator-cdpctl.key --tls_ca=$(rel "$PKI")/ca.crt
Demo caller certificates (URI SAN spiffe://cdp.local/service/<name>): $(rel "$PKI")/service-*.crt

Demo data: 200 generated customers from four source systems ($(rel "$CDP_DEMO_DIR")), resolved
into profiles; the first eight CRM customers have a mix of consent choices. As the operator
(add --tls_cert=$(rel "$PKI")/operator-cdpctl.crt --tls_key=$(rel "$PKI")/operator-cdpctl.key --tls_ca=$(rel "$PKI")/ca.crt):
  cdpctl consent show $(cdp_demo_profile 4) --target=127.0.0.1:$(grpc_port consent)
  cdpctl consent history $(cdp_demo_profile 6) --target=127.0.0.1:$(grpc_port consent)
  cdpctl import FILE --source=crm --target=127.0.0.1:$(grpc_port ingest) --dry_run

Internal services have read some of them through the consent-enforced read path, each
with its own certificate ($(rel "$CDP_DEMO_DIR")/reads.txt shows what each was shown and
what was withheld). Read as the support desk (use service-support-desk.crt/.key instead):
  cdpctl read $(cdp_demo_profile 3) --purpose=customer-care-human --fields=email,phone_mobile \\
      --acting_party=human_agent:agent-1 --justification=customer_request:ticket-1 --target=127.0.0.1:$(grpc_port profile)
The access log, as the operator:
  cdpctl log events $(cdp_demo_profile 3) --justification=legal_request:demo --target=127.0.0.1:$(grpc_port audit)
      (explained, --language=en for English; your look is logged too)
  cdpctl log prove 1 --customer=$(cdp_demo_profile 3) --justification=legal_request:demo \\
      --public_key=$(rel "$KEYS")/log-signing.pub --target=127.0.0.1:$(grpc_port audit)
  cdpctl log verify --target=127.0.0.1:$(grpc_port audit)
Erasure (Art. 17) by phone, as the operator; source systems follow what was erased:
  cdpctl rights erase $(cdp_demo_profile 7) --channel=phone --acting_party=human_agent:agent-1 \\
      --receipt_out=receipt.jws --target=127.0.0.1:$(grpc_port rights)
  cdpctl rights watch-erasures --source=crm --target=127.0.0.1:$(grpc_port rights)
(cdpctl is $(rel "$CDP_BUILD_DIR")/tools/cdpctl/cdpctl; cdpctl --help lists every command)

The customer portal: https://localhost:$PORTAL_PORT/
  (your browser will warn about the development certificate: accept it, or import
   $(rel "$PKI")/ca.crt as a trusted authority)
  Sign in as a demo customer with the e-mail address $(cdp_demo_email 3)
  The sign-in link arrives as a file in $(rel "$OUTBOX")/ (open the newest .eml, copy the link).
The auditor console: https://localhost:$PORTAL_PORT/audit/signin
  account demo-auditor, password in $(rel "$KEYS")/demo-auditor.password
  (more accounts: cdpctl auditor add NAME --db_dsn="host=$(rel "$PG_SOCK") port=$PG_PORT dbname=cdp user=postgres")

Stop with Ctrl-C here, or: deploy/local/run.sh stop
TXT

# Stay in the foreground until a service exits or we are told to stop.
pids=()
for svc in "${ALL_SERVICES[@]}"; do pids+=("$(cat "$RUN/$svc.pid")"); done
set +e
wait -n "${pids[@]}"
if [[ -f $RUN/stopping ]]; then
  stop_all
  exit 0
fi
for svc in "${ALL_SERVICES[@]}"; do
  kill -0 "$(cat "$RUN/$svc.pid" 2>/dev/null)" 2>/dev/null || { echo "$svc exited; last lines of $LOGS/$svc.log:" >&2; tail -n 5 "$LOGS/$svc.log" >&2; }
done
stop_all
exit 1
