-- A profile whose key is kept in the OS key store (its api_key is NULL then).
ALTER TABLE api_profiles ADD COLUMN key_in_keyring INTEGER NOT NULL DEFAULT 0;
