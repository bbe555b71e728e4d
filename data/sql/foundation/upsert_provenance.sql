INSERT INTO dataset_load (dataset, source_file, sha256, publisher, licence, attribution,
                          row_count, notes, loaded_at)
VALUES (%(dataset)s, %(source_file)s, %(sha256)s, %(publisher)s, %(licence)s, %(attribution)s,
        %(row_count)s, %(notes)s, now())
ON CONFLICT (dataset) DO UPDATE SET
    source_file = EXCLUDED.source_file, sha256 = EXCLUDED.sha256, publisher = EXCLUDED.publisher,
    licence = EXCLUDED.licence, attribution = EXCLUDED.attribution,
    row_count = EXCLUDED.row_count, notes = EXCLUDED.notes, loaded_at = EXCLUDED.loaded_at;
