-- Lock a programme's row for the rest of the transaction: approvals of the same programme
-- queue here, so each sees the money committed by those before it.
SELECT id, budget, committed, currency
FROM grant_programme
WHERE id = %(id)s
FOR UPDATE;
