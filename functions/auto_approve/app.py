"""AutoApprove: the trusted path without a human; threshold holds still apply."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import RunEvent
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval import auto_approve


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=RunEvent)
def lambda_handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    return {"held_count": auto_approve(event.run, get_platform())}
