# Demo data for the local platform, sourced by run.sh once every service is healthy.
#
# 200 generated Dutch customers (cdpctl generate, fixed seed) as four source systems know
# them (crm, webshop, billing, contact-centre), imported through the ingest service, which
# resolves them into profiles. The customers behind the first eight CRM records then get a
# mix of consent choices, made through different channels and by different parties.
# Everything is idempotent: the same files give the same record versions (duplicates on a
# second start), and every consent change carries a fixed idempotency key.

# One change: cdp_demo_consent ID KEY CHANNEL ACTOR [flags...] CHOICE...
cdp_demo_consent() {
  local id=$1 key=$2 channel=$3 actor=$4
  shift 4
  cdpctl consent set "$id" --idempotency_key="$key" --channel="$channel" --acting_party="$actor" "$@" >/dev/null
}

# cdp_seed_demo_records STATE_DIR INGEST_TARGET: generates (once) and imports the four
# source files; leaves the record-to-profile list in STATE_DIR/demo/acks-crm.csv.
cdp_seed_demo_records() {
  local dir=$1/demo target=$2 source file
  [[ -s $dir/truth.csv ]] || cdpctl generate --people=200 --seed=2026 --out="$dir" >/dev/null
  for source in crm webshop billing contact-centre; do
    file=$dir/$source.csv
    [[ -f $file ]] || file=$dir/$source.jsonl
    cdpctl import "$file" --source="$source" --target="$target" --acks_out="$dir/acks-$source.csv" >/dev/null
  done
}

# The e-mail address of CRM record cr-N, as the CRM has it.
cdp_demo_email() { awk -F, -v id="cr-$1" '$1 == id { print $9 }' "$CDP_DEMO_DIR/crm.csv"; }

# An account for the auditor console, with a random password kept in KEYS (made once).
# cdp_seed_demo_auditor KEYS DSN
cdp_seed_demo_auditor() {
  local keys=$1 dsn=$2 out
  [[ -s $keys/demo-auditor.password ]] || (umask 077 && openssl rand -base64 18 >"$keys/demo-auditor.password")
  out=$(cdpctl auditor add demo-auditor --display_name="Demo auditor" --db_dsn="$dsn" \
          --password_file="$keys/demo-auditor.password" 2>&1) ||
    [[ $out == *"exists already"* ]] || { echo "$out" >&2; return 1; }
}

# The profile of CRM record cr-N.
cdp_demo_profile() { awk -F, -v id="cr-$1" '$2 == id { print $4 }' "$CDP_DEMO_DIR/acks-crm.csv"; }

cdp_seed_demo_consent() {
  local i
  for i in 1 2 3 4 5 6 7 8; do
    printf -v "demo_000$i" '%s' "$(cdp_demo_profile "$i")"
    local var=demo_000$i
    [[ -n ${!var} ]] || { echo "demo data: no profile for CRM record cr-$i" >&2; return 1; }
  done
  cdpctl consent register "$demo_0001" "$demo_0002" "$demo_0003" "$demo_0004" "$demo_0005" \
    "$demo_0006" "$demo_0007" "$demo_0008" >/dev/null
  # Likes offers: marketing by any contact channel and offers based on purchases.
  cdp_demo_consent "$demo_0001" demo-0001-a portal data_subject \
    direct-marketing/category:contact=allow personalised-offers/category:transactions=allow
  # Objected by phone to service analytics of their contacts; lets the chatbot help.
  cdp_demo_consent "$demo_0002" demo-0002-a phone human_agent:agent-042 \
    service-analytics/category:interactions=deny
  cdp_demo_consent "$demo_0002" demo-0002-b chat data_subject \
    customer-care-bot/category:contact=allow customer-care-bot/category:transactions=allow
  # Marketing by e-mail, but never on the mobile phone.
  cdp_demo_consent "$demo_0003" demo-0003-a email data_subject \
    direct-marketing/email=allow direct-marketing/phone_mobile=deny
  # Lets couriers text them, and allows AI training for one month only.
  cdp_demo_consent "$demo_0004" demo-0004-a portal data_subject \
    delivery-partner-sharing/phone_mobile=allow delivery-partner-sharing/email=allow
  # (A fixed end date: a restart the same day repeats the request, which the consent
  # service answers as before; a start on a later day renews it, under a key of that day.)
  cdp_demo_consent "$demo_0004" "demo-0004-b-$(date -u +%F)" portal data_subject \
    --expires_at="$(date -u -d '+30 days' +%F)" \
    ai-model-training/category:interactions=allow
  # The fifth never made a choice: defaults only.
  # Said yes to marketing, then changed their mind in the chat.
  cdp_demo_consent "$demo_0006" demo-0006-a portal data_subject \
    direct-marketing/category:contact=allow
  cdp_demo_consent "$demo_0006" demo-0006-b chat bot:assistant-1 \
    direct-marketing/category:contact=deny
  # Objected to location use for fraud checks.
  cdp_demo_consent "$demo_0007" demo-0007-a phone human_agent:agent-007 \
    fraud-prevention/last_known_location=deny
  # Offers from purchases, except that order history stays out of it.
  cdp_demo_consent "$demo_0008" demo-0008-a portal data_subject \
    personalised-offers/category:transactions=allow personalised-offers/order_history=deny
}

# Internal services reading demo profiles through the consent-enforced read path, each as
# itself (its own certificate): what they are shown follows the customers' choices, and
# every read lands in the access log. CDP_PROFILE_TARGET is the profile service.
# cdp_demo_read CALLER PROFILE PURPOSE FIELDS ACTOR JUSTIFICATION
cdp_demo_read() {
  "$CDP_BUILD_DIR/tools/cdpctl/cdpctl" --tls_cert="$PKI/service-$1.crt" --tls_key="$PKI/service-$1.key" \
    --tls_ca="$PKI/ca.crt" --target="$CDP_PROFILE_TARGET" \
    read "$2" --purpose="$3" --fields="$4" --acting_party="$5" --justification="$6"
}

cdp_seed_demo_reads() {
  local out=$CDP_DEMO_DIR/reads.txt tries
  # New profiles reach the consent service (and the profile service's replica) a moment
  # after they are made: wait until the last demo customer can be read.
  for tries in $(seq 1 100); do
    cdp_demo_read support-desk "$(cdp_demo_profile 8)" customer-care-human email human_agent:agent-042 \
      customer_request:ticket-0 >/dev/null 2>&1 && break
    sleep 0.2
  done
  {
    echo "# support desk, customer care (contract): contact details of customer 3"
    cdp_demo_read support-desk "$(cdp_demo_profile 3)" customer-care-human given_name,email,phone_mobile,date_of_birth \
      human_agent:agent-042 customer_request:ticket-4711
    echo "# marketing, direct marketing (consent): customer 3 said yes to e-mail, no to the mobile"
    cdp_demo_read marketing "$(cdp_demo_profile 3)" direct-marketing given_name,email,phone_mobile \
      automated_system:campaign-runner scheduled_processing:campaign-2026-11
    echo "# marketing, direct marketing: customer 5 never chose, so nothing"
    cdp_demo_read marketing "$(cdp_demo_profile 5)" direct-marketing email,phone_mobile \
      automated_system:campaign-runner scheduled_processing:campaign-2026-11
    echo "# chatbot, customer care by a bot (consent): customer 2 allowed it in the chat"
    cdp_demo_read chatbot "$(cdp_demo_profile 2)" customer-care-bot email,order_history \
      bot:assistant-1 customer_request:chat-88
    echo "# marketing claiming customer care: not a purpose it may claim (refused, and logged)"
    cdp_demo_read marketing "$(cdp_demo_profile 1)" customer-care-human email \
      automated_system:campaign-runner customer_request:none 2>&1 || true
  } >"$out"
}
