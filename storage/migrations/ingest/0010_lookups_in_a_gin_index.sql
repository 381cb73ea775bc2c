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
-- entries, which a search reads in 1.5 to 2 ms (against 0.3 ms for record_keys). The
-- write that fills the list moves it into the tree, inside its transaction.
--
-- Erasure empties the record's array together with its sealed data, as it did; there is
-- nothing else to delete.
--
-- Upgrading: stop the ingest service first. The records table is rewritten once, under
-- its lock, and an ingest service of the version before cannot write to it afterwards
-- (its statements name record_keys).
--
-- Old rows: versions stored since migration 0007 kept their hashes one after the other
-- (16 bytes each); versions stored before kept none (NULL) and take what record_keys
-- holds for their source record, which is what searches found them by: the hashes of
-- all its versions, and for records from before migration 0003 also hashes of their
-- blocking keys, which no search asks for. Erased versions (sealed data emptied) keep none.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM ingest.records WHERE length(lookup_hashes) % 16 <> 0) THEN
    RAISE EXCEPTION 'ingest.records.lookup_hashes: a row that is not a whole number of 16-byte hashes'
      USING ERRCODE = 'data_corrupted';
  END IF;
END $$;

CREATE TEMPORARY TABLE unrecorded_lookups ON COMMIT DROP AS
  SELECT k.source_system, k.record_id, array_agg(k.key_hash ORDER BY k.key_hash) AS hashes
  FROM ingest.record_keys k
  WHERE EXISTS (SELECT 1 FROM ingest.records r WHERE r.source_system = k.source_system
                AND r.record_id = k.record_id AND r.lookup_hashes IS NULL)
  GROUP BY k.source_system, k.record_id;
CREATE INDEX ON unrecorded_lookups (source_system, record_id);

CREATE FUNCTION pg_temp.lookup_array(hashes bytea, sealed bytea, source text, id text) RETURNS bytea[]
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN length(sealed) = 0 THEN '{}'
    WHEN hashes IS NULL THEN
      coalesce((SELECT u.hashes FROM unrecorded_lookups u WHERE u.source_system = source AND u.record_id = id),
               '{}')
    ELSE ARRAY(SELECT substring(hashes FROM at FOR 16) FROM generate_series(1, length(hashes), 16) AS at)
  END
$$;

ALTER TABLE ingest.records
  ALTER COLUMN lookup_hashes TYPE bytea[] USING pg_temp.lookup_array(lookup_hashes, sealed, source_system, record_id),
  ALTER COLUMN lookup_hashes SET NOT NULL;
COMMENT ON COLUMN ingest.records.lookup_hashes IS
  'first 16 bytes of HMAC-SHA256 under the lookup key of "lookup", 0x00, the normalised key, for each lookup key of this version (see migration 0010 for rows from before it); empty once erased';

CREATE INDEX records_lookup_hashes ON ingest.records USING gin (lookup_hashes)
  WITH (gin_pending_list_limit = 1024);

DROP TABLE ingest.record_keys;

-- The search (IngestApi::FindProfiles): the profiles whose records have the hash, each
-- followed to the profile it now lives under, erased ones left out, at most 100.
--
-- A function, for its settings, like whole_profiles (migration 0008). PostgreSQL cannot
-- estimate `lookup_hashes @> ...`: with nearly unique elements it takes 0.5% of the
-- records, 5,000 of a million, where there are one or two. As a prepared statement
-- that estimate made it hash a scan of every profile and compile the query (JIT): 300 to
-- 700 ms a search at a million records, against 0.3 to 1 ms for this. Each step below is
-- an index lookup per row (LATERAL ... OFFSET 0), whatever the estimates; no JIT and no
-- parallel workers (starting them took 60 ms), for a query that reads a few rows.
CREATE FUNCTION ingest.find_by_lookup(hash bytea) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
SET max_parallel_workers_per_gather = 0
AS $fn$
BEGIN
  RETURN QUERY
  WITH RECURSIVE
    hit AS (SELECT DISTINCT r.profile_id FROM ingest.records r WHERE r.lookup_hashes @> ARRAY[hash]),
    up(id, next, depth) AS (
      SELECT p.profile_id, p.merged_into, 0
        FROM hit CROSS JOIN LATERAL
             (SELECT profile_id, merged_into FROM ingest.profiles WHERE profile_id = hit.profile_id OFFSET 0) p
      UNION ALL
      SELECT p.profile_id, p.merged_into, up.depth + 1
        FROM up CROSS JOIN LATERAL
             (SELECT profile_id, merged_into FROM ingest.profiles WHERE profile_id = up.next OFFSET 0) p
       WHERE up.depth < 100)
  SELECT DISTINCT up.id
    FROM up CROSS JOIN LATERAL (SELECT erased_at FROM ingest.profiles WHERE profile_id = up.id OFFSET 0) root
   WHERE up.next IS NULL AND root.erased_at IS NULL
   ORDER BY 1 LIMIT 100;
END
$fn$;
REVOKE ALL ON FUNCTION ingest.find_by_lookup(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingest.find_by_lookup(bytea) TO cdp_ingest;

ANALYZE ingest.records;
