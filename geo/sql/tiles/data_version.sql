-- The data version every load bumps (geo/sql/tiles/bump_data_version.sql); caches key on it.
SELECT version FROM data_version WHERE id = 1
