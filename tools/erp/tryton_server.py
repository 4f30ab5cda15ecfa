"""A real Tryton ERP on SQLite, for tests, the benchmark and the local demo run.

``running_tryton(directory)`` creates a fresh database (accounting, invoicing, analytic
accounts), sets up the seller company, a chart with every GL account and cost center of
the ERP mapping, fiscal years 2026 and 2027 with monthly periods, the mapped taxes and the
EUR/USD/JPY currencies with rates; then it serves JSON-RPC on a free localhost port and
yields where to reach it. The initialised SQLite file is cached as a template keyed by the
module versions and the mapping, so only the first use on a machine pays the ~10 s that
``trytond-admin`` needs; later ones copy a file.

CLI: ``python tools/erp/tryton_server.py serve --dir out/tryton`` (Ctrl-C stops it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAPPING = REPO_ROOT / "layers/invoice_dispatch/invoice_dispatch/erp/data/erp_mapping.json"
MODULES = ("account_invoice", "analytic_invoice")
SELLER_NAME = "Northwind Cloud Services GmbH"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "northwind-erp-admin"  # a throwaway local database, never a real secret
DATABASE = "northwind"
#: Units of currency per 1 EUR (the company currency) from 2026-01-01.
CURRENCY_RATES = {"EUR": "1.0", "USD": "1.08", "JPY": "162"}
CURRENCY_NAMES = {
    "EUR": ("Euro", "€", "0.01"),
    "USD": ("U.S. Dollar", "$", "0.01"),
    "JPY": ("Japanese Yen", "¥", "1"),
}
FISCAL_YEARS = (2026, 2027)

_RUN_TRYTOND = "import sys; from trytond.cli import main; sys.exit(main())"
_RUN_ADMIN = "import sys; from trytond.cli.admin import main; sys.exit(main())"


@dataclass(frozen=True)
class TrytonEndpoint:
    url: str
    database: str
    user: str
    password: str
    setup_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_config(directory: Path, port: int) -> Path:
    config_path = directory / "trytond.conf"
    config_path.write_text(
        f"[database]\nuri = sqlite://\npath = {directory}\n\n"
        f"[web]\nlisten = 127.0.0.1:{port}\n\n"
        "[session]\ntimeout = 86400\nmax_attempt = 1000\n",
        encoding="utf-8",
    )
    return config_path


def template_key(mapping_path: Path) -> str:
    """Module versions, the mapping and this script: any change makes a new template."""
    versions = [
        f"{name}={importlib.metadata.version(name)}"
        for name in (
            "trytond",
            "trytond-account",
            "trytond-account-invoice",
            "trytond-analytic-account",
            "trytond-analytic-invoice",
        )
    ]
    digest = hashlib.sha256("|".join(versions).encode())
    digest.update(mapping_path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> Path:
    root = os.environ.get("INVOICE_DISPATCH_CACHE") or Path(tempfile.gettempdir()) / (
        "invoice-dispatch-cache"
    )
    return Path(root) / "tryton"


def prepare_database(directory: Path, mapping_path: Path = DEFAULT_MAPPING) -> float:
    """Put ``<directory>/northwind.sqlite`` in place; returns seconds spent (copy or init)."""
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{DATABASE}.sqlite"
    template = _cache_dir() / f"{template_key(mapping_path)}.sqlite"
    if template.exists():
        shutil.copyfile(template, target)
        return time.perf_counter() - started
    init_database(directory, mapping_path)
    template.parent.mkdir(parents=True, exist_ok=True)
    partial = template.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(target, partial)
    partial.replace(template)
    return time.perf_counter() - started


def init_database(directory: Path, mapping_path: Path = DEFAULT_MAPPING) -> None:
    """Create the database from scratch with trytond-admin, then configure the company."""
    config_path = _write_config(directory, free_port())
    target = directory / f"{DATABASE}.sqlite"
    target.unlink(missing_ok=True)
    target.touch()
    password_file = directory / "admin.password"
    password_file.write_text(ADMIN_PASSWORD, encoding="utf-8")
    environment = {**os.environ, "TRYTONPASSFILE": str(password_file)}
    subprocess.run(
        [
            sys.executable,
            "-c",
            _RUN_ADMIN,
            "-c",
            str(config_path),
            "-d",
            DATABASE,
            "--all",
            "--activate-dependencies",
            "-u",
            *MODULES,
            "--email",
            "erp@northwind.test",
        ],
        check=True,
        env=environment,
        capture_output=True,
    )
    subprocess.run(
        [
            sys.executable,
            __file__,
            "_configure",
            "--config",
            str(config_path),
            "--mapping",
            str(mapping_path),
        ],
        check=True,
        env=environment,
        capture_output=True,
    )
    password_file.unlink()


def _configure_company(config_path: Path, mapping_path: Path) -> None:
    """Runs inside its own process: proteus binds trytond's global pool to one database."""
    import datetime
    from decimal import Decimal

    from proteus import Model, Wizard
    from proteus import config as proteus_config

    config = proteus_config.set_trytond(DATABASE, config_file=str(config_path))
    mapping = json.loads(mapping_path.read_text(encoding="utf-8"))

    Currency = Model.get("currency.currency")
    CurrencyRate = Model.get("currency.currency.rate")
    currencies = {}
    for code, (name, symbol, rounding) in CURRENCY_NAMES.items():
        currency = Currency(name=name, symbol=symbol, code=code, rounding=Decimal(rounding))
        currency.save()
        CurrencyRate(
            date=datetime.date(2026, 1, 1), rate=Decimal(CURRENCY_RATES[code]), currency=currency
        ).save()
        currencies[code] = currency

    Party = Model.get("party.party")
    User = Model.get("res.user")
    seller = Party(name=SELLER_NAME, code="NORTHWIND")
    seller.save()
    company_wizard = Wizard("company.company.config")
    company_wizard.execute("company")
    company_wizard.form.party = seller
    company_wizard.form.currency = currencies["EUR"]
    company_wizard.execute("add")
    config._context = User.get_preferences(True, {})
    Company = Model.get("company.company")
    (company,) = Company.find()

    ModelData = Model.get("ir.model.data")
    AccountTemplate = Model.get("account.account.template")
    chart = Wizard("account.create_chart")
    chart.execute("account")
    chart.form.account_template = AccountTemplate(
        ModelData.get_id("account.account_template_root_en", config.context)
    )
    chart.form.company = company
    chart.execute("create_account")

    Account = Model.get("account.account")
    AccountType = Model.get("account.account.type")
    (revenue_type,) = AccountType.find([("revenue", "=", True)], limit=1)
    (receivable_type,) = AccountType.find([("receivable", "=", True)], limit=1)
    (tax_type,) = AccountType.find([("name", "=", "Liabilities and assets for current tax")])
    (revenue_parent,) = Account.find([("code", "=", "4.0.0")])
    (asset_parent,) = Account.find([("code", "=", "1.0.0")])
    (liability_parent,) = Account.find([("code", "=", "2.0.0")])
    (cash_type,) = AccountType.find([("name", "=", "Cash and Cash Equivalents")], limit=1)
    (expense,) = Account.find([("type.expense", "=", True)], limit=1)
    kinds = {
        "revenue": (revenue_type, revenue_parent, False),
        "receivable": (receivable_type, asset_parent, True),
        "tax": (tax_type, liability_parent, False),
        "bank": (cash_type, asset_parent, False),
        "expense": (expense.type, expense.parent, False),
    }
    accounts = {}
    for code, spec in mapping["accounts"].items():
        account_type, parent, party_required = kinds[spec["kind"]]
        account = Account(
            code=code,
            name=spec["name"],
            type=account_type,
            parent=parent,
            party_required=party_required,
            reconcile=party_required,
        )
        account.save()
        accounts[code] = account

    chart.form.account_receivable = accounts[mapping["receivable_account"]]
    (payable,) = Account.find([("type.payable", "=", True), ("party_required", "=", True)], limit=1)
    chart.form.account_payable = payable
    first_revenue = next(
        accounts[code] for code, spec in mapping["accounts"].items() if spec["kind"] == "revenue"
    )
    chart.form.category_account_revenue = first_revenue
    chart.form.category_account_expense = expense
    chart.execute("create_properties")

    # Invoices in USD or JPY are booked in EUR; Tryton needs accounts for the difference.
    (expense_type,) = AccountType.find([("expense", "=", True)], limit=1)
    exchange_gain = Account(
        code="4840", name="Currency exchange gains", type=revenue_type, parent=revenue_parent
    )
    exchange_gain.save()
    exchange_loss = Account(
        code="6880", name="Currency exchange losses", type=expense_type, parent=expense.parent
    )
    exchange_loss.save()
    Configuration = Model.get("account.configuration")
    account_configuration = Configuration(1)
    account_configuration.currency_exchange_credit_account = exchange_gain
    account_configuration.currency_exchange_debit_account = exchange_loss
    account_configuration.save()

    # Payments and write-offs are booked with the "pay invoice" wizard: one payment method
    # per bank or write-off account of the mapping, found by its account's code.
    Journal = Model.get("account.journal")
    PaymentMethod = Model.get("account.invoice.payment.method")
    (cash_journal,) = Journal.find([("type", "=", "cash")], limit=1)
    for code, spec in mapping["accounts"].items():
        if spec["kind"] in ("bank", "expense"):
            PaymentMethod(
                name=spec["name"],
                journal=cash_journal,
                credit_account=accounts[code],
                debit_account=accounts[code],
            ).save()

    Tax = Model.get("account.tax")
    for spec in mapping["taxes"]:
        tax = Tax(
            name=spec["code"],
            description=spec["name"],
            type="percentage",
            rate=Decimal(spec["rate"]) / 100,  # Tryton stores a fraction; the mapping says percent
            invoice_account=accounts[spec["tax_account"]],
            credit_note_account=accounts[spec["tax_account"]],
        )
        tax.save()

    Analytic = Model.get("analytic_account.account")
    root = Analytic(type="root", name="Cost centers", code="CC")
    root.save()
    for code, name in mapping["cost_centers"].items():
        Analytic(root=root, parent=root, type="normal", code=code, name=name).save()

    FiscalYear = Model.get("account.fiscalyear")
    SequenceStrict = Model.get("ir.sequence.strict")
    SequenceType = Model.get("ir.sequence.type")
    (move_type,) = SequenceType.find([("name", "=", "Account Move")], limit=1)
    (invoice_type,) = SequenceType.find([("name", "=", "Invoice")], limit=1)
    for year in FISCAL_YEARS:
        move_sequence = SequenceStrict(
            name=f"Moves {year}", sequence_type=move_type, company=company
        )
        move_sequence.save()
        invoice_sequence = SequenceStrict(
            name=f"Invoices {year}",
            sequence_type=invoice_type,
            company=company,
            prefix=f"NW{year}-",
            padding=6,
        )
        invoice_sequence.save()
        # Credit notes in their own series, as the product numbers them (CN-...): a strict
        # sequence must follow its documents' dates, and a credit note is dated when it is
        # issued, after invoices of earlier dates still to be booked.
        credit_note_sequence = SequenceStrict(
            name=f"Credit notes {year}",
            sequence_type=invoice_type,
            company=company,
            prefix=f"NWC{year}-",
            padding=6,
        )
        credit_note_sequence.save()
        fiscal_year = FiscalYear(
            name=str(year),
            start_date=datetime.date(year, 1, 1),
            end_date=datetime.date(year, 12, 31),
            company=company,
            move_sequence=move_sequence,
        )
        (sequences,) = fiscal_year.invoice_sequences
        sequences.out_invoice_sequence = invoice_sequence
        sequences.out_credit_note_sequence = credit_note_sequence
        sequences.in_invoice_sequence = invoice_sequence
        sequences.in_credit_note_sequence = credit_note_sequence
        fiscal_year.save()
        fiscal_year.click("create_period")


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    request_body = json.dumps({"id": 0, "method": "common.server.version", "params": []}).encode()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with code {process.returncode} before answering")
        try:
            request = urllib.request.Request(
                url, data=request_body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=1) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer, even an error status, means the server is up
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"trytond did not answer on {url} within {timeout:.0f} s")


class TrytonProcess:
    """A trytond server on a fixed port, restartable so tests can take the ERP down."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.config_path = _write_config(directory, self.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        log = (self.directory / "trytond.log").open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _RUN_TRYTOND, "-c", str(self.config_path), "-d", DATABASE],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        _wait_until_answering(f"http://127.0.0.1:{self.port}/", self._process, timeout)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@contextlib.contextmanager
def running_tryton(
    directory: Path, mapping_path: Path = DEFAULT_MAPPING
) -> Iterator[tuple[TrytonEndpoint, TrytonProcess]]:
    """Fresh database + running server; the server stops when the block exits."""
    started = time.perf_counter()
    prepare_database(directory, mapping_path)
    server = TrytonProcess(directory)
    server.start()
    endpoint = TrytonEndpoint(
        url=server.url,
        database=DATABASE,
        user=ADMIN_USER,
        password=ADMIN_PASSWORD,
        setup_seconds=time.perf_counter() - started,
    )
    try:
        yield endpoint, server
    finally:
        server.stop()


def dump_tryton_bookings(endpoint: TrytonEndpoint, directory: Path) -> int:
    """Write one JSON file per customer invoice in Tryton (``out/<run>/erp/``).

    Read back from Tryton itself, not from what we sent, so the demo shows what finance
    would see in the ERP: its own number, state, period, accounts, cost centers and taxes.
    Returns how many invoices were written.
    """
    from invoice_dispatch.adapters.erp_tryton import TrytonErpClient

    client = TrytonErpClient(endpoint.url, endpoint.database, endpoint.user, endpoint.password)
    invoices = client.rpc(
        "model.account.invoice.search_read",
        [("type", "=", "out")],
        0,
        None,
        [("id", "ASC")],
        [
            "reference",
            "number",
            "state",
            "party.code",
            "party.name",
            "currency.code",
            "invoice_date",
            "move.period.name",
            "untaxed_amount",
            "tax_amount",
            "total_amount",
            "lines",
            "taxes",
        ],
    )
    directory.mkdir(parents=True, exist_ok=True)
    for invoice in invoices:
        lines = client.rpc(
            "model.account.invoice.line.read",
            invoice["lines"],
            ["description", "account.code", "amount", "analytic_accounts"],
        )
        for line in lines:
            entries = client.rpc(
                "model.analytic.account.entry.read", line.pop("analytic_accounts"), ["account.code"]
            )
            line["cost_centers"] = [entry["account."]["code"] for entry in entries]
        taxes = client.rpc(
            "model.account.invoice.tax.read",
            invoice["taxes"],
            ["tax.name", "account.code", "amount"],
        )
        record = {
            "external_id": invoice["reference"],
            "erp_id": invoice["number"],
            "state": invoice["state"],
            "customer": {"code": invoice["party."]["code"], "name": invoice["party."]["name"]},
            "currency": invoice["currency."]["code"],
            "invoice_date": invoice["invoice_date"],
            "period": (invoice.get("move.") or {}).get("period.", {}).get("name"),
            "net_total": invoice["untaxed_amount"],
            "tax_total": invoice["tax_amount"],
            "gross_total": invoice["total_amount"],
            "lines": [
                {
                    "description": line["description"],
                    "account": line["account."]["code"],
                    "amount": line["amount"],
                    "cost_centers": line["cost_centers"],
                }
                for line in lines
            ],
            "taxes": [
                {
                    "tax": tax["tax."]["name"],
                    "account": tax["account."]["code"],
                    "amount": tax["amount"],
                }
                for tax in taxes
            ],
        }
        name = invoice["reference"] or f"tryton-{invoice['id']}"
        (directory / f"{name}.json").write_text(
            json.dumps(record, indent=2, default=str), encoding="utf-8"
        )
    return len(invoices)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="create a database and serve it until Ctrl-C")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--mapping", type=Path, default=DEFAULT_MAPPING)
    serve.add_argument("--fresh", action="store_true", help="ignore the cached template")
    configure = commands.add_parser("_configure", help=argparse.SUPPRESS)
    configure.add_argument("--config", type=Path, required=True)
    configure.add_argument("--mapping", type=Path, required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "_configure":
        _configure_company(arguments.config, arguments.mapping)
        return 0
    if arguments.fresh:
        shutil.rmtree(_cache_dir(), ignore_errors=True)
    with running_tryton(arguments.dir.resolve(), arguments.mapping) as (endpoint, _server):
        print(json.dumps({**endpoint.__dict__}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
