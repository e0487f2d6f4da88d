"""The contact and ticket pages as a team lead reads them, through TestClient against the real app and
database (SQLite and PostgreSQL), with data made by the real ingest, scoring, rules and desk:

* one entry per thing on the contact timeline: a mail shown once, its score, tag and stage events short
  lines referring to it;
* the ticket's activity: its events (opened, SLA, assignee, priority, status) between its messages, and an
  agent's reply as the customer received it (the relayed mail), not as written (`#commands`);
* the ticket form: for a write-scope token only, CSRF-safe, through the same service as the API's PATCH.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.ticket_history import SqlTicketHistory
from inboxcrm.services.access import Access, ConfiguredToken
from inboxcrm.web.auth import Scope, authenticate
from inboxcrm.web.pages import page_routes
from tests.conftest import make_settings
from tests.support.browser import browser_sign_in, headless_chrome, screenshot, serving
from tests.support.clock import Clock
from tests.support.desk import ANA, BEN, SLA, desk_config
from tests.web.pages_support import SECRET, START, Document, message_html_of, work_a_ticket

READER, WRITER = "reader-token", "writer-token"
EXTRA = (
    desk_config(ANA.but(display_name="Ana Alves"), BEN, secret=SECRET)
    + SLA
    + """
[scoring]
keywords = { fire = 8 }

[scoring.signals]
message_in = 1
"""
)
TAGS = """
[[rule]]
name = "Fire"
when.any = [{ body.contains = ["on fire"] }]
then.add_tags = "urgent"
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[bootstrap.App]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "tags.toml").write_text(TAGS)
    app = bootstrap.build(make_settings(tmp_path, database_url, EXTRA), clock=clock)
    migrate.upgrade(app.engine)
    yield app
    app.close()


def web(app: bootstrap.App) -> FastAPI:
    access = Access([ConfiguredToken(READER, "lead", Scope.READ), ConfiguredToken(WRITER, "ben", Scope.WRITE)])
    features = bootstrap.features(app)
    built = FastAPI()
    built.include_router(
        page_routes(
            app.reads,
            authenticate(access),
            message_html_of(app),
            history=SqlTicketHistory(app.engine),
            manage=features.manage,
        )
    )
    return built


@pytest.fixture
def client(desk: bootstrap.App) -> Iterator[TestClient]:
    with TestClient(web(desk), base_url="https://crm.example", follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, token: str) -> TestClient:
    assert client.post("/sign-in", data={"token": token}).status_code == 303
    return client


def test_a_mail_appears_once_on_the_contact_page_and_its_events_refer_to_it(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    every = desk.reads.timeline(1, limit=200).items
    first = [e.message.id for e in every if e.kind == "message_in" and e.message is not None][-1]  # the oldest
    from_first = sorted(e.kind for e in every if e.message is not None and e.message.id == first)
    # the real ingest recorded several events for Carol's first mail: the mail, its score and its tags
    assert {"message_in", "score_changed", "tags_changed"} <= set(from_first)

    page = sign_in(client, READER).get("/contacts/1/page")
    assert page.status_code == 200
    document = Document(page.text)
    quoted = page.text.count("&gt; our printer is on fire again")  # Ana's reply, as relayed, quotes it
    assert quoted == 1 and page.text.count("our printer is on fire again") - quoted == 1  # the mail itself, once
    embedded = [a["data-message"] for a in document.all("li") if "data-message" in a]
    assert len(embedded) == len(set(embedded))  # no mail embedded twice
    assert embedded.count(str(first)) == 1
    refs = [a["data-refers-to"] for a in document.all("p") if "data-refers-to" in a]
    assert refs.count(str(first)) == len(from_first) - 1  # score, tags: a line each, pointing at it
    assert f'href="#message-{first}"' in page.text and f'id="message-{first}"' in page.text
    shown = [a["data-kind"] for a in document.all("li") if "data-kind" in a]
    assert shown == [e.kind for e in every]  # still one entry per event, in order


def test_the_ticket_page_shows_its_events_and_what_the_customer_received(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    page = sign_in(client, READER).get("/tickets/1/page")
    assert page.status_code == 200
    document = Document(page.text)
    events = [a["data-kind"] for a in document.all("p") if "data-kind" in a]
    assert events[0] == "ticket_opened" and "ticket_sla_breached" in events
    assert {"ticket_assignee", "ticket_priority"} <= set(events), events
    text = " ".join(document.texts)
    # oldest first, messages and events together: opened, missed the SLA, Ana's reply, Carol's answer
    assert (
        text.index("our printer is on fire again")
        < text.index("first response")
        < text.index("please unplug it first")
        < text.index("it still smokes")
    )
    # Ana's reply as Carol got it: no commands, relayed from the shared address, queued in the outbox
    received = re.search(r'data-field="received">([^<]*)<', page.text)
    assert received is not None and "please unplug it first" in received.group(1)
    assert "#assign" not in page.text and "#priority" not in page.text
    assert "relayed to carol@acme-corp.example" in text
    with desk.engine.connect() as connection:
        status = connection.execute(select(t.outbox.c.status).where(t.outbox.c.kind == "relay")).scalar_one()
    assert f'data-field="relay">{status}' in page.text


def _form_fields(page: str) -> dict[str, str]:
    document = Document(page)
    fields = {a["name"]: a.get("value", "") for a in document.all("input") if a.get("type") == "hidden"}
    return fields


def test_a_write_token_changes_status_assignee_and_priority_from_the_page(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    page = sign_in(client, WRITER).get("/tickets/1/page")
    form = Document(page.text).all("form")
    assert {"method": "post", "action": "/tickets/1/page", "class": "card change"} in form
    token = _form_fields(page.text)["csrf"]
    assert len(token) == 64

    done = client.post(
        "/tickets/1/page", data={"csrf": token, "status": "pending", "assignee": "ben", "priority": "high"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/tickets/1/page?saved=1"
    ticket = desk.reads.tickets().items[0]
    assert (ticket.status, ticket.assignee, ticket.priority) == ("pending", "ben", "high")
    # the same service as PATCH /tickets/1: the timeline records what changed and who changed it
    events = [(e.kind, e.summary) for e in desk.reads.timeline(1, limit=200).items if e.ticket_id == 1]
    assert ("ticket_status", "Ticket #1 pending by ben") in events
    assert any(kind == "ticket_assignee" and "ben" in summary for kind, summary in events)
    assert not any(kind == "ticket_priority" and "by ben" in summary for kind, summary in events)  # unchanged
    after = client.get("/tickets/1/page?saved=1").text
    assert "Saved" in after and "Ticket #1 pending by ben" in after

    refused = client.post("/tickets/1/page", data={"csrf": token, "assignee": "nobody"})
    assert refused.status_code == 422 and "unknown agent" in refused.text


def test_the_form_refuses_a_missing_or_wrong_token_and_cross_site_posts(
    client: TestClient, desk: bootstrap.App, clock: Clock
) -> None:
    work_a_ticket(desk, clock)
    token = _form_fields(sign_in(client, WRITER).get("/tickets/1/page").text)["csrf"]
    change = {"status": "solved"}
    attempts = [
        client.post("/tickets/1/page", data=change),
        client.post("/tickets/1/page", data=change | {"csrf": "0" * 64}),
        client.post("/tickets/1/page", data=change | {"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}),
        client.post("/tickets/1/page", data=change | {"csrf": token}, headers={"Origin": "https://evil.example"}),
        client.post("/tickets/1/page", data=change | {"csrf": token}, headers={"Sec-Fetch-Site": "same-site"}),
        client.post("/tickets/1/page", json=change | {"csrf": token}),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403, 403, 400]
    assert desk.reads.tickets().items[0].status == "open"
    # a new sign-in is a new session: the old page's token no longer works, the new page's does
    sign_in(client, WRITER)
    assert client.post("/tickets/1/page", data=change | {"csrf": token}).status_code == 403
    fresh = _form_fields(client.get("/tickets/1/page").text)["csrf"]
    assert fresh != token
    # what Chromium sends for our own form: our own Origin (the pages' same-origin referrer policy) and
    # Sec-Fetch-Site same-origin
    same_site = {"Origin": "https://crm.example", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/tickets/1/page", data=change | {"csrf": fresh}, headers=same_site).status_code == 303
    assert desk.reads.tickets().items[0].status == "solved"


def test_a_read_token_sees_no_form_and_may_not_post(client: TestClient, desk: bootstrap.App, clock: Clock) -> None:
    work_a_ticket(desk, clock)
    page = sign_in(client, READER).get("/tickets/1/page")
    assert page.status_code == 200
    assert [f["action"] for f in Document(page.text).all("form")] == ["/search/page", "/sign-out"]
    assert "<select" not in page.text and 'name="csrf"' not in page.text
    # even with a token from a writer's page (same browser session), the read token may not change anything
    posted = client.post("/tickets/1/page", data={"status": "solved", "csrf": "x"})
    assert posted.status_code == 403 and posted.headers["content-type"].startswith("text/html")
    assert "write scope" in posted.text
    assert desk.reads.tickets().items[0].status == "open"


# --- in a real browser: Debian's chromium, a real uvicorn; screenshots in test-artifacts/pages/ ----------


def test_the_contact_and_ticket_pages_in_headless_chromium(
    tmp_path: Path, clock: Clock, desk: bootstrap.App, request: pytest.FixtureRequest
) -> None:
    if desk.engine.dialect.name != "sqlite":
        return  # the browser part needs one database; the pages' queries run on both above
    chromium = request.getfixturevalue("chromium")
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    work_a_ticket(desk, clock)
    with serving(web(desk)) as base, headless_chrome(chromium) as driver:
        driver.get(f"{base}/sign-in?next=%2Fcontacts%2F1%2Fpage")
        browser_sign_in(driver, WRITER)
        assert driver.current_url == f"{base}/contacts/1/page"
        refs = driver.find_elements(By.CSS_SELECTOR, "p.ref a")
        assert refs
        for ref in refs:  # each line points at the mail, shown once on the page
            target = ref.get_attribute("href").split("#")[1]
            assert len(driver.find_elements(By.ID, target)) == 1
        screenshot(driver, "contact-one-per-thing", phone=False)
        screenshot(driver, "contact-one-per-thing", phone=True)

        driver.get(f"{base}/tickets/1/page")
        events = [e.get_attribute("data-kind") for e in driver.find_elements(By.CSS_SELECTOR, "p.event")]
        assert events[0] == "ticket_opened" and "ticket_sla_breached" in events
        received = driver.find_element(By.CSS_SELECTOR, "[data-field=received]").text
        assert "please unplug it first" in received and "#assign" not in received
        Select(driver.find_element(By.NAME, "status")).select_by_visible_text("pending")
        Select(driver.find_element(By.NAME, "assignee")).select_by_visible_text("ben")
        page = driver.current_url
        driver.find_element(By.CSS_SELECTOR, "form.change button").click()
        # the click returns before the answer is in: wait until the browser is on another address (the saved
        # page, or whatever went wrong, which the assert below shows)
        with contextlib.suppress(TimeoutException):
            WebDriverWait(driver, 20).until(lambda d: d.current_url != page)
        assert driver.current_url == f"{base}/tickets/1/page?saved=1", driver.page_source[-1500:]
        assert driver.find_element(By.CSS_SELECTOR, "[data-field=status]").text == "pending"
        assert driver.find_element(By.CSS_SELECTOR, "[data-field=assignee]").text == "ben"
        screenshot(driver, "ticket-activity", phone=False)
        screenshot(driver, "ticket-activity", phone=True)
        problems = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        assert problems == []
    assert desk.reads.tickets().items[0].status == "pending"
