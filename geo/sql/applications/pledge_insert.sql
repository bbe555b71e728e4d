-- One matched-funding pledge of an application (the evidence reference is private).
INSERT INTO match_pledge (application_id, source_name, source_type, amount, evidence_reference)
VALUES (%(application_id)s, %(source_name)s, %(source_type)s, %(amount)s, %(evidence_reference)s);
