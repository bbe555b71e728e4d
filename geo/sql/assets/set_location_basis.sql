-- Say how a newly imported asset's point was found (migration 0017).
UPDATE asset SET location_basis = %(location_basis)s WHERE id = %(id)s;
