"""S3: run manifests, screening reports and invoice PDFs under deterministic keys.

Deterministic keys make a retried step overwrite its own object instead of leaving a
second copy; the bucket is versioned (and may use Object Lock), so nothing is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel


class S3Documents:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.bucket = bucket

    def put_json(self, key: str, payload: Any) -> str:
        body = (
            payload.model_dump_json()
            if isinstance(payload, BaseModel)
            else json.dumps(payload, default=str, separators=(",", ":"))
        )
        self._s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
        )
        return key

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
