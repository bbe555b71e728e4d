-- Every load or write bumps the single data version; caches key on it. The notification is
-- delivered at commit (never for a rolled-back load), so running services drop stale tiles.
WITH bumped AS (
    UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1
    RETURNING version
)
SELECT version, pg_notify('platoons_data_version', version::text) FROM bumped;
