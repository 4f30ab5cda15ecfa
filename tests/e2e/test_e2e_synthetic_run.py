"""``python -m tools.local_run --accounts-count N``: the scale bench's run, end to end on a
few synthetic accounts, measuring the monthly run and nothing the sample's demos add."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.local_run.__main__ import main

pytestmark = pytest.mark.e2e


def test_synthetic_accounts_run_end_to_end_without_the_sample_demos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metering = tmp_path / "metering.json"
    arguments = ["--accounts-count", "25", "--fresh", "--ses-max-send-rate", "0"]

    code = main([*arguments, "--erp", "http", "--out", str(tmp_path), "--metering", str(metering)])

    printed = capsys.readouterr().out
    assert code == 0, printed
    counts = json.loads(metering.read_text())["report"]["counts"]
    assert counts["selected"] == 25
    assert (
        counts["selected"] == counts["drafts_in_run"] + counts["excluded"] + counts["quarantined"]
    )
    assert counts["finalized"] == counts["emails_sent"] == counts["erp_posted"] > 0
    finalized = re.search(r"finalized\s+(\d+)", printed)
    assert finalized and int(finalized.group(1)) == counts["finalized"]
    assert "shown on the bundled sample accounts only" in printed
    assert "registers/2026-11/" in printed
    for demo in ("Credit note CN-", "Portal link of", "Register for 2026-11"):
        assert demo not in printed
