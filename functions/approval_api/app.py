"""Approval HTTP API: the summary page (GET), draft previews (GET) and the decision (POST);
the same for one correction (a credit note, a write-off) under ``/corrections``."""

import base64
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval_web import decide, draft_preview, show_summary
from invoice_dispatch.workflow.corrections_web import decide_correction, show_correction
from invoice_dispatch.workflow.page_api import page_api, query_of, respond

app = page_api("approval service")


def _query() -> dict[str, str]:
    return query_of(app)


@app.get("/approvals/<run_id>")
def get_summary(run_id: str) -> Response:
    return respond(show_summary(run_id, _query(), get_platform()))


@app.get("/approvals/<run_id>/drafts/<invoice_id>")
def get_draft_preview(run_id: str, invoice_id: str) -> Response:
    return respond(draft_preview(run_id, invoice_id, _query(), get_platform()))


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
    return respond(decide(run_id, _query(), _form(), *_client(), get_platform()))


@app.get("/corrections/<request_id>")
def get_correction(request_id: str) -> Response:
    return respond(show_correction(request_id, _query(), get_platform()))


@app.post("/corrections/<request_id>")
def post_correction_decision(request_id: str) -> Response:
    return respond(decide_correction(request_id, _query(), _form(), *_client(), get_platform()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
