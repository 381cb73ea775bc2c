-- Profiles and the source records they are made of. Personal data is only ever stored
-- sealed (AES-256-GCM) under the data key of the profile a record first joined; lookups go
-- through keyed hashes. See storage/crypto.h.
--
-- profiles       one per customer as first seen; `wrapped_key` is its data key wrapped by
--                the master key (NULL once shredded); `merged_into` points at the profile it
--                now lives under (NULL for a profile in its own right).
-- records        every version of every source record, sealed; it belongs to `profile_id`
--                forever (merges and unmerges move profiles, not records).
-- record_keys    keyed hashes of each record's blocking keys (date of birth with an initial,
--                name prefixes, address, e-mail, phone, customer number): how a new record
--                finds its candidates without plaintext.
-- merges         who merged which profiles into which, why and when; undone merges keep
--                their row with `unmerged_at`.
-- match_candidates  profile pairs the resolver left for a person to decide.
CREATE TABLE ingest.profiles (
  profile_id text PRIMARY KEY,
  wrapped_key bytea,
  merged_into text REFERENCES ingest.profiles (profile_id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_merged_into ON ingest.profiles (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE ingest.records (
  source_system text NOT NULL,
  record_id text NOT NULL,
  changed_at_us bigint NOT NULL,     -- microseconds since the epoch, as the source said
  profile_id text NOT NULL REFERENCES ingest.profiles (profile_id),
  sealed bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_system, record_id, changed_at_us)
);
CREATE INDEX records_profile ON ingest.records (profile_id);

CREATE TABLE ingest.record_keys (
  key_hash bytea NOT NULL,
  source_system text NOT NULL,
  record_id text NOT NULL,
  PRIMARY KEY (key_hash, source_system, record_id)
);

CREATE TABLE ingest.merges (
  merge_id text PRIMARY KEY,
  into_profile text NOT NULL REFERENCES ingest.profiles (profile_id),
  from_profiles text[] NOT NULL,
  reason text NOT NULL,
  actor_kind smallint NOT NULL,
  actor_id text NOT NULL,
  caller text NOT NULL,
  merged_at timestamptz NOT NULL DEFAULT now(),
  unmerged_at timestamptz,
  unmerge_reason text,
  unmerge_actor_kind smallint,
  unmerge_actor_id text,
  unmerge_caller text
);

CREATE TABLE ingest.match_candidates (
  left_profile text NOT NULL REFERENCES ingest.profiles (profile_id),
  right_profile text NOT NULL REFERENCES ingest.profiles (profile_id),
  score double precision NOT NULL,
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (left_profile, right_profile)
);

-- Profiles not yet announced to the consent service (RegisterCustomers); written in the
-- transaction that makes the profile, emptied by a background sender, so that no profile
-- is ever left without a consent record after a crash.
CREATE TABLE ingest.consent_outbox (
  profile_id text PRIMARY KEY REFERENCES ingest.profiles (profile_id),
  created_at timestamptz NOT NULL DEFAULT now()
);
