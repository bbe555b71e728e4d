-- One LAD with its LSOA count and every summary measure of the edition: the computed one
-- (lad_summary_measure) where its value or rank exists, else the published one
-- (lad_published_measure), each field saying its source; a measure neither computed nor
-- published keeps the computed row's reason.
SELECT lad.code, lad.name, lad.vintage, lad.region_code, lad.region_name,
       (SELECT count(*) FROM lsoa WHERE lsoa.lad_vintage = lad.vintage
                                    AND lsoa.lad_code = lad.code) AS lsoa_count,
       coalesce((
           SELECT json_agg(json_build_object(
                      'domain', coalesce(c.domain_code, p.domain_code),
                      'measure', coalesce(c.measure, p.measure),
                      'value', coalesce(c.value, p.value),
                      'source', CASE WHEN c.value IS NOT NULL THEN 'computed'
                                     WHEN p.value IS NOT NULL THEN 'published' END,
                      'rank', coalesce(c.rank, p.rank),
                      'rank_source', CASE WHEN c.rank IS NOT NULL THEN 'computed'
                                          WHEN p.rank IS NOT NULL THEN 'published' END,
                      'unavailable_reason',
                          CASE WHEN coalesce(c.value, p.value) IS NULL
                               THEN c.unavailable_reason END,
                      'rank_unavailable_reason',
                          CASE WHEN coalesce(c.rank, p.rank) IS NULL
                               THEN c.rank_unavailable_reason END)
                  ORDER BY coalesce(c.sort_order, p.sort_order), coalesce(c.measure, p.measure))
           FROM (SELECT m.domain_code, m.measure, m.value, m.rank, m.unavailable_reason,
                        m.rank_unavailable_reason, d.sort_order
                 FROM lad_summary_measure m
                 JOIN index_domain d ON d.edition_code = m.edition_code
                                    AND d.code = m.domain_code
                 WHERE m.edition_code = %(edition)s AND m.lad_code = lad.code) c
           FULL JOIN (SELECT pm.domain_code, pm.measure, pm.value, pm.rank, pm.sort_order
                      FROM lad_published_measure pm
                      WHERE pm.edition_code = %(edition)s AND pm.lad_code = lad.code) p
                  ON p.domain_code = c.domain_code AND p.measure = c.measure), '[]')
           AS summary_measures
FROM lad
WHERE lad.vintage = %(vintage)s AND lad.code = %(code)s;
