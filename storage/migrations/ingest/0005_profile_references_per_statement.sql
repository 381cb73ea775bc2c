-- Every record, consent outbox row and review candidate names a profile that exists, as
-- before; the database now checks it once per statement instead of once per row.
--
-- A foreign key runs a query and locks the profile's row for every row inserted: at a
-- million profiles that was an eighth of PostgreSQL's CPU while ingesting, on the path
-- every batch waits for. A statement-level trigger looks all of a statement's rows up in
-- one join. The row lock is not needed for what the key also guaranteed, because a
-- profile is never deleted and never renamed (erasure destroys its data key and keeps the
-- row): the triggers on `profiles` below refuse both, so no profile a row was checked
-- against can go away before that row's transaction commits. The references that are
-- written rarely (merges, erasures, retention, merged_into) keep their foreign keys.
--
-- One difference: a foreign key waits for a concurrent transaction that made the profile
-- and has not committed; the check here does not see that profile and refuses the row.
-- The ingest service writes under its lock (IngestApi::StoreInTurn), one transaction
-- after the other, so it never names a profile that is not yet committed.
ALTER TABLE ingest.records DROP CONSTRAINT records_profile_id_fkey;
ALTER TABLE ingest.consent_outbox DROP CONSTRAINT consent_outbox_profile_id_fkey;
ALTER TABLE ingest.match_candidates DROP CONSTRAINT match_candidates_left_profile_fkey,
                                    DROP CONSTRAINT match_candidates_right_profile_fkey;

-- Refuses the statement (SQLSTATE 23503, as a foreign key would) if a row it wrote names
-- a profile that does not exist. TG_ARGV: the columns that name profiles.
CREATE FUNCTION ingest.refuse_unknown_profiles() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  col text;
  unknown text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    -- Planned afresh for each statement, knowing how many rows it wrote: a plan kept
    -- from when `profiles` was nearly empty would scan it whole.
    unknown := NULL;
    EXECUTE format('SELECT n.%1$I FROM written n WHERE NOT EXISTS '
                   '(SELECT 1 FROM ingest.profiles p WHERE p.profile_id = n.%1$I) LIMIT 1', col)
      INTO unknown;
    IF unknown IS NOT NULL THEN
      RAISE EXCEPTION 'a row of %.% names profile % which does not exist', TG_TABLE_SCHEMA, TG_TABLE_NAME, unknown
        USING ERRCODE = 'foreign_key_violation';
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER records_insert_profile_exists AFTER INSERT ON ingest.records
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('profile_id');
CREATE TRIGGER records_update_profile_exists AFTER UPDATE ON ingest.records
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('profile_id');
CREATE TRIGGER consent_outbox_insert_profile_exists AFTER INSERT ON ingest.consent_outbox
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('profile_id');
CREATE TRIGGER consent_outbox_update_profile_exists AFTER UPDATE ON ingest.consent_outbox
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('profile_id');
CREATE TRIGGER match_candidates_insert_profile_exists AFTER INSERT ON ingest.match_candidates
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('left_profile', 'right_profile');
CREATE TRIGGER match_candidates_update_profile_exists AFTER UPDATE ON ingest.match_candidates
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION ingest.refuse_unknown_profiles('left_profile', 'right_profile');

-- A profile is never deleted or renamed: not by the service, not by an administrator.
CREATE FUNCTION ingest.refuse_profile_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'profiles are never deleted or renamed (erasure destroys the data key instead)'
    USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER profiles_never_deleted BEFORE DELETE ON ingest.profiles
  FOR EACH STATEMENT EXECUTE FUNCTION ingest.refuse_profile_removal();
CREATE TRIGGER profiles_never_truncated BEFORE TRUNCATE ON ingest.profiles
  FOR EACH STATEMENT EXECUTE FUNCTION ingest.refuse_profile_removal();
CREATE TRIGGER profiles_never_renamed BEFORE UPDATE OF profile_id ON ingest.profiles
  FOR EACH ROW WHEN (OLD.profile_id IS DISTINCT FROM NEW.profile_id)
  EXECUTE FUNCTION ingest.refuse_profile_removal();
