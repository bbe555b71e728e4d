-- Serialise designations of neighbourhood areas (held to the end of the transaction): the
-- overlap check and the designation it allows are then atomic, so two designations racing
-- cannot both pass the check (s.61G(7)).
SELECT pg_advisory_xact_lock(hashtext('platoons.neighbourhood_area.designation'));
