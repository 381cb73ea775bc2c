-- Erasure (RightsService.EraseCustomer, Art. 17) cuts the link from a customer id to the
-- random pseudonym their events are filed under; the events stay, so the log still
-- verifies, but no longer lead to a person. The service's role may only insert and read;
-- this function, run with its owner's rights, deletes one mapping and nothing else.
CREATE FUNCTION audit.forget_subject(p_customer text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH d AS (DELETE FROM audit.subjects WHERE customer_id = p_customer RETURNING 1)
  SELECT count(*) > 0 FROM d
$$;
REVOKE ALL ON FUNCTION audit.forget_subject(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.forget_subject(text) TO cdp_audit;
