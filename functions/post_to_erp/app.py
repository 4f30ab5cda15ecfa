"""PostToErp: book each finalized invoice of a chunk in the ERP, never twice."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import InvoiceChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.erp_posting import post_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=InvoiceChunkEvent)
def lambda_handler(event: InvoiceChunkEvent, context: LambdaContext) -> dict[str, Any]:
    outcome, latencies = post_chunk(event.run, event.chunk_index, event.invoice_ids, get_platform())
    metrics.add_metric(name="ErpPosted", unit=MetricUnit.Count, value=len(outcome.done))
    metrics.add_metric(name="ErpFailures", unit=MetricUnit.Count, value=len(outcome.failed))
    for seconds in latencies:
        metrics.add_metric(
            name="ErpPostLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000
        )
    return outcome.model_dump()
