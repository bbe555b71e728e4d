-- The dwelling count (and cap index figures) recorded for an area and financial year.
SELECT dwellings, dwellings_source, index_year, index_base, index_source
FROM area_dwelling_count
WHERE area_id = %(area_id)s AND financial_year = %(financial_year)s;
