-- New profiles reach the consent service (RegisterCustomers) by the sequence number that
-- stamped them (ingest.profiles.changed_seq), no longer through an outbox table.
--
-- The outbox cost, per new profile, a row, its index entry and the check that its profile
-- exists, all in the transaction every ingested batch waits for, and a delete once
-- announced: in the 100k-people ingest bench about 5 µs of PostgreSQL's time per record
-- (11 µs a row for the insert alone, about 0.46 new profiles a record). The number the
-- profiles already carry does the same job for nothing:
--
-- `through_seq`: every profile stamped at or below it has been announced. The registrar
-- (services/ingest/consent_registrar.h) reads the profiles stamped after it, up to the
-- sequence's committed value, announces them, and only then moves it on. A crash in
-- between announces them again, which is harmless: RegisterCustomers skips customers it
-- knows, erased ones included. A merge stamps a profile again, so it is announced again.
-- Erased profiles are left out.
--
-- Rows of the outbox still waiting are covered: `through_seq` starts at 0, so every
-- profile is announced once more after this migration. The outbox stays for instances of
-- the previous version still running during an upgrade (they write it and empty it
-- themselves); a later migration drops it.
CREATE TABLE ingest.consent_announced (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  through_seq bigint NOT NULL
);
INSERT INTO ingest.consent_announced (through_seq) VALUES (0);
COMMENT ON TABLE ingest.consent_outbox IS 'no longer written since migration 0009; to be dropped';

-- A profile written without its stamp would take the old default (1), below what is
-- announced already, and never be announced: every writer must stamp it.
ALTER TABLE ingest.profiles ALTER COLUMN changed_seq DROP DEFAULT;
