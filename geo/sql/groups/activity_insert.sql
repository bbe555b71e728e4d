-- Record one meeting, project or event of a group.
INSERT INTO group_activity (group_id, kind, held_on, title, description, attendance, recorded_by)
VALUES (%(group_id)s, %(kind)s, %(held_on)s, %(title)s, %(description)s, %(attendance)s,
        %(actor)s)
RETURNING id, kind, held_on, title, description, attendance, recorded_by, at;
