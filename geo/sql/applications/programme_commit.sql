-- Commit an approved amount to its programme (under the row lock taken before). The table's
-- CHECK (committed <= budget) refuses an overspend even if a caller skipped the lock.
UPDATE grant_programme
SET committed = committed + %(amount)s, updated_at = now()
WHERE id = %(id)s
RETURNING committed, budget;
