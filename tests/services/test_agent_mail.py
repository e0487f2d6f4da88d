"""Mail that says it is from an agent, on both databases: obeyed only when authenticated as
`[security] agent_mail` says; otherwise kept, shown on the ticket, never obeyed and never relayed (the DKIM
path end to end with Dovecot and aiosmtpd is in tests/e2e/test_agent_mail.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from tests.conftest import make_settings
from tests.services.desk_support import (
    SECRET,
    START,
    agent_reply,
    body,
    customer_mail,
    events,
    ingest,
    outbox,
    relay_of,
    ticket_row,
)
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, desk_config
from tests.support.mail import mail

OUR_SERVER = "mx.northwind.example"
CAROL = "Carol Danvers <carol@acme-corp.example>"

Build = Callable[..., bootstrap.App]


@pytest.fixture
def build(tmp_path: Path, database_url: str) -> Iterator[Build]:
    apps: list[bootstrap.App] = []

    def make(**security: str) -> bootstrap.App:
        extra = desk_config(ANA.but(display_name="Ana Alves"), BEN, secret=SECRET, **security)
        settings = make_settings(tmp_path, database_url, extra, support_extra='from_name = "Northwind Support"')
        app = bootstrap.build(settings, clock=Clock(START))
        migrate.upgrade(app.engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def direct(from_: str, text: str, headers: dict[str, str] | None = None) -> bytes:
    """An agent (or someone saying so) answering Carol directly, with the shared address in Cc."""
    return mail(
        from_=from_,
        to=CAROL,
        cc="support@northwind.example",
        subject="Re: Printer on fire",
        message_id="d1@northwind.example",
        in_reply_to="c1@acme-corp.example",
        body=text,
        date="Mon, 02 Nov 2026 10:30:00 +0000",
        headers=headers,
    )


def untouched(app: bootstrap.App) -> None:
    """The ticket as Carol's mail left it, and nothing on its way to her but the acknowledgement."""
    row = ticket_row(app)
    assert (row.status, row.priority, row.first_response_at, row.assignee) == ("new", "normal", None, None)
    with app.engine.connect() as c:
        assert list(c.execute(select(t.ticket_tags))) == []
    assert [r.kind for r in outbox(app) if "carol@acme-corp.example" in r.recipients] == []
    assert outbox(app, "relay") == []


def role_of(app: bootstrap.App, message_id: str) -> str | None:
    with app.engine.connect() as c:
        return c.execute(select(t.messages.c.role).where(t.messages.c.message_id == message_id)).scalar()


# -- relay-only (the default) ----------------------------------------------------------------------------------
def test_the_audits_forgery_changes_nothing_and_the_real_agent_is_told(build: Build) -> None:
    desk = build()
    ingest(desk, customer_mail())
    ingest(desk, direct("Ben <ben@northwind.example>", "#close\n#priority low\n#tag spoofed\nAll sorted, thanks.\n"))
    untouched(desk)
    assert role_of(desk, "d1@northwind.example") == "unverified"  # kept, marked
    assert any(
        kind == "ticket_agent_mail_unverified" and "ben@northwind.example not authenticated" in summary
        for kind, summary in events(desk)
    )
    (notice,) = outbox(desk, "unverified")
    assert notice.recipients == ["ben@northwind.example"]
    assert "nothing was sent to the customer" in body(notice.raw)


def test_a_plain_reply_in_cc_is_recorded_but_not_counted_and_nobody_is_mailed(build: Build) -> None:
    desk = build()
    ingest(desk, customer_mail())
    ingest(desk, direct("Ana Alves <ana@northwind.example>", "Hi Carol, fixed remotely.\n"))
    untouched(desk)
    assert role_of(desk, "d1@northwind.example") == "unverified"
    assert outbox(desk, "unverified") == []


def test_the_relay_still_works_in_relay_only_mode(build: Build) -> None:
    desk = build()
    ingest(desk, customer_mail())
    ingest(desk, agent_reply(relay_of(desk), "#pending\nHi Carol, is it still smoking?"))
    (relayed,) = outbox(desk, "relay")
    assert relayed.recipients == ["carol@acme-corp.example"]
    assert ticket_row(desk).status == "pending"


# -- Authentication-Results from the team's own server -------------------------------------------------------
def by_server(build: Build) -> bootstrap.App:
    return build(agent_mail="authentication-results", trusted_authserv_id=OUR_SERVER)


def test_a_reply_our_server_authenticated_is_the_first_response_and_its_commands_apply(build: Build) -> None:
    desk = by_server(build)
    ingest(desk, customer_mail())
    passed = {"Authentication-Results": f"{OUR_SERVER}; dmarc=pass (p=reject) header.from=northwind.example"}
    ingest(desk, direct("Ana Alves <ana@northwind.example>", "#close\nHi Carol, fixed remotely.\n", passed))
    row = ticket_row(desk)
    assert row.first_response_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert row.status == "solved"
    assert outbox(desk, "relay") == []  # the customer already has it
    assert role_of(desk, "d1@northwind.example") == "observed_reply"


@pytest.mark.parametrize(
    "results",
    [
        None,
        "mx.acme-corp.example; dmarc=pass header.from=northwind.example",
        f"{OUR_SERVER}; spf=fail smtp.mailfrom=acme-corp.example; dmarc=fail header.from=northwind.example",
        f"{OUR_SERVER}; dkim=pass header.d=acme-corp.example; dmarc=pass header.from=acme-corp.example",
    ],
    ids=["no-results", "untrusted-host", "dmarc-fail", "another-domain"],
)
def test_a_forged_agent_is_neither_obeyed_nor_relayed(build: Build, results: str | None) -> None:
    desk = by_server(build)
    headers = {"Authentication-Results": results} if results else {}
    ingest(desk, customer_mail())
    ingest(desk, direct("Ben <ben@northwind.example>", "#close\n#priority low\n#tag spoofed\nDone.\n", headers))
    untouched(desk)
    # and through the relay, had the forger got hold of a relay address
    ben = "Ben <ben@northwind.example>"
    forged = agent_reply(relay_of(desk, "ben@northwind.example"), "#close\nHi Carol!", from_=ben)
    if results:
        forged = f"Authentication-Results: {results}\r\n".encode() + forged
    ingest(desk, forged)
    untouched(desk)
    assert [n.recipients for n in outbox(desk, "unverified")] == [["ben@northwind.example"]] * 2
