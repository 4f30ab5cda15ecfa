"""A metered run of the real state machine: what it would use on AWS stays within AWS's limits.

The meter (``tools/local_run/metering.py``) counts while the sample accounts run end to
end; each test checks one figure an operator or the scale bench relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import SAMPLE_ACCOUNTS
from tools.erp.http_erp_server import running_http_erp
from tools.local_run.__main__ import UNPACED_SEND_RATE
from tools.local_run.metering import STATE_MACHINE, TASK, Meter
from tools.local_run.runner import LOCAL_RUNNER, ErpTarget, LocalEnvironment, RunResult
from tools.local_run.wiring import Template

pytestmark = pytest.mark.e2e

STATE_PAYLOAD_LIMIT = 256 * 1024


@dataclass
class MeteredRun:
    result: RunResult
    meter: Meter

    @property
    def counts(self) -> dict[str, int]:
        return (self.result.report or {})["counts"]


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeteredRun]:
    out_root: Path = tmp_path_factory.mktemp("out")
    meter = Meter()
    with (
        running_http_erp() as (erp_url, erp_state),
        LocalEnvironment(
            SAMPLE_ACCOUNTS,
            out_root,
            ErpTarget("http", erp_url, {"token": "e2e"}, erp_state.dump),
            parameters={"SesMaxSendRate": UNPACED_SEND_RATE},
            meter=meter,
        ) as env,
    ):
        result = env.run({"period": "2026-11", "mode": "live"})
    assert result.status == "SUCCEEDED"
    yield MeteredRun(result, meter)


def test_every_call_is_counted_for_a_function_the_state_machine_or_the_runner(
    metered: MeteredRun,
) -> None:
    functions = set(Template().function_memory_mb())
    actors = {actor for actor, _service, _operation in metered.meter.calls}

    assert actors <= functions | {STATE_MACHINE, LOCAL_RUNNER}
    assert {"FinalizeInvoicesFunction", "DispatchInvoicesFunction"} <= actors


def test_each_invoice_e_mail_is_one_ses_send_by_the_dispatcher(metered: MeteredRun) -> None:
    sends = metered.meter.calls[("DispatchInvoicesFunction", "sesv2", "SendEmail")]

    assert sends == metered.counts["emails_sent"] > 0
    assert metered.meter.ses_raw_bytes > 20_000 * sends, "each message carries its PDF"


def test_no_state_payload_comes_near_the_256_kb_limit(metered: MeteredRun) -> None:
    state_kinds = {
        kind: size
        for kind, (size, _where) in metered.meter.largest.items()
        if kind.startswith(("state ", "Map ")) or kind.endswith(f"({TASK})")
    }

    assert "Map results handed to the parent" in state_kinds and "Map item" in state_kinds
    assert max(state_kinds.values()) < STATE_PAYLOAD_LIMIT / 10


def test_writes_cost_capacity_units_and_the_map_children_are_chunks(metered: MeteredRun) -> None:
    used = metered.meter.total_capacity({"NumberInvoicesFunction"})
    chunks = metered.meter.map_children

    assert used.write_units >= 2 * metered.counts["finalized"], "numbering is transactional"
    # One entry per number, in the customer's document list (GSI5, the portal's); none in
    # the unfinished index: the run's entry covers it.
    assert used.index_write_units == metered.counts["finalized"]
    assert 2 <= chunks < metered.counts["finalized"], "one child per chunk, not per invoice"
    assert metered.meter.parent_states_entered > 5
