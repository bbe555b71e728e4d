-- Replace every piece in the pieces table (group_lsoa or organiser_lsoa, fixed fragments) by
-- the national cut staged by coverage_cut_stage.sql.
DELETE FROM {pieces};
INSERT INTO {pieces} ({owner}, lsoa_code, piece)
SELECT owner_id, lsoa_code, piece FROM coverage_cut;
DROP TABLE coverage_cut;
