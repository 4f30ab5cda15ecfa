"""ImportStatement: a bank statement (camt.053 or CSV) dropped into S3 or sent on demand."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.payments_in import (
    StatementImportEvent,
    import_statement,
    statement_files,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=StatementImportEvent)
def lambda_handler(event: StatementImportEvent, context: LambdaContext) -> list[dict[str, Any]]:
    platform = get_platform()
    reports = [
        import_statement(name, content, platform)
        for name, content in statement_files(event, platform)
    ]
    for report in reports:
        logger.info(
            "Statement imported",
            extra={
                "statement": report.name,
                **report.model_dump(include={"applied", "exceptions", "duplicates", "skipped"}),
            },
        )
        metrics.add_metric(
            name="PaymentsMatchedAutomatically", unit=MetricUnit.Count, value=report.applied
        )
        metrics.add_metric(name="PaymentExceptions", unit=MetricUnit.Count, value=report.exceptions)
    return [report.model_dump(mode="json") for report in reports]
