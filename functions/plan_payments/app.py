"""PlanPayments (daily collections run): the auto-pay attempts due today, in S3 chunks."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import CollectionsStartEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.autopay import plan_payments


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CollectionsStartEvent)
def lambda_handler(event: CollectionsStartEvent, context: LambdaContext) -> dict[str, Any]:
    plan = plan_payments(event, get_platform())
    metrics.add_metric(name="AutoPayChargeChunks", unit=MetricUnit.Count, value=plan.charge_chunks)
    return plan.model_dump(mode="json")
