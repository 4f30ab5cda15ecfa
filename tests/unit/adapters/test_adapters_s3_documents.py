"""Run-sized JSON documents are written and read one element at a time, unchanged for readers.

The approval page and the Distributed Map read these documents whole; only the whole-run
steps that write them (and SummarizeRun, which reads the manifests back) stream them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from invoice_dispatch.adapters import s3_documents
from invoice_dispatch.approval.models import DraftRow
from invoice_dispatch.platform import Platform
from tests.unit.approval.approval_factories import make_draft_row

KEY = "runs/run-1/streamed.json"
#: Numbers, literals, nesting, escapes and multi-byte characters: what a chunk boundary
#: may cut in half.
AWKWARD_ELEMENTS: list[Any] = [
    {"chunk_index": 0, "invoice_ids": ["2026-11:ACC-1", "2026-11:ACC-2"]},
    12345.678e-2,
    -7,
    True,
    False,
    None,
    'Müller & Søn — "Zürich" \\ 東京 🧾',
    [[], {}, [1, [2, [3]]]],
    {"nested": {"amount": "19.99", "flags": [None, True]}},
    0,
]


def _stored_bytes(platform: Platform, key: str) -> bytes:
    return platform.documents.get_bytes(key)


def test_streamed_document_is_byte_for_byte_the_one_put_json_writes(platform: Platform) -> None:
    platform.documents.put_json("runs/run-1/whole.json", AWKWARD_ELEMENTS)

    written = platform.documents.put_json_stream(KEY, iter(AWKWARD_ELEMENTS))

    assert written == len(AWKWARD_ELEMENTS)
    assert _stored_bytes(platform, KEY) == _stored_bytes(platform, "runs/run-1/whole.json")


def test_streamed_rows_read_back_as_the_approval_page_reads_them(platform: Platform) -> None:
    rows = [make_draft_row(index) for index in range(25)]

    platform.documents.put_json_stream(KEY, (row for row in rows))

    assert TypeAdapter(list[DraftRow]).validate_json(_stored_bytes(platform, KEY)) == rows


def test_nothing_to_stream_writes_an_empty_array(platform: Platform) -> None:
    assert platform.documents.put_json_stream(KEY, iter(())) == 0
    assert platform.documents.get_json(KEY) == []
    assert list(platform.documents.iter_json_array(KEY)) == []


def test_a_document_larger_than_the_memory_spool_goes_up_from_a_file(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_documents, "_SPOOL_IN_MEMORY_BYTES", 4096)
    ids = [f"2026-11:ACC-{index:06d}" for index in range(2_000)]

    platform.documents.put_json_stream(KEY, ({"invoice_id": i} for i in ids))

    assert [row["invoice_id"] for row in platform.documents.get_json(KEY)] == ids


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 64 * 1024])
def test_array_elements_survive_any_chunk_boundary(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    monkeypatch.setattr(s3_documents, "_READ_CHUNK_BYTES", chunk_bytes)
    spaced = json.dumps(AWKWARD_ELEMENTS, indent=2, ensure_ascii=False)
    platform.documents.put_bytes(KEY, spaced.encode("utf-8"), "application/json", {})

    assert list(platform.documents.iter_json_array(KEY)) == AWKWARD_ELEMENTS


def test_elements_are_decoded_as_the_body_arrives(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_documents, "_READ_CHUNK_BYTES", 16)
    platform.documents.put_bytes(KEY, b'[{"n": 1}, {"n": 2}, !not json', "application/json", {})

    elements: Iterator[Any] = platform.documents.iter_json_array(KEY)

    assert next(elements) == {"n": 1}
    assert next(elements) == {"n": 2}
    with pytest.raises(ValueError):
        next(elements)


@pytest.mark.parametrize(
    "body",
    [b"", b'{"n": 1}', b"[1, 2", b"[1 2]", b"[1,]", b"[1] [2]", b'["caf\xc3'],
    ids=["empty", "not-an-array", "unclosed", "no-comma", "trailing-comma", "after", "cut-utf8"],
)
def test_a_malformed_array_is_refused(platform: Platform, body: bytes) -> None:
    platform.documents.put_bytes(KEY, body, "application/json", {})

    with pytest.raises(ValueError):
        list(platform.documents.iter_json_array(KEY))


def test_a_document_never_written_reads_as_no_elements_only_when_asked(
    platform: Platform,
) -> None:
    assert list(platform.documents.iter_json_array_if_exists("runs/run-1/never.json")) == []
    with pytest.raises(platform.documents._s3.exceptions.NoSuchKey):
        list(platform.documents.iter_json_array("runs/run-1/never.json"))
