"""PlanResume: hand what earlier runs left half-done to this run, before its own work."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import RunEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.resume import plan_resume


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=RunEvent)
def lambda_handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    plan = plan_resume(event.run, get_platform(), datetime.now(UTC))
    metrics.add_metric(name="InvoicesResumed", unit=MetricUnit.Count, value=plan.invoice_count)
    return plan.model_dump()
