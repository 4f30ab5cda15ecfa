"""What a local run would use on AWS, counted as it runs: the bench prices it, tests check it.

A ``Meter`` around a ``LocalEnvironment`` run records, for each actor (a Lambda function
by its logical id, the state machine itself, or the local runner that drives the run):

* every AWS API call, by service and operation (counted where moto receives it);
* DynamoDB capacity units, computed as DynamoDB bills them from moto's stored items:
  a write costs one WRU per started KB of the larger of the item before and after,
  twice inside a transaction, plus one write per GSI entry added, changed or removed
  (two when the index key moves), sized by the index's projection; a read costs one
  RRU per started 4 KB (a query: of all items it returns together), half when
  eventually consistent (always on a GSI), twice in a transaction. A failed conditional
  write is charged like a write of the unchanged item; a cancelled transaction like
  its items written unchanged. Sizes are moto's item sizes (attribute names + values);
  DynamoDB's per-item index overhead of 100 bytes and its storage rounding are left out;
* every Lambda invocation: its wall time, the CPU time of its thread (moto answers
  in-process, so both include moto's work where AWS would spend network latency; with
  a Map's children sharing one interpreter the CPU time is the fairer duration), its
  input and output size, and the bytes of raw e-mail it handed to SES;
* Step Functions: states entered by the execution and by Distributed Map children, the
  children (one per Map item), every state's input and output size, every Map item's
  size and the size of the results each Map collects into its parent.

Counting stops when the meter is uninstalled; nothing it installs changes a result.
"""

from __future__ import annotations

import functools
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models.dynamo_type import DynamoType, Item, bytesize
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

#: Who made a call when no handler is running: the state machine's own threads.
STATE_MACHINE = "StepFunctions"
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096

_acting = threading.local()


def current_actor() -> str:
    return getattr(_acting, "actor", None) or STATE_MACHINE


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Calls made in this thread meanwhile are counted for ``actor`` (a function's id)."""
    outer = getattr(_acting, "actor", None)
    _acting.actor = actor
    try:
        yield
    finally:
        _acting.actor = outer


#: Who invokes a function, which sets the limit its payloads meet on AWS.
TASK = "Step Functions task"  # input and output are state payloads: 256 KB
HTTP_API = "HTTP API"  # 6 MB each way (the Lambda limit)
SNS = "SNS, batched locally"  # one message per invocation on AWS; the local router batches


@dataclass
class Invocation:
    function: str
    wall_seconds: float
    cpu_seconds: float
    input_bytes: int
    output_bytes: int
    invoked_by: str = TASK


@dataclass
class Capacity:
    write_units: float = 0.0
    index_write_units: float = 0.0
    read_units: float = 0.0
    #: write units (index writes included) by the kind of item written: the partition
    #: key's prefix (INVOICE, RUN, SERIES, RATE, ...), so each can be priced on its own
    write_units_by_item: Counter[str] = field(default_factory=Counter)


@dataclass
class Meter:
    """Counts of one or more runs; see the module docstring for what each figure means."""

    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    capacity: defaultdict[str, Capacity] = field(default_factory=lambda: defaultdict(Capacity))
    invocations: list[Invocation] = field(default_factory=list)
    ses_raw_bytes: int = 0
    ses_messages: int = 0
    parent_states_entered: int = 0
    child_states_entered: int = 0
    map_children: int = 0
    #: the largest payload seen, per kind ("state input", "Map item", ...): (bytes, where)
    largest: dict[str, tuple[int, str]] = field(default_factory=dict)
    map_results_bytes: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _map_managers: set[int] = field(default_factory=set, repr=False)
    _saved: list[tuple[Any, str, Any]] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------ recording
    def saw_payload(self, kind: str, size: int, where: str) -> None:
        with self._lock:
            if size > self.largest.get(kind, (-1, ""))[0]:
                self.largest[kind] = (size, where)

    def record_invocation(self, invocation: Invocation) -> None:
        with self._lock:
            self.invocations.append(invocation)
        by = invocation.invoked_by
        self.saw_payload(f"Lambda input ({by})", invocation.input_bytes, invocation.function)
        self.saw_payload(f"Lambda output ({by})", invocation.output_bytes, invocation.function)

    @contextmanager
    def invocation(
        self, function: str, payload: Any, invoked_by: str = TASK
    ) -> Iterator[dict[str, Any]]:
        """Time one handler call; the caller puts its result in the yielded dict."""
        outcome: dict[str, Any] = {}
        wall, cpu = time.perf_counter(), time.thread_time()
        with acting_as(function):
            try:
                yield outcome
            finally:
                self.record_invocation(
                    Invocation(
                        function,
                        time.perf_counter() - wall,
                        time.thread_time() - cpu,
                        _json_size(payload),
                        _json_size(outcome.get("result")),
                        invoked_by,
                    )
                )

    # ----------------------------------------------------------- install
    def install(self) -> Meter:
        meter = self
        self._wrap(BotocoreStubber, "__call__", lambda call: _counting_calls(meter, call))
        for operation in _CAPACITY_OPERATIONS:
            self._wrap(
                DynamoHandler,
                operation,
                lambda call, operation=operation: _counting_capacity(meter, call, operation),
            )
        self._wrap(EventManager, "add_event", lambda call: _counting_events(meter, call))
        self._wrap(
            DistributedIterationComponent, "_map_run", lambda call: _measuring_map_run(meter, call)
        )
        self._wrap(
            DistributedItemProcessorWorker, "_eval_job", lambda call: _measuring_item(meter, call)
        )
        self._wrap(StateMap, "_eval_execution", lambda call: _measuring_map_state(meter, call))
        return self

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def __enter__(self) -> Meter:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    def _wrap(self, owner: Any, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
        original = getattr(owner, name)
        self._saved.append((owner, name, original))
        setattr(owner, name, functools.wraps(original)(make(original)))

    # ----------------------------------------------------------- reading
    def calls_by_service(self, actors: set[str] | None = None) -> Counter[str]:
        counted: Counter[str] = Counter()
        for (actor, service, _operation), count in self.calls.items():
            if actors is None or actor in actors:
                counted[service] += count
        return counted

    def total_capacity(self, actors: set[str] | None = None) -> Capacity:
        total = Capacity()
        for actor, used in self.capacity.items():
            if actors is None or actor in actors:
                total.write_units += used.write_units
                total.index_write_units += used.index_write_units
                total.read_units += used.read_units
                total.write_units_by_item.update(used.write_units_by_item)
        return total

    def figures(self) -> dict[str, Any]:
        """Everything counted, as JSON (``--metering FILE``; the bench reads it)."""
        functions = {}
        for name, invocations in sorted(self.invocations_by_function().items()):
            functions[name] = {
                "invocations": len(invocations),
                "wall_seconds": round(sum(i.wall_seconds for i in invocations), 3),
                "cpu_seconds": round(sum(i.cpu_seconds for i in invocations), 3),
                "largest_input_bytes": max(i.input_bytes for i in invocations),
                "largest_output_bytes": max(i.output_bytes for i in invocations),
                "invoked_by": invocations[0].invoked_by,
            }
        return {
            "calls": [[*key, count] for key, count in sorted(self.calls.items())],
            "capacity": {actor: vars(used) for actor, used in sorted(self.capacity.items())},
            "functions": functions,
            "ses_messages": self.ses_messages,
            "ses_raw_bytes": self.ses_raw_bytes,
            "parent_states_entered": self.parent_states_entered,
            "child_states_entered": self.child_states_entered,
            "map_children": self.map_children,
            "largest": {kind: list(seen) for kind, seen in sorted(self.largest.items())},
            "map_results_bytes": self.map_results_bytes,
        }

    def invocations_by_function(self) -> dict[str, list[Invocation]]:
        grouped: dict[str, list[Invocation]] = defaultdict(list)
        for invocation in self.invocations:
            grouped[invocation.function].append(invocation)
        return dict(grouped)


def _json_size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | bytes):
        return len(value)
    return len(json.dumps(value, default=str).encode("utf-8"))


# ------------------------------------------------------------------- API calls
def _counting_calls(meter: Meter, call: Callable[..., Any]) -> Callable[..., Any]:
    def counted(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if stubber.enabled:
            _, service, operation = [*event_name.split(".", 2), "", ""][:3]
            with meter._lock:
                meter.calls[(current_actor(), service, operation)] += 1
            if service == "sesv2" and operation == "SendEmail":
                raw = json.loads(request.body or b"{}").get("Content", {}).get("Raw", {})
                with meter._lock:
                    meter.ses_messages += 1
                    meter.ses_raw_bytes += len(raw.get("Data", "")) * 3 // 4
        return call(stubber, event_name, request, **kwargs)

    return counted


# -------------------------------------------------------------- DynamoDB units
_CAPACITY_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "batch_get_item",
    "batch_write_item",
    "query",
    "scan",
    "transact_write_items",
    "transact_get_items",
)


def _size(attributes: Any) -> int:
    """moto's item size (attribute names + values), of stored attributes or wire JSON."""
    if attributes is None:
        return 0
    if isinstance(attributes, Item):
        return attributes.size()
    return sum(
        bytesize(name) + (value if isinstance(value, DynamoType) else DynamoType(value)).size()
        for name, value in attributes.items()
    )


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _index_entries(table: Table, item: Item | None) -> dict[str, tuple[Any, Any, int]]:
    """Per GSI holding the item: (index key, projected attributes, entry size).

    The projection is read from the index's definition as ``SecondaryIndex.project``
    applies it (moto's own ``project`` converts the whole item to JSON per attribute).
    """
    if item is None:
        return {}
    entries = {}
    for index in table.global_indexes:
        names = [key["AttributeName"] for key in index.schema]
        if any(name not in item.attrs for name in names):
            continue  # sparse: not in this index
        projection = index.projection or {}
        kind = projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            projected = dict(item.attrs)
        else:
            wanted = [*index.table_key_attrs, *names]
            if kind == "INCLUDE":
                wanted += projection.get("NonKeyAttributes", [])
            projected = {name: item.attrs[name] for name in wanted if name in item.attrs}
        size = sum(bytesize(name) + value.size() for name, value in projected.items())
        entries[index.name] = (tuple(item.attrs[name] for name in names), projected, size)
    return entries


def _index_write_units(table: Table, before: Item | None, after: Item | None) -> int:
    old, new = _index_entries(table, before), _index_entries(table, after)
    units = 0
    for name in set(old) | set(new):
        if name not in new:
            units += _units(old[name][2], WRITE_UNIT_BYTES)
        elif name not in old:
            units += _units(new[name][2], WRITE_UNIT_BYTES)
        elif old[name][0] != new[name][0]:  # the index key moved: delete + put
            units += _units(old[name][2], WRITE_UNIT_BYTES) + _units(new[name][2], WRITE_UNIT_BYTES)
        elif old[name][1] != new[name][1]:
            units += _units(new[name][2], WRITE_UNIT_BYTES)
    return units


def _item_key(table: Table, attributes: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _stored(table: Table, key: tuple[DynamoType, DynamoType | None]) -> Item | None:
    partition = table.items.get(key[0])
    if partition is None or table.range_key_attr is None:
        return partition  # type: ignore[no-any-return]
    return partition.get(key[1])  # type: ignore[no-any-return]


def _copy_of(item: Item | None) -> Item | None:
    import copy

    return copy.deepcopy(item) if item is not None else None


def _writes_of(handler: Any, operation: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(table, key attributes, transactional) of every item a write request names."""
    body = handler.body
    if operation == "put_item":
        return [(body["TableName"], body["Item"], False)]
    if operation in ("update_item", "delete_item"):
        return [(body["TableName"], body["Key"], False)]
    if operation == "batch_write_item":
        writes = []
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    writes.append((table_name, request["PutRequest"]["Item"], False))
                elif "DeleteRequest" in request:
                    writes.append((table_name, request["DeleteRequest"]["Key"], False))
        return writes
    if operation == "transact_write_items":
        writes = []
        for entry in body.get("TransactItems", []):
            for kind, request in entry.items():
                key = request.get("Item") if kind == "Put" else request.get("Key")
                writes.append((request.get("TableName", ""), key or {}, True))
        return writes
    return []


def _counting_capacity(
    meter: Meter, call: Callable[..., Any], operation: str
) -> Callable[..., Any]:
    def counted(handler: Any) -> Any:
        backend = handler.dynamodb_backend
        writes = []
        for table_name, attributes, transactional in _writes_of(handler, operation):
            try:
                table = backend.get_table(table_name)
                key = _item_key(table, attributes)
            except Exception:  # moto answers the request with its error
                continue
            writes.append((table, key, transactional, _copy_of(_stored(table, key))))
        try:
            result = call(handler)
        except Exception:
            _charge_writes(meter, writes, failed=True)
            raise
        _charge_writes(meter, writes, failed=False)
        _charge_reads(meter, handler, operation, result)
        return result

    return counted


def _charge_writes(meter: Meter, writes: list[Any], failed: bool) -> None:
    if not writes:
        return
    units = 0.0
    index_units = 0.0
    by_item: Counter[str] = Counter()
    for table, key, transactional, before in writes:
        after = before if failed else _stored(table, key)
        item_units = _units(max(_size(before), _size(after)), WRITE_UNIT_BYTES) * (
            2 if transactional else 1
        )
        item_index_units = 0 if failed else _index_write_units(table, before, after)
        units += item_units
        index_units += item_index_units
        by_item[str(key[0].value).partition("#")[0]] += item_units + item_index_units
    with meter._lock:
        used = meter.capacity[current_actor()]
        used.write_units += units
        used.index_write_units += index_units
        used.write_units_by_item.update(by_item)


def _charge_reads(meter: Meter, handler: Any, operation: str, result: Any) -> None:
    body = handler.body
    answer = getattr(result, "result", None)
    if not isinstance(answer, dict):
        return
    units = 0.0
    if operation == "get_item":
        units = _units(_size(answer.get("Item")), READ_UNIT_BYTES) / (
            1 if body.get("ConsistentRead") else 2
        )
    elif operation in ("query", "scan"):
        returned = sum(_size(item) for item in answer.get("Items", []))
        consistent = body.get("ConsistentRead") and not body.get("IndexName")
        units = _units(returned, READ_UNIT_BYTES) / (1 if consistent else 2)
    elif operation == "batch_get_item":
        requests = body.get("RequestItems", {})
        for table_name, items in answer.get("Responses", {}).items():
            consistent = requests.get(table_name, {}).get("ConsistentRead")
            for item in items:
                units += _units(_size(item), READ_UNIT_BYTES) / (1 if consistent else 2)
    elif operation == "transact_get_items":
        for response in answer.get("Responses", []):
            units += 2 * _units(_size(response.get("Item")), READ_UNIT_BYTES)
    if units:
        with meter._lock:
            meter.capacity[current_actor()].read_units += units


# -------------------------------------------------------------- Step Functions
def _counting_events(meter: Meter, call: Callable[..., Any]) -> Callable[..., Any]:
    def counted(manager: Any, context: Any, event_type: Any, event_details: Any = None, *args: Any,
                **kwargs: Any) -> Any:  # fmt: skip
        in_map = id(manager) in meter._map_managers
        name = getattr(event_type, "value", str(event_type))
        if name.endswith("StateEntered"):
            with meter._lock:
                if in_map:
                    meter.child_states_entered += 1
                else:
                    meter.parent_states_entered += 1
        for detail in (event_details or {}).values():
            if not isinstance(detail, dict):
                continue
            for direction in ("input", "output"):
                if isinstance(detail.get(direction), str):
                    meter.saw_payload(
                        f"state {direction} ({'Map child' if in_map else 'execution'})",
                        len(detail[direction].encode("utf-8")),
                        f"{name} {detail.get('name', '')}".strip(),
                    )
        return call(manager, context, event_type, event_details, *args, **kwargs)

    return counted


def _measuring_map_run(meter: Meter, call: Callable[..., Any]) -> Callable[..., Any]:
    def measured(component: Any, env: Any, eval_input: Any) -> Any:
        with meter._lock:
            meter._map_managers.add(id(env.event_manager))
        return call(component, env, eval_input)

    return measured


def _measuring_map_state(meter: Meter, call: Callable[..., Any]) -> Callable[..., Any]:
    """What a Distributed Map hands its parent: every child's output, or with a
    ``ResultWriter`` only where in S3 the writer put them."""

    def measured(state: Any, env: Any) -> Any:
        result = call(state, env)
        if state.item_reader is not None and env.stack:  # the Distributed Maps read items
            size = _json_size(env.stack[-1])
            with meter._lock:
                meter.map_results_bytes.append(size)
            meter.saw_payload("Map results handed to the parent", size, "Distributed Map")
        return result

    return measured


def _measuring_item(meter: Meter, call: Callable[..., Any]) -> Callable[..., Any]:
    def measured(worker: Any, env: Any, job: Any) -> Any:
        with meter._lock:
            meter.map_children += 1
        meter.saw_payload("Map item", _json_size(job.job_input), "Distributed Map")
        return call(worker, env, job)

    return measured
