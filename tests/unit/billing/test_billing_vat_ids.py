"""A reverse charge needs a valid VAT id of the customer's own country (issue 16, item 3).

A customer in another EU country whose VAT id failed its check digits used to be billed
normal VAT and nobody was told; a valid id of another country got the reverse charge.
Both are now billed the customer's country's VAT, flagged, and held by default.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from billing_factories import customer, invoice_for, raw_account

from invoice_dispatch.billing import AnomalyThresholds
from invoice_dispatch.invoice import TaxCategory
from invoice_dispatch.settings import Settings
from tools.local_run.wiring import Template

D = Decimal


@pytest.mark.parametrize(
    ("address_country", "vat_id", "code", "message"),
    [
        (
            "NL",
            "NL123456789B01",
            "INVALID_VAT_ID",
            "VAT id 'NL123456789B01' fails its check digits (python-stdnum): no reverse charge, "
            "21 % VAT of 'NL' charged instead. Correct the VAT id or the address before "
            "releasing this invoice",
        ),
        (
            "FR",
            "FR123",
            "INVALID_VAT_ID",
            "VAT id 'FR123' has the wrong length for its country (python-stdnum): no reverse "
            "charge, 20 % VAT of 'FR' charged instead. Correct the VAT id or the address "
            "before releasing this invoice",
        ),
        (
            "BE",
            "NL004495445B01",
            "VAT_ID_COUNTRY_MISMATCH",
            "VAT id 'NL004495445B01' is registered in NL, but the customer's address is in "
            "'BE': no reverse charge, 21 % VAT of 'BE' charged instead. Correct the VAT id or "
            "the address before releasing this invoice",
        ),
    ],
    ids=["check digits", "length", "other country"],
)
def test_a_vat_id_that_cannot_carry_the_reverse_charge_is_flagged_and_held(
    address_country: str, vat_id: str, code: str, message: str
) -> None:
    invoice = invoice_for(raw_account(customer=customer(address_country, vat_id=vat_id)))

    assert invoice.tax_breakdown[0].tax_category == TaxCategory.STANDARD
    assert [(flag.code, flag.message) for flag in invoice.anomalies] == [(code, message)]
    assert invoice.is_held_by_rule


@pytest.mark.parametrize(
    ("address_country", "vat_id"),
    [("NL", "NL004495445B01"), ("GR", "EL094259216"), ("FR", "fr 40 303 265 045")],
    ids=["valid", "Greek EL prefix", "spaces and lower case"],
)
def test_a_valid_vat_id_of_the_customer_s_country_gets_the_reverse_charge_unflagged(
    address_country: str, vat_id: str
) -> None:
    invoice = invoice_for(raw_account(customer=customer(address_country, vat_id=vat_id)))

    assert invoice.tax_breakdown[0].tax_category == TaxCategory.REVERSE_CHARGE
    assert invoice.tax_total == D("0.00")
    assert invoice.anomalies == ()


def test_a_domestic_customer_pays_vat_whatever_its_vat_id_and_is_not_flagged() -> None:
    invoice = invoice_for(raw_account(customer=customer("DE", vat_id="DE123456789")))

    assert invoice.tax_breakdown[0].tax_rate == D("19")
    assert invoice.anomalies == ()


def test_the_hold_rules_decide_whether_a_vat_id_flag_holds() -> None:
    thresholds = AnomalyThresholds(hold_codes=frozenset())
    raw = raw_account(customer=customer("NL", vat_id="NL123456789B01"))

    invoice = invoice_for(raw, thresholds=thresholds)

    assert [flag.code for flag in invoice.anomalies] == ["INVALID_VAT_ID"]
    assert not invoice.is_held_by_rule


def test_vat_id_flags_hold_by_default_in_the_domain_the_settings_and_the_template() -> None:
    from invoice_dispatch.billing.anomalies import DEFAULT_HOLD_CODES

    assert {"INVALID_VAT_ID", "VAT_ID_COUNTRY_MISMATCH"} <= DEFAULT_HOLD_CODES
    assert set(
        Settings.model_fields["anomaly_hold_codes"].get_default(call_default_factory=True)
    ) == set(DEFAULT_HOLD_CODES)
    assert set(Template().parameter_default("AnomalyHoldCodes").split(",")) == set(
        DEFAULT_HOLD_CODES
    )
