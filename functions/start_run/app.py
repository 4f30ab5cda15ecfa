"""StartRun: validate the schedule, console or milestone input and open the run record."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoice_dispatch.adapters.aws_errors import retryable_aws_errors
from invoice_dispatch.events import StartRunEvent
from invoice_dispatch.observability import logger, metrics, tracer
from invoice_dispatch.platform import get_platform
from invoice_dispatch.workflow.start import StartIgnored, start_run

#: What each kind of quiet start counts as in CloudWatch.
_IGNORED_METRICS = {"schedule": "ScheduledFiresIgnored", "milestone": "MilestoneEventsRefused"}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@retryable_aws_errors
@event_parser(model=StartRunEvent)
def lambda_handler(event: StartRunEvent, context: LambdaContext) -> dict[str, Any]:
    run = start_run(event.input, event.execution_name, event.started_at, get_platform())
    if isinstance(run, StartIgnored):
        logger.info("Nothing started", extra={"outcome": run.ignored})
        metrics.add_metric(name=_IGNORED_METRICS[run.kind], unit=MetricUnit.Count, value=1)
        return run.model_dump()
    logger.info("Run started", extra={"run_id": run.run_id, "period": run.period, "mode": run.mode})
    metrics.add_metric(name="RunsStarted", unit=MetricUnit.Count, value=1)
    return run.model_dump(mode="json", exclude_none=True)
