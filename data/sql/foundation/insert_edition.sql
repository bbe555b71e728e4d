INSERT INTO index_edition (code, title, country, publisher, published, lsoa_vintage, lad_vintage,
                           ward_vintage, national_lsoa_count, population_denominators, is_current)
VALUES (%(code)s, %(title)s, %(country)s, %(publisher)s, %(published)s, %(lsoa_vintage)s,
        %(lad_vintage)s, %(ward_vintage)s, %(national_lsoa_count)s, %(population_denominators)s,
        %(is_current)s)
ON CONFLICT (code) DO UPDATE SET
    title = EXCLUDED.title, country = EXCLUDED.country, publisher = EXCLUDED.publisher,
    published = EXCLUDED.published, lsoa_vintage = EXCLUDED.lsoa_vintage,
    lad_vintage = EXCLUDED.lad_vintage, ward_vintage = EXCLUDED.ward_vintage,
    national_lsoa_count = EXCLUDED.national_lsoa_count,
    population_denominators = EXCLUDED.population_denominators, is_current = EXCLUDED.is_current;
