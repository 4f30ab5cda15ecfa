"""ApplyCorrection: write the credit note, write-off or dispute to the ledger once."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.corrections import CorrectionStepEvent, apply_correction


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=CorrectionStepEvent)
def lambda_handler(event: CorrectionStepEvent, context: LambdaContext) -> dict[str, Any]:
    return {"receivable_status": apply_correction(event.correction.request_id, get_platform())}
