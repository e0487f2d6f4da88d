"""What the ingest does with what it understood (SQLite and PostgreSQL): forwards, automatic mail,
bounces, and conversations that hold together without References."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from inboxcrm.adapters.db import tables as t
from inboxcrm.bootstrap import App
from inboxcrm.core.model import MailboxKind, MailboxProfile, TicketStatus
from inboxcrm.core.ports import FetchedMessage
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
_uid = iter(range(1, 10_000))


def ingest(app: App, *raws: bytes) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(next(_uid), raw) for raw in raws])


def rows(app: App, query: Any) -> list[Any]:
    with app.engine.connect() as connection:
        return list(connection.execute(query))


def set_status(app: App, status: TicketStatus) -> None:
    with app.engine.begin() as connection:
        connection.execute(t.tickets.update().values(status=status.value))


GMAIL_FORWARD = """Can someone take this?

---------- Forwarded message ---------
From: Priya Raman <priya.raman@globex.example>
Date: Mon, 2 Nov 2026 at 09:12
Subject: Broken order
To: Ana Lima <ana@northwind.example>

Our order arrived broken.
"""


def test_a_team_members_forward_is_the_customers_ticket(app: App) -> None:
    ingest(app, mail(from_="Ana Lima <ana@northwind.example>", subject="Fwd: Broken order", body=GMAIL_FORWARD))
    contacts = app.reads.contacts().items
    assert [c.email for c in contacts] == ["priya.raman@globex.example"]
    ticket = app.reads.tickets().items[0]
    assert ticket.contact_id == contacts[0].id
    stored = rows(app, select(t.messages.c.direction, t.messages.c.forwarded_by, t.messages.c.original_from_email))
    assert stored == [("in", "ana@northwind.example", "priya.raman@globex.example")]


def test_a_customers_forward_stays_with_the_customer(app: App) -> None:
    ingest(app, mail(from_="Carol <carol@acme-corp.example>", subject="Fwd: Broken order", body=GMAIL_FORWARD))
    assert [c.email for c in app.reads.contacts().items] == ["carol@acme-corp.example"]


def test_auto_replies_never_reopen_or_open_tickets(app: App) -> None:
    ingest(app, mail(message_id="q@acme-corp.example"))
    set_status(app, TicketStatus.PENDING)
    ooo = mail(
        subject="Out of Office: Printer on fire",
        message_id="ooo@acme-corp.example",
        in_reply_to="q@acme-corp.example",
        headers={"Auto-Submitted": "auto-replied"},
    )
    ingest(
        app,
        ooo,
        mail(
            subject="Automatic reply: hello",
            message_id="ooo2@acme-corp.example",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert [x.status for x in app.reads.tickets().items] == ["pending"]
    kinds = rows(app, select(t.messages.c.kind).order_by(t.messages.c.id))
    assert [k for (k,) in kinds] == ["normal", "auto_reply", "auto_reply"]
    # a person's reply does reopen it
    ingest(
        app, mail(subject="Re: Printer on fire", message_id="r@acme-corp.example", in_reply_to="q@acme-corp.example")
    )
    assert [x.status for x in app.reads.tickets().items] == ["open"]


BOUNCE = b"""From: Mail Delivery System <MAILER-DAEMON@mx.northwind.example>
To: sales@northwind.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.northwind.example>
Date: Tue, 03 Nov 2026 10:00:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.northwind.example

Final-Recipient: rfc822; kevin@acme-corp.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <kevin@acme-corp.example>: Recipient address rejected: User unknown

--B--
"""


def test_a_hard_bounce_marks_the_address_undeliverable_and_files_under_the_recipient(app: App) -> None:
    ingest(app, mail(from_="Kevin <kevin@acme-corp.example>", message_id="k1@acme-corp.example"))
    ingest(app, BOUNCE)
    kevin = app.reads.contacts(email="kevin@acme-corp.example").items[0]
    assert kevin.undeliverable
    assert [c.email for c in app.reads.contacts().items] == ["kevin@acme-corp.example"]  # no mailer-daemon
    events = {e.kind: e for e in app.reads.timeline(kevin.id).items}
    assert "5.1.1" in events["bounce"].summary
    # and no campaign mails him again
    assert "no campaign mails kevin@acme-corp.example again" in events["campaign_bounced"].summary
    assert len(app.reads.tickets().items) == 1  # the bounce opened none


def test_a_reply_without_references_joins_by_subject_only_for_participants(app: App) -> None:
    ingest(app, mail(message_id="q@acme-corp.example", subject="Invoice 1042 wrong"))
    ingest(
        app,
        mail(
            message_id="r@acme-corp.example", subject="RE: Invoice 1042 wrong", date="Wed, 04 Nov 2026 10:00:00 +0000"
        ),
    )
    # an outsider quoting the same subject gets a ticket of their own
    ingest(app, mail(from_="mallory@evil.example", message_id="m@evil.example", subject="Re: Invoice 1042 wrong"))
    # and so does the customer weeks later
    ingest(
        app,
        mail(
            message_id="late@acme-corp.example",
            subject="Re: Invoice 1042 wrong",
            date="Mon, 14 Dec 2026 10:00:00 +0000",
        ),
    )
    threads = {tuple(ids) for _, _, ids in app.reads.all_threads()}
    assert threads == {("q@acme-corp.example", "r@acme-corp.example"), ("m@evil.example",), ("late@acme-corp.example",)}


def test_ticket_token_in_the_subject_joins_only_the_tickets_own_contact(app: App) -> None:
    ingest(app, mail(message_id="q@acme-corp.example", subject="Printer on fire"))
    ticket = app.reads.tickets().items[0]
    ingest(
        app,
        mail(message_id="t@acme-corp.example", subject=f"Still burning [#{ticket.id}]"),
        mail(from_="mallory@evil.example", message_id="m@evil.example", subject=f"Hi [#{ticket.id}]"),
    )
    threads = {tuple(ids) for _, _, ids in app.reads.all_threads()}
    assert threads == {("q@acme-corp.example", "t@acme-corp.example"), ("m@evil.example",)}


def test_a_message_naming_two_threads_merges_them(app: App) -> None:
    ingest(app, mail(message_id="a@x.example", subject="First"))
    ingest(app, mail(message_id="b@x.example", subject="Second"))
    assert len(app.reads.all_threads()) == 2
    ingest(app, mail(message_id="c@x.example", subject="Both", references="<a@x.example> <b@x.example>"))
    (only,) = app.reads.all_threads()
    assert sorted(only[2]) == ["a@x.example", "b@x.example", "c@x.example"]
    assert len(app.reads.tickets().items) == 2  # both tickets survive, now on one thread


def test_outlook_thread_index_joins_without_references(app: App) -> None:
    root = bytes(range(1, 23))
    ingest(
        app,
        mail(
            message_id="o1@acme-corp.example",
            subject="Quote",
            headers={"Thread-Index": base64.b64encode(root).decode()},
        ),
    )
    ingest(
        app,
        mail(
            message_id="o2@acme-corp.example",
            subject="AW: Quote",
            headers={"Thread-Index": base64.b64encode(root + b"\x00\x01\x02\x03\x04").decode()},
        ),
    )
    assert len(app.reads.all_threads()) == 1


def test_a_signed_reply_address_joins_its_thread_and_is_never_a_contact(app: App) -> None:
    from inboxcrm.adapters.db.store import SqlStore
    from inboxcrm.core.reply_tokens import reply_address
    from inboxcrm.services.ingest import IngestService

    secret = b"a long random secret"
    service = IngestService(SqlStore(app.engine), app.settings.team_profile(), app.clock, reply_secret=secret)
    service.ingest_batch(SUPPORT, "INBOX", 7, [FetchedMessage(1, mail(message_id="q@acme-corp.example"))])
    ((thread_id, _, _),) = app.reads.all_threads()
    to = reply_address("support@northwind.example", thread_id, secret)
    service.ingest_batch(SUPPORT, "INBOX", 7, [
        FetchedMessage(2, mail(message_id="r@acme-corp.example", subject="no references at all", to=to)),
        FetchedMessage(3, mail(message_id="f@acme-corp.example", subject="forged",
                               to=to.replace(to.split("+")[1][:3], "zzz"))),
    ])  # fmt: skip
    threads = {tuple(ids) for _, _, ids in app.reads.all_threads()}
    assert threads == {("q@acme-corp.example", "r@acme-corp.example"), ("f@acme-corp.example",)}
    assert [c.email for c in app.reads.contacts().items] == ["carol@acme-corp.example"]
