"""The words of invoice lines, in the customer's language (en, de, fr).

A line's description is the sentence a customer reads on the PDF and an accounts-payable
clerk books from, so it is written in the invoice's language with numbers as that language
writes them: "85,000 calls" read as 85 calls to a German reader (issue 16), who writes
85.000. Numbers use the separators babel's CLDR data gives each locale; dates are ISO 8601
in English (shared by readers who write 11/01 and 01/11 for different days) and babel's
medium format in German and French ("16.11.2026", "16 nov. 2026").

Speed: the engine builds a description per line for 25,000 drafts a second, and babel's
``format_decimal`` costs about 20 us a call, so numbers are formatted here with Python's
own grouping and the locale's two symbols (a test holds it equal to babel); dates and
month names go through babel once per run and day (``lru_cache``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import get_decimal_symbol, get_group_symbol

LANGUAGES: tuple[str, ...] = ("en", "de", "fr")
_NBSP = "\u00a0"

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "span": "{start} to {end}",
        "partial_span": "{days} of {term_days} days, {start} to {end}",
        "quarterly": ", quarterly",
        "annual": ", annual",
        "every_months": ", every {months} months",
        "arrears": ", in arrears",
        "unused": "Unused time on ",
        "remaining": "Remaining time on ",
        "trial": " (free trial until {date})",
        "times": "{name} x {quantity}",
        "package": "{name}, {packages} x {size} {unit} ({quantity} {unit} used)",
        "per_unit": "per unit",
        "graduated": "graduated tiers",
        "volume": "volume tier",
        "packages_of": "packages of {size}",
        "usage": "{metric}: {quantity} {unit} ({pricing}), {span}",
        "tier": "{metric} {first} to {last} (graduated tier {position} of {count}), {span}",
        "minimum": "Minimum usage commitment of {minimum} {currency} per month; "
        "usage came to {usage} {currency}",
        "milestone": "{description}: milestone {position} of {count}{label}, "
        "{percent} % of {amount} {currency}",
        "percent_off": "{percent} % off {target}",
        "amount_off": "{amount} {currency} off {target}",
        "the_invoice": "the invoice",
        "coupon_period": ", period {position} of {count}",
        "discount": "{name}: {what}{coupon}",
        "credit_carried": "Credit carried from {month} ({credit_id})",
        "credit_for": "Credit for {number} line {line_id}: {description} ({reason})",
        "credit_amount": "Credit on {number}: {reason}",
        "unit_seat": "seat",
        "unit_seats": "seats",
        "unit_GB": "GB",
        "unit_calls": "calls",
        "unit_GB-months": "GB-months",
        "unit_messages": "messages",
        "used": "used",
    },
    "de": {
        "span": "{start} bis {end}",
        "partial_span": "{days} von {term_days} Tagen, {start} bis {end}",
        "quarterly": ", vierteljährlich",
        "annual": ", jährlich",
        "every_months": ", alle {months} Monate",
        "arrears": ", nachträglich",
        "unused": "Nicht genutzte Zeit: ",
        "remaining": "Verbleibende Zeit: ",
        "trial": " (kostenlose Testphase bis {date})",
        "times": "{name} x {quantity}",
        "package": "{name}, {packages} x {size} {unit} ({quantity} {unit} genutzt)",
        "per_unit": "pro Einheit",
        "graduated": "Staffelpreise",
        "volume": "Volumenstaffel",
        "packages_of": "Pakete zu {size}",
        "usage": "{metric}: {quantity} {unit} ({pricing}), {span}",
        "tier": "{metric} {first} bis {last} (Staffel {position} von {count}), {span}",
        "minimum": "Mindestumsatz von {minimum} {currency} pro Monat; "
        "die Nutzung betrug {usage} {currency}",
        "milestone": "{description}: Meilenstein {position} von {count}{label}, "
        "{percent} % von {amount} {currency}",
        "percent_off": "{percent} % Rabatt auf {target}",
        "amount_off": "{amount} {currency} Rabatt auf {target}",
        "the_invoice": "die Rechnung",
        "coupon_period": ", Zeitraum {position} von {count}",
        "discount": "{name}: {what}{coupon}",
        "credit_carried": "Guthaben übertragen aus {month} ({credit_id})",
        "credit_for": "Gutschrift zu {number}, Position {line_id}: {description} ({reason})",
        "credit_amount": "Gutschrift zu {number}: {reason}",
        "unit_seat": "Nutzer",
        "unit_seats": "Nutzer",
        "unit_GB": "GB",
        "unit_calls": "Aufrufe",
        "unit_GB-months": "GB-Monate",
        "unit_messages": "Nachrichten",
        "used": "genutzt",
    },
    "fr": {
        "span": "du {start} au {end}",
        "partial_span": "{days} jours sur {term_days}, du {start} au {end}",
        "quarterly": ", trimestriel",
        "annual": ", annuel",
        "every_months": ", tous les {months} mois",
        "arrears": ", à terme échu",
        "unused": f"Temps non utilisé{_NBSP}: ",
        "remaining": f"Temps restant{_NBSP}: ",
        "trial": " (essai gratuit jusqu'au {date})",
        "times": "{name} x {quantity}",
        "package": "{name}, {packages} x {size} {unit} ({quantity} {unit} utilisés)",
        "per_unit": "à l'unité",
        "graduated": "tarif par paliers",
        "volume": "palier de volume",
        "packages_of": "lots de {size}",
        "usage": f"{{metric}}{_NBSP}: {{quantity}} {{unit}} ({{pricing}}), {{span}}",
        "tier": "{metric} {first} à {last} (palier {position} sur {count}), {span}",
        "minimum": "Engagement minimum de {minimum} {currency} par mois ; "
        "consommation de {usage} {currency}",
        "milestone": f"{{description}}{_NBSP}: jalon {{position}} sur {{count}}{{label}}, "
        "{percent} % de {amount} {currency}",
        "percent_off": "remise de {percent} % sur {target}",
        "amount_off": "remise de {amount} {currency} sur {target}",
        "the_invoice": "la facture",
        "coupon_period": ", période {position} sur {count}",
        "discount": f"{{name}}{_NBSP}: {{what}}{{coupon}}",
        "credit_carried": "Avoir reporté de {month} ({credit_id})",
        "credit_for": f"Avoir sur {{number}}, ligne {{line_id}}{_NBSP}: {{description}} "
        "({reason})",
        "credit_amount": f"Avoir sur {{number}}{_NBSP}: {{reason}}",
        "unit_seat": "siège",
        "unit_seats": "sièges",
        "unit_GB": "Go",
        "unit_calls": "appels",
        "unit_GB-months": "Go-mois",
        "unit_messages": "messages",
        "used": "utilisés",
    },
}


def language_of(locale: str) -> str:
    """ "de-DE", "de_DE" or "de" -> "de"; a language without phrases gets English."""
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    return language if language in PHRASES else "en"


class Wording:
    """Phrases, numbers and dates of one language; one shared instance per language."""

    __slots__ = ("_numbers", "_translate", "language", "phrases")

    def __init__(self, language: str) -> None:
        self.language = language
        self.phrases = PHRASES[language]
        group, decimal = get_group_symbol(locale=language), get_decimal_symbol(locale=language)
        self._translate = (
            None if (group, decimal) == (",", ".") else str.maketrans({",": group, ".": decimal})
        )
        #: Quantities repeat across a run's accounts (tier bounds, seat counts): each is
        #: formatted once. ``1`` and ``1.0`` share an entry, and print alike.
        self._numbers: dict[Decimal, str] = {}

    def number(self, value: Decimal) -> str:
        """A quantity as the locale writes it, without trailing zeros: 85.000 / 85 000 / 12,5."""
        text = self._numbers.get(value)
        if text is None:
            if len(self._numbers) > 50_000:
                self._numbers.clear()
            normalized = value.normalize()
            if normalized == normalized.to_integral_value():
                normalized = normalized.quantize(Decimal(1))
            text = self._numbers[value] = self._localize(format(normalized, ",f"))
        return text

    def amount(self, value: Decimal) -> str:
        """An amount already rounded to its currency, all its decimals kept: 1.000,00."""
        return self._localize(format(value, ",f"))

    def _localize(self, text: str) -> str:
        return text if self._translate is None else text.translate(self._translate)

    def date_text(self, day: date) -> str:
        return day.isoformat() if self.language == "en" else _medium_date(day, self.language)

    def month(self, label: str) -> str:
        """``2026-11`` as "November 2026", "novembre 2026"."""
        return _month_name(label, self.language)

    def unit(self, label: str, quantity: Decimal | None = None) -> str:
        """A catalog unit label in this language; "seat" takes its plural unless 1."""
        if label == "seat" and quantity != 1:
            label = "seats"
        return self.phrases.get(f"unit_{label}", label)

    def span(self, start: date, end: date, term_days: int) -> str:
        days = (end - start).days + 1
        values = {"start": self.date_text(start), "end": self.date_text(end)}
        if days == term_days:
            return self.phrases["span"].format(**values)
        return self.phrases["partial_span"].format(days=days, term_days=term_days, **values)

    def cadence(self, months: int, timing: str) -> str:
        if months == 1:
            note = ""
        elif months == 3:
            note = self.phrases["quarterly"]
        elif months == 12:
            note = self.phrases["annual"]
        else:
            note = self.phrases["every_months"].format(months=months)
        return note + self.phrases["arrears"] if timing == "arrears" else note

    def __call__(self, phrase: str, **values: object) -> str:
        return self.phrases[phrase].format(**values)


@lru_cache(maxsize=len(LANGUAGES))
def wording(language: str) -> Wording:
    return Wording(language if language in PHRASES else "en")


@lru_cache(maxsize=4096)
def _medium_date(day: date, language: str) -> str:
    return format_date(day, format="medium", locale=language)


@lru_cache(maxsize=1024)
def _month_name(label: str, language: str) -> str:
    return format_date(date(int(label[:4]), int(label[5:7]), 1), "LLLL yyyy", locale=language)
