-- Erasure jobs (RightsService.EraseCustomer). One row per customer: the step reached, so
-- that a job interrupted by a crash resumes where it was; the ingest service's answer
-- (which source records to delete, what a legal obligation keeps); and, once done, the
-- signed receipt (asked again, the customer gets the same one) and the job's place in
-- the erasure feed (WatchErasures). No personal data: ids, field names and times.
CREATE SEQUENCE rights.erasure_feed;

CREATE TABLE rights.erasures (
  customer_id text PRIMARY KEY,
  requested_at timestamptz NOT NULL,
  caller text NOT NULL,
  channel smallint NOT NULL,
  acting_kind smallint NOT NULL,
  step text NOT NULL CHECK (step IN ('requested', 'profile_erased', 'consent_erased', 'log_unlinked', 'done')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  ingest_answer bytea,          -- cdp.v1.EraseProfileResponse
  receipt_json text,
  receipt_jws text,
  receipt_key_id text,
  completed_at timestamptz,
  seq bigint UNIQUE             -- in the erasure feed, once done
);
CREATE INDEX erasures_pending ON rights.erasures (requested_at) WHERE step <> 'done';

-- What the retention job did, each run. Erasures it made are jobs above, with caller
-- 'retention'.
CREATE TABLE rights.retention_runs (
  id bigserial PRIMARY KEY,
  ran_at timestamptz NOT NULL,
  purged integer NOT NULL,        -- customers whose legally kept fields went
  erased integer NOT NULL DEFAULT 0,  -- inactive customers erased
  ok boolean NOT NULL,
  problem text NOT NULL DEFAULT ''
);
