-- Schema "portal" and its least-privilege runtime role "cdp_portal". Migrations run as an admin
-- role; the service then connects as cdp_portal, which can use the schema's tables but not
-- change their shape.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_portal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA portal;
REVOKE ALL ON SCHEMA portal FROM PUBLIC;
GRANT USAGE ON SCHEMA portal TO cdp_portal;
ALTER DEFAULT PRIVILEGES IN SCHEMA portal GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cdp_portal;
ALTER DEFAULT PRIVILEGES IN SCHEMA portal GRANT USAGE, SELECT ON SEQUENCES TO cdp_portal;
ALTER ROLE cdp_portal SET search_path = portal;
