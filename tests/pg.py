"""PostgreSQL for the tests: the server's URL, and a fresh schema per test (``pg_url``).

Every test that needs PostgreSQL goes through ``postgres_url()``. On a developer machine
without a server the test is skipped with the reason; when the environment variable CI is set
(.ci/run starts PostgreSQL) an unreachable server is a failure, so PostgreSQL tests cannot pass
by not running."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError

PG_URL = os.environ.get("STORYLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(reason: str):
    """Skip with ``reason``, or fail with it when CI is set."""
    message = f"PostgreSQL not reachable at {PG_URL}: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: PostgreSQL tests must run there)", pytrace=False)
    pytest.skip(f"{message}; set STORYLINE_TEST_POSTGRES to a server's URL to run this test")


def postgres_url() -> str:
    """The server's URL once it answers on its port (else skip or fail, see ``unavailable``)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[dev]')")
    url = make_url(PG_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=0.5):
            pass
    except OSError as exc:
        unavailable(str(exc))
    return PG_URL


def admin_engine():
    return create_engine(postgres_url().replace("postgresql://", "postgresql+psycopg://", 1))


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema per test, so tests (and teammates) never share tables. The URL
    carries the schema (``options=-csearch_path=...``), so other processes it is given to work
    in the same schema; it is dropped after the test."""
    base = postgres_url()
    schema = f"storyline_test_{uuid.uuid4().hex[:12]}"
    admin = admin_engine()
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except DBAPIError as exc:  # a server that answers but refuses us is "not reachable" too
        admin.dispose()
        unavailable(str(exc).strip().splitlines()[0])
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()
