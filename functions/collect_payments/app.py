"""CollectPayments (one Map child per chunk): each due auto-pay attempt charged once."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import ChargeChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.autopay import collect_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=ChargeChunkEvent)
def lambda_handler(event: ChargeChunkEvent, context: LambdaContext) -> dict[str, Any]:
    result = collect_chunk(event.run, event.chunk_index, event.numbers, get_platform())
    outcomes: dict[str, int] = {}
    for line in result.lines:
        outcomes[line.outcome] = outcomes.get(line.outcome, 0) + 1
    metrics.add_metric(
        name="AutoPayCollected", unit=MetricUnit.Count, value=outcomes.get("succeeded", 0)
    )
    metrics.add_metric(
        name="AutoPayDeclined", unit=MetricUnit.Count, value=outcomes.get("declined", 0)
    )
    return outcomes
