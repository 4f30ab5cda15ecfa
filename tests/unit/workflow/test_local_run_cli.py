"""``make demo ARGS=...``: a wrong option is refused with a sentence, before any stack starts."""

from __future__ import annotations

import pytest

from tools.local_run import runner
from tools.local_run.__main__ import main


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["--ses-max-send-rate", "-1"], "--ses-max-send-rate must be 0 (unpaced) or more"),
        (["--accounts-count", "0"], "--accounts-count must be 1 or more"),
        (["--period", "2026-13"], "--period must look like 2026-11, not '2026-13'"),
    ],
)
def test_a_wrong_option_is_refused_with_a_sentence(
    arguments: list[str], sentence: str, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main([*arguments, "--out", str(tmp_path)])

    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert sentence in error and "Traceback" not in error


def test_waiting_for_a_run_of_many_hours_keeps_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100,000-account run is polled thousands of times; the pause must stay bounded."""
    looks = iter([*["RUNNING"] * 10_000, "SUCCEEDED"])
    pauses: list[float] = []

    class Executions:
        def describe_execution(self, executionArn: str) -> dict[str, str]:
            return {"status": next(looks)}

    monkeypatch.setattr(runner.boto3, "client", lambda *args, **kwargs: Executions())
    monkeypatch.setattr(runner.time, "sleep", pauses.append)

    status, _ = runner.LocalEnvironment.wait_for(None, "arn:run", 1e9)  # type: ignore[arg-type]

    assert status == "SUCCEEDED" and len(pauses) == 10_000
    assert max(pauses) == runner.MAX_POLL_SECONDS
