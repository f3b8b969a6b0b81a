-- 0013: invitations (issue 20, item 3).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- A tenant invites an email with a permission set, a group, or both. The token goes to that
-- address, is shown once and kept as a keyed hash (auth.secret_hash), and serves once before
-- its expiry; accepting it links the account that has the email, or creates one, and makes it
-- a member with what the invitation carries.

CREATE TABLE auth.invitation (
    invitation_id    uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    tenant_id        uuid        NOT NULL REFERENCES auth.tenant (tenant_id) ON DELETE CASCADE,
    email            text        NOT NULL
                                 CONSTRAINT invitation_email_check CHECK (length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+$'),
    perm_set_id      uuid,
    user_group_id    uuid,
    token_hash       bytea       NOT NULL CONSTRAINT invitation_token_hash_key UNIQUE,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    invited_by       uuid,
    accepted_at      timestamptz,
    accepted_user_id uuid,
    revoked_at       timestamptz,
    CONSTRAINT invitation_grant_check CHECK (perm_set_id IS NOT NULL OR user_group_id IS NOT NULL),
    -- A set or group deleted takes its invitations along: they would promise what no longer exists.
    CONSTRAINT invitation_perm_set_fkey FOREIGN KEY (tenant_id, perm_set_id)
        REFERENCES auth.perm_set (tenant_id, perm_set_id) ON DELETE CASCADE,
    CONSTRAINT invitation_group_fkey FOREIGN KEY (tenant_id, user_group_id)
        REFERENCES auth.user_group (tenant_id, user_group_id) ON DELETE CASCADE
);
CREATE INDEX invitation_tenant_created_idx ON auth.invitation (tenant_id, created_at, invitation_id);
CREATE INDEX invitation_tenant_email_idx ON auth.invitation (tenant_id, lower(email)) WHERE accepted_at IS NULL AND revoked_at IS NULL;

COMMENT ON TABLE auth.invitation IS
    'An invitation of an email to a tenant with a permission set and/or a group: a single-use token (kept as a keyed '
    'hash), an expiry, who invited, and whether it was accepted (by whom) or revoked.';
COMMENT ON COLUMN auth.invitation.invited_by IS 'The actor (auth.set_actor) of the transaction that made it, if any.';
