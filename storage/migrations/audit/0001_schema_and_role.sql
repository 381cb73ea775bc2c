-- Schema "audit" and its least-privilege runtime role "cdp_audit". Migrations run as an admin
-- role; the service then connects as cdp_audit, which can use the schema's tables but not
-- change their shape.
-- The access log is append-only: its runtime role may read and insert, never update or
-- delete, so the database itself refuses tampering through the service's credentials.
-- Roles are shared by every database of a cluster; another database may have made it, or
-- be making it right now.
DO $$
BEGIN
  CREATE ROLE cdp_audit LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO cdp_audit;
ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT SELECT, INSERT ON TABLES TO cdp_audit;
ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT USAGE, SELECT ON SEQUENCES TO cdp_audit;
ALTER ROLE cdp_audit SET search_path = audit;
