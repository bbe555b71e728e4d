-- Store the pieces of coverage/cut.sql (inserted below) in the pieces table (group_lsoa or
-- organiser_lsoa, fixed fragments): the write of one group or organiser.
INSERT INTO {pieces} ({owner}, lsoa_code, piece)
{cut}
