-- Sign-in links, sessions and auditor accounts of the portal. Secrets are never stored:
-- links and session cookies are kept as SHA-256 of the random token, passwords as Argon2id.

-- One-time sign-in links sent by e-mail: valid for minutes, used at most once.
CREATE TABLE portal.sign_in_links (
  token_sha256 bytea PRIMARY KEY,
  customer_id text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX sign_in_links_expiry ON portal.sign_in_links (expires_at);

-- Signed-in browsers, customers and auditors alike. The CSRF token is per session.
CREATE TABLE portal.sessions (
  id_sha256 bytea PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('customer', 'auditor')),
  subject text NOT NULL,            -- the customer's profile id or the auditor's account name
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON portal.sessions (expires_at);

-- Auditor accounts, made with `cdpctl auditor add`.
CREATE TABLE portal.auditors (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  display_name text NOT NULL,
  password_argon2id text NOT NULL,
  totp_secret bytea,                -- RFC 6238 shared secret; NULL without a second factor
  created_at timestamptz NOT NULL,
  disabled boolean NOT NULL DEFAULT false
);

-- What the console last learnt about the log's integrity, for the integrity page.
CREATE TABLE portal.log_verifications (
  id bigserial PRIMARY KEY,
  auditor text NOT NULL,
  verified_at timestamptz NOT NULL,
  ok boolean NOT NULL,
  events_checked bigint NOT NULL,
  first_bad_position bigint NOT NULL,
  problem text NOT NULL
);
