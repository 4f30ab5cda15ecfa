"""The versioned ERP mapping: product code -> GL revenue account + cost center,
(tax category, rate) -> tax account.

Finance owns this document and changes it without a deploy (bundled default or a file
named by configuration). It is validated when a run starts, so a typo in an account code
stops the run before approval instead of failing 10,000 postings one by one. The
``version`` travels into every diagnostic so a replay can say which mapping it used.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from invoice_dispatch.config_files import read_config_text
from invoice_dispatch.erp.errors import InvalidErpMapping
from invoice_dispatch.invoice import TaxCategory


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GlAccount(_Frozen):
    name: str
    kind: Literal["receivable", "revenue", "tax", "bank", "expense"]


class PaymentAccounts(_Frozen):
    """Where money in and money given up land: the bank account a payment is booked to
    (against the receivable) and the expense account a write-off is booked to."""

    bank_account: str
    write_off_account: str


class ProductMapping(_Frozen):
    revenue_account: str
    cost_center: str


class TaxMapping(_Frozen):
    category: TaxCategory
    rate: Decimal = Field(ge=0, le=100, description="Percent, like Invoice lines: 19 means 19 %")
    tax_account: str
    code: str = Field(description="The tax's code in the ERP (Tryton: the tax name)")
    name: str


class ErpMapping(_Frozen):
    version: int = Field(ge=1)
    description: str = ""
    receivable_account: str
    accounts: dict[str, GlAccount]
    cost_centers: dict[str, str]
    products: dict[str, ProductMapping]
    taxes: tuple[TaxMapping, ...]
    #: Optional: without it invoices are booked, but payments and write-offs are not.
    payments: PaymentAccounts | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> ErpMapping:
        """Every code a product or tax names must exist, with the right kind of account."""
        problems: list[str] = []

        def expect(code: str, kind: str, used_by: str) -> None:
            account = self.accounts.get(code)
            if account is None:
                problems.append(f"{used_by} names GL account {code}, which is not listed")
            elif account.kind != kind:
                problems.append(f"{used_by} needs a {kind} account but {code} is {account.kind}")

        expect(self.receivable_account, "receivable", "receivable_account")
        if self.payments is not None:
            expect(self.payments.bank_account, "bank", "payments.bank_account")
            expect(self.payments.write_off_account, "expense", "payments.write_off_account")
        for product_code, product in self.products.items():
            expect(product.revenue_account, "revenue", f"product '{product_code}'")
            if product.cost_center not in self.cost_centers:
                problems.append(
                    f"product '{product_code}' names cost center {product.cost_center},"
                    " which is not listed"
                )
        seen: set[tuple[TaxCategory, Decimal]] = set()
        for tax in self.taxes:
            key = (tax.category, tax.rate.normalize())
            if key in seen:
                problems.append(f"tax {tax.category.value} {tax.rate} is mapped twice")
            seen.add(key)
            expect(tax.tax_account, "tax", f"tax {tax.category.value} {tax.rate}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def product(self, product_code: str) -> ProductMapping | None:
        return self.products.get(product_code)

    def tax(self, category: TaxCategory, rate: Decimal) -> TaxMapping | None:
        wanted = (category, rate.normalize())
        for tax in self.taxes:
            if (tax.category, tax.rate.normalize()) == wanted:
                return tax
        return None


def parse_erp_mapping(raw_text: str, source: str = "ERP mapping") -> ErpMapping:
    """Validate a mapping document, turning pydantic's report into one readable error."""
    try:
        return ErpMapping.model_validate(json.loads(raw_text))
    except (ValueError, TypeError) as error:
        raise InvalidErpMapping(
            f"{source} is not valid and the run cannot start: {error}"
        ) from None


@lru_cache(maxsize=4)
def load_erp_mapping(path: str | None = None) -> ErpMapping:
    """The configured mapping; ``None`` means the one bundled with the layer."""
    raw_text = read_config_text(path, "invoice_dispatch.erp.data", "erp_mapping.json")
    return parse_erp_mapping(raw_text, source=path or "bundled ERP mapping")
