"""Shared fixtures: databases, shared assets and free ports.

Tests that need Postgres, the sample video or the model skip when they are missing,
except when ``DALE_REQUIRE_ALL=1`` (set by ``.ci/run``): then a missing part fails the
test, so CI can never pass by skipping.
"""

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def require_all() -> bool:
    return os.environ.get("DALE_REQUIRE_ALL") == "1"


def missing(reason: str) -> None:
    """Fail under DALE_REQUIRE_ALL=1, skip otherwise."""
    if require_all():
        pytest.fail(f"{reason} (DALE_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


def postgres_admin_url() -> str:
    return os.environ.get("DALE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def create_postgres_database() -> str:
    """Create an empty database on the test server and return its URL."""
    admin_url = make_url(postgres_admin_url())
    name = f"dale_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        missing(f"Postgres at {admin_url.render_as_string()} is unreachable: {error}")
    finally:
        engine.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(make_url(postgres_admin_url()), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database, once as a SQLite file and once on Postgres."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty Postgres database, for tests that only make sense on Postgres."""
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def _asset(variable: str, default: Path) -> Path:
    path = Path(os.environ.get(variable, default))
    if not path.exists():
        missing(f"{variable}={path} does not exist")
    return path


SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def sample_video() -> Path:
    """The 768x576, 10 fps plaza video."""
    return _asset("DALE_SAMPLE_VIDEO", SHARED / "data" / "vtest.avi")


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The YOLOv8n OpenVINO INT8 model folder."""
    return _asset("DALE_MODEL", SHARED / "models" / "yolov8n_int8_openvino_model")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
