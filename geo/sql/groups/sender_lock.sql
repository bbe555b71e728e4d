-- Serialise one sender's ratings and messages (a transaction-scoped advisory lock on the
-- fingerprint), so that two parallel requests cannot both pass an abuse limit.
SELECT pg_advisory_xact_lock(hashtextextended(%(fingerprint)s, 7));
