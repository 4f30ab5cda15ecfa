"""PostLedgerToErp (collections run): book pending payments and write-offs in the ERP once."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.ledger_erp import post_ledger_to_erp


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = post_ledger_to_erp(get_platform())
    metrics.add_metric(name="PaymentsBookedInErp", unit=MetricUnit.Count, value=result.booked)
    return result.model_dump()
