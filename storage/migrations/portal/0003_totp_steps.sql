-- The last TOTP time step an auditor signed in with: a code is accepted once, and never
-- one from an earlier step (RFC 6238 section 5.2).
ALTER TABLE portal.auditors ADD COLUMN totp_last_step bigint;
