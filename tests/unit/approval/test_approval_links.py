"""The emailed link and the form token: nobody can forge, alter, reuse elsewhere or revive them."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from invoice_dispatch.approval import (
    LinkRejected,
    issue_form_token,
    sign_approval_link,
    verify_approval_link,
    verify_form_token,
)
from tests.unit.approval.approval_factories import APPROVER, KEY, NOW, RUN_ID


def _link_fields(link: str) -> tuple[str, str, str, str]:
    parts = urlsplit(link)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    run_id = unquote(parts.path.rsplit("/", 1)[1])
    return run_id, query["approver"], query["exp"], query["sig"]


def _signed(run_id: str = RUN_ID, hours: int = 72) -> str:
    return sign_approval_link(
        "https://approve.example.com/prod/", run_id, APPROVER, NOW + timedelta(hours=hours), KEY
    )


def test_signed_link_verifies_and_names_run_approver_and_expiry() -> None:
    link = _signed()

    claims = verify_approval_link(*_link_fields(link), key=KEY, now=NOW)

    assert link.startswith(f"https://approve.example.com/prod/approvals/{RUN_ID}?approver=")
    assert claims.run_id == RUN_ID
    assert claims.approver == APPROVER
    assert claims.expires_at == NOW + timedelta(hours=72)


def test_link_never_contains_a_task_token_or_the_key() -> None:
    link = _signed()
    assert set(parse_qs(urlsplit(link).query)) == {"approver", "exp", "sig"}
    assert KEY.decode() not in link


def test_run_ids_with_url_characters_survive_the_round_trip() -> None:
    run_id = "2026-10:shadow/run #2"
    claims = verify_approval_link(*_link_fields(_signed(run_id)), key=KEY, now=NOW)
    assert claims.run_id == run_id


def test_tampered_signature_is_rejected_as_altered() -> None:
    run_id, approver, exp, sig = _link_fields(_signed())
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")

    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(run_id, approver, exp, flipped, KEY, NOW)

    assert rejected.value.status_code == 403
    assert "altered" in rejected.value.reason


@pytest.mark.parametrize("field", ["approver", "exp"])
def test_changing_approver_or_expiry_reads_as_altered(field: str) -> None:
    run_id, approver, exp, sig = _link_fields(_signed())
    if field == "approver":
        approver = "mallory@example.com"
    else:
        exp = str(int(exp) + 86400 * 30)

    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(run_id, approver, exp, sig, KEY, NOW)

    assert rejected.value.status_code == 403
    assert "altered" in rejected.value.reason


def test_expired_link_is_rejected_with_its_expiry_and_what_to_do() -> None:
    fields = _link_fields(_signed(hours=72))

    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(*fields, key=KEY, now=NOW + timedelta(hours=72, seconds=1))

    assert rejected.value.status_code == 410
    assert "expired on 2026-11-05 09:30 UTC" in rejected.value.reason
    assert "re-send" in rejected.value.reason


def test_link_of_another_run_is_rejected_as_wrong_run() -> None:
    _, approver, exp, sig = _link_fields(_signed("run-2026-09-live-01"))

    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(RUN_ID, approver, exp, sig, KEY, NOW)

    assert rejected.value.status_code == 403
    assert "different invoice run" in rejected.value.reason


def test_link_signed_with_another_key_is_rejected() -> None:
    forged = sign_approval_link(
        "https://x", RUN_ID, APPROVER, NOW + timedelta(hours=1), b"attacker-key-0123456789"
    )
    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(*_link_fields(forged), key=KEY, now=NOW)
    assert 400 <= rejected.value.status_code < 500


@pytest.mark.parametrize(
    ("exp", "sig"), [("", "ab" * 40), ("tomorrow", "ab" * 40), ("1790000000", ""), ("1", "zz")]
)
def test_incomplete_link_gets_400_and_a_hint(exp: str, sig: str) -> None:
    with pytest.raises(LinkRejected) as rejected:
        verify_approval_link(RUN_ID, APPROVER, exp, sig, KEY, NOW)
    assert rejected.value.status_code == 400
    assert "incomplete" in rejected.value.reason


def test_short_keys_and_naive_datetimes_are_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_approval_link("https://x", RUN_ID, APPROVER, NOW, b"short")
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_approval_link("https://x", RUN_ID, APPROVER, NOW.replace(tzinfo=None), KEY)


def test_form_token_round_trip_binds_run_approver_and_nonce() -> None:
    token = issue_form_token(RUN_ID, APPROVER, KEY, NOW, timedelta(hours=1))

    claims = verify_form_token(token, RUN_ID, KEY, NOW + timedelta(minutes=59))

    assert (claims.run_id, claims.approver) == (RUN_ID, APPROVER)
    assert claims.nonce
    assert issue_form_token(RUN_ID, APPROVER, KEY, NOW, timedelta(hours=1)) != token


@pytest.mark.parametrize("token", [None, ""])
def test_post_without_form_token_is_refused(token: str | None) -> None:
    with pytest.raises(LinkRejected) as rejected:
        verify_form_token(token, RUN_ID, KEY, NOW)
    assert rejected.value.status_code == 403
    assert "without its security token" in rejected.value.reason


def test_forged_form_tokens_are_refused() -> None:
    genuine = issue_form_token(RUN_ID, APPROVER, KEY, NOW, timedelta(hours=1))
    version, body, signature = genuine.split(".")
    forgeries = [
        "f1.eyJyIjoicnVuIn0.00",
        f"{version}.{body}.{'0' * 64}",
        f"{version}.{body[:-2]}AA.{signature}",
        f"f2.{body}.{signature}",
        issue_form_token(
            RUN_ID, "mallory@example.com", b"attacker-key-0123456789", NOW, timedelta(hours=1)
        ),
        "garbage",
    ]
    for forged in forgeries:
        with pytest.raises(LinkRejected) as rejected:
            verify_form_token(forged, RUN_ID, KEY, NOW)
        assert rejected.value.status_code == 403, forged
        assert "not valid" in rejected.value.reason


def test_link_signature_cannot_be_replayed_as_a_form_token() -> None:
    _, _, _, sig = _link_fields(_signed())
    with pytest.raises(LinkRejected):
        verify_form_token(f"f1.{sig}.{sig}", RUN_ID, KEY, NOW)


def test_form_token_of_another_run_or_expired_is_refused() -> None:
    other_run = issue_form_token("run-other", APPROVER, KEY, NOW, timedelta(hours=1))
    with pytest.raises(LinkRejected, match="different invoice run") as wrong_run:
        verify_form_token(other_run, RUN_ID, KEY, NOW)
    assert wrong_run.value.status_code == 403

    token = issue_form_token(RUN_ID, APPROVER, KEY, NOW, timedelta(hours=1))
    with pytest.raises(LinkRejected, match="expired") as expired:
        verify_form_token(token, RUN_ID, KEY, NOW + timedelta(hours=1))
    assert expired.value.status_code == 410
