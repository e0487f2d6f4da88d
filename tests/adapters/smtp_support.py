"""What the SmtpSender and FileSender tests (tests/adapters/test_smtp_*.py, test_file_sender.py) share: the
addresses, sample messages, envelopes, a plain-text sender for a test server, and `send`, one batch the way
the daemon sends it.

No customer's mail may be lost or silently duplicated: every envelope gets exactly one result, SENT only
once the server said 250 to the DATA, FAILED only on a 5xx, RETRY for anything else; the bytes that
arrive are the bytes that were given.
"""

from __future__ import annotations

import asyncio

import pytest

from inboxcrm.adapters.smtp import Envelope, Outcome, Sender, SendResult, SmtpSender
from tests.support.dovecot import sample_messages
from tests.support.smtpd import SmtpServer

# A sender that leaks a socket per failed connection would exhaust the daemon, which retries forever.
FAIL_ON_LEAKS = pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")

SHARED = "support@northwind.example"
CAROL = "carol@acme-corp.example"
BRUCE = "bruce@wayne-enterprises.example"


def message(n: int = 0) -> bytes:
    return sample_messages(1, seed=7, start=n, to=CAROL)[0]


def envelope(key: str, raw: bytes | None = None, recipients: tuple[str, ...] = (CAROL,)) -> Envelope:
    return Envelope(key=key, sender=SHARED, recipients=recipients, raw=raw if raw is not None else message(0))


def send(sender: Sender, *envelopes: Envelope) -> list[SendResult]:
    """One batch, the way the daemon sends it (asyncio.run in the calling thread)."""
    results = asyncio.run(sender.send_many(list(envelopes)))
    assert [r.key for r in results] == [e.key for e in envelopes]
    return results


def plain_sender(server: SmtpServer, timeout: float = 30) -> SmtpSender:
    return SmtpSender(server.host, server.port, "none", None, None, timeout=timeout, local_hostname="crm.test")


def outcomes(results: list[SendResult]) -> list[Outcome]:
    return [r.outcome for r in results]
