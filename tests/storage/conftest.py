"""Storage fixtures: a moto_server for the session, a fresh bucket per test, Runtimes whose attachments live in it."""
from __future__ import annotations

import pytest

from engine.blobstore import LocalBlobStore
from tests.storage.moto import MotoServer
from tests.web.conftest import app, as_role, cheap_password_hashing, users, web  # noqa: F401  (the web's fixtures)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """One real S3-compatible server (moto's server mode) for the session."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def own_moto(tmp_path):
    """A moto_server of this test's own, to kill and restart."""
    server = MotoServer(tmp_path / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def bucket(moto_server) -> str:
    return moto_server.create_bucket()


@pytest.fixture
def settings(settings, moto_server, bucket):
    """The shared test settings with attachments in a fresh bucket of the session's moto_server."""
    return settings.with_overrides(storage_url=f"s3://{bucket}/attachments", env={**settings.env, **moto_server.env()})


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each store kind in turn: a local folder, and a fresh bucket of the session's moto_server."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "attachments")
    server = request.getfixturevalue("moto_server")
    return server.store(server.create_bucket())
