"""ReviewDrafts: count what this run has to approve, so the state machine can branch."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import RunEvent
from invoice_dispatch.observability import logger, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.approval import overview


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@retryable_aws_errors
@event_parser(model=RunEvent)
def lambda_handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    return overview(event.run, get_platform()).model_dump()
