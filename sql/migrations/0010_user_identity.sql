-- 0010: identities at external identity providers (single sign-on), linked to users.
--
-- Applied once (install.sql guards it). A person signing in through OpenID Connect is
-- named by the provider's issuer and their subject there, never by an email address alone
-- (an email can be reassigned; the pair cannot). For Microsoft Entra ID the issuer names
-- the directory (https://login.microsoftonline.com/{tid}/v2.0) and the subject is the
-- object id (oid), which is the same for every application of the directory.
--
-- Written and read through the functions of functions/identities.sql; changes are audited.

CREATE TABLE auth.user_identity (
    issuer       text        NOT NULL CONSTRAINT user_identity_issuer_length CHECK (char_length(issuer) BETWEEN 1 AND 2048),
    subject      text        NOT NULL CONSTRAINT user_identity_subject_length CHECK (char_length(subject) BETWEEN 1 AND 255),
    user_id      uuid        NOT NULL REFERENCES auth.user_info ON DELETE CASCADE,
    email        text        CONSTRAINT user_identity_email_length CHECK (char_length(email) <= 320),
    linked_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identity_user_id_idx ON auth.user_identity (user_id);
COMMENT ON TABLE auth.user_identity IS
    'An account at an external identity provider (issuer, subject) that signs in as a user. One identity '
    'belongs to one user; a user may have several (two providers, say). Deleting the user deletes them.';
COMMENT ON COLUMN auth.user_identity.issuer IS 'The provider''s issuer URL, exactly as its tokens carry it (iss).';
COMMENT ON COLUMN auth.user_identity.subject IS 'The person''s stable id at the provider: sub, or for Entra ID the object id (oid).';
COMMENT ON COLUMN auth.user_identity.email IS 'The verified email the provider gave at the last sign-in, for people reading the table.';
COMMENT ON COLUMN auth.user_identity.last_used_at IS 'The last sign-in through this identity.';
