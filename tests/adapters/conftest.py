"""Fixtures of the SMTP sender tests (tests/adapters/test_smtp_*.py): garbage collection that makes a leaked socket
warn in the test that leaked it, and TLS servers with a certificate made once per test module."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.smtpd import SmtpServer


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Collect garbage after the test: a socket the sender left open then warns in the test that leaked it.

    (A full collection takes a while in this suite's big process, so only the tests that close connections
    in unusual ways — TLS, refusals, drops — ask for it; elsewhere a leak still fails a later test.)
    """
    yield
    gc.collect()


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One self-signed certificate for every TLS server of a test module."""
    return tmp_path_factory.mktemp("smtp-tls")


@pytest.fixture
def tls_server_auth(cert_dir: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", auth=True, directory=cert_dir) as server:
        yield server
