-- Register a group; its reference ("NG-" and the zero-padded id) is allocated from the identity
-- in the same statement, so it is never reused and never half-written.
WITH new_id AS (
    SELECT nextval(pg_get_serial_sequence('community_group', 'id')) AS id
)
INSERT INTO community_group (
    id, reference, name, kind, registration_number, description, meeting_place, how_to_join,
    website, leader_name, leader_email, leader_phone, leader_address, code_of_conduct_version,
    code_of_conduct_accepted_on, area, area_km2, area_lsoa_codes, lad_codes, principal_lad_code,
    started_by_organiser_id, listed, created_by
)
SELECT new_id.id, 'NG-' || lpad(new_id.id::text, 6, '0'), %(name)s, %(kind)s,
       %(registration_number)s, %(description)s, %(meeting_place)s, %(how_to_join)s, %(website)s,
       %(leader_name)s, %(leader_email)s, %(leader_phone)s, %(leader_address)s,
       %(code_of_conduct_version)s, %(code_of_conduct_accepted_on)s,
       ST_GeomFromWKB(%(area_wkb)s::bytea, 27700), %(area_km2)s, %(area_lsoa_codes)s::text[],
       %(lad_codes)s::text[], %(principal_lad_code)s, %(started_by_organiser_id)s, %(listed)s,
       %(actor)s
FROM new_id
RETURNING id, reference;
