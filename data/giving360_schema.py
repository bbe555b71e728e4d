"""Validate 360Giving data against the official schemas, offline, with format checking on.

The schemas (1.4.x, JSON Schema draft 2020-12) are vendored in ``data/schemas/360giving/``
(CC BY 4.0, 360Giving). The package schema refers to the grant schema by a ``1.4.2`` address
while the grant schema calls itself ``1.4.3``; both addresses resolve to the local file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(str(files("data").joinpath("schemas", "360giving")))
GRANT_SCHEMA_REF = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/"
    "360-giving-schema.json"
)


@dataclass(frozen=True)
class SchemaProblem:
    """One way a grant (or the package) fails the schema: which grant, which field, why."""

    grant_index: int | None
    grant_id: str | None
    field: str
    message: str

    def describe(self, row_offset: int | None = None) -> str:
        """A line naming the grant (and its CSV line, if read from one), field and reason."""
        if self.grant_index is None:
            return f"package: {self.field or '(top level)'}: {self.message}"
        where = f"grant {self.grant_id or '(no id)'}"
        if row_offset is not None:
            where += f" (line {self.grant_index + row_offset})"
        else:
            where += f" (grants[{self.grant_index}])"
        return f"{where}: {self.field or '(grant)'}: {self.message}"


def _schema(name: str) -> dict[str, Any]:
    """A vendored schema file."""
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def package_validator() -> Draft202012Validator:
    """A validator of 360Giving data packages (grant schema resolved locally, formats checked)."""
    grant = _schema("360-giving-schema.json")
    # The schemas name their dialect "http://json-schema.org/draft/2020-12/schema" (http, not
    # the canonical https), which cannot be detected: say it is draft 2020-12.
    resource = DRAFT202012.create_resource(grant)
    registry: Registry = Registry().with_resources(
        [(GRANT_SCHEMA_REF, resource), (grant["$id"], resource)]
    )
    return Draft202012Validator(
        _schema("360-giving-package-schema.json"),
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _required_missing(error: ValidationError) -> str | None:
    """For a ``oneOf`` of required-field sets, the fields missing from the closest set."""
    if error.validator != "oneOf" or not error.context:
        return None
    missing_by_branch: dict[int, list[str]] = {}
    for sub in error.context:
        if sub.validator == "required":
            branch = sub.relative_schema_path[0]
            missing_by_branch.setdefault(int(branch), []).append(sub.message)
    if not missing_by_branch:
        return None
    fewest = min(missing_by_branch.values(), key=len)
    return "; ".join(fewest)


def package_problems(package: Any) -> list[SchemaProblem]:
    """Every way a package fails the official schemas, by grant and field, in document order."""
    problems = []
    grants = package.get("grants") if isinstance(package, dict) else None
    for error in package_validator().iter_errors(package):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "grants" and isinstance(path[1], int):
            index = path[1]
            grant = grants[index] if isinstance(grants, list) else {}
            grant_id = grant.get("id") if isinstance(grant, dict) else None
            field = "/".join(str(p) for p in path[2:])
            message = _required_missing(error) or error.message
            problems.append(SchemaProblem(index, grant_id, field, message))
        else:
            field = "/".join(str(p) for p in path)
            problems.append(SchemaProblem(None, None, field, error.message))
    problems.sort(key=lambda p: (-1 if p.grant_index is None else p.grant_index, p.field))
    return problems
