-- Lookup keys are stored under the first 16 bytes of their keyed hash, no longer all 32
-- (services/ingest/ingest_api.cc, StoredLookupHash). Each row of record_keys and of its
-- primary key goes into the index at a random place, so a smaller index is what keeps
-- inserting into it cheap as it grows. Rows stored before keep their hash's first 16
-- bytes, which is what the service now computes for the same key.
UPDATE ingest.record_keys SET key_hash = substring(key_hash FROM 1 FOR 16) WHERE length(key_hash) > 16;
COMMENT ON COLUMN ingest.record_keys.key_hash IS
  'first 16 bytes of HMAC-SHA256 under the lookup key of "lookup", 0x00, the normalised key';
