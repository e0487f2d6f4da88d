"""The reports' periods and the API docs, through the real app on SQLite and PostgreSQL:

* `/reports/campaigns` takes `since`/`until` like the other reports (and without them covers all time);
* the reports page falls back to the span of the stored mail when its default window has none;
* `/docs` and `/redoc` load Swagger UI and ReDoc from the app itself, never from a CDN.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.reads import SqlReads
from inboxcrm.adapters.db.spans import mail_span
from inboxcrm.adapters.db.store import make_engine
from inboxcrm.services.access import Access, ConfiguredToken
from inboxcrm.services.reports import ReadService
from inboxcrm.web.app import Features, create_app
from inboxcrm.web.auth import Scope, authenticate
from inboxcrm.web.pages import page_routes
from inboxcrm.web.report_window import report_window
from tests.conftest import make_settings
from tests.support.clock import Clock
from tests.support.mail import mail
from tests.web.pages_support import START, Document, ingest, message_html_of, report_data

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": "Bearer t"}


def api(engine: Engine) -> TestClient:
    return TestClient(create_app(ReadService(SqlReads(engine)), {"t": "test"}, features=Features(clock=lambda: NOW)))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_campaign_report_takes_since_and_until(engine: Engine) -> None:
    with engine.begin() as c:
        contact = c.execute(
            insert(t.contacts).returning(t.contacts.c.id),
            {"email": "c@example.org", "name": "", "undeliverable": False, "created_at": at("2026-09-01 00:00")},
        ).scalar_one()
        # (enrolled, status, next step, exit reason, exited, [sent times of steps 1, 2 …])
        enrolments = [
            (at("2026-09-05 10:00"), "finished", 3, None, None, [at("2026-09-05 10:00"), at("2026-09-12 10:00")]),
            (at("2026-11-02 10:00"), "exited", 2, "replied", at("2026-11-04 09:00"), [at("2026-11-02 10:00")]),
            (at("2026-11-06 10:00"), "active", 2, None, None, [at("2026-11-06 10:00")]),
        ]
        mail_rows: list[dict[str, Any]] = []
        for n, (enrolled, status, step, reason, exited, sent) in enumerate(enrolments, start=1):
            c.execute(
                insert(t.enrolments),
                {"id": n, "contact_id": contact, "campaign": "welcome", "status": status, "source": "tag",
                 "enrolled_at": enrolled, "step": step, "exit_reason": reason, "exited_at": exited},
            )  # fmt: skip
            for s, moment in enumerate(sent, start=1):
                mail_rows.append(
                    {"key": f"w-{n}-{s}", "kind": "campaign", "message_id": f"<w-{n}-{s}@x>", "sender": "s@x",
                     "recipients": ["c@example.org"], "raw": b"", "automatic": False, "status": "sent",
                     "next_attempt_at": moment, "created_at": moment, "sent_at": moment, "campaign": "welcome",
                     "step": s, "enrolment_id": n}
                )  # fmt: skip
        c.execute(insert(t.outbox), mail_rows)
    client = api(engine)

    everything = client.get("/reports/campaigns", headers=AUTH).json()["welcome"]
    assert (everything["enrolled"], everything["active"], everything["completed"], everything["left"]) == (3, 1, 1, 1)
    assert [(s["step"], s["sent"], s["replied"]) for s in everything["steps"]] == [(1, 3, 1), (2, 1, 0)]

    november = client.get("/reports/campaigns?since=2026-11-01&until=2026-11-30", headers=AUTH).json()["welcome"]
    assert (november["enrolled"], november["active"], november["completed"], november["left"]) == (2, 1, 0, 1)
    assert [(s["step"], s["sent"], s["replied"]) for s in november["steps"]] == [(1, 2, 1)]

    # `since` alone runs to now (NOW, Nov 10); `until` alone starts 30 days before it, as the other reports
    assert client.get("/reports/campaigns?since=2026-11-05", headers=AUTH).json()["welcome"]["enrolled"] == 1
    september = client.get("/reports/campaigns?until=2026-09-30", headers=AUTH).json()["welcome"]
    assert september["enrolled"] == 1 and [s["sent"] for s in september["steps"]] == [1, 1]
    assert client.get("/reports/campaigns?since=2025-01-01&until=2025-02-01", headers=AUTH).json() == {}

    bad = client.get("/reports/campaigns?since=yesterday", headers=AUTH)
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
    backwards = client.get("/reports/campaigns?since=2026-11-05&until=2026-11-01", headers=AUTH)
    assert backwards.status_code == 422 and "must be before" in backwards.json()["detail"]
    assert client.get("/reports/campaigns?since=2026-11-01").status_code == 401


def test_the_window_falls_back_to_the_span_of_the_data_only_when_the_default_is_empty() -> None:
    now = at("2026-11-10 12:00")
    old = (at("2026-03-01 09:00"), at("2026-03-20 17:00"))
    fallback = report_window(None, now, lambda: old)
    assert fallback.fallback and fallback.days == 20  # March 1 to March 20, both whole days
    assert fallback.since == at("2026-03-01 00:00") and fallback.until < at("2026-03-21 00:00") <= fallback.until + (
        timedelta(microseconds=1)
    )
    recent = report_window(None, now, lambda: (old[0], at("2026-11-01 09:00")))
    assert not recent.fallback and recent.days == 90 and recent.until == now
    picked = report_window(7, now, lambda: old)  # a period the person picked is never moved
    assert not picked.fallback and picked.days == 7 and picked.since == at("2026-11-04 00:00")
    assert not report_window(None, now, lambda: None).fallback  # no mail at all: the default, empty
    years = report_window(None, now, lambda: (at("2019-01-01 00:00"), at("2025-06-30 10:00")))
    assert years.fallback and years.days == 366 and years.until.date().isoformat() == "2025-06-30"


def test_the_reports_page_shows_old_mail_when_the_last_90_days_have_none(tmp_path: Path, database_url: str) -> None:
    clock = Clock(START)  # Nov 2, 2026
    app = bootstrap.build(make_settings(tmp_path, database_url), clock=clock)
    migrate.upgrade(app.engine)
    try:
        ingest(app, mail(date="Mon, 02 Mar 2026 10:00:00 +0000"), mail(date="Fri, 13 Mar 2026 10:00:00 +0000"))
        seen: list[tuple[datetime, datetime]] = []

        def figures(since: datetime, until: datetime) -> Any:
            seen.append((since, until))
            return report_data(since, until)

        web = FastAPI()
        access = Access([ConfiguredToken("r", "lead", Scope.READ)])
        web.include_router(
            page_routes(
                app.reads,
                authenticate(access),
                message_html_of(app),
                figures,
                clock=clock,
                data_span=lambda: mail_span(app.engine),
            )
        )
        with TestClient(web, base_url="https://crm.example", headers={"Authorization": "Bearer r"}) as client:
            page = client.get("/reports/page")
            picked = client.get("/reports/page?days=30")
    finally:
        app.close()
    assert page.status_code == 200
    assert "the 12 days the stored mail spans" in page.text
    assert re.search(r'data-field="window">2026-03-02 00:00 UTC – 2026-03-13 23:59 UTC<', page.text)
    assert seen[0][0] == at("2026-03-02 00:00") and seen[0][1].date().isoformat() == "2026-03-13"
    assert 'data-field="fallback"' not in picked.text and seen[1][0] == at("2026-10-04 00:00")


def test_the_api_docs_load_nothing_from_outside(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with TestClient(create_app(ReadService(SqlReads(engine)), {"t": "test"})) as client:
            for path in ("/docs", "/redoc"):
                page = client.get(path, headers=AUTH)
                assert page.status_code == 200, path
                document = Document(page.text)
                assets = [a["src"] for a in document.all("script") if a.get("src")]
                assets += [a["href"] for a in document.all("link") if a.get("href")]
                assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
                assert "http://" not in page.text and "https://" not in page.text  # no CDN, no web font
                for asset in assets:
                    fetched = client.get(asset)
                    assert fetched.status_code == 200 and len(fetched.content) > 1000, asset
                assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
            swagger = client.get("/docs-assets/swagger-ui-bundle.js").text
            # Swagger UI 5 reads OpenAPI 3.1, which FastAPI writes (version 4 shows "unsupported version")
            assert client.get("/openapi.json", headers=AUTH).json()["openapi"].startswith("3.1")
            assert re.search(r'"5\.\d+\.\d+"', swagger)
    finally:
        engine.dispose()
