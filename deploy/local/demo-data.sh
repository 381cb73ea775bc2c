# Demo data for the local platform, sourced by run.sh once every service is healthy.
# Every change carries a fixed idempotency key, so running it again on every start adds
# nothing: the service answers each retry with the first response.
#
# Customers demo-0001 ... demo-0008 with a mix of consent choices, made through different
# channels and by different parties, so that the matrix, the history and the receipts
# have something to show. (Their profiles arrive with the profile-ingestion work.)

# One change: cdp_demo_consent ID KEY CHANNEL ACTOR [flags...] CHOICE...
cdp_demo_consent() {
  local id=$1 key=$2 channel=$3 actor=$4
  shift 4
  cdpctl consent set "$id" --idempotency_key="$key" --channel="$channel" --acting_party="$actor" "$@" >/dev/null
}

cdp_seed_demo_consent() {
  cdpctl consent register demo-0001 demo-0002 demo-0003 demo-0004 demo-0005 demo-0006 \
    demo-0007 demo-0008 >/dev/null
  # Likes offers: marketing by any contact channel and offers based on purchases.
  cdp_demo_consent demo-0001 demo-0001-a portal data_subject \
    direct-marketing/category:contact=allow personalised-offers/category:transactions=allow
  # Objected by phone to service analytics of their contacts; lets the chatbot help.
  cdp_demo_consent demo-0002 demo-0002-a phone human_agent:agent-042 \
    service-analytics/category:interactions=deny
  cdp_demo_consent demo-0002 demo-0002-b chat data_subject \
    customer-care-bot/category:contact=allow customer-care-bot/category:transactions=allow
  # Marketing by e-mail, but never on the mobile phone.
  cdp_demo_consent demo-0003 demo-0003-a email data_subject \
    direct-marketing/email=allow direct-marketing/phone_mobile=deny
  # Lets couriers text them, and allows AI training for one month only.
  cdp_demo_consent demo-0004 demo-0004-a portal data_subject \
    delivery-partner-sharing/phone_mobile=allow delivery-partner-sharing/email=allow
  cdp_demo_consent demo-0004 demo-0004-b portal data_subject --expires_in=720h \
    ai-model-training/category:interactions=allow
  # demo-0005 never made a choice: defaults only.
  # Said yes to marketing, then changed their mind in the chat.
  cdp_demo_consent demo-0006 demo-0006-a portal data_subject \
    direct-marketing/category:contact=allow
  cdp_demo_consent demo-0006 demo-0006-b chat bot:assistant-1 \
    direct-marketing/category:contact=deny
  # Objected to location use for fraud checks.
  cdp_demo_consent demo-0007 demo-0007-a phone human_agent:agent-007 \
    fraud-prevention/last_known_location=deny
  # Offers from purchases, except that order history stays out of it.
  cdp_demo_consent demo-0008 demo-0008-a portal data_subject \
    personalised-offers/category:transactions=allow personalised-offers/order_history=deny
}
