"""S3: run manifests, screening reports and invoice PDFs under deterministic keys.

Deterministic keys make a retried step overwrite its own object instead of leaving a
second copy; the bucket is versioned (and may use Object Lock), so nothing is lost.

Documents with one entry per invoice of a run (the delivery manifest, the approval
page's rows) are written and read one element at a time: at 100,000 invoices neither
the list nor its text may have to sit in a 1,024 MB Lambda at once.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

#: A streamed document stays in memory up to this size, then spills to /tmp (512 MB in
#: Lambda by default); the approval rows of 100,000 drafts are about 25 MB.
_SPOOL_IN_MEMORY_BYTES = 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024
_JSON_WHITESPACE = " \t\n\r"
#: What may follow an element of an array; anything else may still belong to it.
_AFTER_ELEMENT = ",]" + _JSON_WHITESPACE


def _json_text(payload: Any) -> str:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json()
    return json.dumps(payload, default=str, separators=(",", ":"))


class S3Documents:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.bucket = bucket

    def put_json(self, key: str, payload: Any) -> str:
        self._put_body(key, _json_text(payload).encode("utf-8"), "application/json")
        return key

    def put_json_stream(self, key: str, items: Iterable[Any]) -> int:
        """Write ``items`` as one JSON array, element by element; returns how many.

        For plain values the bytes are those ``put_json(key, list(items))`` writes, so
        readers of the whole document (the approval page, the Distributed Map's
        ItemReader) see no difference; but the writer never holds the list or its text.
        """
        count = 0
        with self._spooled_upload(key, "application/json") as body:
            body.write(b"[")
            for item in items:
                if count:
                    body.write(b",")
                body.write(_json_text(item).encode("utf-8"))
                count += 1
            body.write(b"]")
        return count

    def put_text_stream(self, key: str, lines: Iterable[str], content_type: str) -> int:
        """Write ``lines`` (each with its own line ending) as one UTF-8 object; returns how
        many. The register's CSV of a 100,000-invoice period goes up this way."""
        count = 0
        with self._spooled_upload(key, content_type) as body:
            for line in lines:
                body.write(line.encode("utf-8"))
                count += 1
        return count

    @contextlib.contextmanager
    def _spooled_upload(self, key: str, content_type: str) -> Iterator[Any]:
        """A file to write the object's bytes into; on leaving, they go up in a single
        PutObject read from the spooled file (up to 5 GB), which needs no multipart buffers."""
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES) as body:
            yield body
            body.seek(0)
            self._put_body(key, body, content_type)

    def _put_body(self, key: str, body: Any, content_type: str) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
        )

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def get_json_if_exists(self, key: str) -> Any | None:
        """None when a step that writes ``key`` never ran (e.g. a run that failed early)."""
        try:
            return self.get_json(key)
        except self._s3.exceptions.NoSuchKey:
            return None

    def get_json_under(self, prefix: str) -> Iterator[Any]:
        """Every JSON document under ``prefix``, in key order, one page of keys at a time.

        A run writes one report per chunk; at 100,000 accounts that is more than the 1,000
        keys one listing call returns, so the listing is paged.
        """
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for entry in page.get("Contents", []):
                yield self.get_json(entry["Key"])

    def iter_json_array(self, key: str) -> Iterator[Any]:
        """The elements of a JSON array document, decoded one at a time as its body arrives.

        The reading side of ``put_json_stream`` for a step that needs each element once:
        only one read chunk and the element being decoded are held.
        """
        body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        yield from _JsonArrayStream(body.iter_chunks(_READ_CHUNK_BYTES))

    def iter_json_array_if_exists(self, key: str) -> Iterator[Any]:
        """Nothing when a step that writes ``key`` never ran (e.g. a run that failed early)."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._s3.exceptions.NoSuchKey:
            return
        yield from _JsonArrayStream(body.iter_chunks(_READ_CHUNK_BYTES))

    def put_bytes(self, key: str, body: bytes, content_type: str, metadata: dict[str, str]) -> str:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=metadata,
            ServerSideEncryption="aws:kms",
        )
        return key

    def get_bytes(self, key: str) -> bytes:
        return bytes(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def sha256_of(self, key: str) -> str | None:
        """The SHA-256 of the object as it is stored now, read in chunks; None if it is gone."""
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self._s3.exceptions.NoSuchKey:
            return None
        digest = hashlib.sha256()
        for chunk in body.iter_chunks(_READ_CHUNK_BYTES):
            digest.update(chunk)
        return digest.hexdigest()

    def default_retention(self) -> str | None:
        """The bucket's default Object Lock retention ("COMPLIANCE, 3650 days"), or None
        when the bucket locks nothing by default (the template's ``InvoiceRetentionDays`` 0)."""
        try:
            configuration = self._s3.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ObjectLockConfigurationNotFoundError":
                return None
            raise
        rule = configuration.get("ObjectLockConfiguration", {}).get("Rule", {})
        default = rule.get("DefaultRetention")
        if not default:
            return None
        length = f"{default['Days']} days" if "Days" in default else f"{default['Years']} years"
        return f"{default['Mode']}, {length}"

    def retained_until(self, key: str) -> datetime | None:
        """Until when Object Lock keeps this object from change; None: no retention on it.

        Read from the object's headers (HeadObject answers the retention to a caller with
        ``s3:GetObjectRetention``), one request per object as the hash check already makes.
        """
        head = self._s3.head_object(Bucket=self.bucket, Key=key)
        until = head.get("ObjectLockRetainUntilDate")
        return until if isinstance(until, datetime) and head.get("ObjectLockMode") else None

    def presigned_url(self, key: str, expires_in_seconds: int) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_in_seconds,
            )
        )


def read_uri(s3_client: Any, uri: str) -> bytes:
    """Read ``s3://bucket/key``: account and usage sources are named this way in settings."""
    if not uri.startswith("s3://"):
        raise ValueError(f"Source '{uri}' is not an s3://bucket/key address")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bytes(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())


class _JsonArrayStream:
    """Decode the elements of one top-level JSON array from byte chunks as they arrive.

    Each element is decoded with ``json.JSONDecoder.raw_decode``; an element cut by a
    chunk boundary is decoded again once the next chunk is in. A decoded value is only
    taken when a delimiter follows it (or the body ends): ``12`` may be the start of
    ``12.5e3`` whose rest is still to come.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder()
        self._text = ""
        self._at = 0

    def __iter__(self) -> Iterator[Any]:
        self._take("[")
        if self._peek() == "]":
            self._at += 1
        else:
            while True:
                yield self._element()
                if self._take(",]") == "]":
                    break
        if self._peek() is not None:
            raise ValueError("The JSON document goes on after its array")

    def _read_more(self) -> bool:
        """Drop what was consumed and append the next chunk; False at the end of the body."""
        chunk = next(self._chunks, None)
        if chunk is None:
            self._utf8.decode(b"", final=True)  # a cut UTF-8 sequence raises here
            return False
        self._text = self._text[self._at :] + self._utf8.decode(chunk)
        self._at = 0
        return True

    def _peek(self) -> str | None:
        """The next character that is not whitespace, without consuming it; None at the end."""
        while True:
            while self._at < len(self._text) and self._text[self._at] in _JSON_WHITESPACE:
                self._at += 1
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._read_more():
                return None

    def _take(self, allowed: str) -> str:
        found = self._peek()
        if found is None or found not in allowed:
            expected = " or ".join(repr(char) for char in allowed)
            raise ValueError(f"Expected {expected} in the JSON array, found {found!r}")
        self._at += 1
        return found

    def _element(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if self._read_more():
                    continue
                raise
            if (end < len(self._text) and self._text[end] in _AFTER_ELEMENT) or (
                not self._read_more()
            ):
                self._at = end
                return value
