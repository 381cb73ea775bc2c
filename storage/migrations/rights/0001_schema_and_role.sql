-- Schema "rights" and its least-privilege runtime role "cdp_rights". Migrations run as an admin
-- role; the service then connects as cdp_rights, which can use the schema's tables but not
-- change their shape.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_rights LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA rights;
REVOKE ALL ON SCHEMA rights FROM PUBLIC;
GRANT USAGE ON SCHEMA rights TO cdp_rights;
ALTER DEFAULT PRIVILEGES IN SCHEMA rights GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cdp_rights;
ALTER DEFAULT PRIVILEGES IN SCHEMA rights GRANT USAGE, SELECT ON SEQUENCES TO cdp_rights;
ALTER ROLE cdp_rights SET search_path = rights;
