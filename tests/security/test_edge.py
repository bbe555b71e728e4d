"""The HTTP edge (app/security.py): security headers, CORS, request ids, logs and secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from app.main import create_app
from app.security import (
    API_POLICY,
    InsecureSettings,
    JsonFormatter,
    RequestIdFilter,
    refuse_default_secrets,
)
from config.settings import DatabaseSettings, SecuritySettings
from tests.security.conftest import AREA, Cast, Served, draft
from tests.utils.service import service_settings

HTML_PAGES = [
    "/?f=html",
    "/conformance?f=html",
    "/collections?f=html",
    "/collections/lsoa-iod2025?f=html",
    "/collections/lsoa-iod2025/queryables?f=html",
    "/collections/lsoa-iod2025/items?f=html&limit=3",
    f"/collections/lsoa-iod2025/items/{AREA}?f=html",
]
EVIL = "https://evil.example"
TRUSTED = "https://grants.example.org"
_INLINE = re.compile(r"<(script|style)(\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_page_allowed(html: str, policy: str) -> None:
    """Every inline script and style of the page is allowed by its policy, nothing else is."""
    rules = directives(policy)
    for kind, attributes, text in _INLINE.findall(html):
        attributes = attributes or ""
        if kind == "script" and "src=" in attributes:
            source = re.search(r'src="([^"]+)"', attributes)
            assert source is not None
            url = source.group(1)
            allowed = rules["script-src"]
            assert url.startswith("/") or any(url.startswith(a) for a in allowed if "://" in a)
            continue
        allowed = rules[f"{kind}-src"]
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert (
            csp_hash(text) in allowed
            or "'unsafe-inline'" in allowed
            or (nonce and f"'nonce-{nonce.group(1)}'" in allowed)
        ), f"inline {kind} not allowed by {policy!r}"
    assert "'unsafe-inline'" not in rules.get("script-src", [])
    assert "'unsafe-eval'" not in policy


# ---------------------------------------------------------------------------------------------
# Security headers


def test_every_kind_of_answer_carries_the_security_headers(client: TestClient, cast: Cast) -> None:
    tile = "/collections/lsoa-iod2025/tiles/WebMercatorQuad/6/20/31"
    for url, headers in [
        ("/health", {}),
        ("/collections/lsoa-iod2025/items?limit=1", {}),
        (tile, {}),
        ("/grants/360giving.csv", {}),
        ("/areas/E01999999", {}),  # a problem
        ("/applications/1", cast.headers("owner")),  # private: never stored by caches
        ("/openapi.json", {}),
    ]:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, url
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["referrer-policy"] == "no-referrer", url
        assert response.headers["x-frame-options"] == "DENY", url
        assert response.headers["content-security-policy"] == API_POLICY, url
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), url
        if headers:
            assert response.headers["cache-control"] == "no-store", url
    # A tile keeps its own caching; over HTTPS every answer pins HTTPS.
    assert "public" in client.get(tile).headers["cache-control"]
    secure = client.get("https://testserver/health")
    assert secure.headers["strict-transport-security"].startswith("max-age=")


def test_html_pages_allow_exactly_their_own_inline_styles(client: TestClient) -> None:
    for url in HTML_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/html"), url
        policy = response.headers["content-security-policy"]
        rules = directives(policy)
        assert rules["default-src"] == ["'self'"] and rules["frame-ancestors"] == ["'none'"]
        assert [s for s in rules["script-src"] if not s.startswith("'nonce-")] == ["'self'"]
        assert_page_allowed(response.text, policy)
    # A fresh nonce each time (scripts a template adds must carry request.state.csp_nonce).
    first, second = (client.get("/?f=html").headers["content-security-policy"] for _ in "ab")
    assert first != second


def test_the_docs_pages_load_their_bundles_and_run_only_their_own_inline_script(
    client: TestClient,
) -> None:
    for url in ("/docs", "/redoc"):
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        policy = response.headers["content-security-policy"]
        assert "https://cdn.jsdelivr.net" in directives(policy)["script-src"]
        assert_page_allowed(response.text, policy)


def test_the_map_pages_keep_the_policy_they_set(client: TestClient) -> None:
    for url in ("/maps/deprivation", "/maps/eligibility"):
        response = client.get(url)
        if response.status_code != 200:
            continue  # a map needs data (e.g. a programme); its own tests cover it
        assert "x-frame-options" not in response.headers  # maps may be embedded
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] != API_POLICY
        assert "frame-ancestors 'none'" not in response.headers["content-security-policy"]


def test_an_unexpected_error_is_a_500_problem_with_the_headers_and_a_logged_request_id(
    settings: DatabaseSettings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(service_settings(settings))

    async def boom() -> None:
        raise RuntimeError("a bug, with a detail that must stay in the logs")

    app.add_api_route("/boom", boom)
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as lenient:
        response = lenient.get("/boom", headers={"X-Request-ID": "bug-report-7"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "bug-report-7"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "detail that must stay" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged and all(getattr(r, "request_id", None) == "bug-report-7" for r in logged)
    access = [r for r in caplog.records if r.name == "platoons.access"]
    assert [(r.status, r.request_id) for r in access] == [(500, "bug-report-7")]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# CORS


@pytest.fixture(scope="module")
def cors_client(settings: DatabaseSettings) -> Iterator[TestClient]:
    """The app with one browser origin allowed to write."""
    app = create_app(service_settings(settings, SecuritySettings(cors_origins=[TRUSTED])))
    with TestClient(app) as test_client:
        yield test_client


def test_any_origin_may_read_public_layers_without_credentials(client: TestClient) -> None:
    response = client.get("/collections", headers={"Origin": EVIL})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        "/collections/lsoa-iod2025/items",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_other_origins_may_not_write_or_send_credentials(
    client: TestClient, cast: Cast, conn: psycopg.Connection
) -> None:
    before = conn.execute("SELECT count(*) FROM grant_application").fetchone()
    for method, headers in (("POST", ["content-type"]), ("GET", ["authorization"])):
        preflight = client.options(
            "/applications",
            headers={
                "Origin": EVIL,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": ",".join(headers),
            },
        )
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
    # A "simple" cross-site POST skips the preflight: it is refused before any route runs.
    refused = client.post(
        "/applications", json=draft(cast), headers={**cast.headers("owner"), "Origin": EVIL}
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert conn.execute("SELECT count(*) FROM grant_application").fetchone() == before
    # Private answers are never shared with another origin.
    private = client.get("/applications/1", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in private.headers


def test_the_service_s_own_pages_and_listed_origins_may_write(
    client: TestClient, cors_client: TestClient, cast: Cast
) -> None:
    same_origin = client.post(
        "/applications",
        json=draft(cast),
        headers={**cast.headers("owner"), "Origin": "http://testserver"},
    )
    assert same_origin.status_code == 201, same_origin.text
    preflight = cors_client.options(
        "/applications",
        headers={
            "Origin": TRUSTED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == TRUSTED
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["vary"] == "Origin"
    created = cors_client.post(
        "/applications", json=draft(cast), headers={**cast.headers("owner"), "Origin": TRUSTED}
    )
    assert created.status_code == 201, created.text
    assert created.headers["access-control-allow-origin"] == TRUSTED
    assert "Location" in created.headers["access-control-expose-headers"]
    url = f"/applications/{created.json()['id']}"
    assert (
        cors_client.get(url, headers={**cast.headers("owner"), "Origin": TRUSTED}).headers[
            "access-control-allow-origin"
        ]
        == TRUSTED
    )
    assert (
        "access-control-allow-origin"
        not in cors_client.get(url, headers={**cast.headers("owner"), "Origin": EVIL}).headers
    )


@pytest.mark.parametrize(
    "origin", ["*", "https://*.example.org", "https://grants.example.org/", "grants.example.org"]
)
def test_a_wildcard_or_malformed_origin_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        SecuritySettings(cors_origins=[origin])


# ---------------------------------------------------------------------------------------------
# Request ids and logs


def test_a_plain_request_id_is_echoed_and_anything_else_replaced(client: TestClient) -> None:
    kept = client.get("/health", headers={"X-Request-ID": "upstream-7f3a:2"})
    assert kept.headers["x-request-id"] == "upstream-7f3a:2"
    for bad in ("has spaces", "x" * 129, 'quote"s', "<script>"):
        replaced = client.get("/health", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), bad
    ids = {client.get("/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_log_lines_are_json_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client.get("/areas/E01999999", headers={"X-Request-ID": "json-line-1"})
    (record,) = [r for r in caplog.records if getattr(r, "request_id", "") == "json-line-1"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == "platoons.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/areas/E01999999", 404)
    assert line["request_id"] == "json-line-1" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


# ---------------------------------------------------------------------------------------------
# Secrets


class _WithSecret(BaseSettings):
    """A settings class that gained a secret (say, a signing key for exports)."""

    signing_key: SecretStr = SecretStr("change-me")


def test_secrets_left_at_their_defaults_stop_the_service_outside_development() -> None:
    default_db = DatabaseSettings.model_construct()  # as if nothing were set
    set_db = DatabaseSettings(database_url="postgresql://app:pw@db.internal/platoons")  # type: ignore[call-arg]
    refuse_default_secrets("development", default_db, _WithSecret())  # developing: fine
    with pytest.raises(InsecureSettings, match="PLATOONS_DATABASE_URL"):
        refuse_default_secrets("production", default_db)
    with pytest.raises(InsecureSettings, match="PLATOONS_SIGNING_KEY"):
        refuse_default_secrets("production", set_db, _WithSecret())
    refuse_default_secrets(
        "production", set_db, _WithSecret(signing_key=SecretStr("s3cr3t-from-vault"))
    )
    with pytest.raises(InsecureSettings):
        refuse_default_secrets("staging", set_db, _WithSecret(signing_key=SecretStr("")))


def test_platoons_serve_refuses_to_start_in_production_with_default_secrets() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PLATOONS_DATABASE_URL")
    }
    env |= {"PLATOONS_ENVIRONMENT": "production", "PLATOONS_PORT": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "InsecureSettings" in result.stderr and "PLATOONS_DATABASE_URL" in result.stderr


def test_the_live_server_answers_with_the_headers_over_real_http(logged_server: Served) -> None:
    response = httpx.get(f"{logged_server.url}/health", headers={"Origin": EVIL})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == "*"
