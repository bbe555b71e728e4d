-- The levy receipts of an area, oldest first.
SELECT r.id, r.development, r.amount, r.received_on, r.plan_in_effect, r.notes
FROM levy_receipt r
WHERE r.area_id = %(area_id)s
ORDER BY r.received_on, r.id;
