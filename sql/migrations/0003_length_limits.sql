-- 0003: length limits and a stricter meaning of "blank", as constraints, so that direct SQL
-- is held to what the functions check (auth.assert_username, auth.assert_preference_key,
-- auth.assert_perm_code, auth.is_blank in functions/internal.sql).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- Blank: nothing but whitespace, control or invisible format characters. The character
-- class below is the one of auth.is_blank (a migration cannot depend on the re-applied
-- function files): C0 controls and space, DEL, C1 controls and no-break space, soft hyphen,
-- Ogham space, Mongolian vowel separator, the U+2000 spaces, zero-width characters and bidi
-- marks, line and paragraph separators, bidi embeddings, narrow no-break space, word joiner
-- and invisible operators, ideographic space, and the byte-order mark.
--
-- Limits, in characters: usernames, preference keys and permission codes are indexed, and
-- a btree entry cannot hold much more than 2,700 bytes (a longer value failed with a raw
-- 54000); 255 characters is a clear limit well below it (at most 1,020 bytes). ltree labels
-- are limited to 255 characters anyway.
--
-- The constraints are validated: an existing row that breaks one stops the install with the
-- constraint's name, to be fixed by hand, rather than being kept silently.

ALTER TABLE auth.tenant
    DROP CONSTRAINT tenant_name_not_blank,
    ADD CONSTRAINT tenant_name_not_blank
        CHECK (name ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]');

ALTER TABLE auth.user_info
    DROP CONSTRAINT user_info_username_not_blank,
    ADD CONSTRAINT user_info_username_not_blank
        CHECK (username ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]'),
    -- 'alice ' would look like 'alice' while being another account.
    ADD CONSTRAINT user_info_username_trimmed
        CHECK (username !~ '^[\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]'
               AND username !~ '[\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]$'),
    ADD CONSTRAINT user_info_username_length CHECK (char_length(username) <= 255);
COMMENT ON COLUMN auth.user_info.username IS
    'Unique, compared case-insensitively; at most 255 characters, no leading or trailing whitespace.';

ALTER TABLE auth.user_group
    DROP CONSTRAINT user_group_name_not_blank,
    ADD CONSTRAINT user_group_name_not_blank
        CHECK (name ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]');

ALTER TABLE auth.permission
    DROP CONSTRAINT permission_name_not_blank,
    ADD CONSTRAINT permission_name_not_blank
        CHECK (name ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]'),
    ADD CONSTRAINT permission_code_length CHECK (char_length(code::text) <= 255);
COMMENT ON COLUMN auth.permission.code IS
    'Dotted path of lower-case segments of letters, digits and _; at most 255 characters.';

ALTER TABLE auth.perm_set
    DROP CONSTRAINT perm_set_name_not_blank,
    ADD CONSTRAINT perm_set_name_not_blank
        CHECK (name ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]');

ALTER TABLE auth.user_tenant_preference
    DROP CONSTRAINT user_tenant_preference_key_not_blank,
    ADD CONSTRAINT user_tenant_preference_key_not_blank
        CHECK (preference_key ~ '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]'),
    ADD CONSTRAINT user_tenant_preference_key_length CHECK (char_length(preference_key) <= 255);
COMMENT ON COLUMN auth.user_tenant_preference.preference_key IS 'At most 255 characters; the value has no limit.';
