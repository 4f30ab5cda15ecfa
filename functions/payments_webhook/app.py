"""Payments webhook (HTTP API): a signed payment event in, a JSON answer with a sentence out."""

import base64
import json
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from invoice_dispatch.adapters.aws_errors import CONNECTION_ERRORS, transient_reason
from invoice_dispatch.errors import TransientError
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.payments_webhook import answer_payment_event

app = APIGatewayHttpResolver()


def _json(
    status_code: int, body: dict[str, str], headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@app.exception_handler([TransientError, ClientError, *CONNECTION_ERRORS])
def busy(error: Exception) -> Response:
    """Throttled or unreachable AWS: 503, which providers retry; anything else still fails."""
    reason = transient_reason(error)
    if reason is None:
        raise error
    logger.warning("Payments webhook busy", extra={"reason": reason})
    return _json(
        503, {"status": "busy", "reason": f"Please retry: {reason}"}, {"Retry-After": "60"}
    )


@app.post("/payments/webhook")
def receive() -> Response:
    event = app.current_event
    body = (event.body or "").encode("utf-8")
    if event.is_base64_encoded:
        body = base64.b64decode(body)
    answer = answer_payment_event(event.headers, body, get_platform(), datetime.now(UTC))
    return _json(answer.status_code, answer.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
