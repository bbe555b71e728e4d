-- areas/lsoa_profile.sql's `wanted` row for an LSOA named by its code, in an edition's
-- geography (the edition already read).
SELECT %(code)s::text AS code, %(vintage)s::integer AS vintage, %(edition)s::text AS edition,
       NULL::json AS edition_ref
