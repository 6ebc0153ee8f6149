"""Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph, ...) through boto3: `<prefix>/<sha[:2]>/<sha>`.

Settings are boto3's own variables, read from the process environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
(AWS_SESSION_TOKEN, AWS_PROFILE), AWS_REGION or AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for a
store that is not AWS (path-style addressing then). Unset ones fall back to boto3's chain (config files, instance role).
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, Iterator, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from engine.blobstore.base import SHA256_RE, Blob, BlobStore, blob_key, blob_path
from engine.errors import BlobNotFound, StorageUnavailable

CONNECT_TIMEOUT = 3.0  # seconds: an unreachable store fails an upload in seconds, not minutes
READ_TIMEOUT = 20.0
MAX_ATTEMPTS = 3  # botocore's "standard" retries: exponential backoff with jitter between attempts
PROBE_TIMEOUT = 1.0  # readiness answers while the store hangs
READINESS_TTL = 5.0  # seconds a readiness answer is reused: probes every second cost one HEAD per 5 s
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore(BlobStore):
    """One bucket (and key prefix) shared by every host: a file uploaded through one web host downloads from any."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str = "", session=None, endpoint_url: str | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url or None
        session = session or boto3.session.Session()
        self.client = session.client("s3", endpoint_url=self.endpoint_url, config=self._config(CONNECT_TIMEOUT,
                                                                                               READ_TIMEOUT, MAX_ATTEMPTS))
        self.probe = session.client("s3", endpoint_url=self.endpoint_url,
                                    config=self._config(PROBE_TIMEOUT, PROBE_TIMEOUT, 1))
        self.clock = clock
        self._readiness: tuple[float, str] | None = None

    @classmethod
    def from_env(cls, bucket: str, prefix: str, env: Mapping[str, str]) -> "S3BlobStore":
        """From boto3's variables in `env` (the process environment a Settings was built from)."""
        session = boto3.session.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            profile_name=env.get("AWS_PROFILE") or None,
        )
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        return cls(bucket, prefix, session=session, endpoint_url=endpoint)

    def _config(self, connect: float, read: float, attempts: int) -> Config:
        return Config(
            connect_timeout=connect, read_timeout=read, retries={"mode": "standard", "total_max_attempts": attempts},
            # S3-compatible servers (MinIO, Ceph) serve path-style URLs; AWS picks its own style.
            s3={"addressing_style": "path"} if self.endpoint_url else None,
            # Checksums only where the API requires them: older S3-compatible servers refuse botocore's default CRC32.
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix}, endpoint={self.endpoint_url or 'AWS'})"

    def _key(self, key: str) -> str:
        return self.prefix + blob_path(key)

    def _unavailable(self, exc: Exception) -> StorageUnavailable:
        return StorageUnavailable(f"S3 storage s3://{self.bucket}/{self.prefix}: {exc}")

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType="application/octet-stream")
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc) from exc
        return key

    def open(self, key: str) -> Blob:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND:
                raise BlobNotFound(key) from None
            raise self._unavailable(exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc
        return Blob(answer["Body"], int(answer["ContentLength"]))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except BlobNotFound:
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND:
                return False
            raise self._unavailable(exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc
        return True

    def keys_modified_before(self, cutoff: datetime) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix):]
                    if SHA256_RE.match(key[3:]) and key == blob_path(key[3:]) and item["LastModified"] < cutoff:
                        yield key[3:]
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc) from exc

    def readiness(self) -> str:
        """"ok" when the bucket answers a HEAD within PROBE_TIMEOUT; the answer is reused for READINESS_TTL."""
        now = self.clock()
        if self._readiness is None or now - self._readiness[0] >= READINESS_TTL:
            self._readiness = (now, self._head_bucket())
        return self._readiness[1]

    def _head_bucket(self) -> str:
        try:
            self.probe.head_bucket(Bucket=self.bucket)
            return "ok"
        except (BotoCoreError, ClientError) as exc:
            return f"unavailable: {exc}"
