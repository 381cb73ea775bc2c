-- Schema "profile" and its least-privilege runtime role "cdp_profile". Migrations run as an admin
-- role; the service then connects as cdp_profile, which can use the schema's tables but not
-- change their shape.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_profile LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA profile;
REVOKE ALL ON SCHEMA profile FROM PUBLIC;
GRANT USAGE ON SCHEMA profile TO cdp_profile;
ALTER DEFAULT PRIVILEGES IN SCHEMA profile GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cdp_profile;
ALTER DEFAULT PRIVILEGES IN SCHEMA profile GRANT USAGE, SELECT ON SEQUENCES TO cdp_profile;
ALTER ROLE cdp_profile SET search_path = profile;
