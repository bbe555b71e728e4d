-- Record one imported file (its outside-boundary counts are filled in once crimes are placed).
INSERT INTO crime_load (source_file, sha256, format, forces, first_month, last_month,
                        row_count, no_location_count, outside_boundaries_count, unknown_types,
                        publisher, licence, attribution, notes)
VALUES (%(source_file)s, %(sha256)s, %(format)s, %(forces)s, %(first_month)s,
        %(last_month)s, %(row_count)s, %(no_location_count)s, 0, %(unknown_types)s,
        %(publisher)s, %(licence)s, %(attribution)s, %(notes)s)
RETURNING id;
