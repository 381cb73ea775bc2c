-- Snapshots read each customer's latest change at or before a feed position, paged by
-- customer id (services/consent/pg_consent_store.cc, consent_snapshot_page).
CREATE INDEX changes_customer_position ON consent.changes (customer_id, position);
