-- Grant money placed on areas, for the need queries that follow it: other funders' grants
-- imported from 360Giving files ('imported') and Platoons' own approved and paid grants
-- ('platoons'), in pounds (GBP only), awarded in the date range. LSOA money is carried onto
-- the edition's LSOA generation (through the 2011-2021 lookup where the generations differ)
-- and split between several LSOAs (a drawn area's qualifying LSOAs, or a split LSOA) by
-- residents; ward and district money stays at its level.
WITH ed AS (
    SELECT code, lsoa_vintage FROM index_edition WHERE code = %(edition)s
),
placed AS (
    SELECT 'imported'::text AS source, g.import_id::text || ':' || g.grant_id AS grant_key,
           g.amount_awarded AS amount, g.placed_level AS level, g.placed_code AS code,
           g.placed_vintage AS vintage
    FROM imported_grant g
    WHERE g.currency = 'GBP' AND g.placed_code IS NOT NULL
      AND (%(from_date)s::date IS NULL OR g.award_date >= %(from_date)s::date)
      AND (%(to_date)s::date IS NULL OR g.award_date <= %(to_date)s::date)
    UNION ALL
    SELECT 'platoons', 'platoons:' || a.id, a.amount,
           CASE WHEN q.code IS NOT NULL OR a.area_code LIKE 'E01%%' THEN 'lsoa'
                WHEN a.area_code LIKE 'E05%%' THEN 'ward' ELSE 'lad' END,
           coalesce(q.code, a.area_code, a.eligibility ->> 'principal_lad'),
           CASE WHEN q.code IS NOT NULL OR a.area_code LIKE 'E01%%' THEN e.lsoa_vintage
                WHEN a.area_code LIKE 'E05%%' THEN e.ward_vintage ELSE e.lad_vintage END
    FROM grant_application a
    JOIN grant_programme p ON p.id = a.programme_id
    JOIN index_edition e ON e.code = p.edition_code
    -- A drawn area's money goes to the LSOAs that qualified, not to its whole district.
    LEFT JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN a.area IS NOT NULL THEN a.eligibility -> 'answer' -> 'qualifying_lsoas' END
    ) AS q (code) ON true
    WHERE a.status IN ('approved', 'paid') AND p.currency = 'GBP'
      AND (%(from_date)s::date IS NULL OR a.decided_at::date >= %(from_date)s::date)
      AND (%(to_date)s::date IS NULL OR a.decided_at::date <= %(to_date)s::date)
),
lsoa_rows AS (
    SELECT p.source, p.grant_key, p.amount, m.lsoa
    FROM placed p
    CROSS JOIN ed
    CROSS JOIN LATERAL (
        SELECT p.code WHERE p.vintage = ed.lsoa_vintage
        UNION ALL
        SELECT l.lsoa21_code FROM lsoa_2011_2021 l
        WHERE p.vintage = 2011 AND ed.lsoa_vintage = 2021 AND l.lsoa11_code = p.code
        UNION ALL
        SELECT l.lsoa11_code FROM lsoa_2011_2021 l
        WHERE p.vintage = 2021 AND ed.lsoa_vintage = 2011 AND l.lsoa21_code = p.code
    ) AS m (lsoa)
    WHERE p.level = 'lsoa'
),
lsoa_money AS (
    SELECT r.source, r.grant_key, r.lsoa AS lsoa_code, d.lad_code, d.imd_decile AS decile,
           r.amount * p.residents::numeric / nullif(
               sum(p.residents::numeric) OVER (PARTITION BY r.source, r.grant_key), 0) AS amount
    FROM lsoa_rows r
    JOIN lsoa_deprivation d ON d.edition_code = %(edition)s AND d.code = r.lsoa
    JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code
),
area_money AS (
    SELECT p.source, p.grant_key, p.amount, p.level,
           CASE WHEN p.level = 'ward' THEN w.lad_code ELSE p.code END AS lad_code
    FROM placed p
    LEFT JOIN ward w ON p.level = 'ward' AND w.vintage = p.vintage AND w.code = p.code
    WHERE p.level IN ('ward', 'lad')
)
