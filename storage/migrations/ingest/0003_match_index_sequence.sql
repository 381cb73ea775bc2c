-- The ingest service resolves against a matching index in memory
-- (services/ingest/match_index.h) that follows the database through sequence numbers:
-- every write under the ingest lock takes the next number from `sequence` and stamps the
-- records and profiles it writes, so an instance catches up by reading what was stamped
-- after the number it last saw. Blocking therefore needs no keys in the database any more:
-- record_keys keeps only the lookup keys (e-mail, phone, customer number) that searches
-- by those go through.
CREATE TABLE ingest.sequence (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  value bigint NOT NULL
);
INSERT INTO ingest.sequence (value) VALUES (1);

ALTER TABLE ingest.records ADD COLUMN seq bigint NOT NULL DEFAULT 1;
CREATE INDEX records_seq ON ingest.records (seq);
ALTER TABLE ingest.profiles ADD COLUMN changed_seq bigint NOT NULL DEFAULT 1;
CREATE INDEX profiles_changed_seq ON ingest.profiles (changed_seq);

COMMENT ON TABLE ingest.record_keys IS
  'keyed hashes of lookup keys (e-mail, phone, customer number) of every record version';
