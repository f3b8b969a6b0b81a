-- 0007: the BEFORE trigger on auth.owner under its new name (issue 16, item 4).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- The trigger now does more than add a tenant owner's membership: it names a missing or
-- unknown tenant, user or group with our SQLSTATE, and makes direct DML that would create an
-- ownership twice merge with the existing one (functions/tenants.sql,
-- auth.tg_owner_before_write; triggers.sql creates it after the function files). The old
-- trigger and function go here, once: left in place, the old trigger would run beside the
-- new one. IF EXISTS: a fresh install has neither.

DROP TRIGGER IF EXISTS owner_membership ON auth.owner;
DROP FUNCTION IF EXISTS auth.tg_owner_membership();
