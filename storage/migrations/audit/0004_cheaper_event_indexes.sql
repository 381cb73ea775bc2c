-- Every read of the platform appends an event, so each index on audit.events is paid on
-- the read path. Two did not earn their upkeep:
--   the UNIQUE index on event_id: nothing looks an event up by its id (positions address
--   events, and the Merkle tree covers the ids), and the ids are random UUIDs the log
--   makes itself. Inserting random keys into a B-tree was among the costliest parts of an
--   append once the log held millions of events.
--   events_time: recorded_at grows with position, so a BRIN index (a summary per range of
--   blocks) answers the time windows of auditors' queries and the unusual-access report
--   for a fraction of a B-tree's cost per insert.
ALTER TABLE audit.events DROP CONSTRAINT events_event_id_key;
DROP INDEX audit.events_time;
CREATE INDEX events_time ON audit.events USING brin (recorded_at);
