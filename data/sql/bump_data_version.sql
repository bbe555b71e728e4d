-- Every load or write bumps the single data version; caches key on it.
UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1 RETURNING version;
