-- District measures both computed (lad_summary_measure) and published (lad_published_measure)
-- that differ by more than the published rounding allows (a tolerance per measure).
SELECT c.lad_code, c.domain_code, c.measure, c.value AS computed, p.value AS published
FROM lad_summary_measure c
JOIN lad_published_measure p
  ON p.edition_code = c.edition_code AND p.lad_code = c.lad_code
 AND p.domain_code = c.domain_code AND p.measure = c.measure
JOIN unnest(%(measures)s::text[], %(tolerances)s::float8[]) AS t(measure, tolerance)
  ON t.measure = c.measure
WHERE c.edition_code = %(edition)s
  AND c.value IS NOT NULL
  AND abs(c.value - p.value) > t.tolerance
ORDER BY c.lad_code, c.domain_code, c.measure;
