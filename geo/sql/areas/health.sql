SELECT postgis_lib_version() AS postgis_version,
       (SELECT version FROM data_version WHERE id = 1) AS data_version,
       coalesce((
           SELECT json_agg(json_build_object(
                      'code', e.code, 'national_lsoa_count', e.national_lsoa_count,
                      'lsoas_loaded', (SELECT count(*) FROM lsoa_index_value v
                                       WHERE v.edition_code = e.code AND v.domain_code = 'imd'))
                  ORDER BY e.code)
           FROM index_edition e), '[]') AS editions;
