-- The 360Giving files the imported grants came from: file, publisher, licence as the file
-- states it (a summary-table CSV states none), funders, and grants (what a map credits).
SELECT i.source_name, i.publisher_name, i.licence,
       array_agg(DISTINCT g.funding_org_name ORDER BY g.funding_org_name) AS funders,
       count(*) AS grants
FROM grant_import i
JOIN imported_grant g ON g.import_id = i.id
GROUP BY i.id, i.source_name, i.publisher_name, i.licence
ORDER BY i.source_name;
