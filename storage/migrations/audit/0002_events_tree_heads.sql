-- The access log.
--
-- events      one row per access event, in log order (`position`, from 0, gap-free: one
--             sequencer assigns positions and commits them in groups). `entry` is the
--             event exactly as hashed into the Merkle tree (deterministic protobuf of
--             cdp.v1.AccessEvent, without its explanation); `leaf_hash` is
--             SHA-256(0x00 || entry). The other columns copy what queries filter on and are
--             checked against `entry` by VerifyLog. Field values never enter the log;
--             customers appear by pseudonym only.
-- tree_heads  signed tree heads (RFC 6962): the root over the first `tree_size` events,
--             signed with the log's Ed25519 key at `signed_at`.
--
-- The runtime role may read and insert only (0001): a changed or deleted row cannot come
-- from the service's credentials, and VerifyLog finds one that came from elsewhere.
CREATE TABLE audit.events (
  position bigint PRIMARY KEY CHECK (position >= 0),
  event_id text NOT NULL UNIQUE,
  recorded_at timestamptz NOT NULL,
  subject_pseudonym text NOT NULL,
  caller text NOT NULL,
  acting_party_id text NOT NULL,
  purpose text NOT NULL,
  outcome text NOT NULL,
  fields text[] NOT NULL,        -- requested fields, released or withheld
  entry bytea NOT NULL,
  leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX events_subject ON audit.events (subject_pseudonym, position DESC);
CREATE INDEX events_caller_time ON audit.events (caller, recorded_at);
CREATE INDEX events_time ON audit.events (recorded_at);

CREATE TABLE audit.tree_heads (
  tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
  root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
  signed_at timestamptz NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL       -- compact JWS (EdDSA) over the head's JSON
);

-- subjects    the pseudonym each customer (profile id) has in the log. Events name the
--             pseudonym only; erasing a customer removes this row, and the events stay
--             verifiable without saying whom they were about.
CREATE TABLE audit.subjects (
  customer_id text PRIMARY KEY,
  pseudonym text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
