"""Sorting and paging the draft list: correct, total, and sorted once at 10,000 drafts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from invoice_dispatch.approval import PageRequest, sort_and_page
from invoice_dispatch.approval import drafts as drafts_module
from invoice_dispatch.approval.drafts import MAX_PAGE_SIZE
from tests.unit.approval.approval_factories import make_draft_row

ROWS = [make_draft_row(index) for index in range(10_000)]


def test_pages_of_10000_drafts_cover_every_draft_exactly_once() -> None:
    seen: list[str] = []
    page_number = 1
    while True:
        page = sort_and_page(ROWS, "customer", False, page_number, 500)
        seen.extend(row.invoice_id for row in page.rows)
        if page.page == page.page_count:
            break
        page_number += 1

    assert page.page_count == 20
    assert len(seen) == len(set(seen)) == 10_000


def test_customer_sort_is_alphabetical_and_descending_reverses_it() -> None:
    ascending = sort_and_page(ROWS, "customer", False, 1, 100).rows
    descending = sort_and_page(ROWS, "customer", True, 1, 100).rows
    names = [row.customer_name for row in ascending]
    assert names == sorted(names)
    assert [row.customer_name for row in descending] == sorted(
        (row.customer_name for row in ROWS), reverse=True
    )[:100]


def test_flags_sort_descending_puts_held_then_flagged_first() -> None:
    page = sort_and_page(ROWS, "flags", True, 1, 50)
    assert all(row.held_by_rule for row in page.rows[:20])
    assert all(row.flag_count >= 1 for row in page.rows)


def test_gross_and_currency_sorts_order_their_columns() -> None:
    gross = sort_and_page(ROWS, "gross", True, 1, 200).rows
    assert [row.gross_total for row in gross] == sorted(
        (r.gross_total for r in gross), reverse=True
    )
    by_currency = sort_and_page(ROWS, "currency", False, 1, 10_000 // 20).rows
    assert {row.currency for row in by_currency} == {"EUR"}


def test_out_of_range_input_from_a_url_is_clamped_not_an_error() -> None:
    last = sort_and_page(ROWS, "no-such-sort", True, 99_999, 10_000_000)
    assert last.sort == "flags"
    assert last.page_size == MAX_PAGE_SIZE
    assert last.page == last.page_count == 20
    first = sort_and_page(ROWS, "gross", False, -3, 0)
    assert (first.page, first.page_size, len(first.rows)) == (1, 1, 1)
    empty = sort_and_page([], "customer", False, 4, 50)
    assert (empty.page, empty.page_count, empty.rows) == (1, 1, [])


def test_page_request_reads_the_query_leniently() -> None:
    request = PageRequest.from_query({"sort": "gross", "desc": "0", "page": "3", "size": "x"})
    assert (request.sort, request.descending, request.page, request.page_size) == (
        "gross",
        False,
        3,
        50,
    )
    assert PageRequest.from_query({"sort": "<x>"}).sort == "flags"
    assert request.apply(ROWS).first_row_number == 101


def test_each_sort_reads_every_draft_once_not_per_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The list is sorted once per request by a key (O(n log n)), never per row or page.

    Counted, not timed: a key read per comparison or a re-sort per row would read the
    10,000 drafts far more than once.
    """
    reads: Counter[str] = Counter()

    def counting(name: str, key: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def read(row: Any) -> Any:
            reads[name] += 1
            return key(row)

        return read

    monkeypatch.setattr(
        drafts_module,
        "_SORT_KEYS",
        {name: counting(name, key) for name, key in drafts_module._SORT_KEYS.items()},
    )
    for sort in ("customer", "gross", "currency", "flags"):
        sort_and_page(ROWS, sort, True, 7, 50)

    assert reads == dict.fromkeys(("customer", "gross", "currency", "flags"), len(ROWS))
