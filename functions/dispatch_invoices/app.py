"""DispatchInvoices: e-mail each finalized invoice of a chunk through SES, once."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import InvoiceChunkEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.dispatch import dispatch_chunk


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=InvoiceChunkEvent)
def lambda_handler(event: InvoiceChunkEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = dispatch_chunk(event.run, event.invoice_ids, get_platform())
    metrics.add_metric(name="InvoicesSent", unit=MetricUnit.Count, value=len(outcome.done))
    return outcome.model_dump()
