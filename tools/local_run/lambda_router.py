"""Route the state machine's Lambda invokes to the real handlers, in this process.

moto's LambdaSimpleBackend.invoke answers every invoke with canned text. Replacing that
one method with this router runs the real handler code without Docker (design.md). A
handler's exception becomes a Lambda function error with the exception's class name as
``errorType``, exactly what Step Functions' Retry and Catch match on in AWS; a
simulated crash (``faults.py``) reports the error type AWS gives a killed Lambda. After
each invocation the SES events it caused reach DeliveryEvents (``ses_events.py``).
With a ``meter``, each invocation is timed and sized as it runs (``metering.py``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from types import ModuleType
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

from tools.approval_server import LocalLambdaContext
from tools.local_run import ses_events
from tools.local_run.faults import SimulatedCrash
from tools.local_run.metering import SNS, TASK, Meter
from tools.local_run.wiring import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(spec: FunctionSpec) -> Handler:
    module_name, _, attribute = spec.handler.rpartition(".")
    unique_name = f"local_lambda_{spec.logical_id}_{module_name}"
    module: ModuleType | None = sys.modules.get(unique_name)
    if module is None:
        file_spec = importlib.util.spec_from_file_location(
            unique_name, spec.code_dir / f"{module_name}.py"
        )
        assert file_spec is not None and file_spec.loader is not None
        module = importlib.util.module_from_spec(file_spec)
        sys.modules[unique_name] = module
        file_spec.loader.exec_module(module)
    return getattr(module, attribute)  # type: ignore[no-any-return]


#: Guards Powertools' one ``Metrics`` (``_metrics_one_caller_at_a_time``).
METRICS_LOCK = threading.RLock()
_METRICS_PROVIDER_METHODS = (
    "add_metric",
    "add_dimension",
    "add_metadata",
    "serialize_metric_set",
    "flush_metrics",
    "clear_metrics",
)


def _metrics_one_caller_at_a_time(provider_class: type) -> None:
    """One process hosts every Lambda here, a Map's children in threads, and they share
    Powertools' one ``Metrics``: one invocation's flush walked its dictionaries while
    another invocation added to them ("dictionary changed size during iteration" failed
    ERP chunks of a 10,000-account run). On AWS each Lambda has its own; here each call
    waits for the other's."""
    if getattr(provider_class, "_one_caller_at_a_time", False):
        return
    for name in _METRICS_PROVIDER_METHODS:
        original = getattr(provider_class, name)

        @functools.wraps(original)
        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with METRICS_LOCK:
                return _original(*args, **kwargs)

        setattr(provider_class, name, locked)
    provider_class._one_caller_at_a_time = True  # type: ignore[attr-defined]


def fresh_metrics() -> None:
    """Start an invocation's metrics as Lambda does: empty, under the stack's namespace.

    Metrics are disabled locally, so Powertools' flush at the end of an invocation
    publishes nothing and clears nothing: without this the values of every invocation one
    process hosts pile up in the shared ``Metrics``. And that object may have been made
    before the stack's environment named the namespace (a test session imports the layer
    first), while Powertools flushes on its own at 100 values of one metric (a chunk's
    ERP latencies) and fails without one.
    """
    from invoice_dispatch.observability import metrics  # after the stack's environment

    _metrics_one_caller_at_a_time(type(metrics.provider))
    with METRICS_LOCK:
        metrics.clear_metrics()
        metrics.namespace = metrics.namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE")


class LambdaRouter:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self._functions = functions
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: list[tuple[str, bool]] = []
        self.on_invoke: Callable[[str], None] | None = None
        self.meter: Meter | None = None
        self._original_invoke = LambdaSimpleBackend.invoke

    def handler_for(self, name_or_arn: str) -> tuple[FunctionSpec, Handler]:
        logical_id = (
            name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        )
        spec = self._functions[logical_id]
        with self._lock:
            if logical_id not in self._handlers:
                self._handlers[logical_id] = load_handler(spec)
        return spec, self._handlers[logical_id]

    def invoke(self, function_name: str, payload: dict[str, Any]) -> tuple[Any, str | None]:
        spec, handler = self.handler_for(function_name)
        if self.on_invoke:
            self.on_invoke(spec.logical_id)
        context = LocalLambdaContext(
            function_name=spec.logical_id, invoked_function_arn=spec.arn, timeout_seconds=900
        )
        fresh_metrics()
        try:
            with self._metered(spec.logical_id, payload) as outcome:
                try:
                    outcome["result"] = result = handler(payload, context)
                except (Exception, SimulatedCrash) as error:
                    outcome["result"] = failure = {
                        "errorType": error.error_type
                        if isinstance(error, SimulatedCrash)
                        else type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exception(error)[-3:],
                    }
                    self.invocations.append((spec.logical_id, False))
                    return failure, "Unhandled"
        finally:
            self.deliver_ses_events()
        self.invocations.append((spec.logical_id, True))
        return result, None

    def _metered(
        self, logical_id: str, payload: Any, invoked_by: str = TASK
    ) -> contextlib.AbstractContextManager[dict[str, Any]]:
        if self.meter is None:
            return nullcontext({})
        return self.meter.invocation(logical_id, payload, invoked_by)

    def deliver_ses_events(self) -> None:
        """What the configuration set's event destination does on AWS, after the sender."""
        if (sns_event := ses_events.drain_as_sns_event()) is None:
            return
        _spec, handler = self.handler_for("DeliveryEventsFunction")
        fresh_metrics()
        with self._metered("DeliveryEventsFunction", sns_event, SNS) as outcome:
            outcome["result"] = handler(
                sns_event, LocalLambdaContext(function_name="DeliveryEventsFunction")
            )

    def install(self) -> None:
        router = self
        ses_events.install()

        def routed_invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            payload = json.loads(body) if body else {}
            result, function_error = router.invoke(function_name, payload)
            if function_error:
                response_headers["x-amz-function-error"] = function_error
            return json.dumps(result, default=str).encode("utf-8")

        LambdaSimpleBackend.invoke = routed_invoke  # type: ignore[method-assign]

    def uninstall(self) -> None:
        LambdaSimpleBackend.invoke = self._original_invoke  # type: ignore[method-assign]
