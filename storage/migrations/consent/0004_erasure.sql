-- Erasure (RightsService.EraseCustomer, Art. 17). The history stays append-only for the
-- service's role; erasing a customer appends one last change marked `erased` (a state
-- with no choices), and then scrub_erased() empties every earlier change of that
-- customer: who acted, the idempotency key and its request hash, the choices and the
-- receipt go; position, version, time, channel and caller stay, so the feed keeps its
-- positions without gaps and every replica replaying it ends at the erasure.
--
-- scrub_erased runs with its owner's rights (the role that ran the migrations) and only
-- touches changes before an erasure change of the same customer: the service's role can
-- empty the history of an erased customer and of no one else.
ALTER TABLE consent.changes ADD COLUMN erased boolean NOT NULL DEFAULT false;

CREATE FUNCTION consent.scrub_erased(p_customer text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH e AS (
    SELECT position, state FROM consent.changes
    WHERE customer_id = p_customer AND erased ORDER BY position DESC LIMIT 1),
  u AS (
    UPDATE consent.changes c
    SET actor_id = '', idempotency_key = NULL, request_sha256 = NULL,
        delta = e.state, state = e.state, receipt = NULL
    FROM e
    WHERE c.customer_id = p_customer AND c.position < e.position
      AND (c.actor_id <> '' OR c.idempotency_key IS NOT NULL OR c.receipt IS NOT NULL
           OR c.delta <> e.state OR c.state <> e.state)
    RETURNING 1)
  SELECT count(*) FROM u
$$;
REVOKE ALL ON FUNCTION consent.scrub_erased(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION consent.scrub_erased(text) TO cdp_consent;
