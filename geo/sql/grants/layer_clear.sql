DELETE FROM programme_lsoa_eligibility WHERE programme_id = %(programme)s;
