"""Read the SQL files that live next to the code that runs them."""

from functools import cache
from importlib.resources import files


@cache
def read_sql(package: str, name: str) -> str:
    """Return the text of ``<package>/sql/<name>``, read once per process.

    ``name`` is ``<concern>/<file>.sql``: each concern's SQL lives in a sub-folder of its own.
    """
    return files(package).joinpath("sql", *name.split("/")).read_text(encoding="utf-8")
