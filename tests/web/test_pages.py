"""The server-rendered pages through TestClient: sign-in, a contact's timeline, a ticket, the ticket list and
the reports.

Against the real app and database (SQLite and PostgreSQL), with data made by the real ingest and the real
`require` of `inboxcrm.web.auth`. The same pages in a real headless Chromium: tests/web/test_pages_browser.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, HTTPException, Request
from fastapi.testclient import TestClient

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.web.auth import COOKIE, Scope
from inboxcrm.web.mail_html import FRAME_CSP, FRAME_SANDBOX
from inboxcrm.web.render import PAGE_CSP
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.mail import mail
from tests.web.pages_support import (
    EXTRA,
    START,
    TOKEN,
    Document,
    hostile_html,
    html_mail,
    ingest,
    pages_app,
    real_require,
    work_a_ticket,
)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


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
