-- One LAD with its LSOA count and every summary measure of the edition.
SELECT lad.code, lad.name, lad.vintage, lad.region_code, lad.region_name,
       (SELECT count(*) FROM lsoa WHERE lsoa.lad_vintage = lad.vintage
                                    AND lsoa.lad_code = lad.code) AS lsoa_count,
       coalesce((
           SELECT json_agg(json_build_object(
                      'domain', m.domain_code, 'measure', m.measure, 'value', m.value,
                      'rank', m.rank, 'unavailable_reason', m.unavailable_reason,
                      'rank_unavailable_reason', m.rank_unavailable_reason)
                  ORDER BY d.sort_order, m.measure)
           FROM lad_summary_measure m
           JOIN index_domain d ON d.edition_code = m.edition_code AND d.code = m.domain_code
           WHERE m.edition_code = %(edition)s AND m.lad_code = lad.code), '[]') AS summary_measures
FROM lad
WHERE lad.vintage = %(vintage)s AND lad.code = %(code)s;
