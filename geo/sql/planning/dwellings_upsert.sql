-- Record (or correct) the council-tax dwellings of an area for one financial year, with the
-- index figures of the cap's formula (reg 59A(7)) and their sources.
INSERT INTO area_dwelling_count (area_id, financial_year, dwellings, dwellings_source,
                                 index_year, index_base, index_source, recorded_by)
VALUES (%(area_id)s, %(financial_year)s, %(dwellings)s, %(dwellings_source)s, %(index_year)s,
        %(index_base)s, %(index_source)s, %(actor)s)
ON CONFLICT (area_id, financial_year) DO UPDATE SET
    dwellings = EXCLUDED.dwellings, dwellings_source = EXCLUDED.dwellings_source,
    index_year = EXCLUDED.index_year, index_base = EXCLUDED.index_base,
    index_source = EXCLUDED.index_source, recorded_by = EXCLUDED.recorded_by, at = now();
