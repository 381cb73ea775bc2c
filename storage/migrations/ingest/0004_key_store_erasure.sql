-- Data keys move to a database of their own (storage/key_store.h), so that backups of
-- this one hold ciphertext only; the service moves the existing ones at start-up and
-- empties `wrapped_key` (a later migration drops the column). Whether a profile was erased
-- is now `erased_at`, no longer a missing key.
ALTER TABLE ingest.profiles ADD COLUMN erased_at timestamptz;
UPDATE ingest.profiles SET erased_at = created_at WHERE wrapped_key IS NULL;
COMMENT ON COLUMN ingest.profiles.wrapped_key IS
  'obsolete: data keys live in the key store; moved there and emptied at start-up';
CREATE INDEX profiles_erased ON ingest.profiles (profile_id) WHERE erased_at IS NOT NULL;
CREATE INDEX profiles_with_key ON ingest.profiles (profile_id) WHERE wrapped_key IS NOT NULL;

-- One row per erasure (EraseProfile), what it answered: asked again, it answers the same.
-- `source_records` ("source<TAB>record id") tell source systems what to delete; they hold
-- no personal data of their own. Erased records keep their row with empty `sealed`, so
-- that a source sending one again is refused rather than starting the person anew.
CREATE TABLE ingest.erasures (
  profile_id text PRIMARY KEY REFERENCES ingest.profiles (profile_id),
  erased_profile_ids text[] NOT NULL,
  source_records text[] NOT NULL,
  answer bytea NOT NULL,          -- cdp.v1.EraseProfileResponse as first given
  erased_at timestamptz NOT NULL
);

-- What a legal obligation keeps through an erasure: the fields, sealed under a key of
-- their own ("retained:" and the profile id in the key store), until `keep_until`, when
-- PurgeExpiredRetention destroys the key and the row.
CREATE TABLE ingest.retained (
  profile_id text PRIMARY KEY REFERENCES ingest.profiles (profile_id),
  sealed bytea NOT NULL,          -- cdp.v1.UnifiedProfile with the kept fields only
  keep_until timestamptz NOT NULL
);
CREATE INDEX retained_until ON ingest.retained (keep_until);
