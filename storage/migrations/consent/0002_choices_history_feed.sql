-- Consent choices: an append-only history with the current state derived from it.
--
-- changes      one row per change to one customer's choices (and one, version 0, when the
--              customer was registered). Never updated or deleted: the runtime role may
--              only INSERT and SELECT it. `state` holds the customer's complete choices
--              after the change, so the current state is the state of the latest row and
--              a change feed can send whole states that replicas simply replace.
-- customers    the customers consent is kept for, with their current version and the
--              position of their latest change (a pointer into changes, kept in the same
--              transaction as the change).
-- feed_head    the last position of the service-wide change feed. Every change takes the
--              next position under this row's lock, held until commit, so positions
--              become visible in order and a reader that has seen position p has seen
--              every position below it.
CREATE TABLE consent.feed_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  position bigint NOT NULL
);
INSERT INTO consent.feed_head (only_row, position) VALUES (true, 0);

CREATE TABLE consent.customers (
  customer_id text PRIMARY KEY CHECK (customer_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
  version bigint NOT NULL CHECK (version >= 0),
  head_position bigint NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consent.changes (
  position bigint PRIMARY KEY CHECK (position > 0),
  customer_id text NOT NULL REFERENCES consent.customers (customer_id),
  version bigint NOT NULL CHECK (version >= 0),
  changed_at timestamptz NOT NULL,
  channel smallint NOT NULL,
  actor_kind smallint NOT NULL,
  actor_id text NOT NULL,
  caller text NOT NULL,
  catalog_version text NOT NULL,
  idempotency_key text,
  request_sha256 bytea,
  delta bytea NOT NULL,     -- cdp.v1.CustomerConsent: the choices made in this change
  state bytea NOT NULL,     -- cdp.v1.CustomerConsent: all choices after it
  receipt bytea,            -- cdp.v1.ConsentReceipt; none for the registration row
  UNIQUE (customer_id, version),
  UNIQUE (customer_id, idempotency_key)
);
REVOKE UPDATE, DELETE, TRUNCATE ON consent.changes FROM cdp_consent;
