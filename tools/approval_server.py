"""A local stand-in for API Gateway (HTTP API, payload 2.0) in front of one Lambda handler.

The approval page is served by a Lambda behind an HTTP API in AWS. Locally (the runner's
``--wait-for-approval`` and the browser tests) a person or Chromium must reach the *same*
handler code, so this server turns each browser request into the event API Gateway would
send, calls ``handler(event, context)`` in-process and writes its response back.

Fidelity that matters to the handler, as real HTTP APIs behave:
- request bodies are passed as text only for ``text/*``, JSON, XML and JavaScript; every
  other type, including ``application/x-www-form-urlencoded`` form posts, arrives
  base64-encoded with ``isBase64Encoded: true`` (verified against AWS, see ministack
  PR #766), so a handler that forgets to decode fails here too, not first in production;
- repeated headers and query parameters are joined with commas, cookies go to ``cookies``;
- a handler returning something other than a ``statusCode`` dict gets the 2.0 format's
  implicit 200 JSON response; an exception becomes a 500 like the real integration.

Usage::

    with serve_lambda(app.lambda_handler, LocalLambdaContext) as server:
        print(server.url)
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LambdaHandler = Callable[[dict[str, Any], Any], Any]

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
_MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass
class LocalLambdaContext:
    """Enough of the Lambda context object for Powertools' ``inject_lambda_context``."""

    function_name: str = "approval-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:approval-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/approval-local"
    log_stream_name: str = "local"
    timeout_seconds: float = 29.0
    started_at: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """API Gateway's 29 s integration timeout is what a real approval request gets."""
        elapsed = time.monotonic() - self.started_at
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_TYPES


def build_http_api_event(
    method: str,
    raw_path_and_query: str,
    headers: Mapping[str, str] | list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    host: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for one request (route ``$default``)."""
    header_items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    joined_headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_items:
        lower_name = name.lower()
        if lower_name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined_headers[lower_name] = (
            f"{joined_headers[lower_name]},{value}" if lower_name in joined_headers else value
        )
    joined_headers.setdefault("x-forwarded-for", source_ip)
    joined_headers.setdefault("x-forwarded-proto", "http")

    parts = urlsplit(raw_path_and_query)
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    now = time.time()
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": joined_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined_headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        if _is_text(joined_headers.get("content-type", "")):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes


def response_from_lambda_result(result: Any) -> HttpResponse:
    """Map a handler's return value to HTTP, following the payload 2.0 response rules."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result, default=str)
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", cookie) for cookie in result.get("cookies") or [])
    raw_body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body_bytes = base64.b64decode(raw_body)
    elif isinstance(raw_body, str):
        body_bytes = raw_body.encode()
    else:
        body_bytes = json.dumps(raw_body).encode()
    return HttpResponse(int(result["statusCode"]), headers, body_bytes)


class _BridgeRequestHandler(BaseHTTPRequestHandler):
    server: ApprovalServer
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY_BYTES:
            self._write(
                HttpResponse(
                    413,
                    [("Content-Type", "application/json")],
                    b'{"message":"Request Entity Too Large"}',
                )
            )
            return
        body = self.rfile.read(length) if length else b""
        event = build_http_api_event(
            method=self.command,
            raw_path_and_query=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host", f"{self.server.host}:{self.server.port}"),
        )
        try:
            result = self.server.lambda_handler(event, self.server.context_factory())
            response = response_from_lambda_result(result)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = HttpResponse(
                500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'
            )
        self._write(response)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status_code)
        sent = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)


class ApprovalServer(ThreadingHTTPServer):
    """The running bridge; ``url`` is its base URL, ``shutdown()`` stops it."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        lambda_handler: LambdaHandler,
        context_factory: Callable[[], Any],
        log_requests: bool = False,
    ) -> None:
        super().__init__(address, _BridgeRequestHandler)
        self.lambda_handler = lambda_handler
        self.context_factory = context_factory
        self.log_requests = log_requests
        self.host: str = address[0]
        self.port: int = self.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ApprovalServer:
        self._thread = threading.Thread(
            target=self.serve_forever, name="approval-server", daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApprovalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()


def serve_lambda(
    handler: LambdaHandler,
    context_factory: Callable[[], Any] = LocalLambdaContext,
    host: str = "127.0.0.1",
    port: int = 0,
    log_requests: bool = False,
) -> ApprovalServer:
    """Start serving ``handler`` in a background thread; ``port=0`` picks a free port."""
    return ApprovalServer((host, port), handler, context_factory, log_requests).start()
