-- An erasure finds every row it deletes through an index, so that it takes as long at a
-- million customers as at a thousand. It holds the ingest lock, and ingestion waits.
--
-- Each version of a record keeps the keyed hashes of its lookup keys, as written to
-- record_keys (16 bytes each, one after the other), so that an erasure deletes exactly
-- those rows through record_keys's primary key. Before, it found them by source system and
-- record id, which no index of record_keys starts with: a scan of the whole table (0.66 s
-- for one customer at a million people). NULL: stored before this migration; erasure
-- finds those rows the old way. An erased record's hashes are emptied with its sealed data.
ALTER TABLE ingest.records ADD COLUMN lookup_hashes bytea;
COMMENT ON COLUMN ingest.records.lookup_hashes IS
  'the record_keys.key_hash values written for this version, concatenated (16 bytes each); NULL if stored before migration 0007';

-- Review candidates naming the erased profile on either side: the primary key finds the
-- left side, nothing found the right (a scan, 23 ms at a million people). Candidates are
-- few beside records, so the index costs ingestion little.
CREATE INDEX match_candidates_right ON ingest.match_candidates (right_profile);
