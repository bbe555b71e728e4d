INSERT INTO index_domain (edition_code, code, title, kind, population_base, sort_order)
VALUES (%(edition_code)s, %(code)s, %(title)s, %(kind)s, %(population_base)s, %(sort_order)s)
ON CONFLICT (edition_code, code) DO UPDATE SET
    title = EXCLUDED.title, kind = EXCLUDED.kind, population_base = EXCLUDED.population_base,
    sort_order = EXCLUDED.sort_order;
