"""The HTTP edge's defences: request ids and logs, security headers, CORS and body limits.

Pure ASGI middleware (streamed bodies pass through untouched), installed by :func:`install`
from the composition root. From the outside in:

1. :class:`EdgeMiddleware` gives every request an id (a well-formed incoming ``X-Request-ID``
   or a new one), echoes it, writes one structured access line, adds the security headers
   (nosniff, no referrer, a Content-Security-Policy per kind of response) and turns an
   exception that escaped every handler into a 500 problem that still carries them.
2. :class:`CorsMiddleware` answers browsers deliberately: the origins listed in
   ``PLATOONS_CORS_ORIGINS`` and the service's own pages may do anything; any origin may read
   public layers without credentials (``*``); any other cross-origin write is refused with 403
   before it reaches a route.
3. :class:`BodySizeLimitMiddleware` refuses a body larger than ``max_body_bytes`` with 413: by
   its declared length before reading it, or by counting a chunked body as it arrives.

The security settings hold no secret. :func:`refuse_default_secrets` stops the service from
starting outside ``environment=development`` while a secret setting (any ``SecretStr``) or the
database URL (which carries the database password) is left at its built-in default.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, TextIO
from urllib.parse import urlsplit

from fastapi import FastAPI
from pydantic import SecretStr
from pydantic_settings import BaseSettings
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import problem
from config.settings import DatabaseSettings, SecuritySettings

access_logger = logging.getLogger("platoons.access")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain (it is echoed and logged verbatim).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_id_var: ContextVar[str | None] = ContextVar("platoons_request_id", default=None)

# Content-Security-Policy (CSP Level 3). JSON, tiles and CSV need nothing from a browser.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's /docs (Swagger UI) and /redoc pages load their bundles from jsDelivr and start them
# with one inline script, whose hash is allowed; their widgets inject styles at run time.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net {script_hashes}; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
_INLINE = re.compile(rb"<(script|style)(\s[^>]*)?>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)

# Paths whose data is private: never shared with an origin that is not listed.
PRIVATE_PREFIXES = ("/applications",)
PUBLIC_REQUEST_HEADERS = ("accept", "accept-language", "content-language", "if-none-match")
WRITE_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "x-api-key",
    "x-request-id",
)
EXPOSED_HEADERS = "ETag, Location, Retry-After, X-Request-ID, Content-Crs, Content-Disposition"
PREFLIGHT_MAX_AGE = "600"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---------------------------------------------------------------------------------------------
# Secrets


class InsecureSettings(RuntimeError):
    """A secret setting is left at its default outside development: the service must not start."""


def refuse_default_secrets(environment: str, *settings: BaseSettings) -> None:
    """Raise :class:`InsecureSettings` if a secret is left at its default (unless developing).

    Secrets are the ``SecretStr`` fields of the given settings and, of
    :class:`~config.settings.DatabaseSettings`, the database URL (it carries the password; its
    default is a password-less local superuser).
    """
    if environment == "development":
        return
    unset: list[str] = []
    for item in settings:
        for name, field in type(item).model_fields.items():
            value = getattr(item, name)
            secret = isinstance(value, SecretStr) or "SecretStr" in str(field.annotation)
            if secret and (
                name not in item.model_fields_set
                or not isinstance(value, SecretStr)
                or not value.get_secret_value()
            ):
                unset.append(f"PLATOONS_{name.upper()}")
        if isinstance(item, DatabaseSettings) and "database_url" not in item.model_fields_set:
            unset.append("PLATOONS_DATABASE_URL (or DATABASE_URL)")
    if unset:
        raise InsecureSettings(
            f"environment is {environment!r}, but these secrets are left at their defaults: "
            f"{', '.join(unset)}; set them (or PLATOONS_ENVIRONMENT=development)"
        )


# ---------------------------------------------------------------------------------------------
# Structured logs


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request it was logged in (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``record.request_id``; never drops a record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, access fields."""

    FIELDS = ("method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Write to whatever ``sys.stderr`` is now (test runners swap it between tests)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """Ignore: the stream is always the current standard error."""


def configure_logging(settings: SecuritySettings) -> None:
    """Give the ``platoons`` loggers one stderr handler with request ids (idempotent)."""
    logger = logging.getLogger("platoons")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
    handler.setFormatter(
        JsonFormatter()
        if settings.log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


# ---------------------------------------------------------------------------------------------
# Security headers


def _csp_hash(text: bytes) -> str:
    """A CSP source expression allowing exactly one inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def template_style_hashes() -> tuple[str, ...]:
    """The hashes of the static inline ``<style>`` blocks of the HTML templates.

    Blocks with template expressions are left out: what they render to is not known here, so
    they would be refused (use the request's nonce, ``request.state.csp_nonce``, instead).
    """
    hashes: set[str] = set()
    for template in files("app").joinpath("templates").iterdir():
        if not template.name.endswith(".html"):
            continue
        for kind, _attrs, text in _INLINE.findall(template.read_bytes()):
            if kind.lower() == b"style" and b"{{" not in text and b"{%" not in text:
                hashes.add(_csp_hash(text))
    return tuple(sorted(hashes))


def page_policy(nonce: str, style_hashes: tuple[str, ...]) -> str:
    """The CSP of the service's own HTML pages: only 'self', the request's nonce and hashes."""
    styles = " ".join(style_hashes)
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}' {styles}; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """The hashes of a page's inline scripts (those without ``src``)."""
    return tuple(
        _csp_hash(text)
        for kind, attrs, text in _INLINE.findall(html)
        if kind.lower() == b"script" and b"src=" not in (attrs or b"").lower()
    )


def _under(path: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    """Whether a path is one of the prefixes or below one (segment-wise)."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class EdgeMiddleware:
    """Request ids, the access log, security headers, and a 500 that keeps them."""

    def __init__(
        self,
        app: ASGIApp,
        settings: SecuritySettings,
        docs_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.settings = settings
        self.docs_paths = docs_paths
        self.style_hashes = template_style_hashes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with an id, the headers and an access line."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Kept for the rest of the task: the error handler that logs a 500 runs after us.
        request_id_var.set(request_id)
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        scope["state"]["request_id"] = request_id
        path: str = scope["path"]
        credentials = "authorization" in headers or "x-api-key" in headers
        buffer_docs = path in self.docs_paths
        if buffer_docs:
            # Uncompressed, so that the policy can hash the page's inline script as sent.
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        status = 500
        started = False
        held: Message | None = None
        held_body: list[bytes] = []
        start = time.perf_counter()

        def decorate(message: Message, body: bytes | None) -> None:
            """Add the request id and the security headers to a response start."""
            out = MutableHeaders(scope=message)
            out[REQUEST_ID_HEADER] = request_id
            out.setdefault("X-Content-Type-Options", "nosniff")
            out.setdefault("Referrer-Policy", "no-referrer")
            if credentials:
                out.setdefault("Cache-Control", "no-store")
            if scope.get("scheme") == "https":
                out.setdefault("Strict-Transport-Security", "max-age=31536000")
            if _under(path, self.settings.csp_exempt_prefixes):
                return  # those pages set their own policy (and may be embedded)
            out.setdefault("X-Frame-Options", "DENY")
            if "content-security-policy" in out:
                return
            media_type = out.get("content-type", "").partition(";")[0].strip().lower()
            if media_type != "text/html":
                out["Content-Security-Policy"] = API_POLICY
            elif body is not None:
                out["Content-Security-Policy"] = DOCS_POLICY.format(
                    script_hashes=" ".join(inline_script_hashes(body))
                )
            else:
                out["Content-Security-Policy"] = page_policy(nonce, self.style_hashes)

        async def send_decorated(message: Message) -> None:
            nonlocal status, started, held
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                if buffer_docs:
                    held = message  # the docs pages' policy hashes their inline script
                    return
                decorate(message, None)
            elif held is not None and message["type"] == "http.response.body":
                held_body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(held_body)
                decorate(held, body)
                await send(held)
                held = None
                message = {"type": "http.response.body", "body": body}
            await send(message)

        try:
            await self.app(scope, receive, send_decorated)
        except Exception:
            if not started:
                # The same body as app.problems' handler, with our headers (it runs outside us).
                response = problem(
                    500, "Internal error", "an unexpected error occurred; it has been logged"
                )
                await response(scope, receive, send_decorated)
            status = 500
            raise
        finally:
            if self.settings.access_log:
                client = scope.get("client")
                access_logger.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "path": path,  # never the query string: it may hold a postcode
                        "status": status,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                        "client": client[0] if client else None,
                        "request_id": request_id,
                    },
                )


# ---------------------------------------------------------------------------------------------
# CORS


def _origin_netloc(origin: str) -> str:
    """The host[:port] of an Origin header value (empty if it is not an origin)."""
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return ""


class CorsMiddleware:
    """Cross-origin rules, decided once for every route (Fetch standard, CORS protocol).

    - Listed origins (``cors_origins``) and the service's own origin: every method, with
      credentials headers (``Authorization``, ``X-API-Key``) and ``If-Match``.
    - Any origin, when ``cors_public_read``: GET/HEAD of public paths without credentials,
      answered with ``Access-Control-Allow-Origin: *``.
    - Anything else from a browser on another origin: preflights and writes get 403.
    """

    def __init__(self, app: ASGIApp, settings: SecuritySettings) -> None:
        self.app = app
        self.allowed = frozenset(settings.cors_origins)
        self.public_read = settings.cors_public_read

    def _trusted(self, origin: str, headers: Headers) -> bool:
        """A listed origin, or the service's own (the Host the browser reached)."""
        if origin.lower() in self.allowed:
            return True
        netloc = _origin_netloc(origin)
        return bool(netloc) and netloc == headers.get("host", "").lower()

    def _public(self, path: str) -> bool:
        return self.public_read and not _under(path, PRIVATE_PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer preflights, refuse foreign writes, label responses."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method: str = scope["method"]
        path: str = scope["path"]
        origin = headers.get("origin")
        public = self._public(path)
        if origin is None:
            await self.app(scope, receive, self._labelled(send, None, public, method))
            return
        trusted = self._trusted(origin, headers)
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, origin, trusted, public, headers)
            return
        if not trusted and method not in _SAFE_METHODS:
            response = problem(
                403,
                "Cross-origin request refused",
                f"writes from origin {origin!r} are not allowed; the service's operators list "
                "the origins that may write in PLATOONS_CORS_ORIGINS",
            )
            response.headers["Vary"] = "Origin"
            await response(scope, receive, send)
            return
        await self.app(
            scope, receive, self._labelled(send, origin if trusted else None, public, method)
        )

    def _labelled(self, send: Send, origin: str | None, public: bool, method: str) -> Send:
        """Wrap ``send`` to add the CORS response headers."""

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if origin is not None:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                    out.add_vary_header("Origin")
                elif public and method in ("GET", "HEAD"):
                    out["Access-Control-Allow-Origin"] = "*"
                    out["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                elif self.allowed:
                    out.add_vary_header("Origin")
            await send(message)

        return send_labelled

    async def _preflight(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        origin: str,
        trusted: bool,
        public: bool,
        headers: Headers,
    ) -> None:
        """Answer an OPTIONS preflight: 204 with the grant, or 403."""
        requested = headers["access-control-request-method"].strip().upper()
        asked = {
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        }
        grant: dict[str, str] | None = None
        response: Response
        if trusted:
            grant = {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
                "Access-Control-Allow-Headers": ", ".join(WRITE_REQUEST_HEADERS),
                "Vary": "Origin",
            }
        elif public and requested in ("GET", "HEAD") and asked <= set(PUBLIC_REQUEST_HEADERS):
            grant = {
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, HEAD",
                "Access-Control-Allow-Headers": ", ".join(PUBLIC_REQUEST_HEADERS),
            }
        if grant is None:
            response = problem(
                403,
                "Cross-origin request refused",
                f"origin {origin!r} may not {requested} {scope['path']}"
                + (f" with headers {sorted(asked)}" if asked else ""),
            )
            response.headers["Vary"] = "Origin"
        else:
            response = Response(
                status_code=204, headers={**grant, "Access-Control-Max-Age": PREFLIGHT_MAX_AGE}
            )
        await response(scope, receive, send)


# ---------------------------------------------------------------------------------------------
# Body size


class RequestTooLarge(HTTPException):
    """A body grew past the limit while it was read (FastAPI passes HTTP exceptions on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (RFC 9110, 15.5.14)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await problem(400, "Invalid request", "Content-Length is not a number")(
                    scope, receive, send
                )
                return
            if int(declared) > self.max_bytes:
                await problem(
                    413,
                    "Content too large",
                    f"the request body is {int(declared):,} bytes; at most "
                    f"{self.max_bytes:,} are accepted",
                )(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class HeadMiddleware:
    """Answer HEAD as GET without the body (RFC 9110, 9.3.2): same status and headers.

    FastAPI routes declare GET only; map clients and caches probe tiles and documents with
    HEAD (the ETag, the length) and would otherwise get 405.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request as GET and send only the response's start."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def without_body(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


# ---------------------------------------------------------------------------------------------
# Installation


def install(app: FastAPI, settings: SecuritySettings | None = None) -> None:
    """Add the edge middleware to an application (call after its other middleware)."""
    settings = settings or SecuritySettings()
    configure_logging(settings)
    docs = tuple(p for p in (app.docs_url, app.redoc_url) if p)
    # add_middleware puts each one outside the previous: the body limit is innermost.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(CorsMiddleware, settings=settings)
    app.add_middleware(EdgeMiddleware, settings=settings, docs_paths=docs)
