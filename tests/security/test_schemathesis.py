"""Schemathesis against the service's own OpenAPI document, over real HTTP.

Every operation gets schema-valid requests (as a group manager, so writes get past
authentication into validation) and schema-breaking ones (anonymous). No answer may be a 5xx,
and every answer must match what the document says: status, media type, body schema,
headers. Every path is also asked with a method it does not have, which must be a 405 naming
the allowed ones. Bounded (a few examples per operation) to stay well under a minute.

Schemathesis' pytest parametrisation builds every strategy while collecting (20 s here), so
the operations are driven from one test with Hypothesis directly.
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from app.main import create_app
from tests.security.conftest import Cast, Served

POSITIVE_EXAMPLES = 20
NEGATIVE_EXAMPLES = 10
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


def _run(
    operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], base: str
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure reproduces
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)

    call()


def test_generated_requests_get_no_5xx_and_answers_match_the_document(
    logged_server: Served, cast: Cast
) -> None:
    document = create_app().openapi()
    schema = schemathesis.openapi.from_dict(document)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode, examples, who in (
            (GenerationMode.POSITIVE, POSITIVE_EXAMPLES, "owner"),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, "anonymous"),
        ):
            try:
                _run(operation, mode, examples, cast.headers(who), logged_server.url)
            except Unsatisfiable:
                continue  # nothing can break the schema of an operation without inputs
            except Exception as exc:  # noqa: BLE001 - every operation's failures are reported
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)


def test_a_method_a_path_does_not_have_is_a_405_naming_the_allowed_ones(
    logged_server: Served,
) -> None:
    document = create_app().openapi()
    with httpx.Client(base_url=logged_server.url, timeout=30) as http:
        for path, operations in document["paths"].items():
            url = path.replace("{", "").replace("}", "")  # any segment will do
            allowed = {m.upper() for m in operations}
            for method in sorted({"DELETE", "PATCH", "PUT", "TRACE"} - allowed):
                response = http.request(method, url)
                if response.status_code == 404:
                    continue  # a literal placeholder that names nothing (e.g. a tile)
                assert response.status_code == 405, (method, path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                # Starlette names the methods of the first route with the path only (GET
                # /eligibility, not POST too): a subset of the path's, never empty.
                named = set(response.headers["allow"].replace(" ", "").split(","))
                assert named and named <= allowed | {"HEAD"}, (method, path, named)
