-- Schema "keys": every customer's data key, wrapped by the master key (storage/crypto.h),
-- in a database of its own ("cdp_keys" by default), apart from the data it opens. The
-- data database's backups then hold ciphertext only: once a key is destroyed here
-- (erasure, the end of a retention period), every copy of what it sealed, in any backup
-- of the data database, stays unreadable. Back this database up on its own, briefly, and
-- after restoring it let the ingest service destroy again the keys its data database
-- says were destroyed (it does so at every start).
--
-- The ingest service is the only one that holds data keys; it uses this schema as its
-- own role cdp_ingest (made here too, should this database live on another server).
DO $$
BEGIN
  CREATE ROLE cdp_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA keys;
REVOKE ALL ON SCHEMA keys FROM PUBLIC;
GRANT USAGE ON SCHEMA keys TO cdp_ingest;

-- key_id: a profile id (its records' key) or "retained:" and a profile id (what a legal
-- obligation keeps after an erasure).
CREATE TABLE keys.data_keys (
  key_id text PRIMARY KEY,
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, DELETE ON keys.data_keys TO cdp_ingest;
