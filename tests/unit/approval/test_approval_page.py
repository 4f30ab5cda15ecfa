"""What the approver sees: the summary page, the decided page, errors and the e-mail."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from markupsafe import escape

from invoice_dispatch.approval import (
    ApprovalDecision,
    DraftPage,
    render_approval_email,
    render_decided_page,
    render_error_page,
    render_summary_page,
    sort_and_page,
)
from invoice_dispatch.approval.models import ExcludedAccount, QuarantinedAccount
from invoice_dispatch.approval.page import SUMMARY_LIST_LIMIT
from tests.unit.approval.approval_factories import (
    APPROVER,
    HOSTILE_NAME,
    NOW,
    RUN_ID,
    make_draft_row,
    make_summary,
)

POST_URL = f"/approvals/{RUN_ID}?approver=ceo%40example.com&exp=1790000000&sig=abc123"


class _Collector(HTMLParser):
    """Collects links, form inputs and buttons the way a browser without JavaScript sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag in ("input", "textarea"):
            self.inputs.append({"tag": tag, **attributes})
        elif tag == "button":
            self.buttons.append(attributes)
        elif tag == "script":
            self.scripts += 1


def _escaped(text: str) -> str:
    """Text as Jinja2's autoescape writes it into the page."""
    return str(escape(text))


def _drafts(rows: int = 120, hostile: bool = True) -> DraftPage:
    draft_rows = [make_draft_row(index) for index in range(rows)]
    if hostile:
        draft_rows[1] = make_draft_row(1, customer_name=HOSTILE_NAME, flag_count=3)
    return sort_and_page(draft_rows, "flags", True, 2, 25)


def _render(**summary_overrides: object) -> str:
    return render_summary_page(
        make_summary(**summary_overrides),
        _drafts(),
        form_token="f1.token.mac",
        post_url=POST_URL,
        preview_url_for=lambda invoice_id: f"/approvals/{RUN_ID}/preview/{invoice_id}",
    )


def _parsed(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_summary_shows_totals_per_currency_with_tax() -> None:
    page = _render()
    assert "€12,345.60" in page and "€2,345.66" in page and "€14,691.26" in page
    assert "¥500,000" in page and "¥50,000" in page
    assert "Approve invoices for 2026-10" in page


def test_summary_shows_counts_exclusion_reasons_and_quarantine_reasons() -> None:
    page = _render()
    assert "<strong>42</strong> eligible accounts" in page
    assert "2 × paused" in page and "1 × cancelled before the period" in page
    assert "acct-q1" in page
    assert _escaped("Currency 'XXX' is not supported") in page


def test_flagged_invoices_show_their_explanations() -> None:
    page = _render()
    assert _escaped("Total is 4.2 times last month's (2,333.00 €)") in page
    assert "held by rule" in page


def test_a_run_s_exceptions_are_listed_up_to_a_limit_so_the_page_stays_small() -> None:
    """At 100,000 accounts a page listing them all was 8.7 MB, over a Lambda's 6 MB answer."""
    many = SUMMARY_LIST_LIMIT + 50
    summary = make_summary()
    page = _render(
        quarantined=[
            QuarantinedAccount(account_id=f"acct-q{n:04d}", reason=f"Bad data {n}")
            for n in range(many)
        ],
        flagged=[
            summary.flagged[0].model_copy(update={"invoice_id": f"2026-10:acct-{n:05d}"})
            for n in range(many)
        ],
        excluded=[
            ExcludedAccount(account_id=f"acct-x{n}", reason=f"reason {n}") for n in range(many)
        ],
    )

    flagged_table = page.split('id="flagged"', 1)[1].split("</table>", 1)[0]
    assert flagged_table.count("data-invoice-id=") == SUMMARY_LIST_LIMIT
    assert "acct-q0199" in page and "acct-q0200" not in page
    assert f"The first {SUMMARY_LIST_LIMIT} of {many} are listed" in page
    assert "… and 50 more reasons, in the run report" in page
    assert f"<strong>{many}</strong> quarantined" in page


def test_customer_names_with_markup_are_escaped_everywhere() -> None:
    page = _render()
    assert HOSTILE_NAME not in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in page
    assert _parsed(page).scripts == 0


def test_customer_names_are_isolated_from_the_text_around_them() -> None:
    """A RIGHT-TO-LEFT OVERRIDE in a name must not reverse the amounts next to it."""
    name = "Ali \u202eBaba Trading"
    flagged = make_summary().flagged[0].model_copy(update={"customer_name": name})
    rows = [make_draft_row(0, customer_name=name), make_draft_row(1, customer_name=name)]
    rows[1] = rows[1].model_copy(update={"held_by_rule": False})
    page = render_summary_page(
        make_summary(flagged=[flagged]),
        sort_and_page(rows, "flags", True, 1, 25),
        form_token="f1.token.mac",
        post_url=POST_URL,
        preview_url_for=lambda invoice_id: f"/approvals/{RUN_ID}/preview/{invoice_id}",
    )

    assert page.count(f"<bdi>{name}</bdi>") == 3
    assert page.count(name) == 4  # and once in the hold box's label, which cannot hold markup


def test_every_draft_on_the_page_has_a_hold_box_and_a_draft_preview_link() -> None:
    page = _render()
    collector = _parsed(page)
    drafts = _drafts()
    holdable = [row for row in drafts.rows if not row.held_by_rule]
    hold_values = [i["value"] for i in collector.inputs if i.get("name") == "hold"]
    assert hold_values == [row.invoice_id for row in holdable]
    for row in drafts.rows:
        assert f"/approvals/{RUN_ID}/preview/{row.invoice_id}" in collector.links
    assert page.count("PDF (DRAFT)") == len(drafts.rows)


def test_paging_and_sorting_links_keep_the_signed_query() -> None:
    collector = _parsed(_render())
    list_links = [link for link in collector.links if "page=" in link]
    assert list_links
    for link in list_links:
        query = parse_qs(urlsplit(link).query)
        assert query["sig"] == ["abc123"] and query["exp"] == ["1790000000"]
        assert query["approver"] == ["ceo@example.com"]
    pages = {parse_qs(urlsplit(link).query)["page"][0] for link in list_links}
    assert {"1", "3", "5"} <= pages


def test_form_offers_three_decisions_with_token_and_a_required_reject_reason() -> None:
    collector = _parsed(_render())
    assert sorted(button["value"] or "" for button in collector.buttons) == [
        "approve",
        "approve_with_holds",
        "reject",
    ]
    tokens = [i for i in collector.inputs if i.get("name") == "form_token"]
    assert len(tokens) == 2 and all(token["value"] == "f1.token.mac" for token in tokens)
    (reason,) = [i for i in collector.inputs if i.get("name") == "reason"]
    assert "required" in reason


def test_page_is_responsive_and_works_without_javascript() -> None:
    page = _render()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width: 700px)" in page
    assert 'method="post"' in page and "<script" not in page


def test_shadow_run_is_announced() -> None:
    assert "Shadow run." in _render(mode="shadow")
    assert "Shadow run." not in _render()


def test_decided_page_says_who_decided_when_and_how_many_were_held() -> None:
    decision = ApprovalDecision(
        decision="approve",
        held_invoice_ids=["2026-10:acct-00002", "2026-10:acct-00003"],
        approver=APPROVER,
        decided_at=NOW,
        source_ip="203.0.113.9",
        user_agent="Mozilla/5.0",
    )
    page = render_decided_page(decision, RUN_ID)
    assert (
        "This batch was approved by ceo@example.com at 2026-11-02 09:30 UTC (2 invoices held)."
        in page
    )
    assert "2026-10:acct-00003" in page


def test_decided_page_for_a_rejection_shows_the_escaped_reason() -> None:
    decision = ApprovalDecision(
        decision="reject",
        reason="<b>wrong</b> usage",
        approver=APPROVER,
        decided_at=NOW,
        source_ip="203.0.113.9",
        user_agent="Mozilla/5.0",
    )
    page = render_decided_page(decision, RUN_ID)
    assert "This batch was rejected by ceo@example.com at 2026-11-02 09:30 UTC." in page
    assert "&lt;b&gt;wrong&lt;/b&gt; usage" in page


def test_rejected_decision_page_is_titled_rejected() -> None:
    decision = ApprovalDecision(
        decision="reject",
        reason="Wrong usage figures",
        approver=APPROVER,
        decided_at=NOW,
        source_ip="203.0.113.9",
        user_agent="Mozilla/5.0",
    )
    page = render_decided_page(decision, RUN_ID, just_recorded=True)
    assert f"<title>Invoice run {RUN_ID}: rejected" in page
    assert "rejectd" not in page


def test_error_page_escapes_its_message() -> None:
    page = render_error_page("Link expired", 'Ask <billing> & "team"')
    assert "<h1>Link expired</h1>" in page
    assert "Ask &lt;billing&gt; &amp; &#34;team&#34;" in page


def test_approval_email_has_period_counts_totals_flags_link_and_expiry() -> None:
    link = f"https://approve.example.com/approvals/{RUN_ID}?approver=ceo%40example.com&exp=1&sig=a"
    summary = make_summary(expires_at=NOW + timedelta(hours=72))

    subject, text_body, html_body = render_approval_email(summary, link)

    assert subject == "Approve 42 invoices for 2026-10 (1 flagged, 1 held)"
    for body in (text_body, html_body):
        assert "2026-10" in body and "Acme Cloud GmbH" in body
        assert "42 eligible, 3 excluded, 1 quarantined" in body
        assert "1 flagged, 1 held by rule" in body
        assert "€14,691.26" in body and "¥550,000" in body
        assert "expires 2026-11-05 09:30 UTC" in body
    assert link in text_body
    assert _escaped(link) in html_body
    assert "&amp;" not in text_body


def test_shadow_approval_email_is_marked_in_subject_and_body() -> None:
    subject, text_body, _ = render_approval_email(make_summary(mode="shadow"), "https://x/a")
    assert subject.startswith("[SHADOW] ")
    assert text_body.startswith("SHADOW RUN")
