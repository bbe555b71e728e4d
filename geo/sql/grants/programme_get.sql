SELECT * FROM grant_programme WHERE id = %(id)s
