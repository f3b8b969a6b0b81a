-- 0002: portal sessions and sign-in attempts live in the master database, so a restart
-- keeps people signed in, several `pgperm serve` processes behind one load balancer agree,
-- and what ends a session (deactivation, suspension) ends it for good, in the same
-- transaction (triggers in functions/sessions.sql).

CREATE TABLE platform.portal_session (
    token_hash     bytea       PRIMARY KEY CONSTRAINT portal_session_token_hash_length CHECK (length(token_hash) = 32),
    admin_user_id  uuid        REFERENCES platform.admin_user ON DELETE CASCADE,
    tenant_id      uuid        REFERENCES platform.tenant ON DELETE CASCADE,
    auth_tenant_id uuid,
    auth_user_id   uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    -- Exactly one kind: an admin user's, or a tenant user's (the tenant row inside its
    -- database and the user there, both needed to check the user's access).
    CONSTRAINT portal_session_one_subject CHECK (
        (admin_user_id IS NOT NULL AND tenant_id IS NULL AND auth_tenant_id IS NULL AND auth_user_id IS NULL)
        OR (admin_user_id IS NULL AND tenant_id IS NOT NULL AND auth_tenant_id IS NOT NULL AND auth_user_id IS NOT NULL))
);
CREATE INDEX portal_session_admin_user_id_idx ON platform.portal_session (admin_user_id, created_at)
    WHERE admin_user_id IS NOT NULL;
CREATE INDEX portal_session_tenant_idx ON platform.portal_session (tenant_id, auth_user_id, created_at)
    WHERE tenant_id IS NOT NULL;
CREATE INDEX portal_session_last_seen_at_idx ON platform.portal_session (last_seen_at);
COMMENT ON TABLE platform.portal_session IS
    'Signed-in portal sessions: an admin user''s, or a tenant user''s on /t/{slug}/api. Only a SHA-256 hash '
    'of the cookie''s token is stored. Deactivating an admin, changing their password or revoking their '
    'last tenant, and suspending a tenant delete the sessions concerned (triggers).';
COMMENT ON COLUMN platform.portal_session.token_hash IS 'SHA-256 of the session token; the token itself is only in the cookie.';

CREATE TABLE platform.sign_in_attempt (
    account      text        NOT NULL CONSTRAINT sign_in_attempt_account_length CHECK (length(account) <= 400),
    client       text        NOT NULL CONSTRAINT sign_in_attempt_client_length CHECK (length(client) <= 100),
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempt_account_idx ON platform.sign_in_attempt (account, attempted_at);
CREATE INDEX sign_in_attempt_attempted_at_idx ON platform.sign_in_attempt (attempted_at);
COMMENT ON TABLE platform.sign_in_attempt IS
    'Sign-in attempts not (yet) known to have succeeded, per account and client address, for the sign-in '
    'throttle. An attempt is recorded before the password is checked and deleted when it succeeds; rows '
    'older than the throttle window are deleted.';
