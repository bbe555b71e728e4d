-- Insert a programme, or update it keeping its committed money; refuse (no row) a budget
-- below what is already committed.
INSERT INTO grant_programme AS p (
    id, name, description, funder_name, funder_id, currency, budget, opens_on, closes_on,
    edition_code, geography_level, rule, min_population_share, award_min, award_max,
    match_ratio, match_source_types, is_example)
VALUES (
    %(id)s, %(name)s, %(description)s, %(funder_name)s, %(funder_id)s, %(currency)s, %(budget)s,
    %(opens_on)s, %(closes_on)s, %(edition_code)s, %(geography_level)s, %(rule)s,
    %(min_population_share)s, %(award_min)s, %(award_max)s, %(match_ratio)s,
    %(match_source_types)s, %(is_example)s)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, description = EXCLUDED.description,
    funder_name = EXCLUDED.funder_name, funder_id = EXCLUDED.funder_id,
    currency = EXCLUDED.currency, budget = EXCLUDED.budget, opens_on = EXCLUDED.opens_on,
    closes_on = EXCLUDED.closes_on, edition_code = EXCLUDED.edition_code,
    geography_level = EXCLUDED.geography_level, rule = EXCLUDED.rule,
    min_population_share = EXCLUDED.min_population_share, award_min = EXCLUDED.award_min,
    award_max = EXCLUDED.award_max, match_ratio = EXCLUDED.match_ratio,
    match_source_types = EXCLUDED.match_source_types, is_example = EXCLUDED.is_example,
    updated_at = now(), version = p.version + 1
WHERE p.committed <= EXCLUDED.budget
RETURNING p.*;
