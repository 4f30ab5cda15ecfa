"""Approval HTTP API: the summary page (GET), draft previews (GET) and the decision (POST);
the same for one correction (a credit note, a write-off) under ``/corrections``."""

import base64
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.aws_errors import CONNECTION_ERRORS, transient_reason
from invoice_dispatch.approval.page import render_error_page
from invoice_dispatch.errors import TransientError
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval_web import (
    SECURITY_HEADERS,
    Page,
    decide,
    draft_preview,
    show_summary,
)
from invoice_dispatch.workflow.corrections_web import decide_correction, show_correction

app = APIGatewayHttpResolver()


def _with_security_headers(
    resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response:
    """A global middleware also wraps Powertools' own answers (an unknown path's 404), so
    no response of this API can leave without them."""
    response = next_middleware(resolver)
    response.headers.update(SECURITY_HEADERS)
    return response


app.use(middlewares=[_with_security_headers])


def _respond(page: Page, headers: dict[str, str] | None = None) -> Response:
    """Headers set here as well: an exception handler's answer may bypass the middleware."""
    return Response(
        status_code=page.status_code,
        content_type=page.content_type,
        body=page.body,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def _query() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


@app.exception_handler([TransientError, ClientError, *CONNECTION_ERRORS])
def busy(error: Exception) -> Response:
    """A throttled or unreachable AWS service is a 503 the approver can retry, never a 500.

    Anything else still fails the invocation, as before, and API Gateway answers a bare 500.
    """
    reason = transient_reason(error)
    if reason is None:
        raise error
    logger.warning("Approval page busy", extra={"reason": reason})
    message = f"The approval service is busy ({reason}). Please try again in a minute."
    page = Page(503, render_error_page("Please try again in a minute", message))
    return _respond(page, {"Retry-After": "60"})


@app.get("/approvals/<run_id>")
def get_summary(run_id: str) -> Response:
    return _respond(show_summary(run_id, _query(), get_platform()))


@app.get("/approvals/<run_id>/drafts/<invoice_id>")
def get_draft_preview(run_id: str, invoice_id: str) -> Response:
    return _respond(draft_preview(run_id, invoice_id, _query(), get_platform()))


def _form() -> dict[str, list[str]]:
    event = app.current_event
    raw_body = event.body or ""
    if event.is_base64_encoded:
        raw_body = base64.b64decode(raw_body).decode("utf-8")
    return parse_qs(raw_body)


def _client() -> tuple[str, str]:
    http = app.current_event.request_context.http
    return http.source_ip, http.user_agent or ""


@app.post("/approvals/<run_id>")
def post_decision(run_id: str) -> Response:
    return _respond(decide(run_id, _query(), _form(), *_client(), get_platform()))


@app.get("/corrections/<request_id>")
def get_correction(request_id: str) -> Response:
    return _respond(show_correction(request_id, _query(), get_platform()))


@app.post("/corrections/<request_id>")
def post_correction_decision(request_id: str) -> Response:
    return _respond(decide_correction(request_id, _query(), _form(), *_client(), get_platform()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
