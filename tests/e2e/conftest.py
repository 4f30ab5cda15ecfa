"""One local stack (moto + the real ASL + in-process handlers + a local HTTP ERP) per module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tools.erp.http_erp_server import HttpErpState, running_http_erp
from tools.local_run.runner import ErpTarget, LocalEnvironment
from tools.local_run.wiring import REPO_ROOT

SAMPLE_ACCOUNTS = REPO_ROOT / "events" / "accounts" / "sample-accounts.json"


class Stack:
    def __init__(self, env: LocalEnvironment, erp: HttpErpState, out_root: Path) -> None:
        self.env = env
        self.erp = erp
        self.out_root = out_root


@contextmanager
def local_stack(out_root: Path, **options: Any) -> Iterator[Stack]:
    """The sample accounts on a local stack booking into a local HTTP ERP."""
    with (
        running_http_erp() as (erp_url, erp_state),
        LocalEnvironment(
            SAMPLE_ACCOUNTS,
            out_root,
            ErpTarget("http", erp_url, {"token": "e2e"}, erp_state.dump),
            **options,
        ) as env,
    ):
        yield Stack(env, erp_state, out_root)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with local_stack(tmp_path_factory.mktemp("out")) as local:
        yield local
