"""Make moto's Distributed Map fail as AWS's does when its children fail.

moto 5.2.5 counts a failed Distributed Map child and carries on: the Map ends in success
with ``null`` where the child's output would be, so a local run cannot see a chunk fail
(design.md, "Facts found by outside checks"). On AWS a Map Run fails with
``States.ExceedToleratedFailureThreshold`` once its failed or timed-out children exceed
the tolerated failure threshold: ``ToleratedFailureCount`` and/or
``ToleratedFailurePercentage``, failing when either declared one is exceeded, and 0
(any failure fails) when neither is declared. The Map state's Retry and Catch then see
that error, and without a Catch the execution fails. Inline Maps already fail on their
first failed iteration in moto, as on AWS, and are left alone.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
    ToleratedFailureCountDecl,
    ToleratedFailurePercentageDecl,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

#: The cause AWS gives when a Map Run fails on its threshold.
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def make_moto_distributed_map_honour_failure_threshold() -> None:
    """Install the patch; calling it again changes nothing."""
    if getattr(DistributedIterationComponent._map_run, "_honours_failure_threshold", False):
        return
    original_map_run = DistributedIterationComponent._map_run
    original_from_state_props = StateMap.from_state_props

    def from_state_props(self: Any, state_props: Any) -> None:
        """Remember which thresholds the ASL declares: an undeclared one is not a limit."""
        original_from_state_props(self, state_props)
        self.iteration_component.declared_failure_thresholds = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        failed = items.failed.get() + items.timed_out.get()
        declares_count, declares_percentage = getattr(
            self, "declared_failure_thresholds", (False, False)
        )
        if exceeds_threshold(
            failed,
            items.total.get(),
            eval_input.tolerated_failure_count if declares_count else None,
            eval_input.tolerated_failure_percentage if declares_percentage else None,
        ):
            env.stack.pop()  # the children's outputs: a failed Map state has none
            raise _threshold_exceeded(env)

    map_run._honours_failure_threshold = True  # type: ignore[attr-defined]
    StateMap.from_state_props = from_state_props  # type: ignore[method-assign]
    DistributedIterationComponent._map_run = map_run  # type: ignore[method-assign]


def exceeds_threshold(
    failed: int,
    total: int,
    tolerated_count: int | None,
    tolerated_percentage: float | None,
) -> bool:
    """AWS's rule: over either declared threshold fails; with none declared, any failure does."""
    if failed == 0:
        return False
    if tolerated_count is None and tolerated_percentage is None:
        return True
    over_count = tolerated_count is not None and failed > tolerated_count
    over_percentage = tolerated_percentage is not None and 100 * failed / total > float(
        tolerated_percentage
    )
    return over_count or over_percentage


def _threshold_exceeded(env: Any) -> FailureEventException:
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(
                mapRunFailedEventDetails=MapRunFailedEventDetails(
                    error=error_name.error_name, cause=THRESHOLD_CAUSE
                )
            ),
        )
    )
