"""AdmitInvoices (first step of the daily collections run): open receivables of new invoices."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.receivables_admission import admit_invoices


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = admit_invoices(get_platform(), datetime.now(UTC))
    metrics.add_metric(name="ReceivablesAdmitted", unit=MetricUnit.Count, value=result.admitted)
    return result.model_dump()
