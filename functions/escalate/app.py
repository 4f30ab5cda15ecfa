"""Escalate (daily collections run): invoices out of reminders go to a person, once."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import EscalateEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.collections_escalation import escalate


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=EscalateEvent)
def lambda_handler(event: EscalateEvent, context: LambdaContext) -> dict[str, Any]:
    result = escalate(event.run, event.escalation_plan_key, get_platform())
    metrics.add_metric(name="EscalationsOpened", unit=MetricUnit.Count, value=len(result.opened))
    return result.model_dump()
