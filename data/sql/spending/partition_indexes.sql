-- A filled partition's indexes, built once each; the same definitions as spending_line's own
-- (data/migrations/versions/0019_spending_speed.py), so ATTACH PARTITION takes them as its.
ALTER TABLE {partition} ADD PRIMARY KEY (file_id, line_number);
CREATE INDEX ON {partition} (payment_date DESC, id DESC) INCLUDE (amount);
CREATE INDEX ON {partition} (beneficiary_key text_pattern_ops);
CREATE INDEX ON {partition} (service);
