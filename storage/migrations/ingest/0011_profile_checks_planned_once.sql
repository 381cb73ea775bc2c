-- The statement-level checks of migration 0005 (every record, consent outbox row and
-- review candidate names a profile that exists) now run a query planned once per session
-- instead of building and planning one for every statement. For a batch of one record,
-- planning was most of the check: about 0.7 ms of a one-row INSERT that took 1.3 ms with
-- it and 0.6 ms without. The columns that name profiles are known, so the query no longer
-- needs to be built from the trigger's arguments.
--
-- Each written row's profile is looked up in the primary key on its own: OFFSET 0 keeps
-- the lookup a subquery the planner cannot turn into a join, and enable_seqscan = off
-- makes it an index lookup even when planned while `profiles` held a row or two (the
-- plan is kept as the table grows to millions; a sequential scan planned then would read
-- the whole table for every row written; `written` is not a table and is scanned all the
-- same). The cost grows with the rows written, as a foreign key's did, without its row
-- lock (see 0005 for why none is needed).
CREATE OR REPLACE FUNCTION ingest.refuse_unknown_profiles() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  unknown text;
BEGIN
  IF TG_NARGS = 1 AND TG_ARGV[0] = 'profile_id' THEN
    SELECT n.profile_id INTO unknown FROM written n
     WHERE NOT EXISTS (SELECT 1 FROM ingest.profiles p WHERE p.profile_id = n.profile_id OFFSET 0)
     LIMIT 1;
  ELSIF TG_NARGS = 2 AND TG_ARGV[0] = 'left_profile' AND TG_ARGV[1] = 'right_profile' THEN
    SELECT x.id INTO unknown FROM (SELECT n.left_profile FROM written n UNION ALL
                                   SELECT n.right_profile FROM written n) AS x(id)
     WHERE NOT EXISTS (SELECT 1 FROM ingest.profiles p WHERE p.profile_id = x.id OFFSET 0)
     LIMIT 1;
  ELSE
    RAISE EXCEPTION 'ingest.refuse_unknown_profiles: no check for the columns %', TG_ARGV;
  END IF;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'a row of %.% names profile % which does not exist', TG_TABLE_SCHEMA, TG_TABLE_NAME, unknown
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
