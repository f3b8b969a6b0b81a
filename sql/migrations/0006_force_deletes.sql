-- 0006: auth.delete_permission and auth.delete_perm_set take _force (issue 14, item 8).
--
-- Applied once (install.sql guards it), before the functions files, which create the new
-- signatures (_code, _force) and (_tenant_id, _perm_set_code, _force). An old overload left
-- beside a new one would make every call that omits _force ambiguous (42725), and would
-- keep the old behaviour reachable: drop both. IF EXISTS: a fresh install has neither.

DROP FUNCTION IF EXISTS auth.delete_permission(text);
DROP FUNCTION IF EXISTS auth.delete_perm_set(uuid, text);
