"""Synthetic accounts for scale runs: N accounts, the same N every time for one seed.

The mix follows the bundled sample (``events/accounts/sample-accounts.json``), so a scale
run exercises what a real month does, not one happy path repeated: EUR, USD and JPY
customers in the countries the tax table knows, every catalog plan, graduated, volume
and package usage, discounts, one-offs, minimum commitments and history that trips the
anomaly checks. A few accounts are paused or cancelled (excluded by GatherAccounts),
a few are invalid (quarantined, each for a reason a billing person reads), and a few
drafts come out with a zero total (held at approval by ``NON_POSITIVE_TOTAL``).

python -m tools.synthetic_accounts COUNT [--seed N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_SEED = 15  # issue 15, where these accounts were first needed

#: (country, region or None, currency, locale, city, postal code): a customer's home.
_HOMES = (
    ("DE", None, "EUR", "de", "Hamburg", "20457"),
    ("DE", None, "EUR", "de", "Berlin", "10999"),
    ("FR", None, "EUR", "fr", "Lyon", "69002"),
    ("NL", None, "EUR", "en", "Utrecht", "3511 NK"),
    ("IE", None, "EUR", "en", "Dublin", "D02 X285"),
    ("GB", None, "EUR", "en", "Manchester", "M3 3AP"),
    ("AT", None, "EUR", "de", "Wien", "1010"),
    ("US", "CA", "USD", "en", "San Jose", "95110"),
    ("US", "NY", "USD", "en", "Albany", "12207"),
    ("US", "TX", "USD", "en", "Austin", "78701"),
    ("JP", None, "JPY", "en", "Tokyo", "100-0005"),
)
#: How often each home is drawn: mostly EUR, a quarter USD, some JPY.
_HOME_WEIGHTS = (14, 10, 9, 6, 5, 6, 4, 9, 8, 7, 8)
_PLANS = ("STARTER", "TEAM-SEAT", "BUSINESS", "ENTERPRISE", "STORAGE-PACK")
_PLAN_WEIGHTS = (35, 35, 20, 3, 7)
_SURNAMES = (
    "Hoffmann", "Lumiere", "Van der Berg", "Kestrel", "Bluefin", "Sakura", "Northpeak",
    "Greenleaf", "Quantum", "Helios", "Riverbend", "Brightwater", "Lindqvist", "Moreau",
    "Pacific", "Yamamoto", "Cobalt", "Meridian", "Stellar", "Fernwood", "Orion", "Summit",
)  # fmt: skip
_KINDS = ("Logistik", "Data", "Analytics", "Robotics", "Systems", "Media", "Labs", "Studio")
_SUFFIX = {"DE": "GmbH", "AT": "GmbH", "FR": "SAS", "NL": "B.V.", "US": "Inc.", "JP": "K.K."}

#: What makes an account invalid, one per quarantined account, in turn.
_DEFECTS = ("currency", "email", "plan", "quantity")
_EXCLUDED_EVERY = 40  # about 2.5 % paused or cancelled
_QUARANTINED_EVERY = 250  # 0.4 % invalid
_ZERO_TOTAL_EVERY = 500  # 0.2 % fully discounted: held at approval


def synthetic_accounts(count: int, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """``count`` accounts in the account source's JSON shape; equal seeds give equal lists."""
    return list(iter_synthetic_accounts(count, seed))


def iter_synthetic_accounts(count: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    chooser = random.Random(seed)
    for index in range(count):
        yield _account(index, chooser)


def _account(index: int, chooser: random.Random) -> dict[str, Any]:
    country, region, currency, locale, city, postal_code = chooser.choices(
        _HOMES, weights=_HOME_WEIGHTS
    )[0]
    account_id = f"SYN-{index:06d}"
    name = f"{chooser.choice(_SURNAMES)} {chooser.choice(_KINDS)} {_SUFFIX.get(country, 'Ltd')}"
    address: dict[str, Any] = {
        "line1": f"{1 + index % 400} Example Street",
        "city": city,
        "country": country,
        "postal_code": postal_code,
    }
    if region:
        address["region"] = region
    plan = chooser.choices(_PLANS, weights=_PLAN_WEIGHTS)[0]
    subscription: dict[str, Any] = {
        "subscription_id": f"SUB-{index:06d}-A",
        "plan": plan,
        "start": chooser.choice(("2024-01-01", "2025-03-01", "2025-09-15", "2026-11-10")),
    }
    if plan == "TEAM-SEAT":
        subscription["quantity"] = str(chooser.randint(2, 60))
    elif plan == "STORAGE-PACK":
        subscription["quantity"] = str(chooser.randint(1, 30) * 50)
    account: dict[str, Any] = {
        "account_id": account_id,
        "status": "active",
        "currency": currency,
        "customer": {
            "name": name,
            "email": f"billing+{index}@{name.split()[0].lower().replace(' ', '')}.example.com",
            "address": address,
            "locale": locale,
        },
        "subscriptions": [subscription],
    }
    _add_usage(account, chooser)
    _add_extras(account, index, chooser)
    if index % _EXCLUDED_EVERY == _EXCLUDED_EVERY - 1:
        account["status"] = chooser.choice(("paused", "cancelled"))
        if account["status"] == "cancelled":  # cancelled and ended: nothing left to bill
            subscription["start"] = "2024-01-01"
            subscription["end"] = "2026-10-15"
    elif index % _QUARANTINED_EVERY == _QUARANTINED_EVERY // 2:
        _make_invalid(account, _DEFECTS[(index // _QUARANTINED_EVERY) % len(_DEFECTS)])
    elif index % _ZERO_TOTAL_EVERY == 7:
        account["discounts"] = [
            {"discount_id": "PARTNER100", "kind": "percentage", "percent": "100"}
        ]
    return account


def _add_usage(account: dict[str, Any], chooser: random.Random) -> None:
    roll = chooser.random()
    if roll < 0.45:
        return
    if roll < 0.80:
        calls = chooser.randint(5, 900) * 1000
        usage: dict[str, Any] = {"metric": "API-CALLS", "quantity": str(calls)}
        if chooser.random() < 0.3:
            usage["pricing"] = "volume"
        account["usage"] = [usage]
        if chooser.random() < 0.5:  # a usage history; now and then a spike over it
            average = calls // chooser.choice((1, 1, 1, 5))
            account["history"] = {"trailing_usage_average": {"API-CALLS": str(max(average, 1))}}
    elif roll < 0.92:
        account["usage"] = [
            {"metric": "SMS", "quantity": str(chooser.randint(1, 40) * 100)},
            {"metric": "STORAGE-GB", "quantity": str(chooser.randint(10, 2000))},
        ]
    else:
        account["usage"] = [
            {"metric": "SMS", "quantity": str(chooser.randint(1, 9) * 1000), "pricing": "package"}
        ]


def _add_extras(account: dict[str, Any], index: int, chooser: random.Random) -> None:
    roll = chooser.random()
    if roll < 0.06:
        account["discounts"] = [
            {
                "discount_id": "WELCOME20",
                "description": "Welcome offer",
                "kind": "percentage",
                "percent": "20",
                "first_period": "2026-10",
                "periods": 3,
            }
        ]
    elif roll < 0.09:
        account["one_offs"] = [{"product": "ONBOARDING", "bill_in": "2026-11"}]
    elif roll < 0.11 and account["currency"] == "USD":
        account["minimum_commitment"] = {"amount": "150.00", "metrics": ["API-CALLS"]}
    if chooser.random() < 0.2:
        history = account.setdefault("history", {})
        history["previous_gross_total"] = f"{chooser.randint(20, 3000)}.00"
    if index % 97 == 3 and account["customer"]["address"]["country"] in ("FR", "DE", "NL"):
        account["customer"]["vat_id"] = f"{account['customer']['address']['country']}123456789"


def _make_invalid(account: dict[str, Any], defect: str) -> None:
    if defect == "currency":
        account["currency"] = "XYZ"
    elif defect == "email":
        account["customer"]["email"] = "billing at example"
    elif defect == "plan":
        account["subscriptions"][0]["plan"] = "PLATINUM"
    else:
        account["subscriptions"][0]["quantity"] = "-3"


def write_accounts(path: Path, count: int, seed: int = DEFAULT_SEED) -> Path:
    """Write the accounts as the JSON list ``--accounts`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as target:
        target.write("[\n")
        for position, account in enumerate(iter_synthetic_accounts(count, seed)):
            target.write(("" if position == 0 else ",\n") + json.dumps(account, ensure_ascii=False))
        target.write("\n]\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    arguments = parser.parse_args(argv)
    if arguments.out:
        write_accounts(arguments.out, arguments.count, arguments.seed)
    else:
        json.dump(synthetic_accounts(arguments.count, arguments.seed), sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
