SELECT lad_code, domain_code, measure, value, rank
FROM lad_summary_measure
WHERE edition_code = %(edition)s;
