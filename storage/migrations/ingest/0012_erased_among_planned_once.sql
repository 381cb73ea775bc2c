-- Which of some profiles are erased (IngestApi's kErasedAmong): asked before every data
-- key lookup, when records are sealed for the profiles they join and when golden records
-- are read. As a prepared statement PostgreSQL planned it at every call: a custom plan
-- for one or two ids looks cheaper than the generic plan's guess of ten (pg_stat_statements:
-- as many plans as calls, 0.10-0.13 ms to plan under load against 0.007 ms to run). A
-- function, for its setting, like whole_profiles (migration 0008) and find_by_lookup
-- (0010): pgbench, one id among 200k profiles, 0.113-0.126 ms a call before, 0.064-0.069
-- ms as this function.
CREATE FUNCTION ingest.erased_among(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
  RETURN QUERY
  SELECT p.profile_id FROM ingest.profiles p WHERE p.profile_id = ANY(ids) AND p.erased_at IS NOT NULL;
END
$fn$;
REVOKE ALL ON FUNCTION ingest.erased_among(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingest.erased_among(text[]) TO cdp_ingest;
