-- Write a group's editable fields after a checked edit (the caller holds the row lock); the
-- area is replaced only when a new one is given. The version guard makes a second writer that
-- read the same version update nothing.
UPDATE community_group SET
    name = %(name)s,
    kind = %(kind)s,
    registration_number = %(registration_number)s,
    description = %(description)s,
    meeting_place = %(meeting_place)s,
    how_to_join = %(how_to_join)s,
    website = %(website)s,
    leader_name = %(leader_name)s,
    leader_email = %(leader_email)s,
    leader_phone = %(leader_phone)s,
    leader_address = %(leader_address)s,
    code_of_conduct_version = %(code_of_conduct_version)s,
    code_of_conduct_accepted_on = %(code_of_conduct_accepted_on)s,
    area = coalesce(ST_GeomFromWKB(%(area_wkb)s::bytea, 27700), area),
    area_km2 = %(area_km2)s,
    area_lsoa_codes = %(area_lsoa_codes)s::text[],
    lad_codes = %(lad_codes)s::text[],
    principal_lad_code = %(principal_lad_code)s,
    started_by_organiser_id = %(started_by_organiser_id)s,
    listed = %(listed)s,
    updated_at = now(),
    version = version + 1
WHERE id = %(id)s AND version = %(version)s
RETURNING version;
