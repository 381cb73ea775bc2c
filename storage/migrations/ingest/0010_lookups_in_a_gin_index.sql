-- Searches by e-mail, phone or customer number find records through a GIN index on the
-- keyed hashes each record version keeps (records.lookup_hashes, now an array of them),
-- no longer through a table of their own (record_keys).
--
-- Why: each record added about two rows to record_keys, and as many entries to its
-- primary key (hash, source system, record id), each at a random place in an index that
-- grows with the data: at 100k people 17.6 µs of PostgreSQL's time per record, and more
-- once the index outgrows shared buffers. A GIN index takes new entries into a pending
-- list, appended to, and moves them into its tree in sorted runs (when the list is full,
-- or at vacuum); its entries are the hashes and a row pointer, nothing else, and the
-- record's row is written anyway.
--
-- The price: a search also reads the pending list. It is kept to 1 MB, about 14,000
-- entries, which a search reads in 1.5 to 2 ms (against 0.3 ms for record_keys).
--
-- Erasure empties the record's array together with its sealed data, as it did; there is
-- nothing else to delete.
--
-- The records table is rewritten once, under its lock. Versions stored before migration
-- 0007 kept no hashes (NULL); they take those record_keys holds for their source record,
-- which is what searches found them by.
CREATE TEMPORARY TABLE unrecorded_lookups ON COMMIT DROP AS
  SELECT k.source_system, k.record_id, array_agg(k.key_hash ORDER BY k.key_hash) AS hashes
  FROM ingest.record_keys k
  WHERE EXISTS (SELECT 1 FROM ingest.records r WHERE r.source_system = k.source_system
                AND r.record_id = k.record_id AND r.lookup_hashes IS NULL)
  GROUP BY k.source_system, k.record_id;
CREATE INDEX ON unrecorded_lookups (source_system, record_id);

CREATE FUNCTION pg_temp.lookup_array(hashes bytea, source text, id text) RETURNS bytea[]
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN hashes IS NULL THEN
      coalesce((SELECT u.hashes FROM unrecorded_lookups u WHERE u.source_system = source AND u.record_id = id),
               '{}')
    ELSE ARRAY(SELECT substring(hashes FROM at FOR 16) FROM generate_series(1, length(hashes), 16) AS at)
  END
$$;

ALTER TABLE ingest.records
  ALTER COLUMN lookup_hashes TYPE bytea[] USING pg_temp.lookup_array(lookup_hashes, source_system, record_id),
  ALTER COLUMN lookup_hashes SET NOT NULL;
COMMENT ON COLUMN ingest.records.lookup_hashes IS
  'first 16 bytes of HMAC-SHA256 under the lookup key of "lookup", 0x00, the normalised key, for each lookup key of this version; empty once erased';

CREATE INDEX records_lookup_hashes ON ingest.records USING gin (lookup_hashes)
  WITH (gin_pending_list_limit = 1024);

DROP TABLE ingest.record_keys;
