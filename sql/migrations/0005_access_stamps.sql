-- 0005: change stamps, so that concurrent changes of access conflict at every isolation level.
--
-- Until now changes of access in one tenant were serialized by an advisory lock. Under READ
-- COMMITTED that is enough: every statement after the lock sees what the previous holder
-- committed. Under REPEATABLE READ or SERIALIZABLE the snapshot never moves, so a change
-- computed after waiting could still miss the other's committed change and leave a stale
-- row in auth.effective_access (issue: a deactivated tenant kept granting).
--
-- A stamp is a row that every change of access in its scope UPDATEs (see
-- auth.lock_tenants in functions/effective_access.sql). An UPDATE waits for the holder as
-- the advisory lock did, and PostgreSQL itself fails a REPEATABLE READ or SERIALIZABLE
-- writer with 40001 (serialization_failure) when the row was updated by a transaction its
-- snapshot does not see: exactly the writers that would compute from a stale snapshot.
-- Scopes are keyed by uuid:
--   a tenant id   every change of access in that tenant;
--   a user id     a user's (de)activation and every new membership of that user, which
--                 is invisible to a concurrent (de)activation's list of the user's tenants;
--   the nil uuid  the permission catalogue (the compiled lookup's rebuild).
-- Tenant and user ids are random, so the scopes never meet. No foreign key: a tenant's
-- deletion cascades to rows whose triggers still stamp it; triggers on auth.tenant and
-- auth.user_info delete the stamps of deleted rows at the end of the statement.

CREATE TABLE auth.access_stamp (
    scope_id uuid   NOT NULL CONSTRAINT access_stamp_pkey PRIMARY KEY,
    changes  bigint NOT NULL DEFAULT 1
) WITH (fillfactor = 50);
COMMENT ON TABLE auth.access_stamp IS
    'Internal: one row per tenant, user (and the catalogue, nil uuid) whose access changed; every change '
    'updates it, so concurrent changes wait for each other and a REPEATABLE READ change that raced a '
    'committed one fails with 40001 instead of computing from a stale snapshot.';
COMMENT ON COLUMN auth.access_stamp.scope_id IS 'A tenant id, a user id, or the nil uuid for the catalogue.';
COMMENT ON COLUMN auth.access_stamp.changes IS 'Number of transactions that changed access in the scope.';
