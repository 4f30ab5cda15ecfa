"""A real Tryton on SQLite and the local HTTP ERP, both on free localhost ports.

Tryton is session-scoped: its database is created once (or copied from the cached
template, see tools/erp/tryton_server.py) and every test books distinct invoice numbers,
so tests can share it and still count exactly what they booked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket

from invoice_dispatch.adapters.erp_http import HttpErpClient
from invoice_dispatch.adapters.erp_tryton import TrytonErpClient
from tools.erp.http_erp_server import HttpErpState, running_http_erp
from tools.erp.tryton_server import TrytonEndpoint, TrytonProcess, running_tryton


@pytest.fixture(autouse=True)
def _localhost_only() -> Iterator[None]:
    pytest_socket.socket_allow_hosts(["127.0.0.1", "localhost"])
    yield
    pytest_socket._remove_restrictions()


@pytest.fixture(scope="session")
def tryton(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TrytonEndpoint, TrytonProcess]]:
    with running_tryton(Path(tmp_path_factory.mktemp("tryton"))) as started:
        yield started


@pytest.fixture
def tryton_client(tryton: tuple[TrytonEndpoint, TrytonProcess]) -> TrytonErpClient:
    endpoint, _server = tryton
    return TrytonErpClient(
        endpoint.url, endpoint.database, endpoint.user, endpoint.password, timeout_seconds=30
    )


@pytest.fixture
def http_erp(tmp_path: Path) -> Iterator[tuple[str, HttpErpState, Path]]:
    dump_dir = tmp_path / "erp"
    with running_http_erp(dump_dir=dump_dir) as (url, state):
        yield url, state, dump_dir


@pytest.fixture
def http_client(http_erp: tuple[str, HttpErpState, Path]) -> HttpErpClient:
    url, _state, _dump = http_erp
    return HttpErpClient(url, bearer_token="local-test-token", timeout_seconds=5)
