-- The asset with this reference, locked for an import to compare its row with.
SELECT a.id
FROM asset a
WHERE a.reference = %(reference)s
FOR UPDATE;
