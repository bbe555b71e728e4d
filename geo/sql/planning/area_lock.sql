-- Lock one area's row for a write (forums, plans and receipts of the area queue on it).
SELECT id FROM neighbourhood_area WHERE id = %(id)s FOR UPDATE;
