"""The seller: who issues the invoices, in which time zone, and how they look.

Loaded once per cold start from a JSON document (bundled default, or an S3 object named
by configuration), so a billing team re-brands or moves bank accounts without a deploy.
"""

from __future__ import annotations

import json
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from invoice_dispatch.config_files import read_config_text
from invoice_dispatch.invoice import PostalAddress


class Branding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    primary_colour: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_colour: str = Field(default="#f2a900", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_svg: str | None = Field(default=None, description="Inline SVG markup of the logo")
    footer_note: str | None = Field(
        default=None, description="The closing sentence of every invoice, in English"
    )
    footer_notes: dict[str, str] = Field(
        default_factory=dict,
        description="The closing sentence per invoice language (de, fr); English otherwise",
    )

    def footer_note_in(self, language: str) -> str | None:
        return self.footer_notes.get(language, self.footer_note)


class BankAccount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bank_name: str
    iban: str
    bic: str


class HolidayCalendar(BaseModel):
    """Whose public holidays are not business days (the ``holidays`` package's codes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. 'DE'")
    subdivision: str | None = Field(
        default=None, description="State or region, e.g. 'BE' for Berlin; None: national only"
    )


class LegalEntity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="Short code used in invoice number series, e.g. 'ACME-EU'")
    name: str
    address: PostalAddress
    vat_id: str | None = None
    registration: str | None = None
    email: str
    timezone: str = Field(description="IANA zone in which billing periods are defined")
    default_payment_terms_days: int = 30
    number_format: str = Field(
        default="INV-{year}-{sequence:06d}",
        description="Python format string; fields: year, sequence, entity",
    )
    shadow_number_format: str = "SHADOW-{year}-{sequence:06d}"
    credit_note_number_format: str = Field(
        default="CN-{year}-{sequence:06d}",
        description="Credit notes count in their own gapless series; same fields",
    )
    bank: BankAccount
    branding: Branding = Branding()
    holidays: HolidayCalendar | None = Field(
        default=None,
        description="The business-day schedule's calendar; None: the address's country",
    )

    @property
    def holiday_calendar(self) -> HolidayCalendar:
        """Checked where it is used (``schedule.py``, by StartRun on a business-day
        schedule), not at load: every Lambda loads the entity at its cold start, and
        building a calendar there cost each of them about 0.1 s for a check only StartRun
        needs. An unknown calendar stops the window's first morning, in a sentence."""
        return self.holidays or HolidayCalendar(country=self.address.country)


@lru_cache(maxsize=4)
def load_legal_entity(path: str | None = None) -> LegalEntity:
    """The configured legal entity; ``None`` means the bundled sample entity."""
    raw_text = read_config_text(path, "invoice_dispatch.data", "legal_entity.json")
    return LegalEntity.model_validate(json.loads(raw_text))
