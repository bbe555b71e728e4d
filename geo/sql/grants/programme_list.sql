SELECT * FROM grant_programme
WHERE %(open_on)s::date IS NULL OR %(open_on)s::date BETWEEN opens_on AND closes_on
ORDER BY id;
