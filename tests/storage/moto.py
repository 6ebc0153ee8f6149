"""A real local S3-compatible server for tests: the venv's `moto_server` as a subprocess on a free port."""
from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3

from engine.blobstore.s3 import S3BlobStore
from tests.waiting import wait_for

MOTO_SERVER = Path(sys.executable).parent / "moto_server"  # the venv's, never the system Python's
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """`moto_server` on 127.0.0.1; `kill()` takes it away (an outage), `start()` brings it back on the same port,
    empty (moto keeps everything in memory), so buckets are created again."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "MotoServer":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(self._answers, timeout=60, message=f"moto_server on {self.url} (log {self.log_path})")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"moto_server exited: {self.log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: an outage as abrupt as a crashed store, and a fast teardown (moto keeps nothing on disk)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    stop = kill

    def env(self) -> dict[str, str]:
        """The variables a helpdesk process needs for this server (boto3's own names)."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"helpdesk-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=self.url, region_name=CREDENTIALS["AWS_REGION"],
                              aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        client.create_bucket(Bucket=name)
        return name

    def store(self, bucket: str, prefix: str = "attachments") -> S3BlobStore:
        return S3BlobStore.from_env(bucket, prefix, self.env())
