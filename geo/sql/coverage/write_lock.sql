-- Serialise everything that writes coverage: a national recompute, a load, the synthetic
-- generator, and each write to a group or organiser (a transaction-scoped advisory lock, held
-- to commit or rollback; taken again in the same transaction it is a no-op). Without it a
-- national recompute running beside group writes deadlocked or failed on a piece the write had
-- just stored, since both write the same pieces, LSOAs, H3 cells and group listings in no
-- common order. Take it first, before the transaction writes or locks any row, so that nobody
-- holds a row another holder of this lock waits for. Key: hashtextextended('platoons
-- coverage', 0), named here once.
SELECT pg_advisory_xact_lock(hashtextextended('platoons coverage', 0));
