"""RecordEscalationDecision (collections run started with a decision): close an escalation."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.collections.escalation import parse_decision
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.collections_escalation import record_decision


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = record_decision(parse_decision(event), get_platform(), datetime.now(UTC))
    logger.info("Escalation decided", extra={"decision": result.model_dump(mode="json")})
    return result.model_dump(mode="json")
