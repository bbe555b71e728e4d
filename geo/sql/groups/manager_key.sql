-- An API key's role and whether it is live (never its secret or hash).
SELECT id, role, revoked_at IS NULL AS live
FROM api_key
WHERE id = %(key_id)s;
