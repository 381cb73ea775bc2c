-- Schema "consent" and its least-privilege runtime role "cdp_consent". Migrations run as an admin
-- role; the service then connects as cdp_consent, which can use the schema's tables but not
-- change their shape.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_consent LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA consent;
REVOKE ALL ON SCHEMA consent FROM PUBLIC;
GRANT USAGE ON SCHEMA consent TO cdp_consent;
ALTER DEFAULT PRIVILEGES IN SCHEMA consent GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cdp_consent;
ALTER DEFAULT PRIVILEGES IN SCHEMA consent GRANT USAGE, SELECT ON SEQUENCES TO cdp_consent;
ALTER ROLE cdp_consent SET search_path = consent;
