"""NotifyDueAndPaid (daily collections run): invoices due and paid, to the team's topics."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import CollectionsStepEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.collections_notify import notify_due_and_paid


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CollectionsStepEvent)
def lambda_handler(event: CollectionsStepEvent, context: LambdaContext) -> dict[str, Any]:
    return notify_due_and_paid(event.run, get_platform()).model_dump()
