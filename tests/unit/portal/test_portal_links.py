"""The customer's portal link: it opens that account's page until it expires, and nothing else."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from invoice_dispatch.approval import LinkRejected, sign_approval_link, verify_approval_link
from invoice_dispatch.portal.links import sign_portal_link, verify_portal_link
from tests.unit.approval.approval_factories import KEY, NOW

ACCOUNT = "ACC-1001"


def _fields(link: str) -> tuple[str, str, str]:
    parts = urlsplit(link)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return unquote(parts.path.rsplit("/", 1)[1]), query["exp"], query["sig"]


def _link(account_id: str = ACCOUNT, hours: int = 168) -> str:
    return sign_portal_link(
        "https://pay.example.com/", account_id, NOW + timedelta(hours=hours), KEY
    )


def test_a_signed_link_opens_its_account_until_it_expires() -> None:
    link = _link()

    claims = verify_portal_link(*_fields(link), key=KEY, now=NOW + timedelta(hours=167))

    assert link.startswith(f"https://pay.example.com/portal/{ACCOUNT}?exp=")
    assert claims.account_id == ACCOUNT
    assert claims.expires_at == NOW + timedelta(hours=168)


def test_account_ids_with_reserved_characters_are_quoted_and_still_verify() -> None:
    link = _link("ACME/EU 7")

    assert "/portal/ACME%2FEU%207?" in link
    assert verify_portal_link(*_fields(link), key=KEY, now=NOW).account_id == "ACME/EU 7"


@pytest.mark.parametrize(
    ("name", "edit", "status", "sentence"),
    [
        ("another account", lambda a, e, s: ("ACC-1002", e, s), 403, "another customer account"),
        ("later expiry", lambda a, e, s: (a, str(int(e) + 3600), s), 403, "altered"),
        (
            "edited signature",
            lambda a, e, s: (a, e, s[:-1] + "01"[s.endswith("0")]),
            403,
            "altered",
        ),
        (
            "other key",
            lambda a, e, s: _fields(
                sign_portal_link("https://x", a, NOW + timedelta(hours=1), b"o" * 32)
            ),
            403,
            "another customer account",
        ),
        ("no signature", lambda a, e, s: (a, e, ""), 400, "incomplete"),
        ("expiry not a number", lambda a, e, s: (a, "soon", s), 400, "incomplete"),
    ],
)
def test_an_edited_or_foreign_link_is_refused_with_a_sentence(
    name: str, edit: object, status: int, sentence: str
) -> None:
    account_id, exp, sig = edit(*_fields(_link()))  # type: ignore[operator]

    with pytest.raises(LinkRejected) as refused:
        verify_portal_link(account_id, exp, sig, KEY, NOW)

    assert refused.value.status_code == status, name
    assert sentence in refused.value.reason


def test_an_expired_link_says_when_it_expired_and_how_to_get_a_new_one() -> None:
    with pytest.raises(LinkRejected) as refused:
        verify_portal_link(*_fields(_link(hours=1)), key=KEY, now=NOW + timedelta(hours=1))

    assert refused.value.status_code == 410
    assert "expired on 2026-11-02 10:30 UTC" in refused.value.reason
    assert "most recent invoice or reminder e-mail" in refused.value.reason


def test_portal_and_approval_links_never_open_each_other() -> None:
    """Same secret or not, each purpose signs with its own derived key."""
    approval = sign_approval_link(
        "https://x", ACCOUNT, "a@example.com", NOW + timedelta(hours=1), KEY
    )
    approval_sig = parse_qs(urlsplit(approval).query)["sig"][0]
    _, exp, portal_sig = _fields(_link(hours=1))

    with pytest.raises(LinkRejected):
        verify_portal_link(ACCOUNT, exp, approval_sig, KEY, NOW)
    with pytest.raises(LinkRejected):
        verify_approval_link(ACCOUNT, "a@example.com", exp, portal_sig, KEY, NOW)
