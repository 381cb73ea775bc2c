-- Schema "ingest" and its least-privilege runtime role "cdp_ingest". Migrations run as an admin
-- role; the service then connects as cdp_ingest, which can use the schema's tables but not
-- change their shape.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA ingest;
REVOKE ALL ON SCHEMA ingest FROM PUBLIC;
GRANT USAGE ON SCHEMA ingest TO cdp_ingest;
ALTER DEFAULT PRIVILEGES IN SCHEMA ingest GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cdp_ingest;
ALTER DEFAULT PRIVILEGES IN SCHEMA ingest GRANT USAGE, SELECT ON SEQUENCES TO cdp_ingest;
ALTER ROLE cdp_ingest SET search_path = ingest;
